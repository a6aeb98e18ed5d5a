//! What the TUI's watches of Flux and Argo CD objects need from the engine:
//! per context of this run, the connected cluster, the label its apps'
//! addresses carry, and the controller kinds it serves. Discovery and the
//! watches read the same contexts, so a watch never names an app discovery
//! would not list.

use super::Engine;
use crate::cluster::{Cluster, Kind};
use crate::source::controllers::ControllerKind;

/// The controller kinds to watch in the app kinds and the Flux sources.
const WATCHED: [ControllerKind; 5] = [
    ControllerKind::FluxKustomization,
    ControllerKind::FluxHelmRelease,
    ControllerKind::FluxGitRepository,
    ControllerKind::FluxOciRepository,
    ControllerKind::ArgoApplication,
];

/// One context whose controller objects are worth watching.
pub struct WatchTarget {
    pub cluster: Cluster,
    /// The context in app addresses (empty: the current context).
    pub label: String,
    pub kinds: Vec<(ControllerKind, Kind)>,
}

impl Engine {
    /// The contexts that serve any controller kind, with those kinds; a
    /// context that cannot be reached or read is left out (discovery says
    /// why in its problems).
    pub async fn managed_watch_targets(&self) -> Vec<WatchTarget> {
        let Ok(contexts) = self.managed_contexts() else {
            return vec![];
        };
        let current = self.connector.effective_context(None).ok();
        let mut targets = vec![];
        for context in contexts {
            let Ok(cluster) = self.connector.cluster(context.as_deref()).await else {
                continue;
            };
            let mut kinds = vec![];
            for kind in WATCHED {
                if let Ok(Some(api)) = self.controller_kind(&cluster, kind).await {
                    kinds.push((kind, api));
                }
            }
            if kinds.is_empty() {
                continue;
            }
            let label = if Some(&cluster.context) == current.as_ref() {
                String::new()
            } else {
                cluster.context.clone()
            };
            targets.push(WatchTarget {
                cluster,
                label,
                kinds,
            });
        }
        targets
    }
}
