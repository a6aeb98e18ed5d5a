//! Simulated controllers, so health is real to the client.
//!
//! Deployments get a ReplicaSet per pod template and the ReplicaSets get
//! Pods (with ownerReferences, so clients see the usual tree); every workload's
//! status converges to ready `ready_after` after its spec last changed. An
//! image tagged `broken` never becomes ready, and its Deployment reports
//! `ProgressDeadlineExceeded` once `progressDeadlineSeconds` have passed.
//! Jobs complete, LoadBalancer Services get an ingress IP, claims bind.

use crate::events::{record, Kind};
use crate::objects::{meta_str, now};
use crate::registry::ResourceType;
use crate::server::{Shared, State};
use crate::store::{Event, EventType, GroupResource};
use crate::writes::{commit, Tracking};
use serde_json::{json, Value};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

const MANAGER: &str = "kube-controller-manager";
const DEPLOYMENTS: &str = "deployment-controller";
const REPLICA_SETS: &str = "replicaset-controller";
const SCHEDULER: &str = "default-scheduler";
const KUBELET: &str = "kubelet";

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
            if let Some(owner) = replica_set_owner(&event.object) {
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
                deployment(&mut state, &rt, &obj, ready, elapsed, ready_after)
            }
            ("apps", "ReplicaSet") => {
                replica_set_pods(&mut state, &obj);
                let n = replicas(&obj);
                set_status(&mut state, &rt, &obj, replica_counts(&obj, n, ready));
                None
            }
            ("apps", "StatefulSet") => {
                let n = replicas(&obj);
                let mut s = replica_counts(&obj, n, ready);
                s["currentReplicas"] = json!(n);
                s["collisionCount"] = json!(0);
                set_status(&mut state, &rt, &obj, s);
                None
            }
            ("apps", "DaemonSet") => {
                let r = i64::from(ready);
                set_status(
                    &mut state,
                    &rt,
                    &obj,
                    json!({
                        "observedGeneration": generation, "desiredNumberScheduled": 1, "currentNumberScheduled": 1,
                        "numberMisscheduled": 0, "updatedNumberScheduled": 1, "numberReady": r, "numberAvailable": r,
                    }),
                );
                None
            }
            ("batch", "Job") => {
                job(&mut state, &rt, &obj, ready);
                None
            }
            ("", "Pod") => {
                pod(&mut state, &rt, &obj, ready);
                None
            }
            ("", "Service") => {
                if obj.pointer("/spec/type").and_then(Value::as_str) == Some("LoadBalancer") {
                    let ip = format!("172.18.255.{}", 1 + hash_of(&key.2) % 250);
                    set_status(
                        &mut state,
                        &rt,
                        &obj,
                        json!({"loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]}}),
                    );
                }
                None
            }
            ("", "PersistentVolumeClaim") => {
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
                        &mut state,
                        &rt,
                        &obj,
                        json!({"phase": "Bound", "accessModes": modes, "capacity": {"storage": storage}}),
                    );
                }
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

fn replica_set_owner(obj: &Value) -> Option<String> {
    obj.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("kind").and_then(Value::as_str) == Some("ReplicaSet"))
        .and_then(|r| r.get("name")?.as_str().map(str::to_string))
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

fn deployment(
    state: &mut State,
    rt: &Arc<ResourceType>,
    obj: &Value,
    ready: bool,
    elapsed: Duration,
    ready_after: Duration,
) -> Option<Duration> {
    let n = replicas(obj);
    let name = meta_str(obj, "name").unwrap_or("");
    let template = obj.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let hash = pod_template_hash(&template);
    let rs_name = format!("{name}-{hash}");
    sync_replica_sets(state, obj, &rs_name, &hash, &template, n);
    let deadline = Duration::from_secs(
        obj.pointer("/spec/progressDeadlineSeconds")
            .and_then(Value::as_u64)
            .unwrap_or(600),
    );
    let mut status = replica_counts(obj, n, ready);
    if let Some(s) = status.as_object_mut() {
        s.remove("fullyLabeledReplicas");
    }
    if !ready {
        status["unavailableReplicas"] = json!(n);
    }
    let exceeded = !ready && elapsed >= deadline && elapsed >= ready_after;
    let available = if ready || n == 0 {
        condition(
            obj,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
        )
    } else {
        condition(
            obj,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    };
    let progressing = if exceeded {
        condition(
            obj,
            "Progressing",
            "False",
            "ProgressDeadlineExceeded",
            &format!("ReplicaSet \"{rs_name}\" has timed out progressing."),
        )
    } else if ready {
        condition(
            obj,
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            &format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
        )
    } else {
        condition(
            obj,
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            &format!("ReplicaSet \"{rs_name}\" is progressing."),
        )
    };
    status["conditions"] = json!([available, progressing]);
    set_status(state, rt, obj, status);
    (!ready && !exceeded).then_some(deadline)
}

fn owner_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": owner.get("apiVersion").cloned().unwrap_or(json!("")),
        "kind": owner.get("kind").cloned().unwrap_or(json!("")),
        "name": meta_str(owner, "name").unwrap_or(""),
        "uid": meta_str(owner, "uid").unwrap_or(""),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

fn find_type(state: &State, group: &str, plural: &str) -> Option<Arc<ResourceType>> {
    state
        .registry
        .all()
        .iter()
        .find(|t| t.group == group && t.plural == plural)
        .cloned()
}

fn sync_replica_sets(
    state: &mut State,
    deploy: &Value,
    rs_name: &str,
    hash: &str,
    template: &Value,
    n: i64,
) {
    let Some(rs_rt) = find_type(state, "apps", "replicasets") else {
        return;
    };
    let ns = meta_str(deploy, "namespace").unwrap_or("").to_string();
    let resource = (rs_rt.group.clone(), rs_rt.plural.clone());
    let uid = meta_str(deploy, "uid").unwrap_or("");
    for rs in state.store.owned_by(&resource, &ns, uid) {
        if meta_str(&rs, "name") != Some(rs_name) && replicas(&rs) != 0 {
            let mut scaled = (*rs).clone();
            scaled["spec"]["replicas"] = json!(0);
            let done = commit(
                state,
                &rs_rt,
                Some(rs.clone()),
                scaled,
                false,
                Tracking::Update {
                    manager: MANAGER,
                    subresource: None,
                },
            );
            if done.is_ok() {
                let message = format!(
                    "Scaled down replica set {} to 0 from {}",
                    meta_str(&rs, "name").unwrap_or(""),
                    replicas(&rs)
                );
                record(
                    state,
                    deploy,
                    Kind::Normal,
                    "ScalingReplicaSet",
                    &message,
                    DEPLOYMENTS,
                );
            }
        }
    }
    let mut labels = template
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    labels["pod-template-hash"] = json!(hash);
    let mut rs_template = template.clone();
    rs_template["metadata"]["labels"] = labels.clone();
    let mut selector = deploy
        .pointer("/spec/selector")
        .cloned()
        .unwrap_or(json!({}));
    selector["matchLabels"]["pod-template-hash"] = json!(hash);
    let desired = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": rs_name, "namespace": ns, "labels": labels, "ownerReferences": [owner_ref(deploy)],
                     "annotations": {"deployment.kubernetes.io/desired-replicas": n.to_string()}},
        "spec": {"replicas": n, "selector": selector, "template": rs_template},
    });
    match state.store.get(&resource, &ns, rs_name) {
        Some(existing) if replicas(&existing) == n => {}
        Some(existing) => {
            let from = replicas(&existing);
            let mut scaled = (*existing).clone();
            scaled["spec"]["replicas"] = json!(n);
            let done = commit(
                state,
                &rs_rt,
                Some(existing),
                scaled,
                false,
                Tracking::Update {
                    manager: MANAGER,
                    subresource: None,
                },
            );
            if done.is_ok() {
                let way = if n > from { "up" } else { "down" };
                let message = format!("Scaled {way} replica set {rs_name} to {n} from {from}");
                record(
                    state,
                    deploy,
                    Kind::Normal,
                    "ScalingReplicaSet",
                    &message,
                    DEPLOYMENTS,
                );
            }
        }
        None => {
            let done = commit(
                state,
                &rs_rt,
                None,
                desired,
                false,
                Tracking::Update {
                    manager: MANAGER,
                    subresource: None,
                },
            );
            if done.is_ok() && n > 0 {
                let message = format!("Scaled up replica set {rs_name} to {n}");
                record(
                    state,
                    deploy,
                    Kind::Normal,
                    "ScalingReplicaSet",
                    &message,
                    DEPLOYMENTS,
                );
            }
        }
    }
}

