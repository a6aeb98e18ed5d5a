//! The Deployment and ReplicaSet controllers: a Deployment gets one
//! ReplicaSet per pod template (named by its `pod-template-hash`), older ones
//! are scaled to zero, and a ReplicaSet creates or deletes Pods (with
//! ownerReferences) until it has `spec.replicas`, recording the Events the
//! real controllers do. A Deployment's status reports its Available and
//! Progressing conditions, including `ProgressDeadlineExceeded`.

use super::{condition, hash_of, replica_counts, replicas, set_status, MANAGER};
use crate::commit::{commit, Tracking};
use crate::events::{record, Kind};
use crate::objects::meta_str;
use crate::registry::ResourceType;
use crate::server::State;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const DEPLOYMENTS: &str = "deployment-controller";
const REPLICA_SETS: &str = "replicaset-controller";

pub(super) fn replica_set_owner(obj: &Value) -> Option<String> {
    obj.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("kind").and_then(Value::as_str) == Some("ReplicaSet"))
        .and_then(|r| r.get("name")?.as_str().map(str::to_string))
}

pub(super) fn deployment(
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

pub(super) fn replica_set(state: &mut State, rt: &Arc<ResourceType>, obj: &Value, ready: bool) {
    replica_set_pods(state, obj);
    let n = replicas(obj);
    set_status(state, rt, obj, replica_counts(obj, n, ready));
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

/// What the Deployment and ReplicaSet controllers write: Updates by the
/// controller manager.
const BY_CONTROLLER: Tracking<'static> = Tracking::Update {
    manager: MANAGER,
    subresource: None,
};

/// The deployment controller's Event for a ReplicaSet it scaled.
fn scaling_event(state: &mut State, deploy: &Value, message: &str) {
    record(
        state,
        deploy,
        Kind::Normal,
        "ScalingReplicaSet",
        message,
        DEPLOYMENTS,
    );
}

/// Scale one of `deploy`'s ReplicaSets to `to`, with the deployment
/// controller's Event, as the real one reports it.
fn scale_replica_set(
    state: &mut State,
    rs_rt: &Arc<ResourceType>,
    deploy: &Value,
    rs: Arc<Value>,
    to: i64,
) {
    let from = replicas(&rs);
    let name = meta_str(&rs, "name").unwrap_or("").to_string();
    let mut scaled = (*rs).clone();
    scaled["spec"]["replicas"] = json!(to);
    if commit(state, rs_rt, Some(rs), scaled, false, BY_CONTROLLER).is_ok() {
        let way = if to > from { "up" } else { "down" };
        let message = format!("Scaled {way} replica set {name} to {to} from {from}");
        scaling_event(state, deploy, &message);
    }
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
            scale_replica_set(state, &rs_rt, deploy, rs, 0);
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
        Some(existing) => scale_replica_set(state, &rs_rt, deploy, existing, n),
        None => {
            let done = commit(state, &rs_rt, None, desired, false, BY_CONTROLLER);
            if done.is_ok() && n > 0 {
                let message = format!("Scaled up replica set {rs_name} to {n}");
                scaling_event(state, deploy, &message);
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
        match commit(state, &pod_rt, None, pod, false, BY_CONTROLLER) {
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
}
