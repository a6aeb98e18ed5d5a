//! The StatefulSet controller: Pods `<name>-0` … `<name>-N-1`, created in
//! ordinal order with OrderedReady (the next only once every earlier one is
//! Running and Ready; scale-down from the highest, one at a time) or all at
//! once with Parallel; a claim per `volumeClaimTemplates` entry and Pod;
//! rolling updates from the highest ordinal down to `partition`, one Pod at
//! a time; ControllerRevisions and `currentRevision`/`updateRevision` in
//! the status, as upstream reports them.

use super::{
    create_pod, delete_pod, find_type, generation, owned_pods, pod_ready, replicas, revisions,
    set_status, Run, BY_CONTROLLER,
};
use crate::commit::commit;
use crate::events::{record, Kind};
use crate::objects::meta_str;
use crate::registry::ResourceType;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

const STATEFULSETS: &str = "statefulset-controller";
const REVISION_LABEL: &str = "controller-revision-hash";

fn ordinal(sts_name: &str, pod: &Value) -> Option<i64> {
    meta_str(pod, "name")?
        .strip_prefix(sts_name)?
        .strip_prefix('-')?
        .parse()
        .ok()
}

fn revision_of(pod: &Value) -> &str {
    pod.pointer("/metadata/labels")
        .and_then(|l| l.get(REVISION_LABEL))
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub(super) fn stateful_set(run: &mut Run, rt: &Arc<ResourceType>, sts: &Value) {
    let name = meta_str(sts, "name").unwrap_or("").to_string();
    let n = replicas(sts);
    let parallel = sts
        .pointer("/spec/podManagementPolicy")
        .and_then(Value::as_str)
        == Some("Parallel");
    let (update_revision, _) = revisions::ensure(run.state, sts);
    let pods: BTreeMap<i64, Arc<Value>> = owned_pods(run.state, sts)
        .into_iter()
        .filter_map(|p| Some((ordinal(&name, &p)?, p)))
        .collect();
    let healthy = |p: &Value| pod_ready(p) && super::pod_phase(p) == "Running";
    // Scale down, highest first.
    let mut acted = false;
    for (i, pod) in pods.iter().rev().filter(|(i, _)| **i >= n) {
        let others_ready = pods.iter().filter(|(j, _)| *j < i).all(|(_, p)| healthy(p));
        if !parallel && !others_ready {
            break;
        }
        if delete_pod(run.state, pod) {
            let message = format!("delete Pod {name}-{i} in StatefulSet {name} successful");
            record(
                run.state,
                sts,
                Kind::Normal,
                "SuccessfulDelete",
                &message,
                STATEFULSETS,
            );
            acted = true;
        }
        if !parallel {
            break;
        }
    }
    // Create, lowest first.
    if !acted {
        for i in 0..n {
            match pods.get(&i) {
                Some(p) if !parallel && !healthy(p) => break,
                Some(_) => continue,
                None => {
                    create_claims(run, sts, i);
                    if create_member(run, sts, i, &update_revision) {
                        acted = true;
                    }
                    if !parallel {
                        break;
                    }
                }
            }
        }
    }
    // Rolling update: the highest outdated Pod at or above the partition,
    // once every Pod is there and ready.
    let rolling = sts
        .pointer("/spec/updateStrategy/type")
        .and_then(Value::as_str)
        != Some("OnDelete");
    let partition = sts
        .pointer("/spec/updateStrategy/rollingUpdate/partition")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let all_there = (0..n).all(|i| pods.get(&i).is_some_and(|p| healthy(p)));
    if !acted && rolling && all_there {
        if let Some((i, pod)) = pods
            .iter()
            .rev()
            .find(|(i, p)| **i < n && **i >= partition && revision_of(p) != update_revision)
        {
            if delete_pod(run.state, pod) {
                let message = format!("delete Pod {name}-{i} in StatefulSet {name} successful");
                record(
                    run.state,
                    sts,
                    Kind::Normal,
                    "SuccessfulDelete",
                    &message,
                    STATEFULSETS,
                );
            }
        }
    }
    let pods = owned_pods(run.state, sts);
    let ready = pods.iter().filter(|p| pod_ready(p)).count();
    let updated = pods
        .iter()
        .filter(|p| revision_of(p) == update_revision)
        .count();
    let old_current = sts
        .pointer("/status/currentRevision")
        .and_then(Value::as_str)
        .map(str::to_string);
    let current_revision = match old_current {
        Some(c) if !(updated as i64 == n && ready as i64 == n) => c,
        _ => update_revision.clone(),
    };
    let current = pods
        .iter()
        .filter(|p| revision_of(p) == current_revision)
        .count();
    let mut status = json!({"observedGeneration": generation(sts), "replicas": pods.len(),
        "readyReplicas": ready, "currentReplicas": current, "updatedReplicas": updated,
        "availableReplicas": ready, "currentRevision": current_revision,
        "updateRevision": update_revision, "collisionCount": 0});
    if let Some(m) = status.as_object_mut() {
        m.retain(|k, v| {
            !matches!(
                k.as_str(),
                "readyReplicas" | "currentReplicas" | "updatedReplicas"
            ) || v != &json!(0)
        });
    }
    set_status(run.state, rt, sts, status);
}

fn create_member(run: &mut Run, sts: &Value, i: i64, revision: &str) -> bool {
    let name = meta_str(sts, "name").unwrap_or("");
    let pod_name = format!("{name}-{i}");
    let mut template = sts.pointer("/spec/template").cloned().unwrap_or(json!({}));
    template["spec"]["hostname"] = json!(pod_name);
    if let Some(service) = sts
        .pointer("/spec/serviceName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        template["spec"]["subdomain"] = json!(service);
    }
    // Each claim template becomes a volume of that name.
    let claims: Vec<String> = claim_names(sts);
    if !claims.is_empty() {
        let mut volumes = template
            .pointer("/spec/volumes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for claim in &claims {
            volumes.retain(|v| v["name"] != json!(claim));
            volumes.push(json!({"name": claim, "persistentVolumeClaim": {"claimName": format!("{claim}-{pod_name}")}}));
        }
        template["spec"]["volumes"] = json!(volumes);
    }
    let labels = [
        (REVISION_LABEL, revision.to_string()),
        ("statefulset.kubernetes.io/pod-name", pod_name.clone()),
        ("apps.kubernetes.io/pod-index", i.to_string()),
    ];
    if create_pod(run.state, sts, &pod_name, &template, &labels, None).is_some() {
        let message = format!("create Pod {pod_name} in StatefulSet {name} successful");
        record(
            run.state,
            sts,
            Kind::Normal,
            "SuccessfulCreate",
            &message,
            STATEFULSETS,
        );
        true
    } else {
        false
    }
}

fn claim_names(sts: &Value) -> Vec<String> {
    sts.pointer("/spec/volumeClaimTemplates")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .filter_map(|t| meta_str(t, "name").map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn create_claims(run: &mut Run, sts: &Value, i: i64) {
    let Some(rt) = find_type(run.state, "", "persistentvolumeclaims") else {
        return;
    };
    let name = meta_str(sts, "name").unwrap_or("");
    let ns = meta_str(sts, "namespace").unwrap_or("");
    let templates = sts
        .pointer("/spec/volumeClaimTemplates")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for t in templates {
        let Some(claim) = meta_str(&t, "name") else {
            continue;
        };
        let claim_name = format!("{claim}-{name}-{i}");
        if run
            .state
            .store
            .get(
                &(String::new(), "persistentvolumeclaims".into()),
                ns,
                &claim_name,
            )
            .is_some()
        {
            continue;
        }
        let mut labels = sts
            .pointer("/spec/selector/matchLabels")
            .cloned()
            .unwrap_or(json!({}));
        if let Some(l) = t.pointer("/metadata/labels").and_then(Value::as_object) {
            for (k, v) in l {
                labels[k] = v.clone();
            }
        }
        let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": claim_name, "namespace": ns, "labels": labels},
            "spec": t.get("spec").cloned().unwrap_or(json!({}))});
        if commit(run.state, &rt, None, pvc, false, BY_CONTROLLER).is_ok() {
            let message =
                format!("create Claim {claim_name} Pod {name}-{i} in StatefulSet {name} success");
            record(
                run.state,
                sts,
                Kind::Normal,
                "SuccessfulCreate",
                &message,
                STATEFULSETS,
            );
        }
    }
}
