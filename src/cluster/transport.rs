//! The request client's outer layer: every request through `Cluster::client`
//! (the verbs in `ops.rs`, discovery, the record store, events) passes here,
//! so retries and the deadline hold for all of them without each caller
//! writing a loop.
//!
//! A request that may be repeated (`retry::Idempotence`) is sent again on a
//! retryable status or a dropped or timed-out connection; every request,
//! repeated or not, is bounded by the deadline. Refused connections are not
//! retried: a wrong address or a cluster that is down fails within seconds.

use super::retry::{
    describe_request, jitter, parse_retry_after, retryable_status, Answer, GaveUp, Idempotence,
    RetryPolicy, RetryProgress,
};
use futures::future::BoxFuture;
use http::{header, Request, Response};
use kube::client::Body;
use std::error::Error as StdError;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::time::Instant;

type BoxError = Box<dyn StdError + Send + Sync>;

/// A client whose requests go through `policy`, on top of `inner`.
pub(super) fn retrying(inner: kube::Client, policy: Arc<RetryPolicy>) -> kube::Client {
    let namespace = inner.default_namespace().to_string();
    kube::Client::new(Retrying { inner, policy }, namespace)
}

#[derive(Clone)]
struct Retrying {
    inner: kube::Client,
    policy: Arc<RetryPolicy>,
}

impl tower_service::Service<Request<Body>> for Retrying {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // `inner` is a buffered client: always ready, it queues.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let inner = self.inner.clone();
        let policy = self.policy.clone();
        Box::pin(async move { send(&inner, &policy, request).await })
    }
}

async fn send(
    inner: &kube::Client,
    policy: &RetryPolicy,
    request: Request<Body>,
) -> Result<Response<Body>, BoxError> {
    let started = Instant::now();
    let deadline = started + policy.deadline;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let idempotence = Idempotence::of(request.method(), content_type);
    let what = describe_request(request.method(), request.uri().path());
    let (parts, body) = request.into_parts();
    // A streamed body cannot be sent twice; request bodies here are bytes.
    let copy = body.try_clone();
    let may_retry = idempotence.retryable() && copy.is_some();
    let mut first = Some(body);
    let mut attempts: u32 = 0;
    loop {
        let body = match first.take() {
            Some(b) => b,
            None => copy
                .as_ref()
                .and_then(Body::try_clone)
                .unwrap_or_else(Body::empty),
        };
        attempts += 1;
        let remaining = deadline.saturating_duration_since(Instant::now());
        let sent = tokio::time::timeout(
            remaining,
            inner.send(Request::from_parts(parts.clone(), body)),
        )
        .await;
        let (answer, retry_after) = match sent {
            Err(_) => {
                return Err(Box::new(GaveUp {
                    answer: Answer::TimedOut,
                    elapsed: started.elapsed(),
                    attempts,
                }))
            }
            Ok(Ok(response)) if may_retry && retryable_status(response.status().as_u16()) => {
                match read_answer(response, deadline).await {
                    Ok(answer) => answer,
                    Err(permanent) => return Ok(permanent),
                }
            }
            Ok(Ok(response)) => return Ok(response),
            Ok(Err(e)) => match transport_failure(&e) {
                Some(answer) if may_retry => (answer, None),
                _ => return Err(Box::new(e)),
            },
        };
        let wait = policy.wait(attempts, retry_after, jitter());
        if Instant::now() + wait >= deadline {
            return Err(Box::new(GaveUp {
                answer,
                elapsed: started.elapsed(),
                attempts,
            }));
        }
        policy.report(&RetryProgress {
            request: what.clone(),
            answer,
            retry: attempts,
            wait,
        });
        tokio::time::sleep(wait).await;
    }
}

/// The status, reason, message and wanted wait of a retryable answer: the
/// `Retry-After` header, else the Status body's `details.retryAfterSeconds`.
/// The answer of a retryable status, and how long it asks us to wait; or,
/// for a 500 that says the request itself is wrong, the response rebuilt
/// for the caller (another attempt would get the same answer).
async fn read_answer(
    response: Response<Body>,
    deadline: Instant,
) -> Result<(Answer, Option<std::time::Duration>), Response<Body>> {
    let code = response.status().as_u16();
    let (head, body) = response.into_parts();
    let header_wait = head
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let remaining = deadline.saturating_duration_since(Instant::now());
    let body = tokio::time::timeout(remaining, body.collect_bytes())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let status: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let text = |key: &str| {
        status
            .get(key)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let body_wait = status
        .pointer("/details/retryAfterSeconds")
        .and_then(serde_json::Value::as_u64)
        .map(std::time::Duration::from_secs);
    if super::retry::permanent_server_error(code, &text("message")) {
        return Err(Response::from_parts(head, Body::from(body.to_vec())));
    }
    let answer = Answer::Status {
        code,
        reason: text("reason"),
        message: text("message"),
    };
    Ok((answer, header_wait.or(body_wait)))
}

/// A failure worth another attempt: a timeout or a connection that broke
/// mid-request. Failing to connect at all (refused, no route, DNS, TLS, a
/// connect timeout) is not: that is a wrong or dead address.
pub(super) fn transport_failure(e: &(dyn StdError + 'static)) -> Option<Answer> {
    let mut dropped = None;
    for cause in chain(e) {
        if let Some(c) = cause.downcast_ref::<hyper_util::client::legacy::Error>() {
            if c.is_connect() {
                return None;
            }
        }
        if let Some(h) = cause.downcast_ref::<hyper::Error>() {
            if h.is_timeout() {
                return Some(Answer::TimedOut);
            }
            if h.is_incomplete_message() {
                dropped = Some("closed before the answer".to_string());
            }
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            match io.kind() {
                TimedOut => return Some(Answer::TimedOut),
                ConnectionRefused | NotFound | PermissionDenied | AddrNotAvailable => return None,
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | NotConnected => {
                    dropped = Some(io.to_string())
                }
                _ => {}
            }
        }
    }
    dropped.map(Answer::Dropped)
}

/// Whether anything in the chain is a timeout (for the error's wording).
pub(super) fn is_timeout(e: &(dyn StdError + 'static)) -> bool {
    chain(e).any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
            || c.downcast_ref::<hyper::Error>()
                .is_some_and(hyper::Error::is_timeout)
            || c.is::<tokio::time::error::Elapsed>()
    })
}

/// `e` and its sources.
pub(super) fn chain<'a>(
    e: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(e), |c: &&'a (dyn StdError + 'static)| (*c).source())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn timeouts_and_dropped_connections_are_retried_refusals_are_not() {
        let timed_out = Outer(std::io::Error::new(std::io::ErrorKind::TimedOut, "read"));
        assert_eq!(transport_failure(&timed_out), Some(Answer::TimedOut));
        assert!(is_timeout(&timed_out));
        let reset = Outer(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "reset by peer",
        ));
        assert_eq!(
            transport_failure(&reset),
            Some(Answer::Dropped("reset by peer".into()))
        );
        assert!(!is_timeout(&reset));
        let refused = Outer(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "refused",
        ));
        assert_eq!(transport_failure(&refused), None);
        let other = Outer(std::io::Error::other("tls: bad certificate"));
        assert_eq!(transport_failure(&other), None);
    }
}
