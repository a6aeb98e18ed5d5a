//! The HorizontalPodAutoscaler controller of a cluster without a metrics
//! server: it reads the target's scale (`currentReplicas`), brings it into
//! `[minReplicas, maxReplicas]` when outside, and otherwise keeps it
//! (`desiredReplicas = currentReplicas`), reporting the conditions a real
//! HPA shows when metrics cannot be fetched (`AbleToScale` True,
//! `ScalingActive` False with `FailedGetResourceMetric`), or `FailedGetScale`
//! when the target does not exist.

use super::{find_condition, find_type, replicas, set_status, Key, Run};
use crate::commit::{commit, Tracking};
use crate::events::{record, Kind};
use crate::objects::{meta_str, now};
use crate::registry::ResourceType;
use crate::server::State;
use serde_json::{json, Value};
use std::sync::Arc;

const HPA: &str = "horizontal-pod-autoscaler";

fn target_resource(kind: &str) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        "Deployment" => ("apps", "deployments"),
        "StatefulSet" => ("apps", "statefulsets"),
        "ReplicaSet" => ("apps", "replicasets"),
        _ => return None,
    })
}

/// The HPAs in `ns` whose target is `workload`.
pub(super) fn targeting(state: &State, ns: &str, workload: &Value) -> Vec<Key> {
    let resource = (
        "autoscaling".to_string(),
        "horizontalpodautoscalers".to_string(),
    );
    let kind = workload.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = meta_str(workload, "name").unwrap_or("");
    state
        .store
        .list(&resource, Some(ns))
        .iter()
        .filter(|h| {
            h.pointer("/spec/scaleTargetRef/kind")
                .and_then(Value::as_str)
                == Some(kind)
                && h.pointer("/spec/scaleTargetRef/name")
                    .and_then(Value::as_str)
                    == Some(name)
        })
        .map(|h| {
            (
                resource.clone(),
                ns.to_string(),
                meta_str(h, "name").unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn cond(old: &Value, kind: &str, status: &str, reason: &str, message: &str) -> Value {
    let transition = find_condition(old, kind)
        .filter(|c| c["status"] == status)
        .and_then(|c| c.get("lastTransitionTime").cloned())
        .unwrap_or(json!(now()));
    json!({"type": kind, "status": status, "lastTransitionTime": transition, "reason": reason, "message": message})
}

/// What a failed metric fetch says, by the first metric's type.
fn metrics_failure(hpa: &Value) -> (&'static str, String) {
    let first = hpa.pointer("/spec/metrics/0");
    let kind = first
        .and_then(|m| m.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("Resource");
    match kind {
        "Pods" => ("FailedGetPodsMetric", "the HPA was unable to compute the replica count: unable to get metric: unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered".to_string()),
        "Object" => ("FailedGetObjectMetric", "the HPA was unable to compute the replica count: unable to get metric: unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered".to_string()),
        "External" => ("FailedGetExternalMetric", "the HPA was unable to compute the replica count: unable to get external metric: unable to fetch metrics from external metrics API: no external metrics API (external.metrics.k8s.io) registered".to_string()),
        _ => {
            let resource = first
                .and_then(|m| m.pointer("/resource/name"))
                .and_then(Value::as_str)
                .unwrap_or("cpu");
            ("FailedGetResourceMetric", format!(
                "the HPA was unable to compute the replica count: failed to get {resource} utilization: unable to get metrics for resource {resource}: unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)"))
        }
    }
}

pub(super) fn hpa(run: &mut Run, rt: &Arc<ResourceType>, hpa: &Value) {
    let ns = meta_str(hpa, "namespace").unwrap_or("").to_string();
    let kind = hpa
        .pointer("/spec/scaleTargetRef/kind")
        .and_then(Value::as_str)
        .unwrap_or("");
    let target_name = hpa
        .pointer("/spec/scaleTargetRef/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let min = hpa
        .pointer("/spec/minReplicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let max = hpa
        .pointer("/spec/maxReplicas")
        .and_then(Value::as_i64)
        .unwrap_or(min);
    let target = target_resource(kind).and_then(|(g, p)| {
        let t = find_type(run.state, g, p)?;
        let obj = run
            .state
            .store
            .get(&(g.to_string(), p.to_string()), &ns, target_name)?;
        Some((t, obj))
    });
    let mut status = json!({"currentReplicas": 0, "desiredReplicas": 0});
    let Some((target_rt, target)) = target else {
        let plural = target_resource(kind).map_or("", |(_, p)| p);
        let group = target_resource(kind).map_or("", |(g, _)| g);
        let message = format!("the HPA controller was unable to get the target's current scale: {plural}/scale.{group} \"{target_name}\" not found");
        status["conditions"] = json!([cond(
            hpa,
            "AbleToScale",
            "False",
            "FailedGetScale",
            &message
        )]);
        set_status(run.state, rt, hpa, status);
        return;
    };
    let current = target
        .pointer("/status/replicas")
        .and_then(Value::as_i64)
        .unwrap_or_else(|| replicas(&target));
    let spec_replicas = replicas(&target);
    let desired = if spec_replicas == 0 && min != 0 {
        spec_replicas
    } else {
        spec_replicas.clamp(min.min(max), max)
    };
    status["currentReplicas"] = json!(current);
    status["desiredReplicas"] = json!(desired);
    let able = cond(
        hpa,
        "AbleToScale",
        "True",
        "SucceededGetScale",
        "the HPA controller was able to get the target's current scale",
    );
    let (reason, message) = metrics_failure(hpa);
    let mut conditions = vec![able];
    if spec_replicas == 0 && min != 0 {
        conditions.push(cond(
            hpa,
            "ScalingActive",
            "False",
            "ScalingDisabled",
            "scaling is disabled since the replica count of the target is zero",
        ));
    } else if desired != spec_replicas {
        let why = if spec_replicas > max {
            "Current number of replicas above Spec.MaxReplicas"
        } else {
            "Current number of replicas below Spec.MinReplicas"
        };
        let mut scaled = (*target).clone();
        scaled["spec"]["replicas"] = json!(desired);
        let by = Tracking::Update {
            manager: "kube-controller-manager",
            subresource: Some("scale"),
        };
        if commit(
            run.state,
            &target_rt,
            Some(target.clone()),
            scaled,
            false,
            by,
        )
        .is_ok()
        {
            status["lastScaleTime"] = json!(now());
            let message = format!("New size: {desired}; reason: {why}");
            record(
                run.state,
                hpa,
                Kind::Normal,
                "SuccessfulRescale",
                &message,
                HPA,
            );
        }
        conditions.push(cond(
            hpa,
            "ScalingActive",
            "True",
            "ValidMetricFound",
            "the HPA was able to successfully calculate a replica count",
        ));
    } else {
        conditions.push(cond(hpa, "ScalingActive", "False", reason, &message));
    }
    if let (Some(t), None) = (
        hpa.pointer("/status/lastScaleTime"),
        status.get("lastScaleTime"),
    ) {
        status["lastScaleTime"] = t.clone();
    }
    status["observedGeneration"] = json!(super::generation(hpa));
    status["conditions"] = json!(conditions);
    set_status(run.state, rt, hpa, status);
}
