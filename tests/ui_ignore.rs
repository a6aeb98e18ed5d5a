//! Drift into an ignore rule: `i` on a drifted field in the diff pane
//! proposes the `ignore_differences` rule, shows it, and on confirmation the
//! runtime appends it to the config file, comments kept; the rule is then
//! honoured (the CLI's `diff` is in sync). The reducer and dialog from a
//! hand-made state; the whole flow with the real binary in tmux over
//! kube-sim and a real Git repository.

mod common;
mod ui_common;

use gitops_tui::app::{ConfirmAction, Effect, Mode};
use ui_common::*;

#[test]
fn i_proposes_the_rule_for_the_field_at_the_top_of_the_diff() {
    let mut s = world();
    select(&mut s, "shop");
    keys(&mut s, "\t\t");
    keys(&mut s, "i");
    let Mode::Confirm(ConfirmAction::IgnoreRule { app, proposal }) = &s.mode else {
        panic!("no dialog: {:?}", s.mode);
    };
    assert_eq!(app.name, "shop");
    assert_eq!(
        (
            proposal.group.as_str(),
            proposal.kind.as_str(),
            proposal.namespace.as_deref(),
            proposal.name.as_str(),
            proposal.json_pointer.as_str()
        ),
        ("apps", "Deployment", Some("shop"), "shop", "/spec/replicas")
    );
    let screen = render(&s, 160, 48);
    assert!(
        screen.contains("Never count /spec/replicas as drift"),
        "{screen}"
    );
    assert!(
        screen.contains("json_pointers = [\"/spec/replicas\"]"),
        "{screen}"
    );
    insta::assert_snapshot!("ignore_dialog_160x48", screen);
    let effects = gitops_tui::app::update(
        &mut s,
        gitops_tui::app::Msg::Key {
            key: crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Char('y'),
                crossterm::event::KeyModifiers::NONE,
            ),
        },
    );
    assert!(
        matches!(&effects[..], [Effect::AppendIgnoreRule { proposal, .. }] if proposal.json_pointer == "/spec/replicas"),
        "{effects:?}"
    );
}

#[test]
fn a_field_whose_path_the_hunk_cannot_tell_is_refused_not_guessed() {
    let mut s = world();
    select(&mut s, "shop");
    // The second hunk: the image line, whose parents are above the hunk.
    keys(&mut s, "\t\tnn");
    keys(&mut s, "i");
    assert_eq!(s.mode, Mode::Normal);
    let toast = s.toasts.last().map(|t| t.text.clone()).unwrap_or_default();
    assert!(
        toast.starts_with("no ignore rule: ") && toast.contains("outside the hunk"),
        "{toast}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rule_written_from_the_tui_keeps_the_comments_and_is_honoured() {
    let f = common::synced_shop(false).await;
    let original = format!(
        "# Our apps. This comment stays.\n{}\n# the end\n",
        common::APP.trim()
    );
    std::fs::write(&f.config, &original).expect("config");
    f.kubectl_ok(&["scale", "deploy", "web", "-n", "shop", "--replicas=4"]);
    assert_eq!(f.cli(&["diff", "shop"]).status.code(), Some(1));
    let t = common::tmux::Tmux::start("ignore", &common::tmux::tui_script(&f, "", ""));
    t.wait_for("the replicas drift", |s| s.contains("-  replicas: 4"));
    t.send(&["Tab"]);
    t.send(&["Tab"]);
    t.send(&["i"]);
    t.wait_for("the rule dialog", |s| {
        s.contains("Never count /spec/replicas as drift")
    });
    t.send(&["y"]);
    t.wait_for("the rule written", |s| s.contains("appended to"));
    let written = std::fs::read_to_string(&f.config).expect("config");
    for line in original.lines() {
        assert!(written.contains(line), "lost {line:?}:\n{written}");
    }
    assert!(written.contains("[[apps.ignore_differences]]\ngroup = \"apps\"\nkind = \"Deployment\"\nnamespace = \"shop\"\nname = \"web\"\njson_pointers = [\"/spec/replicas\"]"), "{written}");
    // Honoured: the drift is gone for every reader of the config.
    let out = f.cli(&["diff", "shop"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    t.send(&["q"]);
    t.wait_for("exit", |s| s.contains("EXIT:0"));
}
