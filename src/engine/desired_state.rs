//! What Git says an app should be at a revision, resolved against the
//! cluster's kinds, with every warning of the loader. A source that cannot
//! be used whole (invalid, unreadable, unrenderable) is an error here: no
//! comparison or sync goes on with part of an app.

use super::sync::{SyncOptions, SyncReport};
use super::{blocking, Engine, EngineError};
use crate::cluster::{Cluster, ClusterError};
use crate::config::AppConfig;
use crate::manifest::{ManifestError, ManifestErrors, Warning};
use crate::model::{ResourceKey, Revision};
use crate::source::{self, SourceError};
use crate::sync::boundary;
use crate::sync::desired::{self, Desired};

pub struct DesiredState {
    /// The commit these objects come from.
    pub revision: Revision,
    /// The app's ref head now.
    pub head: Revision,
    pub objects: Vec<Desired>,
    /// Every document or file not loaded, with its reason.
    pub warnings: Vec<Warning>,
    /// SOPS-encrypted objects: never applied, never pruned.
    pub sops: Vec<ResourceKey>,
}

impl Engine {
    /// Resolve the app's head, and `revision` (or the head) to a commit.
    pub(super) async fn revisions(
        &self,
        app: &AppConfig,
        revision: Option<&str>,
    ) -> Result<(Revision, Revision), EngineError> {
        let app = app.clone();
        let base = self.config.base_dir.clone();
        let revision = revision.map(str::to_string);
        blocking(move || {
            source::fetch(&app, &base)?;
            let repo = source::open(&app, &base)?;
            let head = source::head(&app, &repo)?;
            let target = match revision {
                Some(r) => source::resolve(&app, &repo, &r)?,
                None => head,
            };
            Ok::<_, EngineError>((
                Revision::new(head.to_string()),
                Revision::new(target.to_string()),
            ))
        })
        .await?
    }

    /// The objects of `revision` (default: the head), prepared for `cluster`.
    pub(super) async fn desired(
        &self,
        app: &AppConfig,
        cluster: &Cluster,
        revision: Option<&str>,
    ) -> Result<DesiredState, EngineError> {
        // One trip to a blocking thread: fetch, resolve and read the manifests.
        let app_owned = app.clone();
        let base = self.config.base_dir.clone();
        let revision = revision.map(str::to_string);
        let cache = self.loaded.clone();
        let (head, target, loaded) = blocking(move || {
            source::fetch(&app_owned, &base)?;
            let repo = source::open(&app_owned, &base)?;
            let head = source::head(&app_owned, &repo)?;
            let target = match revision {
                Some(r) => source::resolve(&app_owned, &repo, &r)?,
                None => head,
            };
            let loaded = source::manifests(&app_owned, &repo, target, &cache)?;
            Ok::<_, EngineError>((
                Revision::new(head.to_string()),
                Revision::new(target.to_string()),
                loaded,
            ))
        })
        .await??;
        self.prepare_desired(app, cluster, head, target, &loaded)
            .await
    }

    /// `loaded` (from a commit or a work tree) prepared for `cluster`.
    pub(super) async fn prepare_desired(
        &self,
        app: &AppConfig,
        cluster: &Cluster,
        head: Revision,
        target: Revision,
        loaded: &crate::manifest::LoadedManifests,
    ) -> Result<DesiredState, EngineError> {
        let mut objects = Vec::with_capacity(loaded.objects.len());
        for m in &loaded.objects {
            let api_version = m
                .object
                .get("apiVersion")
                .and_then(|v| v.as_str())
                .unwrap_or("");
            let kind_name = m.object.get("kind").and_then(|v| v.as_str()).unwrap_or("");
            let kind = match self
                .kinds
                .resolve(&cluster.client, &cluster.url, api_version, kind_name)
                .await
            {
                Ok(k) => Some(k),
                Err(ClusterError::UnknownKind { .. }) => None,
                Err(e) => return Err(e.into()),
            };
            objects.push(desired::prepare(m, kind, &app.name, &app.namespace));
        }
        duplicates_on_resolved_namespaces(app, &objects)?;
        let sops = loaded
            .sops_skipped
            .iter()
            .map(|s| ResourceKey {
                group: s.identity.group.clone(),
                kind: s.identity.kind.clone(),
                namespace: s
                    .identity
                    .namespace
                    .clone()
                    .or_else(|| Some(app.namespace.clone())),
                name: s.identity.name.clone(),
            })
            .collect();
        Ok(DesiredState {
            revision: target,
            head,
            objects,
            warnings: loaded.warnings.clone(),
            sops,
        })
    }

    /// A sync whose source cannot be used whole applies nothing. Unless it
    /// was a dry run, the attempt is recorded as Failed with the file and the
    /// reason, so the history never shows it as Succeeded. Returns `error`.
    pub(super) async fn source_refused(
        &self,
        app: &AppConfig,
        cluster: &Cluster,
        revision: Option<&str>,
        opts: &SyncOptions,
        error: EngineError,
    ) -> EngineError {
        let EngineError::Source(source @ SourceError::Invalid { .. }) = &error else {
            return error;
        };
        if opts.dry_run {
            return error;
        }
        let Ok((_, target)) = self.revisions(app, revision).await else {
            return error;
        };
        let report = SyncReport {
            app: app.id(),
            revision: target,
            succeeded: false,
            dry_run: false,
            message: source.reason(),
            stage_one_created: vec![],
            resources: vec![],
            warnings: vec![],
        };
        if let Err(e) = self.record_result(app, cluster, &report, None).await {
            tracing::warn!(app = %app.name, "cannot record the refused sync: {e}");
        }
        error
    }

    /// Resolve kinds that were unknown (their CRDs were just applied).
    pub(super) async fn resolve_pending(
        &self,
        cluster: &Cluster,
        objects: &mut [Desired],
        app: &AppConfig,
    ) -> Result<(), EngineError> {
        if objects.iter().all(|d| d.kind.is_some()) {
            return Ok(());
        }
        self.kinds.clear().await;
        for d in objects.iter_mut().filter(|d| d.kind.is_none()) {
            match self
                .kinds
                .resolve(&cluster.client, &cluster.url, &d.api_version, &d.key.kind)
                .await
            {
                Ok(k) => {
                    if !k.namespaced {
                        if let Some(m) =
                            d.object.get_mut("metadata").and_then(|m| m.as_object_mut())
                        {
                            m.remove("namespace");
                        }
                        d.key.namespace = None;
                    } else if d.key.namespace.is_none() {
                        d.key.namespace = Some(app.namespace.clone());
                    }
                    d.kind = Some(k);
                }
                Err(ClusterError::UnknownKind { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// `namespace: web` and no namespace are one object in an app whose
/// namespace is `web`: the loader compares documents as written, so the same
/// object twice is found only here, once namespaces are resolved.
fn duplicates_on_resolved_namespaces(
    app: &AppConfig,
    objects: &[Desired],
) -> Result<(), EngineError> {
    let errors: Vec<ManifestError> = boundary::duplicates(objects)
        .into_iter()
        .filter_map(|(second, first)| {
            let (Some(at), Some(first_at)) = (&second.source, &first.source) else {
                return None;
            };
            Some(ManifestError::Duplicate {
                file: at.file.clone(),
                line: at.line,
                identity: second.key.clone(),
                first: first_at.clone(),
            })
        })
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(SourceError::Invalid {
        app: app.name.clone(),
        errors: ManifestErrors { errors },
    }
    .into())
}
