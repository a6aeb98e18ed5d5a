//! The upstream Flux and Argo CD CRDs (`../shared/fixtures/crds/`, never
//! copied into this repository), installed into a fixture's kube-sim.

use super::Fixture;
use serde_json::Value;
use std::path::PathBuf;

/// `$GITOPS_TUI_CRDS`, else `../shared/fixtures/crds` beside the repository,
/// else the workplace's `/work/shared/fixtures/crds` (a clone elsewhere, as
/// CI's may be).
pub fn dir() -> PathBuf {
    let candidates: Vec<PathBuf> = std::env::var_os("GITOPS_TUI_CRDS")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/crds"),
            PathBuf::from("/work/shared/fixtures/crds"),
        ])
        .collect();
    match candidates
        .iter()
        .find(|d| d.join("flux-kustomizations.yaml").exists())
    {
        Some(dir) => dir.clone(),
        None => panic!(
            "the upstream CRDs are missing: expected them in one of {candidates:?} (see ../shared/fixtures/crds/README.md)"
        ),
    }
}

pub fn install(f: &Fixture) {
    let dir = dir();
    for file in [
        "flux-kustomizations.yaml",
        "flux-gitrepositories.yaml",
        "flux-helmreleases.yaml",
        "argocd-applications.yaml",
    ] {
        let text = std::fs::read_to_string(dir.join(file)).expect("read crd");
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let v: Value = serde::Deserialize::deserialize(doc).expect("yaml");
            if v.is_object() {
                f.sim.seed(v).expect("crd seeds");
            }
        }
    }
}

/// A GitRepository `repo` on the fixture's repository and a Kustomization
/// `name` of its `deploy` folder into `default`, in flux-system (which must
/// exist).
pub fn flux_app(f: &Fixture, name: &str) {
    f.apply_server_side(&serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "repo", "namespace": "flux-system"},
        "spec": {"url": format!("file://{}", f.repo.display()), "interval": "10m",
                 "ref": {"branch": "main"}}}));
    f.apply_server_side(&serde_json::json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {"interval": "10m", "path": "./deploy", "prune": true,
                 "targetNamespace": "default",
                 "sourceRef": {"kind": "GitRepository", "name": "repo"}}}));
}
