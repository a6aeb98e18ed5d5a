//! Normalisation: bring a desired and a live object to a form where only real
//! differences remain.
//!
//! Three kinds of difference are not drift and are removed here: fields the
//! server or controllers write about an object rather than into it (`status`,
//! managedFields, resourceVersion, ...), our own tracking label, and equal
//! values written differently. For the last we are deliberately conservative
//! and only treat as equal what Kubernetes itself treats as equal:
//!
//! - integral floats and integers (`3.0` vs `3`): JSON numbers, one value;
//! - quantities in resource fields (`500m` vs `0.5`, `1Gi` vs `1024Mi`), which
//!   the server canonicalises on write;
//! - digit strings and integers in int-or-string fields (`targetPort: "8080"`
//!   vs `8080`, `maxSurge`, probe ports, PDB `minAvailable`...);
//! - `null` and an absent field (apply treats `null` as "unset"; the server
//!   prints `creationTimestamp: null` inside pod templates).
//!
//! `true` vs `"true"` is *not* equal: the server rejects one or the other, so a
//! manifest that differs that way really differs.

use base64::Engine;
use serde_json::{Map, Value};

use super::quantity::Quantity;

/// Metadata fields the server maintains; never drift.
const NOISY_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// Annotations controllers and client tools add to objects.
const CONTROLLER_ANNOTATIONS: &[&str] = &["deployment.kubernetes.io/revision"];

/// Written by `kubectl apply` (client side); holds the whole last applied
/// object, Secret values included. Noise unless the manifest itself sets it.
pub use crate::model::LAST_APPLIED;

/// Fields whose map values are Kubernetes quantities.
const QUANTITY_MAPS: &[&str] = &["requests", "limits", "capacity", "hard", "overhead"];
/// Fields that are quantities themselves.
const QUANTITY_FIELDS: &[&str] = &["sizeLimit"];
/// Int-or-string fields (where `"8080"` and `8080` name the same thing).
const INT_OR_STRING_FIELDS: &[&str] = &[
    "targetPort",
    "port",
    "maxSurge",
    "maxUnavailable",
    "minAvailable",
    "servicePort",
];

/// The API group of an object, from its apiVersion (`apps/v1` → `apps`, `v1` → "").
pub fn group_of(obj: &Value) -> &str {
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

pub fn kind_of(obj: &Value) -> &str {
    obj.get("kind").and_then(Value::as_str).unwrap_or("")
}

pub fn is_secret(obj: &Value) -> bool {
    group_of(obj).is_empty() && kind_of(obj) == "Secret"
}

/// Removes server-maintained fields, controller annotations, the tracking
/// label and (unless `keep_last_applied`) the last-applied annotation, then
/// drops nulls and empty label/annotation maps left behind.
pub fn strip_noise(obj: &mut Value, tracking_label: &str, keep_last_applied: bool) {
    if let Some(map) = obj.as_object_mut() {
        map.shift_remove("status");
    }
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in NOISY_METADATA {
            meta.shift_remove(*field);
        }
        if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            for a in CONTROLLER_ANNOTATIONS {
                annotations.shift_remove(*a);
            }
            if !keep_last_applied {
                annotations.shift_remove(LAST_APPLIED);
            }
        }
        if let Some(labels) = meta.get_mut("labels").and_then(Value::as_object_mut) {
            labels.shift_remove(tracking_label);
        }
    }
    tidy_metadata(obj);
    drop_nulls(obj);
    canonical_numbers(obj);
}

/// Drops labels and annotations maps left empty by removals, so an object
/// that lost its last annotation to noise or an ignore rule compares equal to
/// one that never had any.
pub fn tidy_metadata(obj: &mut Value) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in ["annotations", "labels"] {
            if meta
                .get(field)
                .and_then(Value::as_object)
                .is_some_and(Map::is_empty)
            {
                meta.shift_remove(field);
            }
        }
    }
}

