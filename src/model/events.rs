//! The recent Events of one object as the Resources pane shows them (the
//! engine reads them; the reducer and the pane only need the rows).

use serde::Serialize;
use std::time::SystemTime;

/// At most this many rows: the pane shows a few lines under the tree.
pub const MAX_EVENTS: usize = 20;

/// One Event as the Resources pane shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRow {
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub type_: String,
    pub reason: String,
    pub message: String,
    pub count: u32,
    /// RFC 3339, seconds precision; empty when the Event carries no time.
    pub last_seen: String,
    /// The reporting component (`kubelet`, `deployment-controller`, ...).
    pub source: String,
}

impl EventRow {
    pub fn is_warning(&self) -> bool {
        self.type_ == "Warning"
    }

    /// `last_seen` as a time, for ages.
    pub fn last_seen_time(&self) -> Option<SystemTime> {
        humantime::parse_rfc3339_weak(&self.last_seen).ok()
    }
}
