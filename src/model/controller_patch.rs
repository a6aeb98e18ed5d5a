//! The writes gitops-tui makes to Flux and Argo CD objects, defined once:
//! the engine sends these bodies and the confirm dialogs show them, built by
//! the same functions from the same inputs, so a preview is byte for byte
//! the body that goes out (`tests/managed_refresh.rs` holds them equal
//! against kube-sim's request log). It lives in `model` because the panes
//! may depend on nothing else.
//!
//! Each body is what the upstream CLI sends: `flux reconcile|suspend|resume`
//! (controller-runtime's `MergeFrom` of the object before and after),
//! `argocd app get --refresh|--hard-refresh` (Argo CD 3.5's `RefreshApp`),
//! the `operation` field of `argocd app sync|rollback` (`SetAppOperation`).
//! Merge patches go out as `serde_json` writes them (keys in the order
//! written here, no spaces): [`FluxPatch::body_text`] is those bytes.

use super::revision::Revision;
use serde_json::{json, Value};

/// `flux reconcile` sets it to the time of the request (RFC 3339, nanoseconds).
pub const REQUESTED_AT: &str = "reconcile.fluxcd.io/requestedAt";
/// On a GitRepository gitops-tui pinned: its `spec.ref` before the pin, as
/// JSON (`null` when it had none).
pub const PINNED_FROM: &str = "gitops-tui.dev/rollback-ref";
/// Argo CD's refresh request (`normal` or `hard`); its application
/// controller removes it once it has compared the app again.
pub const REFRESH: &str = "argocd.argoproj.io/refresh";
/// Set beside the refresh by Argo CD's API server (3.4 on); only the source
/// hydrator removes it, so on other apps it stays, as it does upstream.
pub const HYDRATE: &str = "argocd.argoproj.io/hydrate";

/// A change to a Flux object, as the merge patch the `flux` CLI would send.
#[derive(Debug, Clone, PartialEq)]
pub enum FluxPatch {
    /// `flux reconcile`: the requestedAt annotation, at `at`.
    RequestReconcile { at: String },
    /// `flux suspend`: `spec.suspend: true`.
    Suspend,
    /// `flux resume`: `suspend` is `omitempty`, so MergeFrom removes it.
    Resume,
    /// Rollback: the GitRepository checks out `commit`; `remember` is the
    /// ref to restore later (None when an earlier pin already remembered it).
    Pin {
        commit: Revision,
        remember: Option<Value>,
    },
    /// Resume after a rollback: `spec.ref` from `current` back to `previous`
    /// (Null: there was none), and the annotation gone.
    Restore { current: Value, previous: Value },
}

impl FluxPatch {
    /// The body, sent as `application/merge-patch+json`.
    pub fn body(&self) -> Value {
        match self {
            FluxPatch::RequestReconcile { at } => {
                json!({"metadata": {"annotations": {REQUESTED_AT: at}}})
            }
            FluxPatch::Suspend => json!({"spec": {"suspend": true}}),
            FluxPatch::Resume => json!({"spec": {"suspend": null}}),
            FluxPatch::Pin { commit, remember } => {
                let mut body = json!({"spec": {"ref": {"commit": commit.as_str()}}});
                if let Some(previous) = remember {
                    body["metadata"] = json!({"annotations": {PINNED_FROM: previous.to_string()}});
                }
                body
            }
            FluxPatch::Restore { current, previous } => {
                let r = if previous.is_null() {
                    Value::Null
                } else {
                    merge_patch_between(current, previous)
                };
                json!({"metadata": {"annotations": {PINNED_FROM: null}}, "spec": {"ref": r}})
            }
        }
    }

    /// The bytes sent.
    pub fn body_text(&self) -> String {
        self.body().to_string()
    }

    /// What it does, for previews and reports.
    pub fn describe(&self) -> String {
        match self {
            FluxPatch::RequestReconcile { .. } => "request a reconcile".into(),
            FluxPatch::Suspend => "suspend (spec.suspend: true)".into(),
            FluxPatch::Resume => "resume (spec.suspend removed)".into(),
            FluxPatch::Pin { commit, .. } => format!("pin spec.ref.commit to {}", commit.short()),
            FluxPatch::Restore { previous, .. } => format!("restore spec.ref to {previous}"),
        }
    }
}

/// A merge patch to an Application.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgoPatch {
    /// `argocd app get --refresh` / `--hard-refresh`: the API server's
    /// `RefreshApp` with the hydrate type it always passes (Argo CD 3.5).
    Refresh { hard: bool },
    /// Auto-sync off or on, the rest of the policy untouched.
    AutoSync { enabled: bool },
}

