//! Flux and Argo CD apps joining the list: discovery runs off the UI thread
//! (at start, on `R`, and when a watch sees a controller object come or go),
//! and its answer replaces the managed rows while native rows stay as they
//! are. One discovery runs at a time; asking again while it runs asks for
//! one more after it, never a queue.

use super::state::{AppEntry, AppRow, AppState, ConnectionState, Slot, ToastLevel};
use super::Effect;
use crate::model::AppId;
use std::collections::BTreeSet;

/// Whether a discovery is in flight, and whether another is wanted after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    pub running: bool,
    pub again: bool,
    /// Set once the first answer arrived.
    pub done: bool,
}

/// Ask for a discovery (coalesced with one in flight).
pub(super) fn discover(state: &mut AppState) -> Vec<Effect> {
    if state.discovery.running {
        state.discovery.again = true;
        return vec![];
    }
    state.discovery.running = true;
    vec![Effect::Discover]
}

/// The first discovery, as the runtime starts.
pub fn start(state: &mut AppState) -> Vec<Effect> {
    discover(state)
}

/// The managed apps found now, and what could not be looked at.
pub(super) fn apps_discovered(
    state: &mut AppState,
    apps: Vec<AppEntry>,
    problems: Vec<String>,
) -> Vec<Effect> {
    state.discovery.running = false;
    state.discovery.done = true;
    let selected = state.selected_row().map(|r| r.id.clone());
    let found: BTreeSet<AppId> = apps.iter().map(|a| a.id.clone()).collect();
    // Rows of apps no longer found leave the list, and the screen says so.
    let gone: Vec<AppId> = state
        .apps
        .iter()
        .filter(|r| !r.id.is_native() && !found.contains(&r.id))
        .map(|r| r.id.clone())
        .collect();
    if !gone.is_empty() {
        state.apps.retain(|r| !gone.contains(&r.id));
        for id in &gone {
            state.marks.remove(id);
        }
        state.toast(
            ToastLevel::Info,
            format!("no longer found: {}", AppId::join(&gone, ", ")),
        );
    }
    let mut effects = vec![];
    for entry in apps {
        if !entry.id.is_native() && state.app_index(&entry.id).is_none() {
            state
                .connections
                .entry(entry.context.clone())
                .or_insert(ConnectionState::Unknown);
            state.apps.push(AppRow {
                id: entry.id,
                context: entry.context,
                status: Slot::default(),
                history: Slot::default(),
                owned: vec![],
                tree: vec![],
            });
            effects.extend(state.load_status(state.apps.len() - 1, true));
        }
    }
    for p in problems {
        state.toast(ToastLevel::Error, p);
    }
    state.refresh_view();
    // Rows moved: keep the app that was selected, selected.
    if let Some(id) = selected {
        if let Some(pos) = state
            .visible
            .iter()
            .position(|i| state.apps.get(*i).is_some_and(|r| r.id == id))
        {
            state.selected_app = pos;
        }
    }
    state.touch();
    if std::mem::take(&mut state.discovery.again) {
        effects.extend(discover(state));
    }
    effects
}

/// Whether any listed app is a Flux or Argo CD one (the apps pane shows
/// its MANAGED-BY column only then).
pub fn any_managed(state: &AppState) -> bool {
    state.apps.iter().any(|r| !r.id.is_native())
}
