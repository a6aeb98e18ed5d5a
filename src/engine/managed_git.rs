//! A Flux or Argo CD app's Git, read as a native app's is: its path's
//! commits with the controller's applied revision marked deployed, and its
//! drift, computed by our engine from Git at that revision against live
//! (server-side dry-run, the local normaliser under `--readonly`). Where
//! the manifests cannot be read (`source::origin` says why) the status
//! carries the reason and no drift is claimed.
//!
//! The controller owns these objects: the desired state gets no tracking
//! label of ours, nothing here writes (a dry-run writes nothing), and the
//! dry-run's field manager is ours, so fields the controller set that Git
//! does not name are never shown as drift.

use super::managed::Found;
use super::status::dry_run_drift;
use super::{blocking, Engine, EngineError};
use crate::cluster::{self, Cluster, ClusterError, FIELD_MANAGER};
use crate::config::AppConfig;
use crate::drift;
use crate::manifest::LoadedManifests;
use crate::model::{
    AppId, AppStatus, HistoryReport, LiveObject, ResourceState, ResourceStatus, Revision,
    SyncStatus, Warning,
};
use crate::source::origin::{self, GitOrigin, Namespacing, Origin};
use crate::source::{self, argocd};
use crate::sync::desired::{self, Desired};
use futures::{stream, StreamExt};
use serde_json::{json, Value};

/// The config native code reads a managed app's Git with: nothing in it
/// writes (no auto-sync, no prune), it only names the repository and path.
fn config_of(id: &AppId, o: &GitOrigin) -> AppConfig {
    AppConfig {
        name: id.to_string(),
        // A `file://` repository is read (and a revert written) in place,
        // as a native app's local repository is: no mirror of it.
        repo: match o.url.strip_prefix("file://") {
            Some(path) if path.starts_with('/') => path.to_string(),
            _ => o.url.clone(),
        },
        git_ref: o.git_ref.clone(),
        path: o.path.clone(),
        namespace: match &o.namespacing {
            Namespacing::Force(n) | Namespacing::Default(n) => n.clone(),
            Namespacing::Required => String::new(),
        },
        context: (!id.context.is_empty()).then(|| id.context.clone()),
        auto_sync: false,
        self_heal: false,
        prune: false,
        create_namespace: false,
        allowed_namespaces: vec![],
        allow_cluster_admin: false,
        ignore_differences: vec![],
        max_manifest_size: Default::default(),
        helm: crate::manifest::HelmOptions {
            // Argo CD and Flux name a release after the app.
            release_name: Some(id.name.clone()),
            ..Default::default()
        },
        jsonnet: Default::default(),
    }
}

/// Where an object's namespace comes from, as the controller fills it in;
/// None: the controller refuses it (Flux: "namespace not specified").
fn namespace_of(object: &Value, namespacing: &Namespacing) -> Option<String> {
    let written = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    match (namespacing, written) {
        (Namespacing::Force(n), _) => Some(n.clone()),
        (_, Some(w)) => Some(w.to_string()),
        (Namespacing::Default(n), None) => Some(n.clone()),
        (Namespacing::Required, None) => None,
    }
}

impl Engine {
    /// The controller object of `id`, its Flux source (read once, None for
    /// Argo CD or when it cannot be read) and where its manifests are.
    pub(super) async fn managed_origin(
        &self,
        id: &AppId,
    ) -> Result<(Found, Option<Value>, Origin), EngineError> {
        let found = self.find(id).await?;
        let source = match found.kind.source() {
            crate::model::AppSource::Flux => self.flux_source(&found).await?.map(|(_, o)| o),
            _ => None,
        };
        let origin = origin::origin(found.kind, &found.object, source.as_ref());
        Ok((found, source, origin))
    }

    /// The path's commits with the controller's applied revision marked
    /// deployed (and a gitops-tui rollback pin marked pinned); Argo CD's
    /// `status.history` as the syncs. An app whose Git cannot be read is
    /// an error saying why.
    pub(super) async fn managed_history(&self, id: &AppId) -> Result<HistoryReport, EngineError> {
        let (found, source, origin) = self.managed_origin(id).await?;
        let git = match origin {
            Origin::Git(g) => g,
            Origin::Unreadable(why) => {
                return Err(EngineError::Other(format!(
                    "app {id}: its commits cannot be listed: {why}"
                )))
            }
        };
        let pinned = source.as_ref().and_then(crate::source::flux::pinned);
        // A pin is the ref: the commits listed are the followed branch's.
        let mut listing = config_of(id, &git);
        listing.git_ref = git.listing_ref.clone();
        let (commits, warnings) = self
            .marked_commits(&listing, git.deployed.clone(), pinned)
            .await?;
        let (syncs, syncs_unavailable) = match found.kind.source() {
            crate::model::AppSource::ArgoCd => (Some(argocd::sync_records(&found.object)), None),
            _ => (
                None,
                Some("Flux keeps no history of its syncs (only the last applied revision)".into()),
            ),
        };
        Ok(HistoryReport {
            app: id.clone(),
            commits,
            syncs,
            syncs_unavailable,
            warnings,
        })
    }