impl ArgoPatch {
    /// The body, sent as `application/merge-patch+json` (Go marshals the
    /// annotations map with its keys sorted: hydrate before refresh).
    pub fn body(&self) -> Value {
        match self {
            ArgoPatch::Refresh { hard } => {
                let kind = if *hard { "hard" } else { "normal" };
                json!({"metadata": {"annotations": {HYDRATE: kind, REFRESH: kind}}})
            }
            ArgoPatch::AutoSync { enabled } => {
                json!({"spec": {"syncPolicy": {"automated": {"enabled": enabled}}}})
            }
        }
    }

    /// The bytes sent.
    pub fn body_text(&self) -> String {
        self.body().to_string()
    }
}

/// What an operation does: a sync of the app's source at a revision, or a
/// rollback to a history entry.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgoOperation {
    /// `argocd app sync` (hook strategy, the CLI's default).
    Sync {
        revision: Revision,
        prune: bool,
        dry_run: bool,
    },
    /// `argocd app rollback ID` (apply strategy, the entry's source).
    Rollback { entry: Value, prune: bool },
}

impl ArgoOperation {
    /// The `operation` field as the API server builds it for `app` (it
    /// reads `spec.source` and `spec.syncPolicy` only).
    pub fn field(&self, app: &Value) -> Value {
        let policy = app.pointer("/spec/syncPolicy");
        let mut sync = serde_json::Map::new();
        match self {
            ArgoOperation::Sync {
                revision,
                prune,
                dry_run,
            } => {
                sync.insert("revision".into(), json!(revision.as_str()));
                if *prune {
                    sync.insert("prune".into(), json!(true));
                }
                if *dry_run {
                    sync.insert("dryRun".into(), json!(true));
                }
                sync.insert("syncStrategy".into(), json!({"hook": {}}));
                if let Some(source) = app.pointer("/spec/source") {
                    sync.insert("source".into(), source.clone());
                }
            }
            ArgoOperation::Rollback { entry, prune } => {
                if let Some(r) = entry.get("revision") {
                    sync.insert("revision".into(), r.clone());
                }
                if *prune {
                    sync.insert("prune".into(), json!(true));
                }
                sync.insert("syncStrategy".into(), json!({"apply": {}}));
                sync.insert(
                    "source".into(),
                    entry.get("source").cloned().unwrap_or(json!({})),
                );
            }
        }
        if let Some(options) = policy
            .and_then(|p| p.get("syncOptions"))
            .filter(|o| o.as_array().is_some_and(|a| !a.is_empty()))
        {
            sync.insert("syncOptions".into(), options.clone());
        }
        // A rollback takes no retry from the policy; a sync does.
        let retry = match self {
            ArgoOperation::Sync { .. } => policy
                .and_then(|p| p.get("retry"))
                .cloned()
                .unwrap_or(json!({})),
            ArgoOperation::Rollback { .. } => json!({}),
        };
        json!({"sync": Value::Object(sync), "initiatedBy": {}, "retry": retry})
    }

    /// The whole Application to write back: `operation` set,
    /// `status.operationState` cleared, as `SetAppOperation` does.
    pub fn apply_to(&self, app: &Value) -> Value {
        let mut out = app.clone();
        out["operation"] = self.field(app);
        if let Some(status) = out.get_mut("status").and_then(Value::as_object_mut) {
            status.remove("operationState");
        }
        out
    }
}

/// The parts of a controller's objects the writes above are built from,
/// kept with an app's status so a confirm dialog builds exactly what the
/// engine will (from the objects as last read: the engine reads them again
/// when it writes).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ControllerObjects {
    /// The app's object trimmed to `spec.source`, `spec.syncPolicy`,
    /// `status.sync.revision` and `status.history`.
    pub app: Value,
    /// A Flux app's source trimmed to `spec.ref` and the rollback
    /// annotation (None: it has none, or it was not read).
    pub source: Option<Value>,
}

impl ControllerObjects {
    pub fn new(app: &Value, source: Option<&Value>) -> Self {
        let keep = |from: &Value, pointers: &[&str]| {
            let mut out = json!({});
            for p in pointers {
                if let Some(v) = from.pointer(p) {
                    let mut at = &mut out;
                    let parts: Vec<&str> = p.trim_start_matches('/').split('/').collect();
                    for (i, part) in parts.iter().enumerate() {
                        if i + 1 == parts.len() {
                            at[*part] = v.clone();
                        } else {
                            if !at[*part].is_object() {
                                at[*part] = json!({});
                            }
                            at = &mut at[*part];
                        }
                    }
                }
            }
            out
        };
        let pinned = format!("/metadata/annotations/{}", PINNED_FROM.replace('/', "~1"));
        ControllerObjects {
            app: keep(
                app,
                &[
                    "/spec/source",
                    "/spec/syncPolicy",
                    "/status/sync/revision",
                    "/status/history",
                ],
            ),
            source: source.map(|s| {
                let mut out = keep(s, &["/spec/ref"]);
                if let Some(v) = s.pointer(&pinned) {
                    out["metadata"] = json!({"annotations": {PINNED_FROM: v}});
                }
                out
            }),
        }
    }

