//! Text entry: the `/` filter (live, fuzzy on app names) and the `:` command
//! line (`:ctx NAME`, `:app NAME`, `:sort KEY`, `:q`). Editing keys (typing,
//! Backspace, Enter, Esc) are fixed here rather than in the keymap: every
//! printable key must reach the text.

use super::filter;
use super::keys::{self, app_selected};
use super::state::{AppState, Focus, Mode, SortKey, ToastLevel};
use super::Effect;
use crate::model::AppId;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn typed(key: &KeyEvent) -> Option<char> {
    match key.code {
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            Some(c)
        }
        _ => None,
    }
}

pub(super) fn filter_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    let before = state.selected_index();
    match key.code {
        KeyCode::Enter => state.mode = Mode::Normal,
        KeyCode::Esc => {
            state.filter.clear();
            state.mode = Mode::Normal;
        }
        KeyCode::Backspace => {
            state.filter.pop();
        }
        KeyCode::Up => return keys::move_to(state, state.selected_app.saturating_sub(1)),
        KeyCode::Down => return keys::move_to(state, state.selected_app + 1),
        _ => match typed(&key) {
            Some(c) => state.filter.push(c),
            None => return vec![],
        },
    }
    state.refresh_view();
    state.touch();
    if state.selected_index() != before {
        return app_selected(state);
    }
    vec![]
}

/// The suspend dialog's reason: typed text, Backspace; Enter confirms and
/// Esc cancels (fixed keys, as in the filter). Text past
/// [`super::ops::REASON_MAX`] characters is refused with a toast, never
/// dropped unsaid.
pub(super) fn reason_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    use super::state::ConfirmAction;
    let Mode::Confirm(ConfirmAction::Suspend { reason, .. }) = &mut state.mode else {
        return vec![];
    };
    match key.code {
        KeyCode::Esc => state.mode = Mode::Normal,
        KeyCode::Backspace => {
            reason.pop();
        }
        KeyCode::Enter => {
            return super::ops::dialog_key(state, super::keymap::Action::Confirm);
        }
        _ => match typed(&key) {
            Some(_) if reason.chars().count() >= super::ops::REASON_MAX => {
                state.toast(
                    ToastLevel::Info,
                    format!("a reason is at most {} characters", super::ops::REASON_MAX),
                );
                return vec![];
            }
            Some(c) => reason.push(c),
            None => return vec![],
        },
    }
    state.touch();
    vec![]
}

pub(super) fn command_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    let Mode::Command { input } = &mut state.mode else {
        return vec![];
    };
    match key.code {
        KeyCode::Esc => state.mode = Mode::Normal,
        KeyCode::Backspace => {
            if input.pop().is_none() {
                state.mode = Mode::Normal;
            }
        }
        KeyCode::Enter => {
            let line = std::mem::take(input);
            state.mode = Mode::Normal;
            state.touch();
            return run(state, line.trim());
        }
        _ => match typed(&key) {
            Some(c) => input.push(c),
            None => return vec![],
        },
    }
    state.touch();
    vec![]
}

fn run(state: &mut AppState, line: &str) -> Vec<Effect> {
    let (cmd, arg) = match line.split_once(char::is_whitespace) {
        Some((c, a)) => (c, a.trim()),
        None => (line, ""),
    };
    match cmd {
        "" => vec![],
        "q" | "q!" | "quit" => keys::quit(state),
        "help" => {
            state.mode = Mode::Help;
            vec![]
        }
        "ctx" | "context" => switch_context(state, arg),
        "app" => select_app(state, arg),
        "sort" => {
            let key = match arg {
                "name" => Some(SortKey::Name),
                "sync" => Some(SortKey::Sync),
                "health" => Some(SortKey::Health),
                _ => None,
            };
            match key {
                Some(k) => {
                    state.sort = k;
                    state.refresh_view();
                }
                None => state.toast(ToastLevel::Error, "sort by name, sync or health"),
            }
            vec![]
        }
        other => {
            state.toast(
                ToastLevel::Error,
                format!("unknown command :{other} (try :ctx, :app, :sort, :q)"),
            );
            vec![]
        }
    }
}

fn switch_context(state: &mut AppState, name: &str) -> Vec<Effect> {
    if name.is_empty() {
        state.context_filter = None;
    } else if state.connections.contains_key(name) {
        state.context_filter = Some(name.to_string());
    } else {
        let known: Vec<&str> = state.connections.keys().map(String::as_str).collect();
        state.toast(
            ToastLevel::Error,
            format!("no context {name:?} (known: {})", known.join(", ")),
        );
        return vec![];
    }
    state.refresh_view();
    state.focus = Focus::Apps;
    app_selected(state)
}

fn select_app(state: &mut AppState, name: &str) -> Vec<Effect> {
    let found = name
        .parse::<AppId>()
        .ok()
        .and_then(|id| state.app_index(&id))
        .or_else(|| {
            state
                .apps
                .iter()
                .enumerate()
                .filter_map(|(i, a)| filter::score(name, &a.id.to_string()).map(|s| (s, i)))
                .max_by_key(|(s, i)| (*s, std::cmp::Reverse(*i)))
                .map(|(_, i)| i)
        });
    let Some(i) = found.filter(|_| !name.is_empty()) else {
        state.toast(ToastLevel::Error, format!("no app matches {name:?}"));
        return vec![];
    };
    if !state.visible.contains(&i) {
        state.filter.clear();
        state.context_filter = None;
        state.refresh_view();
    }
    state.selected_app = state.visible.iter().position(|v| *v == i).unwrap_or(0);
    state.focus = Focus::Apps;
    app_selected(state)
}
