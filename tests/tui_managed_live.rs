//! A hand edit under a Flux app shows in the TUI by itself: the objects
//! Flux applied are watched (metadata only, by Flux's owner label), and a
//! change to one reloads its Kustomization's row. kustomize-controller does
//! not watch them (it puts them back at its next interval), so its
//! Kustomization does not change and the row used to stay Synced until `R`.

mod common;

use common::*;

/// The apps pane's row of `name`.
fn row<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    screen
        .lines()
        .find(|l| l.chars().take(80).collect::<String>().contains(name))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hand_edit_under_a_flux_app_shows_as_drift_without_a_refresh() {
    let f = Fixture::with_controllers("").await;
    f.commit(&[("deploy/config.yaml", Some(CONFIGMAP))], "one");
    f.kubectl_ok(&["create", "namespace", "flux-system"]);
    crds::flux_app(&f, "podinfo");
    let t = tmux::Tmux::start("managed-live", &tmux::tui_script(&f, "", "--readonly"));
    t.wait_for("the Flux app synced, in its inventory", |s| {
        row(s, "podinfo").is_some_and(|r| r.contains("Synced"))
            && s.contains("ConfigMap default/settings")
    });
    // Let the first reloads (the watches' first lists) finish, so what
    // follows is read only if something asks for it.
    std::thread::sleep(std::time::Duration::from_secs(2));
    // Behind the screen's back, and nothing else changes.
    let ks_version = || {
        f.kubectl_ok(&[
            "get",
            "kustomization",
            "podinfo",
            "-n",
            "flux-system",
            "-o",
            "jsonpath={.metadata.resourceVersion}",
        ])
    };
    let ks_before = ks_version();
    f.kubectl_ok(&[
        "patch",
        "configmap",
        "settings",
        "-n",
        "default",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"color":"red"}}"#,
    ]);
    let screen = t.wait_for("the edit as drift on the Flux row", |s| {
        row(s, "podinfo").is_some_and(|r| r.contains("OutOfSync") && r.contains("~1"))
    });
    assert!(
        screen.contains("color"),
        "the diff names the field:\n{screen}"
    );
    let ks_after = ks_version();
    assert_eq!(
        ks_before, ks_after,
        "the Kustomization did not change: the row followed the object itself"
    );
    t.send(&["q"]);
    t.wait_for("the TUI exited", |s| s.contains("EXIT:0"));
}
