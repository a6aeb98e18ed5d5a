//! The simulated Flux controllers over kube-rs, with the upstream CRDs and
//! real git repositories: source-controller revisions and conditions,
//! kustomize-controller apply, inventory, prune, suspend and requestedAt,
//! helm-controller status; and that none of it runs unless asked for.

mod common;

use common::gitops::{condition, configmap, deployment, install_crds, wait_for, Repo};
use common::kube_rs::start_with;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::ApiResource;
use kube_sim::{GitOpsControllers, KubeSim, Options};
use serde_json::{json, Value};
use std::time::Duration;

const GR: &str = "source.toolkit.fluxcd.io/v1";
const KS: &str = "kustomize.toolkit.fluxcd.io/v1";
const HR: &str = "helm.toolkit.fluxcd.io/v2";

async fn flux() -> (KubeSim, kube::Client) {
    let (sim, client) = start_with(Options {
        controllers: GitOpsControllers {
            flux: true,
            argocd: false,
        },
        ready_after: Duration::from_millis(100),
        ..Options::default()
    })
    .await;
    install_crds(&sim);
    (sim, client)
}

fn api(client: &kube::Client, api_version: &str, kind: &str, plural: &str) -> Api<DynamicObject> {
    let (group, version) = api_version.split_once('/').expect("group/version");
    let ar = ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: api_version.into(),
        kind: kind.into(),
        plural: plural.into(),
    };
    Api::namespaced_with(client.clone(), "default", &ar)
}

fn repos(c: &kube::Client) -> Api<DynamicObject> {
    api(c, GR, "GitRepository", "gitrepositories")
}

fn kustomizations(c: &kube::Client) -> Api<DynamicObject> {
    api(c, KS, "Kustomization", "kustomizations")
}

async fn apply(api: &Api<DynamicObject>, obj: Value) {
    let name = obj["metadata"]["name"].as_str().expect("name").to_string();
    api.patch(
        &name,
        &PatchParams::apply("test").force(),
        &Patch::Apply(&obj),
    )
    .await
    .expect("applied");
}

async fn merge(api: &Api<DynamicObject>, name: &str, patch: Value) {
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patched");
}

fn git_repository(name: &str, url: &str, r: Value) -> Value {
    json!({
        "apiVersion": GR, "kind": "GitRepository",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"url": url, "interval": "10m", "ref": r},
    })
}

fn kustomization(name: &str, source: &str, path: &str, prune: bool) -> Value {
    json!({
        "apiVersion": KS, "kind": "Kustomization",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "interval": "10m", "path": path, "prune": prune,
            "sourceRef": {"kind": "GitRepository", "name": source},
        },
    })
}

fn ready(o: &Value) -> Option<&str> {
    condition(o, "Ready").and_then(|c| c["status"].as_str())
}

fn applied(o: &Value, revision: &str) -> bool {
    ready(o) == Some("True") && o["status"]["lastAppliedRevision"] == revision
}

