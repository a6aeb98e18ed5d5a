//! Sync, drift and prune against kube-sim and a real Git repository.

mod common;

use common::*;
use gitops_tui::engine::SyncOptions;
use gitops_tui::model::AppId;
use gitops_tui::model::{ResourceStatus, SyncStatus};

#[tokio::test(flavor = "multi_thread")]
async fn sync_creates_every_object_and_defaults_are_not_drift() {
    let f = synced_shop(false).await;
    assert!(f.exists("v1", "Namespace", "", "shop"));
    assert!(f.exists("apps/v1", "Deployment", "shop", "web"));
    assert!(f.exists("v1", "Service", "shop", "web"));
    assert!(f.exists("v1", "ConfigMap", "shop", "settings"));
    let labels = f.kubectl_ok(&[
        "get",
        "deploy",
        "web",
        "-n",
        "shop",
        "-o",
        "jsonpath={.metadata.labels}",
    ]);
    assert!(
        labels.contains("gitops-tui.dev/app") && labels.contains("shop"),
        "{labels}"
    );
    // The create_namespace Namespace is not part of the app: no label.
    let ns_labels = f.kubectl_ok(&["get", "ns", "shop", "-o", "jsonpath={.metadata.labels}"]);
    assert!(!ns_labels.contains("gitops-tui.dev/app"), "{ns_labels}");

    let status = f
        .engine()
        .status(&AppId::native("shop"))
        .await
        .expect("status");
    assert_eq!(
        status.sync,
        SyncStatus::Synced,
        "{:#?}",
        status
            .resources
            .iter()
            .map(|r| (&r.key, r.status, &r.diff))
            .collect::<Vec<_>>()
    );
    assert_eq!(status.counts.synced, 3);
    assert!(status.deployed_revision.is_some() && status.deployed_revision == status.head_revision);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_sync_writes_nothing() {
    let f = synced_shop(false).await;
    // The Deployment's version moves with its status (the controller);
    // the request log below shows nothing wrote it.
    let before = [
        f.rv("v1", "Service", "shop", "web"),
        f.rv("v1", "ConfigMap", "shop", "settings"),
    ];
    f.sim.clear_requests();
    let report = f
        .engine()
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync");
    assert!(report.succeeded);
    assert!(
        report.resources.iter().all(|r| r.action == "unchanged"),
        "{:?}",
        report.resources
    );
    let after = [
        f.rv("v1", "Service", "shop", "web"),
        f.rv("v1", "ConfigMap", "shop", "settings"),
    ];
    assert_eq!(before, after);
    // Only dry-runs reached the app's namespace; the one real write is the record.
    let writes: Vec<_> = f
        .sim
        .requests()
        .into_iter()
        .filter(|r| {
            r.is_mutating()
                && r.param("dryRun").is_none()
                && !r.path.contains("/namespaces/gitops-tui/")
        })
        .collect();
    assert!(writes.is_empty(), "unexpected writes: {writes:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_scale_and_edit_are_drift_and_sync_takes_them_back() {
    let f = synced_shop(false).await;
    f.kubectl_ok(&["scale", "deploy", "web", "-n", "shop", "--replicas=5"]);
    f.kubectl_ok(&[
        "patch",
        "cm",
        "settings",
        "-n",
        "shop",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"color":"red"}}"#,
    ]);
    let status = f
        .engine()
        .status(&AppId::native("shop"))
        .await
        .expect("status");
    assert_eq!(status.sync, SyncStatus::OutOfSync);
    let deploy = status
        .resources
        .iter()
        .find(|r| r.key.kind == "Deployment")
        .expect("deployment");
    assert_eq!(deploy.status, ResourceStatus::OutOfSync);
    assert!(
        deploy.diff.contains("-  replicas: 5") && deploy.diff.contains("+  replicas: 2"),
        "{}",
        deploy.diff
    );
    let cm = status
        .resources
        .iter()
        .find(|r| r.key.kind == "ConfigMap")
        .expect("configmap");
    assert!(
        cm.diff.contains("-  color: red") && cm.diff.contains("+  color: blue"),
        "{}",
        cm.diff
    );

    let report = f
        .engine()
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync");
    assert!(report.succeeded, "{report:?}");
    assert_eq!(
        f.kubectl_ok(&[
            "get",
            "deploy",
            "web",
            "-n",
            "shop",
            "-o",
            "jsonpath={.spec.replicas}"
        ]),
        "2"
    );
    assert_eq!(f.cm_data("shop", "settings", "color"), "blue");
    assert_eq!(
        f.engine()
            .status(&AppId::native("shop"))
            .await
            .expect("status")
            .sync,
        SyncStatus::Synced
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_commit_is_out_of_sync_with_its_diff() {
    let f = synced_shop(false).await;
    f.commit(
        &[(
            "apps/shop/deploy.yaml",
            Some(&DEPLOYMENT.replace("nginx:1.27", "nginx:1.28")),
        )],
        "shop: nginx 1.28",
    );
    let status = f
        .engine()
        .status(&AppId::native("shop"))
        .await
        .expect("status");
    assert_eq!(status.sync, SyncStatus::OutOfSync);
    assert_ne!(status.deployed_revision, status.head_revision);
    let deploy = status
        .resources
        .iter()
        .find(|r| r.key.kind == "Deployment")
        .expect("deployment");
    assert!(
        deploy.diff.contains("-        image: nginx:1.27")
            || deploy.diff.contains("image: nginx:1.27"),
        "{}",
        deploy.diff
    );
    assert!(deploy.diff.contains("nginx:1.28"), "{}", deploy.diff);
    assert_eq!(status.counts.out_of_sync, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_field_removed_from_git_but_still_owned_is_drift() {
    let f = synced_shop(false).await;
    f.commit(
        &[(
            "apps/shop/config.yaml",
            Some(&CONFIGMAP.replace("  size: \"3\"\n", "")),
        )],
        "drop size",
    );
    for readonly in [false, true] {
        let status = f
            .engine_with(readonly)
            .status(&AppId::native("shop"))
            .await
            .expect("status");
        let cm = status
            .resources
            .iter()
            .find(|r| r.key.kind == "ConfigMap")
            .expect("configmap");
        assert_eq!(
            cm.status,
            ResourceStatus::OutOfSync,
            "readonly={readonly}: {}",
            cm.diff
        );
        assert!(cm.diff.contains("size"), "readonly={readonly}: {}", cm.diff);
    }
    f.engine()
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync");
    let data = f.kubectl_ok(&[
        "get",
        "cm",
        "settings",
        "-n",
        "shop",
        "-o",
        "jsonpath={.data}",
    ]);
    assert!(!data.contains("size"), "{data}");
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_removes_only_this_apps_objects_and_kinds_dropped_from_git() {
    let f = synced_shop(false).await;
    // Neighbours that must survive: an unlabelled object and another app's.
    let neighbours = f.dir.path().join("neighbours.yaml");
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: unlabelled, namespace: shop}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: neighbour, namespace: shop, labels: {gitops-tui.dev/app: other}}\n";
    std::fs::write(&neighbours, yaml).expect("write");
    f.kubectl_ok(&["apply", "-f", neighbours.to_str().unwrap_or_default()]);
    // The Service kind disappears from Git entirely; the ConfigMap too.
    f.commit(
        &[
            ("apps/shop/service.yaml", None),
            ("apps/shop/config.yaml", None),
        ],
        "drop service and config",
    );
    let status = f
        .engine()
        .status(&AppId::native("shop"))
        .await
        .expect("status");
    let extra: Vec<String> = status
        .resources
        .iter()
        .filter(|r| r.status == ResourceStatus::Extra)
        .map(|r| r.key.to_string())
        .collect();
    assert_eq!(extra.len(), 2, "{extra:?}");
    let report = f
        .engine()
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync");
    assert!(report.succeeded, "{report:?}");
    assert!(!f.exists("v1", "Service", "shop", "web"));
    assert!(!f.exists("v1", "ConfigMap", "shop", "settings"));
    assert!(f.exists("v1", "ConfigMap", "shop", "unlabelled"));
    assert!(f.exists("v1", "ConfigMap", "shop", "neighbour"));
    assert!(f.exists("v1", "Namespace", "", "shop"));
    assert!(f.exists("apps/v1", "Deployment", "shop", "web"));
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_yaml_applies_nothing_and_names_file_and_line() {
    let f = Fixture::new(APP).await;
    f.commit(
        &[
            ("apps/shop/ns.yaml", Some("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: extra-ns\n")),
            ("apps/shop/config.yaml", Some(CONFIGMAP)),
            ("apps/shop/broken.yaml", Some("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: [unclosed\n")),
        ],
        "broken",
    );
    let err = f
        .engine()
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect_err("invalid manifests");
    let message = err.to_string();
    assert!(message.contains("broken.yaml:"), "{message}");
    assert!(!f.exists("v1", "Namespace", "", "extra-ns"));
    assert!(!f.exists("v1", "Namespace", "", "shop"));
    assert!(!f.exists("v1", "ConfigMap", "shop", "settings"));
    let out = f.cli(&["sync", "shop"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("broken.yaml:7"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stage_two_dry_run_failure_applies_nothing_of_stage_two() {
    let f = Fixture::new(APP).await;
    let bad_deploy = DEPLOYMENT.replace("        image: nginx:1.27\n", "");
    f.commit(
        &[
            ("apps/shop/config.yaml", Some(CONFIGMAP)),
            ("apps/shop/deploy.yaml", Some(&bad_deploy)),
        ],
        "no image",
    );
    let report = f
        .engine()
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync runs");
    assert!(!report.succeeded);
    let failed: Vec<_> = report
        .resources
        .iter()
        .filter(|r| r.action == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{report:?}");
    assert!(failed[0].message.contains("image"), "{:?}", failed[0]);
    assert!(
        !f.exists("v1", "ConfigMap", "shop", "settings"),
        "stage two must apply nothing"
    );
    // Stage one did run, and the report says so.
    assert!(f.exists("v1", "Namespace", "", "shop"));
    assert!(
        report
            .stage_one_created
            .iter()
            .any(|k| k.kind == "Namespace"),
        "{report:?}"
    );
    assert!(
        report.message.contains("stage one created"),
        "{}",
        report.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_change_is_masked_drift_and_diff_exits_1() {
    let f = Fixture::new(APP).await;
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: hunter2-original\n  user: admin-user\n";
    f.commit(&[("apps/shop/secret.yaml", Some(secret))], "secret");
    assert!(
        f.engine()
            .sync(&AppId::native("shop"), &SyncOptions::default())
            .await
            .expect("sync")
            .succeeded
    );
    f.commit(
        &[(
            "apps/shop/secret.yaml",
            Some(&secret.replace("hunter2-original", "swordfish-new")),
        )],
        "rotate",
    );
    let out = f.cli(&["diff", "shop"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("password"), "{text}");
    for value in ["hunter2-original", "swordfish-new", "admin-user"] {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(value);
        assert!(
            !text.contains(value) && !text.contains(&b64),
            "{value} leaked:\n{text}"
        );
    }
    let json = f.cli(&["diff", "shop", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(doc["sync"], "OutOfSync");
    assert!(!String::from_utf8_lossy(&json.stdout).contains("swordfish"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_conflict_with_another_apply_manager_is_reported_unless_forced() {
    let f = synced_shop(false).await;
    let other = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  color: green\n";
    let path = f.dir.path().join("other.yaml");
    std::fs::write(&path, other).expect("write");
    f.kubectl_ok(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=other-tool",
        "-f",
        path.to_str().unwrap_or_default(),
    ]);
    let report = f
        .engine()
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync runs");
    assert!(!report.succeeded);
    let failed = report
        .resources
        .iter()
        .find(|r| r.action == "failed")
        .expect("a conflict");
    assert!(
        failed.message.contains("other-tool") && failed.message.contains(".data.color"),
        "{}",
        failed.message
    );
    assert_eq!(f.cm_data("shop", "settings", "color"), "green");
    let forced = f
        .engine()
        .sync(
            &AppId::native("shop"),
            &SyncOptions {
                force_conflicts: true,
                ..Default::default()
            },
        )
        .await
        .expect("sync");
    assert!(forced.succeeded, "{forced:?}");
    assert_eq!(f.cm_data("shop", "settings", "color"), "blue");
}

/// Regression: a sync without prune used to forget objects whose kind left
/// Git, so they stopped showing as Extra and a later prune missed them.
#[tokio::test(flavor = "multi_thread")]
async fn without_prune_a_dropped_kind_stays_extra_until_pruned() {
    let f = Fixture::new(&APP.replace("prune = true", "prune = false")).await;
    f.commit(
        &[
            ("apps/shop/deploy.yaml", Some(DEPLOYMENT)),
            ("apps/shop/config.yaml", Some(CONFIGMAP)),
        ],
        "both",
    );
    let engine = f.engine();
    assert!(
        engine
            .sync(&AppId::native("shop"), &SyncOptions::default())
            .await
            .expect("sync")
            .succeeded
    );
    f.commit(&[("apps/shop/config.yaml", None)], "no more configmaps");
    assert!(
        engine
            .sync(&AppId::native("shop"), &SyncOptions::default())
            .await
            .expect("sync")
            .succeeded
    );
    assert!(
        f.exists("v1", "ConfigMap", "shop", "settings"),
        "prune is off"
    );
    let status = engine.status(&AppId::native("shop")).await.expect("status");
    assert_eq!(
        status.counts.extra,
        1,
        "{:?}",
        status
            .resources
            .iter()
            .map(|r| (&r.key, r.status))
            .collect::<Vec<_>>()
    );
    // Still remembered on the next sync, and pruned when asked.
    assert!(
        engine
            .sync(&AppId::native("shop"), &SyncOptions::default())
            .await
            .expect("sync")
            .succeeded
    );
    let report = engine
        .sync(
            &AppId::native("shop"),
            &SyncOptions {
                prune: true,
                ..Default::default()
            },
        )
        .await
        .expect("sync");
    assert!(
        report
            .resources
            .iter()
            .any(|r| r.action == "pruned" && r.key.kind == "ConfigMap"),
        "{report:?}"
    );
    assert!(!f.exists("v1", "ConfigMap", "shop", "settings"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unchanged_app_is_compared_without_new_dry_runs() {
    let f = synced_shop(false).await;
    let engine = f.engine();
    engine.status(&AppId::native("shop")).await.expect("status");
    f.sim.clear_requests();
    let again = engine.status(&AppId::native("shop")).await.expect("status");
    assert_eq!(again.sync, SyncStatus::Synced);
    let dry_runs = f
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert_eq!(
        dry_runs, 0,
        "dry-run results are cached per desired content and live resourceVersion"
    );
    // A live change invalidates exactly that object's entry.
    f.kubectl_ok(&["scale", "deploy", "web", "-n", "shop", "--replicas=4"]);
    f.sim.clear_requests();
    let drifted = engine.status(&AppId::native("shop")).await.expect("status");
    assert_eq!(drifted.sync, SyncStatus::OutOfSync);
    let dry_runs: Vec<_> = f
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.path)
        .collect();
    assert_eq!(dry_runs.len(), 1, "{dry_runs:?}");
    assert!(dry_runs[0].ends_with("/deployments/web"), "{dry_runs:?}");
}
