//! Sync in two stages, like Flux: first Namespaces and CRDs (dry-run, then
//! apply), then everything else dry-run with `dryRun=All` and applied only if
//! every dry-run passed, in Argo CD's kind order, by server-side apply as
//! field manager `gitops-tui`. Objects whose dry-run equals live are not
//! written at all, so a sync that changes nothing writes nothing.
//!
//! Fields last written by Update-operation managers (`kubectl edit`, `kubectl
//! scale`) are drift and are taken over; conflicts with another Apply manager
//! are reported unless `force_conflicts`.

use super::desired_state::DesiredState;
use super::lease::LEASE_TTL;
use super::observe::{Observed, Read};
use super::status::PARALLEL_REQUESTS;
use super::{now_rfc3339, who, Engine, EngineError};
use crate::cluster::{self, ApplyMode, Cluster, ClusterError, Kind, TRACKING_LABEL};
use crate::config::AppConfig;
use crate::drift;
use crate::model::{ResourceKey, ResourceStatus};
use crate::sync::desired::{self, apply_order, Desired};
use crate::sync::record::{InventoryEntry, SyncRecord};
use futures::{stream, StreamExt};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// Apply this revision instead of the head (or the rollback pin).
    pub revision: Option<String>,
    /// Prune even when the app's config does not.
    pub prune: bool,
    /// Compute everything, write nothing.
    pub dry_run: bool,
    pub force_conflicts: bool,
    /// Take over existing objects this app did not create (never another
    /// app's): without it a sync that would adopt is refused.
    pub adopt: bool,
    /// Wait for the app to be Healthy, at most this long.
    pub wait: Option<Duration>,
    /// Cancelled by SIGINT/SIGTERM, the TUI's cancel key or quit: the sync
    /// stops after the object in flight, records itself as Interrupted and
    /// releases the lease.
    pub cancel: CancellationToken,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceResult {
    #[serde(flatten)]
    pub key: ResourceKey,
    /// created, configured, unchanged, pruned, failed (with "would " under dry-run).
    pub action: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    pub app: String,
    pub revision: String,
    pub succeeded: bool,
    pub dry_run: bool,
    pub message: String,
    /// What stage one created, named even when stage two then failed.
    pub stage_one_created: Vec<ResourceKey>,
    pub resources: Vec<ResourceResult>,
}

/// The outcome of dry-running one object.
struct Planned {
    desired: Desired,
    kind: Kind,
    live: Option<Value>,
    changed: bool,
    force: bool,
}

impl Engine {
    pub async fn sync(&self, name: &str, opts: &SyncOptions) -> Result<SyncReport, EngineError> {
        self.refuse_if_readonly("sync")?;
        let app = self.app(name)?.clone();
        let cluster = self.cluster(&app).await?;
        if opts.dry_run {
            return self.sync_leased(&app, &cluster, opts).await;
        }
        let ttl = LEASE_TTL + opts.wait.unwrap_or_default();
        self.acquire_lease(&app, &cluster, ttl).await?;
        let result = self.sync_leased(&app, &cluster, opts).await;
        let released = self.release_lease(&app, &cluster).await;
        let report = result?;
        released?;
        Ok(report)
    }

