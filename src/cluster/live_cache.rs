//! Live objects kept by watches: one watcher and reflector per (context,
//! kind) that any app needs, selecting the objects that carry the tracking
//! label, so a status refresh in the TUI reads the cluster from memory and
//! sends only the dry-runs it has not cached.
//!
//! The cache does not run watches itself: whoever keeps a context's watches
//! (the TUI runtime) attaches to it and receives a [`KindRequest`] the first
//! time an app of that context needs a kind. Until a context is attached,
//! and while a kind's watch is not listed yet or has failed, the cache
//! answers nothing and the engine reads the cluster directly, so the
//! command line (which attaches nothing) always computes from fresh reads.

use super::live_store::{live_event, LiveStore};
use super::{Kind, FIELD_MANAGER, TRACKING_LABEL};
use crate::model::LiveObject;
use futures::stream::BoxStream;
use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::sync::watch;

/// How long a status waits for a kind's first list before reading the
/// cluster itself (the list is one request per context and kind; reading
/// around it costs three requests per app and a reload when it lands).
pub const FIRST_LIST_WAIT: Duration = Duration::from_secs(5);

/// A watch to start: the kind, its store, and the flag its stream keeps
/// (true while the watch is delivering, false after an error).
pub struct KindRequest {
    pub kind: Kind,
    pub writer: LiveStore,
    pub healthy: Arc<watch::Sender<bool>>,
    /// Set when a status read the cluster itself because this watch had
    /// not listed yet: then its first list is news (reload what it holds);
    /// otherwise every status of the context waited for it and saw it.
    pub read_around: Arc<AtomicBool>,
    /// Set once the watch first delivered (its first list is whole).
    pub listed_once: Arc<AtomicBool>,
}

#[derive(Clone)]
struct Watched {
    store: LiveStore,
    /// Set by the watch: true from its first `InitDone` while it delivers,
    /// false after an error until it delivers again (an event after a
    /// resumed watch, or `InitDone` of a new list). Apply and Delete come
    /// only after a list, so true implies the store is listed. The store is
    /// served only while this is true.
    healthy: watch::Receiver<bool>,
    /// Whether it was ever true (a first list is waited for, a re-list not).
    listed_once: Arc<AtomicBool>,
    read_around: Arc<AtomicBool>,
}

/// (context, apiVersion, kind).
type WatchKey = (String, String, String);

