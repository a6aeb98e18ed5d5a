//! The Deployment controller, after kube-controller-manager's
//! (pkg/controller/deployment): one ReplicaSet per pod template, named by
//! its `pod-template-hash` and numbered by `deployment.kubernetes.io/revision`
//! (a template seen before, as `kubectl rollout undo` sends it, takes the
//! next revision and records its old one in `revision-history`). A rolling
//! update grows the new ReplicaSet within `maxSurge` and shrinks the old
//! ones only as far as `replicas - maxUnavailable` stay available; Recreate
//! scales the old ones to zero first. `spec.paused` stops the rollout (only
//! scaling goes on). The status and its Available and Progressing
//! conditions carry the controller's reasons and messages, including
//! `ProgressDeadlineExceeded` when no progress is seen for
//! `progressDeadlineSeconds`. Old ReplicaSets beyond `revisionHistoryLimit`
//! are deleted.

use super::deployment_status::calculate_status;
use super::rollout::{self, Rs};
use super::{encode, find_type, hash_of, owner_ref, replicas, set_status, Run, BY_CONTROLLER};
use crate::commit::commit;
use crate::events::{record, Kind};
use crate::objects::meta_str;
use crate::registry::ResourceType;
use serde_json::{json, Map, Value};
use std::sync::Arc;

const DEPLOYMENTS: &str = "deployment-controller";
pub(super) const REVISION: &str = "deployment.kubernetes.io/revision";
const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
const DESIRED: &str = "deployment.kubernetes.io/desired-replicas";
const MAX: &str = "deployment.kubernetes.io/max-replicas";
const HASH_LABEL: &str = "pod-template-hash";

/// Annotations the controller keeps off the ReplicaSets it copies the
/// Deployment's annotations to.
const NOT_COPIED: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED,
    MAX,
    "deprecated.deployment.rollback.to",
];

fn revision(obj: &Value) -> i64 {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(REVISION))
        .and_then(Value::as_str)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// A value with nulls left out, as Go's decoding would see it.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// A ReplicaSet's template without its `pod-template-hash` label.
fn template_without_hash(rs: &Value) -> Value {
    let mut t = without_nulls(rs.pointer("/spec/template").unwrap_or(&Value::Null));
    if let Some(labels) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(HASH_LABEL);
    }
    t
}

/// `pod-template-hash`: stable for a template, different when it changes.
pub(super) fn pod_template_hash(template: &Value) -> String {
    encode(hash_of(&without_nulls(template).to_string()), 10)
}

pub(super) fn status_i64(obj: &Value, field: &str) -> i64 {
    obj.pointer(&format!("/status/{field}"))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")?.get(key)?.as_str()
}

