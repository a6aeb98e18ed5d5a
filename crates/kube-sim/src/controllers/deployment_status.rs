//! A Deployment's status as kube-controller-manager computes it
//! (`calculateStatus`, `syncRolloutStatus`, `checkPausedConditions`): the
//! replica counts summed over its ReplicaSets, Available against
//! `replicas - maxUnavailable`, and the Progressing condition with its
//! reasons (`NewReplicaSetCreated`, `FoundNewReplicaSet`,
//! `ReplicaSetUpdated`, `NewReplicaSetAvailable`, `DeploymentPaused`,
//! `DeploymentResumed`, `ProgressDeadlineExceeded`), kept apart from the
//! rollout itself.

use super::deployments::status_i64;
use super::rollout;
use super::{find_condition, generation, replicas, Run};
use crate::objects::{meta_str, now};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// Set `new` in `conds` as `SetDeploymentCondition` does: unchanged when
/// status and reason are the same, the transition time kept when only the
/// reason changes.
fn set_condition(old: &Value, new: Value) -> Value {
    let kind = new["type"].as_str().unwrap_or("");
    match find_condition(old, kind) {
        Some(c) if c["status"] == new["status"] && c["reason"] == new["reason"] => c.clone(),
        Some(c) if c["status"] == new["status"] => {
            let mut new = new;
            new["lastTransitionTime"] = c["lastTransitionTime"].clone();
            new
        }
        _ => new,
    }
}

fn new_condition(kind: &str, status: &str, reason: &str, message: &str) -> Value {
    let t = now();
    json!({"type": kind, "status": status, "lastUpdateTime": t, "lastTransitionTime": t,
           "reason": reason, "message": message})
}

