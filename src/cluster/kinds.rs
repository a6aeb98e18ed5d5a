//! From `apiVersion` + `kind` to the REST resource and its scope, by
//! discovery, cached per cluster. A kind the cluster does not serve (yet:
//! its CRD may be applied in stage one of a sync) is re-resolved after.

use super::ClusterError;
use kube::api::{ApiResource, GroupVersionKind};
use kube::discovery::Scope;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{Mutex, OnceCell};

#[derive(Debug, Clone)]
pub struct Kind {
    pub resource: ApiResource,
    pub namespaced: bool,
}

/// (cluster URL, apiVersion, kind).
type KindKey = (String, String, String);

/// One cell per kind per cluster: the first app to need a kind runs its
/// discovery and every other app of the context waits for that answer
/// instead of asking again (at 1,000 apps the same three kinds were
/// discovered once per app). A failed discovery leaves the cell empty, so
/// the next caller asks again.
#[derive(Default)]
pub struct KindResolver {
    cache: Mutex<HashMap<KindKey, Arc<OnceCell<Kind>>>>,
}

impl KindResolver {
    pub async fn resolve(
        &self,
        client: &kube::Client,
        url: &str,
        api_version: &str,
        kind: &str,
    ) -> Result<Kind, ClusterError> {
        let key = (context_key(url), api_version.to_string(), kind.to_string());
        let cell = self.cache.lock().await.entry(key).or_default().clone();
        cell.get_or_try_init(|| discover(client, url, api_version, kind))
            .await
            .cloned()
    }

    /// Forget what failed or changed (after CRDs were applied).
    pub async fn clear(&self) {
        self.cache.lock().await.clear();
    }

    /// Forget one kind of one cluster (its CRD came or went), so the next
    /// resolve asks discovery again.
    pub async fn forget(&self, url: &str, api_version: &str, kind: &str) {
        let key = (context_key(url), api_version.to_string(), kind.to_string());
        self.cache.lock().await.remove(&key);
    }
}

async fn discover(
    client: &kube::Client,
    url: &str,
    api_version: &str,
    kind: &str,
) -> Result<Kind, ClusterError> {
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), api_version.to_string()),
    };
    let gvk = GroupVersionKind::gvk(&group, &version, kind);
    let (resource, caps) = match kube::discovery::pinned_kind(client, &gvk).await {
        Ok(r) => r,
        Err(kube::Error::Api(s)) if s.code == 404 => {
            return Err(ClusterError::UnknownKind {
                api_version: api_version.into(),
                kind: kind.into(),
            })
        }
        Err(kube::Error::Discovery(_)) => {
            return Err(ClusterError::UnknownKind {
                api_version: api_version.into(),
                kind: kind.into(),
            })
        }
        Err(e) => {
            return Err(ClusterError::from_kube(
                &format!("discovery of {api_version} {kind}"),
                url,
                e,
            ))
        }
    };
    Ok(Kind {
        resource,
        namespaced: caps.scope == Scope::Namespaced,
    })
}

fn context_key(url: &str) -> String {
    url.to_string()
}
