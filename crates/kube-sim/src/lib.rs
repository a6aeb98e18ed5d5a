//! kube-sim: a Kubernetes-API-compatible HTTP(S) server for tests,
//! benchmarks and demos.
//!
//! It is not a mock: it keeps objects, resourceVersions and a watch cache,
//! does server-side apply with managedFields, strategic merge, defaulting and
//! dry-run, and runs simulated controllers, so the real `kubectl` and kube-rs
//! use it as they would a kube-apiserver.
//!
//! It is never kinder than a kube-apiserver: request bodies are decoded and
//! validated as the apiserver does it (`fieldValidation` Strict/Warn/Ignore
//! for unknown and duplicate fields, `Warning` headers, type errors, enum
//! values, names, selectors, CRD schemas), with the apiserver's status codes
//! and messages; see the `validation` module.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kube_sim::Error> {
//! let sim = kube_sim::KubeSim::start(kube_sim::Options::default()).await?;
//! let client = sim.client().await?;
//! # let _ = client;
//! sim.stop().await;
//! # Ok(()) }
//! ```

// Status errors carry their details by value: they are built on the cold
// path of a test server, where boxing would only add noise.
#![allow(clippy::result_large_err)]
// No unwrap on anything that came from users, files or the network.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod actions;
mod admin;
pub mod auth;
mod builtin_types;
mod builtins;
mod cluster_objects;
mod commit;
mod controllers;
mod convert;
mod crds;
pub mod defaults;
mod deletes;
mod discovery;
mod events;
mod eviction;
pub mod faults;
mod handler;
mod kubeconfig;
mod logs;
mod objects;
mod openapi;
mod pagination;
mod persist;
mod protobuf;
mod reads;
pub mod registry;
mod route;
pub mod schema;
pub mod selectors;
mod server;
pub mod ssa;
pub mod status;
mod store;
pub mod strategic;
mod subresources;
mod table;
mod table_cells;
mod table_control;
mod table_jsonpath;
mod table_kinds;
mod table_more;
mod table_pods;
mod tls;
mod validation;
mod watch;
mod writes;

pub use auth::Rule;
pub use controllers::gitops::GitOpsControllers;
pub use faults::{Fault, LoggedRequest};

use serde_json::Value;
use server::{Settings, Shared};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch as tokio_watch;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kube-sim: {0}")]
    Io(#[from] std::io::Error),
    #[error("kube-sim: {0}")]
    Tls(String),
    #[error("kube-sim: client: {0}")]
    Client(String),
    #[error("kube-sim: {0}")]
    Api(String),
}

/// How to start a server. `Default` is an in-memory http server on a free
/// loopback port, reporting Kubernetes 1.32, with workloads ready after 200 ms.
#[derive(Debug, Clone)]
pub struct Options {
    pub listen: String,
    pub tls: bool,
    /// The admin's bearer token over https (generated when None).
    pub token: Option<String>,
    pub context_name: String,
    pub kube_minor: u32,
    pub ready_after: Duration,
    pub watch_cache: usize,
    /// Keep state across restarts in this folder.
    pub state_dir: Option<PathBuf>,
    /// Also write the kubeconfig here (atomically, before serving).
    pub kubeconfig_out: Option<PathBuf>,
    /// How often watches with `allowWatchBookmarks` get a BOOKMARK.
    pub bookmark_interval: Duration,
    /// Simulated GitOps controllers (Flux, Argo CD) to run; none by default.
    pub controllers: GitOpsControllers,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            listen: "127.0.0.1:0".into(),
            tls: false,
            token: None,
            context_name: "kube-sim".into(),
            kube_minor: 32,
            ready_after: Duration::from_millis(200),
            watch_cache: 1000,
            state_dir: None,
            kubeconfig_out: None,
            bookmark_interval: Duration::from_secs(60),
            controllers: GitOpsControllers::default(),
        }
    }
}

/// A running server. Dropping it stops it too; [`KubeSim::stop`] waits for that.
pub struct KubeSim {
    url: String,
    kubeconfig: String,
    token: Option<String>,
    shared: Arc<Shared>,
    shutdown: tokio_watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    state_dir: Option<PathBuf>,
}

