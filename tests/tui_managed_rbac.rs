//! The controllers' watches under a token that may read every kind but the
//! CustomResourceDefinitions, as many teams' read-only roles are: the Flux
//! app is listed, the screen says once that watching the CRDs is forbidden
//! (and what that costs), and the context, which has no native app, shows
//! as connected from the controllers' watches. Both used to be dropped in
//! silence: the CRD watch retried forever and the status bar showed nothing
//! for the context.

mod common;

use common::*;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn a_forbidden_crd_watch_is_said_once_and_the_context_still_shows_connected() {
    let f = Fixture::with_options(
        "",
        kube_sim::Options {
            ready_after: std::time::Duration::from_millis(100),
            tls: true,
            controllers: kube_sim::GitOpsControllers {
                flux: true,
                argocd: false,
            },
            ..Default::default()
        },
    )
    .await;
    crds::install(&f);
    f.commit(&[("deploy/config.yaml", Some(CONFIGMAP))], "one");
    f.kubectl_ok(&["create", "namespace", "flux-system"]);
    crds::flux_app(&f, "podinfo");

    // A reader of every resource the server serves but the CRDs.
    let plurals: Vec<String> = f
        .kubectl_ok(&["api-resources", "-o", "name"])
        .lines()
        .map(|l| l.split('.').next().unwrap_or("").to_string())
        .filter(|p| !p.is_empty() && p != "customresourcedefinitions")
        .collect();
    assert!(plurals.iter().any(|p| p == "kustomizations"), "{plurals:?}");
    f.sim.add_user("reader-token", "reader");
    f.sim.allow(kube_sim::Rule {
        user: "reader".into(),
        verbs: ["get", "list", "watch"].map(String::from).to_vec(),
        resources: plurals,
        namespace: None,
    });
    let mut kc: Value =
        serde_yaml::from_str(&std::fs::read_to_string(&f.kubeconfig).expect("kubeconfig"))
            .expect("yaml");
    kc["users"][0]["user"]["token"] = "reader-token".into();
    let context = kc["contexts"][0]["name"]
        .as_str()
        .expect("a context")
        .to_string();
    let reader = f.dir.path().join("kubeconfig-reader");
    std::fs::write(&reader, serde_yaml::to_string(&kc).expect("yaml")).expect("write");
    let script = tmux::tui_script_for(&f, &reader, "", "--readonly");
    let t = tmux::Tmux::start("managed-rbac", &script);
    let screen = t.wait_for("the notice that the CRDs cannot be watched", |s| {
        s.contains("watching CustomResourceDefinitions is forbidden")
    });
    assert!(
        screen.contains(&format!(
            "{context}: watching CustomResourceDefinitions is forbidden; Flux or Argo CD installed from now on shows on R"
        )),
        "{screen}"
    );
    let screen = t.wait_for("the Flux app listed, its context connected", |s| {
        s.contains("podinfo") && s.contains(&format!("{context} connected"))
    });
    assert!(!screen.contains("not connected"), "{screen}");
    t.send(&["q"]);
    t.wait_for("the TUI exited", |s| s.contains("EXIT:0"));
}
