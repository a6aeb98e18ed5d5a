//! Watches that keep the screen live: per cluster, the app records (so a
//! teammate's suspend shows within a second), one watch per kind the apps
//! need of the objects carrying the tracking label (drift and health
//! change; their reflector stores are the engine's live cache), and the
//! ReplicaSets and Pods of the apps' namespaces (the resource tree). Each watch uses kube-runtime's
//! watcher with its default backoff; its errors drive the connection state
//! in the status bar.

use crate::app::{ConnectionState, Msg, OwnedObject};
use crate::cluster::live_cache::{self, KindRequest, LiveCache};
use crate::cluster::live_store::{live_event, LiveStore};
use crate::engine::Engine;
use crate::model::{AppId, LiveObject, RECORD_LABEL, RECORD_OF_LABEL, TRACKING_LABEL};
use futures::{stream, StreamExt};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::Api;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

/// How long changes are gathered before the apps they touch reload.
const COALESCE: Duration = Duration::from_millis(300);

/// While a context is reconnecting, how often to ask the server whether it is
/// back: a resumed watch says nothing until something changes.
const PROBE: Duration = Duration::from_secs(2);

/// Watches use the cluster's watch client, whose read timeout is above the
/// server-side watch timeout: with the request client's short read timeout a
/// quiet watch would fail every few seconds and the screen would say offline.
fn watch_config() -> watcher::Config {
    watcher::Config::default()
}

/// What one watch event means for the screen.
enum Seen {
    /// Objects of these apps (or their records) changed.
    Apps(Vec<AppId>),
    /// ReplicaSets/Pods of this namespace changed.
    Owned {
        namespace: String,
    },
    Error(watcher::Error),
    Healthy,
}

/// One task per context, until the returned handles are aborted.
pub fn spawn(
    engine: Arc<Engine>,
    record_namespace: String,
    tx: UnboundedSender<Msg>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut by_context: BTreeMap<String, Vec<AppId>> = BTreeMap::new();
    for app in engine.apps() {
        if let Ok(ctx) = engine.context_of(&app) {
            by_context.entry(ctx).or_default().push(app);
        }
    }
    by_context
        .into_iter()
        .map(|(context, apps)| {
            // Attached before any status loads, so the first one already
            // asks for the kinds its app needs.
            let kinds_wanted = engine.live_cache().attach(&context);
            tokio::spawn(watch_context(
                engine.clone(),
                context,
                apps,
                kinds_wanted,
                record_namespace.clone(),
                tx.clone(),
            ))
        })
        .collect()
}

/// The watch of one kind's labelled objects (see `live_cache::watch_kind`):
/// which apps changed. Its first list is no change: every status of the
/// context waited for it and read it (unless one read the cluster around
/// it, `read_around`; then what it holds reloads). A re-list after an
/// error is news.
fn kind_stream(client: kube::Client, request: KindRequest) -> stream::BoxStream<'static, Seen> {
    let read_around = request.read_around.clone();
    let mut first = true;
    let mut listed: BTreeSet<AppId> = BTreeSet::new();
    live_cache::watch_kind(client, request)
        .map(move |e| match e {
            Ok(Event::Apply(o)) | Ok(Event::Delete(o)) | Ok(Event::InitApply(o)) => {
                let labels = o.metadata.labels.unwrap_or_default();
                let apps = labels.get(TRACKING_LABEL).map(AppId::native);
                if first {
                    listed.extend(apps);
                    return Seen::Healthy;
                }
                Seen::Apps(apps.into_iter().collect())
            }
            Ok(Event::InitDone) if first => {
                first = false;
                let listed = std::mem::take(&mut listed);
                if read_around.load(Ordering::Acquire) {
                    Seen::Apps(listed.into_iter().collect())
                } else {
                    Seen::Healthy
                }
            }
            Ok(Event::Init | Event::InitDone) => Seen::Healthy,
            Err(e) => Seen::Error(e),
        })
        .boxed()
}

