//! Whose an existing object is, before a sync writes it: this app's (it
//! carries the app's tracking label), another app's (never taken), or nobody's
//! that gitops-tui knows (taking it over is adoption: listed in every
//! preview with its current managers, refused without consent, recorded in
//! the inventory so prune releases it instead of deleting it).

use super::sync::ResourceResult;
use crate::cluster::{FIELD_MANAGER, TRACKING_LABEL};
use crate::model::ResourceKey;
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

/// A sync stopped before anything was written, and why.
#[derive(Debug)]
pub(super) struct Refused {
    pub message: String,
    pub resources: Vec<ResourceResult>,
}

/// The gate before a sync writes anything: refused when an object belongs
/// to another app (always) or would be adopted without consent (unless it is
/// a dry run, which lists adoptions); else the objects this sync adopts.
pub(super) fn gate(
    app: &str,
    owners: Vec<(ResourceKey, Owner)>,
    adopt: bool,
    dry_run: bool,
) -> Result<BTreeMap<ResourceKey, Adoption>, Refused> {
    let refusal = |key: &ResourceKey, action: &str, message: String| ResourceResult {
        key: key.clone(),
        action: action.into(),
        message,
        warnings: vec![],
    };
    let taken: Vec<ResourceResult> = owners
        .iter()
        .filter_map(|(key, owner)| match owner {
            Owner::OtherApp(other) => Some(refusal(
                key,
                "failed",
                format!(
                    "belongs to app {other} (label {TRACKING_LABEL}={other}), not to {app}: an object is never taken from another app"
                ),
            )),
            _ => None,
        })
        .collect();
    if !taken.is_empty() {
        return Err(Refused {
            message: format!(
                "{} object(s) belong to another app: nothing was applied",
                taken.len()
            ),
            resources: taken,
        });
    }
    let adoptions: BTreeMap<ResourceKey, Adoption> = owners
        .into_iter()
        .filter_map(|(key, owner)| match owner {
            Owner::Unowned(a) => Some((key, a)),
            _ => None,
        })
        .collect();
    if !adoptions.is_empty() && !adopt && !dry_run {
        return Err(Refused {
            message: format!(
                "{} existing object(s) were not created by this app and would be adopted: nothing was applied (review with --dry-run, then --adopt)",
                adoptions.len()
            ),
            resources: adoptions
                .iter()
                .map(|(key, a)| {
                    refusal(
                        key,
                        "refused",
                        format!(
                            "{}, not created by this app; --adopt takes it over",
                            describe_adoption(a)
                        ),
                    )
                })
                .collect(),
        });
    }
    Ok(adoptions)
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

    #[test]
    fn the_gate_refuses_another_apps_object_always_and_adoption_without_consent() {
        let key = |name: &str| ResourceKey {
            group: String::new(),
            kind: "ConfigMap".into(),
            namespace: Some("web".into()),
            name: name.into(),
        };
        let theirs = Owner::Unowned(Adoption {
            managers: vec!["kubectl-create (Update)".into()],
            labels: BTreeMap::new(),
        });
        let owners = || vec![(key("ours"), Owner::Ours), (key("theirs"), theirs.clone())];
        let refused = gate("web", owners(), false, false).expect_err("no consent");
        assert_eq!(refused.resources.len(), 1);
        assert_eq!(refused.resources[0].action, "refused");
        assert!(refused.resources[0]
            .message
            .contains("kubectl-create (Update)"));
        for (adopt, dry_run) in [(true, false), (false, true)] {
            let adopted = gate("web", owners(), adopt, dry_run).expect("allowed");
            assert_eq!(
                adopted.keys().map(|k| k.name.as_str()).collect::<Vec<_>>(),
                ["theirs"]
            );
        }
        let mut with_other = owners();
        with_other.push((key("api-cm"), Owner::OtherApp("api".into())));
        for (adopt, dry_run) in [(false, false), (true, false), (true, true)] {
            let refused = gate("web", with_other.clone(), adopt, dry_run).expect_err("never");
            assert_eq!(refused.resources.len(), 1);
            assert!(refused.resources[0].message.contains("belongs to app api"));
            assert!(refused.resources[0].message.contains("not to web"));
        }
    }
}
