//! Services and PersistentVolumeClaims: a LoadBalancer Service gets an
//! ingress IP (stable for its name), as a cloud load-balancer controller
//! would give it, and a claim binds once it is ready, reporting the storage
//! and access modes it asked for.

use super::{hash_of, set_status};
use crate::registry::ResourceType;
use crate::server::State;
use serde_json::{json, Value};
use std::sync::Arc;

pub(super) fn service(state: &mut State, rt: &Arc<ResourceType>, obj: &Value, name: &str) {
    if obj.pointer("/spec/type").and_then(Value::as_str) == Some("LoadBalancer") {
        let ip = format!("172.18.255.{}", 1 + hash_of(name) % 250);
        set_status(
            state,
            rt,
            obj,
            json!({"loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]}}),
        );
    }
}

pub(super) fn claim(state: &mut State, rt: &Arc<ResourceType>, obj: &Value, ready: bool) {
    if ready {
        let storage = obj
            .pointer("/spec/resources/requests/storage")
            .cloned()
            .unwrap_or(json!("1Gi"));
        let modes = obj
            .pointer("/spec/accessModes")
            .cloned()
            .unwrap_or(json!(["ReadWriteOnce"]));
        set_status(
            state,
            rt,
            obj,
            json!({"phase": "Bound", "accessModes": modes, "capacity": {"storage": storage}}),
        );
    }
}
