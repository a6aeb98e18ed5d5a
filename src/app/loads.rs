//! Background results (status, commits, previews, watches, connections) and
//! the clock. Every answer is checked against the generation it was asked
//! with; a stale one changes nothing and so draws nothing.

use super::history::History;
use super::state::{AppState, ConnectionState, DiffSource, Focus, ToastLevel};
use super::Effect;
use crate::model::{AppId, AppStatus};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

impl AppState {
    /// Load app `i`'s status; while one load runs, further changes only mark
    /// it pending (one more load when it lands), unless `force` (R) supersedes it.
    pub(crate) fn load_status(&mut self, i: usize, force: bool) -> Option<Effect> {
        let next = self.next_generation + 1;
        let row = self.apps.get_mut(i)?;
        if row.status.loading && !force {
            row.status.pending = true;
            return None;
        }
        self.next_generation = next;
        row.status.generation = next;
        row.status.loading = true;
        row.status.pending = false;
        self.dirty = true;
        Some(Effect::LoadStatus {
            app: row.id.clone(),
            generation: next,
        })
    }

    pub(crate) fn load_commits(&mut self, i: usize, force: bool) -> Option<Effect> {
        let row = self.apps.get_mut(i)?;
        if row.history.loading {
            row.history.pending |= force;
            return None;
        }
        if row.history.value.is_some() && !force {
            return None;
        }
        row.history.loading = true;
        row.history.pending = false;
        self.dirty = true;
        Some(Effect::LoadCommits {
            app: row.id.clone(),
        })
    }

    /// The loads the selected commit needs for the current diff source.
    pub(crate) fn want_commit_views(&mut self, force: bool) -> Vec<Effect> {
        let Some((app, sha)) = self
            .selected_row()
            .map(|r| r.id.clone())
            .zip(self.selected_commit().map(|c| c.sha.clone()))
        else {
            return vec![];
        };
        let mut out = vec![];
        if let Some(generation) = self
            .preview
            .want(&app, &sha, &mut self.next_generation, force)
        {
            out.push(Effect::LoadPreview {
                app: app.clone(),
                sha: sha.clone(),
                generation,
            });
        }
        if self.diff.source == DiffSource::CommitVsPrevious {
            if let Some(generation) =
                self.commit_diff
                    .want(&app, &sha, &mut self.next_generation, force)
            {
                out.push(Effect::LoadCommitDiff {
                    app,
                    sha,
                    generation,
                });
            }
        }
        out
    }

    pub(crate) fn toast(&mut self, level: ToastLevel, text: impl Into<String>) {
        let secs = match level {
            ToastLevel::Error => 8,
            _ => 4,
        };
        self.toasts.push(super::state::Toast {
            text: text.into(),
            level,
            expires: self.now + Duration::from_secs(secs),
        });
        // A burst of results must not fill the screen: keep the newest few.
        if self.toasts.len() > 3 {
            self.toasts.remove(0);
        }
        self.touch();
    }
}

pub(super) fn status_loaded(
    state: &mut AppState,
    app: &AppId,
    generation: u64,
    result: Result<AppStatus, String>,
) -> Vec<Effect> {
    let Some(i) = state.app_index(app) else {
        return vec![];
    };
    let row = &mut state.apps[i];
    if row.status.generation != generation || !row.status.loading {
        return vec![];
    }
    row.status.loading = false;
    let old_deployed = row
        .status
        .value
        .as_ref()
        .and_then(|s| s.deployed_revision.clone());
    match result {
        Ok(s) => {
            row.status.value = Some(s);
            row.status.error = None;
        }
        Err(e) => row.status.error = Some(e),
    }
    row.rebuild_tree();
    let new_deployed = row
        .status
        .value
        .as_ref()
        .and_then(|s| s.deployed_revision.clone());
    let had_history = row.history.value.is_some();
    let pending = std::mem::take(&mut row.status.pending);
    let tree_len = row.tree.len();
    if state.selected_index() == Some(i) {
        state.selected_resource = state.selected_resource.min(tree_len.saturating_sub(1));
    }
    // Sorted by name, a status moves no row (the filters read names and
    // contexts only): re-sorting every app on every answer made a first
    // screen of 5,000 apps quadratic.
    if state.sort != super::state::SortKey::Name {
        state.refresh_view();
    }
    state.touch();
    let mut effects = vec![];
    if pending {
        effects.extend(state.load_status(i, false));
    }
    // The app changed: what happened to the selected object may have too.
    if state.selected_index() == Some(i) {
        effects.extend(state.want_events(true));
    }
    // The deployed marker in the commits pane comes from the record.
    if had_history && old_deployed != new_deployed {
        effects.extend(state.load_commits(i, true));
    }
    effects
}

