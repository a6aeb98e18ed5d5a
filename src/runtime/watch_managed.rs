//! Watches of the Flux and Argo CD controllers' own objects (Kustomization,
//! HelmRelease, GitRepository, OCIRepository, Application) in each context
//! that serves them, so their rows follow the controllers live: a change to
//! an app's object reloads that app, a change to a Flux source reloads the
//! apps that read from it, and an app object that comes or goes (or a
//! re-list that disagrees with the list shown) asks for a new discovery.
//! The controllers' CRDs are watched too (metadata only, every context of
//! the run, served kinds or not), so a `flux install` or an Argo CD removed
//! while the TUI runs makes their kinds' watches start or stop and the apps
//! appear or leave, without a restart. Kept apart from `watch.rs`, whose
//! watches are scoped by native apps.

use crate::app::{AppEntry, Msg};
use crate::engine::managed_watch::{crd_name, WatchTarget, WATCHED};
use crate::engine::Engine;
use crate::model::AppId;
use crate::source::controllers::{self, ControllerKind};
use crate::source::{flux, origin};
use futures::{stream, StreamExt};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject};
use kube::core::PartialObjectMeta;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// How long changes are gathered before the apps they touch reload.
const COALESCE: Duration = Duration::from_millis(300);
/// How long CRD changes are gathered before the served kinds are asked.
const CRD_SETTLE: Duration = Duration::from_millis(500);
/// How often the served kinds are asked again while they disagree with the
/// CRDs seen (a new CRD is served once Established), each wait doubled.
const CRD_RECHECKS: u32 = 5;

/// The managed apps the engine lists now, as rows for the reducer.
pub fn entries(engine: &Engine) -> Vec<AppEntry> {
    engine
        .apps()
        .into_iter()
        .filter(|id| !id.is_native())
        .map(|id| AppEntry {
            context: engine
                .context_of(&id)
                .unwrap_or_else(|_| "(no context)".into()),
            id,
        })
        .collect()
}

/// One task per context serving a controller kind, until aborted.
pub fn spawn(engine: Arc<Engine>, tx: UnboundedSender<Msg>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let targets = engine.managed_watch_targets().await;
        let tasks: Vec<_> = targets
            .into_iter()
            .map(|t| tokio::spawn(watch_context(engine.clone(), t, tx.clone())))
            .collect();
        // Aborting this task aborts the watches with it.
        let _abort = AbortAll(tasks);
        std::future::pending::<()>().await;
    })
}

struct AbortAll(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortAll {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// What one event of one kind's watch says.
pub(crate) enum Seen {
    Object(ControllerKind, Value),
    Deleted(ControllerKind, Value),
    /// A (re-)list began or ended.
    ListStart(ControllerKind),
    ListDone(ControllerKind),
    Error(ControllerKind, Failure),
}

/// A watch's failure, as the screen is told of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The server refused (403): RBAC, not the network.
    pub forbidden: bool,
    pub message: String,
}

impl Failure {
    fn of(e: &watcher::Error) -> Failure {
        match crate::cluster::live_cache::watch_forbidden(e) {
            Some(message) => Failure {
                forbidden: true,
                message: message.to_string(),
            },
            None => Failure {
                forbidden: false,
                message: e.to_string(),
            },
        }
    }
}

fn kind_stream(
    client: kube::Client,
    kind: ControllerKind,
    api: &crate::cluster::Kind,
) -> stream::BoxStream<'static, Seen> {
    let objects: Api<DynamicObject> = Api::all_with(client, &api.resource);
    let value = |o: DynamicObject| serde_json::to_value(o).unwrap_or(Value::Null);
    watcher::watcher(objects, watcher::Config::default())
        .default_backoff()
        .map(move |e| match e {
            Ok(Event::Apply(o)) | Ok(Event::InitApply(o)) => Seen::Object(kind, value(o)),
            Ok(Event::Delete(o)) => Seen::Deleted(kind, value(o)),
            Ok(Event::Init) => Seen::ListStart(kind),
            Ok(Event::InitDone) => Seen::ListDone(kind),
            Err(e) => Seen::Error(kind, Failure::of(&e)),
        })
        .boxed()
}

/// What a watch of the objects Flux applied says.
enum Applied {
    /// An object of this Kustomization changed or went.
    Changed(AppId),
    Listed(String),
    Error(String, Failure),
    Other,
}

