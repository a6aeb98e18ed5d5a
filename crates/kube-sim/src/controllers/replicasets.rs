//! The ReplicaSet controller: creates or deletes Pods (with
//! ownerReferences, bound to a node) until it has `spec.replicas`, deleting
//! the least useful first (not ready before ready, newest first), records
//! the Events the real controller does, and reports how many of its Pods
//! are ready and available (ready for `minReadySeconds`).

use super::{create_pod, delete_pod, generation, owned_pods, pod_ready, replicas, set_status, Run};
use crate::events::{record, Kind};
use crate::objects::meta_str;
use crate::registry::ResourceType;
use serde_json::{json, Value};
use std::sync::Arc;

const REPLICA_SETS: &str = "replicaset-controller";

pub(super) fn replica_set(run: &mut Run, rt: &Arc<ResourceType>, obj: &Value) {
    let mut pods = owned_pods(run.state, obj);
    let want = usize::try_from(replicas(obj)).unwrap_or(0);
    if pods.len() > want {
        // Not ready first, then the newest.
        pods.sort_by_key(|p| {
            (
                pod_ready(p),
                std::cmp::Reverse(meta_str(p, "creationTimestamp").unwrap_or("").to_string()),
            )
        });
        let extra = pods.len() - want;
        for p in pods.drain(..extra) {
            if delete_pod(run.state, &p) {
                let message = format!("Deleted pod: {}", meta_str(&p, "name").unwrap_or(""));
                record(
                    run.state,
                    obj,
                    Kind::Normal,
                    "SuccessfulDelete",
                    &message,
                    REPLICA_SETS,
                );
            }
        }
    }
    let rs_name = meta_str(obj, "name").unwrap_or("").to_string();
    let ns = meta_str(obj, "namespace").unwrap_or("").to_string();
    let template = obj.pointer("/spec/template").cloned().unwrap_or(json!({}));
    while pods.len() < want {
        let name = super::generated_pod_name(run.state, &ns, &rs_name);
        match create_pod(run.state, obj, &name, &template, &[], None) {
            Some(p) => {
                let message = format!("Created pod: {name}");
                record(
                    run.state,
                    obj,
                    Kind::Normal,
                    "SuccessfulCreate",
                    &message,
                    REPLICA_SETS,
                );
                pods.push(p);
            }
            None => break,
        }
    }
    let ready = pods.iter().filter(|p| pod_ready(p)).count();
    let min_ready = obj
        .pointer("/spec/minReadySeconds")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let available = pods.iter().filter(|p| available_for(p, min_ready)).count();
    if min_ready > 0 && available < ready {
        run.wake_at(run.now + std::time::Duration::from_secs(1));
    }
    let mut status = json!({"replicas": pods.len(), "fullyLabeledReplicas": pods.len(),
        "readyReplicas": ready, "availableReplicas": available,
        "observedGeneration": generation(obj)});
    // The API leaves zero counts out.
    if let Some(m) = status.as_object_mut() {
        m.retain(|k, v| k == "replicas" || k == "observedGeneration" || v != &json!(0));
    }
    set_status(run.state, rt, obj, status);
}

/// Ready, and for at least `min_ready` seconds.
pub(super) fn available_for(pod: &Value, min_ready: u64) -> bool {
    if !pod_ready(pod) {
        return false;
    }
    if min_ready == 0 {
        return true;
    }
    super::find_condition(pod, "Ready")
        .and_then(|c| c.get("lastTransitionTime"))
        .and_then(Value::as_str)
        .is_some_and(|t| crate::objects::age_seconds(t) >= min_ready)
}
