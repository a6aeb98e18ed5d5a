//! create, update and patch: every write goes through [`commit`], which does
//! what the apiserver's registry does before storage (immutable metadata,
//! defaulting, validation, managedFields, generation) and skips writes that
//! change nothing, so a no-op apply keeps its resourceVersion and sends no
//! event.

use crate::defaults::{apply_defaults, Allocator};
use crate::handler::Ctx;
use crate::objects::{finalizers, meta_str, metadata_mut, now};
use crate::registry::ResourceType;
use crate::route::ResourcePath;
use crate::server::{Shared, State};
use crate::status::ApiError;
use crate::{ssa, subresources, validation};
use serde_json::{json, Map, Value};
use std::sync::Arc;

pub use crate::deletes::{delete, delete_collection};

/// Hands out ClusterIPs and NodePorts, never the same one twice.
#[derive(Default)]
pub struct IpAllocator {
    next_ip: u32,
    next_port: i64,
}

impl Allocator for IpAllocator {
    fn cluster_ip(&mut self) -> String {
        self.next_ip += 1;
        let n = self.next_ip;
        format!("10.96.{}.{}", (n / 250) % 250, n % 250 + 1)
    }

    fn node_port(&mut self) -> i64 {
        self.next_port += 1;
        30000 + (self.next_port % 2768)
    }
}

/// How managedFields are kept for this write.
pub enum Tracking<'a> {
    /// An Update by this manager (create, put, non-apply patch).
    Update {
        manager: &'a str,
        subresource: Option<&'a str>,
    },
    /// Server-side apply already set them.
    Done,
}

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
    let mut obj = parse_body(body, &ctx.content_type)?;
    check_type(rt, &obj)?;
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
                let name = format!("{prefix}{}", random_suffix());
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
    let obj = parse_body(body, &ctx.content_type)?;
    if rp.subresource.as_deref() == Some("scale") && rt.has_scale {
        return subresources::write_scale(shared, rt, rp, ctx, |_| Ok(obj.clone())).map(Arc::new);
    }
    check_type(rt, &obj)?;
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
        return server_side_apply(shared, rt, rp, ctx, body, force);
    }
    let manager = ctx.field_manager();
    let mut state = shared.lock();
    let state = &mut *state;
    let old = existing(state, rt, rp)?;
    let patched = apply_patch(rt, &content_type, &old, body)?;
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
            let p: json_patch::Patch = serde_json::from_slice(body).map_err(|e| {
                ApiError::bad_request(format!("the body of the request could not be decoded: {e}"))
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
        .get(&resource, rp.namespace.as_deref().unwrap_or(""), name);
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
    let merged = ssa::apply_with(old.as_deref(), &config, &rt.schema, &opts)
        .map_err(|e| ssa_error(rt, name, e))?;
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

/// The apiserver's registry pipeline, then storage. Returns the object as
/// stored (shared with the store, not copied), the old one for a write that
/// changes nothing, or the would-be object for a dry run.
pub fn commit(
    state: &mut State,
    rt: &Arc<ResourceType>,
    old: Option<Arc<Value>>,
    mut new: Value,
    dry_run: bool,
    tracking: Tracking,
) -> Result<Arc<Value>, ApiError> {
    new["apiVersion"] = json!(rt.api_version());
    new["kind"] = json!(rt.kind);
    let name = meta_str(&new, "name").unwrap_or("").to_string();
    let namespace = meta_str(&new, "namespace").unwrap_or("").to_string();
    let resource = (rt.group.clone(), rt.plural.clone());
    if let Some(old) = &old {
        let meta = metadata_mut(&mut new);
        for field in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "resourceVersion",
            "name",
            "namespace",
        ] {
            match old.pointer(&format!("/metadata/{field}")) {
                Some(v) => meta.insert(field.into(), v.clone()),
                None => meta.remove(field),
            };
        }
        if meta_str(old, "deletionTimestamp").is_some() {
            // Finalizers may only be removed once deletion has started.
            let added = finalizers(&new)
                .into_iter()
                .any(|f| !finalizers(old).contains(&f));
            if added {
                return Err(ApiError::invalid(
                    &rt.group,
                    &rt.kind,
                    &name,
                    vec![(
                        "metadata.finalizers".into(),
                        "Forbidden: no new finalizers can be added if the object is being deleted"
                            .into(),
                    )],
                ));
            }
        }
    } else {
        if name.is_empty() {
            return Err(ApiError::invalid(
                &rt.group,
                &rt.kind,
                "",
                vec![(
                    "metadata.name".into(),
                    "Required value: name or generateName is required".into(),
                )],
            ));
        }
        if state.store.get(&resource, &namespace, &name).is_some() {
            return Err(ApiError::already_exists(&rt.group, &rt.plural, &name));
        }
        if rt.namespaced {
            match state.store.get(&(String::new(), "namespaces".into()), "", &namespace) {
                None => return Err(ApiError::not_found("", "namespaces", &namespace)),
                Some(ns) if meta_str(&ns, "deletionTimestamp").is_some() => {
                    return Err(ApiError::new(403, "Forbidden", format!(
                        "{} \"{name}\" is forbidden: unable to create new content in namespace {namespace} because it is being terminated",
                        rt.plural
                    )))
                }
                _ => {}
            }
        }
        let meta = metadata_mut(&mut new);
        meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
        meta.insert("creationTimestamp".into(), json!(now()));
        if has_generation(rt) {
            meta.insert("generation".into(), json!(1));
        }
    }
    if let Some(old) = &old {
        keep_allocations(rt, old, &mut new);
    }
    apply_defaults(&rt.group, &rt.kind, &mut new, &mut state.alloc);
    validation::validate(rt, &new)?;
    if let Tracking::Update {
        manager,
        subresource,
    } = tracking
    {
        new = ssa::track_update(
            old.as_deref(),
            &new,
            manager,
            subresource,
            &rt.schema,
            &rt.api_version(),
            &now(),
        );
    }
    if let Some(old) = &old {
        if has_generation(rt) && spec_changed(rt, old, &new) {
            let generation = old
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0)
                + 1;
            metadata_mut(&mut new).insert("generation".into(), json!(generation));
        }
        if unchanged(old, &new) {
            return Ok(old.clone());
        }
    }
    if rt.group == "apiextensions.k8s.io" && rt.kind == "CustomResourceDefinition" {
        crate::crds::accept(&mut new)
            .map_err(|m| ApiError::invalid(&rt.group, &rt.kind, &name, vec![("spec".into(), m)]))?;
    }
    if dry_run {
        return Ok(Arc::new(new));
    }
    let finishing = meta_str(&new, "deletionTimestamp").is_some() && finalizers(&new).is_empty();
    if finishing {
        // As the apiserver: the update that empties the finalizers is written
        // (MODIFIED), then the object goes (DELETED, without its finalizers).
        state.store.put(&resource, new.clone());
        let gone = state.store.remove(&resource, &namespace, &name);
        crate::deletes::after_removal(state, rt, &new);
        return Ok(gone.unwrap_or_else(|| Arc::new(new)));
    }
    let stored = state.store.put(&resource, new);
    if rt.group == "apiextensions.k8s.io" && rt.kind == "CustomResourceDefinition" {
        let _ = state.registry.register_crd(&stored);
    }
    Ok(stored)
}

