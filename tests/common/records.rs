//! The app record as the server stores it (ConfigMap `gitops-tui/app-NAME`),
//! read straight from kube-sim's store, for tests that check what a sync,
//! an interruption or an unlock left behind.

use super::Fixture;
use serde_json::Value;

/// The app's record ConfigMap data, straight from the server's store.
pub fn record_data(f: &Fixture, app: &str) -> serde_json::Map<String, Value> {
    f.sim
        .get("v1", "ConfigMap", "gitops-tui", &format!("app-{app}"))
        .and_then(|cm| cm.get("data").and_then(Value::as_object).cloned())
        .unwrap_or_default()
}

pub fn last_sync(f: &Fixture, app: &str) -> Value {
    let history: Vec<Value> = record_data(f, app)
        .get("history")
        .and_then(Value::as_str)
        .and_then(|h| serde_json::from_str(h).ok())
        .unwrap_or_default();
    history.last().cloned().unwrap_or(Value::Null)
}