    async fn sync_leased(
        &self,
        app: &AppConfig,
        cluster: &Cluster,
        opts: &SyncOptions,
    ) -> Result<SyncReport, EngineError> {
        let app = app.clone();
        let cluster = cluster.clone();
        let records = self.records(&cluster);
        let record = records.read(&app.name).await?;
        let revision = opts
            .revision
            .clone()
            .or_else(|| record.paused_revision.clone());
        let mut desired = self.desired(&app, &cluster, revision.as_deref()).await?;
        let mut report = SyncReport {
            app: app.name.clone(),
            revision: desired.revision.clone(),
            succeeded: false,
            dry_run: opts.dry_run,
            message: String::new(),
            stage_one_created: vec![],
            resources: vec![],
        };

        // What the cluster holds now: the live side of the plan, and the
        // Extras (stage one only creates or updates desired objects, so it
        // cannot change which objects are extra).
        let observed = self
            .observe(&app, &cluster, &desired, &record, Read::Fresh)
            .await?;

        // Stage one: the namespace create_namespace asks for, then the app's
        // own Namespaces and CRDs.
        let mut stage_one: Vec<Desired> = desired
            .objects
            .iter()
            .filter(|d| d.is_stage_one())
            .cloned()
            .collect();
        if app.create_namespace
            && !stage_one
                .iter()
                .any(|d| d.key.kind == "Namespace" && d.key.name == app.namespace)
        {
            stage_one.insert(0, self.created_namespace(&cluster, &app.namespace).await?);
        }
        let planned = plan(&cluster, &observed, stage_one, opts.force_conflicts).await;
        let (ok, failed) = split(planned);
        if !failed.is_empty() {
            report.resources = failed;
            report.message =
                "stage one (Namespaces, CRDs) failed its dry-run: nothing was applied".into();
            self.record_result(&app, &cluster, &report, None).await?;
            return Ok(report);
        }
        for p in apply_all(&cluster, ok, opts.dry_run).await {
            if p.action.ends_with("created") {
                report.stage_one_created.push(p.key.clone());
            }
            report.resources.push(p);
        }
        if report.resources.iter().any(|r| r.action == "failed") {
            report.message = "stage one (Namespaces, CRDs) failed to apply".into();
            self.record_result(&app, &cluster, &report, None).await?;
            return Ok(report);
        }

        // Stage two: everything else, all dry-run before anything is applied.
        self.resolve_pending(&cluster, &mut desired.objects, &app)
            .await?;
        let mut stage_two: Vec<Desired> = desired
            .objects
            .iter()
            .filter(|d| !d.is_stage_one())
            .cloned()
            .collect();
        apply_order(&mut stage_two);
        let (ok, failed) = split(plan(&cluster, &observed, stage_two, opts.force_conflicts).await);
        if !failed.is_empty() {
            report.message = format!(
                "{} object(s) failed the dry-run: nothing of stage two was applied{}",
                failed.len(),
                created_note(&report.stage_one_created)
            );
            report.resources.extend(failed);
            self.record_result(&app, &cluster, &report, None).await?;
            return Ok(report);
        }
        report
            .resources
            .extend(apply_all(&cluster, ok, opts.dry_run).await);
        let apply_failed = report.resources.iter().any(|r| r.action == "failed");

        // What Git no longer has: pruned when asked to, else kept in the
        // inventory so it stays visible as Extra (even when its kind is gone from Git).
        let extras = observed.extras;
        let mut kept: Vec<InventoryEntry> = Vec::new();
        if (app.prune || opts.prune) && !apply_failed && !desired.incomplete {
            let (pruned, remaining) = self.prune(&app, &cluster, extras, opts.dry_run).await?;
            report.resources.extend(pruned);
            kept = remaining;
        } else {
            if (app.prune || opts.prune) && desired.incomplete {
                report.message = "some manifests could not be read: pruning skipped".into();
            }
            kept.extend(extras.iter().map(|(key, live)| inventory_entry(key, live)));
        }
        report.succeeded = !report.resources.iter().any(|r| r.action == "failed");
        if report.message.is_empty() {
            report.message = summary(&report);
        }
        if !opts.dry_run {
            let inventory = if report.succeeded {
                let mut inv = inventory_of(&desired);
                inv.extend(kept);
                Some(inv)
            } else {
                None
            };
            self.record_result(&app, &cluster, &report, inventory)
                .await?;
            if let (true, Some(timeout)) = (report.succeeded, opts.wait) {
                self.wait_healthy(&app.name, timeout).await?;
            }
        }
        Ok(report)
    }

