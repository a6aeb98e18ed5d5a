//! When and how long to retry a request to the API server, as pure functions
//! (the transport in `transport.rs` runs them).
//!
//! A busy or restarting API server answers 429 or 5xx, often with a
//! `Retry-After`; a request that is safe to repeat (reads, server-side apply,
//! delete) is sent again after a backoff with jitter, never past a deadline,
//! and each wait is reported so a person sees why nothing happens. After the
//! deadline the last answer becomes the error.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The default per-request deadline (`[cluster] deadline` in the config).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);
/// The first backoff; each retry doubles it up to `BACKOFF_CAP`.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(8);

/// How the transport retries: the deadline, the backoff, and who hears of it.
#[derive(Clone)]
pub struct RetryPolicy {
    pub deadline: Duration,
    pub base: Duration,
    pub cap: Duration,
    pub progress: Option<RetryProgressSink>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            deadline: DEFAULT_DEADLINE,
            base: BACKOFF_BASE,
            cap: BACKOFF_CAP,
            progress: None,
        }
    }
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("deadline", &self.deadline)
            .field("base", &self.base)
            .field("cap", &self.cap)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl RetryPolicy {
    pub fn with_deadline(deadline: Duration) -> Self {
        RetryPolicy {
            deadline,
            ..Default::default()
        }
    }

    /// The wait before retry number `retry` (1 for the first retry): the
    /// server's `Retry-After` when it sent one, else exponential backoff
    /// with "equal jitter" (between half and all of the step), `jitter` in
    /// [0, 1).
    pub fn wait(&self, retry: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        if let Some(after) = retry_after.filter(|d| !d.is_zero()) {
            return after;
        }
        let doublings = retry.saturating_sub(1).min(20);
        let step = self
            .base
            .saturating_mul(1u32 << doublings)
            .min(self.cap.max(self.base));
        let half = step / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// Tell the sink (and the log) about a wait.
    pub fn report(&self, progress: &RetryProgress) {
        tracing::warn!(target: "gitops_tui::cluster::retry", "{progress}");
        if let Some(sink) = &self.progress {
            sink.send(progress);
        }
    }
}

/// Where retry progress goes: the CLI prints each line to stderr; the TUI can
/// turn each into a message for its status line.
#[derive(Clone)]
pub struct RetryProgressSink(Arc<dyn Fn(&RetryProgress) + Send + Sync>);

impl RetryProgressSink {
    pub fn new(f: impl Fn(&RetryProgress) + Send + Sync + 'static) -> Self {
        RetryProgressSink(Arc::new(f))
    }

    pub fn send(&self, progress: &RetryProgress) {
        (self.0)(progress)
    }
}

/// One wait before a retry, as reported while it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryProgress {
    /// What was asked, e.g. `GET configmaps shop/settings`.
    pub request: String,
    pub answer: Answer,
    /// 1 for the first retry.
    pub retry: u32,
    pub wait: Duration,
}

impl fmt::Display for RetryProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let answer = match &self.answer {
            Answer::Status { code, .. } => format!("API server answered {code}"),
            other => other.to_string(),
        };
        write!(
            f,
            "{}: {answer}; retry {} in {}",
            self.request,
            self.retry,
            seconds(self.wait)
        )
    }
}

/// What the server did on the last attempt that was worth retrying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A retryable status (429, 500, 502, 503, 504) with its reason and message.
    Status {
        code: u16,
        reason: String,
        message: String,
    },
    /// No answer within the read timeout or the remaining deadline.
    TimedOut,
    /// The connection broke mid-request (reset, closed early).
    Dropped(String),
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Status { code, reason, .. } if reason.is_empty() => {
                write!(f, "API server answered {code}")
            }
            Answer::Status { code, reason, .. } => {
                write!(f, "API server answered {code} {reason}")
            }
            Answer::TimedOut => write!(f, "API server timed out"),
            Answer::Dropped(why) => write!(f, "connection to the API server dropped ({why})"),
        }
    }
}

/// The transport's error once it stops retrying: the last answer, how long
/// it tried and how often. `ClusterError::from_kube` names the object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{answer} for {}; gave up after {attempts} attempt(s)", seconds(*.elapsed))]
pub struct GaveUp {
    pub answer: Answer,
    pub elapsed: Duration,
    pub attempts: u32,
}

/// Statuses worth asking again: the server is busy or briefly broken.
pub fn retryable_status(code: u16) -> bool {
    matches!(code, 429 | 500 | 502 | 503 | 504)
}

