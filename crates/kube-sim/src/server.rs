//! The shared server state and the listener (http, or https with a generated
//! certificate).

use crate::auth::Auth;
use crate::faults::{Faults, RequestLog};
use crate::registry::Registry;
use crate::store::Store;
use crate::tls::Certificates;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub kube_minor: u32,
    pub ready_after: Duration,
    pub bookmark_interval: Duration,
}

/// Everything behind the one lock: the table of served types and the objects.
pub struct State {
    pub registry: Registry,
    pub store: Store,
    pub snapshots: crate::pagination::Snapshots,
    pub alloc: crate::commit::IpAllocator,
    pub events: crate::events::Correlator,
}

pub struct Shared {
    state: Mutex<State>,
    pub settings: Settings,
    pub auth: Auth,
    pub faults: Faults,
    pub log: RequestLog,
    /// Bumped to make every open watch end at once (a dropped connection).
    pub watch_generation: watch::Sender<u64>,
    pub server_url: String,
    /// The time CronJob schedules are evaluated at (tests move it).
    pub clock: crate::controllers::ScheduleClock,
    /// Marks the simulated GitOps controllers' own requests (kept out of
    /// the request log and the injected faults).
    pub controller_token: String,
}

impl Shared {
    pub fn new(settings: Settings, auth: Auth, watch_cache: usize, server_url: String) -> Self {
        let (watch_generation, _) = watch::channel(0);
        Shared {
            state: Mutex::new(State {
                registry: Registry::for_minor(settings.kube_minor),
                store: Store::new(watch_cache),
                snapshots: Default::default(),
                alloc: Default::default(),
                events: Default::default(),
            }),
            settings,
            auth,
            faults: Faults::default(),
            log: RequestLog::default(),
            watch_generation,
            server_url,
            clock: Default::default(),
            controller_token: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    /// The state lock. A panic while it was held leaves data that is still
    /// consistent enough for a test server, so poisoning is ignored.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn drop_watches(&self) {
        self.watch_generation.send_modify(|g| *g += 1);
    }

    /// Forget the watch history: resuming from an older version gets 410,
    /// and outstanding continue tokens expire.
    pub fn compact(&self) {
        let mut state = self.lock();
        state.store.compact();
        state.snapshots.clear();
    }
}

/// Serve `router` on `listener` until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    tls: Option<Arc<Certificates>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = tls.map(|c| tokio_rustls::TlsAcceptor::from(c.server_config.clone()));
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => break,
        };
        let Ok((stream, _peer)) = accepted else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let acceptor = acceptor.clone();
        let mut conn_shutdown = shutdown.clone();
        connections.spawn(async move {
            let service =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    router.clone().oneshot(req.map(axum::body::Body::new))
                });
            let builder = auto::Builder::new(TokioExecutor::new());
            match acceptor {
                Some(acceptor) => {
                    let Ok(tls_stream) = acceptor.accept(stream).await else {
                        return;
                    };
                    let conn = builder.serve_connection(TokioIo::new(tls_stream), service);
                    tokio::select! { _ = conn => {}, _ = conn_shutdown.changed() => {} }
                }
                None => {
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    tokio::select! { _ = conn => {}, _ = conn_shutdown.changed() => {} }
                }
            }
        });
        // Reap finished connections so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
    }
    connections.abort_all();
}

pub type Query = HashMap<String, String>;

pub fn parse_query(q: Option<&str>) -> Query {
    q.map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .collect()
}

pub fn bind_addr(listen: &str) -> std::io::Result<SocketAddr> {
    listen.parse().map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("--listen {listen}: {e}"),
        )
    })
}
