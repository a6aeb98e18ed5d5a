//! The message line above the status bar: the filter or command being typed,
//! else the newest toast, else the main keys (read from the keymap).

use super::theme::Theme;
use crate::app::{Action, AppState, Mode};
use ratatui::layout::{Position, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use std::time::Duration;

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let line = match &state.mode {
        Mode::Filter => {
            let text = format!("/{}", state.filter);
            cursor(frame, area, &text);
            Line::from(vec![
                Span::styled(text, theme.title),
                Span::styled("  (fuzzy on app names; Enter keeps, Esc clears)", theme.dim),
            ])
        }
        Mode::Command { input } => {
            let text = format!(":{input}");
            cursor(frame, area, &text);
            Line::from(vec![
                Span::styled(text, theme.title),
                Span::styled("  (:ctx NAME, :app NAME, :sort KEY, :q)", theme.dim),
            ])
        }
        _ => match state.toasts.last() {
            Some(t) => {
                let mut style = theme.toast(t.level);
                let left = t.expires.duration_since(state.now).unwrap_or_default();
                if left <= Duration::from_secs(1) {
                    style = style.add_modifier(Modifier::DIM);
                }
                Line::styled(t.text.clone(), style)
            }
            None => hints(state, theme),
        },
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn cursor(frame: &mut Frame, area: Rect, text: &str) {
    let w = u16::try_from(unicode_width::UnicodeWidthStr::width(text)).unwrap_or(u16::MAX);
    frame.set_cursor_position(Position::new(
        area.x.saturating_add(w).min(area.right().saturating_sub(1)),
        area.y,
    ));
}

fn hints<'a>(state: &AppState, theme: &Theme) -> Line<'a> {
    let mut spans = vec![];
    if state.logs.view.is_some() {
        let k = |a: Action| state.keymap.keys_text(a);
        for (a, label) in [
            (Action::Up, "scroll (pauses)"),
            (Action::Bottom, "follow"),
            (Action::NextMatch, "next match"),
            (Action::ScrollRight, "scroll right"),
            (Action::Back, "back to the panes"),
        ] {
            spans.push(Span::styled(k(a), theme.title));
            spans.push(Span::styled(format!(" {label}  "), theme.dim));
        }
        return Line::from(spans);
    }
    if !state.filter.is_empty() {
        spans.push(Span::styled(
            format!("filter /{}  ", state.filter),
            theme.info,
        ));
    }
    let actions: &[Action] = &[
        Action::Sync,
        Action::SuspendResume,
        Action::Rollback,
        Action::Diff,
        Action::Refresh,
        Action::Filter,
        Action::Help,
        Action::Quit,
    ];
    for a in actions {
        if a.mutating() && state.readonly {
            continue;
        }
        let label = match a {
            Action::Sync => "sync",
            Action::Rollback => "rollback",
            Action::Filter => "filter",
            other => other.label(),
        };
        spans.push(Span::styled(state.keymap.keys_text(*a), theme.title));
        spans.push(Span::styled(format!(" {label}  "), theme.dim));
    }
    if state.readonly {
        spans.push(Span::styled(
            "read-only: sync, suspend/resume, rollback disabled",
            theme.warn,
        ));
    }
    Line::from(spans)
}
