//! `diff APP --local [DIR]` and the TUI's `L`: drift of the work tree
//! (uncommitted, untracked and unpushed changes included) against live, as
//! `argocd app diff --local` and `flux diff kustomization --path` show what
//! a change would do before it is pushed. Only the source differs from a
//! status: the same renderers, boundaries and comparison.

use std::path::PathBuf;

use super::status::unknown_status;
use super::{blocking, Engine, EngineError};
use crate::model::{AppId, AppStatus, Revision};
use crate::source;

impl Engine {
    /// Where `--local` reads an app from when no folder is given: its own
    /// repository when that is local; a remote one needs a clone named.
    pub fn local_dir(&self, id: &AppId, dir: Option<PathBuf>) -> Result<PathBuf, EngineError> {
        let app = self.app(id)?;
        match dir {
            Some(d) => Ok(d),
            None if app.is_remote() => Err(EngineError::Other(format!(
                "app {id}: its repository {} is remote: pass --local DIR, a clone of it",
                app.repo
            ))),
            None => Ok(app.local_repo_path(&self.config.base_dir)),
        }
    }

    /// The app's status with the work tree at `dir` as its source.
    pub async fn status_local(&self, id: &AppId, dir: PathBuf) -> Result<AppStatus, EngineError> {
        let app = self.app(id)?.clone();
        let cluster = self.cluster(&app).await?;
        let record = self.records(&cluster).read(&app.name).await?;
        let app_owned = app.clone();
        let base = self.config.base_dir.clone();
        let shown = dir.display().to_string();
        let loaded = blocking(move || {
            // The head the work tree sits on, when it is a clone of the app's
            // repository; else the app's own head (a folder copied elsewhere).
            let head = git2::Repository::open(&dir)
                .ok()
                .and_then(|r| r.head().ok().and_then(|h| h.target()))
                .map(|oid| oid.to_string())
                .or_else(|| {
                    let repo = source::open(&app_owned, &base).ok()?;
                    source::head(&app_owned, &repo).ok().map(|o| o.to_string())
                })
                .unwrap_or_default();
            source::manifests_in_dir(&app_owned, &dir).map(|m| (Revision::new(head), m))
        })
        .await?;
        let (head, loaded) = match loaded {
            Ok(l) => l,
            Err(e) => return Ok(unknown_status(&app, e.reason())),
        };
        let desired = self
            .prepare_desired(&app, &cluster, head.clone(), head, &loaded)
            .await?;
        let (resources, warnings, _) = self
            .compare(
                &app,
                &cluster,
                &desired,
                &record,
                super::status::Pass::Whole,
            )
            .await?;
        let mut status = self.status_of(&app, &record, &desired, resources, warnings);
        status.source = format!("{shown} (work tree)");
        Ok(status)
    }
}
