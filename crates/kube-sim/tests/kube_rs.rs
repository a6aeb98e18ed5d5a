//! kube-rs against kube-sim: typed and dynamic CRUD, lists with selectors and
//! pagination, Status errors, fault injection, the request log and
//! `--state-dir` restarts.

mod common;

use common::kube_rs::{api_status, cm, deployment, labelled_cm, start, start_with};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams,
};
use kube_sim::{Fault, Options};
use serde_json::json;
use std::collections::BTreeSet;

fn typed<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).expect("valid object")
}

#[tokio::test(flavor = "multi_thread")]
async fn configmap_crud() {
    let (sim, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");

    let created = cms
        .create(&PostParams::default(), &typed(cm("a", json!({"x": "1"}))))
        .await
        .expect("create");
    let meta = &created.metadata;
    assert!(meta.uid.is_some());
    assert!(meta.creation_timestamp.is_some());
    let rv1: u64 = meta
        .resource_version
        .as_deref()
        .and_then(|r| r.parse().ok())
        .expect("integer resourceVersion");
    assert_eq!(meta.managed_fields.as_ref().map(Vec::len), Some(1));

    let again = api_status(
        cms.create(&PostParams::default(), &typed(cm("a", json!({}))))
            .await,
    );
    assert_eq!((again.code, again.reason.as_str()), (409, "AlreadyExists"));

    let got = cms.get("a").await.expect("get");
    assert_eq!(
        got.data
            .as_ref()
            .and_then(|d| d.get("x"))
            .map(String::as_str),
        Some("1")
    );

    let patched = cms
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"y": "2"}})),
        )
        .await
        .expect("merge patch");
    let rv2: u64 = patched
        .metadata
        .resource_version
        .as_deref()
        .and_then(|r| r.parse().ok())
        .expect("rv");
    assert!(rv2 > rv1);
    assert_eq!(patched.data.as_ref().map(|d| d.len()), Some(2));

    let json_patched = cms
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Json::<()>(
                serde_json::from_value(json!([{"op": "remove", "path": "/data/x"}]))
                    .expect("json patch"),
            ),
        )
        .await
        .expect("json patch");
    assert_eq!(
        json_patched
            .data
            .as_ref()
            .map(|d| d.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["y".to_string()])
    );

    // A replace with a stale resourceVersion is a conflict.
    let mut stale = got.clone();
    stale.data = Some([("z".to_string(), "3".to_string())].into());
    let conflict = api_status(cms.replace("a", &PostParams::default(), &stale).await);
    assert_eq!((conflict.code, conflict.reason.as_str()), (409, "Conflict"));
    assert!(
        conflict.message.contains("the object has been modified"),
        "{}",
        conflict.message
    );

    // Besides `a`, the namespace holds the cluster's kube-root-ca.crt.
    let listed = cms.list(&ListParams::default()).await.expect("list");
    let names: Vec<_> = listed
        .items
        .iter()
        .filter_map(|c| c.metadata.name.clone())
        .collect();
    assert_eq!(names, ["a", "kube-root-ca.crt"]);
    assert!(listed
        .metadata
        .resource_version
        .is_some_and(|r| !r.is_empty()));

    let deleted = cms
        .delete("a", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(deleted.is_right(), "no finalizers: gone at once");
    assert!(sim.get("v1", "ConfigMap", "default", "a").is_none());
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deployment_crud_with_defaults() {
    let (sim, client) = start().await;
    let deploys: Api<Deployment> = Api::namespaced(client, "default");
    let d = deploys
        .create(
            &PostParams::default(),
            &typed(deployment("web", "nginx:1.25")),
        )
        .await
        .expect("create");
    let spec = d.spec.as_ref().expect("spec");
    assert_eq!(spec.replicas, Some(1));
    assert_eq!(spec.revision_history_limit, Some(10));
    assert_eq!(spec.progress_deadline_seconds, Some(600));
    assert_eq!(d.metadata.generation, Some(1));
    let pod = spec.template.spec.as_ref().expect("pod spec");
    assert_eq!(pod.restart_policy.as_deref(), Some("Always"));
    assert_eq!(
        pod.containers[0].image_pull_policy.as_deref(),
        Some("IfNotPresent")
    );

    let patched = deploys
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "main", "image": "nginx:1.26"}
            ]}}}})),
        )
        .await
        .expect("strategic patch");
    assert_eq!(patched.metadata.generation, Some(2));
    let containers = &patched
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .expect("pod spec")
        .containers;
    assert_eq!(containers.len(), 1, "strategic merge by name");
    assert_eq!(containers[0].image.as_deref(), Some("nginx:1.26"));

    let list = deploys.list(&ListParams::default()).await.expect("list");
    assert_eq!(list.items.len(), 1);
    deploys
        .delete("web", &DeleteParams::background())
        .await
        .expect("delete");
    let gone = api_status(deploys.get("web").await);
    assert_eq!(gone.code, 404);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dynamic_objects_with_an_api_resource() {
    let (sim, client) = start().await;
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"));
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
    let obj: DynamicObject = typed(cm("dyn", json!({"a": "b"})));
    let created = api
        .create(&PostParams::default(), &obj)
        .await
        .expect("create");
    assert_eq!(created.data["data"]["a"], "b");
    let got = api.get("dyn").await.expect("get");
    assert_eq!(
        got.types.as_ref().map(|t| t.kind.as_str()),
        Some("ConfigMap")
    );

    let deploy_ar = ApiResource::from_gvk(&GroupVersionKind::gvk("apps", "v1", "Deployment"));
    let deploys: Api<DynamicObject> = Api::namespaced_with(client, "default", &deploy_ar);
    deploys
        .patch(
            "web",
            &PatchParams::apply("dyn-test"),
            &Patch::Apply(deployment("web", "nginx")),
        )
        .await
        .expect("apply creates");
    let listed = deploys.list(&ListParams::default()).await.expect("list");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].data["spec"]["replicas"], 1);
    api.delete("dyn", &DeleteParams::default())
        .await
        .expect("delete");
    assert_eq!(api_status(api.get("dyn").await).code, 404);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn label_selectors() {
    let (sim, client) = start().await;
    sim.seed(labelled_cm("a", json!({"app": "web", "tier": "front"})))
        .expect("seed");
    sim.seed(labelled_cm("b", json!({"app": "web", "tier": "back"})))
        .expect("seed");
    sim.seed(labelled_cm("c", json!({"app": "db"})))
        .expect("seed");
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let names = |sel: &str| {
        let cms = cms.clone();
        let lp = ListParams::default().labels(sel);
        async move {
            cms.list(&lp)
                .await
                .expect("list")
                .items
                .into_iter()
                .filter_map(|c| c.metadata.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names("app=web").await, ["a", "b"]);
    assert_eq!(names("app==web,tier!=front").await, ["b"]);
    assert_eq!(names("app in (db, x)").await, ["c"]);
    // Objects without the label match `notin` and `!`: the namespace's
    // kube-root-ca.crt among them, as on a real cluster.
    assert_eq!(names("app notin (web)").await, ["c", "kube-root-ca.crt"]);
    assert_eq!(names("tier").await, ["a", "b"]);
    assert_eq!(names("!tier").await, ["c", "kube-root-ca.crt"]);
    let by_name = cms
        .list(&ListParams::default().fields("metadata.name=b"))
        .await
        .expect("field selector");
    assert_eq!(by_name.items.len(), 1);
    let bad = api_status(cms.list(&ListParams::default().fields("data.k=a")).await);
    assert_eq!(bad.code, 400);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pagination_is_one_snapshot_and_tokens_expire() {
    let (sim, client) = start().await;
    for i in 0..25 {
        sim.seed(cm(&format!("cm-{i:02}"), json!({})))
            .expect("seed");
    }
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let first = cms
        .list(&ListParams::default().limit(10))
        .await
        .expect("page 1");
    // 25 seeded and the cluster's kube-root-ca.crt (last by name).
    assert_eq!(first.items.len(), 10);
    assert_eq!(first.metadata.remaining_item_count, Some(16));
    let mut seen: Vec<String> = first
        .items
        .iter()
        .filter_map(|c| c.metadata.name.clone())
        .collect();
    // Deleted between pages: still appears exactly once (the first page's snapshot).
    cms.delete("cm-15", &DeleteParams::default())
        .await
        .expect("delete");
    cms.delete("cm-03", &DeleteParams::default())
        .await
        .expect("delete");
    sim.seed(cm("cm-99", json!({}))).expect("seed");
    let mut token = first.metadata.continue_.clone();
    let mut pages = 1;
    while let Some(t) = token.filter(|t| !t.is_empty()) {
        let page = cms
            .list(&ListParams::default().limit(10).continue_token(&t))
            .await
            .expect("next page");
        assert_eq!(
            page.metadata.resource_version, first.metadata.resource_version,
            "every page is served from the first page's version"
        );
        seen.extend(page.items.iter().filter_map(|c| c.metadata.name.clone()));
        token = page.metadata.continue_.clone();
        pages += 1;
    }
    assert_eq!(pages, 3);
    let mut expected: Vec<String> = (0..25).map(|i| format!("cm-{i:02}")).collect();
    expected.push("kube-root-ca.crt".into());
    assert_eq!(seen, expected, "each item exactly once, in order");

    // kube-rs' own pager (list_metadata / limit 500) gets everything too.
    let all = cms
        .list(&ListParams::default().limit(500))
        .await
        .expect("list");
    assert_eq!(all.items.len(), 25);
    assert!(all.metadata.continue_.is_none_or(|c| c.is_empty()));

    // An outstanding token after compaction: 410 Expired.
    let page = cms
        .list(&ListParams::default().limit(5))
        .await
        .expect("page");
    let token = page.metadata.continue_.expect("more pages");
    sim.compact();
    let expired = api_status(
        cms.list(&ListParams::default().limit(5).continue_token(&token))
            .await,
    );
    assert_eq!((expired.code, expired.reason.as_str()), (410, "Expired"));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn not_found_is_an_api_error() {
    let (sim, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let err = cms.get("nope").await.expect_err("missing");
    let kube::Error::Api(status) = err else {
        panic!("expected kube::Error::Api, got {err:?}");
    };
    assert_eq!(status.code, 404);
    assert_eq!(status.reason, "NotFound");
    assert_eq!(status.message, "configmaps \"nope\" not found");
    let details = status.details.expect("details");
    assert_eq!(details.name, "nope");
    assert_eq!(details.kind, "configmaps");
    assert!(cms.get_opt("nope").await.expect("get_opt").is_none());

    // Namespace missing on create → 404 for the namespace.
    let other: Api<ConfigMap> = Api::namespaced(client, "no-such-ns");
    let mut obj: ConfigMap = typed(cm("x", json!({})));
    obj.metadata.namespace = Some("no-such-ns".into());
    let missing_ns = api_status(other.create(&PostParams::default(), &obj).await);
    assert_eq!(missing_ns.code, 404);
    assert!(
        missing_ns
            .message
            .contains("namespaces \"no-such-ns\" not found"),
        "{}",
        missing_ns.message
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn injected_500_then_success_and_request_log() {
    let (sim, client) = start().await;
    sim.seed(cm("a", json!({}))).expect("seed");
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    sim.inject(Fault::status(500).on("GET", "/configmaps/a").times(1));
    let failed = api_status(cms.get("a").await);
    assert_eq!(
        (failed.code, failed.reason.as_str()),
        (500, "InternalError")
    );
    cms.get("a").await.expect("the fault was used up");

    // kube-rs retries 429 (honouring Retry-After) on its own.
    sim.clear_requests();
    sim.inject(
        Fault::status(429)
            .retry_after(1)
            .on("GET", "/configmaps/a")
            .times(1),
    );
    let started = std::time::Instant::now();
    cms.get("a").await.expect("retried after the 429");
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    let gets = sim
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/configmaps/a"))
        .count();
    assert_eq!(gets, 2, "one 429, one retry");

    sim.clear_requests();
    cms.patch(
        "a",
        &PatchParams::apply("gitops-tui").dry_run(),
        &Patch::Apply(cm("a", json!({"k": "v"}))),
    )
    .await
    .expect("dry-run apply");
    let log = sim.requests();
    let apply = log
        .iter()
        .find(|r| r.method == "PATCH")
        .expect("the apply was logged");
    assert_eq!(apply.path, "/api/v1/namespaces/default/configmaps/a");
    assert_eq!(apply.param("fieldManager").as_deref(), Some("gitops-tui"));
    assert_eq!(apply.param("dryRun").as_deref(), Some("All"));
    assert_eq!(apply.content_type, "application/apply-patch+yaml");
    assert!(apply.body.contains("\"k\""), "{}", apply.body);
    assert!(apply.is_mutating());
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn state_dir_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = Options {
        state_dir: Some(dir.path().to_path_buf()),
        ..Options::default()
    };
    let (sim, client) = start_with(opts.clone()).await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    for name in ["a", "b", "c"] {
        cms.create(&PostParams::default(), &typed(cm(name, json!({"n": name}))))
            .await
            .expect("create");
    }
    cms.delete("c", &DeleteParams::default())
        .await
        .expect("delete");
    let before = cms.list(&ListParams::default()).await.expect("list");
    let before_versions: BTreeSet<(String, String)> = before
        .items
        .iter()
        .map(|c| {
            (
                c.metadata.name.clone().unwrap_or_default(),
                c.metadata.resource_version.clone().unwrap_or_default(),
            )
        })
        .collect();
    let last_rv: u64 = before
        .metadata
        .resource_version
        .as_deref()
        .and_then(|r| r.parse().ok())
        .expect("list rv");
    sim.stop().await;

    let (sim, client) = start_with(opts).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let after = cms.list(&ListParams::default()).await.expect("list");
    let after_versions: BTreeSet<(String, String)> = after
        .items
        .iter()
        .map(|c| {
            (
                c.metadata.name.clone().unwrap_or_default(),
                c.metadata.resource_version.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(before_versions, after_versions);
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client);
    assert!(namespaces.get("kube-system").await.is_ok());
    // Versions keep increasing after a restart, past every version handed out before.
    let d = cms
        .create(&PostParams::default(), &typed(cm("d", json!({}))))
        .await
        .expect("create after restart");
    let rv: u64 = d
        .metadata
        .resource_version
        .as_deref()
        .and_then(|r| r.parse().ok())
        .expect("rv");
    assert!(rv > last_rv, "{rv} after restart must exceed {last_rv}");
    sim.stop().await;
}