/// A 500 that is the request's fault, not the server's: kube-apiserver
/// answers a server-side apply whose body has a field the schema does not
/// declare (a typo in Git) with a 500 `failed to create typed patch object`
/// (kubernetes/kubernetes#122480). Another attempt gets the same answer.
pub fn permanent_server_error(code: u16, message: &str) -> bool {
    code == 500 && message.starts_with("failed to create typed patch object")
}

/// Which requests may be sent twice without changing the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotence {
    /// GET, HEAD: reads, lists, discovery.
    Read,
    /// PATCH with `application/apply-patch+yaml`: server-side apply.
    Apply,
    /// DELETE: a repeat finds the object gone (404), which callers accept.
    Delete,
    /// POST, PUT, merge or JSON patches: a blind repeat may double the write
    /// or lose a precondition; never retried here.
    Mutating,
}

impl Idempotence {
    pub fn of(method: &http::Method, content_type: Option<&str>) -> Self {
        match *method {
            http::Method::GET | http::Method::HEAD => Idempotence::Read,
            http::Method::DELETE => Idempotence::Delete,
            http::Method::PATCH
                if content_type
                    .is_some_and(|c| c.trim().starts_with("application/apply-patch")) =>
            {
                Idempotence::Apply
            }
            _ => Idempotence::Mutating,
        }
    }

    pub fn retryable(self) -> bool {
        self != Idempotence::Mutating
    }
}

/// `Retry-After` as kube-apiserver sends it: whole seconds. An HTTP date or
/// anything else is ignored (the backoff applies).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A request in words for progress lines: `GET configmaps shop/settings`,
/// `PATCH deployments.apps shop/web`, `GET configmaps (list)`.
pub fn describe_request(method: &http::Method, path: &str) -> String {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    // /api/v1/... or /apis/GROUP/VERSION/...
    let (group, rest) = match parts.as_slice() {
        ["api", _version, rest @ ..] => ("", rest),
        ["apis", group, _version, rest @ ..] => (*group, rest),
        _ => return format!("{method} {path}"),
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some(*ns), rest),
        _ => (None, rest),
    };
    let qualified = |resource: &str| {
        if group.is_empty() {
            resource.to_string()
        } else {
            format!("{resource}.{group}")
        }
    };
    let target = match (rest, namespace) {
        ([], _) => return format!("{method} {path} (discovery)"),
        ([resource], Some(ns)) => format!("{} in {ns} (list)", qualified(resource)),
        ([resource], None) => format!("{} (list)", qualified(resource)),
        ([resource, name, ..], Some(ns)) => format!("{} {ns}/{name}", qualified(resource)),
        ([resource, name, ..], None) => format!("{} {name}", qualified(resource)),
    };
    format!("{method} {target}")
}

/// `2 s`, `0.5 s`: whole seconds from one second up.
pub fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} s", d.as_secs_f64().round() as u64)
    }
}

