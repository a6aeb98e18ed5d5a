//! The decoding stage per verb and directive, against the messages
//! kube-apiserver 1.32/1.33 gives (read from its handlers and decoder).

use super::*;
use crate::registry::Registry;
use serde_json::json;

fn rt(group: &str, plural: &str) -> std::sync::Arc<ResourceType> {
    Registry::with_builtins()
        .find(group, "v1", plural)
        .expect("served")
}

fn deployment() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replica": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx", "imagePullPolicyy": "Always"}]}}}})
}

fn create(
    group: &str,
    plural: &str,
    obj: &mut Value,
    d: FieldValidation,
) -> Result<Warnings, ApiError> {
    let raw = serde_json::to_vec(obj).expect("json");
    decode(
        &rt(group, plural),
        obj,
        Body::Object { yaml: false },
        &raw,
        d,
    )
}

#[test]
fn strict_refuses_unknown_fields_with_their_paths() {
    let mut obj = deployment();
    let e = create("apps", "deployments", &mut obj, FieldValidation::Strict).expect_err("strict");
    assert_eq!(e.code, 400);
    assert_eq!(e.reason, "BadRequest");
    assert_eq!(
        e.message,
        "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replica\", unknown field \"spec.template.spec.containers[0].imagePullPolicyy\""
    );
}

#[test]
fn warn_reports_and_drops_ignore_only_drops() {
    let mut obj = deployment();
    let w = create("apps", "deployments", &mut obj, FieldValidation::Warn).expect("warn");
    assert_eq!(
        w,
        vec![
            "unknown field \"spec.replica\"".to_string(),
            "unknown field \"spec.template.spec.containers[0].imagePullPolicyy\"".to_string()
        ]
    );
    assert!(obj.pointer("/spec/replica").is_none(), "never stored");
    assert!(obj
        .pointer("/spec/template/spec/containers/0/imagePullPolicyy")
        .is_none());
    assert_eq!(
        obj.pointer("/spec/template/spec/containers/0/image"),
        Some(&json!("nginx"))
    );
    let mut obj = deployment();
    let w = create("apps", "deployments", &mut obj, FieldValidation::Ignore).expect("ignore");
    assert!(w.is_empty());
    assert!(obj.pointer("/spec/replica").is_none());
}

#[test]
fn duplicate_fields_are_strict_errors_too() {
    let raw = br#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "1", "k": "2"}, "datta": {}}"#;
    let mut obj: Value = serde_json::from_slice(raw).expect("json");
    let e = decode(
        &rt("", "configmaps"),
        &mut obj,
        Body::Object { yaml: false },
        raw,
        FieldValidation::Strict,
    )
    .expect_err("strict");
    assert_eq!(
        e.message,
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: duplicate field \"data.k\", unknown field \"datta\""
    );
}

#[test]
fn type_mismatches_are_refused_in_gos_words_whatever_the_directive() {
    let cases = [
        ("apps", "deployments", json!({"metadata": {"name": "web"}, "spec": {"replicas": "two"}}),
         "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"),
        ("", "secrets", json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"a": {"b": "c"}}}),
         "Secret in version \"v1\" cannot be handled as a Secret: json: cannot unmarshal object into Go struct field Secret.stringData of type string"),
        ("", "secrets", json!({"metadata": {"name": "s"}, "data": {"ok": "aGk=", "a": "hello"}}),
         "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 4"),
        ("", "configmaps", json!({"metadata": {"name": "c"}, "data": {"port": 8080}}),
         "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string"),
        ("apps", "deployments", json!({"metadata": {"name": "web"}, "spec": {"replicas": 1.5}}),
         "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32"),
        ("apps", "deployments", json!({"metadata": {"name": "web"}, "spec": {"template": {"spec": {"containers": {"name": "x"}}}}}),
         "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container"),
        ("apps", "deployments", json!({"metadata": {"name": "web"}, "spec": "x"}),
         "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field Deployment.spec of type v1.DeploymentSpec"),
    ];
    for (group, plural, obj, want) in cases {
        for d in [FieldValidation::Ignore, FieldValidation::Strict] {
            let mut o = obj.clone();
            let e = create(group, plural, &mut o, d).expect_err(want);
            assert_eq!((e.code, e.message.as_str()), (400, want));
        }
    }
    // Quantities may be numbers, null fields are as absent, times are not checked.
    let mut fine = json!({"metadata": {"name": "p", "creationTimestamp": null, "labels": null},
        "spec": {"containers": [{"name": "c", "image": "i", "resources": {"limits": {"cpu": 1, "memory": "1Gi"}},
            "ports": [{"containerPort": 80, "name": null}]}]}});
    assert_eq!(
        create("", "pods", &mut fine, FieldValidation::Strict).expect("fine"),
        Vec::<String>::new()
    );
}

