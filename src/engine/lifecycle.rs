//! Suspend, resume, history and rollback: the operations that change an
//! app's record rather than (only) its objects.

use super::sync::{SyncOptions, SyncReport};
use super::{blocking, Engine, EngineError};
use crate::git::{HistoryCache, HistoryEntry, HistoryOptions};
use crate::source;
use crate::sync::record::{AppRecord, SyncRecord};
use serde::Serialize;
use std::sync::OnceLock;

#[derive(Debug, Clone, Serialize)]
pub struct CommitInfo {
    pub sha: String,
    pub author: String,
    /// RFC 3339.
    pub time: String,
    pub subject: String,
    pub deployed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryReport {
    pub app: String,
    pub commits: Vec<CommitInfo>,
    pub syncs: Vec<SyncRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollbackTarget {
    Revision(String),
    Previous,
}

/// One history cache for the process: a refresh with no new commits costs nothing.
fn history_cache() -> &'static HistoryCache {
    static CACHE: OnceLock<HistoryCache> = OnceLock::new();
    CACHE.get_or_init(|| HistoryCache::new(64))
}

fn rfc3339(unix: i64) -> String {
    let t =
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(unix).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

impl Engine {
    pub async fn suspend(&self, name: &str) -> Result<AppRecord, EngineError> {
        self.refuse_if_readonly("suspend")?;
        let app = self.app(name)?.clone();
        let cluster = self.cluster(&app).await?;
        Ok(self
            .records(&cluster)
            .update(&app.name, |r| r.suspended = true)
            .await?)
    }

    /// Restart auto-sync and self-heal; an app paused by a rollback loses its
    /// pin and is synced to its ref's head.
    pub async fn resume(&self, name: &str) -> Result<Option<SyncReport>, EngineError> {
        self.refuse_if_readonly("resume")?;
        let app = self.app(name)?.clone();
        let cluster = self.cluster(&app).await?;
        let before = self.records(&cluster).read(&app.name).await?;
        self.records(&cluster)
            .update(&app.name, |r| {
                r.suspended = false;
                r.paused_revision = None;
            })
            .await?;
        if before.paused_revision.is_some() {
            return Ok(Some(self.sync(name, &SyncOptions::default()).await?));
        }
        Ok(None)
    }

    /// The commits touching the app's path, newest first.
    pub async fn commits(&self, name: &str) -> Result<Vec<HistoryEntry>, EngineError> {
        let app = self.app(name)?.clone();
        let base = self.config.base_dir.clone();
        blocking(move || {
            source::fetch(&app, &base)?;
            let repo = source::open(&app, &base)?;
            let head = source::head(&app, &repo)?;
            let entries = history_cache()
                .history(&repo, app.repo_path(), head, HistoryOptions::default())
                .map_err(|source| source::SourceError::Git {
                    app: app.name.clone(),
                    source,
                })?;
            Ok::<_, EngineError>(entries.to_vec())
        })
        .await?
    }

    pub async fn history(&self, name: &str) -> Result<HistoryReport, EngineError> {
        let app = self.app(name)?.clone();
        let commits = self.commits(name).await?;
        let cluster = self.cluster(&app).await?;
        let record = self.records(&cluster).read(&app.name).await?;
        let deployed = record.deployed_revision.clone();
        Ok(HistoryReport {
            app: app.name.clone(),
            commits: commits
                .into_iter()
                .map(|c| CommitInfo {
                    deployed: deployed.as_deref() == Some(c.sha.as_str()),
                    sha: c.sha,
                    author: c.author_name,
                    time: rfc3339(c.time),
                    subject: c.subject,
                })
                .collect(),
            syncs: record.history,
        })
    }

    /// The commit a rollback goes to.
    pub async fn rollback_revision(
        &self,
        name: &str,
        target: &RollbackTarget,
    ) -> Result<String, EngineError> {
        let app = self.app(name)?.clone();
        match target {
            RollbackTarget::Revision(rev) => Ok(self.revisions(&app, Some(rev)).await?.1),
            RollbackTarget::Previous => {
                let cluster = self.cluster(&app).await?;
                let record = self.records(&cluster).read(&app.name).await?;
                let deployed = record.deployed_revision.clone();
                // The revision deployed before the current one...
                let earlier = record
                    .history
                    .iter()
                    .rev()
                    .filter(|s| s.result == "Succeeded")
                    .map(|s| s.revision.clone())
                    .find(|r| Some(r) != deployed.as_ref());
                if let Some(r) = earlier {
                    return Ok(r);
                }
                // ...else the commit before the deployed one.
                let commits = self.commits(name).await?;
                let pos = deployed
                    .as_ref()
                    .and_then(|d| commits.iter().position(|c| &c.sha == d))
                    .unwrap_or(0);
                commits.get(pos + 1).map(|c| c.sha.clone()).ok_or_else(|| {
                    EngineError::Other(format!(
                        "app {name} has no earlier revision to roll back to"
                    ))
                })
            }
        }
    }

    /// Apply an earlier commit and pause the app at it, so auto-sync does not undo it.
    pub async fn rollback(
        &self,
        name: &str,
        revision: &str,
        dry_run: bool,
    ) -> Result<SyncReport, EngineError> {
        self.refuse_if_readonly("rollback")?;
        let app = self.app(name)?.clone();
        let opts = SyncOptions {
            revision: Some(revision.to_string()),
            dry_run,
            ..Default::default()
        };
        let report = self.sync(name, &opts).await?;
        if report.succeeded && !dry_run {
            let cluster = self.cluster(&app).await?;
            let pin = report.revision.clone();
            self.records(&cluster)
                .update(&app.name, |r| r.paused_revision = Some(pin.clone()))
                .await?;
        }
        Ok(report)
    }
}
