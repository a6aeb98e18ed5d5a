//! OpenAPI v3, as much as kubectl needs.
//!
//! `kubectl apply` downloads `/openapi/v3` and the group-version document of
//! the kind it applies, and looks for the `patch` operation carrying the kind's
//! `x-kubernetes-group-version-kind` and a `fieldValidation` parameter; without
//! it, apply fails with "failed to download openapi". The patch operation does
//! not advertise strategic merge, so kubectl computes client-side apply patches
//! from its own compiled-in types for built-in kinds (exactly as for a real
//! cluster without OpenAPI v3 schemas) and JSON merge patches for CRs.

use crate::registry::{Registry, ResourceType};
use serde_json::{json, Map, Value};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

/// `api/v1` or `apis/G/V`: the key of a group-version in `/openapi/v3`.
fn gv_key(t: &ResourceType) -> String {
    t.group_version_path().trim_start_matches('/').to_string()
}

pub fn root(registry: &Registry) -> Value {
    let mut paths = Map::new();
    for (group, versions) in registry.groups() {
        for version in versions {
            let types = registry.in_group_version(&group, &version);
            let Some(first) = types.first() else { continue };
            let key = gv_key(first);
            let hash = content_hash(&document(registry, &key).unwrap_or(Value::Null));
            paths.insert(
                key.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={hash}")}),
            );
        }
    }
    json!({"paths": paths})
}

fn content_hash(v: &Value) -> String {
    let mut h = DefaultHasher::new();
    v.to_string().hash(&mut h);
    format!("{:016X}", h.finish())
}

fn parameter(name: &str) -> Value {
    json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}})
}

fn operation(t: &ResourceType, action: &str, with_body: bool) -> Value {
    let gvk = json!({"group": t.group, "version": t.version, "kind": t.kind});
    let schema_ref = json!({"$ref": format!("#/components/schemas/{}", schema_name(t))});
    let mut op = json!({
        "operationId": format!("{action}{}", t.kind),
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk,
        "parameters": [parameter("dryRun"), parameter("fieldManager"), parameter("fieldValidation")],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": schema_ref}}}},
    });
    if with_body {
        let content: Map<String, Value> = if action == "patch" {
            [
                "application/apply-patch+yaml",
                "application/json-patch+json",
                "application/merge-patch+json",
            ]
            .iter()
            .map(|ct| (ct.to_string(), json!({"schema": {"type": "object"}})))
            .collect()
        } else {
            [(
                "application/json".to_string(),
                json!({"schema": schema_ref}),
            )]
            .into_iter()
            .collect()
        };
        op["requestBody"] = json!({"content": content, "required": true});
    }
    op
}

fn schema_name(t: &ResourceType) -> String {
    let group = if t.group.is_empty() { "core" } else { &t.group };
    format!("io.k8s.{}.{}.{}", group, t.version, t.kind)
}

/// The document of one group-version (`apis/apps/v1`).
pub fn document(registry: &Registry, key: &str) -> Option<Value> {
    let types: Vec<_> = registry
        .all()
        .iter()
        .filter(|t| gv_key(t) == key)
        .cloned()
        .collect();
    if types.is_empty() {
        return None;
    }
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for t in &types {
        let base = t.group_version_path();
        let collection = if t.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}", t.plural)
        } else {
            format!("{base}/{}", t.plural)
        };
        paths.insert(
            collection.clone(),
            json!({"get": operation(t, "list", false), "post": operation(t, "post", true)}),
        );
        paths.insert(
            format!("{collection}/{{name}}"),
            json!({
                "get": operation(t, "get", false),
                "put": operation(t, "put", true),
                "patch": operation(t, "patch", true),
                "delete": operation(t, "delete", false),
            }),
        );
        let mut schema = match &t.schema {
            crate::schema::Schema::Crd(s) => (**s).clone(),
            _ => json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        };
        schema["x-kubernetes-group-version-kind"] =
            json!([{"group": t.group, "version": t.version, "kind": t.kind}]);
        schemas.insert(schema_name(t), schema);
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_operation_names_the_kind_and_field_validation() {
        let r = Registry::with_builtins();
        let root = root(&r);
        let url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
            .as_str()
            .expect("apps/v1 listed");
        assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="));
        let doc = document(&r, "apis/apps/v1").expect("apps/v1 document");
        let patch =
            &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"]["kind"],
            "Deployment"
        );
        let params = patch["parameters"].as_array().expect("parameters");
        assert!(params.iter().any(|p| p["name"] == "fieldValidation"));
        let ns = &doc["paths"].as_object().expect("paths");
        assert!(document(&r, "api/v1")
            .is_some_and(|d| d["paths"].get("/api/v1/namespaces/{name}").is_some()));
        assert!(!ns.is_empty());
    }
}
