//! The agent: auto-sync apps whose ref moved, re-apply drift where
//! self-heal is on, back off on failure, and never touch a suspended or
//! paused app. It runs headless as `gitops-tui agent` and inside the TUI.

use super::sync::SyncOptions;
use super::{Engine, EngineError};
use crate::model::{AppId, AppStatus, SyncStatus};
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Serialize)]
pub struct AgentAction {
    pub app: AppId,
    /// `synced` (the ref moved), `healed` (drift re-applied), `failed`, `skipped`.
    pub action: String,
    pub detail: String,
}

/// What a pass saw besides its actions, for the agent's metrics.
#[derive(Debug, Clone)]
pub enum Observation {
    /// An app's status, as the pass compared it.
    Status(Box<AppStatus>),
    /// A sync the pass ran, how long it took and whether it succeeded.
    Sync {
        app: AppId,
        took: Duration,
        succeeded: bool,
    },
    /// A request to a cluster failed (status or sync could not be had).
    ApiError { app: AppId },
}

/// Failures per app and when to try again: 30 s, 1 m, 2 m, ... at most 10 m.
#[derive(Debug, Default)]
pub struct Backoff {
    failures: HashMap<String, (u32, Instant)>,
}

impl Backoff {
    const BASE: Duration = Duration::from_secs(30);
    const MAX: Duration = Duration::from_secs(600);

    fn ready(&self, app: &str, now: Instant) -> bool {
        self.failures.get(app).is_none_or(|(_, next)| now >= *next)
    }

    fn failed(&mut self, app: &str, now: Instant) -> Duration {
        let n = self.failures.get(app).map_or(0, |(n, _)| *n);
        let delay = Self::BASE.saturating_mul(1u32 << n.min(5)).min(Self::MAX);
        self.failures.insert(app.to_string(), (n + 1, now + delay));
        delay
    }

    fn succeeded(&mut self, app: &str) {
        self.failures.remove(app);
    }
}

impl Engine {
    /// One pass over every app with `auto_sync` or `self_heal`.
    pub async fn agent_pass(&self, backoff: &mut Backoff) -> Vec<AgentAction> {
        self.agent_pass_cancellable(backoff, &CancellationToken::new())
            .await
    }

    /// [`Engine::agent_pass`] that, once `cancel` is cancelled, starts no
    /// further app and stops its sync after the object in flight.
    pub async fn agent_pass_cancellable(
        &self,
        backoff: &mut Backoff,
        cancel: &CancellationToken,
    ) -> Vec<AgentAction> {
        self.agent_pass_observed(backoff, cancel, &mut |_| {}).await
    }

    /// [`Engine::agent_pass_cancellable`] telling `observe` each status it
    /// compared, each sync it ran and each cluster error.
    pub async fn agent_pass_observed(
        &self,
        backoff: &mut Backoff,
        cancel: &CancellationToken,
        observe: &mut (dyn FnMut(Observation) + Send),
    ) -> Vec<AgentAction> {
        let mut actions = Vec::new();
        let apps: Vec<_> = self
            .config
            .apps
            .iter()
            .filter(|a| a.auto_sync || a.self_heal)
            .cloned()
            .collect();
        for app in apps {
            if cancel.is_cancelled() {
                break;
            }
            let now = Instant::now();
            if !backoff.ready(&app.name, now) {
                continue;
            }
            let action = |action: &str, detail: String| AgentAction {
                app: app.id(),
                action: action.into(),
                detail,
            };
            let status = match self.status(&app.id()).await {
                Ok(s) => {
                    observe(Observation::Status(Box::new(s.clone())));
                    s
                }
                Err(e) => {
                    if matches!(e, EngineError::Cluster(_)) {
                        observe(Observation::ApiError { app: app.id() });
                    }
                    let delay = backoff.failed(&app.name, now);
                    actions.push(action(
                        "failed",
                        format!("{e}; next try in {}", humantime::format_duration(delay)),
                    ));
                    continue;
                }
            };
            if status.suspended || status.paused_revision.is_some() {
                continue;
            }
            let moved = app.auto_sync
                && status.head_revision.is_some()
                && status.head_revision != status.deployed_revision;
            let drifted = app.self_heal && status.sync == SyncStatus::OutOfSync;
            if !moved && !drifted {
                backoff.succeeded(&app.name);
                continue;
            }
            let opts = SyncOptions {
                prune: app.prune,
                cancel: cancel.clone(),
                ..Default::default()
            };
            let started = Instant::now();
            let result = self.sync(&app.id(), &opts).await;
            match &result {
                Ok(report) => observe(Observation::Sync {
                    app: app.id(),
                    took: started.elapsed(),
                    succeeded: report.succeeded,
                }),
                Err(EngineError::Cluster(_)) => observe(Observation::ApiError { app: app.id() }),
                Err(_) => {}
            }
            match result {
                Ok(report) if report.succeeded => {
                    backoff.succeeded(&app.name);
                    let word = if moved { "synced" } else { "healed" };
                    actions.push(action(
                        word,
                        format!("{} at {}", report.message, report.revision.medium()),
                    ));
                }
                Ok(report) => {
                    let delay = backoff.failed(&app.name, now);
                    actions.push(action(
                        "failed",
                        format!(
                            "{}; next try in {}",
                            report.message,
                            humantime::format_duration(delay)
                        ),
                    ));
                }
                Err(EngineError::Busy { holder, .. }) => {
                    actions.push(action("skipped", format!("{holder} is operating on it")))
                }
                Err(e) => {
                    let delay = backoff.failed(&app.name, now);
                    actions.push(action(
                        "failed",
                        format!("{e}; next try in {}", humantime::format_duration(delay)),
                    ));
                }
            }
        }
        actions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_ten_minutes_and_resets() {
        let mut b = Backoff::default();
        let t = Instant::now();
        assert!(b.ready("a", t));
        assert_eq!(b.failed("a", t), Duration::from_secs(30));
        assert!(!b.ready("a", t));
        assert!(b.ready("a", t + Duration::from_secs(31)));
        assert_eq!(b.failed("a", t), Duration::from_secs(60));
        for _ in 0..10 {
            b.failed("a", t);
        }
        assert_eq!(b.failed("a", t), Duration::from_secs(600));
        b.succeeded("a");
        assert!(b.ready("a", t));
    }
}
