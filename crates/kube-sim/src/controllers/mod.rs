//! Simulated controllers, so health is real to the client.
//!
//! One task plays kube-controller-manager, the scheduler and the kubelets:
//! it reacts to every stored change (the store's event stream, as an
//! informer would) and to timers it sets itself. Each controller is a
//! function of the stored objects plus a little memory of when it first saw
//! an object ([`Memo`]); it writes what the real controller would and lets
//! the resulting events drive the next step, so a rollout advances exactly
//! as far as the Pods' readiness allows.
//!
//! Pods become ready `ready_after` after they are first seen; an image whose
//! tag is `broken` starts, never turns ready and crashes (CrashLoopBackOff,
//! with restart counts and a crash trace in its logs). Everything else a
//! controller needs (Nodes, the cron schedule clock) is in its own module.

mod argocd;
mod argocd_health;
mod argocd_sync;
mod cronjobs;
mod daemonsets;
mod deployment_status;
mod deployments;
mod disruption;
mod endpoints;
mod flux_helm;
mod flux_kustomize;
mod flux_source;
pub(crate) mod gitops;
mod gitops_api;
mod gitsrc;
mod hpa;
mod jobs;
mod memo;
mod namespaces;
pub(crate) mod nodes;
pub(crate) mod pods;
mod replicasets;
mod revisions;
mod rollout;
mod services;
mod statefulsets;

pub use cronjobs::ScheduleClock;
pub(crate) use disruption::allowed_condition as disruption_condition;
use memo::first_seen;
pub(crate) use memo::{rfc3339, Memo};

use crate::commit::{commit, Tracking};
use crate::objects::meta_str;
use crate::registry::ResourceType;
use crate::server::{Shared, State};
use crate::store::{Event, EventType, GroupResource};
use serde_json::{json, Value};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

const MANAGER: &str = "kube-controller-manager";

type Key = (GroupResource, String, String);

/// One reconcile of one object: the state, its memo, and when to look again.
pub(crate) struct Run<'a> {
    pub state: &'a mut State,
    pub now: Instant,
    pub ready_after: Duration,
    pub memo: &'a mut Memo,
    pub clock: &'a ScheduleClock,
    /// Instants at which this object wants another reconcile.
    pub wake: Vec<Instant>,
}

impl Run<'_> {
    pub fn wake_at(&mut self, at: Instant) {
        if at > self.now {
            self.wake.push(at);
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.now.saturating_duration_since(self.memo.seen)
    }
}

struct Controllers {
    shared: Arc<Shared>,
    memos: HashMap<Key, Memo>,
    timers: BTreeMap<Instant, Vec<Key>>,
}

fn watched(resource: &GroupResource) -> bool {
    matches!(
        (resource.0.as_str(), resource.1.as_str()),
        (
            "apps",
            "deployments" | "replicasets" | "statefulsets" | "daemonsets"
        ) | ("batch", "jobs" | "cronjobs")
            | ("autoscaling", "horizontalpodautoscalers")
            | ("policy", "poddisruptionbudgets")
            | (
                "",
                "pods" | "services" | "persistentvolumeclaims" | "namespaces"
            )
    )
}

pub async fn run(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let mut rx = shared.lock().store.subscribe();
    let mut clock_changed = shared.clock.subscribe();
    let mut c = Controllers {
        shared,
        memos: HashMap::new(),
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
            changed = clock_changed.changed() => {
                if changed.is_err() {
                    return;
                }
                c.reconcile_kind(&(String::from("batch"), String::from("cronjobs")));
            }
            _ = shutdown.changed() => return,
        }
    }
}

/// The controller of a kind, as an ownerReference names it.
fn owner_resource(kind: &str) -> Option<GroupResource> {
    let (group, plural) = match kind {
        "ReplicaSet" => ("apps", "replicasets"),
        "Deployment" => ("apps", "deployments"),
        "StatefulSet" => ("apps", "statefulsets"),
        "DaemonSet" => ("apps", "daemonsets"),
        "Job" => ("batch", "jobs"),
        "CronJob" => ("batch", "cronjobs"),
        _ => return None,
    };
    Some((group.into(), plural.into()))
}

