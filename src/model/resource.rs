//! What one Kubernetes object of an app is, as every layer names it: its
//! key (group and kind, never kind alone), its drift status, whose it is when
//! it is not the app's yet, and the state the resources pane shows.

use super::app_id::AppId;
use super::live::LiveObject;
use super::status::Health;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

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

impl ResourceKey {
    /// The key of an object's JSON, as written: group from `apiVersion`,
    /// namespace `None` when the object names none, missing kind or name
    /// empty (a manifest document not validated yet).
    pub fn of(obj: &Value) -> ResourceKey {
        let text = |p: &str| obj.pointer(p).and_then(Value::as_str);
        ResourceKey::from_api_version(
            text("/apiVersion").unwrap_or(""),
            text("/kind").unwrap_or(""),
            text("/metadata/namespace"),
            text("/metadata/name").unwrap_or(""),
        )
    }

    /// The key of an object that has a kind and a name, else `None`.
    pub fn of_named(obj: &Value) -> Option<ResourceKey> {
        Some(ResourceKey::of(obj)).filter(ResourceKey::is_named)
    }

    /// Whether it names a kind and an object (a key read from an object
    /// without them names nothing).
    pub fn is_named(&self) -> bool {
        !self.kind.is_empty() && !self.name.is_empty()
    }

    /// From the parts as a manifest or a record spells them (`apps/v1`, `v1`).
    pub fn from_api_version(
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> ResourceKey {
        ResourceKey {
            group: api_version
                .rsplit_once('/')
                .map_or("", |(g, _)| g)
                .to_string(),
            kind: kind.to_string(),
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
        }
    }

    /// `Deployment.apps shop/web`: how manifest errors name an object (as
    /// kubectl's `kind.group` resource names do).
    pub fn dotted(&self) -> String {
        let kind = if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        };
        match &self.namespace {
            Some(ns) => format!("{kind} {ns}/{}", self.name),
            None => format!("{kind} {}", self.name),
        }
    }
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ResourceStatus {
    Synced,
    OutOfSync,
    Missing,
    Extra,
}

/// Whose an existing desired object is when it is not the app's own yet:
/// what a sync would take over (shown in every preview), or refuse to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Takeover {
    /// Exists without any app's label: a sync adopts it only with consent.
    Adopt { managers: Vec<String> },
    /// Carries another app's label: never taken.
    OtherApp { app: AppId },
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

display_as_debug!(ResourceStatus);

/// How many of an app's resources are in each drift state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub synced: usize,
    pub out_of_sync: usize,
    pub missing: usize,
    pub extra: usize,
}

/// One resource of an app: its drift, health and masked diff.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceState {
    #[serde(flatten)]
    pub key: ResourceKey,
    pub api_version: String,
    pub status: ResourceStatus,
    pub health: Health,
    pub health_reason: String,
    pub diff: String,
    /// Set when the object exists but is not this app's yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub takeover: Option<Takeover>,
    /// The live object, shared with the watches' cache (None: not in the
    /// cluster).
    #[serde(skip)]
    pub live: Option<LiveObject>,
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(k.dotted(), "Deployment.apps d/web");
        assert_eq!(ns.dotted(), "Namespace shop");
    }

    #[test]
    fn keys_of_objects_take_the_group_from_api_version() {
        let obj = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "d"}});
        let key = ResourceKey::of(&obj);
        assert_eq!(key.to_string(), "apps/Deployment d/web");
        assert_eq!(ResourceKey::of_named(&obj), Some(key));
        let core = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});
        assert_eq!(ResourceKey::of(&core).to_string(), "Namespace shop");
        let nameless = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap"});
        assert_eq!(ResourceKey::of(&nameless).name, "");
        assert_eq!(ResourceKey::of_named(&nameless), None);
        assert_eq!(
            ResourceKey::of_named(&serde_json::json!({"metadata": {"name": "x"}})),
            None
        );
    }
}
