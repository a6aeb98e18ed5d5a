//! Manifests → Kubernetes objects. Turns the files of an app (as read from
//! Git) into JSON objects that each remember the file and line they came
//! from, and decides, by the rules of issue 3, what is an object, what is
//! skipped with a reason, and what makes the whole app invalid. Errors are
//! collected across all files so a user sees every problem at once; if there
//! is any, the caller applies nothing. Nothing is dropped silently: what is
//! not loaded is a warning with its file and line, and a file that cannot be
//! read (too large, a corrupt or missing Git object) is an error.

mod kustomize;
mod loader;
mod size;
mod yaml;

use std::fmt;

use serde::Serialize;

pub use kustomize::{load_at_commit, render_kustomize, KustomizeError};
pub use loader::{load_files, load_rendered, Loader};
pub use size::{ByteSize, ByteSizeError, DEFAULT_MAX_MANIFEST_SIZE};

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
    pub fn identity(&self) -> ObjectIdentity {
        ObjectIdentity::of(&self.object)
    }
}

/// How objects are told apart: group and kind (never kind alone), namespace
/// as written (`None` when the document names none) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObjectIdentity {
    pub group: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectIdentity {
    pub fn of(object: &serde_json::Value) -> Self {
        let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_string);
        let api_version = text(object.get("apiVersion")).unwrap_or_default();
        let group = match api_version.rsplit_once('/') {
            Some((group, _)) => group.to_string(),
            None => String::new(),
        };
        let metadata = object.get("metadata");
        ObjectIdentity {
            group,
            kind: text(object.get("kind")).unwrap_or_default(),
            namespace: text(metadata.and_then(|m| m.get("namespace"))),
            name: text(metadata.and_then(|m| m.get("name"))).unwrap_or_default(),
        }
    }
}

impl fmt::Display for ObjectIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        };
        match &self.namespace {
            Some(ns) => write!(f, "{kind} {ns}/{}", self.name),
            None => write!(f, "{kind} {}", self.name),
        }
    }
}

/// Something a user should see beside the objects: a document or file
/// deliberately not loaded (no kind, a Helm template, SOPS, a CI file), or a
/// problem met while looking (a kind that cannot be listed). Never dropped:
/// every one reaches the text and JSON output and the app's row in the TUI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Repository-relative file, when the warning is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line where the document starts, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub reason: String,
}

impl Warning {
    /// About the document of `file` starting at `line`.
    pub fn at(file: &str, line: usize, reason: impl Into<String>) -> Self {
        Warning {
            file: Some(file.to_string()),
            line: Some(line),
            reason: reason.into(),
        }
    }

    /// About a whole file (or folder).
    pub fn in_file(file: &str, reason: impl Into<String>) -> Self {
        Warning {
            file: Some(file.to_string()),
            line: None,
            reason: reason.into(),
        }
    }

    /// About no file in particular.
    pub fn general(reason: impl Into<String>) -> Self {
        Warning {
            file: None,
            line: None,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}: {}", self.reason),
            (Some(file), None) => write!(f, "{file}: {}", self.reason),
            (None, _) => f.write_str(&self.reason),
        }
    }
}

/// A SOPS-encrypted object: never applied, and never pruned either.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SopsSkipped {
    pub identity: ObjectIdentity,
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
    #[error("{file}:{line}: duplicate object {identity}, first defined at {first}")]
    Duplicate {
        file: String,
        line: usize,
        identity: ObjectIdentity,
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