/// The controlling owner of an object: its kind and name.
pub(crate) fn controller_of(obj: &Value) -> Option<(&str, &str)> {
    obj.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .and_then(|r| Some((r.get("kind")?.as_str()?, r.get("name")?.as_str()?)))
}

impl Controllers {
    fn on_event(&mut self, event: &Event) {
        if event.resource.0.is_empty() && event.resource.1 == "nodes" {
            // A node came or went: DaemonSets follow.
            self.reconcile_kind(&(String::from("apps"), String::from("daemonsets")));
            return;
        }
        if !watched(&event.resource) {
            // Content of a Terminating namespace going (or waiting on its
            // finalizers): the namespace controller looks again.
            let leaving = event.kind == EventType::Deleted
                || meta_str(&event.object, "deletionTimestamp").is_some();
            if leaving && !event.namespace.is_empty() {
                let ns = namespaces::terminating(&self.shared.lock(), &event.namespace);
                if let Some(ns) = ns {
                    self.reconcile(&ns);
                }
            }
            return;
        }
        let key = (
            event.resource.clone(),
            event.namespace.clone(),
            event.name.clone(),
        );
        if event.kind == EventType::Deleted {
            self.memos.remove(&key);
            if event.resource.0.is_empty() && event.resource.1 == "services" {
                endpoints::service_deleted(&mut self.shared.lock(), &event.namespace, &event.name);
            }
        } else {
            self.reconcile(&key);
        }
        // The controller of what changed looks again (a ReplicaSet at its
        // Pods, a Deployment at its ReplicaSets), as its informer would.
        if let Some((kind, name)) = controller_of(&event.object) {
            if let Some(resource) = owner_resource(kind) {
                self.reconcile(&(resource, event.namespace.clone(), name.to_string()));
            }
        }
        let follow_ups = {
            let state = self.shared.lock();
            let mut keys = Vec::new();
            match (event.resource.0.as_str(), event.resource.1.as_str()) {
                ("", "pods") => {
                    keys.extend(endpoints::services_selecting(
                        &state,
                        &event.namespace,
                        &event.object,
                        event.old.as_deref(),
                    ));
                    keys.extend(disruption::selecting(
                        &state,
                        &event.namespace,
                        &event.object,
                        event.old.as_deref(),
                    ));
                }
                ("apps", "deployments" | "statefulsets" | "replicasets") => {
                    keys.extend(hpa::targeting(&state, &event.namespace, &event.object));
                }
                _ => {}
            }
            if event.resource.0.is_empty() && !event.namespace.is_empty() {
                // A namespace being drained looks again as its content goes.
                if let Some(ns) = namespaces::terminating(&state, &event.namespace) {
                    keys.push(ns);
                }
            }
            keys
        };
        for k in follow_ups {
            self.reconcile(&k);
        }
        if event.kind == EventType::Deleted && !event.resource.0.is_empty() {
            let state = self.shared.lock();
            let ns = namespaces::terminating(&state, &event.namespace);
            drop(state);
            if let Some(ns) = ns {
                self.reconcile(&ns);
            }
        }
    }

