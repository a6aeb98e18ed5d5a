//! Manifests → Kubernetes objects. Turns the files of an app (as read from
//! Git) into JSON objects that each remember the file and line they came
//! from, and decides, by the rules of issue 3, what is an object, what is
//! skipped with a reason, and what makes the whole app invalid. Errors are
//! collected across all files so a user sees every problem at once; if there
//! is any, the caller applies nothing.

mod kustomize;
mod loader;
mod yaml;

use std::fmt;

use serde::Serialize;

pub use kustomize::{load_at_commit, render_kustomize, KustomizeError};
pub use loader::{load_files, load_rendered, Loader};

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

/// Something deliberately not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

/// A SOPS-encrypted object: never applied, and never pruned either.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SopsSkipped {
    pub identity: ObjectIdentity,
    pub source: SourceRef,
}

/// Everything loaded for one app.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LoadedManifests {
    pub objects: Vec<ManifestObject>,
    pub skipped: Vec<Skipped>,
    /// Things a user should see (SOPS, oversized or missing files, ...).
    pub warnings: Vec<String>,
    pub sops_skipped: Vec<SopsSkipped>,
    /// Directories (repository-relative, outermost only) holding a
    /// kustomization file; their files are not loaded as plain objects.
    pub kustomize_roots: Vec<String>,
    /// Some manifest could not be read (too large, missing blob): the set of
    /// objects may be incomplete, so the caller must not prune.
    pub incomplete: bool,
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
