//! Mutating actions (sync, suspend/resume, rollback, cancel) and the
//! operations they start. Every destructive action goes the same way:
//! key → `Mode::Confirm(ConfirmAction)` → confirm → an `Operation` with an id
//! and the effect that runs it. Under `--readonly` the keys only say so.
//! Cancel and quit never abort an operation: they ask it to stop after the
//! object in flight (`Effect::Cancel`), and it answers when it has.

use super::keymap::Action;
use super::state::{
    AppState, ConfirmAction, DiffSource, Focus, Mode, OpKind, Operation, ToastLevel,
};
use super::{Effect, OpId};
use crate::model::{AppId, AppSource};

/// Sync / SuspendResume / Rollback / Cancel from the panes.
pub(super) fn request(state: &mut AppState, action: Action) -> Vec<Effect> {
    if state.readonly {
        state.toast(
            ToastLevel::Error,
            format!("read-only: {} is disabled (--readonly)", action.label()),
        );
        return vec![];
    }
    match action {
        Action::Sync => ask_sync(state),
        Action::SuspendResume => ask_suspend_resume(state),
        Action::Rollback => return ask_rollback(state),
        Action::ArgoRefresh => ask_refresh(state),
        Action::Cancel => return cancel(state),
        _ => {}
    }
    vec![]
}

fn busy(state: &AppState, apps: &[AppId]) -> Option<AppId> {
    apps.iter()
        .find(|a| state.operation_on(a).is_some())
        .cloned()
}

fn ask_sync(state: &mut AppState) {
    let apps = state.targets();
    if apps.is_empty() {
        state.toast(ToastLevel::Info, "no app selected");
        return;
    }
    if let Some(app) = busy(state, &apps) {
        state.toast(
            ToastLevel::Error,
            format!("{app}: an operation is already running"),
        );
        return;
    }
    state.mode = Mode::Confirm(ConfirmAction::Sync { apps, prune: false });
    state.touch();
}

fn ask_suspend_resume(state: &mut AppState) {
    let Some(row) = state.selected_row() else {
        state.toast(ToastLevel::Info, "no app selected");
        return;
    };
    let app = row.id.clone();
    let Some(status) = &row.status.value else {
        state.toast(ToastLevel::Info, format!("{app}: status not loaded yet"));
        return;
    };
    let paused = status.suspended || status.paused_revision.is_some();
    if busy(state, std::slice::from_ref(&app)).is_some() {
        state.toast(
            ToastLevel::Error,
            format!("{app}: an operation is already running"),
        );
        return;
    }
    state.mode = Mode::Confirm(if paused {
        ConfirmAction::Resume { app }
    } else {
        ConfirmAction::Suspend {
            app,
            reason: String::new(),
        }
    });
    state.touch();
}

/// Argo CD's refresh; a Flux or native app has none, and is told what it has.
fn ask_refresh(state: &mut AppState) {
    let Some(app) = state.selected_row().map(|r| r.id.clone()) else {
        state.toast(ToastLevel::Info, "no app selected");
        return;
    };
    let keys = |a: Action| state.keymap.keys_text(a);
    let why = match app.source {
        AppSource::ArgoCd => None,
        AppSource::Flux => Some(format!(
            "{app}: Flux has no refresh; {} (sync) requests a reconcile",
            keys(Action::Sync)
        )),
        AppSource::Native => Some(format!(
            "{app}: compared with Git on every load; {} reloads it",
            keys(Action::Refresh)
        )),
    };
    if let Some(why) = why {
        state.toast(ToastLevel::Info, why);
        return;
    }
    if busy(state, std::slice::from_ref(&app)).is_some() {
        state.toast(
            ToastLevel::Error,
            format!("{app}: an operation is already running"),
        );
        return;
    }
    state.mode = Mode::Confirm(ConfirmAction::Refresh { app, hard: false });
    state.touch();
}

/// `i`: the rule that would silence the drifted field at the top of the
/// diff, shown for confirmation (it writes the config file, not the cluster).
pub(super) fn ask_ignore(state: &mut AppState) -> Vec<Effect> {
    let Some(app) = state.selected_row().map(|r| r.id.clone()) else {
        state.toast(ToastLevel::Info, "no app selected");
        return vec![];
    };
    if !app.is_native() {
        state.toast(
            ToastLevel::Info,
            format!("{app}: its ignore rules live in its {} object", app.source),
        );
        return vec![];
    }
    match super::ignore::propose(state) {
        Ok(proposal) => {
            state.mode = Mode::Confirm(ConfirmAction::IgnoreRule { app, proposal });
            state.touch();
        }
        Err(why) => state.toast(ToastLevel::Info, format!("no ignore rule: {why}")),
    }
    vec![]
}