pub(super) fn calculate_status(
    run: &mut Run,
    d: &Value,
    new: Option<&Value>,
    old: &[Arc<Value>],
    paused: bool,
    created: Option<String>,
) -> Value {
    let n = replicas(d);
    let sum = |field: &str| -> i64 {
        old.iter().map(|r| status_i64(r, field)).sum::<i64>()
            + new.map_or(0, |rs| status_i64(rs, field))
    };
    let available = sum("availableReplicas");
    let total = sum("replicas");
    let updated = new.map_or(0, |rs| status_i64(rs, "replicas"));
    let mut status = json!({"observedGeneration": generation(d), "replicas": total,
        "updatedReplicas": updated, "readyReplicas": sum("readyReplicas"), "availableReplicas": available});
    if n - available > 0 {
        status["unavailableReplicas"] = json!(n - available);
    }
    if let Some(m) = status.as_object_mut() {
        m.retain(|k, v| k == "observedGeneration" || v != &json!(0));
    }
    let min_available = n - rollout::max_unavailable(d, n);
    let available_cond = if available >= min_available {
        new_condition(
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
        )
    } else {
        new_condition(
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    };
    let available_cond = set_condition(d, available_cond);
    let progressing = progressing(
        run, d, new, &status, total, updated, available, paused, created,
    );
    let mut conds = vec![available_cond];
    conds.extend(progressing);
    status["conditions"] = json!(conds);
    status
}

#[allow(clippy::too_many_arguments)]
fn progressing(
    run: &mut Run,
    d: &Value,
    new: Option<&Value>,
    status: &Value,
    total: i64,
    updated: i64,
    available: i64,
    paused: bool,
    created: Option<String>,
) -> Option<Value> {
    let n = replicas(d);
    let current = find_condition(d, "Progressing").cloned();
    let reason = current
        .as_ref()
        .and_then(|c| c["reason"].as_str())
        .unwrap_or("")
        .to_string();
    let timed_out_before = reason == "ProgressDeadlineExceeded";
    // checkPausedConditions
    if paused && !timed_out_before {
        if reason != "DeploymentPaused" {
            run.memo.progress = Some(run.now);
            return Some(new_condition(
                "Progressing",
                "Unknown",
                "DeploymentPaused",
                "Deployment is paused",
            ));
        }
        return current;
    }
    let mut current = current;
    if !paused && reason == "DeploymentPaused" {
        run.memo.progress = Some(run.now);
        current = Some(new_condition(
            "Progressing",
            "Unknown",
            "DeploymentResumed",
            "Deployment is resumed",
        ));
    }
    if let Some(m) = created {
        run.memo.progress = Some(run.now);
        current = Some(set_condition(
            d,
            new_condition("Progressing", "True", "NewReplicaSetCreated", &m),
        ));
    } else if current.is_none() {
        if let Some(rs) = new {
            run.memo.progress = Some(run.now);
            let m = format!(
                "Found new replica set \"{}\"",
                meta_str(rs, "name").unwrap_or("")
            );
            current = Some(new_condition(
                "Progressing",
                "True",
                "FoundNewReplicaSet",
                &m,
            ));
        }
    }
    let deadline = d
        .pointer("/spec/progressDeadlineSeconds")
        .and_then(Value::as_u64);
    let Some(deadline) = deadline.filter(|s| *s < i32::MAX as u64) else {
        return current;
    };
    let rs_name = new.and_then(|rs| meta_str(rs, "name")).unwrap_or("");
    let subject = if new.is_some() {
        format!("ReplicaSet \"{rs_name}\"")
    } else {
        format!("Deployment \"{}\"", meta_str(d, "name").unwrap_or(""))
    };
    let complete_before = status["replicas"] == status["updatedReplicas"]
        && current
            .as_ref()
            .is_some_and(|c| c["reason"] == "NewReplicaSetAvailable");
    if complete_before && total == updated && updated == n && available == n {
        return current;
    }
    let old_status = d.get("status").cloned().unwrap_or(json!({}));
    let was = |f: &str| old_status.get(f).and_then(Value::as_i64).unwrap_or(0);
    let now_ = |f: &str| status.get(f).and_then(Value::as_i64).unwrap_or(0);
    let complete =
        updated == n && total == n && available == n && now_("observedGeneration") >= generation(d);
    let progressed = now_("updatedReplicas") > was("updatedReplicas")
        || now_("readyReplicas") > was("readyReplicas")
        || now_("availableReplicas") > was("availableReplicas")
        || (was("replicas") - was("updatedReplicas"))
            > (now_("replicas") - now_("updatedReplicas"));
    if complete {
        run.memo.progress = Some(run.now);
        let c = new_condition(
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            &format!("{subject} has successfully progressed."),
        );
        return Some(match &current {
            Some(cur) => set_condition(&json!({"status": {"conditions": [cur]}}), c),
            None => c,
        });
    }
    if progressed {
        run.memo.progress = Some(run.now);
        let mut c = new_condition(
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            &format!("{subject} is progressing."),
        );
        if let Some(cur) = &current {
            if cur["status"] == "True" {
                c["lastTransitionTime"] = cur["lastTransitionTime"].clone();
            }
        }
        return Some(c);
    }
    if timed_out_before {
        return current;
    }
    let since = *run.memo.progress.get_or_insert(run.now);
    let due = since + Duration::from_secs(deadline);
    if run.now > due || (deadline == 0 && run.now >= due) {
        let c = new_condition(
            "Progressing",
            "False",
            "ProgressDeadlineExceeded",
            &format!("{subject} has timed out progressing."),
        );
        return Some(match &current {
            Some(cur) => set_condition(&json!({"status": {"conditions": [cur]}}), c),
            None => c,
        });
    }
    run.wake_at(due + Duration::from_millis(1));
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_keep_times_as_the_controller_does() {
        let old = json!({"status": {"conditions": [{"type": "Available", "status": "True", "reason": "A",
            "lastUpdateTime": "t0", "lastTransitionTime": "t0"}]}});
        let same = set_condition(&old, new_condition("Available", "True", "A", "m"));
        assert_eq!(same["lastUpdateTime"], "t0");
        let reason = set_condition(&old, new_condition("Available", "True", "B", "m"));
        assert_eq!(reason["lastTransitionTime"], "t0");
        assert_ne!(reason["lastUpdateTime"], "t0");
        let flipped = set_condition(&old, new_condition("Available", "False", "B", "m"));
        assert_ne!(flipped["lastTransitionTime"], "t0");
    }
}
