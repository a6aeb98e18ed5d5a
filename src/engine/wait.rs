//! `sync --wait`: follow an app's health after a sync until it is Healthy,
//! Degraded for a reason that will not go away by itself, or the time is up.
//!
//! A module of its own because the outcome is three-way (the command line
//! gives each its own exit code and words) and because the sync is reported
//! before the wait begins: the caller syncs, prints, then waits here.

use super::{Engine, EngineError};
use crate::model::{AppId, Health, ResourceKey};
use serde::Serialize;
use std::time::Duration;

/// How often the app's health is read while waiting.
const POLL: Duration = Duration::from_millis(500);

/// A resource that is not Healthy, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unhealthy {
    #[serde(flatten)]
    pub key: ResourceKey,
    pub health: Health,
    pub reason: String,
}

impl std::fmt::Display for Unhealthy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.reason.is_empty() {
            write!(f, "{} is {}", self.key, self.health)
        } else {
            write!(f, "{} is {} ({})", self.key, self.health, self.reason)
        }
    }
}

/// How a wait for health ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result")]
pub enum WaitOutcome {
    Healthy,
    /// Some resource is Degraded with a reason (a Deployment past its
    /// progress deadline, a failed Job, a crashing Pod): final, no more waiting.
    Degraded {
        resources: Vec<Unhealthy>,
    },
    /// Still Progressing (or otherwise not Healthy) when the time was up.
    TimedOut {
        #[serde(with = "humantime_serde")]
        timeout: Duration,
        resources: Vec<Unhealthy>,
    },
}

/// What is not Healthy among an app's resources.
fn unhealthy(status: &crate::model::AppStatus) -> Vec<Unhealthy> {
    status
        .resources
        .iter()
        .filter(|r| r.health != Health::Healthy)
        .map(|r| Unhealthy {
            key: r.key.clone(),
            health: r.health,
            reason: r.health_reason.clone(),
        })
        .collect()
}

/// Degraded with a reason is final: a Deployment's controller re-observes
/// a changed spec before it reports on it (the health rules read an
/// unobserved generation as Progressing), so a Degraded resource after a
/// sync is Degraded for what was applied.
fn final_degraded(resources: &[Unhealthy]) -> Vec<Unhealthy> {
    resources
        .iter()
        .filter(|r| r.health == Health::Degraded && !r.reason.is_empty())
        .cloned()
        .collect()
}

impl Engine {
    /// Read the app's health every half second until it is Healthy, Degraded
    /// with a reason, or `timeout` has passed.
    pub async fn wait_for_health(
        &self,
        id: &AppId,
        timeout: Duration,
    ) -> Result<WaitOutcome, EngineError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let status = self.status(id).await?;
            if status.health == Health::Healthy {
                return Ok(WaitOutcome::Healthy);
            }
            let resources = unhealthy(&status);
            let degraded = final_degraded(&resources);
            if !degraded.is_empty() {
                return Ok(WaitOutcome::Degraded {
                    resources: degraded,
                });
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(WaitOutcome::TimedOut { timeout, resources });
            }
            tokio::time::sleep(POLL.min(deadline - tokio::time::Instant::now())).await;
        }
    }
}

impl WaitOutcome {
    /// One line saying how the wait ended, e.g. `app web is Degraded:
    /// apps/Deployment web/web is Degraded (Deployment "web" exceeded its
    /// progress deadline)`.
    pub fn describe(&self, app: &AppId) -> String {
        let list = |r: &[Unhealthy]| {
            r.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        };
        match self {
            WaitOutcome::Healthy => format!("app {app} is Healthy"),
            WaitOutcome::Degraded { resources } => {
                format!("app {app} is Degraded: {}", list(resources))
            }
            WaitOutcome::TimedOut { timeout, resources } => format!(
                "app {app} timed out after {} waiting to be Healthy: {}",
                humantime::format_duration(*timeout),
                list(resources)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(health: Health, reason: &str) -> Unhealthy {
        Unhealthy {
            key: ResourceKey {
                group: "apps".into(),
                kind: "Deployment".into(),
                namespace: Some("shop".into()),
                name: "web".into(),
            },
            health,
            reason: reason.into(),
        }
    }

    #[test]
    fn only_degraded_with_a_reason_is_final() {
        let progressing = r(Health::Progressing, "Waiting for rollout to finish");
        let bare = r(Health::Degraded, "");
        let deadline = r(Health::Degraded, "exceeded its progress deadline");
        assert!(final_degraded(&[progressing.clone(), bare.clone()]).is_empty());
        assert_eq!(
            final_degraded(&[progressing, deadline.clone(), bare]),
            vec![deadline]
        );
    }

    #[test]
    fn outcomes_serialize_with_a_result_tag() {
        let v = serde_json::to_value(WaitOutcome::TimedOut {
            timeout: Duration::from_secs(3),
            resources: vec![r(Health::Progressing, "x")],
        })
        .expect("json");
        assert_eq!(v["result"], "TimedOut");
        assert_eq!(v["timeout"], "3s");
        assert_eq!(v["resources"][0]["kind"], "Deployment");
        assert_eq!(v["resources"][0]["health"], "Progressing");
        assert_eq!(
            serde_json::to_value(WaitOutcome::Healthy).expect("json"),
            serde_json::json!({"result": "Healthy"})
        );
    }
}
