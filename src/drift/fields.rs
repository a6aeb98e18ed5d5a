//! Field ownership from `metadata.managedFields` (the `FieldsV1` format).
//!
//! Without a server we cannot ask "what would apply change?", but the live
//! object records which fields each manager owns. The local drift path compares
//! desired with live *projected* onto the fields desired sets plus the fields
//! our manager owns: fields we own but Git no longer sets are drift (apply
//! would remove them), while server defaults and other managers' fields are not.
//! The same field sets also drive `managed_fields_managers` ignore rules.
//!
//! FieldsV1 is a tree of JSON objects whose keys are `f:<field>` (a map field),
//! `k:<json object>` (a list item named by its key fields), `v:<json value>` (a
//! set item), `i:<n>` (a list item by index) and `.` (the node itself).

use serde_json::{Map, Value};
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum FieldsError {
    #[error("managedFields: expected a JSON object at {0}")]
    NotAnObject(String),
    #[error("managedFields: unknown path element {0:?}")]
    UnknownElement(String),
    #[error("managedFields: bad JSON in path element {element:?}: {message}")]
    BadJson { element: String, message: String },
}

/// One step in a FieldsV1 path.
#[derive(Debug, Clone, PartialEq)]
pub enum PathElement {
    Field(String),
    Key(Map<String, Value>),
    Value(Value),
    Index(usize),
}

/// A set of field paths as a tree. A node without children is a leaf: the
/// whole value at that path is owned (an atomic field or a scalar).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSet {
    /// The `.` marker: the map or list item itself is owned.
    pub owned_self: bool,
    /// Children in document order; at most one entry per element.
    pub children: Vec<(PathElement, FieldSet)>,
}

impl FieldSet {
    /// Parses one `fieldsV1` object.
    pub fn parse(fields_v1: &Value) -> Result<FieldSet, FieldsError> {
        parse_node(fields_v1, "")
    }

    pub fn is_leaf(&self) -> bool {
        self.children.is_empty()
    }

    pub fn child(&self, element: &PathElement) -> Option<&FieldSet> {
        self.children
            .iter()
            .find(|(e, _)| e == element)
            .map(|(_, set)| set)
    }

    pub fn field(&self, name: &str) -> Option<&FieldSet> {
        self.children.iter().find_map(|(e, set)| match e {
            PathElement::Field(f) if f == name => Some(set),
            _ => None,
        })
    }

    /// The child set owning this live list item, if any: by key, value or index.
    pub fn list_item(&self, index: usize, item: &Value) -> Option<&FieldSet> {
        self.children.iter().find_map(|(e, set)| {
            let hit = match e {
                PathElement::Key(key) => item_has_key(item, key),
                PathElement::Value(v) => v == item,
                PathElement::Index(i) => *i == index,
                PathElement::Field(_) => false,
            };
            hit.then_some(set)
        })
    }

    /// The key field names this list is keyed by, from its first `k:` child.
    pub fn list_key_names(&self) -> Option<Vec<String>> {
        self.children.iter().find_map(|(e, _)| match e {
            PathElement::Key(key) => Some(key.keys().cloned().collect()),
            _ => None,
        })
    }

    pub fn union(&mut self, other: &FieldSet) {
        self.owned_self |= other.owned_self;
        for (element, set) in &other.children {
            match self.children.iter_mut().find(|(e, _)| e == element) {
                Some((_, mine)) => mine.union(set),
                None => self.children.push((element.clone(), set.clone())),
            }
        }
    }
}

fn parse_node(value: &Value, at: &str) -> Result<FieldSet, FieldsError> {
    let map = value
        .as_object()
        .ok_or_else(|| FieldsError::NotAnObject(at.to_string()))?;
    let mut set = FieldSet::default();
    for (raw, child) in map {
        if raw == "." {
            set.owned_self = true;
            continue;
        }
        let bad_json = |e: serde_json::Error| FieldsError::BadJson {
            element: raw.clone(),
            message: e.to_string(),
        };
        let element = if let Some(name) = raw.strip_prefix("f:") {
            PathElement::Field(name.to_string())
        } else if let Some(json) = raw.strip_prefix("k:") {
            PathElement::Key(serde_json::from_str(json).map_err(bad_json)?)
        } else if let Some(json) = raw.strip_prefix("v:") {
            PathElement::Value(serde_json::from_str(json).map_err(bad_json)?)
        } else if let Some(index) = raw.strip_prefix("i:") {
            PathElement::Index(
                index
                    .parse()
                    .map_err(|_| FieldsError::UnknownElement(raw.clone()))?,
            )
        } else {
            return Err(FieldsError::UnknownElement(raw.clone()));
        };
        let child_set = parse_node(child, &format!("{at}/{raw}"))?;
        set.children.push((element, child_set));
    }
    Ok(set)
}

/// Whether a list item carries all of a `k:` key's fields with those values.
pub(crate) fn item_has_key(item: &Value, key: &Map<String, Value>) -> bool {
    key.iter().all(|(name, want)| item.get(name) == Some(want))
}

