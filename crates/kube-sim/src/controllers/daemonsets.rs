//! The DaemonSet controller: one Pod per schedulable node (see
//! [`super::nodes`]), bound to it; a template change replaces Pods one
//! `maxUnavailable` at a time (RollingUpdate) or only when deleted
//! (OnDelete), with ControllerRevisions and the status counts upstream
//! reports.

use super::{
    create_pod, delete_pod, generation, nodes, owned_pods, pod_ready, revisions, set_status, Run,
};
use crate::events::{record, Kind};
use crate::objects::meta_str;
use crate::registry::ResourceType;
use serde_json::{json, Value};
use std::sync::Arc;

const DAEMONSETS: &str = "daemonset-controller";
const REVISION_LABEL: &str = "controller-revision-hash";

fn revision_hash(pod: &Value) -> &str {
    pod.pointer("/metadata/labels")
        .and_then(|l| l.get(REVISION_LABEL))
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub(super) fn daemon_set(run: &mut Run, rt: &Arc<ResourceType>, ds: &Value) {
    let name = meta_str(ds, "name").unwrap_or("").to_string();
    let (revision_name, _) = revisions::ensure(run.state, ds);
    let hash = revision_name
        .strip_prefix(&format!("{name}-"))
        .unwrap_or(&revision_name)
        .to_string();
    let nodes = nodes::all(run.state);
    let pods = owned_pods(run.state, ds);
    let node_of = |p: &Value| {
        p.pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    // Pods on nodes that are gone, and duplicates, go.
    let mut kept: Vec<Arc<Value>> = Vec::new();
    for p in pods {
        let node = node_of(&p);
        if nodes.iter().any(|n| n.name == node) && !kept.iter().any(|k| node_of(k) == node) {
            kept.push(p);
        } else if delete_pod(run.state, &p) {
            let message = format!("Deleted pod: {}", meta_str(&p, "name").unwrap_or(""));
            record(
                run.state,
                ds,
                Kind::Normal,
                "SuccessfulDelete",
                &message,
                DAEMONSETS,
            );
        }
    }
    let template = ds.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let labels = [
        (REVISION_LABEL, hash.clone()),
        ("pod-template-generation", generation(ds).to_string()),
    ];
    for node in &nodes {
        if kept.iter().any(|p| node_of(p) == node.name) {
            continue;
        }
        let pod_name =
            super::generated_pod_name(run.state, meta_str(ds, "namespace").unwrap_or(""), &name);
        if let Some(p) = create_pod(
            run.state,
            ds,
            &pod_name,
            &template,
            &labels,
            Some(&node.name),
        ) {
            record(
                run.state,
                ds,
                Kind::Normal,
                "SuccessfulCreate",
                &format!("Created pod: {pod_name}"),
                DAEMONSETS,
            );
            kept.push(p);
        }
    }
    let rolling = ds
        .pointer("/spec/updateStrategy/type")
        .and_then(Value::as_str)
        != Some("OnDelete");
    let max_unavailable = ds
        .pointer("/spec/updateStrategy/rollingUpdate/maxUnavailable")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(1) as usize;
    let unavailable = kept.iter().filter(|p| !pod_ready(p)).count();
    if rolling && unavailable < max_unavailable {
        let outdated: Vec<&Arc<Value>> = kept.iter().filter(|p| revision_hash(p) != hash).collect();
        for p in outdated.into_iter().take(max_unavailable - unavailable) {
            if delete_pod(run.state, p) {
                let message = format!("Deleted pod: {}", meta_str(p, "name").unwrap_or(""));
                record(
                    run.state,
                    ds,
                    Kind::Normal,
                    "SuccessfulDelete",
                    &message,
                    DAEMONSETS,
                );
            }
        }
    }
    let pods = owned_pods(run.state, ds);
    let ready = pods.iter().filter(|p| pod_ready(p)).count();
    let updated = pods.iter().filter(|p| revision_hash(p) == hash).count();
    let mut status = json!({"observedGeneration": generation(ds), "desiredNumberScheduled": nodes.len(),
        "currentNumberScheduled": pods.len(), "numberMisscheduled": 0, "numberReady": ready,
        "numberAvailable": ready, "updatedNumberScheduled": updated});
    if nodes.len() > ready {
        status["numberUnavailable"] = json!(nodes.len() - ready);
    }
    if ready == 0 {
        if let Some(m) = status.as_object_mut() {
            m.remove("numberAvailable");
        }
    }
    set_status(run.state, rt, ds, status);
}
