//! What the diff pane shows, as typed lines: built from the state on demand by
//! both the renderer and the reducer (which needs the hunk positions for
//! `n`/`N`), so the two always agree on what a hunk is.

use super::state::{AppRow, AppState, DiffSource};
use super::tree::NodeRef;
use crate::model::SyncStatus;
use crate::model::{AppStatus, ResourceState};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// A resource's name above its diff in an app-wide view.
    Title,
    /// `--- live` / `+++ desired`.
    FileHeader,
    Hunk,
    Added,
    Removed,
    Context,
    /// Explanations: loading, errors, "no drift".
    Note,
    /// An error shown in place (invalid manifests, unreachable cluster).
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub kind: LineKind,
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffDoc {
    pub title: String,
    pub lines: Vec<DiffLine>,
    /// Line indices of `@@` headers.
    pub hunks: Vec<usize>,
}

impl DiffDoc {
    fn note(&mut self, kind: LineKind, text: impl Into<String>) {
        self.lines.push(DiffLine {
            kind,
            text: text.into(),
        });
    }

    fn unified(&mut self, text: &str) {
        for l in text.lines() {
            let kind = if l.starts_with("--- ") || l.starts_with("+++ ") {
                LineKind::FileHeader
            } else if l.starts_with("@@") {
                self.hunks.push(self.lines.len());
                LineKind::Hunk
            } else if l.starts_with('+') {
                LineKind::Added
            } else if l.starts_with('-') {
                LineKind::Removed
            } else {
                LineKind::Context
            };
            self.note(kind, l);
        }
    }

    fn resources(&mut self, status: &AppStatus) -> usize {
        let mut drifted = 0;
        for r in status.resources.iter().filter(|r| !r.diff.is_empty()) {
            drifted += 1;
            self.note(LineKind::Title, format!("{} · {}", r.key, r.status));
            self.unified(&r.diff);
        }
        drifted
    }

    fn problems(&mut self, status: &AppStatus) {
        if status.sync == SyncStatus::Unknown && !status.message.is_empty() {
            self.note(LineKind::Error, format!("✖ {}", status.message));
        }
        for w in &status.warnings {
            self.note(LineKind::Error, format!("! {w}"));
        }
    }
}

/// The document for the current diff source and selections.
pub fn current(state: &AppState) -> DiffDoc {
    let mut doc = DiffDoc::default();
    let Some(row) = state.selected_row() else {
        doc.title = "Diff".into();
        doc.note(LineKind::Note, "No app selected.");
        return doc;
    };
    match state.diff.source {
        DiffSource::CommitVsLive | DiffSource::CommitVsPrevious => commit_doc(state, row, &mut doc),
        source => app_doc(state, row, source, &mut doc),
    }
    doc
}

