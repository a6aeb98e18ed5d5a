//! Status and drift of an app, computed at call time from Git and the
//! cluster (never from a cached record).
//!
//! Drift is found by server-side dry-run apply compared with live (as
//! `kubectl diff --server-side` and Flux do), or, under `--readonly` or when
//! the dry-run is refused, by the local normaliser.

use super::desired_state::DesiredState;
use super::observe::{Observed, Read};
use super::{Engine, EngineError};
use crate::cluster::{self, ApplyMode, Cluster, FIELD_MANAGER};
use crate::config::AppConfig;
use crate::drift::{self, IgnoreRule, ResourceDrift};
use crate::health;
use crate::model::Warning;
use crate::model::{
    AppId, AppStatus, Counts, Health, LiveObject, ResourceKey, ResourceState, ResourceStatus,
    SyncStatus, Takeover,
};
use crate::sync::desired::Desired;
use crate::sync::record::AppRecord;
use futures::{stream, StreamExt};
use serde_json::Value;

/// How many requests one app's status or sync has in flight (the cluster
/// layer bounds them again per context and in total, `cluster::stack`).
pub(super) const PARALLEL_REQUESTS: usize = 16;

/// How many app statuses are computed at once in the process.
pub const STATUS_LOADS_AT_ONCE: usize = 64;

pub(super) fn source_of(app: &AppConfig) -> String {
    let path = if app.repo_path().is_empty() {
        "."
    } else {
        app.repo_path()
    };
    match &app.git_ref {
        Some(r) => format!("{}@{r}:{path}", app.repo),
        None => format!("{}:{path}", app.repo),
    }
}

/// A status that could not be computed, with the reason (see
/// [`AppStatus::unknown`]).
pub fn unknown_status(app: &AppConfig, message: String) -> AppStatus {
    AppStatus::unknown(app.id(), source_of(app), message)
}

impl Engine {
    pub async fn status(&self, id: &AppId) -> Result<AppStatus, EngineError> {
        self.status_at(id, None).await
    }

    /// Status compared with `revision` (default: the pin when paused, else
    /// the head), in two passes: every object compared locally, then a
    /// server-side dry-run only for those whose local answer cannot be
    /// trusted (`first_status.rs`). At 1,000 synced apps that is no dry-run
    /// where one per object was sent; the answer is the same, object for
    /// object, as [`Engine::status_single_pass`] (tests/fleet_first_screen.rs).
    pub async fn status_at(
        &self,
        id: &AppId,
        revision: Option<&str>,
    ) -> Result<AppStatus, EngineError> {
        let (status, unsure) = self.status_with(id, revision, Pass::First).await?;
        match self.refinement(id, unsure).await? {
            Some(r) => Ok(self.refine(status, r).await),
            None => Ok(status),
        }
    }

    /// The status with every object through a dry-run: the reference the
    /// two-pass [`Engine::status`] is held equal to.
    pub async fn status_single_pass(&self, id: &AppId) -> Result<AppStatus, EngineError> {
        let (status, _) = self.status_with(id, None, Pass::Whole).await?;
        Ok(status)
    }