/// The second answer of a load whose first was shown: taken only while no
/// newer load started (a change meanwhile asked for a fresh status).
pub(super) fn status_refined(
    state: &mut AppState,
    app: &AppId,
    generation: u64,
    status: AppStatus,
) -> Vec<Effect> {
    let Some(i) = state.app_index(app) else {
        return vec![];
    };
    let row = &mut state.apps[i];
    if row.status.generation != generation || row.status.loading {
        return vec![];
    }
    row.status.loading = true;
    status_loaded(state, app, generation, Ok(status))
}

pub(super) fn commits_loaded(
    state: &mut AppState,
    app: &AppId,
    result: Result<History, String>,
) -> Vec<Effect> {
    let Some(i) = state.app_index(app) else {
        return vec![];
    };
    let row = &mut state.apps[i];
    row.history.loading = false;
    match result {
        Ok(h) => {
            row.history.value = Some(h);
            row.history.error = None;
        }
        Err(e) => row.history.error = Some(e),
    }
    let len = row.history.value.as_ref().map_or(0, |h| h.commits.len());
    let pending = std::mem::take(&mut row.history.pending);
    state.touch();
    let mut effects = vec![];
    if state.selected_index() == Some(i) {
        state.selected_commit = state.selected_commit.min(len.saturating_sub(1));
        if state.focus == Focus::Commits || state.diff.source.is_commit() {
            effects.extend(state.want_commit_views(false));
        }
    }
    if pending {
        effects.extend(state.load_commits(i, true));
    }
    effects
}

pub(super) fn preview_loaded(
    state: &mut AppState,
    generation: u64,
    result: Result<AppStatus, String>,
) -> Vec<Effect> {
    let (accepted, next) = state.preview.arrived(generation, result);
    if accepted {
        state.touch();
    }
    next.map(|(app, sha, generation)| Effect::LoadPreview {
        app,
        sha,
        generation,
    })
    .into_iter()
    .collect()
}

pub(super) fn commit_diff_loaded(
    state: &mut AppState,
    generation: u64,
    result: Result<String, String>,
) -> Vec<Effect> {
    let (accepted, next) = state.commit_diff.arrived(generation, result);
    if accepted {
        state.touch();
    }
    next.map(|(app, sha, generation)| Effect::LoadCommitDiff {
        app,
        sha,
        generation,
    })
    .into_iter()
    .collect()
}

pub(super) fn owned_objects(
    state: &mut AppState,
    app: &AppId,
    objects: Vec<super::state::OwnedObject>,
) {
    let Some(i) = state.app_index(app) else {
        return;
    };
    let row = &mut state.apps[i];
    row.owned = objects;
    row.rebuild_tree();
    let len = row.tree.len();
    if state.selected_index() == Some(i) {
        state.selected_resource = state.selected_resource.min(len.saturating_sub(1));
    }
    state.touch();
}

pub(super) fn connection(
    state: &mut AppState,
    context: String,
    new: ConnectionState,
) -> Vec<Effect> {
    let old = state.connections.insert(context.clone(), new.clone());
    if old.as_ref() == Some(&new) {
        return vec![];
    }
    state.touch();
    // Back from an outage: what we show may be stale, reload that context's apps.
    let recovered = new == ConnectionState::Connected
        && matches!(old, Some(ConnectionState::Reconnecting { .. }));
    if !recovered {
        return vec![];
    }
    let ids: Vec<usize> = (0..state.apps.len())
        .filter(|i| state.apps[*i].context == context)
        .collect();
    ids.into_iter()
        .filter_map(|i| state.load_status(i, false))
        .collect()
}

pub(super) fn app_changed(state: &mut AppState, app: &AppId) -> Vec<Effect> {
    match state.app_index(app) {
        Some(i) => state.load_status(i, false).into_iter().collect(),
        None => vec![],
    }
}

fn minute(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() / 60)
}

/// Advance the clock. Redraw only for what moves: spinners, toasts
/// expiring, and ages (shown to the minute, so once a minute).
pub(super) fn tick(state: &mut AppState, now: SystemTime) {
    let minute_changed = minute(now) != minute(state.now);
    state.now = now;
    let before = state.toasts.len();
    state.toasts.retain(|t| t.expires > now);
    // A toast fades during its last second: redraw through it.
    let fading = state
        .toasts
        .iter()
        .any(|t| t.expires.duration_since(now).unwrap_or_default() <= Duration::from_secs(1));
    let mut changed = minute_changed || fading || state.toasts.len() != before;
    if !state.operations.is_empty() {
        for op in &mut state.operations {
            op.spinner = op.spinner.wrapping_add(1);
        }
        changed = true;
    }
    if changed {
        state.touch();
    }
}
