//! Argo CD refresh and hard refresh, as `argocd app get --refresh` /
//! `--hard-refresh` do them: the refresh annotation set with a merge patch
//! (`ArgoPatch::Refresh`, the API server's `RefreshApp`), then a wait until
//! the application controller has compared the app with Git again and
//! removed the annotation, bounded by the cluster deadline. Kept apart from
//! `managed.rs` (sync, suspend, rollback) as the one verb only Argo CD has:
//! Flux has no refresh (its reconcile is `sync`), and a native app is
//! compared with Git whenever it is read.

use super::{Engine, EngineError};
use crate::cluster;
use crate::model::controller_patch::ArgoPatch;
use crate::model::{AppId, AppSource, Health, Revision, SyncStatus};
use crate::source::argocd;
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// How often the wait reads the Application again.
const POLL: Duration = Duration::from_millis(200);

/// What the controller said once it had handled the refresh.
#[derive(Debug, Clone, Serialize)]
pub struct RefreshReport {
    pub app: AppId,
    pub hard: bool,
    /// `status.reconciledAt` after the refresh.
    pub reconciled_at: Option<String>,
    pub sync: SyncStatus,
    pub health: Health,
    /// The revision `targetRevision` resolved to (`status.sync.revision`).
    pub revision: Option<Revision>,
    /// The controller could not compare (a ComparisonError condition).
    pub comparison_error: bool,
    pub message: String,
}

impl RefreshReport {
    /// One line, for the CLI and the TUI's toast.
    pub fn summary(&self) -> String {
        let at = self
            .revision
            .as_ref()
            .map_or("no revision".to_string(), |r| r.short().to_string());
        format!(
            "{} {}: {} at {at}, {} ({})",
            if self.hard {
                "hard-refreshed"
            } else {
                "refreshed"
            },
            self.app,
            self.sync,
            self.health,
            self.message
        )
    }
}

impl Engine {
    /// Refresh an Argo CD app and wait for the controller to handle it; a
    /// Flux or native app is refused, saying what it has instead.
    pub async fn refresh(&self, id: &AppId, hard: bool) -> Result<RefreshReport, EngineError> {
        match id.source {
            AppSource::ArgoCd => {}
            AppSource::Flux => {
                return Err(EngineError::Other(format!(
                    "app {id}: Flux has no refresh; `sync {id}` requests a reconcile (`--with-source` fetches its GitRepository first)"
                )))
            }
            AppSource::Native => {
                // The app must exist for the answer to be about it.
                self.app(id)?;
                return Err(EngineError::Other(format!(
                    "app {id} is gitops-tui's own: there is no controller to refresh; `status` and `diff` compare it with Git each time (a remote repository is fetched then)"
                )));
            }
        }
        self.refuse_if_readonly("refresh")?;
        let app = self.find(id).await?;
        let patch = ArgoPatch::Refresh { hard };
        self.patch(&app, &app.api, &app.object, &patch.body())
            .await?;
        let c = &app.cluster;
        let deadline = tokio::time::Instant::now() + self.config.cluster.deadline;
        let done = loop {
            let now = cluster::get(&c.client, &c.url, &app.api, Some(&id.namespace), &id.name)
                .await?
                .ok_or_else(|| EngineError::UnknownManaged(id.clone()))?;
            if !argocd::refresh_pending(&now) {
                break now;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(EngineError::Other(format!(
                    "app {id}: Argo CD's application controller did not handle the refresh within {} (is it running?); the {} annotation stays, so it refreshes once it runs",
                    humantime::format_duration(self.config.cluster.deadline),
                    argocd::REFRESH
                )));
            }
            tokio::time::sleep(POLL).await;
        };
        let (status, _) = argocd::status(id.clone(), &done);
        let text = |p: &str| done.pointer(p).and_then(Value::as_str);
        let comparison_error = done
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.get("type").and_then(Value::as_str) == Some("ComparisonError"))
            });
        Ok(RefreshReport {
            app: id.clone(),
            hard,
            reconciled_at: text("/status/reconciledAt").map(str::to_string),
            sync: status.sync,
            health: status.health,
            revision: text("/status/sync/revision").map(Revision::new),
            comparison_error,
            message: status.message,
        })
    }
}
