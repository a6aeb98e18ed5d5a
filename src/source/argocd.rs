//! Argo CD apps: an Application read as an app (`status.sync`,
//! `status.health`, `status.operationState`, `status.history`,
//! `status.resources`, `spec.syncPolicy.automated`), and the writes that
//! steer it, each what the `argocd` CLI makes its API server write in core
//! mode: a sync or rollback is the `operation` field set on the whole object
//! (`SetAppOperation`: an update with the resourceVersion read, refused when
//! an operation is already there); refresh is the annotation merge patch of
//! `RefreshApp`.
//!
//! Suspend and resume of auto-sync use `spec.syncPolicy.automated.enabled`
//! (Argo CD's own switch), so `prune`, `selfHeal` and `allowEmpty` stay as
//! they are; `argocd app set --sync-policy none` would drop them.

use super::controllers::{self, ListedResource};
use crate::model::{
    AppId, AppStatus, Health, ResourceKey, ResourceStatus, Revision, SyncRecord, SyncResult,
    SyncStatus,
};
use serde_json::{json, Value};

pub const REFRESH: &str = "argocd.argoproj.io/refresh";
pub const REFRESH_TIMESTAMP: &str = "argocd.argoproj.io/refresh-timestamp";

/// A change to an Application.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgoPatch {
    /// `argocd app get --refresh` / `--hard-refresh`.
    Refresh { hard: bool, at: String },
    /// Auto-sync off or on, the rest of the policy untouched.
    AutoSync { enabled: bool },
}

impl ArgoPatch {
    /// The body, sent as `application/merge-patch+json`.
    pub fn body(&self) -> Value {
        match self {
            ArgoPatch::Refresh { hard, at } => json!({"metadata": {"annotations": {
                REFRESH: if *hard { "hard" } else { "normal" },
                REFRESH_TIMESTAMP: at,
            }}}),
            ArgoPatch::AutoSync { enabled } => {
                json!({"spec": {"syncPolicy": {"automated": {"enabled": enabled}}}})
            }
        }
    }
}

/// What an operation does: a sync of the app's source at a revision, or a
/// rollback to a history entry.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgoOperation {
    /// `argocd app sync` (hook strategy, the CLI's default).
    Sync {
        revision: Revision,
        prune: bool,
        dry_run: bool,
    },
    /// `argocd app rollback ID` (apply strategy, the entry's source).
    Rollback { entry: Value, prune: bool },
}

impl ArgoOperation {
    /// The `operation` field as the API server builds it for `app`.
    pub fn field(&self, app: &Value) -> Value {
        let policy = app.pointer("/spec/syncPolicy");
        let mut sync = serde_json::Map::new();
        match self {
            ArgoOperation::Sync {
                revision,
                prune,
                dry_run,
            } => {
                sync.insert("revision".into(), json!(revision.as_str()));
                if *prune {
                    sync.insert("prune".into(), json!(true));
                }
                if *dry_run {
                    sync.insert("dryRun".into(), json!(true));
                }
                sync.insert("syncStrategy".into(), json!({"hook": {}}));
                if let Some(source) = app.pointer("/spec/source") {
                    sync.insert("source".into(), source.clone());
                }
            }
            ArgoOperation::Rollback { entry, prune } => {
                if let Some(r) = entry.get("revision") {
                    sync.insert("revision".into(), r.clone());
                }
                if *prune {
                    sync.insert("prune".into(), json!(true));
                }
                sync.insert("syncStrategy".into(), json!({"apply": {}}));
                sync.insert(
                    "source".into(),
                    entry.get("source").cloned().unwrap_or(json!({})),
                );
            }
        }
        if let Some(options) = policy
            .and_then(|p| p.get("syncOptions"))
            .filter(|o| o.as_array().is_some_and(|a| !a.is_empty()))
        {
            sync.insert("syncOptions".into(), options.clone());
        }
        // A rollback takes no retry from the policy; a sync does.
        let retry = match self {
            ArgoOperation::Sync { .. } => policy
                .and_then(|p| p.get("retry"))
                .cloned()
                .unwrap_or(json!({})),
            ArgoOperation::Rollback { .. } => json!({}),
        };
        json!({"sync": Value::Object(sync), "initiatedBy": {}, "retry": retry})
    }

    /// The whole Application to write back: `operation` set,
    /// `status.operationState` cleared, as `SetAppOperation` does.
    pub fn apply_to(&self, app: &Value) -> Value {
        let mut out = app.clone();
        out["operation"] = self.field(app);
        if let Some(status) = out.get_mut("status").and_then(Value::as_object_mut) {
            status.remove("operationState");
        }
        out
    }
}

pub fn automated(app: &Value) -> Option<&Value> {
    app.pointer("/spec/syncPolicy/automated")
        .filter(|a| a.is_object())
}

/// Auto-sync on: `automated` present and not `enabled: false`
/// (Argo CD's `IsAutomatedSyncEnabled`).
pub fn auto_sync_enabled(app: &Value) -> bool {
    automated(app).is_some_and(|a| a.get("enabled").and_then(Value::as_bool) != Some(false))
}

/// The history entry of `id`, or whose revision starts with `revision`.
pub fn history_entry<'a>(app: &'a Value, wanted: &str) -> Option<&'a Value> {
    let entries = app.pointer("/status/history").and_then(Value::as_array)?;
    entries.iter().rev().find(|e| {
        e.get("id").and_then(Value::as_i64).map(|i| i.to_string()) == Some(wanted.to_string())
            || (wanted.len() >= 7
                && e.get("revision")
                    .and_then(Value::as_str)
                    .is_some_and(|r| r.starts_with(wanted)))
    })
}

