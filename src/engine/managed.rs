//! Apps of Flux and Argo CD in the engine: found per context by listing the
//! controllers' kinds the cluster serves, read into the same status native
//! apps have, and steered by the writes their own CLIs make. The verbs
//! (`status`, `sync`, `suspend`, `resume`, `rollback`) send a managed app
//! here at their first line, so the CLI, the reducer and the panes never ask
//! which source an app has.
//!
//! Every write is a merge patch or a preconditioned update, never repeated
//! blindly: an Argo CD operation is written again only after a 409, on the
//! object read anew, as Argo CD's own `SetAppOperation` does.

use super::sync::{SyncOptions, SyncReport};
use super::{Engine, EngineError};
use crate::cluster::{self, Cluster, ClusterError, Kind};
use crate::health;
use crate::model::{AppId, AppSource, AppStatus, Health, ResourceState, ResourceStatus, Revision};
use crate::source::argocd;
use crate::source::controllers::{self, ControllerKind, ListedResource};
use crate::source::flux::{self, FluxPatch};
use crate::sync::record::AppRecord;
use futures::{stream, StreamExt};
use serde_json::Value;
use std::time::Duration;

/// A controller object found for an app.
pub(super) struct Found {
    pub(super) cluster: Cluster,
    pub(super) kind: ControllerKind,
    pub(super) api: Kind,
    pub(super) object: Value,
}

/// How often a wait for a controller reads the object again.
const POLL: Duration = Duration::from_millis(250);

/// RFC 3339 with nanoseconds, as `flux reconcile` stamps its request.
pub(super) fn now_nanos() -> String {
    humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string()
}

impl Engine {
    /// The contexts Flux and Argo CD apps are looked for in: the config's
    /// `contexts`, else every kubeconfig context under `--all-contexts`,
    /// else the current one.
    pub(super) fn managed_contexts(&self) -> Result<Vec<Option<String>>, EngineError> {
        if !self.config.contexts.is_empty() {
            return Ok(self.config.contexts.iter().cloned().map(Some).collect());
        }
        if self.all_contexts {
            return Ok(self.connector.contexts()?.into_iter().map(Some).collect());
        }
        Ok(vec![None])
    }

    /// Look for Flux and Argo CD apps in every context of this run; from
    /// then on [`Engine::apps`] lists them. A context that cannot be read
    /// is said in the returned lines; its apps are left out.
    pub async fn discover(&self) -> Vec<String> {
        // With no kubeconfig at all there is nothing to look in, and nothing
        // worth a warning: native apps' rows already say why they cannot be
        // read, and a first run says where to start.
        if !self.connector.configured() {
            return Vec::new();
        }
        let mut found = Vec::new();
        let mut problems = Vec::new();
        let contexts = match self.managed_contexts() {
            Ok(c) => c,
            Err(e) => return vec![e.to_string()],
        };
        let current = self.connector.effective_context(None).ok();
        for context in contexts {
            let cluster = match self.connector.cluster(context.as_deref()).await {
                Ok(c) => c,
                Err(e) => {
                    problems.push(format!("Flux and Argo CD apps not looked for: {e}"));
                    continue;
                }
            };
            // The current context's apps carry no context in their address.
            let label = if Some(&cluster.context) == current.as_ref() {
                String::new()
            } else {
                cluster.context.clone()
            };
            for kind in ControllerKind::APPS {
                let api = match self.controller_kind(&cluster, kind).await {
                    Ok(Some(api)) => api,
                    Ok(None) => continue,
                    Err(e) => {
                        problems.push(e.to_string());
                        continue;
                    }
                };
                match cluster::list_all(&cluster.client, &cluster.url, &api, None).await {
                    Ok(items) => {
                        found.extend(items.iter().map(|o| controllers::app_id(kind, &label, o)))
                    }
                    Err(e) => problems.push(format!("{}: {e}", cluster.context)),
                }
            }
        }
        found.sort();
        found.dedup();
        *self.managed.lock().unwrap_or_else(|e| e.into_inner()) = found;
        problems
    }

