//! Argo CD apps: an Application read as an app (`status.sync`,
//! `status.health`, `status.operationState`, `status.history`,
//! `status.resources`, `spec.syncPolicy.automated`), and the writes that
//! steer it, each what the `argocd` CLI makes its API server write in core
//! mode: a sync or rollback is the `operation` field set on the whole object
//! (`SetAppOperation`: an update with the resourceVersion read, refused when
//! an operation is already there); refresh is the annotation merge patch of
//! `RefreshApp`, done once the controller has removed it again.
//!
//! Suspend and resume of auto-sync use `spec.syncPolicy.automated.enabled`
//! (Argo CD's own switch), so `prune`, `selfHeal` and `allowEmpty` stay as
//! they are; `argocd app set --sync-policy none` would drop them.

use super::controllers::{self, ListedResource};
use crate::model::{
    AppId, AppStatus, Health, ResourceKey, ResourceStatus, Revision, SyncRecord, SyncResult,
    SyncStatus,
};
use serde_json::Value;

// Defined in `model` so the confirm dialogs build the same bodies.
pub use crate::model::controller_patch::{
    auto_sync_enabled, history_entry, ArgoOperation, ArgoPatch, HYDRATE, REFRESH,
};

/// A refresh asked for and not yet handled by the application controller.
pub fn refresh_pending(app: &Value) -> bool {
    app.pointer("/metadata/annotations")
        .and_then(|a| a.get(REFRESH))
        .is_some_and(|v| !v.is_null())
}

pub fn automated(app: &Value) -> Option<&Value> {
    app.pointer("/spec/syncPolicy/automated")
        .filter(|a| a.is_object())
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
    s.controller = Some(crate::model::ControllerObjects::new(app, None));
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
