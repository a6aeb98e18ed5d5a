//! The agent and the lease, against kube-sim and a real Git repository.

mod common;

use common::*;
use gitops_tui::engine::{Backoff, EngineError, SyncOptions};
use gitops_tui::model::AppId;

const AUTO: &str = r#"
[[apps]]
name = "shop"
repo = "repo"
path = "apps/shop"
namespace = "shop"
create_namespace = true
auto_sync = true
self_heal = true
"#;

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_follows_the_ref_and_heals_drift_but_not_suspended_apps() {
    let f = Fixture::new(AUTO).await;
    f.commit(&[("apps/shop/config.yaml", Some(CONFIGMAP))], "one");
    let engine = f.engine();
    let mut backoff = Backoff::default();
    let actions = engine.agent_pass(&mut backoff).await;
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0].action, "synced");
    assert!(f.exists("v1", "ConfigMap", "shop", "settings"));
    // Nothing moved: nothing to do.
    assert!(engine.agent_pass(&mut backoff).await.is_empty());
    // Drift is healed.
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
    let actions = engine.agent_pass(&mut backoff).await;
    assert_eq!(
        actions
            .iter()
            .map(|a| a.action.as_str())
            .collect::<Vec<_>>(),
        vec!["healed"]
    );
    assert_eq!(f.cm_data("shop", "settings", "color"), "blue");
    // Suspended (seen through the record, as another process would set it): untouched.
    f.engine()
        .suspend(&AppId::native("shop"))
        .await
        .expect("suspend");
    f.commit(
        &[(
            "apps/shop/config.yaml",
            Some(&CONFIGMAP.replace("blue", "green")),
        )],
        "green",
    );
    assert!(engine.agent_pass(&mut backoff).await.is_empty());
    assert_eq!(f.cm_data("shop", "settings", "color"), "blue");
    // Resuming an auto-sync app catches it up at once; the agent then has nothing to do.
    let report = f
        .engine()
        .resume(&AppId::native("shop"))
        .await
        .expect("resume");
    assert!(report.is_some_and(|r| r.succeeded));
    assert_eq!(f.cm_data("shop", "settings", "color"), "green");
    assert!(engine.agent_pass(&mut backoff).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_lease_held_by_someone_else_blocks_a_sync() {
    let f = Fixture::new(AUTO).await;
    f.commit(&[("apps/shop/config.yaml", Some(CONFIGMAP))], "one");
    let far_future = 4_000_000_000u64;
    let lease = format!(r#"{{"holder":"agent@elsewhere:1","expires":{far_future}}}"#);
    let cm = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: gitops-tui}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app-shop, namespace: gitops-tui}}\ndata:\n  suspended: \"false\"\n  lease: '{lease}'\n"
    );
    let path = f.dir.path().join("record.yaml");
    std::fs::write(&path, cm).expect("write");
    f.kubectl_ok(&["apply", "-f", path.to_str().unwrap_or_default()]);
    match f
        .engine()
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
    {
        Err(EngineError::Busy { holder, .. }) => assert_eq!(holder, "agent@elsewhere:1"),
        other => panic!("expected Busy, got {other:?}"),
    }
    assert!(!f.exists("v1", "ConfigMap", "shop", "settings"));
    let out = f.cli(&["agent", "--once"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("skipped"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
