//! Resource health as Argo CD's built-in health checks (gitops-engine) judge
//! it, for the kinds they cover; other kinds have no health, as upstream.

use super::gitops_api::str_at;
use serde_json::{json, Value};

fn int(v: &Value, p: &str) -> i64 {
    v.pointer(p).and_then(Value::as_i64).unwrap_or(0)
}

fn cond<'a>(v: &'a Value, t: &str) -> Option<&'a Value> {
    v.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(t))
}

fn h(status: &str, message: &str) -> Option<Value> {
    if message.is_empty() {
        Some(json!({"status": status}))
    } else {
        Some(json!({"status": status, "message": message}))
    }
}

pub(crate) fn health(group: &str, kind: &str, live: &Value) -> Option<Value> {
    match (group, kind) {
        ("apps", "Deployment") => deployment(live),
        ("apps", "StatefulSet" | "ReplicaSet") => replicated(live, "/status/readyReplicas"),
        ("apps", "DaemonSet") => {
            let want = int(live, "/status/desiredNumberScheduled");
            let ready = int(live, "/status/numberReady");
            if int(live, "/status/observedGeneration") < int(live, "/metadata/generation") {
                h("Progressing", "Waiting for rollout to finish: observed daemon set generation less than desired generation")
            } else if ready < want {
                h("Progressing", &format!("Waiting for daemon set {:?} rollout to finish: {ready} of {want} updated pods are available...", str_at(live, "/metadata/name").unwrap_or("")))
            } else {
                h("Healthy", "")
            }
        }
        ("", "Pod") => pod(live),
        ("", "Service") => {
            let lb = str_at(live, "/spec/type") == Some("LoadBalancer");
            let ingress = live
                .pointer("/status/loadBalancer/ingress")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            if lb && !ingress {
                h("Progressing", "")
            } else {
                h("Healthy", "")
            }
        }
        ("", "PersistentVolumeClaim") => match str_at(live, "/status/phase") {
            Some("Bound") => h("Healthy", ""),
            Some("Lost") => h("Degraded", ""),
            _ => h("Progressing", ""),
        },
        ("batch", "Job") => {
            let is_true = |t| {
                cond(live, t)
                    .and_then(|c| c.get("status"))
                    .and_then(Value::as_str)
                    == Some("True")
            };
            if is_true("Complete") {
                h("Healthy", "Job completed")
            } else if is_true("Failed") {
                h("Degraded", "Job failed")
            } else {
                h("Progressing", "")
            }
        }
        ("argoproj.io", "Application") => live
            .pointer("/status/health/status")
            .and_then(Value::as_str)
            .and_then(|s| h(s, "")),
        _ => None,
    }
}

fn replicated(live: &Value, ready_path: &str) -> Option<Value> {
    let want = live
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    if int(live, "/status/observedGeneration") < int(live, "/metadata/generation") {
        return h(
            "Progressing",
            "Waiting for rollout to finish: observed generation less than desired generation",
        );
    }
    if int(live, ready_path) < want {
        return h(
            "Progressing",
            &format!(
                "Waiting for rollout to finish: {} of {want} pods are ready...",
                int(live, ready_path)
            ),
        );
    }
    h("Healthy", "")
}

fn deployment(live: &Value) -> Option<Value> {
    if live.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
        return h("Suspended", "Deployment is paused");
    }
    if int(live, "/status/observedGeneration") < int(live, "/metadata/generation") {
        return h("Progressing", "Waiting for rollout to finish: observed deployment generation less than desired generation");
    }
    let name = str_at(live, "/metadata/name").unwrap_or("");
    if cond(live, "Progressing")
        .and_then(|c| c.get("reason"))
        .and_then(Value::as_str)
        == Some("ProgressDeadlineExceeded")
    {
        return h(
            "Degraded",
            &format!("Deployment {name:?} exceeded its progress deadline"),
        );
    }
    let want = live
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let updated = int(live, "/status/updatedReplicas");
    let replicas = int(live, "/status/replicas");
    let available = int(live, "/status/availableReplicas");
    if updated < want {
        return h("Progressing", &format!("Waiting for rollout to finish: {updated} out of {want} new replicas have been updated..."));
    }
    if replicas > updated {
        return h(
            "Progressing",
            &format!(
                "Waiting for rollout to finish: {} old replicas are pending termination...",
                replicas - updated
            ),
        );
    }
    if available < updated {
        return h("Progressing", &format!("Waiting for rollout to finish: {available} of {updated} updated replicas are available..."));
    }
    h("Healthy", "")
}

fn pod(live: &Value) -> Option<Value> {
    let crashing = live
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(|c| {
            let reason = c.pointer("/state/waiting/reason").and_then(Value::as_str)?;
            (reason == "CrashLoopBackOff"
                || reason == "ImagePullBackOff"
                || reason == "ErrImagePull")
                .then(|| {
                    c.pointer("/state/waiting/message")
                        .and_then(Value::as_str)
                        .unwrap_or(reason)
                        .to_string()
                })
        });
    if let Some(m) = crashing {
        return h("Degraded", &m);
    }
    match str_at(live, "/status/phase") {
        Some("Succeeded") => h("Healthy", ""),
        Some("Failed") => h("Degraded", str_at(live, "/status/message").unwrap_or("")),
        Some("Running") => {
            let ready = cond(live, "Ready")
                .and_then(|c| c.get("status"))
                .and_then(Value::as_str)
                == Some("True");
            if ready {
                h("Healthy", "")
            } else {
                h("Progressing", "")
            }
        }
        _ => h("Progressing", ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployments_are_judged_like_gitops_engine() {
        let d = |status: Value| json!({"metadata": {"name": "web", "generation": 1}, "spec": {"replicas": 2}, "status": status});
        let ready = d(
            json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}),
        );
        assert_eq!(
            health("apps", "Deployment", &ready).unwrap()["status"],
            "Healthy"
        );
        let rolling = d(
            json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1}),
        );
        assert_eq!(
            health("apps", "Deployment", &rolling).unwrap()["status"],
            "Progressing"
        );
        let stuck = d(
            json!({"observedGeneration": 1, "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}),
        );
        assert_eq!(
            health("apps", "Deployment", &stuck).unwrap()["status"],
            "Degraded"
        );
        assert!(health("", "ConfigMap", &json!({})).is_none());
    }
}
