//! Health of live objects, with Argo CD's rules (gitops-engine `pkg/health`),
//! so users moving from Argo CD see the same verdicts.
//!
//! Pure: a live object (JSON) in, a [`Health`] and a one-line reason out. The
//! workload rules follow `kubectl rollout status`: a rollout is Progressing
//! until the controller has observed the latest generation and every replica
//! is updated and available. Kinds without a rule are Healthy once they exist;
//! `Missing` is for the caller, who knows an object is absent.

use serde_json::Value;

use crate::model::Health;

/// An object's health and the reason, e.g. `(Progressing, "Waiting for rollout
/// to finish: 1 of 3 updated replicas are available...")`.
pub fn health(obj: &Value) -> (Health, String) {
    if obj
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        return (Health::Progressing, "Pending deletion".to_string());
    }
    let api_version = str_at(obj, "/apiVersion");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    match (group, str_at(obj, "/kind")) {
        ("apps" | "extensions", "Deployment") => deployment(obj),
        ("apps", "StatefulSet") => stateful_set(obj),
        ("apps" | "extensions", "DaemonSet") => daemon_set(obj),
        ("apps" | "extensions", "ReplicaSet") => replica_set(obj),
        ("", "Pod") => pod(obj),
        ("", "Service") => service(obj),
        ("networking.k8s.io" | "extensions", "Ingress") => ingress(obj),
        ("", "PersistentVolumeClaim") => pvc(obj),
        ("batch", "Job") => job(obj),
        ("batch", "CronJob") => cron_job(obj),
        _ => (Health::Healthy, String::new()),
    }
}

/// An app's health: its worst child (Healthy when it has none).
pub fn app_health(children: impl IntoIterator<Item = Health>) -> Health {
    children.into_iter().max().unwrap_or(Health::Healthy)
}

fn str_at<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// Counters in status are omitted when zero, so absent reads as 0.
fn int_at(obj: &Value, pointer: &str) -> i64 {
    obj.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn opt_int_at(obj: &Value, pointer: &str) -> Option<i64> {
    obj.pointer(pointer).and_then(Value::as_i64)
}

fn bool_at(obj: &Value, pointer: &str) -> bool {
    obj.pointer(pointer)
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn items<'a>(obj: &'a Value, pointer: &str) -> &'a [Value] {
    obj.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    items(obj, "/status/conditions")
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn condition_true<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    condition(obj, kind).filter(|c| c.get("status").and_then(Value::as_str) == Some("True"))
}

fn message_of(condition: &Value) -> String {
    str_at(condition, "/message").to_string()
}

fn generation_observed(obj: &Value) -> bool {
    int_at(obj, "/metadata/generation") <= int_at(obj, "/status/observedGeneration")
}

fn deployment(obj: &Value) -> (Health, String) {
    if bool_at(obj, "/spec/paused") {
        return (Health::Suspended, "Deployment is paused".to_string());
    }
    if !generation_observed(obj) {
        return (
            Health::Progressing,
            "Waiting for rollout to finish: observed deployment generation less than desired generation".to_string(),
        );
    }
    let progressing = condition(obj, "Progressing");
    if progressing.is_some_and(|c| str_at(c, "/reason") == "ProgressDeadlineExceeded") {
        let name = str_at(obj, "/metadata/name");
        return (
            Health::Degraded,
            format!("Deployment {name:?} exceeded its progress deadline"),
        );
    }
    let replicas = opt_int_at(obj, "/spec/replicas");
    let status_replicas = int_at(obj, "/status/replicas");
    let updated = int_at(obj, "/status/updatedReplicas");
    let available = int_at(obj, "/status/availableReplicas");
    if let Some(want) = replicas.filter(|want| updated < *want) {
        return (
            Health::Progressing,
            format!("Waiting for rollout to finish: {updated} out of {want} new replicas have been updated..."),
        );
    }
    if status_replicas > updated {
        return (
            Health::Progressing,
            format!(
                "Waiting for rollout to finish: {} old replicas are pending termination...",
                status_replicas - updated
            ),
        );
    }
    if available < updated {
        return (
            Health::Progressing,
            format!("Waiting for rollout to finish: {available} of {updated} updated replicas are available..."),
        );
    }
    let want = replicas.unwrap_or(status_replicas);
    (Health::Healthy, format!("{available}/{want} ready"))
}

