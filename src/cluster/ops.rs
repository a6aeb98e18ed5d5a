//! The verbs the engine needs, on objects as JSON.

use super::{ClusterError, Kind, FIELD_MANAGER};
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PropagationPolicy,
};
use serde_json::Value;

fn api(client: &kube::Client, kind: &Kind, namespace: Option<&str>) -> Api<DynamicObject> {
    match (kind.namespaced, namespace) {
        (true, Some(ns)) => Api::namespaced_with(client.clone(), ns, &kind.resource),
        _ => Api::all_with(client.clone(), &kind.resource),
    }
}

fn to_value(o: DynamicObject) -> Value {
    serde_json::to_value(o).unwrap_or(Value::Null)
}

fn describe(kind: &Kind, namespace: Option<&str>, name: &str) -> String {
    let k = &kind.resource.kind;
    match namespace {
        Some(ns) if kind.namespaced => format!("{k} {ns}/{name}"),
        _ => format!("{k} {name}"),
    }
}

pub async fn get(
    client: &kube::Client,
    url: &str,
    kind: &Kind,
    namespace: Option<&str>,
    name: &str,
) -> Result<Option<Value>, ClusterError> {
    api(client, kind, namespace)
        .get_opt(name)
        .await
        .map(|o| o.map(to_value))
        .map_err(|e| ClusterError::from_kube(&describe(kind, namespace, name), url, e))
}

/// Objects of a kind carrying `label=value`, across all namespaces.
pub async fn list_labelled(
    client: &kube::Client,
    url: &str,
    kind: &Kind,
    label: &str,
    value: &str,
) -> Result<Vec<Value>, ClusterError> {
    let lp = ListParams::default().labels(&format!("{label}={value}"));
    // A real apiserver omits apiVersion and kind on the items of a list of
    // built-in kinds; everything downstream (keys, Secret masking) needs them.
    let with_type = |mut v: Value| {
        if v.get("apiVersion").is_none_or(Value::is_null) {
            v["apiVersion"] = Value::String(kind.resource.api_version.clone());
        }
        if v.get("kind").is_none_or(Value::is_null) {
            v["kind"] = Value::String(kind.resource.kind.clone());
        }
        v
    };
    api(client, kind, None)
        .list(&lp)
        .await
        .map(|l| l.items.into_iter().map(to_value).map(with_type).collect())
        .map_err(|e| ClusterError::from_kube(&format!("list {}", kind.resource.plural), url, e))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyMode {
    DryRun,
    Apply,
}

/// Server-side apply as field manager `gitops-tui`.
pub async fn apply(
    client: &kube::Client,
    url: &str,
    kind: &Kind,
    object: &Value,
    mode: ApplyMode,
    force: bool,
) -> Result<Value, ClusterError> {
    let namespace = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str);
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut params = PatchParams::apply(FIELD_MANAGER);
    params.force = force;
    params.dry_run = mode == ApplyMode::DryRun;
    api(client, kind, namespace)
        .patch(name, &params, &Patch::Apply(object))
        .await
        .map(to_value)
        .map_err(|e| ClusterError::from_kube(&describe(kind, namespace, name), url, e))
}

pub async fn delete(
    client: &kube::Client,
    url: &str,
    kind: &Kind,
    namespace: Option<&str>,
    name: &str,
) -> Result<(), ClusterError> {
    let dp = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Background),
        ..Default::default()
    };
    match api(client, kind, namespace).delete(name, &dp).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(ClusterError::from_kube(
            &describe(kind, namespace, name),
            url,
            e,
        )),
    }
}
