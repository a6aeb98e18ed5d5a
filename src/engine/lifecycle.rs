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
    /// The newest commit of the path reachable from the deployed revision:
    /// what the cluster runs (the deployed revision itself may not touch the path).
    pub deployed: bool,
    /// The newest commit of the path at the ref's head.
    pub head: bool,
    /// The path's content at the rollback pin.
    pub pinned: bool,
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

/// Among the path's commits (newest first), the first that `revision` contains:
/// the commit whose content of the path `revision` has.
fn content_commit(
    repo: &crate::git::Repository,
    path_commits: &[String],
    revision: &str,
) -> Option<String> {
    let rev = crate::git::Oid::from_str(revision).ok()?;
    path_commits
        .iter()
        .find(|sha| {
            crate::git::Oid::from_str(sha)
                .is_ok_and(|c| c == rev || repo.graph_descendant_of(rev, c).unwrap_or(false))
        })
        .cloned()
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
    /// pin and is synced to its ref's head, and an auto-sync app syncs now.
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
        // A pinned app returns to its head; an auto-sync app catches up now
        // rather than at the agent's next pass.
        if before.paused_revision.is_some() || app.auto_sync {
            let opts = SyncOptions {
                prune: app.prune,
                ..Default::default()
            };
            return Ok(Some(self.sync(name, &opts).await?));
        }
        Ok(None)
    }

    /// The commits touching the app's path, newest first.
    pub async fn commits(&self, name: &str) -> Result<Vec<HistoryEntry>, EngineError> {
        Ok(self.commits_marked(name, None, None).await?.0)
    }

    /// The path's commits plus which of them hold the content of `deployed`
    /// and `pinned`, in one trip to a blocking thread (one fetch, one open).
    async fn commits_marked(
        &self,
        name: &str,
        deployed: Option<String>,
        pinned: Option<String>,
    ) -> Result<(Vec<HistoryEntry>, Option<String>, Option<String>), EngineError> {
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
            let shas: Vec<String> = entries.iter().map(|c| c.sha.clone()).collect();
            let find =
                |rev: &Option<String>| rev.as_deref().and_then(|r| content_commit(&repo, &shas, r));
            let marks = (find(&deployed), find(&pinned));
            Ok::<_, EngineError>((entries.to_vec(), marks.0, marks.1))
        })
        .await?
    }

    pub async fn history(&self, name: &str) -> Result<HistoryReport, EngineError> {
        let app = self.app(name)?.clone();
        let cluster = self.cluster(&app).await?;
        let record = self.records(&cluster).read(&app.name).await?;
        let (commits, deployed, pinned) = self
            .commits_marked(
                name,
                record.deployed_revision.clone(),
                record.paused_revision.clone(),
            )
            .await?;
        let head = commits.first().map(|c| c.sha.clone());
        Ok(HistoryReport {
            app: app.name.clone(),
            commits: commits
                .into_iter()
                .map(|c| CommitInfo {
                    deployed: deployed.as_deref() == Some(c.sha.as_str()),
                    head: head.as_deref() == Some(c.sha.as_str()),
                    pinned: pinned.as_deref() == Some(c.sha.as_str()),
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

impl Engine {
    /// What commit `sha` changed in the app's manifests: a unified diff of
    /// every object against the commit's first parent (secrets masked).
    pub async fn commit_diff(&self, name: &str, sha: &str) -> Result<String, EngineError> {
        let app = self.app(name)?.clone();
        let base = self.config.base_dir.clone();
        let sha = sha.to_string();
        blocking(move || {
            let repo = source::open(&app, &base)?;
            let commit = source::resolve(&app, &repo, &sha)?;
            let parent = repo
                .find_commit(commit)
                .ok()
                .and_then(|c| c.parent_id(0).ok());
            let objects = |oid: Option<crate::git::Oid>| -> Result<
                std::collections::BTreeMap<String, serde_json::Value>,
                EngineError,
            > {
                let Some(oid) = oid else {
                    return Ok(Default::default());
                };
                match source::manifests(&app, &repo, oid) {
                    Ok(loaded) => Ok(loaded
                        .objects
                        .into_iter()
                        .map(|m| (m.identity().to_string(), m.object))
                        .collect()),
                    // The path did not exist yet at the parent: everything is new.
                    Err(_) if Some(oid) == parent => Ok(Default::default()),
                    Err(e) => Err(e.into()),
                }
            };
            let before = objects(parent)?;
            let after = objects(Some(commit))?;
            let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
            keys.sort();
            keys.dedup();
            let short = |s: &str| s.get(..7).unwrap_or(s).to_string();
            let old_label = parent
                .map(|p| short(&p.to_string()))
                .unwrap_or_else(|| "(none)".into());
            let new_label = short(&sha);
            let mut out = String::new();
            for key in keys {
                let old = before.get(key).cloned().unwrap_or(serde_json::Value::Null);
                let new = after.get(key).cloned().unwrap_or(serde_json::Value::Null);
                if old != new {
                    out.push_str(&crate::drift::diff_objects(
                        &old,
                        &new,
                        &format!("{old_label} {key}"),
                        &format!("{new_label} {key}"),
                    ));
                }
            }
            Ok(out)
        })
        .await?
    }
}

impl Engine {
    /// `rollback --revert`: commit, on the app's branch, the app path as it
    /// was at `revision` (pushing when the repository is remote), clear any
    /// rollback pin, then sync the new head. Returns the new commit and the sync.
    pub async fn revert(
        &self,
        name: &str,
        revision: &str,
    ) -> Result<(String, SyncReport), EngineError> {
        self.refuse_if_readonly("rollback --revert")?;
        let app = self.app(name)?.clone();
        let base = self.config.base_dir.clone();
        let revision = revision.to_string();
        let new_commit = {
            let app = app.clone();
            blocking(move || {
                let repo = source::open(&app, &base)?;
                let target = source::resolve(&app, &repo, &revision)?;
                let subject = repo.find_commit(target).ok().and_then(|c| c.summary().ok().flatten().map(str::to_string)).unwrap_or_default();
                let branch = crate::git::branch_of(&repo, app.git_ref.as_deref()).map_err(|e| EngineError::Other(format!("app {}: {e}", app.name)))?;
                let message = format!(
                    "Revert {} to {}: {subject}\n\nThe tree of {} equals {} again.\nWritten by gitops-tui rollback --revert.",
                    app.name,
                    &revision[..revision.len().min(7)],
                    if app.repo_path().is_empty() { "/" } else { app.repo_path() },
                    target
                );
                let done = crate::git::revert_path(&repo, &branch, app.repo_path(), target, &message)
                    .map_err(|e| EngineError::Other(format!("app {}: {e}", app.name)))?;
                if app.is_remote() {
                    source::push(&app, &base, &done.branch)?;
                }
                Ok::<_, EngineError>(done.commit.to_string())
            })
            .await??
        };
        let cluster = self.cluster(&app).await?;
        self.records(&cluster)
            .update(&app.name, |r| r.paused_revision = None)
            .await?;
        let report = self.sync(name, &SyncOptions::default()).await?;
        Ok((new_commit, report))
    }
}