/// The union of the fields owned by any of `managers` in `live`'s
/// managedFields, over every operation and subresource (an HPA writes replicas
/// through the `scale` subresource). Entries that fail to parse are returned as
/// errors next to the set built from the others, so one bad entry does not
/// hide the rest.
pub fn owned_by(live: &Value, managers: &[&str]) -> (FieldSet, Vec<FieldsError>) {
    let mut set = FieldSet::default();
    let mut errors = Vec::new();
    let entries = live
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for entry in entries {
        let manager = entry.get("manager").and_then(Value::as_str).unwrap_or("");
        if !managers.contains(&manager) {
            continue;
        }
        match entry.get("fieldsV1").map(FieldSet::parse) {
            Some(Ok(fields)) => set.union(&fields),
            Some(Err(e)) => errors.push(e),
            None => {}
        }
    }
    (set, errors)
}

/// Key fields used to match list items when managedFields names none: the
/// merge keys of the common Kubernetes lists, most specific last.
const GUESSED_LIST_KEYS: &[&str] = &[
    "name",
    "containerPort",
    "port",
    "mountPath",
    "devicePath",
    "ip",
];

/// The part of `live` selected by the fields `desired` sets and the fields in
/// `owned`. Lists of objects are matched item by item by their key fields;
/// scalar lists and lists without a known key are atomic and taken whole.
///
/// At the root an empty `owned` set owns nothing (a manager with no entry);
/// below the root an empty set is a leaf that owns its whole value.
pub fn project(live: &Value, desired: Option<&Value>, owned: Option<&FieldSet>) -> Value {
    project_node(live, desired, owned.filter(|o| !o.is_leaf()))
}

