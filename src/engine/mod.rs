//! The engine: everything the CLI and the TUI do to an app goes through here
//! (status and drift, sync, suspend/resume, history, rollback), so the two
//! always agree.

mod agent;
mod desired_state;
mod events;
mod first_status;
mod interrupted;
pub mod leader;
mod lease;
mod lifecycle;
mod local;
pub mod logs;
mod managed;
mod managed_argo;
mod managed_flux;
mod managed_git;
pub mod managed_refresh;
pub mod managed_watch;
mod observe;
mod ownership;
mod plan;
mod prune;
mod status;
mod sync;
mod wait;

pub use agent::{AgentAction, Backoff, Observation};
pub use first_status::Refinement;
pub use interrupted::NOT_APPLIED;
pub use lease::this_host;
pub use lifecycle::RollbackTarget;
pub use status::{unknown_status, STATUS_LOADS_AT_ONCE};
pub use sync::{ResourceResult, SyncOptions, SyncReport};
pub use wait::{Unhealthy, WaitOutcome};

use crate::cluster::Cluster;
use crate::cluster::{ClusterConnector, ClusterError, KindResolver, KubeOptions, LiveCache};
use crate::config::{AppConfig, Config};
use crate::model::AppId;
use crate::source::SourceError;
use crate::sync::record::RecordStore;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("no app named {0:?} in the config")]
    UnknownApp(String),
    #[error("app {id}: this is not available for {by} apps yet, only for the apps of the config", id = .0, by = .0.source)]
    NotObserved(AppId),
    #[error("app {0}: no such {kinds} in {context}", kinds = managed_kinds(.0), context = if .0.context.is_empty() { "the current context" } else { .0.context.as_str() })]
    UnknownManaged(AppId),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("app {app} is busy: {holder} is operating on it (until {until})")]
    Busy {
        app: String,
        holder: String,
        until: String,
    },
    #[error("app {app}: {} object(s) outside the app's boundaries, nothing was applied: {}", violations.len(), violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    OutOfBounds {
        app: String,
        violations: Vec<crate::sync::boundary::Violation>,
    },
    #[error("{0} is refused under --readonly")]
    Readonly(String),
    #[error("{0}")]
    Other(String),
}

pub struct Engine {
    pub config: Config,
    connector: ClusterConnector,
    kinds: KindResolver,
    comparisons: status::ComparisonCache,
    /// A path's manifests at a commit, read once for every app deploying it.
    loaded: Arc<crate::source::loaded_cache::LoadedCache>,
    /// The global bound on statuses computed at once (see
    /// [`status::STATUS_LOADS_AT_ONCE`]).
    status_slots: tokio::sync::Semaphore,
    /// Live objects from the TUI's watches; empty (and unused) until a
    /// runtime attaches a context.
    live: Arc<LiveCache>,
    readonly: bool,
    /// Where lines a person should see go (a lease taken over, a wait before
    /// a retry); the CLI prints them on stderr, the TUI shows them as toasts,
    /// and they are always logged.
    notices: Arc<std::sync::OnceLock<NoticeSink>>,
    /// The Flux and Argo CD apps the last `discover` found.
    managed: std::sync::Mutex<Vec<AppId>>,
    /// `--all-contexts`: look for them in every kubeconfig context.
    all_contexts: bool,
}

