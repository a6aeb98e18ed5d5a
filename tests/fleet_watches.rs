//! What the TUI watches, in kube-sim's request log: the resource tree's
//! ReplicaSets and Pods come from watches of the apps' namespaces, never of
//! every namespace of the cluster, and the screen shows them.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn replicasets_and_pods_are_watched_in_the_apps_namespaces_only() {
    let f = synced_shop(false).await;
    // Someone else's workload in another namespace: not the TUI's business.
    f.kubectl_ok(&["create", "namespace", "other"]);
    f.kubectl_ok(&[
        "-n",
        "other",
        "create",
        "deployment",
        "noise",
        "--image=nginx:1.27",
    ]);
    let t = tmux::Tmux::start("owned-watches", &tmux::tui_script(&f, "", ""));
    let screen = t.wait_for("the tree with web's ReplicaSet and Pods", |s| {
        s.contains("└─ ReplicaSet") && s.contains("Pod ")
    });
    assert!(!screen.contains("noise"), "{screen}");
    t.send(&["q"]);
    t.wait_for("the TUI to exit", |s| s.contains("EXIT:0"));

    let watches: Vec<String> = f
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .filter(|r| r.path.ends_with("/replicasets") || r.path.ends_with("/pods"))
        .map(|r| r.path)
        .collect();
    assert!(
        watches
            .iter()
            .any(|p| p == "/apis/apps/v1/namespaces/shop/replicasets"),
        "{watches:?}"
    );
    assert!(
        watches.iter().any(|p| p == "/api/v1/namespaces/shop/pods"),
        "{watches:?}"
    );
    assert!(
        watches.iter().all(|p| p.contains("/namespaces/shop/")),
        "only the app's namespace is read: {watches:?}"
    );
}
