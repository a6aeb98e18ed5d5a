//! The one keymap: the key handler and the `?` help overlay both read it, so
//! what the help says is what the keys do (flux9s listed keys in one file and
//! matched them in another; they drifted apart).
//!
//! `Action` is `Deserialize` (snake_case), so `[ui.keys]` in the config maps
//! `sync = "S"` straight onto it, and a typo in an action name is an error.

pub use super::keychord::KeyChord;
use crossterm::event::KeyEvent;
use serde::de::IntoDeserializer;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// Everything a key can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    NextPane,
    PrevPane,
    Enter,
    Back,
    Filter,
    NextMatch,
    PrevMatch,
    Command,
    Help,
    Mark,
    Sort,
    Sync,
    SuspendResume,
    Rollback,
    Cancel,
    Diff,
    Wrap,
    Refresh,
    Yaml,
    Quit,
    Confirm,
    TogglePrune,
    Logs,
    ScrollLeft,
    ScrollRight,
    LogPrevious,
    LogWrap,
    LogTimestamps,
    LogSearch,
    IgnoreField,
    LocalDiff,
    ArgoRefresh,
    ToggleHard,
}

/// Where an action's keys are live: the panes, a confirm dialog, or both;
/// or the log pane, whose own keys shadow the panes' there (`p`, `w`, `/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Normal,
    Dialog,
    Both,
    Logs,
}

/// Groups for the help overlay, in the order shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    Navigation,
    Views,
    Operations,
    Dialog,
    Logs,
}

impl Section {
    pub fn title(self) -> &'static str {
        match self {
            Section::Navigation => "Navigation",
            Section::Views => "Views",
            Section::Operations => "Operations",
            Section::Dialog => "In a confirm dialog",
            Section::Logs => "In the log pane",
        }
    }
}

impl Action {
    pub const ALL: [Action; 39] = [
        Action::Up,
        Action::Down,
        Action::Top,
        Action::Bottom,
        Action::PageUp,
        Action::PageDown,
        Action::NextPane,
        Action::PrevPane,
        Action::Enter,
        Action::Back,
        Action::Filter,
        Action::NextMatch,
        Action::PrevMatch,
        Action::Command,
        Action::Help,
        Action::Mark,
        Action::Sort,
        Action::Diff,
        Action::Wrap,
        Action::LocalDiff,
        Action::Yaml,
        Action::Logs,
        Action::ScrollLeft,
        Action::ScrollRight,
        Action::Refresh,
        Action::Sync,
        Action::SuspendResume,
        Action::Rollback,
        Action::Cancel,
        Action::IgnoreField,
        Action::ArgoRefresh,
        Action::Quit,
        Action::Confirm,
        Action::TogglePrune,
        Action::ToggleHard,
        Action::LogPrevious,
        Action::LogWrap,
        Action::LogTimestamps,
        Action::LogSearch,
    ];