    /// [`Engine::status_at`] in one pass (`Whole`), or the first of two
    /// (`First`): then the objects whose local comparison is unsure are
    /// left for [`Engine::refine`] (see `first_status.rs`).
    pub(super) async fn status_with(
        &self,
        id: &AppId,
        revision: Option<&str>,
        pass: Pass,
    ) -> Result<(AppStatus, Vec<Unsure>), EngineError> {
        if !id.is_native() {
            // Flux and Argo CD apps (`managed.rs`): as their controller says.
            return Ok((self.managed_status(id, revision).await?, Vec::new()));
        }
        let app = self.app(id)?.clone();
        // At most STATUS_LOADS_AT_ONCE statuses are computed at once in
        // the process, whoever asks (the TUI's first screen asks for every app).
        let _slot = self
            .status_slots
            .acquire()
            .await
            .map_err(|e| EngineError::Other(format!("status slots closed: {e}")))?;
        let cluster = self.cluster(&app).await?;
        // The record and Git are read at once: the target is the head
        // unless the record says the app is paused, and then Git is read
        // again at the pin (the head's read is wasted only then).
        let records = self.records(&cluster);
        let (record, at_head) = tokio::join!(records.read(&app.name), async {
            match revision {
                None => Some(self.desired(&app, &cluster, None).await),
                Some(_) => None,
            }
        });
        let mut record = record?;
        // The TUI's record watch may already hold a newer one (its first
        // list reloads only the apps that read another version).
        let current = self.live.saw_record(
            &cluster.context,
            &app.name,
            record.resource_version.as_deref(),
        );
        if !current {
            record = records.read(&app.name).await?;
            self.live.saw_record(
                &cluster.context,
                &app.name,
                record.resource_version.as_deref(),
            );
        }
        let target = revision
            .map(str::to_string)
            .or_else(|| record.paused_revision.as_ref().map(ToString::to_string));
        let desired = match (target, at_head) {
            (None, Some(at_head)) => at_head,
            (target, _) => self.desired(&app, &cluster, target.as_deref()).await,
        };
        let desired = match desired {
            Ok(d) => d,
            // Nothing is compared with a source that cannot be used whole:
            // no object shows as Extra because its file could not be read.
            Err(EngineError::Source(e)) => {
                let mut s = unknown_status(&app, e.reason());
                fill_record(&mut s, &record);
                return Ok((s, vec![]));
            }
            Err(e) => return Err(e),
        };
        let (resources, warnings, unsure) = self
            .compare(&app, &cluster, &desired, &record, pass)
            .await?;
        let status = self.status_of(&app, &record, &desired, resources, warnings);
        Ok((status, unsure))
    }

    /// The app's status from its compared resources, with the comparison's
    /// warnings and what a sync would refuse (said before anyone tries).
    pub(super) fn status_of(
        &self,
        app: &AppConfig,
        record: &AppRecord,
        desired: &DesiredState,
        resources: Vec<ResourceState>,
        warnings: Vec<String>,
    ) -> AppStatus {
        let mut status = summarize(app, record, desired, resources);
        status
            .warnings
            .extend(warnings.into_iter().map(Warning::general));
        status.warnings.extend(
            crate::sync::boundary::check(app, &self.config.record_namespace, &desired.objects)
                .into_iter()
                .map(|v| v.warning()),
        );
        status
    }

    /// Per-resource drift of `desired` against the cluster, plus Extra
    /// objects, and warnings about what could not be looked at.
    pub(super) async fn compare(
        &self,
        app: &AppConfig,
        cluster: &Cluster,
        desired: &DesiredState,
        record: &AppRecord,
        pass: Pass,
    ) -> Result<(Vec<ResourceState>, Vec<String>, Vec<Unsure>), EngineError> {
        let rules = &app.ignore_differences;
        let drift = match (self.readonly, pass) {
            (true, _) => Drift::Local,
            (false, Pass::Whole) => Drift::DryRun,
            (false, Pass::First) => Drift::LocalFirst,
        };
        let observed = self
            .observe(app, cluster, desired, record, Read::Cached)
            .await?;
        let compared: Vec<Result<(ResourceState, Option<Value>), EngineError>> =
            // Futures built up front: a closure inside the stream would make
            // this future not Send for every lifetime, which tokio::spawn needs.
            stream::iter(desired.objects.iter().map(|d| compare_one(cluster, &observed, d, rules, drift, &self.comparisons)).collect::<Vec<_>>())
                .buffered(PARALLEL_REQUESTS)
                .collect()
                .await;
        let mut out = Vec::with_capacity(compared.len());
        let mut unsure = Vec::new();
        for (index, (c, d)) in compared.into_iter().zip(&desired.objects).enumerate() {
            let (state, unsure_live) = c?;
            if let (Some(kind), Some(live)) = (&d.kind, unsure_live) {
                unsure.push(Unsure {
                    index,
                    key: d.key.clone(),
                    desired: d.object.clone(),
                    kind: kind.clone(),
                    live,
                });
            }
            out.push(state);
        }
        let shared: Vec<LiveObject> = observed
            .extras
            .iter()
            .map(|(key, live)| observed.shared(key, live))
            .collect();
        let Observed {
            extras, warnings, ..
        } = observed;
        for ((key, live), shared) in extras.into_iter().zip(shared) {
            let (h, reason) = health::health(&live);
            let api_version = live
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            out.push(ResourceState {
                key,
                api_version,
                status: ResourceStatus::Extra,
                health: h,
                health_reason: reason,
                diff: drift::extra(&live).diff,
                takeover: None,
                live: Some(shared),
            });
        }
        Ok((out, warnings, unsure))
    }
}