fn app_doc(state: &AppState, row: &AppRow, source: DiffSource, doc: &mut DiffDoc) {
    doc.title = format!("Diff: {}", row.id);
    // `L`: the work tree's status stands in for the revision's.
    let local = state
        .local
        .as_ref()
        .filter(|l| l.app == row.id && source != DiffSource::LiveYaml);
    if let Some(l) = local {
        doc.title = format!("Diff: {} (whole app, live → local work tree)", row.id);
        match (&l.value, &l.error) {
            (_, Some(e)) => doc.note(LineKind::Error, format!("✖ cannot read the work tree: {e}")),
            (None, None) => doc.note(LineKind::Note, "Reading the local work tree…"),
            (Some(s), None) => local_doc(state, row, source, s, doc),
        }
        return;
    }
    let Some(status) = &row.status.value else {
        match &row.status.error {
            Some(e) => doc.note(LineKind::Error, format!("✖ cannot load status: {e}")),
            None => doc.note(LineKind::Note, "Loading status…"),
        }
        return;
    };
    if let Some(e) = &row.status.error {
        doc.note(LineKind::Error, format!("✖ last refresh failed: {e}"));
    }
    doc.problems(status);
    let node = state.selected_tree_row().map(|t| t.node);
    // A Flux or Argo CD app whose manifests gitops-tui cannot read: no
    // verdict is claimed, the reason is the pane's whole content.
    if let (Some(why), false) = (&status.drift_unavailable, source == DiffSource::LiveYaml) {
        doc.title = format!("Diff: {}", row.id);
        doc.note(LineKind::Note, format!("Drift not computed: {why}."));
        doc.note(
            LineKind::Note,
            "The resources pane shows the controller's own view of them (y shows a live object).",
        );
        return;
    }
    match source {
        DiffSource::App | DiffSource::CommitVsLive | DiffSource::CommitVsPrevious => {
            doc.title = format!("Diff: {} (whole app, live → Git)", row.id);
            // An app whose manifests could not be read has no verdict to give.
            if doc.resources(status) == 0 && status.sync != SyncStatus::Unknown {
                doc.note(
                    LineKind::Note,
                    format!(
                        "No drift: {} resource{} match{} Git.",
                        status.counts.synced,
                        if status.counts.synced == 1 { "" } else { "s" },
                        if status.counts.synced == 1 { "es" } else { "" }
                    ),
                );
            }
        }
        DiffSource::Resource => match node {
            Some(NodeRef::Resource(i)) => {
                if let Some(r) = status.resources.get(i) {
                    resource_doc(r, doc);
                }
            }
            Some(NodeRef::Owned(i)) => {
                let name = row.owned.get(i).map(|o| o.live.name()).unwrap_or_default();
                doc.title = format!("Diff: {name}");
                doc.note(
                    LineKind::Note,
                    "Created by its owner, not by Git: no diff (y shows its YAML).",
                );
            }
            None => doc.note(LineKind::Note, "No resource selected."),
        },
        DiffSource::LiveYaml => {
            // The one object shown is parsed from the shared copy.
            let live = match node {
                Some(NodeRef::Resource(i)) => status.resources.get(i).and_then(|r| r.live.as_ref()),
                Some(NodeRef::Owned(i)) => row.owned.get(i).map(|o| &o.live),
                None => None,
            };
            match live {
                Some(obj) => {
                    doc.title = format!("YAML: {} (live)", obj.name());
                    for l in live_yaml(&obj.value()).lines() {
                        doc.note(LineKind::Context, l);
                    }
                }
                None => {
                    doc.title = "YAML".into();
                    doc.note(
                        LineKind::Note,
                        "Not in the cluster: no live object to show.",
                    );
                }
            }
        }
    }
}

/// The work tree's drift: the whole app, or the selected resource found by
/// its key (the tree's rows index the revision's status).
fn local_doc(
    state: &AppState,
    row: &AppRow,
    source: DiffSource,
    local: &AppStatus,
    doc: &mut DiffDoc,
) {
    doc.problems(local);
    let selected_key = match state.selected_tree_row().map(|t| t.node) {
        Some(NodeRef::Resource(i)) => row
            .status
            .value
            .as_ref()
            .and_then(|s| s.resources.get(i))
            .map(|r| r.key.clone()),
        _ => None,
    };
    match (source, selected_key) {
        (DiffSource::Resource, Some(key)) => match local.resources.iter().find(|r| r.key == key) {
            Some(r) => {
                resource_doc(r, doc);
                doc.title = format!("Diff: {} ({}, local work tree)", r.key, r.status);
            }
            None => doc.note(
                LineKind::Note,
                format!("{key} is not in the local work tree."),
            ),
        },
        _ => {
            if doc.resources(local) == 0 && local.sync != SyncStatus::Unknown {
                doc.note(
                    LineKind::Note,
                    "No drift: the local work tree matches live.",
                );
            }
        }
    }
}

fn resource_doc(r: &ResourceState, doc: &mut DiffDoc) {
    doc.title = format!("Diff: {} ({})", r.key, r.status);
    if r.diff.is_empty() {
        doc.note(LineKind::Note, "No drift: live matches Git.");
    } else {
        doc.unified(&r.diff);
    }
}

