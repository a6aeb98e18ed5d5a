//! The `/kube-sim/` admin API the binary offers for fault injection and
//! observation: faults, compaction, dropped watches, the request log, admin
//! only.

mod common;

use axum::http::Request;
use common::kube_rs::{api_status, cm, no_proxy, start, start_with};
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, WatchParams};
use kube_sim::{KubeSim, Options};
use serde_json::{json, Value};
use std::time::Duration;

async fn admin(
    client: &kube::Client,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Result<Value, kube::Error> {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(body.map(|b| b.to_string().into_bytes()).unwrap_or_default())
        .expect("request");
    let text = client.request_text(req).await?;
    Ok(serde_json::from_str(&text).expect("JSON reply"))
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_through_the_admin_api() {
    let (sim, client) = start().await;
    sim.seed(cm("a", json!({}))).expect("seed");
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");

    let armed = admin(
        &client,
        "POST",
        "/kube-sim/faults",
        Some(json!({"status": 500, "method": "get", "pathContains": "/configmaps/a", "times": 1})),
    )
    .await
    .expect("arm");
    assert_eq!(armed["status"], 500);
    assert_eq!(armed["method"], "GET");
    let listed = admin(&client, "GET", "/kube-sim/faults", None)
        .await
        .expect("list");
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let failed = api_status(cms.get("a").await);
    assert_eq!(
        (failed.code, failed.reason.as_str()),
        (500, "InternalError")
    );
    cms.get("a").await.expect("used up");
    let listed = admin(&client, "GET", "/kube-sim/faults", None)
        .await
        .expect("list");
    assert_eq!(listed, json!([]));

    // A fault on everything does not lock the admin out.
    admin(
        &client,
        "POST",
        "/kube-sim/faults",
        Some(json!({"status": 404, "message": "gone fishing"})),
    )
    .await
    .expect("arm");
    let nf = api_status(cms.get("a").await);
    assert_eq!(
        (nf.code, nf.reason.as_str(), nf.message.as_str()),
        (404, "NotFound", "gone fishing")
    );
    admin(&client, "DELETE", "/kube-sim/faults", None)
        .await
        .expect("clear");
    cms.get("a").await.expect("cleared");

    // Latency.
    admin(
        &client,
        "POST",
        "/kube-sim/faults",
        Some(json!({"latencyMs": 300, "pathContains": "/configmaps/a", "times": 1})),
    )
    .await
    .expect("arm latency");
    let started = std::time::Instant::now();
    cms.get("a").await.expect("slow get");
    assert!(started.elapsed() >= Duration::from_millis(290));

    // Bad specs are 400s.
    for bad in [
        json!({}),
        json!({"status": 200}),
        json!({"status": 500, "bogus": 1}),
    ] {
        let e = api_status(admin(&client, "POST", "/kube-sim/faults", Some(bad)).await);
        assert_eq!(e.code, 400);
    }
    let e = api_status(admin(&client, "GET", "/kube-sim/nope", None).await);
    assert_eq!(e.code, 404);
    let e = api_status(admin(&client, "PUT", "/kube-sim/compact", None).await);
    assert_eq!(e.code, 405);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn request_log_compaction_and_dropped_watches() {
    let (sim, client) = start().await;
    sim.seed(cm("a", json!({}))).expect("seed");
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    admin(&client, "DELETE", "/kube-sim/requests", None)
        .await
        .expect("clear");
    cms.patch(
        "a",
        &PatchParams::apply("gitops-tui").dry_run(),
        &Patch::Apply(cm("a", json!({"k": "v"}))),
    )
    .await
    .expect("dry-run apply");
    let log = admin(&client, "GET", "/kube-sim/requests?method=patch", None)
        .await
        .expect("log");
    let entries = log.as_array().expect("array");
    assert_eq!(entries.len(), 1, "{log}");
    let e = &entries[0];
    assert_eq!(e["path"], "/api/v1/namespaces/default/configmaps/a");
    assert_eq!(e["contentType"], "application/apply-patch+yaml");
    let query = e["query"].as_str().expect("query");
    assert!(query.contains("fieldManager=gitops-tui"), "{query}");
    assert!(query.contains("dryRun=All"), "{query}");
    let all = admin(&client, "GET", "/kube-sim/requests", None)
        .await
        .expect("log");
    assert!(
        all.as_array()
            .expect("array")
            .iter()
            .all(|r| !r["path"].as_str().unwrap_or("").starts_with("/kube-sim/")),
        "admin calls are not logged"
    );

    // Compaction: resuming from an old version is one ERROR 410 event.
    let old = sim.resource_version();
    sim.seed(cm("b", json!({}))).expect("seed");
    let state = admin(&client, "GET", "/kube-sim/state", None)
        .await
        .expect("state");
    assert!(state["objects"].as_u64().is_some_and(|n| n >= 6));
    admin(&client, "POST", "/kube-sim/compact", None)
        .await
        .expect("compact");
    let req = Request::builder()
        .uri(format!(
            "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={old}"
        ))
        .body(Vec::new())
        .expect("request");
    let text = tokio::time::timeout(Duration::from_secs(5), client.request_text(req))
        .await
        .expect("the watch ends")
        .expect("200");
    let line: Value = serde_json::from_str(text.trim()).expect("one line");
    assert_eq!(line["type"], "ERROR");
    assert_eq!(line["object"]["code"], 410);
    assert_eq!(line["object"]["reason"], "Expired");

    // Dropped watches end the stream.
    let rv = sim.resource_version().to_string();
    let mut stream = cms
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("watch")
        .boxed();
    admin(&client, "POST", "/kube-sim/drop-watches", None)
        .await
        .expect("drop");
    let end = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("the stream ends promptly");
    assert!(end.is_none(), "{end:?}");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_admin_may_use_it() {
    let (sim, admin_client) = start_with(Options {
        tls: true,
        ..Options::default()
    })
    .await;
    admin(&admin_client, "GET", "/kube-sim/faults", None)
        .await
        .expect("the admin may");
    // Users and rules through the admin API too.
    admin(
        &admin_client,
        "POST",
        "/kube-sim/users",
        Some(json!({"token": "viewer-token", "user": "viewer"})),
    )
    .await
    .expect("add user");
    admin(
        &admin_client,
        "POST",
        "/kube-sim/rbac",
        Some(json!({"user": "viewer", "verbs": ["get", "list"], "resources": ["*"]})),
    )
    .await
    .expect("add rule");
    let viewer = client_with_token(&sim, "viewer-token").await;
    let e = api_status(admin(&viewer, "GET", "/kube-sim/requests", None).await);
    assert_eq!((e.code, e.reason.as_str()), (403, "Forbidden"));
    let e = api_status(admin(&viewer, "POST", "/kube-sim/compact", None).await);
    assert_eq!(e.code, 403);
    let cms: Api<ConfigMap> = Api::namespaced(viewer, "default");
    cms.list(&Default::default())
        .await
        .expect("the viewer may list");

    let stranger = client_with_token(&sim, "wrong").await;
    let e = api_status(admin(&stranger, "GET", "/kube-sim/faults", None).await);
    assert_eq!(e.code, 401);
    sim.stop().await;
}

async fn client_with_token(sim: &KubeSim, token: &str) -> kube::Client {
    no_proxy();
    let admin_token = sim.token().expect("https has a token");
    let yaml = sim.kubeconfig().replace(admin_token, token);
    let kc = kube::config::Kubeconfig::from_yaml(&yaml).expect("kubeconfig");
    let config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .expect("config");
    kube::Client::try_from(config).expect("client")
}
