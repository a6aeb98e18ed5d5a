//! `kubectl apply` then `kubectl apply --server-side`, with real kubectl 1.27,
//! 1.32 and 1.33: kube-apiserver lets the manager `kubectl` take over the
//! fields the last-applied annotation set (its lastAppliedManager), refuses
//! the rest as any conflict, and keeps the annotation in step with what was
//! applied server-side (its lastAppliedUpdater), so a later client-side apply
//! removes what it should.

mod common;

use common::kubectl::{Env, DEPLOY};
use serde_json::{json, Value};

each_version!(
    server_side_apply_takes_over_a_changed_value,
    the_annotation_follows_and_client_side_apply_prunes_by_it,
    fields_outside_the_annotation_still_conflict,
);

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

fn cm(data: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: default\ndata:\n{data}")
}

fn owners<'a>(obj: &'a Value, manager: &str, operation: &str) -> Option<&'a Value> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
}

fn annotation(obj: &Value) -> String {
    obj["metadata"]["annotations"][LAST_APPLIED]
        .as_str()
        .unwrap_or_else(|| panic!("no last-applied annotation: {obj}"))
        .to_string()
}

async fn server_side_apply_takes_over_a_changed_value(minor: u32) {
    let env = Env::start(minor).await;
    let f = env.file("cm.yaml", &cm("  a: \"1\"\n  b: \"2\"\n"));
    env.kubectl(&["apply", "-f", &f]).await.ok();
    let changed = env.file("cm2.yaml", &cm("  a: \"9\"\n  b: \"2\"\n"));
    let out = env
        .kubectl(&["apply", "--server-side", "-f", &changed])
        .await;
    out.ok();
    assert_eq!(out.stdout.trim(), "configmap/x serverside-applied", "{out}");
    let live = env.get_json(&["cm", "x", "--show-managed-fields"]).await;
    assert_eq!(live["data"], json!({"a": "9", "b": "2"}), "{live}");
    let apply = owners(&live, "kubectl", "Apply").unwrap_or_else(|| panic!("{live}"));
    assert!(apply["fieldsV1"]["f:data"].get("f:a").is_some(), "{live}");

    // A Deployment. A replicas the file never had was defaulted at the
    // create and is client-side apply's without being in the annotation: a
    // conflict, reported alone (the new image would have been taken over).
    let d = env.file("deploy.yaml", DEPLOY);
    env.kubectl(&["apply", "-f", &d]).await.ok();
    let both = DEPLOY
        .replace("nginx:1.25", "nginx:1.27")
        .replace("spec:\n  selector", "spec:\n  replicas: 3\n  selector");
    let both = env.file("both.yaml", &both);
    let out = env.kubectl(&["apply", "--server-side", "-f", &both]).await;
    out.failed_with(1);
    assert_eq!(
        out.stderr.lines().next().unwrap_or(""),
        "error: Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas",
        "{out}"
    );
    // The image alone, inside a keyed list item, is taken over.
    let image = env.file("image.yaml", &DEPLOY.replace("nginx:1.25", "nginx:1.27"));
    env.kubectl(&["apply", "--server-side", "-f", &image])
        .await
        .ok();
    let live = env.get_json(&["deploy", "web"]).await;
    assert_eq!(
        live.pointer("/spec/template/spec/containers/0/image"),
        Some(&json!("nginx:1.27"))
    );
}

