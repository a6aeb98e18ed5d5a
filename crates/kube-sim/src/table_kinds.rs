//! The columns of kube-apiserver's printers for each built-in kind
//! (pkg/printers/internalversion upstream), as 1.33 prints them.

use crate::table::{age_col, col, name_col, wide, Column};
use crate::table_cells::*;
use serde_json::{json, Value};

const TEMPLATE: &str = "/spec/template/spec";

/// Containers, Images and Selector: the wide columns of every workload.
fn workload_wide(selector: fn(&Value) -> Value) -> [Column; 3] {
    [
        wide("Containers", "string", |o| {
            json!(containers(o, TEMPLATE, "name"))
        }),
        wide("Images", "string", |o| {
            json!(containers(o, TEMPLATE, "image"))
        }),
        wide("Selector", "string", selector),
    ]
}

fn match_selector(o: &Value) -> Value {
    json!(format_selector(o, "/spec/selector"))
}

fn ready_of_replicas(o: &Value) -> Value {
    json!(format!(
        "{}/{}",
        int_at(o, "/status/readyReplicas"),
        int_at(o, "/spec/replicas")
    ))
}

fn with(mut head: Vec<Column>, tail: impl IntoIterator<Item = Column>) -> Vec<Column> {
    head.extend(tail);
    head
}

pub fn builtin(group: &str, kind: &str) -> Option<Vec<Column>> {
    Some(match (group, kind) {
        ("", "Pod") => crate::table_pods::pod_columns(),
        ("", "Node") => crate::table_pods::node_columns(),
        ("", "Event") | ("events.k8s.io", "Event") => crate::table_pods::event_columns(),
        ("apps", "Deployment") => with(
            vec![
                name_col(),
                col("Ready", "string", ready_of_replicas),
                col("Up-to-date", "integer", |o| {
                    json!(int_at(o, "/status/updatedReplicas"))
                }),
                col("Available", "integer", |o| {
                    json!(int_at(o, "/status/availableReplicas"))
                }),
                age_col(),
            ],
            workload_wide(match_selector),
        ),
        ("apps", "ReplicaSet") | ("", "ReplicationController") => with(
            vec![
                name_col(),
                col("Desired", "integer", |o| json!(int_at(o, "/spec/replicas"))),
                col("Current", "integer", |o| {
                    json!(int_at(o, "/status/replicas"))
                }),
                col("Ready", "integer", |o| {
                    json!(int_at(o, "/status/readyReplicas"))
                }),
                age_col(),
            ],
            workload_wide(if kind == "ReplicaSet" {
                match_selector
            } else {
                |o| json!(format_labels(o, "/spec/selector"))
            }),
        ),
        ("apps", "StatefulSet") => vec![
            name_col(),
            col("Ready", "string", ready_of_replicas),
            age_col(),
            wide("Containers", "string", |o| {
                json!(containers(o, TEMPLATE, "name"))
            }),
            wide("Images", "string", |o| {
                json!(containers(o, TEMPLATE, "image"))
            }),
        ],
        ("apps", "DaemonSet") => with(
            vec![
                name_col(),
                col("Desired", "integer", |o| {
                    json!(int_at(o, "/status/desiredNumberScheduled"))
                }),
                col("Current", "integer", |o| {
                    json!(int_at(o, "/status/currentNumberScheduled"))
                }),
                col("Ready", "integer", |o| {
                    json!(int_at(o, "/status/numberReady"))
                }),
                col("Up-to-date", "integer", |o| {
                    json!(int_at(o, "/status/updatedNumberScheduled"))
                }),
                col("Available", "integer", |o| {
                    json!(int_at(o, "/status/numberAvailable"))
                }),
                col("Node Selector", "string", |o| {
                    json!(format_labels(o, "/spec/template/spec/nodeSelector"))
                }),
                age_col(),
            ],
            workload_wide(match_selector),
        ),
        ("apps", "ControllerRevision") => vec![
            name_col(),
            col("Controller", "string", |o| {
                let owner = array_at(o, "/metadata/ownerReferences")
                    .iter()
                    .find(|r| r.get("controller") == Some(&json!(true)));
                json!(owner.map_or(NONE.to_string(), |r| {
                    let api = str_at(r, "/apiVersion");
                    let group = api.split_once('/').map_or("", |(g, _)| g);
                    let kind = str_at(r, "/kind").to_lowercase();
                    let kind = if group.is_empty() {
                        kind
                    } else {
                        format!("{kind}.{group}")
                    };
                    format!("{kind}/{}", str_at(r, "/name"))
                }))
            }),
            col("Revision", "integer", |o| json!(int_at(o, "/revision"))),
            age_col(),
        ],
        ("batch", "Job") => with(
            vec![
                name_col(),
                col("Status", "string", |o| json!(job_status(o))),
                col("Completions", "string", |o| json!(job_completions(o))),
                col("Duration", "string", |o| json!(job_duration(o))),
                age_col(),
            ],
            workload_wide(match_selector),
        ),
        ("batch", "CronJob") => {
            const JOB: &str = "/spec/jobTemplate/spec/template/spec";
            vec![
                name_col(),
                col("Schedule", "string", |o| json!(str_at(o, "/spec/schedule"))),
                col("Timezone", "string", |o| {
                    json!(or_none(o, "/spec/timeZone"))
                }),
                col("Suspend", "boolean", |o| {
                    json!(o.pointer("/spec/suspend") == Some(&json!(true)))
                }),
                col("Active", "integer", |o| json!(len_at(o, "/status/active"))),
                col("Last Schedule", "string", |o| {
                    json!(match o.pointer("/status/lastScheduleTime") {
                        Some(_) => age_at(o, "/status/lastScheduleTime"),
                        None => NONE.to_string(),
                    })
                }),
                age_col(),
                wide("Containers", "string", |o| {
                    json!(containers(o, JOB, "name"))
                }),
                wide("Images", "string", |o| json!(containers(o, JOB, "image"))),
                wide("Selector", "string", |o| {
                    json!(format_selector(o, "/spec/jobTemplate/spec/selector"))
                }),
            ]
        }
        ("autoscaling", "HorizontalPodAutoscaler") => vec![
            name_col(),
            col("Reference", "string", |o| {
                json!(format!(
                    "{}/{}",
                    str_at(o, "/spec/scaleTargetRef/kind"),
                    str_at(o, "/spec/scaleTargetRef/name")
                ))
            }),
            col("Targets", "string", |o| json!(hpa_targets(o))),
            col("MinPods", "string", |o| {
                json!(scalar_or(o, "/spec/minReplicas", "<unset>"))
            }),
            col("MaxPods", "integer", |o| {
                json!(int_at(o, "/spec/maxReplicas"))
            }),
            col("Replicas", "integer", |o| {
                json!(int_at(o, "/status/currentReplicas"))
            }),
            age_col(),
        ],
        ("policy", "PodDisruptionBudget") => vec![
            name_col(),
            col("Min Available", "string", |o| {
                json!(scalar_or(o, "/spec/minAvailable", "N/A"))
            }),
            col("Max Unavailable", "string", |o| {
                json!(scalar_or(o, "/spec/maxUnavailable", "N/A"))
            }),
            col("Allowed Disruptions", "integer", |o| {
                json!(int_at(o, "/status/disruptionsAllowed"))
            }),
            age_col(),
        ],
        _ => return crate::table_more::builtin(group, kind),
    })
}

