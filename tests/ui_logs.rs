//! Snapshots of the log pane and its chooser (following, paused with lines
//! dropped, searching, reconnecting, ended) and of a diff scrolled
//! sideways, from the hand-made world with a fixed clock.

mod ui_common;

use gitops_tui::app::logs::{LogEvent, LogLine};
use gitops_tui::app::{update, AppState, Effect, Msg};
use gitops_tui::model::AppId;
use serde_json::json;
use std::time::Duration;
use ui_common::*;

/// shop's Deployment with two pods, the second with a sidecar.
fn with_pods() -> AppState {
    let mut s = world();
    select(&mut s, "shop");
    let pod = |name: &str, containers: &[&str]| {
        let cs: Vec<_> = containers.iter().map(|c| json!({"name": c})).collect();
        json!({"kind": "Pod", "metadata": {"name": name, "namespace": "shop", "uid": name,
            "ownerReferences": [{"uid": "shop-rs"}]}, "spec": {"containers": cs},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "shop", "ready": true, "restartCount": 0, "state": {"running": {}}}]}})
    };
    update(
        &mut s,
        Msg::OwnedObjects {
            app: AppId::native("shop"),
            objects: vec![
                json!({"kind": "ReplicaSet", "metadata": {"name": "shop-7d9f8c6b5", "namespace": "shop",
                    "uid": "shop-rs", "ownerReferences": [{"uid": "shop-Deployment-shop"}]}})
                .into(),
                pod("shop-7d9f8c6b5-x2k4q", &["shop"]).into(),
                pod("shop-7d9f8c6b5-9bz7m", &["shop", "envoy"]).into(),
            ],
        },
    );
    keys(&mut s, "\n");
    s
}

fn lines(from: usize, n: usize) -> Vec<LogLine> {
    (from..from + n)
        .map(|i| LogLine {
            time: Some(now() + Duration::from_millis(250 * i as u64)),
            text: if i % 7 == 3 {
                format!("10.244.0.{i} \"GET /api/items HTTP/1.1\" 500 error: upstream timed out after 30s while reading the response header from the catalog service")
            } else {
                format!("10.244.0.{i} \"GET /healthz HTTP/1.1\" 200 {} {}ms", 100 + i, i % 40)
            },
            note: false,
        })
        .collect()
}

/// The pane open on the first pod, `n` lines in.
fn open(n: usize) -> AppState {
    let mut s = with_pods();
    keys(&mut s, "l\n");
    let stream = s.logs.view.as_ref().map(|v| v.stream).expect("open");
    update(
        &mut s,
        Msg::LogStream {
            stream,
            event: LogEvent::Connected,
        },
    );
    update(
        &mut s,
        Msg::LogLines {
            stream,
            lines: lines(0, n),
        },
    );
    s
}

fn event(s: &mut AppState, event: LogEvent) {
    let stream = s.logs.view.as_ref().map(|v| v.stream).expect("open");
    update(s, Msg::LogStream { stream, event });
}

#[test]
fn chooser_over_the_panes() {
    let mut s = with_pods();
    keys(&mut s, "lj");
    insta::assert_snapshot!("logs_chooser_160x48", render(&s, 160, 48));
}

#[test]
fn following_with_timestamps() {
    let mut s = open(40);
    keys(&mut s, "t");
    insta::assert_snapshot!("logs_following_timestamps_80x24", render(&s, 80, 24));
    insta::assert_snapshot!("logs_following_timestamps_160x48", render(&s, 160, 48));
}

#[test]
fn paused_with_dropped_lines_and_a_search() {
    let mut s = open(60);
    keys(&mut s, "kkk/error\n");
    let stream = s.logs.view.as_ref().map(|v| v.stream).expect("open");
    update(
        &mut s,
        Msg::LogLines {
            stream,
            lines: lines(60, gitops_tui::app::logs::MAX_LOG_LINES),
        },
    );
    insta::assert_snapshot!("logs_paused_search_120x30", render(&s, 120, 30));
}

#[test]
fn wrapped_and_reconnecting() {
    let mut s = open(30);
    keys(&mut s, "w");
    event(
        &mut s,
        LogEvent::Reconnecting {
            attempt: 2,
            reason: "container shop: CrashLoopBackOff".into(),
        },
    );
    insta::assert_snapshot!("logs_wrapped_reconnecting_80x24", render(&s, 80, 24));
}

#[test]
fn a_previous_run_that_is_not_there() {
    let mut s = open(0);
    let effects = {
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        update(
            &mut s,
            Msg::Key {
                key: KeyEvent::new(KeyCode::Char('p'), KeyModifiers::NONE),
            },
        )
    };
    assert!(matches!(effects.last(), Some(Effect::OpenLogs { target, .. }) if target.previous));
    event(
        &mut s,
        LogEvent::Failed {
            message:
                "previous terminated container \"shop\" in pod \"shop-7d9f8c6b5-9bz7m\" not found"
                    .into(),
        },
    );
    insta::assert_snapshot!("logs_previous_missing_80x24", render(&s, 80, 24));
}

#[test]
fn the_stream_ended() {
    let mut s = open(5);
    event(
        &mut s,
        LogEvent::Ended {
            reason: "pod shop-7d9f8c6b5-9bz7m was deleted".into(),
        },
    );
    insta::assert_snapshot!("logs_ended_80x24", render(&s, 80, 24));
}

#[test]
fn a_diff_scrolled_sideways() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut s = world();
    select(&mut s, "shop");
    keys(&mut s, "\n");
    for _ in 0..2 {
        update(
            &mut s,
            Msg::Key {
                key: KeyEvent::new(KeyCode::Right, KeyModifiers::NONE),
            },
        );
    }
    insta::assert_snapshot!(
        "diff_hscrolled_60x12",
        render_pane(&s, gitops_tui::ui::Pane::Diff, 60, 12)
    );
}