    /// The words the help shows (and the README's keys table uses).
    pub fn label(self) -> &'static str {
        match self {
            Action::Up => "up",
            Action::Down => "down",
            Action::Top => "first row",
            Action::Bottom => "last row",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::NextPane => "next pane",
            Action::PrevPane => "previous pane",
            Action::Enter => "drill in",
            Action::Back => "back / close",
            Action::Filter => "filter apps (fuzzy)",
            Action::NextMatch => "next match / next hunk",
            Action::PrevMatch => "previous match / hunk",
            Action::Command => "command (:ctx :app :q)",
            Action::Help => "help",
            Action::Mark => "mark app",
            Action::Sort => "sort apps",
            Action::Sync => "sync selected/marked",
            Action::SuspendResume => "suspend/resume",
            Action::Rollback => "rollback to commit",
            Action::Cancel => "cancel operation",
            Action::Diff => "diff: resource/app",
            Action::Wrap => "wrap diff lines",
            Action::Refresh => "refresh",
            Action::Yaml => "YAML of live object",
            Action::Quit => "quit",
            Action::Confirm => "confirm",
            Action::TogglePrune => "toggle prune",
            Action::Logs => "logs of pod/workload",
            Action::ScrollLeft => "scroll long lines left",
            Action::ScrollRight => "scroll long lines right",
            Action::LogPrevious => "previous/current run",
            Action::LogWrap => "wrap log lines",
            Action::LogTimestamps => "timestamps",
            Action::LogSearch => "search (n/N next/previous)",
            Action::IgnoreField => "ignore this drifted field (config rule)",
            Action::LocalDiff => "diff: revision/local work tree",
            Action::ArgoRefresh => "Argo CD refresh",
            Action::ToggleHard => "hard refresh on/off",
        }
    }

    pub fn scope(self) -> Scope {
        match self {
            Action::Confirm | Action::TogglePrune | Action::ToggleHard => Scope::Dialog,
            Action::LogPrevious | Action::LogWrap | Action::LogTimestamps | Action::LogSearch => {
                Scope::Logs
            }
            Action::Back | Action::Quit => Scope::Both,
            _ => Scope::Normal,
        }
    }

    pub fn section(self) -> Section {
        match self {
            Action::Up
            | Action::Down
            | Action::Top
            | Action::Bottom
            | Action::PageUp
            | Action::PageDown
            | Action::NextPane
            | Action::PrevPane
            | Action::Enter
            | Action::Back
            | Action::Filter
            | Action::NextMatch
            | Action::PrevMatch
            | Action::Command => Section::Navigation,
            Action::Help
            | Action::Mark
            | Action::Sort
            | Action::Diff
            | Action::Wrap
            | Action::LocalDiff
            | Action::Yaml
            | Action::Logs
            | Action::ScrollLeft
            | Action::ScrollRight
            | Action::Refresh
            | Action::Quit => Section::Views,
            Action::Sync
            | Action::SuspendResume
            | Action::Rollback
            | Action::Cancel
            | Action::IgnoreField
            | Action::ArgoRefresh => Section::Operations,
            Action::Confirm | Action::TogglePrune | Action::ToggleHard => Section::Dialog,
            Action::LogPrevious | Action::LogWrap | Action::LogTimestamps | Action::LogSearch => {
                Section::Logs
            }
        }
    }

    /// Changes the cluster or an app's record: refused under `--readonly`.
    pub fn mutating(self) -> bool {
        matches!(
            self,
            Action::Sync
                | Action::SuspendResume
                | Action::Rollback
                | Action::Cancel
                | Action::ArgoRefresh
        )
    }

    fn default_keys(self) -> &'static [&'static str] {
        match self {
            Action::Up => &["k", "up"],
            Action::Down => &["j", "down"],
            Action::Top => &["g", "home"],
            Action::Bottom => &["G", "end"],
            Action::PageUp => &["pgup", "ctrl-b"],
            Action::PageDown => &["pgdn", "ctrl-f"],
            Action::NextPane => &["tab"],
            Action::PrevPane => &["shift-tab"],
            Action::Enter => &["enter"],
            Action::Back => &["esc"],
            Action::Filter => &["/"],
            Action::NextMatch => &["n"],
            Action::PrevMatch => &["N"],
            Action::Command => &[":"],
            Action::Help => &["?"],
            Action::Mark => &["space"],
            Action::Sort => &["o"],
            Action::Sync => &["s"],
            Action::SuspendResume => &["p"],
            Action::Rollback => &["r"],
            Action::Cancel => &["x"],
            Action::Diff => &["d"],
            Action::Wrap => &["w"],
            Action::Refresh => &["R"],
            Action::Yaml => &["y"],
            Action::Quit => &["q"],
            Action::Confirm => &["y", "enter"],
            Action::TogglePrune => &["p"],
            Action::Logs => &["l"],
            Action::ScrollLeft => &["left"],
            Action::ScrollRight => &["right"],
            Action::LogPrevious => &["p"],
            Action::LogWrap => &["w"],
            Action::LogTimestamps => &["t"],
            Action::LogSearch => &["/"],
            Action::IgnoreField => &["i"],
            Action::LocalDiff => &["L"],
            Action::ArgoRefresh => &["ctrl-r"],
            Action::ToggleHard => &["h"],
        }
    }
}

/// Serialises an action under its config name (`suspend_resume`), the
/// inverse of the `Deserialize` the config uses.
struct ActionName(Action);

impl serde::Serialize for ActionName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let name = format!("{:?}", self.0);
        let mut snake = String::new();
        for (i, c) in name.chars().enumerate() {
            if c.is_uppercase() && i > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        }
        s.serialize_str(&snake)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeymapError {
    #[error("[ui.keys]: unknown action {0:?}")]
    UnknownAction(String),
    #[error("[ui.keys]: cannot read key {0:?} (try \"s\", \"S\", \"ctrl-s\", \"space\", \"f5\")")]
    BadKey(String),
    #[error("[ui.keys]: {key} is bound to both {first:?} and {second:?}")]
    Conflict {
        key: String,
        first: String,
        second: String,
    },
}

/// Action → keys. Lookups are linear: there are fewer than 50 bindings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: BTreeMap<Action, Vec<KeyChord>>,
}

impl Default for Keymap {
    fn default() -> Self {
        let bindings = Action::ALL
            .iter()
            .map(|a| {
                let keys = a
                    .default_keys()
                    .iter()
                    .filter_map(|k| KeyChord::parse(k).ok())
                    .collect();
                (*a, keys)
            })
            .collect();
        Keymap { bindings }
    }
}

fn overlaps(a: Scope, b: Scope) -> bool {
    let logs = a == Scope::Logs || b == Scope::Logs;
    a == b || (!logs && (a == Scope::Both || b == Scope::Both))
}

