//! `metadata.managedFields` entries: reading them from an object and writing
//! them back exactly as the apiserver does.
//!
//! kubectl (`--show-managed-fields`, client-side→server-side apply migration)
//! and kube-rs read these entries, so field names, their order, omitted
//! empties and the sort order of the list follow the apiserver's encoder.

use super::fieldset::FieldSet;
use serde_json::{Map, Value};

/// Which kind of request produced an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    Apply,
    Update,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// A malformed managedFields list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid managedFields: {0}")]
pub struct ManagedFieldsError(pub String);

/// One item of `metadata.managedFields`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedFieldsEntry {
    pub manager: String,
    pub operation: Operation,
    pub api_version: String,
    /// RFC 3339, seconds, `Z`.
    pub time: Option<String>,
    pub fields: FieldSet,
    /// `status`, `scale`, ... for writes to a subresource.
    pub subresource: Option<String>,
}

impl ManagedFieldsEntry {
    /// Whether this is the entry of `manager` for `operation` on `subresource`
    /// (an object holds at most one such entry).
    pub fn is(&self, manager: &str, operation: Operation, subresource: Option<&str>) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == subresource
    }

    /// The JSON the apiserver writes, fields in its order, empties omitted.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        if !self.manager.is_empty() {
            m.insert("manager".into(), Value::String(self.manager.clone()));
        }
        m.insert("operation".into(), self.operation.as_str().into());
        if !self.api_version.is_empty() {
            m.insert("apiVersion".into(), Value::String(self.api_version.clone()));
        }
        if let Some(t) = &self.time {
            m.insert("time".into(), Value::String(t.clone()));
        }
        m.insert("fieldsType".into(), "FieldsV1".into());
        m.insert("fieldsV1".into(), self.fields.to_fields_v1());
        if let Some(s) = self.subresource.as_deref().filter(|s| !s.is_empty()) {
            m.insert("subresource".into(), Value::String(s.to_string()));
        }
        Value::Object(m)
    }

    pub fn from_value(v: &Value) -> Result<Self, ManagedFieldsError> {
        let err = |m: &str| ManagedFieldsError(m.to_string());
        let obj = v.as_object().ok_or_else(|| err("entry is not an object"))?;
        let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
        let operation = match obj.get("operation").and_then(Value::as_str) {
            Some("Apply") => Operation::Apply,
            Some("Update") => Operation::Update,
            other => {
                return Err(ManagedFieldsError(format!(
                    "operation must be Apply or Update, got {other:?}"
                )))
            }
        };
        match obj.get("fieldsType").and_then(Value::as_str) {
            Some("FieldsV1") | None => {}
            Some(other) => {
                return Err(ManagedFieldsError(format!(
                    "fieldsType must be FieldsV1, got {other:?}"
                )))
            }
        }
        let fields = match obj.get("fieldsV1") {
            None | Some(Value::Null) => FieldSet::new(),
            Some(f) => {
                FieldSet::from_fields_v1(f).map_err(|e| ManagedFieldsError(e.to_string()))?
            }
        };
        Ok(ManagedFieldsEntry {
            manager: text("manager").unwrap_or_default(),
            operation,
            api_version: text("apiVersion").unwrap_or_default(),
            time: text("time"),
            fields,
            subresource: text("subresource").filter(|s| !s.is_empty()),
        })
    }
}

/// The raw `metadata.managedFields` of an object, if the key is there.
pub fn raw_managed_fields(obj: &Value) -> Option<&Value> {
    obj.get("metadata")?.get("managedFields")
}

/// Whether the object carries at least one managedFields entry.
pub fn has_managed_fields(obj: &Value) -> bool {
    raw_managed_fields(obj)
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
}

/// The entries of an object (none if it has no managedFields).
pub fn read_managed_fields(obj: &Value) -> Result<Vec<ManagedFieldsEntry>, ManagedFieldsError> {
    match raw_managed_fields(obj) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(ManagedFieldsEntry::from_value).collect(),
        Some(_) => Err(ManagedFieldsError("managedFields is not a list".into())),
    }
}

/// One entry per (manager, operation, subresource), empty ones dropped, in
/// the apiserver's order: Apply before Update, then oldest first, then by
/// manager, apiVersion and subresource.
pub fn normalize(entries: Vec<ManagedFieldsEntry>) -> Vec<ManagedFieldsEntry> {
    let mut out: Vec<ManagedFieldsEntry> = Vec::with_capacity(entries.len());
    for e in entries {
        match out
            .iter_mut()
            .find(|o| o.is(&e.manager, e.operation, e.subresource.as_deref()))
        {
            Some(o) => {
                o.fields = o.fields.union(&e.fields);
                if e.time > o.time {
                    o.time = e.time;
                    o.api_version = e.api_version;
                }
            }
            None => out.push(e),
        }
    }
    out.retain(|e| !e.fields.is_empty());
    out.sort_by(|p, q| {
        p.operation
            .cmp(&q.operation)
            .then_with(|| p.time.cmp(&q.time))
            .then_with(|| p.manager.cmp(&q.manager))
            .then_with(|| p.api_version.cmp(&q.api_version))
            .then_with(|| p.subresource.cmp(&q.subresource))
    });
    out
}

/// Sets `metadata.managedFields` of `obj` to `entries` (normalized); with no
/// entries left the key goes, as the apiserver omits an empty list.
pub fn write_managed_fields(obj: &mut Value, entries: Vec<ManagedFieldsEntry>) {
    let entries = normalize(entries);
    let Value::Object(root) = obj else { return };
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(meta) = meta else { return };
    if entries.is_empty() {
        meta.remove("managedFields");
    } else {
        let list = entries.iter().map(ManagedFieldsEntry::to_value).collect();
        meta.insert("managedFields".into(), Value::Array(list));
    }
}

