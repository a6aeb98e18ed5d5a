//! core/v1 Events recorded by the simulated controllers.
//!
//! Clients (`kubectl describe`, the TUI's Events section) read what happened
//! to an object from Events, so the controllers record them the way the real
//! ones do: in the object's namespace, named `<object>.<16 hex>` like the
//! apiserver's recorder, with `involvedObject`, `source` and the reporting
//! fields filled. A repeat of the same reason and message for the same object
//! bumps `count` and `lastTimestamp` instead of adding an object, as the
//! client-go event correlator does; callers only record real transitions.

use crate::objects::{meta_str, now};
use crate::server::State;
use crate::writes::{commit, Tracking};
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

/// `Normal` or `Warning`, the two types the API knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Normal,
    Warning,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Normal => "Normal",
            Kind::Warning => "Warning",
        }
    }
}

/// The node the simulated kubelet and scheduler report.
pub const NODE: &str = "kube-sim";

/// Record `reason`/`message` about `involved` as `component` reports it.
///
/// Errors are ignored: an Event is best-effort, as on a real cluster.
pub fn record(
    state: &mut State,
    involved: &Value,
    kind: Kind,
    reason: &str,
    message: &str,
    component: &str,
) {
    let Some(rt) = state
        .registry
        .all()
        .iter()
        .find(|t| t.group.is_empty() && t.plural == "events")
        .cloned()
    else {
        return;
    };
    let resource = (rt.group.clone(), rt.plural.clone());
    let ns = meta_str(involved, "namespace")
        .unwrap_or("default")
        .to_string();
    let name = meta_str(involved, "name").unwrap_or("").to_string();
    let uid = meta_str(involved, "uid").unwrap_or("").to_string();
    let tracking = Tracking::Update {
        manager: component,
        subresource: None,
    };
    let same = state
        .store
        .list(&resource, Some(&ns))
        .into_iter()
        .find(|e| {
            e.pointer("/involvedObject/uid").and_then(Value::as_str) == Some(uid.as_str())
                && e.get("reason").and_then(Value::as_str) == Some(reason)
                && e.get("message").and_then(Value::as_str) == Some(message)
        });
    if let Some(existing) = same {
        let mut bumped = (*existing).clone();
        let count = existing.get("count").and_then(Value::as_i64).unwrap_or(1);
        bumped["count"] = json!(count + 1);
        bumped["lastTimestamp"] = json!(now());
        let _ = commit(state, &rt, Some(existing), bumped, false, tracking);
        return;
    }
    let host = matches!(component, "kubelet").then_some(NODE);
    let mut source = json!({"component": component});
    if let Some(h) = host {
        source["host"] = json!(h);
    }
    let mut stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let mut event_name = format!("{name}.{stamp:016x}");
    while state.store.get(&resource, &ns, &event_name).is_some() {
        stamp = stamp.wrapping_add(1);
        event_name = format!("{name}.{stamp:016x}");
    }
    let at = now();
    let event = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": event_name, "namespace": ns},
        "involvedObject": {
            "kind": involved.get("kind").cloned().unwrap_or(json!("")),
            "namespace": ns,
            "name": name,
            "uid": uid,
            "apiVersion": involved.get("apiVersion").cloned().unwrap_or(json!("")),
            "resourceVersion": meta_str(involved, "resourceVersion").unwrap_or(""),
        },
        "reason": reason,
        "message": message,
        "type": kind.as_str(),
        "source": source,
        "firstTimestamp": at,
        "lastTimestamp": at,
        "count": 1,
        "eventTime": null,
        "reportingComponent": component,
        "reportingInstance": host.unwrap_or(""),
    });
    let _ = commit(state, &rt, None, event, false, tracking);
}
