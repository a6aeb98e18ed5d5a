//! Custom resources against their CRD's structural `openAPIV3Schema`, as
//! the apiextensions-apiserver does: fields the schema does not declare are
//! pruned (reported as unknown fields, per `fieldValidation`) unless a node
//! says `x-kubernetes-preserve-unknown-fields`; values of the wrong type are
//! refused with 422 and kube-openapi's words (`spec.size in body must be of
//! type integer: "string"`).

use super::go;
use super::typed::Seg;
use crate::registry::ResourceType;
use crate::schema::Schema;
use crate::status::{ApiError, Cause};
use serde_json::Value;

/// What the schema says about an object.
#[derive(Debug, Default, PartialEq)]
pub struct Findings {
    pub unknown: Vec<Vec<Seg>>,
    pub type_errors: Vec<TypeError>,
}

/// A value of the wrong type: where, what the schema wants, what it is.
#[derive(Debug, PartialEq)]
pub struct TypeError {
    pub path: Vec<Seg>,
    pub expected: &'static str,
    pub value: Value,
}

impl TypeError {
    fn cause(&self) -> Cause {
        let at = super::typed::strict_path(&self.path);
        let got = go::quote(json_type(&self.value));
        Cause::new(
            at.clone(),
            "FieldValueTypeInvalid",
            format!(
                "Invalid value: {got}: {at} in body must be of type {}: {got}",
                self.expected
            ),
        )
    }

    /// As structured-merge-diff says it when typing an apply patch.
    pub fn smd_complaint(&self) -> String {
        let v = &self.value;
        match self.expected {
            "integer" | "number" => {
                format!("expected numeric (int or float), got {}", go::type_name(v))
            }
            "string" | "integer,string" => format!(
                "expected string, got &value.valueUnstructured{{Value:{}}}",
                go::sharp_v(v)
            ),
            "boolean" => format!("expected boolean, got &{{{}}}", go::plus_v(v)),
            "array" => format!("expected list, got &{{{}}}", go::plus_v(v)),
            _ => format!("expected map, got &{{{}}}", go::plus_v(v)),
        }
    }
}

/// Walks `obj` against the CR's schema (none: nothing to say).
pub fn inspect(rt: &ResourceType, obj: &Value) -> Findings {
    let mut findings = Findings::default();
    let Schema::Crd(schema) = &rt.schema else {
        return findings;
    };
    let Some(map) = obj.as_object() else {
        return findings;
    };
    let props = schema.get("properties");
    let mut path = Vec::new();
    for (key, value) in map {
        if key == "metadata" {
            findings
                .unknown
                .extend(super::typed::unknown_in_metadata(value));
            continue;
        }
        if key == "apiVersion" || key == "kind" {
            continue;
        }
        path.push(field(key));
        match props.and_then(|p| p.get(key)) {
            Some(s) => walk(s, value, &mut path, &mut findings),
            None if preserves(schema) => {}
            None => findings.unknown.push(path.clone()),
        }
        path.pop();
    }
    findings
}

fn field(name: &str) -> Seg {
    Seg::Field {
        name: name.to_string(),
        go_struct: "",
    }
}

fn preserves(schema: &Value) -> bool {
    schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
}

