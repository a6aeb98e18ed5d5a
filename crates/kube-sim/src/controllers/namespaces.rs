//! The namespace controller's deletion half: a Namespace marked for
//! deletion is Terminating; every object in it is deleted (Background,
//! finalizers honoured, so an object with a finalizer stays until it is
//! cleared), the status carries the controller's conditions
//! (`NamespaceContentRemaining`, `NamespaceFinalizersRemaining`, ...), and
//! once nothing is left the `kubernetes` finalizer is removed and the
//! Namespace goes. Creating in it meanwhile is refused (see `commit`).

use super::{Key, Run};
use crate::objects::{finalizers, meta_str, now};
use crate::registry::ResourceType;
use crate::server::State;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The Namespace `ns` if it is being deleted.
pub(super) fn terminating(state: &State, ns: &str) -> Option<Key> {
    let resource = (String::new(), "namespaces".to_string());
    let obj = state.store.get(&resource, "", ns)?;
    meta_str(&obj, "deletionTimestamp").map(|_| (resource, String::new(), ns.to_string()))
}

fn cond(old: &Value, kind: &str, status: &str, reason: &str, message: &str) -> Value {
    let transition = super::find_condition(old, kind)
        .filter(|c| c["status"] == status && c["reason"] == reason)
        .and_then(|c| c.get("lastTransitionTime").cloned())
        .unwrap_or(json!(now()));
    json!({"type": kind, "status": status, "lastTransitionTime": transition, "reason": reason, "message": message})
}

pub(super) fn namespace(run: &mut Run, rt: &Arc<ResourceType>, ns_obj: &Value) {
    if meta_str(ns_obj, "deletionTimestamp").is_none() {
        return;
    }
    let ns = meta_str(ns_obj, "name").unwrap_or("").to_string();
    let types: Vec<Arc<ResourceType>> = run
        .state
        .registry
        .all()
        .iter()
        .filter(|t| t.namespaced)
        .cloned()
        .collect();
    // Delete what is there; count what stays (waiting on finalizers).
    let mut remaining: BTreeMap<String, usize> = BTreeMap::new();
    let mut pending_finalizers: BTreeMap<String, usize> = BTreeMap::new();
    for t in &types {
        let resource = (t.group.clone(), t.plural.clone());
        for obj in run.state.store.list(&resource, Some(&ns)) {
            if meta_str(&obj, "deletionTimestamp").is_none() {
                crate::deletes::delete_in_namespace(run.state, t, &obj);
            }
        }
        for obj in run.state.store.list(&resource, Some(&ns)) {
            *remaining
                .entry(format!("{}.{}", t.plural, t.group))
                .or_default() += 1;
            for f in finalizers(&obj) {
                *pending_finalizers.entry(f).or_default() += 1;
            }
        }
    }
    let old = ns_obj;
    let mut conditions = vec![
        cond(
            old,
            "NamespaceDeletionDiscoveryFailure",
            "False",
            "ResourcesDiscovered",
            "All resources successfully discovered",
        ),
        cond(
            old,
            "NamespaceDeletionGroupVersionParsingFailure",
            "False",
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed",
        ),
        cond(
            old,
            "NamespaceDeletionContentFailure",
            "False",
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization",
        ),
    ];
    if remaining.is_empty() {
        conditions.push(cond(
            old,
            "NamespaceContentRemaining",
            "False",
            "ContentRemoved",
            "All content successfully removed",
        ));
        conditions.push(cond(
            old,
            "NamespaceFinalizersRemaining",
            "False",
            "ContentHasNoFinalizers",
            "All content-preserving finalizers finished",
        ));
    } else {
        let list: Vec<String> = remaining
            .iter()
            .map(|(r, n)| format!("{r} has {n} resource instances"))
            .collect();
        conditions.push(cond(
            old,
            "NamespaceContentRemaining",
            "True",
            "SomeResourcesRemain",
            &format!("Some resources are remaining: {}", list.join(", ")),
        ));
        if pending_finalizers.is_empty() {
            conditions.push(cond(
                old,
                "NamespaceFinalizersRemaining",
                "False",
                "ContentHasNoFinalizers",
                "All content-preserving finalizers finished",
            ));
        } else {
            let list: Vec<String> = pending_finalizers
                .iter()
                .map(|(f, n)| format!("{f} in {n} resource instances"))
                .collect();
            conditions.push(cond(
                old,
                "NamespaceFinalizersRemaining",
                "True",
                "SomeFinalizersRemain",
                &format!(
                    "Some content in the namespace has finalizers remaining: {}",
                    list.join(", ")
                ),
            ));
        }
    }
    let resource = (rt.group.clone(), rt.plural.clone());
    let Some(current) = run.state.store.get(&resource, "", &ns) else {
        return;
    };
    let mut updated = (*current).clone();
    updated["status"] = json!({"phase": "Terminating", "conditions": conditions});
    if remaining.is_empty() {
        // The `kubernetes` finalizer is done.
        let rest: Vec<Value> = updated
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .map(|f| {
                f.iter()
                    .filter(|x| x.as_str() != Some("kubernetes"))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        updated["spec"]["finalizers"] = json!(rest);
        if rest.is_empty() && finalizers(&updated).is_empty() {
            if run.state.store.remove(&resource, "", &ns).is_some() {
                crate::deletes::after_removal(run.state, rt, &current);
            }
            return;
        }
    }
    if *current != updated {
        run.state.store.put(&resource, updated);
    }
}
