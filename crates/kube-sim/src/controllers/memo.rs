//! What the controllers remember between reconciles, and nothing else:
//! when each object's current generation was first seen (Pods turn ready,
//! and crash, relative to it), its wall-clock twin so timestamps derived
//! from it are the same on every reconcile, and a Deployment's last
//! progress. A restarted kube-sim picks a started Pod's memo up from its
//! `startTime`.

use serde_json::Value;
use std::time::Duration;
use tokio::time::Instant;

/// What a controller remembers about one object between reconciles.
#[derive(Debug, Clone)]
pub(crate) struct Memo {
    /// The object's generation when `seen` was set.
    pub generation: i64,
    /// When this generation was first seen.
    pub seen: Instant,
    /// The wall-clock time of `seen`, so timestamps derived from instants
    /// are the same on every reconcile.
    pub seen_wall: time::OffsetDateTime,
    /// A Deployment's last observed progress (its Progressing condition's
    /// `lastUpdateTime`), for the progress deadline.
    pub progress: Option<Instant>,
}

impl Memo {
    pub(super) fn new(generation: i64, seen: Instant, seen_wall: time::OffsetDateTime) -> Self {
        Memo {
            generation,
            seen,
            seen_wall,
            progress: None,
        }
    }

    /// RFC 3339 (seconds) for an instant, anchored on `seen`.
    pub fn wall(&self, at: Instant) -> String {
        let t = if at >= self.seen {
            self.seen_wall + (at - self.seen)
        } else {
            self.seen_wall - (self.seen - at)
        };
        rfc3339(t)
    }
}

pub(crate) fn rfc3339(t: time::OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// The memo of an object first seen now. A Pod that already started (a
/// restart with `--state-dir`) keeps its start time, so it does not go back
/// to Pending.
pub(super) fn first_seen(obj: &Value, generation: i64, now: Instant) -> Memo {
    let wall = time::OffsetDateTime::now_utc();
    let started = obj
        .pointer("/status/startTime")
        .and_then(Value::as_str)
        .and_then(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        })
        .filter(|t| *t <= wall);
    match started.and_then(|t| {
        let ago = Duration::try_from(wall - t).ok()?;
        Some((now.checked_sub(ago)?, t))
    }) {
        Some((seen, seen_wall)) => Memo::new(generation, seen, seen_wall),
        None => Memo::new(generation, now, wall),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_started_pod_keeps_its_start_time() {
        let now = Instant::now();
        let pod = json!({"status": {"startTime": "2020-01-01T00:00:00Z"}});
        let memo = first_seen(&pod, 1, now);
        assert_eq!(memo.wall(memo.seen), "2020-01-01T00:00:00Z");
        assert!(memo.seen < now);
        let fresh = first_seen(&json!({}), 1, now);
        assert_eq!(fresh.seen, now);
    }
}
