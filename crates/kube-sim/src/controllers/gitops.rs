//! Simulated GitOps controllers: Flux's source, kustomize and helm
//! controllers and Argo CD's application controller, off unless asked for
//! (`Options::controllers`, `--controllers flux,argocd`).
//!
//! They are simulations, not the real controllers: they resolve only local
//! repositories (a path or `file://` URL), but they write the same fields,
//! condition types, reasons and revision formats the real ones write, so a
//! client that observes and steers Flux and Argo CD objects is tested against
//! the real API shapes. They run apart from the workload controllers because
//! they do slow work (git, kustomize) and talk to the server as the real ones
//! do: over HTTP with the admin's credentials, server-side apply and patches,
//! so every write goes through the same pipeline as any client's. Their own
//! requests carry an internal header, so they are kept out of the request log
//! and never hit injected faults (tests assert on their own requests).

use super::{argocd, flux_helm, flux_kustomize, flux_source};
use crate::server::Shared;
use crate::store::{Event, EventType};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

/// Which simulated GitOps controllers run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GitOpsControllers {
    /// source-controller (GitRepository), kustomize-controller
    /// (Kustomization) and helm-controller (HelmRelease, status only).
    pub flux: bool,
    /// argocd-application-controller (Application).
    pub argocd: bool,
}

impl GitOpsControllers {
    pub fn any(self) -> bool {
        self.flux || self.argocd
    }
}

impl FromStr for GitOpsControllers {
    type Err = String;

    /// A comma-separated list: `flux`, `argocd`, or `none`.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut c = GitOpsControllers::default();
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "flux" => c.flux = true,
                "argocd" => c.argocd = true,
                "none" => {}
                other => {
                    return Err(format!(
                        "unknown controller {other:?}: expected flux, argocd or none"
                    ))
                }
            }
        }
        Ok(c)
    }
}

/// The kinds these controllers reconcile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    GitRepository,
    Kustomization,
    HelmRelease,
    Application,
}

impl Kind {
    fn of(group: &str, plural: &str) -> Option<Kind> {
        match (group, plural) {
            ("source.toolkit.fluxcd.io", "gitrepositories") => Some(Kind::GitRepository),
            ("kustomize.toolkit.fluxcd.io", "kustomizations") => Some(Kind::Kustomization),
            ("helm.toolkit.fluxcd.io", "helmreleases") => Some(Kind::HelmRelease),
            ("argoproj.io", "applications") => Some(Kind::Application),
            _ => None,
        }
    }

    fn enabled(self, which: GitOpsControllers) -> bool {
        match self {
            Kind::Application => which.argocd,
            _ => which.flux,
        }
    }

    fn resource(self) -> (&'static str, &'static str) {
        match self {
            Kind::GitRepository => ("source.toolkit.fluxcd.io", "gitrepositories"),
            Kind::Kustomization => ("kustomize.toolkit.fluxcd.io", "kustomizations"),
            Kind::HelmRelease => ("helm.toolkit.fluxcd.io", "helmreleases"),
            Kind::Application => ("argoproj.io", "applications"),
        }
    }
}

/// One object to reconcile.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Target {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

/// What the controllers share between reconciles: the client, the server
/// (for discovery and the odd read), and source-controller's artifact
/// storage (tarballs by URL, as its HTTP file server holds them).
pub(crate) struct Ctl {
    pub client: kube::Client,
    pub shared: Arc<Shared>,
    pub artifacts: HashMap<String, Vec<u8>>,
}

/// The header that marks the controllers' own requests.
pub(crate) const INTERNAL_HEADER: &str = "x-kube-sim-controller";

async fn internal_client(kubeconfig: &str, token: &str) -> Result<kube::Client, String> {
    let kc = kube::config::Kubeconfig::from_yaml(kubeconfig).map_err(|e| e.to_string())?;
    let mut config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .map_err(|e| e.to_string())?;
    // The server is on loopback: never through a proxy from the environment.
    config.proxy_url = None;
    let value = http::HeaderValue::from_str(token).map_err(|e| e.to_string())?;
    config
        .headers
        .push((http::HeaderName::from_static(INTERNAL_HEADER), value));
    kube::Client::try_from(config).map_err(|e| e.to_string())
}

