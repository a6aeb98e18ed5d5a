//! Keys while the log pane or its chooser is open. The log pane's own
//! actions (`p` previous, `w` wrap, `t` timestamps, `/` search) are in the
//! keymap's `Logs` scope, so they shadow the panes' `p` and `w` only here;
//! navigation (j/k, g/G, PgUp/PgDn, ←/→, n/N, Esc, q, ?) comes from the
//! panes' bindings, so remapping those changes both.

use super::keymap::{Action, Scope};
use super::logs::{self, LogView};
use super::state::{AppState, Mode};
use super::Effect;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Columns one ←/→ moves a long line.
pub const HSCROLL_STEP: usize = 8;

/// The rows of log text the pane shows: the screen less the message line,
/// the status bar and the pane's borders.
pub fn page(state: &AppState) -> usize {
    usize::from(state.size.1).saturating_sub(4).max(1)
}

/// The actions of the panes that also work in the log pane.
fn shared(action: Action) -> bool {
    matches!(
        action,
        Action::Up
            | Action::Down
            | Action::Top
            | Action::Bottom
            | Action::PageUp
            | Action::PageDown
            | Action::Back
            | Action::Quit
            | Action::Help
            | Action::NextMatch
            | Action::PrevMatch
            | Action::ScrollLeft
            | Action::ScrollRight
    )
}

fn action(state: &AppState, key: &KeyEvent) -> Option<Action> {
    state.keymap.action(Scope::Logs, key).or_else(|| {
        state
            .keymap
            .action(Scope::Normal, key)
            .filter(|a| shared(*a))
    })
}

/// A key with the log pane or chooser open; None when neither is.
pub(super) fn on_key(state: &mut AppState, key: &KeyEvent) -> Option<Vec<Effect>> {
    if state.logs.chooser.is_some() {
        return Some(chooser_key(state, key));
    }
    let typing = state.logs.view.as_ref()?.typing.is_some();
    if typing {
        return Some(search_key(state, key));
    }
    let Some(a) = action(state, key) else {
        return Some(vec![]);
    };
    Some(log_action(state, a))
}

fn chooser_key(state: &mut AppState, key: &KeyEvent) -> Vec<Effect> {
    let Some(c) = state.logs.chooser.as_mut() else {
        return vec![];
    };
    let last = c.choices.len().saturating_sub(1);
    match state.keymap.action(Scope::Normal, key) {
        Some(Action::Up) => c.selected = c.selected.saturating_sub(1),
        Some(Action::Down) => c.selected = (c.selected + 1).min(last),
        Some(Action::Top) => c.selected = 0,
        Some(Action::Bottom) => c.selected = last,
        Some(Action::Enter | Action::Logs) => return choose(state, None),
        Some(Action::Back) => state.logs.chooser = None,
        Some(Action::Quit) => return super::ops::quit(state),
        _ => return vec![],
    }
    state.touch();
    vec![]
}

/// Open the chooser's selected (or `index`th) choice.
pub(super) fn choose(state: &mut AppState, index: Option<usize>) -> Vec<Effect> {
    let Some(c) = state.logs.chooser.take() else {
        return vec![];
    };
    let i = index.unwrap_or(c.selected);
    match c.choices.into_iter().nth(i) {
        Some(choice) => logs::open(state, c.app, choice, false),
        None => vec![],
    }
}

fn search_key(state: &mut AppState, key: &KeyEvent) -> Vec<Effect> {
    let Some(v) = state.logs.view.as_mut() else {
        return vec![];
    };
    let Some(q) = v.typing.as_mut() else {
        return vec![];
    };
    match key.code {
        KeyCode::Esc => v.typing = None,
        KeyCode::Backspace => {
            if q.pop().is_none() {
                v.typing = None;
            }
        }
        KeyCode::Enter => {
            let q = v.typing.take().unwrap_or_default();
            v.search = (!q.is_empty()).then_some(q);
            v.current = None;
            let page = page(state);
            if let Some(v) = state.logs.view.as_mut() {
                jump(v, false, page);
            }
        }
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            q.push(c)
        }
        _ => return vec![],
    }
    state.touch();
    vec![]
}