impl Keymap {
    /// The defaults with `[ui.keys]` applied: each entry replaces the
    /// action's keys; several keys are separated by spaces (`"j down"`).
    pub fn from_config(keys: &BTreeMap<String, String>) -> Result<Keymap, KeymapError> {
        let mut map = Keymap::default();
        for (name, value) in keys {
            let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
                name.as_str().into_deserializer();
            let action =
                Action::deserialize(de).map_err(|_| KeymapError::UnknownAction(name.clone()))?;
            let chords = value
                .split_whitespace()
                .map(KeyChord::parse)
                .collect::<Result<Vec<_>, _>>()?;
            if chords.is_empty() {
                return Err(KeymapError::BadKey(value.clone()));
            }
            map.bindings.insert(action, chords);
        }
        map.check()?;
        Ok(map)
    }

    fn check(&self) -> Result<(), KeymapError> {
        for (a, keys) in &self.bindings {
            for (b, other) in self.bindings.range(..*a) {
                if !overlaps(a.scope(), b.scope()) {
                    continue;
                }
                if let Some(k) = keys.iter().find(|k| other.contains(k)) {
                    return Err(KeymapError::Conflict {
                        key: k.to_string(),
                        first: format!("{b:?}"),
                        second: format!("{a:?}"),
                    });
                }
            }
        }
        Ok(())
    }

    /// The action a key means in `scope` (Normal: the panes; Dialog: a confirm).
    pub fn action(&self, scope: Scope, key: &KeyEvent) -> Option<Action> {
        let chord = KeyChord::from_event(key);
        self.bindings
            .iter()
            .find(|(a, keys)| overlaps(a.scope(), scope) && keys.contains(&chord))
            .map(|(a, _)| *a)
    }

    /// The keys table for the README, from the same bindings the handler
    /// and the help overlay use (a test keeps the README equal to it).
    pub fn markdown_table(&self) -> String {
        let mut out = String::from("| keys | action | config name |\n|---|---|---|\n");
        for action in Action::ALL {
            let keys: Vec<String> = self.keys(action).iter().map(|k| format!("`{k}`")).collect();
            let name = serde_json::to_value(ActionName(action))
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let note = if action.mutating() {
                " (not in `--readonly`)"
            } else {
                ""
            };
            out.push_str(&format!(
                "| {} | {}{note} | `{name}` |\n",
                keys.join(" "),
                action.label()
            ));
        }
        out
    }

    pub fn keys(&self, action: Action) -> &[KeyChord] {
        self.bindings.get(&action).map(Vec::as_slice).unwrap_or(&[])
    }

    /// `j/↓` for the help and hints.
    pub fn keys_text(&self, action: Action) -> String {
        let keys: Vec<String> = self.keys(action).iter().map(ToString::to_string).collect();
        keys.join("/")
    }

    /// Actions in help order, grouped by section.
    pub fn help(&self) -> Vec<(Section, Vec<Action>)> {
        let mut out: Vec<(Section, Vec<Action>)> = vec![];
        let mut actions = Action::ALL.to_vec();
        actions.sort_by_key(|a| a.section());
        for a in actions {
            match out.last_mut() {
                Some((s, list)) if *s == a.section() => list.push(a),
                _ => out.push((a.section(), vec![a])),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn defaults_have_no_conflicts_and_scopes_separate_y() {
        let k = Keymap::default();
        assert_eq!(k.check(), Ok(()));
        assert_eq!(k.action(Scope::Normal, &key('y')), Some(Action::Yaml));
        assert_eq!(k.action(Scope::Dialog, &key('y')), Some(Action::Confirm));
        assert_eq!(k.action(Scope::Dialog, &key('q')), Some(Action::Quit));
        let shifted_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(k.action(Scope::Normal, &shifted_g), Some(Action::Bottom));
        let shift_tab = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(k.action(Scope::Normal, &shift_tab), Some(Action::PrevPane));
    }

    #[test]
    fn config_remaps_and_reports_errors() {
        let mut cfg = BTreeMap::new();
        cfg.insert("sync".to_string(), "S ctrl-s".to_string());
        let k = Keymap::from_config(&cfg).expect("valid");
        assert_eq!(k.action(Scope::Normal, &key('S')), Some(Action::Sync));
        assert_eq!(k.action(Scope::Normal, &key('s')), None);
        assert_eq!(k.keys_text(Action::Sync), "S/Ctrl-S");

        cfg.insert("snyc".to_string(), "z".to_string());
        assert_eq!(
            Keymap::from_config(&cfg),
            Err(KeymapError::UnknownAction("snyc".into()))
        );
        let mut clash = BTreeMap::new();
        clash.insert("refresh".to_string(), "j".to_string());
        assert!(matches!(
            Keymap::from_config(&clash),
            Err(KeymapError::Conflict { .. })
        ));
        let mut bad = BTreeMap::new();
        bad.insert("quit".to_string(), "hyper-q".to_string());
        assert!(matches!(
            Keymap::from_config(&bad),
            Err(KeymapError::BadKey(_))
        ));
    }

    #[test]
    fn help_lists_every_action_once() {
        let help = Keymap::default().help();
        let n: usize = help.iter().map(|(_, a)| a.len()).sum();
        assert_eq!(n, Action::ALL.len());
    }
}
