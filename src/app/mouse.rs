//! The mouse: a click focuses the pane under the pointer and selects the
//! row clicked; the wheel scrolls the pane under it (lists move their
//! selection, the diff and log panes their text); shift-wheel or a
//! horizontal wheel scrolls long lines sideways.
//!
//! Which pane and row are under the pointer is decided by the renderer,
//! which knows where it drew them (`ui::hit`), and arrives with the event as
//! a [`Hit`]: the reducer never guesses the layout.

use super::keys;
use super::logkeys;
use super::state::{AppState, Focus, Mode};
use super::Effect;

/// How many rows one wheel notch scrolls.
pub const WHEEL_ROWS: isize = 3;

/// A part of the screen the mouse can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Pane(Focus),
    Logs,
    Chooser,
}

/// What is under the pointer: a region and, in a list, the index of the
/// row (in the list, not on the screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub region: Region,
    pub row: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MouseAction {
    Click,
    ScrollUp,
    ScrollDown,
    ScrollLeft,
    ScrollRight,
}

pub(super) fn on_mouse(state: &mut AppState, action: MouseAction, hit: Option<Hit>) -> Vec<Effect> {
    // Dialogs, help and text entry keep the keyboard's attention.
    if state.mode != Mode::Normal {
        return vec![];
    }
    let Some(hit) = hit else {
        return vec![];
    };
    if state.logs.chooser.is_some() {
        return chooser(state, action, hit);
    }
    if state.logs.view.is_some() {
        match action {
            MouseAction::ScrollUp => logkeys::wheel(state, -WHEEL_ROWS),
            MouseAction::ScrollDown => logkeys::wheel(state, WHEEL_ROWS),
            MouseAction::ScrollLeft => logkeys::hwheel(state, false),
            MouseAction::ScrollRight => logkeys::hwheel(state, true),
            MouseAction::Click => {}
        }
        return vec![];
    }
    let Region::Pane(pane) = hit.region else {
        return vec![];
    };
    match action {
        MouseAction::Click => {
            let mut effects = keys::focus(state, pane);
            if let Some(row) = hit.row.filter(|_| pane != Focus::Diff) {
                effects.extend(keys::move_to(state, row));
            }
            effects
        }
        MouseAction::ScrollUp | MouseAction::ScrollDown => {
            let delta = if action == MouseAction::ScrollUp {
                -WHEEL_ROWS
            } else {
                WHEEL_ROWS
            };
            let mut effects = keys::focus(state, pane);
            effects.extend(keys::move_by(state, delta));
            effects
        }
        MouseAction::ScrollLeft => {
            keys::hscroll(state, false);
            vec![]
        }
        MouseAction::ScrollRight => {
            keys::hscroll(state, true);
            vec![]
        }
    }
}

fn chooser(state: &mut AppState, action: MouseAction, hit: Hit) -> Vec<Effect> {
    let Some(c) = state.logs.chooser.as_mut() else {
        return vec![];
    };
    let last = c.choices.len().saturating_sub(1);
    match action {
        MouseAction::Click if hit.region == Region::Chooser => {
            if let Some(row) = hit.row.filter(|r| *r <= last) {
                return logkeys::choose(state, Some(row));
            }
        }
        MouseAction::ScrollUp => c.selected = c.selected.saturating_sub(1),
        MouseAction::ScrollDown => c.selected = (c.selected + 1).min(last),
        _ => return vec![],
    }
    state.touch();
    vec![]
}
