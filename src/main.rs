//! gitops-tui's binary: parse the command line, load the config, run a
//! headless verb (or, with no verb, the TUI).

use clap::{CommandFactory, Parser};
use gitops_tui::cli::args::{Cli, Command};
use gitops_tui::cli::commands::{self, EXIT_ERROR};
use gitops_tui::cluster::KubeOptions;
use gitops_tui::config::{self, Config};
use gitops_tui::engine::Engine;

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
    let engine = Engine::new(config, kube, cli.global.readonly);
    match cli.command {
        Some(command) => commands::run(&engine, &cli.global, command).await,
        None => {
            eprintln!("The terminal UI is not built yet. Use a subcommand: gitops-tui --help");
            EXIT_ERROR
        }
    }
}

async fn demo(no_ui: bool, dir: Option<std::path::PathBuf>) -> i32 {
    if !no_ui {
        eprintln!(
            "The terminal UI is not built yet: running the demo world headless (as --no-ui)."
        );
    }
    eprintln!("building the demo world (cluster, repository, five apps)...");
    let demo = match gitops_tui::demo::start(dir).await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    print!("{}", demo.instructions());
    commands::shutdown_signal().await;
    demo.stop().await;
    0
}
