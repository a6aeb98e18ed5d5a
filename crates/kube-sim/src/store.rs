//! The object store: every object by resource, namespace and name, one global
//! resourceVersion counter, and the watch cache.
//!
//! Like etcd behind a kube-apiserver, every change gets the next
//! resourceVersion and becomes an event. Recent events stay in a bounded cache
//! so watches can resume from a version; once an event falls out of the cache,
//! resuming from before it answers 410 Expired and the client re-lists.

use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, OnceLock};
use tokio::sync::broadcast;

/// `(group, plural)`: storage is shared by every version of a resource.
pub type GroupResource = (String, String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as stored in the watch cache and sent to watchers.
#[derive(Debug)]
pub struct Event {
    pub rv: u64,
    pub resource: GroupResource,
    pub namespace: String,
    pub name: String,
    pub kind: EventType,
    pub object: Arc<Value>,
    /// The object before a modification, so a watcher with a selector can
    /// tell "started matching" (ADDED) and "stopped matching" (DELETED).
    pub old: Option<Arc<Value>>,
    /// The event's JSON line, serialised once for all watchers.
    line: OnceLock<Bytes>,
}

impl Event {
    /// `{"type":"MODIFIED","object":{...}}\n`, shared by every watcher that
    /// sends this event unchanged.
    pub fn line(&self) -> Bytes {
        self.line
            .get_or_init(|| encode_event(self.kind.as_str(), &self.object))
            .clone()
    }
}

pub fn encode_event(kind: &str, object: &Value) -> Bytes {
    let mut buf = Vec::with_capacity(256);
    buf.extend_from_slice(b"{\"type\":\"");
    buf.extend_from_slice(kind.as_bytes());
    buf.extend_from_slice(b"\",\"object\":");
    // Serialising a Value cannot fail.
    let _ = serde_json::to_writer(&mut buf, object);
    buf.extend_from_slice(b"}\n");
    Bytes::from(buf)
}

/// Why a watch cannot start from the version asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooOld {
    pub requested: u64,
    pub oldest: u64,
}

/// The cached events after a version, and a receiver for what follows.
pub type WatchStart = (Vec<Arc<Event>>, broadcast::Receiver<Arc<Event>>);

type Objects = BTreeMap<(String, String), Arc<Value>>;

pub struct Store {
    rv: u64,
    objects: HashMap<GroupResource, Objects>,
    cache: VecDeque<Arc<Event>>,
    cache_capacity: usize,
    /// Events at or below this version are no longer in the cache.
    compacted: u64,
    tx: broadcast::Sender<Arc<Event>>,
    /// Owner uid → the objects whose ownerReferences name it, so the
    /// controllers find a Deployment's ReplicaSets and a ReplicaSet's Pods
    /// without scanning the namespace (which made a rollout of 666
    /// Deployments in one namespace quadratic).
    owned: HashMap<String, BTreeSet<(GroupResource, String, String)>>,
}

/// The uids an object's ownerReferences name.
fn owner_uids(object: &Value) -> impl Iterator<Item = &str> {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("uid").and_then(Value::as_str))
}

impl Store {
    pub fn new(cache_capacity: usize) -> Self {
        // Watchers that fall this far behind are closed with 410 and re-list,
        // which is what a real apiserver does to a slow watcher.
        let (tx, _) = broadcast::channel(65_536);
        Store {
            rv: 1,
            objects: HashMap::new(),
            cache: VecDeque::new(),
            cache_capacity: cache_capacity.max(1),
            compacted: 0,
            tx,
            owned: HashMap::new(),
        }
    }

    /// Objects of `resource` in `namespace` owned by the object with
    /// `owner_uid`, in name order.
    pub fn owned_by(
        &self,
        resource: &GroupResource,
        namespace: &str,
        owner_uid: &str,
    ) -> Vec<Arc<Value>> {
        let Some(keys) = self.owned.get(owner_uid) else {
            return Vec::new();
        };
        keys.iter()
            .filter(|(r, ns, _)| r == resource && ns == namespace)
            .filter_map(|(r, ns, name)| self.get(r, ns, name))
            .collect()
    }

