//! What prune needs beyond get/list/delete: what a namespace still holds
//! (every namespaced kind the cluster serves), every object of a kind (the
//! custom resources of a CRD), and releasing an adopted object by removing
//! the app's label instead of deleting it.
//!
//! A Namespace or CRD is deleted only when nothing outside what the same
//! sync prunes would go with it; these reads are how the engine knows.

use super::live_cache::with_type;
use super::ops::{describe, request, send};
use super::{ClusterError, Kind, FIELD_MANAGER};
use kube::api::{ListParams, Patch, PatchParams};
use kube::discovery::{verbs, Discovery, Scope};
use serde_json::{json, Value};

/// Every namespaced kind the cluster serves that can be listed (the
/// preferred version of each group).
pub async fn namespaced_kinds(client: &kube::Client, url: &str) -> Result<Vec<Kind>, ClusterError> {
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .map_err(|e| ClusterError::from_kube("discovery of every kind", url, e))?;
    let mut kinds = Vec::new();
    for group in discovery.groups() {
        for (resource, caps) in group.recommended_resources() {
            if caps.scope == Scope::Namespaced && caps.supports_operation(verbs::LIST) {
                kinds.push(Kind {
                    resource,
                    namespaced: true,
                });
            }
        }
    }
    Ok(kinds)
}

/// Every object of `kind` in `namespace` (None: across all namespaces).
pub async fn list_all(
    client: &kube::Client,
    url: &str,
    kind: &Kind,
    namespace: Option<&str>,
) -> Result<Vec<Value>, ClusterError> {
    let mut list = send(
        client,
        request(kind, namespace).list(&ListParams::default()),
    )
    .await
    .map_err(|e| ClusterError::from_kube(&format!("list {}", kind.resource.plural), url, e))?;
    Ok(match list.get_mut("items").map(Value::take) {
        Some(Value::Array(items)) => items.into_iter().map(|v| with_type(v, kind)).collect(),
        _ => Vec::new(),
    })
}

/// Remove `label` from an object (a merge patch as field manager
/// `gitops-tui`): the object stays, it is just no longer the app's.
pub async fn remove_label(
    client: &kube::Client,
    url: &str,
    kind: &Kind,
    namespace: Option<&str>,
    name: &str,
    label: &str,
) -> Result<(), ClusterError> {
    let patch = json!({"metadata": {"labels": {label: null}}});
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..Default::default()
    };
    match send(
        client,
        request(kind, namespace).patch(name, &params, &Patch::Merge(&patch)),
    )
    .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(ClusterError::from_kube(
            &describe(kind, namespace, name),
            url,
            e,
        )),
    }
}
