//! The `scale` subresource (autoscaling/v1 `Scale`), which `kubectl scale`
//! and HPAs write. The write lands on the parent object and is recorded in
//! its managedFields as an Update with `subresource: scale`.

use crate::commit::{commit, Tracking};
use crate::handler::Ctx;
use crate::objects::meta_str;
use crate::registry::ResourceType;
use crate::route::ResourcePath;
use crate::server::Shared;
use crate::status::ApiError;
use serde_json::{json, Value};
use std::sync::Arc;

pub fn scale_of(rt: &ResourceType, obj: &Value) -> Result<Value, ApiError> {
    let paths = rt.scale_paths.as_ref().ok_or_else(|| {
        ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    })?;
    let replicas = obj
        .pointer(&paths.spec_replicas)
        .cloned()
        .unwrap_or(json!(0));
    let status_replicas = obj
        .pointer(&paths.status_replicas)
        .cloned()
        .unwrap_or(json!(0));
    let selector = selector_string(obj, paths.label_selector.as_deref());
    let meta = obj.get("metadata").cloned().unwrap_or(json!({}));
    let mut scale_meta = json!({});
    for field in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = meta.get(field) {
            scale_meta[field] = v.clone();
        }
    }
    Ok(json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": replicas},
        "status": {"replicas": status_replicas, "selector": selector},
    }))
}

/// `app=web,tier=front` from the workload's `spec.selector.matchLabels`.
fn selector_string(obj: &Value, status_path: Option<&str>) -> String {
    if let Some(s) = status_path
        .and_then(|p| obj.pointer(p))
        .and_then(Value::as_str)
    {
        return s.to_string();
    }
    obj.pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// Change the replicas through the Scale view: `change` turns the current
/// Scale into the desired one (a PUT body or a patched Scale).
pub fn write_scale(
    shared: &Shared,
    rt: &Arc<ResourceType>,
    rp: &ResourcePath,
    ctx: &Ctx,
    change: impl FnOnce(&Value) -> Result<Value, ApiError>,
) -> Result<Value, ApiError> {
    let name = rp.name.as_deref().unwrap_or("");
    let manager = ctx.field_manager();
    let mut state = shared.lock();
    let state = &mut *state;
    let old = state
        .store
        .get(
            &(rt.group.clone(), rt.plural.clone()),
            rp.namespace.as_deref().unwrap_or(""),
            name,
        )
        .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
    let current = scale_of(rt, &old)?;
    let desired = change(&current)?;
    if let Some(rv) = meta_str(&desired, "resourceVersion").filter(|r| !r.is_empty()) {
        if Some(rv) != meta_str(&old, "resourceVersion") {
            return Err(ApiError::stale(&rt.group, &rt.plural, name));
        }
    }
    let replicas = desired
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .ok_or_else(|| {
            ApiError::invalid(
                "autoscaling",
                "Scale",
                name,
                vec![("spec.replicas".into(), "Required value".into())],
            )
        })?;
    if replicas < 0 {
        return Err(ApiError::invalid(
            "autoscaling",
            "Scale",
            name,
            vec![(
                "spec.replicas".into(),
                format!("Invalid value: {replicas}: must be greater than or equal to 0"),
            )],
        ));
    }
    let mut new = (*old).clone();
    let pointer = rt
        .scale_paths
        .as_ref()
        .map(|p| p.spec_replicas.clone())
        .unwrap_or_default();
    set_pointer(&mut new, &pointer, json!(replicas));
    let stored = commit(
        state,
        rt,
        Some(old),
        new,
        ctx.dry_run(),
        Tracking::Update {
            manager: &manager,
            subresource: Some("scale"),
        },
    )?;
    scale_of(rt, &stored)
}

fn set_pointer(obj: &mut Value, pointer: &str, value: Value) {
    let mut node = obj;
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        if i == parts.len() - 1 {
            node[*part] = value;
            return;
        }
        if !node.get(*part).is_some_and(Value::is_object) {
            node[*part] = json!({});
        }
        node = &mut node[*part];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    #[test]
    fn scale_view_of_a_deployment() {
        let r = Registry::with_builtins();
        let rt = r.find("apps", "v1", "deployments").expect("served");
        let d = json!({"metadata": {"name": "web", "namespace": "d", "resourceVersion": "7"},
                       "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}},
                       "status": {"replicas": 1}});
        let s = scale_of(&rt, &d).expect("scalable");
        assert_eq!(s["spec"]["replicas"], 2);
        assert_eq!(s["status"]["replicas"], 1);
        assert_eq!(s["status"]["selector"], "app=web");
        assert_eq!(s["metadata"]["resourceVersion"], "7");
        let mut o = json!({});
        set_pointer(&mut o, "/spec/size", json!(3));
        assert_eq!(o, json!({"spec": {"size": 3}}));
    }
}
