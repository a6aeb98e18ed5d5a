//! The status bar: each context's connection, running operations with a
//! spinner and their progress, read-only mode.

use super::theme::{connection_text, Theme, SPINNER};
use crate::app::{AppState, ConnectionState};
use crate::model::AppId;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let mut spans = connection_spans(state, theme, usize::from(area.width));
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

/// Each context's connection while they fit in `width` columns, then how
/// many more there are and how many of them are not connected: at 500
/// contexts the bar drew 500 entries per frame, a few of which showed.
fn connection_spans<'a>(state: &AppState, theme: &Theme, width: usize) -> Vec<Span<'a>> {
    let mut spans = vec![];
    let mut used = 0;
    let total = state.connections.len();
    for (shown_count, (ctx, c)) in state.connections.iter().enumerate() {
        let (icon, word) = connection_text(c);
        let filtered = state.context_filter.as_deref() == Some(ctx.as_str());
        let name = if filtered {
            format!("[{ctx}]")
        } else {
            ctx.clone()
        };
        let entry = [format!("{icon} "), name, format!(" {word}  ")];
        let entry_width: usize = entry.iter().map(|t| t.width()).sum();
        // Room for the entry and, if others follow, the summary after it.
        let rest = total - shown_count - 1;
        let summary_room = if rest > 0 { 32 } else { 0 };
        if shown_count > 0 && used + entry_width + summary_room > width {
            let left = total - shown_count;
            let down = state
                .connections
                .values()
                .skip(shown_count)
                .filter(|c| !matches!(c, ConnectionState::Connected))
                .count();
            let text = if down > 0 {
                format!("+{left} more ({down} not connected)")
            } else {
                format!("+{left} more")
            };
            spans.push(Span::styled(text, theme.dim));
            break;
        }
        used += entry_width;
        let [icon, name, word] = entry;
        spans.push(Span::styled(icon, theme.connection(c)));
        spans.push(Span::styled(name, theme.header));
        spans.push(Span::styled(word, theme.connection(c)));
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(spans: &[Span]) -> String {
        spans.iter().map(|s| s.content.to_string()).collect()
    }

    #[test]
    fn contexts_that_do_not_fit_are_counted_not_drawn() {
        let mut state = AppState::new(vec![], std::time::SystemTime::UNIX_EPOCH);
        for i in 0..500 {
            state
                .connections
                .insert(format!("cluster-{i:03}"), ConnectionState::Connected);
        }
        state
            .connections
            .insert("cluster-999".into(), ConnectionState::Unknown);
        let theme = Theme::of(crate::app::state::ThemeKind::Plain);
        let line = text(&connection_spans(&state, &theme, 150));
        assert!(line.starts_with("● cluster-000 connected"), "{line}");
        assert!(line.chars().count() <= 150, "{line}");
        let shown = line.matches("cluster-").count();
        assert!(
            line.ends_with(&format!("+{} more (1 not connected)", 501 - shown)),
            "{line}"
        );
        // Room for all: all, no summary.
        let mut few = AppState::new(vec![], std::time::SystemTime::UNIX_EPOCH);
        few.connections
            .insert("dev".into(), ConnectionState::Connected);
        assert_eq!(
            text(&connection_spans(&few, &theme, 150)),
            "● dev connected  "
        );
    }
}
