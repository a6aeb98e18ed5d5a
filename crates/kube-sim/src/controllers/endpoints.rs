//! The endpoints and endpointslice controllers: for every Service with a
//! selector, an Endpoints object of the same name (ready Pods under
//! `addresses`, others under `notReadyAddresses`, target ports resolved by
//! number or container port name, subsets grouped by port set, the
//! Service's labels copied) and an EndpointSlice owned by the Service,
//! labelled `kubernetes.io/service-name`. Services without a selector keep
//! whatever Endpoints their users write.

use super::{find_type, hash_of, owner_ref, pod_phase, pod_ready, Key, BY_CONTROLLER};
use crate::commit::commit;
use crate::objects::meta_str;
use crate::server::State;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

const SLICE_MANAGER: &str = "endpointslice-controller.k8s.io";

/// One subset being built: ready addresses, not-ready ones, its ports.
type Subset = (Vec<Value>, Vec<Value>, Vec<Value>);

fn selector(svc: &Value) -> Option<&Map<String, Value>> {
    svc.pointer("/spec/selector")
        .and_then(Value::as_object)
        .filter(|s| !s.is_empty())
}

fn selects(selector: &Map<String, Value>, pod: &Value) -> bool {
    let labels = pod.pointer("/metadata/labels");
    selector
        .iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// The Services in `ns` whose selector matches the Pod now or before.
pub(super) fn services_selecting(
    state: &State,
    ns: &str,
    pod: &Value,
    old: Option<&Value>,
) -> Vec<Key> {
    let services = (String::new(), "services".to_string());
    state
        .store
        .list(&services, Some(ns))
        .iter()
        .filter(|svc| {
            selector(svc).is_some_and(|s| selects(s, pod) || old.is_some_and(|o| selects(s, o)))
        })
        .map(|svc| {
            (
                services.clone(),
                ns.to_string(),
                meta_str(svc, "name").unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// A Service port's target on one Pod: its number, or the container port
/// of that name (None when the Pod has no such port).
fn target_port(port: &Value, pod: &Value) -> Option<i64> {
    match port.get("targetPort") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok().or_else(|| {
            pod.pointer("/spec/containers")?
                .as_array()?
                .iter()
                .flat_map(|c| {
                    c.get("ports")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                })
                .find(|p| p.get("name").and_then(Value::as_str) == Some(s.as_str()))
                .and_then(|p| p.get("containerPort")?.as_i64())
        }),
        _ => port.get("port").and_then(Value::as_i64),
    }
}

fn address(pod: &Value) -> Value {
    let mut a = json!({"ip": pod.pointer("/status/podIP").cloned().unwrap_or(json!("")),
        "targetRef": {"kind": "Pod", "namespace": meta_str(pod, "namespace"), "name": meta_str(pod, "name"),
                      "uid": meta_str(pod, "uid")}});
    if let Some(n) = pod.pointer("/spec/nodeName") {
        a["nodeName"] = n.clone();
    }
    a
}

pub(super) fn endpoints(state: &mut State, svc: &Value) {
    let Some(sel) = selector(svc).cloned() else {
        return;
    };
    let ns = meta_str(svc, "namespace").unwrap_or("").to_string();
    let name = meta_str(svc, "name").unwrap_or("").to_string();
    let publish_not_ready = svc
        .pointer("/spec/publishNotReadyAddresses")
        .and_then(Value::as_bool)
        == Some(true);
    let mut pods: Vec<_> = state
        .store
        .list(&(String::new(), "pods".into()), Some(&ns))
        .into_iter()
        .filter(|p| selects(&sel, p))
        .filter(|p| meta_str(p, "deletionTimestamp").is_none())
        .filter(|p| !matches!(pod_phase(p), "Succeeded" | "Failed"))
        .filter(|p| {
            p.pointer("/status/podIP")
                .and_then(Value::as_str)
                .is_some_and(|ip| !ip.is_empty())
        })
        .collect();
    pods.sort_by_key(|p| {
        p.pointer("/status/podIP")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    });
    let ports: Vec<Value> = svc
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // Pods grouped by the ports they resolve to, as subsets are.
    let mut subsets: BTreeMap<String, Subset> = BTreeMap::new();
    let mut slice_endpoints = Vec::new();
    let mut slice_ports: Vec<Value> = Vec::new();
    for pod in &pods {
        let resolved: Vec<Value> = ports
            .iter()
            .filter_map(|p| {
                let mut e = json!({"port": target_port(p, pod)?,
                    "protocol": p.get("protocol").cloned().unwrap_or(json!("TCP"))});
                if let Some(n) = p
                    .get("name")
                    .filter(|n| n.as_str().is_some_and(|s| !s.is_empty()))
                {
                    e["name"] = n.clone();
                }
                if let Some(a) = p.get("appProtocol") {
                    e["appProtocol"] = a.clone();
                }
                Some(e)
            })
            .collect();
        if resolved.is_empty() && !ports.is_empty() {
            continue;
        }
        let ready = pod_ready(pod);
        let entry = subsets
            .entry(serde_json::to_string(&resolved).unwrap_or_default())
            .or_insert_with(|| (Vec::new(), Vec::new(), resolved.clone()));
        if ready || publish_not_ready {
            entry.0.push(address(pod));
        } else {
            entry.1.push(address(pod));
        }
        for p in &resolved {
            if !slice_ports.contains(p) {
                slice_ports.push(p.clone());
            }
        }
        let mut e = json!({"addresses": [pod.pointer("/status/podIP")],
            "conditions": {"ready": ready || publish_not_ready, "serving": ready, "terminating": false},
            "targetRef": address(pod)["targetRef"].clone()});
        if let Some(n) = pod.pointer("/spec/nodeName") {
            e["nodeName"] = n.clone();
        }
        slice_endpoints.push(e);
    }
    let subsets: Vec<Value> = subsets
        .into_values()
        .map(|(ready, not_ready, ports)| {
            let mut s = json!({});
            if !ready.is_empty() {
                s["addresses"] = json!(ready);
            }
            if !not_ready.is_empty() {
                s["notReadyAddresses"] = json!(not_ready);
            }
            if !ports.is_empty() {
                s["ports"] = json!(ports);
            }
            s
        })
        .collect();
    let labels = svc
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    if let Some(rt) = find_type(state, "", "endpoints") {
        let mut ep = json!({"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": name, "namespace": ns, "labels": labels}});
        if !subsets.is_empty() {
            ep["subsets"] = json!(subsets);
        }
        write(state, &rt, ep);
    }
    if let Some(rt) = find_type(state, "discovery.k8s.io", "endpointslices") {
        let mut slice_labels = labels.clone();
        if !slice_labels.is_object() {
            slice_labels = json!({});
        }
        slice_labels["kubernetes.io/service-name"] = json!(name);
        slice_labels["endpointslice.kubernetes.io/managed-by"] = json!(SLICE_MANAGER);
        let slice_name = format!(
            "{name}-{}",
            super::encode(hash_of(meta_str(svc, "uid").unwrap_or("")), 5)
        );
        let mut slice = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": slice_name, "namespace": ns, "labels": slice_labels,
                         "ownerReferences": [owner_ref(svc)]},
            "addressType": "IPv4", "endpoints": slice_endpoints});
        if !slice_ports.is_empty() {
            slice["ports"] = json!(slice_ports);
        }
        write(state, &rt, slice);
    }
}

