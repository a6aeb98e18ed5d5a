//! The TUI's pure core, in the Elm style: one model ([`AppState`]), one
//! message type ([`Msg`]) and [`update`], which changes the model and returns
//! the work to do ([`Effect`]) instead of doing it. No I/O, no channels, no
//! terminal: the runtime runs effects and feeds results back as messages, and
//! every behaviour here is testable by feeding messages in.
//!
//! Background results carry a generation; stale ones are dropped. Loads are
//! coalesced: at most one status load per app and one preview load in
//! flight, plus the newest one wanted.

pub mod diffdoc;
pub mod discovered;
pub mod events;
pub mod filter;
pub mod history;
pub mod ignore;
mod input;
mod keychord;
pub mod keymap;
mod keys;
mod loads;
pub mod local;
pub mod logkeys;
pub mod logs;
pub mod mouse;
mod ops;
pub mod slots;
pub mod state;
pub mod tree;

#[cfg(test)]
mod tests;

pub use history::{Commit, History};
pub use keymap::{Action, KeyChord, Keymap, KeymapError, Scope, Section};
pub use state::{
    AppEntry, AppRow, AppState, ConfirmAction, ConnectionState, DiffSource, DiffView, FirstRun,
    Focus, Mode, OpKind, Operation, OwnedObject, SortKey, ThemeKind, Toast, ToastLevel,
};

use crate::model::{AppId, ResourceKey, Revision};
use crate::model::{AppStatus, EventRow};
use crossterm::event::KeyEvent;
use std::time::SystemTime;

/// Identifies one long operation from start to finish.
pub type OpId = u64;

#[derive(Debug, Clone)]
pub enum Msg {
    Key {
        key: KeyEvent,
    },
    Resize {
        width: u16,
        height: u16,
    },
    /// The clock: the only source of "now", so ages and toasts are testable.
    Tick {
        now: SystemTime,
    },
    StatusLoaded {
        app: AppId,
        generation: u64,
        result: Result<AppStatus, String>,
    },
    /// The same load's status after the dry-runs its first answer left
    /// unsure (the first screen does not wait for them).
    StatusRefined {
        app: AppId,
        generation: u64,
        status: AppStatus,
    },
    CommitsLoaded {
        app: AppId,
        result: Result<History, String>,
    },
    /// The app's status compared with commit `sha` instead of its target.
    PreviewLoaded {
        app: AppId,
        sha: Revision,
        generation: u64,
        result: Result<AppStatus, String>,
    },
    /// Unified diff of the app's path between `sha`'s parent and `sha`.
    CommitDiffLoaded {
        app: AppId,
        sha: Revision,
        generation: u64,
        result: Result<String, String>,
    },
    /// Live objects owned by the app's resources (ReplicaSets, Pods), from a watch.
    OwnedObjects {
        app: AppId,
        objects: Vec<OwnedObject>,
    },
    OperationProgress {
        id: OpId,
        message: String,
    },
    OperationFinished {
        id: OpId,
        result: Result<String, String>,
    },
    Connection {
        context: String,
        state: ConnectionState,
    },
    /// A watch saw the app's objects or record change: reload its status.
    AppChanged {
        app: AppId,
    },
    /// SIGTERM or SIGINT: quit as the quit key does (running operations
    /// are cancelled and waited for).
    Terminate,
    /// A line from the engine a person should see (a wait before a retry,
    /// a lease taken over).
    Notice {
        text: String,
    },
    /// The app's status with its local work tree as the source (`L`).
    LocalLoaded {
        app: AppId,
        generation: u64,
        result: Result<AppStatus, String>,
    },
    /// The recent Events of `key` in `app`, newest first.
    EventsLoaded {
        app: AppId,
        key: ResourceKey,
        generation: u64,
        result: Result<Vec<EventRow>, String>,
    },
    /// Lines of log stream `stream` (dropped when it is no longer shown).
    LogLines {
        stream: u64,
        lines: Vec<logs::LogLine>,
    },
    /// Log stream `stream` connected, is reconnecting, or ended.
    LogStream {
        stream: u64,
        event: logs::LogEvent,
    },
    /// A click or wheel, with what the renderer drew under the pointer.
    Mouse {
        action: mouse::MouseAction,
        hit: Option<mouse::Hit>,
    },
    /// Flux and Argo CD apps found (at start, on `R`, on a watch's news),
    /// and the contexts or kinds that could not be looked at.
    AppsDiscovered {
        apps: Vec<AppEntry>,
        problems: Vec<String>,
    },
    /// A watch saw a Kustomization, HelmRelease or Application come or go.
    ManagedSetChanged,
}