/// The objects of one kind that Flux applied (its owner label), metadata
/// only, in every namespace: a hand edit under a Flux app reloads that app
/// (kustomize-controller does not watch them: it puts them back at its
/// next interval, and its Kustomization does not change meanwhile). The
/// first list is what is known; only later changes count.
fn applied_stream(
    client: kube::Client,
    api: &crate::cluster::Kind,
    label: String,
) -> stream::BoxStream<'static, Applied> {
    let objects: Api<PartialObjectMeta<DynamicObject>> = Api::all_with(client, &api.resource);
    let what = format!("{}s applied by Flux", api.resource.kind);
    let config = watcher::Config::default().labels(origin::FLUX_NAME_LABEL);
    watcher::watcher(objects, config)
        .default_backoff()
        .map(move |e| match e {
            Ok(Event::Apply(m)) | Ok(Event::Delete(m)) => {
                let labels = m.metadata.labels.unwrap_or_default();
                match (
                    labels.get(origin::FLUX_NAMESPACE_LABEL),
                    labels.get(origin::FLUX_NAME_LABEL),
                ) {
                    (Some(ns), Some(name)) => Applied::Changed(AppId::managed(
                        crate::model::AppSource::Flux,
                        label.clone(),
                        ns.clone(),
                        name.clone(),
                    )),
                    _ => Applied::Other,
                }
            }
            Ok(Event::InitDone) => Applied::Listed(what.clone()),
            Ok(_) => Applied::Other,
            Err(e) => Applied::Error(what.clone(), Failure::of(&e)),
        })
        .boxed()
}

/// The watched state of one context, kept to know whom an event concerns.
#[derive(Default)]
pub(crate) struct Tracker {
    /// Apps per kind as the watches see them.
    apps: BTreeMap<ControllerKind, BTreeSet<AppId>>,
    /// Apps seen since the running (re-)list of a kind began.
    listing: BTreeMap<ControllerKind, BTreeSet<AppId>>,
    /// The Flux apps reading each source: (kind, namespace, name).
    readers: BTreeMap<(ControllerKind, String, String), BTreeSet<AppId>>,
    /// What each object said last, less the bookkeeping its controller
    /// rewrites on every pass ([`fingerprint`]).
    prints: HashMap<(ControllerKind, String, String), u64>,
}

/// An object's content but what its controller rewrites without anything
/// having changed: `resourceVersion`, `managedFields`, Argo CD's
/// `reconciledAt` and `observedAt` (every application, every three minutes
/// by default). An app reloads only when its fingerprint changes: each
/// reload GETs every resource again and compares its drift (the dry-run
/// answers are cached while an object is unchanged), so 1,000 Argo CD apps
/// of 20 objects reloading on each pass would send over a hundred GETs a
/// second to a cluster where nothing changed.
fn fingerprint(o: &Value) -> u64 {
    let mut v = o.clone();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
        m.remove("managedFields");
    }
    if let Some(s) = v.get_mut("status").and_then(Value::as_object_mut) {
        s.remove("reconciledAt");
        s.remove("observedAt");
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.to_string().hash(&mut h);
    h.finish()
}

fn object_key(kind: ControllerKind, o: &Value) -> (ControllerKind, String, String) {
    let text = |p: &str| o.pointer(p).and_then(Value::as_str).unwrap_or("");
    (
        kind,
        text("/metadata/namespace").to_string(),
        text("/metadata/name").to_string(),
    )
}

/// What the screen should do after an event.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Effectful {
    Reload(Vec<AppId>),
    Rediscover,
    Nothing,
}

