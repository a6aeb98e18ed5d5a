//! Manifests → Kubernetes objects. Turns the files of an app (as read from
//! Git) into JSON objects that each remember the file and line they came
//! from, and decides, by the rules of issue 3, what is an object, what is
//! skipped with a reason, and what makes the whole app invalid. Errors are
//! collected across all files so a user sees every problem at once; if there
//! is any, the caller applies nothing. Nothing is dropped silently: what is
//! not loaded is a warning with its file and line, and a file that cannot be
//! read (too large, a corrupt or missing Git object) is an error.

mod helm;
mod jsonnet;
mod kustomize;
mod loader;
mod render;
mod size;
mod workdir;
mod yaml;

use std::fmt;

use serde::Serialize;

use crate::model::ResourceKey;
pub use crate::model::Warning;
pub use helm::{render_helm, split_by_source, template_args, HelmError, HelmOptions};
pub use jsonnet::{render_jsonnet, JsonnetError, JsonnetOptions};
pub use kustomize::{load_at_commit, render_kustomize, KustomizeError};
pub use loader::{load_files, load_rendered, Loader};
pub use render::{load_at_commit_with, load_dir, RenderOptions};
pub use size::{ByteSize, ByteSizeError, DEFAULT_MAX_MANIFEST_SIZE};
pub use workdir::files_in_dir;

/// Where a document came from: repository-relative file (for rendered
/// kustomize output, the kustomization directory), the 1-based line where
/// the document starts, and its 0-based index in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceRef {
    pub file: String,
    pub line: usize,
    pub doc_index: usize,
}

impl fmt::Display for SourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ManifestObject {
    pub object: serde_json::Value,
    pub source: SourceRef,
}

impl ManifestObject {
    /// How objects are told apart: group and kind (never kind alone),
    /// namespace as written (`None` when the document names none) and name.
    pub fn identity(&self) -> ResourceKey {
        ResourceKey::of(&self.object)
    }
}

/// A SOPS-encrypted object: never applied, and never pruned either.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SopsSkipped {
    pub identity: ResourceKey,
    pub source: SourceRef,
}

/// Everything loaded for one app. Every non-empty document of every
/// manifest file is exactly one of: an object (a List counts its items), a
/// warning, or an error (and then there is no `LoadedManifests` at all).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LoadedManifests {
    pub objects: Vec<ManifestObject>,
    /// Every document or file not loaded, with its reason (SOPS included).
    pub warnings: Vec<Warning>,
    pub sops_skipped: Vec<SopsSkipped>,
    /// Directories (repository-relative, outermost only) holding a
    /// kustomization file; their files are not loaded as plain objects.
    pub kustomize_roots: Vec<String>,
    /// Helm chart folders (outermost, outside kustomize roots), rendered
    /// with `helm template`; their files are not loaded as plain objects.
    pub helm_roots: Vec<String>,
    /// Folders of `*.jsonnet` files, rendered with jrsonnet.
    pub jsonnet_roots: Vec<String>,
}

/// One reason an app's manifests are invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("{file}:{line}:{column}: invalid YAML: {message}")]
    InvalidYaml {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}:{line}: document has {present} but no {missing}")]
    PartialTypeMeta {
        file: String,
        line: usize,
        present: &'static str,
        missing: &'static str,
    },
    #[error("{file}:{line}: {message}")]
    InvalidObject {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}:{line}: duplicate object {dotted}, first defined at {first}", dotted = .identity.dotted())]
    Duplicate {
        file: String,
        line: usize,
        identity: ResourceKey,
        first: SourceRef,
    },
    #[error("{file}:1: unreadable file: {reason}")]
    Unreadable { file: String, reason: String },
    /// A folder gitops-tui cannot render (a Helm chart, Jsonnet): the app's
    /// state is unknown, never Synced with what little else it holds.
    #[error("{file}: {what}: {reason}")]
    Unsupported {
        file: String,
        what: &'static str,
        reason: &'static str,
    },
    #[error("{file}:1: symlink to {target:?} leaves the repository")]
    SymlinkEscapes { file: String, target: String },
    #[error("{file}:1: {message}")]
    Source { file: String, message: String },
}

impl ManifestError {
    pub fn file(&self) -> &str {
        match self {
            ManifestError::InvalidYaml { file, .. }
            | ManifestError::PartialTypeMeta { file, .. }
            | ManifestError::InvalidObject { file, .. }
            | ManifestError::Duplicate { file, .. }
            | ManifestError::Unreadable { file, .. }
            | ManifestError::Unsupported { file, .. }
            | ManifestError::SymlinkEscapes { file, .. }
            | ManifestError::Source { file, .. } => file,
        }
    }

    pub fn line(&self) -> usize {
        match self {
            ManifestError::InvalidYaml { line, .. }
            | ManifestError::PartialTypeMeta { line, .. }
            | ManifestError::InvalidObject { line, .. }
            | ManifestError::Duplicate { line, .. } => *line,
            ManifestError::Unreadable { .. }
            | ManifestError::Unsupported { .. }
            | ManifestError::SymlinkEscapes { .. }
            | ManifestError::Source { .. } => 1,
        }
    }
}

/// Every error found in an app's manifests (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ManifestErrors {
    pub errors: Vec<ManifestError>,
}

impl ManifestErrors {
    /// True when the only problem is something gitops-tui cannot render
    /// (rather than something wrong in Git).
    pub fn only_unsupported(&self) -> bool {
        self.errors
            .iter()
            .all(|e| matches!(e, ManifestError::Unsupported { .. }))
    }
}

impl fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, err) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{err}")?;
        }
        Ok(())
    }
}
