//! The mouse, sideways scrolling of long diff lines, and what resets or
//! reloads when the selection changes or an operation ends.

use super::*;
use crate::app::mouse::{Hit, MouseAction, Region};

fn mouse(s: &mut AppState, action: MouseAction, region: Region, row: Option<usize>) -> Vec<Effect> {
    update(
        s,
        Msg::Mouse {
            action,
            hit: Some(Hit { region, row }),
        },
    )
}

#[test]
fn a_click_focuses_the_pane_and_selects_the_row_under_it() {
    let mut s = loaded();
    let effects = mouse(
        &mut s,
        MouseAction::Click,
        Region::Pane(Focus::Apps),
        Some(2),
    );
    assert_eq!(selected(&s), "web");
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadCommits { app } if *app == id("web"))),
        "the new app loads what it shows: {effects:?}"
    );
    commits_for(&mut s, "web");
    mouse(
        &mut s,
        MouseAction::Click,
        Region::Pane(Focus::Commits),
        Some(1),
    );
    assert_eq!(s.focus, Focus::Commits);
    assert_eq!(s.selected_commit, 1);
    assert_eq!(s.diff.source, DiffSource::CommitVsLive, "the diff follows");
    // A click on the diff pane focuses it; Esc goes back where it came from.
    mouse(&mut s, MouseAction::Click, Region::Pane(Focus::Diff), None);
    assert_eq!(s.focus, Focus::Diff);
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.focus, Focus::Commits);
    // Outside every pane, or under a dialog, nothing happens.
    assert!(update(
        &mut s,
        Msg::Mouse {
            action: MouseAction::Click,
            hit: None
        }
    )
    .is_empty());
    ch(&mut s, '?');
    mouse(
        &mut s,
        MouseAction::Click,
        Region::Pane(Focus::Apps),
        Some(0),
    );
    assert_eq!(selected(&s), "web");
}

#[test]
fn the_wheel_scrolls_the_pane_under_the_pointer() {
    let mut s = on_shop();
    ch(&mut s, 'd');
    mouse(
        &mut s,
        MouseAction::ScrollDown,
        Region::Pane(Focus::Diff),
        None,
    );
    assert_eq!(s.focus, Focus::Diff);
    assert_eq!(s.diff.scroll, 3);
    mouse(
        &mut s,
        MouseAction::ScrollUp,
        Region::Pane(Focus::Diff),
        None,
    );
    assert_eq!(s.diff.scroll, 0);
    mouse(
        &mut s,
        MouseAction::ScrollDown,
        Region::Pane(Focus::Apps),
        None,
    );
    assert_eq!((s.focus, selected(&s).as_str()), (Focus::Apps, "web"));
}

#[test]
fn left_and_right_scroll_long_diff_lines_and_reset_with_wrap_or_a_new_app() {
    let mut s = on_shop();
    press(&mut s, KeyCode::Right);
    press(&mut s, KeyCode::Right);
    assert_eq!(s.diff.hscroll, 16);
    press(&mut s, KeyCode::Left);
    assert_eq!(s.diff.hscroll, 8);
    mouse(
        &mut s,
        MouseAction::ScrollRight,
        Region::Pane(Focus::Diff),
        None,
    );
    assert_eq!(s.diff.hscroll, 16);
    ch(&mut s, 'w');
    assert_eq!(s.diff.hscroll, 0, "wrapped lines need no sideways scroll");
    press(&mut s, KeyCode::Right);
    assert_eq!(s.diff.hscroll, 0);
    ch(&mut s, 'w');
    press(&mut s, KeyCode::Right);
    ch(&mut s, 'j');
    assert_eq!(selected(&s), "web");
    assert_eq!(s.diff.hscroll, 0, "a new app starts at the left");
}