    /// `rollback --revert` of a Flux or Argo CD app: the revert commit on
    /// the branch the controller follows (pushed when remote), then the
    /// controller syncs it: Flux resumes from a gitops-tui pin (its ref
    /// restored) or reconciles with its source; Argo CD syncs the new commit.
    pub(super) async fn managed_revert(
        &self,
        id: &AppId,
        revision: &Revision,
        cancel: tokio_util::sync::CancellationToken,
    ) -> Result<(Revision, super::sync::SyncReport), EngineError> {
        let (found, source, origin) = self.managed_origin(id).await?;
        let git = match origin {
            Origin::Git(g) => g,
            Origin::Unreadable(why) => {
                return Err(EngineError::Other(format!(
                    "app {id}: no revert can be written: {why}"
                )))
            }
        };
        let mut app = config_of(id, &git);
        app.git_ref = git.listing_ref.clone();
        let commit = self.revert_commit(&app, revision).await?;
        let opts = super::sync::SyncOptions {
            cancel,
            ..Default::default()
        };
        let report = match found.kind.source() {
            crate::model::AppSource::Flux => {
                if source
                    .as_ref()
                    .and_then(crate::source::flux::pinned)
                    .is_some()
                {
                    self.managed_resume(id).await?;
                    super::managed::report(
                        id,
                        Some(commit.clone()),
                        true,
                        false,
                        format!(
                            "the rollback pin is lifted: the source follows {} again and a reconcile was requested",
                            git.listing_ref.as_deref().unwrap_or("its default branch")
                        ),
                    )
                } else {
                    let opts = super::sync::SyncOptions {
                        with_source: true,
                        ..opts
                    };
                    self.managed_sync(id, &opts).await?
                }
            }
            _ => {
                let opts = super::sync::SyncOptions {
                    revision: Some(commit.to_string()),
                    ..opts
                };
                self.managed_sync(id, &opts).await?
            }
        };
        Ok((commit, report))
    }

