//! Where a status reads the cluster from: one labelled LIST per kind instead
//! of a GET per object, and, once a runtime attaches its watches, the live
//! cache (one watch per kind the app needs) instead of any LIST. Checked in
//! kube-sim's request log.

mod common;

use common::*;
use futures::StreamExt;
use gitops_tui::cluster::live_cache;
use gitops_tui::engine::Engine;
use gitops_tui::model::AppId;
use gitops_tui::model::{ResourceStatus, SyncStatus};
use std::time::Duration;

/// (GETs of single objects in `shop`, LISTs of the app's kinds).
fn reads(f: &Fixture) -> (usize, usize) {
    let log = f.sim.requests();
    let gets = log
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("/namespaces/shop/"))
        .count();
    let lists = log
        .iter()
        .filter(|r| {
            r.method == "GET"
                && r.param("watch").is_none()
                && ["/deployments", "/services", "/configmaps"]
                    .iter()
                    .any(|p| r.path.ends_with(p))
        })
        .count();
    (gets, lists)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_status_lists_each_kind_once_instead_of_getting_each_object() {
    let f = synced_shop(false).await;
    let engine = f.engine();
    f.sim.clear_requests();
    let status = engine.status(&AppId::native("shop")).await.expect("status");
    assert_eq!(status.sync, SyncStatus::Synced, "{}", status.message);
    assert_eq!(status.counts.synced, 3);
    let (gets, lists) = reads(&f);
    assert_eq!(gets, 0, "no GET per object: {:?}", f.sim.requests());
    assert_eq!(lists, 3, "one labelled LIST per kind");

    // An object the lists cannot hold (not labelled for the app) is still
    // found, by GET, and its drift shown.
    f.kubectl_ok(&[
        "-n",
        "shop",
        "label",
        "configmap",
        "settings",
        "gitops-tui.dev/app-",
    ]);
    f.kubectl_ok(&[
        "-n",
        "shop",
        "patch",
        "configmap",
        "settings",
        "-p",
        r#"{"data":{"color":"red"}}"#,
    ]);
    f.sim.clear_requests();
    let status = engine.status(&AppId::native("shop")).await.expect("status");
    let settings = status
        .resources
        .iter()
        .find(|r| r.key.name == "settings")
        .expect("settings is listed");
    assert_eq!(
        settings.status,
        ResourceStatus::OutOfSync,
        "{}",
        settings.diff
    );
    assert!(settings.diff.contains("color"), "{}", settings.diff);
    assert_eq!(reads(&f).0, 1, "one GET, for the unlabelled object");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_watches_attached_a_status_reads_no_list_and_sees_changes() {
    let f = synced_shop(false).await;
    let engine: Engine = f.engine();
    let context = engine.context_of(&AppId::native("shop")).expect("context");
    let cluster = engine
        .cluster_of(&AppId::native("shop"))
        .await
        .expect("cluster");
    let mut wanted = engine.live_cache().attach(&context);

    // The first status asks for a watch of each kind and waits for their
    // first lists instead of listing beside them: no LIST of its own.
    let (kinds_tx, mut kinds_rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = {
        let client = cluster.watch_client.clone();
        tokio::spawn(async move {
            while let Some(request) = wanted.recv().await {
                let _ = kinds_tx.send(request.kind.resource.kind.clone());
                let stream = live_cache::watch_kind(client.clone(), request);
                tokio::spawn(stream.for_each(|_| async {}));
            }
        })
    };
    f.sim.clear_requests();
    let status = engine.status(&AppId::native("shop")).await.expect("status");
    assert_eq!(status.counts.synced, 3);
    // Three LISTs: the watches' own first lists, one per kind (a status
    // listing beside them would make six).
    assert_eq!(
        reads(&f),
        (0, 3),
        "the first status read the watches' lists"
    );
    let mut kinds = Vec::new();
    while let Ok(kind) = kinds_rx.try_recv() {
        kinds.push(kind);
    }
    kinds.sort();
    assert_eq!(kinds, ["ConfigMap", "Deployment", "Service"]);

    // Once the watches have listed, a status makes no LIST and no GET.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        f.sim.clear_requests();
        let status = engine.status(&AppId::native("shop")).await.expect("status");
        assert_eq!(status.counts.synced, 3, "{}", status.message);
        if reads(&f) == (0, 0) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still reading the cluster: {:?}",
            reads(&f)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        kinds_rx.try_recv().is_err(),
        "one watch per kind, asked for once"
    );

    // A change reaches the cache through the watch and shows as drift.
    f.kubectl_ok(&["-n", "shop", "scale", "deployment", "web", "--replicas=5"]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let web = loop {
        let status = engine.status(&AppId::native("shop")).await.expect("status");
        let web = status
            .resources
            .into_iter()
            .find(|r| r.key.kind == "Deployment")
            .expect("web");
        if web.status == ResourceStatus::OutOfSync || tokio::time::Instant::now() > deadline {
            break web;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(web.status, ResourceStatus::OutOfSync, "{}", web.diff);
    assert!(web.diff.contains("replicas"), "{}", web.diff);

    // A deleted object leaves the cache: the app shows it Missing.
    f.kubectl_ok(&["-n", "shop", "delete", "service", "web"]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let counts = loop {
        let status = engine.status(&AppId::native("shop")).await.expect("status");
        if status.counts.missing == 1 || tokio::time::Instant::now() > deadline {
            break status.counts;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(counts.missing, 1, "{counts:?}");

    // Detached (the runtime ended): back to reading the cluster.
    runner.abort();
    engine.live_cache().detach(&context);
    f.sim.clear_requests();
    engine.status(&AppId::native("shop")).await.expect("status");
    assert_eq!(reads(&f).1, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn rights_in_the_app_namespace_only_still_give_a_status_with_a_warning() {
    let f = synced_shop(true).await;
    // A user who may read and dry-run in `shop` and read the records, but
    // not list across namespaces (a common namespace-scoped RoleBinding).
    f.sim.add_user("shop-token", "shop-dev");
    for (verbs, namespace) in [
        (vec!["get", "list", "watch", "patch"], "shop"),
        (vec!["get"], "gitops-tui"),
    ] {
        f.sim.allow(kube_sim::Rule {
            user: "shop-dev".into(),
            verbs: verbs.into_iter().map(String::from).collect(),
            resources: vec!["*".into()],
            namespace: Some(namespace.into()),
        });
    }
    let admin: serde_json::Value =
        serde_yaml::from_str(&std::fs::read_to_string(&f.kubeconfig).expect("kubeconfig"))
            .expect("yaml");
    let mut limited = admin.clone();
    limited["users"][0]["user"]["token"] = "shop-token".into();
    let path = f.dir.path().join("limited-kubeconfig");
    std::fs::write(&path, serde_yaml::to_string(&limited).expect("yaml")).expect("write");
    let config = gitops_tui::config::Config::load(&f.config, true).expect("config");
    let engine = Engine::new(
        config,
        gitops_tui::cluster::KubeOptions {
            kubeconfig: Some(path),
            context: None,
        },
        false,
    );

    let status = engine.status(&AppId::native("shop")).await.expect("status");
    assert_eq!(status.sync, SyncStatus::Synced, "{}", status.message);
    assert_eq!(status.counts.synced, 3);
    assert_eq!(status.warnings.len(), 3, "{:?}", status.warnings);
    assert!(
        status.warnings.iter().any(|w| w
            .reason
            .starts_with("cannot list deployments across namespaces")),
        "{:?}",
        status.warnings
    );
}

/// With watches attached, statuses hold the watch store's own copy of each
/// live object (one copy in the process, however many statuses show it),
/// and that copy is the object the cluster holds, as the YAML view shows it.
#[tokio::test(flavor = "multi_thread")]
async fn statuses_share_the_watches_copy_of_each_live_object() {
    let f = synced_shop(false).await;
    let engine: Engine = f.engine();
    let app = AppId::native("shop");
    let context = engine.context_of(&app).expect("context");
    let cluster = engine.cluster_of(&app).await.expect("cluster");
    let mut wanted = engine.live_cache().attach(&context);
    let runner = {
        let client = cluster.watch_client.clone();
        tokio::spawn(async move {
            while let Some(request) = wanted.recv().await {
                let stream = live_cache::watch_kind(client.clone(), request);
                tokio::spawn(stream.for_each(|_| async {}));
            }
        })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        f.sim.clear_requests();
        engine.status(&app).await.expect("status");
        if reads(&f) == (0, 0) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never served from the watches"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let one = engine.status(&app).await.expect("status");
    let two = engine.status(&app).await.expect("status");
    assert_eq!(one.resources.len(), 3);
    for (a, b) in one.resources.iter().zip(&two.resources) {
        let (a_live, b_live) = (
            a.live.as_ref().expect("live"),
            b.live.as_ref().expect("live"),
        );
        assert!(a_live.same(b_live), "{} is copied per status", a.key);
    }

    // The shared copy is the cluster's object, apiVersion and kind filled in.
    let web = one
        .resources
        .iter()
        .find(|r| r.key.kind == "Deployment")
        .and_then(|r| r.live.as_ref())
        .expect("web")
        .value();
    let uid = f.kubectl_ok(&[
        "-n",
        "shop",
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.metadata.uid}",
    ]);
    assert_eq!(web["metadata"]["uid"], uid.trim());
    assert_eq!(
        (web["apiVersion"].as_str(), web["kind"].as_str()),
        (Some("apps/v1"), Some("Deployment"))
    );
    assert_eq!(web["spec"]["replicas"], 2);

    // A change replaces the copy: the next status shows the new object.
    f.kubectl_ok(&["-n", "shop", "scale", "deployment", "web", "--replicas=5"]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let scaled = loop {
        let status = engine.status(&app).await.expect("status");
        let live = status
            .resources
            .iter()
            .find(|r| r.key.kind == "Deployment")
            .and_then(|r| r.live.clone())
            .expect("web");
        if live.value()["spec"]["replicas"] == 5 || tokio::time::Instant::now() > deadline {
            break live;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(scaled.value()["spec"]["replicas"], 5);
    runner.abort();
}
