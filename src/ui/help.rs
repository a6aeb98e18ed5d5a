//! The `?` overlay, generated from the keymap the handler uses, so it can
//! never list a key that does something else. Fits one page at 160×48.

use super::centered;
use super::theme::Theme;
use crate::app::{Action, AppState};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};
use ratatui::Frame;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let sections = state.keymap.help();
    let mut columns: [Vec<Line>; 2] = [vec![], vec![]];
    for (section, actions) in sections {
        // Navigation is the longest section: it fills the left column.
        let col = usize::from(section != crate::app::Section::Navigation);
        let lines = &mut columns[col];
        if !lines.is_empty() {
            lines.push(Line::raw(""));
        }
        lines.push(Line::styled(section.title(), theme.title));
        for a in actions {
            lines.push(entry(state, a, theme));
        }
    }
    let mut footer = vec![
        Line::styled(
            "sync, suspend/resume, rollback, cancel: disabled in read-only mode",
            if state.readonly {
                theme.warn
            } else {
                theme.dim
            },
        ),
        Line::styled(
            "Ctrl-C quits anywhere · remap keys in [ui.keys], e.g. sync = \"S\"",
            theme.dim,
        ),
    ];
    if state.readonly {
        footer.insert(
            0,
            Line::styled(
                "READ-ONLY (--readonly): this session changes nothing",
                theme.warn,
            ),
        );
    }
    let rows = columns.iter().map(Vec::len).max().unwrap_or(0) + footer.len() + 1;
    let height = u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(2);
    let rect = centered(area, area.width.saturating_sub(2).min(110), height);
    frame.render_widget(Clear, rect);
    let close = format!(
        " Help: keys (close: {}/{}) ",
        state.keymap.keys_text(Action::Back),
        state.keymap.keys_text(Action::Help)
    );
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .border_style(theme.border_focus)
        .title(Line::styled(close, theme.title));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let footer_height = u16::try_from(footer.len()).unwrap_or(0);
    let [cols_area, _, footer_area] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(footer_height),
    ])
    .areas(inner);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
            .areas(cols_area);
    let [c0, c1] = columns;
    frame.render_widget(Paragraph::new(c0), left);
    frame.render_widget(Paragraph::new(c1), right);
    frame.render_widget(Paragraph::new(footer), footer_area);
}

fn entry<'a>(state: &AppState, a: Action, theme: &Theme) -> Line<'a> {
    let keys = state.keymap.keys_text(a);
    let disabled = state.readonly && a.mutating();
    let mut spans = vec![
        Span::styled(
            format!("  {keys:<12} "),
            if disabled { theme.dim } else { theme.title },
        ),
        Span::styled(
            a.label().to_string(),
            if disabled { theme.dim } else { theme.text },
        ),
    ];
    if disabled {
        spans.push(Span::styled(" (disabled: read-only)", theme.warn));
    }
    Line::from(spans)
}
