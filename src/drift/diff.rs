//! Rendering two normalised objects as a unified text diff of their YAML, and
//! naming the fields that differ.
//!
//! Key order is fixed (`apiVersion`, `kind`, `metadata`, `spec` first as
//! kubectl shows them, every other map sorted), so a diff only ever shows
//! content changes, never reordering by whoever wrote the object last.

use serde_json::{Map, Value};
use similar::TextDiff;

const LEADING_KEYS: &[&str] = &["apiVersion", "kind", "metadata", "spec"];
const CONTEXT_LINES: usize = 3;

/// A copy of `value` with map keys in display order.
pub fn display_order(value: &Value) -> Value {
    order(value, true)
}

fn order(value: &Value, top: bool) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by_key(|k| {
                let rank = match top {
                    true => LEADING_KEYS.iter().position(|l| l == k),
                    false => None,
                };
                (rank.unwrap_or(LEADING_KEYS.len()), k.as_str())
            });
            let mut out = Map::new();
            for key in keys {
                if let Some(v) = map.get(key) {
                    out.insert(key.clone(), order(v, false));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| order(i, false)).collect()),
        other => other.clone(),
    }
}

/// YAML text of an object in display order; `Null` (no object) is empty text,
/// so a one-sided diff shows every line added or removed.
pub fn to_yaml(value: &Value) -> String {
    if value.is_null() {
        return String::new();
    }
    let ordered = display_order(value);
    // Serialising a JSON value to YAML cannot fail in practice; should it ever,
    // pretty JSON (also valid YAML) still shows the content.
    serde_yaml::to_string(&ordered).unwrap_or_else(|_| format!("{ordered:#}\n"))
}

/// Unified diff with 3 lines of context; empty when the texts are equal.
pub fn unified(old: &str, new: &str, old_label: &str, new_label: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(old_label, new_label)
        .to_string()
}

/// The paths (`spec.replicas`, `spec.template.spec.containers[name=web].image`,
/// `metadata.labels["app.kubernetes.io/name"]`) where `old` and `new` differ,
/// sorted. Lists of named items are matched by name, so a reordered or
/// injected container does not shift every path after it.
pub fn changed_paths(old: &Value, new: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(old, new, "", &mut out);
    out.sort();
    out.dedup();
    out
}

fn walk(old: &Value, new: &Value, path: &str, out: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, av) in a {
                let sub = field_path(path, key);
                match b.get(key) {
                    Some(bv) => walk(av, bv, &sub, out),
                    None => out.push(sub),
                }
            }
            for key in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(field_path(path, key));
            }
        }
        (Value::Array(a), Value::Array(b)) => match (names(a), names(b)) {
            (Some(an), Some(bn)) => {
                for (name, av) in an.iter().zip(a) {
                    let sub = format!("{path}[name={name}]");
                    match bn.iter().position(|n| n == name) {
                        Some(i) => walk(av, &b[i], &sub, out),
                        None => out.push(sub),
                    }
                }
                for name in bn.iter().filter(|n| !an.contains(n)) {
                    out.push(format!("{path}[name={name}]"));
                }
            }
            _ if a.len() == b.len() => {
                for (i, (av, bv)) in a.iter().zip(b).enumerate() {
                    walk(av, bv, &format!("{path}[{i}]"), out);
                }
            }
            _ => out.push(path.to_string()),
        },
        (a, b) => {
            if a != b {
                out.push(path.to_string());
            }
        }
    }
}

/// The `name` of every item, when every item has a distinct string name.
fn names(items: &[Value]) -> Option<Vec<&str>> {
    let names: Vec<&str> = items
        .iter()
        .map(|i| i.get("name").and_then(Value::as_str))
        .collect::<Option<_>>()?;
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    (sorted.len() == names.len()).then_some(names)
}

fn field_path(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (plain, parent.is_empty()) {
        (true, true) => key.to_string(),
        (true, false) => format!("{parent}.{key}"),
        (false, _) => format!("{parent}[{key:?}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kubectl_key_order() {
        let v = json!({"status": {}, "spec": {"b": 1, "a": 2}, "kind": "K", "data": {}, "metadata": {"name": "x", "labels": {}}, "apiVersion": "v1"});
        let text = to_yaml(&v);
        let keys: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with(' '))
            .map(|l| l.split(':').next().unwrap_or(""))
            .collect();
        assert_eq!(
            keys,
            ["apiVersion", "kind", "metadata", "spec", "data", "status"]
        );
        assert!(text.contains("spec:\n  a: 2\n  b: 1\n"));
        assert!(text.contains("metadata:\n  labels: {}\n  name: x\n"));
    }

    #[test]
    fn paths_name_fields_and_list_items() {
        let old = json!({"metadata": {"labels": {"app.kubernetes.io/name": "a"}},
            "spec": {"replicas": 1, "containers": [{"name": "web", "image": "a"}, {"name": "old"}],
                     "ports": [{"port": 80}], "args": ["x"]}});
        let new = json!({"metadata": {"labels": {"app.kubernetes.io/name": "b"}},
            "spec": {"replicas": 2, "containers": [{"name": "new"}, {"name": "web", "image": "b"}],
                     "ports": [{"port": 81}], "args": ["x", "y"]}});
        assert_eq!(
            changed_paths(&old, &new),
            [
                "metadata.labels[\"app.kubernetes.io/name\"]",
                "spec.args",
                "spec.containers[name=new]",
                "spec.containers[name=old]",
                "spec.containers[name=web].image",
                "spec.ports[0].port",
                "spec.replicas",
            ]
        );
        assert!(changed_paths(&old, &old).is_empty());
    }

    #[test]
    fn unified_diff_with_headers() {
        let old = "a: 1\nb: 2\n";
        let new = "a: 1\nb: 3\n";
        let d = unified(
            old,
            new,
            "live apps/Deployment default/web",
            "desired apps/Deployment default/web",
        );
        assert!(d.starts_with(
            "--- live apps/Deployment default/web\n+++ desired apps/Deployment default/web\n"
        ));
        assert!(d.contains("-b: 2\n+b: 3\n"));
        assert_eq!(unified(old, old, "x", "y"), "");
    }
}
