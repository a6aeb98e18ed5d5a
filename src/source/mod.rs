//! Where an app's manifests come from: its repository (read in place when
//! local, mirrored under the cache directory when remote) at a revision.
//!
//! Remote repositories are fetched with the user's own `git` binary, so
//! their credential helpers, ssh config and proxies just work, exactly as
//! `git fetch` does in a terminal. Everything here blocks: async callers use
//! `spawn_blocking`.
//!
//! Apps of Flux and Argo CD are read from their controllers' objects:
//! `controllers` (what they share), `flux`, `argocd`.

pub mod argocd;
pub mod controllers;
pub mod flux;
pub mod loaded_cache;
pub mod origin;

use crate::config::AppConfig;
use crate::git::{self, GitError, Oid, Repository};
use crate::manifest::{self, LoadedManifests, ManifestErrors};
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("app {app}: {source}")]
    Git { app: String, source: GitError },
    #[error("app {app}: fetching {url} failed: {message}")]
    Fetch {
        app: String,
        url: String,
        message: String,
    },
    /// Something in Git is wrong or cannot be read, or gitops-tui cannot
    /// render it: nothing of the app is compared or applied.
    #[error("app {app}: {}", invalid_reason(.errors))]
    Invalid { app: String, errors: ManifestErrors },
}

/// Why an app's manifests cannot be used, on one line: every error with its
/// file and line.
pub fn invalid_reason(errors: &ManifestErrors) -> String {
    if errors.only_unsupported() {
        format!("cannot render: {errors}")
    } else {
        format!("invalid manifests: {errors}")
    }
}

impl SourceError {
    /// The message without the `app NAME:` prefix, for places that name the
    /// app already (a status row).
    pub fn reason(&self) -> String {
        match self {
            SourceError::Invalid { errors, .. } => invalid_reason(errors),
            SourceError::Git { source, .. } => source.to_string(),
            SourceError::Fetch { url, message, .. } => format!("fetching {url} failed: {message}"),
        }
    }
}

/// The folder holding the repository for `app`.
pub fn repo_dir(app: &AppConfig, base_dir: &Path) -> PathBuf {
    if app.is_remote() {
        mirror_dir(&app.repo)
    } else {
        app.local_repo_path(base_dir)
    }
}

fn mirror_dir(url: &str) -> PathBuf {
    let safe: String = url
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cache = directories::ProjectDirs::from("dev", "gitops-tui", "gitops-tui")
        .map(|d| d.cache_dir().to_path_buf())
        .unwrap_or_else(std::env::temp_dir);
    cache.join("repos").join(safe)
}

/// A fetch answers for this long: status, history and the TUI's many
/// refreshes of one repository do not each go to the remote.
const FETCH_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(5);

/// One lock and last-fetch time per mirror: two fetches into one mirror at
/// once would fight over git's lock files.
type LastFetch = std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>;

fn mirror_lock(dir: &Path) -> LastFetch {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static LOCKS: OnceLock<Mutex<HashMap<PathBuf, LastFetch>>> = OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    locks.entry(dir.to_path_buf()).or_default().clone()
}

/// Bring a remote app's mirror up to date (no-op for local repositories).
pub fn fetch(app: &AppConfig, base_dir: &Path) -> Result<(), SourceError> {
    if !app.is_remote() {
        return Ok(());
    }
    let dir = repo_dir(app, base_dir);
    let lock = mirror_lock(&dir);
    let mut last = lock.lock().unwrap_or_else(|e| e.into_inner());
    if last.is_some_and(|t| t.elapsed() < FETCH_FRESH_FOR) {
        return Ok(());
    }
    let fail = |message: String| SourceError::Fetch {
        app: app.name.clone(),
        url: app.repo.clone(),
        message,
    };
    let output = if dir.join("HEAD").exists() {
        Command::new("git")
            .arg("-C")
            .arg(&dir)
            .args(["fetch", "--prune", "--quiet", "origin"])
            .output()
    } else {
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent).map_err(|e| fail(e.to_string()))?;
        }
        Command::new("git")
            .args(["clone", "--mirror", "--quiet", &app.repo])
            .arg(&dir)
            .output()
    };
    match output {
        Ok(o) if o.status.success() => {
            *last = Some(std::time::Instant::now());
            Ok(())
        }
        Ok(o) => Err(fail(String::from_utf8_lossy(&o.stderr).trim().to_string())),
        Err(e) => Err(fail(format!("cannot run git: {e}"))),
    }
}

pub fn open(app: &AppConfig, base_dir: &Path) -> Result<Repository, SourceError> {
    git::open(&repo_dir(app, base_dir)).map_err(|source| SourceError::Git {
        app: app.name.clone(),
        source,
    })
}

/// The commit the app's ref points at now (HEAD when no ref is set).
pub fn head(app: &AppConfig, repo: &Repository) -> Result<Oid, SourceError> {
    resolve(app, repo, app.git_ref.as_deref().unwrap_or("HEAD"))
}

pub fn resolve(app: &AppConfig, repo: &Repository, rev: &str) -> Result<Oid, SourceError> {
    git::resolve(repo, rev).map_err(|source| SourceError::Git {
        app: app.name.clone(),
        source,
    })
}

/// The app's objects at `commit`, or every error found (file and line);
/// read once per `cache` for every app of the same path (`loaded_cache`).
pub fn manifests(
    app: &AppConfig,
    repo: &Repository,
    commit: Oid,
    cache: &loaded_cache::LoadedCache,
) -> Result<LoadedManifests, SourceError> {
    let limits = git::ReadLimits {
        max_file_bytes: app.max_manifest_size.0,
    };
    let key = loaded_cache::Key {
        repo: repo.path().to_path_buf(),
        commit,
        path: app.repo_path().to_string(),
        max_file_bytes: limits.max_file_bytes,
    };
    cache
        .get_or_load(key, || {
            manifest::load_at_commit_with(
                repo,
                commit,
                app.repo_path(),
                limits,
                &app.render_options(),
            )
        })
        .map_err(|errors| SourceError::Invalid {
            app: app.name.clone(),
            errors,
        })
}

/// The app's objects as the work tree at `dir` holds them now (uncommitted
/// and untracked files included): what `diff --local` compares.
pub fn manifests_in_dir(app: &AppConfig, dir: &Path) -> Result<LoadedManifests, SourceError> {
    let limits = git::ReadLimits {
        max_file_bytes: app.max_manifest_size.0,
    };
    manifest::load_dir(dir, app.repo_path(), limits, &app.render_options()).map_err(|errors| {
        SourceError::Invalid {
            app: app.name.clone(),
            errors,
        }
    })
}

/// Push a branch of a remote app's mirror back to its origin (after a revert commit).
pub fn push(app: &AppConfig, base_dir: &Path, branch: &str) -> Result<(), SourceError> {
    let dir = repo_dir(app, base_dir);
    let fail = |message: String| SourceError::Fetch {
        app: app.name.clone(),
        url: app.repo.clone(),
        message,
    };
    let output = Command::new("git")
        .arg("-C")
        .arg(&dir)
        .args([
            "push",
            "--quiet",
            "origin",
            &format!("refs/heads/{branch}:refs/heads/{branch}"),
        ])
        .output()
        .map_err(|e| fail(format!("cannot run git: {e}")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(fail(format!(
            "push failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}
