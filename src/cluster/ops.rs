//! The verbs the engine needs, on objects as JSON.
//!
//! Requests are built with kube's request builder and answered as plain
//! `serde_json::Value`: everything downstream works on JSON, and going
//! through `DynamicObject` would convert every object once more. Apply is
//! sent raw (`Client::send`) to keep the response's `Warning` headers.

use super::live_cache::with_type;
use super::{warnings, ClusterError, Kind, FIELD_MANAGER};
use kube::api::{
    DeleteParams, DynamicObject, GetParams, ListParams, Patch, PatchParams, PropagationPolicy,
    ValidationDirective,
};
use kube::core::{Request, Status};
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

/// [`get`] of the object `key` names, in `cluster`.
pub async fn get_key(
    cluster: &super::Cluster,
    kind: &Kind,
    key: &crate::model::ResourceKey,
) -> Result<Option<Value>, ClusterError> {
    get(
        &cluster.client,
        &cluster.url,
        kind,
        key.namespace.as_deref(),
        &key.name,
    )
    .await
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

/// What an apply (or its dry-run) answered: the object as the server would
/// store it, and the server's warnings about it. Derefs to the object, so
/// callers that only compare objects read it as a `Value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub object: Value,
    pub warnings: Vec<String>,
}

impl std::ops::Deref for Applied {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.object
    }
}

/// Server-side apply as field manager `gitops-tui`, with
/// `fieldValidation=Strict`: an unknown or duplicate field (a typo in Git) is
/// refused with the server's message instead of being dropped.
pub async fn apply(
    client: &kube::Client,
    url: &str,
    kind: &Kind,
    object: &Value,
    mode: ApplyMode,
    force: bool,
) -> Result<Applied, ClusterError> {
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
    params.field_validation = Some(ValidationDirective::Strict);
    let built = request(kind, namespace).patch(name, &params, &Patch::Apply(object));
    send_keeping_warnings(client, built)
        .await
        .map_err(|e| ClusterError::from_kube(&describe(kind, namespace, name), url, e))
}

/// A request whose answer is an object, with the `Warning` headers kept.
async fn send_keeping_warnings(
    client: &kube::Client,
    built: Result<http::Request<Vec<u8>>, kube::core::request::Error>,
) -> Result<Applied, kube::Error> {
    let request = built.map_err(kube::Error::BuildRequest)?;
    let response = client.send(request.map(kube::client::Body::from)).await?;
    let status = response.status();
    let warnings = warnings::from_headers(response.headers());
    let body = response.into_body().collect_bytes().await?;
    if status.is_client_error() || status.is_server_error() {
        // As kube's own request path does: a Status body, else the text.
        let status = serde_json::from_slice::<Status>(&body).unwrap_or_else(|_| {
            Status::failure(String::from_utf8_lossy(&body).trim(), "").with_code(status.as_u16())
        });
        return Err(kube::Error::Api(status.boxed()));
    }
    let object = serde_json::from_slice(&body).map_err(kube::Error::SerdeError)?;
    Ok(Applied { object, warnings })
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
