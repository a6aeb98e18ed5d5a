//! Whole-screen snapshots at 80×24 (stacked) and 160×48 (side by side) in
//! each notable state, from hand-made statuses, fixed shas and a fixed clock.

mod ui_common;

use gitops_tui::app::{update, ConnectionState, Effect, Msg};
use gitops_tui::model::AppId;
use ui_common::*;

fn both(name: &str, s: &gitops_tui::app::AppState) {
    insta::assert_snapshot!(format!("{name}_80x24"), render(s, 80, 24));
    insta::assert_snapshot!(format!("{name}_160x48"), render(s, 160, 48));
}

#[test]
fn loading_screen() {
    both("loading", &loading().0);
}

#[test]
fn synced() {
    both("synced", &world());
}

#[test]
fn drifted_resource_diff() {
    let mut s = world();
    select(&mut s, "shop");
    keys(&mut s, "\n\n");
    both("drifted", &s);
}

#[test]
fn drifted_whole_app_diff_wrapped() {
    let mut s = world();
    select(&mut s, "web");
    keys(&mut s, "\nd\nw");
    both("drifted_app_wrapped", &s);
}

#[test]
fn degraded() {
    let mut s = world();
    select(&mut s, "payments");
    keys(&mut s, "\n");
    both("degraded", &s);
}

#[test]
fn suspended() {
    let mut s = world();
    select(&mut s, "search");
    keys(&mut s, "\n");
    both("suspended", &s);
}

#[test]
fn paused_by_rollback() {
    let mut s = world();
    select(&mut s, "web");
    keys(&mut s, "\n");
    both("paused", &s);
}

#[test]
fn forbidden() {
    let mut s = world();
    update(
        &mut s,
        Msg::Connection {
            context: "prod".into(),
            state: ConnectionState::Forbidden {
                message: "deployments.apps is forbidden: User \"dev\" cannot list".into(),
            },
        },
    );
    select(&mut s, "payments");
    both("forbidden", &s);
}

#[test]
fn disconnected() {
    let mut s = world();
    update(
        &mut s,
        Msg::Connection {
            context: "kind-demo".into(),
            state: ConnectionState::Reconnecting { attempt: 3 },
        },
    );
    select(&mut s, "shop");
    both("disconnected", &s);
}

#[test]
fn status_error_and_invalid_manifests_shown_in_place() {
    let mut s = world();
    select(&mut s, "api");
    let effects = update(
        &mut s,
        Msg::AppChanged {
            app: AppId::native("api"),
        },
    );
    let Some(Effect::LoadStatus { generation, .. }) = effects.first().cloned() else {
        panic!("{effects:?}")
    };
    let mut st = app_status("api", gitops_tui::model::Health::Unknown, HEAD, vec![]);
    st.sync = gitops_tui::model::SyncStatus::Unknown;
    st.message = "apps/api/deploy.yaml:7: mapping values are not allowed in this context".into();
    update(
        &mut s,
        Msg::StatusLoaded {
            app: AppId::native("api"),
            generation,
            result: Ok(st),
        },
    );
    both("invalid_manifests", &s);
}

#[test]
fn confirm_sync_dialog() {
    let mut s = world();
    select(&mut s, "shop");
    keys(&mut s, "sp");
    both("confirm_sync", &s);
}

#[test]
fn confirm_sync_lists_what_it_would_adopt_first() {
    let mut s = world();
    select(&mut s, "shop");
    let i = s.app_index(&AppId::native("shop")).expect("shop");
    let status = s.apps[i].status.value.as_mut().expect("loaded");
    let r = status
        .resources
        .iter_mut()
        .find(|r| r.key.kind == "Service")
        .expect("a Service");
    r.takeover = Some(gitops_tui::model::Takeover::Adopt {
        managers: vec!["kubectl-client-side-apply (Update)".into()],
    });
    r.status = gitops_tui::model::ResourceStatus::OutOfSync;
    keys(&mut s, "s");
    let screen = render(&s, 120, 40);
    assert!(screen.contains("⇐ adopt"), "{screen}");
    assert!(screen.contains("1 to adopt"), "{screen}");
    both("confirm_sync_adopt", &s);
}

#[test]
fn confirm_sync_of_marked_apps_with_operation_running() {
    let mut s = world();
    select(&mut s, "shop");
    keys(&mut s, "sy");
    update(
        &mut s,
        Msg::OperationProgress {
            id: 1,
            message: "applying 1/2".into(),
        },
    );
    keys(&mut s, ":app api\n j j ");
    keys(&mut s, "s");
    both("confirm_sync_marked", &s);
}

#[test]
fn confirm_rollback_after_preview() {
    let mut s = world();
    select(&mut s, "shop");
    keys(&mut s, "\t\t\tjj");
    let sha = s
        .selected_commit()
        .map(|c| c.sha.clone())
        .unwrap_or_default();
    // Answer every preview asked for so far with the same preview.
    let mut preview = statuses()
        .into_iter()
        .find(|x| x.name == AppId::native("shop"))
        .expect("shop");
    preview.target_revision = Some(sha.clone());
    feed_previews(&mut s, &preview);
    keys(&mut s, "r");
    feed_previews(&mut s, &preview);
    both("confirm_rollback", &s);
}

fn feed_previews(s: &mut gitops_tui::app::AppState, preview: &gitops_tui::model::AppStatus) {
    for _ in 0..4 {
        let Some(p) = s.preview.current.clone() else {
            return;
        };
        if !p.loading() {
            return;
        }
        update(
            s,
            Msg::PreviewLoaded {
                app: p.app.clone(),
                sha: p.sha.clone(),
                generation: p.generation(),
                result: Ok(preview.clone()),
            },
        );
    }
}

#[test]
fn help_overlay() {
    let mut s = world();
    keys(&mut s, "?");
    both("help", &s);
}

#[test]
fn help_overlay_read_only() {
    let mut s = world().with_readonly(true);
    keys(&mut s, "?");
    insta::assert_snapshot!("help_readonly_160x48", render(&s, 160, 48));
}

#[test]
fn filter_and_toast_lines() {
    let mut s = world();
    keys(&mut s, "/sh");
    insta::assert_snapshot!("filter_80x24", render(&s, 80, 24));
    keys(&mut s, "\n:nope\n");
    insta::assert_snapshot!("toast_80x24", render(&s, 80, 24));
}

#[test]
fn yaml_of_a_live_object() {
    let mut s = world();
    select(&mut s, "shop");
    keys(&mut s, "\njy");
    insta::assert_snapshot!("yaml_160x48", render(&s, 160, 48));
}
