//! The TUI under faults, driven in tmux: a panic in the UI loop restores the
//! terminal; watches dropped and expired (410) while the screen is open
//! recover, and the screen then agrees with a fresh read of the cluster.

mod common;

use common::*;

fn script(f: &Fixture, env: &str) -> std::path::PathBuf {
    tmux::tui_script(f, env, "")
}

fn assert_sane_terminal(screen: &str) {
    let words: Vec<&str> = screen.split_whitespace().collect();
    for flag in ["icanon", "echo", "isig"] {
        assert!(words.contains(&flag), "stty lacks {flag}:\n{screen}");
        let off = format!("-{flag}");
        assert!(
            !words.contains(&off.as_str()),
            "raw mode left on ({off}):\n{screen}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_in_the_ui_restores_the_terminal_and_prints_the_report() {
    let f = Fixture::new(APP).await;
    f.commit(&[("apps/shop/config.yaml", Some(CONFIGMAP))], "one");
    let t = tmux::Tmux::start(
        "panic",
        &script(
            &f,
            "GITOPS_TUI_TEST_PANIC=1 RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0",
        ),
    );
    let screen = t.wait_for("the TUI to panic and the shell to run stty", |s| {
        s.contains("EXIT:") && s.contains("icanon")
    });
    assert!(
        screen
            .lines()
            .any(|l| l.trim().starts_with("EXIT:") && l.trim() != "EXIT:0"),
        "a panic exits non-zero:\n{screen}"
    );
    assert!(
        screen.contains("a panic on purpose"),
        "the report is readable:\n{screen}"
    );
    assert!(
        !screen.contains("Apps ("),
        "the TUI's frame is gone:\n{screen}"
    );
    assert_sane_terminal(&screen);
}

/// The DRIFT column of `app`'s row.
fn row<'a>(screen: &'a str, app: &str) -> Option<&'a str> {
    screen.lines().find(|l| {
        l.split_whitespace().nth(1) == Some(app) || l.split_whitespace().next() == Some(app)
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn dropped_and_expired_watches_recover_and_the_screen_agrees_with_the_cluster() {
    let f = synced_shop(false).await;
    let t = tmux::Tmux::start("watches", &script(&f, ""));
    t.wait_for("shop synced", |s| {
        row(s, "shop").is_some_and(|r| r.contains("✓ Synced"))
    });

    // Changes while every watch is cut and its history compacted away.
    f.sim.drop_watches();
    f.sim.compact();
    f.kubectl_ok(&["delete", "configmap", "settings", "-n", "shop"]);
    f.kubectl_ok(&["scale", "deploy", "web", "-n", "shop", "--replicas=4"]);
    f.sim.drop_watches();
    f.sim.compact();

    // A fresh read of the cluster by the CLI, no watches involved.
    let out = f.cli(&["status", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status json");
    let counts = &doc["apps"][0]["counts"];
    assert_eq!(counts["missing"], 1, "{doc}");
    assert_eq!(counts["out_of_sync"], 1, "{doc}");
    let agrees =
        |s: &str| row(s, "shop").is_some_and(|r| r.contains("OutOfSync") && r.contains("~1 -1"));
    t.wait_for("the screen to show the same drift", agrees);
    // And it stays so: nothing flickers back to a stale state.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let again = t.screen();
    assert!(agrees(&again), "{again}");
    assert!(
        again.contains("shop/settings") && again.contains("Missing"),
        "{again}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn readonly_tui_sends_no_mutating_request_whatever_is_pressed() {
    let f = synced_shop(false).await;
    f.kubectl_ok(&["scale", "deploy", "web", "-n", "shop", "--replicas=4"]);
    f.sim.clear_requests();
    let t = tmux::Tmux::start("readonly", &tmux::tui_script(&f, "", "--readonly"));
    t.wait_for("shop drifted", |s| {
        row(s, "shop").is_some_and(|r| r.contains("OutOfSync"))
    });
    for key in ["s", "y", "p", "y", "r", "y", "x", "R"] {
        t.send(&[key]);
    }
    t.wait_for("the refusal", |s| s.contains("read-only"));
    std::thread::sleep(std::time::Duration::from_secs(1));
    t.send(&["q"]);
    t.wait_for("the TUI to exit", |s| s.contains("EXIT:0"));
    let requests = f.sim.requests();
    assert!(requests.len() > 3, "the TUI read the cluster: {requests:?}");
    let mutating: Vec<_> = requests.into_iter().filter(|r| r.is_mutating()).collect();
    assert!(mutating.is_empty(), "{mutating:?}");
}
