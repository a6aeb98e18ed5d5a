//! `L` in the TUI: the diff pane toggles between the app's revision and its
//! local work tree. The reducer (the load, a stale answer dropped, off on a
//! new selection) from a hand-made state; then the real binary in tmux over
//! kube-sim seeing an uncommitted edit.

mod common;
mod ui_common;

use gitops_tui::app::{update, Effect, Msg};
use ui_common::*;

#[test]
fn l_loads_the_work_tree_and_a_new_selection_turns_it_off() {
    let mut s = world();
    select(&mut s, "shop");
    let effects = update(
        &mut s,
        Msg::Key {
            key: crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Char('L'),
                crossterm::event::KeyModifiers::SHIFT,
            ),
        },
    );
    let generation = match &effects[..] {
        [Effect::LoadLocal { app, generation }] if app.name == "shop" => *generation,
        other => panic!("{other:?}"),
    };
    assert!(render(&s, 160, 48).contains("Reading the local work tree…"));
    // A stale answer is dropped; the right one shows.
    let mut local = s.selected_status().expect("status").clone();
    local.resources.retain(|r| r.key.kind == "Service");
    update(
        &mut s,
        Msg::LocalLoaded {
            app: gitops_tui::model::AppId::native("shop"),
            generation: generation - 1,
            result: Err("old".into()),
        },
    );
    assert!(render(&s, 160, 48).contains("Reading the local work tree…"));
    update(
        &mut s,
        Msg::LocalLoaded {
            app: gitops_tui::model::AppId::native("shop"),
            generation,
            result: Ok(local),
        },
    );
    let screen = render(&s, 160, 48);
    assert!(screen.contains("live → local work tree"), "{screen}");
    assert!(
        screen.contains("No drift: the local work tree matches live."),
        "{screen}"
    );
    select(&mut s, "web");
    assert!(s.local.is_none());
    assert!(!render(&s, 160, 48).contains("local work tree"));
}

#[tokio::test(flavor = "multi_thread")]
async fn l_shows_an_uncommitted_edit_in_the_tui() {
    let f = common::synced_shop(false).await;
    let deploy = f.repo.join("apps/shop/deploy.yaml");
    std::fs::write(
        &deploy,
        common::DEPLOYMENT.replace("replicas: 2", "replicas: 3"),
    )
    .expect("edit");
    let t = common::tmux::Tmux::start("local", &common::tmux::tui_script(&f, "", ""));
    t.wait_for("the app in sync", |s| s.contains("No drift"));
    t.send(&["L"]);
    let screen = t.wait_for("the work tree's drift", |s| {
        s.contains("-  replicas: 2") && s.contains("+  replicas: 3")
    });
    assert!(screen.contains("live → local work tree"), "{screen}");
    t.send(&["L"]);
    t.wait_for("back to the revision", |s| {
        s.contains("No drift") && !s.contains("+  replicas: 3")
    });
    t.send(&["q"]);
    t.wait_for("exit", |s| s.contains("EXIT:0"));
}