fn job_status(o: &Value) -> &'static str {
    const C: &str = "/status/conditions";
    if condition_true(o, C, "Complete") {
        "Complete"
    } else if condition_true(o, C, "Failed") {
        "Failed"
    } else if o.pointer("/metadata/deletionTimestamp").is_some() {
        "Terminating"
    } else if condition_true(o, C, "Suspended") {
        "Suspended"
    } else if condition_true(o, C, "FailureTarget") {
        "FailureTarget"
    } else if condition_true(o, C, "SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    }
}

fn job_completions(o: &Value) -> String {
    let succeeded = int_at(o, "/status/succeeded");
    match (
        o.pointer("/spec/completions").and_then(Value::as_i64),
        o.pointer("/spec/parallelism").and_then(Value::as_i64),
    ) {
        (Some(c), _) => format!("{succeeded}/{c}"),
        (None, Some(p)) if p > 1 => format!("{succeeded}/1 of {p}"),
        _ => format!("{succeeded}/1"),
    }
}

fn job_duration(o: &Value) -> String {
    let parse = |p: &str| {
        o.pointer(p).and_then(Value::as_str).and_then(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        })
    };
    match (parse("/status/startTime"), parse("/status/completionTime")) {
        (None, _) => String::new(),
        (Some(start), None) => format_age(
            (time::OffsetDateTime::now_utc() - start)
                .whole_seconds()
                .max(0) as u64,
        ),
        (Some(start), Some(end)) => format_age((end - start).whole_seconds().max(0) as u64),
    }
}

/// `cpu: <unknown>/80%` per metric, as 1.33 prints them; `<none>` without any.
fn hpa_targets(o: &Value) -> String {
    if let Some(p) = o
        .pointer("/spec/targetCPUUtilizationPercentage")
        .and_then(Value::as_i64)
    {
        let current = o
            .pointer("/status/currentCPUUtilizationPercentage")
            .and_then(Value::as_i64)
            .map_or("<unknown>".to_string(), |c| format!("{c}%"));
        return format!("cpu: {current}/{p}%");
    }
    let targets: Vec<String> = array_at(o, "/spec/metrics")
        .iter()
        .map(|m| {
            let source = match str_at(m, "/type") {
                "Resource" => "resource",
                "ContainerResource" => "containerResource",
                "Pods" => "pods",
                "Object" => "object",
                "External" => "external",
                _ => "",
            };
            let target = m.pointer(&format!("/{source}/target"));
            let name = str_at(m, &format!("/{source}/name"));
            let name = if name.is_empty() {
                str_at(m, &format!("/{source}/metric/name"))
            } else {
                name
            };
            let wanted = match target {
                Some(t) => match t.get("averageUtilization").and_then(Value::as_i64) {
                    Some(u) => format!("{u}%"),
                    None => scalar_or(t, "/averageValue", &scalar_or(t, "/value", "")),
                },
                None => String::new(),
            };
            format!("{name}: <unknown>/{wanted}")
        })
        .collect();
    non_empty(targets.join(", "))
}
