//! `Engine::events` against kube-sim: the simulated controllers record core/v1
//! Events and the engine finds the selected object's, newest first.

mod common;

use common::*;
use gitops_tui::engine::SyncOptions;
use gitops_tui::model::AppId;
use gitops_tui::model::ResourceKey;
use std::time::Duration;

fn key(group: &str, kind: &str, name: &str) -> ResourceKey {
    ResourceKey {
        group: group.into(),
        kind: kind.into(),
        namespace: Some("shop".into()),
        name: name.into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_synced_deployment_has_its_scaling_event() {
    let f = Fixture::new(APP).await;
    f.commit(
        &[("apps/shop/deploy.yaml", Some(DEPLOYMENT))],
        "shop: first version",
    );
    let engine = f.engine();
    let report = engine
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync runs");
    assert!(report.succeeded, "{report:?}");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let rows = loop {
        let rows = engine
            .events(&AppId::native("shop"), &key("apps", "Deployment", "web"))
            .await
            .expect("events");
        if !rows.is_empty() || tokio::time::Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row.reason, "ScalingReplicaSet");
    assert_eq!(row.type_, "Normal");
    assert_eq!(row.source, "deployment-controller");
    assert!(
        row.message.starts_with("Scaled up replica set web-"),
        "{}",
        row.message
    );
    assert!(row.last_seen_time().is_some(), "{}", row.last_seen);

    // Another kind with the same name has none of them.
    let service = engine
        .events(&AppId::native("shop"), &key("", "Service", "web"))
        .await
        .expect("events");
    assert!(service.is_empty(), "{service:?}");
    // Nothing about an object that never existed: empty, not an error.
    let none = engine
        .events(&AppId::native("shop"), &key("apps", "Deployment", "nope"))
        .await
        .expect("events");
    assert!(none.is_empty());
}
