//! One big app on one cluster: `drift` (gitops-tui's `diff` of a synced
//! 2,000-object app beside `kubectl diff --server-side` of the same files)
//! and `sync_noop` (a sync that changes nothing beside `kubectl apply
//! --server-side` of the same files).

use crate::measure::{self, median};
use crate::{Figure, Settings};
use kube_sim::{KubeSim, Options};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub struct BigApp {
    _sim: KubeSim,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    config: PathBuf,
    manifests: PathBuf,
    pub objects: usize,
}

fn write_app(dir: &Path, objects: usize) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    for i in 0..objects {
        let body = match i % 3 {
            0 => format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{i}\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: web-{i}}}\n  template:\n    metadata:\n      labels: {{app: web-{i}}}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n"
            ),
            1 => format!(
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: web-{i}\nspec:\n  selector: {{app: web-{i}}}\n  ports:\n  - port: 80\n"
            ),
            _ => format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-{i}\ndata:\n  index: \"{i}\"\n"
            ),
        };
        std::fs::write(dir.join(format!("{i:04}.yaml")), body).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn git(dir: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Bench Runner",
            "-c",
            "user.email=bench@example.invalid",
        ])
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    out.status
        .success()
        .then_some(())
        .ok_or_else(|| format!("git {args:?}: {}", String::from_utf8_lossy(&out.stderr)))
}

impl BigApp {
    pub fn build(
        rt: &tokio::runtime::Runtime,
        bin: &Path,
        objects: usize,
    ) -> Result<BigApp, String> {
        let sim = rt
            .block_on(KubeSim::start(Options {
                ready_after: Duration::from_millis(200),
                ..Options::default()
            }))
            .map_err(|e| e.to_string())?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let kubeconfig = dir.path().join("kubeconfig");
        sim.write_kubeconfig(&kubeconfig)
            .map_err(|e| e.to_string())?;
        let repo = dir.path().join("repo");
        let manifests = repo.join("apps/big");
        write_app(&manifests, objects)?;
        git(&repo, &["init", "-q", "-b", "main"])?;
        git(&repo, &["add", "."])?;
        git(&repo, &["commit", "-q", "-m", "big app"])?;
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            "[[apps]]\nname = \"big\"\nrepo = \"repo\"\npath = \"apps/big\"\nnamespace = \"big\"\ncreate_namespace = true\n",
        )
        .map_err(|e| e.to_string())?;
        let app = BigApp {
            _sim: sim,
            dir,
            kubeconfig,
            config,
            manifests,
            objects,
        };
        let out = app
            .gitops(bin, &["sync", "big"])
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "the first sync failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        // Let the simulated controllers settle before comparing.
        std::thread::sleep(Duration::from_secs(3));
        Ok(app)
    }

    fn gitops(&self, bin: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin);
        cmd.arg("--config")
            .arg(&self.config)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .env("XDG_CACHE_HOME", self.dir.path().join("cache"))
            .env("HOME", self.dir.path());
        cmd
    }

    fn kubectl(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("kubectl");
        cmd.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .arg("-f")
            .arg(&self.manifests)
            .args(["-n", "big"])
            .env("HOME", self.dir.path());
        cmd
    }
}

/// Ours and the peer interleaved, `runs` times after one warm-up each;
/// medians in seconds. `ok` decides which exit codes count as success.
fn interleave(
    runs: usize,
    scratch: &Path,
    mut ours: impl FnMut() -> Command,
    mut peer: impl FnMut() -> Command,
    ok: impl Fn(&measure::Run) -> bool,
) -> Result<(f64, f64), String> {
    let (mut o, mut p) = (Vec::new(), Vec::new());
    for run in 0..=runs {
        let a = measure::run(&mut ours(), scratch);
        let b = measure::run(&mut peer(), scratch);
        if !ok(&a) {
            return Err(format!(
                "ours failed: {}",
                a.stdout.lines().next().unwrap_or("")
            ));
        }
        if run > 0 {
            o.push(a.wall.as_secs_f64());
            p.push(b.wall.as_secs_f64());
        }
    }
    Ok((median(o), median(p)))
}

pub fn drift(s: &Settings, app: &BigApp) -> Result<Vec<Figure>, String> {
    eprintln!("== drift: {} objects, {} runs", app.objects, s.runs);
    let (ours, peer) = interleave(
        s.runs,
        app.dir.path(),
        || app.gitops(&s.bin, &["diff", "big", "-o", "json"]),
        || app.kubectl(&["diff", "--server-side", "--field-manager", "gitops-bench"]),
        // diff exits 0 in sync, 1 with drift: both are answers.
        |r| r.stdout.starts_with('{'),
    )?;
    Ok(vec![Figure::ours("drift", "s", ours)
        .against("kubectl diff --server-side -f DIR", peer)
        .note(format!("{} objects, synced; one app", app.objects))])
}

pub fn sync_noop(s: &Settings, app: &BigApp) -> Result<Vec<Figure>, String> {
    eprintln!("== sync_noop: {} objects, {} runs", app.objects, s.runs);
    let (ours, peer) = interleave(
        s.runs,
        app.dir.path(),
        || app.gitops(&s.bin, &["sync", "big", "-o", "json"]),
        || app.kubectl(&["apply", "--server-side", "--field-manager", "gitops-bench"]),
        |r| r.ok,
    )?;
    Ok(vec![Figure::ours("sync_noop", "s", ours)
        .against("kubectl apply --server-side -f DIR", peer)
        .note(format!(
            "{} objects, nothing to change",
            app.objects
        ))])
}
