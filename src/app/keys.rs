//! Keys in the panes: navigation, focus, views. Every key goes through the
//! keymap first, so remapping in the config changes behaviour and help alike.
//! Text entry (the `/` filter and `:` command line) is in input.rs.

use super::diffdoc;
use super::filter;
use super::input;
use super::keymap::{Action, Scope};
use super::ops;
use super::state::{AppState, DiffSource, Focus, Mode};
use super::Effect;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

pub(super) fn on_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return vec![];
    }
    // Ctrl-C always quits at once, whatever the mode or keymap: it is the
    // terminal's interrupt and users expect it to work everywhere.
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        return quit(state);
    }
    if state.mode == Mode::Normal {
        if let Some(effects) = super::logkeys::on_key(state, &key) {
            return effects;
        }
    }
    match &state.mode {
        Mode::Normal => match state.keymap.action(Scope::Normal, &key) {
            Some(a) => normal(state, a),
            None => vec![],
        },
        Mode::Filter => input::filter_key(state, key),
        Mode::Command { .. } => input::command_key(state, key),
        Mode::Confirm(action) if action.is_text_field() => input::reason_key(state, key),
        Mode::Confirm(_) => match state.keymap.action(Scope::Dialog, &key) {
            Some(a) => ops::dialog_key(state, a),
            None => vec![],
        },
        Mode::Help => {
            if matches!(
                state.keymap.action(Scope::Normal, &key),
                Some(Action::Back | Action::Help | Action::Quit)
            ) {
                state.mode = Mode::Normal;
                state.touch();
            }
            vec![]
        }
    }
}

pub(super) fn quit(state: &mut AppState) -> Vec<Effect> {
    ops::quit(state)
}

fn normal(state: &mut AppState, action: Action) -> Vec<Effect> {
    match action {
        Action::Up => move_by(state, -1),
        Action::Down => move_by(state, 1),
        Action::PageUp => move_by(state, -(page(state) as isize)),
        Action::PageDown => move_by(state, page(state) as isize),
        Action::Top => move_to(state, 0),
        Action::Bottom => move_to(state, usize::MAX),
        Action::NextPane => cycle_focus(state, 1),
        Action::PrevPane => cycle_focus(state, Focus::ORDER.len() - 1),
        Action::Enter => drill_in(state),
        Action::Back => back(state),
        Action::Filter => {
            state.mode = Mode::Filter;
            state.focus = Focus::Apps;
            state.touch();
            vec![]
        }
        Action::Command => {
            state.mode = Mode::Command {
                input: String::new(),
            };
            state.touch();
            vec![]
        }
        Action::Help => {
            state.mode = Mode::Help;
            state.touch();
            vec![]
        }
        Action::NextMatch => next_match(state, true),
        Action::PrevMatch => next_match(state, false),
        Action::Mark => {
            if let Some(name) = state.selected_row().map(|r| r.id.clone()) {
                if !state.marks.remove(&name) {
                    state.marks.insert(name);
                }
                state.touch();
            }
            vec![]
        }
        Action::Sort => {
            state.sort = state.sort.next();
            state.refresh_view();
            state.touch();
            vec![]
        }
        Action::Diff => toggle_diff(state),
        Action::Wrap => {
            state.diff.wrap = !state.diff.wrap;
            state.diff.hscroll = 0;
            state.touch();
            vec![]
        }
        Action::Yaml => {
            state.diff.source = if state.diff.source == DiffSource::LiveYaml {
                DiffSource::Resource
            } else {
                DiffSource::LiveYaml
            };
            if state.focus == Focus::Apps || state.focus == Focus::Commits {
                state.focus = Focus::Resources;
            }
            reset_diff(state);
            vec![]
        }
        Action::Refresh => refresh(state),
        Action::Quit => quit(state),
        Action::Sync
        | Action::SuspendResume
        | Action::Rollback
        | Action::Cancel
        | Action::ArgoRefresh => ops::request(state, action),
        Action::Logs => super::logs::request(state),
        Action::ScrollLeft | Action::ScrollRight => {
            hscroll(state, action == Action::ScrollRight);
            vec![]
        }
        Action::IgnoreField => ops::ask_ignore(state),
        Action::LocalDiff => super::local::toggle(state),
        Action::Confirm
        | Action::TogglePrune
        | Action::ToggleHard
        | Action::LogPrevious
        | Action::LogWrap
        | Action::LogTimestamps
        | Action::LogSearch => vec![],
    }
}

fn page(state: &AppState) -> usize {
    (usize::from(state.size.1) / 3).max(1)
}

