//! The scheduler and kubelet for Pods: a Pod is bound to a node, gets an IP
//! in that node's range, and its containers go from `ContainerCreating` to
//! running and ready `ready_after` after the Pod was first seen. Pods that
//! are not restarted (`restartPolicy` Never or OnFailure, as Jobs use) run
//! for one more `ready_after` and then succeed. A container whose image is
//! tagged `broken` starts, never turns ready and crashes: with
//! `restartPolicy: Never` the Pod fails, otherwise it goes into
//! CrashLoopBackOff with a growing `restartCount` and `lastState.terminated`
//! (what `kubectl logs --previous` reads), restarting after an exponential
//! back-off as the kubelet does. The status, conditions and Events are the
//! kubelet's.

use super::{find_condition, hash_of, is_broken_image, nodes, set_status, Run};
use crate::commit::{commit, Tracking};
use crate::events::{record, Kind};
use crate::objects::meta_str;
use crate::registry::ResourceType;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const SCHEDULER: &str = "default-scheduler";
const KUBELET: &str = "kubelet";
/// The kubelet's cap on the crash-loop back-off.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// When a broken container's runs start and end, relative to the Pod's
/// first sighting: the first run starts at `ready_after / 2` and crashes at
/// `ready_after`; after crash k the next run starts after a back-off of
/// `ready_after * 2^(k-1)` (capped at five minutes) and crashes at once.
/// Returns the (start, crash) of every run that has crashed by `now`, and
/// when the next crash is due.
pub(crate) fn crash_runs(
    seen: Instant,
    unit: Duration,
    now: Instant,
) -> (Vec<(Instant, Instant)>, Instant) {
    let unit = unit.max(Duration::from_millis(20));
    let mut runs = Vec::new();
    let mut start = seen + unit / 2;
    let mut crash = seen + unit;
    let mut backoff = unit;
    while crash <= now {
        runs.push((start, crash));
        start = crash + backoff.min(MAX_BACKOFF);
        crash = start + (unit / 2).min(Duration::from_secs(1));
        backoff = backoff.saturating_mul(2);
    }
    (runs, crash)
}

fn restarts_always(spec: &Value) -> bool {
    !matches!(
        spec.get("restartPolicy").and_then(Value::as_str),
        Some("Never" | "OnFailure")
    )
}

fn container_id(uid: &str, container: &str, run: usize) -> String {
    let a = hash_of(&format!("{uid}/{container}/{run}"));
    let b = hash_of(&format!("{container}/{run}/{uid}"));
    format!("containerd://{a:016x}{b:016x}{a:016x}{b:016x}")
}

fn image_id(image: &str) -> String {
    let repo = image.rsplit_once(':').map_or(image, |(r, _)| r);
    let h = hash_of(image);
    format!("{repo}@sha256:{h:016x}{h:016x}{h:016x}{h:016x}")
}

