//! `L`: the diff pane between the app's revision and its local work tree
//! (uncommitted and unpushed changes included), as `diff --local` prints
//! it. One slot for the selected app: a newer toggle's answer supersedes an
//! older one, and choosing another app turns it off.

use super::state::{AppState, ToastLevel};
use super::Effect;
use crate::model::{AppId, AppStatus};

/// The work tree's status of one app, loading or loaded.
#[derive(Debug, Clone)]
pub struct LocalDiff {
    pub app: AppId,
    pub generation: u64,
    pub value: Option<AppStatus>,
    pub error: Option<String>,
}

pub(super) fn toggle(state: &mut AppState) -> Vec<Effect> {
    let Some(app) = state.selected_row().map(|r| r.id.clone()) else {
        state.toast(ToastLevel::Info, "no app selected");
        return vec![];
    };
    state.diff.scroll = 0;
    state.diff.hunk = 0;
    state.touch();
    if state.local.as_ref().is_some_and(|l| l.app == app) {
        state.local = None;
        return vec![];
    }
    if !app.is_native() {
        state.toast(
            ToastLevel::Info,
            format!("{app}: its {} object says where its source is", app.source),
        );
        return vec![];
    }
    state.next_generation += 1;
    let generation = state.next_generation;
    state.local = Some(LocalDiff {
        app: app.clone(),
        generation,
        value: None,
        error: None,
    });
    vec![Effect::LoadLocal { app, generation }]
}

/// Reload the work tree's status when `L` is on (on `R` and after an operation).
pub(super) fn reload(state: &mut AppState) -> Vec<Effect> {
    let Some(local) = state.local.as_mut() else {
        return vec![];
    };
    state.next_generation += 1;
    local.generation = state.next_generation;
    vec![Effect::LoadLocal {
        app: local.app.clone(),
        generation: local.generation,
    }]
}

pub(super) fn loaded(
    state: &mut AppState,
    app: &AppId,
    generation: u64,
    result: Result<AppStatus, String>,
) {
    let Some(local) = state.local.as_mut() else {
        return;
    };
    if &local.app != app || local.generation != generation {
        return;
    }
    match result {
        Ok(s) => {
            local.value = Some(s);
            local.error = None;
        }
        Err(e) => local.error = Some(e),
    }
    state.touch();
}
