//! Flux apps: a Kustomization or HelmRelease read as an app (its `Ready`,
//! `Reconciling` and `Stalled` conditions, `lastAppliedRevision`,
//! `lastAttemptedRevision`, `spec.suspend`, the inventory, a HelmRelease's
//! history), and the patches that steer it, each exactly the merge patch
//! the `flux` CLI sends (`flux reconcile`, `flux suspend`, `flux resume`:
//! controller-runtime's `MergeFrom` of the object before and after).
//!
//! Rollback has no `flux` verb: gitops-tui pins the Kustomization's
//! GitRepository to the commit (`spec.ref.commit`, which takes precedence
//! over branch, tag and semver) and remembers the ref it had in an
//! annotation, so resume puts it back exactly.

use super::controllers::{self, condition, ControllerKind, ListedResource};
use crate::model::{AppId, AppStatus, Health, ResourceKey, ResourceStatus, Revision, SyncStatus};
use serde_json::Value;

// Defined in `model` so the confirm dialogs build the same bodies.
pub use crate::model::controller_patch::{FluxPatch, PINNED_FROM, REQUESTED_AT};

/// The commit of a Flux revision: `main@sha1:<sha>` (v1), `main/<sha>`
/// (older sources); None for OCI digests and chart versions.
pub fn commit_of(revision: &str) -> Option<Revision> {
    let sha = match revision.rsplit_once("sha1:") {
        Some((_, sha)) => sha,
        None => revision.rsplit('/').next().unwrap_or(revision),
    };
    (sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit())).then(|| Revision::new(sha))
}

/// The object a Kustomization or HelmRelease reads from:
/// (kind, namespace, name); the namespace defaults to the app's own.
pub fn source_ref(object: &Value) -> Option<(ControllerKind, String, String)> {
    let r = object
        .pointer("/spec/sourceRef")
        .or_else(|| object.pointer("/spec/chart/spec/sourceRef"))
        .or_else(|| object.pointer("/spec/chartRef"))?;
    let kind = ControllerKind::flux_source(r.get("kind")?.as_str()?)?;
    let own = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str);
    let namespace = r.get("namespace").and_then(Value::as_str).or(own)?;
    Some((kind, namespace.into(), r.get("name")?.as_str()?.into()))
}

pub fn is_suspended(object: &Value) -> bool {
    object.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true)
}

/// The `spec.ref` a gitops-tui rollback pin remembered (None: not pinned
/// by us, or the annotation is not JSON; `Null` when there was none).
pub fn remembered_ref(source: &Value) -> Option<Value> {
    let text = source
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(PINNED_FROM))
        .and_then(Value::as_str)?;
    serde_json::from_str(text).ok()
}

/// The revision a GitRepository is pinned to by a gitops-tui rollback.
pub fn pinned(source: &Value) -> Option<Revision> {
    source
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(PINNED_FROM))?;
    source
        .pointer("/spec/ref/commit")
        .and_then(Value::as_str)
        .map(Revision::new)
}

fn cond_status<'a>(object: &'a Value, type_: &str) -> Option<(&'a str, &'a str)> {
    let c = condition(object, type_)?;
    Some((
        c.get("status").and_then(Value::as_str).unwrap_or("Unknown"),
        c.get("message").and_then(Value::as_str).unwrap_or(""),
    ))
}

/// Sync and health from the conditions, as `flux get` reads them: Ready
/// True is Synced and Healthy; Stalled True is Degraded (the controller
/// gave up until the spec changes); Reconciling True or Ready Unknown is
/// Progressing; Ready False is Degraded. Sync is OutOfSync whenever the
/// attempted revision is not the applied one.
fn sync_and_health(object: &Value) -> (SyncStatus, Health, String) {
    let ready = cond_status(object, "Ready");
    let stalled = cond_status(object, "Stalled").filter(|(s, _)| *s == "True");
    let reconciling = cond_status(object, "Reconciling").filter(|(s, _)| *s == "True");
    let text = |p: &str| object.pointer(p).and_then(Value::as_str);
    let applied = text("/status/lastAppliedRevision");
    let attempted = text("/status/lastAttemptedRevision");
    let behind = attempted.is_some() && attempted != applied;
    let (health, message) = match (ready, stalled, reconciling) {
        (_, Some((_, m)), _) => (Health::Degraded, format!("stalled: {m}")),
        (_, None, Some((_, m))) => (Health::Progressing, format!("reconciling: {m}")),
        (Some(("True", m)), _, _) => (Health::Healthy, m.to_string()),
        (Some(("False", m)), _, _) => (Health::Degraded, format!("not ready: {m}")),
        (Some((_, m)), _, _) => (Health::Progressing, format!("reconciling: {m}")),
        (None, None, None) => (
            Health::Unknown,
            "no Ready condition yet: not reconciled by the controller".into(),
        ),
    };
    let sync = match (ready, behind) {
        (None, _) => SyncStatus::Unknown,
        (_, true) => SyncStatus::OutOfSync,
        (Some(("True", _)), false) => SyncStatus::Synced,
        (Some(("False", _)), false) => SyncStatus::OutOfSync,
        _ => SyncStatus::Unknown,
    };
    (sync, health, message)
}

