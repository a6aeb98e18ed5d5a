//! `kube-sim`: run the simulated Kubernetes API server from the command line.

use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    version,
    about = "A Kubernetes-API-compatible server for tests, benchmarks and demos"
)]
struct Args {
    /// Address to serve on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    /// Serve https with a CA generated at start (written into the kubeconfig).
    #[arg(long)]
    tls: bool,
    /// The admin's bearer token over https (generated when omitted).
    #[arg(long)]
    token: Option<String>,
    /// Write a kubeconfig for this server here (atomically, before serving).
    #[arg(long)]
    kubeconfig_out: Option<PathBuf>,
    /// The kubeconfig context (and cluster) name.
    #[arg(long, default_value = "kube-sim")]
    context_name: String,
    /// Kubernetes version reported by /version, as 1.NN.
    #[arg(long, default_value = "1.32", value_parser = parse_version)]
    kube_version: u32,
    /// Milliseconds before simulated controllers mark workloads ready.
    #[arg(long, default_value_t = 1000)]
    ready_after: u64,
    /// Events kept for resuming watches.
    #[arg(long, default_value_t = 1000)]
    watch_cache: usize,
    /// Keep state across restarts in this folder.
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Simulated GitOps controllers to run, comma-separated: flux, argocd
    /// (simulations that resolve only local repositories; none by default).
    #[arg(long, default_value = "none")]
    controllers: kube_sim::GitOpsControllers,
}

fn parse_version(s: &str) -> Result<u32, String> {
    s.strip_prefix("1.")
        .and_then(|m| m.parse().ok())
        .ok_or_else(|| format!("expected 1.NN, got {s}"))
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let opts = kube_sim::Options {
        listen: args.listen,
        tls: args.tls,
        token: args.token,
        context_name: args.context_name,
        kube_minor: args.kube_version,
        ready_after: Duration::from_millis(args.ready_after),
        watch_cache: args.watch_cache,
        state_dir: args.state_dir,
        kubeconfig_out: args.kubeconfig_out,
        controllers: args.controllers,
        ..Default::default()
    };
    let sim = match kube_sim::KubeSim::start(opts).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    println!("kube-sim listening on {}", sim.url());
    wait_for_signal().await;
    sim.stop().await;
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
