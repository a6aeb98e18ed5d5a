//! From `apiVersion` + `kind` to the REST resource and its scope, by
//! discovery, cached per cluster. A kind the cluster does not serve (yet:
//! its CRD may be applied in stage one of a sync) is re-resolved after.

use super::ClusterError;
use kube::api::{ApiResource, GroupVersionKind};
use kube::discovery::Scope;
use std::collections::HashMap;
use tokio::sync::Mutex;

#[derive(Debug, Clone)]
pub struct Kind {
    pub resource: ApiResource,
    pub namespaced: bool,
}

#[derive(Default)]
pub struct KindResolver {
    cache: Mutex<HashMap<(String, String, String), Kind>>,
}

impl KindResolver {
    pub async fn resolve(
        &self,
        client: &kube::Client,
        url: &str,
        api_version: &str,
        kind: &str,
    ) -> Result<Kind, ClusterError> {
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), api_version.to_string()),
        };
        let key = (context_key(url), api_version.to_string(), kind.to_string());
        if let Some(k) = self.cache.lock().await.get(&key) {
            return Ok(k.clone());
        }
        let gvk = GroupVersionKind::gvk(&group, &version, kind);
        let found = kube::discovery::pinned_kind(client, &gvk).await;
        let (resource, caps) = match found {
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
        let k = Kind {
            resource,
            namespaced: caps.scope == Scope::Namespaced,
        };
        self.cache.lock().await.insert(key, k.clone());
        Ok(k)
    }

    /// Forget what failed or changed (after CRDs were applied).
    pub async fn clear(&self) {
        self.cache.lock().await.clear();
    }
}

fn context_key(url: &str) -> String {
    url.to_string()
}