impl Tracker {
    /// The Flux apps reading the source `key`.
    fn readers_of(&self, key: &(ControllerKind, String, String)) -> Vec<AppId> {
        self.readers
            .get(key)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// `listed`: the apps the screen lists now (for a finished re-list).
    pub(crate) fn seen(&mut self, label: &str, seen: Seen, listed: &[AppId]) -> Effectful {
        match seen {
            Seen::ListStart(kind) => {
                self.listing.insert(kind, BTreeSet::new());
                Effectful::Nothing
            }
            Seen::ListDone(kind) => {
                let Some(now) = self.listing.remove(&kind) else {
                    return Effectful::Nothing;
                };
                if !is_app(kind) {
                    return Effectful::Nothing;
                }
                let shown: BTreeSet<AppId> = listed
                    .iter()
                    .filter(|a| a.source == kind.source() && a.context == label)
                    .cloned()
                    .collect();
                // Objects not seen again in a re-list are gone.
                self.apps.insert(kind, now.clone());
                let of_source: BTreeSet<AppId> = self
                    .apps
                    .iter()
                    .filter(|(k, _)| k.source() == kind.source())
                    .flat_map(|(_, s)| s.iter().cloned())
                    .collect();
                if of_source == shown {
                    Effectful::Nothing
                } else {
                    Effectful::Rediscover
                }
            }
            Seen::Object(kind, o) if is_app(kind) => {
                let id = controllers::app_id(kind, label, &o);
                let print = fingerprint(&o);
                let changed = self.prints.insert(object_key(kind, &o), print) != Some(print);
                if let Some((sk, ns, name)) = flux::source_ref(&o) {
                    for set in self.readers.values_mut() {
                        set.remove(&id);
                    }
                    self.readers
                        .entry((sk, ns, name))
                        .or_default()
                        .insert(id.clone());
                }
                if let Some(listing) = self.listing.get_mut(&kind) {
                    listing.insert(id.clone());
                    return if changed {
                        Effectful::Reload(vec![id])
                    } else {
                        Effectful::Nothing
                    };
                }
                let new = self.apps.entry(kind).or_default().insert(id.clone());
                match (new, changed) {
                    (true, _) => Effectful::Rediscover,
                    (false, true) => Effectful::Reload(vec![id]),
                    (false, false) => Effectful::Nothing,
                }
            }
            Seen::Deleted(kind, o) if is_app(kind) => {
                self.prints.remove(&object_key(kind, &o));
                let id = controllers::app_id(kind, label, &o);
                self.apps.entry(kind).or_default().remove(&id);
                for set in self.readers.values_mut() {
                    set.remove(&id);
                }
                Effectful::Rediscover
            }
            Seen::Deleted(kind, o) => {
                let key = object_key(kind, &o);
                self.prints.remove(&key);
                Effectful::Reload(self.readers_of(&key))
            }
            Seen::Object(kind, o) => {
                // A source rewritten with nothing new (a fetch that found
                // the same revision) reloads no reader.
                let key = object_key(kind, &o);
                let print = fingerprint(&o);
                if self.prints.insert(key.clone(), print) == Some(print) {
                    return Effectful::Nothing;
                }
                Effectful::Reload(self.readers_of(&key))
            }
            Seen::Error(..) => Effectful::Nothing,
        }
    }
}

fn is_app(kind: ControllerKind) -> bool {
    ControllerKind::APPS.contains(&kind)
}

/// What a CRD watch says about the controllers' CRDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CrdSeen {
    Present(String),
    Gone(String),
    ListStart,
    ListDone,
    Error(Failure),
}

fn crd_stream(client: kube::Client) -> stream::BoxStream<'static, CrdSeen> {
    // Metadata only: a CRD's schema can be hundreds of kilobytes.
    let crds: Api<PartialObjectMeta<CustomResourceDefinition>> = Api::all(client);
    let name = |m: &PartialObjectMeta<CustomResourceDefinition>| {
        m.metadata.name.clone().unwrap_or_default()
    };
    watcher::watcher(crds, watcher::Config::default())
        .default_backoff()
        .map(move |e| match e {
            Ok(Event::Apply(m)) | Ok(Event::InitApply(m)) => CrdSeen::Present(name(&m)),
            Ok(Event::Delete(m)) => CrdSeen::Gone(name(&m)),
            Ok(Event::Init) => CrdSeen::ListStart,
            Ok(Event::InitDone) => CrdSeen::ListDone,
            Err(e) => CrdSeen::Error(Failure::of(&e)),
        })
        .boxed()
}

/// Which of the controllers' CRDs one context has, as its CRD watch sees
/// them; says when that changed (the served kinds are then asked again).
#[derive(Debug)]
pub(crate) struct CrdTracker {
    known: BTreeSet<String>,
    listing: Option<BTreeSet<String>>,
}

impl CrdTracker {
    /// Starting from the CRDs of the kinds served now.
    pub(crate) fn new(served: impl IntoIterator<Item = ControllerKind>) -> Self {
        CrdTracker {
            known: served.into_iter().map(crd_name).collect(),
            listing: None,
        }
    }