    /// The Flux and Argo CD apps the last [`Engine::discover`] found.
    pub(super) fn managed_apps(&self) -> Vec<AppId> {
        self.managed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The REST resource of a controller kind, None when not served.
    pub(super) async fn controller_kind(
        &self,
        cluster: &Cluster,
        kind: ControllerKind,
    ) -> Result<Option<Kind>, EngineError> {
        self.served_kind(cluster, kind.api_version(), kind.kind())
            .await
    }

    pub(super) async fn find(&self, id: &AppId) -> Result<Found, EngineError> {
        let context = (!id.context.is_empty()).then_some(id.context.as_str());
        let cluster = self.connector.cluster(context).await?;
        for kind in ControllerKind::apps_of(id.source) {
            let Some(api) = self.controller_kind(&cluster, kind).await? else {
                continue;
            };
            if let Some(object) = cluster::get(
                &cluster.client,
                &cluster.url,
                &api,
                Some(&id.namespace),
                &id.name,
            )
            .await?
            {
                return Ok(Found {
                    cluster,
                    kind,
                    api,
                    object,
                });
            }
        }
        Err(EngineError::UnknownManaged(id.clone()))
    }

    /// The Flux source of a Kustomization or HelmRelease (None: not found
    /// or not a kind gitops-tui reads).
    pub(super) async fn flux_source(
        &self,
        app: &Found,
    ) -> Result<Option<(Kind, Value)>, EngineError> {
        let Some((kind, namespace, name)) = flux::source_ref(&app.object) else {
            return Ok(None);
        };
        let Some(api) = self.controller_kind(&app.cluster, kind).await? else {
            return Ok(None);
        };
        let c = &app.cluster;
        Ok(
            cluster::get(&c.client, &c.url, &api, Some(&namespace), &name)
                .await?
                .map(|o| (api, o)),
        )
    }

    /// The controller's status with our drift at `revision` (default: the
    /// revision the controller compares with).
    pub(super) async fn managed_status(
        &self,
        id: &AppId,
        revision: Option<&str>,
    ) -> Result<AppStatus, EngineError> {
        let (app, source, origin) = self.managed_origin(id).await?;
        let (mut status, listed) =
            controllers::status(app.kind, id.clone(), &app.object, source.as_ref());
        let resources: Vec<Result<ResourceState, EngineError>> = stream::iter(
            listed
                .into_iter()
                .map(|r| self.live_state(&app.cluster, r))
                .collect::<Vec<_>>(),
        )
        .buffered(super::status::PARALLEL_REQUESTS)
        .collect()
        .await;
        status.resources = resources.into_iter().collect::<Result<_, _>>()?;
        self.managed_drift(&app, origin, revision, &mut status)
            .await?;
        status.counts = Default::default();
        for r in &status.resources {
            match r.status {
                ResourceStatus::Synced => status.counts.synced += 1,
                ResourceStatus::OutOfSync => status.counts.out_of_sync += 1,
                ResourceStatus::Missing => status.counts.missing += 1,
                ResourceStatus::Extra => status.counts.extra += 1,
            }
        }
        Ok(status)
    }

    /// One listed resource as the resources pane shows it: its health from
    /// our own read of it, Missing when the cluster does not hold it.
    async fn live_state(
        &self,
        cluster: &Cluster,
        r: ListedResource,
    ) -> Result<ResourceState, EngineError> {
        let mut state = ResourceState {
            key: r.key.clone(),
            api_version: r.api_version.clone(),
            status: ResourceStatus::Missing,
            health: Health::Missing,
            health_reason: "not in the cluster".into(),
            diff: String::new(),
            takeover: None,
            live: None,
        };
        let kind = match self
            .kinds
            .resolve(&cluster.client, &cluster.url, &r.api_version, &r.key.kind)
            .await
        {
            Ok(k) => k,
            Err(ClusterError::UnknownKind { .. }) => {
                state.health_reason = "its kind is not served".into();
                return Ok(state);
            }
            Err(e) => return Err(e.into()),
        };
        let live = cluster::get_key(cluster, &kind, &r.key).await?;
        if let Some(live) = live {
            let (h, reason) = health::health(&live);
            state.status = r.status;
            state.health = h;
            state.health_reason = reason;
            state.live = Some(live.into());
        }
        Ok(state)
    }

    pub(super) async fn patch(
        &self,
        app: &Found,
        api: &Kind,
        obj: &Value,
        body: &Value,
    ) -> Result<Value, EngineError> {
        let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str);
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        Ok(
            cluster::merge_patch(&app.cluster.client, &app.cluster.url, api, ns, name, body)
                .await?,
        )
    }