async fn the_annotation_follows_and_client_side_apply_prunes_by_it(minor: u32) {
    let env = Env::start(minor).await;
    let f = env.file("cm.yaml", &cm("  a: \"1\"\n"));
    env.kubectl(&["apply", "-f", &f]).await.ok();
    // Server-side: a changed value and a key client-side apply never set.
    let ssa = env.file("ssa.yaml", &cm("  a: \"2\"\n  c: \"3\"\n"));
    env.kubectl(&["apply", "--server-side", "-f", &ssa])
        .await
        .ok();
    let live = env.get_json(&["cm", "x"]).await;
    // The applied configuration, as kube-apiserver encodes it.
    assert_eq!(
        annotation(&live),
        "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"2\",\"c\":\"3\"},\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\",\"namespace\":\"default\"}}\n",
        "{live}"
    );
    let out = env
        .kubectl(&["apply", "view-last-applied", "cm", "x", "-o", "json"])
        .await;
    out.ok();
    assert_eq!(out.json()["data"], json!({"a": "2", "c": "3"}));

    // Client-side again, without c: its patch is computed against the
    // annotation, which now has c, so c goes.
    let back = env.file("back.yaml", &cm("  a: \"2\"\n"));
    let out = env.kubectl(&["apply", "-f", &back]).await;
    out.ok();
    assert_eq!(out.stdout.trim(), "configmap/x configured", "{out}");
    let live = env.get_json(&["cm", "x"]).await;
    assert_eq!(live["data"], json!({"a": "2"}), "{live}");
    let last: Value = serde_json::from_str(&annotation(&live)).expect("json");
    assert_eq!(last["data"], json!({"a": "2"}));

    // Another field manager: kubectl migrates the client-side entry (which
    // owns the annotation) to that manager and re-applies, so the annotation
    // goes, as kubectl says it should ("no point in preserving" it).
    let other = env.file("other.yaml", &cm("  a: \"2\"\n  d: \"4\"\n"));
    env.kubectl(&[
        "apply",
        "--server-side",
        "--field-manager=gitops",
        "-f",
        &other,
    ])
    .await
    .ok();
    let after = env.get_json(&["cm", "x"]).await;
    assert_eq!(after["data"], json!({"a": "2", "d": "4"}), "{after}");
    assert!(after["metadata"].get("annotations").is_none(), "{after}");
}

async fn fields_outside_the_annotation_still_conflict(minor: u32) {
    let env = Env::start(minor).await;
    let f = env.file("cm.yaml", &cm("  a: \"1\"\n"));
    env.kubectl(&["apply", "-f", &f]).await.ok();
    env.kubectl(&[
        "patch",
        "cm",
        "x",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"c":"x"}}"#,
    ])
    .await
    .ok();
    // a is the annotation's and may be taken; c is kubectl-patch's.
    let ssa = env.file("ssa.yaml", &cm("  a: \"9\"\n  c: \"y\"\n"));
    let out = env.kubectl(&["apply", "--server-side", "-f", &ssa]).await;
    out.failed_with(1);
    assert_eq!(
        out.stderr.lines().next().unwrap_or(""),
        "error: Apply failed with 1 conflict: conflict with \"kubectl-patch\" using v1: .data.c",
        "{out}"
    );
    let live = env.get_json(&["cm", "x"]).await;
    assert_eq!(live["data"], json!({"a": "1", "c": "x"}), "{live}");

    // A value changed by another writer since is not the annotation's.
    env.kubectl(&[
        "patch",
        "cm",
        "x",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"a":"5","c":null}}"#,
    ])
    .await
    .ok();
    let ssa = env.file("ssa2.yaml", &cm("  a: \"9\"\n"));
    let out = env.kubectl(&["apply", "--server-side", "-f", &ssa]).await;
    out.failed_with(1);
    assert_eq!(
        out.stderr.lines().next().unwrap_or(""),
        "error: Apply failed with 1 conflict: conflict with \"kubectl-patch\" using v1: .data.a",
        "{out}"
    );

    // Another manager does not get the take-over.
    let g = env.file("g.yaml", &cm("  a: \"5\"\n  b: \"1\"\n"));
    env.kubectl(&["apply", "-f", &g]).await.ok();
    let mine = env.file("mine.yaml", &cm("  b: \"7\"\n"));
    let out = env
        .kubectl(&[
            "apply",
            "--server-side",
            "--field-manager=gitops",
            "-f",
            &mine,
        ])
        .await;
    out.failed_with(1);
    assert_eq!(
        out.stderr.lines().next().unwrap_or(""),
        "error: Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using v1: .data.b",
        "{out}"
    );
}
