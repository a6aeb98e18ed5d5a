//! The printers with the most logic: Pods (READY, STATUS, RESTARTS as
//! kubectl computes them), Nodes and Events (core and events.k8s.io).

use crate::table::{age_col, col, name_col, wide, Column};
use crate::table_cells::*;
use serde_json::{json, Value};

pub fn pod_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Ready", "string", |o| {
            let ready = array_at(o, "/status/containerStatuses")
                .iter()
                .filter(|c| c.get("ready") == Some(&json!(true)))
                .count();
            json!(format!("{ready}/{}", len_at(o, "/spec/containers")))
        }),
        col("Status", "string", |o| json!(pod_status(o))),
        col("Restarts", "string", |o| json!(restarts(o))),
        age_col(),
        wide("IP", "string", |o| json!(or_none(o, "/status/podIP"))),
        wide("Node", "string", |o| json!(or_none(o, "/spec/nodeName"))),
        wide("Nominated Node", "string", |o| {
            json!(or_none(o, "/status/nominatedNodeName"))
        }),
        wide("Readiness Gates", "string", |o| {
            let gates = array_at(o, "/spec/readinessGates");
            if gates.is_empty() {
                return json!(NONE);
            }
            let ready = gates
                .iter()
                .filter(|g| condition_true(o, "/status/conditions", str_at(g, "/conditionType")))
                .count();
            json!(format!("{ready}/{}", gates.len()))
        }),
    ]
}

/// kubectl's STATUS: the phase, overridden by the pod's reason, a waiting or
/// terminated container's reason, and `Terminating` while it is deleted.
fn pod_status(o: &Value) -> String {
    let mut reason = str_at(o, "/status/phase").to_string();
    if reason.is_empty() {
        reason = "Pending".into();
    }
    if let Some(r) = o.pointer("/status/reason").and_then(Value::as_str) {
        reason = r.to_string();
    }
    let mut running = false;
    for c in array_at(o, "/status/containerStatuses").iter().rev() {
        if let Some(r) = c.pointer("/state/waiting/reason").and_then(Value::as_str) {
            reason = r.to_string();
        } else if let Some(t) = c.pointer("/state/terminated") {
            reason = match t.get("reason").and_then(Value::as_str) {
                Some(r) if !r.is_empty() => r.to_string(),
                _ => match t.get("signal").and_then(Value::as_i64) {
                    Some(s) if s != 0 => format!("Signal:{s}"),
                    _ => format!("ExitCode:{}", int_at(t, "/exitCode")),
                },
            };
        } else if c.pointer("/state/running").is_some() && c.get("ready") == Some(&json!(true)) {
            running = true;
        }
    }
    if reason == "Completed" && running {
        reason = if condition_true(o, "/status/conditions", "Ready") {
            "Running".into()
        } else {
            "NotReady".into()
        };
    }
    if o.pointer("/metadata/deletionTimestamp").is_some() && reason != "NodeLost" {
        reason = "Terminating".into();
    }
    reason
}

/// `3 (5m ago)`: restarts of every container, with the last one's age.
fn restarts(o: &Value) -> String {
    let statuses = array_at(o, "/status/containerStatuses");
    let count: i64 = statuses.iter().map(|c| int_at(c, "/restartCount")).sum();
    let last = statuses
        .iter()
        .filter_map(|c| {
            c.pointer("/lastState/terminated/finishedAt")
                .and_then(Value::as_str)
        })
        .max();
    match last {
        Some(t) if count > 0 => format!(
            "{count} ({} ago)",
            format_age(crate::objects::age_seconds(t))
        ),
        _ => count.to_string(),
    }
}