#[derive(Default)]
pub struct LiveCache {
    attached: Mutex<HashMap<String, UnboundedSender<KindRequest>>>,
    watched: Mutex<HashMap<WatchKey, Watched>>,
    records: Mutex<HashMap<String, super::records_seen::RecordsSeen>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl LiveCache {
    /// Start serving `context` from watches; the receiver gets a request per
    /// kind to watch. Attaching again (a restarted runtime) starts over.
    pub fn attach(&self, context: &str) -> UnboundedReceiver<KindRequest> {
        let (tx, rx) = unbounded_channel();
        lock(&self.attached).insert(context.to_string(), tx);
        lock(&self.watched).retain(|(ctx, _, _), _| ctx != context);
        lock(&self.records).insert(context.to_string(), Default::default());
        rx
    }

    /// Stop serving `context` (its watches ended).
    pub fn detach(&self, context: &str) {
        lock(&self.attached).remove(context);
        lock(&self.watched).retain(|(ctx, _, _), _| ctx != context);
        lock(&self.records).remove(context);
    }

    /// The objects of `kind` labelled for `app`, with apiVersion and kind
    /// filled in, when a healthy, listed watch holds them (the store's own
    /// copies, shared). Otherwise None, and a watch of the kind is asked for
    /// if the context is attached.
    pub fn labelled(&self, context: &str, kind: &Kind, app: &str) -> Option<Vec<LiveObject>> {
        let watched = self.watched_or_ask(context, kind)?;
        if !*watched.healthy.borrow() {
            return None;
        }
        Some(watched.store.labelled(app))
    }

    /// [`LiveCache::labelled`], but a watch that has not listed yet is
    /// waited for (up to `wait`): the first screen reads each (context,
    /// kind) once, from its watch, instead of a LIST per app. A watch that
    /// failed after listing is not waited for (its re-list reloads).
    pub async fn labelled_listed(
        &self,
        context: &str,
        kind: &Kind,
        app: &str,
        wait: Duration,
    ) -> Option<Vec<LiveObject>> {
        if !lock(&self.attached).contains_key(context) {
            return None;
        }
        let watched = match self.watched_or_ask(context, kind) {
            Some(w) => w,
            None => self.watched_or_ask(context, kind)?,
        };
        if *watched.healthy.borrow() {
            return Some(watched.store.labelled(app));
        }
        if watched.listed_once.load(Ordering::Acquire) {
            return None;
        }
        let mut healthy = watched.healthy.clone();
        let listed = tokio::time::timeout(wait, healthy.wait_for(|h| *h)).await;
        if matches!(listed, Ok(Ok(_))) {
            return Some(watched.store.labelled(app));
        }
        // Read around it; its first list must then reload what it holds.
        // Checked again after saying so: a list that landed meanwhile is
        // whole, and serving it is right either way.
        watched.read_around.store(true, Ordering::Release);
        if *watched.healthy.borrow() {
            return Some(watched.store.labelled(app));
        }
        None
    }

    /// A status read `app`'s record at `resource_version` (None: no
    /// record). False when the context's record watch has listed a
    /// different one: the status then reads it again. Always true for a
    /// context no runtime attached (the command line).
    pub fn saw_record(&self, context: &str, app: &str, resource_version: Option<&str>) -> bool {
        lock(&self.records)
            .get_mut(context)
            .is_none_or(|r| r.saw(app, resource_version))
    }

    /// The record watch's first list of `context` landed, holding these
    /// (app, resourceVersion): the apps whose status already read another
    /// version, which must load again.
    pub fn records_listed(&self, context: &str, listed: HashMap<String, String>) -> Vec<String> {
        lock(&self.records)
            .get_mut(context)
            .map(|r| r.listed(listed))
            .unwrap_or_default()
    }

    /// The record watch saw `app`'s record change (None: deleted).
    pub fn record_changed(&self, context: &str, app: &str, resource_version: Option<&str>) {
        if let Some(r) = lock(&self.records).get_mut(context) {
            r.changed(app, resource_version);
        }
    }
}

impl LiveCache {
    /// The kind's watch, or None after asking the attached context for one.
    fn watched_or_ask(&self, context: &str, kind: &Kind) -> Option<Watched> {
        let key = (
            context.to_string(),
            kind.resource.api_version.clone(),
            kind.resource.kind.clone(),
        );
        let mut all = lock(&self.watched);
        if let Some(w) = all.get(&key) {
            return Some(w.clone());
        }
        let tx = lock(&self.attached).get(context)?.clone();
        let writer = LiveStore::default();
        let (healthy, receiver) = watch::channel(false);
        let watched = Watched {
            store: writer.clone(),
            healthy: receiver,
            listed_once: Arc::new(AtomicBool::new(false)),
            read_around: Arc::new(AtomicBool::new(false)),
        };
        let request = KindRequest {
            kind: kind.clone(),
            writer,
            healthy: Arc::new(healthy),
            read_around: watched.read_around.clone(),
            listed_once: watched.listed_once.clone(),
        };
        if tx.send(request).is_ok() {
            all.insert(key, watched);
        }
        None
    }
}

/// Run the watch `request` asks for: the kind's objects carrying the
/// tracking label, in all namespaces, into the request's store (each as
/// the JSON a status reads: apiVersion and kind filled in, managedFields
/// trimmed). The store swaps in a list only on `InitDone`, so objects
/// deleted while the watch was down leave the cache when it lists again;
/// until then (and after any error) the store is marked unhealthy and not
/// served.
pub fn watch_kind(
    client: kube::Client,
    request: KindRequest,
) -> BoxStream<'static, Result<Event<DynamicObject>, watcher::Error>> {
    let KindRequest {
        kind,
        writer,
        healthy,
        listed_once,
        ..
    } = request;
    let api: Api<DynamicObject> = Api::all_with(client, &kind.resource);
    watcher::watcher(api, watcher::Config::default().labels(TRACKING_LABEL))
        .default_backoff()
        .modify(trim_managed_fields)
        .inspect(move |e| {
            if let Ok(e) = e {
                writer.apply(live_event(e, |o| live_object(o, &kind)));
            }
        })
        .inspect(move |e| {
            let listing = matches!(e, Ok(Event::Init | Event::InitApply(_)));
            if e.is_err() {
                healthy.send_replace(false);
            } else if !listing {
                listed_once.store(true, Ordering::Release);
                healthy.send_replace(true);
            }
        })
        .boxed()
}

/// A watched object as the cache keeps it.
fn live_object(o: &DynamicObject, kind: &Kind) -> LiveObject {
    let v = serde_json::to_value(o).unwrap_or(Value::Null);
    LiveObject::new(&with_type(v, kind))
}

/// The server's message when a watch failed because it is forbidden (403:
/// RBAC, which a reachable server does not cure by retrying), else None.
pub fn watch_forbidden(e: &watcher::Error) -> Option<&str> {
    match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s))
            if s.code == 403 =>
        {
            Some(&s.message)
        }
        _ => None,
    }
}

