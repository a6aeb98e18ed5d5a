//! The simulated Argo CD application controller over kube-rs, with the
//! upstream CRD and real git repositories: comparison, a sync `operation`
//! as the argocd CLI writes it (with history), dry-run, automated sync with
//! prune and selfHeal, refresh, and comparison errors.

mod common;

use common::gitops::{configmap, deployment, install_crds, wait_for, Repo};
use common::kube_rs::start_with;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::ApiResource;
use kube_sim::{GitOpsControllers, KubeSim, Options};
use serde_json::{json, Value};
use std::time::Duration;

const APP: &str = "argoproj.io/v1alpha1";

async fn argocd() -> (KubeSim, kube::Client) {
    let (sim, client) = start_with(Options {
        controllers: GitOpsControllers {
            flux: false,
            argocd: true,
        },
        ready_after: Duration::from_millis(100),
        ..Options::default()
    })
    .await;
    install_crds(&sim);
    (sim, client)
}

fn apps(c: &kube::Client) -> Api<DynamicObject> {
    let ar = ApiResource {
        group: "argoproj.io".into(),
        version: "v1alpha1".into(),
        api_version: APP.into(),
        kind: "Application".into(),
        plural: "applications".into(),
    };
    Api::namespaced_with(c.clone(), "argocd", &ar)
}

fn application(repo: &Repo, automated: Option<Value>) -> Value {
    let mut app = json!({
        "apiVersion": APP, "kind": "Application",
        "metadata": {"name": "web", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {"repoURL": repo.url(), "path": "deploy", "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "default"},
        },
    });
    if let Some(a) = automated {
        app["spec"]["syncPolicy"] = json!({"automated": a});
    }
    app
}

async fn create(c: &kube::Client, app: Value) {
    apps(c)
        .patch(
            "web",
            &PatchParams::apply("test").force(),
            &Patch::Apply(&app),
        )
        .await
        .expect("applied");
}

async fn merge(c: &kube::Client, patch: Value) {
    apps(c)
        .patch("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patched");
}

async fn wait(sim: &KubeSim, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    wait_for(sim, (APP, "Application", "argocd", "web"), what, check).await
}

fn sync_status(o: &Value) -> &str {
    o["status"]["sync"]["status"].as_str().unwrap_or("")
}

fn two_objects(repo: &Repo) -> String {
    repo.write("deploy/cm.yaml", &configmap("cfg", "one"));
    repo.write("deploy/web.yaml", &deployment("web", "nginx:1.25"));
    repo.commit("first")
}

#[tokio::test]
async fn an_operation_syncs_writes_history_and_is_cleared() {
    let (sim, c) = argocd().await;
    let repo = Repo::new();
    let sha = two_objects(&repo);
    create(&c, application(&repo, None)).await;
    let o = wait(&sim, "compared", |o| sync_status(o) == "OutOfSync").await;
    assert_eq!(o["status"]["sync"]["revision"], sha);
    assert_eq!(o["status"]["health"]["status"], "Missing");
    assert_eq!(
        o["status"]["sync"]["comparedTo"]["source"],
        o["spec"]["source"]
    );
    assert_eq!(o["status"]["sourceType"], "Directory");
    let resources = o["status"]["resources"].as_array().expect("resources");
    assert_eq!(resources.len(), 2, "{resources:#?}");
    assert!(resources
        .iter()
        .all(|r| r["status"] == "OutOfSync" && r["health"]["status"] == "Missing"));
    assert!(o["status"]["reconciledAt"].is_string());
    assert!(
        sim.get("v1", "ConfigMap", "default", "cfg").is_none(),
        "not synced without an operation"
    );

    // The operation as `argocd app sync web --revision main --prune` writes it.
    merge(
        &c,
        json!({"operation": {
            "initiatedBy": {"username": "admin"},
            "sync": {"revision": "main", "prune": true, "syncStrategy": {"hook": {}}},
        }}),
    )
    .await;
    let o = wait(&sim, "synced and healthy", |o| {
        o.get("operation").is_none()
            && o["status"]["operationState"]["phase"] == "Succeeded"
            && sync_status(o) == "Synced"
            && o["status"]["health"]["status"] == "Healthy"
    })
    .await;
    let state = &o["status"]["operationState"];
    assert_eq!(state["message"], "successfully synced (all tasks run)");
    assert_eq!(state["operation"]["initiatedBy"]["username"], "admin");
    assert_eq!(state["syncResult"]["revision"], sha);
    assert!(state["startedAt"].is_string() && state["finishedAt"].is_string());
    let mut messages: Vec<&str> = state["syncResult"]["resources"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["message"].as_str().unwrap_or(""))
        .collect();
    messages.sort();
    assert_eq!(
        messages,
        ["configmap/cfg created", "deployment.apps/web created"]
    );
    let history = o["status"]["history"].as_array().expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["id"], 0);
    assert_eq!(history[0]["revision"], sha);
    assert_eq!(history[0]["source"], o["spec"]["source"]);
    assert!(history[0]["deployedAt"].is_string());
    let cm = sim
        .get("v1", "ConfigMap", "default", "cfg")
        .expect("synced");
    assert_eq!(
        cm["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"],
        "web:/ConfigMap:default/cfg"
    );

    // A second sync appends id 1.
    repo.write("deploy/cm.yaml", &configmap("cfg", "two"));
    let second = repo.commit("second");
    merge(
        &c,
        json!({"metadata": {"annotations": {"argocd.argoproj.io/refresh": "hard"}}}),
    )
    .await;
    let o = wait(&sim, "out of sync at the new commit", |o| {
        o["status"]["sync"]["revision"] == second && sync_status(o) == "OutOfSync"
    })
    .await;
    assert!(
        o["metadata"]["annotations"]
            .get("argocd.argoproj.io/refresh")
            .is_none(),
        "refresh handled"
    );
    merge(
        &c,
        json!({"operation": {"initiatedBy": {"username": "admin"}, "sync": {"revision": second}}}),
    )
    .await;
    let o = wait(&sim, "second sync", |o| {
        o["status"]["history"].as_array().map(Vec::len) == Some(2) && sync_status(o) == "Synced"
    })
    .await;
    assert_eq!(o["status"]["history"][1]["id"], 1);
    assert_eq!(o["status"]["history"][1]["revision"], second);
    assert_eq!(
        sim.get("v1", "ConfigMap", "default", "cfg").expect("cm")["data"]["key"],
        "two"
    );
}