#[test]
fn the_yaml_view_starts_at_the_top_for_a_new_app_and_a_new_resource() {
    let mut s = on_shop();
    ch(&mut s, 'y');
    assert_eq!(s.diff.source, DiffSource::LiveYaml);
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.focus, Focus::Diff);
    ch(&mut s, 'j');
    press(&mut s, KeyCode::Right);
    assert!(s.diff.scroll > 0 || diffdoc::current(&s).lines.len() <= 1);
    s.diff.scroll = 2;
    press(&mut s, KeyCode::Esc);
    ch(&mut s, 'j');
    assert_eq!((s.diff.scroll, s.diff.hscroll), (0, 0), "another resource");
    s.diff.scroll = 2;
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.focus, Focus::Apps);
    mouse(
        &mut s,
        MouseAction::Click,
        Region::Pane(Focus::Apps),
        Some(2),
    );
    assert_eq!(selected(&s), "web");
    assert_eq!(s.diff.source, DiffSource::LiveYaml);
    assert_eq!(s.diff.scroll, 0, "another app");
}

#[test]
fn after_a_rollback_the_preview_is_computed_again() {
    let mut s = loaded();
    for _ in 0..3 {
        press(&mut s, KeyCode::Tab);
    }
    assert_eq!(s.focus, Focus::Commits);
    ch(&mut s, 'j');
    let land = |s: &mut AppState, sync| {
        let generation = s
            .preview
            .current
            .as_ref()
            .map(|l| l.generation())
            .expect("a preview wanted");
        update(
            s,
            Msg::PreviewLoaded {
                app: id("api"),
                sha: OLD.into(),
                generation,
                result: Ok(status("api", sync)),
            },
        )
    };
    // The HEAD preview's answer frees the slot for OLD's.
    let head = s.preview.in_flight.expect("in flight");
    let next = update(
        &mut s,
        Msg::PreviewLoaded {
            app: id("api"),
            sha: HEAD.into(),
            generation: head,
            result: Ok(status("api", SyncStatus::Synced)),
        },
    );
    assert!(matches!(next.as_slice(), [Effect::LoadPreview { .. }]));
    land(&mut s, SyncStatus::OutOfSync);
    ch(&mut s, 'r');
    ch(&mut s, 'y');
    assert_eq!(s.operations.len(), 1);
    let effects = update(
        &mut s,
        Msg::OperationFinished {
            id: 1,
            result: Ok("rolled back".into()),
        },
    );
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadPreview { sha, .. } if sha.as_str() == OLD)),
        "the preview shown is asked for again: {effects:?}"
    );
    let doc = diffdoc::current(&s);
    assert!(
        doc.lines.iter().any(|l| l.text.contains("Loading preview")),
        "the old preview is not shown as current: {doc:?}"
    );
}

#[test]
fn in_the_log_pane_the_wheel_scrolls_the_lines_and_the_chooser_takes_clicks() {
    let mut s = on_shop();
    update(
        &mut s,
        Msg::OwnedObjects {
            app: id("shop"),
            objects: vec![
                serde_json::json!({"kind": "ReplicaSet", "metadata": {"name": "rs", "namespace": "shop",
                    "uid": "rs", "ownerReferences": [{"uid": "Deployment/web"}]}}).into(),
                serde_json::json!({"kind": "Pod", "metadata": {"name": "p1", "namespace": "shop", "uid": "p1",
                    "ownerReferences": [{"uid": "rs"}]}, "spec": {"containers": [{"name": "a"}, {"name": "b"}]}}).into(),
            ],
        },
    );
    press(&mut s, KeyCode::Enter);
    ch(&mut s, 'l');
    mouse(&mut s, MouseAction::ScrollDown, Region::Chooser, None);
    assert_eq!(s.logs.chooser.as_ref().map(|c| c.selected), Some(1));
    let effects = mouse(&mut s, MouseAction::Click, Region::Chooser, Some(0));
    assert!(
        matches!(effects.as_slice(), [Effect::OpenLogs { target, .. }] if target.container == "a")
    );
    let lines = (0..50)
        .map(|i| crate::app::logs::LogLine {
            time: None,
            text: format!("{i}"),
            note: false,
        })
        .collect();
    update(&mut s, Msg::LogLines { stream: 1, lines });
    mouse(&mut s, MouseAction::ScrollUp, Region::Logs, None);
    assert_eq!(s.logs.view.as_ref().and_then(|v| v.paused_at), Some(27));
    mouse(&mut s, MouseAction::ScrollDown, Region::Logs, None);
    assert_eq!(s.logs.view.as_ref().and_then(|v| v.paused_at), None);
}
