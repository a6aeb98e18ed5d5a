//! No Secret value anywhere: every verb's text, JSON and YAML output, and
//! the TUI's log file at trace level, while a Secret is created, drifts and is
//! synced. Values are looked for as written and base64-encoded.

mod common;

use base64::Engine as _;
use common::*;
use gitops_tui::engine::SyncOptions;
use gitops_tui::model::AppId;

const VALUES: [&str; 3] = ["hunter2-original", "swordfish-rotated", "admin-user-x"];

fn secret(password: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: {password}\n  user: admin-user-x\n"
    )
}

fn assert_clean(what: &str, text: &str) {
    for value in VALUES {
        let b64 = base64::engine::general_purpose::STANDARD.encode(value);
        assert!(
            !text.contains(value) && !text.contains(&b64),
            "{value} leaked in {what}:\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_verb_prints_a_secret_value_in_any_format() {
    let f = Fixture::new(APP).await;
    f.commit(
        &[
            ("apps/shop/secret.yaml", Some(&secret("hunter2-original"))),
            ("apps/shop/config.yaml", Some(CONFIGMAP)),
        ],
        "a secret",
    );
    let first = f
        .engine()
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync");
    assert!(first.succeeded, "{first:?}");
    f.commit(
        &[("apps/shop/secret.yaml", Some(&secret("swordfish-rotated")))],
        "rotate",
    );
    // A hand edit of the live Secret too, so live and Git both differ.
    f.kubectl_ok(&[
        "patch",
        "secret",
        "creds",
        "-n",
        "shop",
        "--type",
        "merge",
        "-p",
        r#"{"stringData":{"user":"admin-user-x-edited"}}"#,
    ]);
    let mut seen_drift = false;
    for verb in [
        vec!["status"],
        vec!["diff", "shop"],
        vec!["sync", "shop", "--dry-run"],
        vec!["history", "shop"],
        vec!["sync", "shop"],
        vec!["diff", "shop"],
    ] {
        for output in ["text", "json", "yaml"] {
            let mut args = verb.clone();
            args.extend_from_slice(&["-o", output]);
            let out = f.cli(&args);
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_clean(&format!("{args:?}"), &text);
            seen_drift |= verb[0] == "diff" && text.contains("password");
        }
    }
    assert!(
        seen_drift,
        "the diff named the drifted key (so it was looked at)"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tui_log_at_trace_level_holds_no_secret_value() {
    let f = Fixture::new(APP).await;
    f.commit(
        &[("apps/shop/secret.yaml", Some(&secret("hunter2-original")))],
        "a secret",
    );
    let state = f.dir.path().join("state");
    let script = tmux::tui_script(&f, "GITOPS_TUI_LOG=trace", "");
    let t = tmux::Tmux::start("secrets", &script);
    t.wait_for("the app's status", |s| {
        s.contains("shop") && s.contains("OutOfSync")
    });
    t.send(&["s"]);
    t.wait_for("the sync dialog", |s| s.contains("Sync shop"));
    t.send(&["y"]);
    t.wait_for("the app to be synced", |s| {
        s.lines()
            .any(|l| l.contains("shop") && l.contains("✓ Synced"))
    });
    f.commit(
        &[("apps/shop/secret.yaml", Some(&secret("swordfish-rotated")))],
        "rotate",
    );
    t.send(&["R"]);
    t.wait_for("the rotation as drift", |s| s.contains("OutOfSync"));
    t.send(&["d"]);
    // Once the diff pane names the drifted key (so its value was there to leak).
    let screen = t.wait_for("the secret's drift in the diff pane", |s| {
        s.contains("Secret") && s.contains("password")
    });
    assert_clean("the screen", &screen);
    t.send(&["q"]);
    t.wait_for("the TUI to exit", |s| s.contains("EXIT:0"));
    let log = std::fs::read_to_string(state.join("gitops-tui/gitops-tui.log")).expect("a log file");
    assert!(
        log.lines().count() > 50 && log.contains("TRACE"),
        "the log is at trace level ({} lines)",
        log.lines().count()
    );
    assert!(
        log.contains("creds"),
        "the log speaks of the Secret (so it was in view)"
    );
    assert_clean("the trace log", &log);
}