/// The objects of a Kustomization's `status.inventory`
/// (`<namespace>_<name>_<group>_<kind>` ids, `v` the version).
pub fn inventory(object: &Value) -> Vec<ListedResource> {
    let Some(entries) = object
        .pointer("/status/inventory/entries")
        .and_then(Value::as_array)
    else {
        return vec![];
    };
    entries
        .iter()
        .filter_map(|e| {
            let id = e.get("id")?.as_str()?;
            let version = e.get("v").and_then(Value::as_str).unwrap_or("");
            let parts: Vec<&str> = id.splitn(4, '_').collect();
            let [namespace, name, group, kind] = parts[..] else {
                return None;
            };
            let api_version = if group.is_empty() {
                version.to_string()
            } else {
                format!("{group}/{version}")
            };
            Some(ListedResource {
                key: ResourceKey {
                    group: group.into(),
                    kind: kind.into(),
                    namespace: (!namespace.is_empty()).then(|| namespace.to_string()),
                    name: name.into(),
                },
                api_version,
                status: ResourceStatus::Synced,
                health: None,
            })
        })
        .collect()
}

/// Where a Flux app comes from, as the status row names it.
fn source_text(kind: ControllerKind, object: &Value, source: Option<&Value>) -> String {
    let text = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
    if kind == ControllerKind::FluxHelmRelease {
        let chart = text(object, "/spec/chart/spec/chart").unwrap_or_else(|| "chart".into());
        let version = text(object, "/spec/chart/spec/version").unwrap_or_else(|| "*".into());
        return format!("helm chart {chart}@{version}");
    }
    let path = text(object, "/spec/path").unwrap_or_else(|| "./".into());
    let url = source
        .and_then(|s| text(s, "/spec/url"))
        .or_else(|| source_ref(object).map(|(k, ns, n)| format!("{}/{ns}/{n}", k.kind())))
        .unwrap_or_else(|| "(no source)".into());
    format!("{url}:{path}")
}

pub fn status(
    kind: ControllerKind,
    id: AppId,
    object: &Value,
    source: Option<&Value>,
) -> (AppStatus, Vec<ListedResource>) {
    let mut s = controllers::blank(id, source_text(kind, object, source));
    let (sync, health, message) = sync_and_health(object);
    s.sync = sync;
    s.health = health;
    s.message = message;
    s.suspended = is_suspended(object);
    let text = |p: &str| object.pointer(p).and_then(Value::as_str);
    s.deployed_revision = text("/status/lastAppliedRevision").and_then(commit_of);
    s.target_revision = text("/status/lastAttemptedRevision").and_then(commit_of);
    s.head_revision = source
        .and_then(|src| src.pointer("/status/artifact/revision"))
        .and_then(Value::as_str)
        .and_then(commit_of);
    s.paused_revision = source.and_then(pinned);
    s.controller = Some(crate::model::ControllerObjects::new(object, source));
    let resources = if kind == ControllerKind::FluxHelmRelease {
        // The chart version stands where a commit would.
        if let Some(h) = object
            .pointer("/status/history/0")
            .filter(|h| h.is_object())
        {
            let field = |f: &str| h.get(f).and_then(Value::as_str).unwrap_or("?");
            s.message = format!(
                "{} (release {} v{}: {} {})",
                s.message,
                field("name"),
                h.get("version").and_then(Value::as_i64).unwrap_or(0),
                field("chartVersion"),
                field("status"),
            );
        }
        vec![]
    } else {
        inventory(object)
    };
    s.counts = controllers::counts(&resources);
    (s, resources)
}

#[cfg(test)]
#[path = "flux_tests.rs"]
mod tests;
