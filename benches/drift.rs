//! Drift of one app of 2,000 objects (ConfigMaps, Services, Deployments)
//! against an in-process kube-sim: `Engine::status` (server-side dry-run per
//! object) side by side with `kubectl diff --server-side` on the same
//! manifests, in the same run. Issue 3.
//!
//! `cargo bench --bench drift` (`BENCH_RUNS=N` to change the repeat count).

mod support;

use gitops_tui::cluster::KubeOptions;
use gitops_tui::config::Config;
use gitops_tui::engine::{Engine, SyncOptions};
use gitops_tui::model::SyncStatus;
use kube_sim::{KubeSim, Options};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use support::*;

const OBJECTS: usize = 2_000;
const APP: &str = "big";
const NAMESPACE: &str = "big";

fn main() {
    if !benching() {
        return;
    }
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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    header("drift: Engine::status vs kubectl diff --server-side, 2,000 objects");
    let sim = rt
        .block_on(KubeSim::start(Options::default()))
        .expect("kube-sim starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let fx = Setup::new(dir.path(), &sim);

    let t = Instant::now();
    let report = rt
        .block_on(fx.engine().sync(APP, &SyncOptions::default()))
        .expect("sync runs");
    assert!(report.succeeded, "sync failed: {}", report.app);
    println!(
        "set-up: first sync of {OBJECTS} objects took {}",
        fmt(t.elapsed())
    );

    // Sanity: everything is in sync, and kubectl sees the same objects.
    let engine = fx.engine();
    let status = rt.block_on(engine.status(APP)).expect("status");
    assert_eq!(status.sync, SyncStatus::Synced, "{}", status.message);
    assert_eq!(status.counts.synced, OBJECTS, "{}", status.message);
    let out = fx.kubectl_diff();
    assert!(
        out.status.code() == Some(0),
        "kubectl diff should find no drift: {:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );

    let runs = runs(7);
    // The TUI and the agent keep one engine (clients and discovery cached),
    // as kubectl keeps its discovery cache in --cache-dir between runs.
    let ours = measure_timed("Engine::status, warm engine", 1, runs, || {
        let t = Instant::now();
        let s = rt.block_on(engine.status(APP)).expect("status");
        let d = t.elapsed();
        assert_eq!(s.counts.synced, OBJECTS);
        d
    });
    // A fresh engine each run, like `gitops-tui status` from the shell.
    let cold = measure_timed("Engine::status, new engine each run", 0, runs, || {
        let e = fx.engine();
        let t = Instant::now();
        let s = rt.block_on(e.status(APP)).expect("status");
        let d = t.elapsed();
        assert_eq!(s.counts.synced, OBJECTS);
        d
    });
    let kubectl = measure("kubectl diff --server-side -f DIR", 1, runs, || {
        let out = fx.kubectl_diff();
        assert_eq!(out.status.code(), Some(0), "kubectl diff failed");
    });
    println!(
        "ratio kubectl / ours: warm engine {:.1}x, new engine {:.1}x (target >= 10x)",
        ratio(&kubectl, &ours),
        ratio(&kubectl, &cold)
    );
    println!("== done ({})", load());
    rt.block_on(sim.stop());
}

struct Setup {
    dir: PathBuf,
    manifests: PathBuf,
    kubeconfig: PathBuf,
    config: PathBuf,
}

impl Setup {
    /// A Git repository with the app's manifests, a kubeconfig and a config.
    fn new(dir: &Path, sim: &KubeSim) -> Setup {
        let repo = dir.join("repo");
        let manifests = repo.join("apps").join(APP);
        std::fs::create_dir_all(&manifests).expect("mkdir");
        // One file per component (Deployment + Service + ConfigMap), as
        // GitOps repositories usually lay them out.
        let mut files: Vec<String> = vec![String::new(); OBJECTS.div_ceil(3)];
        for i in 0..OBJECTS {
            let n = i / 3;
            let doc = match i % 3 {
                0 => configmap(n),
                1 => service(n),
                _ => deployment(n),
            };
            let f = &mut files[n];
            if !f.is_empty() {
                f.push_str("---\n");
            }
            f.push_str(&doc);
        }
        for (n, text) in files.iter().enumerate() {
            std::fs::write(manifests.join(format!("svc-{n:04}.yaml")), text).expect("write");
        }
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "2,000 objects"]);
        let kubeconfig = dir.join("kubeconfig");
        sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");
        let config = dir.join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[[apps]]\nname = \"{APP}\"\nrepo = \"repo\"\npath = \"apps/{APP}\"\nnamespace = \"{NAMESPACE}\"\ncreate_namespace = true\nprune = true\n"
            ),
        )
        .expect("config");
        Setup {
            dir: dir.to_path_buf(),
            manifests,
            kubeconfig,
            config,
        }
    }

    fn engine(&self) -> Engine {
        let config = Config::load(&self.config, true).expect("config loads");
        Engine::new(
            config,
            KubeOptions {
                kubeconfig: Some(self.kubeconfig.clone()),
                context: None,
            },
            false,
        )
    }

    fn kubectl_diff(&self) -> std::process::Output {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.join("kubectl-cache"))
            .args(["diff", "--server-side", "-n", NAMESPACE, "-f"])
            .arg(&self.manifests)
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .output()
            .expect("kubectl runs")
    }
}

fn configmap(n: usize) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-{n:04}\n  labels: {{app: svc-{n:04}}}\ndata:\n  color: blue\n  size: \"{n}\"\n  feature.flags: |\n    alpha=true\n    beta=false\n"
    )
}

fn service(n: usize) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{n:04}\n  labels: {{app: svc-{n:04}}}\nspec:\n  selector: {{app: svc-{n:04}}}\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n"
    )
}

fn deployment(n: usize) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc-{n:04}\n  labels: {{app: svc-{n:04}}}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: svc-{n:04}}}\n  template:\n    metadata:\n      labels: {{app: svc-{n:04}}}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n        ports:\n        - containerPort: 8080\n        resources:\n          requests: {{cpu: 100m, memory: 64Mi}}\n          limits: {{memory: 128Mi}}\n        envFrom:\n        - configMapRef: {{name: cfg-{n:04}}}\n"
    )
}

fn git(repo: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
