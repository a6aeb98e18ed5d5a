//! The log pane and its chooser: opening from a workload or a pod, the
//! bounded buffer, pause and resume, search, previous, stream events.

use super::*;
use crate::app::logs::{clean, LogEvent, LogLine, LogTarget, StreamState, MAX_LOG_LINES};
use serde_json::json;

fn pod(name: &str, owner: &str, containers: &[&str]) -> serde_json::Value {
    let cs: Vec<_> = containers.iter().map(|c| json!({"name": c})).collect();
    json!({"kind": "Pod", "metadata": {"name": name, "namespace": "shop", "uid": name,
        "ownerReferences": [{"uid": owner}]}, "spec": {"containers": cs}})
}

/// shop selected, its Deployment owning a ReplicaSet with two pods (one
/// with a sidecar), the resources pane focused.
fn with_pods() -> AppState {
    let mut s = on_shop();
    update(
        &mut s,
        Msg::OwnedObjects {
            app: id("shop"),
            objects: vec![
                json!({"kind": "ReplicaSet", "metadata": {"name": "web-1", "namespace": "shop",
                    "uid": "rs", "ownerReferences": [{"uid": "Deployment/web"}]}})
                .into(),
                pod("web-1-a", "rs", &["web"]).into(),
                pod("web-1-b", "rs", &["web", "proxy"]).into(),
            ],
        },
    );
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.focus, Focus::Resources);
    s
}

fn target(pod: &str, container: &str, previous: bool) -> LogTarget {
    LogTarget {
        app: id("shop"),
        namespace: "shop".into(),
        pod: pod.into(),
        container: container.into(),
        previous,
    }
}

/// A pane open on web-1-a (stream 1).
fn open_pane() -> AppState {
    let mut s = with_pods();
    ch(&mut s, 'j');
    ch(&mut s, 'j');
    assert_eq!(
        ch(&mut s, 'l'),
        vec![Effect::OpenLogs {
            stream: 1,
            target: target("web-1-a", "web", false),
            tail: MAX_LOG_LINES,
        }]
    );
    s
}

fn lines(from: usize, n: usize) -> Vec<LogLine> {
    (from..from + n)
        .map(|i| LogLine {
            time: Some(t0() + Duration::from_millis(i as u64)),
            text: format!("line {i}"),
            note: false,
        })
        .collect()
}

fn feed(s: &mut AppState, stream: u64, from: usize, n: usize) {
    update(
        s,
        Msg::LogLines {
            stream,
            lines: lines(from, n),
        },
    );
}

fn view(s: &AppState) -> &crate::app::logs::LogView {
    s.logs.view.as_ref().expect("the log pane is open")
}

#[test]
fn l_on_a_deployment_offers_its_pods_and_containers_then_reads_the_chosen_one() {
    let mut s = with_pods();
    assert!(ch(&mut s, 'l').is_empty());
    let c = s.logs.chooser.as_ref().expect("a chooser");
    let offered: Vec<(&str, &str)> = c
        .choices
        .iter()
        .map(|c| (c.pod.as_str(), c.container.as_str()))
        .collect();
    assert_eq!(
        offered,
        vec![("web-1-a", "web"), ("web-1-b", "web"), ("web-1-b", "proxy")]
    );
    assert_eq!(c.object, "Deployment web");
    ch(&mut s, 'j');
    ch(&mut s, 'j');
    let effects = press(&mut s, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::OpenLogs {
            stream: 1,
            target: target("web-1-b", "proxy", false),
            tail: MAX_LOG_LINES,
        }]
    );
    assert!(s.logs.chooser.is_none());
    assert_eq!(view(&s).state, StreamState::Connecting);
    // Esc closes the pane and its stream.
    assert_eq!(
        press(&mut s, KeyCode::Esc),
        vec![Effect::CloseLogs { stream: 1 }]
    );
    assert!(s.logs.view.is_none());
}

