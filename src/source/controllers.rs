//! What Flux and Argo CD apps have in common, so the engine, the CLI and the
//! panes treat them as one more kind of app: the kinds that are apps (and the
//! Flux sources behind them), what the controller says about an app mapped to
//! the same [`AppStatus`] a native app has, and the resources it lists.
//!
//! Everything here is pure (JSON in, model types out): the requests are the
//! engine's (`engine::managed`). Each controller's own reading is in
//! `flux.rs` and `argocd.rs`.

use crate::model::{
    AppId, AppSource, AppStatus, Counts, Health, ResourceKey, ResourceStatus, SyncStatus,
};
use serde_json::Value;

/// A kind of object a controller reconciles (or, for Flux sources, reads
/// from).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ControllerKind {
    FluxKustomization,
    FluxHelmRelease,
    FluxGitRepository,
    FluxOciRepository,
    ArgoApplication,
}

impl ControllerKind {
    /// The kinds that are apps, in the order an address is looked up (a
    /// Kustomization and a HelmRelease of one name: the Kustomization).
    pub const APPS: [ControllerKind; 3] = [
        ControllerKind::FluxKustomization,
        ControllerKind::FluxHelmRelease,
        ControllerKind::ArgoApplication,
    ];

    pub fn api_version(self) -> &'static str {
        match self {
            ControllerKind::FluxKustomization => "kustomize.toolkit.fluxcd.io/v1",
            ControllerKind::FluxHelmRelease => "helm.toolkit.fluxcd.io/v2",
            ControllerKind::FluxGitRepository | ControllerKind::FluxOciRepository => {
                "source.toolkit.fluxcd.io/v1"
            }
            ControllerKind::ArgoApplication => "argoproj.io/v1alpha1",
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            ControllerKind::FluxKustomization => "Kustomization",
            ControllerKind::FluxHelmRelease => "HelmRelease",
            ControllerKind::FluxGitRepository => "GitRepository",
            ControllerKind::FluxOciRepository => "OCIRepository",
            ControllerKind::ArgoApplication => "Application",
        }
    }

    pub fn source(self) -> AppSource {
        match self {
            ControllerKind::ArgoApplication => AppSource::ArgoCd,
            _ => AppSource::Flux,
        }
    }

    /// The app kinds of one source, in lookup order.
    pub fn apps_of(source: AppSource) -> impl Iterator<Item = ControllerKind> {
        Self::APPS.into_iter().filter(move |k| k.source() == source)
    }

    /// The Flux source kind a `sourceRef.kind` names.
    pub fn flux_source(kind: &str) -> Option<ControllerKind> {
        match kind {
            "GitRepository" => Some(ControllerKind::FluxGitRepository),
            "OCIRepository" => Some(ControllerKind::FluxOciRepository),
            _ => None,
        }
    }
}

/// One resource a controller says an app has, before our own watches say
/// how it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedResource {
    pub key: ResourceKey,
    pub api_version: String,
    /// The controller's own view (Argo CD's `status.resources[].status`;
    /// Flux's inventory lists only what it applied: Synced).
    pub status: ResourceStatus,
    /// The controller's health of it, when it says (Argo CD).
    pub health: Option<(Health, String)>,
}

/// The app a controller object is, in `context`.
pub fn app_id(kind: ControllerKind, context: &str, object: &Value) -> AppId {
    let text = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap_or("");
    AppId::managed(
        kind.source(),
        context,
        text("/metadata/namespace"),
        text("/metadata/name"),
    )
}

/// The status of a controller object, its resources listed separately
/// (their live health is the engine's to find).
pub fn status(
    kind: ControllerKind,
    id: AppId,
    object: &Value,
    source: Option<&Value>,
) -> (AppStatus, Vec<ListedResource>) {
    match kind {
        ControllerKind::ArgoApplication => super::argocd::status(id, object),
        _ => super::flux::status(kind, id, object, source),
    }
}

/// Counts of the resources as the controller sees them.
pub fn counts(resources: &[ListedResource]) -> Counts {
    let mut c = Counts::default();
    for r in resources {
        match r.status {
            ResourceStatus::Synced => c.synced += 1,
            ResourceStatus::OutOfSync => c.out_of_sync += 1,
            ResourceStatus::Missing => c.missing += 1,
            ResourceStatus::Extra => c.extra += 1,
        }
    }
    c
}

/// A status with nothing known yet but the app and where it comes from.
pub(super) fn blank(id: AppId, source: String) -> AppStatus {
    let mut s = AppStatus::unknown(id, source, String::new());
    s.sync = SyncStatus::Unknown;
    s
}

pub use crate::model::controller_patch::merge_patch_between;

/// The condition of `type_` in `status.conditions`.
pub fn condition<'a>(object: &'a Value, type_: &str) -> Option<&'a Value> {
    object
        .pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_merge_patch_between_two_refs_restores_the_first_exactly() {
        let before = json!({"branch": "main"});
        let pinned = json!({"branch": "main", "commit": "abc"});
        let patch = merge_patch_between(&pinned, &before);
        assert_eq!(patch, json!({"commit": null}));
        let mut back = pinned.clone();
        json_merge(&mut back, &patch);
        assert_eq!(back, before);
        let before = json!({"tag": "v1", "semver": ">=1"});
        let pinned = json!({"commit": "abc"});
        let patch = merge_patch_between(&pinned, &before);
        let mut back = pinned.clone();
        json_merge(&mut back, &patch);
        assert_eq!(back, before);
    }

    fn json_merge(target: &mut Value, patch: &Value) {
        if let (Some(t), Some(p)) = (target.as_object_mut(), patch.as_object()) {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else if v.is_object() && t.get(k).is_some_and(Value::is_object) {
                    json_merge(t.get_mut(k).expect("present"), v);
                } else {
                    t.insert(k.clone(), v.clone());
                }
            }
        }
    }

    #[test]
    fn app_kinds_are_looked_up_kustomization_first() {
        let flux: Vec<_> = ControllerKind::apps_of(AppSource::Flux).collect();
        assert_eq!(
            flux,
            [
                ControllerKind::FluxKustomization,
                ControllerKind::FluxHelmRelease
            ]
        );
        assert_eq!(
            ControllerKind::flux_source("OCIRepository"),
            Some(ControllerKind::FluxOciRepository)
        );
    }
}