/// Whether `line` holds `query`, ignoring case.
pub fn matches(line: &str, query: &str) -> bool {
    !query.is_empty() && line.to_lowercase().contains(&query.to_lowercase())
}

/// The line shown at the top of the pane.
pub fn top(v: &LogView, page: usize) -> usize {
    v.paused_at
        .unwrap_or_else(|| v.lines.len().saturating_sub(page))
}

/// Scroll to line `to` at the top: paused, unless that is the end.
fn scroll_to(v: &mut LogView, to: usize, page: usize) {
    let bottom = v.lines.len().saturating_sub(page);
    if to >= bottom {
        v.paused_at = None;
        v.unseen = 0;
    } else {
        v.paused_at = Some(to);
    }
}

/// `n`/`N`: the next (previous) line matching the search, from the current
/// match or, without one, from what is shown; it is brought into view.
fn jump(v: &mut LogView, backward: bool, page: usize) {
    let Some(q) = v.search.clone() else {
        return;
    };
    let len = v.lines.len();
    if len == 0 {
        return;
    }
    let from = v.current.unwrap_or_else(|| {
        if backward {
            (top(v, page) + page).min(len)
        } else {
            top(v, page).saturating_sub(1).min(len)
        }
    });
    let hit = (1..=len)
        .map(|d| {
            if backward {
                (from + len * 2 - d) % len
            } else {
                (from + d) % len
            }
        })
        .find(|i| v.lines.get(*i).is_some_and(|l| matches(&l.text, &q)));
    if let Some(i) = hit {
        v.current = Some(i);
        let shown = top(v, page);
        if i < shown || i >= shown + page {
            scroll_to(v, i.saturating_sub(page / 2), page);
        }
    }
}

fn log_action(state: &mut AppState, a: Action) -> Vec<Effect> {
    let page = page(state);
    match a {
        Action::Back => {
            if let Some(v) = state.logs.view.as_mut().filter(|v| v.search.is_some()) {
                v.search = None;
                v.current = None;
                state.touch();
                return vec![];
            }
            return logs::close(state);
        }
        Action::Quit => return super::ops::quit(state),
        Action::Help => state.mode = Mode::Help,
        Action::LogPrevious => return logs::toggle_previous(state),
        _ => {}
    }
    let Some(v) = state.logs.view.as_mut() else {
        return vec![];
    };
    let shown = top(v, page);
    match a {
        Action::Up => scroll_to(v, shown.saturating_sub(1), page),
        Action::Down => scroll_to(v, shown + 1, page),
        Action::PageUp => scroll_to(v, shown.saturating_sub(page), page),
        Action::PageDown => scroll_to(v, shown + page, page),
        Action::Top => scroll_to(v, 0, page),
        Action::Bottom => scroll_to(v, usize::MAX, page),
        Action::LogWrap => {
            v.wrap = !v.wrap;
            v.hscroll = 0;
        }
        Action::LogTimestamps => v.timestamps = !v.timestamps,
        Action::LogSearch => v.typing = Some(String::new()),
        Action::NextMatch => jump(v, false, page),
        Action::PrevMatch => jump(v, true, page),
        Action::ScrollLeft => v.hscroll = v.hscroll.saturating_sub(HSCROLL_STEP),
        Action::ScrollRight if !v.wrap => v.hscroll += HSCROLL_STEP,
        _ => return vec![],
    }
    state.touch();
    vec![]
}

/// The mouse wheel over the log pane: `delta` lines (up is negative).
pub(super) fn wheel(state: &mut AppState, delta: isize) {
    let page = page(state);
    if let Some(v) = state.logs.view.as_mut() {
        let shown = top(v, page);
        scroll_to(v, shown.saturating_add_signed(delta), page);
        state.touch();
    }
}

/// Horizontal wheel (or shift-wheel) over the log pane.
pub(super) fn hwheel(state: &mut AppState, right: bool) {
    if let Some(v) = state.logs.view.as_mut().filter(|v| !v.wrap) {
        v.hscroll = if right {
            v.hscroll + HSCROLL_STEP
        } else {
            v.hscroll.saturating_sub(HSCROLL_STEP)
        };
        state.touch();
    }
}