pub(super) fn deployment(run: &mut Run, rt: &Arc<ResourceType>, d: &Value) {
    let Some(rs_rt) = find_type(run.state, "apps", "replicasets") else {
        return;
    };
    let ns = meta_str(d, "namespace").unwrap_or("").to_string();
    let name = meta_str(d, "name").unwrap_or("").to_string();
    let uid = meta_str(d, "uid").unwrap_or("");
    let resource = (rs_rt.group.clone(), rs_rt.plural.clone());
    let mut all: Vec<Arc<Value>> = run
        .state
        .store
        .owned_by(&resource, &ns, uid)
        .into_iter()
        .filter(|rs| meta_str(rs, "deletionTimestamp").is_none())
        .collect();
    all.sort_by_key(|rs| {
        (
            revision(rs),
            meta_str(rs, "creationTimestamp").unwrap_or("").to_string(),
        )
    });
    let template = without_nulls(d.pointer("/spec/template").unwrap_or(&Value::Null));
    let new_idx = all
        .iter()
        .position(|rs| template_without_hash(rs) == template);
    let paused = d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
    let n = replicas(d);
    let (surge, _) = rollout::fenceposts(d, n);
    let surge = if rollout::is_recreate(d) { 0 } else { surge };
    let max_old_revision = all
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != new_idx)
        .map(|(_, rs)| revision(rs))
        .max()
        .unwrap_or(0);
    let mut created_message = None;
    // The new ReplicaSet: found (with its revision brought up to date), or
    // created unless paused (Recreate creates it once the old Pods are gone).
    let new_rs: Option<Arc<Value>> = match new_idx {
        Some(i) => {
            let rs = all.remove(i);
            let want = (max_old_revision + 1).max(revision(&rs)).to_string();
            let rs = if annotation(&rs, REVISION) != Some(want.as_str()) {
                let mut updated = (*rs).clone();
                let old = revision(&rs);
                let ann = updated["metadata"]["annotations"]
                    .as_object_mut()
                    .cloned()
                    .unwrap_or_default();
                let mut ann = ann;
                if old > 0 {
                    let history = ann
                        .get(REVISION_HISTORY)
                        .and_then(Value::as_str)
                        .map(|h| format!("{h},{old}"))
                        .unwrap_or(old.to_string());
                    ann.insert(REVISION_HISTORY.into(), json!(history));
                }
                ann.insert(REVISION.into(), json!(want));
                copy_annotations(d, &mut ann);
                updated["metadata"]["annotations"] = Value::Object(ann);
                commit(
                    run.state,
                    &rs_rt,
                    Some(rs.clone()),
                    updated,
                    false,
                    BY_CONTROLLER,
                )
                .unwrap_or(rs)
            } else {
                rs
            };
            Some(rs)
        }
        None if paused => None,
        None if rollout::is_recreate(d)
            && all
                .iter()
                .any(|rs| replicas(rs) > 0 || status_i64(rs, "replicas") > 0) =>
        {
            None
        }
        None => {
            let hash = pod_template_hash(&template);
            let rs_name = format!("{name}-{hash}");
            let all_spec: i64 = all.iter().map(|rs| replicas(rs)).sum();
            let start = if rollout::is_recreate(d) {
                n
            } else {
                rollout::new_rs_replicas(n, surge, all_spec, 0)
            };
            let mut labels = template
                .pointer("/metadata/labels")
                .cloned()
                .unwrap_or(json!({}));
            labels[HASH_LABEL] = json!(hash);
            let mut rs_template = template.clone();
            rs_template["metadata"]["labels"] = labels.clone();
            let mut selector = d.pointer("/spec/selector").cloned().unwrap_or(json!({}));
            selector["matchLabels"][HASH_LABEL] = json!(hash);
            let mut ann = Map::new();
            copy_annotations(d, &mut ann);
            ann.insert(DESIRED.into(), json!(n.to_string()));
            ann.insert(MAX.into(), json!((n + surge).to_string()));
            ann.insert(REVISION.into(), json!((max_old_revision + 1).to_string()));
            let mut spec =
                json!({"replicas": start, "selector": selector, "template": rs_template});
            if let Some(m) = d.pointer("/spec/minReadySeconds") {
                spec["minReadySeconds"] = m.clone();
            }
            let desired = json!({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": rs_name, "namespace": ns, "labels": labels,
                             "ownerReferences": [owner_ref(d)], "annotations": ann},
                "spec": spec,
            });
            match commit(run.state, &rs_rt, None, desired, false, BY_CONTROLLER) {
                Ok(rs) => {
                    if start > 0 {
                        let message = format!("Scaled up replica set {rs_name} to {start}");
                        record(
                            run.state,
                            d,
                            Kind::Normal,
                            "ScalingReplicaSet",
                            &message,
                            DEPLOYMENTS,
                        );
                    }
                    created_message = Some(format!("Created new replica set \"{rs_name}\""));
                    Some(rs)
                }
                Err(_) => None,
            }
        }
    };
    let old: Vec<Arc<Value>> = all;
    // The Deployment's revision is its new ReplicaSet's.
    if let Some(rs) = &new_rs {
        let rev = revision(rs).to_string();
        if annotation(d, REVISION) != Some(rev.as_str()) {
            let mut updated = d.clone();
            updated["metadata"]["annotations"][REVISION] = json!(rev);
            if let Some(current) =
                run.state
                    .store
                    .get(&(rt.group.clone(), rt.plural.clone()), &ns, &name)
            {
                // Its event brings the Deployment back here.
                if commit(run.state, rt, Some(current), updated, false, BY_CONTROLLER).is_ok() {
                    return;
                }
            }
        }
    }
    let scaled = if scaling_event(d, new_rs.as_deref(), &old) || paused {
        scale(run, &rs_rt, d, new_rs.as_deref(), &old, surge)
    } else if rollout::is_recreate(d) {
        recreate(run, &rs_rt, d, new_rs.as_deref(), &old)
    } else {
        rolling(run, &rs_rt, d, new_rs.as_deref(), &old, surge)
    };
    let complete = !scaled && status_complete(d, new_rs.as_deref(), &old);
    if complete || paused {
        cleanup(run, &rs_rt, d, &old);
    }
    let status = calculate_status(run, d, new_rs.as_deref(), &old, paused, created_message);
    set_status(run.state, rt, d, status);
}

