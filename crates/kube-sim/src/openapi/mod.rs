//! OpenAPI v2 and v3, as kube-apiserver publishes them.
//!
//! `/openapi/v3` lists one document per group-version; each holds the
//! operations of the group-version's resources (kubectl looks for the
//! `patch` operation carrying the kind's `x-kubernetes-group-version-kind`
//! and a `fieldValidation` parameter before it validates on the server) and
//! the schemas of its kinds with everything they reference ([`schemas`]), so
//! `kubectl explain` works at any depth and kubectl computes client-side
//! apply patches from the published merge keys, as against a real cluster.
//! `/openapi/v2` is the one Swagger document with every definition.
//! A custom resource's schema is its CRD version's `openAPIV3Schema` under
//! the name kube-apiserver gives it (the group reversed:
//! `io.fluxcd.toolkit.kustomize.v1.Kustomization`), with `metadata`
//! referring to `ObjectMeta`.

mod schemas;
mod v2proto;

pub use v2proto::encode as swagger_protobuf;

use crate::registry::{Registry, ResourceType};
use serde_json::{json, Map, Value};
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

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
            let hash = content_hash(&types);
            paths.insert(
                key.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={hash}")}),
            );
        }
    }
    json!({"paths": paths})
}

/// A document is a function of its group-version's types (the built-in
/// schemas never change), so their description is hashed rather than the
/// document, which would be built on every request of the root.
fn content_hash(types: &[std::sync::Arc<ResourceType>]) -> String {
    let mut h = DefaultHasher::new();
    for t in types {
        (
            &t.group,
            &t.version,
            &t.kind,
            &t.plural,
            t.namespaced,
            t.custom,
        )
            .hash(&mut h);
        if let crate::schema::Schema::Crd(schema) = &t.schema {
            schema.to_string().hash(&mut h);
        }
    }
    format!("{:016X}", h.finish())
}

fn parameter(name: &str) -> Value {
    json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}})
}

fn operation(t: &ResourceType, name: &str, action: &str, with_body: bool) -> Value {
    let gvk = json!({"group": t.group, "version": t.version, "kind": t.kind});
    let schema_ref = json!({"$ref": format!("#/components/schemas/{name}")});
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

/// The definition name of a kind: k8s-openapi's for a built-in kind, the
/// reversed group for a custom one.
fn schema_name(t: &ResourceType, builtin: &schemas::Definitions) -> String {
    let gvk = (t.group.clone(), t.version.clone(), t.kind.clone());
    if let Some((_, name)) = builtin.kinds.iter().find(|(k, _)| *k == gvk) {
        return name.clone();
    }
    let mut parts: Vec<&str> = t.group.split('.').collect();
    parts.reverse();
    format!("{}.{}.{}", parts.join("."), t.version, t.kind)
}

fn builtin_kinds(types: &[std::sync::Arc<ResourceType>]) -> Vec<schemas::Gvk> {
    types
        .iter()
        .filter(|t| !t.custom)
        .map(|t| (t.group.clone(), t.version.clone(), t.kind.clone()))
        .collect()
}

/// A CRD version's schema as published: `metadata` refers to `ObjectMeta`
/// (which the document then defines) and the kind is named.
fn custom_schema(t: &ResourceType, flavor: schemas::Flavor) -> Value {
    let mut schema = match &t.schema {
        crate::schema::Schema::Crd(s) => (**s).clone(),
        _ => json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
    };
    let meta_ref = format!("{}{}", flavor.ref_prefix(), schemas::OBJECT_META);
    let meta = match flavor {
        schemas::Flavor::V2 => {
            json!({"$ref": meta_ref, "description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"})
        }
        schemas::Flavor::V3 => {
            json!({"allOf": [{"$ref": meta_ref}], "description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"})
        }
    };
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        props.insert("metadata".into(), meta);
    }
    schema["x-kubernetes-group-version-kind"] =
        json!([{"group": t.group, "kind": t.kind, "version": t.version}]);
    schema
}

/// The schemas of `types` (and what they reference) for one document.
fn component_schemas(
    types: &[std::sync::Arc<ResourceType>],
    flavor: schemas::Flavor,
) -> (Map<String, Value>, std::sync::Arc<schemas::Definitions>) {
    let custom = types.iter().any(|t| t.custom);
    let builtin = schemas::builtin(flavor, &builtin_kinds(types), custom);
    let mut out = builtin.schemas.clone();
    for t in types.iter().filter(|t| t.custom) {
        out.insert(schema_name(t, &builtin), custom_schema(t, flavor));
    }
    (out, builtin)
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
    let (schemas, builtin) = component_schemas(&types, schemas::Flavor::V3);
    let mut paths = Map::new();
    for t in &types {
        let name = schema_name(t, &builtin);
        let base = t.group_version_path();
        let collection = if t.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}", t.plural)
        } else {
            format!("{base}/{}", t.plural)
        };
        paths.insert(
            collection.clone(),
            json!({"get": operation(t, &name, "list", false), "post": operation(t, &name, "post", true)}),
        );
        paths.insert(
            format!("{collection}/{{name}}"),
            json!({
                "get": operation(t, &name, "get", false),
                "put": operation(t, &name, "put", true),
                "patch": operation(t, &name, "patch", true),
                "delete": operation(t, &name, "delete", false),
            }),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

/// `/openapi/v2`: one Swagger document defining every kind served.
/// kubectl reads its definitions (found by `x-kubernetes-group-version-kind`)
/// for `explain --output plaintext-openapiv2`, for client-side validation and
/// for the merge keys of client-side apply where v3 is not used.
pub fn swagger(registry: &Registry, minor: u32) -> Value {
    let types: Vec<_> = registry.all().to_vec();
    let (definitions, _) = component_schemas(&types, schemas::Flavor::V2);
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": format!("v1.{minor}.0")},
        "paths": {},
        "definitions": definitions,
    })
}

/// `/openapi/v2` as sent, JSON or protobuf, built once per set of served
/// types and version (kubectl fetches it on every run; it is over 600 KB,
/// and building it walks every definition).
pub fn swagger_bytes(registry: &Registry, minor: u32, protobuf: bool) -> Arc<Vec<u8>> {
    type Cache = Mutex<HashMap<(String, u32, bool), Arc<Vec<u8>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    // CRDs come and go, in tests by the hundred: a few sets are kept.
    const KEPT: usize = 16;
    let key = (content_hash(registry.all()), minor, protobuf);
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(hit) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return hit.clone();
    }
    let doc = swagger(registry, minor);
    let bytes = Arc::new(if protobuf {
        swagger_protobuf(&doc)
    } else {
        serde_json::to_vec(&doc).unwrap_or_default()
    });
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= KEPT {
        cache.clear();
    }
    cache.insert(key, bytes.clone());
    bytes
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
