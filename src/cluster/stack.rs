//! The HTTP stack under each context's kube clients, so that a fleet of
//! contexts stays within the default descriptor limit (`ulimit -n 1024`).
//!
//! kube's own `Client::try_from(Config)` speaks HTTP/1.1 only, opens a
//! connection per request in flight and keeps every idle one: with 1,000
//! apps on 100 contexts loading at once that was 10,967 connects for 19,077
//! requests and 12,186 descriptors. Here each context has one hyper client,
//! shared by its request client and its watch client, that offers HTTP/2 by
//! ALPN (as kubectl does; kube-apiserver speaks it), so every request and
//! watch of a context rides one connection. Until the first answer says
//! which protocol the server chose, one request goes at a time (so a burst
//! at start opens one connection, not one per request). Then requests in
//! flight are bounded per context ([`PER_CONTEXT_H2`] streams, or
//! [`PER_CONTEXT_H1`] connections when the server only speaks HTTP/1.1)
//! and in the whole process ([`IN_FLIGHT_TOTAL`]); the pool keeps at most
//! [`IDLE_PER_CONTEXT`] idle connections per context. Watches are not
//! bounded (one stream each; on HTTP/1.1, one connection each).
//!
//! The layers are kube's own (base URI, auth, extra headers) over the TLS
//! config kube builds from the kubeconfig; an HTTP(S) or SOCKS proxy in the
//! kubeconfig keeps kube's stack, which knows how to tunnel.

use http::{Request, Response, Version};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use kube::client::{Body, ConfigExt};
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// HTTP/2 streams in flight per context (requests; watches not counted).
pub const PER_CONTEXT_H2: usize = 32;
/// Connections (so requests) in flight per context when the server only
/// speaks HTTP/1.1.
pub const PER_CONTEXT_H1: usize = 4;
/// Requests in flight across every context of the process.
pub const IN_FLIGHT_TOTAL: usize = 256;
/// Idle connections the pool keeps per context.
pub const IDLE_PER_CONTEXT: usize = 2;
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// An HTTP/2 connection is pinged when quiet this long, and dropped when
/// the ping is not answered within [`PING_TIMEOUT`]: a cluster that
/// vanished fails its watches in seconds, not at the read timeout.
const PING_INTERVAL: Duration = Duration::from_secs(30);
const PING_TIMEOUT: Duration = Duration::from_secs(10);

static TOTAL: LazyLock<Arc<Semaphore>> =
    LazyLock::new(|| Arc::new(Semaphore::new(IN_FLIGHT_TOTAL)));

type Https = hyper_timeout::TimeoutConnector<hyper_rustls::HttpsConnector<HttpConnector>>;
type Hyper = hyper_util::client::legacy::Client<Https, Body>;

/// What the first answer of a context said about its protocol.
const UNKNOWN: u8 = 0;
const H1: u8 = 1;
const H2: u8 = 2;

/// The state one context's clients share: its protocol once known, the
/// one-at-a-time gate until then, and its bound on requests in flight.
struct Shared {
    protocol: AtomicU8,
    probe: Semaphore,
    requests: Arc<Semaphore>,
}

/// A request client and a watch client over one connection pool.
pub struct Clients {
    pub requests: kube::Client,
    pub watches: kube::Client,
}

/// Both clients of a context; `None` when the kubeconfig names a proxy
/// (kube's own stack handles those).
pub fn build(
    config: &kube::Config,
    connect_timeout: Duration,
    read_timeout: Duration,
    watch_read_timeout: Duration,
) -> Result<Option<Clients>, kube::Error> {
    if config.proxy_url.is_some() {
        return Ok(None);
    }
    let tls = config.rustls_client_config()?;
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(connect_timeout));
    // HTTP/2 writes a request as several frames: without TCP_NODELAY, Nagle
    // holds the next one until the server's delayed ACK (40 ms a request).
    http.set_nodelay(true);
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    let builder = match &config.tls_server_name {
        Some(name) => match rustls::pki_types::ServerName::try_from(name.clone()) {
            Ok(name) => {
                builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name))
            }
            // kube's own stack reports the name it cannot use.
            Err(_) => return Ok(None),
        },
        None => builder,
    };
    let https = builder.enable_http1().enable_http2().wrap_connector(http);
    let mut connector = hyper_timeout::TimeoutConnector::new(https);
    connector.set_connect_timeout(Some(connect_timeout));
    // The connection's own read timeout is the watches' (a quiet watch
    // stays open for minutes); a request's is enforced per request below.
    connector.set_read_timeout(Some(watch_read_timeout));
    connector.set_write_timeout(Some(read_timeout));
    let hyper: Hyper = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(IDLE_PER_CONTEXT)
        .pool_idle_timeout(IDLE_TIMEOUT)
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .http2_keep_alive_interval(PING_INTERVAL)
        .http2_keep_alive_timeout(PING_TIMEOUT)
        .build(connector);
    let shared = Arc::new(Shared {
        protocol: AtomicU8::new(UNKNOWN),
        probe: Semaphore::new(1),
        requests: Arc::new(Semaphore::new(1)),
    });
    let client = |limit: Option<Duration>| -> Result<kube::Client, kube::Error> {
        let bottom = Bounded {
            inner: hyper.clone(),
            shared: shared.clone(),
            request_timeout: limit,
        };
        let service = tower::ServiceBuilder::new()
            .layer(config.base_uri_layer())
            .option_layer(config.auth_layer()?)
            .layer(config.extra_headers_layer()?)
            .service(bottom);
        Ok(kube::Client::new(service, config.default_namespace.clone()))
    };
    Ok(Some(Clients {
        requests: client(Some(read_timeout))?,
        watches: client(None)?,
    }))
}

