//! The two writes a controller's object takes from gitops-tui: a JSON merge
//! patch (what `flux` and `argocd` send to annotate, suspend or pin) and an
//! update of the whole object preconditioned on the resourceVersion read
//! (how Argo CD sets an `operation`). Neither is ever repeated by the
//! transport (`retry::Idempotence::Mutating`); a 409 comes back to the
//! caller, which re-reads before it decides to write again.

use super::ops::{describe, request, send};
use super::{ClusterError, Kind};
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::Value;

/// `PATCH` with `application/merge-patch+json`; the object as stored after.
pub async fn merge_patch(
    client: &kube::Client,
    url: &str,
    kind: &Kind,
    namespace: Option<&str>,
    name: &str,
    body: &Value,
) -> Result<Value, ClusterError> {
    let built = request(kind, namespace).patch(name, &PatchParams::default(), &Patch::Merge(body));
    send(client, built)
        .await
        .map_err(|e| ClusterError::from_kube(&describe(kind, namespace, name), url, e))
}

/// `PUT` of the whole object (its `metadata.resourceVersion` is the
/// precondition: a 409 when someone wrote in between).
pub async fn replace(
    client: &kube::Client,
    url: &str,
    kind: &Kind,
    object: &Value,
) -> Result<Value, ClusterError> {
    let namespace = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str);
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let body = serde_json::to_vec(object).map_err(|e| ClusterError::Other(e.to_string()))?;
    let built = request(kind, namespace).replace(name, &PostParams::default(), body);
    send(client, built)
        .await
        .map_err(|e| ClusterError::from_kube(&describe(kind, namespace, name), url, e))
}
