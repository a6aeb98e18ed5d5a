//! An app's history as `history` prints it and the commits pane shows it:
//! the commits of its path with their marks, and the recorded syncs.

use super::app_id::AppId;
use super::revision::Revision;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize)]
pub struct CommitInfo {
    pub sha: Revision,
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
    pub app: AppId,
    pub commits: Vec<CommitInfo>,
    /// The app's sync records, oldest first; `None` when the cluster holding
    /// them could not be read (the commits are pure Git and still listed).
    pub syncs: Option<Vec<SyncRecord>>,
    /// Why `syncs` is `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syncs_unavailable: Option<String>,
    /// What the marks cannot say, e.g. a deployed revision that is not in the
    /// history of the path any more (force-push?).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRecord {
    pub revision: Revision,
    /// RFC 3339.
    pub time: String,
    pub who: String,
    pub result: SyncResult,
    #[serde(default)]
    pub applied: usize,
    /// Objects an interrupted sync did not get to (0 for any other result).
    #[serde(default)]
    pub not_applied: usize,
    #[serde(default)]
    pub pruned: usize,
    /// A few of the objects that changed, for the history view.
    #[serde(default)]
    pub changed: Vec<String>,
}

/// How a recorded operation ended. Stored as the one string it always was
/// (`Succeeded`, `Failed: <reason>`), so records written by older versions
/// read the same and older versions read these as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncResult {
    Succeeded,
    Failed(String),
    /// Stopped between objects (a signal, the TUI's cancel or quit): what was
    /// applied stays applied, the record's `not_applied` says what was not.
    Interrupted,
    /// `gitops-tui unlock` broke the lease of `holder`.
    LeaseBroken {
        holder: String,
    },
    /// A result this version does not know, kept as written.
    Other(String),
}

const FAILED: &str = "Failed";
const INTERRUPTED: &str = "Interrupted";
const LEASE_BROKEN: &str = "Lease broken: held by ";

impl SyncResult {
    pub fn parse(text: &str) -> SyncResult {
        if text == "Succeeded" {
            SyncResult::Succeeded
        } else if text == INTERRUPTED {
            SyncResult::Interrupted
        } else if let Some(holder) = text.strip_prefix(LEASE_BROKEN) {
            SyncResult::LeaseBroken {
                holder: holder.to_string(),
            }
        } else if text == FAILED {
            SyncResult::Failed(String::new())
        } else if let Some(reason) = text.strip_prefix("Failed: ") {
            SyncResult::Failed(reason.to_string())
        } else {
            SyncResult::Other(text.to_string())
        }
    }
}

impl std::fmt::Display for SyncResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncResult::Succeeded => f.write_str("Succeeded"),
            SyncResult::Failed(reason) if reason.is_empty() => f.write_str(FAILED),
            SyncResult::Failed(reason) => write!(f, "{FAILED}: {reason}"),
            SyncResult::Interrupted => f.write_str(INTERRUPTED),
            SyncResult::LeaseBroken { holder } => write!(f, "{LEASE_BROKEN}{holder}"),
            SyncResult::Other(text) => f.write_str(text),
        }
    }
}

impl From<&str> for SyncResult {
    fn from(text: &str) -> Self {
        SyncResult::parse(text)
    }
}

impl PartialEq<&str> for SyncResult {
    fn eq(&self, other: &&str) -> bool {
        *self == SyncResult::parse(other)
    }
}

impl Serialize for SyncResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SyncResult {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(SyncResult::parse(&String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_results_round_trip_as_plain_strings() {
        for (result, text) in [
            (SyncResult::Succeeded, "Succeeded"),
            (SyncResult::Failed("boom".into()), "Failed: boom"),
            (SyncResult::Failed(String::new()), "Failed"),
            (SyncResult::Interrupted, "Interrupted"),
            (
                SyncResult::LeaseBroken {
                    holder: "root@h:42".into(),
                },
                "Lease broken: held by root@h:42",
            ),
        ] {
            let json = serde_json::to_value(&result).expect("serializes");
            assert_eq!(json, serde_json::Value::String(text.into()));
            assert_eq!(SyncResult::parse(text), result);
            assert!(result == text);
        }
        let r: SyncRecord = serde_json::from_str(
            r#"{"revision":"r","time":"t","who":"w","result":"Interrupted","applied":262,"not_applied":138}"#,
        )
        .expect("reads");
        assert_eq!(
            (r.result, r.applied, r.not_applied),
            (SyncResult::Interrupted, 262, 138)
        );
    }
}
