//! The cluster side: one kube client per kubeconfig context, kind
//! resolution by discovery, and the few verbs the engine uses (get, list by
//! label, server-side apply with or without dry-run, delete), each retried
//! within a deadline when the server is busy (`retry`, `transport`).

mod client;
mod contents;
mod in_cluster;
mod kinds;
pub mod live_cache;
pub mod live_store;
pub mod logs;
mod ops;
mod records_seen;
pub mod retry;
pub mod stack;
mod transport;
pub mod warnings;
mod writes;

pub use client::{Cluster, ClusterConnector, KubeOptions};
pub use contents::{list_all, namespaced_kinds, remove_label};
pub use kinds::{Kind, KindResolver};
pub use live_cache::LiveCache;
pub use ops::{apply, delete, get, get_key, list_labelled, Applied, ApplyMode};
pub use retry::{RetryPolicy, RetryProgress, RetryProgressSink};
pub use writes::{merge_patch, replace};

use retry::{Answer, GaveUp};

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
    /// Retried until the deadline (or, for a request that is never
    /// repeated, timed out): the last answer, worded "timed out" for timeouts.
    #[error("{object}: {detail}")]
    GaveUp {
        object: String,
        /// The last status, when the server answered at all.
        code: Option<u16>,
        timed_out: bool,
        detail: String,
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
            kube::Error::Service(e) => {
                if let Some(g) = transport::chain(&*e).find_map(|c| c.downcast_ref::<GaveUp>()) {
                    return Self::gave_up(object, url, g);
                }
                Self::transport(object, url, &*e)
            }
            kube::Error::HyperError(e) => Self::transport(object, url, &e),
            other => ClusterError::Other(format!("{object}: {other}")),
        }
    }

    fn gave_up(object: &str, url: &str, g: &GaveUp) -> Self {
        let (code, timed_out, detail) = match &g.answer {
            Answer::Status { code, message, .. } if !message.is_empty() => {
                (Some(*code), false, format!("{g} (last answer: {message})"))
            }
            Answer::Status { code, .. } => (Some(*code), false, g.to_string()),
            Answer::TimedOut => (
                None,
                true,
                format!(
                    "timed out: the API server at {url} did not answer for {}; gave up after {} attempt(s)",
                    retry::seconds(g.elapsed),
                    g.attempts
                ),
            ),
            Answer::Dropped(_) => (None, false, format!("{g} ({url})")),
        };
        ClusterError::GaveUp {
            object: object.to_string(),
            code,
            timed_out,
            detail,
        }
    }

    /// A request that failed below HTTP: a timeout says so, anything else
    /// is an unreachable cluster.
    fn transport(object: &str, url: &str, e: &(dyn std::error::Error + 'static)) -> Self {
        if transport::is_timeout(e) {
            return ClusterError::GaveUp {
                object: object.to_string(),
                code: None,
                timed_out: true,
                detail: format!("timed out waiting for the API server at {url}"),
            };
        }
        ClusterError::Unreachable {
            url: url.to_string(),
            message: e.to_string(),
        }
    }

    pub fn code(&self) -> Option<u16> {
        match self {
            ClusterError::Api { code, .. } => Some(*code),
            ClusterError::GaveUp { code, .. } => *code,
            _ => None,
        }
    }

    /// The server kept refusing or did not answer until the deadline: the
    /// CLI exits 2 on this even where it reports other failures and goes on.
    pub fn is_deadline(&self) -> bool {
        matches!(self, ClusterError::GaveUp { .. })
    }

    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            ClusterError::GaveUp {
                timed_out: true,
                ..
            }
        )
    }

    pub fn is_not_found(&self) -> bool {
        self.code() == Some(404)
    }
}