fn list_len(state: &AppState) -> usize {
    match state.focus {
        Focus::Apps => state.visible.len(),
        Focus::Resources => state.selected_row().map_or(0, |r| r.tree.len()),
        Focus::Commits => state
            .selected_row()
            .and_then(|r| r.history.value.as_ref())
            .map_or(0, |h| h.commits.len()),
        Focus::Diff => diffdoc::current(state).lines.len(),
    }
}

pub(super) fn move_by(state: &mut AppState, delta: isize) -> Vec<Effect> {
    let cur = match state.focus {
        Focus::Apps => state.selected_app,
        Focus::Resources => state.selected_resource,
        Focus::Commits => state.selected_commit,
        Focus::Diff => state.diff.scroll,
    };
    move_to(state, cur.saturating_add_signed(delta))
}

/// Select row `to` (clamped) in the focused pane, and load what it needs.
pub(super) fn move_to(state: &mut AppState, to: usize) -> Vec<Effect> {
    let len = list_len(state);
    let to = to.min(len.saturating_sub(1));
    let slot = match state.focus {
        Focus::Apps => &mut state.selected_app,
        Focus::Resources => &mut state.selected_resource,
        Focus::Commits => &mut state.selected_commit,
        Focus::Diff => &mut state.diff.scroll,
    };
    if *slot == to {
        return vec![];
    }
    *slot = to;
    state.touch();
    match state.focus {
        Focus::Apps => app_selected(state),
        Focus::Resources => {
            reset_diff(state);
            vec![]
        }
        Focus::Commits => {
            reset_diff(state);
            state.want_commit_views(false)
        }
        Focus::Diff => vec![],
    }
}

fn reset_diff(state: &mut AppState) {
    state.diff.scroll = 0;
    state.diff.hunk = 0;
    state.diff.hscroll = 0;
    state.touch();
}

/// A different app is selected: start its panes from the top and load what
/// it has not loaded yet.
pub(super) fn app_selected(state: &mut AppState) -> Vec<Effect> {
    state.local = None;
    state.selected_resource = 0;
    state.selected_commit = 0;
    reset_diff(state);
    let Some(i) = state.selected_index() else {
        return vec![];
    };
    let mut effects = vec![];
    let row = &state.apps[i];
    if row.status.value.is_none() && !row.status.loading && row.status.error.is_none() {
        effects.extend(state.load_status(i, false));
    }
    effects.extend(state.load_commits(i, false));
    if state.focus == Focus::Commits || state.diff.source.is_commit() {
        effects.extend(state.want_commit_views(false));
    }
    effects
}

/// Keep the diff pane on a source that fits the focused pane.
fn follow_focus(state: &mut AppState) -> Vec<Effect> {
    let commit = state.diff.source.is_commit();
    match state.focus {
        Focus::Apps if commit => state.diff.source = DiffSource::App,
        Focus::Resources if commit => state.diff.source = DiffSource::Resource,
        Focus::Commits if !commit => state.diff.source = DiffSource::CommitVsLive,
        _ => return vec![],
    }
    reset_diff(state);
    if state.focus == Focus::Commits {
        return state.want_commit_views(false);
    }
    vec![]
}

fn cycle_focus(state: &mut AppState, step: usize) -> Vec<Effect> {
    let pos = Focus::ORDER
        .iter()
        .position(|f| *f == state.focus)
        .unwrap_or(0);
    focus(state, Focus::ORDER[(pos + step) % Focus::ORDER.len()])
}

/// Focus `next` (Tab, a click): the diff pane remembers where Esc goes back
/// to, and the diff follows the pane (commits show commit views).
pub(super) fn focus(state: &mut AppState, next: Focus) -> Vec<Effect> {
    if next == state.focus {
        return vec![];
    }
    if next == Focus::Diff {
        state.diff_return = state.focus;
    }
    state.focus = next;
    state.touch();
    follow_focus(state)
}

/// ←/→ (or the horizontal wheel): long diff lines sideways, when not wrapped.
pub(super) fn hscroll(state: &mut AppState, right: bool) {
    if state.diff.wrap {
        return;
    }
    let step = super::logkeys::HSCROLL_STEP;
    state.diff.hscroll = if right {
        state.diff.hscroll.saturating_add(step)
    } else {
        state.diff.hscroll.saturating_sub(step)
    };
    state.touch();
}

