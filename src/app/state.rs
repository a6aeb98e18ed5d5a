//! The model: everything the screen shows, and nothing that does I/O.
//!
//! Background data lives in slots (slots.rs) that remember which load they
//! wait for, so a late answer to an older request is dropped.

use super::history::History;
use super::keymap::Keymap;
pub use super::slots::{Coalesced, Latest, Slot};
use super::tree::{self, TreeRow};
use crate::model::{AppId, AppStatus, Revision};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::SystemTime;

/// One app as the runtime hands it over: which app, and the kubeconfig
/// context it lives in (already resolved to a name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppEntry {
    pub id: AppId,
    pub context: String,
}

#[derive(Debug, Clone)]
pub struct AppRow {
    pub id: AppId,
    pub context: String,
    pub status: Slot<AppStatus>,
    pub history: Slot<History>,
    /// Live objects owned by the app's resources (ReplicaSets, Pods), for
    /// the tree: the watch's own copies, shared.
    pub owned: Vec<OwnedObject>,
    /// The resources pane's rows, rebuilt when status or owned objects change.
    pub tree: Vec<TreeRow>,
}

/// An object owned by one of an app's resources, with its health worked
/// out once by the watch (the pane shows it on every frame; the object is
/// kept as compact JSON and parsed only to be shown whole).
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedObject {
    pub live: crate::model::LiveObject,
    pub health: crate::model::Health,
    pub health_reason: String,
}

impl OwnedObject {
    /// `live` with its health (parses it once).
    pub fn new(live: crate::model::LiveObject) -> OwnedObject {
        let (health, health_reason) = crate::health::health(&live.value());
        OwnedObject {
            live,
            health,
            health_reason,
        }
    }
}

impl From<serde_json::Value> for OwnedObject {
    fn from(v: serde_json::Value) -> OwnedObject {
        OwnedObject::new(v.into())
    }
}

