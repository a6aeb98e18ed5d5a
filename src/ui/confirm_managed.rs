//! The confirm dialog's body for a Flux or Argo CD app: it says exactly what
//! will be written to the controller's objects (the merge patch, or the
//! Argo CD `operation`), as `flux` and `argocd` would write it, so nothing
//! is changed behind the preview. The bodies are built here by the same
//! `model::controller_patch` types the engine sends, from the objects kept
//! with the app's status; only a time of the request is unknown before it
//! is sent (`<now>`).

use super::theme::Theme;
use crate::app::{AppState, ConfirmAction};
use crate::model::controller_patch::{
    auto_sync_enabled, history_entry, ArgoOperation, ArgoPatch, FluxPatch, PINNED_FROM,
};
use crate::model::{AppId, AppSource, AppStatus, Revision};
use ratatui::text::{Line, Span};
use serde_json::Value;

/// Where the time of a reconcile request goes until it is sent.
pub const NOW: &str = "<now>";

/// The dialog's title, lines and whether it can be confirmed, when its one
/// app is a Flux or Argo CD app (None: a native app, or several apps).
pub fn body<'a>(
    state: &AppState,
    action: &ConfirmAction,
    theme: &Theme,
) -> Option<(String, Vec<Line<'a>>, bool)> {
    let app = match action {
        ConfirmAction::Sync { apps, .. } if apps.len() == 1 => &apps[0],
        ConfirmAction::Suspend { app, .. }
        | ConfirmAction::Resume { app }
        | ConfirmAction::Rollback { app, .. }
        | ConfirmAction::Refresh { app, .. } => app,
        ConfirmAction::Sync { .. } | ConfirmAction::IgnoreRule { .. } => return None,
    };
    if app.is_native() {
        return None;
    }
    let status = state
        .app_index(app)
        .and_then(|i| state.apps[i].status.value.as_ref());
    let verb = match action {
        ConfirmAction::Sync { .. } => "Sync",
        ConfirmAction::Suspend { .. } => "Suspend",
        ConfirmAction::Resume { .. } => "Resume",
        ConfirmAction::Rollback { .. } => "Rollback",
        ConfirmAction::Refresh { hard: true, .. } => "Hard refresh",
        ConfirmAction::Refresh { .. } => "Refresh",
        ConfirmAction::IgnoreRule { .. } => return None,
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("{app}"), theme.header),
        Span::styled(format!("  managed by {}", app.source), theme.dim),
    ])];
    if let Some(s) = status {
        lines.push(Line::styled(
            format!("  {} · {} · {}", s.sync, s.health, s.message),
            theme.text,
        ));
    }
    lines.push(Line::styled("Writes:", theme.text));
    let writes = match action {
        ConfirmAction::Sync { prune, .. } => sync_writes(app, status, *prune),
        ConfirmAction::Suspend { .. } => suspend_writes(app),
        ConfirmAction::Resume { .. } => resume_writes(app, status),
        ConfirmAction::Rollback { sha, .. } => rollback_writes(app, status, sha),
        ConfirmAction::Refresh { hard, .. } => refresh_writes(app, *hard),
        ConfirmAction::IgnoreRule { .. } => return None,
    };
    for w in writes {
        let style = match w {
            Write::Say(_) => theme.warn,
            _ => theme.text,
        };
        for text in w.lines() {
            lines.push(Line::styled(text, style));
        }
    }
    Some((format!("{verb} {app}"), lines, true))
}

/// One step of what a confirmed action writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// A merge patch to `object` with `body` (the JSON sent).
    Patch { object: String, body: String },
    /// The Argo CD `operation` field written to the Application (JSON).
    Operation { object: String, operation: String },
    /// What follows or what a person must know.
    Say(String),
}

impl Write {
    fn lines(&self) -> Vec<String> {
        match self {
            Write::Patch { object, body } => {
                let mut out = vec![format!("  merge patch {object}:")];
                out.extend(chunks(body));
                out
            }
            Write::Operation { object, operation } => {
                let mut out = vec![format!("  {object}: set operation:")];
                out.extend(chunks(operation));
                out
            }
            Write::Say(text) => vec![format!("  {text}")],
        }
    }
}

/// How much JSON one dialog line holds (the dialog is at most 76 wide).
const JSON_WIDTH: usize = 66;

/// A JSON body over as many indented lines as it needs, cut nowhere else.
fn chunks(json: &str) -> Vec<String> {
    let chars: Vec<char> = json.chars().collect();
    chars
        .chunks(JSON_WIDTH)
        .map(|c| format!("    {}", c.iter().collect::<String>()))
        .collect()
}

fn object(app: &AppId) -> String {
    let kind = match app.source {
        AppSource::ArgoCd => "Application",
        _ => "the Flux object",
    };
    format!("{kind} {}/{}", app.namespace, app.name)
}

fn patch(object: String, p: &FluxPatch) -> Write {
    Write::Patch {
        object,
        body: p.body_text(),
    }
}

fn reconcile(app: &AppId) -> Write {
    patch(object(app), &FluxPatch::RequestReconcile { at: NOW.into() })
}

fn auto_sync(app: &AppId, enabled: bool) -> Write {
    Write::Patch {
        object: object(app),
        body: ArgoPatch::AutoSync { enabled }.body_text(),
    }
}

fn operation(app: &AppId, op: &ArgoOperation, objects: &Value) -> Write {
    Write::Operation {
        object: object(app),
        operation: op.field(objects).to_string(),
    }
}

/// The app's object as the status keeps it (empty when not loaded: the
/// operation then lacks what only the object says, and the dialog says so).
fn app_object(status: Option<&AppStatus>) -> Option<&Value> {
    status.and_then(|s| s.controller.as_ref()).map(|c| &c.app)
}