/// Rollback previews first: the dialog opens at once and fills in when the
/// preview (commit vs live) lands; confirming waits for it.
fn ask_rollback(state: &mut AppState) -> Vec<Effect> {
    let on_commit = state.focus == Focus::Commits
        || (state.focus == Focus::Diff && state.diff.source.is_commit());
    let Some(commit) = state.selected_commit().filter(|_| on_commit) else {
        state.toast(
            ToastLevel::Info,
            "select a commit in the Commits pane first (Tab)",
        );
        return vec![];
    };
    let sha = commit.sha.clone();
    let Some(app) = state.selected_row().map(|r| r.id.clone()) else {
        return vec![];
    };
    if busy(state, std::slice::from_ref(&app)).is_some() {
        state.toast(
            ToastLevel::Error,
            format!("{app}: an operation is already running"),
        );
        return vec![];
    }
    state.diff.source = DiffSource::CommitVsLive;
    state.mode = Mode::Confirm(ConfirmAction::Rollback { app, sha });
    state.touch();
    state.want_commit_views(false)
}

fn cancel(state: &mut AppState) -> Vec<Effect> {
    let selected = state.selected_row().map(|r| r.id.clone());
    let op = selected
        .and_then(|a| state.operation_on(&a).map(|o| o.id))
        .or_else(|| state.operations.last().map(|o| o.id));
    let Some(id) = op else {
        state.toast(ToastLevel::Info, "nothing to cancel");
        return vec![];
    };
    if let Some(op) = state.operations.iter_mut().find(|o| o.id == id) {
        if op.cancelling {
            return vec![];
        }
        op.cancelling = true;
        op.progress = FINISHING.into();
    }
    state.touch();
    vec![Effect::Cancel { id }]
}

/// What a cancelled operation shows until it has stopped.
pub const FINISHING: &str = "cancelling: finishing the object in flight…";

/// Quit (the key, `:q`, SIGTERM): every running operation is cancelled, and
/// the runtime waits a few seconds for them to stop before it restores the
/// terminal; quitting again while they finish leaves at once.
pub(super) fn quit(state: &mut AppState) -> Vec<Effect> {
    state.quitting = true;
    state.touch();
    let mut effects = vec![];
    for op in &mut state.operations {
        if !op.cancelling {
            op.cancelling = true;
            effects.push(Effect::Cancel { id: op.id });
        }
        op.progress = FINISHING.into();
    }
    effects.push(Effect::Quit);
    effects
}

/// Keys inside a confirm dialog.
/// The longest reason kept: a line in a pane, not an essay.
pub(super) const REASON_MAX: usize = 200;

pub(super) fn dialog_key(state: &mut AppState, action: Action) -> Vec<Effect> {
    let Mode::Confirm(pending) = &mut state.mode else {
        return vec![];
    };
    match action {
        Action::TogglePrune => {
            if let ConfirmAction::Sync { prune, .. } = pending {
                *prune = !*prune;
                state.touch();
            }
            vec![]
        }
        Action::ToggleHard => {
            if let ConfirmAction::Refresh { hard, .. } = pending {
                *hard = !*hard;
                state.touch();
            }
            vec![]
        }
        Action::Back | Action::Quit => {
            state.mode = Mode::Normal;
            state.touch();
            vec![]
        }
        Action::Confirm => {
            let pending = pending.clone();
            confirmed(state, pending)
        }
        _ => vec![],
    }
}

fn start(state: &mut AppState, apps: Vec<AppId>, kind: OpKind) -> OpId {
    state.next_op += 1;
    let id = state.next_op;
    state.operations.push(Operation {
        id,
        apps,
        progress: format!("{} starting…", kind.verb()),
        kind,
        spinner: 0,
        started: state.now,
        cancelling: false,
    });
    id
}

/// The apps among `apps` whose loaded status lists an object to adopt (the
/// sync dialog shows them).
fn shown_adoptions(state: &AppState, apps: &[AppId]) -> Vec<AppId> {
    apps.iter()
        .filter(|app| {
            state
                .app_index(app)
                .and_then(|i| state.apps[i].status.value.as_ref())
                .is_some_and(lists_adoptions)
        })
        .cloned()
        .collect()
}

/// Whether a status (or a rollback preview) lists an object to adopt.
fn lists_adoptions(s: &crate::model::AppStatus) -> bool {
    s.resources
        .iter()
        .any(|r| matches!(r.takeover, Some(crate::model::Takeover::Adopt { .. })))
}

