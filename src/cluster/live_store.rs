//! A watch's objects as [`LiveObject`]s, indexed by the app their tracking
//! label names: what kube-runtime's reflector store does for the watches of
//! the live cache and of the resource tree, but keeping each object once,
//! as compact JSON shared with every status that shows it (the reflector
//! keeps a typed or dynamic copy, and every status read converted it into
//! a `Value` of its own: two full copies of each object at fleet scale).
//!
//! The events are the watcher's, with the reflector's rules: `Init` starts
//! a new list, `InitApply` fills it, `InitDone` swaps it in whole (so what
//! was deleted while the watch was down leaves), `Apply` and `Delete` change
//! one object. An object's key is its namespace and name; when an `Apply`
//! changes its tracking label it moves to the other app.

use crate::model::LiveObject;
use kube::runtime::watcher::Event;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

/// (namespace, name) of one object of the watched kind.
type ObjectName = (Option<String>, String);

#[derive(Default)]
struct Objects {
    /// By tracking label (None: unlabelled), then by name.
    by_app: HashMap<Option<String>, BTreeMap<ObjectName, LiveObject>>,
    /// Which app each object is filed under.
    app_of: HashMap<ObjectName, Option<String>>,
}

impl Objects {
    fn insert(&mut self, obj: LiveObject) {
        let name = name_of(&obj);
        let app = obj.app().map(str::to_string);
        if let Some(before) = self.app_of.insert(name.clone(), app.clone()) {
            if before != app {
                self.remove_from(&before, &name);
            }
        }
        self.by_app.entry(app).or_default().insert(name, obj);
    }

    fn remove(&mut self, name: &ObjectName) {
        if let Some(app) = self.app_of.remove(name) {
            self.remove_from(&app, name);
        }
    }

    fn remove_from(&mut self, app: &Option<String>, name: &ObjectName) {
        if let Some(objects) = self.by_app.get_mut(app) {
            objects.remove(name);
            if objects.is_empty() {
                self.by_app.remove(app);
            }
        }
    }
}

fn name_of(obj: &LiveObject) -> ObjectName {
    let key = obj.key();
    (key.namespace.clone(), key.name.clone())
}

#[derive(Default)]
struct State {
    objects: Objects,
    /// The list being received (between `Init` and `InitDone`).
    listing: Option<Objects>,
}

/// Written by one watch, read by any number of statuses; clones share it.
#[derive(Clone, Default)]
pub struct LiveStore(Arc<RwLock<State>>);

impl LiveStore {
    /// Applies one watcher event (see the module doc).
    pub fn apply(&self, event: Event<LiveObject>) {
        let mut state = self.0.write().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::Init => state.listing = Some(Objects::default()),
            Event::InitApply(obj) => state
                .listing
                .get_or_insert_with(Objects::default)
                .insert(obj),
            Event::InitDone => state.objects = state.listing.take().unwrap_or_default(),
            Event::Apply(obj) => state.objects.insert(obj),
            Event::Delete(obj) => state.objects.remove(&name_of(&obj)),
        }
    }

    /// The objects labelled for `app`, by namespace and name.
    pub fn labelled(&self, app: &str) -> Vec<LiveObject> {
        let state = self.0.read().unwrap_or_else(|e| e.into_inner());
        state
            .objects
            .by_app
            .get(&Some(app.to_string()))
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every object, by label and then by namespace and name.
    pub fn all(&self) -> Vec<LiveObject> {
        let state = self.0.read().unwrap_or_else(|e| e.into_inner());
        let mut apps: Vec<_> = state.objects.by_app.iter().collect();
        apps.sort_by(|a, b| a.0.cmp(b.0));
        apps.into_iter()
            .flat_map(|(_, m)| m.values().cloned())
            .collect()
    }

    /// How many objects it holds.
    pub fn len(&self) -> usize {
        let state = self.0.read().unwrap_or_else(|e| e.into_inner());
        state.objects.app_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A watcher event of `K` as one of [`LiveObject`]s (`convert` makes each
/// object's JSON as the panes and drift read it).
pub fn live_event<K>(event: &Event<K>, convert: impl Fn(&K) -> LiveObject) -> Event<LiveObject> {
    match event {
        Event::Apply(o) => Event::Apply(convert(o)),
        Event::Delete(o) => Event::Delete(convert(o)),
        Event::InitApply(o) => Event::InitApply(convert(o)),
        Event::Init => Event::Init,
        Event::InitDone => Event::InitDone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TRACKING_LABEL;
    use serde_json::json;

    fn cm(name: &str, app: Option<&str>, data: &str) -> LiveObject {
        let mut v = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "ns"}, "data": {"k": data}});
        if let Some(app) = app {
            v["metadata"]["labels"] = json!({TRACKING_LABEL: app});
        }
        LiveObject::new(&v)
    }

    fn names(objects: &[LiveObject]) -> Vec<String> {
        objects.iter().map(|o| o.key().name.clone()).collect()
    }

    #[test]
    fn a_list_is_served_only_once_done_and_replaces_the_old_one_whole() {
        let store = LiveStore::default();
        store.apply(Event::Init);
        store.apply(Event::InitApply(cm("a", Some("web"), "1")));
        store.apply(Event::InitApply(cm("gone", Some("web"), "1")));
        assert!(store.labelled("web").is_empty(), "not listed yet");
        store.apply(Event::InitDone);
        assert_eq!(names(&store.labelled("web")), ["a", "gone"]);
        // A re-list after the watch was down: what it no longer holds leaves
        // when it is whole, not before.
        store.apply(Event::Init);
        store.apply(Event::InitApply(cm("a", Some("web"), "2")));
        assert_eq!(names(&store.labelled("web")), ["a", "gone"]);
        store.apply(Event::InitDone);
        assert_eq!(names(&store.labelled("web")), ["a"]);
        assert_eq!(store.labelled("web")[0].value()["data"]["k"], "2");
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn applies_and_deletes_change_one_object_and_a_relabel_moves_it() {
        let store = LiveStore::default();
        store.apply(Event::Init);
        store.apply(Event::InitDone);
        store.apply(Event::Apply(cm("a", Some("web"), "1")));
        store.apply(Event::Apply(cm("b", Some("web"), "1")));
        store.apply(Event::Apply(cm("c", None, "1")));
        assert_eq!(names(&store.labelled("web")), ["a", "b"]);
        store.apply(Event::Apply(cm("a", Some("db"), "1")));
        assert_eq!(names(&store.labelled("web")), ["b"]);
        assert_eq!(names(&store.labelled("db")), ["a"]);
        store.apply(Event::Delete(cm("b", Some("web"), "1")));
        assert!(store.labelled("web").is_empty());
        assert_eq!(names(&store.all()), ["c", "a"]);
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn readers_share_the_stored_copy() {
        let store = LiveStore::default();
        store.apply(Event::Apply(cm("a", Some("web"), "1")));
        let one = store.labelled("web");
        let two = store.labelled("web");
        assert!(one[0].same(&two[0]));
    }
}
