//! Every Git operation the engine needs, as plain blocking functions over a
//! `git2::Repository`: opening and resolving revisions, the history of the
//! commits that touched an app's path (exactly what `git log -- PATH` lists),
//! and the files under a path at any commit, read straight from the object
//! database so no work tree is ever touched. Callers run these on a blocking
//! thread; nothing here knows about async, the UI or the cluster.

mod bloom;
mod commit_graph;
mod history;
mod history_cache;
mod oidmap;
mod path;
mod raw;
mod revert;
mod tree;

use std::path::{Path, PathBuf};

pub use git2::{Oid, Repository};
pub use history::{HistoryEntry, HistoryOptions, HistoryWalker};
pub use history_cache::{CachedHistoryWalk, HistoryCache};
pub use path::symlink_target_in_repo;
pub use revert::{branch_of, revert_path, RevertError, Reverted};
pub use tree::{
    export_tree, files_at, ExportSummary, FileContent, ReadLimits, TreeFile, DEFAULT_MAX_FILE_BYTES,
};

/// What can go wrong reading a repository.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot open a Git repository at {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },
    #[error("revision {rev:?} not found in {repo}: {source}")]
    Resolve {
        rev: String,
        repo: PathBuf,
        #[source]
        source: git2::Error,
    },
    #[error("path {path:?} does not exist at commit {commit}")]
    PathNotFound { path: String, commit: Oid },
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath { path: String, reason: &'static str },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Git(#[from] git2::Error),
}

/// Opens the repository holding `path`, searching parent folders like `git`
/// does, so an app's folder inside a repository works too.
pub fn open(path: &Path) -> Result<Repository, GitError> {
    Repository::discover(path).map_err(|source| GitError::Open {
        path: path.to_path_buf(),
        source,
    })
}

/// Resolves a branch, tag (annotated or not), abbreviated or full sha, or any
/// other revision expression (`HEAD`, `main~2`) to the full commit id.
pub fn resolve(repo: &Repository, rev: &str) -> Result<Oid, GitError> {
    let err = |source| GitError::Resolve {
        rev: rev.to_string(),
        repo: repo.path().to_path_buf(),
        source,
    };
    let object = repo.revparse_single(rev).map_err(err)?;
    let commit = object.peel_to_commit().map_err(err)?;
    Ok(commit.id())
}
