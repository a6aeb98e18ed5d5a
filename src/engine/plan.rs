//! Planning and applying one stage of a sync: every object dry-run (in
//! parallel) before anything of the stage is written, then what changed
//! applied in order, stopping between objects when the sync is cancelled.
//!
//! Fields last written by Update-operation managers (`kubectl edit`, `kubectl
//! scale`) are drift and are taken over; conflicts with another Apply manager
//! are reported unless `force_conflicts`.

use super::interrupted::NOT_APPLIED;
use super::observe::Observed;
use super::ownership::{self, describe_adoption, owner_of, Owner};
use super::status::PARALLEL_REQUESTS;
use super::sync::{action, ResourceResult};
use crate::cluster::{self, ApplyMode, Cluster, ClusterError, Kind};
use crate::drift;
use crate::model::{ResourceKey, ResourceStatus};
use crate::sync::desired::Desired;
use crate::sync::record::Adoption;
use futures::{stream, StreamExt};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use tokio_util::sync::CancellationToken;

/// The outcome of dry-running one object.
pub(super) struct Planned {
    pub(super) desired: Desired,
    /// None only for what a --dry-run says stage one would make possible.
    pub(super) kind: Option<Kind>,
    pub(super) live: Option<Value>,
    pub(super) changed: bool,
    pub(super) force: bool,
    /// Set when the object exists and this sync takes it over.
    pub(super) adopt: Option<Adoption>,
    /// Said with the action (the managers of an adopted object, why a
    /// --dry-run could not ask the server).
    pub(super) note: String,
    /// The server's warnings about the dry-run.
    pub(super) warnings: Vec<String>,
}

pub(super) fn split(
    planned: Vec<Result<Planned, ResourceResult>>,
) -> (Vec<Planned>, Vec<ResourceResult>) {
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for p in planned {
        match p {
            Ok(p) => ok.push(p),
            Err(f) => failed.push(f),
        }
    }
    (ok, failed)
}

/// What planning needs besides the objects.
pub(super) struct PlanContext<'a> {
    pub(super) cluster: &'a Cluster,
    pub(super) observed: &'a Observed,
    /// Existing objects this sync takes over (listed, never silent).
    pub(super) adoptions: &'a BTreeMap<ResourceKey, Adoption>,
    pub(super) force_conflicts: bool,
    pub(super) dry_run: bool,
    /// Under --dry-run: the Namespaces and CRDs stage one would create.
    pub(super) created_namespaces: BTreeSet<String>,
    pub(super) created_crds: BTreeSet<(String, String)>,
}

/// Dry-run every object (in parallel) and decide what to write.
pub(super) async fn plan(
    ctx: &PlanContext<'_>,
    objects: Vec<Desired>,
) -> Vec<Result<Planned, ResourceResult>> {
    // Futures built up front, so the whole sync future is Send (see status.rs).
    stream::iter(
        objects
            .into_iter()
            .map(|d| plan_one(ctx, d))
            .collect::<Vec<_>>(),
    )
    .buffered(PARALLEL_REQUESTS)
    .collect()
    .await
}

