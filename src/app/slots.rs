//! Slots for background results. Each remembers which load it waits for (a
//! generation), so a late answer to an older request is dropped instead of
//! overwriting a newer one, and coalesces requests so fast input never
//! queues a load per keypress.

use crate::model::{AppId, Revision};

/// A value loaded in the background. The old value stays while a reload runs,
/// so the screen does not flash empty on every watch event.
#[derive(Debug, Clone)]
pub struct Slot<T> {
    pub value: Option<T>,
    pub loading: bool,
    pub error: Option<String>,
    /// The generation of the newest load asked for; answers for others are stale.
    pub(crate) generation: u64,
    /// A change arrived while a load was running: load again when it lands.
    pub(crate) pending: bool,
}

impl<T> Slot<T> {
    /// The generation of the newest load asked for.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            value: None,
            loading: false,
            error: None,
            generation: 0,
            pending: false,
        }
    }
}

/// The newest wanted result for one (app, commit), loaded at most one at a
/// time: moving through 100 commits runs the load in flight plus the last one
/// asked for, never 100 (gitui's single-slot jobs).
#[derive(Debug, Clone)]
pub struct Latest<V> {
    pub app: AppId,
    pub sha: Revision,
    pub value: Option<V>,
    pub error: Option<String>,
    pub(crate) generation: u64,
}

impl<V> Latest<V> {
    /// The generation its load was asked with (the runtime echoes it back).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn loading(&self) -> bool {
        self.value.is_none() && self.error.is_none()
    }

    pub fn is_for(&self, app: &AppId, sha: &Revision) -> bool {
        &self.app == app && &self.sha == sha
    }
}

#[derive(Debug, Clone)]
pub struct Coalesced<V> {
    pub current: Option<Latest<V>>,
    pub(crate) in_flight: Option<u64>,
}

impl<V> Default for Coalesced<V> {
    fn default() -> Self {
        Coalesced {
            current: None,
            in_flight: None,
        }
    }
}

impl<V> Coalesced<V> {
    pub fn get(&self, app: &AppId, sha: &Revision) -> Option<&Latest<V>> {
        self.current.as_ref().filter(|l| l.is_for(app, sha))
    }

    /// Drop what is kept for `app`: an operation changed what it was
    /// computed against. A load still running is answered and dropped.
    pub(crate) fn forget(&mut self, app: &AppId) {
        if self.current.as_ref().is_some_and(|l| &l.app == app) {
            self.current = None;
        }
    }

    /// Ask for (app, sha); returns the generation to load now, if a load may start.
    pub(crate) fn want(
        &mut self,
        app: &AppId,
        sha: &Revision,
        next_gen: &mut u64,
        force: bool,
    ) -> Option<u64> {
        if !force && self.get(app, sha).is_some() {
            return None;
        }
        *next_gen += 1;
        self.current = Some(Latest {
            app: app.clone(),
            sha: sha.clone(),
            value: None,
            error: None,
            generation: *next_gen,
        });
        if self.in_flight.is_some() {
            return None;
        }
        self.in_flight = Some(*next_gen);
        Some(*next_gen)
    }

    /// A load landed. Stores it when it is the newest wanted; returns the
    /// (app, sha, generation) to load next when the wanted one is still missing.
    pub(crate) fn arrived(
        &mut self,
        generation: u64,
        result: Result<V, String>,
    ) -> (bool, Option<(AppId, Revision, u64)>) {
        if self.in_flight == Some(generation) {
            self.in_flight = None;
        }
        let Some(cur) = self.current.as_mut() else {
            return (false, None);
        };
        if cur.generation == generation {
            match result {
                Ok(v) => cur.value = Some(v),
                Err(e) => cur.error = Some(e),
            }
            return (true, None);
        }
        if cur.loading() && self.in_flight.is_none() {
            self.in_flight = Some(cur.generation);
            return (
                false,
                Some((cur.app.clone(), cur.sha.clone(), cur.generation)),
            );
        }
        (false, None)
    }
}
