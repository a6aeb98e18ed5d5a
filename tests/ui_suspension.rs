//! Issue 12 in the TUI: why an app is suspended (who, when, why) in the
//! apps pane and the resources header, the suspend dialog as a text field,
//! and the first run's empty state. Snapshots from hand-made statuses and
//! a fixed clock; then the real binary in tmux: a reason written by the CLI
//! shown by the TUI, a reason typed in the TUI read back by the CLI, and a
//! first run with no config at all.

mod common;
mod ui_common;

use gitops_tui::app::{AppState, FirstRun};
use gitops_tui::model::{AppId, Suspension};
use std::time::Duration;
use ui_common::*;

fn suspended_search() -> AppState {
    let mut s = world();
    let at =
        humantime::format_rfc3339_seconds(now() - Duration::from_secs(3 * 86400 + 60)).to_string();
    let i = s.app_index(&AppId::native("search")).expect("search");
    let st = s.apps[i].status.value.as_mut().expect("loaded");
    assert!(st.suspended, "the fixture's search is suspended");
    st.suspension = Some(Suspension {
        by: "mira".into(),
        at,
        reason: "waiting for the DB migration (INC-42)".into(),
    });
    s
}

#[test]
fn the_reason_shows_in_the_apps_pane_and_the_resources_header() {
    let mut s = suspended_search();
    select(&mut s, "search");
    let screen = render(&s, 160, 48);
    let line = "SUSPENDED by mira 3d ago: waiting for the DB migration (INC-42)";
    assert_eq!(screen.matches(line).count(), 2, "{screen}");
    insta::assert_snapshot!("suspended_with_reason_160x48", screen);
    // Another app selected: its pane says nothing of search's reason.
    select(&mut s, "shop");
    assert!(!render(&s, 160, 48).contains("INC-42"));
}

#[test]
fn the_suspend_dialog_takes_a_reason() {
    let mut s = world();
    select(&mut s, "shop");
    keys(&mut s, "p");
    for c in "rollout freeze until friday".chars() {
        keys(&mut s, &c.to_string());
    }
    let screen = render(&s, 80, 24);
    assert!(
        screen.contains("> rollout freeze until friday▏"),
        "{screen}"
    );
    assert!(screen.contains("Enter suspend · Esc cancel"), "{screen}");
    insta::assert_snapshot!("suspend_dialog_80x24", screen);
}

#[test]
fn a_first_run_says_where_the_config_goes_and_how_to_start() {
    let mut s = AppState::new(vec![], now());
    s.first_run = Some(FirstRun {
        config: "/home/mira/.config/gitops-tui/config.toml".into(),
        repo_here: true,
    });
    let screen = render(&s, 80, 24);
    assert!(screen.contains("No apps configured yet."), "{screen}");
    assert!(
        screen.contains("/home/mira/.config/gitops-tui/config.toml"),
        "{screen}"
    );
    assert!(
        screen.contains("gitops-tui init       propose apps from the Git repository here"),
        "{screen}"
    );
    insta::assert_snapshot!("first_run_80x24", screen);
    s.first_run = Some(FirstRun {
        config: "/x/config.toml".into(),
        repo_here: false,
    });
    assert!(render(&s, 80, 24).contains("gitops-tui init REPO  propose apps from a Git repository"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tui_shows_a_reason_the_cli_wrote_and_the_cli_reads_one_typed_in_the_tui() {
    let f = common::synced_shop(false).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gitops-tui"))
        .arg("--config")
        .arg(&f.config)
        .arg("--kubeconfig")
        .arg(&f.kubeconfig)
        .args(["suspend", "shop", "--reason", "freeze for the audit"])
        .env("USER", "odile")
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = common::tmux::tui_script(&f, "USER=kwame", "");
    let t = common::tmux::Tmux::start("suspension", &script);
    t.wait_for("the reason on screen", |s| {
        s.contains("SUSPENDED by odile <1m ago: freeze for the audit")
    });
    // Resume, then suspend again from the TUI with a typed reason.
    t.send(&["p"]);
    t.wait_for("the resume dialog", |s| s.contains("Resume shop"));
    t.send(&["y"]);
    t.wait_for("resumed", |s| !s.contains("SUSPENDED by"));
    t.send(&["p"]);
    t.wait_for("the suspend dialog", |s| s.contains("Why?"));
    t.send(&["-l", "quiet period, yes"]);
    t.wait_for("the typed reason", |s| s.contains("> quiet period, yes"));
    t.send(&["Enter"]);
    t.wait_for("the new reason on screen", |s| {
        s.contains("SUSPENDED by kwame <1m ago: quiet period, yes")
    });
    let doc: serde_json::Value =
        serde_json::from_slice(&f.cli(&["status", "-o", "json"]).stdout).expect("json");
    assert_eq!(doc["apps"][0]["suspension"]["reason"], "quiet period, yes");
    assert_eq!(doc["apps"][0]["suspension"]["by"], "kwame");
}

#[test]
fn a_first_run_with_no_config_in_tmux() {
    let home = tempfile::tempdir().expect("home");
    let script = home.path().join("first.sh");
    std::fs::write(
        &script,
        format!(
            "cd '{home}'\nexport HOME='{home}' XDG_STATE_HOME='{home}/state'\nunset XDG_CONFIG_HOME GITOPS_TUI_CONFIG\nexport KUBECONFIG='{home}/none'\n'{bin}'\necho EXIT:$?\nsleep 60\n",
            home = home.path().display(),
            bin = env!("CARGO_BIN_EXE_gitops-tui"),
        ),
    )
    .expect("script");
    let t = common::tmux::Tmux::start("first-run", &script);
    let looked = home.path().join(".config/gitops-tui/config.toml");
    let screen = t.wait_for("the first-run screen", |s| {
        s.contains("No apps configured yet.")
    });
    assert!(screen.contains(&looked.display().to_string()), "{screen}");
    assert!(screen.contains("gitops-tui init REPO"), "{screen}");
    assert!(screen.contains("gitops-tui demo"), "{screen}");
    t.send(&["q"]);
    t.wait_for("a clean exit", |s| s.contains("EXIT:0"));
}
