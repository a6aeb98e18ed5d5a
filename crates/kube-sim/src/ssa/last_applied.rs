//! The bridge between client-side and server-side apply that kube-apiserver
//! builds into its field manager for the manager `kubectl`.
//!
//! `kubectl apply` (client-side) records what it applied in the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation and owns the
//! fields through an Update entry of `kubectl-client-side-apply`. A following
//! `kubectl apply --server-side` that changes one of those values would
//! conflict with that entry; kube-apiserver's `lastAppliedManager`
//! (k8s.io/apimachinery managedfields/internal/lastappliedmanager.go) lets it
//! take over every conflicting field that the annotation sets and the live
//! object still holds with the annotation's value, and only those. Its
//! `lastAppliedUpdater` (lastappliedupdater.go) then rewrites the annotation
//! to the configuration just applied, so a later client-side apply computes
//! its three-way patch against the right base. Both act only for the manager
//! `kubectl`, whatever the conflicting manager is called.

use super::compare::Comparison;
use super::fieldset::FieldSet;
use super::walk::FieldScope;
use crate::schema::Schema;
use serde_json::{Map, Value};

/// The annotation kubectl's client-side apply keeps.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The only manager both behaviours apply to (`kubectl apply --server-side`);
/// another `--field-manager` opts out, as upstream says.
pub const KUBECTL_MANAGER: &str = "kubectl";

/// kube-apiserver's limit on the total size of an object's annotations.
const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// The non-empty last-applied annotation of `obj`.
pub fn last_applied(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/annotations")?
        .get(LAST_APPLIED_ANNOTATION)?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// The fields an apply by `kubectl` may take over from whoever owns them:
/// those the live object's last-applied annotation sets, minus those whose
/// live value differs from it (or that it lacks). `None` when there is no
/// annotation or it cannot be read as an object of this API version and
/// type (`types` says whether it types against the kind's schema), in which
/// case nothing may be taken over, as upstream.
pub fn allowed_conflicts(
    live: &Value,
    schema: &Schema,
    api_version: &str,
    scope: FieldScope,
    types: &dyn Fn(&Value) -> bool,
) -> Option<FieldSet> {
    let text = last_applied(live)?;
    let applied: Value = serde_json::from_str(text).ok()?;
    // Decoded as an Unstructured object: it must be an object with a kind.
    applied
        .get("kind")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())?;
    if applied.get("apiVersion").and_then(Value::as_str) != Some(api_version) {
        return None;
    }
    if !types(&applied) {
        return None;
    }
    let set = FieldSet::from_object(&applied, schema, scope).ok()?;
    let cmp = Comparison::between(Some(&applied), live, schema, scope);
    Some(
        set.difference(&cmp.modified)
            .difference(&cmp.added)
            .difference(&cmp.removed),
    )
}

/// The annotation value kube-apiserver writes after an apply: the applied
/// configuration as sent, without the annotation itself, encoded as Go's
/// `json.Encoder` encodes an Unstructured object (keys sorted, HTML
/// characters escaped, numbers as float64, a final newline).
pub fn build_last_applied(config: &Value) -> String {
    let mut copy = config.clone();
    if let Some(Value::Object(annotations)) = copy.pointer_mut("/metadata/annotations") {
        annotations.remove(LAST_APPLIED_ANNOTATION);
    }
    let mut out = String::new();
    go_json(&copy, &mut out);
    out.push('\n');
    out
}

/// The `lastAppliedUpdater`: after a successful apply by `manager`, an object
/// that (still) carries the annotation gets it rewritten to `config`. Dropped
/// instead when the annotations would exceed kube-apiserver's size limit.
pub fn update_last_applied(merged: &mut Value, config: &Value, manager: &str) {
    if manager != KUBECTL_MANAGER || last_applied(merged).is_none() {
        return;
    }
    let value = build_last_applied(config);
    let Some(Value::Object(annotations)) = merged.pointer_mut("/metadata/annotations") else {
        return;
    };
    annotations.insert(LAST_APPLIED_ANNOTATION.into(), Value::String(value));
    let size: usize = annotations
        .iter()
        .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
        .sum();
    if size > TOTAL_ANNOTATION_SIZE_LIMIT {
        annotations.remove(LAST_APPLIED_ANNOTATION);
    }
}

/// Go's `encoding/json` output for a decoded `interface{}` tree.
fn go_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&go_float(n.as_f64().unwrap_or(0.0))),
        Value::String(s) => go_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => go_object(map, out),
    }
}

fn go_object(map: &Map<String, Value>, out: &mut String) {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    out.push('{');
    for (i, k) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        go_string(k, out);
        out.push(':');
        go_json(&map[k], out);
    }
    out.push('}');
}

