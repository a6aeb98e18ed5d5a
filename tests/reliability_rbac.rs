//! Tokens with less than admin rights, over https with kube-sim's RBAC table:
//! a read-only token reports drift and never writes; a token that cannot
//! list one kind still syncs, says so, and prunes nothing on a guess.

mod common;

use common::*;
use gitops_tui::cluster::KubeOptions;
use gitops_tui::config::Config;
use gitops_tui::engine::{Engine, SyncOptions};
use gitops_tui::model::AppId;
use gitops_tui::model::SyncStatus;
use std::path::PathBuf;

/// A kubeconfig for `user` (with `token`) given these rules.
fn limited(
    f: &Fixture,
    token: &str,
    user: &str,
    rules: &[(&[&str], &[&str], Option<&str>)],
) -> PathBuf {
    f.sim.add_user(token, user);
    for (verbs, resources, namespace) in rules {
        f.sim.allow(kube_sim::Rule {
            user: user.into(),
            verbs: verbs.iter().map(|v| v.to_string()).collect(),
            resources: resources.iter().map(|r| r.to_string()).collect(),
            namespace: namespace.map(str::to_string),
        });
    }
    let mut kc: serde_json::Value =
        serde_yaml::from_str(&std::fs::read_to_string(&f.kubeconfig).expect("kubeconfig"))
            .expect("yaml");
    kc["users"][0]["user"]["token"] = token.into();
    let path = f.dir.path().join(format!("kubeconfig-{user}"));
    std::fs::write(&path, serde_yaml::to_string(&kc).expect("yaml")).expect("write");
    path
}

fn engine(f: &Fixture, kubeconfig: PathBuf) -> Engine {
    Engine::new(
        Config::load(&f.config, true).expect("config"),
        KubeOptions {
            kubeconfig: Some(kubeconfig),
            context: None,
        },
        false,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_token_sees_drift_and_writes_nothing() {
    let f = synced_shop(true).await;
    f.kubectl_ok(&["scale", "deploy", "web", "-n", "shop", "--replicas=5"]);
    let kc = limited(
        &f,
        "viewer-token",
        "viewer",
        &[(&["get", "list", "watch"], &["*"], None)],
    );
    let e = engine(&f, kc.clone());
    let status = e.status(&AppId::native("shop")).await.expect("status");
    assert_eq!(status.sync, SyncStatus::OutOfSync, "{}", status.message);
    let deploy = status
        .resources
        .iter()
        .find(|r| r.key.kind == "Deployment")
        .expect("deployment");
    assert!(deploy.diff.contains("replicas: 5"), "{}", deploy.diff);

    // The Deployment's controller keeps writing its status: compare what a
    // sync would write (spec, labels, managers) there, versions elsewhere.
    let written = |f: &Fixture| {
        f.sim.get("apps/v1", "Deployment", "shop", "web").map(|d| {
            let managers: Vec<_> = d["metadata"]["managedFields"]
                .as_array()
                .map(|m| {
                    m.iter()
                        .map(|e| (e["manager"].clone(), e["operation"].clone()))
                        .collect()
                })
                .unwrap_or_default();
            (
                d["spec"].clone(),
                d["metadata"]["labels"].clone(),
                d["metadata"]["generation"].clone(),
                format!("{managers:?}"),
            )
        })
    };
    let deploy_before = written(&f);
    let before = [
        f.rv("v1", "ConfigMap", "shop", "settings"),
        f.rv("v1", "Service", "shop", "web"),
        f.rv("v1", "ConfigMap", "gitops-tui", "app-shop"),
    ];
    let err = e
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect_err("a viewer cannot sync");
    let text = err.to_string();
    assert!(text.to_lowercase().contains("forbidden"), "{text}");
    assert_eq!(
        deploy_before,
        written(&f),
        "a refused token changed the Deployment"
    );
    let after = [
        f.rv("v1", "ConfigMap", "shop", "settings"),
        f.rv("v1", "Service", "shop", "web"),
        f.rv("v1", "ConfigMap", "gitops-tui", "app-shop"),
    ];
    assert_eq!(before, after, "a refused token changed something");
    assert_eq!(
        f.kubectl_ok(&[
            "get",
            "deploy",
            "web",
            "-n",
            "shop",
            "-o",
            "jsonpath={.spec.replicas}"
        ]),
        "5"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_that_cannot_list_one_kind_syncs_says_so_and_prunes_only_what_it_knows() {
    let f = synced_shop(true).await;
    // Everything in shop and the record namespace, except listing Deployments.
    let kc = limited(
        &f,
        "deployer-token",
        "deployer",
        &[
            (
                &[
                    "get", "list", "watch", "patch", "create", "update", "delete",
                ],
                &["configmaps", "services"],
                Some("shop"),
            ),
            (
                &["get", "watch", "patch", "create", "update", "delete"],
                &["deployments"],
                Some("shop"),
            ),
            (
                &["get", "list", "watch", "patch", "create", "update"],
                &["configmaps"],
                Some("gitops-tui"),
            ),
            (&["get", "patch"], &["namespaces"], None),
        ],
    );
    // A Deployment of the app that Git no longer has, made behind the
    // inventory's back: a LIST would find it, the inventory does not know it.
    let stray = f.dir.path().join("stray.yaml");
    std::fs::write(
        &stray,
        DEPLOYMENT.replacen(
            "metadata:\n  name: web\n",
            "metadata:\n  name: stray\n  labels: {gitops-tui.dev/app: shop}\n",
            1,
        ),
    )
    .expect("write");
    f.kubectl_ok(&[
        "apply",
        "--server-side",
        "--field-manager=gitops-tui",
        "-n",
        "shop",
        "-f",
        stray.to_str().unwrap_or_default(),
    ]);
    f.commit(
        &[(
            "apps/shop/config.yaml",
            Some(&CONFIGMAP.replace("blue", "green")),
        )],
        "green",
    );
    let report = engine(&f, kc)
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync runs");
    assert!(report.succeeded, "{report:?}");
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.reason.contains("cannot list deployments")),
        "{:?}",
        report.warnings
    );
    assert_eq!(f.cm_data("shop", "settings", "color"), "green");
    assert!(
        f.exists("apps/v1", "Deployment", "shop", "stray"),
        "nothing pruned on a guess"
    );
    // With the rights to list it, the same sync finds and prunes it.
    let report = f
        .engine()
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync runs");
    assert!(
        report
            .resources
            .iter()
            .any(|r| r.key.name == "stray" && r.action == "pruned"),
        "{report:?}"
    );
}
