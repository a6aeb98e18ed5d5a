//! The status bar: each context's connection, running operations with a
//! spinner and their progress, read-only mode.

use super::theme::{connection_text, Theme, SPINNER};
use crate::app::AppState;
use crate::model::AppId;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let mut spans = vec![];
    for (ctx, c) in &state.connections {
        let (icon, word) = connection_text(c);
        let shown = state.context_filter.as_deref() == Some(ctx.as_str());
        let name = if shown {
            format!("[{ctx}]")
        } else {
            ctx.clone()
        };
        spans.push(Span::styled(format!("{icon} "), theme.connection(c)));
        spans.push(Span::styled(name, theme.header));
        spans.push(Span::styled(format!(" {word}  "), theme.connection(c)));
    }
    for op in &state.operations {
        let spin = SPINNER[op.spinner % SPINNER.len()];
        spans.push(Span::styled(
            format!(
                "{spin} {} {}: {}  ",
                op.kind.verb(),
                AppId::join(&op.apps, ","),
                op.progress
            ),
            theme.info,
        ));
    }
    let right = if state.readonly {
        Line::from(vec![
            Span::styled("READ-ONLY ", theme.warn),
            Span::styled("? help", theme.dim),
        ])
    } else {
        Line::styled("? help", theme.dim)
    };
    let right_width = u16::try_from(right.width()).unwrap_or(0);
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(right_width)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(spans)), left_area);
    frame.render_widget(Paragraph::new(right.right_aligned()), right_area);
}
