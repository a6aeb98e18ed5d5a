//! Typed keys and states shared by every layer (engine, CLI, TUI).
//!
//! States are spelled exactly as the CLI prints them (`Synced`, `OutOfSync`,
//! `Healthy`, ...), so JSON output and the screen use the same words.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The label that marks an object as applied by gitops-tui for an app (its
/// value is the app's name).
pub const TRACKING_LABEL: &str = "gitops-tui.dev/app";
/// The field manager of every apply gitops-tui makes.
pub const FIELD_MANAGER: &str = "gitops-tui";

/// Identity of a Kubernetes object: group and kind, never kind alone.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourceKey {
    pub group: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ResourceKey {
    /// `apps/Deployment default/web`, `Namespace shop`.
    pub fn display(&self) -> String {
        let gk = if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}/{}", self.group, self.kind)
        };
        match &self.namespace {
            Some(ns) => format!("{gk} {ns}/{}", self.name),
            None => format!("{gk} {}", self.name),
        }
    }
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncStatus {
    Synced,
    OutOfSync,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ResourceStatus {
    Synced,
    OutOfSync,
    Missing,
    Extra,
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

/// Whose an existing desired object is when it is not the app's own yet:
/// what a sync would take over (shown in every preview), or refuse to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Takeover {
    /// Exists without any app's label: a sync adopts it only with consent.
    Adopt { managers: Vec<String> },
    /// Carries another app's label: never taken.
    OtherApp { app: String },
}

impl Takeover {
    /// Whose it is now: `managed by kubectl (Update)`, `belongs to app web`.
    pub fn detail(&self) -> String {
        match self {
            Takeover::Adopt { managers } if managers.is_empty() => {
                "no field managers recorded".into()
            }
            Takeover::Adopt { managers } => format!("managed by {}", managers.join(", ")),
            Takeover::OtherApp { app } => format!("belongs to app {app}"),
        }
    }
}

impl fmt::Display for Takeover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Takeover::Adopt { .. } => write!(f, "adopt ({})", self.detail()),
            Takeover::OtherApp { .. } => f.write_str(&self.detail()),
        }
    }
}

macro_rules! display_as_debug {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }
    )*};
}
display_as_debug!(SyncStatus, ResourceStatus, Health);

/// A full 40-hex commit id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Revision(pub String);

impl Revision {
    pub fn short(&self) -> &str {
        self.0.get(..7).unwrap_or(&self.0)
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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

    #[test]
    fn keys_display_group_and_kind() {
        let k = ResourceKey {
            group: "apps".into(),
            kind: "Deployment".into(),
            namespace: Some("d".into()),
            name: "web".into(),
        };
        assert_eq!(k.to_string(), "apps/Deployment d/web");
        let ns = ResourceKey {
            group: String::new(),
            kind: "Namespace".into(),
            namespace: None,
            name: "shop".into(),
        };
        assert_eq!(ns.to_string(), "Namespace shop");
        assert_eq!(Revision("0123456789abcdef".into()).short(), "0123456");
    }
}
