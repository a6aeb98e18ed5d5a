//! Suspend, resume, history, rollback, readonly, several apps and several
//! clusters, against kube-sim and real Git repositories.

mod common;

use common::*;
use gitops_tui::engine::{RollbackTarget, SyncOptions};
use gitops_tui::model::AppId;
use gitops_tui::model::SyncStatus;
use std::time::Duration;

fn cm(color: &str) -> String {
    CONFIGMAP.replace("blue", color)
}

#[tokio::test(flavor = "multi_thread")]
async fn suspend_is_seen_by_a_second_process_and_resume_clears_it() {
    let f = Fixture::new(APP).await;
    f.commit(&[("apps/shop/config.yaml", Some(CONFIGMAP))], "one");
    let first = f.engine();
    first
        .suspend(&AppId::native("shop"))
        .await
        .expect("suspend");
    // A second engine (another process, a teammate) reads the record from the cluster.
    let status = f
        .engine()
        .status(&AppId::native("shop"))
        .await
        .expect("status");
    assert!(status.suspended);
    let out = f.cli(&["status", "shop", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["apps"][0]["suspended"], true);
    assert_eq!(out.status.code(), Some(0));
    // A manual sync of a suspended app is allowed, and it stays suspended.
    assert!(
        first
            .sync(&AppId::native("shop"), &SyncOptions::default())
            .await
            .expect("sync")
            .succeeded
    );
    assert!(
        f.engine()
            .status(&AppId::native("shop"))
            .await
            .expect("status")
            .suspended
    );
    first.resume(&AppId::native("shop")).await.expect("resume");
    assert!(
        !f.engine()
            .status(&AppId::native("shop"))
            .await
            .expect("status")
            .suspended
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rollback_two_commits_back_pauses_and_resume_returns_to_head() {
    let f = Fixture::new(APP).await;
    let first = f.commit(&[("apps/shop/config.yaml", Some(&cm("red")))], "red");
    let engine = f.engine();
    assert!(
        engine
            .sync(&AppId::native("shop"), &SyncOptions::default())
            .await
            .expect("sync")
            .succeeded
    );
    f.commit(&[("apps/shop/config.yaml", Some(&cm("green")))], "green");
    assert!(
        engine
            .sync(&AppId::native("shop"), &SyncOptions::default())
            .await
            .expect("sync")
            .succeeded
    );
    let head = f.commit(&[("apps/shop/config.yaml", Some(&cm("blue")))], "blue");
    assert!(
        engine
            .sync(&AppId::native("shop"), &SyncOptions::default())
            .await
            .expect("sync")
            .succeeded
    );

    let target = engine
        .rollback_revision(
            &AppId::native("shop"),
            &RollbackTarget::Revision("HEAD~2".into()),
        )
        .await
        .expect("resolves");
    assert_eq!(target, first);
    let preview = engine
        .rollback(&AppId::native("shop"), &target.as_str().into(), true)
        .await
        .expect("dry run");
    assert!(
        preview
            .resources
            .iter()
            .any(|r| r.action == "would be configured"),
        "{preview:?}"
    );
    assert_eq!(f.cm_data("shop", "settings", "color"), "blue");

    let report = engine
        .rollback(&AppId::native("shop"), &target.as_str().into(), false)
        .await
        .expect("rollback");
    assert!(report.succeeded);
    assert_eq!(f.cm_data("shop", "settings", "color"), "red");
    let status = engine.status(&AppId::native("shop")).await.expect("status");
    assert_eq!(status.paused_revision.as_deref(), Some(first.as_str()));
    // Paused: compared with the pin, so it is in sync although the head differs.
    assert_eq!(status.sync, SyncStatus::Synced);
    // A sync of a paused app applies the pin.
    assert!(
        engine
            .sync(&AppId::native("shop"), &SyncOptions::default())
            .await
            .expect("sync")
            .succeeded
    );
    assert_eq!(f.cm_data("shop", "settings", "color"), "red");

    engine.resume(&AppId::native("shop")).await.expect("resume");
    assert_eq!(f.cm_data("shop", "settings", "color"), "blue");
    let status = engine.status(&AppId::native("shop")).await.expect("status");
    assert_eq!(status.paused_revision, None);
    assert_eq!(status.deployed_revision.as_deref(), Some(head.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn rollback_previous_goes_to_the_revision_deployed_before() {
    let f = Fixture::new(APP).await;
    let engine = f.engine();
    let first = f.commit(&[("apps/shop/config.yaml", Some(&cm("red")))], "red");
    engine
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync");
    f.commit(&[("apps/shop/config.yaml", Some(&cm("green")))], "green");
    engine
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync");
    assert_eq!(
        engine
            .rollback_revision(&AppId::native("shop"), &RollbackTarget::Previous)
            .await
            .expect("previous"),
        first
    );
    let out = f.cli(&["rollback", "shop", "--previous", "--yes"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(f.cm_data("shop", "settings", "color"), "red");
    // Without --yes and without a terminal, nothing happens.
    let out = f.cli(&["rollback", "shop", "--to", "HEAD"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
}

#[tokio::test(flavor = "multi_thread")]
async fn history_lists_exactly_what_git_log_lists_and_marks_the_deployed_commit() {
    let f = Fixture::new(APP).await;
    f.commit(&[("apps/shop/config.yaml", Some(&cm("red")))], "red");
    f.commit(&[("README", Some("not the app"))], "unrelated");
    git(&f.repo, &["checkout", "-q", "-b", "feature"]);
    f.commit(
        &[("apps/shop/config.yaml", Some(&cm("green")))],
        "green on a branch",
    );
    git(&f.repo, &["checkout", "-q", "main"]);
    f.commit(
        &[(
            "apps/shop/extra.yaml",
            Some(&CONFIGMAP.replace("settings", "extra")),
        )],
        "extra",
    );
    git(
        &f.repo,
        &["merge", "-q", "--no-ff", "-m", "merge feature", "feature"],
    );
    let engine = f.engine();
    engine
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync");
    let history = engine
        .history(&AppId::native("shop"))
        .await
        .expect("history");
    let expected: Vec<String> = git(&f.repo, &["log", "--format=%H", "--", "apps/shop"])
        .lines()
        .map(str::to_string)
        .collect();
    let ours: Vec<String> = history.commits.iter().map(|c| c.sha.to_string()).collect();
    assert_eq!(ours, expected);
    assert_eq!(history.commits.iter().filter(|c| c.deployed).count(), 1);
    let syncs = history.syncs.expect("the cluster is reachable");
    assert_eq!(syncs.len(), 1);
    assert_eq!(syncs[0].result, "Succeeded");
    assert!(history.warnings.is_empty(), "{:?}", history.warnings);
}

#[tokio::test(flavor = "multi_thread")]
async fn readonly_refuses_changes_and_sends_no_mutating_request() {
    let f = Fixture::new(APP).await;
    f.commit(&[("apps/shop/config.yaml", Some(CONFIGMAP))], "one");
    f.sim.clear_requests();
    let out = f.cli(&["--readonly", "sync", "shop"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--readonly"));
    let out = f.cli(&["diff", "shop", "--readonly"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mutating: Vec<_> = f
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.is_mutating())
        .collect();
    assert!(mutating.is_empty(), "{mutating:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_apps_in_two_namespaces_and_one_on_a_second_cluster() {
    let config = format!(
        "{APP}\n[[apps]]\nname = \"blog\"\nrepo = \"repo\"\npath = \"apps/blog\"\nnamespace = \"blog\"\ncreate_namespace = true\n\n[[apps]]\nname = \"edge\"\nrepo = \"repo\"\npath = \"apps/blog\"\nnamespace = \"edge\"\ncreate_namespace = true\ncontext = \"second\"\n"
    );
    let f = Fixture::new(&config).await;
    let second = kube_sim::KubeSim::start(kube_sim::Options {
        context_name: "second".into(),
        ..Default::default()
    })
    .await
    .expect("second cluster");
    merge_kubeconfig(&f.kubeconfig, second.kubeconfig());
    f.commit(
        &[
            ("apps/shop/config.yaml", Some(CONFIGMAP)),
            ("apps/blog/config.yaml", Some(&cm("pink"))),
        ],
        "two apps",
    );
    let engine = f.engine();
    for app in ["shop", "blog", "edge"] {
        assert!(
            engine
                .sync(&AppId::native(app), &SyncOptions::default())
                .await
                .expect("sync")
                .succeeded,
            "{app}"
        );
    }
    assert!(f.exists("v1", "ConfigMap", "shop", "settings"));
    assert!(f.exists("v1", "ConfigMap", "blog", "settings"));
    assert!(
        !f.exists("v1", "ConfigMap", "edge", "settings"),
        "edge goes to the second cluster"
    );
    assert!(second.get("v1", "ConfigMap", "edge", "settings").is_some());
    // Pruning one app leaves the other's objects alone.
    // (A path that disappears from Git is an error, not "delete everything".)
    f.commit(
        &[
            ("apps/shop/config.yaml", None),
            ("apps/shop/README.md", Some("empty for now")),
        ],
        "shop empties",
    );
    engine
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync");
    assert!(!f.exists("v1", "ConfigMap", "shop", "settings"));
    assert!(f.exists("v1", "ConfigMap", "blog", "settings"));
    let _ = tokio::time::timeout(Duration::from_secs(5), second.stop()).await;
}

/// Add the second simulator's cluster, user and context to `path`.
fn merge_kubeconfig(path: &std::path::Path, other: &str) {
    let mut base: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(path).expect("read")).expect("yaml");
    let other: serde_yaml::Value = serde_yaml::from_str(other).expect("yaml");
    for list in ["clusters", "users", "contexts"] {
        let extra = other[list].as_sequence().cloned().unwrap_or_default();
        if let Some(seq) = base[list].as_sequence_mut() {
            seq.extend(extra);
        }
    }
    std::fs::write(path, serde_yaml::to_string(&base).expect("yaml")).expect("write");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_cluster_fails_fast_naming_its_url() {
    let f = Fixture::new(APP).await;
    f.commit(&[("apps/shop/config.yaml", Some(CONFIGMAP))], "one");
    // Point the kubeconfig at a port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let text = std::fs::read_to_string(&f.kubeconfig).expect("read");
    let url = f.sim.url().to_string();
    let dead = format!("http://127.0.0.1:{port}");
    std::fs::write(&f.kubeconfig, text.replace(&url, &dead)).expect("write");
    let started = std::time::Instant::now();
    let out = f.cli(&["diff", "shop"]);
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    // status still reports (Unknown, with the reason) and exits 0.
    let out = f.cli(&["status", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["apps"][0]["sync"], "Unknown");
    assert!(
        doc["apps"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains(&port.to_string()),
        "{doc}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn revert_commits_the_old_tree_of_the_path_only_and_syncs_it() {
    let f = Fixture::new(APP).await;
    let red = f.commit(
        &[
            ("apps/shop/config.yaml", Some(&cm("red"))),
            ("apps/other/x.yaml", Some("a: 1\n")),
        ],
        "red",
    );
    f.commit(
        &[
            ("apps/shop/config.yaml", Some(&cm("green"))),
            (
                "apps/shop/extra.yaml",
                Some(&CONFIGMAP.replace("settings", "extra")),
            ),
            ("apps/other/x.yaml", Some("a: 2\n")),
        ],
        "green, extra, other",
    );
    let engine = f.engine();
    engine
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync");
    // Dirty work tree: refused, nothing written.
    std::fs::write(f.repo.join("apps/other/x.yaml"), "a: dirty\n").expect("write");
    let err = engine
        .revert(&AppId::native("shop"), &red.as_str().into())
        .await
        .expect_err("dirty work tree");
    assert!(err.to_string().contains("uncommitted changes"), "{err}");
    git(&f.repo, &["checkout", "--", "apps/other/x.yaml"]);

    let (commit, report) = engine
        .revert(&AppId::native("shop"), &red.as_str().into())
        .await
        .expect("revert");
    assert!(report.succeeded, "{report:?}");
    let head = git(&f.repo, &["rev-parse", "HEAD"]).trim().to_string();
    assert_eq!(head, commit);
    // The app path equals the target's; every other path stays as it was.
    assert!(git(&f.repo, &["diff", &red, "HEAD", "--", "apps/shop"]).is_empty());
    assert_eq!(git(&f.repo, &["show", "HEAD:apps/other/x.yaml"]), "a: 2\n");
    assert!(git(&f.repo, &["log", "-1", "--format=%s"]).starts_with("Revert shop to"));
    // The work tree follows the branch, and the cluster follows Git (extra pruned).
    assert_eq!(
        std::fs::read_to_string(f.repo.join("apps/shop/config.yaml")).expect("read"),
        cm("red")
    );
    assert!(!f.repo.join("apps/shop/extra.yaml").exists());
    assert_eq!(f.cm_data("shop", "settings", "color"), "red");
    assert!(!f.exists("v1", "ConfigMap", "shop", "extra"));
    assert_eq!(
        engine
            .status(&AppId::native("shop"))
            .await
            .expect("status")
            .paused_revision,
        None
    );
    // Reverting again to the same content has nothing to do.
    assert!(engine
        .revert(&AppId::native("shop"), &red.as_str().into())
        .await
        .expect_err("no-op")
        .to_string()
        .contains("nothing to revert"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_remote_repository_is_mirrored_with_git_and_refreshed() {
    let f = Fixture::new("").await;
    f.commit(&[("apps/shop/config.yaml", Some(CONFIGMAP))], "one");
    let url = format!("file://{}", f.repo.display());
    std::fs::write(
        &f.config,
        APP.replace(
            "repo = \"repo\"",
            &format!("repo = \"{url}\"\nref = \"main\""),
        ),
    )
    .expect("config");
    let cache = f.dir.path().join("cache");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_gitops-tui"))
            .arg("--config")
            .arg(&f.config)
            .arg("--kubeconfig")
            .arg(&f.kubeconfig)
            .args(args)
            .env("XDG_CACHE_HOME", &cache)
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .output()
            .expect("runs")
    };
    let out = run(&["sync", "shop"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(f.cm_data("shop", "settings", "color"), "blue");
    assert!(
        cache.join("gitops-tui/repos").exists(),
        "mirrored under the cache directory"
    );
    // A new commit upstream is fetched on the next call.
    let second = f.commit(&[("apps/shop/config.yaml", Some(&cm("teal")))], "teal");
    let out = run(&["status", "shop", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["apps"][0]["head_revision"], second.as_str());
    assert_eq!(doc["apps"][0]["sync"], "OutOfSync");
    // A remote that cannot be fetched is an error naming the URL.
    std::fs::write(
        &f.config,
        APP.replace("repo = \"repo\"", "repo = \"file:///nonexistent/repo.git\""),
    )
    .expect("config");
    let out = run(&["diff", "shop"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("file:///nonexistent/repo.git"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_rollback_leaves_the_earlier_pin_as_it_was() {
    let f = Fixture::new(APP).await;
    let engine = f.engine();
    let mut shas = Vec::new();
    for color in ["red", "green", "blue"] {
        shas.push(f.commit(&[("apps/shop/config.yaml", Some(&cm(color)))], color));
        assert!(
            engine
                .sync(&AppId::native("shop"), &SyncOptions::default())
                .await
                .expect("sync")
                .succeeded
        );
    }
    assert!(
        engine
            .rollback(&AppId::native("shop"), &shas[0].as_str().into(), false)
            .await
            .expect("rollback")
            .succeeded
    );
    // A teammate's Apply manager now shares `color`: changing it conflicts.
    let theirs = f.dir.path().join("theirs.yaml");
    std::fs::write(
        &theirs,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  color: red\n",
    )
    .expect("write");
    f.kubectl_ok(&[
        "apply",
        "--server-side",
        "--field-manager=teammate",
        "-f",
        theirs.to_str().expect("utf-8 path"),
    ]);
    let report = engine
        .rollback(&AppId::native("shop"), &shas[1].as_str().into(), false)
        .await
        .expect("rollback runs");
    assert!(!report.succeeded, "{report:?}");
    let status = engine.status(&AppId::native("shop")).await.expect("status");
    assert_eq!(status.paused_revision.as_deref(), Some(shas[0].as_str()));
    assert_eq!(f.cm_data("shop", "settings", "color"), "red");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployed_commit_that_does_not_touch_the_path_marks_the_commit_it_runs() {
    let f = Fixture::new(APP).await;
    let engine = f.engine();
    let red = f.commit(&[("apps/shop/config.yaml", Some(&cm("red")))], "red");
    let green = f.commit(&[("apps/shop/config.yaml", Some(&cm("green")))], "green");
    f.commit(&[("README", Some("not the app"))], "docs");
    // Deployed: the docs commit, whose content of the path is green's.
    assert!(
        engine
            .sync(&AppId::native("shop"), &SyncOptions::default())
            .await
            .expect("sync")
            .succeeded
    );
    let head = f.commit(&[("apps/shop/config.yaml", Some(&cm("teal")))], "teal");
    let history = engine
        .history(&AppId::native("shop"))
        .await
        .expect("history");
    let marked: Vec<(&str, bool, bool)> = history
        .commits
        .iter()
        .map(|c| (c.sha.as_str(), c.deployed, c.head))
        .collect();
    assert_eq!(
        marked,
        [
            (head.as_str(), false, true),
            (green.as_str(), true, false),
            (red.as_str(), false, false)
        ]
    );
    assert!(history.warnings.is_empty(), "{:?}", history.warnings);
    // One sync recorded: previous is the path's commit before the deployed one.
    assert_eq!(
        engine
            .rollback_revision(&AppId::native("shop"), &RollbackTarget::Previous)
            .await
            .expect("previous"),
        red
    );
}