    fn reconcile_kind(&mut self, resource: &GroupResource) {
        let keys: Vec<Key> = {
            let state = self.shared.lock();
            state
                .store
                .list(resource, None)
                .iter()
                .map(|o| {
                    let (ns, name) = crate::store::ns_name(o);
                    (resource.clone(), ns, name)
                })
                .collect()
        };
        for key in keys {
            self.reconcile(&key);
        }
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
        let Some(rt) = find_type(&state, &key.0 .0, &key.0 .1) else {
            return;
        };
        let terminating = meta_str(&obj, "deletionTimestamp").is_some();
        if terminating && rt.kind != "Namespace" {
            return;
        }
        let generation = obj
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let now = Instant::now();
        let memo = match self.memos.get_mut(key) {
            Some(m) if m.generation == generation => m,
            Some(m) => {
                // A new generation: readiness starts again, progress is kept.
                m.generation = generation;
                m.seen = now;
                m.seen_wall = time::OffsetDateTime::now_utc();
                m
            }
            None => self
                .memos
                .entry(key.clone())
                .or_insert_with(|| first_seen(&obj, generation, now)),
        };
        let mut run = Run {
            state: &mut state,
            now,
            ready_after,
            memo,
            clock: &self.shared.clock,
            wake: Vec::new(),
        };
        match (rt.group.as_str(), rt.kind.as_str()) {
            ("apps", "Deployment") => deployments::deployment(&mut run, &rt, &obj),
            ("apps", "ReplicaSet") => replicasets::replica_set(&mut run, &rt, &obj),
            ("apps", "StatefulSet") => statefulsets::stateful_set(&mut run, &rt, &obj),
            ("apps", "DaemonSet") => daemonsets::daemon_set(&mut run, &rt, &obj),
            ("batch", "Job") => jobs::job(&mut run, &rt, &obj),
            ("batch", "CronJob") => cronjobs::cron_job(&mut run, &rt, &obj),
            ("autoscaling", "HorizontalPodAutoscaler") => hpa::hpa(&mut run, &rt, &obj),
            ("policy", "PodDisruptionBudget") => disruption::pdb(&mut run, &rt, &obj),
            ("", "Pod") => pods::pod(&mut run, &rt, &obj),
            ("", "Service") => {
                services::service(run.state, &rt, &obj, &key.2);
                endpoints::endpoints(run.state, &obj);
            }
            ("", "PersistentVolumeClaim") => {
                let ready = run.elapsed() >= ready_after;
                services::claim(run.state, &rt, &obj, ready);
                if !ready {
                    let at = run.memo.seen + ready_after;
                    run.wake_at(at);
                }
            }
            ("", "Namespace") => namespaces::namespace(&mut run, &rt, &obj),
            _ => {}
        }
        let wake = std::mem::take(&mut run.wake);
        drop(state);
        for t in wake {
            self.timers.entry(t).or_default().push(key.clone());
        }
    }
}

pub(crate) fn find_type(state: &State, group: &str, plural: &str) -> Option<Arc<ResourceType>> {
    state
        .registry
        .all()
        .iter()
        .find(|t| t.group == group && t.plural == plural)
        .cloned()
}

pub(crate) fn replicas(obj: &Value) -> i64 {
    obj.pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

pub(crate) fn generation(obj: &Value) -> i64 {
    obj.pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

pub(crate) fn is_broken_image(image: &str) -> bool {
    image
        .rsplit_once(':')
        .is_some_and(|(_, tag)| tag == "broken")
}

pub(crate) fn find_condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
        })
}

/// Write `status` as the object's whole status (the controller owns it),
/// unless it is already that.
pub(crate) fn set_status(state: &mut State, rt: &Arc<ResourceType>, obj: &Value, status: Value) {
    let Some(current) = state.store.get(
        &(rt.group.clone(), rt.plural.clone()),
        meta_str(obj, "namespace").unwrap_or(""),
        meta_str(obj, "name").unwrap_or(""),
    ) else {
        return;
    };
    if current.get("status") == Some(&status) {
        return;
    }
    let mut new = (*current).clone();
    new["status"] = status;
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

/// What the controllers write to objects (not status): Updates by the
/// controller manager.
pub(crate) const BY_CONTROLLER: Tracking<'static> = Tracking::Update {
    manager: MANAGER,
    subresource: None,
};

pub(crate) fn owner_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": owner.get("apiVersion").cloned().unwrap_or(json!("")),
        "kind": owner.get("kind").cloned().unwrap_or(json!("")),
        "name": meta_str(owner, "name").unwrap_or(""),
        "uid": meta_str(owner, "uid").unwrap_or(""),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

