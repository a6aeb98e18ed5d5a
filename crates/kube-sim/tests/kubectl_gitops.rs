//! Real kubectl (1.27, 1.32, 1.33) against the simulated Flux and Argo CD
//! controllers: objects applied with `kubectl apply --server-side`, and the
//! CRDs' printer columns showing Ready/Status and Sync/Health as upstream.

mod common;

use common::gitops::{configmap, install_crds, Repo};
use common::kubectl::{eventually, Env, NEWEST, OLDEST};
use kube_sim::{GitOpsControllers, Options};
use std::time::Duration;

async fn check(minor: u32) {
    common::kube_rs::no_proxy();
    let env = Env::with(Options {
        kube_minor: minor,
        controllers: "flux,argocd".parse::<GitOpsControllers>().expect("names"),
        ready_after: Duration::from_millis(100),
        ..Options::default()
    })
    .await;
    install_crds(&env.sim);
    let repo = Repo::new();
    // No namespace: Flux places it by targetNamespace, Argo CD by destination.
    repo.write(
        "deploy/cm.yaml",
        &configmap("cfg", "one").replace("  namespace: default\n", ""),
    );
    let sha = repo.commit("first");
    let url = repo.url();
    env.apply(
        "flux.yaml",
        &format!(
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: app\n  namespace: default\nspec:\n  interval: 5m\n  url: {url}\n  ref:\n    branch: main\n---\n\
             apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n  namespace: default\nspec:\n  interval: 10m\n  path: ./deploy\n  prune: true\n  targetNamespace: default\n  sourceRef:\n    kind: GitRepository\n    name: app\n"
        ),
    )
    .await;
    env.apply(
        "argo.yaml",
        &format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: {url}\n    path: deploy\n    targetRevision: main\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: kube-public\n  syncPolicy:\n    automated:\n      prune: true\n"
        ),
    )
    .await;
    let revision = format!("main@sha1:{sha}");
    let ks_ready = eventually(Duration::from_secs(20), || async {
        let out = env
            .kubectl(&["get", "kustomizations", "-n", "default"])
            .await;
        out.code == 0
            && out
                .stdout
                .contains(&format!("Applied revision: {revision}"))
    })
    .await;
    let out = env
        .kubectl(&["get", "kustomizations", "-n", "default"])
        .await;
    assert!(ks_ready, "1.{minor}: {out}");
    let header: Vec<&str> = out
        .stdout
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["NAME", "AGE", "READY", "STATUS"],
        "1.{minor}: {out}"
    );
    let row: Vec<&str> = out
        .stdout
        .lines()
        .nth(1)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!((row[0], row[2]), ("app", "True"), "1.{minor}: {out}");

    let out = env
        .kubectl(&["get", "gitrepositories", "-n", "default"])
        .await;
    out.ok()
        .stdout_has("URL")
        .stdout_has(&url)
        .stdout_has(&format!("stored artifact for revision '{revision}'"));

    let synced = eventually(Duration::from_secs(20), || async {
        let out = env.kubectl(&["get", "applications", "-n", "argocd"]).await;
        out.code == 0 && out.stdout.contains("Synced") && out.stdout.contains("Healthy")
    })
    .await;
    let out = env.kubectl(&["get", "applications", "-n", "argocd"]).await;
    assert!(synced, "1.{minor}: {out}");
    let header: Vec<&str> = out
        .stdout
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["NAME", "SYNC", "STATUS", "HEALTH", "STATUS"],
        "1.{minor}: {out}"
    );
    let out = env
        .kubectl(&["get", "applications", "-n", "argocd", "-o", "wide"])
        .await;
    out.ok()
        .stdout_has("REVISION")
        .stdout_has(&sha)
        .stdout_has("default");

    // What each applied, as a user reads it.
    env.kubectl(&[
        "get",
        "configmap",
        "cfg",
        "-n",
        "default",
        "-o",
        "jsonpath={.metadata.labels}",
    ])
    .await
    .ok()
    .stdout_has("kustomize.toolkit.fluxcd.io/name");
    env.kubectl(&[
        "get",
        "configmap",
        "cfg",
        "-n",
        "kube-public",
        "-o",
        "jsonpath={.metadata.annotations}",
    ])
    .await
    .ok()
    .stdout_has("web:/ConfigMap:kube-public/cfg");

    // A sync operation written with kubectl patch, as Argo CD documents it.
    env.kubectl(&[
        "patch",
        "-n",
        "argocd",
        "application",
        "web",
        "--type",
        "merge",
        "-p",
        r#"{"operation":{"initiatedBy":{"username":"admin"},"sync":{"syncStrategy":{"hook":{}}}}}"#,
    ])
    .await
    .ok();
    let done = eventually(Duration::from_secs(20), || async {
        let out = env
            .kubectl(&["get", "application", "web", "-n", "argocd", "-o", "jsonpath={.status.operationState.operation.initiatedBy.username}/{.status.operationState.phase}/{.operation}"])
            .await;
        out.stdout == "admin/Succeeded/"
    })
    .await;
    assert!(done, "1.{minor}: the operation ran and was cleared");
}

#[tokio::test]
async fn flux_and_argocd_objects_show_upstream_columns() {
    check(32).await;
}

#[tokio::test]
async fn flux_and_argocd_objects_show_upstream_columns_oldest_kubectl() {
    check(OLDEST).await;
}

#[tokio::test]
async fn flux_and_argocd_objects_show_upstream_columns_newest_kubectl() {
    check(NEWEST).await;
}