async fn plan_one(ctx: &PlanContext<'_>, d: Desired) -> Result<Planned, ResourceResult> {
    let cluster = ctx.cluster;
    // A failure names where the object is written in Git.
    let fail = |d: &Desired, message: String| ResourceResult {
        key: d.key.clone(),
        action: "failed".into(),
        message: match &d.source {
            Some(at) => format!("{at}: {message}"),
            None => message,
        },
        warnings: vec![],
    };
    // Under --dry-run, what stage one would create cannot be asked of the
    // server yet: say what would happen instead of failing.
    let would_create = |d: Desired, why: &str| Planned {
        desired: d,
        kind: None,
        live: None,
        changed: true,
        force: false,
        adopt: None,
        note: why.to_string(),
        warnings: vec![],
    };
    let Some(kind) = d.kind.clone() else {
        let crd = (d.key.group.clone(), d.key.kind.clone());
        if ctx.dry_run && ctx.created_crds.contains(&crd) {
            return Ok(would_create(d, "its CRD is created by this sync"));
        }
        return Err(fail(
            &d,
            format!(
                "the cluster does not serve {} {}",
                d.api_version, d.key.kind
            ),
        ));
    };
    let live = ctx
        .observed
        .live_of(cluster, &d, &kind)
        .await
        .map_err(|e| fail(&d, e.to_string()))?;
    // An object found only now (its kind was served after stage one) is
    // judged as every other: never another app's, never adopted silently.
    let app = ownership::tracking_label(&d.object);
    let adopt = match (&live, ctx.adoptions.get(&d.key), app) {
        (_, Some(a), _) => Some(a.clone()),
        (Some(live), None, Some(app)) => match owner_of(app, live) {
            Owner::Ours => None,
            Owner::OtherApp(other) => {
                return Err(fail(
                    &d,
                    format!("belongs to app {other}: an object is never taken from another app"),
                ))
            }
            // Only the gate's adoptions are recorded as such in the
            // inventory, so one found this late is refused, never taken.
            Owner::Unowned(a) => {
                return Err(fail(
                    &d,
                    format!(
                        "{}, not created by this app; --adopt takes it over",
                        describe_adoption(&a)
                    ),
                ))
            }
        },
        _ => None,
    };
    let mut force = ctx.force_conflicts;
    let mut result = cluster::apply(
        &cluster.client,
        &cluster.url,
        &kind,
        &d.object,
        ApplyMode::DryRun,
        force,
    )
    .await;
    if let (Err(e), Some(live)) = (&result, &live) {
        if e.code() == Some(409) && conflicts_only_with_updates(e, live) {
            force = true;
            result = cluster::apply(
                &cluster.client,
                &cluster.url,
                &kind,
                &d.object,
                ApplyMode::DryRun,
                true,
            )
            .await;
        }
    }
    if let Err(e) = &result {
        if ctx.dry_run && live.is_none() {
            if let Some(ns) = missing_namespace(e) {
                if ctx.created_namespaces.contains(ns) {
                    return Ok(would_create(d, "namespace created by this sync"));
                }
            }
        }
    }
    let dry = result.map_err(|e| fail(&d, describe_failure(&e)))?;
    let changed = adopt.is_some()
        || match &live {
            None => true,
            Some(live) => {
                drift::compare_dry_run(&d.object, live, &dry, &[]).status != ResourceStatus::Synced
            }
        };
    let note = adopt.as_ref().map(describe_adoption).unwrap_or_default();
    Ok(Planned {
        desired: d,
        kind: Some(kind),
        live,
        changed,
        force,
        adopt,
        note,
        warnings: dry.warnings,
    })
}

/// The namespace a 404 says does not exist (`namespaces "web" not found`).
fn missing_namespace(e: &ClusterError) -> Option<&str> {
    match e {
        ClusterError::Api {
            code: 404, message, ..
        } => message
            .strip_prefix("namespaces \"")
            .and_then(|rest| rest.strip_suffix("\" not found")),
        _ => None,
    }
}