/// A Service's ClusterIP and NodePorts stay what they were when an update
/// leaves them out, as the apiserver's allocator does.
fn keep_allocations(rt: &ResourceType, old: &Value, new: &mut Value) {
    if !(rt.group.is_empty() && rt.kind == "Service") {
        return;
    }
    for field in ["clusterIP", "clusterIPs"] {
        if new.pointer(&format!("/spec/{field}")).is_none() {
            if let Some(v) = old.pointer(&format!("/spec/{field}")) {
                new["spec"][field] = v.clone();
            }
        }
    }
    let old_ports = old
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(ports) = new.pointer_mut("/spec/ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter(|p| p.get("nodePort").is_none()) {
            let same = old_ports
                .iter()
                .find(|o| o.get("port") == p.get("port") && o.get("nodePort").is_some());
            if let Some(np) = same.and_then(|o| o.get("nodePort")) {
                p["nodePort"] = np.clone();
            }
        }
    }
}

/// Whether the kind tracks `metadata.generation`: only those whose registry
/// strategy sets it (workloads, Ingress, CRDs, custom resources); a real
/// ConfigMap, Secret, Service or Namespace has none.
fn has_generation(rt: &ResourceType) -> bool {
    rt.custom
        || matches!(
            rt.group.as_str(),
            "apps"
                | "batch"
                | "networking.k8s.io"
                | "policy"
                | "apiextensions.k8s.io"
                | "autoscaling"
        )
}

/// Whether a write changes the generation: any change outside metadata and
/// status (for kinds without a status subresource, status counts too).
/// Compared field by field: copying both objects to strip them cost more
/// than the rest of a write.
fn spec_changed(rt: &ResourceType, old: &Value, new: &Value) -> bool {
    let (Value::Object(o), Value::Object(n)) = (old, new) else {
        return old != new;
    };
    let counts = |k: &String| k != "metadata" && !(rt.has_status && k == "status");
    let len = |m: &Map<String, Value>| m.keys().filter(|k| counts(k)).count();
    len(o) != len(n)
        || o.iter()
            .filter(|(k, _)| counts(k))
            .any(|(k, v)| n.get(k) != Some(v))
}

/// Equal but for managedFields timestamps: the write changes nothing.
/// Compared in place, for the same reason as [`spec_changed`].
fn unchanged(old: &Value, new: &Value) -> bool {
    /// Two maps equal once the keys `skip` says are left out; `same`
    /// compares the values of each remaining key.
    fn maps_equal(
        a: &Map<String, Value>,
        b: &Map<String, Value>,
        skip: impl Fn(&str) -> bool,
        same: impl Fn(&str, &Value, &Value) -> bool,
    ) -> bool {
        let len = |m: &Map<String, Value>| m.keys().filter(|k| !skip(k)).count();
        len(a) == len(b)
            && a.iter()
                .filter(|(k, _)| !skip(k))
                .all(|(k, v)| b.get(k).is_some_and(|w| same(k, v, w)))
    }
    let entries_equal = |a: &Value, b: &Value| match (a, b) {
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len()
                && a.iter().zip(b).all(|(e, f)| match (e, f) {
                    (Value::Object(e), Value::Object(f)) => {
                        maps_equal(e, f, |k| k == "time", |_, v, w| v == w)
                    }
                    _ => e == f,
                })
        }
        _ => a == b,
    };
    let metadata_equal = |a: &Value, b: &Value| match (a, b) {
        (Value::Object(a), Value::Object(b)) => maps_equal(
            a,
            b,
            |_| false,
            |k, v, w| {
                if k == "managedFields" {
                    entries_equal(v, w)
                } else {
                    v == w
                }
            },
        ),
        _ => a == b,
    };
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => maps_equal(
            o,
            n,
            |_| false,
            |k, v, w| {
                if k == "metadata" {
                    metadata_equal(v, w)
                } else {
                    v == w
                }
            },
        ),
        _ => old == new,
    }
}

fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let id = uuid::Uuid::new_v4();
    id.as_bytes()
        .iter()
        .take(5)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
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
