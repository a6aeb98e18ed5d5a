//! Suspend, resume, history and rollback: the operations that change an
//! app's record rather than (only) its objects.

use super::sync::{SyncOptions, SyncReport};
use super::{blocking, Engine, EngineError};
use crate::config::AppConfig;
use crate::git::{HistoryCache, HistoryEntry, HistoryOptions};
use crate::model::{AppId, CommitInfo, HistoryReport, Revision};
use crate::source;
use crate::sync::record::AppRecord;
use std::sync::OnceLock;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollbackTarget {
    Revision(String),
    Previous,
}

/// Where a revision (deployed, pinned, recorded) stands in the history of
/// the app's path at its ref's head.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Located {
    /// Reachable from the head; the newest path commit whose content it has
    /// (`None` when it is older than every commit of the path).
    InHistory(Option<String>),
    /// Not reachable from the head: force-pushed away, on another branch, or
    /// not in the repository at all. No commit of the path stands for it.
    NotInHistory,
}

impl Located {
    fn commit(&self) -> Option<&str> {
        match self {
            Located::InHistory(c) => c.as_deref(),
            Located::NotInHistory => None,
        }
    }
}

/// One history cache for the process: a refresh with no new commits costs nothing.
fn history_cache() -> &'static HistoryCache {
    static CACHE: OnceLock<HistoryCache> = OnceLock::new();
    CACHE.get_or_init(|| HistoryCache::new(64))
}

/// Where `revision` stands among the path's commits (newest first) at `head`.
/// Only a revision the head contains is matched to a commit: after a
/// force-push the old deployed commit may still be in the object database,
/// and the commit it descends from is not what the cluster runs.
fn locate(
    repo: &crate::git::Repository,
    head: crate::git::Oid,
    path_commits: &[String],
    revision: &str,
) -> Located {
    let Ok(rev) = crate::git::Oid::from_str(revision) else {
        return Located::NotInHistory;
    };
    let contains = |newer: crate::git::Oid, older: crate::git::Oid| {
        newer == older || repo.graph_descendant_of(newer, older).unwrap_or(false)
    };
    if !contains(head, rev) {
        return Located::NotInHistory;
    }
    Located::InHistory(
        path_commits
            .iter()
            .find(|sha| crate::git::Oid::from_str(sha).is_ok_and(|c| contains(rev, c)))
            .cloned(),
    )
}

/// `deployed revision abc1234 is not in the history of apps/web (force-push?)`
fn not_in_history(what: &str, revision: &Revision, path: &str) -> String {
    format!(
        "{what} revision {} is not in the history of {} (force-push?)",
        revision.short(),
        if path.is_empty() { "/" } else { path }
    )
}

