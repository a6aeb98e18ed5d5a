//! Validation before apply: the API server's word on each object reaches the
//! user. Warning headers are shown per object in previews and results; a
//! typo in Git fails the dry-run with the server's message, file and line,
//! and nothing is applied.

mod common;

use common::*;
use kube_sim::Fault;

#[tokio::test(flavor = "multi_thread")]
async fn server_warnings_are_shown_per_object_in_the_preview_and_the_result() {
    let f = Fixture::new(APP).await;
    f.commit(
        &[
            ("apps/shop/config.yaml", Some(CONFIGMAP)),
            ("apps/shop/service.yaml", Some(SERVICE)),
        ],
        "shop",
    );
    f.kubectl_ok(&["create", "namespace", "shop"]);
    let warning = r#"299 - "policy/v1beta1 PodSecurityPolicy is deprecated (a test warning)""#;
    f.sim.inject(
        Fault::header("Warning", warning).on("PATCH", "/namespaces/shop/configmaps/settings"),
    );

    let preview = f.cli(&["sync", "shop", "--dry-run"]);
    let text = String::from_utf8_lossy(&preview.stdout);
    assert_eq!(preview.status.code(), Some(0), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l == &"ConfigMap shop/settings would be created")
        .expect("the ConfigMap in the preview");
    assert_eq!(
        lines.get(at + 1).copied(),
        Some("  warning from the API server: policy/v1beta1 PodSecurityPolicy is deprecated (a test warning)"),
        "{text}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("Service") && l.contains("warning")),
        "only the object the server warned about: {text}"
    );

    let out = f.cli(&["sync", "shop", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let cm = doc["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["kind"] == "ConfigMap"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(cm["action"], "created");
    assert_eq!(
        cm["warnings"],
        serde_json::json!(["policy/v1beta1 PodSecurityPolicy is deprecated (a test warning)"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_typo_in_git_fails_the_dry_run_with_the_servers_message_file_and_line() {
    let f = Fixture::new(APP).await;
    let typo = DEPLOYMENT.replace("  replicas: 2\n", "  replica: 2\n");
    assert_ne!(typo, DEPLOYMENT);
    f.commit(
        &[
            ("apps/shop/config.yaml", Some(CONFIGMAP)),
            ("apps/shop/deploy.yaml", Some(&typo)),
        ],
        "a typo",
    );
    let started = std::time::Instant::now();
    let out = f.cli(&["sync", "shop"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("apps/Deployment shop/web failed"))
        .unwrap_or_else(|| panic!("the Deployment's failure: {text}"));
    assert!(
        line.contains("apps/shop/deploy.yaml:1: ")
            && line.contains(".spec.replica: field not declared in schema"),
        "{line}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "a refusal of the request itself is not retried ({:?})",
        started.elapsed()
    );
    // Nothing of stage two was applied: not even the valid ConfigMap.
    assert!(!f.exists("v1", "ConfigMap", "shop", "settings"));
    assert!(!f.exists("apps/v1", "Deployment", "shop", "web"));
}