fn project_node(live: &Value, desired: Option<&Value>, owned: Option<&FieldSet>) -> Value {
    if owned.is_some_and(FieldSet::is_leaf) {
        return live.clone();
    }
    match live {
        Value::Object(live_map) => {
            let desired_map = match desired {
                Some(Value::Object(d)) => Some(d),
                Some(_) => return live.clone(),
                None => None,
            };
            let mut out = Map::new();
            for (name, value) in live_map {
                let d = desired_map.and_then(|d| d.get(name));
                let o = owned.and_then(|o| o.field(name));
                if d.is_some() || o.is_some() {
                    out.insert(name.clone(), project_node(value, d, o));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => project_list(items, desired, owned),
        scalar => scalar.clone(),
    }
}

fn project_list(items: &[Value], desired: Option<&Value>, owned: Option<&FieldSet>) -> Value {
    let desired_items = match desired {
        Some(Value::Array(d)) => Some(d.as_slice()),
        Some(_) => return Value::Array(items.to_vec()),
        None => None,
    };
    let keys = owned
        .and_then(FieldSet::list_key_names)
        .or_else(|| guess_list_keys(desired_items.unwrap_or_default()));
    let desired_is_atomic = desired_items.is_some_and(|d| !d.is_empty()) && keys.is_none();
    if desired_is_atomic {
        return Value::Array(items.to_vec());
    }
    let mut out = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let o = owned.and_then(|o| o.list_item(index, item));
        let d = match (&keys, desired_items) {
            (Some(keys), Some(d)) => d.iter().find(|di| same_item(di, item, keys)),
            _ => None,
        };
        if d.is_some() || o.is_some() {
            out.push(project_node(item, d, o));
        }
    }
    Value::Array(out)
}

/// A list's key when every desired item is an object carrying the same
/// well-known key field; `None` means the list is treated as atomic.
fn guess_list_keys(desired_items: &[Value]) -> Option<Vec<String>> {
    if desired_items.is_empty() || !desired_items.iter().all(Value::is_object) {
        return None;
    }
    GUESSED_LIST_KEYS
        .iter()
        .find(|k| desired_items.iter().all(|i| i.get(**k).is_some()))
        .map(|k| vec![(*k).to_string()])
}

/// Whether a desired list item and a live one are the same item: every key
/// field the desired item sets matches (fields it leaves out, like a port's
/// defaulted `protocol`, do not count), and it sets at least one.
fn same_item(desired: &Value, live: &Value, keys: &[String]) -> bool {
    let mut any = false;
    for key in keys {
        if let Some(want) = desired.get(key) {
            if live.get(key) != Some(want) {
                return false;
            }
            any = true;
        }
    }
    any
}

/// Removes every path in `set` from `obj` (used for ignore rules): leaves are
/// removed whole; inner nodes are descended into and kept.
pub fn remove_fields(obj: &mut Value, set: &FieldSet) {
    match obj {
        Value::Object(map) => {
            for (element, child) in &set.children {
                if let PathElement::Field(name) = element {
                    if child.is_leaf() {
                        map.shift_remove(name);
                    } else if let Some(value) = map.get_mut(name) {
                        remove_fields(value, child);
                    }
                }
            }
        }
        Value::Array(items) => {
            let mut keep = Vec::with_capacity(items.len());
            for (index, mut item) in std::mem::take(items).into_iter().enumerate() {
                match set.list_item(index, &item) {
                    Some(child) if child.is_leaf() => {}
                    Some(child) => {
                        remove_fields(&mut item, child);
                        keep.push(item);
                    }
                    None => keep.push(item),
                }
            }
            *items = keep;
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn live_deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {
                "name": "web", "labels": {"app": "web", "old": "x"},
                "managedFields": [{
                    "manager": "gitops-tui", "operation": "Apply", "fieldsType": "FieldsV1",
                    "fieldsV1": {
                        "f:metadata": {"f:labels": {"f:app": {}, "f:old": {}}},
                        "f:spec": {
                            "f:replicas": {},
                            "f:template": {"f:spec": {"f:containers": {
                                "k:{\"name\":\"web\"}": {".": {}, "f:name": {}, "f:image": {},
                                    "f:ports": {"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}}
                            }}}
                        }
                    }
                }, {
                    "manager": "kube-controller-manager", "operation": "Update", "subresource": "scale",
                    "fieldsV1": {"f:spec": {"f:replicas": {}}}
                }]
            },
            "spec": {
                "replicas": 3, "revisionHistoryLimit": 10,
                "template": {"spec": {"containers": [
                    {"name": "web", "image": "nginx", "imagePullPolicy": "IfNotPresent",
                     "ports": [{"containerPort": 8080, "protocol": "TCP"}]},
                    {"name": "istio-proxy", "image": "proxy"}
                ]}}
            }
        })
    }

    #[test]
    fn parses_all_element_kinds() {
        let set = FieldSet::parse(&json!({
            "f:a": {".": {}, "f:b": {}},
            "f:list": {"k:{\"name\":\"x\"}": {}, "v:\"fin\"": {}, "i:2": {}}
        }))
        .expect("parse");
        assert!(set.field("a").expect("a").owned_self);
        let list = set.field("list").expect("list");
        assert_eq!(list.children.len(), 3);
        assert!(list.list_item(0, &json!({"name": "x"})).is_some());
        assert!(list.list_item(0, &json!("fin")).is_some());
        assert!(list.list_item(2, &json!({"name": "y"})).is_some());
        assert!(list.list_item(1, &json!({"name": "y"})).is_none());
    }

    #[test]
    fn rejects_malformed_elements() {
        assert!(matches!(
            FieldSet::parse(&json!({"x:a": {}})),
            Err(FieldsError::UnknownElement(_))
        ));
        assert!(matches!(
            FieldSet::parse(&json!({"k:{bad": {}})),
            Err(FieldsError::BadJson { .. })
        ));
        assert!(matches!(
            FieldSet::parse(&json!({"f:a": 1})),
            Err(FieldsError::NotAnObject(_))
        ));
    }

    #[test]
    fn projection_keeps_desired_and_owned_only() {
        let live = live_deployment();
        let (owned, errors) = owned_by(&live, &["gitops-tui"]);
        assert!(errors.is_empty());
        let desired = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [
                {"name": "web", "image": "nginx", "ports": [{"containerPort": 8080}]}
            ]}}}
        });
        let projected = project(&live, Some(&desired), Some(&owned));
        // `old` is owned but no longer desired: kept, so it shows as drift.
        assert_eq!(
            projected["metadata"]["labels"],
            json!({"app": "web", "old": "x"})
        );
        // Defaults and the injected sidecar are nobody's business here.
        assert_eq!(
            projected["spec"],
            json!({"replicas": 3, "template": {"spec": {"containers": [
                {"name": "web", "image": "nginx", "ports": [{"containerPort": 8080}]}
            ]}}})
        );
    }

    #[test]
    fn atomic_lists_are_taken_whole() {
        let live =
            json!({"args": ["a", "b", "c"], "tolerations": [{"key": "k", "effect": "NoSchedule"}]});
        let desired = json!({"args": ["a"], "tolerations": [{"key": "k"}]});
        assert_eq!(project(&live, Some(&desired), None), live);
    }

    #[test]
    fn removes_owned_fields() {
        let mut live = live_deployment();
        let (hpa, _) = owned_by(&live, &["kube-controller-manager"]);
        remove_fields(&mut live, &hpa);
        assert!(live["spec"].get("replicas").is_none());
        assert_eq!(live["spec"]["revisionHistoryLimit"], 10);

        let set = FieldSet::parse(
            &json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"istio-proxy\"}": {},
                "k:{\"name\":\"web\"}": {"f:imagePullPolicy": {}}
            }}}}}),
        )
        .expect("parse");
        remove_fields(&mut live, &set);
        assert_eq!(
            live["spec"]["template"]["spec"]["containers"],
            json!([{"name": "web", "image": "nginx", "ports": [{"containerPort": 8080, "protocol": "TCP"}]}])
        );
    }
}