pub fn node_columns() -> Vec<Column> {
    vec![
        name_col(),
        col("Status", "string", |o| {
            let ready = condition(o, "/status/conditions", "Ready").map(|c| str_at(c, "/status"));
            let mut s = match ready {
                Some("True") => "Ready".to_string(),
                Some("False") => "NotReady".to_string(),
                _ => "Unknown".to_string(),
            };
            if o.pointer("/spec/unschedulable") == Some(&json!(true)) {
                s.push_str(",SchedulingDisabled");
            }
            json!(s)
        }),
        col("Roles", "string", |o| {
            let mut roles: Vec<String> = o
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| {
                            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                                Some(role.to_string())
                            } else if k == "kubernetes.io/role" {
                                v.as_str().map(str::to_string)
                            } else {
                                None
                            }
                        })
                        .filter(|r| !r.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            roles.sort();
            json!(non_empty(roles.join(",")))
        }),
        age_col(),
        col("Version", "string", |o| {
            json!(str_at(o, "/status/nodeInfo/kubeletVersion"))
        }),
        wide("Internal-IP", "string", |o| {
            json!(node_address(o, "InternalIP"))
        }),
        wide("External-IP", "string", |o| {
            json!(node_address(o, "ExternalIP"))
        }),
        wide("OS-Image", "string", |o| {
            json!(non_empty(str_at(o, "/status/nodeInfo/osImage").to_string()))
        }),
        wide("Kernel-Version", "string", |o| {
            json!(non_empty(
                str_at(o, "/status/nodeInfo/kernelVersion").to_string()
            ))
        }),
        wide("Container-Runtime", "string", |o| {
            json!(non_empty(
                str_at(o, "/status/nodeInfo/containerRuntimeVersion").to_string()
            ))
        }),
    ]
}

fn node_address(o: &Value, kind: &str) -> String {
    array_at(o, "/status/addresses")
        .iter()
        .find(|a| str_at(a, "/type") == kind)
        .map_or(NONE.to_string(), |a| str_at(a, "/address").to_string())
}

/// A field of a core/v1 Event, or its events.k8s.io/v1 name.
fn ev<'a>(o: &'a Value, core: &str, events: &str) -> &'a str {
    let s = str_at(o, core);
    if s.is_empty() {
        str_at(o, events)
    } else {
        s
    }
}

pub fn event_columns() -> Vec<Column> {
    vec![
        col("Last Seen", "string", |o| {
            let count = event_count(o);
            let last = event_last_seen(o);
            json!(if count > 1 {
                format!("{last} (x{count} over {})", event_first_seen(o))
            } else {
                last
            })
        }),
        col("Type", "string", |o| json!(str_at(o, "/type"))),
        col("Reason", "string", |o| json!(str_at(o, "/reason"))),
        col("Object", "string", |o| {
            json!(format!(
                "{}/{}",
                ev(o, "/involvedObject/kind", "/regarding/kind").to_lowercase(),
                ev(o, "/involvedObject/name", "/regarding/name")
            ))
        }),
        wide("Subobject", "string", |o| {
            json!(ev(o, "/involvedObject/fieldPath", "/regarding/fieldPath"))
        }),
        wide("Source", "string", |o| {
            let component = ev(o, "/source/component", "/deprecatedSource/component");
            let host = ev(o, "/source/host", "/deprecatedSource/host");
            json!(match (component, host) {
                ("", _) => str_at(o, "/reportingController").to_string(),
                (c, "") => c.to_string(),
                (c, h) => format!("{c}, {h}"),
            })
        }),
        col("Message", "string", |o| {
            json!(ev(o, "/message", "/note").trim())
        }),
        wide("First Seen", "string", |o| json!(event_first_seen(o))),
        wide("Count", "string", |o| json!(event_count(o))),
        Column {
            format: "name",
            priority: 1,
            ..col("Name", "string", |o| json!(str_at(o, "/metadata/name")))
        },
    ]
}

fn event_count(o: &Value) -> i64 {
    ["/series/count", "/count", "/deprecatedCount"]
        .iter()
        .find_map(|p| o.pointer(p).and_then(Value::as_i64))
        .unwrap_or(1)
}

fn first_of(o: &Value, pointers: &[&str]) -> String {
    pointers
        .iter()
        .find(|p| {
            o.pointer(p)
                .and_then(Value::as_str)
                .is_some_and(|t| !t.is_empty())
        })
        .map_or("<unknown>".to_string(), |p| age_at(o, p))
}

fn event_last_seen(o: &Value) -> String {
    first_of(
        o,
        &[
            "/series/lastObservedTime",
            "/lastTimestamp",
            "/deprecatedLastTimestamp",
            "/eventTime",
        ],
    )
}

fn event_first_seen(o: &Value) -> String {
    first_of(
        o,
        &["/firstTimestamp", "/deprecatedFirstTimestamp", "/eventTime"],
    )
}
