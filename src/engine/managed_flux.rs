//! Rolling a Flux app back, which `flux` has no verb for: the Kustomization's
//! GitRepository is pinned to the commit (`spec.ref.commit`, its ref before
//! remembered in an annotation), both are reconciled as `flux reconcile
//! --with-source` would, and once the Kustomization has applied the pin it
//! is suspended, so nothing moves it until resume puts the ref back exactly.
//! Every step is one merge patch, never repeated; a step that fails stops
//! the rollback where it is, and the report says what was done.

use super::managed::{now_nanos, report, source_name, Found};
use super::sync::{SyncOptions, SyncReport};
use super::{Engine, EngineError};
use crate::model::{AppId, Revision};
use crate::source::controllers;
use crate::source::flux::{self, FluxPatch};
use serde_json::Value;

impl Engine {
    pub(super) async fn flux_rollback(
        &self,
        id: &AppId,
        app: &Found,
        revision: &Revision,
        opts: &SyncOptions,
    ) -> Result<SyncReport, EngineError> {
        let Some((api, source)) = self.flux_source(app).await? else {
            return Err(EngineError::Other(format!(
                "app {id}: its source cannot be read, nothing was pinned"
            )));
        };
        if source.get("kind").and_then(Value::as_str) != Some("GitRepository") {
            return Err(EngineError::Other(format!(
                "app {id}: its source is {}: only a GitRepository can be pinned to a commit",
                source_name(&source)
            )));
        }
        // A second rollback keeps the ref the first one remembered.
        let remember = flux::pinned(&source)
            .is_none()
            .then(|| source.pointer("/spec/ref").cloned().unwrap_or(Value::Null));
        let pin = FluxPatch::Pin {
            commit: revision.clone(),
            remember,
        };
        let suspended = flux::is_suspended(&app.object);
        let steps = rollback_steps(&pin, &source_name(&source), suspended);
        if opts.dry_run {
            return Ok(report(
                id,
                Some(revision.clone()),
                true,
                true,
                format!("would {}", steps.join(", then ")),
            ));
        }
        let mut done: Vec<String> = Vec::new();
        let stopped = |done: &[String], e: EngineError| {
            let so_far = if done.is_empty() {
                "nothing was changed".to_string()
            } else {
                format!("done so far: {}", done.join(", "))
            };
            EngineError::Other(format!("app {id}: rollback stopped: {e} ({so_far})"))
        };
        self.patch(app, &api, &source, &pin.body())
            .await
            .map_err(|e| stopped(&done, e))?;
        done.push(steps[0].clone());
        let at = now_nanos();
        let request = FluxPatch::RequestReconcile { at: at.clone() };
        self.patch(app, &api, &source, &request.body())
            .await
            .map_err(|e| stopped(&done, e))?;
        self.wait_handled(app, &api, &source, &at)
            .await
            .map_err(|e| stopped(&done, e))?;
        done.push("reconciled the source".into());
        if suspended {
            self.patch(app, &app.api, &app.object, &FluxPatch::Resume.body())
                .await
                .map_err(|e| stopped(&done, e))?;
            done.push("resumed the Kustomization".into());
        }
        self.patch(app, &app.api, &app.object, &request.body())
            .await
            .map_err(|e| stopped(&done, e))?;
        let handled = self
            .wait_handled(app, &app.api, &app.object, &at)
            .await
            .map_err(|e| stopped(&done, e))?;
        done.push("reconciled the Kustomization".into());
        let ready = controllers::condition(&handled, "Ready");
        let text = |f: &str| {
            ready
                .and_then(|c| c.get(f))
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        if text("status") != "True" {
            return Ok(report(
                id,
                Some(revision.clone()),
                false,
                false,
                format!(
                    "{} pinned to {}, but the Kustomization did not apply it: {}; it is not suspended (resume restores the ref)",
                    source_name(&source),
                    revision.short(),
                    text("message")
                ),
            ));
        }
        self.patch(app, &app.api, &handled, &FluxPatch::Suspend.body())
            .await
            .map_err(|e| stopped(&done, e))?;
        Ok(report(
            id,
            Some(revision.clone()),
            true,
            false,
            format!(
                "{} pinned to {} and applied ({}); the Kustomization is suspended until resume restores the ref",
                source_name(&source),
                revision.short(),
                text("message")
            ),
        ))
    }
}

/// What a Flux rollback does, step by step, for its preview and dry run.
fn rollback_steps(pin: &FluxPatch, source: &str, suspended: bool) -> Vec<String> {
    let mut steps = vec![
        format!("{} of {source}", pin.describe()),
        format!("reconcile {source} and wait for it"),
    ];
    if suspended {
        steps.push("resume the Kustomization (it is suspended)".into());
    }
    steps.push("reconcile the Kustomization and wait for it to apply the pin".into());
    steps.push("suspend the Kustomization (spec.suspend: true)".into());
    steps
}
