//! kube-rs watchers, reflectors and discovery against kube-sim: initial
//! list (paged list or streaming list), resuming, forced 410s, dropped
//! connections, selectors, and CRDs appearing in discovery at run time.

mod common;

use common::kube_rs::{cm, deployment, eventually, labelled_cm, start, start_with};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::discovery::{Discovery, Scope};
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher::{self, watcher, InitialListStrategy};
use kube::runtime::WatchStreamExt;
use kube::ResourceExt;
use kube_sim::{Fault, KubeSim, Options};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const WITHIN: Duration = Duration::from_secs(10);

/// What the reflector saw, in order: "Init", "InitDone", "Apply", "Delete",
/// "Error(410)", ...
type Seen = Arc<Mutex<Vec<String>>>;

fn spawn_reflector<K>(api: Api<K>, config: watcher::Config) -> (Store<K>, Seen)
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store::<K>();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let stream = reflector::reflector(writer, watcher(api, config).default_backoff());
    tokio::spawn(stream.for_each(move |event| {
        let what = match &event {
            Ok(watcher::Event::Init) => "Init".to_string(),
            Ok(watcher::Event::InitApply(_)) => "InitApply".to_string(),
            Ok(watcher::Event::InitDone) => "InitDone".to_string(),
            Ok(watcher::Event::Apply(_)) => "Apply".to_string(),
            Ok(watcher::Event::Delete(_)) => "Delete".to_string(),
            Err(watcher::Error::WatchError(s)) => format!("Error({})", s.code),
            Err(e) => format!("Error({e})"),
        };
        log.lock().unwrap_or_else(|e| e.into_inner()).push(what);
        std::future::ready(())
    }));
    (reader, seen)
}

fn count(seen: &Seen, what: &str) -> usize {
    seen.lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|s| *s == what)
        .count()
}

/// name → resourceVersion, as the server has it now.
async fn server_versions(api: &Api<ConfigMap>) -> BTreeMap<String, String> {
    api.list(&ListParams::default())
        .await
        .expect("list")
        .items
        .iter()
        .map(|c| (c.name_any(), c.resource_version().unwrap_or_default()))
        .collect()
}

fn store_versions(store: &Store<ConfigMap>) -> BTreeMap<String, String> {
    store
        .state()
        .iter()
        .map(|c| (c.name_any(), c.resource_version().unwrap_or_default()))
        .collect()
}

async fn converged(store: &Store<ConfigMap>, api: &Api<ConfigMap>, what: &str) {
    let what = what.to_string();
    eventually(WITHIN, &what, || async {
        store_versions(store) == server_versions(api).await
    })
    .await;
}

async fn seed_three(sim: &KubeSim) {
    for name in ["a", "b", "c"] {
        sim.seed(cm(name, json!({"v": "0"}))).expect("seed");
    }
}

