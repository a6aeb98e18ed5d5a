//! Simulated controllers, so health is real to the client.
//!
//! Deployments get a ReplicaSet per pod template and the ReplicaSets get
//! Pods (with ownerReferences, so clients see the usual tree); every workload's
//! status converges to ready `ready_after` after its spec last changed. An
//! image tagged `broken` never becomes ready, and its Deployment reports
//! `ProgressDeadlineExceeded` once `progressDeadlineSeconds` have passed.
//! Jobs complete, LoadBalancer Services get an ingress IP, claims bind.

mod deployments;
mod pods;
mod services;
mod workloads;

use crate::commit::{commit, Tracking};
use crate::objects::{meta_str, now};
use crate::registry::ResourceType;
use crate::server::{Shared, State};
use crate::store::{Event, EventType, GroupResource};
use serde_json::{json, Value};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

const MANAGER: &str = "kube-controller-manager";

type Key = (GroupResource, String, String);

struct Controllers {
    shared: Arc<Shared>,
    /// When each object's current generation was first seen.
    started: HashMap<Key, (i64, Instant)>,
    timers: BTreeMap<Instant, Vec<Key>>,
}

fn watched(resource: &GroupResource) -> bool {
    matches!(
        (resource.0.as_str(), resource.1.as_str()),
        (
            "apps",
            "deployments" | "replicasets" | "statefulsets" | "daemonsets"
        ) | ("batch", "jobs")
            | ("", "pods" | "services" | "persistentvolumeclaims")
    )
}

pub async fn run(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let mut rx = shared.lock().store.subscribe();
    let mut c = Controllers {
        shared,
        started: HashMap::new(),
        timers: BTreeMap::new(),
    };
    c.reconcile_all();
    loop {
        let next = c.timers.keys().next().copied();
        let timer = async move {
            match next {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            received = rx.recv() => match received {
                Ok(event) => c.on_event(&event),
                Err(broadcast::error::RecvError::Lagged(_)) => c.reconcile_all(),
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = timer => {
                let now = Instant::now();
                let due: Vec<Instant> = c.timers.range(..=now).map(|(t, _)| *t).collect();
                for t in due {
                    for key in c.timers.remove(&t).unwrap_or_default() {
                        c.reconcile(&key);
                    }
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}

impl Controllers {
    fn on_event(&mut self, event: &Event) {
        if !watched(&event.resource) {
            return;
        }
        let key = (
            event.resource.clone(),
            event.namespace.clone(),
            event.name.clone(),
        );
        if event.kind == EventType::Deleted {
            self.started.remove(&key);
            // A ReplicaSet replaces a Pod that was deleted under it.
            if let Some(owner) = deployments::replica_set_owner(&event.object) {
                self.reconcile(&(
                    (String::from("apps"), String::from("replicasets")),
                    event.namespace.clone(),
                    owner,
                ));
            }
            return;
        }
        self.reconcile(&key);
    }

    fn reconcile_all(&mut self) {
        let keys: Vec<Key> = {
            let state = self.shared.lock();
            state
                .store
                .all()
                .into_iter()
                .filter(|(r, _)| watched(r))
                .map(|(r, o)| {
                    let (ns, name) = crate::store::ns_name(&o);
                    (r, ns, name)
                })
                .collect()
        };
        for key in keys {
            self.reconcile(&key);
        }
    }

    fn reconcile(&mut self, key: &Key) {
        let ready_after = self.shared.settings.ready_after;
        let mut state = self.shared.lock();
        let Some(obj) = state.store.get(&key.0, &key.1, &key.2) else {
            return;
        };
        if meta_str(&obj, "deletionTimestamp").is_some() {
            return;
        }
        let Some(rt) = state
            .registry
            .all()
            .iter()
            .find(|t| t.group == key.0 .0 && t.plural == key.0 .1)
            .cloned()
        else {
            return;
        };
        let generation = obj
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let now = Instant::now();
        let started = match self.started.get(key) {
            Some((g, t)) if *g == generation => *t,
            _ => {
                self.started.insert(key.clone(), (generation, now));
                now
            }
        };
        let elapsed = now.saturating_duration_since(started);
        let ready = elapsed >= ready_after && !has_broken_image(&obj, &rt);
        let next = match (rt.group.as_str(), rt.kind.as_str()) {
            ("apps", "Deployment") => {
                deployments::deployment(&mut state, &rt, &obj, ready, elapsed, ready_after)
            }
            ("apps", "ReplicaSet") => {
                deployments::replica_set(&mut state, &rt, &obj, ready);
                None
            }
            ("apps", "StatefulSet") => {
                workloads::stateful_set(&mut state, &rt, &obj, ready);
                None
            }
            ("apps", "DaemonSet") => {
                workloads::daemon_set(&mut state, &rt, &obj, generation, ready);
                None
            }
            ("batch", "Job") => {
                workloads::job(&mut state, &rt, &obj, ready);
                None
            }
            ("", "Pod") => {
                pods::pod(&mut state, &rt, &obj, ready);
                None
            }
            ("", "Service") => {
                services::service(&mut state, &rt, &obj, &key.2);
                None
            }
            ("", "PersistentVolumeClaim") => {
                services::claim(&mut state, &rt, &obj, ready);
                None
            }
            _ => None,
        };
        drop(state);
        // Look again when readiness (or a deadline) is due.
        let mut wake = Vec::new();
        if elapsed < ready_after {
            wake.push(started + ready_after);
        }
        if let Some(d) = next {
            wake.push(started + d);
        }
        for t in wake {
            self.timers.entry(t).or_default().push(key.clone());
        }
    }
}

fn replicas(obj: &Value) -> i64 {
    obj.pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

fn pod_spec<'a>(obj: &'a Value, rt: &ResourceType) -> Option<&'a Value> {
    if rt.kind == "Pod" {
        obj.get("spec")
    } else {
        obj.pointer("/spec/template/spec")
    }
}

fn has_broken_image(obj: &Value, rt: &ResourceType) -> bool {
    pod_spec(obj, rt)
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("image")
                    .and_then(Value::as_str)
                    .is_some_and(|i| i.rsplit_once(':').is_some_and(|(_, tag)| tag == "broken"))
            })
        })
}

fn replica_counts(obj: &Value, n: i64, ready: bool) -> Value {
    let generation = obj
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let r = if ready { n } else { 0 };
    json!({"observedGeneration": generation, "replicas": n, "readyReplicas": r, "availableReplicas": r,
           "updatedReplicas": n, "fullyLabeledReplicas": n})
}

/// A condition that keeps its times while its status and reason stay.
fn condition(old: &Value, kind: &str, status: &str, reason: &str, message: &str) -> Value {
    let previous = old
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
        });
    let same = previous.is_some_and(|p| {
        p.get("status").and_then(Value::as_str) == Some(status)
            && p.get("reason").and_then(Value::as_str) == Some(reason)
    });
    let (transition, update) = match previous {
        Some(p) if same => (
            p.get("lastTransitionTime").cloned().unwrap_or(json!(now())),
            p.get("lastUpdateTime").cloned().unwrap_or(json!(now())),
        ),
        _ => (json!(now()), json!(now())),
    };
    json!({"type": kind, "status": status, "lastUpdateTime": update, "lastTransitionTime": transition,
           "reason": reason, "message": message})
}

