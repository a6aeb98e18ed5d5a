//! create, update and patch: the HTTP handlers that parse a body, check it
//! against the URL and the stored object, merge patches and run server-side
//! apply, then hand the result to [`commit`], the common write path.

use crate::commit::{commit, Tracking};
use crate::handler::Ctx;
use crate::objects::{meta_str, metadata_mut, now};
use crate::registry::ResourceType;
use crate::route::ResourcePath;
use crate::server::{Shared, State};
use crate::status::ApiError;
use crate::validation::{self, Body};
use crate::{ssa, subresources};
use serde_json::{json, Value};
use std::sync::Arc;

pub use crate::deletes::{delete, delete_collection};

/// A request body as JSON, whatever it was sent as: JSON, YAML, or the
/// protobuf kubectl's typed generators (`kubectl create deployment …`) use.
pub fn parse_body(body: &[u8], content_type: &str) -> Result<Value, ApiError> {
    if crate::protobuf::is_protobuf(content_type) {
        return crate::protobuf::decode(body).map_err(|e| {
            if e.is_unsupported_media() {
                ApiError::new(415, "UnsupportedMediaType", e.to_string())
            } else {
                ApiError::bad_request(format!("the body of the request could not be decoded: {e}"))
            }
        });
    }
    let parsed = if content_type.contains("yaml") {
        // Apply bodies are YAML by content type but JSON in practice (kube-rs
        // and client-go send JSON), which serde_json parses several times
        // faster than serde_yaml. JSON is YAML, so anything serde_json takes
        // means the same; whatever it refuses goes to serde_yaml, so YAML
        // bodies and the error messages of bad ones are as before.
        let json = body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'{');
        match json
            .then(|| serde_json::from_slice::<Value>(body).ok())
            .flatten()
        {
            Some(v) => Ok(v),
            None => serde_yaml::from_slice::<Value>(body).map_err(|e| e.to_string()),
        }
    } else {
        serde_json::from_slice::<Value>(body).map_err(|e| e.to_string())
    };
    let value = parsed.map_err(|e| {
        ApiError::bad_request(format!("the body of the request could not be decoded: {e}"))
    })?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be an object",
        ));
    }
    Ok(value)
}

fn check_type(rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    if let Some(v) = obj.get("apiVersion").and_then(Value::as_str) {
        if v != rt.api_version() {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({})",
                rt.api_version()
            )));
        }
    }
    if let Some(k) = obj.get("kind").and_then(Value::as_str) {
        if k != rt.kind {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                rt.kind
            )));
        }
    }
    Ok(())
}

pub fn create(
    shared: &Shared,
    rt: &Arc<ResourceType>,
    rp: &ResourcePath,
    ctx: &Ctx,
    body: &[u8],
) -> Result<Arc<Value>, ApiError> {
    let directive = ctx.field_validation("CreateOptions")?;
    let mut obj = parse_body(body, &ctx.content_type)?;
    check_type(rt, &obj)?;
    ctx.warn(validation::decode(
        rt,
        &mut obj,
        Body::Object {
            yaml: ctx.content_type.contains("yaml"),
        },
        body,
        directive,
    )?);
    let url_ns = rp.namespace.clone().unwrap_or_default();
    {
        let meta = metadata_mut(&mut obj);
        match meta.get("namespace").and_then(Value::as_str) {
            Some(ns) if rt.namespaced && !ns.is_empty() && ns != url_ns => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ))
            }
            _ => {}
        }
        if rt.namespaced {
            meta.insert("namespace".into(), json!(url_ns));
        } else {
            meta.remove("namespace");
        }
        if meta
            .get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            if let Some(prefix) = meta.get("generateName").and_then(Value::as_str) {
                let name = format!("{prefix}{}", crate::controllers::random_suffix());
                meta.insert("name".into(), json!(name));
            }
        }
        for field in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "deletionTimestamp",
            "generation",
        ] {
            meta.remove(field);
        }
    }
    let manager = ctx.field_manager();
    let mut state = shared.lock();
    let state = &mut *state;
    commit(
        state,
        rt,
        None,
        obj,
        ctx.dry_run(),
        Tracking::Update {
            manager: &manager,
            subresource: None,
        },
    )
}

