//! delete and deletecollection: preconditions, finalizers, propagation
//! (Background, Foreground, Orphan), namespace contents and garbage
//! collection of dependents by ownerReferences.

use crate::handler::Ctx;
use crate::objects::{finalizers, meta_str, metadata_mut, now};
use crate::reads::Filter;
use crate::registry::ResourceType;
use crate::route::ResourcePath;
use crate::server::{Shared, State};
use crate::status::{self, ApiError};
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Debug, Default)]
struct DeleteOptions {
    propagation: Option<String>,
    dry_run: bool,
    uid: Option<String>,
    resource_version: Option<String>,
}

fn options(ctx: &Ctx, body: &[u8]) -> Result<DeleteOptions, ApiError> {
    let mut o = DeleteOptions {
        propagation: ctx.query.get("propagationPolicy").cloned(),
        dry_run: ctx.dry_run(),
        ..Default::default()
    };
    if !body.iter().all(u8::is_ascii_whitespace) {
        // JSON from kubectl; typed client-go sends DeleteOptions as protobuf.
        let v = crate::writes::parse_body(body, &ctx.content_type)?;
        if let Some(p) = v.get("propagationPolicy").and_then(Value::as_str) {
            o.propagation = Some(p.to_string());
        }
        if let Some(Value::Array(d)) = v.get("dryRun") {
            o.dry_run |= d.iter().any(|x| x == "All");
        }
        o.uid = v
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(str::to_string);
        o.resource_version = v
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    if let Some(p) = &o.propagation {
        if !matches!(p.as_str(), "Background" | "Foreground" | "Orphan") {
            return Err(ApiError::invalid("meta.k8s.io", "DeleteOptions.meta.k8s.io", "", vec![(
                "propagationPolicy".into(),
                format!("Unsupported value: \"{p}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""),
            )]));
        }
    }
    Ok(o)
}

pub fn delete(
    shared: &Shared,
    rt: &Arc<ResourceType>,
    rp: &ResourcePath,
    ctx: &Ctx,
    body: &[u8],
) -> Result<(StatusCode, Value), ApiError> {
    let opts = options(ctx, body)?;
    let name = rp.name.as_deref().unwrap_or("");
    let ns = rp.namespace.as_deref().unwrap_or("");
    let mut state = shared.lock();
    let state = &mut *state;
    let obj = state
        .store
        .get(&(rt.group.clone(), rt.plural.clone()), ns, name)
        .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
    if let Some(uid) = &opts.uid {
        let actual = meta_str(&obj, "uid").unwrap_or("");
        if uid != actual {
            return Err(ApiError::conflict(
                &rt.group,
                &rt.plural,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}"
                ),
            ));
        }
    }
    if let Some(rv) = &opts.resource_version {
        let actual = meta_str(&obj, "resourceVersion").unwrap_or("");
        if rv != actual {
            return Err(ApiError::conflict(&rt.group, &rt.plural, name, &format!(
                "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {actual}"
            )));
        }
    }
    delete_object(state, rt, &obj, &opts)
}

fn delete_object(
    state: &mut State,
    rt: &Arc<ResourceType>,
    obj: &Arc<Value>,
    opts: &DeleteOptions,
) -> Result<(StatusCode, Value), ApiError> {
    let name = meta_str(obj, "name").unwrap_or("").to_string();
    let ns = meta_str(obj, "namespace").unwrap_or("").to_string();
    let mut pending = finalizers(obj);
    match opts.propagation.as_deref() {
        Some("Foreground")
            if !pending.contains(&"foregroundDeletion".to_string())
                && has_dependents(state, obj) =>
        {
            pending.push("foregroundDeletion".into())
        }
        Some("Orphan") => orphan_dependents(state, obj, opts.dry_run),
        _ => {}
    }
    // Namespaces always go through the namespace controller (its
    // `kubernetes` finalizer): Terminating now, gone once drained.
    if rt.group.is_empty() && rt.kind == "Namespace" {
        return terminate_namespace(state, rt, obj, opts.dry_run);
    }
    if pending.is_empty() {
        if opts.dry_run {
            return Ok((StatusCode::OK, (**obj).clone()));
        }
        let gone = state
            .store
            .remove(&(rt.group.clone(), rt.plural.clone()), &ns, &name);
        after_removal(state, rt, obj);
        let uid = meta_str(obj, "uid").map(str::to_string);
        let _ = gone;
        return Ok((
            StatusCode::OK,
            status::success(&rt.group, &rt.plural, &name, uid.as_deref()),
        ));
    }
    if meta_str(obj, "deletionTimestamp").is_some() {
        return Ok((StatusCode::ACCEPTED, (**obj).clone()));
    }
    let mut marked = (**obj).clone();
    {
        let meta = metadata_mut(&mut marked);
        meta.insert("deletionTimestamp".into(), json!(now()));
        meta.insert("deletionGracePeriodSeconds".into(), json!(0));
        meta.insert("finalizers".into(), json!(pending));
    }
    if opts.dry_run {
        return Ok((StatusCode::ACCEPTED, marked));
    }
    let stored = state
        .store
        .put(&(rt.group.clone(), rt.plural.clone()), marked);
    if pending.iter().any(|f| f == "foregroundDeletion") {
        collect_dependents(state, obj);
    }
    Ok((StatusCode::ACCEPTED, (*stored).clone()))
}

