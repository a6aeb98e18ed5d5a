//! The StatefulSet, DaemonSet and Job controllers, as status only: a
//! StatefulSet reports its replicas ready, a DaemonSet its one node's pod,
//! and a Job completes (one succeeded pod) once it is ready. No Pods are
//! created for them.

use super::{condition, replica_counts, replicas, set_status};
use crate::objects::now;
use crate::registry::ResourceType;
use crate::server::State;
use serde_json::{json, Value};
use std::sync::Arc;

pub(super) fn stateful_set(state: &mut State, rt: &Arc<ResourceType>, obj: &Value, ready: bool) {
    let n = replicas(obj);
    let mut s = replica_counts(obj, n, ready);
    s["currentReplicas"] = json!(n);
    s["collisionCount"] = json!(0);
    set_status(state, rt, obj, s);
}

pub(super) fn daemon_set(
    state: &mut State,
    rt: &Arc<ResourceType>,
    obj: &Value,
    generation: i64,
    ready: bool,
) {
    let r = i64::from(ready);
    set_status(
        state,
        rt,
        obj,
        json!({
            "observedGeneration": generation, "desiredNumberScheduled": 1, "currentNumberScheduled": 1,
            "numberMisscheduled": 0, "updatedNumberScheduled": 1, "numberReady": r, "numberAvailable": r,
        }),
    );
}

pub(super) fn job(state: &mut State, rt: &Arc<ResourceType>, obj: &Value, ready: bool) {
    let start = obj
        .pointer("/status/startTime")
        .cloned()
        .unwrap_or(json!(now()));
    let status = if ready {
        let done = obj
            .pointer("/status/completionTime")
            .cloned()
            .unwrap_or(json!(now()));
        json!({"startTime": start, "completionTime": done, "succeeded": 1, "ready": 0, "terminating": 0,
        "uncountedTerminatedPods": {},
        "conditions": [
            condition(obj, "SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods"),
            condition(obj, "Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods"),
        ]})
    } else {
        json!({"startTime": start, "active": 1, "ready": 0, "terminating": 0, "uncountedTerminatedPods": {}})
    };
    set_status(state, rt, obj, status);
}