pub fn update(
    shared: &Shared,
    rt: &Arc<ResourceType>,
    rp: &ResourcePath,
    ctx: &Ctx,
    body: &[u8],
) -> Result<Arc<Value>, ApiError> {
    let directive = ctx.field_validation("UpdateOptions")?;
    let mut obj = parse_body(body, &ctx.content_type)?;
    if rp.subresource.as_deref() == Some("scale") && rt.has_scale {
        return subresources::write_scale(shared, rt, rp, ctx, |_| Ok(obj.clone())).map(Arc::new);
    }
    check_type(rt, &obj)?;
    ctx.warn(validation::decode(
        rt,
        &mut obj,
        Body::Object {
            yaml: ctx.content_type.contains("yaml"),
        },
        body,
        directive,
    )?);
    let name = rp.name.as_deref().unwrap_or("");
    if let Some(body_name) = meta_str(&obj, "name") {
        if body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
    }
    let manager = ctx.field_manager();
    let mut state = shared.lock();
    let state = &mut *state;
    let old = existing(state, rt, rp)?;
    check_resource_version(rt, &old, &obj, name)?;
    let new = merge_subresource(rt, rp, &old, obj)?;
    commit(
        state,
        rt,
        Some(old),
        new,
        ctx.dry_run(),
        Tracking::Update {
            manager: &manager,
            subresource: rp.subresource.as_deref(),
        },
    )
}

pub fn patch(
    shared: &Shared,
    rt: &Arc<ResourceType>,
    rp: &ResourcePath,
    ctx: &Ctx,
    body: &[u8],
) -> Result<(bool, Arc<Value>), ApiError> {
    let content_type = ctx
        .content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let is_apply = content_type == "application/apply-patch+yaml";
    let directive = ctx.field_validation("PatchOptions")?;
    let force = ctx.query.get("force").is_some_and(|f| f == "true");
    if force && !is_apply {
        return Err(ApiError::invalid(
            "meta.k8s.io",
            "PatchOptions.meta.k8s.io",
            "",
            vec![(
                "force".into(),
                "Forbidden: may not be specified for non-apply patch".into(),
            )],
        ));
    }
    if !matches!(
        content_type.as_str(),
        "application/json-patch+json"
            | "application/merge-patch+json"
            | "application/strategic-merge-patch+json"
            | "application/apply-patch+yaml"
    ) {
        return Err(ApiError::unsupported_media_type(&content_type));
    }
    if content_type == "application/strategic-merge-patch+json" && rt.custom {
        return Err(ApiError::unsupported_media_type(&content_type));
    }
    if rp.subresource.as_deref() == Some("scale") && rt.has_scale {
        let patched = subresources::write_scale(shared, rt, rp, ctx, |scale| {
            apply_patch(rt, &content_type, scale, body)
        })?;
        return Ok((false, Arc::new(patched)));
    }
    if is_apply {
        return server_side_apply(shared, rt, rp, ctx, body, force, directive);
    }
    let manager = ctx.field_manager();
    let mut state = shared.lock();
    let state = &mut *state;
    let old = existing(state, rt, rp)?;
    let mut patched = apply_patch(rt, &content_type, &old, body)?;
    let shape = match content_type.as_str() {
        "application/strategic-merge-patch+json" => Body::Strategic { patch: body },
        "application/merge-patch+json" => Body::MergePatch { patch: body },
        _ => Body::JsonPatch { patch: body },
    };
    ctx.warn(validation::decode(
        rt,
        &mut patched,
        shape,
        body,
        directive,
    )?);
    check_resource_version(rt, &old, &patched, rp.name.as_deref().unwrap_or(""))?;
    let new = merge_subresource(rt, rp, &old, patched)?;
    commit(
        state,
        rt,
        Some(old),
        new,
        ctx.dry_run(),
        Tracking::Update {
            manager: &manager,
            subresource: rp.subresource.as_deref(),
        },
    )
    .map(|v| (false, v))
}