/// One Flux app whose loaded status says it is suspended.
fn suspended_flux(state: &AppState, apps: &[AppId]) -> bool {
    match apps {
        [app] if app.source == crate::model::AppSource::Flux => state
            .app_index(app)
            .and_then(|i| state.apps[i].status.value.as_ref())
            .is_some_and(|s| s.suspended),
        _ => false,
    }
}

/// The one place a confirmed action becomes an operation.
fn confirmed(state: &mut AppState, action: ConfirmAction) -> Vec<Effect> {
    if let ConfirmAction::Rollback { app, sha } = &action {
        let ready = state
            .preview
            .get(app, sha)
            .is_some_and(|p| p.value.is_some());
        if !ready {
            state.toast(ToastLevel::Info, "the preview is still loading");
            return vec![];
        }
    }
    state.mode = Mode::Normal;
    state.touch();
    let effect = match action {
        // A suspended Flux object is not reconciled: its dialog offered
        // resume-and-reconcile, which resume is.
        ConfirmAction::Sync { apps, .. } if suspended_flux(state, &apps) => {
            let app = apps[0].clone();
            let id = start(state, vec![app.clone()], OpKind::Resume);
            Effect::Resume { id, app }
        }
        ConfirmAction::Sync { apps, prune } => {
            let adopt = shown_adoptions(state, &apps);
            let id = start(state, apps.clone(), OpKind::Sync { prune });
            state.marks.clear();
            Effect::Sync {
                id,
                apps,
                prune,
                adopt,
            }
        }
        ConfirmAction::Suspend { app, reason } => {
            let id = start(state, vec![app.clone()], OpKind::Suspend);
            Effect::Suspend {
                id,
                app,
                reason: reason.trim().to_string(),
            }
        }
        ConfirmAction::Resume { app } => {
            let id = start(state, vec![app.clone()], OpKind::Resume);
            Effect::Resume { id, app }
        }
        ConfirmAction::IgnoreRule { app, proposal } => Effect::AppendIgnoreRule { app, proposal },
        ConfirmAction::Refresh { app, hard } => {
            let id = start(state, vec![app.clone()], OpKind::Refresh { hard });
            Effect::Refresh { id, app, hard }
        }
        ConfirmAction::Rollback { app, sha } => {
            let adopt = state
                .preview
                .get(&app, &sha)
                .and_then(|p| p.value.as_ref())
                .is_some_and(lists_adoptions);
            let kind = OpKind::Rollback { sha: sha.clone() };
            let id = start(state, vec![app.clone()], kind);
            Effect::Rollback {
                id,
                app,
                sha,
                adopt,
            }
        }
    };
    vec![effect]
}

pub(super) fn progress(state: &mut AppState, id: OpId, message: String) {
    // Once cancelled, the operation says it is stopping until it has.
    if let Some(op) = state
        .operations
        .iter_mut()
        .find(|o| o.id == id && !o.cancelling)
    {
        op.progress = message;
        state.touch();
    }
}

/// An operation ended: say how, and reload what it changed (the watches
/// will too, but the user should not wait on them to see the result).
pub(super) fn finished(
    state: &mut AppState,
    id: OpId,
    result: Result<String, String>,
) -> Vec<Effect> {
    let Some(pos) = state.operations.iter().position(|o| o.id == id) else {
        return vec![];
    };
    let op = state.operations.remove(pos);
    let who = AppId::join(&op.apps, ", ");
    match result {
        Ok(m) if m.is_empty() => state.toast(
            ToastLevel::Success,
            format!("{} {who}: done", op.kind.verb()),
        ),
        Ok(m) => state.toast(
            ToastLevel::Success,
            format!("{} {who}: {m}", op.kind.verb()),
        ),
        Err(e) => state.toast(
            ToastLevel::Error,
            format!("{} {who} failed: {e}", op.kind.verb()),
        ),
    }
    let mut effects = vec![];
    for app in &op.apps {
        // A rollback preview or commit diff computed before the operation
        // compares with what the cluster no longer holds.
        state.preview.forget(app);
        state.commit_diff.forget(app);
        if let Some(i) = state.app_index(app) {
            effects.extend(state.load_status(i, true));
            if !matches!(op.kind, OpKind::Suspend) {
                effects.extend(state.load_commits(i, true));
            }
        }
    }
    let shown = state.selected_row().map(|r| r.id.clone());
    let commit_view = state.focus == Focus::Commits || state.diff.source.is_commit();
    if commit_view && shown.is_some_and(|a| op.apps.contains(&a)) {
        effects.extend(state.want_commit_views(false));
    }
    effects.extend(super::local::reload(state));
    effects
}