#[test]
fn patches_are_refused_as_invalid_patch_values() {
    let target = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "datta": {"a": "b"}});
    let patch = br#"{"datta":{"a":"b"}}"#;
    let mut patched = target.clone();
    let e = decode(
        &rt("", "configmaps"),
        &mut patched,
        Body::Strategic { patch },
        patch,
        FieldValidation::Strict,
    )
    .expect_err("strict");
    assert_eq!(e.code, 422);
    assert_eq!(
        e.message,
        " \"\" is invalid: patch: Invalid value: \"map[datta:map[a:b]]\": strict decoding error: unknown field \"datta\""
    );
    let mut patched = target.clone();
    let e = decode(
        &rt("", "configmaps"),
        &mut patched,
        Body::JsonPatch { patch },
        patch,
        FieldValidation::Strict,
    )
    .expect_err("strict");
    assert!(
        e.message.starts_with(
            " \"\" is invalid: patch: Invalid value: \"{\\\"apiVersion\\\":\\\"v1\\\""
        ),
        "{}",
        e.message
    );
    assert!(
        e.message
            .ends_with("\": strict decoding error: unknown field \"datta\""),
        "{}",
        e.message
    );
    let mut patched = target;
    let w = decode(
        &rt("", "configmaps"),
        &mut patched,
        Body::JsonPatch { patch },
        patch,
        FieldValidation::Warn,
    )
    .expect("warn");
    assert_eq!(w, vec!["unknown field \"datta\"".to_string()]);
    assert!(patched.get("datta").is_none());
}

#[test]
fn apply_refuses_undeclared_fields_whatever_the_directive() {
    let config = deployment();
    let e = check_apply(&rt("apps", "deployments"), &config, "default").expect_err("refused");
    assert_eq!((e.code, e.reason), (500, ""));
    assert_eq!(
        e.message,
        "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): errors:\n  .spec.replica: field not declared in schema\n  .spec.template.spec.containers[name=\"web\"].imagePullPolicyy: field not declared in schema"
    );
    assert!(e.to_status().get("reason").is_none());
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "datta": {}, "dataa": {}});
    let e = check_apply(&rt("", "configmaps"), &cm, "ns").expect_err("refused");
    assert_eq!(e.message, "failed to create typed patch object (ns/c; /v1, Kind=ConfigMap): .datta: field not declared in schema");
    let bad = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": "two"}});
    let e = check_apply(&rt("apps", "deployments"), &bad, "default").expect_err("refused");
    assert_eq!(e.message, "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.replicas: expected numeric (int or float), got string");
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"a": "hello"}});
    let e = check_apply(&rt("", "secrets"), &secret, "default").expect_err("refused");
    assert_eq!(e.message, "failed to convert new object (default/s; /v1, Kind=Secret) to proper version: unable to convert unstructured object to /v1, Kind=Secret: error decoding from json: illegal base64 data at input byte 4");
    assert!(check_apply(&rt("apps", "deployments"), &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 2}}), "default").is_ok());
}

#[test]
fn a_bad_directive_is_refused_as_the_options_are() {
    let e = FieldValidation::from_query(Some("Loose"), "PatchOptions").expect_err("bad");
    assert_eq!(e.code, 422);
    assert_eq!(
        e.message,
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"Loose\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\""
    );
    assert_eq!(
        FieldValidation::from_query(None, "x").ok(),
        Some(FieldValidation::Warn)
    );
}

#[test]
fn an_applied_configuration_may_not_carry_managed_fields() {
    let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c",
        "managedFields": [{"manager": "x", "operation": "Apply"}]}});
    let e = check_apply(&rt("", "configmaps"), &cm, "default").expect_err("refused");
    assert_eq!(
        (e.code, e.reason, e.message.as_str()),
        (400, "BadRequest", "metadata.managedFields must be nil")
    );
    cm["metadata"]["managedFields"] = Value::Null;
    assert!(check_apply(&rt("", "configmaps"), &cm, "default").is_ok());
}