fn describe_failure(e: &ClusterError) -> String {
    match e {
        ClusterError::Api { message, .. } if e.code() == Some(409) => format!(
            "{message} (another Apply manager owns these fields; --force-conflicts takes them)"
        ),
        ClusterError::Api { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// Whether every manager named in a conflict wrote its fields by Update
/// (kubectl edit, scale, patch): that is drift, so the sync takes them.
fn conflicts_only_with_updates(e: &ClusterError, live: &Value) -> bool {
    let ClusterError::Api { message, .. } = e else {
        return false;
    };
    // `conflict with "kubectl" with subresource "scale" using apps/v1`: the
    // manager is the quoted name right after `with `.
    let managers: Vec<&str> = message
        .match_indices("with \"")
        .filter_map(|(i, m)| message[i + m.len()..].split('"').next())
        .collect();
    if managers.is_empty() {
        return false;
    }
    let entries = live
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    managers.iter().all(|m| {
        let ops: Vec<&str> = entries
            .iter()
            .filter(|e| e.get("manager").and_then(Value::as_str) == Some(m))
            .filter_map(|e| e.get("operation").and_then(Value::as_str))
            .collect();
        !ops.is_empty() && ops.iter().all(|op| *op == "Update")
    })
}

/// Apply, in order, what the dry-run found changed. Once `cancel` is
/// cancelled nothing more is written: the object in flight finishes, every
/// later changed one is reported as not applied.
pub(super) async fn apply_all(
    cluster: &Cluster,
    planned: Vec<Planned>,
    dry_run: bool,
    cancel: &CancellationToken,
) -> Vec<ResourceResult> {
    let mut out = Vec::with_capacity(planned.len());
    for p in planned {
        let key = p.desired.key.clone();
        if !p.changed {
            out.push(ResourceResult {
                key,
                action: "unchanged".into(),
                message: String::new(),
                warnings: p.warnings,
            });
            continue;
        }
        if cancel.is_cancelled() && !dry_run {
            out.push(ResourceResult {
                key,
                action: NOT_APPLIED.into(),
                message: String::new(),
                warnings: vec![],
            });
            continue;
        }
        let word = match (&p.adopt, &p.live) {
            (Some(_), _) => "adopted",
            (None, Some(_)) => "configured",
            (None, None) => "created",
        };
        if dry_run {
            out.push(ResourceResult {
                key,
                action: action(word, true),
                message: p.note,
                warnings: p.warnings,
            });
            continue;
        }
        let Some(kind) = &p.kind else {
            out.push(ResourceResult {
                key,
                action: "failed".into(),
                message: "its kind is not served".into(),
                warnings: vec![],
            });
            continue;
        };
        match cluster::apply(
            &cluster.client,
            &cluster.url,
            kind,
            &p.desired.object,
            ApplyMode::Apply,
            p.force,
        )
        .await
        {
            Ok(applied) => {
                let mut warnings = p.warnings;
                for w in applied.warnings {
                    if !warnings.contains(&w) {
                        warnings.push(w);
                    }
                }
                out.push(ResourceResult {
                    key,
                    action: word.into(),
                    message: p.note,
                    warnings,
                })
            }
            Err(e) => out.push(ResourceResult {
                key,
                action: "failed".into(),
                message: describe_failure(&e),
                warnings: vec![],
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn conflict(message: &str) -> ClusterError {
        ClusterError::Api {
            object: "x".into(),
            code: 409,
            reason: "Conflict".into(),
            message: message.into(),
        }
    }

    #[test]
    fn update_managers_are_taken_over_apply_managers_are_not() {
        let live = json!({"metadata": {"managedFields": [
            {"manager": "kubectl", "operation": "Update", "subresource": "scale"},
            {"manager": "other", "operation": "Apply"},
            {"manager": "gitops-tui", "operation": "Apply"},
        ]}});
        assert!(conflicts_only_with_updates(&conflict("Apply failed with 1 conflict: conflict with \"kubectl\" using apps/v1: .spec.replicas"), &live));
        assert!(!conflicts_only_with_updates(
            &conflict("Apply failed with 1 conflict: conflict with \"other\": .data.a"),
            &live
        ));
        assert!(!conflicts_only_with_updates(&conflict("Apply failed with 2 conflicts: conflicts with \"kubectl\" using apps/v1:\n- .a\nconflicts with \"other\":\n- .b"), &live));
        assert!(!conflicts_only_with_updates(
            &conflict("no names here"),
            &live
        ));
        let scale = "Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" using apps/v1: .spec.replicas";
        assert!(conflicts_only_with_updates(&conflict(scale), &live));
    }
}