/// The records' watch: which apps' records changed. Its first list reloads
/// only the apps whose status read another version of the record
/// (`LiveCache::records_listed`); later changes and re-lists reload theirs.
fn records_stream(
    client: kube::Client,
    live: Arc<LiveCache>,
    context: String,
    record_namespace: &str,
) -> stream::BoxStream<'static, Seen> {
    let mut first = true;
    let mut listed: HashMap<String, String> = HashMap::new();
    watcher::watcher(
        Api::<ConfigMap>::namespaced(client, record_namespace),
        watch_config().labels(&format!("{RECORD_LABEL}=true")),
    )
    .default_backoff()
    .map(move |e| {
        let of = |cm: &ConfigMap| {
            cm.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(RECORD_OF_LABEL))
                .cloned()
        };
        match e {
            Ok(Event::InitApply(cm)) if first => {
                if let (Some(app), Some(rv)) = (of(&cm), cm.metadata.resource_version.clone()) {
                    listed.insert(app, rv);
                }
                Seen::Healthy
            }
            Ok(Event::InitDone) if first => {
                first = false;
                let stale = live.records_listed(&context, std::mem::take(&mut listed));
                Seen::Apps(stale.iter().map(AppId::native).collect())
            }
            Ok(Event::Apply(cm)) | Ok(Event::InitApply(cm)) => {
                let app = of(&cm);
                if let Some(app) = &app {
                    live.record_changed(&context, app, cm.metadata.resource_version.as_deref());
                }
                Seen::Apps(app.iter().map(AppId::native).collect())
            }
            Ok(Event::Delete(cm)) => {
                let app = of(&cm);
                if let Some(app) = &app {
                    live.record_changed(&context, app, None);
                }
                Seen::Apps(app.iter().map(AppId::native).collect())
            }
            Ok(_) => Seen::Healthy,
            Err(e) => Seen::Error(e),
        }
    })
    .boxed()
}

async fn watch_context(
    engine: Arc<Engine>,
    context: String,
    apps: Vec<AppId>,
    mut kinds_wanted: UnboundedReceiver<KindRequest>,
    record_namespace: String,
    tx: UnboundedSender<Msg>,
) {
    // The watches end with this task, and the cache stops answering for
    // the context.
    let _detach = Detach(engine.live_cache(), context.clone());
    let Some(first) = apps.first() else { return };
    let cluster = match engine.cluster_of(first).await {
        Ok(c) => c,
        Err(e) => {
            let _ = tx.send(Msg::Connection {
                context,
                state: ConnectionState::Forbidden {
                    message: e.to_string(),
                },
            });
            return;
        }
    };
    let client = cluster.watch_client.clone();
    let probe_client = cluster.client.clone();
    let namespaces: HashMap<String, Vec<AppId>> = apps.iter().fold(HashMap::new(), |mut m, a| {
        if let Ok(cfg) = engine.app(a) {
            m.entry(cfg.namespace.clone()).or_default().push(a.clone());
        }
        m
    });
    let ours: BTreeSet<AppId> = apps.iter().cloned().collect();
    let records = records_stream(
        client.clone(),
        engine.live_cache(),
        context.clone(),
        &record_namespace,
    );
    let mut streams = vec![records];
    // ReplicaSets and Pods of the apps' namespaces only (not every
    // namespace of the cluster), one watch each, kept as compact shared
    // objects without managedFields (the tree never reads them). Over
    // HTTP/2 the watches of a context share its one connection.
    let mut owned_stores: HashMap<String, OwnedStores> = HashMap::new();
    for ns in namespaces.keys() {
        let (rs, pods) = (LiveStore::default(), LiveStore::default());
        let (rs_writer, pod_writer) = (rs.clone(), pods.clone());
        let seen = |ns: String| {
            move |e: Result<(), watcher::Error>| match e {
                Ok(()) => Seen::Owned {
                    namespace: ns.clone(),
                },
                Err(e) => Seen::Error(e),
            }
        };
        let rs_seen = seen(ns.clone());
        streams.push(
            watcher::watcher(
                Api::<ReplicaSet>::namespaced(client.clone(), ns),
                watch_config(),
            )
            .default_backoff()
            .modify(|o| o.metadata.managed_fields = None)
            .map(move |e| {
                let e = e.map(|e| {
                    rs_writer.apply(live_event(&e, |o| typed(o, "apps/v1", "ReplicaSet")))
                });
                rs_seen(e)
            })
            .boxed(),
        );
        let pod_seen = seen(ns.clone());
        streams.push(
            watcher::watcher(Api::<Pod>::namespaced(client.clone(), ns), watch_config())
                .default_backoff()
                .modify(|o| o.metadata.managed_fields = None)
                .map(move |e| {
                    let e = e.map(|e| pod_writer.apply(live_event(&e, |o| typed(o, "v1", "Pod"))));
                    pod_seen(e)
                })
                .boxed(),
        );
        owned_stores.insert(ns.clone(), OwnedStores { rs, pods });
    }

    // Kinds are watched as apps turn out to need them.
    let mut merged = stream::select_all(streams);
    let mut pending: BTreeSet<AppId> = BTreeSet::new();
    let mut owned_dirty: BTreeSet<String> = BTreeSet::new();
    let mut failures: u32 = 0;
    let mut connected = false;
    // Set by a watch error that a reachable server does not cure (403).
    let mut forbidden = false;
    // Armed by the first change after a flush: an idle context has no
    // timer at all (a 300 ms interval per context kept 100 contexts at 1%
    // of a core doing nothing).
    let mut flush_at: Option<tokio::time::Instant> = None;
    let mut probe = tokio::time::interval(PROBE);
    probe.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            Some(request) = kinds_wanted.recv() => {
                merged.push(kind_stream(client.clone(), request));
            }
            seen = merged.next() => {
                let Some(seen) = seen else { return };
                match seen {
                    Seen::Apps(apps) => {
                        pending.extend(apps.into_iter().filter(|a| ours.contains(a)));
                        if !pending.is_empty() && flush_at.is_none() {
                            flush_at = Some(tokio::time::Instant::now() + COALESCE);
                        }
                    }
                    Seen::Owned { namespace } => {
                        owned_dirty.insert(namespace);
                        if flush_at.is_none() {
                            flush_at = Some(tokio::time::Instant::now() + COALESCE);
                        }
                    }
                    Seen::Healthy => {}
                    Seen::Error(e) => {
                        tracing::warn!(%context, error = %e, "watch failed");
                        failures += 1;
                        connected = false;
                        let state = match live_cache::watch_forbidden(&e) {
                            Some(message) => {
                                forbidden = true;
                                ConnectionState::Forbidden { message: message.to_string() }
                            }
                            None => ConnectionState::Reconnecting { attempt: failures },
                        };
                        probe.reset();
                        let _ = tx.send(Msg::Connection { context: context.clone(), state });
                        continue;
                    }
                }
                if !connected {
                    connected = true;
                    forbidden = false;
                    failures = 0;
                    let _ = tx.send(Msg::Connection { context: context.clone(), state: ConnectionState::Connected });
                }
            }
            // A watch that failed resumes from its resourceVersion and then
            // stays silent until something changes: ask the server directly.
            _ = probe.tick(), if !connected && !forbidden && failures > 0 => {
                if probe_client.apiserver_version().await.is_ok() {
                    connected = true;
                    failures = 0;
                    let _ = tx.send(Msg::Connection { context: context.clone(), state: ConnectionState::Connected });
                }
            }
            _ = sleep_until_some(flush_at), if flush_at.is_some() => {
                flush_at = None;
                for app in std::mem::take(&mut pending) {
                    let _ = tx.send(Msg::AppChanged { app });
                }
                for ns in std::mem::take(&mut owned_dirty) {
                    let (Some(stores), Some(ns_apps)) = (owned_stores.get(&ns), namespaces.get(&ns)) else {
                        continue;
                    };
                    let objects = stores.objects();
                    for app in ns_apps {
                        let _ = tx.send(Msg::OwnedObjects { app: app.clone(), objects: objects.clone() });
                    }
                }
            }
        }
    }
}