/// `Kustomization or HelmRelease`, `Application`: what an address names.
fn managed_kinds(id: &AppId) -> String {
    crate::source::controllers::ControllerKind::apps_of(id.source)
        .map(|k| k.kind())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Receives the engine's notices (see [`Engine::on_notice`]).
pub type NoticeSink = Box<dyn Fn(&str) + Send + Sync>;

impl Engine {
    pub fn new(config: Config, kube: KubeOptions, readonly: bool) -> Self {
        let notices: Arc<std::sync::OnceLock<NoticeSink>> = Arc::default();
        // Each wait before a retry is a notice too.
        let to_notices = notices.clone();
        let retries = crate::cluster::RetryProgressSink::new(move |p| {
            if let Some(sink) = to_notices.get() {
                sink(&p.to_string());
            }
        });
        Engine {
            connector: ClusterConnector::new(kube)
                .with_deadline(config.cluster.deadline)
                .with_retry_progress(retries),
            config,
            kinds: KindResolver::default(),
            comparisons: status::ComparisonCache::default(),
            loaded: Default::default(),
            status_slots: tokio::sync::Semaphore::new(status::STATUS_LOADS_AT_ONCE),
            live: Arc::default(),
            readonly,
            notices,
            managed: Default::default(),
            all_contexts: false,
        }
    }

    /// Look for Flux and Argo CD apps in every kubeconfig context (without
    /// it: the config's `contexts`, else the current one).
    pub fn with_all_contexts(mut self, all: bool) -> Self {
        self.all_contexts = all;
        self
    }

    /// Send the engine's notices to `sink` as well as the log (set once).
    pub fn on_notice(&self, sink: impl Fn(&str) + Send + Sync + 'static) {
        let _ = self.notices.set(Box::new(sink));
    }

    fn notice(&self, line: &str) {
        tracing::warn!("{line}");
        if let Some(sink) = self.notices.get() {
            sink(line);
        }
    }

    pub fn readonly(&self) -> bool {
        self.readonly
    }

    /// The cache a runtime's watches fill (see `cluster::live_cache`).
    pub fn live_cache(&self) -> Arc<LiveCache> {
        self.live.clone()
    }

    /// Every app this engine serves, in the order `status` and the apps
    /// pane list them. The CLI, the TUI and the agent ask here rather than
    /// read the config, so apps of another source (Flux, Argo CD) join the
    /// list in one place: the config's apps, then the Flux and Argo CD
    /// apps the last [`Engine::discover`] found.
    pub fn apps(&self) -> Vec<AppId> {
        let mut apps: Vec<AppId> = self.config.apps.iter().map(AppConfig::id).collect();
        apps.extend(self.managed_apps());
        apps
    }

    /// The config of a native app; an app of another source has none. The
    /// one place an operation learns which source serves its app.
    pub fn app(&self, id: &AppId) -> Result<&AppConfig, EngineError> {
        if !id.is_native() {
            return Err(EngineError::NotObserved(id.clone()));
        }
        self.config
            .app(&id.name)
            .ok_or_else(|| EngineError::UnknownApp(id.name.clone()))
    }

    /// The kubeconfig context an app uses in this run.
    pub fn context_of(&self, id: &AppId) -> Result<String, EngineError> {
        if !id.is_native() {
            let context = (!id.context.is_empty()).then_some(id.context.as_str());
            return Ok(self.connector.effective_context(context)?);
        }
        let app = self.app(id)?;
        Ok(self.connector.effective_context(app.context.as_deref())?)
    }

    /// The connected cluster of an app (shared by every app of its context).
    pub async fn cluster_of(&self, id: &AppId) -> Result<Cluster, EngineError> {
        if !id.is_native() {
            let context = (!id.context.is_empty()).then_some(id.context.as_str());
            return Ok(self.connector.cluster(context).await?);
        }
        let app = self.app(id)?.clone();
        self.cluster(&app).await
    }

    async fn cluster(&self, app: &AppConfig) -> Result<Cluster, EngineError> {
        Ok(self.connector.cluster(app.context.as_deref()).await?)
    }

    fn records(&self, cluster: &Cluster) -> RecordStore {
        RecordStore::new(
            cluster.client.clone(),
            &cluster.url,
            &self.config.record_namespace,
        )
    }

    fn refuse_if_readonly(&self, what: &str) -> Result<(), EngineError> {
        if self.readonly {
            Err(EngineError::Readonly(what.to_string()))
        } else {
            Ok(())
        }
    }
}

/// Run blocking Git work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, EngineError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| EngineError::Other(format!("background task failed: {e}")))
}

/// Who is syncing: the local user (USER, LOGNAME, else the passwd entry of
/// this process's uid).
fn who() -> String {
    if let Some(u) = ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
    {
        return u;
    }
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("Uid:")
                    .map(|r| r.split_whitespace().next().unwrap_or("").to_string())
            })
        });
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    uid.and_then(|uid| {
        passwd
            .lines()
            .find(|l| l.split(':').nth(2) == Some(uid.as_str()))
            .and_then(|l| l.split(':').next().map(str::to_string))
    })
    .unwrap_or_else(|| "unknown".into())
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