/// The watch is down (its re-watch held by injected latency) while an object
/// is deleted, one added and one changed, and the history is compacted: the
/// resumed watch gets a 410 ERROR event, the watcher re-lists, and the store
/// drops the deleted object (InitDone replaces the store).
async fn survives_compaction_while_down(strategy: InitialListStrategy) {
    let (sim, client) = start().await;
    seed_three(&sim).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let config = watcher::Config {
        initial_list_strategy: strategy,
        ..watcher::Config::default()
    };
    let (store, seen) = spawn_reflector(api.clone(), config);
    store.wait_until_ready().await.expect("initial list");
    converged(&store, &api, "initial list").await;
    assert_eq!(count(&seen, "InitDone"), 1);

    // Changes while connected arrive as watch events.
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"v": "1"}})),
    )
    .await
    .expect("patch");
    converged(&store, &api, "live modification").await;
    assert!(count(&seen, "Apply") >= 1);

    sim.inject(
        Fault::latency(Duration::from_millis(700))
            .on("GET", "/configmaps")
            .times(1),
    );
    sim.drop_watches();
    tokio::time::sleep(Duration::from_millis(150)).await;
    api.delete("b", &DeleteParams::default())
        .await
        .expect("delete");
    api.create(
        &PostParams::default(),
        &serde_json::from_value(cm("d", json!({}))).expect("cm"),
    )
    .await
    .expect("create");
    api.patch(
        "c",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"v": "2"}})),
    )
    .await
    .expect("patch");
    sim.compact();

    converged(&store, &api, "re-list after 410").await;
    assert!(store
        .get(&reflector::ObjectRef::new("b").within("default"))
        .is_none());
    assert_eq!(
        count(&seen, "Error(410)"),
        1,
        "{:?}",
        seen.lock().map(|s| s.clone())
    );
    assert_eq!(count(&seen, "InitDone"), 2, "a second initial list");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_watch_survives_compaction_while_down() {
    survives_compaction_while_down(InitialListStrategy::ListWatch).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn streaming_list_survives_compaction_while_down() {
    survives_compaction_while_down(InitialListStrategy::StreamingList).await;
}

/// A dropped connection without compaction: the watcher resumes from its
/// last version and gets what it missed, without re-listing.
async fn resumes_after_dropped_connection(strategy: InitialListStrategy) {
    let (sim, client) = start().await;
    seed_three(&sim).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let config = watcher::Config {
        initial_list_strategy: strategy,
        ..watcher::Config::default()
    };
    let (store, seen) = spawn_reflector(api.clone(), config);
    store.wait_until_ready().await.expect("initial list");
    converged(&store, &api, "initial list").await;

    sim.inject(
        Fault::latency(Duration::from_millis(400))
            .on("GET", "/configmaps")
            .times(1),
    );
    sim.drop_watches();
    tokio::time::sleep(Duration::from_millis(100)).await;
    api.delete("b", &DeleteParams::default())
        .await
        .expect("delete");
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"v": "9"}})),
    )
    .await
    .expect("patch");
    converged(&store, &api, "resume from the last version").await;
    assert_eq!(
        count(&seen, "InitDone"),
        1,
        "no re-list: {:?}",
        seen.lock().map(|s| s.clone())
    );
    assert_eq!(count(&seen, "Delete"), 1);

    // Dropping twice more with writes in between still converges.
    for round in 0..2 {
        sim.drop_watches();
        sim.seed(cm(&format!("new-{round}"), json!({})))
            .expect("seed");
        converged(&store, &api, "after another drop").await;
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_watch_resumes_after_dropped_connection() {
    resumes_after_dropped_connection(InitialListStrategy::ListWatch).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn streaming_list_resumes_after_dropped_connection() {
    resumes_after_dropped_connection(InitialListStrategy::StreamingList).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn streaming_list_sends_the_right_watch() {
    let (sim, client) = start().await;
    seed_three(&sim).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let (store, _) = spawn_reflector(api.clone(), watcher::Config::default().streaming_lists());
    store.wait_until_ready().await.expect("streaming list");
    converged(&store, &api, "streaming list").await;
    let log = sim.requests();
    let initial = log
        .iter()
        .find(|r| r.param("sendInitialEvents").as_deref() == Some("true"))
        .expect("a streaming list watch");
    assert_eq!(initial.param("watch").as_deref(), Some("true"));
    assert_eq!(
        initial.param("resourceVersionMatch").as_deref(),
        Some("NotOlderThan")
    );
    assert_eq!(
        initial.param("allowWatchBookmarks").as_deref(),
        Some("true")
    );
    assert!(
        !log.iter().any(|r| r.method == "GET"
            && r.path.ends_with("/configmaps")
            && r.param("watch").is_none()
            && r.param("limit").is_some()),
        "no paged list with StreamingList"
    );
    sim.stop().await;
}

/// Paged initial list (page size 2) over several pages.
#[tokio::test(flavor = "multi_thread")]
async fn list_watch_pages_the_initial_list() {
    let (sim, client) = start().await;
    for i in 0..7 {
        sim.seed(cm(&format!("p{i}"), json!({}))).expect("seed");
    }
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let (store, _) = spawn_reflector(api.clone(), watcher::Config::default().page_size(2));
    store.wait_until_ready().await.expect("initial list");
    converged(&store, &api, "paged initial list").await;
    let pages = sim
        .requests()
        .iter()
        .filter(|r| r.param("limit").as_deref() == Some("2"))
        .count();
    assert_eq!(pages, 4);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn selector_watch_drops_objects_that_stop_matching() {
    let (sim, client) = start().await;
    sim.seed(labelled_cm("w1", json!({"app": "web"})))
        .expect("seed");
    sim.seed(labelled_cm("w2", json!({"app": "web"})))
        .expect("seed");
    sim.seed(labelled_cm("d1", json!({"app": "db"})))
        .expect("seed");
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let (store, _) = spawn_reflector(api.clone(), watcher::Config::default().labels("app=web"));
    store.wait_until_ready().await.expect("initial list");
    let names = || {
        let mut n: Vec<String> = store.state().iter().map(|c| c.name_any()).collect();
        n.sort();
        n
    };
    assert_eq!(names(), ["w1", "w2"]);
    api.patch(
        "w1",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "db"}}})),
    )
    .await
    .expect("relabel");
    api.patch(
        "d1",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "web"}}})),
    )
    .await
    .expect("relabel");
    eventually(WITHIN, "selector membership", || async {
        names() == ["d1", "w2"]
    })
    .await;
    sim.stop().await;
}

