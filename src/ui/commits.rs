//! The commits pane: commits touching the app's path, newest first, with
//! the ref head (H), the deployed commit (D) and a rollback pin (P) marked.

use super::format::age;
use super::hit::Rows;
use super::pane;
use super::theme::Theme;
use crate::app::{AppState, Focus};
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;

/// Draws the pane; returns where its rows are (for the mouse).
pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) -> Option<Rows> {
    let focused = state.focus == Focus::Commits;
    let Some(row) = state.selected_row() else {
        let block = pane(Line::from("Commits"), focused, theme);
        frame.render_widget(Paragraph::new("No app selected.").block(block), area);
        return None;
    };
    let block = pane(
        Line::from(format!(
            "Commits: {} (H head · D deployed · P pinned)",
            row.id
        )),
        focused,
        theme,
    );
    let Some(history) = &row.history.value else {
        let (text, style) = match &row.history.error {
            Some(e) => (format!("✖ cannot read history: {e}"), theme.bad),
            None => ("Loading commits…".to_string(), theme.dim),
        };
        frame.render_widget(Paragraph::new(text).style(style).block(block), area);
        return None;
    };
    let status = row.status.value.as_ref();
    let head = status.and_then(|s| s.head_revision.as_ref());
    let pin = status.and_then(|s| s.paused_revision.as_ref());
    let deployed = status.and_then(|s| s.deployed_revision.as_ref());
    let rows: Vec<Row> = history
        .commits
        .iter()
        .map(|c| {
            let is_head = c.head || head == Some(&c.sha);
            let is_deployed = c.deployed || deployed == Some(&c.sha);
            let is_pin = c.pinned || pin == Some(&c.sha);
            let marks = Line::from(vec![
                Span::styled(if is_head { "H" } else { " " }, theme.info),
                Span::styled(if is_deployed { "D" } else { " " }, theme.ok),
                Span::styled(if is_pin { "P" } else { " " }, theme.warn),
            ]);
            Row::new([
                Cell::from(marks),
                Cell::from(Span::styled(c.short().to_string(), theme.warn)),
                Cell::from(Span::styled(c.author.clone(), theme.text)),
                Cell::from(Span::styled(
                    c.time.map(|t| age(state.now, t)).unwrap_or_default(),
                    theme.dim,
                )),
                Cell::from(c.subject.clone()),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(3),
        Constraint::Length(7),
        Constraint::Length(14),
        Constraint::Length(4),
        Constraint::Fill(1),
    ];
    let empty = rows.is_empty();
    let len = rows.len();
    let table = Table::new(rows, widths)
        .header(Row::new(["", "SHA", "AUTHOR", "AGE", "SUBJECT"]).style(theme.header))
        .block(block)
        .column_spacing(1)
        .row_highlight_style(theme.selected)
        .highlight_symbol("›");
    let mut ts = TableState::default().with_selected((!empty).then_some(state.selected_commit));
    frame.render_stateful_widget(table, area, &mut ts);
    let first = ts.offset();
    Some(Rows {
        area,
        top: area.y.saturating_add(2),
        first,
        count: len
            .saturating_sub(first)
            .min(usize::from(area.height.saturating_sub(3))),
    })
}
