//! `i` in the diff pane: the `ignore_differences` rule that would silence a
//! drifted field. The field is the first changed line at or below the top
//! of the view; its path is read from the diff's YAML by indentation (the
//! parents a hunk shows), list positions resolved against the live object,
//! and a path that cannot be told for sure is refused with the reason,
//! never guessed.

use super::diffdoc::{self, LineKind};
use super::state::{AppState, DiffSource};
use super::tree::NodeRef;
use crate::model::LiveObject;
use crate::model::{IgnoreProposal, ResourceState};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    /// A list item; what its first line said (`- name: web` → name, web).
    Item(Option<(String, String)>),
    /// A scalar list item (`- foo`).
    Scalar(String),
}

struct YamlLine {
    /// Column of the key (or of the scalar).
    key_col: usize,
    /// Column of `- ` when the line starts a list item.
    item_col: Option<usize>,
    key: Option<String>,
    /// What follows `key:` (empty for a parent).
    value: String,
}

fn parse(text: &str) -> Option<YamlLine> {
    let indent = text.len() - text.trim_start_matches(' ').len();
    let mut rest = &text[indent..];
    if rest.is_empty() || rest.starts_with('#') {
        return None;
    }
    let mut item_col = None;
    let mut key_col = indent;
    if rest == "-" || rest.starts_with("- ") {
        item_col = Some(indent);
        rest = rest.get(2..).unwrap_or("");
        key_col = indent + 2;
    }
    let split = rest
        .find(": ")
        .map(|i| (&rest[..i], &rest[i + 2..]))
        .or_else(|| rest.strip_suffix(':').map(|k| (k, "")));
    let (key, value) = match split {
        Some((k, v)) if !k.is_empty() && !k.starts_with(['"', '\'', '{', '[']) => {
            (Some(k.to_string()), v.trim().to_string())
        }
        _ => (None, rest.trim().to_string()),
    };
    Some(YamlLine {
        key_col,
        item_col,
        key,
        value,
    })
}

