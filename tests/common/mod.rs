//! Fixtures for engine tests: a kube-sim cluster, a real Git repository made
//! with the git CLI, a config file pointing at both, and helpers to run the
//! real kubectl and the gitops-tui binary against them.

#![allow(dead_code)]

pub mod crds;
pub mod records;
pub mod tmux;

use gitops_tui::cluster::KubeOptions;
use gitops_tui::config::Config;
use gitops_tui::engine::Engine;
use gitops_tui::model::AppId;
use kube_sim::{KubeSim, Options};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

pub struct Fixture {
    pub sim: KubeSim,
    pub dir: tempfile::TempDir,
    pub repo: PathBuf,
    pub kubeconfig: PathBuf,
    pub config: PathBuf,
}

pub fn clear_proxies() {
    for v in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        std::env::remove_var(v);
    }
}

impl Fixture {
    /// A cluster and an empty repository; `config` is the `[[apps]]` part.
    pub async fn new(config: &str) -> Fixture {
        Self::with_tls(config, false).await
    }

    /// The same, over https when `tls` (bearer tokens and the RBAC table
    /// apply; over http every request acts as the admin).
    pub async fn with_tls(config: &str, tls: bool) -> Fixture {
        Self::with_options(
            config,
            Options {
                ready_after: Duration::from_millis(100),
                tls,
                ..Default::default()
            },
        )
        .await
    }

    /// The same with kube-sim's simulated Flux and Argo CD controllers
    /// running, and the upstream CRDs installed (`crds.rs`).
    pub async fn with_controllers(config: &str) -> Fixture {
        let f = Self::with_options(
            config,
            Options {
                ready_after: Duration::from_millis(100),
                controllers: kube_sim::GitOpsControllers {
                    flux: true,
                    argocd: true,
                },
                ..Default::default()
            },
        )
        .await;
        crds::install(&f);
        f
    }

    pub async fn with_options(config: &str, options: Options) -> Fixture {
        clear_proxies();
        let sim = KubeSim::start(options).await.expect("kube-sim starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(&repo).expect("repo dir");
        git(&repo, &["init", "-q", "-b", "main"]);
        let kubeconfig = dir.path().join("kubeconfig");
        sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, config).expect("config");
        Fixture {
            sim,
            dir,
            repo,
            kubeconfig,
            config: config_path,
        }
    }

    pub fn engine(&self) -> Engine {
        self.engine_with(false)
    }

    pub fn engine_with(&self, readonly: bool) -> Engine {
        let config = Config::load(&self.config, true).expect("config loads");
        Engine::new(
            config,
            KubeOptions {
                kubeconfig: Some(self.kubeconfig.clone()),
                context: None,
            },
            readonly,
        )
    }

    /// Write files (path → contents; None deletes) and commit them.
    pub fn commit(&self, files: &[(&str, Option<&str>)], message: &str) -> String {
        for (path, contents) in files {
            let p = self.repo.join(path);
            match contents {
                Some(c) => {
                    if let Some(parent) = p.parent() {
                        std::fs::create_dir_all(parent).expect("mkdir");
                    }
                    std::fs::write(&p, c).expect("write");
                }
                None => {
                    let _ = std::fs::remove_file(&p);
                }
            }
        }
        git(&self.repo, &["add", "-A"]);
        git(
            &self.repo,
            &["commit", "-q", "--allow-empty", "-m", message],
        );
        git(&self.repo, &["rev-parse", "HEAD"]).trim().to_string()
    }

    pub fn kubectl(&self, args: &[&str]) -> Output {
        let cache = self.dir.path().join("kubectl-cache");
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(&cache)
            .args(args)
            .output()
            .expect("kubectl runs")
    }

    /// The binary, which must exit with `code`: its stdout (both streams
    /// in the failure message).
    pub fn cli_code(&self, args: &[&str], code: i32) -> String {
        let out = self.cli(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "gitops-tui {args:?}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// `object` applied server-side with the real kubectl.
    pub fn apply_server_side(&self, object: &serde_json::Value) {
        let path = self.dir.path().join("object.json");
        std::fs::write(&path, object.to_string()).expect("write object");
        self.kubectl_ok(&["apply", "--server-side", "-f", &path.display().to_string()]);
    }

    /// kubectl that must succeed; its stdout.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The gitops-tui binary with this fixture's config and kubeconfig.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_gitops-tui"))
            .arg("--config")
            .arg(&self.config)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .output()
            .expect("gitops-tui runs")
    }

    /// One key of a ConfigMap's data, read with kubectl.
    pub fn cm_data(&self, namespace: &str, name: &str, key: &str) -> String {
        self.kubectl_ok(&[
            "get",
            "cm",
            name,
            "-n",
            namespace,
            "-o",
            &format!("jsonpath={{.data.{key}}}"),
        ])
    }

    /// resourceVersion of an object, via the simulator's store.
    pub fn rv(&self, api_version: &str, kind: &str, ns: &str, name: &str) -> Option<String> {
        self.sim.get(api_version, kind, ns, name).and_then(|o| {
            o.pointer("/metadata/resourceVersion")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
    }

    pub fn exists(&self, api_version: &str, kind: &str, ns: &str, name: &str) -> bool {
        self.sim.get(api_version, kind, ns, name).is_some()
    }
}

pub fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The shop app (Deployment, Service, ConfigMap) committed and synced, over
/// https when `tls`.
pub async fn synced_shop(tls: bool) -> Fixture {
    let f = Fixture::with_tls(APP, tls).await;
    f.commit(
        &[
            ("apps/shop/deploy.yaml", Some(DEPLOYMENT)),
            ("apps/shop/service.yaml", Some(SERVICE)),
            ("apps/shop/config.yaml", Some(CONFIGMAP)),
        ],
        "shop: first version",
    );
    let report = f
        .engine()
        .sync(
            &AppId::native("shop"),
            &gitops_tui::engine::SyncOptions::default(),
        )
        .await
        .expect("sync runs");
    assert!(report.succeeded, "{report:?}");
    f
}

pub const APP: &str = r#"
[[apps]]
name = "shop"
repo = "repo"
path = "apps/shop"
namespace = "shop"
create_namespace = true
prune = true
"#;

pub const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
"#;

pub const SERVICE: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
"#;

pub const CONFIGMAP: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  color: blue
  size: "3"
"#;
