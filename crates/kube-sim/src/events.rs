//! core/v1 Events recorded by the simulated controllers.
//!
//! Clients (`kubectl describe`, the TUI's Events section) read what happened
//! to an object from Events, so the controllers record them the way the real
//! ones do: in the object's namespace, named `<object>.<16 hex>` like the
//! apiserver's recorder, with `involvedObject`, `source` and the reporting
//! fields filled. A repeat of the same reason and message for the same object
//! bumps `count` and `lastTimestamp` instead of adding an object, as the
//! client-go event correlator does; callers only record real transitions.

use crate::commit::{commit, Tracking};
use crate::objects::{meta_str, now};
use crate::server::State;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// Which Event a repeat bumps: (namespace, involved uid, reason, message) to
/// the Event's name. Without it every record scanned all Events of the
/// namespace, so a rollout of 1,000 Pods cost a million comparisons per Event.
/// An entry is checked against the store when used (the Event may have been
/// deleted), so a stale entry only costs one lookup.
#[derive(Debug, Default)]
pub struct Correlator(HashMap<(String, String, String, String), String>);

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
    let correlation = (
        ns.clone(),
        uid.clone(),
        reason.to_string(),
        message.to_string(),
    );
    let same = state
        .events
        .0
        .get(&correlation)
        .and_then(|event_name| state.store.get(&resource, &ns, event_name))
        .filter(|e| {
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
    if commit(state, &rt, None, event, false, tracking).is_ok() {
        state.events.0.insert(correlation, event_name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;
    use crate::store::Store;

    fn state() -> State {
        let mut state = State {
            registry: Registry::with_builtins(),
            store: Store::new(100),
            snapshots: Default::default(),
            alloc: Default::default(),
            events: Default::default(),
        };
        state.store.put(
            &(String::new(), "namespaces".into()),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}),
        );
        state
    }

    fn counts(state: &State) -> Vec<(String, i64)> {
        let mut out: Vec<(String, i64)> = state
            .store
            .list(&(String::new(), "events".into()), Some("default"))
            .iter()
            .map(|e| {
                (
                    e["message"].as_str().unwrap_or("").to_string(),
                    e["count"].as_i64().unwrap_or(0),
                )
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn a_repeat_bumps_its_event_and_a_deleted_event_starts_over() {
        let mut s = state();
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "default", "uid": "u1"}});
        let back_off = |s: &mut State, message: &str| {
            record(s, &pod, Kind::Warning, "BackOff", message, "kubelet");
        };
        back_off(&mut s, "Back-off pulling image");
        back_off(&mut s, "Back-off pulling image");
        back_off(&mut s, "Back-off restarting");
        assert_eq!(
            counts(&s),
            [
                ("Back-off pulling image".to_string(), 2),
                ("Back-off restarting".to_string(), 1)
            ]
        );

        // Another object's identical Event is its own.
        let other = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "q", "namespace": "default", "uid": "u2"}});
        record(
            &mut s,
            &other,
            Kind::Warning,
            "BackOff",
            "Back-off restarting",
            "kubelet",
        );
        assert_eq!(counts(&s).len(), 3);

        let resource = (String::new(), "events".to_string());
        for e in s.store.list(&resource, Some("default")) {
            let (ns, name) = crate::store::ns_name(&e);
            s.store.remove(&resource, &ns, &name);
        }
        back_off(&mut s, "Back-off pulling image");
        assert_eq!(counts(&s), [("Back-off pulling image".to_string(), 1)]);
    }
}
