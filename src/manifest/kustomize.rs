//! Kustomize roots are rendered by the user's `kubectl kustomize` (the same
//! renderer `kubectl apply -k` uses), on the commit's tree exported to a
//! temporary folder so the work tree is never touched (see `render.rs`), and
//! the output goes through the same loader as plain files.

use std::path::{Path, PathBuf};
use std::process::Command;

use git2::{Oid, Repository};

use super::{LoadedManifests, ManifestErrors};
use crate::git::ReadLimits;

#[derive(Debug, thiserror::Error)]
pub enum KustomizeError {
    #[error("kubectl was not found on PATH; it is needed to render the kustomization in {dir}")]
    KubectlNotFound { dir: PathBuf },
    #[error("`kubectl kustomize {dir}` failed ({status}): {stderr}")]
    Failed {
        dir: PathBuf,
        status: String,
        stderr: String,
    },
    #[error("cannot run kubectl for {dir}: {source}")]
    Io {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`kubectl kustomize {dir}` printed output that is not UTF-8")]
    NotUtf8 { dir: PathBuf },
}

/// Runs `kubectl kustomize DIR` and returns the rendered YAML.
pub fn render_kustomize(dir: &Path) -> Result<String, KustomizeError> {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => KustomizeError::KubectlNotFound {
                dir: dir.to_path_buf(),
            },
            _ => KustomizeError::Io {
                dir: dir.to_path_buf(),
                source,
            },
        })?;
    if !output.status.success() {
        return Err(KustomizeError::Failed {
            dir: dir.to_path_buf(),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    String::from_utf8(output.stdout).map_err(|_| KustomizeError::NotUtf8 {
        dir: dir.to_path_buf(),
    })
}

/// Everything an app's path holds at `commit`, rendered with default
/// options (see [`super::load_at_commit_with`]).
pub fn load_at_commit(
    repo: &Repository,
    commit: Oid,
    app_path: &str,
    limits: ReadLimits,
) -> Result<LoadedManifests, ManifestErrors> {
    super::load_at_commit_with(repo, commit, app_path, limits, &Default::default())
}