fn replica_set_pods(state: &mut State, rs: &Value) {
    let Some(pod_rt) = find_type(state, "", "pods") else {
        return;
    };
    let ns = meta_str(rs, "namespace").unwrap_or("").to_string();
    let rs_name = meta_str(rs, "name").unwrap_or("").to_string();
    let resource = (pod_rt.group.clone(), pod_rt.plural.clone());
    let uid = meta_str(rs, "uid").unwrap_or("");
    let mut pods: Vec<Arc<Value>> = state.store.owned_by(&resource, &ns, uid);
    let want = usize::try_from(replicas(rs)).unwrap_or(0);
    while pods.len() > want {
        if let Some(p) = pods.pop() {
            let (pns, pname) = crate::store::ns_name(&p);
            if state.store.remove(&resource, &pns, &pname).is_some() {
                let message = format!("Deleted pod: {pname}");
                record(
                    state,
                    rs,
                    Kind::Normal,
                    "SuccessfulDelete",
                    &message,
                    REPLICA_SETS,
                );
            }
        }
    }
    let template = rs.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let mut i = 0u64;
    while pods.len() < want {
        i += 1;
        let name = format!(
            "{rs_name}-{}",
            short_hash(&format!(
                "{rs_name}/{}/{i}",
                meta_str(rs, "uid").unwrap_or("")
            ))
        );
        if state.store.get(&resource, &ns, &name).is_some() {
            continue;
        }
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": template.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
                         "ownerReferences": [owner_ref(rs)]},
            "spec": template.get("spec").cloned().unwrap_or(json!({})),
        });
        match commit(
            state,
            &pod_rt,
            None,
            pod,
            false,
            Tracking::Update {
                manager: MANAGER,
                subresource: None,
            },
        ) {
            Ok(p) => {
                let message = format!("Created pod: {name}");
                record(
                    state,
                    rs,
                    Kind::Normal,
                    "SuccessfulCreate",
                    &message,
                    REPLICA_SETS,
                );
                pods.push(p);
            }
            Err(_) => break,
        }
    }
}

fn pod(state: &mut State, rt: &Arc<ResourceType>, obj: &Value, ready: bool) {
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

fn job(state: &mut State, rt: &Arc<ResourceType>, obj: &Value, ready: bool) {
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

const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn encode(mut n: u64, len: usize) -> String {
    (0..len)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u64) as usize] as char;
            n /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

/// `pod-template-hash`: stable for a template, different when it changes.
fn pod_template_hash(template: &Value) -> String {
    encode(hash_of(&template.to_string()), 10)
}

fn short_hash(s: &str) -> String {
    encode(hash_of(s), 5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_hash_changes_with_the_template() {
        let a = pod_template_hash(&json!({"spec": {"containers": [{"image": "nginx:1"}]}}));
        let b = pod_template_hash(&json!({"spec": {"containers": [{"image": "nginx:2"}]}}));
        assert_eq!(a.len(), 10);
        assert_ne!(a, b);
        assert_eq!(
            a,
            pod_template_hash(&json!({"spec": {"containers": [{"image": "nginx:1"}]}}))
        );
    }

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
