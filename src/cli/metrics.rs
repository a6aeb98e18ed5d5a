//! The agent's `/metrics` (Prometheus text format), `/healthz` and
//! `/readyz`, served on `--metrics-addr`, as Flux's and Argo CD's
//! controllers serve theirs.
//!
//! Metrics (all prefixed `gitops_tui_`): `agent_syncs_total{app,result}`
//! (`synced`, `healed`, `failed`, `skipped`), `app_drift_resources{app}`
//! (objects out of sync, missing or extra at the last comparison),
//! `sync_duration_seconds` (a histogram), `api_errors_total{app}`,
//! `agent_leader` (1 while this replica leads) and `agent_passes_total`.
//! `/healthz` answers while the process runs; `/readyz` once the replica
//! has reached its cluster (a pass done, or the Lease read as a follower).

use crate::engine::{AgentAction, Observation};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AppLabel {
    app: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SyncLabel {
    app: String,
    result: String,
}

pub struct AgentMetrics {
    registry: Mutex<Registry>,
    syncs: Family<SyncLabel, Counter>,
    drift: Family<AppLabel, Gauge>,
    api_errors: Family<AppLabel, Counter>,
    durations: Histogram,
    leader: Gauge,
    passes: Counter,
    ready: AtomicBool,
}

impl AgentMetrics {
    pub fn new() -> Arc<AgentMetrics> {
        let mut registry = Registry::with_prefix("gitops_tui");
        let syncs = Family::<SyncLabel, Counter>::default();
        let drift = Family::<AppLabel, Gauge>::default();
        let api_errors = Family::<AppLabel, Counter>::default();
        let durations = Histogram::new(exponential_buckets(0.05, 2.0, 12));
        let leader = Gauge::default();
        let passes = Counter::default();
        registry.register(
            "agent_syncs",
            "Syncs the agent ran, by app and result",
            syncs.clone(),
        );
        registry.register(
            "app_drift_resources",
            "Objects out of sync, missing or extra at the app's last comparison",
            drift.clone(),
        );
        registry.register(
            "api_errors",
            "Failed requests to a cluster, by app",
            api_errors.clone(),
        );
        registry.register(
            "sync_duration_seconds",
            "How long the agent's syncs took",
            durations.clone(),
        );
        registry.register(
            "agent_leader",
            "1 while this replica holds the agent Lease",
            leader.clone(),
        );
        registry.register("agent_passes", "Passes the agent completed", passes.clone());
        Arc::new(AgentMetrics {
            registry: Mutex::new(registry),
            syncs,
            drift,
            api_errors,
            durations,
            leader,
            passes,
            ready: AtomicBool::new(false),
        })
    }

    pub fn observe(&self, o: &Observation) {
        match o {
            Observation::Status(s) => {
                let c = &s.counts;
                let n = c.out_of_sync + c.missing + c.extra;
                self.drift
                    .get_or_create(&AppLabel {
                        app: s.name.to_string(),
                    })
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
            Observation::Sync { took, .. } => self.durations.observe(took.as_secs_f64()),
            Observation::ApiError { app } => {
                self.api_errors
                    .get_or_create(&AppLabel {
                        app: app.to_string(),
                    })
                    .inc();
            }
        }
    }

    pub fn pass_done(&self, actions: &[AgentAction]) {
        for a in actions {
            self.syncs
                .get_or_create(&SyncLabel {
                    app: a.app.to_string(),
                    result: a.action.clone(),
                })
                .inc();
        }
        self.passes.inc();
        self.ready.store(true, Ordering::Relaxed);
    }

    pub fn set_leader(&self, leading: bool) {
        self.leader.set(i64::from(leading));
    }

    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}

async fn metrics(State(m): State<Arc<AgentMetrics>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        m.render(),
    )
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(m): State<Arc<AgentMetrics>>) -> (StatusCode, &'static str) {
    if m.ready.load(Ordering::Relaxed) {
        (StatusCode::OK, "ok")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the cluster was not reached yet",
        )
    }
}

/// Binds `addr` (port 0 picks a free one), says where on stderr, and serves
/// in the background. Returns the bound address.
pub async fn serve(addr: &str, m: Arc<AgentMetrics>) -> std::io::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    eprintln!("metrics listening on {bound}");
    let app = axum::Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(m);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AppId;
    use std::time::Duration;

    #[test]
    fn observations_and_actions_show_in_the_exposition() {
        let m = AgentMetrics::new();
        m.observe(&Observation::Sync {
            app: AppId::native("shop"),
            took: Duration::from_millis(300),
            succeeded: true,
        });
        m.observe(&Observation::ApiError {
            app: AppId::native("shop"),
        });
        m.pass_done(&[AgentAction {
            app: AppId::native("shop"),
            action: "synced".into(),
            detail: String::new(),
        }]);
        m.set_leader(true);
        let text = m.render();
        assert!(
            text.contains("gitops_tui_agent_syncs_total{app=\"shop\",result=\"synced\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("gitops_tui_api_errors_total{app=\"shop\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("gitops_tui_sync_duration_seconds_count 1"),
            "{text}"
        );
        assert!(text.contains("gitops_tui_agent_leader 1"), "{text}");
        assert!(text.contains("gitops_tui_agent_passes_total 1"), "{text}");
    }
}
