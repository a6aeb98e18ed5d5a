//! Watches of the Flux and Argo CD controllers' own objects (Kustomization,
//! HelmRelease, GitRepository, OCIRepository, Application) in each context
//! that serves them, so their rows follow the controllers live: a change to
//! an app's object reloads that app, a change to a Flux source reloads the
//! apps that read from it, and an app object that comes or goes (or a
//! re-list that disagrees with the list shown) asks for a new discovery.
//! Kept apart from `watch.rs`, whose watches are scoped by native apps.

use crate::app::{AppEntry, Msg};
use crate::engine::managed_watch::WatchTarget;
use crate::engine::Engine;
use crate::model::AppId;
use crate::source::controllers::{self, ControllerKind};
use crate::source::flux;
use futures::{stream, StreamExt};
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// How long changes are gathered before the apps they touch reload.
const COALESCE: Duration = Duration::from_millis(300);

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
    Error,
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
            Err(_) => Seen::Error,
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
}

/// What the screen should do after an event.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Effectful {
    Reload(Vec<AppId>),
    Rediscover,
    Nothing,
}

impl Tracker {
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
                    return Effectful::Reload(vec![id]);
                }
                let new = self.apps.entry(kind).or_default().insert(id.clone());
                if new {
                    Effectful::Rediscover
                } else {
                    Effectful::Reload(vec![id])
                }
            }
            Seen::Deleted(kind, o) if is_app(kind) => {
                let id = controllers::app_id(kind, label, &o);
                self.apps.entry(kind).or_default().remove(&id);
                for set in self.readers.values_mut() {
                    set.remove(&id);
                }
                Effectful::Rediscover
            }
            Seen::Object(kind, o) | Seen::Deleted(kind, o) => {
                let text = |p: &str| o.pointer(p).and_then(Value::as_str).unwrap_or("");
                let key = (
                    kind,
                    text("/metadata/namespace").to_string(),
                    text("/metadata/name").to_string(),
                );
                Effectful::Reload(
                    self.readers
                        .get(&key)
                        .map(|s| s.iter().cloned().collect())
                        .unwrap_or_default(),
                )
            }
            Seen::Error => Effectful::Nothing,
        }
    }
}

fn is_app(kind: ControllerKind) -> bool {
    ControllerKind::APPS.contains(&kind)
}

async fn watch_context(engine: Arc<Engine>, target: WatchTarget, tx: UnboundedSender<Msg>) {
    let client = target.cluster.watch_client.clone();
    let streams: Vec<_> = target
        .kinds
        .iter()
        .map(|(kind, api)| kind_stream(client.clone(), *kind, api))
        .collect();
    let mut merged = stream::select_all(streams);
    let mut tracker = Tracker::default();
    let mut pending: BTreeSet<AppId> = BTreeSet::new();
    let mut flush = tokio::time::interval(COALESCE);
    loop {
        tokio::select! {
            seen = merged.next() => {
                let Some(seen) = seen else { return };
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
            _ = flush.tick() => {
                for app in std::mem::take(&mut pending) {
                    if tx.send(Msg::AppChanged { app }).is_err() {
                        return;
                    }
                }
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
        assert_eq!(
            t.seen(
                "",
                Seen::Object(k, ks("flux-system", "podinfo", "demo")),
                &shown
            ),
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
        assert_eq!(
            t.seen("", Seen::Object(g, repo), &shown),
            Effectful::Reload(vec![flux("new")])
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
}
