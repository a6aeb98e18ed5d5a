//! The order and wording of strict decoding problems per body, as
//! kube-apiserver's field validation gives them (its integration test
//! covers the same cases): one pass in document order for an object sent
//! as JSON, go-yaml's lines for YAML and apply bodies, the patch's own
//! problems and then the patched object's unknown fields in sorted order.

use super::*;
use crate::registry::Registry;
use serde_json::json;

fn deployments() -> std::sync::Arc<ResourceType> {
    Registry::with_builtins()
        .find("apps", "v1", "deployments")
        .expect("served")
}

/// A Deployment as stored, for the patches.
fn stored() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})
}

fn strict(body: Body, raw: &[u8], obj: &mut Value) -> String {
    decode(&deployments(), obj, body, raw, FieldValidation::Strict)
        .expect_err("refused")
        .message
}

fn warned(body: Body, raw: &[u8], obj: &mut Value) -> Warnings {
    decode(&deployments(), obj, body, raw, FieldValidation::Warn).expect("warned")
}

const OBJECT: &str = r#"{"apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "a", "name": "web", "extra": 1},
  "spec": {"zeta": 1, "twice": 1, "twice": 2, "paused": true, "paused": false,
    "selector": {"matchLabels": {"app": "web"}},
    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
      {"name": "web", "image": "nginx", "alpha": {"k": 1, "k": 2},
       "imagePullPolicy": "Always", "imagePullPolicy": "Never"}]}}}}"#;

#[test]
fn an_object_sent_as_json_is_reported_in_document_order() {
    let mut obj: Value = serde_json::from_str(OBJECT).expect("json");
    let want = [
        r#"duplicate field "metadata.name""#,
        r#"unknown field "metadata.extra""#,
        r#"unknown field "spec.zeta""#,
        r#"unknown field "spec.twice""#,
        r#"duplicate field "spec.paused""#,
        r#"unknown field "spec.template.spec.containers[0].alpha""#,
        r#"duplicate field "spec.template.spec.containers[0].imagePullPolicy""#,
    ];
    assert_eq!(
        strict(Body::Object { yaml: false }, OBJECT.as_bytes(), &mut obj.clone()),
        format!(
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: {}",
            want.join(", ")
        )
    );
    assert_eq!(
        warned(Body::Object { yaml: false }, OBJECT.as_bytes(), &mut obj),
        want
    );
    assert!(obj["spec"].get("zeta").is_none());
}

#[test]
fn an_object_sent_as_yaml_names_go_yamls_lines_then_sorted_unknowns() {
    let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  name: web\nspec:\n  zeta: 1\n  paused: true\n  paused: false\n  alpha: 1\n  selector:\n    matchLabels:\n      app: web\n";
    let mut obj: Value = serde_yaml::from_str(yaml).expect("yaml");
    assert_eq!(
        strict(Body::Object { yaml: true }, yaml.as_bytes(), &mut obj.clone()),
        "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: yaml: unmarshal errors:\n  line 5: key \"name\" already set in map\n  line 9: key \"paused\" already set in map, unknown field \"spec.alpha\", unknown field \"spec.zeta\""
    );
    assert_eq!(
        warned(Body::Object { yaml: true }, yaml.as_bytes(), &mut obj),
        vec![
            "line 5: key \"name\" already set in map",
            "line 9: key \"paused\" already set in map",
            "unknown field \"spec.alpha\"",
            "unknown field \"spec.zeta\"",
        ]
    );
}

