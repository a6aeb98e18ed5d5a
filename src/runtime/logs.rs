//! The log pane's stream: one task per open pane, reading the container's
//! log through the engine and sending lines back in batches (whatever
//! arrived together, at most [`BATCH`] a message), so a chatty container
//! costs one redraw per batch, not per line, and the UI never waits on it.
//!
//! Lines are always read with timestamps (the pane shows or hides them).
//! When a followed stream closes while the container still runs (the API
//! server or a proxy cut it), it reconnects from a little before the last
//! line's time and skips what it already has. A container waiting to run
//! again (CrashLoopBackOff) is waited for; a deleted pod or a terminated
//! container ends the stream, and the pane says why.

use crate::app::logs::{LogEvent, LogLine, LogTarget};
use crate::app::Msg;
use crate::cluster::logs::{split_timestamp, LogRequest};
use crate::engine::Engine;
use futures::StreamExt;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc::UnboundedSender;

/// At most this many lines a message.
const BATCH: usize = 500;
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Reconnecting asks for this much before the last line's time, so a clock
/// apart from the server's does not lose lines; the overlap is skipped.
const OVERLAP_SECS: u64 = 5;

/// Where the reading got to: the last line's time and how many lines had
/// exactly that time (so a reconnect can skip them and no more).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Seen {
    last: Option<SystemTime>,
    at_last: usize,
}

impl Seen {
    /// Whether a line with `time` is new; records it when it is.
    fn admit(&mut self, time: Option<SystemTime>, skip_at_last: &mut usize) -> bool {
        let (Some(t), Some(last)) = (time, self.last) else {
            if time.is_some() {
                self.last = time;
                self.at_last = 1;
            }
            return true;
        };
        if t < last {
            return false;
        }
        if t == last {
            if *skip_at_last > 0 {
                *skip_at_last -= 1;
                return false;
            }
            self.at_last += 1;
            return true;
        }
        self.last = Some(t);
        self.at_last = 1;
        true
    }
}

/// What became of the container when its stream closed.
#[derive(Debug, PartialEq, Eq)]
enum After {
    Running,
    Waiting(String),
    Gone(String),
}

fn container_after(pod: Option<&Value>, target: &LogTarget) -> After {
    let Some(pod) = pod else {
        return After::Gone(format!("pod {} was deleted", target.pod));
    };
    let status = ["containerStatuses", "initContainerStatuses"]
        .iter()
        .filter_map(|f| {
            pod.pointer(&format!("/status/{f}"))
                .and_then(Value::as_array)
        })
        .flatten()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(target.container.as_str()));
    let Some(state) = status.and_then(|s| s.get("state")) else {
        return After::Waiting("no status yet".into());
    };
    if state.get("running").is_some() {
        return After::Running;
    }
    if let Some(t) = state.get("terminated") {
        let code = t.get("exitCode").and_then(Value::as_i64).unwrap_or(0);
        let reason = t.get("reason").and_then(Value::as_str).unwrap_or("");
        let policy = pod
            .pointer("/spec/restartPolicy")
            .and_then(Value::as_str)
            .unwrap_or("Always");
        if policy == "Always" {
            return After::Waiting(format!("terminated ({reason}, exit code {code})"));
        }
        return After::Gone(format!(
            "container {} terminated: {reason} (exit code {code})",
            target.container
        ));
    }
    let reason = state
        .pointer("/waiting/reason")
        .and_then(Value::as_str)
        .unwrap_or("waiting");
    After::Waiting(reason.to_string())
}

