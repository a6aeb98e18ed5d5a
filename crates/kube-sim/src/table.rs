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
    /// A CRD printer column: a simple JSONPath, an age when `date`.
    Path {
        pointer: String,
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
        Cell::Path { pointer, date } => match obj.pointer(pointer) {
            Some(Value::String(t)) if *date => {
                json!(format_age(crate::objects::age_seconds(t)))
            }
            Some(v) => v.clone(),
            None => Value::Null,
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
                pointer: path.trim_start_matches('.').split('.').fold(
                    String::new(),
                    |mut acc, seg| {
                        acc.push('/');
                        acc.push_str(seg);
                        acc
                    },
                ),
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