/// One pass or the first of two (see [`Engine::status_with`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pass {
    Whole,
    First,
}

/// How an object's drift is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drift {
    /// A server-side dry-run (cached per both sides' versions).
    DryRun,
    /// The local normaliser only (`--readonly`).
    Local,
    /// A cached dry-run answer, else the local normaliser, and the object
    /// marked unsure unless the local answer can be trusted.
    LocalFirst,
}

/// An object whose first-pass comparison awaits its dry-run: where it is
/// in the status's resources, and both sides.
pub struct Unsure {
    pub(super) index: usize,
    pub(super) key: ResourceKey,
    pub(super) desired: Value,
    pub(super) kind: cluster::Kind,
    pub(super) live: Value,
}

async fn compare_one(
    cluster: &Cluster,
    observed: &Observed,
    d: &Desired,
    rules: &[IgnoreRule],
    how: Drift,
    cache: &ComparisonCache,
) -> Result<(ResourceState, Option<Value>), EngineError> {
    let missing = |reason: &str| missing_state(d, reason);
    let Some(kind) = &d.kind else {
        return Ok((missing("its kind is not served yet"), None));
    };
    let Some(live) = observed.live_of(cluster, d, kind).await? else {
        return Ok((missing("not in the cluster"), None));
    };
    let (drift, unsure) = match how {
        Drift::DryRun => (
            dry_run_drift(cluster, &d.key, &d.object, kind, &live, rules, cache).await,
            false,
        ),
        Drift::Local => (
            drift::compare_local(&d.object, &live, FIELD_MANAGER, rules),
            false,
        ),
        Drift::LocalFirst => match cache.get(&cache_key(cluster, &d.key, &d.object, &live)) {
            Some(hit) => (hit, false),
            None => {
                let local = drift::compare_local(&d.object, &live, FIELD_MANAGER, rules);
                let sure = super::first_status::trusted(&local, &live);
                (local, !sure)
            }
        },
    };
    let state = state_of(d, observed.shared(&d.key, &live), &live, drift);
    // The second pass dry-runs it against this very object.
    Ok((state, unsure.then_some(live)))
}

/// The drift of `desired` against `live` by a server-side dry-run, or from
/// the cache while neither side changed; the local normaliser when the
/// dry-run is refused (RBAC, validation).
pub(super) async fn dry_run_drift(
    cluster: &Cluster,
    key: &ResourceKey,
    desired: &Value,
    kind: &cluster::Kind,
    live: &Value,
    rules: &[IgnoreRule],
    cache: &ComparisonCache,
) -> ResourceDrift {
    let key = cache_key(cluster, key, desired, live);
    if let Some(hit) = cache.get(&key) {
        return hit;
    }
    match cluster::apply(
        &cluster.client,
        &cluster.url,
        kind,
        desired,
        ApplyMode::DryRun,
        true,
    )
    .await
    {
        Ok(result) => {
            let drift = drift::compare_dry_run(desired, live, &result, rules);
            cache.put(key, drift.clone());
            drift
        }
        Err(_) => drift::compare_local(desired, live, FIELD_MANAGER, rules),
    }
}

fn cache_key(cluster: &Cluster, key: &ResourceKey, desired: &Value, live: &Value) -> ComparisonKey {
    let rv = live
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    (cluster.url.clone(), key.clone(), content_hash(desired), rv)
}

/// A desired object the cluster does not hold (or cannot: `reason`).
pub(super) fn missing_state(d: &Desired, reason: &str) -> ResourceState {
    ResourceState {
        key: d.key.clone(),
        api_version: d.api_version.clone(),
        status: ResourceStatus::Missing,
        health: Health::Missing,
        health_reason: reason.to_string(),
        diff: drift::missing(&d.object).diff,
        takeover: None,
        live: None,
    }
}

/// `shared` is `live` as the status keeps it (see `Observed::shared`).
pub(super) fn state_of(
    d: &Desired,
    shared: LiveObject,
    live: &Value,
    drift: ResourceDrift,
) -> ResourceState {
    let takeover = takeover_of(d, live);
    live_state(d, shared, live, drift, takeover)
}

/// An object found live, with its drift, health and what a sync would take
/// over (`shared` is `live` as the status keeps it).
pub(super) fn live_state(
    d: &Desired,
    shared: LiveObject,
    live: &Value,
    drift: ResourceDrift,
    takeover: Option<Takeover>,
) -> ResourceState {
    let (h, reason) = health::health(live);
    ResourceState {
        key: d.key.clone(),
        api_version: d.api_version.clone(),
        status: drift.status,
        health: h,
        health_reason: reason,
        diff: drift.diff,
        takeover,
        live: Some(shared),
    }
}

