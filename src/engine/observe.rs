//! What the cluster holds of an app, read once per status or sync.
//!
//! Every object a sync wrote carries the app's tracking label, so one
//! labelled LIST per kind returns the live side of nearly every desired
//! object and every Extra at once: for an app of 2,000 objects that is three
//! requests where a GET per object was 2,000. A desired object the lists do
//! not hold (not applied yet, or applied by someone else without the label)
//! is read with a GET; an object only the inventory remembers is read the
//! same way.
//!
//! A status in the TUI takes the lists from the watches' cache when they
//! hold the kind (`cluster::live_cache`), waiting for a kind's first list
//! rather than sending a LIST per app beside it; a sync always reads the cluster,
//! since what it decides to write must not rest on a watch that lags.

use super::desired_state::DesiredState;
use super::{Engine, EngineError};
use crate::cluster::live_cache::FIRST_LIST_WAIT;
use crate::cluster::{self, Cluster, ClusterError, Kind, TRACKING_LABEL};
use crate::config::AppConfig;
use crate::model::{LiveObject, ResourceKey};
use crate::sync::desired::Desired;
use crate::sync::record::AppRecord;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Where the labelled objects come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Read {
    /// From the watches' cache where it holds the kind, else the cluster.
    Cached,
    /// From the cluster.
    Fresh,
}

/// The app's labelled objects by key, and what Git no longer has.
pub(super) struct Observed {
    labelled: HashMap<ResourceKey, Value>,
    /// The watches' own copies of the objects read from them, which a
    /// status then holds instead of a copy of its own.
    shared: HashMap<ResourceKey, LiveObject>,
    /// Desired objects the lists did not hold, read by GET (None: absent).
    fetched: HashMap<ResourceKey, Option<Value>>,
    pub extras: BTreeMap<ResourceKey, Value>,
    /// Kinds whose labelled LIST was refused (RBAC that allows GET in a
    /// namespace but no cluster-wide LIST): their desired objects are read
    /// one by one and their Extras come from the inventory alone.
    pub warnings: Vec<String>,
}

impl Observed {
    /// The live object of `d`: from the lists, else by GET (None when absent).
    pub async fn live_of(
        &self,
        cluster: &Cluster,
        d: &Desired,
        kind: &Kind,
    ) -> Result<Option<Value>, ClusterError> {
        if let Some(live) = self.known(&d.key) {
            return Ok(live.cloned());
        }
        cluster::get_key(cluster, kind, &d.key).await
    }
}

impl Observed {
    /// The object `live` of `key` as a status holds it: the watch's copy
    /// when it came from one, else a copy of its own.
    pub fn shared(&self, key: &ResourceKey, live: &Value) -> LiveObject {
        self.shared
            .get(key)
            .cloned()
            .unwrap_or_else(|| LiveObject::new(live))
    }

    /// What is known of `key` without a request: Some(None) when a GET found
    /// nothing.
    pub fn known(&self, key: &ResourceKey) -> Option<Option<&Value>> {
        if let Some(live) = self.labelled.get(key) {
            return Some(Some(live));
        }
        self.fetched.get(key).map(Option::as_ref)
    }

    /// GET every desired object the lists do not hold (in parallel), so
    /// that whose each existing object is is known before anything is
    /// written. Objects whose kind is not served yet are left for later.
    pub async fn fetch_unlisted(
        &mut self,
        cluster: &Cluster,
        objects: &[Desired],
    ) -> Result<(), ClusterError> {
        use futures::{stream, StreamExt};
        let missing: Vec<(ResourceKey, Kind)> = objects
            .iter()
            .filter(|d| self.known(&d.key).is_none())
            .filter_map(|d| d.kind.clone().map(|k| (d.key.clone(), k)))
            .collect();
        let reads = stream::iter(missing.into_iter().map(|(key, kind)| async move {
            let live = cluster::get_key(cluster, &kind, &key).await;
            (key, live)
        }))
        .buffer_unordered(super::status::PARALLEL_REQUESTS)
        .collect::<Vec<_>>()
        .await;
        for (key, live) in reads {
            self.fetched.insert(key, live?);
        }
        Ok(())
    }
}