    /// Flux: reconcile (the source first with `with_source`) and wait for
    /// the controller to handle the request. Argo CD: write a sync operation.
    pub(super) async fn managed_sync(
        &self,
        id: &AppId,
        opts: &SyncOptions,
    ) -> Result<SyncReport, EngineError> {
        let app = self.find(id).await?;
        match app.kind.source() {
            AppSource::ArgoCd => self.argo_operation(id, app, None, opts).await,
            _ => self.flux_reconcile(id, &app, opts).await,
        }
    }

    async fn flux_reconcile(
        &self,
        id: &AppId,
        app: &Found,
        opts: &SyncOptions,
    ) -> Result<SyncReport, EngineError> {
        if flux::is_suspended(&app.object) {
            return Err(EngineError::Other(format!(
                "app {id} is suspended: it is not reconciled; resume it (which reconciles it) first"
            )));
        }
        let at = now_nanos();
        let patch = FluxPatch::RequestReconcile { at: at.clone() };
        let mut steps = Vec::new();
        if opts.with_source {
            if let Some((api, source)) = self.flux_source(app).await? {
                steps.push(format!("{} {}", source_name(&source), patch.describe()));
                if !opts.dry_run {
                    self.patch(app, &api, &source, &patch.body()).await?;
                    self.wait_handled(app, &api, &source, &at).await?;
                }
            }
        }
        steps.push(format!("{} {}", app.kind.kind(), patch.describe()));
        if opts.dry_run {
            return Ok(report(
                id,
                None,
                true,
                true,
                format!("would {}", steps.join(", then ")),
            ));
        }
        self.patch(app, &app.api, &app.object, &patch.body())
            .await?;
        let done = self.wait_handled(app, &app.api, &app.object, &at).await?;
        let ready = controllers::condition(&done, "Ready");
        let text = |f: &str| {
            ready
                .and_then(|c| c.get(f))
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        let applied = done
            .pointer("/status/lastAppliedRevision")
            .and_then(Value::as_str)
            .unwrap_or("");
        let ok = text("status") == "True";
        let message = if ok {
            format!("reconciled: {}", text("message"))
        } else {
            format!("reconcile failed: {}", text("message"))
        };
        Ok(report(id, flux::commit_of(applied), ok, false, message))
    }

    /// Read `obj` until its `lastHandledReconcileAt` is `at` (the
    /// controller took the request), within the cluster deadline.
    pub(super) async fn wait_handled(
        &self,
        app: &Found,
        api: &Kind,
        obj: &Value,
        at: &str,
    ) -> Result<Value, EngineError> {
        let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str);
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let deadline = tokio::time::Instant::now() + self.config.cluster.deadline;
        loop {
            let c = &app.cluster;
            if let Some(now) = cluster::get(&c.client, &c.url, api, ns, name).await? {
                let handled = now
                    .pointer("/status/lastHandledReconcileAt")
                    .and_then(Value::as_str);
                if handled == Some(at) {
                    return Ok(now);
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(EngineError::Other(format!(
                    "{} {}: the controller did not handle the reconcile request of {at} within {} (is it running?)",
                    api.resource.kind,
                    name,
                    humantime::format_duration(self.config.cluster.deadline)
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    pub(super) async fn managed_suspend(&self, id: &AppId) -> Result<AppRecord, EngineError> {
        let app = self.find(id).await?;
        match app.kind.source() {
            AppSource::ArgoCd => self.argo_auto_sync(id, &app, false).await?,
            _ => {
                self.patch(&app, &app.api, &app.object, &FluxPatch::Suspend.body())
                    .await?;
            }
        }
        Ok(AppRecord {
            suspended: true,
            ..Default::default()
        })
    }

    pub(super) async fn managed_resume(
        &self,
        id: &AppId,
    ) -> Result<Option<SyncReport>, EngineError> {
        let app = self.find(id).await?;
        if app.kind.source() == AppSource::ArgoCd {
            self.argo_auto_sync(id, &app, true).await?;
            return Ok(None);
        }
        if let Some((api, source)) = self.flux_source(&app).await? {
            if flux::pinned(&source).is_some() {
                let remembered = source
                    .pointer("/metadata/annotations")
                    .and_then(|a| a.get(flux::PINNED_FROM))
                    .and_then(Value::as_str)
                    .unwrap_or("null");
                let previous: Value = serde_json::from_str(remembered).map_err(|e| {
                    EngineError::Other(format!(
                        "{}: annotation {} is not JSON ({e}): the ref to restore is unknown, nothing was changed",
                        source_name(&source),
                        flux::PINNED_FROM
                    ))
                })?;
                let current = source.pointer("/spec/ref").cloned().unwrap_or(Value::Null);
                let restore = FluxPatch::Restore { current, previous };
                self.patch(&app, &api, &source, &restore.body()).await?;
                // The source moves back to its ref now, not at its interval.
                let at = now_nanos();
                self.patch(
                    &app,
                    &api,
                    &source,
                    &FluxPatch::RequestReconcile { at }.body(),
                )
                .await?;
            }
        }
        if flux::is_suspended(&app.object) {
            self.patch(&app, &app.api, &app.object, &FluxPatch::Resume.body())
                .await?;
        }
        let at = now_nanos();
        self.patch(
            &app,
            &app.api,
            &app.object,
            &FluxPatch::RequestReconcile { at }.body(),
        )
        .await?;
        Ok(None)
    }

    /// The revision a rollback of a managed app goes to: an Argo CD history
    /// entry (by id or revision; `Previous` is the one before the last), a
    /// Flux commit (a full sha: Flux keeps no history to pick from).
    pub(super) async fn managed_rollback_revision(
        &self,
        id: &AppId,
        target: &super::RollbackTarget,
    ) -> Result<Revision, EngineError> {
        let app = self.find(id).await?;
        let entry_revision =
            |e: &Value| e.get("revision").and_then(Value::as_str).map(Revision::new);
        match (app.kind.source(), target) {
            (AppSource::ArgoCd, super::RollbackTarget::Revision(spec)) => {
                argocd::history_entry(&app.object, spec)
                    .and_then(entry_revision)
                    .ok_or_else(|| EngineError::Other(format!("app {id}: no history entry {spec}")))
            }
            (AppSource::ArgoCd, super::RollbackTarget::Previous) => app
                .object
                .pointer("/status/history")
                .and_then(Value::as_array)
                .and_then(|h| h.len().checked_sub(2).and_then(|i| h.get(i)))
                .and_then(entry_revision)
                .ok_or_else(|| {
                    EngineError::Other(format!(
                        "app {id}: its history has no entry before the last"
                    ))
                }),
            (_, super::RollbackTarget::Revision(spec)) => flux::commit_of(spec).ok_or_else(|| {
                EngineError::Other(format!(
                    "app {id}: a Flux rollback needs a full commit sha, not {spec:?}"
                ))
            }),
            (_, super::RollbackTarget::Previous) => Err(EngineError::Other(format!(
                "app {id}: Flux keeps no history of applied revisions: name the commit with --to"
            ))),
        }
    }

    pub(super) async fn managed_rollback(
        &self,
        id: &AppId,
        revision: &Revision,
        opts: &SyncOptions,
    ) -> Result<SyncReport, EngineError> {
        let app = self.find(id).await?;
        if app.kind.source() == AppSource::ArgoCd {
            let entry = argocd::history_entry(&app.object, revision)
                .cloned()
                .ok_or_else(|| {
                    EngineError::Other(format!(
                        "app {id}: no history entry at {}",
                        revision.short()
                    ))
                })?;
            if argocd::auto_sync_enabled(&app.object) {
                self.notice(&format!(
                    "app {id}: auto-sync disabled first (Argo CD refuses a rollback while it is on); resume turns it back on"
                ));
                self.argo_auto_sync(id, &app, false).await?;
            }
            let app = self.find(id).await?;
            return self.argo_operation(id, app, Some(entry), opts).await;
        }
        self.flux_rollback(id, &app, revision, opts).await
    }
}

pub(super) fn source_name(o: &Value) -> String {
    let text = |p: &str| o.pointer(p).and_then(Value::as_str).unwrap_or("");
    format!(
        "{} {}/{}",
        text("/kind"),
        text("/metadata/namespace"),
        text("/metadata/name")
    )
}

pub(super) fn report(
    id: &AppId,
    revision: Option<Revision>,
    succeeded: bool,
    dry_run: bool,
    message: String,
) -> SyncReport {
    SyncReport {
        app: id.clone(),
        revision: revision.unwrap_or_default(),
        succeeded,
        dry_run,
        message,
        stage_one_created: vec![],
        resources: vec![],
        warnings: vec![],
    }
}