/// Create `desired`, or replace the stored one's content with it (a write
/// that changes nothing is skipped by the commit).
fn write(state: &mut State, rt: &std::sync::Arc<crate::registry::ResourceType>, desired: Value) {
    let (ns, name) = crate::store::ns_name(&desired);
    let resource = (rt.group.clone(), rt.plural.clone());
    match state.store.get(&resource, &ns, &name) {
        Some(current) => {
            let mut new = desired;
            // Keep what others set on the metadata (annotations, finalizers).
            if let (Some(m), Some(old)) = (
                new["metadata"].as_object_mut(),
                current.get("metadata").and_then(Value::as_object),
            ) {
                for (k, v) in old {
                    if !m.contains_key(k) {
                        m.insert(k.clone(), v.clone());
                    }
                }
            }
            let same = ["subsets", "endpoints", "ports", "addressType"]
                .iter()
                .all(|f| current.get(*f) == new.get(*f))
                && current.pointer("/metadata/labels") == new.pointer("/metadata/labels");
            if !same {
                let _ = commit(state, rt, Some(current), new, false, BY_CONTROLLER);
            }
        }
        None => {
            let _ = commit(state, rt, None, desired, false, BY_CONTROLLER);
        }
    }
}

/// A Service is gone: so is its Endpoints object (its slices are owned and
/// garbage-collected).
pub(super) fn service_deleted(state: &mut State, ns: &str, name: &str) {
    let resource = (String::new(), "endpoints".to_string());
    if state.store.get(&resource, ns, name).is_some() {
        state.store.remove(&resource, ns, name);
    }
}