fn inventory(o: &Value) -> Vec<String> {
    o["status"]["inventory"]["entries"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    format!(
                        "{} {}",
                        e["id"].as_str().unwrap_or(""),
                        e["v"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn kustomization_applies_a_local_repo_path_with_inventory_and_revision() {
    let (sim, c) = flux().await;
    let repo = Repo::new();
    repo.write("deploy/cm.yaml", &configmap("cfg", "one"));
    repo.write("deploy/web.yaml", &deployment("web", "nginx:1.25"));
    repo.write("other/ignored.yaml", &configmap("elsewhere", "x"));
    let sha = repo.commit("first");
    apply(
        &repos(&c),
        git_repository("app", &repo.url(), json!({"branch": "main"})),
    )
    .await;
    apply(
        &kustomizations(&c),
        kustomization("app", "app", "./deploy", true),
    )
    .await;

    let revision = format!("main@sha1:{sha}");
    let src = wait_for(
        &sim,
        (GR, "GitRepository", "default", "app"),
        "artifact",
        |o| ready(o) == Some("True"),
    )
    .await;
    assert_eq!(src["status"]["artifact"]["revision"], revision);
    let ready_cond = condition(&src, "Ready").expect("Ready");
    assert_eq!(ready_cond["reason"], "Succeeded");
    assert_eq!(
        ready_cond["message"],
        format!("stored artifact for revision '{revision}'")
    );
    assert_eq!(
        condition(&src, "ArtifactInStorage").expect("stored")["status"],
        "True"
    );
    assert!(condition(&src, "Reconciling").is_none(), "{src:#?}");
    let digest = src["status"]["artifact"]["digest"]
        .as_str()
        .expect("digest");
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    assert_eq!(
        src["metadata"]["finalizers"],
        json!(["finalizers.fluxcd.io"])
    );

    let ks = wait_for(
        &sim,
        (KS, "Kustomization", "default", "app"),
        "applied",
        |o| applied(o, &revision),
    )
    .await;
    let rc = condition(&ks, "Ready").expect("Ready");
    assert_eq!(rc["reason"], "ReconciliationSucceeded");
    assert_eq!(rc["message"], format!("Applied revision: {revision}"));
    assert_eq!(ks["status"]["lastAttemptedRevision"], revision);
    assert_eq!(ks["status"]["observedGeneration"], 1);
    assert!(condition(&ks, "Reconciling").is_none());
    assert_eq!(
        inventory(&ks),
        [
            "default_cfg__ConfigMap v1",
            "default_web_apps_Deployment v1"
        ]
    );

    let cm = sim
        .get("v1", "ConfigMap", "default", "cfg")
        .expect("applied from git");
    assert_eq!(cm["data"]["key"], "one");
    assert_eq!(
        cm["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"],
        "app"
    );
    assert_eq!(
        cm["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/namespace"],
        "default"
    );
    let managers: Vec<(String, String)> = cm["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .map(|m| {
            (
                m["manager"].as_str().unwrap_or("").into(),
                m["operation"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert!(
        managers.contains(&("kustomize-controller".into(), "Apply".into())),
        "{managers:?}"
    );
    assert!(sim.get("apps/v1", "Deployment", "default", "web").is_some());
    assert!(
        sim.get("v1", "ConfigMap", "default", "elsewhere").is_none(),
        "only spec.path is applied"
    );
    // The controllers' own requests are not in the request log.
    assert!(
        !sim.requests()
            .iter()
            .any(|r| r.path.ends_with("/configmaps/cfg")),
        "controller requests leaked into the log"
    );
}

#[tokio::test]
async fn a_new_commit_is_applied_on_request_and_prune_removes_what_left_git() {
    let (sim, c) = flux().await;
    let repo = Repo::new();
    repo.write("deploy/a.yaml", &configmap("a", "1"));
    repo.write("deploy/b.yaml", &configmap("b", "1"));
    let first = repo.commit("first");
    apply(
        &repos(&c),
        git_repository("app", &repo.url(), json!({"branch": "main"})),
    )
    .await;
    apply(
        &kustomizations(&c),
        kustomization("app", "app", "deploy", true),
    )
    .await;
    wait_for(
        &sim,
        (KS, "Kustomization", "default", "app"),
        "first applied",
        |o| applied(o, &format!("main@sha1:{first}")),
    )
    .await;
    // Someone else's object that happens to be in the inventory's namespace.
    sim.seed(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "foreign", "namespace": "default"}}))
        .expect("seeded");

    repo.remove("deploy/b.yaml");
    repo.write("deploy/a.yaml", &configmap("a", "2"));
    let second = repo.commit("second");
    // Nothing moves before the interval or a request.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        sim.get("v1", "ConfigMap", "default", "a").expect("a")["data"]["key"],
        "1"
    );
    merge(&repos(&c), "app", json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "2026-01-01T00:00:00Z"}}})).await;
    let revision = format!("main@sha1:{second}");
    let src = wait_for(
        &sim,
        (GR, "GitRepository", "default", "app"),
        "handled",
        |o| o["status"]["lastHandledReconcileAt"] == "2026-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(src["status"]["artifact"]["revision"], revision);
    let ks = wait_for(
        &sim,
        (KS, "Kustomization", "default", "app"),
        "second applied",
        |o| applied(o, &revision),
    )
    .await;
    assert_eq!(inventory(&ks), ["default_a__ConfigMap v1"]);
    assert_eq!(
        sim.get("v1", "ConfigMap", "default", "a").expect("a")["data"]["key"],
        "2"
    );
    assert!(
        sim.get("v1", "ConfigMap", "default", "b").is_none(),
        "pruned"
    );
    assert!(
        sim.get("v1", "ConfigMap", "default", "foreign").is_some(),
        "not ours, not pruned"
    );
}