/// The path of `lines[index]` (a `+`/`-` line of a unified diff of YAML),
/// from the lines above it in its hunk.
fn path_of(lines: &[&str], index: usize) -> Result<Vec<Seg>, String> {
    let target = lines.get(index).ok_or("no line there")?;
    let marker = target.chars().next().ok_or("an empty line")?;
    let skip = if marker == '-' { '+' } else { '-' };
    let t = parse(&target[1..]).ok_or("not a field")?;
    let mut segs = Vec::new();
    match (&t.key, t.item_col) {
        (Some(k), None) => segs.push(Seg::Key(k.clone())),
        (Some(k), Some(_)) => {
            segs.push(Seg::Key(k.clone()));
            segs.push(Seg::Item(Some((k.clone(), t.value.clone()))));
        }
        (None, Some(_)) => segs.push(Seg::Scalar(t.value.clone())),
        (None, None) => return Err("not a field".into()),
    }
    // Looking for the parent of a key at `col`, or (after an item) of a
    // list whose items sit at `col`.
    let mut col = t.item_col.unwrap_or(t.key_col);
    let mut seeking_list_parent = t.item_col.is_some();
    for line in lines[..index].iter().rev() {
        if line.starts_with("@@") || line.starts_with("---") || line.starts_with("+++") {
            break;
        }
        if col == 0 && !seeking_list_parent {
            break;
        }
        if line.starts_with(skip) {
            continue;
        }
        let Some(l) = parse(line.get(1..).unwrap_or("")) else {
            continue;
        };
        if seeking_list_parent {
            if l.item_col.is_none() && l.key_col <= col && l.value.is_empty() {
                if let Some(k) = l.key {
                    segs.push(Seg::Key(k));
                    col = l.key_col;
                    seeking_list_parent = false;
                }
            }
            continue;
        }
        // A sibling key of the same list item: the item starts here.
        if let (Some(ic), true) = (l.item_col, l.key_col == col) {
            segs.push(Seg::Item(l.key.clone().map(|k| (k, l.value.clone()))));
            col = ic;
            seeking_list_parent = true;
            continue;
        }
        if l.key_col < col && l.item_col.is_none() && l.value.is_empty() {
            if let Some(k) = l.key {
                segs.push(Seg::Key(k));
                col = l.key_col;
            }
        }
    }
    if col != 0 || seeking_list_parent {
        return Err("its parent fields are outside the hunk shown".into());
    }
    segs.reverse();
    Ok(segs)
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Turns the path into a JSON pointer, finding list positions in `live`.
fn pointer(segs: &[Seg], live: Option<&Value>) -> Result<String, String> {
    let mut out = String::new();
    let mut here = live;
    let mut iter = segs.iter().peekable();
    while let Some(seg) = iter.next() {
        match seg {
            Seg::Key(k) => {
                // An item's first key was pushed twice (key, then item):
                // the key comes after the item's index.
                if matches!(iter.peek(), Some(Seg::Item(Some((ik, _)))) if ik == k) {
                    continue;
                }
                out.push('/');
                out.push_str(&escape(k));
                here = here.and_then(|v| v.get(k));
            }
            Seg::Item(_) | Seg::Scalar(_) if here.is_none() => {
                return Err(
                    "a list position that only the live object can tell, and it has none".into(),
                );
            }
            Seg::Item(hint) => {
                let items = here
                    .and_then(Value::as_array)
                    .ok_or("not a list in the live object")?;
                let index = match hint {
                    Some((k, v)) => items
                        .iter()
                        .position(|i| i.get(k).is_some_and(|x| scalar_text(x) == *v))
                        .or_else(|| (items.len() == 1).then_some(0)),
                    None => (items.len() == 1).then_some(0),
                }
                .ok_or("which list item it is cannot be told for sure")?;
                out.push_str(&format!("/{index}"));
                here = items.get(index);
                if let Some((k, _)) = hint {
                    if !matches!(iter.peek(), Some(Seg::Key(_))) {
                        out.push('/');
                        out.push_str(&escape(k));
                    }
                }
            }
            Seg::Scalar(v) => {
                let items = here
                    .and_then(Value::as_array)
                    .ok_or("not a list in the live object")?;
                let index = items
                    .iter()
                    .position(|i| scalar_text(i) == *v)
                    .ok_or("which list item it is cannot be told for sure")?;
                out.push_str(&format!("/{index}"));
            }
        }
    }
    Ok(out)
}

/// The JSON pointer of changed line `index` of `r`'s diff.
pub fn field_pointer(r: &ResourceState, index: usize) -> Result<String, String> {
    let lines: Vec<&str> = r.diff.lines().collect();
    let segs = path_of(&lines, index)?;
    pointer(&segs, r.live.as_ref().map(LiveObject::value).as_ref())
}

/// The rule for the field at the top of the diff view, with the app.
pub fn propose(state: &AppState) -> Result<IgnoreProposal, String> {
    let row = state.selected_row().ok_or("no app selected")?;
    let status = row
        .status
        .value
        .as_ref()
        .ok_or("the status is not loaded yet")?;
    let doc = diffdoc::current(state);
    let start = state.diff.scroll.min(doc.lines.len());
    let (at, _) = doc
        .lines
        .iter()
        .enumerate()
        .skip(start)
        .find(|(_, l)| matches!(l.kind, LineKind::Added | LineKind::Removed))
        .ok_or("no drifted field at or below the top of the diff (n jumps to the next hunk)")?;
    let (resource, first_line) = match state.diff.source {
        DiffSource::Resource => match state.selected_tree_row().map(|t| t.node) {
            Some(NodeRef::Resource(i)) => (status.resources.get(i).ok_or("no resource")?, 0),
            _ => return Err("select one of the app's resources".into()),
        },
        DiffSource::App => {
            let title = doc.lines[..at]
                .iter()
                .rposition(|l| l.kind == LineKind::Title)
                .ok_or("no resource above this line")?;
            let text = &doc.lines[title].text;
            let r = status
                .resources
                .iter()
                .find(|r| format!("{} · {}", r.key, r.status) == *text)
                .ok_or("the resource of this line is gone")?;
            (r, title + 1)
        }
        _ => return Err("ignore rules come from the drift of live against Git (d)".into()),
    };
    if resource.live.is_none() {
        return Err(format!(
            "{} is not in the cluster: nothing to ignore",
            resource.key
        ));
    }
    let json_pointer = field_pointer(resource, at - first_line)?;
    Ok(IgnoreProposal {
        group: resource.key.group.clone(),
        kind: resource.key.kind.clone(),
        namespace: resource.key.namespace.clone(),
        name: resource.key.name.clone(),
        json_pointer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pointer_of(diff: &str, needle: &str, live: Value) -> Result<String, String> {
        let lines: Vec<&str> = diff.lines().collect();
        let index = lines.iter().position(|l| *l == needle).expect("needle");
        pointer(&path_of(&lines, index)?, Some(&live))
    }

    #[test]
    fn a_scalar_field_under_its_parents() {
        let diff = "--- live\n+++ desired\n@@ -7,7 +7,7 @@\n   namespace: catalog\n spec:\n   progressDeadlineSeconds: 600\n-  replicas: 4\n+  replicas: 2\n   revisionHistoryLimit: 10\n";
        let live = json!({"spec": {"replicas": 4}});
        assert_eq!(
            pointer_of(diff, "-  replicas: 4", live.clone()),
            Ok("/spec/replicas".into())
        );
        assert_eq!(
            pointer_of(diff, "+  replicas: 2", live),
            Ok("/spec/replicas".into())
        );
    }

    #[test]
    fn list_items_are_found_in_the_live_object_and_keys_escaped() {
        let diff = "@@ -20,9 +20,9 @@\n spec:\n   template:\n     spec:\n       containers:\n       - name: sidecar\n         image: envoy:1\n       - name: web\n-        image: nginx:1.27\n+        image: nginx:1.28\n";
        let live = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "sidecar", "image": "envoy:1"}, {"name": "web", "image": "nginx:1.27"}]}}}});
        assert_eq!(
            pointer_of(diff, "-        image: nginx:1.27", live),
            Ok("/spec/template/spec/containers/1/image".into())
        );
        let diff = "@@ -1,5 +1,5 @@\n metadata:\n   labels:\n-    app.kubernetes.io/name: a\n+    app.kubernetes.io/name: b\n";
        assert_eq!(
            pointer_of(diff, "-    app.kubernetes.io/name: a", json!({})),
            Ok("/metadata/labels/app.kubernetes.io~1name".into())
        );
    }

    #[test]
    fn a_path_whose_parents_are_outside_the_hunk_is_refused() {
        let diff = "@@ -40,3 +40,3 @@\n         cpu: 100m\n-        memory: 64Mi\n+        memory: 128Mi\n";
        let err =
            pointer_of(diff, "-        memory: 64Mi", json!({})).expect_err("unknown parents");
        assert!(err.contains("outside the hunk"), "{err}");
    }

    #[test]
    fn an_item_whose_position_cannot_be_told_is_refused() {
        let diff = "@@ -1,6 +1,6 @@\n spec:\n   ports:\n-  - port: 80\n+  - port: 8080\n";
        let live = json!({"spec": {"ports": [{"port": 80}, {"port": 443}]}});
        assert_eq!(
            pointer_of(diff, "-  - port: 80", live.clone()),
            Ok("/spec/ports/0/port".into())
        );
        let err = pointer_of(diff, "+  - port: 8080", live).expect_err("8080 is in no live item");
        assert!(err.contains("cannot be told"), "{err}");
    }
}
