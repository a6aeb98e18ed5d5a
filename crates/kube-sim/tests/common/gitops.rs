//! Fixtures for the simulated Flux and Argo CD controllers: the upstream
//! CRDs from `../shared/fixtures/crds` (relative to the repository root),
//! real git repositories in a tempdir, and waiting on an object's status.

use kube_sim::KubeSim;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The folder with the unmodified upstream CRDs: `$GITOPS_TUI_CRDS`, else
/// `../shared/fixtures/crds` beside the repository, else the workplace's
/// `/work/shared/fixtures/crds` (a clone elsewhere, as CI's may be).
pub fn crds_dir() -> PathBuf {
    let beside = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/crds"
    ));
    let candidates: Vec<PathBuf> = std::env::var_os("GITOPS_TUI_CRDS")
        .map(PathBuf::from)
        .into_iter()
        .chain([beside, PathBuf::from("/work/shared/fixtures/crds")])
        .collect();
    let found = candidates
        .iter()
        .find(|d| d.join("flux-kustomizations.yaml").is_file());
    match found {
        Some(dir) => dir.clone(),
        None => panic!(
            "the upstream Flux and Argo CD CRDs are expected in one of {candidates:?} (../shared/fixtures/crds beside the repository, or $GITOPS_TUI_CRDS); they are not there"
        ),
    }
}

/// Install the Flux and Argo CD CRDs, and the `argocd` namespace.
pub fn install_crds(sim: &KubeSim) {
    let dir = crds_dir();
    for file in [
        "flux-gitrepositories.yaml",
        "flux-kustomizations.yaml",
        "flux-helmreleases.yaml",
        "argocd-applications.yaml",
        "argocd-appprojects.yaml",
    ] {
        let text = std::fs::read_to_string(dir.join(file)).expect("CRD readable");
        let crd: Value = serde_yaml::from_str(&text).expect("CRD is YAML");
        sim.seed(crd).expect("CRD installs");
    }
    sim.seed(serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "argocd"}}))
        .expect("argocd namespace");
}

/// A git repository on branch `main`.
pub struct Repo {
    pub dir: tempfile::TempDir,
}

impl Repo {
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = Repo { dir };
        r.git(&["init", "-q", "-b", "main"]);
        r
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn url(&self) -> String {
        format!("file://{}", self.path().display())
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(self.path())
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn write(&self, file: &str, text: &str) {
        let p = self.path().join(file);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("dirs");
        std::fs::write(p, text).expect("write");
    }

    pub fn remove(&self, file: &str) {
        std::fs::remove_file(self.path().join(file)).expect("remove");
    }

    /// Commit everything; the new commit's sha.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }
}

pub fn configmap(name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\ndata:\n  key: \"{value}\"\n")
}

pub fn deployment(name: &str, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n      - name: main\n        image: {image}\n"
    )
}

/// The condition `kind` of an object, if any.
pub fn condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    obj.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

/// Poll the stored object until `check` holds; the object then.
pub async fn wait_for(
    sim: &KubeSim,
    (api_version, kind, ns, name): (&str, &str, &str, &str),
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let obj = sim.get(api_version, kind, ns, name);
        if let Some(o) = &obj {
            if check(o) {
                return o.clone();
            }
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {kind} {ns}/{name}: {what}; last seen: {obj:#?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
