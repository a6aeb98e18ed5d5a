//! The verbs the engine needs, on objects as JSON.
//!
//! Requests are built with kube's request builder and answered as plain
//! `serde_json::Value`: everything downstream works on JSON, and going
//! through `DynamicObject` would convert every object once more.

use super::live_cache::with_type;
use super::{ClusterError, Kind, FIELD_MANAGER};
use kube::api::{
    DeleteParams, DynamicObject, GetParams, ListParams, Patch, PatchParams, PropagationPolicy,
};
use kube::core::Request;
use kube::Resource;
use serde_json::Value;

/// The collection URL of `kind`, in `namespace` when the kind is namespaced.
pub(super) fn request(kind: &Kind, namespace: Option<&str>) -> Request {
    let namespace = if kind.namespaced { namespace } else { None };
    Request::new(DynamicObject::url_path(&kind.resource, namespace))
}

pub(super) async fn send(
    client: &kube::Client,
    built: Result<http::Request<Vec<u8>>, kube::core::request::Error>,
) -> Result<Value, kube::Error> {
    client
        .request::<Value>(built.map_err(kube::Error::BuildRequest)?)
        .await
}

pub(super) fn describe(kind: &Kind, namespace: Option<&str>, name: &str) -> String {
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
    match send(
        client,
        request(kind, namespace).get(name, &GetParams::default()),
    )
    .await
    {
        Ok(v) => Ok(Some(v)),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
        Err(e) => Err(ClusterError::from_kube(
            &describe(kind, namespace, name),
            url,
            e,
        )),
    }
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
    let mut list = send(client, request(kind, None).list(&lp))
        .await
        .map_err(|e| ClusterError::from_kube(&format!("list {}", kind.resource.plural), url, e))?;
    Ok(match list.get_mut("items").map(Value::take) {
        // A real apiserver omits apiVersion and kind on the items of a list of
        // built-in kinds; everything downstream (keys, Secret masking) needs them.
        Some(Value::Array(items)) => items.into_iter().map(|v| with_type(v, kind)).collect(),
        _ => Vec::new(),
    })
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
    send(
        client,
        request(kind, namespace).patch(name, &params, &Patch::Apply(object)),
    )
    .await
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
    match send(client, request(kind, namespace).delete(name, &dp)).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(ClusterError::from_kube(
            &describe(kind, namespace, name),
            url,
            e,
        )),
    }
}
