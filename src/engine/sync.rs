//! Sync in two stages, like Flux: first Namespaces and CRDs (dry-run, then
//! apply), then everything else dry-run with `dryRun=All` and applied only if
//! every dry-run passed, in Argo CD's kind order, by server-side apply as
//! field manager `gitops-tui`. Objects whose dry-run equals live are not
//! written at all, so a sync that changes nothing writes nothing.
//!
//! Before anything: the app's boundaries (`sync::boundary`) and whose each
//! existing object is (`ownership`); after: prune (`prune`). Planning and
//! applying a stage is `plan`.

use super::desired_state::DesiredState;
use super::interrupted::{interrupted, inventory_after_partial, NOT_APPLIED};
use super::lease::LEASE_TTL;
use super::observe::{Observed, Read};
use super::ownership::{self, owner_of, Owner};
use super::plan::{apply_all, plan, split, PlanContext};
use super::{now_rfc3339, who, Engine, EngineError};
use crate::cluster::Cluster;
use crate::config::AppConfig;
use crate::model::ResourceKey;
use crate::model::{AppId, Revision, SyncRecord, SyncResult};
use crate::sync::boundary;
use crate::sync::desired::{self, apply_order, Desired};
use crate::sync::record::{Adoption, InventoryEntry};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// Apply this revision spec (a sha, tag or branch, resolved by Git)
    /// instead of the head (or the rollback pin).
    pub revision: Option<String>,
    /// Prune even when the app's config does not.
    pub prune: bool,
    /// Compute everything, write nothing.
    pub dry_run: bool,
    pub force_conflicts: bool,
    /// Take over existing objects this app did not create (never another
    /// app's): without it a sync that would adopt is refused.
    pub adopt: bool,
    /// Prune deletes adopted objects too, instead of releasing them.
    pub prune_adopted: bool,
    /// Cancelled by SIGINT/SIGTERM, the TUI's cancel key or quit: the sync
    /// stops after the object in flight, records itself as Interrupted and
    /// releases the lease.
    pub cancel: CancellationToken,
    /// A Flux app: reconcile its source first (`flux reconcile --with-source`).
    pub with_source: bool,
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
    pub app: AppId,
    pub revision: Revision,
    pub succeeded: bool,
    pub dry_run: bool,
    pub message: String,
    /// What stage one created, named even when stage two then failed.
    pub stage_one_created: Vec<ResourceKey>,
    pub resources: Vec<ResourceResult>,
    /// What the user should know and nothing else says: every document or
    /// file of the app not loaded, kinds that could not be listed.
    pub warnings: Vec<crate::model::Warning>,
}

impl Engine {
    pub async fn sync(&self, id: &AppId, opts: &SyncOptions) -> Result<SyncReport, EngineError> {
        self.refuse_if_readonly("sync")?;
        if !id.is_native() {
            return self.managed_sync(id, opts).await;
        }
        let app = self.app(id)?.clone();
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
            .or_else(|| record.paused_revision.as_ref().map(ToString::to_string));
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
            app: app.id(),
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
                .map(crate::model::Warning::general),
        );

        // Whose each existing object is, before anything is written: nothing
        // is applied when one belongs to another app, or when one would be
        // adopted without consent.
        observed.fetch_unlisted(&cluster, &desired.objects).await?;
        let owners = owners(&app.name, &observed, &desired.objects);
        let adoptions = match ownership::gate(&app.name, owners, opts.adopt, opts.dry_run) {
            Ok(adoptions) => adoptions,
            Err(refused) => {
                report.message = refused.message;
                report.resources = refused.resources;
                self.record_result(&app, &cluster, &report, None).await?;
                return Ok(report);
            }
        };
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
            let inventory =
                inventory_after_partial(&desired, &record.inventory, &adoptions, &report);
            self.record_result(&app, &cluster, &report, Some(inventory))
                .await?;
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
                inventory_after_partial(&desired, &record.inventory, &adoptions, &report);
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
                .prune(&app, &cluster, extras, &record.inventory, opts)
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
                inv
            } else {
                // What it did write stays known, adoptions included.
                inventory_after_partial(&desired, &record.inventory, &adoptions, &report)
            };
            let inventory = Some(inventory);
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
            key: ResourceKey::of(&object),
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
