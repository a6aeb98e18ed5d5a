//! The confirm dialog's body for a Flux or Argo CD app: it says exactly what
//! will be written to the controller's objects (the merge patch, or the
//! Argo CD `operation`), as `flux` and `argocd` would write it, so nothing
//! is changed behind the preview. The bodies here are the ones
//! `source::flux::FluxPatch` and `source::argocd` build (the panes may not
//! import the source layer; `tests/ui_managed.rs` holds them equal).

use super::theme::Theme;
use crate::app::{AppState, ConfirmAction};
use crate::model::{AppId, AppSource, AppStatus, Revision};
use ratatui::text::{Line, Span};

pub const REQUESTED_AT: &str = "reconcile.fluxcd.io/requestedAt";
pub const ROLLBACK_REF: &str = "gitops-tui.dev/rollback-ref";

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
        | ConfirmAction::Rollback { app, .. } => app,
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
        ConfirmAction::Suspend { .. } => suspend_writes(app, status),
        ConfirmAction::Resume { .. } => resume_writes(app, status),
        ConfirmAction::Rollback { sha, .. } => rollback_writes(app, sha),
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
    /// A merge patch to `object` with `body` (JSON).
    Patch { object: String, body: String },
    /// The Argo CD `operation` field written to the Application.
    Operation { object: String, sync: String },
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
            Write::Operation { object, sync } => {
                let mut out = vec![format!("  {object}: set operation.sync:")];
                out.extend(chunks(sync));
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

fn reconcile(app: &AppId) -> Write {
    Write::Patch {
        object: object(app),
        body: format!(r#"{{"metadata":{{"annotations":{{"{REQUESTED_AT}":"<now>"}}}}}}"#),
    }
}

fn auto_sync(app: &AppId, enabled: bool) -> Write {
    Write::Patch {
        object: object(app),
        body: format!(r#"{{"spec":{{"syncPolicy":{{"automated":{{"enabled":{enabled}}}}}}}}}"#),
    }
}

/// What a sync writes: Flux reconciles (a suspended object is said, not
/// reconciled silently), Argo CD gets a sync operation.
pub fn sync_writes(app: &AppId, status: Option<&AppStatus>, prune: bool) -> Vec<Write> {
    match app.source {
        AppSource::ArgoCd => {
            let revision = status
                .and_then(|s| s.target_revision.as_ref())
                .map_or("<the revision Argo CD resolved>".to_string(), |r| {
                    r.as_str().to_string()
                });
            let prune = if prune { r#","prune":true"# } else { "" };
            vec![
                Write::Operation {
                    object: object(app),
                    sync: format!(
                        r#"{{"revision":"{revision}"{prune},"syncStrategy":{{"hook":{{}}}},"source":<spec.source>}}"#
                    ),
                },
                Write::Say("Argo CD's application controller then runs the sync.".into()),
            ]
        }
        _ if status.is_some_and(|s| s.suspended) => vec![
            Write::Say(
                "suspended: Flux does not reconcile it. Confirming resumes it and reconciles:"
                    .into(),
            ),
            Write::Patch {
                object: object(app),
                body: r#"{"spec":{"suspend":null}}"#.into(),
            },
            reconcile(app),
        ],
        _ => vec![
            reconcile(app),
            Write::Say("then waits for status.lastHandledReconcileAt to match.".into()),
        ],
    }
}

fn suspend_writes(app: &AppId, _status: Option<&AppStatus>) -> Vec<Write> {
    match app.source {
        AppSource::ArgoCd => vec![
            auto_sync(app, false),
            Write::Say("prune, selfHeal and allowEmpty are kept as they are.".into()),
        ],
        _ => vec![Write::Patch {
            object: object(app),
            body: r#"{"spec":{"suspend":true}}"#.into(),
        }],
    }
}

fn resume_writes(app: &AppId, status: Option<&AppStatus>) -> Vec<Write> {
    if app.source == AppSource::ArgoCd {
        return vec![auto_sync(app, true)];
    }
    let mut writes = vec![];
    if let Some(pin) = status.and_then(|s| s.paused_revision.as_ref()) {
        writes.push(Write::Say(format!(
            "paused by a rollback at {}: its GitRepository's spec.ref is restored from {ROLLBACK_REF}",
            pin.short()
        )));
    }
    writes.push(Write::Patch {
        object: object(app),
        body: r#"{"spec":{"suspend":null}}"#.into(),
    });
    writes.push(reconcile(app));
    writes
}

fn rollback_writes(app: &AppId, sha: &Revision) -> Vec<Write> {
    match app.source {
        AppSource::ArgoCd => vec![
            Write::Say("auto-sync is turned off first (Argo CD requires it):".into()),
            auto_sync(app, false),
            Write::Operation {
                object: object(app),
                sync: format!(
                    r#"{{"revision":"{}","syncStrategy":{{"apply":{{}}}},"source":<the history entry's source>}}"#,
                    sha.as_str()
                ),
            },
        ],
        _ => vec![
            Write::Patch {
                object: "its GitRepository".into(),
                body: format!(
                    r#"{{"spec":{{"ref":{{"commit":"{}"}}}},"metadata":{{"annotations":{{"{ROLLBACK_REF}":"<its spec.ref as JSON>"}}}}}}"#,
                    sha.as_str()
                ),
            },
            Write::Say(
                "then reconciles it and the Kustomization, waits for the pin to be applied and suspends the Kustomization (spec.suspend: true); resume (p) restores the ref exactly.".into(),
            ),
        ],
    }
}
