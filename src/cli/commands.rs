//! The headless verbs: each runs the engine and prints text, JSON or YAML,
//! and returns the process exit code.

use super::args::{Command, GlobalArgs, Output};
use super::render;
use super::text::TextStyle;
use crate::engine::{Engine, EngineError, RollbackTarget, SyncOptions, WaitOutcome};
use crate::model::{AppId, ResourceStatus, SyncStatus};
use serde::Serialize;
use serde_json::json;
use std::io::{IsTerminal, Write};
use tokio_util::sync::CancellationToken;

/// Exit codes: 0 fine, 1 drift or a failed operation, 2 error.
pub const EXIT_OK: i32 = 0;
pub const EXIT_DRIFT: i32 = 1;
pub const EXIT_ERROR: i32 = 2;
/// A second SIGINT/SIGTERM during an operation: stopped without waiting.
pub const EXIT_INTERRUPTED: i32 = 130;

pub(super) fn print<T: Serialize>(output: Output, value: &T, text: impl FnOnce() -> String) {
    let out = match output {
        Output::Json => serde_json::to_string_pretty(value).unwrap_or_default() + "\n",
        Output::Yaml => serde_yaml::to_string(value).unwrap_or_default(),
        Output::Text => text(),
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
}

pub(super) fn fail(e: &EngineError) -> i32 {
    eprintln!("error: {e}");
    EXIT_ERROR
}

pub async fn run(engine: &Engine, global: &GlobalArgs, command: Command) -> i32 {
    let output = global.output;
    let style = TextStyle::detect(global.no_headers, global.absolute_times);
    match command {
        Command::Status { apps } => status(engine, output, apps, &style).await,
        Command::Diff {
            app,
            revision,
            local,
        } => {
            let result = match local {
                Some(dir) => match engine.local_dir(&app, dir) {
                    Ok(dir) => engine.status_local(&app, dir).await,
                    Err(e) => Err(e),
                },
                None => engine.status_at(&app, revision.as_deref()).await,
            };
            match result {
                Ok(s) if s.sync == SyncStatus::Unknown => {
                    eprintln!("error: app {app}: {}", s.message);
                    EXIT_ERROR
                }
                Ok(s) if s.drift_unavailable.is_some() => {
                    let why = s.drift_unavailable.as_deref().unwrap_or_default();
                    eprintln!("error: app {app}: drift not computed: {why}");
                    EXIT_ERROR
                }
                Ok(s) => {
                    let resources: Vec<_> = s
                    .resources
                    .iter()
                    .map(|r| {
                        let version = r.api_version.rsplit('/').next().unwrap_or("").to_string();
                        let mut v = json!({"group": r.key.group, "version": version, "kind": r.key.kind, "namespace": r.key.namespace,
                               "name": r.key.name, "status": r.status, "diff": r.diff});
                        if let Some(t) = &r.takeover {
                            v["takeover"] = json!(t);
                        }
                        v
                    })
                    .collect();
                    let doc = json!({"app": s.name, "sync": s.sync, "revision": s.target_revision, "resources": resources, "warnings": s.warnings});
                    print(output, &doc, || render::diff_text(&s));
                    if s.sync == SyncStatus::Synced {
                        EXIT_OK
                    } else {
                        EXIT_DRIFT
                    }
                }
                Err(e) => fail(&e),
            }
        }
        Command::Sync {
            app,
            revision,
            prune,
            dry_run,
            force_conflicts,
            adopt,
            prune_adopted,
            wait,
            timeout,
            with_source,
        } => {
            let opts = SyncOptions {
                with_source,
                revision,
                prune,
                dry_run,
                force_conflicts,
                adopt,
                prune_adopted,
                ..Default::default()
            };
            let wait = (wait && !dry_run).then_some(timeout);
            sync(engine, output, &app, &opts, wait).await
        }
        Command::Suspend { app, reason } => {
            super::suspend::run(engine, output, &app, reason.as_deref()).await
        }
        Command::Refresh { app, hard } => super::refresh::run(engine, output, &app, hard).await,
        Command::Resume { app } => {
            let cancel = CancellationToken::new();
            match interruptible(&cancel, engine.resume_cancellable(&app, cancel.clone())).await {
                None => EXIT_INTERRUPTED,
                Some(Ok(report)) => {
                    let synced = report.as_ref().map(|r| r.succeeded);
                    print(
                        output,
                        &json!({"app": app, "suspended": false, "sync": report}),
                        || match &report {
                            Some(r) => format!(
                                "app {app} resumed; the rollback pin is cleared\n{}",
                                render::sync_text(r)
                            ),
                            None => {
                                format!("app {app} resumed: auto-sync and self-heal restarted\n")
                            }
                        },
                    );
                    if synced == Some(false) {
                        EXIT_DRIFT
                    } else {
                        EXIT_OK
                    }
                }
                Some(Err(e)) => fail(&e),
            }
        }
        Command::History { app } => match engine.history(&app).await {
            Ok(h) => {
                if output == Output::Text {
                    for w in &h.warnings {
                        eprintln!("warning: {w}");
                    }
                }
                print(output, &h, || render::history_text(&h, &style));
                if output == Output::Text && h.commits.is_empty() {
                    super::suspend::no_commits_hint(engine, &app);
                }
                EXIT_OK
            }
            Err(e) => fail(&e),
        },
        Command::Rollback {
            app,
            to,
            previous,
            revert,
            dry_run,
            adopt,
            yes,
        } => {
            rollback(
                engine,
                output,
                &app,
                RollbackArgs {
                    to,
                    previous,
                    revert,
                    dry_run,
                    adopt,
                    yes,
                },
            )
            .await
        }
        Command::Unlock { app, yes } => unlock(engine, output, &app, yes).await,
        Command::Agent { once, metrics_addr } => {
            super::agent::run(engine, output, once, metrics_addr.as_deref()).await
        }
        Command::Logs {
            app,
            object,
            container,
            follow,
            previous,
            tail,
            timestamps,
        } => {
            let args = super::logs::LogsArgs {
                object,
                container,
                follow,
                previous,
                tail,
                timestamps,
            };
            super::logs::run(engine, output, &app, args).await
        }
        Command::Completions { .. } | Command::Demo { .. } | Command::Init { .. } => EXIT_OK,
    }
}

/// Run an operation so that SIGINT/SIGTERM stops it between objects: the
/// first signal cancels `cancel` and waits for the engine to finish the
/// object in flight, record the sync as interrupted and release the lease;
/// a second gives up at once (None: exit with [`EXIT_INTERRUPTED`]).
pub(super) async fn interruptible<T>(
    cancel: &CancellationToken,
    work: impl std::future::Future<Output = T>,
) -> Option<T> {
    tokio::pin!(work);
    tokio::select! {
        out = &mut work => return Some(out),
        _ = shutdown_signal() => {}
    }
    cancel.cancel();
    eprintln!("interrupted: finishing the object in flight…");
    tokio::select! {
        out = &mut work => Some(out),
        _ = shutdown_signal() => {
            eprintln!("interrupted again: stopping now; the lease is left to expire or be taken over");
            None
        }
    }
}

/// SIGINT or SIGTERM (what a Deployment's pod gets on shutdown).
pub async fn shutdown_signal() {
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

/// `sync`, and with `--wait` the wait for health after it: the sync's
/// result is printed first (in text at once, before the wait begins), then
/// how the wait ended. Exit 0 synced (and Healthy), 1 the sync failed or the
/// app is Degraded, 2 an error or the wait timed out.
async fn sync(
    engine: &Engine,
    output: Output,
    app: &AppId,
    opts: &SyncOptions,
    wait: Option<std::time::Duration>,
) -> i32 {
    let report = match interruptible(&opts.cancel, engine.sync(app, opts)).await {
        None => return EXIT_INTERRUPTED,
        Some(Ok(r)) => r,
        Some(Err(e)) => return fail(&e),
    };
    let text = output == Output::Text;
    if text || wait.is_none() || !report.succeeded {
        print(output, &report, || render::sync_text(&report));
    }
    if !report.succeeded {
        return EXIT_DRIFT;
    }
    let Some(timeout) = wait else {
        return EXIT_OK;
    };
    if text {
        eprintln!(
            "waiting up to {} for app {app} to be Healthy...",
            humantime::format_duration(timeout)
        );
    }
    // Waiting writes nothing: a signal simply ends it.
    let outcome = tokio::select! {
        o = engine.wait_for_health(app, timeout) => o,
        _ = shutdown_signal() => return EXIT_INTERRUPTED,
    };
    if !text {
        // One document: the sync report with how the wait ended.
        let mut doc = serde_json::to_value(&report).unwrap_or_default();
        doc["wait"] = match &outcome {
            Ok(o) => serde_json::to_value(o).unwrap_or_default(),
            Err(e) => json!({"result": "Error", "message": e.to_string()}),
        };
        print(output, &doc, String::new);
    }
    match outcome {
        Ok(o @ WaitOutcome::Healthy) => {
            if text {
                println!("{}", o.describe(app));
            }
            EXIT_OK
        }
        Ok(o @ WaitOutcome::Degraded { .. }) => {
            if text {
                println!("{}", o.describe(app));
            }
            EXIT_DRIFT
        }
        Ok(o @ WaitOutcome::TimedOut { .. }) => {
            eprintln!("error: {}", o.describe(app));
            EXIT_ERROR
        }
        Err(e) => fail(&e),
    }
}

async fn status(engine: &Engine, output: Output, apps: Vec<AppId>, style: &TextStyle) -> i32 {
    let listed = apps.is_empty();
    let names: Vec<AppId> = if listed { engine.apps() } else { apps };
    let mut statuses = Vec::new();
    if let Err(code) = status_rows(engine, &names, &mut statuses).await {
        return code;
    }
    if listed {
        // Flux and Argo CD apps join without any config; looked for after
        // the native apps, so a cluster that answers nothing fails on them
        // first, within one deadline.
        for problem in engine.discover().await {
            eprintln!("warning: {problem}");
        }
        let managed: Vec<AppId> = engine
            .apps()
            .into_iter()
            .filter(|a| !a.is_native())
            .collect();
        if let Err(code) = status_rows(engine, &managed, &mut statuses).await {
            return code;
        }
    }
    // Each app says what manages it (gitops-tui, flux, argocd).
    let docs: Vec<serde_json::Value> = statuses
        .iter()
        .map(|s| {
            let mut doc = serde_json::to_value(s).unwrap_or_default();
            doc["managed_by"] = json!(s.name.source.managed_by());
            doc
        })
        .collect();
    if listed && statuses.is_empty() {
        // A first run: say where the config goes and how to start.
        let config = engine.config.source.as_deref();
        let config = config.or(engine.config.missing_file.as_deref());
        eprintln!("{}", super::init::first_run_line(config));
    }
    print(output, &json!({"apps": docs}), || {
        render::status_table(&statuses, style)
    });
    EXIT_OK
}

/// The status of each of `names` (an Unknown row when it cannot be read),
/// or the exit code of an error that ends the verb.
async fn status_rows(
    engine: &Engine,
    names: &[AppId],
    statuses: &mut Vec<crate::model::AppStatus>,
) -> Result<(), i32> {
    use futures::StreamExt;
    // Every app at once within the engine's bound, answers taken in the
    // apps' order, so the output and the first error are as one by one.
    let mut answers = futures::stream::iter(
        names
            .iter()
            .map(|name| async move { (name, engine.status(name).await) }),
    )
    .buffered(crate::engine::STATUS_LOADS_AT_ONCE);
    while let Some((name, answer)) = answers.next().await {
        match answer {
            Ok(s) => statuses.push(s),
            Err(EngineError::UnknownApp(n)) => {
                eprintln!("error: no app named {n:?} in the config");
                return Err(EXIT_ERROR);
            }
            // The server kept refusing or never answered until the deadline:
            // an error, not an Unknown row (every further app would wait too).
            Err(EngineError::Cluster(e)) if e.is_deadline() => {
                eprintln!("error: {e}");
                return Err(EXIT_ERROR);
            }
            Err(e @ EngineError::UnknownManaged(_)) => return Err(fail(&e)),
            // A Flux or Argo CD app that cannot be read is a row saying why.
            Err(e) if !name.is_native() => statuses.push(crate::model::AppStatus::unknown(
                name.clone(),
                String::new(),
                e.to_string(),
            )),
            Err(e) => match engine.app(name) {
                Ok(app) => statuses.push(crate::engine::unknown_status(app, e.to_string())),
                Err(e) => return Err(fail(&e)),
            },
        }
    }
    Ok(())
}

struct RollbackArgs {
    to: Option<String>,
    previous: bool,
    revert: bool,
    dry_run: bool,
    adopt: bool,
    yes: bool,
}

async fn rollback(engine: &Engine, output: Output, app: &AppId, args: RollbackArgs) -> i32 {
    let RollbackArgs {
        to,
        previous,
        revert,
        dry_run,
        adopt,
        yes,
    } = args;
    if engine.readonly() && !dry_run {
        return fail(&EngineError::Readonly("rollback".into()));
    }
    let target = match (to, previous) {
        (Some(rev), _) => RollbackTarget::Revision(rev),
        (None, _) => RollbackTarget::Previous,
    };
    let revision = match engine.rollback_revision(app, &target).await {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let preview = match engine.status_at(app, Some(revision.as_str())).await {
        // A preview that could not be computed previews nothing: never
        // "in sync" (the manifests at that revision cannot be read).
        Ok(s) if s.sync == SyncStatus::Unknown => {
            eprintln!(
                "error: app {app}: cannot preview the rollback to {}: {}",
                revision.medium(),
                s.message
            );
            return EXIT_ERROR;
        }
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    if dry_run || output == Output::Text {
        let changes = preview
            .resources
            .iter()
            .filter(|r| r.status != ResourceStatus::Synced)
            .count();
        if output == Output::Text {
            println!(
                "Rollback of {app} to {} changes {changes} object(s):",
                revision.medium()
            );
            print!("{}", render::diff_text(&preview));
        }
        if dry_run {
            if output != Output::Text {
                let resources: Vec<_> = preview
                    .resources
                    .iter()
                    .map(|r| {
                        json!({"resource": r.key, "status": r.status, "diff": r.diff, "takeover": r.takeover})
                    })
                    .collect();
                print(
                    output,
                    &json!({"app": app, "revision": revision, "dry_run": true, "resources": resources}),
                    String::new,
                );
            }
            return EXIT_OK;
        }
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            eprintln!(
                "error: rollback of {app} needs confirmation: pass --yes (or --dry-run to preview)"
            );
            return EXIT_ERROR;
        }
        let question = if revert {
            format!(
                "Commit a revert of {app} to {} on its branch, then sync?",
                revision.medium()
            )
        } else {
            format!(
                "Roll {app} back to {} and pause it there?",
                revision.medium()
            )
        };
        eprint!("{question} [y/N] ");
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("rollback cancelled");
            return EXIT_DRIFT;
        }
    }
    if revert {
        let cancel = CancellationToken::new();
        let work = engine.revert_cancellable(app, &revision, cancel.clone());
        return match interruptible(&cancel, work).await {
            None => EXIT_INTERRUPTED,
            Some(Ok((commit, report))) => {
                print(
                    output,
                    &json!({"app": app, "revert_commit": commit, "sync": report}),
                    || {
                        format!(
                            "wrote {} reverting {app} to {}\n{}",
                            commit.medium(),
                            revision.medium(),
                            render::sync_text(&report)
                        )
                    },
                );
                if report.succeeded {
                    EXIT_OK
                } else {
                    EXIT_DRIFT
                }
            }
            Some(Err(e)) => fail(&e),
        };
    }
    let cancel = CancellationToken::new();
    let opts = SyncOptions {
        cancel: cancel.clone(),
        adopt,
        ..Default::default()
    };
    let work = engine.rollback_with(app, &revision, opts);
    match interruptible(&cancel, work).await {
        None => EXIT_INTERRUPTED,
        Some(Ok(report)) => {
            print(output, &report, || {
                let outcome = if report.succeeded {
                    format!("app {app} is paused by rollback at {}; `gitops-tui resume {app}` returns it to its ref", report.revision.medium())
                } else {
                    format!(
                        "rollback of {app} to {} FAILED: the app is not paused there",
                        report.revision.medium()
                    )
                };
                format!("{}{outcome}\n", render::sync_text(&report))
            });
            if report.succeeded {
                EXIT_OK
            } else {
                EXIT_DRIFT
            }
        }
        Some(Err(e)) => fail(&e),
    }
}

/// `unlock`: break a lease someone else holds, after asking (or `--yes`).
async fn unlock(engine: &Engine, output: Output, app: &AppId, yes: bool) -> i32 {
    if engine.readonly() {
        return fail(&EngineError::Readonly("unlock".into()));
    }
    let lease = match engine.lease(app).await {
        Ok(Some(l)) => l,
        Ok(None) => {
            print(
                output,
                &json!({"app": app, "broken": false, "lease": null}),
                || format!("app {app} is not locked: nothing to break\n"),
            );
            return EXIT_OK;
        }
        Err(e) => return fail(&e),
    };
    let (holder, until) = (&lease.holder, &lease.until);
    if !yes {
        if !std::io::stdin().is_terminal() {
            eprintln!(
                "error: breaking the lease of {app} held by {holder} until {until} needs confirmation: pass --yes"
            );
            return EXIT_ERROR;
        }
        eprint!("Break the lease of {app} held by {holder} until {until}? [y/N] ");
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("unlock cancelled");
            return EXIT_DRIFT;
        }
    }
    match engine.break_lease(app, holder).await {
        Ok(broken) => {
            print(
                output,
                &json!({"app": app, "broken": broken, "lease": lease}),
                || {
                    if broken {
                        format!("broke the lease of {app} held by {holder} until {until}\n")
                    } else {
                        format!("app {app} is not locked any more: nothing to break\n")
                    }
                },
            );
            EXIT_OK
        }
        Err(e) => fail(&e),
    }
}