/// The reflector's objects are the server's objects, field for field, while
/// simulated controllers keep writing status.
#[tokio::test(flavor = "multi_thread")]
async fn reflector_store_equals_server_objects() {
    let (sim, client) = start_with(Options {
        ready_after: Duration::from_millis(50),
        ..Options::default()
    })
    .await;
    let api: Api<Deployment> = Api::namespaced(client, "default");
    let (store, _) = spawn_reflector(api.clone(), watcher::Config::default());
    store.wait_until_ready().await.expect("initial list");
    for i in 0..5 {
        api.patch(
            &format!("web-{i}"),
            &PatchParams::apply("test"),
            &Patch::Apply(deployment(&format!("web-{i}"), "nginx:1.25")),
        )
        .await
        .expect("apply");
    }
    api.delete("web-3", &DeleteParams::default())
        .await
        .expect("delete");
    sim.drop_watches();
    api.patch_scale(
        "web-1",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 3}})),
    )
    .await
    .expect("scale");
    let as_json = |items: Vec<Deployment>| -> BTreeMap<String, serde_json::Value> {
        items
            .into_iter()
            .map(|d| (d.name_any(), serde_json::to_value(&d).expect("json")))
            .collect()
    };
    eventually(
        WITHIN,
        "store equals the server, and status is ready",
        || async {
            let server = as_json(api.list(&ListParams::default()).await.expect("list").items);
            let cached = as_json(store.state().iter().map(|d| (**d).clone()).collect());
            let ready = server
                .values()
                .all(|d| d.pointer("/status/readyReplicas") == d.pointer("/spec/replicas"));
            server.len() == 4 && ready && server == cached
        },
    )
    .await;
    sim.stop().await;
}

fn widget_crd() -> serde_json::Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                }}}
            }]
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_finds_a_crd_created_at_run_time() {
    let (sim, client) = start().await;
    let before = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .expect("aggregated discovery");
    assert!(before.has_group("apps"), "built-in groups are served");
    assert!(!before.has_group("example.com"));

    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.patch(
        "widgets.example.com",
        &PatchParams::apply("test"),
        &Patch::Apply(widget_crd()),
    )
    .await
    .expect("create the CRD");

    for (how, discovery) in [
        (
            "aggregated",
            Discovery::new(client.clone()).run_aggregated().await,
        ),
        ("legacy", Discovery::new(client.clone()).run().await),
    ] {
        let discovery = discovery.unwrap_or_else(|e| panic!("{how} discovery: {e}"));
        assert!(
            discovery.has_group("example.com"),
            "{how} sees the new group"
        );
        let group = discovery
            .get("example.com")
            .unwrap_or_else(|| panic!("{how}: group"));
        let (ar, caps) = group
            .recommended_kind("Widget")
            .unwrap_or_else(|| panic!("{how}: Widget"));
        assert_eq!(ar.plural, "widgets");
        assert_eq!(ar.version, "v1");
        assert_eq!(caps.scope, Scope::Namespaced);
        assert!(
            caps.subresources
                .iter()
                .any(|(sub, _)| sub.plural == "widgets/status" || sub.plural == "status"),
            "{how}: status subresource: {:?}",
            caps.subresources
        );
        // Core and apps resources are found the same way.
        let (deploy, _) = discovery
            .get("apps")
            .and_then(|g| g.recommended_kind("Deployment"))
            .unwrap_or_else(|| panic!("{how}: deployments"));
        assert_eq!(deploy.plural, "deployments");
        let core = discovery
            .get("")
            .unwrap_or_else(|| panic!("{how}: core group"));
        assert!(
            core.recommended_kind("ConfigMap").is_some(),
            "{how}: configmaps"
        );
    }

    // The new resource is usable through a dynamic Api.
    let discovery = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .expect("discovery");
    let (ar, _) = discovery
        .get("example.com")
        .and_then(|g| g.recommended_kind("Widget"))
        .expect("widget");
    let widgets: Api<kube::api::DynamicObject> = Api::namespaced_with(client, "default", &ar);
    widgets
        .patch(
            "w",
            &PatchParams::apply("test"),
            &Patch::Apply(json!({"apiVersion": "example.com/v1", "kind": "Widget",
                "metadata": {"name": "w"}, "spec": {"size": 3}})),
        )
        .await
        .expect("apply a widget");
    assert_eq!(
        widgets
            .list(&ListParams::default())
            .await
            .expect("list")
            .items
            .len(),
        1
    );
    sim.stop().await;
}