/// Read `target` until the task is aborted or the stream has ended.
pub async fn run(
    engine: Arc<Engine>,
    tx: UnboundedSender<Msg>,
    stream: u64,
    target: LogTarget,
    tail: usize,
) {
    let send = |event: LogEvent| tx.send(Msg::LogStream { stream, event }).is_ok();
    let follow = !target.previous;
    let mut seen = Seen::default();
    let mut attempt: u32 = 0;
    loop {
        let since_seconds = seen.last.map(|t| {
            let ago = SystemTime::now().duration_since(t).unwrap_or_default();
            i64::try_from(ago.as_secs() + OVERLAP_SECS).unwrap_or(i64::MAX)
        });
        let req = LogRequest {
            namespace: target.namespace.clone(),
            pod: target.pod.clone(),
            container: Some(target.container.clone()),
            follow,
            previous: target.previous,
            tail_lines: since_seconds
                .is_none()
                .then(|| i64::try_from(tail).unwrap_or(i64::MAX)),
            since_seconds,
            timestamps: true,
        };
        let opened = engine.log_lines(&target.app, &req).await;
        let mut lines = match opened {
            Ok(l) => {
                attempt = 0;
                if !send(LogEvent::Connected) {
                    return;
                }
                l
            }
            Err(e) if !follow => {
                send(LogEvent::Failed {
                    message: e.to_string(),
                });
                return;
            }
            Err(e) => {
                let pod = engine
                    .pod(&target.app, &target.namespace, &target.pod)
                    .await;
                if let Ok(None) = pod {
                    send(LogEvent::Ended {
                        reason: format!("pod {} was deleted", target.pod),
                    });
                    return;
                }
                attempt += 1;
                if !send(LogEvent::Reconnecting {
                    attempt,
                    reason: e.to_string(),
                }) {
                    return;
                }
                tokio::time::sleep(backoff(attempt)).await;
                continue;
            }
        };
        // Lines at the last time seen before a reconnect are already shown.
        let mut skip = if seen.last.is_some() { seen.at_last } else { 0 };
        let mut batches = (&mut lines).ready_chunks(BATCH);
        let mut failed = None;
        while let Some(batch) = batches.next().await {
            let mut out = Vec::with_capacity(batch.len());
            for line in batch {
                match line {
                    Ok(raw) => {
                        let (time, text) = split_timestamp(&raw);
                        if seen.admit(time, &mut skip) {
                            out.push(LogLine {
                                time,
                                text: String::from_utf8_lossy(text).into_owned(),
                                note: false,
                            });
                        }
                    }
                    Err(e) => failed = Some(e.to_string()),
                }
            }
            if !out.is_empty() && tx.send(Msg::LogLines { stream, lines: out }).is_err() {
                return;
            }
            if failed.is_some() {
                break;
            }
        }
        if !follow {
            send(LogEvent::Ended {
                reason: "end of the previous run's log".into(),
            });
            return;
        }
        let pod = engine
            .pod(&target.app, &target.namespace, &target.pod)
            .await
            .ok()
            .flatten();
        let reason = match container_after(pod.as_ref(), &target) {
            After::Gone(reason) => {
                send(LogEvent::Ended { reason });
                return;
            }
            After::Running => failed.unwrap_or_else(|| "the stream closed".into()),
            After::Waiting(why) => format!("container {}: {why}", target.container),
        };
        attempt += 1;
        if !send(LogEvent::Reconnecting { attempt, reason }) {
            return;
        }
        tokio::time::sleep(backoff(attempt)).await;
    }
}

fn backoff(attempt: u32) -> Duration {
    let secs = 1u64 << attempt.saturating_sub(1).min(4);
    Duration::from_secs(secs).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AppId;
    use serde_json::json;

    #[test]
    fn a_reconnect_skips_what_was_already_read() {
        let t = |s: u64| Some(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        let mut seen = Seen::default();
        let mut none = 0;
        for time in [t(1), t(2), t(2)] {
            assert!(seen.admit(time, &mut none));
        }
        // The reconnect reads from before t(2) again, then a new line.
        let mut skip = seen.at_last;
        let again: Vec<bool> = [t(1), t(2), t(2), t(2), t(3)]
            .into_iter()
            .map(|time| seen.admit(time, &mut skip))
            .collect();
        assert_eq!(again, vec![false, false, false, true, true]);
    }

    #[test]
    fn what_the_container_did_decides_reconnect_or_end() {
        let target = LogTarget {
            app: AppId::native("shop"),
            namespace: "shop".into(),
            pod: "web-1".into(),
            container: "web".into(),
            previous: false,
        };
        let pod = |state: Value, policy: &str| {
            json!({"spec": {"restartPolicy": policy},
                "status": {"containerStatuses": [{"name": "web", "state": state}]}})
        };
        assert_eq!(
            container_after(None, &target),
            After::Gone("pod web-1 was deleted".into())
        );
        assert_eq!(
            container_after(Some(&pod(json!({"running": {}}), "Always")), &target),
            After::Running
        );
        assert_eq!(
            container_after(
                Some(&pod(
                    json!({"waiting": {"reason": "CrashLoopBackOff"}}),
                    "Always"
                )),
                &target
            ),
            After::Waiting("CrashLoopBackOff".into())
        );
        assert_eq!(
            container_after(
                Some(&pod(
                    json!({"terminated": {"reason": "Completed", "exitCode": 0}}),
                    "Never"
                )),
                &target
            ),
            After::Gone("container web terminated: Completed (exit code 0)".into())
        );
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(9), MAX_BACKOFF);
    }
}