/// A merge, JSON or strategic patch applied to `target`.
pub fn apply_patch(
    rt: &ResourceType,
    content_type: &str,
    target: &Value,
    body: &[u8],
) -> Result<Value, ApiError> {
    let mut doc = target.clone();
    match content_type {
        "application/json-patch+json" => {
            // Read as evanphx/json-patch reads it: a key given twice in an op
            // is the last one (serde would refuse the op).
            let p: json_patch::Patch = serde_json::from_slice::<Value>(body)
                .and_then(serde_json::from_value)
                .map_err(|e| {
                    ApiError::bad_request(format!(
                        "the body of the request could not be decoded: {e}"
                    ))
                })?;
            json_patch::patch(&mut doc, &p).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    format!("the server rejected our request due to an error in our request: {e}"),
                )
            })?;
        }
        "application/merge-patch+json" => {
            let p: Value = serde_json::from_slice(body).map_err(|e| {
                ApiError::bad_request(format!("the body of the request could not be decoded: {e}"))
            })?;
            json_patch::merge(&mut doc, &p);
        }
        _ => {
            let p: Value = serde_json::from_slice(body).map_err(|e| {
                ApiError::bad_request(format!("the body of the request could not be decoded: {e}"))
            })?;
            doc = crate::strategic::strategic_merge(target, &p, &rt.schema)
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
        }
    }
    Ok(doc)
}

fn server_side_apply(
    shared: &Shared,
    rt: &Arc<ResourceType>,
    rp: &ResourcePath,
    ctx: &Ctx,
    body: &[u8],
    force: bool,
    directive: validation::FieldValidation,
) -> Result<(bool, Arc<Value>), ApiError> {
    let Some(manager) = ctx.query.get("fieldManager").filter(|m| !m.is_empty()) else {
        return Err(ApiError::invalid(
            "meta.k8s.io",
            "PatchOptions.meta.k8s.io",
            "",
            vec![(
                "fieldManager".into(),
                "Required value: is required for apply patch".into(),
            )],
        ));
    };
    let mut config = parse_body(body, "yaml")?;
    let name = rp.name.as_deref().unwrap_or("");
    check_type(rt, &config)?;
    if config.get("apiVersion").is_none() || config.get("kind").is_none() {
        return Err(ApiError::bad_request(
            "apiVersion and kind must be set in an apply configuration",
        ));
    }
    if meta_str(&config, "name") != Some(name) {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            meta_str(&config, "name").unwrap_or("")
        )));
    }
    validation::check_apply(rt, &config, meta_str(&config, "namespace").unwrap_or(""))?;
    // The configuration as sent, for the last-applied annotation.
    let sent = (manager == ssa::KUBECTL_MANAGER).then(|| config.clone());
    if rt.namespaced {
        let ns = rp.namespace.clone().unwrap_or_default();
        if meta_str(&config, "namespace").is_some_and(|n| n != ns) {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        metadata_mut(&mut config).insert("namespace".into(), json!(ns));
    }
    let subresource = rp.subresource.as_deref();
    let mut state = shared.lock();
    let state = &mut *state;
    let resource = (rt.group.clone(), rt.plural.clone());
    let old = state
        .store
        .get(&resource, rp.namespace.as_deref().unwrap_or(""), name)
        .map(|o| crate::convert::presented(o, rt));
    if let Some(old) = &old {
        check_resource_version(rt, old, &config, name)?;
    }
    let status_only = subresource == Some("status");
    let scope = match subresource {
        Some("status") => ssa::FieldScope::Status,
        _ if rt.has_status => ssa::FieldScope::Main,
        _ => ssa::FieldScope::Whole,
    };
    let api_version = rt.api_version();
    let now = now();
    let opts = ssa::ApplyOptions {
        manager,
        force,
        api_version: &api_version,
        now: &now,
        subresource,
        scope,
    };
    let types = |applied: &Value| validation::check_apply(rt, applied, "").is_ok();
    let mut merged = ssa::apply_checked(old.as_deref(), &config, &rt.schema, &opts, &types)
        .map_err(|e| ssa_error(rt, name, e))?;
    if let Some(sent) = &sent {
        ssa::update_last_applied(&mut merged, sent, manager);
    }
    ctx.warn(validation::apply_duplicates(body, directive)?);
    let merged = match &old {
        Some(old) if rt.has_status || status_only => merge_subresource(rt, rp, old, merged)?,
        _ => merged,
    };
    let created = old.is_none();
    commit(state, rt, old, merged, ctx.dry_run(), Tracking::Done).map(|v| (created, v))
}