pub async fn run(
    shared: Arc<Shared>,
    kubeconfig: String,
    which: GitOpsControllers,
    mut shutdown: watch::Receiver<bool>,
) {
    let client = match internal_client(&kubeconfig, &shared.controller_token).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("kube-sim: the GitOps controllers cannot start: {e}");
            return;
        }
    };
    let mut rx = shared.lock().store.subscribe();
    let mut ctl = Ctl {
        client,
        shared: shared.clone(),
        artifacts: HashMap::new(),
    };
    let mut queue = Queue::default();
    for kind in [
        Kind::GitRepository,
        Kind::Kustomization,
        Kind::HelmRelease,
        Kind::Application,
    ] {
        if kind.enabled(which) {
            for t in existing(&shared, kind) {
                queue.push(t);
            }
        }
    }
    loop {
        loop {
            match rx.try_recv() {
                Ok(event) => {
                    for t in triggers(&shared, which, &event) {
                        queue.push(t);
                    }
                }
                Err(broadcast::error::TryRecvError::Lagged(_)) => {
                    for kind in [Kind::Kustomization, Kind::Application] {
                        for t in existing(&shared, kind) {
                            queue.push(t);
                        }
                    }
                }
                Err(broadcast::error::TryRecvError::Empty) => break,
                Err(broadcast::error::TryRecvError::Closed) => return,
            }
        }
        if *shutdown.borrow() {
            return;
        }
        if let Some(target) = queue.pop() {
            let again = reconcile(&mut ctl, &target).await;
            if let Some(after) = again {
                queue.later(target, Instant::now() + after);
            }
            continue;
        }
        let next = queue.next_timer();
        let timer = async {
            match next {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            received = rx.recv() => match received {
                Ok(event) => {
                    for t in triggers(&shared, which, &event) {
                        queue.push(t);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = timer => queue.due(Instant::now()),
            _ = shutdown.changed() => return,
        }
    }
}

async fn reconcile(ctl: &mut Ctl, t: &Target) -> Option<Duration> {
    match t.kind {
        Kind::GitRepository => flux_source::reconcile(ctl, &t.namespace, &t.name).await,
        Kind::Kustomization => flux_kustomize::reconcile(ctl, &t.namespace, &t.name).await,
        Kind::HelmRelease => flux_helm::reconcile(ctl, &t.namespace, &t.name).await,
        Kind::Application => argocd::reconcile(ctl, &t.namespace, &t.name).await,
    }
}

/// A work queue that holds each object once, and timers for requeues.
#[derive(Default)]
struct Queue {
    ready: VecDeque<Target>,
    queued: HashSet<Target>,
    timers: BTreeMap<Instant, Vec<Target>>,
}

impl Queue {
    fn push(&mut self, t: Target) {
        if self.queued.insert(t.clone()) {
            self.ready.push_back(t);
        }
    }

    fn pop(&mut self) -> Option<Target> {
        let t = self.ready.pop_front()?;
        self.queued.remove(&t);
        Some(t)
    }

    fn later(&mut self, t: Target, at: Instant) {
        // One pending timer per object: the earliest.
        let mut earlier = false;
        for (when, targets) in self.timers.iter_mut() {
            if let Some(i) = targets.iter().position(|x| *x == t) {
                if *when <= at {
                    earlier = true;
                } else {
                    targets.remove(i);
                }
                break;
            }
        }
        self.timers.retain(|_, v| !v.is_empty());
        if !earlier {
            self.timers.entry(at).or_default().push(t);
        }
    }

    fn next_timer(&self) -> Option<Instant> {
        self.timers.keys().next().copied()
    }

    fn due(&mut self, now: Instant) {
        let due: Vec<Instant> = self.timers.range(..=now).map(|(t, _)| *t).collect();
        for at in due {
            for t in self.timers.remove(&at).unwrap_or_default() {
                self.push(t);
            }
        }
    }
}

fn existing(shared: &Shared, kind: Kind) -> Vec<Target> {
    let (group, plural) = kind.resource();
    let state = shared.lock();
    state
        .store
        .list(&(group.into(), plural.into()), None)
        .iter()
        .map(|o| {
            let (namespace, name) = crate::store::ns_name(o);
            Target {
                kind,
                namespace,
                name,
            }
        })
        .collect()
}

pub(crate) const REQUESTED_AT: &str = "reconcile.fluxcd.io/requestedAt";
pub(crate) const ARGO_REFRESH: &str = "argocd.argoproj.io/refresh";
pub(crate) const ARGO_TRACKING: &str = "argocd.argoproj.io/tracking-id";

fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")?.get(key)?.as_str()
}

/// The objects a stored change asks these controllers to look at, with the
/// predicates the real controllers use (Flux: a new generation, a new
/// `requestedAt`, deletion, or a source's new artifact; Argo CD: a change
/// other than status, and changes to the resources an Application tracks).
fn triggers(shared: &Shared, which: GitOpsControllers, event: &Event) -> Vec<Target> {
    let (group, plural) = (&event.resource.0, &event.resource.1);
    let mut out = Vec::new();
    let target = |kind| Target {
        kind,
        namespace: event.namespace.clone(),
        name: event.name.clone(),
    };
    match Kind::of(group, plural) {
        Some(kind) if kind.enabled(which) => {
            if event.kind == EventType::Deleted {
                return out;
            }
            let new = &event.object;
            let changed = match (kind, event.old.as_deref()) {
                (_, None) => true,
                (Kind::Application, Some(old)) => {
                    old.get("spec") != new.get("spec")
                        || old.get("operation") != new.get("operation")
                        || annotation(new, ARGO_REFRESH).is_some()
                        || old.pointer("/metadata/deletionTimestamp")
                            != new.pointer("/metadata/deletionTimestamp")
                }
                (_, Some(old)) => {
                    old.pointer("/metadata/generation") != new.pointer("/metadata/generation")
                        || annotation(old, REQUESTED_AT) != annotation(new, REQUESTED_AT)
                        || old.pointer("/metadata/deletionTimestamp")
                            != new.pointer("/metadata/deletionTimestamp")
                }
            };
            if changed {
                out.push(target(kind));
            }
            if kind == Kind::GitRepository {
                let revision = |o: &Value| o.pointer("/status/artifact/revision").cloned();
                if event.old.as_deref().map(revision) != Some(revision(new)) {
                    out.extend(flux_kustomize::using_source(
                        shared,
                        &event.namespace,
                        &event.name,
                    ));
                }
            }
        }
        Some(_) => {}
        None if which.argocd => {
            let tracked = annotation(&event.object, ARGO_TRACKING).or_else(|| {
                event
                    .old
                    .as_deref()
                    .and_then(|o| annotation(o, ARGO_TRACKING))
            });
            if let Some(id) = tracked {
                if let Some((namespace, name)) = argocd::app_of_tracking_id(id) {
                    out.push(Target {
                        kind: Kind::Application,
                        namespace,
                        name,
                    });
                }
            }
        }
        None => {}
    }
    out
}
