//! A live object as the cluster last sent it, held once and shared: the
//! watches' cache keeps it, and every status and tree row that shows it
//! holds the same copy (an `Arc`), as compact JSON text.
//!
//! Why: at fleet scale (1,000 apps, 28,000 objects with their ReplicaSets
//! and Pods) the TUI held each object twice as a `serde_json::Value` (the
//! watch's store and the status), and a `Value` of an object with
//! `preserve_order` takes about five times its JSON text (an index map per
//! object, a `String` per key). The panes read only a few fields of most
//! objects (key, uid, owners: kept beside the text, read without parsing);
//! the YAML view, logs and ignore rules parse the one object they show with
//! [`LiveObject::value`], which gives back exactly the `Value` it was made
//! from (same fields, same order).

use super::labels::TRACKING_LABEL;
use super::resource::ResourceKey;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;

/// One live object, immutable and cheap to clone (clones share the text).
#[derive(Clone)]
pub struct LiveObject(Arc<Inner>);

struct Inner {
    json: Box<str>,
    key: ResourceKey,
    uid: Option<Box<str>>,
    owner_uids: Box<[Box<str>]>,
    app: Option<Box<str>>,
}

impl LiveObject {
    /// Keeps `obj` as compact JSON, with its key, uid, owners' uids and
    /// tracking label read out once.
    pub fn new(obj: &Value) -> LiveObject {
        let text = |p: &str| obj.pointer(p).and_then(Value::as_str);
        let owner_uids = obj
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .map(|refs| {
                refs.iter()
                    .filter_map(|r| r.get("uid").and_then(Value::as_str))
                    .map(Box::from)
                    .collect()
            })
            .unwrap_or_default();
        let app = obj
            .pointer("/metadata/labels")
            .and_then(|l| l.get(TRACKING_LABEL))
            .and_then(Value::as_str)
            .map(Box::from);
        LiveObject(Arc::new(Inner {
            // Serialising a Value cannot fail (its keys are strings).
            json: serde_json::to_string(obj)
                .unwrap_or_else(|_| "null".into())
                .into_boxed_str(),
            key: ResourceKey::of(obj),
            uid: text("/metadata/uid").map(Box::from),
            owner_uids,
            app,
        }))
    }

    /// The object, parsed again: equal to the `Value` it was made from.
    /// (The text was written by serde_json from a `Value` that serde_json
    /// parsed, so it parses; `Null` stands in should that ever fail.)
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.0.json).unwrap_or(Value::Null)
    }

    /// Its compact JSON text.
    pub fn json(&self) -> &str {
        &self.0.json
    }

    /// Group, kind, namespace and name, as [`ResourceKey::of`] reads them.
    pub fn key(&self) -> &ResourceKey {
        &self.0.key
    }

    /// `metadata.uid`.
    pub fn uid(&self) -> Option<&str> {
        self.0.uid.as_deref()
    }

    /// The uids of `metadata.ownerReferences`, in order.
    pub fn owner_uids(&self) -> impl Iterator<Item = &str> {
        self.0.owner_uids.iter().map(|u| &**u)
    }

    /// The app its tracking label names, if any.
    pub fn app(&self) -> Option<&str> {
        self.0.app.as_deref()
    }

    /// `Kind namespace/name` (`Kind name` without a namespace), the kind
    /// as the object spells it.
    pub fn name(&self) -> String {
        let k = &self.0.key;
        let kind = if k.kind.is_empty() { "?" } else { &k.kind };
        let name = if k.name.is_empty() { "?" } else { &k.name };
        match &k.namespace {
            Some(ns) => format!("{kind} {ns}/{name}"),
            None => format!("{kind} {name}"),
        }
    }

    /// Whether two handles share one copy.
    pub fn same(&self, other: &LiveObject) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl From<Value> for LiveObject {
    fn from(v: Value) -> LiveObject {
        LiveObject::new(&v)
    }
}

impl From<&Value> for LiveObject {
    fn from(v: &Value) -> LiveObject {
        LiveObject::new(v)
    }
}

impl PartialEq for LiveObject {
    fn eq(&self, other: &LiveObject) -> bool {
        self.same(other) || self.0.json == other.0.json
    }
}

impl fmt::Debug for LiveObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LiveObject({}, {} bytes)", self.0.key, self.0.json.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {
                "name": "web-1",
                "namespace": "shop",
                "uid": "p1",
                "labels": {TRACKING_LABEL: "shop", "z": "last", "a": "first"},
                "ownerReferences": [{"uid": "rs1", "kind": "ReplicaSet"}, {"uid": "x"}],
            },
            "spec": {"containers": [{"name": "web", "ports": [{"containerPort": 80}]}],
                     "weight": 1.5, "big": 18446744073709551615u64, "neg": -3},
            "status": {"phase": "Running", "empty": {}, "none": null},
        })
    }

    #[test]
    fn gives_back_the_same_value_in_the_same_order() {
        let v = pod();
        let live = LiveObject::new(&v);
        let back = live.value();
        assert_eq!(back, v);
        // Same order, not only the same map: the YAML view prints it.
        assert_eq!(serde_json::to_string(&back).expect("json"), live.json());
        let keys: Vec<&String> = back["metadata"]["labels"]
            .as_object()
            .expect("labels")
            .keys()
            .collect();
        assert_eq!(keys, [TRACKING_LABEL, "z", "a"]);
    }

    #[test]
    fn reads_key_uid_owners_and_app_without_parsing() {
        let live = LiveObject::new(&pod());
        assert_eq!(live.key().to_string(), "Pod shop/web-1");
        assert_eq!(live.uid(), Some("p1"));
        assert_eq!(live.owner_uids().collect::<Vec<_>>(), ["rs1", "x"]);
        assert_eq!(live.app(), Some("shop"));
        assert_eq!(live.name(), "Pod shop/web-1");
        let bare = LiveObject::new(&json!({"kind": "Namespace", "metadata": {"name": "shop"}}));
        assert_eq!((bare.uid(), bare.app()), (None, None));
        assert_eq!(bare.owner_uids().count(), 0);
        assert_eq!(bare.name(), "Namespace shop");
    }

    #[test]
    fn clones_share_one_copy_and_equal_texts_compare_equal() {
        let a = LiveObject::new(&pod());
        let b = a.clone();
        assert!(a.same(&b));
        let c = LiveObject::new(&pod());
        assert!(!a.same(&c));
        assert_eq!(a, c);
        assert_ne!(a, LiveObject::new(&json!({"kind": "Pod"})));
    }
}