impl Engine {
    /// List the app's labelled objects of every kind it has (in Git or in
    /// the last sync's inventory) and work out the Extras: (inventory ∪
    /// labelled) − desired − SOPS-skipped.
    pub(super) async fn observe(
        &self,
        app: &AppConfig,
        cluster: &Cluster,
        desired: &DesiredState,
        record: &AppRecord,
        read: Read,
    ) -> Result<Observed, EngineError> {
        let kinds = self.kinds_of(cluster, desired, record).await?;
        // Every kind at once (from its watch, which may still be listing,
        // or by a LIST), not one round trip after another; the answers are
        // handled in the kinds' order, so the warnings are too.
        let reads = futures::future::join_all(kinds.values().map(|kind| async move {
            if read == Read::Cached {
                let cached = self
                    .live
                    .labelled_listed(&cluster.context, kind, &app.name, FIRST_LIST_WAIT)
                    .await;
                if let Some(items) = cached {
                    let items = items.into_iter().map(|o| (o.value(), Some(o))).collect();
                    return (kind, Ok(items));
                }
            }
            let listed = cluster::list_labelled(
                &cluster.client,
                &cluster.url,
                kind,
                TRACKING_LABEL,
                &app.name,
            )
            .await
            .map(|items| items.into_iter().map(|v| (v, None)).collect::<Vec<_>>());
            (kind, listed)
        }))
        .await;
        let mut labelled = HashMap::new();
        let mut shared = HashMap::new();
        let mut warnings = Vec::new();
        for (kind, read) in reads {
            match read {
                Ok(items) => {
                    for (live, source) in items {
                        let key = ResourceKey::of(&live);
                        if let Some(source) = source {
                            shared.insert(key.clone(), source);
                        }
                        labelled.insert(key, live);
                    }
                }
                Err(e) if e.code() == Some(403) => warnings.push(format!(
                    "cannot list {} across namespaces ({e}): its Extras come from the last sync's inventory only",
                    kind.resource.plural
                )),
                Err(e) => return Err(e.into()),
            }
        }

        let wanted: BTreeSet<&ResourceKey> = desired.objects.iter().map(|d| &d.key).collect();
        let skip: BTreeSet<&ResourceKey> = desired.sops.iter().collect();
        let mut extras: BTreeMap<ResourceKey, Value> = labelled
            .iter()
            .filter(|(key, _)| !wanted.contains(key) && !skip.contains(key))
            .map(|(key, live)| (key.clone(), live.clone()))
            .collect();
        for entry in &record.inventory {
            let key = entry.key();
            if wanted.contains(&key) || skip.contains(&key) || extras.contains_key(&key) {
                continue;
            }
            let Some(kind) = kinds.get(&(entry.api_version.clone(), entry.kind.clone())) else {
                continue;
            };
            if let Some(live) = cluster::get(
                &cluster.client,
                &cluster.url,
                kind,
                entry.namespace.as_deref(),
                &entry.name,
            )
            .await?
            {
                extras.insert(key, live);
            }
        }
        Ok(Observed {
            labelled,
            shared,
            fetched: HashMap::new(),
            extras,
            warnings,
        })
    }

    /// The kinds of the desired objects and of the inventory, resolved; an
    /// inventory kind the cluster no longer serves has nothing left to find.
    async fn kinds_of(
        &self,
        cluster: &Cluster,
        desired: &DesiredState,
        record: &AppRecord,
    ) -> Result<BTreeMap<(String, String), Kind>, EngineError> {
        let mut kinds: BTreeMap<(String, String), Kind> = BTreeMap::new();
        for d in &desired.objects {
            if let Some(k) = &d.kind {
                kinds.insert((d.api_version.clone(), d.key.kind.clone()), k.clone());
            }
        }
        for entry in &record.inventory {
            let id = (entry.api_version.clone(), entry.kind.clone());
            if kinds.contains_key(&id) {
                continue;
            }
            match self
                .kinds
                .resolve(
                    &cluster.client,
                    &cluster.url,
                    &entry.api_version,
                    &entry.kind,
                )
                .await
            {
                Ok(k) => {
                    kinds.insert(id, k);
                }
                Err(ClusterError::UnknownKind { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(kinds)
    }
}