pub(super) fn pod(run: &mut Run, rt: &Arc<ResourceType>, obj: &Value) {
    let name = meta_str(obj, "name").unwrap_or("").to_string();
    let ns = meta_str(obj, "namespace").unwrap_or("").to_string();
    let uid = meta_str(obj, "uid").unwrap_or("").to_string();
    let spec = obj.get("spec").cloned().unwrap_or(json!({}));
    let key = format!("{ns}/{name}");
    // The scheduler binds a Pod nobody placed, unless another scheduler is
    // named for it (that one binds it, through pods/binding).
    let ours = spec
        .get("schedulerName")
        .and_then(Value::as_str)
        .is_none_or(|s| s == "default-scheduler");
    if spec.get("nodeName").and_then(Value::as_str).is_none() && !ours {
        return;
    }
    let node = match spec.get("nodeName").and_then(Value::as_str) {
        Some(n) => nodes::named(run.state, n).unwrap_or(nodes::Node {
            name: n.to_string(),
            ip: nodes::SIMULATED[0].1.to_string(),
            index: 0,
        }),
        None => {
            let node = nodes::pick(run.state, &key);
            let mut bound = obj.clone();
            bound["spec"]["nodeName"] = json!(node.name);
            if let Some(current) =
                run.state
                    .store
                    .get(&(rt.group.clone(), rt.plural.clone()), &ns, &name)
            {
                let by = Tracking::Update {
                    manager: "kube-scheduler",
                    subresource: Some("binding"),
                };
                // Its event comes back here with the node set.
                if commit(run.state, rt, Some(current), bound, false, by).is_ok() {
                    return;
                }
            }
            node
        }
    };
    let unit = run.ready_after;
    let elapsed = run.elapsed();
    let always = restarts_always(&spec);
    let never = spec.get("restartPolicy").and_then(Value::as_str) == Some("Never");
    let containers = spec
        .get("containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let any_broken = containers.iter().any(|c| {
        c.get("image")
            .and_then(Value::as_str)
            .is_some_and(is_broken_image)
    });
    let (runs, next_crash) = crash_runs(run.memo.seen, unit, run.now);
    let started_at = run.memo.wall(run.memo.seen + unit);
    let done_at = run.memo.seen + unit * 2;
    // A Pod that does not restart ends: failed at its crash, else done.
    let failed = never && any_broken && !runs.is_empty();
    let succeeded = !always && !any_broken && run.now >= done_at;
    let mut all_ready = true;
    let statuses: Vec<Value> = containers
        .iter()
        .map(|c| {
            let image = c.get("image").and_then(Value::as_str).unwrap_or("");
            let cname = c.get("name").and_then(Value::as_str).unwrap_or("");
            let broken = is_broken_image(image);
            let mut restart_count = 0;
            let mut last_state = json!({});
            let (state, ready, started) = if broken {
                if let Some((start, crash)) = runs.last() {
                    let terminated = json!({"exitCode": 1, "reason": "Error",
                        "startedAt": run.memo.wall(*start), "finishedAt": run.memo.wall(*crash),
                        "containerID": container_id(&uid, cname, runs.len())});
                    if failed {
                        (json!({"terminated": terminated}), false, false)
                    } else {
                        restart_count = runs.len();
                        last_state = json!({"terminated": terminated});
                        let back_off = unit.saturating_mul(1 << (runs.len() - 1).min(20)).min(MAX_BACKOFF);
                        (json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!(
                            "back-off {} restarting failed container={cname} pod={name}_{ns}({uid})",
                            go_duration(back_off))}}), false, false)
                    }
                } else if elapsed >= unit / 2 {
                    let start = run.memo.wall(run.memo.seen + unit / 2);
                    (json!({"running": {"startedAt": start}}), false, true)
                } else {
                    (json!({"waiting": {"reason": "ContainerCreating"}}), false, false)
                }
            } else if succeeded || (failed && elapsed >= unit) {
                let t = json!({"exitCode": 0, "reason": "Completed", "startedAt": started_at,
                    "finishedAt": run.memo.wall(done_at.min(run.now)),
                    "containerID": container_id(&uid, cname, 0)});
                (json!({"terminated": t}), false, false)
            } else if elapsed >= unit {
                (json!({"running": {"startedAt": started_at}}), true, true)
            } else {
                (json!({"waiting": {"reason": "ContainerCreating"}}), false, false)
            };
            all_ready &= ready;
            let mut s = json!({"name": cname, "image": image, "ready": ready, "started": started,
                "restartCount": restart_count, "state": state, "lastState": last_state});
            if state.get("waiting").is_none() || restart_count > 0 {
                s["imageID"] = json!(image_id(image));
                s["containerID"] = json!(container_id(&uid, cname, restart_count));
            } else {
                s["imageID"] = json!("");
            }
            s
        })
        .collect();
    let all_ready = all_ready && !containers.is_empty() && !failed && !succeeded;
    let phase = if failed {
        "Failed"
    } else if succeeded {
        "Succeeded"
    } else if elapsed >= unit || (any_broken && elapsed >= unit / 2) {
        "Running"
    } else {
        "Pending"
    };
    // Look again when the next step is due.
    for t in [run.memo.seen + unit / 2, run.memo.seen + unit, done_at] {
        run.wake_at(t);
    }
    if any_broken && !failed {
        run.wake_at(next_crash);
    }
    let unready: Vec<&str> = statuses
        .iter()
        .filter(|s| s["ready"] != json!(true))
        .filter_map(|s| s["name"].as_str())
        .collect();
    let (ready_status, ready_reason, ready_message) = if all_ready {
        ("True", None, None)
    } else if failed || succeeded {
        ("False", Some("PodCompleted"), None)
    } else {
        (
            "False",
            Some("ContainersNotReady"),
            Some(format!(
                "containers with unready status: [{}]",
                unready.join(" ")
            )),
        )
    };
    let running_now = phase == "Running" || phase == "Pending" && elapsed >= unit / 2;
    let conditions = json!([
        pod_condition(
            obj,
            "PodReadyToStartContainers",
            if running_now || phase != "Pending" {
                "True"
            } else {
                "False"
            },
            None,
            None
        ),
        pod_condition(
            obj,
            "Initialized",
            "True",
            failed
                .then_some("PodCompleted")
                .or(succeeded.then_some("PodCompleted")),
            None
        ),
        pod_condition(
            obj,
            "Ready",
            ready_status,
            ready_reason,
            ready_message.as_deref()
        ),
        pod_condition(
            obj,
            "ContainersReady",
            ready_status,
            ready_reason,
            ready_message.as_deref()
        ),
        pod_condition(obj, "PodScheduled", "True", None, None),
    ]);
    let start = obj
        .pointer("/status/startTime")
        .cloned()
        .unwrap_or(json!(run.memo.wall(run.memo.seen)));
    let ip = nodes::pod_ip(&node, &key);
    let status = json!({
        "phase": phase, "conditions": conditions, "hostIP": node.ip, "hostIPs": [{"ip": node.ip}],
        "podIP": ip, "podIPs": [{"ip": ip}], "startTime": start, "containerStatuses": statuses,
        "qosClass": qos_class(&containers),
    });
    pod_events(run, obj, &node.name, &status);
    set_status(run.state, rt, obj, status);
}