pub(crate) fn hash_of(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The apiserver's name-suffix alphabet (no vowels, no look-alikes).
pub(crate) fn encode(mut n: u64, len: usize) -> String {
    (0..len)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u64) as usize] as char;
            n /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

/// What `metadata.generateName` gets from the apiserver: five random
/// characters of its alphabet. The ReplicaSet, Job and DaemonSet
/// controllers name their Pods this way, so a replacement never takes the
/// name of the Pod it replaces (a PodDisruptionBudget's `disruptedPods`
/// and every client keyed by name would take it for the evicted one).
pub(crate) fn random_suffix() -> String {
    let id = uuid::Uuid::new_v4();
    id.as_bytes()
        .iter()
        .take(5)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// A free Pod name `{prefix}-{random}` in `ns` (a taken one is drawn again,
/// as the apiserver's create would fail and the controller retry).
pub(crate) fn generated_pod_name(state: &State, ns: &str, prefix: &str) -> String {
    loop {
        let name = format!("{prefix}-{}", random_suffix());
        if state
            .store
            .get(&(String::new(), "pods".into()), ns, &name)
            .is_none()
        {
            return name;
        }
    }
}

/// Whether a Pod reports Ready=True.
pub(crate) fn pod_ready(pod: &Value) -> bool {
    find_condition(pod, "Ready")
        .and_then(|c| c.get("status"))
        .and_then(Value::as_str)
        == Some("True")
}

pub(crate) fn pod_phase(pod: &Value) -> &str {
    pod.pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Pending")
}

/// The Pods `owner` controls (by ownerReference uid), not being deleted.
pub(crate) fn owned_pods(state: &State, owner: &Value) -> Vec<Arc<Value>> {
    let ns = meta_str(owner, "namespace").unwrap_or("");
    let uid = meta_str(owner, "uid").unwrap_or("");
    state
        .store
        .owned_by(&(String::new(), "pods".into()), ns, uid)
        .into_iter()
        .filter(|p| meta_str(p, "deletionTimestamp").is_none())
        .collect()
}

/// Create a Pod from `template` for `owner`, with extra labels and a node.
pub(crate) fn create_pod(
    state: &mut State,
    owner: &Value,
    name: &str,
    template: &Value,
    extra_labels: &[(&str, String)],
    node: Option<&str>,
) -> Option<Arc<Value>> {
    let pod_rt = find_type(state, "", "pods")?;
    let ns = meta_str(owner, "namespace").unwrap_or("");
    let mut labels = template
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    for (k, v) in extra_labels {
        labels[*k] = json!(v);
    }
    let mut spec = template.get("spec").cloned().unwrap_or(json!({}));
    let node = node.map(str::to_string).or_else(|| {
        spec.get("nodeName")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let node = node.unwrap_or_else(|| nodes::pick(state, &format!("{ns}/{name}")).name);
    spec["nodeName"] = json!(node);
    let mut metadata = json!({"name": name, "namespace": ns, "labels": labels,
                              "ownerReferences": [owner_ref(owner)]});
    if let Some(a) = template.pointer("/metadata/annotations") {
        metadata["annotations"] = a.clone();
    }
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec});
    commit(state, &pod_rt, None, pod, false, BY_CONTROLLER).ok()
}

/// Delete a Pod now (no grace period: the simulated kubelet stops at once).
pub(crate) fn delete_pod(state: &mut State, pod: &Value) -> bool {
    let (ns, name) = crate::store::ns_name(pod);
    state
        .store
        .remove(&(String::new(), "pods".into()), &ns, &name)
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_tag_is_detected() {
        assert!(is_broken_image("registry:5000/app:broken"));
        assert!(!is_broken_image("app:1.0"));
        assert!(!is_broken_image("broken/app"));
    }
}