    async fn created_namespace(
        &self,
        cluster: &Cluster,
        name: &str,
    ) -> Result<Desired, EngineError> {
        let object = desired::created_namespace(name);
        let kind = self
            .kinds
            .resolve(&cluster.client, &cluster.url, "v1", "Namespace")
            .await?;
        Ok(Desired {
            key: desired::key_of(&object),
            api_version: "v1".into(),
            object,
            source: None,
            kind: Some(kind),
        })
    }

    /// Delete the extras that carry this app's label; the rest (and any
    /// whose delete failed) are returned to stay in the inventory.
    async fn prune(
        &self,
        app: &AppConfig,
        cluster: &Cluster,
        extras: BTreeMap<ResourceKey, Value>,
        dry_run: bool,
    ) -> Result<(Vec<ResourceResult>, Vec<InventoryEntry>), EngineError> {
        let mut remaining = Vec::new();
        let mut out = Vec::new();
        for (key, live) in extras {
            // Only what carries this app's label: never another app's object,
            // an unlabelled one, or the create_namespace Namespace.
            let ours = live
                .pointer(&format!(
                    "/metadata/labels/{}",
                    TRACKING_LABEL.replace('/', "~1")
                ))
                .and_then(Value::as_str)
                == Some(app.name.as_str());
            if !ours {
                remaining.push(inventory_entry(&key, &live));
                continue;
            }
            let api_version = live.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            let kind = self
                .kinds
                .resolve(&cluster.client, &cluster.url, api_version, &key.kind)
                .await?;
            let result = if dry_run {
                Ok(())
            } else {
                cluster::delete(
                    &cluster.client,
                    &cluster.url,
                    &kind,
                    key.namespace.as_deref(),
                    &key.name,
                )
                .await
            };
            match result {
                Ok(()) => out.push(ResourceResult {
                    key,
                    action: action("pruned", dry_run),
                    message: String::new(),
                }),
                Err(e) => {
                    remaining.push(inventory_entry(&key, &live));
                    out.push(ResourceResult {
                        key,
                        action: "failed".into(),
                        message: e.to_string(),
                    });
                }
            }
        }
        Ok((out, remaining))
    }

    async fn record_result(
        &self,
        app: &AppConfig,
        cluster: &Cluster,
        report: &SyncReport,
        inventory: Option<Vec<InventoryEntry>>,
    ) -> Result<(), EngineError> {
        if report.dry_run {
            return Ok(());
        }
        let changed: Vec<String> = report
            .resources
            .iter()
            .filter(|r| r.action != "unchanged")
            .take(20)
            .map(|r| format!("{} {}", r.action, r.key))
            .collect();
        let entry = SyncRecord {
            revision: report.revision.clone(),
            time: now_rfc3339(),
            who: who(),
            result: if report.succeeded {
                "Succeeded".into()
            } else {
                format!("Failed: {}", report.message)
            },
            applied: report
                .resources
                .iter()
                .filter(|r| matches!(r.action.as_str(), "created" | "configured"))
                .count(),
            pruned: report
                .resources
                .iter()
                .filter(|r| r.action == "pruned")
                .count(),
            changed,
        };
        let succeeded = report.succeeded;
        let revision = report.revision.clone();
        self.records(cluster)
            .update(&app.name, |r| {
                r.push_history(entry.clone());
                if succeeded {
                    r.deployed_revision = Some(revision.clone());
                }
                if let Some(inv) = &inventory {
                    r.inventory = inv.clone();
                }
            })
            .await?;
        Ok(())
    }

    /// Wait until the app is Healthy: an error when it is Degraded with a
    /// reason (at once, as that is final) or the time is up. Callers that
    /// tell these apart use `wait_for_health`.
    pub async fn wait_healthy(&self, name: &str, timeout: Duration) -> Result<(), EngineError> {
        match self.wait_for_health(name, timeout).await? {
            super::wait::WaitOutcome::Healthy => Ok(()),
            outcome => Err(EngineError::Other(outcome.describe(name))),
        }
    }
}

fn inventory_entry(key: &ResourceKey, live: &Value) -> InventoryEntry {
    InventoryEntry {
        api_version: live
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        kind: key.kind.clone(),
        namespace: key.namespace.clone(),
        name: key.name.clone(),
    }
}