    fn relevant(name: &str) -> bool {
        WATCHED.into_iter().any(|k| crd_name(k) == name)
    }

    /// The CRD names of the kinds watched that the cluster has now.
    pub(crate) fn known(&self) -> &BTreeSet<String> {
        &self.known
    }

    /// True when the controllers' CRDs changed.
    pub(crate) fn seen(&mut self, seen: CrdSeen) -> bool {
        match seen {
            CrdSeen::ListStart => {
                self.listing = Some(BTreeSet::new());
                false
            }
            CrdSeen::Present(name) if Self::relevant(&name) => match &mut self.listing {
                Some(listing) => {
                    listing.insert(name);
                    false
                }
                // A new CRD, or one changed (Established, a new version).
                None => {
                    self.known.insert(name);
                    true
                }
            },
            CrdSeen::Gone(name) if Self::relevant(&name) => {
                if let Some(listing) = &mut self.listing {
                    listing.remove(&name);
                }
                self.known.remove(&name);
                true
            }
            CrdSeen::ListDone => match self.listing.take() {
                Some(now) if now != self.known => {
                    self.known = now;
                    true
                }
                _ => false,
            },
            CrdSeen::Present(_) | CrdSeen::Gone(_) | CrdSeen::Error(_) => false,
        }
    }
}

/// What one context's managed watches tell the screen of their own state:
/// the status bar's connection where no native app's watches say it (a
/// context of Flux or Argo CD apps only), and, once until it works again,
/// a notice for each thing the server forbids watching. (Both were dropped:
/// a context of managed apps only read "not connected" for good, and a
/// CRD watch without RBAC retried in silence.)
pub(crate) struct Reporter {
    context: String,
    /// No native app is in this context: these watches own its state.
    drives: bool,
    connected: bool,
    failures: u32,
    /// What was said to be forbidden, until it works.
    told: BTreeSet<String>,
}

impl Reporter {
    pub(crate) fn new(context: &str, drives: bool) -> Reporter {
        Reporter {
            context: context.to_string(),
            drives,
            connected: false,
            failures: 0,
            told: BTreeSet::new(),
        }
    }

    /// `what` (`Kustomizations`, `CustomResourceDefinitions`) failed; the server's whole answer goes to the log.
    pub(crate) fn failed(&mut self, what: &str, f: &Failure) -> Vec<Msg> {
        tracing::warn!(context = %self.context, what, error = %f.message, "watch failed");
        if f.forbidden {
            if !self.told.insert(what.to_string()) {
                return vec![];
            }
            // One line of the screen: the server's whole answer is in the log.
            let then = if what == CRDS {
                "Flux or Argo CD installed from now on shows on R"
            } else {
                "their rows follow changes on R only"
            };
            return vec![Msg::Notice {
                text: format!("{}: watching {what} is forbidden; {then}", self.context),
            }];
        }
        self.failures += 1;
        self.connected = false;
        if !self.drives {
            return vec![];
        }
        vec![Msg::Connection {
            context: self.context.clone(),
            state: crate::app::ConnectionState::Reconnecting {
                attempt: self.failures,
            },
        }]
    }

    /// `what` delivered an answer.
    pub(crate) fn working(&mut self, what: &str) -> Vec<Msg> {
        self.told.remove(what);
        if self.connected {
            return vec![];
        }
        self.connected = true;
        self.failures = 0;
        if !self.drives {
            return vec![];
        }
        vec![Msg::Connection {
            context: self.context.clone(),
            state: crate::app::ConnectionState::Connected,
        }]
    }
}

const CRDS: &str = "CustomResourceDefinitions";

fn names(kinds: &[(ControllerKind, crate::cluster::Kind)]) -> BTreeSet<String> {
    kinds.iter().map(|(k, _)| crd_name(*k)).collect()
}