pub fn delete_collection(
    shared: &Shared,
    rt: &Arc<ResourceType>,
    rp: &ResourcePath,
    ctx: &Ctx,
) -> Result<Value, ApiError> {
    let filter = Filter::from_request(rt, rp, &ctx.query)?;
    let opts = options(ctx, &[])?;
    let mut state = shared.lock();
    let state = &mut *state;
    let resource = (rt.group.clone(), rt.plural.clone());
    let victims: Vec<Arc<Value>> = state
        .store
        .list(&resource, rp.namespace.as_deref())
        .into_iter()
        .filter(|o| filter.matches(o))
        .collect();
    let mut items = Vec::new();
    for v in &victims {
        delete_object(state, rt, v, &opts)?;
        items.push((**v).clone());
    }
    Ok(
        json!({"kind": format!("{}List", rt.kind), "apiVersion": rt.api_version(),
              "metadata": {"resourceVersion": state.store.resource_version().to_string()}, "items": items}),
    )
}

/// What the garbage collector and a CRD deletion do once an object is gone.
pub fn after_removal(state: &mut State, rt: &ResourceType, obj: &Value) {
    collect_dependents(state, obj);
    if rt.group == "apiextensions.k8s.io" && rt.kind == "CustomResourceDefinition" {
        if let (Some(group), Some(plural)) = (
            obj.pointer("/spec/group").and_then(Value::as_str),
            obj.pointer("/spec/names/plural").and_then(Value::as_str),
        ) {
            state
                .store
                .remove_all(&(group.to_string(), plural.to_string()));
            state.registry.unregister_crd(group, plural);
        }
    }
    // An owner waiting in foreground deletion goes once its dependents are gone.
    release_foreground_owners(state, obj);
}

fn owned_by(obj: &Value, uid: &str) -> bool {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter()
                .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid))
        })
}

fn dependents(state: &State, owner: &Value) -> Vec<(Arc<ResourceType>, Arc<Value>)> {
    let Some(uid) = meta_str(owner, "uid") else {
        return vec![];
    };
    let mut out = Vec::new();
    for (resource, obj) in state.store.all() {
        if owned_by(&obj, uid) {
            if let Some(rt) = state
                .registry
                .all()
                .iter()
                .find(|t| t.group == resource.0 && t.plural == resource.1)
            {
                out.push((rt.clone(), obj));
            }
        }
    }
    out
}

fn has_dependents(state: &State, owner: &Value) -> bool {
    !dependents(state, owner).is_empty()
}

/// Background garbage collection, done at once: dependents of a deleted
/// owner are deleted in turn.
fn collect_dependents(state: &mut State, owner: &Value) {
    for (rt, dep) in dependents(state, owner) {
        let _ = delete_object(
            state,
            &rt,
            &dep,
            &DeleteOptions {
                propagation: Some("Background".into()),
                ..Default::default()
            },
        );
    }
}

fn orphan_dependents(state: &mut State, owner: &Value, dry_run: bool) {
    let Some(uid) = meta_str(owner, "uid").map(str::to_string) else {
        return;
    };
    if dry_run {
        return;
    }
    for (rt, dep) in dependents(state, owner) {
        let mut d = (*dep).clone();
        if let Some(refs) = d
            .pointer_mut("/metadata/ownerReferences")
            .and_then(Value::as_array_mut)
        {
            refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid.as_str()));
        }
        state.store.put(&(rt.group.clone(), rt.plural.clone()), d);
    }
}

fn release_foreground_owners(state: &mut State, removed: &Value) {
    let Some(refs) = removed
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
    else {
        return;
    };
    let owner_uids: Vec<String> = refs
        .iter()
        .filter_map(|r| r.get("uid")?.as_str().map(str::to_string))
        .collect();
    for (resource, obj) in state.store.all() {
        let Some(uid) = meta_str(&obj, "uid") else {
            continue;
        };
        if !owner_uids.iter().any(|u| u == uid)
            || !finalizers(&obj).iter().any(|f| f == "foregroundDeletion")
        {
            continue;
        }
        if has_dependents(state, &obj) {
            continue;
        }
        let mut o = (*obj).clone();
        let rest: Vec<String> = finalizers(&o)
            .into_iter()
            .filter(|f| f != "foregroundDeletion")
            .collect();
        metadata_mut(&mut o).insert("finalizers".into(), json!(rest));
        let (ns, name) = crate::store::ns_name(&o);
        if rest.is_empty() {
            state.store.remove(&resource, &ns, &name);
        } else {
            state.store.put(&resource, o);
        }
    }
}

/// A Namespace's deletion: marked Terminating (200 with the object, as
/// kube-apiserver answers); a second delete is a 409 while it drains.
fn terminate_namespace(
    state: &mut State,
    rt: &Arc<ResourceType>,
    obj: &Arc<Value>,
    dry_run: bool,
) -> Result<(StatusCode, Value), ApiError> {
    let name = meta_str(obj, "name").unwrap_or("").to_string();
    if meta_str(obj, "deletionTimestamp").is_some() {
        return Err(ApiError::new(409, "Conflict", format!(
            "Operation cannot be fulfilled on namespaces \"{name}\": The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system."
        )).with_details(json!({"name": name, "kind": "namespaces"})));
    }
    let mut marked = (**obj).clone();
    {
        let meta = metadata_mut(&mut marked);
        meta.insert("deletionTimestamp".into(), json!(now()));
        meta.insert("deletionGracePeriodSeconds".into(), json!(0));
    }
    marked["status"]["phase"] = json!("Terminating");
    if dry_run {
        return Ok((StatusCode::OK, marked));
    }
    let stored = state
        .store
        .put(&(rt.group.clone(), rt.plural.clone()), marked);
    Ok((StatusCode::OK, (*stored).clone()))
}

/// The namespace controller's delete of one object in a Terminating
/// namespace: Background propagation, finalizers honoured.
pub(crate) fn delete_in_namespace(state: &mut State, rt: &Arc<ResourceType>, obj: &Arc<Value>) {
    let opts = DeleteOptions {
        propagation: Some("Background".into()),
        ..Default::default()
    };
    let _ = delete_object(state, rt, obj, &opts);
}
