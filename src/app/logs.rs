//! The log pane's model: which container it reads, the last
//! [`MAX_LOG_LINES`] lines (older ones dropped, and counted so the pane can
//! say so), whether it follows the end or is paused where the user
//! scrolled to, wrap, timestamps, the `/` search, and what the stream is
//! doing (connecting, reconnecting, ended). Also the small chooser that
//! picks a pod and container when `l` is pressed on a workload.
//!
//! The stream itself runs in the runtime (`Effect::OpenLogs`); lines come
//! back in batches as `Msg::LogLines`, tagged with the stream they belong
//! to, so lines of a closed or replaced stream are dropped.

use super::state::{AppState, ToastLevel};
use super::tree::NodeRef;
use super::Effect;
use crate::model::AppId;
use crate::model::LiveObject;
use serde_json::Value;
use std::collections::VecDeque;
use std::time::SystemTime;

/// The most lines the pane keeps; the oldest go first.
pub const MAX_LOG_LINES: usize = 10_000;

/// A line longer than this is cut (the rest is counted, not kept).
pub const MAX_LINE_CHARS: usize = 16_384;

/// One container's log, current or previous run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTarget {
    pub app: AppId,
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub previous: bool,
}

impl LogTarget {
    pub fn title(&self) -> String {
        let run = if self.previous { " (previous run)" } else { "" };
        format!(
            "Logs: {}/{} · {}{run}",
            self.namespace, self.pod, self.container
        )
    }
}

/// A line as the runtime hands it over: its time (from `timestamps=true`)
/// and its text, not yet cleaned up for the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub time: Option<SystemTime>,
    pub text: String,
    /// Ours, not the container's (a reconnect marker).
    pub note: bool,
}