fn stateful_set(obj: &Value) -> (Health, String) {
    let observed = int_at(obj, "/status/observedGeneration");
    if observed == 0 || int_at(obj, "/metadata/generation") > observed {
        return (
            Health::Progressing,
            "Waiting for statefulset spec update to be observed...".to_string(),
        );
    }
    let replicas = opt_int_at(obj, "/spec/replicas");
    let ready = int_at(obj, "/status/readyReplicas");
    let updated = int_at(obj, "/status/updatedReplicas");
    if let Some(want) = replicas.filter(|want| ready < *want) {
        return (
            Health::Progressing,
            format!("Waiting for {} pods to be ready...", want - ready),
        );
    }
    let strategy = str_at(obj, "/spec/updateStrategy/type");
    if strategy == "RollingUpdate" && obj.pointer("/spec/updateStrategy/rollingUpdate").is_some() {
        if let (Some(want), Some(partition)) = (
            replicas,
            opt_int_at(obj, "/spec/updateStrategy/rollingUpdate/partition"),
        ) {
            if updated < want - partition {
                return (
                    Health::Progressing,
                    format!(
                        "Waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated...",
                        want - partition
                    ),
                );
            }
        }
        return (
            Health::Healthy,
            format!("partitioned roll out complete: {updated} new pods have been updated..."),
        );
    }
    if strategy == "OnDelete" {
        return (
            Health::Healthy,
            format!("statefulset has {ready} ready pods"),
        );
    }
    let update_revision = str_at(obj, "/status/updateRevision");
    let current_revision = str_at(obj, "/status/currentRevision");
    if update_revision != current_revision {
        return (
            Health::Progressing,
            format!("waiting for statefulset rolling update to complete {updated} pods at revision {update_revision}..."),
        );
    }
    (
        Health::Healthy,
        format!(
            "statefulset rolling update complete {} pods at revision {current_revision}...",
            int_at(obj, "/status/currentReplicas")
        ),
    )
}

fn daemon_set(obj: &Value) -> (Health, String) {
    if !generation_observed(obj) {
        return (
            Health::Progressing,
            "Waiting for rollout to finish: observed daemon set generation less than desired generation".to_string(),
        );
    }
    let name = str_at(obj, "/metadata/name");
    let desired = int_at(obj, "/status/desiredNumberScheduled");
    let updated = int_at(obj, "/status/updatedNumberScheduled");
    let available = int_at(obj, "/status/numberAvailable");
    if str_at(obj, "/spec/updateStrategy/type") == "OnDelete" {
        return (
            Health::Healthy,
            format!("daemon set {updated} out of {desired} new pods have been updated"),
        );
    }
    if updated < desired {
        return (
            Health::Progressing,
            format!("Waiting for daemon set {name:?} rollout to finish: {updated} out of {desired} new pods have been updated..."),
        );
    }
    if available < desired {
        return (
            Health::Progressing,
            format!("Waiting for daemon set {name:?} rollout to finish: {available} of {desired} updated pods are available..."),
        );
    }
    (Health::Healthy, format!("{available}/{desired} available"))
}

fn replica_set(obj: &Value) -> (Health, String) {
    if !generation_observed(obj) {
        return (
            Health::Progressing,
            "Waiting for rollout to finish: observed replica set generation less than desired generation".to_string(),
        );
    }
    if let Some(failure) = condition_true(obj, "ReplicaFailure") {
        return (Health::Degraded, message_of(failure));
    }
    let available = int_at(obj, "/status/availableReplicas");
    match opt_int_at(obj, "/spec/replicas") {
        Some(want) if available < want => (
            Health::Progressing,
            format!("Waiting for rollout to finish: {available} out of {want} new replicas are available..."),
        ),
        want => (
            Health::Healthy,
            format!("{available}/{} ready", want.unwrap_or(available)),
        ),
    }
}