fn health_of(text: &str) -> Health {
    match text {
        "Healthy" => Health::Healthy,
        "Progressing" => Health::Progressing,
        "Degraded" => Health::Degraded,
        "Suspended" => Health::Suspended,
        "Missing" => Health::Missing,
        _ => Health::Unknown,
    }
}

/// The resources of `status.resources`, with Argo CD's sync and health of each.
pub fn resources(app: &Value) -> Vec<ListedResource> {
    let Some(items) = app.pointer("/status/resources").and_then(Value::as_array) else {
        return vec![];
    };
    items
        .iter()
        .map(|r| {
            let text = |f: &str| r.get(f).and_then(Value::as_str).unwrap_or("");
            let group = text("group");
            let version = text("version");
            let status = match text("status") {
                "Synced" => ResourceStatus::Synced,
                // Argo CD prunes these: in the cluster, not in Git.
                _ if r.get("requiresPruning").and_then(Value::as_bool) == Some(true) => {
                    ResourceStatus::Extra
                }
                _ => ResourceStatus::OutOfSync,
            };
            let health = r.get("health").map(|h| {
                let t = |f: &str| h.get(f).and_then(Value::as_str).unwrap_or("");
                (health_of(t("status")), t("message").to_string())
            });
            ListedResource {
                key: ResourceKey {
                    group: group.into(),
                    kind: text("kind").into(),
                    namespace: Some(text("namespace"))
                        .filter(|n| !n.is_empty())
                        .map(str::to_string),
                    name: text("name").into(),
                },
                api_version: if group.is_empty() {
                    version.to_string()
                } else {
                    format!("{group}/{version}")
                },
                status,
                health,
            }
        })
        .collect()
}

pub fn status(id: AppId, app: &Value) -> (AppStatus, Vec<ListedResource>) {
    let text = |p: &str| app.pointer(p).and_then(Value::as_str);
    let source = match (text("/spec/source/repoURL"), text("/spec/source/chart")) {
        (Some(url), Some(chart)) => format!(
            "{url} chart {chart}@{}",
            text("/spec/source/targetRevision").unwrap_or("*")
        ),
        (Some(url), None) => format!(
            "{url}@{}:{}",
            text("/spec/source/targetRevision").unwrap_or("HEAD"),
            text("/spec/source/path").unwrap_or(".")
        ),
        _ => "(multiple sources)".to_string(),
    };
    let mut s = controllers::blank(id, source);
    s.sync = match text("/status/sync/status") {
        Some("Synced") => SyncStatus::Synced,
        Some("OutOfSync") => SyncStatus::OutOfSync,
        _ => SyncStatus::Unknown,
    };
    s.health = text("/status/health/status").map_or(Health::Unknown, health_of);
    s.suspended = automated(app).is_some() && !auto_sync_enabled(app);
    let is_sha = |r: &&str| r.len() == 40 && r.chars().all(|c| c.is_ascii_hexdigit());
    s.target_revision = text("/status/sync/revision")
        .filter(is_sha)
        .map(Revision::new);
    s.head_revision = s.target_revision.clone();
    s.deployed_revision = app
        .pointer("/status/history")
        .and_then(Value::as_array)
        .and_then(|h| h.last())
        .and_then(|e| e.get("revision"))
        .and_then(Value::as_str)
        .filter(is_sha)
        .map(Revision::new);
    s.last_sync = app
        .pointer("/status/operationState/finishedAt")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut message = Vec::new();
    let running = app.get("operation").is_some_and(|o| !o.is_null())
        || text("/status/operationState/phase") == Some("Running");
    if running {
        message.push(format!(
            "operation running: {}",
            text("/status/operationState/message").unwrap_or("requested")
        ));
    } else if let Some(phase) = text("/status/operationState/phase") {
        message.push(format!(
            "last operation {phase}: {}",
            text("/status/operationState/message").unwrap_or("")
        ));
    }
    if let Some(m) = text("/status/health/message").filter(|m| !m.is_empty()) {
        message.push(m.to_string());
    }
    for c in app
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let t = |f: &str| c.get(f).and_then(Value::as_str).unwrap_or("");
        message.push(format!("{}: {}", t("type"), t("message")));
    }
    if message.is_empty() {
        message.push(format!("{} and {}", s.sync, s.health));
    }
    s.message = message.join("; ");
    let listed = resources(app);
    s.counts = controllers::counts(&listed);
    (s, listed)
}

/// `status.history` as sync records, oldest first: each entry is a sync
/// Argo CD completed (it records only those), by whom it was initiated.
pub fn sync_records(app: &Value) -> Vec<SyncRecord> {
    app.pointer("/status/history")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let text = |p: &str| e.pointer(p).and_then(Value::as_str);
            let who = match (
                text("/initiatedBy/username"),
                e.pointer("/initiatedBy/automated"),
            ) {
                (Some(u), _) if !u.is_empty() => u.to_string(),
                (_, Some(Value::Bool(true))) => "argocd (automated)".to_string(),
                _ => "argocd".to_string(),
            };
            Some(SyncRecord {
                revision: Revision::new(text("/revision")?),
                time: text("/deployedAt").unwrap_or("").to_string(),
                who,
                result: SyncResult::Succeeded,
                applied: 0,
                not_applied: 0,
                pruned: 0,
                changed: vec![],
            })
        })
        .collect()
}

#[cfg(test)]
#[path = "argocd_tests.rs"]
mod tests;
