//! The YAML view (`y`) in the real TUI over kube-sim, now that a status
//! keeps each live object as compact JSON shared with the watches and the
//! view parses the one it shows: the Deployment's YAML is the cluster's
//! object (its uid, its replicas), the view follows the selection down to an
//! owned ReplicaSet (kept by the tree's own watch), and a change made with
//! kubectl shows in the YAML once the watch delivers it.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn the_yaml_view_shows_the_live_object_and_follows_it() {
    let f = synced_shop(false).await;
    let uid = f.kubectl_ok(&[
        "-n",
        "shop",
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.metadata.uid}",
    ]);
    let t = tmux::Tmux::start("live-yaml", &tmux::tui_script(&f, "", ""));
    t.wait_for("the tree with web's ReplicaSet", |s| {
        s.contains("└─ ReplicaSet")
    });
    // Into the resources pane (its first row, the ConfigMap), its YAML.
    t.send(&["Enter", "y"]);
    t.wait_for("the ConfigMap's live YAML", |s| {
        s.contains("YAML: ConfigMap shop/settings (live)") && s.contains("color: blue")
    });
    // The view follows the selection: the Deployment, as the cluster has it.
    t.send(&["j"]);
    let screen = t.wait_for("the Deployment's live YAML with its uid", |s| {
        s.contains("YAML: Deployment shop/web (live)") && s.contains(uid.trim())
    });
    assert!(screen.contains("replicas: 2"), "{screen}");
    assert!(!screen.contains("managedFields"), "{screen}");
    // Its ReplicaSet and a Pod, kept by the tree's own watch.
    t.send(&["j"]);
    t.wait_for("the ReplicaSet's live YAML", |s| {
        s.contains("YAML: ReplicaSet shop/web-") && s.contains("kind: ReplicaSet")
    });
    t.send(&["j"]);
    t.wait_for("a Pod's live YAML", |s| {
        s.contains("YAML: Pod shop/web-")
            && s.contains("kind: Pod")
            && s.contains("image: nginx:1.27")
    });
    t.send(&["k", "k"]);
    t.wait_for("back on the Deployment", |s| {
        s.contains("YAML: Deployment shop/web (live)")
    });

    // A change through kubectl reaches the view through the watch.
    f.kubectl_ok(&["-n", "shop", "scale", "deployment", "web", "--replicas=4"]);
    t.wait_for("the scaled Deployment's YAML", |s| {
        s.contains("YAML: Deployment shop/web (live)") && s.contains("replicas: 4")
    });
    t.send(&["q"]);
    t.wait_for("the TUI to exit", |s| s.contains("EXIT:0"));
}
