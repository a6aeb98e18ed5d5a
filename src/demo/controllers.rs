//! The demo's Flux and Argo CD apps: kube-sim's simulated controllers, the
//! CustomResourceDefinitions they need and one app of each beside the native
//! ones, so `gitops-tui demo` shows all three sources. The CRDs are our own,
//! minimal ones (group, version, kind, plural, short names, a few printer
//! columns and a schema that keeps every field), written here so the shipped
//! binary needs no copy of the upstream CRDs; they are not the upstream
//! files and claim nothing beyond what the demo uses.
//!
//! The Flux Kustomization `flux-system/storefront-edge` applies the demo
//! repository's `apps/storefront` into `storefront-edge` and is Ready; the
//! Argo CD Application `argocd/catalog-preview` points at `apps/catalog`
//! for `catalog-preview` with no automated sync, so it waits OutOfSync for
//! someone to press `s`.

use kube_sim::KubeSim;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

pub const FLUX_APP: (&str, &str) = ("flux-system", "storefront-edge");
pub const ARGO_APP: (&str, &str) = ("argocd", "catalog-preview");

#[derive(Debug, thiserror::Error)]
#[error("demo (Flux and Argo CD apps): {0}")]
pub struct ControllersError(String);

/// One namespaced kind of ours, with its printer columns and whether its
/// status is a subresource (Flux's is; Argo CD's Application has none).
struct Crd {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    short: &'static [&'static str],
    columns: &'static [(&'static str, &'static str)],
    status_subresource: bool,
}

const FLUX_COLUMNS: &[(&str, &str)] = &[
    ("Ready", ".status.conditions[?(@.type==\"Ready\")].status"),
    ("Status", ".status.conditions[?(@.type==\"Ready\")].message"),
];

const CRDS: [Crd; 3] = [
    Crd {
        group: "source.toolkit.fluxcd.io",
        version: "v1",
        kind: "GitRepository",
        plural: "gitrepositories",
        singular: "gitrepository",
        short: &["gitrepo"],
        columns: FLUX_COLUMNS,
        status_subresource: true,
    },
    Crd {
        group: "kustomize.toolkit.fluxcd.io",
        version: "v1",
        kind: "Kustomization",
        plural: "kustomizations",
        singular: "kustomization",
        short: &["ks"],
        columns: FLUX_COLUMNS,
        status_subresource: true,
    },
    Crd {
        group: "argoproj.io",
        version: "v1alpha1",
        kind: "Application",
        plural: "applications",
        singular: "application",
        short: &["app", "apps"],
        columns: &[
            ("Sync Status", ".status.sync.status"),
            ("Health Status", ".status.health.status"),
        ],
        status_subresource: false,
    },
];

impl Crd {
    fn object(&self) -> Value {
        let mut columns: Vec<Value> = self
            .columns
            .iter()
            .map(|(name, path)| json!({"name": name, "type": "string", "jsonPath": path}))
            .collect();
        columns.push(
            json!({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}),
        );
        let mut version = json!({
            "name": self.version,
            "served": true,
            "storage": true,
            "additionalPrinterColumns": columns,
            "schema": {"openAPIV3Schema": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": true,
            }},
        });
        if self.status_subresource {
            version["subresources"] = json!({"status": {}});
        }
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {
                "name": format!("{}.{}", self.plural, self.group),
                "labels": {"app.kubernetes.io/part-of": "gitops-tui-demo"},
            },
            "spec": {
                "group": self.group,
                "scope": "Namespaced",
                "names": {
                    "kind": self.kind,
                    "listKind": format!("{}List", self.kind),
                    "plural": self.plural,
                    "singular": self.singular,
                    "shortNames": self.short,
                },
                "versions": [version],
            },
        })
    }
}

/// The CRDs the demo installs.
pub fn crds() -> Vec<Value> {
    CRDS.iter().map(Crd::object).collect()
}

/// The demo's controller objects, reading the repository at `url`.
pub fn objects(url: &str) -> Vec<Value> {
    let ns =
        |name: &str| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    vec![
        ns("flux-system"),
        ns("argocd"),
        ns("storefront-edge"),
        ns("catalog-preview"),
        json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "platform", "namespace": FLUX_APP.0},
            "spec": {"url": url, "interval": "1m", "ref": {"branch": "main"}},
        }),
        json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": FLUX_APP.1, "namespace": FLUX_APP.0},
            "spec": {
                "interval": "5m", "path": "./apps/storefront", "prune": true,
                "targetNamespace": "storefront-edge",
                "sourceRef": {"kind": "GitRepository", "name": "platform"},
            },
        }),
        json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": ARGO_APP.1, "namespace": ARGO_APP.0},
            "spec": {
                "project": "default",
                "source": {"repoURL": url, "path": "apps/catalog", "targetRevision": "main"},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "catalog-preview"},
            },
        }),
    ]
}

/// Install the CRDs and the objects, then wait until the controllers have
/// answered (the Kustomization applied, the Application compared).
pub async fn install(sim: &KubeSim, repo: &Path, within: Duration) -> Result<(), ControllersError> {
    let repo = std::fs::canonicalize(repo)
        .map_err(|e| ControllersError(format!("{}: {e}", repo.display())))?;
    let url = format!("file://{}", repo.display());
    for object in crds().into_iter().chain(objects(&url)) {
        sim.seed(object)
            .map_err(|e| ControllersError(e.to_string()))?;
    }
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let ks = sim.get(
            "kustomize.toolkit.fluxcd.io/v1",
            "Kustomization",
            FLUX_APP.0,
            FLUX_APP.1,
        );
        let app = sim.get(
            "argoproj.io/v1alpha1",
            "Application",
            ARGO_APP.0,
            ARGO_APP.1,
        );
        let applied = ks
            .as_ref()
            .and_then(|k| k.pointer("/status/lastAppliedRevision"))
            .is_some_and(|r| r.as_str().is_some_and(|r| !r.is_empty()));
        let compared = app
            .as_ref()
            .and_then(|a| a.pointer("/status/sync/status"))
            .is_some_and(|s| s.as_str().is_some_and(|s| s != "Unknown"));
        if applied && compared {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ControllersError(format!(
                "the simulated controllers did not answer within {}s (Kustomization applied: {applied}, Application compared: {compared})",
                within.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crds_are_ours_and_keep_every_field() {
        let crds = crds();
        assert_eq!(crds.len(), 3);
        for crd in &crds {
            let v = &crd["spec"]["versions"][0];
            assert_eq!(
                v["schema"]["openAPIV3Schema"]["x-kubernetes-preserve-unknown-fields"],
                true
            );
            assert_eq!(
                crd["metadata"]["labels"]["app.kubernetes.io/part-of"],
                "gitops-tui-demo"
            );
        }
        let app = &crds[2];
        assert_eq!(app["metadata"]["name"], "applications.argoproj.io");
        assert_eq!(app["spec"]["names"]["shortNames"], json!(["app", "apps"]));
        // Argo CD writes an Application whole: no status subresource.
        assert!(app["spec"]["versions"][0].get("subresources").is_none());
        assert_eq!(
            crds[1]["spec"]["versions"][0]["subresources"],
            json!({"status": {}})
        );
    }
}
