//! `Table` responses for `kubectl get`.
//!
//! kubectl asks for `as=Table;v=v1;g=meta.k8s.io` and prints the server's
//! columns; a plain list would show only NAME and AGE. Columns here follow the
//! apiserver's printers for the kinds gitops-tui users look at most.

use crate::objects::age_seconds;
use crate::registry::ResourceType;
use serde_json::{json, Value};
use std::sync::Arc;

pub fn table(rt: &ResourceType, items: &[Arc<Value>], metadata: Value) -> Value {
    let mut columns = vec![column("Name", "string", "name")];
    let extra = extra_columns(rt);
    for (name, kind, _) in &extra {
        columns.push(column(name, kind, ""));
    }
    columns.push(column("Age", "string", "date"));
    let rows: Vec<Value> = items
        .iter()
        .map(|obj| {
            let mut cells = vec![json!(obj.pointer("/metadata/name").cloned().unwrap_or(json!("")))];
            for (_, _, cell) in &extra {
                cells.push(cell(obj));
            }
            let created = obj.pointer("/metadata/creationTimestamp").and_then(Value::as_str).unwrap_or("");
            cells.push(json!(format_age(age_seconds(created))));
            let mut meta = obj.get("metadata").cloned().unwrap_or(json!({}));
            if let Some(m) = meta.as_object_mut() {
                m.remove("managedFields");
            }
            json!({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta}})
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "columnDefinitions": columns, "rows": rows})
}

fn column(name: &str, kind: &str, format: &str) -> Value {
    json!({"name": name, "type": kind, "format": format, "description": "", "priority": 0})
}

type Cell = Box<dyn Fn(&Value) -> Value>;

fn int_at(obj: &Value, pointer: &str) -> i64 {
    obj.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn extra_columns(rt: &ResourceType) -> Vec<(String, &'static str, Cell)> {
    let c = |name: &str, kind: &'static str, f: Cell| (name.to_string(), kind, f);
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("apps", "Deployment") => vec![
            c(
                "Ready",
                "string",
                Box::new(|o| {
                    json!(format!(
                        "{}/{}",
                        int_at(o, "/status/readyReplicas"),
                        int_at(o, "/spec/replicas")
                    ))
                }),
            ),
            c(
                "Up-to-date",
                "integer",
                Box::new(|o| json!(int_at(o, "/status/updatedReplicas"))),
            ),
            c(
                "Available",
                "integer",
                Box::new(|o| json!(int_at(o, "/status/availableReplicas"))),
            ),
        ],
        ("apps", "StatefulSet") | ("apps", "ReplicaSet") => vec![c(
            "Ready",
            "string",
            Box::new(|o| {
                json!(format!(
                    "{}/{}",
                    int_at(o, "/status/readyReplicas"),
                    int_at(o, "/spec/replicas")
                ))
            }),
        )],
        ("", "ConfigMap") | ("", "Secret") => vec![c(
            "Data",
            "integer",
            Box::new(|o| {
                json!(o
                    .get("data")
                    .and_then(Value::as_object)
                    .map_or(0, |d| d.len()))
            }),
        )],
        ("", "Pod") => vec![
            c(
                "Ready",
                "string",
                Box::new(|o| {
                    let cs = o
                        .pointer("/status/containerStatuses")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    let ready = cs
                        .iter()
                        .filter(|c| c.get("ready") == Some(&json!(true)))
                        .count();
                    let total = o
                        .pointer("/spec/containers")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len);
                    json!(format!("{ready}/{total}"))
                }),
            ),
            c(
                "Status",
                "string",
                Box::new(|o| {
                    let waiting = o
                        .pointer("/status/containerStatuses")
                        .and_then(Value::as_array)
                        .and_then(|cs| {
                            cs.iter()
                                .find_map(|c| c.pointer("/state/waiting/reason").cloned())
                        });
                    waiting.unwrap_or_else(|| {
                        o.pointer("/status/phase")
                            .cloned()
                            .unwrap_or(json!("Pending"))
                    })
                }),
            ),
            c("Restarts", "integer", Box::new(|_| json!(0))),
        ],
        ("", "Namespace") => vec![c(
            "Status",
            "string",
            Box::new(|o| o.pointer("/status/phase").cloned().unwrap_or(json!(""))),
        )],
        ("", "Service") => vec![
            c(
                "Type",
                "string",
                Box::new(|o| o.pointer("/spec/type").cloned().unwrap_or(json!(""))),
            ),
            c(
                "Cluster-IP",
                "string",
                Box::new(|o| o.pointer("/spec/clusterIP").cloned().unwrap_or(json!(""))),
            ),
        ],
        _ => rt
            .printer_columns
            .iter()
            .filter_map(|col| {
                let name = col.get("name")?.as_str()?.to_string();
                let path = col.get("jsonPath")?.as_str()?.to_string();
                let pointer = path.trim_start_matches('.').replace('.', "/");
                let f: Cell = Box::new(move |o| {
                    o.pointer(&format!("/{pointer}"))
                        .cloned()
                        .unwrap_or(json!(""))
                });
                Some((name, "string", f))
            })
            .collect(),
    }
}

/// kubectl's short ages: `45s`, `3m20s`, `5h`, `2d3h`.
pub fn format_age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 600 => format!("{}m{}s", s / 60, s % 60),
        s if s < 3 * 3600 => format!("{}m", s / 60),
        s if s < 8 * 3600 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        s if s < 2 * 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    #[test]
    fn deployment_rows_show_readiness() {
        let r = Registry::with_builtins();
        let rt = r.find("apps", "v1", "deployments").expect("served");
        let d = Arc::new(
            json!({"metadata": {"name": "web", "namespace": "d"}, "spec": {"replicas": 3}, "status": {"readyReplicas": 2}}),
        );
        let t = table(&rt, &[d], json!({}));
        assert_eq!(t["rows"][0]["cells"][0], "web");
        assert_eq!(t["rows"][0]["cells"][1], "2/3");
        assert_eq!(t["rows"][0]["object"]["metadata"]["namespace"], "d");
        assert_eq!(format_age(30), "30s");
        assert_eq!(format_age(400), "6m40s");
        assert_eq!(format_age(90_000), "25h");
    }
}
