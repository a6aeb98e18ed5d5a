//! The recent Events of one object, for the TUI's Resources pane.
//!
//! Read through core/v1 (`Api<core::v1::Event>`): every cluster serves it,
//! and the apiserver shows events.k8s.io/v1 Events there too. The
//! `involvedObject` field selector narrows the list on the server, so a busy
//! namespace costs one small response. Newer recorders leave the deprecated
//! `lastTimestamp` null and fill `eventTime` / `series.lastObservedTime`
//! instead, so "last seen" falls back through all of them.

use super::{Engine, EngineError};
use crate::cluster::ClusterError;
use crate::model::{AppId, EventRow, ResourceKey, MAX_EVENTS};
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams};
use std::time::SystemTime;

impl Engine {
    /// The newest (at most [`MAX_EVENTS`]) Events about `key`, newest first.
    pub async fn events(
        &self,
        app: &AppId,
        key: &ResourceKey,
    ) -> Result<Vec<EventRow>, EngineError> {
        let cluster = self.cluster_of(app).await?;
        // Events about cluster-scoped objects are recorded in `default`.
        let ns = key.namespace.as_deref().unwrap_or("default");
        let api: Api<Event> = Api::namespaced(cluster.client.clone(), ns);
        let fields = format!(
            "involvedObject.kind={},involvedObject.name={}",
            key.kind, key.name
        );
        let list = api
            .list(&ListParams::default().fields(&fields))
            .await
            .map_err(|e| ClusterError::from_kube(&format!("events of {key}"), &cluster.url, e))?;
        Ok(rows(list.items, key))
    }
}

/// Newest first, at most [`MAX_EVENTS`]; events about a same-named object of
/// another API group (the selector cannot tell them apart) are left out.
pub fn rows(events: Vec<Event>, key: &ResourceKey) -> Vec<EventRow> {
    let mut rows: Vec<(SystemTime, EventRow)> = events
        .into_iter()
        .filter(|e| {
            let group = e
                .involved_object
                .api_version
                .as_deref()
                .and_then(|v| v.rsplit_once('/').map(|(g, _)| g))
                .unwrap_or("");
            e.involved_object.api_version.is_none() || group == key.group
        })
        .map(|e| {
            let when = last_seen(&e);
            let count = e
                .count
                .or_else(|| e.series.as_ref().and_then(|s| s.count))
                .and_then(|c| u32::try_from(c).ok())
                .unwrap_or(1);
            let source = e
                .source
                .as_ref()
                .and_then(|s| s.component.clone())
                .filter(|c| !c.is_empty())
                .or(e.reporting_component.clone())
                .unwrap_or_default();
            let row = EventRow {
                type_: e.type_.unwrap_or_else(|| "Normal".into()),
                reason: e.reason.unwrap_or_default(),
                message: e.message.unwrap_or_default().trim().to_string(),
                count,
                last_seen: when
                    .map(|t| humantime::format_rfc3339_seconds(t).to_string())
                    .unwrap_or_default(),
                source,
            };
            (when.unwrap_or(SystemTime::UNIX_EPOCH), row)
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    rows.into_iter().take(MAX_EVENTS).map(|(_, r)| r).collect()
}

fn last_seen(e: &Event) -> Option<SystemTime> {
    e.last_timestamp
        .as_ref()
        .map(|t| SystemTime::from(t.0))
        .or_else(|| {
            e.series
                .as_ref()
                .and_then(|s| s.last_observed_time.as_ref())
                .map(|t| SystemTime::from(t.0))
        })
        .or_else(|| e.event_time.as_ref().map(|t| SystemTime::from(t.0)))
        .or_else(|| e.first_timestamp.as_ref().map(|t| SystemTime::from(t.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key() -> ResourceKey {
        ResourceKey {
            group: "apps".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: "web".into(),
        }
    }

    fn event(v: serde_json::Value) -> Event {
        serde_json::from_value(v).expect("event")
    }

    #[test]
    fn newest_first_with_time_fallbacks() {
        let involved = json!({"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"});
        let events = vec![
            event(
                json!({"metadata": {"name": "a"}, "involvedObject": involved, "reason": "Old",
                "type": "Normal", "lastTimestamp": "2024-01-01T00:00:00Z", "count": 2,
                "source": {"component": "deployment-controller"}}),
            ),
            // events.k8s.io-style: no lastTimestamp, a series.
            event(
                json!({"metadata": {"name": "b"}, "involvedObject": involved, "reason": "Series",
                "type": "Warning", "eventTime": "2024-01-02T00:00:00.000000Z",
                "series": {"count": 5, "lastObservedTime": "2024-01-03T00:00:00.000000Z"},
                "reportingComponent": "kubelet"}),
            ),
            event(
                json!({"metadata": {"name": "c"}, "involvedObject": involved, "reason": "EventTime",
                "eventTime": "2024-01-02T12:00:00.000000Z"}),
            ),
            // Same name, another group: not ours.
            event(json!({"metadata": {"name": "d"}, "involvedObject":
                {"kind": "Deployment", "name": "web", "apiVersion": "other.io/v1"},
                "reason": "Foreign", "lastTimestamp": "2024-02-01T00:00:00Z"})),
        ];
        let rows = rows(events, &key());
        let reasons: Vec<&str> = rows.iter().map(|r| r.reason.as_str()).collect();
        assert_eq!(reasons, ["Series", "EventTime", "Old"]);
        assert_eq!(rows[0].count, 5);
        assert_eq!(rows[0].source, "kubelet");
        assert!(rows[0].is_warning());
        assert_eq!(rows[0].last_seen, "2024-01-03T00:00:00Z");
        assert_eq!(rows[1].type_, "Normal");
        assert_eq!(rows[2].count, 2);
        assert_eq!(rows[2].source, "deployment-controller");
    }

    #[test]
    fn at_most_twenty() {
        let events = (0..30)
            .map(|i| {
                event(json!({"metadata": {"name": format!("e{i}")},
                "involvedObject": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
                "reason": format!("R{i}"), "lastTimestamp": format!("2024-01-01T00:00:{i:02}Z")}))
            })
            .collect();
        let rows = rows(events, &key());
        assert_eq!(rows.len(), MAX_EVENTS);
        assert_eq!(rows[0].reason, "R29");
    }
}
