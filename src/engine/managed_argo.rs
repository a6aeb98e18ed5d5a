//! The Argo CD half of `managed.rs`: the operation written as Argo CD's
//! `SetAppOperation` writes it (retried only after a 409, on the object read
//! anew) and auto-sync turned off and on with the rest of the policy kept.

use super::managed::{report, Found};
use super::sync::{SyncOptions, SyncReport};
use super::{Engine, EngineError};
use crate::cluster;
use crate::model::{AppId, Revision};
use crate::source::argocd::{self, ArgoOperation, ArgoPatch};
use serde_json::Value;

impl Engine {
    /// Write an Argo CD operation (a sync at the app's resolved revision,
    /// or `rollback` to a history entry), as `SetAppOperation` does.
    pub(super) async fn argo_operation(
        &self,
        id: &AppId,
        mut app: Found,
        rollback: Option<Value>,
        opts: &SyncOptions,
    ) -> Result<SyncReport, EngineError> {
        for _ in 0..3 {
            if app.object.get("operation").is_some_and(|o| !o.is_null()) {
                return Err(EngineError::Other(format!(
                    "app {id}: another operation is already in progress"
                )));
            }
            let op = match &rollback {
                Some(entry) => ArgoOperation::Rollback {
                    entry: entry.clone(),
                    prune: opts.prune,
                },
                None => {
                    let revision = opts
                        .revision
                        .clone()
                        .or_else(|| {
                            app.object
                                .pointer("/status/sync/revision")
                                .and_then(Value::as_str)
                                .map(str::to_string)
                        })
                        .ok_or_else(|| {
                            EngineError::Other(format!(
                                "app {id}: Argo CD has not resolved a revision yet (refresh it first)"
                            ))
                        })?;
                    ArgoOperation::Sync {
                        revision: Revision::new(revision),
                        prune: opts.prune,
                        dry_run: opts.dry_run,
                    }
                }
            };
            let revision = op.field(&app.object)["sync"]["revision"]
                .as_str()
                .map(Revision::new);
            let body = op.apply_to(&app.object);
            let c = &app.cluster;
            match cluster::replace(&c.client, &c.url, &app.api, &body).await {
                Ok(_) => {
                    let what = if rollback.is_some() {
                        "rollback"
                    } else {
                        "sync"
                    };
                    let at = revision
                        .as_ref()
                        .map(|r| r.medium().to_string())
                        .unwrap_or_default();
                    return Ok(report(
                        id,
                        revision,
                        true,
                        opts.dry_run,
                        format!("{what} to {at} requested: Argo CD runs the operation"),
                    ));
                }
                Err(e) if e.code() == Some(409) => {
                    app = self.find(id).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(EngineError::Other(format!(
            "app {id}: the Application kept changing while the operation was written (409 three times)"
        )))
    }

    /// Turn Argo CD's auto-sync off or on, checking the rest of the policy
    /// came through untouched and the switch was kept (an Argo CD whose CRD
    /// predates `automated.enabled` would drop it silently).
    pub(super) async fn argo_auto_sync(
        &self,
        id: &AppId,
        app: &Found,
        enabled: bool,
    ) -> Result<(), EngineError> {
        let Some(before) = argocd::automated(&app.object).cloned() else {
            return Err(EngineError::Other(format!(
                "app {id} has no automated sync policy: there is no auto-sync to {}",
                if enabled { "resume" } else { "suspend" }
            )));
        };
        let after = self
            .patch(
                app,
                &app.api,
                &app.object,
                &ArgoPatch::AutoSync { enabled }.body(),
            )
            .await?;
        let kept = argocd::automated(&after).cloned().unwrap_or_default();
        let same = ["prune", "selfHeal", "allowEmpty"]
            .iter()
            .all(|k| kept.get(*k) == before.get(*k));
        if !same || argocd::auto_sync_enabled(&after) != enabled {
            return Err(EngineError::Other(format!(
                "app {id}: the cluster did not keep spec.syncPolicy.automated as written (now {kept}); this Argo CD may predate automated.enabled"
            )));
        }
        Ok(())
    }
}