/// One context: the watches of the kinds it serves, restarted whenever the
/// CRD watch shows the served kinds changed.
async fn watch_context(engine: Arc<Engine>, target: WatchTarget, tx: UnboundedSender<Msg>) {
    let client = target.cluster.watch_client.clone();
    let mut kinds = target.kinds;
    let mut crds = crd_stream(client.clone());
    let mut crd_tracker = CrdTracker::new(kinds.iter().map(|(k, _)| *k));
    let drives = !engine.apps().iter().any(|id| {
        id.is_native()
            && engine
                .context_of(id)
                .is_ok_and(|c| c == target.cluster.context)
    });
    let mut reporter = Reporter::new(&target.cluster.context, drives);
    let tell = |msgs: Vec<Msg>| msgs.into_iter().all(|m| tx.send(m).is_ok());
    loop {
        let streams: Vec<_> = kinds
            .iter()
            .map(|(kind, api)| kind_stream(client.clone(), *kind, api))
            .collect();
        let watching = !streams.is_empty();
        let mut merged = stream::select_all(streams);
        // The kinds in the Flux inventories seen, each watched once.
        let mut applied = stream::SelectAll::new();
        let mut applied_kinds: BTreeSet<(String, String)> = BTreeSet::new();
        let mut tracker = Tracker::default();
        let mut pending: BTreeSet<AppId> = BTreeSet::new();
        let mut flush = tokio::time::interval(COALESCE);
        // When to ask for the served kinds again, and how many times so far.
        let mut recheck: Option<tokio::time::Instant> = None;
        let mut rechecks = 0;
        loop {
            let at = recheck.unwrap_or_else(tokio::time::Instant::now);
            tokio::select! {
                seen = merged.next(), if watching => {
                    let Some(seen) = seen else { return };
                    let told = match &seen {
                        Seen::Error(kind, f) => reporter.failed(&format!("{}s", kind.kind()), f),
                        Seen::Object(kind, _) | Seen::Deleted(kind, _) | Seen::ListDone(kind) => {
                            reporter.working(&format!("{}s", kind.kind()))
                        }
                        Seen::ListStart(_) => vec![],
                    };
                    if !tell(told) {
                        return;
                    }
                    if let Seen::Object(ControllerKind::FluxKustomization, o) = &seen {
                        for r in flux::inventory(o) {
                            let key = (r.api_version.clone(), r.key.kind.clone());
                            if applied_kinds.contains(&key) {
                                continue;
                            }
                            // A kind not served is given up on; one discovery
                            // could not answer for is asked again by the next
                            // Kustomization that lists it.
                            match engine.served_kind(&target.cluster, &r.api_version, &r.key.kind).await {
                                Ok(Some(api)) => {
                                    applied.push(applied_stream(client.clone(), &api, target.label.clone()));
                                    applied_kinds.insert(key);
                                }
                                Ok(None) => {
                                    applied_kinds.insert(key);
                                }
                                Err(e) => tracing::warn!(context = %target.cluster.context, kind = %r.key.kind, error = %e, "cannot resolve a kind Flux applied"),
                            }
                        }
                    }
                    match tracker.seen(&target.label, seen, &engine.apps()) {
                        Effectful::Reload(apps) => pending.extend(apps),
                        Effectful::Rediscover => {
                            if tx.send(Msg::ManagedSetChanged).is_err() {
                                return;
                            }
                        }
                        Effectful::Nothing => {}
                    }
                }
                seen = applied.next(), if !applied.is_empty() => {
                    let told = match seen {
                        Some(Applied::Changed(app)) => {
                            pending.insert(app);
                            vec![]
                        }
                        Some(Applied::Listed(what)) => reporter.working(&what),
                        Some(Applied::Error(what, f)) => reporter.failed(&what, &f),
                        Some(Applied::Other) | None => vec![],
                    };
                    if !tell(told) {
                        return;
                    }
                }
                crd = crds.next() => {
                    let Some(crd) = crd else { return };
                    let told = match &crd {
                        CrdSeen::Error(f) => reporter.failed(CRDS, f),
                        CrdSeen::ListStart => vec![],
                        _ => reporter.working(CRDS),
                    };
                    if !tell(told) {
                        return;
                    }
                    if crd_tracker.seen(crd) {
                        recheck = Some(tokio::time::Instant::now() + CRD_SETTLE);
                        rechecks = 0;
                    }
                }
                _ = tokio::time::sleep_until(at), if recheck.is_some() => {
                    let now = engine.served_controller_kinds(&target.cluster, true).await;
                    if names(&now) != names(&kinds) {
                        kinds = now;
                        if tx.send(Msg::ManagedSetChanged).is_err() {
                            return;
                        }
                        break;
                    }
                    // Served kinds and CRDs disagree (a CRD not Established
                    // yet, or one deleted still served): ask a few times more.
                    rechecks += 1;
                    recheck = (names(&now) != *crd_tracker.known() && rechecks < CRD_RECHECKS)
                        .then(|| tokio::time::Instant::now() + CRD_SETTLE * 2u32.pow(rechecks));
                }
                _ = flush.tick() => {
                    for app in std::mem::take(&mut pending) {
                        if tx.send(Msg::AppChanged { app }).is_err() {
                            return;
                        }
                    }
                }
            }
        }
        for app in pending {
            if tx.send(Msg::AppChanged { app }).is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AppSource;
    use serde_json::json;

    fn ks(ns: &str, name: &str, repo: &str) -> Value {
        json!({"metadata": {"namespace": ns, "name": name},
            "spec": {"sourceRef": {"kind": "GitRepository", "name": repo}}})
    }

    fn flux(name: &str) -> AppId {
        AppId::managed(AppSource::Flux, "", "flux-system", name)
    }

    #[test]
    fn a_listed_app_reloads_a_new_one_rediscovers_a_source_reloads_its_readers() {
        let k = ControllerKind::FluxKustomization;
        let g = ControllerKind::FluxGitRepository;
        let mut t = Tracker::default();
        let shown = vec![flux("podinfo")];
        t.seen("", Seen::ListStart(k), &shown);
        assert_eq!(
            t.seen(
                "",
                Seen::Object(k, ks("flux-system", "podinfo", "demo")),
                &shown
            ),
            Effectful::Reload(vec![flux("podinfo")])
        );
        assert_eq!(t.seen("", Seen::ListDone(k), &shown), Effectful::Nothing);
        // Its object changes: that app reloads.
        let mut changed = ks("flux-system", "podinfo", "demo");
        changed["spec"]["suspend"] = json!(true);
        assert_eq!(
            t.seen("", Seen::Object(k, changed), &shown),
            Effectful::Reload(vec![flux("podinfo")])
        );
        // The GitRepository it reads changes: it reloads too.
        let repo = json!({"metadata": {"namespace": "flux-system", "name": "demo"}});
        assert_eq!(
            t.seen("", Seen::Object(g, repo.clone()), &shown),
            Effectful::Reload(vec![flux("podinfo")])
        );
        let other = json!({"metadata": {"namespace": "flux-system", "name": "other"}});
        assert_eq!(
            t.seen("", Seen::Object(g, other), &shown),
            Effectful::Reload(vec![])
        );
        // A new Kustomization or a deleted one: look for apps again.
        assert_eq!(
            t.seen(
                "",
                Seen::Object(k, ks("flux-system", "new", "demo")),
                &shown
            ),
            Effectful::Rediscover
        );
        assert_eq!(
            t.seen(
                "",
                Seen::Deleted(k, ks("flux-system", "podinfo", "demo")),
                &shown
            ),
            Effectful::Rediscover
        );
        let mut fetched = repo;
        fetched["status"] = json!({"artifact": {"revision": "main@sha1:2"}});
        assert_eq!(
            t.seen("", Seen::Object(g, fetched), &shown),
            Effectful::Reload(vec![flux("new")])
        );
    }

    fn argo(rv: &str, reconciled: &str, sync: &str) -> Value {
        json!({"metadata": {"namespace": "argocd", "name": "web", "resourceVersion": rv,
                "managedFields": [{"manager": "argocd-application-controller", "time": reconciled}]},
            "spec": {"source": {"path": "deploy"}},
            "status": {"reconciledAt": reconciled, "observedAt": reconciled,
                "sync": {"status": sync}}})
    }

    /// Argo CD rewrites every application on each pass (`reconciledAt`,
    /// every three minutes by default): that reloads nothing, and nor does
    /// a re-list or a source fetch that finds what was already known. A
    /// reload GETs every resource again and compares its drift.
    #[test]
    fn an_object_rewritten_with_nothing_new_reloads_nothing() {
        let a = ControllerKind::ArgoApplication;
        let g = ControllerKind::FluxGitRepository;
        let web = AppId::managed(AppSource::ArgoCd, "", "argocd", "web");
        let shown = vec![web.clone()];
        let mut t = Tracker::default();
        t.seen("", Seen::ListStart(a), &shown);
        assert_eq!(
            t.seen("", Seen::Object(a, argo("1", "10:00", "Synced")), &shown),
            Effectful::Reload(vec![web.clone()]),
            "the first list reloads (it may be newer than discovery's read)"
        );
        t.seen("", Seen::ListDone(a), &shown);
        assert_eq!(
            t.seen("", Seen::Object(a, argo("2", "10:03", "Synced")), &shown),
            Effectful::Nothing,
            "a pass that changed nothing"
        );
        assert_eq!(
            t.seen("", Seen::Object(a, argo("3", "10:06", "OutOfSync")), &shown),
            Effectful::Reload(vec![web.clone()]),
            "the controller saw drift"
        );
        // A re-list (after a 410) of what is known: nothing.
        t.seen("", Seen::ListStart(a), &shown);
        assert_eq!(
            t.seen("", Seen::Object(a, argo("9", "10:09", "OutOfSync")), &shown),
            Effectful::Nothing
        );
        assert_eq!(t.seen("", Seen::ListDone(a), &shown), Effectful::Nothing);
        // Deleted and made again with the same content: seen as new.
        t.seen(
            "",
            Seen::Deleted(a, argo("9", "10:09", "OutOfSync")),
            &shown,
        );
        assert_eq!(
            t.seen(
                "",
                Seen::Object(a, argo("12", "10:12", "OutOfSync")),
                &shown
            ),
            Effectful::Rediscover
        );
        // A Flux source: the same answer twice reloads its readers once, and
        // its deletion reloads them whatever it said.
        let k = ControllerKind::FluxKustomization;
        t.seen(
            "",
            Seen::Object(k, ks("flux-system", "podinfo", "demo")),
            &shown,
        );
        let repo = json!({"metadata": {"namespace": "flux-system", "name": "demo", "resourceVersion": "5"},
            "status": {"artifact": {"revision": "main@sha1:1"}}});
        assert_eq!(
            t.seen("", Seen::Object(g, repo.clone()), &shown),
            Effectful::Reload(vec![flux("podinfo")])
        );
        let mut again = repo.clone();
        again["metadata"]["resourceVersion"] = json!("6");
        assert_eq!(
            t.seen("", Seen::Object(g, again), &shown),
            Effectful::Nothing
        );
        assert_eq!(
            t.seen("", Seen::Deleted(g, repo), &shown),
            Effectful::Reload(vec![flux("podinfo")])
        );
    }

    #[test]
    fn a_relist_that_disagrees_with_the_screen_rediscovers() {
        let k = ControllerKind::FluxKustomization;
        let mut t = Tracker::default();
        // The screen lists an app the cluster no longer has (deleted during an outage).
        let shown = vec![flux("podinfo"), flux("gone")];
        t.seen("", Seen::ListStart(k), &shown);
        t.seen(
            "",
            Seen::Object(k, ks("flux-system", "podinfo", "demo")),
            &shown,
        );
        assert_eq!(t.seen("", Seen::ListDone(k), &shown), Effectful::Rediscover);
        // Apps of another context are not this watch's to judge.
        let elsewhere = vec![
            flux("podinfo"),
            AppId::managed(AppSource::Flux, "prod", "flux-system", "x"),
        ];
        t.seen("", Seen::ListStart(k), &elsewhere);
        t.seen(
            "",
            Seen::Object(k, ks("flux-system", "podinfo", "demo")),
            &elsewhere,
        );
        assert_eq!(
            t.seen("", Seen::ListDone(k), &elsewhere),
            Effectful::Nothing
        );
    }

    #[test]
    fn the_crd_tracker_says_when_the_controllers_crds_come_or_go() {
        let ks = "kustomizations.kustomize.toolkit.fluxcd.io".to_string();
        let app = "applications.argoproj.io".to_string();
        let mut t = CrdTracker::new([ControllerKind::ArgoApplication]);
        // The first list agrees with what is served: nothing to do.
        assert!(!t.seen(CrdSeen::ListStart));
        assert!(!t.seen(CrdSeen::Present(app.clone())));
        assert!(!t.seen(CrdSeen::Present("certificates.cert-manager.io".into())));
        assert!(!t.seen(CrdSeen::ListDone));
        // flux install: the Kustomization CRD appears.
        assert!(t.seen(CrdSeen::Present(ks.clone())));
        // Others' CRDs are not ours to follow.
        assert!(!t.seen(CrdSeen::Present("widgets.example.com".into())));
        assert!(!t.seen(CrdSeen::Gone("widgets.example.com".into())));
        // Argo CD removed.
        assert!(t.seen(CrdSeen::Gone(app.clone())));
        assert_eq!(
            t.known().iter().cloned().collect::<Vec<_>>(),
            vec![ks.clone()]
        );
        // A re-list after an outage that finds Argo CD back.
        t.seen(CrdSeen::ListStart);
        t.seen(CrdSeen::Present(ks.clone()));
        t.seen(CrdSeen::Present(app.clone()));
        assert!(t.seen(CrdSeen::ListDone));
        // And one that finds the same.
        t.seen(CrdSeen::ListStart);
        t.seen(CrdSeen::Present(ks));
        t.seen(CrdSeen::Present(app));
        assert!(!t.seen(CrdSeen::ListDone));
        assert!(!t.seen(CrdSeen::Error(Failure {
            forbidden: false,
            message: "connection refused".into()
        })));
    }

    fn forbidden() -> Failure {
        Failure {
            forbidden: true,
            message: "customresourcedefinitions.apiextensions.k8s.io is forbidden: User \"dev\" cannot watch resource".into(),
        }
    }

    fn refused() -> Failure {
        Failure {
            forbidden: false,
            message: "error trying to connect: tcp connect error: Connection refused".into(),
        }
    }

    fn connection(msgs: &[Msg]) -> Vec<String> {
        msgs.iter()
            .filter_map(|m| match m {
                Msg::Connection { context, state } => Some(format!("{context}: {state:?}")),
                _ => None,
            })
            .collect()
    }

    fn notices(msgs: &[Msg]) -> Vec<String> {
        msgs.iter()
            .filter_map(|m| match m {
                Msg::Notice { text } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_forbidden_watch_is_said_once_until_it_works() {
        let mut r = Reporter::new("prod", false);
        let first = r.failed(CRDS, &forbidden());
        let said = notices(&first);
        assert_eq!(said.len(), 1, "{said:?}");
        assert_eq!(
            said,
            ["prod: watching CustomResourceDefinitions is forbidden; Flux or Argo CD installed from now on shows on R"]
        );
        // The watch retries with a back-off: nothing more is said.
        assert!(r.failed(CRDS, &forbidden()).is_empty());
        // Another kind forbidden is its own notice.
        let ks = notices(&r.failed("Kustomizations", &forbidden()));
        assert!(
            ks.len() == 1
                && ks[0].contains("watching Kustomizations is forbidden")
                && ks[0].ends_with("follow changes on R only"),
            "{ks:?}"
        );
        // Once the CRD watch works and then is refused again, it is said again.
        r.working(CRDS);
        assert_eq!(notices(&r.failed(CRDS, &forbidden())).len(), 1);
        // A forbidden watch is not the context's connection.
        let mut drives = Reporter::new("prod", true);
        assert!(connection(&drives.failed(CRDS, &forbidden())).is_empty());
    }

    #[test]
    fn a_context_of_managed_apps_only_gets_its_connection_state_from_these_watches() {
        let mut r = Reporter::new("edge", true);
        assert_eq!(
            connection(&r.working("Kustomizations")),
            ["edge: Connected"]
        );
        // Every answer after that says nothing new.
        assert!(r.working("Kustomizations").is_empty());
        assert!(r.working(CRDS).is_empty());
        assert_eq!(
            connection(&r.failed("Kustomizations", &refused())),
            ["edge: Reconnecting { attempt: 1 }"]
        );
        assert_eq!(
            connection(&r.failed(CRDS, &refused())),
            ["edge: Reconnecting { attempt: 2 }"]
        );
        assert!(
            notices(&r.failed(CRDS, &refused())).is_empty(),
            "no notice for the network"
        );
        assert_eq!(connection(&r.working(CRDS)), ["edge: Connected"]);
        // Where native apps' watches own the context, these say nothing of it.
        let mut beside = Reporter::new("dev", false);
        assert!(beside.working("Kustomizations").is_empty());
        assert!(beside.failed("Kustomizations", &refused()).is_empty());
        assert!(beside.working("Kustomizations").is_empty());
    }
}