/// The bottom of the stack: the gate, the bounds (for requests, which have
/// a timeout; watches have none) and the hyper client.
#[derive(Clone)]
struct Bounded {
    inner: Hyper,
    shared: Arc<Shared>,
    /// Some: a request, answered within this or failed as timed out (and
    /// bounded in flight). None: a watch.
    request_timeout: Option<Duration>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower::Service<Request<Body>> for Bounded {
    type Response = Response<Held>;
    type Error = BoxError;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // hyper's legacy client is always ready; it queues.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let inner = self.inner.clone();
        let shared = self.shared.clone();
        let timeout = self.request_timeout;
        Box::pin(async move {
            let mut permits = Vec::with_capacity(2);
            if timeout.is_some() {
                // The context's bound first, then the process's: a request
                // waiting for the total holds nothing another context needs.
                permits.push(shared.requests.clone().acquire_owned().await?);
                permits.push(TOTAL.clone().acquire_owned().await?);
            }
            let probing = if shared.protocol.load(Ordering::Acquire) == UNKNOWN {
                let p = shared.probe.acquire().await?;
                (shared.protocol.load(Ordering::Acquire) == UNKNOWN).then_some(p)
            } else {
                None
            };
            let sent = inner.request(request);
            let response = match timeout {
                Some(t) => match tokio::time::timeout(t, sent).await {
                    Ok(r) => r?,
                    Err(_) => {
                        return Err(Box::new(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            format!("no answer within {} s", t.as_secs()),
                        )) as BoxError)
                    }
                },
                None => sent.await?,
            };
            if probing.is_some() {
                shared.learned(response.version());
            }
            drop(probing);
            Ok(response.map(|body| Held {
                body,
                _permits: permits,
            }))
        })
    }
}

impl Shared {
    /// The first answer came: open the bound to what the protocol allows.
    fn learned(&self, version: Version) {
        let (protocol, bound) = if version == Version::HTTP_2 {
            (H2, PER_CONTEXT_H2)
        } else {
            (H1, PER_CONTEXT_H1)
        };
        if self
            .protocol
            .compare_exchange(UNKNOWN, protocol, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.requests.add_permits(bound - 1);
        }
    }
}

/// A response body that keeps its request's permits until it is read or
/// dropped: on HTTP/1.1 the connection is busy until then.
pub struct Held {
    body: Incoming,
    _permits: Vec<OwnedSemaphorePermit>,
}

impl http_body::Body for Held {
    type Data = hyper::body::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared() -> Shared {
        Shared {
            protocol: AtomicU8::new(UNKNOWN),
            probe: Semaphore::new(1),
            requests: Arc::new(Semaphore::new(1)),
        }
    }

    #[test]
    fn the_bound_opens_once_to_what_the_protocol_allows() {
        let s = shared();
        s.learned(Version::HTTP_2);
        assert_eq!(s.requests.available_permits(), PER_CONTEXT_H2);
        s.learned(Version::HTTP_11);
        assert_eq!(
            s.requests.available_permits(),
            PER_CONTEXT_H2,
            "learned once"
        );
        let s = shared();
        s.learned(Version::HTTP_11);
        assert_eq!(s.requests.available_permits(), PER_CONTEXT_H1);
        assert_eq!(s.protocol.load(Ordering::Acquire), H1);
    }
}