/// List items and some watch events of built-in kinds come without
/// apiVersion and kind; keys and Secret masking need them.
pub fn with_type(mut v: Value, kind: &Kind) -> Value {
    if v.get("apiVersion").is_none_or(Value::is_null) {
        v["apiVersion"] = Value::String(kind.resource.api_version.clone());
    }
    if v.get("kind").is_none_or(Value::is_null) {
        v["kind"] = Value::String(kind.resource.kind.clone());
    }
    v
}

/// Keep of managedFields only what drift needs: this tool's own entry whole
/// (the local normaliser reads the fields it owns), the others without
/// their field sets (who wrote, and how, is enough). On a large cluster the
/// field sets are most of an object's size.
pub fn trim_managed_fields(o: &mut DynamicObject) {
    if let Some(entries) = o.metadata.managed_fields.as_mut() {
        for e in entries
            .iter_mut()
            .filter(|e| e.manager.as_deref() != Some(FIELD_MANAGER))
        {
            e.fields_v1 = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: u16, message: &str) -> kube::Error {
        let status: kube::core::Status =
            serde_json::from_value(serde_json::json!({"code": code, "message": message}))
                .expect("status");
        kube::Error::Api(Box::new(status))
    }

    #[test]
    fn only_a_403_is_a_forbidden_watch() {
        let refused = watcher::Error::InitialListFailed(api_error(403, "may not list"));
        assert_eq!(watch_forbidden(&refused), Some("may not list"));
        let resumed = watcher::Error::WatchFailed(api_error(403, "may not watch"));
        assert_eq!(watch_forbidden(&resumed), Some("may not watch"));
        let busy = watcher::Error::InitialListFailed(api_error(429, "slow down"));
        assert_eq!(watch_forbidden(&busy), None);
    }
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{FieldsV1, ManagedFieldsEntry};
    use kube::api::{ApiResource, GroupVersionKind};

    fn kind() -> Kind {
        Kind {
            resource: ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap")),
            namespaced: true,
        }
    }

    fn cm(name: &str, app: &str) -> DynamicObject {
        let mut o = DynamicObject::new(name, &kind().resource).within("ns");
        o.metadata.labels = Some([(TRACKING_LABEL.to_string(), app.to_string())].into());
        o
    }

    #[test]
    fn unattached_contexts_are_never_served_and_ask_for_nothing() {
        let cache = LiveCache::default();
        assert!(cache.labelled("ctx", &kind(), "web").is_none());
        assert!(lock(&cache.watched).is_empty());
    }

    #[test]
    fn serves_an_app_s_objects_once_listed_and_healthy_and_not_after_an_error() {
        let cache = LiveCache::default();
        let mut requests = cache.attach("ctx");
        assert!(cache.labelled("ctx", &kind(), "web").is_none());
        let request = requests.try_recv().expect("a watch is asked for");
        assert!(
            requests.try_recv().is_err(),
            "one request per kind, not per call"
        );
        assert!(cache.labelled("ctx", &kind(), "web").is_none());
        assert!(requests.try_recv().is_err());

        for e in [
            Event::Init,
            Event::InitApply(cm("a", "web")),
            Event::InitApply(cm("b", "other")),
            Event::InitDone,
        ] {
            request
                .writer
                .apply(live_event(&e, |o| live_object(o, &kind())));
        }
        assert!(
            cache.labelled("ctx", &kind(), "web").is_none(),
            "not healthy yet"
        );
        request.healthy.send_replace(true);
        let objects = cache.labelled("ctx", &kind(), "web").expect("served");
        assert_eq!(objects.len(), 1);
        let v = objects[0].value();
        assert_eq!(v["metadata"]["name"], "a");
        assert_eq!(v["kind"], "ConfigMap");
        assert_eq!(v["apiVersion"], "v1");
        let again = cache.labelled("ctx", &kind(), "web").expect("served");
        assert!(again[0].same(&objects[0]), "one copy, shared");

        request.healthy.send_replace(false);
        assert!(cache.labelled("ctx", &kind(), "web").is_none());

        cache.detach("ctx");
        assert!(cache.labelled("ctx", &kind(), "web").is_none());
        assert!(lock(&cache.watched).is_empty());
    }

    #[test]
    fn other_managers_lose_their_field_sets_ours_keeps_it() {
        let entry = |manager: &str| ManagedFieldsEntry {
            manager: Some(manager.into()),
            operation: Some("Apply".into()),
            fields_v1: Some(FieldsV1(serde_json::json!({"f:data": {}}))),
            ..Default::default()
        };
        let mut o = cm("a", "web");
        o.metadata.managed_fields = Some(vec![entry(FIELD_MANAGER), entry("kubectl")]);
        trim_managed_fields(&mut o);
        let m = o.metadata.managed_fields.expect("kept");
        assert!(m[0].fields_v1.is_some());
        assert!(m[1].fields_v1.is_none());
        assert_eq!(m[1].manager.as_deref(), Some("kubectl"));
    }
}