fn walk(schema: &Value, value: &Value, path: &mut Vec<Seg>, findings: &mut Findings) {
    if value.is_null() {
        return;
    }
    if schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        if !(value.is_string() || is_integer(value)) {
            type_error(path, "integer,string", value, findings);
        }
        return;
    }
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("");
    match ty {
        "object" => {
            let Some(map) = value.as_object() else {
                return type_error(path, "object", value, findings);
            };
            let props = schema.get("properties");
            let additional = schema.get("additionalProperties");
            let embedded = schema.get("x-kubernetes-embedded-resource") == Some(&Value::Bool(true));
            for (key, v) in map {
                path.push(field(key));
                match (props.and_then(|p| p.get(key)), additional) {
                    (Some(s), _) => walk(s, v, path, findings),
                    (None, Some(Value::Bool(true))) => {}
                    (None, Some(s)) if s.is_object() => walk(s, v, path, findings),
                    _ if preserves(schema) => {}
                    _ if embedded && matches!(key.as_str(), "apiVersion" | "kind" | "metadata") => {
                    }
                    _ => findings.unknown.push(path.clone()),
                }
                path.pop();
            }
        }
        "array" => {
            let Some(items) = value.as_array() else {
                return type_error(path, "array", value, findings);
            };
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    walk(item_schema, item, path, findings);
                    path.pop();
                }
            }
        }
        "string" if !value.is_string() => type_error(path, "string", value, findings),
        "integer" if !is_integer(value) => type_error(path, "integer", value, findings),
        "number" if !value.is_number() => type_error(path, "number", value, findings),
        "boolean" if !value.is_boolean() => type_error(path, "boolean", value, findings),
        _ => {}
    }
}

fn is_integer(v: &Value) -> bool {
    v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0)
}

/// kube-openapi's name for the type of a JSON value.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) if is_integer(v) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_error(path: &[Seg], expected: &'static str, value: &Value, findings: &mut Findings) {
    findings.type_errors.push(TypeError {
        path: path.to_vec(),
        expected,
        value: value.clone(),
    });
}

/// The 422 for a CR whose values do not fit its schema.
pub fn refuse(rt: &ResourceType, obj: &Value, errors: &[TypeError]) -> ApiError {
    let name = crate::objects::meta_str(obj, "name").unwrap_or("");
    let causes = errors.iter().map(TypeError::cause).collect();
    ApiError::invalid_with(&rt.group, &rt.kind, name, causes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn widget_type(schema: Value) -> ResourceType {
        let mut rt = (*crate::registry::Registry::with_builtins().all()[0]).clone();
        rt.group = "example.com".into();
        rt.kind = "Widget".into();
        rt.custom = true;
        rt.schema = Schema::Crd(Arc::new(schema));
        rt
    }

    #[test]
    fn undeclared_fields_are_unknown_unless_preserved() {
        let rt = widget_type(json!({"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
            "size": {"type": "integer"},
            "items": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}}}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "port": {"x-kubernetes-int-or-string": true}
        }}}}));
        let obj = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "labells": {}},
            "spec": {"size": 1, "sise": 2, "items": [{"id": "a", "idd": "b"}], "free": {"x": {"y": 1}},
                     "labels": {"a": "b"}, "port": "http"},
            "extra": true});
        let f = inspect(&rt, &obj);
        let paths: Vec<String> = f
            .unknown
            .iter()
            .map(|p| super::super::typed::strict_path(p))
            .collect();
        assert_eq!(
            paths,
            vec![
                "metadata.labells",
                "spec.sise",
                "spec.items[0].idd",
                "extra"
            ]
        );
        assert!(f.type_errors.is_empty());
        let bad = json!({"spec": {"size": "two", "labels": {"a": 1}, "port": 1.5}});
        let f = inspect(&rt, &bad);
        let causes: Vec<Cause> = f.type_errors.iter().map(TypeError::cause).collect();
        let messages: Vec<&str> = causes.iter().map(|c| c.message.as_str()).collect();
        assert_eq!(messages, vec![
            "Invalid value: \"string\": spec.size in body must be of type integer: \"string\"",
            "Invalid value: \"integer\": spec.labels.a in body must be of type string: \"integer\"",
            "Invalid value: \"number\": spec.port in body must be of type integer,string: \"number\"",
        ]);
        assert_eq!(
            f.type_errors[0].smd_complaint(),
            "expected numeric (int or float), got string"
        );
        let e = refuse(&rt, &json!({"metadata": {"name": "w"}}), &f.type_errors);
        assert!(
            e.message
                .starts_with("Widget.example.com \"w\" is invalid: [spec.size: Invalid value"),
            "{}",
            e.message
        );
    }
}
