//! The scheduler and kubelet for Pods: a Pod is scheduled to the one node,
//! gets an IP, and its containers go from `ContainerCreating` (or
//! `ImagePullBackOff` for an image tagged `broken`) to running once it is
//! ready, with the conditions, container statuses and Events a real kubelet
//! reports.

use super::{condition, has_broken_image, hash_of, set_status};
use crate::events::{record, Kind};
use crate::objects::{meta_str, now};
use crate::registry::ResourceType;
use crate::server::State;
use serde_json::{json, Value};
use std::sync::Arc;

const SCHEDULER: &str = "default-scheduler";
const KUBELET: &str = "kubelet";

pub(super) fn pod(state: &mut State, rt: &Arc<ResourceType>, obj: &Value, ready: bool) {
    let containers = obj
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let broken = has_broken_image(obj, rt);
    let statuses: Vec<Value> = containers
        .iter()
        .map(|c| {
            let image = c.get("image").cloned().unwrap_or(json!(""));
            let cname = c.get("name").cloned().unwrap_or(json!(""));
            let state = if ready {
                json!({"running": {"startedAt": now()}})
            } else if broken {
                json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image {image}")}})
            } else {
                json!({"waiting": {"reason": "ContainerCreating"}})
            };
            json!({"name": cname, "image": image, "imageID": "", "ready": ready, "started": ready, "restartCount": 0, "state": state})
        })
        .collect();
    // Keep the running state's start time stable across reconciles.
    let statuses = match obj.pointer("/status/containerStatuses") {
        Some(old)
            if ready
                && old
                    .as_array()
                    .is_some_and(|o| o.iter().all(|c| c["ready"] == json!(true))) =>
        {
            old.clone()
        }
        _ => json!(statuses),
    };
    pod_events(state, obj, &containers, broken, ready);
    let ready_s = if ready { "True" } else { "False" };
    let conditions = json!([
        condition(obj, "PodScheduled", "True", "", ""),
        condition(obj, "Initialized", "True", "", ""),
        condition(
            obj,
            "ContainersReady",
            ready_s,
            if ready { "" } else { "ContainersNotReady" },
            ""
        ),
        condition(
            obj,
            "Ready",
            ready_s,
            if ready { "" } else { "ContainersNotReady" },
            ""
        ),
    ]);
    let start = obj
        .pointer("/status/startTime")
        .cloned()
        .unwrap_or(json!(now()));
    let ip = format!(
        "10.244.0.{}",
        2 + hash_of(meta_str(obj, "name").unwrap_or("")) % 250
    );
    let phase = if ready || !broken {
        if ready {
            "Running"
        } else {
            "Pending"
        }
    } else {
        "Pending"
    };
    set_status(
        state,
        rt,
        obj,
        json!({
            "phase": phase, "conditions": conditions, "hostIP": "172.18.0.2", "podIP": ip, "podIPs": [{"ip": ip}],
            "startTime": start, "containerStatuses": statuses, "qosClass": obj.pointer("/status/qosClass").cloned().unwrap_or(json!("BestEffort")),
        }),
    );
}

/// The scheduler's and kubelet's Events for a Pod, once per transition: on
/// the first reconcile (no `startTime` yet) it is scheduled and its images
/// are pulled (or fail to pull); when it first turns ready its containers
/// are created and started.
fn pod_events(state: &mut State, obj: &Value, containers: &[Value], broken: bool, ready: bool) {
    let ns = meta_str(obj, "namespace").unwrap_or("");
    let name = meta_str(obj, "name").unwrap_or("");
    let image_of = |c: &Value| {
        c.get("image")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let broken_image = |image: &str| {
        image
            .rsplit_once(':')
            .is_some_and(|(_, tag)| tag == "broken")
    };
    if obj.pointer("/status/startTime").is_none() {
        let message = format!(
            "Successfully assigned {ns}/{name} to {}",
            crate::events::NODE
        );
        record(state, obj, Kind::Normal, "Scheduled", &message, SCHEDULER);
        for c in containers {
            let image = image_of(c);
            let message = format!("Pulling image \"{image}\"");
            record(state, obj, Kind::Normal, "Pulling", &message, KUBELET);
            if broken && broken_image(&image) {
                let message = format!(
                    "Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": not found"
                );
                record(state, obj, Kind::Warning, "Failed", &message, KUBELET);
                let message = format!("Back-off pulling image \"{image}\"");
                record(state, obj, Kind::Warning, "BackOff", &message, KUBELET);
            }
        }
    }
    let was_ready = obj
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .is_some_and(|o| !o.is_empty() && o.iter().all(|c| c["ready"] == json!(true)));
    if ready && !was_ready {
        for c in containers {
            let image = image_of(c);
            let cname = c.get("name").and_then(Value::as_str).unwrap_or("");
            let message = format!("Successfully pulled image \"{image}\"");
            record(state, obj, Kind::Normal, "Pulled", &message, KUBELET);
            let message = format!("Created container: {cname}");
            record(state, obj, Kind::Normal, "Created", &message, KUBELET);
            let message = format!("Started container {cname}");
            record(state, obj, Kind::Normal, "Started", &message, KUBELET);
        }
    }
}