/// What the stream did, from the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEvent {
    Connected,
    Reconnecting { attempt: u32, reason: String },
    Ended { reason: String },
    Failed { message: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamState {
    Connecting,
    Streaming,
    Reconnecting { attempt: u32, reason: String },
    Ended { reason: String },
    Failed { message: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogView {
    pub target: LogTarget,
    pub stream: u64,
    pub lines: VecDeque<LogLine>,
    /// Lines dropped from the front to stay within [`MAX_LOG_LINES`].
    pub dropped: u64,
    /// None: following the end. Some(i): paused, line `i` at the top.
    pub paused_at: Option<usize>,
    /// Lines that arrived while paused.
    pub unseen: usize,
    pub wrap: bool,
    pub timestamps: bool,
    /// Columns scrolled to the right (without wrap).
    pub hscroll: usize,
    /// The committed `/` query.
    pub search: Option<String>,
    /// The query being typed after `/`.
    pub typing: Option<String>,
    /// Index of the line of the current match.
    pub current: Option<usize>,
    pub state: StreamState,
}

/// One pod and container the chooser offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub namespace: String,
    pub pod: String,
    pub container: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chooser {
    pub app: AppId,
    /// What `l` was pressed on (`Deployment shop/web`).
    pub object: String,
    pub choices: Vec<Choice>,
    pub selected: usize,
}

#[derive(Debug, Clone, Default)]
pub struct LogsState {
    pub chooser: Option<Chooser>,
    pub view: Option<LogView>,
    pub(crate) next_stream: u64,
}

const WORKLOADS: [&str; 5] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
];

fn containers(pod: &Value) -> Vec<String> {
    ["containers", "initContainers"]
        .iter()
        .filter_map(|f| pod.pointer(&format!("/spec/{f}")).and_then(Value::as_array))
        .flatten()
        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
        .collect()
}

fn str_at<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or_default()
}

fn choices_of(pod: &Value) -> Vec<Choice> {
    containers(pod)
        .into_iter()
        .map(|container| Choice {
            namespace: str_at(pod, "/metadata/namespace").to_string(),
            pod: str_at(pod, "/metadata/name").to_string(),
            container,
        })
        .collect()
}

impl AppState {
    /// The live object of tree row `i` of the selected app.
    fn tree_object(&self, i: usize) -> Option<&LiveObject> {
        let row = self.selected_row()?;
        match row.tree.get(i)?.node {
            NodeRef::Resource(r) => row.status.value.as_ref()?.resources.get(r)?.live.as_ref(),
            NodeRef::Owned(o) => row.owned.get(o).map(|o| &o.live),
        }
    }

    /// The Pods under tree row `i` (itself when it is one), in tree order.
    fn pods_under(&self, i: usize) -> Vec<Value> {
        let Some(row) = self.selected_row() else {
            return vec![];
        };
        let Some(depth) = row.tree.get(i).map(|t| t.depth) else {
            return vec![];
        };
        let below = row.tree[i + 1..]
            .iter()
            .enumerate()
            .take_while(|(_, t)| t.depth > depth)
            .map(|(k, _)| i + 1 + k);
        std::iter::once(i)
            .chain(below)
            .filter_map(|k| self.tree_object(k))
            .filter(|o| o.key().kind == "Pod")
            .map(LiveObject::value)
            .collect()
    }
}

/// `l`: logs of the selected Pod or workload (its pods; the chooser when
/// there is more than one container to read). From the apps pane: the
/// app's first workload.
pub(super) fn request(state: &mut AppState) -> Vec<Effect> {
    let Some(app) = state.selected_row().map(|r| r.id.clone()) else {
        state.toast(ToastLevel::Info, "no app selected");
        return vec![];
    };
    let row_index = if state.focus == super::state::Focus::Apps {
        let first = (0..state.selected_row().map_or(0, |r| r.tree.len())).find(|i| {
            state.tree_object(*i).is_some_and(|o| {
                let kind = o.key().kind.as_str();
                WORKLOADS.contains(&kind) || kind == "Pod"
            })
        });
        match first {
            Some(i) => i,
            None => {
                state.toast(ToastLevel::Info, format!("{app} has no pods or workloads"));
                return vec![];
            }
        }
    } else {
        state.selected_resource
    };
    let Some(obj) = state.tree_object(row_index) else {
        state.toast(
            ToastLevel::Info,
            "select a Pod or a workload in the Resources pane (it is not in the cluster)",
        );
        return vec![];
    };
    let kind = obj.key().kind.clone();
    let kind = kind.as_str();
    let object = obj.name();
    if kind != "Pod" && !WORKLOADS.contains(&kind) {
        state.toast(
            ToastLevel::Info,
            format!("{object} has no logs: l reads Pods and Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs"),
        );
        return vec![];
    }
    let choices: Vec<Choice> = state
        .pods_under(row_index)
        .iter()
        .flat_map(choices_of)
        .collect();
    match choices.len() {
        0 => {
            state.toast(ToastLevel::Info, format!("{object} has no pods yet"));
            vec![]
        }
        1 => {
            let c = choices.into_iter().next();
            c.map(|c| open(state, app, c, false)).unwrap_or_default()
        }
        _ => {
            state.logs.chooser = Some(Chooser {
                app,
                object,
                choices,
                selected: 0,
            });
            state.touch();
            vec![]
        }
    }
}

/// Start reading `choice`; a stream already open is closed first.
pub(super) fn open(
    state: &mut AppState,
    app: AppId,
    choice: Choice,
    previous: bool,
) -> Vec<Effect> {
    let mut effects = close_stream(state);
    state.logs.next_stream += 1;
    let stream = state.logs.next_stream;
    let (wrap, timestamps) = state
        .logs
        .view
        .as_ref()
        .map_or((false, false), |v| (v.wrap, v.timestamps));
    let target = LogTarget {
        app,
        namespace: choice.namespace,
        pod: choice.pod,
        container: choice.container,
        previous,
    };
    state.logs.chooser = None;
    state.logs.view = Some(LogView {
        target: target.clone(),
        stream,
        lines: VecDeque::new(),
        dropped: 0,
        paused_at: None,
        unseen: 0,
        wrap,
        timestamps,
        hscroll: 0,
        search: None,
        typing: None,
        current: None,
        state: StreamState::Connecting,
    });
    state.touch();
    effects.push(Effect::OpenLogs {
        stream,
        target,
        tail: MAX_LOG_LINES,
    });
    effects
}

fn close_stream(state: &mut AppState) -> Vec<Effect> {
    state
        .logs
        .view
        .as_ref()
        .map(|v| Effect::CloseLogs { stream: v.stream })
        .into_iter()
        .collect()
}

/// Esc in the log pane: back to the panes, the stream stopped.
pub(super) fn close(state: &mut AppState) -> Vec<Effect> {
    let effects = close_stream(state);
    state.logs.view = None;
    state.touch();
    effects
}

/// `p`: the other run of the same container.
pub(super) fn toggle_previous(state: &mut AppState) -> Vec<Effect> {
    let Some(v) = &state.logs.view else {
        return vec![];
    };
    let t = v.target.clone();
    let choice = Choice {
        namespace: t.namespace,
        pod: t.pod,
        container: t.container,
    };
    open(state, t.app, choice, !t.previous)
}

/// Make a line safe to draw: tabs to spaces, terminal escape sequences
/// removed, other control characters shown as `�`, very long lines cut.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_LINE_CHARS));
    let mut chars = text.chars().peekable();
    let mut width = 0usize;
    let mut cut = 0usize;
    while let Some(c) = chars.next() {
        if width >= MAX_LINE_CHARS {
            cut += 1;
            continue;
        }
        match c {
            '\t' => {
                let n = 8 - width % 8;
                out.extend(std::iter::repeat_n(' ', n));
                width += n;
            }
            '\u{1b}' => match chars.peek() {
                // CSI: parameters and intermediates up to a final byte.
                Some('[') => {
                    chars.next();
                    for n in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&n) {
                            break;
                        }
                    }
                }
                // OSC: up to BEL or ST.
                Some(']') => {
                    chars.next();
                    while let Some(n) = chars.next() {
                        if n == '\u{7}' {
                            break;
                        }
                        if n == '\u{1b}' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                _ => {
                    chars.next();
                }
            },
            '\r' if chars.peek().is_none() => {}
            c if c.is_control() => {
                out.push('\u{fffd}');
                width += 1;
            }
            c => {
                out.push(c);
                width += 1;
            }
        }
    }
    if cut > 0 {
        out.push_str(&format!(" … ({cut} more characters)"));
    }
    out
}