fn drill_in(state: &mut AppState) -> Vec<Effect> {
    match state.focus {
        Focus::Apps => {
            state.focus = Focus::Resources;
            if state.diff.source != DiffSource::LiveYaml {
                state.diff.source = DiffSource::Resource;
            }
            reset_diff(state);
        }
        Focus::Resources | Focus::Commits => {
            state.diff_return = state.focus;
            state.focus = Focus::Diff;
            state.touch();
        }
        Focus::Diff => {}
    }
    vec![]
}

fn back(state: &mut AppState) -> Vec<Effect> {
    match state.focus {
        Focus::Diff => {
            state.focus = state.diff_return;
            state.touch();
        }
        Focus::Resources | Focus::Commits => {
            state.focus = Focus::Apps;
            state.touch();
            return follow_focus(state);
        }
        Focus::Apps => {
            // Undo the narrowing, innermost first.
            if !state.filter.is_empty() {
                state.filter.clear();
            } else if !state.marks.is_empty() {
                state.marks.clear();
            } else if state.context_filter.is_some() {
                state.context_filter = None;
            } else {
                return vec![];
            }
            state.refresh_view();
            state.touch();
        }
    }
    vec![]
}

fn toggle_diff(state: &mut AppState) -> Vec<Effect> {
    state.diff.source = match state.diff.source {
        DiffSource::Resource => DiffSource::App,
        DiffSource::App | DiffSource::LiveYaml => DiffSource::Resource,
        DiffSource::CommitVsLive => DiffSource::CommitVsPrevious,
        DiffSource::CommitVsPrevious => DiffSource::CommitVsLive,
    };
    reset_diff(state);
    if state.diff.source.is_commit() {
        return state.want_commit_views(false);
    }
    vec![]
}

fn refresh(state: &mut AppState) -> Vec<Effect> {
    let targets = state.targets();
    let mut effects = vec![];
    for app in targets {
        if let Some(i) = state.app_index(&app) {
            effects.extend(state.load_status(i, true));
            effects.extend(state.load_commits(i, true));
        }
    }
    if state.diff.source.is_commit() {
        effects.extend(state.want_commit_views(true));
    }
    effects.extend(super::local::reload(state));
    // Flux and Argo CD apps created or deleted since are found again.
    effects.extend(super::discovered::discover(state));
    state.touch();
    effects
}

/// `n`/`N`: the next hunk in the diff pane; elsewhere the next row matching
/// the `/` text (in resources with no text: the next drifted resource).
fn next_match(state: &mut AppState, forward: bool) -> Vec<Effect> {
    if state.focus == Focus::Diff {
        let doc = diffdoc::current(state);
        let target = if forward {
            doc.hunks
                .iter()
                .position(|h| *h > state.diff.scroll)
                .or((!doc.hunks.is_empty()).then_some(0))
        } else {
            doc.hunks
                .iter()
                .rposition(|h| *h < state.diff.scroll)
                .or(doc.hunks.len().checked_sub(1))
        };
        if let Some(i) = target {
            state.diff.hunk = i;
            state.diff.scroll = doc.hunks[i];
            state.touch();
        }
        return vec![];
    }
    let len = list_len(state);
    let cur = match state.focus {
        Focus::Apps => state.selected_app,
        Focus::Resources => state.selected_resource,
        _ => state.selected_commit,
    };
    let candidates = (1..=len).map(|d| {
        if forward {
            (cur + d) % len
        } else {
            (cur + len * 2 - d) % len
        }
    });
    let hit = candidates.into_iter().find(|i| row_matches(state, *i));
    match hit {
        Some(i) => move_to(state, i),
        None => vec![],
    }
}

fn row_matches(state: &AppState, i: usize) -> bool {
    let q = state.filter.as_str();
    let Some(row) = state.selected_row() else {
        return false;
    };
    match state.focus {
        Focus::Apps => true,
        Focus::Resources => {
            let status = row.status.value.as_ref();
            let Some(node) = row.tree.get(i).map(|t| t.node) else {
                return false;
            };
            match node {
                super::tree::NodeRef::Resource(r) => {
                    status.and_then(|s| s.resources.get(r)).is_some_and(|r| {
                        if q.is_empty() {
                            r.status != crate::model::ResourceStatus::Synced
                        } else {
                            filter::matches(q, &r.key.to_string())
                        }
                    })
                }
                super::tree::NodeRef::Owned(o) => {
                    !q.is_empty()
                        && row
                            .owned
                            .get(o)
                            .is_some_and(|v| filter::matches(q, &v.live.name()))
                }
            }
        }
        _ => row
            .history
            .value
            .as_ref()
            .and_then(|h| h.commits.get(i))
            .is_some_and(|c| {
                q.is_empty() || filter::matches(q, &format!("{} {}", c.subject, c.author))
            }),
    }
}
