//! Field validation of what patches produce, as real kubectl 1.27, 1.32 and
//! 1.33 meet it. `kubectl patch` has no `--validate` and sends no
//! `fieldValidation`, so it gets kube-apiserver's default, Warn: a JSON
//! patch's ops are decoded strictly, then the patched object, whose unknown
//! fields are named in `Warning`s and never stored. Strict and Ignore, and
//! bodies kubectl cannot send (duplicate keys: it reads files and `-p` into
//! a map first), are tested over raw HTTP in `apply_strict_body.rs`.

mod common;

use common::kubectl::Env;
use serde_json::json;

each_version!(
    json_patches_warn_about_their_ops_and_result,
    merge_patches_warn_about_their_result_in_sorted_order,
    server_side_apply_of_a_file_with_a_duplicate_key,
);

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\n  namespace: default\ndata:\n  a: \"1\"\n";

async fn json_patches_warn_about_their_ops_and_result(minor: u32) {
    let env = Env::start(minor).await;
    env.apply("cm.yaml", CM).await;
    let patch = r#"[{"op":"add","path":"/datta","value":{"b":"2"},"note":"x"},{"op":"add","path":"/data/b","value":"2"}]"#;
    let out = env
        .kubectl(&["patch", "cm", "flags", "--type", "json", "-p", patch])
        .await;
    out.ok().stdout_has("configmap/flags patched");
    assert_eq!(
        out.stderr.trim_end(),
        "Warning: json patch unknown field \"[0].note\"\nWarning: unknown field \"datta\"",
        "{out}"
    );
    let cm = env.get_json(&["cm", "flags"]).await;
    assert_eq!(cm["data"], json!({"a": "1", "b": "2"}), "{cm}");
    assert!(cm.get("datta").is_none(), "never stored: {cm}");
}

async fn merge_patches_warn_about_their_result_in_sorted_order(minor: u32) {
    let env = Env::start(minor).await;
    let d = env.file("deploy.yaml", common::kubectl::DEPLOY);
    env.kubectl(&["apply", "--server-side", "-f", &d])
        .await
        .ok();
    // Unknown fields at two depths: named in the patched object's sorted
    // order (template before zeta), not the patch's.
    let patch = r#"{"spec":{"zeta":2,"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.27","imagePullPolicyy":"Always"}]}}}}"#;
    let out = env
        .kubectl(&["patch", "deploy", "web", "--type", "merge", "-p", patch])
        .await;
    out.ok();
    assert_eq!(
        out.stderr.trim_end(),
        "Warning: unknown field \"spec.template.spec.containers[0].imagePullPolicyy\"\nWarning: unknown field \"spec.zeta\"",
        "{out}"
    );
    let live = env.get_json(&["deploy", "web"]).await;
    assert_eq!(
        live.pointer("/spec/template/spec/containers/0/image"),
        Some(&json!("nginx:1.27"))
    );
    assert!(live.pointer("/spec/zeta").is_none(), "{live}");
}

async fn server_side_apply_of_a_file_with_a_duplicate_key(minor: u32) {
    let env = Env::start(minor).await;
    let f = env.file(
        "dup.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\n  namespace: default\ndata:\n  a: \"1\"\n  a: \"2\"\n",
    );
    // kubectl folds the key (the last wins) before sending: applied, as on
    // a cluster, with nothing to warn about.
    let out = env.kubectl(&["apply", "--server-side", "-f", &f]).await;
    out.ok().stdout_has("configmap/dup serverside-applied");
    assert_eq!(out.stderr, "", "{out}");
    let cm = env.get_json(&["cm", "dup"]).await;
    assert_eq!(cm["data"], json!({"a": "2"}));
}