    fn index_owners(&mut self, resource: &GroupResource, object: &Value, add: bool) {
        let (namespace, name) = ns_name(object);
        for uid in owner_uids(object) {
            let key = (resource.clone(), namespace.clone(), name.clone());
            if add {
                self.owned.entry(uid.to_string()).or_default().insert(key);
            } else if let Some(set) = self.owned.get_mut(uid) {
                set.remove(&key);
                if set.is_empty() {
                    self.owned.remove(uid);
                }
            }
        }
    }

    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    pub fn get(&self, resource: &GroupResource, namespace: &str, name: &str) -> Option<Arc<Value>> {
        self.objects
            .get(resource)?
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    /// Objects of a resource, in namespace/name order, optionally in one namespace.
    pub fn list(&self, resource: &GroupResource, namespace: Option<&str>) -> Vec<Arc<Value>> {
        let Some(objects) = self.objects.get(resource) else {
            return Vec::new();
        };
        match namespace {
            Some(ns) => objects
                .range((ns.to_string(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .map(|(_, v)| v.clone())
                .collect(),
            None => objects.values().cloned().collect(),
        }
    }

    pub fn count(&self) -> usize {
        self.objects.values().map(BTreeMap::len).sum()
    }

    /// Every stored object with its resource, for persistence.
    pub fn all(&self) -> Vec<(GroupResource, Arc<Value>)> {
        self.objects
            .iter()
            .flat_map(|(r, objs)| objs.values().map(move |o| (r.clone(), o.clone())))
            .collect()
    }

    /// Store `object` under the next resourceVersion and announce it.
    /// The caller has already decided that this is a real change.
    pub fn put(&mut self, resource: &GroupResource, mut object: Value) -> Arc<Value> {
        self.rv += 1;
        let rv = self.rv;
        set_resource_version(&mut object, rv);
        let (namespace, name) = ns_name(&object);
        let object = Arc::new(object);
        let old = self
            .objects
            .entry(resource.clone())
            .or_default()
            .insert((namespace.clone(), name.clone()), object.clone());
        if let Some(old) = &old {
            self.index_owners(resource, old, false);
        }
        self.index_owners(resource, &object, true);
        let kind = if old.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.publish(Event {
            rv,
            resource: resource.clone(),
            namespace,
            name,
            kind,
            object: object.clone(),
            old,
            line: OnceLock::new(),
        });
        object
    }

    /// Remove an object; its last state, at a new resourceVersion, is what
    /// the DELETED event and the delete response carry.
    pub fn remove(
        &mut self,
        resource: &GroupResource,
        namespace: &str,
        name: &str,
    ) -> Option<Arc<Value>> {
        let objects = self.objects.get_mut(resource)?;
        let old = objects.remove(&(namespace.to_string(), name.to_string()))?;
        self.index_owners(resource, &old, false);
        self.rv += 1;
        let rv = self.rv;
        let mut last = (*old).clone();
        set_resource_version(&mut last, rv);
        let last = Arc::new(last);
        self.publish(Event {
            rv,
            resource: resource.clone(),
            namespace: namespace.to_string(),
            name: name.to_string(),
            kind: EventType::Deleted,
            object: last.clone(),
            old: Some(old),
            line: OnceLock::new(),
        });
        Some(last)
    }

    /// Put back an object saved by an earlier run, as it was (no event).
    pub fn restore(&mut self, resource: &GroupResource, object: Value) {
        let rv = object
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .and_then(|r| r.parse::<u64>().ok())
            .unwrap_or(0);
        self.rv = self.rv.max(rv);
        self.compacted = self.rv;
        let key = ns_name(&object);
        let object = Arc::new(object);
        let old = self
            .objects
            .entry(resource.clone())
            .or_default()
            .insert(key, object.clone());
        if let Some(old) = old {
            self.index_owners(resource, &old, false);
        }
        self.index_owners(resource, &object, true);
    }

    /// After a restore: versions handed out by the earlier run (including
    /// deletions, whose objects are gone) are never handed out again.
    pub fn restore_version(&mut self, rv: u64) {
        self.rv = self.rv.max(rv);
        self.compacted = self.rv;
    }

    /// Drop a whole resource's objects (its CRD was deleted), announcing each.
    pub fn remove_all(&mut self, resource: &GroupResource) {
        let keys: Vec<(String, String)> = self
            .objects
            .get(resource)
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        for (ns, name) in keys {
            self.remove(resource, &ns, &name);
        }
    }

    fn publish(&mut self, event: Event) {
        let event = Arc::new(event);
        if self.cache.len() >= self.cache_capacity {
            if let Some(dropped) = self.cache.pop_front() {
                self.compacted = dropped.rv;
            }
        }
        self.cache.push_back(event.clone());
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(event);
    }

    /// Events after `rv` from the cache plus a receiver for everything later,
    /// taken under the same lock so nothing falls between them.
    pub fn watch_from(&self, rv: u64) -> Result<WatchStart, TooOld> {
        if rv < self.compacted {
            return Err(TooOld {
                requested: rv,
                oldest: self.compacted + 1,
            });
        }
        let backlog = self.cache.iter().filter(|e| e.rv > rv).cloned().collect();
        Ok((backlog, self.tx.subscribe()))
    }

    /// A receiver for events after now.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    /// Forget the watch history, as etcd compaction does: any watch resuming
    /// from before now gets 410.
    pub fn compact(&mut self) {
        self.cache.clear();
        self.compacted = self.rv;
    }
}

pub fn ns_name(object: &Value) -> (String, String) {
    let meta = object.get("metadata");
    let get = |k: &str| {
        meta.and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    (get("namespace"), get("name"))
}

fn set_resource_version(object: &mut Value, rv: u64) {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    object["metadata"]["resourceVersion"] = json!(rv.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}})
    }

    fn res() -> GroupResource {
        (String::new(), "configmaps".into())
    }

    #[test]
    fn every_change_gets_the_next_version_and_an_event() {
        let mut s = Store::new(10);
        let mut rx = s.subscribe();
        let a = s.put(&res(), cm("a"));
        let b = s.put(&res(), cm("a"));
        assert_eq!(a["metadata"]["resourceVersion"], "2");
        assert_eq!(b["metadata"]["resourceVersion"], "3");
        assert_eq!(rx.try_recv().map(|e| e.kind).ok(), Some(EventType::Added));
        assert_eq!(
            rx.try_recv().map(|e| e.kind).ok(),
            Some(EventType::Modified)
        );
        let gone = s.remove(&res(), "default", "a").expect("existed");
        assert_eq!(gone["metadata"]["resourceVersion"], "4");
        assert_eq!(rx.try_recv().map(|e| e.kind).ok(), Some(EventType::Deleted));
        assert!(s.get(&res(), "default", "a").is_none());
    }

    #[test]
    fn watch_resumes_from_cache_until_compacted() {
        let mut s = Store::new(2);
        s.put(&res(), cm("a")); // rv 2
        s.put(&res(), cm("b")); // rv 3
        s.put(&res(), cm("c")); // rv 4, evicts rv 2
        let (backlog, _) = s.watch_from(2).expect("rv 2's successors are cached");
        assert_eq!(backlog.iter().map(|e| e.rv).collect::<Vec<_>>(), vec![3, 4]);
        assert_eq!(
            s.watch_from(1).err(),
            Some(TooOld {
                requested: 1,
                oldest: 3
            })
        );
        s.compact();
        assert!(s.watch_from(3).is_err());
        assert!(s.watch_from(4).is_ok());
    }

    #[test]
    fn list_is_ordered_and_scoped_by_namespace() {
        let mut s = Store::new(10);
        let mut other = cm("z");
        other["metadata"]["namespace"] = json!("a-ns");
        s.put(&res(), cm("b"));
        s.put(&res(), cm("a"));
        s.put(&res(), other);
        let names: Vec<_> = s
            .list(&res(), Some("default"))
            .iter()
            .map(|o| ns_name(o).1)
            .collect();
        assert_eq!(names, vec!["a", "b"]);
        assert_eq!(s.list(&res(), None).len(), 3);
    }

    #[test]
    fn owned_objects_are_found_by_owner_uid_as_they_change() {
        let mut s = Store::new(10);
        let pods: GroupResource = (String::new(), "pods".into());
        let pod = |name: &str, ns: &str, owner: Option<&str>| {
            let refs: Vec<Value> = owner
                .map(|uid| json!({"kind": "ReplicaSet", "name": "rs", "uid": uid}))
                .into_iter()
                .collect();
            json!({"metadata": {"name": name, "namespace": ns, "ownerReferences": refs}})
        };
        let names = |s: &Store, ns: &str, uid: &str| -> Vec<String> {
            s.owned_by(&pods, ns, uid)
                .iter()
                .map(|o| ns_name(o).1)
                .collect()
        };
        s.put(&pods, pod("b", "a", Some("u1")));
        s.put(&pods, pod("a", "a", Some("u1")));
        s.put(&pods, pod("c", "a", Some("u2")));
        s.put(&pods, pod("d", "other", Some("u1")));
        s.put(&pods, pod("e", "a", None));
        assert_eq!(names(&s, "a", "u1"), ["a", "b"]);
        assert_eq!(names(&s, "other", "u1"), ["d"]);
        assert!(s
            .owned_by(&("apps".into(), "replicasets".into()), "a", "u1")
            .is_empty());

        // Orphaned by an update, adopted by another, removed.
        s.put(&pods, pod("a", "a", None));
        s.put(&pods, pod("b", "a", Some("u2")));
        assert!(names(&s, "a", "u1").is_empty());
        assert_eq!(names(&s, "a", "u2"), ["b", "c"]);
        s.remove(&pods, "a", "c");
        assert_eq!(names(&s, "a", "u2"), ["b"]);
        s.restore(&pods, pod("f", "a", Some("u2")));
        assert_eq!(names(&s, "a", "u2"), ["b", "f"]);
    }
}