/// A copy of `obj` without `metadata.managedFields`, which are never copied
/// (they are often the largest part of an object).
pub fn without_managed_fields(obj: &Value) -> Value {
    let Value::Object(root) = obj else {
        return obj.clone();
    };
    let copy = root
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Value::Object(meta) if k == "metadata" => Value::Object(
                    meta.iter()
                        .filter(|(mk, _)| *mk != "managedFields")
                        .map(|(mk, mv)| (mk.clone(), mv.clone()))
                        .collect(),
                ),
                other => other.clone(),
            };
            (k.clone(), v)
        })
        .collect();
    Value::Object(copy)
}

/// Whether `a` and `b` are equal once `metadata.managedFields` is removed
/// from both, without copying either.
pub fn equal_without_managed_fields(a: &Value, b: &Value) -> bool {
    fn metadata_equal(a: &Value, b: &Value) -> bool {
        let (Value::Object(a), Value::Object(b)) = (a, b) else {
            return a == b;
        };
        let count = |m: &Map<String, Value>| m.keys().filter(|k| *k != "managedFields").count();
        count(a) == count(b)
            && a.iter()
                .filter(|(k, _)| *k != "managedFields")
                .all(|(k, v)| b.get(k) == Some(v))
    }
    let (Value::Object(a), Value::Object(b)) = (a, b) else {
        return a == b;
    };
    a.len() == b.len()
        && a.iter().all(|(k, v)| match b.get(k) {
            Some(w) if k == "metadata" => metadata_equal(v, w),
            Some(w) => v == w,
            None => false,
        })
}

/// Removes `metadata.managedFields` (objects are compared and walked without them).
pub fn strip_managed_fields(obj: &mut Value) {
    if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
        meta.remove("managedFields");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What `kubectl apply --server-side` of a Deployment leaves, after the
    /// deployment controller updated its status and someone scaled it.
    fn real_managed_fields() -> Value {
        json!([
            {
                "manager": "kubectl",
                "operation": "Apply",
                "apiVersion": "apps/v1",
                "time": "2024-05-01T10:00:00Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {
                        "f:replicas": {},
                        "f:selector": {},
                        "f:template": {
                            "f:metadata": {"f:labels": {"f:app": {}}},
                            "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                                ".": {}, "f:image": {}, "f:name": {},
                                "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                                    ".": {}, "f:containerPort": {}
                                }}
                            }}}
                        }
                    }
                }
            },
            {
                "manager": "kube-controller-manager",
                "operation": "Update",
                "apiVersion": "apps/v1",
                "time": "2024-05-01T10:00:05Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:metadata": {"f:annotations": {".": {}, "f:deployment.kubernetes.io/revision": {}}},
                    "f:status": {
                        "f:availableReplicas": {},
                        "f:conditions": {".": {}, "k:{\"type\":\"Available\"}": {
                            ".": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}
                        }},
                        "f:observedGeneration": {}
                    }
                },
                "subresource": "status"
            }
        ])
    }

    #[test]
    fn real_managed_fields_round_trip_exactly() {
        let obj = json!({"metadata": {"name": "web", "managedFields": real_managed_fields()}});
        let entries = read_managed_fields(&obj).expect("valid");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].operation, Operation::Apply);
        assert_eq!(entries[1].subresource.as_deref(), Some("status"));
        let mut out = json!({"metadata": {"name": "web"}});
        write_managed_fields(&mut out, entries);
        assert_eq!(out["metadata"]["managedFields"], real_managed_fields());
        // Byte for byte, key order included.
        assert_eq!(
            serde_json::to_string(&out["metadata"]["managedFields"]).expect("json"),
            serde_json::to_string(&real_managed_fields()).expect("json")
        );
    }

    #[test]
    fn normalize_merges_drops_empty_and_sorts() {
        let e = |m: &str, op, t: &str, f: Value| ManagedFieldsEntry {
            manager: m.into(),
            operation: op,
            api_version: "v1".into(),
            time: Some(t.into()),
            fields: FieldSet::from_fields_v1(&f).expect("fields"),
            subresource: None,
        };
        let out = normalize(vec![
            e(
                "b",
                Operation::Update,
                "2024-01-02T00:00:00Z",
                json!({"f:data": {"f:x": {}}}),
            ),
            e(
                "a",
                Operation::Update,
                "2024-01-03T00:00:00Z",
                json!({"f:data": {"f:y": {}}}),
            ),
            e(
                "z",
                Operation::Apply,
                "2024-01-09T00:00:00Z",
                json!({"f:data": {"f:z": {}}}),
            ),
            e(
                "b",
                Operation::Update,
                "2024-01-01T00:00:00Z",
                json!({"f:data": {"f:w": {}}}),
            ),
            e(
                "empty",
                Operation::Update,
                "2024-01-01T00:00:00Z",
                json!({}),
            ),
        ]);
        let names: Vec<_> = out.iter().map(|e| e.manager.as_str()).collect();
        assert_eq!(names, vec!["z", "b", "a"]);
        assert_eq!(out[1].fields.path_strings(), vec![".data.w", ".data.x"]);
        assert_eq!(out[1].time.as_deref(), Some("2024-01-02T00:00:00Z"));
    }

    #[test]
    fn bad_entries_are_rejected_and_empty_lists_removed() {
        let bad = json!({"metadata": {"managedFields": [{"manager": "x", "operation": "Patch"}]}});
        assert!(read_managed_fields(&bad).is_err());
        let mut obj = json!({"metadata": {"managedFields": real_managed_fields()}});
        write_managed_fields(&mut obj, Vec::new());
        assert_eq!(obj, json!({"metadata": {}}));
        assert!(!has_managed_fields(&obj));
    }
}
