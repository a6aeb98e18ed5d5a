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
use super::interrupted::{interrupted, inventory_after_interruption, NOT_APPLIED};
use super::lease::LEASE_TTL;
use super::observe::{Observed, Read};
use super::ownership::{self, describe_adoption, owner_of, Owner};
use super::status::PARALLEL_REQUESTS;
use super::{now_rfc3339, who, Engine, EngineError};
use crate::cluster::{self, ApplyMode, Cluster, ClusterError, Kind, TRACKING_LABEL};
use crate::config::AppConfig;
use crate::drift;
use crate::model::{ResourceKey, ResourceStatus};
use crate::sync::boundary;
use crate::sync::desired::{self, apply_order, Desired};
use crate::sync::record::{Adoption, InventoryEntry, SyncRecord, SyncResult};
use futures::{stream, StreamExt};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
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
    /// The API server's `Warning` headers about this object (deprecated
    /// fields, ignored values), from its dry-run and its apply.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
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
    /// What the user should know and nothing else says: every document or
    /// file of the app not loaded, kinds that could not be listed.
    pub warnings: Vec<crate::manifest::Warning>,
}

/// The outcome of dry-running one object.
struct Planned {
    desired: Desired,
    /// None only for what a --dry-run says stage one would make possible.
    kind: Option<Kind>,
    live: Option<Value>,
    changed: bool,
    force: bool,
    /// Set when the object exists and this sync takes it over.
    adopt: Option<Adoption>,
    /// Said with the action (the managers of an adopted object, why a
    /// --dry-run could not ask the server).
    note: String,
    /// The server's warnings about the dry-run.
    warnings: Vec<String>,
}

