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
use gitops_tui::model::AppId;
use gitops_tui::model::SyncStatus;
use kube_sim::{KubeSim, Options};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
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
    // The simulator gets its own runtime and threads, like an API server in
    // its own process, so the CPU each side uses can be told apart.
    let sim_rt = runtime(SIM_THREAD);
    let rt = runtime(ENGINE_THREAD);
    header("drift: Engine::status vs kubectl diff --server-side, 2,000 objects");
    let sim = sim_rt
        .block_on(KubeSim::start(Options::default()))
        .expect("kube-sim starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let fx = Setup::new(dir.path(), &sim);

    let t = Instant::now();
    let report = rt
        .block_on(
            fx.engine()
                .sync(&AppId::native(APP), &SyncOptions::default()),
        )
        .expect("sync runs");
    assert!(report.succeeded, "sync failed: {}", report.app);
    println!(
        "set-up: first sync of {OBJECTS} objects took {}",
        fmt(t.elapsed())
    );
    // The simulator's controllers now roll out 666 Deployments (ReplicaSets,
    // Pods) for a while; measure only once the cluster is quiet.
    let engine = fx.engine();
    let outcome = rt
        .block_on(engine.wait_for_health(&AppId::native(APP), Duration::from_secs(600)))
        .expect("app status");
    assert!(
        matches!(outcome, gitops_tui::engine::WaitOutcome::Healthy),
        "app becomes healthy: {outcome:?}"
    );
    let quiet = settle();
    println!(
        "set-up: cluster healthy and quiet after {}",
        fmt(t.elapsed())
    );
    if !quiet {
        println!("warning: the simulator never went quiet; numbers include its controllers");
    }

    // Sanity: everything is in sync, and kubectl agrees.
    let status = rt
        .block_on(engine.status(&AppId::native(APP)))
        .expect("status");
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
    let mut cpu = Cpu::default();
    // The TUI and the agent keep one engine: clients, discovery and dry-run
    // answers cached (an unchanged app costs one labelled LIST per kind and no
    // PATCH; the TUI takes even the lists from its watches).
    let ours = measure_timed(
        "Engine::status, warm engine (3 LISTs, cached dry-run)",
        1,
        runs,
        || {
            let before = cpu_now();
            let t = Instant::now();
            let s = rt
                .block_on(engine.status(&AppId::native(APP)))
                .expect("status");
            let d = t.elapsed();
            cpu.add_ours(before, cpu_now());
            assert_eq!(s.counts.synced, OBJECTS);
            d
        },
    );
    let ours_cpu = cpu.take(runs + 1);
    // A fresh engine each run, like `gitops-tui status` from the shell: no
    // cached dry-run answers, so a dry-run PATCH per object (kubectl diff
    // sends that and a GET per object; we list each kind once).
    let cold = measure_timed(
        "Engine::status, new engine (3 LISTs + dry-run PATCH each)",
        0,
        runs,
        || {
            let e = fx.engine();
            let before = cpu_now();
            let t = Instant::now();
            let s = rt.block_on(e.status(&AppId::native(APP))).expect("status");
            let d = t.elapsed();
            cpu.add_ours(before, cpu_now());
            assert_eq!(s.counts.synced, OBJECTS);
            d
        },
    );
    let cold_cpu = cpu.take(runs);
    let kubectl = measure_timed("kubectl diff --server-side -f DIR", 1, runs, || {
        let before = cpu_now();
        let t = Instant::now();
        let out = fx.kubectl_diff();
        let d = t.elapsed();
        cpu.add_kubectl(before, cpu_now());
        assert_eq!(out.status.code(), Some(0), "kubectl diff failed");
        d
    });
    let kubectl_cpu = cpu.take(runs + 1);
    for (name, c) in [
        ("warm engine", ours_cpu),
        ("new engine", cold_cpu),
        ("kubectl diff", kubectl_cpu),
    ] {
        println!(
            "CPU per run (mean), {name:<12}: client {:.2} s + kube-sim {:.2} s",
            c.client, c.sim
        );
    }
    println!(
        "ratio kubectl / ours (wall, medians): warm engine {:.1}x, new engine {:.1}x (target >= 10x)",
        ratio(&kubectl, &ours),
        ratio(&kubectl, &cold),
    );
    println!(
        "ratio kubectl / ours (client-side CPU): warm engine {:.1}x, new engine {:.1}x",
        kubectl_cpu.client / ours_cpu.client,
        kubectl_cpu.client / cold_cpu.client,
    );
    println!("== done ({})", load());
    sim_rt.block_on(sim.stop());
}

const SIM_THREAD: &str = "kube-sim";
const ENGINE_THREAD: &str = "engine";

fn runtime(name: &str) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// CPU seconds so far: (this process outside kube-sim's threads, kube-sim's
/// threads, waited-for children such as kubectl).
#[derive(Debug, Clone, Copy)]
struct CpuNow {
    engine: f64,
    sim: f64,
    children: f64,
}

fn stat_fields(text: &str) -> Vec<f64> {
    // Fields after the parenthesised command name; utime is field 14.
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    rest.split_whitespace()
        .map(|f| f.parse().unwrap_or(0.0))
        .collect()
}

fn cpu_now() -> CpuNow {
    // USER_HZ is 100 on Linux.
    const HZ: f64 = 100.0;
    let mut now = CpuNow {
        engine: 0.0,
        sim: 0.0,
        children: 0.0,
    };
    let me = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let f = stat_fields(&me);
    // After ')': state is index 0, so utime (14) is 11, cutime (16) is 13.
    if f.len() > 14 {
        now.children = (f[13] + f[14]) / HZ;
    }
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return now;
    };
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let f = stat_fields(&stat);
        if f.len() <= 12 {
            continue;
        }
        let t = (f[11] + f[12]) / HZ;
        if comm.trim() == SIM_THREAD {
            now.sim += t;
        } else {
            now.engine += t;
        }
    }
    now
}

/// Waits (at most two minutes) until kube-sim uses under 5% of a core.
fn settle() -> bool {
    for _ in 0..120 {
        let before = cpu_now();
        std::thread::sleep(Duration::from_secs(1));
        if cpu_now().sim - before.sim < 0.05 {
            return true;
        }
    }
    false
}

#[derive(Debug, Default, Clone, Copy)]
struct CpuTotals {
    client: f64,
    sim: f64,
}

#[derive(Default)]
struct Cpu {
    sum: CpuTotals,
}

impl Cpu {
    fn add_ours(&mut self, a: CpuNow, b: CpuNow) {
        self.sum.client += b.engine - a.engine;
        self.sum.sim += b.sim - a.sim;
    }

    fn add_kubectl(&mut self, a: CpuNow, b: CpuNow) {
        self.sum.client += b.children - a.children;
        self.sum.sim += b.sim - a.sim;
    }

    /// The mean per run since the last take.
    fn take(&mut self, runs: usize) -> CpuTotals {
        let s = std::mem::take(&mut self.sum);
        CpuTotals {
            client: s.client / runs as f64,
            sim: s.sim / runs as f64,
        }
    }
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
