//! The app addresses the command line accepts (`NAME`, `flux/NS/NAME`,
//! `argocd/NS/NAME`), through the real binary against kube-sim and a real
//! Git repository: a native app keeps its name in text and JSON, a
//! malformed address is refused before anything runs with a message that
//! says what an address is, and a Flux or Argo CD address no object of the
//! cluster has is an error naming the app, never a silent empty answer.

mod common;

use common::*;
use std::process::Output;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run(f: &Fixture, args: &[&str], code: i32) -> Output {
    let out = f.cli(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "gitops-tui {args:?}\nstdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_native_app_is_addressed_and_reported_by_its_config_name() {
    let f = synced_shop(false).await;
    let out = run(&f, &["status", "shop", "--output", "json"], 0);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["apps"][0]["name"], "shop", "{doc}");
    let out = run(&f, &["history", "shop", "--output", "json"], 0);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["app"], "shop", "{doc}");
    let out = run(&f, &["suspend", "shop"], 0);
    assert_eq!(
        text(&out.stdout),
        "app shop suspended: auto-sync and self-heal stopped\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_addresses_are_refused_saying_what_an_address_is() {
    let f = synced_shop(false).await;
    for (address, why) in [
        (
            "flux/podinfo",
            "\"flux/podinfo\" is not an app address: a Flux app is flux/NAMESPACE/NAME",
        ),
        (
            "helm/apps/web",
            "\"helm/apps/web\" is not an app address: use NAME, flux/NAMESPACE/NAME or argocd/NAMESPACE/NAME",
        ),
        (
            "argocd//guestbook",
            "\"argocd//guestbook\" is not an app address: its namespace is empty",
        ),
    ] {
        // clap refuses it as a usage error (exit 2) before any request.
        let before = f.sim.requests().len();
        let out = run(&f, &["diff", address], 2);
        let err = text(&out.stderr);
        assert!(err.contains(why), "{address}: {err}");
        assert_eq!(f.sim.requests().len(), before, "{address}: nothing was asked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_and_argo_addresses_no_cluster_object_has_are_an_error_naming_the_app() {
    let f = synced_shop(false).await;
    for (verb, address, why) in [
        (
            "status",
            "flux/flux-system/podinfo",
            "no such Kustomization or HelmRelease in the current context",
        ),
        (
            "diff",
            "argocd/argocd/guestbook",
            "no such Application in the current context",
        ),
        (
            "history",
            "argocd/argocd/guestbook",
            "no such Application in the current context",
        ),
    ] {
        let out = run(&f, &[verb, address], 2);
        assert_eq!(
            text(&out.stderr),
            format!("error: app {address}: {why}\n"),
            "{verb} {address}"
        );
        assert_eq!(text(&out.stdout), "", "{verb} {address}");
    }
    // A context the kubeconfig lacks is named.
    let out = run(&f, &["sync", "flux/apps/web@kind-dev"], 2);
    assert!(
        text(&out.stderr).contains("kind-dev"),
        "{}",
        text(&out.stderr)
    );
    // An unknown native name says so as it always did.
    let out = run(&f, &["status", "nope"], 2);
    assert_eq!(
        text(&out.stderr),
        "error: no app named \"nope\" in the config\n"
    );
}