/// Whether `obj` carries the last-applied annotation.
pub fn has_last_applied(obj: &Value) -> bool {
    obj.pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .is_some_and(|a| a.contains_key(LAST_APPLIED))
}

fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// Integral floats become integers, so `3.0` and `3` print and compare alike.
fn canonical_numbers(value: &mut Value) {
    match value {
        Value::Object(map) => map.values_mut().for_each(canonical_numbers),
        Value::Array(items) => items.iter_mut().for_each(canonical_numbers),
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64() {
                // Exactly representable integers only; 2^53 bounds that for f64.
                if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
                    *value = Value::from(f as i64);
                }
            }
        }
        _ => {}
    }
}

/// Folds a Secret's `stringData` into `data` as base64, as the API server does
/// on write (stringData wins over data for the same key), so a manifest using
/// stringData compares with the live object, which only ever has data.
pub fn merge_string_data(obj: &mut Value) {
    if !is_secret(obj) {
        return;
    }
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    let Some(Value::Object(string_data)) = map.shift_remove("stringData") else {
        return;
    };
    let data = map
        .entry("data")
        .or_insert_with(|| Value::Object(Map::new()));
    if !data.is_object() {
        *data = Value::Object(Map::new());
    }
    if let Some(data) = data.as_object_mut() {
        for (key, value) in string_data {
            let text = match value {
                Value::String(s) => s,
                other => other.to_string(),
            };
            let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
            data.insert(key, Value::String(encoded));
        }
    }
}

/// Walks `target` and `reference` together and, wherever a leaf of `target`
/// equals the reference's leaf in value but not in spelling, rewrites it in the
/// reference's spelling. Afterwards plain equality (and the text diff) sees
/// only real differences.
pub fn align(target: &mut Value, reference: &Value) {
    align_at(target, reference, None, None);
}

fn align_at(target: &mut Value, reference: &Value, field: Option<&str>, parent: Option<&str>) {
    match (target, reference) {
        (Value::Object(t), Value::Object(r)) => {
            for (name, value) in t.iter_mut() {
                if let Some(rv) = r.get(name) {
                    align_at(value, rv, Some(name), field);
                }
            }
        }
        (Value::Array(t), Value::Array(r)) => {
            let by_name = t.iter().chain(r.iter()).all(|i| i.get("name").is_some());
            for (index, item) in t.iter_mut().enumerate() {
                let counterpart = if by_name {
                    r.iter().find(|ri| ri.get("name") == item.get("name"))
                } else {
                    r.get(index)
                };
                if let Some(ri) = counterpart {
                    // List items share their list's field name for the rules below.
                    align_at(item, ri, field, parent);
                }
            }
        }
        (t, r) => {
            if t != r && equivalent_leaves(t, r, field, parent) {
                *t = r.clone();
            }
        }
    }
}