#[test]
fn merge_and_strategic_patches_name_their_duplicates_then_sorted_unknowns() {
    let patch = br#"{"spec": {"zeta": 1, "twice": 1, "twice": 2, "paused": true, "paused": false,
        "template": {"spec": {"containers": [{"name": "web", "image": "nginx", "alpha": 1,
            "imagePullPolicy": "Always", "imagePullPolicy": "Never"}]}}}}"#;
    let want = "duplicate field \"spec.twice\", duplicate field \"spec.paused\", duplicate field \"spec.template.spec.containers[0].imagePullPolicy\", unknown field \"spec.template.spec.containers[0].alpha\", unknown field \"spec.twice\", unknown field \"spec.zeta\"";
    let p: Value = serde_json::from_slice(patch).expect("json");
    let mut merged = stored();
    json_patch::merge(&mut merged, &p);
    let message = strict(Body::MergePatch { patch }, patch, &mut merged.clone());
    assert!(
        message.starts_with(" \"\" is invalid: patch: Invalid value: \""),
        "{message}"
    );
    // The patched object is shown as the patch made it, unknown fields too.
    assert!(message.contains("\\\"zeta\\\":1"), "{message}");
    assert!(
        message.ends_with(&format!("\": strict decoding error: {want}")),
        "{message}"
    );
    let w = warned(Body::MergePatch { patch }, patch, &mut merged);
    assert_eq!(w.join(", "), want);
    assert!(merged["spec"].get("zeta").is_none());

    let rt = deployments();
    let mut smp = crate::strategic::strategic_merge(&stored(), &p, &rt.schema).expect("merges");
    let message = strict(Body::Strategic { patch }, patch, &mut smp);
    assert!(
        message.ends_with(&format!("\": strict decoding error: {want}")),
        "{message}"
    );
}

#[test]
fn json_patches_name_their_ops_then_the_patched_objects_unknowns() {
    let patch = br#"[{"op": "add", "path": "/spec/zeta", "value": 1, "note": "x"},
        {"op": "add", "path": "/spec/one", "path": "/spec/two", "value": 1},
        {"op": "add", "path": "/spec/template/spec/containers/0/alpha", "value": 1}]"#;
    // Applied as evanphx/json-patch reads it: the last "path" wins.
    let ops: Value = serde_json::from_slice(patch).expect("json");
    let ops: json_patch::Patch = serde_json::from_value(ops).expect("ops");
    let mut patched = stored();
    json_patch::patch(&mut patched, &ops).expect("applies");
    let want = "json patch unknown field \"[0].note\", json patch duplicate field \"[1].path\", unknown field \"spec.template.spec.containers[0].alpha\", unknown field \"spec.two\", unknown field \"spec.zeta\"";
    let message = strict(Body::JsonPatch { patch }, patch, &mut patched.clone());
    assert!(
        message.ends_with(&format!("\": strict decoding error: {want}")),
        "{message}"
    );
    assert_eq!(
        warned(Body::JsonPatch { patch }, patch, &mut patched).join(", "),
        want
    );
    let quiet = decode(
        &deployments(),
        &mut stored(),
        Body::JsonPatch { patch },
        patch,
        FieldValidation::Ignore,
    );
    assert_eq!(quiet.expect("ignored"), Vec::<String>::new());
}

#[test]
fn apply_bodies_are_checked_for_duplicates_as_yaml() {
    let body = b"{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\",\n \"metadata\": {\"name\": \"c\"},\n \"data\": {\"a\": \"1\",\n  \"a\": \"2\"}}";
    let e = apply_duplicates(body, FieldValidation::Strict).expect_err("strict");
    assert_eq!((e.code, e.reason), (400, "BadRequest"));
    assert_eq!(
        e.message,
        "error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  line 4: key \"a\" already set in map"
    );
    assert_eq!(
        apply_duplicates(body, FieldValidation::Warn).expect("warn"),
        vec!["line 4: key \"a\" already set in map"]
    );
    assert!(apply_duplicates(body, FieldValidation::Ignore)
        .expect("ignore")
        .is_empty());
    let yaml =
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \"1\"\n  a: \"2\"\n";
    assert_eq!(
        apply_duplicates(yaml, FieldValidation::Warn).expect("warn"),
        vec!["line 7: key \"a\" already set in map"]
    );
    let clean = br#"{"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"}}"#;
    assert!(apply_duplicates(clean, FieldValidation::Strict)
        .expect("clean")
        .is_empty());
}