impl KubeSim {
    pub async fn start(opts: Options) -> Result<Self, Error> {
        let addr = server::bind_addr(&opts.listen)?;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let scheme = if opts.tls { "https" } else { "http" };
        let url = format!("{scheme}://{local}");
        let certs = if opts.tls {
            Some(Arc::new(tls::generate().map_err(Error::Tls)?))
        } else {
            None
        };
        let token = if opts.tls {
            Some(
                opts.token
                    .clone()
                    .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()),
            )
        } else {
            None
        };
        let auth = match &token {
            Some(t) => auth::Auth::with_admin_token(t),
            None => auth::Auth::open(),
        };
        let settings = Settings {
            kube_minor: opts.kube_minor,
            ready_after: opts.ready_after,
            bookmark_interval: opts.bookmark_interval,
        };
        let shared = Arc::new(Shared::new(settings, auth, opts.watch_cache, url.clone()));
        let restored = match &opts.state_dir {
            Some(dir) => persist::restore(&shared, dir)?,
            None => false,
        };
        // The CA that `kube-root-ca.crt` publishes: the server's own over
        // https; over http a CA of its own, as a cluster always has one.
        let ca_pem = match &certs {
            Some(c) => c.ca_pem.clone(),
            None => tls::generate().map(|c| c.ca_pem).unwrap_or_default(),
        };
        if !restored {
            seed_namespaces(&shared);
            cluster_objects::seed(&shared, opts.kube_minor);
        }
        cluster_objects::ensure_all(&shared, &ca_pem);
        let kubeconfig = kubeconfig::render(
            &url,
            &opts.context_name,
            token.as_deref(),
            certs.as_ref().map(|c| c.ca_pem.as_str()),
        );
        if let Some(path) = &opts.kubeconfig_out {
            kubeconfig::write_atomically(path, &kubeconfig)?;
        }
        let (shutdown, shutdown_rx) = tokio_watch::channel(false);
        let router = handler::router(shared.clone());
        let mut tasks = vec![tokio::spawn(server::serve(
            listener,
            router,
            certs,
            shutdown_rx.clone(),
        ))];
        tasks.push(tokio::spawn(cluster_objects::run(
            shared.clone(),
            ca_pem,
            shutdown_rx.clone(),
        )));
        if opts.controllers.any() {
            tasks.push(tokio::spawn(controllers::gitops::run(
                shared.clone(),
                kubeconfig.clone(),
                opts.controllers,
                shutdown_rx.clone(),
            )));
        }
        tasks.push(tokio::spawn(controllers::run(shared.clone(), shutdown_rx)));
        Ok(KubeSim {
            url,
            kubeconfig,
            token,
            shared,
            shutdown,
            tasks,
            state_dir: opts.state_dir,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The kubeconfig YAML (current-context set).
    pub fn kubeconfig(&self) -> &str {
        &self.kubeconfig
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub fn write_kubeconfig(&self, path: &Path) -> Result<(), Error> {
        Ok(kubeconfig::write_atomically(path, &self.kubeconfig)?)
    }

    /// A kube-rs client configured from the kubeconfig, as a user's would be.
    pub async fn client(&self) -> Result<kube::Client, Error> {
        let kc = kube::config::Kubeconfig::from_yaml(&self.kubeconfig)
            .map_err(|e| Error::Client(e.to_string()))?;
        let config =
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(|e| Error::Client(e.to_string()))?;
        kube::Client::try_from(config).map_err(|e| Error::Client(e.to_string()))
    }

    /// Create an object directly (no HTTP, no auth), as the admin would.
    /// Namespaced objects need `metadata.namespace`.
    pub fn seed(&self, object: Value) -> Result<Value, Error> {
        seed_object(&self.shared, object)
    }

    /// The current stored object, if any (`kind` as in `apiVersion`/`kind`).
    pub fn get(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let (group, _) = split_api_version(api_version);
        let state = self.shared.lock();
        let rt = state.registry.find_kind(group, kind)?;
        state
            .store
            .get(&(rt.group.clone(), rt.plural.clone()), namespace, name)
            .map(|o| (*o).clone())
    }

    pub fn object_count(&self) -> usize {
        self.shared.lock().store.count()
    }

    pub fn resource_version(&self) -> u64 {
        self.shared.lock().store.resource_version()
    }

    /// Move the clock CronJob schedules are evaluated at forward by `by`
    /// (everything else keeps the wall clock), so a test need not wait for
    /// a schedule to come round.
    pub fn advance_schedule_clock(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    pub fn inject(&self, fault: Fault) {
        self.shared.faults.add(fault);
    }

    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// End every open watch, as a dropped connection would.
    pub fn drop_watches(&self) {
        self.shared.drop_watches();
    }

    /// Forget the watch history: resuming from an older version gets 410,
    /// and outstanding continue tokens expire.
    pub fn compact(&self) {
        self.shared.compact();
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.log.entries()
    }

    pub fn clear_requests(&self) {
        self.shared.log.clear();
    }

    /// A user with a bearer token (https only); what it may do is up to [`KubeSim::allow`].
    pub fn add_user(&self, token: &str, user: &str) {
        self.shared.auth.add_user(token, user);
    }

    pub fn allow(&self, rule: Rule) {
        self.shared.auth.allow(rule);
    }

    pub async fn stop(mut self) {
        self.shutdown_now();
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }

    fn shutdown_now(&mut self) {
        let _ = self.shutdown.send(true);
        self.shared.drop_watches();
        if let Some(dir) = &self.state_dir {
            if let Err(e) = persist::save(&self.shared, dir) {
                tracing::warn!("kube-sim: saving state to {}: {e}", dir.display());
            }
        }
    }
}

impl Drop for KubeSim {
    fn drop(&mut self) {
        if !self.tasks.is_empty() {
            self.shutdown_now();
            for t in &self.tasks {
                t.abort();
            }
        }
    }
}

fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

fn seed_namespaces(shared: &Shared) {
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let _ = seed_object(
            shared,
            serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        );
    }
}

fn seed_object(shared: &Shared, object: Value) -> Result<Value, Error> {
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let (group, _) = split_api_version(api_version);
    let mut state = shared.lock();
    let rt = state
        .registry
        .find_kind(group, kind)
        .ok_or_else(|| Error::Api(format!("no resource serves {api_version} {kind}")))?;
    commit::commit(
        &mut state,
        &rt,
        None,
        object,
        false,
        commit::Tracking::Update {
            manager: "kube-sim-seed",
            subresource: None,
        },
    )
    .map(Arc::unwrap_or_clone)
    .map_err(|e| Error::Api(e.message))
}
