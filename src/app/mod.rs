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
pub mod events;
pub mod filter;
pub mod history;
mod input;
mod keychord;
pub mod keymap;
mod keys;
mod loads;
mod ops;
pub mod slots;
pub mod state;
pub mod tree;

#[cfg(test)]
mod tests;

pub use history::{Commit, History};
pub use keymap::{Action, KeyChord, Keymap, KeymapError, Scope, Section};
pub use state::{
    AppEntry, AppRow, AppState, ConfirmAction, ConnectionState, DiffSource, DiffView, Focus, Mode,
    OpKind, Operation, SortKey, ThemeKind, Toast, ToastLevel,
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
        objects: Vec<serde_json::Value>,
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
    /// The recent Events of `key` in `app`, newest first.
    EventsLoaded {
        app: AppId,
        key: ResourceKey,
        generation: u64,
        result: Result<Vec<EventRow>, String>,
    },
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
    /// The recent Events of the selected resource; a newer one supersedes it.
    LoadEvents {
        app: AppId,
        key: ResourceKey,
        generation: u64,
    },
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
        Msg::Notice { text } => {
            state.toast(ToastLevel::Info, text);
            vec![]
        }
    }
}