/// A batch of lines from the runtime.
pub(super) fn lines_arrived(state: &mut AppState, stream: u64, lines: Vec<LogLine>) {
    let Some(v) = state.logs.view.as_mut().filter(|v| v.stream == stream) else {
        return;
    };
    let n = lines.len();
    v.lines.extend(lines.into_iter().map(|l| LogLine {
        text: clean(&l.text),
        ..l
    }));
    let over = v.lines.len().saturating_sub(MAX_LOG_LINES);
    v.lines.drain(..over);
    v.dropped += over as u64;
    if let Some(at) = v.paused_at.as_mut() {
        // Keep the same lines in view while older ones are dropped.
        *at = at.saturating_sub(over);
        v.unseen += n;
    }
    v.current = v.current.and_then(|c| c.checked_sub(over));
    if v.state == StreamState::Connecting {
        v.state = StreamState::Streaming;
    }
    state.touch();
}

/// The stream connected, is reconnecting, or ended.
pub(super) fn stream_event(state: &mut AppState, stream: u64, event: LogEvent) {
    let Some(v) = state.logs.view.as_mut().filter(|v| v.stream == stream) else {
        return;
    };
    let was_down = matches!(v.state, StreamState::Reconnecting { .. });
    v.state = match event {
        LogEvent::Connected => {
            if was_down {
                v.lines.push_back(LogLine {
                    time: None,
                    text: "── reconnected ──".into(),
                    note: true,
                });
            }
            StreamState::Streaming
        }
        LogEvent::Reconnecting { attempt, reason } => StreamState::Reconnecting { attempt, reason },
        LogEvent::Ended { reason } => StreamState::Ended { reason },
        LogEvent::Failed { message } => StreamState::Failed { message },
    };
    state.touch();
}