impl Engine {
    pub async fn sync(&self, name: &str, opts: &SyncOptions) -> Result<SyncReport, EngineError> {
        self.refuse_if_readonly("sync")?;
        let app = self.app(name)?.clone();
        let cluster = self.cluster(&app).await?;
        if opts.dry_run {
            return self.sync_leased(&app, &cluster, opts).await;
        }
        self.acquire_lease(&app, &cluster, LEASE_TTL).await?;
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
        let mut desired = match self.desired(&app, &cluster, revision.as_deref()).await {
            Ok(d) => d,
            Err(e) => {
                return Err(self
                    .source_refused(&app, &cluster, revision.as_deref(), opts, e)
                    .await)
            }
        };
        let violations = boundary::check(&app, &self.config.record_namespace, &desired.objects);
        if !violations.is_empty() {
            return Err(EngineError::OutOfBounds {
                app: app.name.clone(),
                violations,
            });
        }
        let mut report = SyncReport {
            app: app.name.clone(),
            revision: desired.revision.clone(),
            succeeded: false,
            dry_run: opts.dry_run,
            message: String::new(),
            stage_one_created: vec![],
            resources: vec![],
            warnings: desired.warnings.clone(),
        };

        // What the cluster holds now: the live side of the plan, and the
        // Extras (stage one only creates or updates desired objects, so it
        // cannot change which objects are extra).
        let mut observed = self
            .observe(&app, &cluster, &desired, &record, Read::Fresh)
            .await?;
        report.warnings.extend(
            observed
                .warnings
                .iter()
                .cloned()
                .map(crate::manifest::Warning::general),
        );

        // Whose each existing object is, before anything is written: nothing
        // is applied when one belongs to another app, or when one would be
        // adopted without consent.
        observed.fetch_unlisted(&cluster, &desired.objects).await?;
        let owners = owners(&app.name, &observed, &desired.objects);
        let taken: Vec<ResourceResult> = owners
            .iter()
            .filter_map(|(key, owner)| match owner {
                Owner::OtherApp(other) => Some(ResourceResult {
                    key: key.clone(),
                    action: "failed".into(),
                    message: format!(
                        "belongs to app {other} (label {TRACKING_LABEL}={other}), not to {}: an object is never taken from another app",
                        app.name
                    ),
                    warnings: vec![],
                }),
                _ => None,
            })
            .collect();
        if !taken.is_empty() {
            report.message = format!(
                "{} object(s) belong to another app: nothing was applied",
                taken.len()
            );
            report.resources = taken;
            self.record_result(&app, &cluster, &report, None).await?;
            return Ok(report);
        }
        let adoptions: BTreeMap<ResourceKey, Adoption> = owners
            .into_iter()
            .filter_map(|(key, owner)| match owner {
                Owner::Unowned(a) => Some((key, a)),
                _ => None,
            })
            .collect();
        if !adoptions.is_empty() && !opts.adopt && !opts.dry_run {
            report.resources = adoptions
                .iter()
                .map(|(key, a)| ResourceResult {
                    key: key.clone(),
                    action: "refused".into(),
                    message: format!(
                        "{}, not created by this app; --adopt takes it over",
                        describe_adoption(a)
                    ),
                    warnings: vec![],
                })
                .collect();
            report.message = format!(
                "{} existing object(s) were not created by this app and would be adopted: nothing was applied (review with --dry-run, then --adopt)",
                adoptions.len()
            );
            self.record_result(&app, &cluster, &report, None).await?;
            return Ok(report);
        }
        let plan_ctx = PlanContext {
            cluster: &cluster,
            observed: &observed,
            adoptions: &adoptions,
            force_conflicts: opts.force_conflicts,
            dry_run: opts.dry_run,
            created_namespaces: BTreeSet::new(),
            created_crds: BTreeSet::new(),
        };

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
        let planned = plan(&plan_ctx, stage_one).await;
        let (ok, failed) = split(planned);
        if !failed.is_empty() {
            report.resources = failed;
            report.message =
                "stage one (Namespaces, CRDs) failed its dry-run: nothing was applied".into();
            self.record_result(&app, &cluster, &report, None).await?;
            return Ok(report);
        }
        // Under --dry-run stage one creates nothing, so stage two's objects in
        // a namespace (or of a CRD) it would create cannot be dry-run: they
        // are reported as what they would be.
        let mut plan_ctx = plan_ctx;
        for p in ok.iter().filter(|p| p.live.is_none()) {
            if is_namespace(&p.desired.key) {
                plan_ctx
                    .created_namespaces
                    .insert(p.desired.key.name.clone());
            } else if let Some(gk) = crd_group_kind(&p.desired.object) {
                plan_ctx.created_crds.insert(gk);
            }
        }
        for p in apply_all(&cluster, ok, opts.dry_run, &opts.cancel).await {
            if !opts.dry_run && p.action == "created" {
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
        let (ok, failed) = split(plan(&plan_ctx, stage_two).await);
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
            .extend(apply_all(&cluster, ok, opts.dry_run, &opts.cancel).await);
        if let Some(message) = interrupted(&report) {
            report.message = message;
            let inventory =
                inventory_after_interruption(&desired, &record.inventory, &adoptions, &report);
            self.record_result(&app, &cluster, &report, Some(inventory))
                .await?;
            return Ok(report);
        }
        let apply_failed = report.resources.iter().any(|r| r.action == "failed");

        // What Git no longer has: pruned when asked to, else kept in the
        // inventory so it stays visible as Extra (even when its kind is gone from Git).
        let extras = std::mem::take(&mut observed.extras);
        let mut kept: Vec<InventoryEntry> = Vec::new();
        if (app.prune || opts.prune) && !apply_failed {
            let pruned = self
                .prune(&app, &cluster, extras, &record.inventory, opts.dry_run)
                .await?;
            report.resources.extend(pruned.results);
            kept = pruned.remaining;
        } else {
            kept.extend(
                extras
                    .iter()
                    .map(|(key, live)| previous_entry(&record.inventory, key, live)),
            );
        }
        report.succeeded = !report.resources.iter().any(|r| r.action == "failed");
        if report.message.is_empty() {
            report.message = summary(&report);
        }
        if !opts.dry_run {
            let inventory = if report.succeeded {
                let mut inv = inventory_of(&desired, &record.inventory, &adoptions);
                inv.extend(kept);
                Some(inv)
            } else {
                None
            };
            self.record_result(&app, &cluster, &report, inventory)
                .await?;
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

    pub(super) async fn record_result(
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
        let not_applied = report
            .resources
            .iter()
            .filter(|r| r.action == NOT_APPLIED)
            .count();
        let entry = SyncRecord {
            revision: report.revision.clone(),
            time: now_rfc3339(),
            who: who(),
            result: if report.succeeded {
                SyncResult::Succeeded
            } else if not_applied > 0 {
                SyncResult::Interrupted
            } else {
                SyncResult::Failed(report.message.clone())
            },
            applied: report
                .resources
                .iter()
                .filter(|r| matches!(r.action.as_str(), "created" | "configured" | "adopted"))
                .count(),
            not_applied,
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
}

pub(super) fn inventory_entry(key: &ResourceKey, live: &Value) -> InventoryEntry {
    InventoryEntry {
        api_version: live
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        kind: key.kind.clone(),
        namespace: key.namespace.clone(),
        name: key.name.clone(),
        adopted: None,
    }
}

/// An extra's inventory entry, keeping whether the app adopted it.
fn previous_entry(inventory: &[InventoryEntry], key: &ResourceKey, live: &Value) -> InventoryEntry {
    let mut entry = inventory_entry(key, live);
    entry.adopted = inventory
        .iter()
        .find(|e| e.key() == *key)
        .and_then(|e| e.adopted.clone());
    entry
}

/// The desired objects as inventory: adopted when this sync adopted them or
/// an earlier one did, else created.
pub(super) fn inventory_of(
    desired: &DesiredState,
    previous: &[InventoryEntry],
    adopted_now: &BTreeMap<ResourceKey, Adoption>,
) -> Vec<InventoryEntry> {
    let before: BTreeMap<ResourceKey, &Adoption> = previous
        .iter()
        .filter_map(|e| e.adopted.as_ref().map(|a| (e.key(), a)))
        .collect();
    desired
        .objects
        .iter()
        .map(|d| InventoryEntry {
            api_version: d.api_version.clone(),
            kind: d.key.kind.clone(),
            namespace: d.key.namespace.clone(),
            name: d.key.name.clone(),
            adopted: adopted_now
                .get(&d.key)
                .or(before.get(&d.key).copied())
                .cloned(),
        })
        .collect()
}

/// Whose each existing desired object of the app is (objects not yet
/// existing, and the create_namespace Namespace, which is not the app's,
/// are left out).
fn owners(app: &str, observed: &Observed, objects: &[Desired]) -> Vec<(ResourceKey, Owner)> {
    objects
        .iter()
        .filter(|d| ownership::tracking_label(&d.object) == Some(app))
        .filter_map(|d| match observed.known(&d.key) {
            Some(Some(live)) => Some((d.key.clone(), owner_of(app, live))),
            _ => None,
        })
        .collect()
}

fn is_namespace(key: &ResourceKey) -> bool {
    key.group.is_empty() && key.kind == "Namespace"
}

/// The (group, kind) a CRD object defines.
fn crd_group_kind(object: &Value) -> Option<(String, String)> {
    if object.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition") {
        return None;
    }
    let group = object.pointer("/spec/group").and_then(Value::as_str)?;
    let kind = object.pointer("/spec/names/kind").and_then(Value::as_str)?;
    Some((group.to_string(), kind.to_string()))
}

fn created_note(created: &[ResourceKey]) -> String {
    if created.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = created.iter().map(ToString::to_string).collect();
        format!(" (stage one created {})", names.join(", "))
    }
}

pub(super) fn action(word: &str, dry_run: bool) -> String {
    if dry_run {
        format!("would be {word}")
    } else {
        word.to_string()
    }
}

/// `3 created, 1 adopted, 0 configured, 5 unchanged, 1 pruned` (and
/// released/kept when there are any); `would be` counts under --dry-run.
fn summary(report: &SyncReport) -> String {
    let count = |a: &str| {
        report
            .resources
            .iter()
            .filter(|r| r.action.ends_with(a))
            .count()
    };
    let mut parts = Vec::new();
    for (word, always) in [
        ("created", true),
        ("adopted", false),
        ("configured", true),
        ("unchanged", true),
        ("pruned", true),
        ("released", false),
        ("kept", false),
    ] {
        let n = count(word);
        if always || n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    let text = parts.join(", ");
    if report.dry_run {
        format!("would be: {text}")
    } else {
        text
    }
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

/// What planning needs besides the objects.
struct PlanContext<'a> {
    cluster: &'a Cluster,
    observed: &'a Observed,
    /// Existing objects this sync takes over (listed, never silent).
    adoptions: &'a BTreeMap<ResourceKey, Adoption>,
    force_conflicts: bool,
    dry_run: bool,
    /// Under --dry-run: the Namespaces and CRDs stage one would create.
    created_namespaces: BTreeSet<String>,
    created_crds: BTreeSet<(String, String)>,
}

/// Dry-run every object (in parallel) and decide what to write.
async fn plan(
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
    let fail = |d: &Desired, message: String| ResourceResult {
        key: d.key.clone(),
        action: "failed".into(),
        message,
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
    let adopt = match (&live, ctx.adoptions.get(&d.key)) {
        (_, Some(a)) => Some(a.clone()),
        (Some(live), None) if ownership::tracking_label(&d.object).is_some() => {
            match owner_of(ownership::tracking_label(&d.object).unwrap_or(""), live) {
                Owner::Ours => None,
                Owner::OtherApp(other) => {
                    return Err(fail(
                        &d,
                        format!(
                            "belongs to app {other}: an object is never taken from another app"
                        ),
                    ))
                }
                Owner::Unowned(a) => {
                    return Err(fail(
                        &d,
                        format!(
                            "{}, not created by this app; --adopt takes it over",
                            describe_adoption(&a)
                        ),
                    ))
                }
            }
        }
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
async fn apply_all(
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
