//! The Job controller: runs `parallelism` Pods at a time until
//! `completions` have succeeded (the Pods stay, phase Succeeded, as on a
//! cluster), then reports `Complete`; Pods that fail (a `broken` image with
//! `restartPolicy: Never`, or restarts under OnFailure) count against
//! `backoffLimit`, past which the Job reports `Failed` with
//! `BackoffLimitExceeded` and its running Pods are removed. `suspend` stops
//! it. Status fields and conditions are the controller's.

use super::{create_pod, delete_pod, owned_pods, pod_phase, pod_ready, set_status, Run};
use crate::events::{record, Kind};
use crate::objects::{meta_str, now};
use crate::registry::ResourceType;
use serde_json::{json, Value};
use std::sync::Arc;

const JOBS: &str = "job-controller";

fn spec_i64(job: &Value, field: &str, default: i64) -> i64 {
    job.pointer(&format!("/spec/{field}"))
        .and_then(Value::as_i64)
        .unwrap_or(default)
}

fn condition(kind: &str, reason: &str, message: &str, old: &Value) -> Value {
    let kept =
        super::find_condition(old, kind).filter(|c| c["status"] == "True" && c["reason"] == reason);
    if let Some(c) = kept {
        return c.clone();
    }
    let t = now();
    json!({"type": kind, "status": "True", "reason": reason, "message": message,
           "lastProbeTime": t, "lastTransitionTime": t})
}

fn restarts(pod: &Value) -> i64 {
    pod.pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .map(|cs| cs.iter().filter_map(|c| c["restartCount"].as_i64()).sum())
        .unwrap_or(0)
}

pub(super) fn job(run: &mut Run, rt: &Arc<ResourceType>, job: &Value) {
    let old_status = job.get("status").cloned().unwrap_or(json!({}));
    let done = ["Complete", "Failed"]
        .iter()
        .any(|k| super::find_condition(job, k).is_some_and(|c| c["status"] == "True"));
    let pods = owned_pods(run.state, job);
    let succeeded = pods.iter().filter(|p| pod_phase(p) == "Succeeded").count() as i64;
    let failed = pods.iter().filter(|p| pod_phase(p) == "Failed").count() as i64
        + pods.iter().map(|p| restarts(p)).sum::<i64>();
    let mut active: Vec<&Arc<Value>> = pods
        .iter()
        .filter(|p| !matches!(pod_phase(p), "Succeeded" | "Failed"))
        .collect();
    let completions = spec_i64(job, "completions", 1);
    let parallelism = spec_i64(job, "parallelism", 1);
    let backoff_limit = spec_i64(job, "backoffLimit", 6);
    let suspended = job.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true);
    let start = old_status
        .get("startTime")
        .cloned()
        .unwrap_or(json!(run.memo.wall(run.memo.seen)));
    let mut status =
        json!({"startTime": start, "ready": 0, "terminating": 0, "uncountedTerminatedPods": {}});
    let mut conditions = Vec::new();
    if done {
        status = old_status.clone();
    } else if failed > backoff_limit {
        for p in active.drain(..) {
            delete_pod(run.state, p);
        }
        let message = "Job has reached the specified backoff limit";
        conditions.push(condition(
            "FailureTarget",
            "BackoffLimitExceeded",
            message,
            job,
        ));
        conditions.push(condition("Failed", "BackoffLimitExceeded", message, job));
        record(
            run.state,
            job,
            Kind::Warning,
            "BackoffLimitExceeded",
            message,
            JOBS,
        );
    } else if succeeded >= completions {
        let message = "Reached expected number of succeeded pods";
        conditions.push(condition(
            "SuccessCriteriaMet",
            "CompletionsReached",
            message,
            job,
        ));
        conditions.push(condition("Complete", "CompletionsReached", message, job));
        status["completionTime"] = old_status
            .get("completionTime")
            .cloned()
            .unwrap_or(json!(now()));
        record(
            run.state,
            job,
            Kind::Normal,
            "Completed",
            "Job completed",
            JOBS,
        );
    } else if suspended {
        for p in active.drain(..) {
            delete_pod(run.state, p);
        }
        conditions.push(condition("Suspended", "JobSuspended", "Job suspended", job));
    } else {
        let want = parallelism.min(completions - succeeded).max(0) as usize;
        let template = job.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let name = meta_str(job, "name").unwrap_or("").to_string();
        let uid = meta_str(job, "uid").unwrap_or("").to_string();
        let labels = [
            ("batch.kubernetes.io/controller-uid", uid.clone()),
            ("batch.kubernetes.io/job-name", name.clone()),
            ("controller-uid", uid.clone()),
            ("job-name", name.clone()),
        ];
        let mut created = Vec::new();
        while active.len() + created.len() < want {
            let pod_name = super::generated_pod_name(
                run.state,
                meta_str(job, "namespace").unwrap_or(""),
                &name,
            );
            match create_pod(run.state, job, &pod_name, &template, &labels, None) {
                Some(p) => {
                    record(
                        run.state,
                        job,
                        Kind::Normal,
                        "SuccessfulCreate",
                        &format!("Created pod: {pod_name}"),
                        JOBS,
                    );
                    created.push(p);
                }
                None => break,
            }
        }
        status["active"] = json!(active.len() + created.len());
    }
    if !done {
        status["ready"] = json!(active.iter().filter(|p| pod_ready(p)).count());
        if succeeded > 0 {
            status["succeeded"] = json!(succeeded);
        }
        if failed > 0 {
            status["failed"] = json!(failed);
        }
        if status["active"] == json!(0) {
            if let Some(m) = status.as_object_mut() {
                m.remove("active");
            }
        }
        if !conditions.is_empty() {
            status["conditions"] = json!(conditions);
        }
    }
    set_status(run.state, rt, job, status);
}