#[test]
fn l_on_a_single_container_pod_opens_at_once_and_elsewhere_says_why_not() {
    open_pane();
    let mut s = with_pods();
    // The Service row: no logs.
    for _ in 0..5 {
        ch(&mut s, 'j');
    }
    let r = s.selected_tree_row().map(|t| t.node);
    assert!(r.is_some());
    assert!(ch(&mut s, 'l').is_empty());
    assert!(s.logs.view.is_none() && s.logs.chooser.is_none());
    assert!(
        s.toasts
            .last()
            .is_some_and(|t| t.text.contains("has no logs")),
        "{:?}",
        s.toasts
    );
    // Esc in the chooser closes it without a stream.
    let mut s = with_pods();
    ch(&mut s, 'l');
    assert!(press(&mut s, KeyCode::Esc).is_empty());
    assert!(s.logs.chooser.is_none() && s.logs.view.is_none());
}

#[test]
fn the_buffer_keeps_the_last_10000_lines_and_counts_the_dropped() {
    let mut s = open_pane();
    for k in 0..21 {
        feed(&mut s, 1, k * 500, 500);
    }
    let v = view(&s);
    assert_eq!(v.lines.len(), MAX_LOG_LINES);
    assert_eq!(v.dropped, 500);
    assert_eq!(v.lines.front().map(|l| l.text.as_str()), Some("line 500"));
    assert_eq!(v.lines.back().map(|l| l.text.as_str()), Some("line 10499"));
    assert_eq!(v.state, StreamState::Streaming);
    // Lines of another stream are not this pane's.
    feed(&mut s, 7, 0, 5);
    assert_eq!(view(&s).lines.len(), MAX_LOG_LINES);
}

#[test]
fn scrolling_up_pauses_new_lines_wait_and_g_or_the_bottom_resumes() {
    let mut s = open_pane();
    feed(&mut s, 1, 0, 100);
    // 80×24: 20 rows of text; following shows lines 80..100.
    assert_eq!(crate::app::logkeys::top(view(&s), 20), 80);
    ch(&mut s, 'k');
    assert_eq!(view(&s).paused_at, Some(79));
    feed(&mut s, 1, 100, 10);
    let v = view(&s);
    assert_eq!(
        (v.paused_at, v.unseen),
        (Some(79), 10),
        "the view stays put"
    );
    ch(&mut s, 'G');
    let v = view(&s);
    assert_eq!((v.paused_at, v.unseen), (None, 0));
    // Scrolling back down to the end resumes too.
    ch(&mut s, 'k');
    ch(&mut s, 'k');
    ch(&mut s, 'j');
    assert!(view(&s).paused_at.is_some());
    ch(&mut s, 'j');
    assert_eq!(view(&s).paused_at, None);
    // Paused near the top while old lines are dropped: the same lines stay in view.
    feed(&mut s, 1, 110, MAX_LOG_LINES - 110);
    ch(&mut s, 'g');
    press(&mut s, KeyCode::PageDown);
    let at = view(&s).paused_at.expect("paused");
    let shown = view(&s).lines[at].text.clone();
    feed(&mut s, 1, MAX_LOG_LINES, 7);
    let v = view(&s);
    assert_eq!(v.dropped, 7);
    assert_eq!(v.lines[v.paused_at.expect("paused")].text, shown);
}

