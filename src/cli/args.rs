//! Command-line arguments (clap). Global options work before or after the
//! subcommand.

use crate::model::AppId;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "gitops-tui",
    version,
    about = "Observe and steer GitOps sync state on Kubernetes",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Config file (default: ~/.config/gitops-tui/config.toml).
    #[arg(long, global = true, env = "GITOPS_TUI_CONFIG")]
    pub config: Option<PathBuf>,
    /// kubeconfig file (default: KUBECONFIG or ~/.kube/config).
    #[arg(long, global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// Use this kubeconfig context for every app.
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// Refuse every change; make no mutating request (dry-runs included).
    #[arg(long, global = true)]
    pub readonly: bool,
    /// Look for Flux and Argo CD apps in every kubeconfig context (default:
    /// the config's `contexts`, else the current one).
    #[arg(long, global = true)]
    pub all_contexts: bool,
    /// Output format.
    #[arg(short = 'o', long = "output", global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Text output without its header row (for scripts).
    #[arg(long, global = true)]
    pub no_headers: bool,
    /// Times as RFC 3339 instead of ages (`3d`) in text output.
    #[arg(long, global = true)]
    pub absolute_times: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    #[value(alias = "table")]
    Text,
    Json,
    Yaml,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Sync and health of apps (all when none named).
    Status { apps: Vec<AppId> },
    /// Drift between Git and the cluster; exit 0 in sync, 1 drift, 2 error.
    Diff {
        app: AppId,
        /// Compare with this revision instead of the app's target.
        #[arg(long, conflicts_with = "local")]
        revision: Option<String>,
        /// Compare the work tree (uncommitted and unpushed changes
        /// included) instead: DIR, or the app's own local repository.
        #[arg(long, value_name = "DIR", num_args = 0..=1)]
        local: Option<Option<PathBuf>>,
    },
    /// Apply the app's manifests (two stages, dry-run first).
    Sync {
        app: AppId,
        #[arg(long)]
        revision: Option<String>,
        /// Delete this app's objects that Git no longer has.
        #[arg(long)]
        prune: bool,
        /// Show what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Take fields owned by other Apply managers.
        #[arg(long)]
        force_conflicts: bool,
        /// Take over existing objects this app did not create (listed by
        /// `sync --dry-run` as `adopt`); without it such a sync is refused.
        #[arg(long)]
        adopt: bool,
        /// With prune: delete objects the app adopted too (by default they
        /// are released: the app's label is removed and they stay).
        #[arg(long)]
        prune_adopted: bool,
        /// After the sync, wait until the app is Healthy (exit 0); stop at
        /// once when a resource is Degraded with a reason (exit 1).
        #[arg(long)]
        wait: bool,
        /// How long --wait waits (e.g. 90s, 5m); then exit 2.
        #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
        timeout: std::time::Duration,
        /// A Flux app: reconcile its GitRepository first, as `flux reconcile --with-source`.
        #[arg(long)]
        with_source: bool,
    },
    /// Stop auto-sync and self-heal for an app, recording who, when and why.
    Suspend {
        app: AppId,
        /// Why: shown in `status`, the apps pane and the resources header.
        #[arg(long)]
        reason: Option<String>,
    },
    /// An Argo CD app: compare it with Git again (`argocd app get
    /// --refresh`), waiting until its controller has; exit 0 done, 1 it
    /// could not compare, 2 error.
    Refresh {
        app: AppId,
        /// Bypass Argo CD's manifest cache (`--hard-refresh`).
        #[arg(long)]
        hard: bool,
    },
    /// Restart auto-sync and self-heal (clears a rollback pin and syncs the head).
    Resume { app: AppId },
    /// Commits touching the app's path, the deployed one marked, and sync
    /// records (the commits even without a reachable cluster).
    History { app: AppId },
    /// Apply an earlier commit and pause the app there.
    Rollback {
        app: AppId,
        /// The commit (sha, tag, branch, HEAD~2) to roll back to.
        #[arg(
            long,
            conflicts_with = "previous",
            required_unless_present = "previous"
        )]
        to: Option<String>,
        /// The revision deployed before the current one (refused, naming the
        /// revision, when a force-push took it or the deployed one out of
        /// the history).
        #[arg(long)]
        previous: bool,
        /// Instead of pinning, commit the path as it was at that revision on
        /// the app's branch (pushed when the repository is remote), then sync.
        #[arg(long)]
        revert: bool,
        /// Show what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Take over existing objects the app did not create (the preview
        /// lists them as adopt); without it such a rollback is refused.
        #[arg(long)]
        adopt: bool,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Break an app's lease held by another process or host (after asking).
    Unlock {
        app: AppId,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// A container's log, as `kubectl logs` prints it: a pod, the pod
    /// kubectl picks for a workload, or (without KIND/NAME) every pod of the
    /// app's first workload, each line prefixed `[pod/NAME/CONTAINER]`.
    Logs {
        app: AppId,
        /// pod/NAME, deployment/NAME, statefulset/NAME, daemonset/NAME,
        /// replicaset/NAME or job/NAME (kubectl's short names work too).
        object: Option<crate::engine::logs::LogObject>,
        /// The container (default: the only one, the annotated default, else the first).
        #[arg(short = 'c', long)]
        container: Option<String>,
        /// Keep printing new lines until the container stops (or Ctrl-C).
        #[arg(short = 'f', long)]
        follow: bool,
        /// The previous run of a restarted (crashed) container.
        #[arg(short = 'p', long)]
        previous: bool,
        /// Only the last N lines (default: all; 10 a pod without KIND/NAME, as kubectl -l).
        #[arg(long, allow_negative_numbers = true)]
        tail: Option<i64>,
        /// Each line starts with its RFC 3339 time.
        #[arg(long)]
        timestamps: bool,
    },
    /// Run the reconciliation loop: auto-sync apps whose ref moved, self-heal drift.
    Agent {
        /// One pass, then exit (1 if any sync failed); no leader election.
        #[arg(long)]
        once: bool,
        /// Serve /metrics (Prometheus), /healthz and /readyz here, e.g.
        /// `0.0.0.0:8080` (port 0 picks a free one; the address is logged).
        #[arg(long, value_name = "ADDR")]
        metrics_addr: Option<String>,
    },
    /// The whole product on one machine: an embedded cluster, a demo repository and five apps.
    Demo {
        /// Build the world without the terminal UI and keep it running until Ctrl-C.
        #[arg(long)]
        no_ui: bool,
        /// Keep the world's files (repo, kubeconfig, config.toml) in this folder.
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
    /// Find app folders in a repository and write a config for them.
    Init {
        /// The repository (default: the current folder).
        repo: Option<PathBuf>,
        /// Write without asking.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Overwrite an existing config file.
        #[arg(long)]
        force: bool,
    },
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
}
