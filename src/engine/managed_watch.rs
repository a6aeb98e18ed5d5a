//! What the TUI's watches of Flux and Argo CD objects need from the engine:
//! per context of this run, the connected cluster, the label its apps'
//! addresses carry, and the controller kinds it serves, asked again when
//! their CRDs come or go. Discovery and the watches read the same contexts,
//! so a watch never names an app discovery would not list.

use super::{Engine, EngineError};
use crate::cluster::{Cluster, ClusterError, Kind};
use crate::source::controllers::ControllerKind;

/// The controller kinds to watch in the app kinds and the Flux sources.
pub const WATCHED: [ControllerKind; 5] = [
    ControllerKind::FluxKustomization,
    ControllerKind::FluxHelmRelease,
    ControllerKind::FluxGitRepository,
    ControllerKind::FluxOciRepository,
    ControllerKind::ArgoApplication,
];

/// The name of the CRD that serves `kind` (`kustomizations.kustomize.toolkit.fluxcd.io`).
pub fn crd_name(kind: ControllerKind) -> String {
    let group = kind.api_version().split('/').next().unwrap_or("");
    let plural = match kind {
        ControllerKind::FluxKustomization => "kustomizations",
        ControllerKind::FluxHelmRelease => "helmreleases",
        ControllerKind::FluxGitRepository => "gitrepositories",
        ControllerKind::FluxOciRepository => "ocirepositories",
        ControllerKind::ArgoApplication => "applications",
    };
    format!("{plural}.{group}")
}

/// One context whose controller objects are worth watching.
pub struct WatchTarget {
    pub cluster: Cluster,
    /// The context in app addresses (empty: the current context).
    pub label: String,
    /// The kinds served when the target was made (none yet: their CRDs
    /// may be installed while the TUI runs).
    pub kinds: Vec<(ControllerKind, Kind)>,
}

impl Engine {
    /// Every context of this run that can be reached, with the controller
    /// kinds it serves now; a context that cannot be reached is left out
    /// (discovery says why in its problems).
    pub async fn managed_watch_targets(&self) -> Vec<WatchTarget> {
        if !self.connector.configured() {
            return vec![];
        }
        let Ok(contexts) = self.managed_contexts() else {
            return vec![];
        };
        let current = self.connector.effective_context(None).ok();
        let mut targets = vec![];
        for context in contexts {
            let Ok(cluster) = self.connector.cluster(context.as_deref()).await else {
                continue;
            };
            let kinds = self.served_controller_kinds(&cluster, false).await;
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

    /// The controller kinds `cluster` serves; `fresh` asks discovery again
    /// for each (a CRD came or went) instead of the cached answer.
    pub async fn served_controller_kinds(
        &self,
        cluster: &Cluster,
        fresh: bool,
    ) -> Vec<(ControllerKind, Kind)> {
        let mut kinds = vec![];
        for kind in WATCHED {
            if fresh {
                self.kinds
                    .forget(&cluster.url, kind.api_version(), kind.kind())
                    .await;
            }
            if let Ok(Some(api)) = self.controller_kind(cluster, kind).await {
                kinds.push((kind, api));
            }
        }
        kinds
    }

    /// The REST resource of `api_version` `kind` in `cluster` (a
    /// controller's kind, or one of the objects it applied): None when the
    /// cluster does not serve it, an error when discovery could not say.
    pub async fn served_kind(
        &self,
        cluster: &Cluster,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<Kind>, EngineError> {
        match self
            .kinds
            .resolve(&cluster.client, &cluster.url, api_version, kind)
            .await
        {
            Ok(k) => Ok(Some(k)),
            Err(ClusterError::UnknownKind { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crd_names_are_plural_dot_group() {
        let names: Vec<String> = WATCHED.into_iter().map(crd_name).collect();
        assert_eq!(
            names,
            [
                "kustomizations.kustomize.toolkit.fluxcd.io",
                "helmreleases.helm.toolkit.fluxcd.io",
                "gitrepositories.source.toolkit.fluxcd.io",
                "ocirepositories.source.toolkit.fluxcd.io",
                "applications.argoproj.io",
            ]
        );
    }
}