#[test]
fn search_finds_lines_n_and_shift_n_move_esc_clears_then_closes() {
    let mut s = open_pane();
    let mut batch = lines(0, 60);
    for i in [5, 30, 50] {
        batch[i].text = format!("ERROR at {i}");
    }
    update(
        &mut s,
        Msg::LogLines {
            stream: 1,
            lines: batch,
        },
    );
    ch(&mut s, '/');
    type_text(&mut s, "error");
    assert_eq!(view(&s).typing.as_deref(), Some("error"));
    // While typing, keys are text: 'p' does not switch runs.
    assert!(ch(&mut s, 'p').is_empty());
    press(&mut s, KeyCode::Backspace);
    press(&mut s, KeyCode::Enter);
    let v = view(&s);
    assert_eq!(v.search.as_deref(), Some("error"));
    // From what is shown (lines 40..60): the next match at or below it.
    assert_eq!(v.current, Some(50));
    ch(&mut s, 'n');
    assert_eq!(view(&s).current, Some(5), "n wraps around");
    assert!(
        view(&s).paused_at.is_some(),
        "a match above the view pauses"
    );
    ch(&mut s, 'n');
    assert_eq!(view(&s).current, Some(30));
    ch(&mut s, 'N');
    assert_eq!(view(&s).current, Some(5));
    assert!(press(&mut s, KeyCode::Esc).is_empty());
    assert_eq!(view(&s).search, None);
    assert_eq!(
        press(&mut s, KeyCode::Esc),
        vec![Effect::CloseLogs { stream: 1 }]
    );
}

#[test]
fn p_switches_to_the_previous_run_in_a_new_stream_and_back() {
    let mut s = open_pane();
    feed(&mut s, 1, 0, 3);
    ch(&mut s, 't');
    assert_eq!(
        ch(&mut s, 'p'),
        vec![
            Effect::CloseLogs { stream: 1 },
            Effect::OpenLogs {
                stream: 2,
                target: target("web-1-a", "web", true),
                tail: MAX_LOG_LINES,
            }
        ]
    );
    let v = view(&s);
    assert!(
        v.lines.is_empty() && v.timestamps,
        "new lines, same toggles"
    );
    // A late batch of the old stream is dropped.
    feed(&mut s, 1, 3, 2);
    assert!(view(&s).lines.is_empty());
    update(
        &mut s,
        Msg::LogStream {
            stream: 2,
            event: LogEvent::Ended {
                reason: "end of the previous run's log".into(),
            },
        },
    );
    assert!(matches!(view(&s).state, StreamState::Ended { .. }));
    assert!(matches!(
        ch(&mut s, 'p').as_slice(),
        [Effect::CloseLogs { stream: 2 }, Effect::OpenLogs { stream: 3, target, .. }] if !target.previous
    ));
}

#[test]
fn a_reconnect_is_marked_in_the_lines_and_w_t_toggle() {
    let mut s = open_pane();
    feed(&mut s, 1, 0, 2);
    let event = |s: &mut AppState, event| update(s, Msg::LogStream { stream: 1, event });
    event(
        &mut s,
        LogEvent::Reconnecting {
            attempt: 1,
            reason: "the stream closed".into(),
        },
    );
    assert!(matches!(
        view(&s).state,
        StreamState::Reconnecting { attempt: 1, .. }
    ));
    event(&mut s, LogEvent::Connected);
    let v = view(&s);
    assert_eq!(v.state, StreamState::Streaming);
    assert!(v.lines.back().is_some_and(|l| l.note));
    ch(&mut s, 'w');
    ch(&mut s, 't');
    let v = view(&s);
    assert!(v.wrap && v.timestamps);
    // The panes' keys do not leak through: s does not open a sync dialog.
    ch(&mut s, 's');
    assert_eq!(s.mode, Mode::Normal);
}

#[test]
fn lines_are_made_safe_to_draw() {
    assert_eq!(clean("a\tb"), "a       b");
    assert_eq!(clean("\u{1b}[31mred\u{1b}[0m plain"), "red plain");
    assert_eq!(clean("title\u{1b}]0;x\u{7}done"), "titledone");
    assert_eq!(clean("bell\u{7}"), "bell\u{fffd}");
    assert_eq!(clean("crlf\r"), "crlf");
    let long = "x".repeat(crate::app::logs::MAX_LINE_CHARS + 5);
    assert!(clean(&long).ends_with("… (5 more characters)"));
}