fn set_status(state: &mut State, rt: &Arc<ResourceType>, obj: &Value, status: Value) {
    let Some(current) = state.store.get(
        &(rt.group.clone(), rt.plural.clone()),
        meta_str(obj, "namespace").unwrap_or(""),
        meta_str(obj, "name").unwrap_or(""),
    ) else {
        return;
    };
    // The controller owns the whole status: fields it no longer reports go.
    let merged = status;
    if current.get("status") == Some(&merged) {
        return;
    }
    let mut new = (*current).clone();
    new["status"] = merged;
    let _ = commit(
        state,
        rt,
        Some(current),
        new,
        false,
        Tracking::Update {
            manager: MANAGER,
            subresource: Some("status"),
        },
    );
}

fn hash_of(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_tag_is_detected() {
        let rt = crate::registry::Registry::with_builtins()
            .find("apps", "v1", "deployments")
            .expect("served");
        let d = |image: &str| json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": image}]}}}});
        assert!(has_broken_image(&d("registry:5000/app:broken"), &rt));
        assert!(!has_broken_image(&d("app:1.0"), &rt));
        assert!(!has_broken_image(&d("broken/app"), &rt));
    }

    #[test]
    fn conditions_keep_their_times_while_unchanged() {
        let old = json!({"status": {"conditions": [{"type": "Available", "status": "True", "reason": "R",
            "lastUpdateTime": "2020-01-01T00:00:00Z", "lastTransitionTime": "2020-01-01T00:00:00Z"}]}});
        let same = condition(&old, "Available", "True", "R", "m");
        assert_eq!(same["lastTransitionTime"], "2020-01-01T00:00:00Z");
        let changed = condition(&old, "Available", "False", "R", "m");
        assert_ne!(changed["lastTransitionTime"], "2020-01-01T00:00:00Z");
    }
}
