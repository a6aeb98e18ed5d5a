//! `gitops-tui agent`: the engine's agent pass in a loop, for running in a
//! cluster. Of several replicas only the leader acts (a `coordination.k8s.io`
//! Lease, [`crate::engine::leader`]); the Lease is renewed while a pass runs,
//! and a leader that loses it stops the pass between objects. With
//! `--metrics-addr` it serves `/metrics`, `/healthz` and `/readyz`.
//! `--once` runs one pass now and exits, without an election (the per-app
//! leases still keep it from operating on an app another agent holds).

use super::args::Output;
use super::commands::{
    fail, interruptible, shutdown_signal, EXIT_DRIFT, EXIT_INTERRUPTED, EXIT_OK,
};
use super::metrics::{self, AgentMetrics};
use crate::engine::leader::{Elector, Role};
use crate::engine::{AgentAction, Backoff, Engine, EngineError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How long a stopping agent waits to hand its Lease back.
const RELEASE_WAIT: Duration = Duration::from_secs(3);

fn print(output: Output, actions: &[AgentAction]) {
    for a in actions {
        match output {
            Output::Text => println!(
                "{} {} {}: {}",
                humantime::format_rfc3339_seconds(std::time::SystemTime::now()),
                a.app,
                a.action,
                a.detail
            ),
            _ => println!("{}", serde_json::to_string(a).unwrap_or_default()),
        }
    }
}

/// This replica's name in the Lease: the pod's (or host's) name and the pid.
fn identity() -> String {
    format!("{}_{}", crate::engine::this_host(), std::process::id())
}

pub async fn run(engine: &Engine, output: Output, once: bool, metrics_addr: Option<&str>) -> i32 {
    if engine.readonly() {
        return fail(&EngineError::Readonly("the agent".into()));
    }
    let metrics = AgentMetrics::new();
    if let Some(addr) = metrics_addr {
        if let Err(e) = metrics::serve(addr, metrics.clone()).await {
            eprintln!("error: cannot serve metrics on {addr}: {e}");
            return super::commands::EXIT_ERROR;
        }
    }
    let mut backoff = Backoff::default();
    if once {
        let cancel = CancellationToken::new();
        let m = metrics.clone();
        let mut observe = move |o| m.observe(&o);
        let pass = engine.agent_pass_observed(&mut backoff, &cancel, &mut observe);
        let Some(actions) = interruptible(&cancel, pass).await else {
            return EXIT_INTERRUPTED;
        };
        print(output, &actions);
        return if actions.iter().any(|a| a.action == "failed") {
            EXIT_DRIFT
        } else {
            EXIT_OK
        };
    }
    let mut elector = Elector::new(
        identity(),
        engine.config.record_namespace.clone(),
        engine.config.agent.lease_duration,
    );
    let code = lead_and_work(engine, output, &mut elector, &mut backoff, &metrics).await;
    // Bounded: a server too slow to answer gets the Lease back by expiry.
    if tokio::time::timeout(RELEASE_WAIT, elector.release(engine))
        .await
        .is_err()
    {
        eprintln!(
            "the agent Lease could not be released within {}s: it expires by itself after {}s",
            RELEASE_WAIT.as_secs(),
            engine.config.agent.lease_duration.as_secs()
        );
    }
    code
}

/// Said once per change of who leads.
fn announce(last: &mut Option<Role>, now: &Role, me: &str) {
    if last.as_ref() == Some(now) {
        return;
    }
    match now {
        Role::Leader => eprintln!("leading: {me} holds the agent Lease"),
        Role::Follower(holder) => eprintln!("waiting: the agent Lease is held by {holder}"),
    }
    *last = Some(now.clone());
}

async fn lead_and_work(
    engine: &Engine,
    output: Output,
    elector: &mut Elector,
    backoff: &mut Backoff,
    metrics: &Arc<AgentMetrics>,
) -> i32 {
    let retry = elector.retry_period();
    let mut last_role: Option<Role> = None;
    let mut next_pass = Instant::now();
    loop {
        // A slow server must not hold a signal back: asking for the Lease
        // is given up on SIGTERM (release reads the Lease again, so one
        // taken by the request cut short is handed back too).
        let asked = tokio::select! {
            r = elector.try_lead(engine) => r,
            _ = shutdown_signal() => return EXIT_OK,
        };
        let role = match asked {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                Role::Follower("nobody known (the Lease could not be read)".into())
            }
        };
        announce(&mut last_role, &role, elector.identity());
        metrics.set_leader(role == Role::Leader);
        if role != Role::Leader {
            metrics.set_ready();
            tokio::select! {
                _ = tokio::time::sleep(retry) => continue,
                _ = shutdown_signal() => return EXIT_OK,
            }
        }
        if Instant::now() < next_pass {
            tokio::select! {
                _ = tokio::time::sleep(retry.min(next_pass - Instant::now())) => continue,
                _ = shutdown_signal() => return EXIT_OK,
            }
        }
        let cancel = CancellationToken::new();
        let m = metrics.clone();
        let mut observe = move |o| m.observe(&o);
        let pass = engine.agent_pass_observed(backoff, &cancel, &mut observe);
        let lost = AtomicBool::new(false);
        let work = renewing(pass, &cancel, elector, engine, retry, &lost);
        let Some(actions) = interruptible(&cancel, work).await else {
            return EXIT_INTERRUPTED;
        };
        print(output, &actions);
        if cancel.is_cancelled() && !lost.load(Ordering::Relaxed) {
            // A signal stopped the pass after the object in flight.
            return EXIT_OK;
        }
        metrics.pass_done(&actions);
        // A pass cut short by a lost Lease is not a pass: look again now.
        if !cancel.is_cancelled() {
            next_pass = Instant::now() + engine.config.agent.interval;
        }
    }
}

/// `work` with the Lease renewed every `period` meanwhile; a lost Lease
/// (or one that cannot be read) cancels `cancel`, so the pass stops after
/// the object in flight, and is remembered in `lost`.
async fn renewing<T>(
    work: impl std::future::Future<Output = T>,
    cancel: &CancellationToken,
    elector: &mut Elector,
    engine: &Engine,
    period: Duration,
    lost: &AtomicBool,
) -> T {
    tokio::pin!(work);
    let mut tick = tokio::time::interval(period);
    tick.tick().await;
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = tick.tick(), if !lost.load(Ordering::Relaxed) => {
                // The pass goes on while the Lease is renewed (a slow answer
                // paused it); a pass that ends first ends the renewal too.
                let asked = tokio::select! {
                    r = elector.try_lead(engine) => r,
                    out = &mut work => return out,
                };
                let why = match asked {
                    Ok(Role::Leader) => None,
                    Ok(Role::Follower(holder)) => Some(format!("lost the agent Lease to {holder}")),
                    Err(e) => Some(format!("error: {e}")),
                };
                if let Some(why) = why {
                    eprintln!("{why}: stopping after the object in flight");
                    lost.store(true, Ordering::Relaxed);
                    cancel.cancel();
                }
            }
        }
    }
}