/// What a sync would have to take over to write `d` (None: it is the app's).
fn takeover_of(d: &Desired, live: &Value) -> Option<Takeover> {
    let app = super::ownership::tracking_label(&d.object)?;
    match super::ownership::owner_of(app, live) {
        super::ownership::Owner::Ours => None,
        super::ownership::Owner::OtherApp(app) => Some(Takeover::OtherApp {
            app: AppId::native(app),
        }),
        super::ownership::Owner::Unowned(a) => Some(Takeover::Adopt {
            managers: a.managers,
        }),
    }
}

fn fill_record(s: &mut AppStatus, record: &AppRecord) {
    s.suspended = record.suspended;
    s.suspension = record.suspension.clone().filter(|_| record.suspended);
    s.paused_revision = record.paused_revision.clone();
    s.deployed_revision = record.deployed_revision.clone();
    s.last_sync = record.history.last().map(|h| h.time.clone());
    s.lease = super::lease::held(record);
}

pub(super) fn summarize(
    app: &AppConfig,
    record: &AppRecord,
    desired: &DesiredState,
    resources: Vec<ResourceState>,
) -> AppStatus {
    let Tally {
        counts,
        sync,
        health,
        message,
    } = tally(&resources);
    let mut s = AppStatus {
        name: app.id(),
        source: source_of(app),
        sync,
        health,
        suspended: false,
        suspension: None,
        paused_revision: None,
        deployed_revision: None,
        head_revision: Some(desired.head.clone()),
        last_sync: None,
        target_revision: Some(desired.revision.clone()),
        counts,
        message,
        warnings: desired.warnings.clone(),
        lease: None,
        drift_unavailable: None,
        resources,
        controller: None,
    };
    fill_record(&mut s, record);
    s
}

/// What an app's resources add up to.
pub(super) struct Tally {
    pub counts: Counts,
    pub sync: SyncStatus,
    pub health: Health,
    pub message: String,
}

pub(super) fn tally(resources: &[ResourceState]) -> Tally {
    let mut counts = Counts::default();
    for r in resources {
        match r.status {
            ResourceStatus::Synced => counts.synced += 1,
            ResourceStatus::OutOfSync => counts.out_of_sync += 1,
            ResourceStatus::Missing => counts.missing += 1,
            ResourceStatus::Extra => counts.extra += 1,
        }
    }
    let in_sync = counts.out_of_sync == 0 && counts.missing == 0 && counts.extra == 0;
    let health = health::app_health(
        resources
            .iter()
            .filter(|r| r.status != ResourceStatus::Extra)
            .map(|r| r.health),
    );
    let message = if in_sync {
        format!(
            "{} resource{} in sync",
            counts.synced,
            if counts.synced == 1 { "" } else { "s" }
        )
    } else {
        format!(
            "{} out of sync, {} missing, {} extra",
            counts.out_of_sync, counts.missing, counts.extra
        )
    };
    Tally {
        counts,
        sync: if in_sync {
            SyncStatus::Synced
        } else {
            SyncStatus::OutOfSync
        },
        health,
        message,
    }
}

/// Dry-run comparisons per (cluster, object, desired content, live
/// resourceVersion): while neither side changes, the server's answer cannot,
/// and the comparison is a pure function of the two sides and the answer
/// (the app's ignore rules are fixed for an engine's life). So a refresh of
/// an unchanged app sends no PATCH and compares nothing again.
#[derive(Default)]
pub struct ComparisonCache(
    std::sync::Mutex<std::collections::HashMap<ComparisonKey, ResourceDrift>>,
);

type ComparisonKey = (String, ResourceKey, u64, String);

/// Entries kept before the cache starts over (about the objects of a few large apps).
const COMPARISON_CACHE_LIMIT: usize = 20_000;

impl ComparisonCache {
    fn get(&self, key: &ComparisonKey) -> Option<ResourceDrift> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    fn put(&self, key: ComparisonKey, value: ResourceDrift) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= COMPARISON_CACHE_LIMIT {
            map.clear();
        }
        map.insert(key, value);
    }
}

fn content_hash(v: &Value) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.to_string().hash(&mut h);
    h.finish()
}
