//! `Table` responses for `kubectl get`.
//!
//! kubectl asks for `as=Table;v=v1;g=meta.k8s.io` and prints the server's
//! columns; a plain list would show only NAME and AGE. The columns (and the
//! priority-1 ones `-o wide` adds) are kube-apiserver's printers
//! (pkg/printers/internalversion upstream) for every built-in kind; kinds
//! without a printer get the default NAME and CREATED AT, and custom
//! resources their `additionalPrinterColumns` (AGE when they declare none).

use crate::registry::ResourceType;
use crate::table_cells::{format_age, str_at};
use serde_json::{json, Value};
use std::sync::Arc;

/// How a column's cell is computed.
pub enum Cell {
    F(fn(&Value) -> Value),
    /// A CRD printer column: its JSONPath, an age when `date`.
    Path {
        path: String,
        date: bool,
    },
}

pub struct Column {
    pub name: String,
    pub kind: &'static str,
    pub format: &'static str,
    pub priority: u8,
    pub cell: Cell,
}

pub fn col(name: &str, kind: &'static str, cell: fn(&Value) -> Value) -> Column {
    Column {
        name: name.to_string(),
        kind,
        format: "",
        priority: 0,
        cell: Cell::F(cell),
    }
}

/// A `-o wide` column.
pub fn wide(name: &str, kind: &'static str, cell: fn(&Value) -> Value) -> Column {
    Column {
        priority: 1,
        ..col(name, kind, cell)
    }
}

pub fn name_col() -> Column {
    Column {
        format: "name",
        ..col("Name", "string", |o| json!(str_at(o, "/metadata/name")))
    }
}

pub fn age_col() -> Column {
    col("Age", "string", |o| {
        json!(crate::table_cells::age_at(o, "/metadata/creationTimestamp"))
    })
}

pub fn table(rt: &ResourceType, items: &[Arc<Value>], metadata: Value) -> Value {
    let columns = columns(rt);
    let definitions: Vec<Value> = columns
        .iter()
        .map(|c| {
            json!({"name": c.name, "type": c.kind, "format": c.format, "description": "", "priority": c.priority})
        })
        .collect();
    let rows: Vec<Value> = items
        .iter()
        .map(|obj| {
            let cells: Vec<Value> = columns.iter().map(|c| cell(&c.cell, obj)).collect();
            let mut meta = obj.get("metadata").cloned().unwrap_or(json!({}));
            if let Some(m) = meta.as_object_mut() {
                m.remove("managedFields");
            }
            json!({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta}})
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "columnDefinitions": definitions, "rows": rows})
}

fn cell(c: &Cell, obj: &Value) -> Value {
    match c {
        Cell::F(f) => f(obj),
        Cell::Path { path, date } => match crate::table_jsonpath::cell(obj, path) {
            Value::String(t) if *date => json!(format_age(crate::objects::age_seconds(&t))),
            v => v,
        },
    }
}

fn columns(rt: &ResourceType) -> Vec<Column> {
    if rt.custom {
        return crd_columns(rt);
    }
    crate::table_kinds::builtin(&rt.group, &rt.kind).unwrap_or_else(|| {
        vec![
            name_col(),
            Column {
                format: "date",
                ..col("Created At", "date", |o| {
                    json!(str_at(o, "/metadata/creationTimestamp"))
                })
            },
        ]
    })
}