    /// The source's `spec.ref` (Null: none).
    pub fn source_ref(&self) -> Value {
        self.source
            .as_ref()
            .and_then(|s| s.pointer("/spec/ref"))
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// Pinned by a gitops-tui rollback (as `source::flux::pinned` reads it).
    pub fn is_pinned(&self) -> bool {
        self.source.as_ref().is_some_and(|s| {
            s.pointer("/metadata/annotations")
                .and_then(|a| a.get(PINNED_FROM))
                .is_some()
                && s.pointer("/spec/ref/commit")
                    .and_then(Value::as_str)
                    .is_some()
        })
    }

    /// The ref a gitops-tui rollback remembered on the source, when pinned.
    pub fn remembered_ref(&self) -> Option<&str> {
        self.source
            .as_ref()?
            .pointer("/metadata/annotations")?
            .get(PINNED_FROM)?
            .as_str()
    }
}

/// Auto-sync on: `spec.syncPolicy.automated` present and not `enabled:
/// false` (Argo CD's `IsAutomatedSyncEnabled`).
pub fn auto_sync_enabled(app: &Value) -> bool {
    app.pointer("/spec/syncPolicy/automated")
        .filter(|a| a.is_object())
        .is_some_and(|a| a.get("enabled").and_then(Value::as_bool) != Some(false))
}

/// The Argo CD history entry of id `wanted`, or whose revision starts with
/// it (seven characters at least), the latest first.
pub fn history_entry<'a>(app: &'a Value, wanted: &str) -> Option<&'a Value> {
    let entries = app.pointer("/status/history").and_then(Value::as_array)?;
    entries.iter().rev().find(|e| {
        e.get("id").and_then(Value::as_i64).map(|i| i.to_string()) == Some(wanted.to_string())
            || (wanted.len() >= 7
                && e.get("revision")
                    .and_then(Value::as_str)
                    .is_some_and(|r| r.starts_with(wanted)))
    })
}

/// The merge patch that turns the JSON object `from` into `to`, key by key
/// (RFC 7386): keys of `from` that `to` lacks are set to null. Used to put a
/// Flux source's `spec.ref` back exactly as it was.
pub fn merge_patch_between(from: &Value, to: &Value) -> Value {
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            let mut out = serde_json::Map::new();
            for (k, v) in b {
                match a.get(k) {
                    Some(old) if old == v => {}
                    Some(old) if old.is_object() && v.is_object() => {
                        out.insert(k.clone(), merge_patch_between(old, v));
                    }
                    _ => {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
            for k in a.keys() {
                if !b.contains_key(k) {
                    out.insert(k.clone(), Value::Null);
                }
            }
            Value::Object(out)
        }
        (_, to) => to.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refresh_body_is_argocd_3_5s_byte_for_byte() {
        assert_eq!(
            ArgoPatch::Refresh { hard: false }.body_text(),
            r#"{"metadata":{"annotations":{"argocd.argoproj.io/hydrate":"normal","argocd.argoproj.io/refresh":"normal"}}}"#
        );
        assert_eq!(
            ArgoPatch::Refresh { hard: true }.body_text(),
            r#"{"metadata":{"annotations":{"argocd.argoproj.io/hydrate":"hard","argocd.argoproj.io/refresh":"hard"}}}"#
        );
    }

    #[test]
    fn controller_objects_keep_only_what_the_writes_read() {
        let app = json!({
            "metadata": {"name": "web", "annotations": {"a": "b"}},
            "spec": {"source": {"repoURL": "r"}, "destination": {"server": "s"},
                     "syncPolicy": {"syncOptions": ["X=true"]}},
            "status": {"sync": {"revision": "abc", "status": "Synced"},
                       "resources": [{"kind": "ConfigMap"}], "history": [{"id": 1}]}
        });
        let source = json!({"metadata": {"annotations": {PINNED_FROM: "{\"branch\":\"main\"}", "x": "y"}},
                            "spec": {"url": "u", "ref": {"commit": "c"}}});
        let kept = ControllerObjects::new(&app, Some(&source));
        assert_eq!(
            kept.app,
            json!({"spec": {"source": {"repoURL": "r"}, "syncPolicy": {"syncOptions": ["X=true"]}},
                   "status": {"sync": {"revision": "abc"}, "history": [{"id": 1}]}})
        );
        let op = ArgoOperation::Sync {
            revision: Revision::new("abc"),
            prune: true,
            dry_run: false,
        };
        assert_eq!(op.field(&kept.app), op.field(&app));
        assert_eq!(kept.source_ref(), json!({"commit": "c"}));
        assert_eq!(kept.remembered_ref(), Some("{\"branch\":\"main\"}"));
    }
}