/// Go's `time.Duration` text, as the kubelet's back-off message prints it.
fn go_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else if s > 0 {
        format!("{s}s")
    } else {
        format!("{}ms", d.as_millis())
    }
}

fn pod_condition(
    old: &Value,
    kind: &str,
    status: &str,
    reason: Option<&str>,
    message: Option<&str>,
) -> Value {
    let transition = find_condition(old, kind)
        .filter(|c| c.get("status").and_then(Value::as_str) == Some(status))
        .and_then(|c| c.get("lastTransitionTime").cloned())
        .unwrap_or(json!(crate::objects::now()));
    let mut c = json!({"type": kind, "status": status, "lastProbeTime": null,
                       "lastTransitionTime": transition});
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    if let Some(m) = message {
        c["message"] = json!(m);
    }
    c
}

/// BestEffort without requests or limits, Guaranteed when every container
/// limits CPU and memory to what it requests, else Burstable.
fn qos_class(containers: &[Value]) -> &'static str {
    let res = |c: &Value, kind: &str, what: &str| {
        c.pointer(&format!("/resources/{kind}/{what}")).cloned()
    };
    let any = containers.iter().any(|c| {
        ["requests", "limits"].iter().any(|k| {
            c.pointer(&format!("/resources/{k}"))
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty())
        })
    });
    if !any {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        ["cpu", "memory"].iter().all(|what| {
            let limit = res(c, "limits", what);
            limit.is_some() && res(c, "requests", what).is_none_or(|r| Some(r) == limit)
        })
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

fn container_started(status: &Value, name: &str) -> (bool, i64) {
    status
        .get("containerStatuses")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["name"] == json!(name)))
        .map(|c| {
            let started = c.pointer("/state/waiting").is_none() || c["restartCount"] != json!(0);
            (started, c["restartCount"].as_i64().unwrap_or(0))
        })
        .unwrap_or((false, 0))
}

/// The scheduler's and kubelet's Events, once per transition: scheduled
/// (first reconcile), each container's image pulled, created and started
/// (when it first starts), and a BackOff warning at each crash.
fn pod_events(run: &mut Run, obj: &Value, node: &str, status: &Value) {
    let ns = meta_str(obj, "namespace").unwrap_or("");
    let name = meta_str(obj, "name").unwrap_or("");
    let uid = meta_str(obj, "uid").unwrap_or("");
    let old = obj.get("status").cloned().unwrap_or(json!({}));
    if old.get("startTime").is_none() {
        let message = format!("Successfully assigned {ns}/{name} to {node}");
        record(
            run.state,
            obj,
            Kind::Normal,
            "Scheduled",
            &message,
            SCHEDULER,
        );
    }
    let containers = obj
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for c in &containers {
        let image = c.get("image").and_then(Value::as_str).unwrap_or("");
        let cname = c.get("name").and_then(Value::as_str).unwrap_or("");
        let (was, old_restarts) = container_started(&old, cname);
        let (is, restarts) = container_started(status, cname);
        if is && !was {
            for (reason, message) in [
                ("Pulling", format!("Pulling image \"{image}\"")),
                ("Pulled", format!("Successfully pulled image \"{image}\"")),
                ("Created", format!("Created container: {cname}")),
                ("Started", format!("Started container {cname}")),
            ] {
                record(run.state, obj, Kind::Normal, reason, &message, KUBELET);
            }
        }
        if restarts > old_restarts {
            let message =
                format!("Back-off restarting failed container {cname} in pod {name}_{ns}({uid})");
            record(run.state, obj, Kind::Warning, "BackOff", &message, KUBELET);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_loops_back_off_exponentially() {
        let seen = Instant::now();
        let unit = Duration::from_secs(1);
        let (runs, next) = crash_runs(seen, unit, seen + Duration::from_millis(999));
        assert!(runs.is_empty());
        assert_eq!(next, seen + unit);
        let (runs, _) = crash_runs(seen, unit, seen + Duration::from_secs(10));
        // Crashes at 1 s, then starts after 1, 2 and 4 s of back-off.
        let crashes: Vec<u128> = runs.iter().map(|(_, c)| (*c - seen).as_millis()).collect();
        assert_eq!(crashes, [1000, 2500, 5000, 9500]);
        assert!(runs.iter().all(|(s, c)| s < c));
    }

    #[test]
    fn qos_classes() {
        assert_eq!(qos_class(&[json!({"name": "a"})]), "BestEffort");
        let g = json!({"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}});
        assert_eq!(qos_class(&[g]), "Guaranteed");
        let b = json!({"resources": {"requests": {"cpu": "1"}}});
        assert_eq!(qos_class(&[b]), "Burstable");
    }

    #[test]
    fn back_off_reads_as_go_prints_it() {
        assert_eq!(go_duration(Duration::from_secs(10)), "10s");
        assert_eq!(go_duration(Duration::from_secs(300)), "5m0s");
        assert_eq!(go_duration(Duration::from_millis(300)), "300ms");
    }
}