fn crd_columns(rt: &ResourceType) -> Vec<Column> {
    let mut columns = vec![name_col()];
    if rt.printer_columns.is_empty() {
        columns.push(age_col());
        return columns;
    }
    for c in &rt.printer_columns {
        let (Some(name), Some(path)) = (
            c.get("name").and_then(Value::as_str),
            c.get("jsonPath").and_then(Value::as_str),
        ) else {
            continue;
        };
        let kind = match c.get("type").and_then(Value::as_str) {
            Some("integer") => "integer",
            Some("number") => "number",
            Some("boolean") => "boolean",
            Some("date") => "date",
            _ => "string",
        };
        columns.push(Column {
            name: name.to_string(),
            kind,
            format: "",
            priority: c
                .get("priority")
                .and_then(Value::as_u64)
                .map_or(0, |p| p.min(u8::MAX as u64) as u8),
            cell: Cell::Path {
                path: path.to_string(),
                date: kind == "date",
            },
        });
    }
    columns
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    fn row(group: &str, version: &str, plural: &str, obj: Value) -> (Vec<String>, Vec<Value>) {
        let r = Registry::with_builtins();
        let rt = r.find(group, version, plural).expect("served");
        let t = table(&rt, &[Arc::new(obj)], json!({}));
        let names = t["columnDefinitions"]
            .as_array()
            .expect("columns")
            .iter()
            .map(|c| {
                let n = c["name"].as_str().unwrap_or("").to_string();
                if c["priority"] == 1 {
                    format!("+{n}")
                } else {
                    n
                }
            })
            .collect();
        let cells = t["rows"][0]["cells"].as_array().cloned().expect("row");
        (names, cells)
    }

    #[test]
    fn deployment_rows_show_readiness_and_wide_columns() {
        let (cols, cells) = row(
            "apps",
            "v1",
            "deployments",
            json!({"metadata": {"name": "web", "namespace": "d"},
                "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.25"}, {"name": "side", "image": "busybox"}]}}},
                "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}}),
        );
        assert_eq!(
            cols,
            [
                "Name",
                "Ready",
                "Up-to-date",
                "Available",
                "Age",
                "+Containers",
                "+Images",
                "+Selector"
            ]
        );
        assert_eq!(cells[..4], [json!("web"), json!("2/3"), json!(3), json!(2)]);
        assert_eq!(
            cells[5..],
            [
                json!("web,side"),
                json!("nginx:1.25,busybox"),
                json!("app=web")
            ]
        );
    }

    #[test]
    fn service_cells_follow_the_service_type() {
        let (cols, cells) = row(
            "",
            "v1",
            "services",
            json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.9",
                "ports": [{"port": 80, "nodePort": 31000, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
                "selector": {"b": "2", "a": "1"}}}),
        );
        assert_eq!(
            cols,
            [
                "Name",
                "Type",
                "Cluster-IP",
                "External-IP",
                "Port(s)",
                "Age",
                "+Selector"
            ]
        );
        assert_eq!(
            cells[..5],
            [
                json!("lb"),
                json!("LoadBalancer"),
                json!("10.96.0.9"),
                json!("<pending>"),
                json!("80:31000/TCP,53/UDP")
            ]
        );
        assert_eq!(cells[6], "a=1,b=2");
    }

    #[test]
    fn pod_status_and_restarts_as_kubectl_computes_them() {
        let pod = |statuses: Value, deleting: bool| {
            let mut meta = json!({"name": "p"});
            if deleting {
                meta["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
            }
            row(
                "",
                "v1",
                "pods",
                json!({"metadata": meta, "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "n1"},
                    "status": {"phase": "Running", "podIP": "10.244.1.5", "containerStatuses": statuses}}),
            )
            .1
        };
        let crashing = pod(
            json!([{"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}},
                   {"name": "b", "ready": false, "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-01-01T00:00:00Z"}}}]),
            false,
        );
        assert_eq!(crashing[1..3], [json!("1/2"), json!("CrashLoopBackOff")]);
        let restarts = crashing[3].as_str().unwrap_or("");
        assert!(
            restarts.starts_with("3 (") && restarts.ends_with(" ago)"),
            "{restarts}"
        );
        assert_eq!(
            crashing[5..],
            [
                json!("10.244.1.5"),
                json!("n1"),
                json!("<none>"),
                json!("<none>")
            ]
        );
        let gone = pod(
            json!([{"name": "a", "ready": true, "state": {"running": {}}}]),
            true,
        );
        assert_eq!(gone[2], "Terminating");
        let exited = pod(
            json!([{"name": "a", "state": {"terminated": {"exitCode": 2}}}]),
            false,
        );
        assert_eq!(exited[2], "ExitCode:2");
    }

    #[test]
    fn events_jobs_and_nodes() {
        let (cols, cells) = row(
            "events.k8s.io",
            "v1",
            "events",
            json!({"metadata": {"name": "e"}, "type": "Warning", "reason": "BackOff", "note": "Back-off ",
                "regarding": {"kind": "Pod", "name": "p"}, "reportingController": "kubelet",
                "deprecatedCount": 4, "deprecatedFirstTimestamp": "2026-01-01T00:00:00Z",
                "deprecatedLastTimestamp": "2026-01-01T00:00:00Z"}),
        );
        assert_eq!(
            cols,
            [
                "Last Seen",
                "Type",
                "Reason",
                "Object",
                "+Subobject",
                "+Source",
                "Message",
                "+First Seen",
                "+Count",
                "+Name"
            ]
        );
        assert!(
            cells[0].as_str().unwrap_or("").contains("(x4 over "),
            "{cells:?}"
        );
        assert_eq!(
            cells[1..7],
            [
                json!("Warning"),
                json!("BackOff"),
                json!("pod/p"),
                json!(""),
                json!("kubelet"),
                json!("Back-off")
            ]
        );

        let (_, job) = row(
            "batch",
            "v1",
            "jobs",
            json!({"metadata": {"name": "j"}, "spec": {"completions": 3, "parallelism": 2},
                "status": {"succeeded": 3, "startTime": "2026-01-01T00:00:00Z", "completionTime": "2026-01-01T00:01:05Z",
                    "conditions": [{"type": "Complete", "status": "True"}]}}),
        );
        assert_eq!(job[1..4], [json!("Complete"), json!("3/3"), json!("65s")]);
        let (_, running) = row(
            "batch",
            "v1",
            "jobs",
            json!({"metadata": {"name": "j"}, "spec": {"parallelism": 4}, "status": {}}),
        );
        assert_eq!(
            running[1..4],
            [json!("Running"), json!("0/1 of 4"), json!("")]
        );

        let (_, node) = row(
            "",
            "v1",
            "nodes",
            json!({"metadata": {"name": "n", "labels": {"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/etcd": ""}},
                "spec": {"unschedulable": true},
                "status": {"conditions": [{"type": "Ready", "status": "False"}], "nodeInfo": {"kubeletVersion": "v1.33.0"},
                    "addresses": [{"type": "InternalIP", "address": "172.18.0.9"}]}}),
        );
        assert_eq!(
            node[1..3],
            [
                json!("NotReady,SchedulingDisabled"),
                json!("control-plane,etcd")
            ]
        );
        assert_eq!(
            node[4..7],
            [json!("v1.33.0"), json!("172.18.0.9"), json!("<none>")]
        );
    }

    #[test]
    fn storage_autoscaling_and_networking_cells() {
        let (_, pvc) = row(
            "",
            "v1",
            "persistentvolumeclaims",
            json!({"metadata": {"name": "c"}, "spec": {"volumeName": "pv-1", "storageClassName": "standard"},
                "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce", "ReadWriteOncePod"]}}),
        );
        assert_eq!(
            pvc[1..7],
            [
                json!("Bound"),
                json!("pv-1"),
                json!("1Gi"),
                json!("RWO,RWOP"),
                json!("standard"),
                json!("<unset>")
            ]
        );
        let (_, hpa) = row(
            "autoscaling",
            "v2",
            "horizontalpodautoscalers",
            json!({"metadata": {"name": "h"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"},
                "maxReplicas": 5, "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]},
                "status": {"currentReplicas": 2}}),
        );
        assert_eq!(
            hpa[1..6],
            [
                json!("Deployment/web"),
                json!("cpu: <unknown>/80%"),
                json!("<unset>"),
                json!(5),
                json!(2)
            ]
        );
        let (_, ing) = row(
            "networking.k8s.io",
            "v1",
            "ingresses",
            json!({"metadata": {"name": "i"}, "spec": {"ingressClassName": "nginx", "rules": [{"host": "a.example"}, {}], "tls": [{}]},
                "status": {"loadBalancer": {"ingress": [{"ip": "172.18.0.100"}]}}}),
        );
        assert_eq!(
            ing[1..5],
            [
                json!("nginx"),
                json!("a.example,*"),
                json!("172.18.0.100"),
                json!("80, 443")
            ]
        );
        let (_, sts) = row(
            "apps",
            "v1",
            "statefulsets",
            json!({"metadata": {"name": "s"}, "spec": {"replicas": 3}, "status": {"readyReplicas": 1}}),
        );
        assert_eq!(sts[1], "1/3");
    }

    #[test]
    fn kinds_without_a_printer_show_created_at_and_crds_age() {
        let (cols, cells) = row(
            "rbac.authorization.k8s.io",
            "v1",
            "clusterroles",
            json!({"metadata": {"name": "view", "creationTimestamp": "2026-01-01T00:00:00Z"}}),
        );
        assert_eq!(cols, ["Name", "Created At"]);
        assert_eq!(cells[1], "2026-01-01T00:00:00Z");
    }
}
