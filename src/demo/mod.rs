//! `gitops-tui demo`: the whole product on one machine with no cluster. An
//! embedded kube-sim on loopback, a demo Git repository generated from
//! `assets/demo/`, and five apps put into the states worth looking at.

mod actor;
pub mod controllers;
pub mod repo;
pub mod world;

use crate::cluster::KubeOptions;
use crate::engine::Engine;
use kube_sim::{KubeSim, Options};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Marks a folder as the demo's own, so a rerun may replace its repository.
const MARKER: &str = ".gitops-tui-demo";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo: {0}")]
    Io(String),
    #[error("demo: {0}")]
    Sim(#[from] kube_sim::Error),
    #[error(transparent)]
    Repo(#[from] repo::RepoError),
    #[error(transparent)]
    World(#[from] world::WorldError),
    #[error(transparent)]
    Controllers(#[from] controllers::ControllersError),
}

/// A running demo world. Dropping it stops the cluster.
pub struct Demo {
    pub sim: KubeSim,
    pub dir: PathBuf,
    pub kubeconfig: PathBuf,
    pub config: PathBuf,
    pub engine: std::sync::Arc<Engine>,
    _actor: AbortOnDrop,
    _temp: Option<tempfile::TempDir>,
}

/// The actor stops with the demo, however the demo ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn io(context: &str, e: impl std::fmt::Display) -> DemoError {
    DemoError::Io(format!("{context}: {e}"))
}

/// Build the world in `dir` (a temporary folder when None).
pub async fn start(dir: Option<PathBuf>) -> Result<Demo, DemoError> {
    let (dir, temp) = match dir {
        Some(d) => (d, None),
        None => {
            let t = tempfile::Builder::new()
                .prefix("gitops-tui-demo-")
                .tempdir()
                .map_err(|e| io("temporary folder", e))?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir.display().to_string(), e))?;
    let repo_dir = dir.join("repo");
    if repo_dir.exists() {
        if !dir.join(MARKER).exists() {
            return Err(DemoError::Io(format!(
                "{} exists and is not a demo repository; choose another --dir",
                repo_dir.display()
            )));
        }
        std::fs::remove_dir_all(&repo_dir).map_err(|e| io(&repo_dir.display().to_string(), e))?;
    }
    std::fs::write(dir.join(MARKER), "made by gitops-tui demo\n").map_err(|e| io("marker", e))?;

    let sim = KubeSim::start(Options {
        ready_after: Duration::from_millis(800),
        context_name: "gitops-tui-demo".into(),
        // A Flux Kustomization and an Argo CD Application beside the native apps.
        controllers: kube_sim::GitOpsControllers {
            flux: true,
            argocd: true,
        },
        ..Default::default()
    })
    .await?;
    // The engine works from a private kubeconfig; the public one is written
    // last, once every state holds, so whoever waits for it finds a ready world.
    let private_kubeconfig = dir.join(".kubeconfig.demo");
    sim.write_kubeconfig(&private_kubeconfig)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let ids = {
        let repo_dir = repo_dir.clone();
        tokio::task::spawn_blocking(move || repo::write(&repo_dir, now))
            .await
            .map_err(|e| io("repository", e))??
    };
    let engine = Engine::new(
        world::config(&dir)?,
        KubeOptions {
            kubeconfig: Some(private_kubeconfig),
            context: None,
        },
        false,
    );
    let client = sim.client().await?;
    world::build(&engine, &client, &ids).await?;
    world::settle(&engine, Duration::from_secs(30)).await?;
    controllers::install(&sim, &repo_dir, Duration::from_secs(30)).await?;

    let kubeconfig = dir.join("kubeconfig");
    let config = dir.join("config.toml");
    sim.write_kubeconfig(&kubeconfig)?;
    write_atomically(&config, world::CONFIG)?;
    let actor = tokio::spawn(actor::run(client, Duration::from_secs(7)));
    Ok(Demo {
        sim,
        dir,
        kubeconfig,
        config,
        engine: std::sync::Arc::new(engine),
        _actor: AbortOnDrop(actor),
        _temp: temp,
    })
}

fn write_atomically(path: &Path, text: &str) -> Result<(), DemoError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| io(&tmp.display().to_string(), e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(&path.display().to_string(), e))
}

impl Demo {
    /// What to tell a person who wants to try the CLI and kubectl against it.
    pub fn instructions(&self) -> String {
        format!(
            "demo world ready in {dir}\n  kubeconfig: {kc}\n  config:     {cfg}\ntry:\n  gitops-tui --config {cfg} --kubeconfig {kc} status\n  kubectl --kubeconfig {kc} get deploy -A\nstop with Ctrl-C\n",
            dir = self.dir.display(),
            kc = self.kubeconfig.display(),
            cfg = self.config.display(),
        )
    }

    pub async fn stop(self) {
        self.sim.stop().await;
    }
}