/// A float64 as Go's encoder writes it: shortest round-trip digits, plain
/// notation between 1e-6 and 1e21, exponent notation (`1e+21`) outside.
fn go_float(f: f64) -> String {
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        return format!("{f}");
    }
    let s = format!("{f:e}");
    match s.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
        _ => s,
    }
}

/// A string as Go's encoder writes it, with HTML escaping on.
fn go_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_annotation_is_written_as_gos_encoder_writes_it() {
        let config = json!({"kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": "c", "annotations": {
                LAST_APPLIED_ANNOTATION: "old", "note": "a<b & c>d\u{2028}"}},
            "data": {"z": "1", "a": "tab\there\u{1}"}, "n": [3, 1.5, 1e21, 0.0000001]});
        assert_eq!(
            build_last_applied(&config),
            "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"tab\\there\\u0001\",\"z\":\"1\"},\"kind\":\"ConfigMap\",\"metadata\":{\"annotations\":{\"note\":\"a\\u003cb \\u0026 c\\u003ed\\u2028\"},\"name\":\"c\"},\"n\":[3,1.5,1e+21,1e-7]}\n"
        );
        // Without other annotations the map stays, empty, as upstream's copy.
        let only = json!({"metadata": {"annotations": {LAST_APPLIED_ANNOTATION: "x"}}});
        assert_eq!(
            build_last_applied(&only),
            "{\"metadata\":{\"annotations\":{}}}\n"
        );
    }

    #[test]
    fn only_kubectl_rewrites_an_annotation_that_is_there() {
        let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "2"}});
        let with = json!({"metadata": {"annotations": {LAST_APPLIED_ANNOTATION: "{}", "x": "y"}}});
        let mut merged = with.clone();
        update_last_applied(&mut merged, &config, "kubectl");
        assert_eq!(
            merged["metadata"]["annotations"][LAST_APPLIED_ANNOTATION],
            "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"2\"},\"kind\":\"ConfigMap\"}\n"
        );
        assert_eq!(merged["metadata"]["annotations"]["x"], "y");
        let mut other = with.clone();
        update_last_applied(&mut other, &config, "gitops-tui");
        assert_eq!(other, with);
        let mut absent = json!({"metadata": {"annotations": {"x": "y"}}});
        update_last_applied(&mut absent, &config, "kubectl");
        assert_eq!(absent, json!({"metadata": {"annotations": {"x": "y"}}}));
        let mut empty = json!({"metadata": {"annotations": {LAST_APPLIED_ANNOTATION: ""}}});
        update_last_applied(&mut empty, &config, "kubectl");
        assert_eq!(
            empty["metadata"]["annotations"][LAST_APPLIED_ANNOTATION],
            ""
        );
        // Too big for the annotations' limit: dropped, not stored.
        let big =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "x".repeat(300 * 1024)}});
        let mut merged = with.clone();
        update_last_applied(&mut merged, &big, "kubectl");
        assert_eq!(merged, json!({"metadata": {"annotations": {"x": "y"}}}));
    }

    #[test]
    fn allowed_fields_are_those_live_still_holds_from_the_annotation() {
        let cm = Schema::builtin("", "ConfigMap");
        let applied = r#"{"apiVersion":"v1","data":{"a":"1","b":"2","gone":"x"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"c","namespace":"default"}}"#;
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "default",
                "annotations": {LAST_APPLIED_ANNOTATION: applied}},
            "data": {"a": "1", "b": "edited", "c": "3"}});
        let yes = |_: &Value| true;
        let set = allowed_conflicts(&live, &cm, "v1", FieldScope::Main, &yes).expect("allowed");
        let paths = set.path_strings();
        assert!(paths.contains(&".data.a".to_string()), "{paths:?}");
        for not in [".data.b", ".data.c", ".data.gone"] {
            assert!(!paths.contains(&not.to_string()), "{not} in {paths:?}");
        }
        // Identity fields are never owned (the field manager strips them).
        assert!(!paths.contains(&".metadata.name".to_string()));
        // Another version, no kind, not JSON, no annotation, or not typing: none.
        assert!(allowed_conflicts(&live, &cm, "v2", FieldScope::Main, &yes).is_none());
        assert!(allowed_conflicts(&live, &cm, "v1", FieldScope::Main, &|_| false).is_none());
        for bad in [r#"{"apiVersion":"v1","data":{"a":"1"}}"#, "{", ""] {
            let mut l = live.clone();
            l["metadata"]["annotations"][LAST_APPLIED_ANNOTATION] = json!(bad);
            assert!(allowed_conflicts(&l, &cm, "v1", FieldScope::Main, &yes).is_none());
        }
        let mut l = live.clone();
        l["metadata"]["annotations"] = json!({});
        assert!(allowed_conflicts(&l, &cm, "v1", FieldScope::Main, &yes).is_none());
    }
}