/// Work for the runtime. A load with a newer generation for the same app (or,
/// for previews, any app) supersedes an older one still running: the runtime
/// may abort the older task, whose answer would be dropped anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    LoadStatus {
        app: AppId,
        generation: u64,
    },
    LoadCommits {
        app: AppId,
    },
    LoadPreview {
        app: AppId,
        sha: Revision,
        generation: u64,
    },
    LoadCommitDiff {
        app: AppId,
        sha: Revision,
        generation: u64,
    },
    Sync {
        id: OpId,
        apps: Vec<AppId>,
        prune: bool,
        /// The apps whose confirm dialog listed objects to adopt: confirming
        /// it is the consent a sync needs to take them over.
        adopt: Vec<AppId>,
    },
    Suspend {
        id: OpId,
        app: AppId,
        /// Why (may be empty): recorded with who and when.
        reason: String,
    },
    Resume {
        id: OpId,
        app: AppId,
    },
    Rollback {
        id: OpId,
        app: AppId,
        sha: Revision,
        /// The preview listed objects to adopt: confirming it is the consent.
        adopt: bool,
    },
    Cancel {
        id: OpId,
    },
    /// Argo CD refresh of `app`, waited for until the controller handled it.
    Refresh {
        id: OpId,
        app: AppId,
        hard: bool,
    },
    /// The app's status from its local work tree (`L`); a newer generation supersedes.
    LoadLocal {
        app: AppId,
        generation: u64,
    },
    /// Append an `ignore_differences` rule to the config file (`i`).
    AppendIgnoreRule {
        app: AppId,
        proposal: crate::model::IgnoreProposal,
    },
    /// The recent Events of the selected resource; a newer one supersedes it.
    LoadEvents {
        app: AppId,
        key: ResourceKey,
        generation: u64,
    },
    /// Read a container's log (the last `tail` lines, then follow unless it
    /// is the previous run); replaces any stream open before.
    OpenLogs {
        stream: u64,
        target: logs::LogTarget,
        tail: usize,
    },
    CloseLogs {
        stream: u64,
    },
    /// Look for Flux and Argo CD apps in this run's contexts.
    Discover,
    Quit,
}

pub fn update(state: &mut AppState, msg: Msg) -> Vec<Effect> {
    let mut effects = dispatch(state, msg);
    // Whatever moved the selection (keys, a new tree, a filter), the Events
    // shown follow the selected resource.
    effects.extend(state.want_events(false));
    effects
}

fn dispatch(state: &mut AppState, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key { key } => keys::on_key(state, key),
        Msg::Resize { width, height } => {
            if state.size != (width, height) {
                state.size = (width, height);
                state.touch();
            }
            vec![]
        }
        Msg::Tick { now } => {
            loads::tick(state, now);
            vec![]
        }
        Msg::StatusLoaded {
            app,
            generation,
            result,
        } => loads::status_loaded(state, &app, generation, result),
        Msg::StatusRefined {
            app,
            generation,
            status,
        } => loads::status_refined(state, &app, generation, status),
        Msg::CommitsLoaded { app, result } => loads::commits_loaded(state, &app, result),
        Msg::PreviewLoaded {
            generation, result, ..
        } => loads::preview_loaded(state, generation, result),
        Msg::CommitDiffLoaded {
            generation, result, ..
        } => loads::commit_diff_loaded(state, generation, result),
        Msg::OwnedObjects { app, objects } => {
            loads::owned_objects(state, &app, objects);
            vec![]
        }
        Msg::OperationProgress { id, message } => {
            ops::progress(state, id, message);
            vec![]
        }
        Msg::OperationFinished { id, result } => ops::finished(state, id, result),
        Msg::Connection { context, state: c } => loads::connection(state, context, c),
        Msg::AppChanged { app } => loads::app_changed(state, &app),
        Msg::EventsLoaded {
            generation, result, ..
        } => events::events_loaded(state, generation, result),
        Msg::Terminate => ops::quit(state),
        Msg::LocalLoaded {
            app,
            generation,
            result,
        } => {
            local::loaded(state, &app, generation, result);
            vec![]
        }
        Msg::Notice { text } => {
            state.toast(ToastLevel::Info, text);
            vec![]
        }
        Msg::LogLines { stream, lines } => {
            logs::lines_arrived(state, stream, lines);
            vec![]
        }
        Msg::LogStream { stream, event } => {
            logs::stream_event(state, stream, event);
            vec![]
        }
        Msg::Mouse { action, hit } => mouse::on_mouse(state, action, hit),
        Msg::AppsDiscovered { apps, problems } => {
            discovered::apps_discovered(state, apps, problems)
        }
        Msg::ManagedSetChanged => discovered::discover(state),
    }
}