/// The ReplicaSets and Pods of one namespace.
struct OwnedStores {
    rs: LiveStore,
    pods: LiveStore,
}

impl OwnedStores {
    /// Every object with its health (worked out here, off the UI thread,
    /// once per change of the namespace rather than per frame).
    fn objects(&self) -> Vec<OwnedObject> {
        let mut objects = self.rs.all();
        objects.extend(self.pods.all());
        objects.into_iter().map(OwnedObject::new).collect()
    }
}

/// A typed object as the tree keeps it.
fn typed<K: serde::Serialize>(o: &K, api_version: &str, kind: &str) -> LiveObject {
    let v = serde_json::to_value(o).unwrap_or(serde_json::Value::Null);
    LiveObject::new(&with_kind(v, api_version, kind))
}

async fn sleep_until_some(at: Option<tokio::time::Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

/// Detaches a context from the live cache when its watch task ends
/// (including when the TUI aborts it on quit).
struct Detach(Arc<LiveCache>, String);

impl Drop for Detach {
    fn drop(&mut self) {
        self.0.detach(&self.1);
    }
}

/// Typed objects serialise without apiVersion/kind; the tree needs them.
fn with_kind(mut v: serde_json::Value, api_version: &str, kind: &str) -> serde_json::Value {
    v["apiVersion"] = serde_json::json!(api_version);
    v["kind"] = serde_json::json!(kind);
    v
}