/// What a sync writes: Flux reconciles (a suspended object is said, not
/// reconciled silently), Argo CD gets a sync operation at the revision it
/// resolved.
pub fn sync_writes(app: &AppId, status: Option<&AppStatus>, prune: bool) -> Vec<Write> {
    match app.source {
        AppSource::ArgoCd => {
            let revision = app_object(status)
                .and_then(|o| o.pointer("/status/sync/revision"))
                .and_then(Value::as_str);
            let (Some(revision), Some(objects)) = (revision, app_object(status)) else {
                return vec![Write::Say(
                    "Argo CD has not resolved a revision yet: refresh it first.".into(),
                )];
            };
            let op = ArgoOperation::Sync {
                revision: Revision::new(revision),
                prune,
                dry_run: false,
            };
            vec![
                operation(app, &op, objects),
                Write::Say("Argo CD's application controller then runs the sync.".into()),
            ]
        }
        _ if status.is_some_and(|s| s.suspended) => vec![
            Write::Say(
                "suspended: Flux does not reconcile it. Confirming resumes it and reconciles:"
                    .into(),
            ),
            patch(object(app), &FluxPatch::Resume),
            reconcile(app),
        ],
        _ => vec![
            reconcile(app),
            Write::Say("then waits for status.lastHandledReconcileAt to match.".into()),
        ],
    }
}

pub fn suspend_writes(app: &AppId) -> Vec<Write> {
    match app.source {
        AppSource::ArgoCd => vec![
            auto_sync(app, false),
            Write::Say("prune, selfHeal and allowEmpty are kept as they are.".into()),
        ],
        _ => vec![patch(object(app), &FluxPatch::Suspend)],
    }
}

pub fn resume_writes(app: &AppId, status: Option<&AppStatus>) -> Vec<Write> {
    if app.source == AppSource::ArgoCd {
        return vec![auto_sync(app, true)];
    }
    let mut writes = vec![];
    let objects = status.and_then(|s| s.controller.as_ref());
    if let Some(pin) = status.and_then(|s| s.paused_revision.as_ref()) {
        writes.push(Write::Say(format!(
            "paused by a rollback at {}: its GitRepository's spec.ref is restored from {PINNED_FROM}",
            pin.short()
        )));
        let previous = objects
            .and_then(|o| o.remembered_ref())
            .map(serde_json::from_str::<Value>);
        match (objects, previous) {
            (Some(o), Some(Ok(previous))) => {
                writes.push(patch(
                    "its GitRepository".into(),
                    &FluxPatch::Restore {
                        current: o.source_ref(),
                        previous,
                    },
                ));
                writes.push(patch(
                    "its GitRepository".into(),
                    &FluxPatch::RequestReconcile { at: NOW.into() },
                ));
            }
            _ => writes.push(Write::Say(format!(
                "{PINNED_FROM} cannot be read: resume will refuse and change nothing"
            ))),
        }
    }
    if status.is_some_and(|s| s.suspended) {
        writes.push(patch(object(app), &FluxPatch::Resume));
    }
    writes.push(reconcile(app));
    writes
}

pub fn rollback_writes(app: &AppId, status: Option<&AppStatus>, sha: &Revision) -> Vec<Write> {
    let objects = status.and_then(|s| s.controller.as_ref());
    match app.source {
        AppSource::ArgoCd => {
            let entry = objects.and_then(|o| history_entry(&o.app, sha.as_str()).cloned());
            let mut writes = vec![];
            if objects.is_some_and(|o| auto_sync_enabled(&o.app)) {
                writes.push(Write::Say(
                    "auto-sync is turned off first (Argo CD requires it):".into(),
                ));
                writes.push(auto_sync(app, false));
            }
            match (entry, objects) {
                (Some(entry), Some(o)) => writes.push(operation(
                    app,
                    &ArgoOperation::Rollback {
                        entry,
                        prune: false,
                    },
                    &o.app,
                )),
                _ => writes.push(Write::Say(format!(
                    "no history entry at {}: the rollback will be refused",
                    sha.short()
                ))),
            }
            writes
        }
        _ => {
            let Some(o) = objects.filter(|o| o.source.is_some()) else {
                return vec![Write::Say(
                    "its GitRepository cannot be read: the rollback will be refused".into(),
                )];
            };
            // A second rollback keeps the ref the first one remembered.
            let remember = (!o.is_pinned()).then(|| o.source_ref());
            let source = "its GitRepository".to_string();
            let request = FluxPatch::RequestReconcile { at: NOW.into() };
            let mut writes = vec![
                patch(
                    source.clone(),
                    &FluxPatch::Pin {
                        commit: sha.clone(),
                        remember,
                    },
                ),
                patch(source, &request),
                Write::Say("waits for the source to fetch the pin, then:".into()),
            ];
            if status.is_some_and(|s| s.suspended) {
                writes.push(patch(object(app), &FluxPatch::Resume));
            }
            writes.push(reconcile(app));
            writes.push(Write::Say(
                "waits for the Kustomization to apply the pin, then suspends it:".into(),
            ));
            writes.push(patch(object(app), &FluxPatch::Suspend));
            writes.push(Write::Say(
                "resume (p) restores the ref exactly and lifts the suspension.".into(),
            ));
            writes
        }
    }
}

/// What a refresh writes: only Argo CD has one.
pub fn refresh_writes(app: &AppId, hard: bool) -> Vec<Write> {
    let mut writes = vec![Write::Patch {
        object: object(app),
        body: ArgoPatch::Refresh { hard }.body_text(),
    }];
    writes.push(Write::Say(if hard {
        "hard: manifests generated anew; then waits for the controller.".into()
    } else {
        "then waits until the controller has compared it with Git again.".into()
    }));
    writes
}