#[tokio::test]
async fn a_dry_run_operation_changes_nothing_and_records_no_history() {
    let (sim, c) = argocd().await;
    let repo = Repo::new();
    two_objects(&repo);
    create(&c, application(&repo, None)).await;
    wait(&sim, "compared", |o| sync_status(o) == "OutOfSync").await;
    merge(&c, json!({"operation": {"initiatedBy": {"username": "admin"}, "sync": {"revision": "main", "dryRun": true}}})).await;
    let o = wait(&sim, "dry run done", |o| {
        o.get("operation").is_none() && o["status"]["operationState"]["phase"] == "Succeeded"
    })
    .await;
    assert!(o["status"]["history"].is_null(), "{:#?}", o["status"]);
    assert_eq!(sync_status(&o), "OutOfSync");
    assert!(sim.get("v1", "ConfigMap", "default", "cfg").is_none());
    let results = o["status"]["operationState"]["syncResult"]["resources"]
        .as_array()
        .expect("results");
    assert!(
        results
            .iter()
            .all(|r| r["message"].as_str().unwrap_or("").ends_with("(dry run)")),
        "{results:#?}"
    );
}

#[tokio::test]
async fn automated_sync_with_prune_and_self_heal() {
    let (sim, c) = argocd().await;
    let repo = Repo::new();
    let sha = two_objects(&repo);
    create(
        &c,
        application(&repo, Some(json!({"prune": true, "selfHeal": true}))),
    )
    .await;
    let o = wait(&sim, "auto-synced", |o| {
        sync_status(o) == "Synced" && o["status"]["history"].as_array().map(Vec::len) == Some(1)
    })
    .await;
    assert_eq!(
        o["status"]["operationState"]["operation"]["initiatedBy"]["automated"],
        true
    );
    assert_eq!(
        o["status"]["operationState"]["operation"]["sync"]["revision"],
        sha
    );
    assert_eq!(
        o["status"]["operationState"]["operation"]["sync"]["prune"],
        true
    );

    // Self-heal: a live edit is reverted.
    let cms: Api<DynamicObject> = Api::namespaced_with(
        c.clone(),
        "default",
        &ApiResource::erase::<k8s_openapi::api::core::v1::ConfigMap>(&()),
    );
    cms.patch(
        "cfg",
        &PatchParams::default(),
        &Patch::Merge(&json!({"data": {"key": "edited"}})),
    )
    .await
    .expect("edited");
    common::kube_rs::eventually(Duration::from_secs(20), "self-healed", || async {
        sim.get("v1", "ConfigMap", "default", "cfg")
            .is_some_and(|cm| cm["data"]["key"] == "one")
    })
    .await;

    // Prune: a file removed from Git goes once Argo CD sees the commit.
    repo.remove("deploy/cm.yaml");
    let second = repo.commit("drop cm");
    merge(
        &c,
        json!({"metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}}}),
    )
    .await;
    let o = wait(&sim, "pruned", |o| {
        o["status"]["sync"]["revision"] == second && sync_status(o) == "Synced"
    })
    .await;
    assert!(sim.get("v1", "ConfigMap", "default", "cfg").is_none());
    let last = o["status"]["history"]
        .as_array()
        .and_then(|h| h.last())
        .expect("history")
        .clone();
    assert_eq!(last["revision"], second);
    assert_eq!(o["status"]["resources"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn automated_sync_without_prune_leaves_extra_resources_out_of_sync() {
    let (sim, c) = argocd().await;
    let repo = Repo::new();
    two_objects(&repo);
    create(&c, application(&repo, Some(json!({})))).await;
    wait(&sim, "auto-synced", |o| sync_status(o) == "Synced").await;
    repo.remove("deploy/cm.yaml");
    let second = repo.commit("drop cm");
    merge(
        &c,
        json!({"metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}}}),
    )
    .await;
    let o = wait(&sim, "compared", |o| {
        o["status"]["sync"]["revision"] == second
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let o = sim.get(APP, "Application", "argocd", "web").unwrap_or(o);
    assert_eq!(sync_status(&o), "OutOfSync");
    assert!(
        sim.get("v1", "ConfigMap", "default", "cfg").is_some(),
        "not pruned"
    );
    let extra = o["status"]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["name"] == "cfg")
        .expect("still listed")
        .clone();
    assert_eq!(extra["requiresPruning"], true);
    assert_eq!(extra["status"], "OutOfSync");
    assert_eq!(
        o["status"]["history"].as_array().map(Vec::len),
        Some(1),
        "no sync for prune-only changes"
    );
}

#[tokio::test]
async fn an_unknown_revision_is_a_comparison_error() {
    let (sim, c) = argocd().await;
    let repo = Repo::new();
    two_objects(&repo);
    let mut app = application(&repo, None);
    app["spec"]["source"]["targetRevision"] = json!("nope");
    create(&c, app).await;
    let o = wait(&sim, "error", |o| sync_status(o) == "Unknown").await;
    let cond = &o["status"]["conditions"][0];
    assert_eq!(cond["type"], "ComparisonError");
    assert!(
        cond["message"]
            .as_str()
            .unwrap_or("")
            .contains("unable to resolve 'nope' to a commit SHA"),
        "{cond}"
    );
}

/// A destination namespace that does not exist fails the sync as on a
/// cluster; with `CreateNamespace=true` it is made first, a PreSync entry of
/// the sync result, with `managedNamespaceMetadata`'s labels.
#[tokio::test]
async fn create_namespace_makes_the_destination_first_and_without_it_the_sync_fails() {
    let (sim, c) = argocd().await;
    let repo = Repo::new();
    repo.write(
        "deploy/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  key: one\n",
    );
    repo.commit("first");
    let mut app = application(&repo, None);
    app["spec"]["destination"]["namespace"] = json!("shop");
    create(&c, app).await;
    wait(&sim, "compared", |o| sync_status(o) == "OutOfSync").await;
    let sync =
        json!({"operation": {"initiatedBy": {"username": "admin"}, "sync": {"revision": "main"}}});
    merge(&c, sync.clone()).await;
    let o = wait(&sim, "the sync failed", |o| {
        o.get("operation").is_none() && o["status"]["operationState"]["phase"] == "Failed"
    })
    .await;
    let message = o["status"]["operationState"]["message"]
        .as_str()
        .unwrap_or("");
    assert!(message.contains("namespaces \"shop\" not found"), "{o:#}");
    assert!(sim.get("v1", "Namespace", "", "shop").is_none());

    merge(
        &c,
        json!({"spec": {"syncPolicy": {"syncOptions": ["CreateNamespace=true"],
            "managedNamespaceMetadata": {"labels": {"team": "shop"}}}}}),
    )
    .await;
    merge(&c, sync).await;
    let o = wait(&sim, "the sync succeeded", |o| {
        o.get("operation").is_none() && o["status"]["operationState"]["phase"] == "Succeeded"
    })
    .await;
    let ns = sim
        .get("v1", "Namespace", "", "shop")
        .expect("the namespace made");
    assert_eq!(ns["metadata"]["labels"]["team"], "shop", "{ns:#}");
    let first = &o["status"]["operationState"]["syncResult"]["resources"][0];
    assert_eq!(
        (
            &first["kind"],
            &first["name"],
            &first["syncPhase"],
            &first["status"]
        ),
        (
            &json!("Namespace"),
            &json!("shop"),
            &json!("PreSync"),
            &json!("Synced")
        ),
        "{o:#}"
    );
    assert_eq!(first["message"], "namespace/shop created", "{o:#}");
    assert!(sim.get("v1", "ConfigMap", "shop", "cfg").is_some());
}