#[tokio::test]
async fn without_prune_objects_that_left_git_stay() {
    let (sim, c) = flux().await;
    let repo = Repo::new();
    repo.write("deploy/a.yaml", &configmap("a", "1"));
    repo.write("deploy/b.yaml", &configmap("b", "1"));
    repo.commit("first");
    apply(
        &repos(&c),
        git_repository("app", &repo.url(), json!({"branch": "main"})),
    )
    .await;
    apply(
        &kustomizations(&c),
        kustomization("app", "app", "deploy", false),
    )
    .await;
    wait_for(
        &sim,
        (KS, "Kustomization", "default", "app"),
        "applied",
        |o| ready(o) == Some("True"),
    )
    .await;
    repo.remove("deploy/b.yaml");
    let second = repo.commit("second");
    merge(
        &repos(&c),
        "app",
        json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "1"}}}),
    )
    .await;
    let ks = wait_for(
        &sim,
        (KS, "Kustomization", "default", "app"),
        "second",
        |o| applied(o, &format!("main@sha1:{second}")),
    )
    .await;
    assert_eq!(inventory(&ks), ["default_a__ConfigMap v1"]);
    assert!(
        sim.get("v1", "ConfigMap", "default", "b").is_some(),
        "prune is off"
    );
}

#[tokio::test]
async fn suspend_stops_applying_but_a_request_is_still_handled_and_resume_catches_up() {
    let (sim, c) = flux().await;
    let repo = Repo::new();
    repo.write("deploy/a.yaml", &configmap("a", "1"));
    let first = repo.commit("first");
    apply(
        &repos(&c),
        git_repository("app", &repo.url(), json!({"branch": "main"})),
    )
    .await;
    apply(
        &kustomizations(&c),
        kustomization("app", "app", "deploy", true),
    )
    .await;
    let first_rev = format!("main@sha1:{first}");
    wait_for(
        &sim,
        (KS, "Kustomization", "default", "app"),
        "applied",
        |o| applied(o, &first_rev),
    )
    .await;

    merge(
        &kustomizations(&c),
        "app",
        json!({"spec": {"suspend": true}}),
    )
    .await;
    repo.write("deploy/a.yaml", &configmap("a", "2"));
    let second = repo.commit("second");
    merge(
        &repos(&c),
        "app",
        json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "r1"}}}),
    )
    .await;
    let second_rev = format!("main@sha1:{second}");
    wait_for(
        &sim,
        (GR, "GitRepository", "default", "app"),
        "new artifact",
        |o| o["status"]["artifact"]["revision"] == second_rev,
    )
    .await;
    merge(
        &kustomizations(&c),
        "app",
        json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "k1"}}}),
    )
    .await;
    // As upstream: the request of a suspended object is recorded as handled,
    // and nothing is applied.
    let ks = wait_for(
        &sim,
        (KS, "Kustomization", "default", "app"),
        "handled",
        |o| o["status"]["lastHandledReconcileAt"] == "k1",
    )
    .await;
    assert_eq!(ks["status"]["lastAppliedRevision"], first_rev);
    assert_eq!(
        sim.get("v1", "ConfigMap", "default", "a").expect("a")["data"]["key"],
        "1"
    );

    merge(
        &kustomizations(&c),
        "app",
        json!({"spec": {"suspend": false}}),
    )
    .await;
    wait_for(
        &sim,
        (KS, "Kustomization", "default", "app"),
        "resumed",
        |o| applied(o, &second_rev),
    )
    .await;
    assert_eq!(
        sim.get("v1", "ConfigMap", "default", "a").expect("a")["data"]["key"],
        "2"
    );
}