/// A number in [0, 1) that differs per call, for jitter (no RNG crate: the
/// std hasher is randomly keyed per process and fed a counter).
pub fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap_with_equal_jitter() {
        let p = RetryPolicy::default();
        // No jitter: half the step; full jitter: the whole step.
        assert_eq!(p.wait(1, None, 0.0), Duration::from_millis(125));
        assert_eq!(p.wait(1, None, 1.0), Duration::from_millis(250));
        assert_eq!(p.wait(2, None, 1.0), Duration::from_millis(500));
        assert_eq!(p.wait(3, None, 1.0), Duration::from_secs(1));
        assert_eq!(p.wait(4, None, 0.5), Duration::from_millis(1500));
        assert_eq!(p.wait(6, None, 1.0), Duration::from_secs(8));
        assert_eq!(p.wait(7, None, 1.0), Duration::from_secs(8));
        assert_eq!(p.wait(1000, None, 1.0), Duration::from_secs(8));
        assert_eq!(p.wait(1000, None, 0.0), Duration::from_secs(4));
        // The schedule never shrinks.
        let waits: Vec<Duration> = (1..12).map(|n| p.wait(n, None, 0.0)).collect();
        assert!(waits.windows(2).all(|w| w[0] <= w[1]), "{waits:?}");
    }

    #[test]
    fn retry_after_wins_over_the_backoff_unless_it_is_zero() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.wait(1, Some(Duration::from_secs(3)), 0.9),
            Duration::from_secs(3)
        );
        assert_eq!(
            p.wait(9, Some(Duration::from_secs(1)), 0.9),
            Duration::from_secs(1)
        );
        assert_eq!(
            p.wait(1, Some(Duration::ZERO), 1.0),
            Duration::from_millis(250)
        );
    }

    #[test]
    fn retry_after_is_whole_seconds_only() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 10 "), Some(Duration::from_secs(10)));
        assert_eq!(parse_retry_after("0"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("1.5"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after(""), None);
    }

    #[test]
    fn a_typed_patch_failure_is_permanent_other_500s_are_not() {
        let typo = "failed to create typed patch object (shop/web; apps/v1, Kind=Deployment): .spec.replica: field not declared in schema";
        assert!(permanent_server_error(500, typo));
        assert!(!permanent_server_error(
            500,
            "etcdserver: request timed out"
        ));
        assert!(!permanent_server_error(503, typo));
    }

    #[test]
    fn only_busy_and_broken_server_statuses_are_retried() {
        for code in [429, 500, 502, 503, 504] {
            assert!(retryable_status(code), "{code}");
        }
        for code in [200, 400, 401, 403, 404, 409, 410, 415, 422, 501] {
            assert!(!retryable_status(code), "{code}");
        }
    }

    #[test]
    fn reads_applies_and_deletes_are_idempotent_other_writes_are_not() {
        let apply = Some("application/apply-patch+yaml");
        let merge = Some("application/merge-patch+json");
        assert_eq!(Idempotence::of(&Method::GET, None), Idempotence::Read);
        assert_eq!(Idempotence::of(&Method::PATCH, apply), Idempotence::Apply);
        assert_eq!(Idempotence::of(&Method::DELETE, None), Idempotence::Delete);
        assert_eq!(
            Idempotence::of(&Method::PATCH, merge),
            Idempotence::Mutating
        );
        assert_eq!(Idempotence::of(&Method::PATCH, None), Idempotence::Mutating);
        assert_eq!(
            Idempotence::of(&Method::POST, Some("application/json")),
            Idempotence::Mutating
        );
        assert_eq!(Idempotence::of(&Method::PUT, None), Idempotence::Mutating);
        assert!(!Idempotence::Mutating.retryable());
        assert!(Idempotence::Apply.retryable());
    }

    #[test]
    fn requests_are_described_by_resource_namespace_and_name() {
        let d = describe_request;
        assert_eq!(
            d(&Method::GET, "/api/v1/namespaces/shop/configmaps/settings"),
            "GET configmaps shop/settings"
        );
        assert_eq!(
            d(
                &Method::PATCH,
                "/apis/apps/v1/namespaces/shop/deployments/web"
            ),
            "PATCH deployments.apps shop/web"
        );
        assert_eq!(
            d(
                &Method::GET,
                "/apis/apps/v1/namespaces/shop/deployments/web/scale"
            ),
            "GET deployments.apps shop/web"
        );
        assert_eq!(
            d(&Method::GET, "/api/v1/configmaps"),
            "GET configmaps (list)"
        );
        assert_eq!(
            d(&Method::GET, "/api/v1/namespaces/shop/pods"),
            "GET pods in shop (list)"
        );
        assert_eq!(
            d(&Method::DELETE, "/api/v1/namespaces/shop"),
            "DELETE namespaces shop"
        );
        assert_eq!(
            d(&Method::GET, "/apis/apps/v1"),
            "GET /apis/apps/v1 (discovery)"
        );
        assert_eq!(d(&Method::GET, "/version"), "GET /version");
    }

    #[test]
    fn progress_and_give_up_read_as_sentences() {
        let answer = Answer::Status {
            code: 429,
            reason: "TooManyRequests".into(),
            message: "slow down".into(),
        };
        let p = RetryProgress {
            request: "GET configmaps shop/settings".into(),
            answer: answer.clone(),
            retry: 3,
            wait: Duration::from_millis(2100),
        };
        assert_eq!(
            p.to_string(),
            "GET configmaps shop/settings: API server answered 429; retry 3 in 2 s"
        );
        let p = RetryProgress {
            answer: Answer::TimedOut,
            wait: Duration::from_millis(250),
            retry: 1,
            ..p
        };
        assert_eq!(
            p.to_string(),
            "GET configmaps shop/settings: API server timed out; retry 1 in 0.2 s"
        );
        let g = GaveUp {
            answer,
            elapsed: Duration::from_secs(60),
            attempts: 9,
        };
        assert_eq!(
            g.to_string(),
            "API server answered 429 TooManyRequests for 60 s; gave up after 9 attempt(s)"
        );
    }

    #[test]
    fn jitter_stays_in_range_and_varies() {
        let samples: Vec<f64> = (0..200).map(|_| jitter()).collect();
        assert!(samples.iter().all(|j| (0.0..1.0).contains(j)));
        let distinct: std::collections::BTreeSet<u64> =
            samples.iter().map(|j| (j * 1e9) as u64).collect();
        assert!(distinct.len() > 150, "{}", distinct.len());
    }
}
