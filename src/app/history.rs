//! The commits pane's data: commits touching the app's path and the app's
//! sync records, converted once from the engine's `HistoryReport` so the
//! reducer and the panes work with parsed times.
//!
//! (`model::CommitInfo` carries its time as RFC 3339 text, as JSON does, so
//! the TUI keeps its own row type; `History::from_report` is the one
//! conversion.)

use crate::model::{HistoryReport, Revision, SyncRecord};
use std::time::SystemTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub sha: Revision,
    pub author: String,
    /// None when the engine's RFC 3339 text did not parse.
    pub time: Option<SystemTime>,
    pub subject: String,
    /// The commit whose content the cluster runs (from the app's record).
    pub deployed: bool,
    /// The path's newest commit at the ref's head.
    pub head: bool,
    /// The path's content at the rollback pin.
    pub pinned: bool,
}

impl Commit {
    pub fn short(&self) -> &str {
        self.sha.short()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// Newest first.
    pub commits: Vec<Commit>,
    /// Oldest first, as the record keeps them.
    pub syncs: Vec<SyncRecord>,
}

impl History {
    pub fn from_report(report: HistoryReport) -> History {
        History {
            commits: report
                .commits
                .into_iter()
                .map(|c| Commit {
                    time: parse_time(&c.time),
                    sha: c.sha,
                    author: c.author,
                    subject: c.subject,
                    deployed: c.deployed,
                    head: c.head,
                    pinned: c.pinned,
                })
                .collect(),
            syncs: report.syncs.unwrap_or_default(),
        }
    }

    /// When the last sync (of any result) happened.
    pub fn last_sync(&self) -> Option<SystemTime> {
        self.syncs.last().and_then(|s| parse_time(&s.time))
    }
}

pub fn parse_time(rfc3339: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(rfc3339).ok()
}