#[tokio::test]
async fn git_references_resolve_to_upstream_revision_strings() {
    let (sim, c) = flux().await;
    let repo = Repo::new();
    repo.write("a.yaml", &configmap("a", "1"));
    let first = repo.commit("first");
    repo.git(&["tag", "v1.0.0"]);
    repo.git(&["branch", "-m", "main", "master"]);
    let second = repo.commit("second");
    let cases = [
        (
            "tag",
            json!({"tag": "v1.0.0"}),
            format!("v1.0.0@sha1:{first}"),
        ),
        ("commit", json!({"commit": first}), format!("sha1:{first}")),
        (
            "commit-on-branch",
            json!({"branch": "master", "commit": first}),
            format!("master@sha1:{first}"),
        ),
        (
            "name",
            json!({"name": "refs/heads/master"}),
            format!("refs/heads/master@sha1:{second}"),
        ),
        ("default", Value::Null, format!("master@sha1:{second}")),
    ];
    for (name, r, _) in &cases {
        let mut obj = git_repository(name, &repo.url(), r.clone());
        if r.is_null() {
            obj["spec"].as_object_mut().expect("spec").remove("ref");
        }
        apply(&repos(&c), obj).await;
    }
    for (name, _, revision) in &cases {
        let o = wait_for(&sim, (GR, "GitRepository", "default", name), "ready", |o| {
            ready(o) == Some("True")
        })
        .await;
        assert_eq!(&o["status"]["artifact"]["revision"], revision, "{name}");
    }

    apply(
        &repos(&c),
        git_repository("nope", &repo.url(), json!({"branch": "nope"})),
    )
    .await;
    let o = wait_for(
        &sim,
        (GR, "GitRepository", "default", "nope"),
        "failed",
        |o| ready(o) == Some("False"),
    )
    .await;
    let rc = condition(&o, "Ready").expect("Ready");
    assert_eq!(rc["reason"], "GitOperationFailed");
    assert!(
        rc["message"]
            .as_str()
            .unwrap_or("")
            .contains("refs/heads/nope"),
        "{rc}"
    );
    assert_eq!(
        condition(&o, "FetchFailed").expect("FetchFailed")["status"],
        "True"
    );
    assert_eq!(
        condition(&o, "Reconciling").expect("Reconciling")["reason"],
        "ProgressingWithRetry"
    );
}

