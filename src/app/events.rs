//! The recent Events of the selected resource.
//!
//! One slot for the whole screen, since only the selected object's Events
//! are shown. Loads are coalesced like previews: one in flight, plus the
//! newest one wanted, so scrolling through a long tree never queues a list
//! call per row; answers for an older selection are dropped by generation.
//! A reload of the same object keeps the old rows on screen until the new
//! ones land, so watch-driven refreshes do not flash "loading".

use super::state::AppState;
use super::tree::NodeRef;
use super::Effect;
use crate::model::EventRow;
use crate::model::{AppId, ResourceKey};

#[derive(Debug, Clone, Default)]
pub struct EventsSlot {
    /// The (app, object) the shown or loading Events are about.
    pub target: Option<(AppId, ResourceKey)>,
    pub rows: Option<Vec<EventRow>>,
    pub error: Option<String>,
    /// The generation of the newest load asked for.
    pub(crate) generation: u64,
    pub(crate) in_flight: Option<u64>,
    /// The generation whose answer is shown.
    pub(crate) landed: u64,
}

impl EventsSlot {
    /// The Events about `key` of `app`, once loaded.
    pub fn get(&self, app: &AppId, key: &ResourceKey) -> Option<&[EventRow]> {
        self.is_for(app, key)
            .then_some(self.rows.as_deref())
            .flatten()
    }

    pub fn is_for(&self, app: &AppId, key: &ResourceKey) -> bool {
        self.target
            .as_ref()
            .is_some_and(|(a, k)| a == app && k == key)
    }

    /// The generation its newest load was asked with.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

impl AppState {
    /// The selected app and the key of its selected tree row.
    pub fn selected_resource_key(&self) -> Option<(AppId, ResourceKey)> {
        let row = self.selected_row()?;
        let tree_row = row.tree.get(self.selected_resource)?;
        let key = match tree_row.node {
            NodeRef::Resource(i) => row.status.value.as_ref()?.resources.get(i)?.key.clone(),
            NodeRef::Owned(i) => Some(row.owned.get(i)?.live.key())
                .filter(|k| k.is_named())?
                .clone(),
        };
        Some((row.id.clone(), key))
    }

    /// The Events of the selected resource, when loaded.
    pub fn selected_events(&self) -> Option<&EventsSlot> {
        let (app, key) = self.selected_resource_key()?;
        self.events.is_for(&app, &key).then_some(&self.events)
    }

    /// Ask for the selected resource's Events when the selection moved to
    /// another object (or, with `force`, again for the same one).
    pub(crate) fn want_events(&mut self, force: bool) -> Option<Effect> {
        let (app, key) = self.selected_resource_key()?;
        let same = self.events.is_for(&app, &key);
        if same && !force {
            return None;
        }
        self.next_generation += 1;
        let generation = self.next_generation;
        let slot = &mut self.events;
        if !same {
            slot.rows = None;
            slot.error = None;
            slot.target = Some((app.clone(), key.clone()));
            self.dirty = true;
        }
        slot.generation = generation;
        if slot.in_flight.is_some() {
            return None;
        }
        slot.in_flight = Some(generation);
        Some(Effect::LoadEvents {
            app,
            key,
            generation,
        })
    }
}

/// A load landed: keep it if it is the newest asked for; start the newest
/// wanted one if an older answer just freed the slot.
pub(super) fn events_loaded(
    state: &mut AppState,
    generation: u64,
    result: Result<Vec<EventRow>, String>,
) -> Vec<Effect> {
    let slot = &mut state.events;
    if slot.in_flight == Some(generation) {
        slot.in_flight = None;
    }
    if slot.generation == generation {
        slot.landed = generation;
        match result {
            Ok(rows) => {
                slot.rows = Some(rows);
                slot.error = None;
            }
            Err(e) => slot.error = Some(e),
        }
        state.touch();
        return vec![];
    }
    if slot.in_flight.is_some() || generation > slot.generation || slot.landed == slot.generation {
        return vec![];
    }
    let Some((app, key)) = slot.target.clone() else {
        return vec![];
    };
    slot.in_flight = Some(slot.generation);
    vec![Effect::LoadEvents {
        app,
        key,
        generation: slot.generation,
    }]
}
