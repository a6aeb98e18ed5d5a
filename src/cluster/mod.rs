//! The cluster side: one kube client per kubeconfig context, kind
//! resolution by discovery, and the few verbs the engine uses (get, list by
//! label, server-side apply with or without dry-run, delete).

mod client;
mod contents;
mod kinds;
pub mod live_cache;
mod ops;

pub use client::{Cluster, ClusterConnector, KubeOptions};
pub use contents::{list_all, namespaced_kinds, remove_label};
pub use kinds::{Kind, KindResolver};
pub use live_cache::LiveCache;
pub use ops::{apply, delete, get, list_labelled, ApplyMode};

pub use crate::model::{FIELD_MANAGER, TRACKING_LABEL};

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    #[error("cannot reach the cluster at {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("{context}: forbidden: {message}")]
    Forbidden { context: String, message: String },
    #[error("the cluster does not serve {api_version} {kind}")]
    UnknownKind { api_version: String, kind: String },
    #[error("{object}: {message}")]
    Api {
        object: String,
        code: u16,
        reason: String,
        message: String,
    },
    #[error("{0}")]
    Other(String),
}

impl ClusterError {
    /// Build from a kube error, naming the object it concerns.
    pub fn from_kube(object: &str, url: &str, e: kube::Error) -> Self {
        match e {
            kube::Error::Api(s) => ClusterError::Api {
                object: object.to_string(),
                code: s.code,
                reason: s.reason.clone(),
                message: s.message.clone(),
            },
            kube::Error::HyperError(e) => ClusterError::Unreachable {
                url: url.to_string(),
                message: e.to_string(),
            },
            kube::Error::Service(e) => ClusterError::Unreachable {
                url: url.to_string(),
                message: e.to_string(),
            },
            other => ClusterError::Other(format!("{object}: {other}")),
        }
    }

    pub fn code(&self) -> Option<u16> {
        match self {
            ClusterError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.code() == Some(404)
    }
}