#[tokio::test]
async fn failures_carry_upstream_reasons_and_terminal_ones_stall() {
    let (sim, c) = flux().await;
    let repo = Repo::new();
    repo.write("deploy/a.yaml", &configmap("a", "1"));
    repo.write(
        "nons/a.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nons\ndata: {}\n",
    );
    repo.commit("first");
    apply(
        &repos(&c),
        git_repository("app", &repo.url(), json!({"branch": "main"})),
    )
    .await;
    apply(
        &kustomizations(&c),
        kustomization("nosource", "missing", "deploy", true),
    )
    .await;
    apply(
        &kustomizations(&c),
        kustomization("nopath", "app", "does/not/exist", true),
    )
    .await;
    apply(
        &kustomizations(&c),
        kustomization("nons", "app", "nons", true),
    )
    .await;
    let mut stalled = kustomization("stalled", "app", "deploy", true);
    stalled["spec"]["decryption"] = json!({"provider": "sops", "serviceAccountName": "sops"});
    apply(&kustomizations(&c), stalled).await;

    let failed = |name: &'static str| {
        let sim = &sim;
        async move {
            wait_for(
                sim,
                (KS, "Kustomization", "default", name),
                "not ready",
                |o| ready(o) == Some("False"),
            )
            .await
        }
    };
    let o = failed("nosource").await;
    let rc = condition(&o, "Ready").expect("Ready");
    assert_eq!(rc["reason"], "ArtifactFailed");
    assert_eq!(rc["message"], "unable to get source 'default/missing': gitrepositories.source.toolkit.fluxcd.io \"missing\" not found");
    let o = failed("nopath").await;
    let rc = condition(&o, "Ready").expect("Ready");
    assert_eq!(rc["reason"], "ArtifactFailed");
    assert!(
        rc["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("kustomization path not found"),
        "{rc}"
    );
    assert_eq!(
        condition(&o, "Reconciling").expect("Reconciling")["reason"],
        "ProgressingWithRetry"
    );
    assert!(
        o["status"]["lastAttemptedRevision"].is_null(),
        "the path is checked before the attempt is recorded"
    );
    let o = failed("nons").await;
    let rc = condition(&o, "Ready").expect("Ready");
    assert_eq!(rc["reason"], "ReconciliationFailed");
    assert_eq!(rc["message"], "ConfigMap/nons namespace not specified");
    assert!(o["status"]["lastAttemptedRevision"]
        .as_str()
        .is_some_and(|r| r.starts_with("main@sha1:")));
    assert!(sim.get("v1", "ConfigMap", "default", "nons").is_none());
    let o = failed("stalled").await;
    let st = condition(&o, "Stalled").expect("Stalled");
    assert_eq!(st["status"], "True");
    assert_eq!(st["reason"], "FeatureGateDisabled");
    assert_eq!(
        condition(&o, "Ready").expect("Ready")["reason"],
        "FeatureGateDisabled"
    );
}

#[tokio::test]
async fn kustomize_paths_are_built_with_kustomize() {
    let (sim, c) = flux().await;
    let repo = Repo::new();
    repo.write("base/cm.yaml", &configmap("cfg", "1"));
    repo.write(
        "base/kustomization.yaml",
        "resources:\n- cm.yaml\nnamePrefix: prod-\n",
    );
    repo.commit("first");
    apply(
        &repos(&c),
        git_repository("app", &repo.url(), json!({"branch": "main"})),
    )
    .await;
    let mut ks = kustomization("app", "app", "./base", true);
    ks["spec"]["targetNamespace"] = json!("kube-public");
    apply(&kustomizations(&c), ks).await;
    let o = wait_for(
        &sim,
        (KS, "Kustomization", "default", "app"),
        "ready",
        |o| ready(o) == Some("True"),
    )
    .await;
    assert_eq!(inventory(&o), ["kube-public_prod-cfg__ConfigMap v1"]);
    assert!(sim
        .get("v1", "ConfigMap", "kube-public", "prod-cfg")
        .is_some());
}

#[tokio::test]
async fn a_kustomization_request_is_handled_and_the_interval_picks_up_commits() {
    let (sim, c) = flux().await;
    let repo = Repo::new();
    repo.write("deploy/a.yaml", &configmap("a", "1"));
    repo.commit("first");
    let mut gr = git_repository("app", &repo.url(), json!({"branch": "main"}));
    gr["spec"]["interval"] = json!("1s");
    apply(&repos(&c), gr).await;
    apply(
        &kustomizations(&c),
        kustomization("app", "app", "deploy", true),
    )
    .await;
    wait_for(
        &sim,
        (KS, "Kustomization", "default", "app"),
        "ready",
        |o| ready(o) == Some("True"),
    )
    .await;
    merge(
        &kustomizations(&c),
        "app",
        json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "now"}}}),
    )
    .await;
    wait_for(
        &sim,
        (KS, "Kustomization", "default", "app"),
        "handled",
        |o| o["status"]["lastHandledReconcileAt"] == "now",
    )
    .await;
    repo.write("deploy/a.yaml", &configmap("a", "2"));
    let second = repo.commit("second");
    wait_for(
        &sim,
        (KS, "Kustomization", "default", "app"),
        "polled",
        |o| applied(o, &format!("main@sha1:{second}")),
    )
    .await;
}