fn commit_doc(state: &AppState, row: &AppRow, doc: &mut DiffDoc) {
    let Some(commit) = state.selected_commit() else {
        doc.title = format!("Commit: {}", row.id);
        match (&row.history.error, row.history.loading) {
            (Some(e), _) => doc.note(LineKind::Error, format!("✖ cannot read history: {e}")),
            (None, true) => doc.note(LineKind::Note, "Loading commits…"),
            (None, false) => doc.note(LineKind::Note, "No commit selected."),
        }
        return;
    };
    let short = commit.short();
    if state.diff.source == DiffSource::CommitVsPrevious {
        doc.title = format!("Commit {short} vs its parent");
        match state.commit_diff.get(&row.id, &commit.sha) {
            Some(l) if l.loading() => doc.note(LineKind::Note, format!("Loading {short}…")),
            Some(l) => match (&l.value, &l.error) {
                (Some(t), _) if t.is_empty() => {
                    doc.note(LineKind::Note, "No change under the app's path.")
                }
                (Some(t), _) => doc.unified(t),
                (None, Some(e)) => doc.note(LineKind::Error, format!("✖ {e}")),
                (None, None) => {}
            },
            None => doc.note(LineKind::Note, format!("Loading {short}…")),
        }
        return;
    }
    doc.title = format!("Commit {short} vs live (rollback preview)");
    match state.preview.get(&row.id, &commit.sha) {
        Some(l) if l.loading() => doc.note(LineKind::Note, format!("Loading preview of {short}…")),
        Some(l) => match (&l.value, &l.error) {
            (Some(status), _) => {
                doc.problems(status);
                if doc.resources(status) == 0 {
                    doc.note(
                        LineKind::Note,
                        format!("Live already matches {short}: rolling back changes nothing."),
                    );
                }
            }
            (None, Some(e)) => doc.note(LineKind::Error, format!("✖ {e}")),
            (None, None) => {}
        },
        None => doc.note(LineKind::Note, format!("Loading preview of {short}…")),
    }
}

/// YAML of a live object without managedFields, Secret values masked (the
/// engine masks its diffs; this view reads the raw object, so it masks too).
pub fn live_yaml(obj: &Value) -> String {
    let mut obj = obj.clone();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    if obj.get("kind").and_then(Value::as_str) == Some("Secret") {
        for field in ["data", "stringData"] {
            if let Some(map) = obj.get_mut(field).and_then(Value::as_object_mut) {
                for v in map.values_mut() {
                    *v = Value::String("*** (masked)".into());
                }
            }
        }
        if let Some(ann) = obj
            .pointer_mut("/metadata/annotations")
            .and_then(Value::as_object_mut)
        {
            ann.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
    }
    serde_yaml::to_string(&obj).unwrap_or_else(|_| format!("{obj:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_masked_in_the_yaml_view() {
        let s = json!({"kind": "Secret", "metadata": {"name": "db", "managedFields": [{}]},
            "data": {"password": "aHVudGVyMg=="}});
        let y = live_yaml(&s);
        assert!(!y.contains("aHVudGVyMg"), "{y}");
        assert!(
            y.contains("*** (masked)") && !y.contains("managedFields"),
            "{y}"
        );
    }

    #[test]
    fn unified_text_is_typed_and_hunks_found() {
        let mut d = DiffDoc::default();
        d.unified("--- live\n+++ desired\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n@@ -9 +9 @@\n-x\n");
        let kinds: Vec<LineKind> = d.lines.iter().map(|l| l.kind).collect();
        assert_eq!(kinds[0], LineKind::FileHeader);
        assert_eq!(kinds[4], LineKind::Removed);
        assert_eq!(kinds[5], LineKind::Added);
        assert_eq!(d.hunks, vec![2, 6]);
    }
}