fn ssa_error(rt: &ResourceType, name: &str, e: ssa::ApplyError) -> ApiError {
    match e {
        ssa::ApplyError::Conflicts(conflicts) => {
            let message = ssa::ApplyError::Conflicts(conflicts.clone()).to_string();
            let causes: Vec<Value> = conflicts
                .iter()
                .map(|c| json!({"reason": "FieldManagerConflict", "message": c.cause_message(), "field": c.field}))
                .collect();
            ApiError::new(409, "Conflict", message).with_details(json!({
                "name": name, "group": rt.group, "kind": rt.plural, "causes": causes
            }))
        }
        other => ApiError::invalid(
            &rt.group,
            &rt.kind,
            name,
            vec![("".into(), other.to_string())],
        ),
    }
}

fn existing(state: &State, rt: &ResourceType, rp: &ResourcePath) -> Result<Arc<Value>, ApiError> {
    let name = rp.name.as_deref().unwrap_or("");
    state
        .store
        .get(
            &(rt.group.clone(), rt.plural.clone()),
            rp.namespace.as_deref().unwrap_or(""),
            name,
        )
        .map(|o| crate::convert::presented(o, rt))
        .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))
}

/// A resourceVersion in the body is a precondition.
fn check_resource_version(
    rt: &ResourceType,
    old: &Value,
    new: &Value,
    name: &str,
) -> Result<(), ApiError> {
    match meta_str(new, "resourceVersion") {
        Some(rv) if !rv.is_empty() && Some(rv) != meta_str(old, "resourceVersion") => {
            Err(ApiError::stale(&rt.group, &rt.plural, name))
        }
        _ => Ok(()),
    }
}

/// Writes to the main resource keep the old status; writes to `/status`
/// change only the status.
fn merge_subresource(
    rt: &ResourceType,
    rp: &ResourcePath,
    old: &Value,
    mut new: Value,
) -> Result<Value, ApiError> {
    match rp.subresource.as_deref() {
        None if rt.has_status => {
            match old.get("status") {
                Some(s) => new["status"] = s.clone(),
                None => {
                    if let Some(o) = new.as_object_mut() {
                        o.remove("status");
                    }
                }
            }
            Ok(new)
        }
        None => Ok(new),
        Some("status") if rt.has_status => {
            let mut out = old.clone();
            match new.get("status") {
                Some(s) => out["status"] = s.clone(),
                None => {
                    if let Some(o) = out.as_object_mut() {
                        o.remove("status");
                    }
                }
            }
            // managedFields may change through a status write (its own entry).
            if let Some(mf) = new.pointer("/metadata/managedFields") {
                metadata_mut(&mut out).insert("managedFields".into(), mf.clone());
            }
            Ok(out)
        }
        Some(_) => Err(ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_body;

    /// What serde_yaml made of a JSON body, which the fast path must match.
    fn via_yaml(body: &str) -> serde_json::Value {
        serde_yaml::from_str(body).expect("yaml")
    }

    #[test]
    fn json_apply_bodies_parse_as_yaml_would() {
        for body in [
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"v"}}"#,
            r#"  {"a": 1, "b": -2, "c": 1.5, "d": 1e3, "e": [true, null, "x\u00e9\n"]}"#,
            r#"{"a": 1, "a": 2}"#,
            "{\"a\": {\"b\": [1, 2, {\"c\": \"\\\"q\\\"\"}]}}\n",
        ] {
            let parsed = parse_body(body.as_bytes(), "application/apply-patch+yaml");
            assert_eq!(parsed.ok(), Some(via_yaml(body)), "{body}");
        }
        // Not JSON (a flow mapping with YAML in it): still YAML's answer.
        let yaml = "{a: 1, b: [x, y]}";
        assert_eq!(
            parse_body(yaml.as_bytes(), "application/apply-patch+yaml").ok(),
            Some(via_yaml(yaml))
        );
        let bad = parse_body(b"{\"a\": [1,", "application/apply-patch+yaml").expect_err("bad");
        assert!(
            bad.message.contains("could not be decoded"),
            "{}",
            bad.message
        );
    }
}
