//! Whose an existing object is, before a sync writes it: this app's (it
//! carries the app's tracking label), another app's (never taken), or nobody's
//! that gitops-tui knows (taking it over is adoption: listed in every
//! preview with its current managers, refused without consent, recorded in
//! the inventory so prune releases it instead of deleting it).

use crate::cluster::{FIELD_MANAGER, TRACKING_LABEL};
use crate::sync::record::Adoption;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Owner {
    /// Carries this app's label.
    Ours,
    /// Carries another app's label: never taken.
    OtherApp(String),
    /// Exists without any app's label: taking it over is adoption.
    Unowned(Adoption),
}

pub(super) fn tracking_label(live: &Value) -> Option<&str> {
    live.pointer("/metadata/labels")
        .and_then(|l| l.get(TRACKING_LABEL))
        .and_then(Value::as_str)
}

pub(super) fn owner_of(app: &str, live: &Value) -> Owner {
    match tracking_label(live) {
        Some(a) if a == app => Owner::Ours,
        Some(other) => Owner::OtherApp(other.to_string()),
        None => Owner::Unowned(adoption_of(live)),
    }
}

/// The managers (with their operation) and labels an object has now.
fn adoption_of(live: &Value) -> Adoption {
    let mut managers: Vec<String> = live
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| {
                    let manager = e.get("manager").and_then(Value::as_str)?;
                    let op = e.get("operation").and_then(Value::as_str).unwrap_or("?");
                    Some(format!("{manager} ({op})"))
                })
                .collect()
        })
        .unwrap_or_default();
    managers.sort();
    managers.dedup();
    let labels: BTreeMap<String, String> = live
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Adoption { managers, labels }
}

/// Whether gitops-tui ever wrote the object (an entry of its field manager):
/// a label copied by hand onto someone else's object does not make it ours to
/// delete.
pub(super) fn written_by_us(live: &Value) -> bool {
    live.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .is_some_and(|entries| {
            entries
                .iter()
                .any(|e| e.get("manager").and_then(Value::as_str) == Some(FIELD_MANAGER))
        })
}

/// `managers: kubectl-client-side-apply (Update)`, or that there were none.
pub(super) fn describe_adoption(a: &Adoption) -> String {
    if a.managers.is_empty() {
        "exists, with no field managers recorded".into()
    } else {
        format!("exists, managed by {}", a.managers.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_label_decides_whose_an_object_is() {
        let ours = json!({"metadata": {"labels": {TRACKING_LABEL: "shop"}}});
        assert_eq!(owner_of("shop", &ours), Owner::Ours);
        assert_eq!(owner_of("billing", &ours), Owner::OtherApp("shop".into()));
        let theirs = json!({"metadata": {
        "labels": {"team": "a"},
        "managedFields": [
            {"manager": "kubectl-client-side-apply", "operation": "Update"},
            {"manager": "kubectl", "operation": "Apply"},
            {"manager": "kubectl-client-side-apply", "operation": "Update"},
        ]}});
        let Owner::Unowned(a) = owner_of("shop", &theirs) else {
            panic!("unlabelled objects are adoptions");
        };
        assert_eq!(
            a.managers,
            vec!["kubectl (Apply)", "kubectl-client-side-apply (Update)"]
        );
        assert_eq!(a.labels.get("team").map(String::as_str), Some("a"));
        assert_eq!(
            describe_adoption(&a),
            "exists, managed by kubectl (Apply), kubectl-client-side-apply (Update)"
        );
        assert!(!written_by_us(&theirs));
        let written = json!({"metadata": {"managedFields": [{"manager": FIELD_MANAGER, "operation": "Apply"}]}});
        assert!(written_by_us(&written));
    }
}