fn rfc3339(unix: i64) -> String {
    let t =
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(unix).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

impl Engine {
    pub async fn suspend(&self, id: &AppId) -> Result<AppRecord, EngineError> {
        self.suspend_with_reason(id, "").await
    }

    /// Suspend, recording who, when and why (an empty reason is none).
    pub async fn suspend_with_reason(
        &self,
        id: &AppId,
        reason: &str,
    ) -> Result<AppRecord, EngineError> {
        self.refuse_if_readonly("suspend")?;
        if !id.is_native() {
            return self.managed_suspend(id).await;
        }
        let app = self.app(id)?.clone();
        let cluster = self.cluster(&app).await?;
        let suspension = crate::model::Suspension {
            by: super::who(),
            at: super::now_rfc3339(),
            reason: reason.trim().to_string(),
        };
        Ok(self
            .records(&cluster)
            .update(&app.name, |r| {
                r.suspended = true;
                r.suspension = Some(suspension.clone());
            })
            .await?)
    }

    /// Restart auto-sync and self-heal; an app paused by a rollback loses its
    /// pin and is synced to its ref's head, and an auto-sync app syncs now.
    pub async fn resume(&self, id: &AppId) -> Result<Option<SyncReport>, EngineError> {
        self.resume_cancellable(id, CancellationToken::new()).await
    }

    /// [`Engine::resume`], whose sync stops between objects once `cancel` is cancelled.
    pub async fn resume_cancellable(
        &self,
        id: &AppId,
        cancel: CancellationToken,
    ) -> Result<Option<SyncReport>, EngineError> {
        self.refuse_if_readonly("resume")?;
        if !id.is_native() {
            return self.managed_resume(id).await;
        }
        let app = self.app(id)?.clone();
        let cluster = self.cluster(&app).await?;
        let before = self.records(&cluster).read(&app.name).await?;
        self.records(&cluster)
            .update(&app.name, |r| {
                r.suspended = false;
                r.suspension = None;
                r.paused_revision = None;
            })
            .await?;
        // A pinned app returns to its head; an auto-sync app catches up now
        // rather than at the agent's next pass.
        if before.paused_revision.is_some() || app.auto_sync {
            let opts = SyncOptions {
                prune: app.prune,
                cancel,
                ..Default::default()
            };
            return Ok(Some(self.sync(id, &opts).await?));
        }
        Ok(None)
    }

    /// The commits touching the app's path, newest first.
    pub async fn commits(&self, id: &AppId) -> Result<Vec<HistoryEntry>, EngineError> {
        Ok(self.commits_located(id, vec![]).await?.0)
    }

    /// The path's commits plus where each of `revisions` stands among them,
    /// in one trip to a blocking thread (one fetch, one open).
    async fn commits_located(
        &self,
        id: &AppId,
        revisions: Vec<Revision>,
    ) -> Result<(Vec<HistoryEntry>, Vec<Located>), EngineError> {
        let app = self.app(id)?.clone();
        self.commits_located_in(&app, revisions).await
    }

    /// [`Engine::commits_located`] for any app's Git (a managed app's too).
    async fn commits_located_in(
        &self,
        app: &AppConfig,
        revisions: Vec<Revision>,
    ) -> Result<(Vec<HistoryEntry>, Vec<Located>), EngineError> {
        let app = app.clone();
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
            let located = revisions
                .iter()
                .map(|r| locate(&repo, head, &shas, r.as_str()))
                .collect();
            Ok::<_, EngineError>((entries.to_vec(), located))
        })
        .await?
    }

    /// The path's commits with the deployed and pinned ones marked, and the
    /// sync records. Only the commits need Git alone: without a reachable
    /// cluster they are still listed, with no marks and the records said to
    /// be unavailable (and why).
    pub async fn history(&self, id: &AppId) -> Result<HistoryReport, EngineError> {
        if !id.is_native() {
            return self.managed_history(id).await;
        }
        let app = self.app(id)?.clone();
        let record = match self.cluster(&app).await {
            Ok(cluster) => self
                .records(&cluster)
                .read(&app.name)
                .await
                .map_err(EngineError::from),
            Err(e) => Err(e),
        };
        let (record, unavailable) = match record {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let deployed = record.as_ref().and_then(|r| r.deployed_revision.clone());
        let pinned = record.as_ref().and_then(|r| r.paused_revision.clone());
        let (commits, warnings) = self.marked_commits(&app, deployed, pinned).await?;
        Ok(HistoryReport {
            app: app.id(),
            commits,
            syncs: record.map(|r| r.history),
            syncs_unavailable: unavailable,
            warnings,
        })
    }

    /// The path's commits of `app` (newest first) with the deployed and
    /// pinned revisions marked, and a warning for each that is not in the
    /// history of the path any more.
    pub(super) async fn marked_commits(
        &self,
        app: &AppConfig,
        deployed: Option<Revision>,
        pinned: Option<Revision>,
    ) -> Result<(Vec<CommitInfo>, Vec<String>), EngineError> {
        let asked: Vec<(&str, Revision)> = [("deployed", deployed), ("pinned", pinned)]
            .into_iter()
            .filter_map(|(what, rev)| rev.map(|r| (what, r)))
            .collect();
        let (commits, located) = self
            .commits_located_in(app, asked.iter().map(|(_, r)| r.clone()).collect())
            .await?;
        let mut warnings = Vec::new();
        let mut mark = |what: &str| -> Option<String> {
            let i = asked.iter().position(|(w, _)| *w == what)?;
            if located[i] == Located::NotInHistory {
                warnings.push(not_in_history(what, &asked[i].1, app.repo_path()));
            }
            located[i].commit().map(str::to_string)
        };
        let (deployed, pinned) = (mark("deployed"), mark("pinned"));
        let head = commits.first().map(|c| c.sha.clone());
        let commits = commits
            .into_iter()
            .map(|c| CommitInfo {
                deployed: deployed.as_deref() == Some(c.sha.as_str()),
                head: head.as_deref() == Some(c.sha.as_str()),
                pinned: pinned.as_deref() == Some(c.sha.as_str()),
                sha: Revision::new(c.sha),
                author: c.author_name,
                time: rfc3339(c.time),
                subject: c.subject,
            })
            .collect();
        Ok((commits, warnings))
    }

    /// The commit a rollback goes to. `Previous` is the revision deployed
    /// before the current one (from the sync records, else the path's commit
    /// before the deployed one). It never guesses: when the deployed revision,
    /// or the one deployed before it, is not in the history of the path at
    /// the head (a force-push), it is an error naming the revision, and the
    /// user picks one with `--to`.
    pub async fn rollback_revision(
        &self,
        id: &AppId,
        target: &RollbackTarget,
    ) -> Result<Revision, EngineError> {
        if !id.is_native() {
            return self.managed_rollback_revision(id, target).await;
        }
        let app = self.app(id)?.clone();
        match target {
            RollbackTarget::Revision(rev) => Ok(self.revisions(&app, Some(rev)).await?.1),
            RollbackTarget::Previous => {
                let cluster = self.cluster(&app).await?;
                let record = self.records(&cluster).read(&app.name).await?;
                let refuse = |why: String| {
                    EngineError::Other(format!(
                        "app {id}: {why}: --previous cannot tell what to roll back to; \
                         pick a commit with --to (see `gitops-tui history {id}`)"
                    ))
                };
                let Some(deployed) = record.deployed_revision.clone() else {
                    return Err(refuse("nothing has been deployed yet".into()));
                };
                // The revision deployed before the current one...
                let earlier = record
                    .history
                    .iter()
                    .rev()
                    .filter(|s| s.result == "Succeeded")
                    .map(|s| s.revision.clone())
                    .find(|r| *r != deployed);
                let mut asked = vec![deployed.clone()];
                asked.extend(earlier.clone());
                let (commits, located) = self.commits_located(id, asked).await?;
                if located[0] == Located::NotInHistory {
                    return Err(refuse(not_in_history(
                        "deployed",
                        &deployed,
                        app.repo_path(),
                    )));
                }
                if let Some(earlier) = earlier {
                    if located.get(1) == Some(&Located::NotInHistory) {
                        return Err(refuse(not_in_history(
                            "the previously deployed",
                            &earlier,
                            app.repo_path(),
                        )));
                    }
                    return Ok(earlier);
                }
                // ...else the path's commit before the one the cluster runs.
                let pos = located[0]
                    .commit()
                    .and_then(|d| commits.iter().position(|c| c.sha == d));
                pos.and_then(|p| commits.get(p + 1))
                    .map(|c| Revision::new(c.sha.clone()))
                    .ok_or_else(|| {
                        EngineError::Other(format!(
                            "app {id} has no earlier revision to roll back to"
                        ))
                    })
            }
        }
    }

    /// Apply an earlier commit and pause the app at it, so auto-sync does not undo it.
    pub async fn rollback(
        &self,
        id: &AppId,
        revision: &Revision,
        dry_run: bool,
    ) -> Result<SyncReport, EngineError> {
        let opts = SyncOptions {
            dry_run,
            ..Default::default()
        };
        self.rollback_with(id, revision, opts).await
    }

    /// [`Engine::rollback`] with the sync's options: `cancel` stops it
    /// between objects (an interrupted rollback does not pin), `adopt` takes
    /// over the existing objects its preview listed. The revision is always
    /// `revision`.
    pub async fn rollback_with(
        &self,
        id: &AppId,
        revision: &Revision,
        opts: SyncOptions,
    ) -> Result<SyncReport, EngineError> {
        self.refuse_if_readonly("rollback")?;
        if !id.is_native() {
            return self.managed_rollback(id, revision, &opts).await;
        }
        let app = self.app(id)?.clone();
        let dry_run = opts.dry_run;
        let opts = SyncOptions {
            revision: Some(revision.to_string()),
            ..opts
        };
        let report = self.sync(id, &opts).await?;
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
    pub async fn commit_diff(&self, id: &AppId, sha: &Revision) -> Result<String, EngineError> {
        let app = self.app(id)?.clone();
        let base = self.config.base_dir.clone();
        let sha = sha.clone();
        let cache = self.loaded.clone();
        blocking(move || {
            let repo = source::open(&app, &base)?;
            let commit = source::resolve(&app, &repo, sha.as_str())?;
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
                match source::manifests(&app, &repo, oid, &cache) {
                    Ok(loaded) => Ok(loaded
                        .objects
                        .into_iter()
                        .map(|m| (m.identity().dotted(), m.object))
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
            let old_label = parent
                .map(|p| Revision::new(p.to_string()).short().to_string())
                .unwrap_or_else(|| "(none)".into());
            let new_label = sha.short();
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
        id: &AppId,
        revision: &Revision,
    ) -> Result<(Revision, SyncReport), EngineError> {
        self.revert_cancellable(id, revision, CancellationToken::new())
            .await
    }

    /// [`Engine::revert`], whose sync stops between objects once `cancel` is cancelled.
    pub async fn revert_cancellable(
        &self,
        id: &AppId,
        revision: &Revision,
        cancel: CancellationToken,
    ) -> Result<(Revision, SyncReport), EngineError> {
        self.refuse_if_readonly("rollback --revert")?;
        if !id.is_native() {
            return self.managed_revert(id, revision, cancel).await;
        }
        let app = self.app(id)?.clone();
        let new_commit = self.revert_commit(&app, revision).await?;
        let cluster = self.cluster(&app).await?;
        self.records(&cluster)
            .update(&app.name, |r| r.paused_revision = None)
            .await?;
        let opts = SyncOptions {
            cancel,
            ..Default::default()
        };
        let report = self.sync(id, &opts).await?;
        Ok((new_commit, report))
    }

    /// Commit on `app`'s branch its path as it was at `revision` (pushed
    /// when the repository is remote): the new commit.
    pub(super) async fn revert_commit(
        &self,
        app: &AppConfig,
        revision: &Revision,
    ) -> Result<Revision, EngineError> {
        let app = app.clone();
        let base = self.config.base_dir.clone();
        let revision = revision.clone();
        {
            blocking(move || {
                let repo = source::open(&app, &base)?;
                let target = source::resolve(&app, &repo, revision.as_str())?;
                let subject = repo.find_commit(target).ok().and_then(|c| c.summary().ok().flatten().map(str::to_string)).unwrap_or_default();
                let branch = crate::git::branch_of(&repo, app.git_ref.as_deref()).map_err(|e| EngineError::Other(format!("app {}: {e}", app.name)))?;
                let message = format!(
                    "Revert {} to {}: {subject}\n\nThe tree of {} equals {} again.\nWritten by gitops-tui rollback --revert.",
                    app.name,
                    revision.short(),
                    if app.repo_path().is_empty() { "/" } else { app.repo_path() },
                    target
                );
                let done = crate::git::revert_path(&repo, &branch, app.repo_path(), target, &message)
                    .map_err(|e| EngineError::Other(format!("app {}: {e}", app.name)))?;
                if app.is_remote() {
                    source::push(&app, &base, &done.branch)?;
                }
                Ok::<_, EngineError>(Revision::new(done.commit.to_string()))
            })
            .await?
        }
    }
}