impl AppRow {
    pub(crate) fn rebuild_tree(&mut self) {
        self.tree = match &self.status.value {
            Some(s) => tree::build(&s.resources, &self.owned),
            None => vec![],
        };
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Apps,
    Resources,
    Diff,
    Commits,
}

impl Focus {
    pub const ORDER: [Focus; 4] = [Focus::Apps, Focus::Resources, Focus::Diff, Focus::Commits];
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmAction {
    Sync {
        apps: Vec<AppId>,
        prune: bool,
    },
    /// `reason` is typed in the dialog (issue 12): why, for the teammates.
    Suspend {
        app: AppId,
        reason: String,
    },
    Resume {
        app: AppId,
    },
    Rollback {
        app: AppId,
        sha: Revision,
    },
    /// Argo CD refresh (`hard`: its manifest cache bypassed), toggled with `h`.
    Refresh {
        app: AppId,
        hard: bool,
    },
    /// Append this rule under the app's table in the config file.
    IgnoreRule {
        app: AppId,
        proposal: crate::model::IgnoreProposal,
    },
}

impl ConfirmAction {
    /// Whether the dialog is a text field (every printable key is text, with
    /// its own keys said in its body): a native app's suspend, whose reason
    /// is kept in the app's record. A Flux or Argo CD app has nowhere to keep
    /// one, so its suspend is confirmed as any other dialog.
    pub fn is_text_field(&self) -> bool {
        matches!(self, ConfirmAction::Suspend { app, .. } if app.is_native())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Filter,
    Command { input: String },
    Confirm(ConfirmAction),
    Help,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    /// Out of sync first.
    Sync,
    /// Worst health first.
    Health,
}

impl SortKey {
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Name => SortKey::Sync,
            SortKey::Sync => SortKey::Health,
            SortKey::Health => SortKey::Name,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Sync => "sync",
            SortKey::Health => "health",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpKind {
    Sync { prune: bool },
    Suspend,
    Resume,
    Rollback { sha: Revision },
    Refresh { hard: bool },
}

impl OpKind {
    pub fn verb(&self) -> &'static str {
        match self {
            OpKind::Sync { .. } => "sync",
            OpKind::Suspend => "suspend",
            OpKind::Resume => "resume",
            OpKind::Rollback { .. } => "rollback",
            OpKind::Refresh { hard: false } => "refresh",
            OpKind::Refresh { hard: true } => "hard refresh",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub id: u64,
    pub apps: Vec<AppId>,
    pub kind: OpKind,
    pub spinner: usize,
    pub progress: String,
    pub started: SystemTime,
    pub cancelling: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastLevel {
    Info,
    Success,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub level: ToastLevel,
    pub expires: SystemTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionState {
    Connected,
    Reconnecting { attempt: u32 },
    Forbidden { message: String },
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffSource {
    /// The selected resource's drift.
    Resource,
    /// Every drifted resource of the selected app.
    App,
    /// The selected commit compared with live (the rollback preview).
    CommitVsLive,
    /// The selected commit against its parent, for the app's path.
    CommitVsPrevious,
    /// The selected resource's live object as YAML (Secrets masked).
    LiveYaml,
}

impl DiffSource {
    pub fn is_commit(self) -> bool {
        matches!(
            self,
            DiffSource::CommitVsLive | DiffSource::CommitVsPrevious
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffView {
    pub source: DiffSource,
    /// First document line shown.
    pub scroll: usize,
    pub wrap: bool,
    /// Index of the hunk last jumped to.
    pub hunk: usize,
    /// Columns scrolled to the right (without wrap).
    pub hscroll: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThemeKind {
    Dark,
    Light,
    Plain,
}

impl ThemeKind {
    /// The config's `ui.theme`; NO_COLOR (passed in by the runtime) wins.
    pub fn from_config(name: Option<&str>, no_color: bool) -> ThemeKind {
        if no_color {
            return ThemeKind::Plain;
        }
        match name {
            Some("light") => ThemeKind::Light,
            Some("plain") => ThemeKind::Plain,
            _ => ThemeKind::Dark,
        }
    }
}

/// A first run: no app in the config (or no config at all). The apps pane
/// says where the config is looked for and how to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstRun {
    /// The config file looked for (or read, when it has no apps).
    pub config: String,
    /// The current folder is in a Git repository: `init` needs no REPO.
    pub repo_here: bool,
}

#[derive(Debug, Clone)]
pub struct AppState {
    pub apps: Vec<AppRow>,
    /// Indices into `apps` shown in the apps pane (filtered by `/` and `:ctx`, sorted).
    pub visible: Vec<usize>,
    pub focus: Focus,
    /// The pane Esc returns to from the diff pane.
    pub(crate) diff_return: Focus,
    pub mode: Mode,
    pub sort: SortKey,
    pub filter: String,
    /// `:ctx NAME`: show only that context's apps.
    pub context_filter: Option<String>,
    /// Index into `visible`.
    pub selected_app: usize,
    pub selected_resource: usize,
    pub selected_commit: usize,
    pub marks: BTreeSet<AppId>,
    pub operations: Vec<Operation>,
    pub toasts: Vec<Toast>,
    pub connections: BTreeMap<String, ConnectionState>,
    pub diff: DiffView,
    pub preview: Coalesced<AppStatus>,
    pub commit_diff: Coalesced<String>,
    /// The recent Events of the selected resource.
    pub events: super::events::EventsSlot,
    /// The log pane and its pod/container chooser.
    pub logs: super::logs::LogsState,
    /// Looking for Flux and Argo CD apps.
    pub discovery: super::discovered::Discovery,
    pub readonly: bool,
    pub keymap: Keymap,
    pub theme: ThemeKind,
    pub now: SystemTime,
    pub size: (u16, u16),
    /// Set when anything visible changed; the runtime draws and clears it.
    pub dirty: bool,
    /// Counts state changes, for tests and redraw bookkeeping.
    pub revision: u64,
    pub quitting: bool,
    pub(crate) next_generation: u64,
    pub(crate) next_op: u64,
    pub first_run: Option<FirstRun>,
    /// `L`: the selected app's work tree instead of its revision.
    pub local: Option<super::local::LocalDiff>,
    /// Where each app's row was last seen in `apps`, checked on every use
    /// and rebuilt when wrong (see [`AppState::app_index`]).
    pub(crate) row_index: AppIndex,
}

/// [`AppState::app_index`]'s memory: each app's last known row. `apps` is
/// changed in many places (sorted, joined, pruned), so an entry is only a
/// hint, trusted after checking the row it names holds the app; a wrong or
/// missing one rebuilds the whole map (one pass), which the next lookups
/// reuse. A first screen of 1,000 answers searched the rows 1,000 times.
#[derive(Debug, Default)]
pub(crate) struct AppIndex(std::sync::Mutex<HashMap<AppId, usize>>);

/// A copy of the state starts with no memory of its own (it is only a hint).
impl Clone for AppIndex {
    fn clone(&self) -> Self {
        AppIndex::default()
    }
}

impl AppState {
    pub fn new(apps: Vec<AppEntry>, now: SystemTime) -> AppState {
        let mut connections = BTreeMap::new();
        for a in &apps {
            connections
                .entry(a.context.clone())
                .or_insert(ConnectionState::Unknown);
        }
        let mut state = AppState {
            apps: apps
                .into_iter()
                .map(|a| AppRow {
                    id: a.id,
                    context: a.context,
                    status: Slot::default(),
                    history: Slot::default(),
                    owned: vec![],
                    tree: vec![],
                })
                .collect(),
            visible: vec![],
            focus: Focus::Apps,
            diff_return: Focus::Resources,
            mode: Mode::Normal,
            sort: SortKey::Name,
            filter: String::new(),
            context_filter: None,
            selected_app: 0,
            selected_resource: 0,
            selected_commit: 0,
            marks: BTreeSet::new(),
            operations: vec![],
            toasts: vec![],
            connections,
            diff: DiffView {
                source: DiffSource::App,
                scroll: 0,
                wrap: false,
                hunk: 0,
                hscroll: 0,
            },
            preview: Coalesced::default(),
            commit_diff: Coalesced::default(),
            events: super::events::EventsSlot::default(),
            logs: super::logs::LogsState::default(),
            discovery: Default::default(),
            readonly: false,
            keymap: Keymap::default(),
            theme: ThemeKind::Dark,
            now,
            size: (80, 24),
            dirty: true,
            revision: 0,
            quitting: false,
            next_generation: 0,
            next_op: 0,
            first_run: None,
            local: None,
            row_index: AppIndex::default(),
        };
        state.refresh_view();
        state
    }

    pub fn with_readonly(mut self, readonly: bool) -> Self {
        self.readonly = readonly;
        self
    }

    pub fn with_keymap(mut self, keymap: Keymap) -> Self {
        self.keymap = keymap;
        self
    }

    pub fn with_theme(mut self, theme: ThemeKind) -> Self {
        self.theme = theme;
        self
    }

    /// The first loads: every app's status and the selected app's commits.
    /// Whether every app shows a status that is not Unknown (what the
    /// benchmark runner waits for, through `GITOPS_TUI_READY_FILE`).
    pub fn all_statused(&self) -> bool {
        self.apps.iter().all(|row| {
            row.status
                .value
                .as_ref()
                .is_some_and(|s| s.sync != crate::model::SyncStatus::Unknown)
        })
    }

    pub fn start(&mut self) -> Vec<super::Effect> {
        let mut effects: Vec<super::Effect> = (0..self.apps.len())
            .filter_map(|i| self.load_status(i, true))
            .collect();
        effects.extend(
            self.selected_index()
                .and_then(|i| self.load_commits(i, false)),
        );
        effects
    }

    /// Whether a frame is owed (without taking it).
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// True once; the runtime draws when it returns true.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    pub(crate) fn touch(&mut self) {
        self.dirty = true;
        self.revision += 1;
    }

    pub fn app_index(&self, id: &AppId) -> Option<usize> {
        let holds = |i: usize| self.apps.get(i).is_some_and(|a| &a.id == id);
        let mut index = self.row_index.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&i) = index.get(id) {
            if holds(i) {
                return Some(i);
            }
        }
        *index = self
            .apps
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), i))
            .collect();
        index.get(id).copied().filter(|&i| holds(i))
    }

    /// Index into `apps` of the selected row.
    pub fn selected_index(&self) -> Option<usize> {
        self.visible.get(self.selected_app).copied()
    }

    pub fn selected_row(&self) -> Option<&AppRow> {
        self.selected_index().and_then(|i| self.apps.get(i))
    }

    pub fn selected_status(&self) -> Option<&AppStatus> {
        self.selected_row().and_then(|r| r.status.value.as_ref())
    }

    pub fn selected_tree_row(&self) -> Option<&TreeRow> {
        self.selected_row()
            .and_then(|r| r.tree.get(self.selected_resource))
    }

    pub fn selected_commit(&self) -> Option<&super::history::Commit> {
        self.selected_row()
            .and_then(|r| r.history.value.as_ref())
            .and_then(|h| h.commits.get(self.selected_commit))
    }

    /// Apps a sync would act on: the marked ones, else the selected one.
    pub fn targets(&self) -> Vec<AppId> {
        if !self.marks.is_empty() {
            return self
                .apps
                .iter()
                .filter(|a| self.marks.contains(&a.id))
                .map(|a| a.id.clone())
                .collect();
        }
        self.selected_row()
            .map(|r| vec![r.id.clone()])
            .unwrap_or_default()
    }

    pub fn operation_on(&self, app: &AppId) -> Option<&Operation> {
        self.operations
            .iter()
            .find(|o| o.apps.iter().any(|a| a == app))
    }

    pub fn connection(&self, context: &str) -> &ConnectionState {
        self.connections
            .get(context)
            .unwrap_or(&ConnectionState::Unknown)
    }

    /// Recompute `visible` after the filter, sort, context or statuses
    /// changed, keeping the same app selected when it is still shown.
    pub(crate) fn refresh_view(&mut self) {
        let selected = self.selected_index();
        let mut rows: Vec<(usize, u32)> = self
            .apps
            .iter()
            .enumerate()
            .filter(|(_, a)| self.context_filter.as_ref().is_none_or(|c| &a.context == c))
            .filter_map(|(i, a)| super::filter::app_score(&self.filter, &a.id).map(|s| (i, s)))
            .collect();
        let sort_key = |i: usize| {
            let s = self.apps.get(i).and_then(|a| a.status.value.as_ref());
            let sync = match s.map(|s| s.sync) {
                Some(crate::model::SyncStatus::OutOfSync) => 0,
                Some(crate::model::SyncStatus::Unknown) | None => 1,
                Some(crate::model::SyncStatus::Synced) => 2,
            };
            let health = s.map(|s| s.health);
            (sync, health)
        };
        match self.sort {
            SortKey::Name => rows.sort_by(|a, b| self.apps[a.0].id.cmp(&self.apps[b.0].id)),
            SortKey::Sync => rows.sort_by_key(|r| (sort_key(r.0).0, self.apps[r.0].id.clone())),
            SortKey::Health => rows.sort_by_key(|r| {
                (
                    std::cmp::Reverse(sort_key(r.0).1),
                    self.apps[r.0].id.clone(),
                )
            }),
        }
        self.visible = rows.into_iter().map(|(i, _)| i).collect();
        self.selected_app = selected
            .and_then(|s| self.visible.iter().position(|v| *v == s))
            .unwrap_or(0);
    }
}