/// The rules of the module docs, for two leaves at the same path.
fn equivalent_leaves(a: &Value, b: &Value, field: Option<&str>, parent: Option<&str>) -> bool {
    let is_quantity = parent.is_some_and(|p| QUANTITY_MAPS.contains(&p))
        || field.is_some_and(|f| QUANTITY_FIELDS.contains(&f));
    if is_quantity {
        if let (Some(qa), Some(qb)) = (Quantity::from_value(a), Quantity::from_value(b)) {
            return qa == qb;
        }
    }
    if field.is_some_and(|f| INT_OR_STRING_FIELDS.contains(&f)) {
        return match (a, b) {
            (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => {
                n.as_i64().is_some_and(|n| s.parse::<i64>() == Ok(n))
                    && s.bytes().all(|c| c.is_ascii_digit())
            }
            _ => false,
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strips_noise_but_keeps_content() {
        let mut obj = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {
                "name": "web", "namespace": "default", "uid": "u", "resourceVersion": "7",
                "generation": 2, "creationTimestamp": "2024-01-01T00:00:00Z",
                "managedFields": [], "selfLink": "/x",
                "labels": {"app": "web", "gitops-tui.dev/app": "demo"},
                "annotations": {"deployment.kubernetes.io/revision": "3", LAST_APPLIED: "{}"}
            },
            "spec": {"replicas": 2.0, "template": {"metadata": {"creationTimestamp": null}}},
            "status": {"replicas": 2}
        });
        strip_noise(&mut obj, "gitops-tui.dev/app", false);
        assert_eq!(
            obj,
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
                "spec": {"replicas": 2, "template": {"metadata": {}}}
            })
        );
    }

    #[test]
    fn keeps_last_applied_when_asked() {
        let mut obj = json!({"metadata": {"annotations": {LAST_APPLIED: "{}"}}});
        strip_noise(&mut obj, "t", true);
        assert!(has_last_applied(&obj));
    }

    #[test]
    fn string_data_becomes_base64_data() {
        let mut secret = json!({"apiVersion": "v1", "kind": "Secret",
            "data": {"a": "eA=="}, "stringData": {"b": "hunter2", "a": "y"}});
        merge_string_data(&mut secret);
        assert_eq!(
            secret,
            json!({"apiVersion": "v1", "kind": "Secret", "data": {"a": "eQ==", "b": "aHVudGVyMg=="}})
        );
        // Not a core Secret: left alone.
        let mut other =
            json!({"apiVersion": "example.com/v1", "kind": "Secret", "stringData": {"b": "x"}});
        let before = other.clone();
        merge_string_data(&mut other);
        assert_eq!(other, before);
    }

    #[test]
    fn aligns_equal_values_written_differently() {
        let mut desired = json!({"spec": {
            "ports": [{"port": 80, "targetPort": "8080"}],
            "strategy": {"rollingUpdate": {"maxSurge": "1"}},
            "containers": [{"name": "web", "resources": {
                "requests": {"cpu": 0.5, "memory": "1024Mi"},
                "limits": {"cpu": "2", "memory": "2Gi"}}}]
        }});
        let live = json!({"spec": {
            "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}],
            "strategy": {"rollingUpdate": {"maxSurge": 1}},
            "containers": [{"name": "web", "resources": {
                "requests": {"cpu": "500m", "memory": "1Gi"},
                "limits": {"cpu": "3", "memory": "2Gi"}}}]
        }});
        align(&mut desired, &live);
        assert_eq!(desired["spec"]["ports"][0]["targetPort"], 8080);
        assert_eq!(desired["spec"]["strategy"]["rollingUpdate"]["maxSurge"], 1);
        let requests = &desired["spec"]["containers"][0]["resources"]["requests"];
        assert_eq!(requests, &json!({"cpu": "500m", "memory": "1Gi"}));
        // A real change stays a change.
        assert_eq!(
            desired["spec"]["containers"][0]["resources"]["limits"]["cpu"],
            "2"
        );
    }

    #[test]
    fn conservative_outside_known_fields() {
        let mut desired =
            json!({"data": {"enabled": "true", "count": "1"}, "spec": {"value": "500m"}});
        let live = json!({"data": {"enabled": true, "count": 1}, "spec": {"value": "0.5"}});
        let before = desired.clone();
        align(&mut desired, &live);
        assert_eq!(desired, before);
        // Percentages are strings on both sides; "25%" never equals a number.
        let mut surge = json!({"maxSurge": "25%"});
        align(&mut surge, &json!({"maxSurge": 25}));
        assert_eq!(surge["maxSurge"], "25%");
    }

    #[test]
    fn group_from_api_version() {
        assert_eq!(group_of(&json!({"apiVersion": "apps/v1"})), "apps");
        assert_eq!(group_of(&json!({"apiVersion": "v1"})), "");
        assert!(is_secret(&json!({"apiVersion": "v1", "kind": "Secret"})));
    }
}