#[tokio::test]
async fn helm_releases_only_move_their_status() {
    let (sim, c) = flux().await;
    let hrs = api(&c, HR, "HelmRelease", "helmreleases");
    let hr = |values: Value| {
        json!({
            "apiVersion": HR, "kind": "HelmRelease",
            "metadata": {"name": "podinfo", "namespace": "default"},
            "spec": {
                "interval": "10m",
                "chart": {"spec": {"chart": "podinfo", "version": "6.5.4", "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}},
                "values": values,
            },
        })
    };
    apply(&hrs, hr(json!({"replicaCount": 1}))).await;
    let o = wait_for(
        &sim,
        (HR, "HelmRelease", "default", "podinfo"),
        "installed",
        |o| ready(o) == Some("True"),
    )
    .await;
    let rc = condition(&o, "Ready").expect("Ready");
    assert_eq!(rc["reason"], "InstallSucceeded");
    assert_eq!(
        rc["message"],
        "Helm install succeeded for release default/podinfo.v1 with chart podinfo@6.5.4"
    );
    assert_eq!(
        condition(&o, "Released").expect("Released")["reason"],
        "InstallSucceeded"
    );
    assert_eq!(o["status"]["lastAttemptedRevision"], "6.5.4");
    assert_eq!(o["status"]["history"][0]["version"], 1);
    assert_eq!(o["status"]["history"][0]["status"], "deployed");

    apply(&hrs, hr(json!({"replicaCount": 2}))).await;
    let o = wait_for(
        &sim,
        (HR, "HelmRelease", "default", "podinfo"),
        "upgraded",
        |o| o["status"]["observedGeneration"] == 2,
    )
    .await;
    assert_eq!(
        condition(&o, "Ready").expect("Ready")["reason"],
        "UpgradeSucceeded"
    );
    assert_eq!(o["status"]["history"][0]["version"], 2);
    assert_eq!(o["status"]["history"][1]["status"], "superseded");
    assert_ne!(
        o["status"]["history"][0]["configDigest"],
        o["status"]["history"][1]["configDigest"]
    );

    merge(&hrs, "podinfo", json!({"spec": {"suspend": true}, "metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "x"}}})).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let o = sim
        .get(HR, "HelmRelease", "default", "podinfo")
        .expect("hr");
    assert!(
        o["status"]["lastHandledReconcileAt"].is_null(),
        "a suspended release is left alone"
    );
    merge(&hrs, "podinfo", json!({"spec": {"suspend": false}})).await;
    let o = wait_for(
        &sim,
        (HR, "HelmRelease", "default", "podinfo"),
        "resumed",
        |o| o["status"]["lastHandledReconcileAt"] == "x",
    )
    .await;
    assert_eq!(
        o["status"]["history"].as_array().map(Vec::len),
        Some(3),
        "resume is a new generation: an upgrade"
    );
}

#[tokio::test]
async fn the_controllers_are_off_unless_asked_for() {
    let (sim, c) = start_with(Options::default()).await;
    install_crds(&sim);
    let repo = Repo::new();
    repo.write("deploy/a.yaml", &configmap("a", "1"));
    repo.commit("first");
    apply(
        &repos(&c),
        git_repository("app", &repo.url(), json!({"branch": "main"})),
    )
    .await;
    apply(
        &kustomizations(&c),
        kustomization("app", "app", "deploy", true),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let o = sim
        .get(GR, "GitRepository", "default", "app")
        .expect("stored");
    assert!(
        o.get("status").is_none_or(|s| s.get("artifact").is_none()),
        "{o:#?}"
    );
    assert!(sim.get("v1", "ConfigMap", "default", "a").is_none());
    assert_eq!(
        "flux,argocd".parse::<GitOpsControllers>(),
        Ok(GitOpsControllers {
            flux: true,
            argocd: true
        })
    );
    assert!("flux,helm".parse::<GitOpsControllers>().is_err());
}