fn inventory_of(desired: &DesiredState) -> Vec<InventoryEntry> {
    desired
        .objects
        .iter()
        .map(|d| InventoryEntry {
            api_version: d.api_version.clone(),
            kind: d.key.kind.clone(),
            namespace: d.key.namespace.clone(),
            name: d.key.name.clone(),
        })
        .collect()
}

fn created_note(created: &[ResourceKey]) -> String {
    if created.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = created.iter().map(ToString::to_string).collect();
        format!(" (stage one created {})", names.join(", "))
    }
}

fn action(word: &str, dry_run: bool) -> String {
    if dry_run {
        format!("would be {word}")
    } else {
        word.to_string()
    }
}

fn summary(report: &SyncReport) -> String {
    let count = |a: &str| {
        report
            .resources
            .iter()
            .filter(|r| r.action.ends_with(a))
            .count()
    };
    format!(
        "{} created, {} configured, {} unchanged, {} pruned",
        count("created"),
        count("configured"),
        count("unchanged"),
        count("pruned")
    )
}

fn split(planned: Vec<Result<Planned, ResourceResult>>) -> (Vec<Planned>, Vec<ResourceResult>) {
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

/// Dry-run every object (in parallel) and decide what to write.
async fn plan(
    cluster: &Cluster,
    observed: &Observed,
    objects: Vec<Desired>,
    force_conflicts: bool,
) -> Vec<Result<Planned, ResourceResult>> {
    // Futures built up front, so the whole sync future is Send (see status.rs).
    stream::iter(
        objects
            .into_iter()
            .map(|d| plan_one(cluster, observed, d, force_conflicts))
            .collect::<Vec<_>>(),
    )
    .buffered(PARALLEL_REQUESTS)
    .collect()
    .await
}

async fn plan_one(
    cluster: &Cluster,
    observed: &Observed,
    d: Desired,
    force_conflicts: bool,
) -> Result<Planned, ResourceResult> {
    let fail = |d: &Desired, message: String| ResourceResult {
        key: d.key.clone(),
        action: "failed".into(),
        message,
    };
    let Some(kind) = d.kind.clone() else {
        return Err(fail(
            &d,
            format!(
                "the cluster does not serve {} {}",
                d.api_version, d.key.kind
            ),
        ));
    };
    let live = observed
        .live_of(cluster, &d, &kind)
        .await
        .map_err(|e| fail(&d, e.to_string()))?;
    let mut force = force_conflicts;
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
    let dry = result.map_err(|e| fail(&d, describe_failure(&e)))?;
    let changed = match &live {
        None => true,
        Some(live) => {
            drift::compare_dry_run(&d.object, live, &dry, &[]).status != ResourceStatus::Synced
        }
    };
    Ok(Planned {
        desired: d,
        kind,
        live,
        changed,
        force,
    })
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

/// Apply, in order, what the dry-run found changed.
async fn apply_all(cluster: &Cluster, planned: Vec<Planned>, dry_run: bool) -> Vec<ResourceResult> {
    let mut out = Vec::with_capacity(planned.len());
    for p in planned {
        let key = p.desired.key.clone();
        if !p.changed {
            out.push(ResourceResult {
                key,
                action: "unchanged".into(),
                message: String::new(),
            });
            continue;
        }
        let word = if p.live.is_some() {
            "configured"
        } else {
            "created"
        };
        if dry_run {
            out.push(ResourceResult {
                key,
                action: action(word, true),
                message: String::new(),
            });
            continue;
        }
        match cluster::apply(
            &cluster.client,
            &cluster.url,
            &p.kind,
            &p.desired.object,
            ApplyMode::Apply,
            p.force,
        )
        .await
        {
            Ok(_) => out.push(ResourceResult {
                key,
                action: word.into(),
                message: String::new(),
            }),
            Err(e) => out.push(ResourceResult {
                key,
                action: "failed".into(),
                message: describe_failure(&e),
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
