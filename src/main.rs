//! gitops-tui's binary: parse the command line, load the config, run a
//! headless verb (or, with no verb, the TUI).

use clap::{CommandFactory, Parser};
use gitops_tui::cli::args::{Cli, Command};
use gitops_tui::cli::commands::{self, EXIT_ERROR};
use gitops_tui::cluster::KubeOptions;
use gitops_tui::config::{self, Config};
use gitops_tui::engine::Engine;

/// mimalloc instead of glibc's malloc: drift and status build and drop
/// thousands of small JSON trees per refresh, and glibc's free lists
/// (consolidation, chunk unlinking) were the client's largest single cost.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let _ = color_eyre::install();
    let cli = Cli::parse();
    if let Some(Command::Completions { shell }) = &cli.command {
        clap_complete::generate(
            *shell,
            &mut Cli::command(),
            "gitops-tui",
            &mut std::io::stdout(),
        );
        return;
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(EXIT_ERROR);
        }
    };
    std::process::exit(runtime.block_on(run(cli)));
}

async fn run(cli: Cli) -> i32 {
    if let Some(Command::Demo { no_ui, dir }) = &cli.command {
        return demo(*no_ui, dir.clone()).await;
    }
    let (path, explicit) = match &cli.global.config {
        Some(p) => (p.clone(), true),
        None => match config::default_path() {
            Some(p) => (p, false),
            None => {
                eprintln!("error: no home directory to find the config in; pass --config");
                return EXIT_ERROR;
            }
        },
    };
    if let Some(Command::Init { repo, yes, force }) = &cli.command {
        let json = cli.global.output != gitops_tui::cli::args::Output::Text;
        return gitops_tui::cli::init::run(repo.as_deref(), &path, *yes, *force, json);
    }
    let config = match Config::load(&path, explicit) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let kube = KubeOptions {
        kubeconfig: cli.global.kubeconfig.clone(),
        context: cli.global.context.clone(),
    };
    // An explicit --kubeconfig that cannot be read is an error for every verb.
    if let Err(e) = kube.check() {
        eprintln!("error: {e}");
        return EXIT_ERROR;
    }
    let engine =
        Engine::new(config, kube, cli.global.readonly).with_all_contexts(cli.global.all_contexts);
    match cli.command {
        Some(command) => {
            // Notices (a wait before a retry, a lease taken over from a gone
            // process) go to stderr, beside the verb's own output.
            engine.on_notice(|line| eprintln!("{line}"));
            commands::run(&engine, &cli.global, command).await
        }
        None => tui(std::sync::Arc::new(engine)).await,
    }
}

async fn demo(no_ui: bool, dir: Option<std::path::PathBuf>) -> i32 {
    eprintln!("building the demo world (cluster, repository, five apps)...");
    let demo = match gitops_tui::demo::start(dir).await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let code = if no_ui {
        print!("{}", demo.instructions());
        commands::shutdown_signal().await;
        0
    } else {
        tui(demo.engine.clone()).await
    };
    demo.stop().await;
    code
}

/// The terminal UI; logs go to a file, never to the screen.
async fn tui(engine: std::sync::Arc<gitops_tui::engine::Engine>) -> i32 {
    let log = log_to_file();
    match gitops_tui::runtime::run(engine).await {
        Ok(_) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(path) = log {
                eprintln!("(log: {})", path.display());
            }
            EXIT_ERROR
        }
    }
}

fn log_to_file() -> Option<std::path::PathBuf> {
    let dirs = directories::ProjectDirs::from("dev", "gitops-tui", "gitops-tui")?;
    let dir = dirs.state_dir().unwrap_or(dirs.cache_dir()).to_path_buf();
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join("gitops-tui.log");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GITOPS_TUI_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init();
    Some(path)
}