/// The Deployment's annotations a new ReplicaSet carries (change-cause...).
fn copy_annotations(d: &Value, into: &mut Map<String, Value>) {
    if let Some(a) = d
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        for (k, v) in a {
            if !NOT_COPIED.contains(&k.as_str()) {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

fn active(rs: &Value) -> bool {
    replicas(rs) > 0
}

/// Whether the replica count changed since the active ReplicaSets were
/// last sized for it.
fn scaling_event(d: &Value, new: Option<&Value>, old: &[Arc<Value>]) -> bool {
    let want = replicas(d).to_string();
    new.into_iter()
        .chain(old.iter().map(|r| &**r))
        .filter(|rs| active(rs))
        .any(|rs| annotation(rs, DESIRED).is_some_and(|a| a != want))
}

/// Set a ReplicaSet's replicas (and the sizing annotations), with the
/// controller's Event. Returns whether it changed.
fn scale_rs(
    run: &mut Run,
    rs_rt: &Arc<ResourceType>,
    d: &Value,
    rs: &Value,
    to: i64,
    surge: i64,
) -> bool {
    let from = replicas(rs);
    let n = replicas(d).to_string();
    let max = (replicas(d) + surge).to_string();
    let sized =
        annotation(rs, DESIRED) == Some(n.as_str()) && annotation(rs, MAX) == Some(max.as_str());
    if from == to && sized {
        return false;
    }
    let (ns, rs_name) = crate::store::ns_name(rs);
    let Some(current) =
        run.state
            .store
            .get(&(rs_rt.group.clone(), rs_rt.plural.clone()), &ns, &rs_name)
    else {
        return false;
    };
    let mut scaled = (*current).clone();
    scaled["spec"]["replicas"] = json!(to);
    scaled["metadata"]["annotations"][DESIRED] = json!(n);
    scaled["metadata"]["annotations"][MAX] = json!(max);
    if commit(
        run.state,
        rs_rt,
        Some(current),
        scaled,
        false,
        BY_CONTROLLER,
    )
    .is_err()
    {
        return false;
    }
    if from != to {
        let way = if to > from { "up" } else { "down" };
        let message = format!("Scaled {way} replica set {rs_name} to {to} from {from}");
        record(
            run.state,
            d,
            Kind::Normal,
            "ScalingReplicaSet",
            &message,
            DEPLOYMENTS,
        );
    }
    from != to
}

/// `sync`/`scale`: the replica count changed (or the Deployment is paused).
fn scale(
    run: &mut Run,
    rs_rt: &Arc<ResourceType>,
    d: &Value,
    new: Option<&Value>,
    old: &[Arc<Value>],
    surge: i64,
) -> bool {
    let n = replicas(d);
    let actives: Vec<&Value> = new
        .into_iter()
        .chain(old.iter().map(|r| &**r))
        .filter(|rs| active(rs))
        .collect();
    if actives.len() <= 1 {
        // One active ReplicaSet (or none): it (or the new one) gets them all.
        let target = actives.first().copied().or(new);
        return target.is_some_and(|rs| scale_rs(run, rs_rt, d, rs, n, surge));
    }
    let allowed = if rollout::is_recreate(d) {
        n
    } else {
        n + surge
    };
    let old_sizes: Vec<i64> = old.iter().map(|r| replicas(r)).collect();
    let (new_size, old_sizes) = rollout::proportional(allowed, new.map(replicas), &old_sizes);
    let mut changed = false;
    for (rs, size) in old.iter().zip(old_sizes) {
        changed |= scale_rs(run, rs_rt, d, rs, size, surge);
    }
    if let (Some(rs), Some(size)) = (new, new_size) {
        changed |= scale_rs(run, rs_rt, d, rs, size, surge);
    }
    changed
}

fn rolling(
    run: &mut Run,
    rs_rt: &Arc<ResourceType>,
    d: &Value,
    new: Option<&Value>,
    old: &[Arc<Value>],
    surge: i64,
) -> bool {
    let Some(new) = new else {
        return false;
    };
    let n = replicas(d);
    let all_spec: i64 = old.iter().map(|r| replicas(r)).sum::<i64>() + replicas(new);
    let want = rollout::new_rs_replicas(n, surge, all_spec, replicas(new));
    let want = if replicas(new) > n { n } else { want };
    if scale_rs(run, rs_rt, d, new, want, surge) {
        return true;
    }
    let view = |rs: &Value| Rs {
        replicas: replicas(rs),
        available: status_i64(rs, "availableReplicas"),
    };
    let olds: Vec<Rs> = old.iter().map(|r| view(r)).collect();
    let downs = rollout::old_scale_downs(n, rollout::max_unavailable(d, n), &view(new), &olds);
    let mut changed = false;
    for (i, to) in downs {
        changed |= scale_rs(run, rs_rt, d, &old[i], to, surge);
    }
    changed
}

fn recreate(
    run: &mut Run,
    rs_rt: &Arc<ResourceType>,
    d: &Value,
    new: Option<&Value>,
    old: &[Arc<Value>],
) -> bool {
    let mut changed = false;
    for rs in old.iter().filter(|rs| active(rs)) {
        changed |= scale_rs(run, rs_rt, d, rs, 0, 0);
    }
    if changed || old.iter().any(|rs| status_i64(rs, "replicas") > 0) {
        return changed;
    }
    new.is_some_and(|rs| scale_rs(run, rs_rt, d, rs, replicas(d), 0))
}

/// `DeploymentComplete` on the status as it stands.
fn status_complete(d: &Value, new: Option<&Value>, old: &[Arc<Value>]) -> bool {
    let n = replicas(d);
    let updated = new.map_or(0, |rs| status_i64(rs, "replicas"));
    let total: i64 = old.iter().map(|r| status_i64(r, "replicas")).sum::<i64>() + updated;
    let available: i64 = old
        .iter()
        .map(|r| status_i64(r, "availableReplicas"))
        .sum::<i64>()
        + new.map_or(0, |rs| status_i64(rs, "availableReplicas"));
    updated == n && total == n && available == n
}

/// Old ReplicaSets with nothing left, beyond `revisionHistoryLimit`, oldest first.
fn cleanup(run: &mut Run, rs_rt: &Arc<ResourceType>, d: &Value, old: &[Arc<Value>]) {
    let limit = d
        .pointer("/spec/revisionHistoryLimit")
        .and_then(Value::as_i64)
        .unwrap_or(10)
        .max(0) as usize;
    let idle: Vec<&Arc<Value>> = old
        .iter()
        .filter(|rs| replicas(rs) == 0 && status_i64(rs, "replicas") == 0)
        .collect();
    if idle.len() <= limit {
        return;
    }
    let resource = (rs_rt.group.clone(), rs_rt.plural.clone());
    for rs in &idle[..idle.len() - limit] {
        let (ns, name) = crate::store::ns_name(rs);
        if run.state.store.remove(&resource, &ns, &name).is_some() {
            crate::deletes::after_removal(run.state, rs_rt, rs);
        }
    }
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
        let with_null = json!({"metadata": {"creationTimestamp": null}, "spec": {"containers": [{"image": "nginx:1"}]}});
        assert_eq!(
            template_without_hash(&json!({"spec": {"template": with_null}})),
            json!({"metadata": {}, "spec": {"containers": [{"image": "nginx:1"}]}})
        );
    }

    #[test]
    fn the_undo_template_matches_its_replica_set() {
        let rs = json!({"spec": {"template": {"metadata": {"labels": {"app": "web", "pod-template-hash": "x"}},
            "spec": {"containers": [{"image": "nginx:1"}]}}}});
        let sent = json!({"metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
            "spec": {"containers": [{"image": "nginx:1"}]}});
        assert_eq!(template_without_hash(&rs), without_nulls(&sent));
    }
}