    /// Our drift of the app at the controller's applied revision, folded
    /// into the status the controller's fields gave: each object's diff and
    /// state, objects of Git the controller does not list, and the app
    /// OutOfSync when live has drifted from what was applied.
    pub(super) async fn managed_drift(
        &self,
        found: &Found,
        origin: Origin,
        at: Option<&str>,
        status: &mut AppStatus,
    ) -> Result<(), EngineError> {
        let git = match origin {
            Origin::Git(g) => g,
            Origin::Unreadable(why) => {
                status.drift_unavailable = Some(why);
                return Ok(());
            }
        };
        let Some(revision) = at.map(Revision::new).or_else(|| git.compared.clone()) else {
            status.drift_unavailable = Some("the controller has not applied a revision yet".into());
            return Ok(());
        };
        let app = config_of(&status.name, &git);
        // While a gitops-tui rollback pins the source, its artifact is the
        // pin: the head shown is the followed branch's, as for a native app.
        let branch = status.paused_revision.as_ref().and(git.listing_ref.clone());
        let loaded = match self.load_at(&app, &revision, branch).await {
            Ok((commit, head, l)) => {
                status.target_revision = Some(commit);
                if let Some(head) = head {
                    status.head_revision = Some(head);
                }
                l
            }
            Err(EngineError::Source(e)) => {
                status.drift_unavailable = Some(format!(
                    "Git at {} cannot be read: {}",
                    revision.short(),
                    e.reason()
                ));
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let (objects, warnings) = self.prepare_managed(&found.cluster, &git, &loaded).await?;
        status.warnings.extend(loaded.warnings.iter().cloned());
        status.warnings.extend(warnings);
        let cluster = &found.cluster;
        // The controller's listed objects were just read for their health:
        // those are not read again.
        let read: std::collections::HashMap<_, _> = status
            .resources
            .iter()
            .filter_map(|r| Some((r.key.clone(), r.live.clone()?)))
            .collect();
        let states: Vec<Result<ResourceState, EngineError>> = stream::iter(
            objects
                .iter()
                .map(|d| self.drift_of(cluster, d, read.get(&d.key).cloned()))
                .collect::<Vec<_>>(),
        )
        .buffered(super::status::PARALLEL_REQUESTS)
        .collect()
        .await;
        let mut drifted = 0;
        for state in states {
            let state = state?;
            if matches!(
                state.status,
                ResourceStatus::OutOfSync | ResourceStatus::Missing
            ) {
                drifted += 1;
            }
            match status.resources.iter_mut().find(|r| r.key == state.key) {
                Some(listed) => *listed = state,
                None => status.resources.push(state),
            }
        }
        let in_git: std::collections::HashSet<_> = objects.iter().map(|d| &d.key).collect();
        for r in status.resources.iter().filter(|r| !in_git.contains(&r.key)) {
            status.warnings.push(Warning::general(format!(
                "{} is listed by the controller but not in Git at {}: gitops-tui's reading of the path differs from the controller's",
                r.key,
                revision.short()
            )));
        }
        if drifted > 0 {
            status.sync = SyncStatus::OutOfSync;
            status.message = format!(
                "{drifted} object{} drifted from {} · {}",
                if drifted == 1 { "" } else { "s" },
                revision.short(),
                status.message
            );
        }
        Ok(())
    }

    /// The manifests of `app` at `revision` (one trip to a blocking thread).
    async fn load_at(
        &self,
        app: &AppConfig,
        revision: &Revision,
        branch: Option<String>,
    ) -> Result<(Revision, Option<Revision>, LoadedManifests), EngineError> {
        let app = app.clone();
        let base = self.config.base_dir.clone();
        let cache = self.loaded.clone();
        let revision = revision.clone();
        blocking(move || {
            source::fetch(&app, &base)?;
            let repo = source::open(&app, &base)?;
            let commit = source::resolve(&app, &repo, revision.as_str())?;
            let loaded = source::manifests(&app, &repo, commit, &cache)?;
            let head = match branch {
                Some(b) => Some(Revision::new(source::resolve(&app, &repo, &b)?.to_string())),
                None => None,
            };
            Ok::<_, EngineError>((Revision::new(commit.to_string()), head, loaded))
        })
        .await?
    }

    /// The loaded objects as the controller applies them: namespaces as it
    /// fills them in, its labels and annotations, none of ours.
    async fn prepare_managed(
        &self,
        cluster: &Cluster,
        git: &GitOrigin,
        loaded: &LoadedManifests,
    ) -> Result<(Vec<Desired>, Vec<Warning>), EngineError> {
        let mut objects = Vec::with_capacity(loaded.objects.len());
        let mut warnings = Vec::new();
        for m in &loaded.objects {
            if git.top_folder_only && outside_top(&m.source.file, &git.path, loaded) {
                warnings.push(Warning::in_file(
                    &m.source.file,
                    "not compared: Argo CD reads only the top folder of the path (spec.source.directory.recurse is not set)",
                ));
                continue;
            }
            let text = |f: &str| m.object.get(f).and_then(Value::as_str).unwrap_or("");
            let kind = match self
                .kinds
                .resolve(
                    &cluster.client,
                    &cluster.url,
                    text("apiVersion"),
                    text("kind"),
                )
                .await
            {
                Ok(k) => Some(k),
                Err(ClusterError::UnknownKind { .. }) => None,
                Err(e) => return Err(e.into()),
            };
            let mut object = m.object.clone();
            if !object.get("metadata").is_some_and(Value::is_object) {
                object["metadata"] = json!({});
            }
            let namespaced = kind.as_ref().is_none_or(|k| k.namespaced);
            if namespaced {
                let Some(ns) = namespace_of(&object, &git.namespacing) else {
                    warnings.push(Warning::at(
                        &m.source.file,
                        m.source.line,
                        format!(
                            "{}/{} namespace not specified: kustomize-controller refuses it (set spec.targetNamespace or a namespace in Git)",
                            text("kind"),
                            object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("")
                        ),
                    ));
                    continue;
                };
                object["metadata"]["namespace"] = json!(ns);
            } else if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("namespace");
            }
            for (field, pairs) in [("labels", &git.labels), ("annotations", &git.annotations)] {
                if pairs.is_empty() {
                    continue;
                }
                if !object["metadata"].get(field).is_some_and(Value::is_object) {
                    object["metadata"][field] = json!({});
                }
                for (k, v) in pairs {
                    object["metadata"][field][k] = json!(v);
                }
            }
            objects.push(desired::unlabelled(object, kind, Some(m.source.clone())));
        }
        Ok((objects, warnings))
    }

    /// One object's drift against live (`known`: already read, and kept as
    /// read; else read now): Missing when the cluster does not hold it,
    /// else the dry-run's (or the normaliser's) verdict.
    async fn drift_of(
        &self,
        cluster: &Cluster,
        d: &Desired,
        known: Option<LiveObject>,
    ) -> Result<ResourceState, EngineError> {
        let missing = |reason: &str| super::status::missing_state(d, reason);
        let Some(kind) = &d.kind else {
            return Ok(missing("its kind is not served"));
        };
        let (shared, live) = match known {
            Some(shared) => {
                let live = shared.value();
                (shared, live)
            }
            None => match cluster::get_key(cluster, kind, &d.key).await? {
                Some(live) => (LiveObject::new(&live), live),
                None => return Ok(missing("not in the cluster")),
            },
        };
        let drift = if self.readonly {
            drift::compare_local(&d.object, &live, FIELD_MANAGER, &[])
        } else {
            dry_run_drift(
                cluster,
                &d.key,
                &d.object,
                kind,
                &live,
                &[],
                &self.comparisons,
            )
            .await
        };
        Ok(super::status::live_state(d, shared, &live, drift, None))
    }
}

/// Whether `file` lies below the top folder `path` (and outside every
/// kustomize root, which is read whole).
fn outside_top(file: &str, path: &str, loaded: &LoadedManifests) -> bool {
    let rest = if path.is_empty() {
        file
    } else {
        match file.strip_prefix(path).and_then(|r| r.strip_prefix('/')) {
            Some(r) => r,
            None => return false,
        }
    };
    rest.contains('/')
        && !loaded
            .kustomize_roots
            .iter()
            .any(|root| root.as_str() == path)
}
