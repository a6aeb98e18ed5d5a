//! Drift and commit logs of Flux and Argo CD apps, computed by our engine
//! from Git at the controller's revision against live, over kube-sim with
//! its simulated controllers, the upstream CRDs and a real repository: a
//! hand edit shows as drift at the revision the controller applied (not at
//! Git's head), the path's commits mark that revision deployed, and where
//! the manifests cannot be read the diff says why instead of "no drift".

mod common;

use common::*;
use gitops_tui::model::{AppId, AppSource, ResourceStatus, SyncStatus};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const CM: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  color: blue\n";
const FLAGS: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\ndata:\n  beta: \"on\"\n";

fn apply(f: &Fixture, object: Value) {
    let file = f.dir.path().join("object.json");
    std::fs::write(&file, object.to_string()).expect("write object");
    f.kubectl_ok(&["apply", "-f", file.to_str().expect("utf-8 path")]);
}

fn get(f: &Fixture, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    serde_json::from_str(&f.kubectl_ok(&all)).expect("json")
}

/// Read with kubectl until `ok`, for at most 60 s.
fn wait_until(f: &Fixture, what: &str, args: &[&str], ok: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let o = get(f, args);
        if ok(&o) {
            return o;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{what}: {o:#}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Someone changes web-config's color by hand.
fn hand_edit(f: &Fixture) {
    f.kubectl_ok(&[
        "-n",
        "shop",
        "patch",
        "configmap",
        "web-config",
        "--type=merge",
        "-p",
        r#"{"data":{"color":"red"}}"#,
    ]);
}

fn namespace(f: &Fixture, name: &str) {
    apply(
        f,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
    );
}

/// The Kustomization once its lastAppliedRevision contains `revision`.
fn applied(f: &Fixture, what: &str, revision: &str) -> Value {
    wait_until(
        f,
        what,
        &[
            "-n",
            "flux-system",
            "get",
            "kustomizations.kustomize.toolkit.fluxcd.io",
            "web",
        ],
        |o| {
            o.pointer("/status/lastAppliedRevision")
                .and_then(Value::as_str)
                .is_some_and(|r| r.contains(revision))
        },
    )
}

/// web-config blue, then green, applied by Flux: (fixture, blue, green).
async fn blue_then_green() -> (Fixture, String, String) {
    let f = Fixture::with_controllers("").await;
    let first = f.commit(&[("apps/web/cm.yaml", Some(CM))], "blue");
    let second = f.commit(
        &[("apps/web/cm.yaml", Some(&CM.replace("blue", "green")))],
        "green",
    );
    flux_app(&f, json!({}));
    (f, first, second)
}

/// Neither pinned nor suspended: the source follows main, the
/// Kustomization runs.
async fn follows_main_again(f: &Fixture) {
    let repo = get(
        f,
        &[
            "-n",
            "flux-system",
            "get",
            "gitrepositories.source.toolkit.fluxcd.io",
            "repo",
        ],
    );
    assert_eq!(repo["spec"]["ref"], json!({"branch": "main"}));
    let id = AppId::managed(AppSource::Flux, "", "flux-system", "web");
    let s = f.engine().status(&id).await.expect("status");
    assert!(!s.suspended && s.paused_revision.is_none(), "{s:?}");
}

/// A GitRepository on the fixture's repository and a Kustomization of
/// `apps/web` into `shop`, applied by the simulated kustomize-controller.
fn flux_app(f: &Fixture, extra_spec: Value) -> Value {
    namespace(f, "flux-system");
    namespace(f, "shop");
    let url = format!("file://{}", f.repo.display());
    apply(
        f,
        json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
               "metadata": {"name": "repo", "namespace": "flux-system"},
               "spec": {"url": url, "interval": "10m", "ref": {"branch": "main"}}}),
    );
    let mut spec = json!({"interval": "10m", "path": "./apps/web", "prune": true,
        "targetNamespace": "shop", "sourceRef": {"kind": "GitRepository", "name": "repo"}});
    if let (Some(s), Some(extra)) = (spec.as_object_mut(), extra_spec.as_object()) {
        s.extend(extra.clone());
    }
    apply(
        f,
        json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
               "metadata": {"name": "web", "namespace": "flux-system"}, "spec": spec}),
    );
    applied(f, "the Kustomization applies", "sha1:")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kustomizations_drift_is_computed_at_its_applied_revision_not_at_the_head() {
    let f = Fixture::with_controllers("").await;
    let applied = f.commit(
        &[
            ("apps/web/cm.yaml", Some(CM)),
            ("apps/web/flags.yaml", Some(FLAGS)),
        ],
        "web config",
    );
    let ks = flux_app(&f, json!({}));
    assert_eq!(
        ks["status"]["lastAppliedRevision"],
        format!("main@sha1:{applied}")
    );
    // A hand edit, and Git moving on without the controller (10m interval).
    hand_edit(&f);
    let head = f.commit(
        &[(
            "apps/web/later.yaml",
            Some("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: later\ndata:\n  a: b\n"),
        )],
        "later, not applied yet",
    );

    let id = AppId::managed(AppSource::Flux, "", "flux-system", "web");
    f.sim.clear_requests();
    let s = f.engine().status(&id).await.expect("status");
    // Nothing was written: dry-runs only (the controllers write only their
    // objects' status meanwhile).
    let writes: Vec<String> = f
        .sim
        .requests()
        .iter()
        .filter(|r| {
            ["PATCH", "PUT", "POST", "DELETE"].contains(&r.method.as_str())
                && r.param("dryRun").is_none()
                && !r.path.ends_with("/status")
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
    // Each listed object read once, for its health and its drift alike.
    let reads = f
        .sim
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/namespaces/shop/configmaps/web-config"))
        .count();
    assert_eq!(reads, 1, "web-config read {reads} times");
    assert_eq!(s.drift_unavailable, None, "{s:?}");
    assert_eq!(
        s.target_revision.as_ref().map(|r| r.as_str()),
        Some(applied.as_str())
    );
    let of = |name: &str| {
        s.resources
            .iter()
            .find(|r| r.key.name == name)
            .unwrap_or_else(|| panic!("{name} in {:?}", s.resources))
    };
    let cm = of("web-config");
    assert_eq!(cm.status, ResourceStatus::OutOfSync, "{}", cm.diff);
    assert!(
        cm.diff.contains("-  color: red\n+  color: blue"),
        "{}",
        cm.diff
    );
    assert_eq!(
        of("flags").status,
        ResourceStatus::Synced,
        "{}",
        of("flags").diff
    );
    assert!(
        s.resources.iter().all(|r| r.key.name != "later"),
        "the head's object is not what the controller applied: {:?}",
        s.resources
    );
    // Flux's own labels are not drift, ours are not added.
    assert!(
        !cm.diff.contains("kustomize.toolkit.fluxcd.io"),
        "{}",
        cm.diff
    );
    assert!(!cm.diff.contains("gitops-tui"), "{}", cm.diff);
    assert_eq!(s.sync, SyncStatus::OutOfSync);
    assert!(s.message.contains("1 object drifted"), "{}", s.message);
    assert_eq!(s.counts.out_of_sync, 1);

    // The CLI: the same diff, drift's exit code.
    let stdout = f.cli_code(&["diff", "flux/flux-system/web"], 1);
    assert!(stdout.contains("+  color: blue"), "{stdout}");

    // The commit log: the applied revision marked deployed, the head as head.
    let h = f.engine().history(&id).await.expect("history");
    let marks: Vec<(String, bool, bool)> = h
        .commits
        .iter()
        .map(|c| (c.sha.to_string(), c.deployed, c.head))
        .collect();
    assert_eq!(
        marks,
        vec![(head.clone(), false, true), (applied.clone(), true, false)]
    );
    assert!(h.syncs.is_none());
    assert!(h
        .syncs_unavailable
        .as_deref()
        .is_some_and(|w| w.contains("Flux keeps no history")));
    let stdout = f.cli_code(&["history", "flux/flux-system/web", "-o", "json"], 0);
    let doc: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(doc["commits"][1]["sha"], applied.as_str());
    assert_eq!(doc["commits"][1]["deployed"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn what_gitops_tui_cannot_render_is_said_instead_of_a_verdict() {
    let f = Fixture::with_controllers("").await;
    f.commit(&[("apps/web/cm.yaml", Some(CM))], "web config");
    flux_app(&f, json!({"postBuild": {"substitute": {"color": "green"}}}));
    let id = AppId::managed(AppSource::Flux, "", "flux-system", "web");
    let s = f.engine().status(&id).await.expect("status");
    let why = s.drift_unavailable.clone().expect("a reason");
    assert!(why.contains("spec.postBuild"), "{why}");
    assert!(
        s.resources.iter().all(|r| r.diff.is_empty()),
        "no diff claimed: {:?}",
        s.resources
    );
    let out = f.cli(&["diff", "flux/flux-system/web"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("drift not computed: kustomize-controller applies spec.postBuild"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_applications_drift_and_history_follow_argo_cds_revisions() {
    let f = Fixture::with_controllers("").await;
    let first = f.commit(&[("apps/catalog/cm.yaml", Some(CM))], "catalog");
    namespace(&f, "argocd");
    namespace(&f, "shop");
    let url = format!("file://{}", f.repo.display());
    apply(
        &f,
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
               "metadata": {"name": "catalog", "namespace": "argocd"},
               "spec": {"project": "default",
                        "source": {"repoURL": url, "path": "apps/catalog", "targetRevision": "main"},
                        "destination": {"server": "https://kubernetes.default.svc", "namespace": "shop"},
                        "syncPolicy": {"automated": {"prune": true}}}}),
    );
    wait_until(
        &f,
        "Argo CD syncs the app",
        &["-n", "argocd", "get", "applications.argoproj.io", "catalog"],
        |o| {
            o.pointer("/status/history/0/revision")
                .and_then(Value::as_str)
                == Some(first.as_str())
                && o.pointer("/status/sync/status").and_then(Value::as_str) == Some("Synced")
        },
    );
    hand_edit(&f);
    let id = AppId::managed(AppSource::ArgoCd, "", "argocd", "catalog");
    let s = f.engine().status(&id).await.expect("status");
    assert_eq!(s.drift_unavailable, None);
    let cm = s
        .resources
        .iter()
        .find(|r| r.key.name == "web-config")
        .expect("listed");
    assert_eq!(cm.status, ResourceStatus::OutOfSync, "{}", cm.diff);
    assert!(
        cm.diff.contains("-  color: red\n+  color: blue"),
        "{}",
        cm.diff
    );
    assert_eq!(s.sync, SyncStatus::OutOfSync);

    let h = f.engine().history(&id).await.expect("history");
    assert_eq!(h.commits.len(), 1);
    assert!(
        h.commits[0].deployed && h.commits[0].head,
        "{:?}",
        h.commits
    );
    let syncs = h.syncs.expect("Argo CD's history");
    assert_eq!(syncs.len(), 1);
    assert_eq!(syncs[0].revision.as_str(), first);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kustomizations_workloads_have_events_and_logs_as_a_native_apps_do() {
    let f = Fixture::with_controllers("").await;
    f.commit(
        &[
            ("apps/web/cm.yaml", Some(CM)),
            ("apps/web/deploy.yaml", Some(DEPLOYMENT)),
        ],
        "web",
    );
    flux_app(&f, json!({}));
    f.kubectl_ok(&[
        "-n",
        "shop",
        "rollout",
        "status",
        "deployment/web",
        "--timeout=60s",
    ]);
    let id = AppId::managed(AppSource::Flux, "", "flux-system", "web");
    let s = f.engine().status(&id).await.expect("status");
    let deploy = s
        .resources
        .iter()
        .find(|r| r.key.kind == "Deployment")
        .expect("the Deployment is listed");
    let events = f
        .engine()
        .events(&id, &deploy.key)
        .await
        .expect("events of a managed app's object");
    assert!(
        events.iter().any(|e| e.reason == "ScalingReplicaSet"),
        "{events:?}"
    );
    let stdout = f.cli_code(&["logs", "flux/flux-system/web"], 0);
    let pods = f.kubectl_ok(&["-n", "shop", "get", "pods", "-o", "name"]);
    let pod = pods
        .lines()
        .next()
        .expect("a pod")
        .trim_start_matches("pod/");
    assert!(stdout.contains(&format!("[pod/{pod}/")), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flux_rollback_applies_the_commit_suspends_and_resume_returns_to_the_branch() {
    let (f, first, second) = blue_then_green().await;
    assert_eq!(f.cm_data("shop", "web-config", "color"), "green");
    let id = AppId::managed(AppSource::Flux, "", "flux-system", "web");
    let engine = f.engine();
    let report = engine
        .rollback_with(
            &id,
            &gitops_tui::model::Revision::new(&first),
            Default::default(),
        )
        .await
        .expect("rollback");
    assert!(report.succeeded, "{report:?}");
    assert_eq!(f.cm_data("shop", "web-config", "color"), "blue");
    let s = engine.status(&id).await.expect("status");
    assert!(s.suspended, "suspended by the rollback");
    assert_eq!(
        s.paused_revision.as_ref().map(|r| r.as_str()),
        Some(first.as_str())
    );
    assert_eq!(
        s.deployed_revision.as_ref().map(|r| r.as_str()),
        Some(first.as_str())
    );
    // The head is the branch's, not the pinned artifact's (PAUSED a→b).
    assert_eq!(
        s.head_revision.as_ref().map(|r| r.as_str()),
        Some(second.as_str())
    );
    assert_eq!(s.drift_unavailable, None);
    assert_eq!(
        s.counts.out_of_sync + s.counts.missing,
        0,
        "{:?}",
        s.resources
    );
    // The commit log is still the branch's, the pin marked deployed and pinned.
    let h = engine.history(&id).await.expect("history");
    let marks: Vec<(String, bool, bool, bool)> = h
        .commits
        .iter()
        .map(|c| (c.sha.to_string(), c.head, c.deployed, c.pinned))
        .collect();
    assert_eq!(
        marks,
        vec![
            (second.clone(), true, false, false),
            (first.clone(), false, true, true)
        ]
    );

    engine.resume(&id).await.expect("resume");
    applied(&f, "the branch is applied again", &second);
    assert_eq!(f.cm_data("shop", "web-config", "color"), "green");
    follows_main_again(&f).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flux_revert_commits_the_old_path_on_its_branch_and_reconciles_it() {
    let (f, first, second) = blue_then_green().await;
    let stdout = f.cli_code(
        &[
            "rollback",
            "flux/flux-system/web",
            "--to",
            &first,
            "--revert",
            "--yes",
            "-o",
            "json",
        ],
        0,
    );
    let doc: Value = serde_json::from_str(&stdout).expect("json");
    let revert = doc["revert_commit"]
        .as_str()
        .expect("a revert commit")
        .to_string();
    // On the branch Flux follows, after the head, with the old content.
    assert_eq!(git(&f.repo, &["rev-parse", "main"]).trim(), revert);
    assert_eq!(git(&f.repo, &["rev-parse", "main~1"]).trim(), second);
    let file = git(&f.repo, &["show", "main:apps/web/cm.yaml"]);
    assert!(file.contains("color: blue"), "{file}");
    applied(&f, "the revert is applied", &revert);
    assert_eq!(f.cm_data("shop", "web-config", "color"), "blue");
    // Not a pin: the source still follows main, the Kustomization runs.
    follows_main_again(&f).await;
}