fn pod(obj: &Value) -> (Health, String) {
    // Pods that run to completion (OnFailure/Never) are typically hooks or job
    // pods: a pull error there is left to the phase, as Argo CD does.
    let restart_policy = match str_at(obj, "/spec/restartPolicy") {
        "" => "Always",
        policy => policy,
    };
    let statuses: Vec<&Value> = items(obj, "/status/initContainerStatuses")
        .iter()
        .chain(items(obj, "/status/containerStatuses"))
        .collect();
    if restart_policy == "Always" {
        let errors: Vec<String> = statuses
            .iter()
            .filter_map(|c| {
                let reason = str_at(c, "/state/waiting/reason");
                let failing = reason.starts_with("Err")
                    || reason.ends_with("Error")
                    || reason.ends_with("BackOff");
                failing.then(|| {
                    let name = str_at(c, "/name");
                    match str_at(c, "/state/waiting/message") {
                        "" => format!("{name}: {reason}"),
                        message => format!("{name}: {reason}: {message}"),
                    }
                })
            })
            .collect();
        if !errors.is_empty() {
            return (Health::Degraded, errors.join(", "));
        }
    }
    let message = str_at(obj, "/status/message").to_string();
    match str_at(obj, "/status/phase") {
        "Pending" => (Health::Progressing, or(message, "Pending")),
        "Succeeded" => (Health::Healthy, or(message, "Succeeded")),
        "Failed" => {
            let from_containers = statuses.iter().find_map(|c| failure_message(c));
            (
                Health::Degraded,
                or(message, &from_containers.unwrap_or_default()),
            )
        }
        "Running" if restart_policy == "Always" => {
            let containers = items(obj, "/status/containerStatuses");
            let ready = containers.iter().filter(|c| bool_at(c, "/ready")).count();
            let summary = format!("{ready}/{} containers ready", containers.len());
            if condition_true(obj, "Ready").is_some() {
                (Health::Healthy, or(message, &summary))
            } else if containers
                .iter()
                .any(|c| c.pointer("/lastState/terminated").is_some())
            {
                (Health::Degraded, or(message, &summary))
            } else {
                (Health::Progressing, or(message, &summary))
            }
        }
        "Running" => (Health::Progressing, or(message, "Running")),
        phase => (
            Health::Unknown,
            or(message, &format!("Unknown pod phase {phase:?}")),
        ),
    }
}

fn or(message: String, fallback: &str) -> String {
    match message.is_empty() {
        true => fallback.to_string(),
        false => message,
    }
}

fn failure_message(container: &Value) -> Option<String> {
    let terminated = container.pointer("/state/terminated")?;
    let message = str_at(terminated, "/message");
    if !message.is_empty() {
        return Some(message.to_string());
    }
    if str_at(terminated, "/reason") == "OOMKilled" {
        return Some("OOMKilled".to_string());
    }
    let code = int_at(terminated, "/exitCode");
    (code != 0).then(|| {
        format!(
            "container {:?} failed with exit code {code}",
            str_at(container, "/name")
        )
    })
}

fn has_load_balancer_ingress(obj: &Value) -> bool {
    !items(obj, "/status/loadBalancer/ingress").is_empty()
}

fn service(obj: &Value) -> (Health, String) {
    if str_at(obj, "/spec/type") == "LoadBalancer" && !has_load_balancer_ingress(obj) {
        return (
            Health::Progressing,
            "Waiting for load balancer address".to_string(),
        );
    }
    (Health::Healthy, String::new())
}

fn ingress(obj: &Value) -> (Health, String) {
    match has_load_balancer_ingress(obj) {
        true => (Health::Healthy, String::new()),
        false => (
            Health::Progressing,
            "Waiting for load balancer address".to_string(),
        ),
    }
}

fn pvc(obj: &Value) -> (Health, String) {
    match str_at(obj, "/status/phase") {
        "Bound" => (Health::Healthy, "Bound".to_string()),
        "Pending" => (Health::Progressing, "Pending".to_string()),
        "Lost" => (Health::Degraded, "Lost".to_string()),
        phase => (Health::Unknown, format!("Unknown claim phase {phase:?}")),
    }
}

fn job(obj: &Value) -> (Health, String) {
    if let Some(failed) = condition_true(obj, "Failed") {
        return (Health::Degraded, or(message_of(failed), "Job failed"));
    }
    if let Some(complete) = condition_true(obj, "Complete") {
        return (Health::Healthy, or(message_of(complete), "Job completed"));
    }
    if bool_at(obj, "/spec/suspend") {
        return (Health::Suspended, "Job is suspended".to_string());
    }
    let active = int_at(obj, "/status/active");
    (Health::Progressing, format!("{active} active"))
}

fn cron_job(obj: &Value) -> (Health, String) {
    if bool_at(obj, "/spec/suspend") {
        return (Health::Suspended, "CronJob is suspended".to_string());
    }
    match str_at(obj, "/status/lastScheduleTime") {
        "" => (Health::Healthy, "Not scheduled yet".to_string()),
        at => (Health::Healthy, format!("Last scheduled at {at}")),
    }
}

#[cfg(test)]
mod tests;
