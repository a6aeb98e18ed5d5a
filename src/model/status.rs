//! An app's state as the CLI prints it and the panes show it: sync and
//! health, the revisions, the counts, the warnings, who holds its lease.

use super::app_id::AppId;
use super::resource::{Counts, ResourceState};
use super::revision::Revision;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncStatus {
    Synced,
    OutOfSync,
    Unknown,
}

/// Ordered best to worst, so an app's health is the max of its children.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Health {
    Healthy,
    Suspended,
    Progressing,
    Missing,
    Unknown,
    Degraded,
}

display_as_debug!(SyncStatus, Health);

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

/// A lease someone holds now, as `status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldLease {
    pub holder: String,
    /// RFC 3339.
    pub until: String,
}

/// Who suspended an app, when and why (`suspend APP --reason TEXT`, or the
/// TUI's prompt); kept in the app's record, so every gitops-tui sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspension {
    pub by: String,
    /// RFC 3339.
    pub at: String,
    /// Empty when none was given.
    #[serde(default)]
    pub reason: String,
}

impl Suspension {
    /// `by alice 3d ago: waiting for the DB migration`-style line, the age
    /// given by the caller (`3d`, or the time itself).
    pub fn describe(&self, when: &str) -> String {
        if self.reason.is_empty() {
            format!("suspended by {} ({when})", self.by)
        } else {
            format!("suspended by {} ({when}): {}", self.by, self.reason)
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AppStatus {
    pub name: AppId,
    pub source: String,
    pub sync: SyncStatus,
    pub health: Health,
    pub suspended: bool,
    /// Who suspended it, when and why (only while suspended, when recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspension: Option<Suspension>,
    pub paused_revision: Option<Revision>,
    pub deployed_revision: Option<Revision>,
    pub head_revision: Option<Revision>,
    /// When the last sync (of any result) was recorded, RFC 3339.
    pub last_sync: Option<String>,
    /// The revision compared with the cluster (the pin when paused, else the head).
    pub target_revision: Option<Revision>,
    pub counts: Counts,
    pub message: String,
    /// Every document or file not loaded and everything not looked at, each
    /// with its file and line when it has one.
    pub warnings: Vec<Warning>,
    /// Who holds the app's lease now, only while it binds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease: Option<HeldLease>,
    /// Why no drift was computed for this app (a Flux or Argo CD app whose
    /// manifests gitops-tui cannot read: a Helm chart, an OCI artifact);
    /// None when its resources' diffs are ours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift_unavailable: Option<String>,
    #[serde(skip)]
    pub resources: Vec<ResourceState>,
    /// A Flux or Argo CD app: what its writes are built from, so a preview
    /// shows exactly what the engine sends.
    #[serde(skip)]
    pub controller: Option<super::controller_patch::ControllerObjects>,
}

impl AppStatus {
    /// A status that could not be computed, with the reason. The message
    /// is the app's own field, so an error's `app NAME: ` prefix is left
    /// off: whoever prints it as an error names the app once.
    pub fn unknown(name: AppId, source: String, message: String) -> Self {
        let message = message
            .strip_prefix(&format!("app {name}: "))
            .map(str::to_string)
            .unwrap_or(message);
        AppStatus {
            name,
            source,
            sync: SyncStatus::Unknown,
            health: Health::Unknown,
            suspended: false,
            suspension: None,
            paused_revision: None,
            deployed_revision: None,
            head_revision: None,
            last_sync: None,
            target_revision: None,
            counts: Counts::default(),
            message,
            warnings: vec![],
            lease: None,
            drift_unavailable: None,
            resources: vec![],
            controller: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_print_as_the_cli_spells_them() {
        assert_eq!(SyncStatus::OutOfSync.to_string(), "OutOfSync");
        assert_eq!(
            serde_json::to_string(&Health::Progressing).ok().as_deref(),
            Some("\"Progressing\"")
        );
        assert!(Health::Degraded > Health::Progressing && Health::Progressing > Health::Healthy);
    }
}
