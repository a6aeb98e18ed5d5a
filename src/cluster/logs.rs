//! Pod logs through the real `pods/log` subresource, and the choices kubectl
//! makes around it: which pods a workload's selector picks, which one pod
//! `kubectl logs deployment/x` reads (`ByLogging`), which container when
//! none is named (the `kubectl.kubernetes.io/default-container` annotation,
//! else the first). Shared by the `logs` verb and the TUI's log pane, so
//! both read what kubectl would.
//!
//! Lines come back as the server sent them (bytes, newline kept), so the
//! CLI prints exactly what `kubectl logs` prints; the TUI cleans them up
//! for the screen itself.

use super::ClusterError;
use futures::io::AsyncBufReadExt;
use futures::stream::{BoxStream, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams};
use serde_json::Value;
use std::time::SystemTime;

/// The annotation naming the container kubectl reads when none is named.
pub const DEFAULT_CONTAINER_ANNOTATION: &str = "kubectl.kubernetes.io/default-container";

/// One read of a container's log, as the API takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogRequest {
    pub namespace: String,
    pub pod: String,
    pub container: Option<String>,
    pub follow: bool,
    pub previous: bool,
    pub tail_lines: Option<i64>,
    pub since_seconds: Option<i64>,
    pub timestamps: bool,
}

impl LogRequest {
    pub fn describe(&self) -> String {
        match &self.container {
            Some(c) => format!("pod {}/{} container {c}", self.namespace, self.pod),
            None => format!("pod {}/{}", self.namespace, self.pod),
        }
    }
}

/// Lines of one log read: each as the server sent it, newline included
/// (the last may lack one).
pub type LogLines = BoxStream<'static, Result<Vec<u8>, ClusterError>>;

/// Open a log read. Errors the server answers at once (no such container,
/// waiting to start, no previous run) come back here, with its message.
pub async fn open(
    client: &kube::Client,
    url: &str,
    req: &LogRequest,
) -> Result<LogLines, ClusterError> {
    let api: Api<Pod> = Api::namespaced(client.clone(), &req.namespace);
    let params = LogParams {
        container: req.container.clone(),
        follow: req.follow,
        previous: req.previous,
        tail_lines: req.tail_lines,
        since_seconds: req.since_seconds,
        timestamps: req.timestamps,
        ..LogParams::default()
    };
    let what = req.describe();
    let reader = api
        .log_stream(&req.pod, &params)
        .await
        .map_err(|e| ClusterError::from_kube(&format!("logs of {what}"), url, e))?;
    let reader = Box::pin(reader);
    let lines = futures::stream::unfold(Some(reader), move |state| {
        let what = what.clone();
        async move {
            let mut reader = state?;
            let mut buf = Vec::new();
            match reader.read_until(b'\n', &mut buf).await {
                Ok(0) => None,
                Ok(_) => Some((Ok(buf), Some(reader))),
                Err(e) => Some((
                    Err(ClusterError::Other(format!("logs of {what}: {e}"))),
                    None,
                )),
            }
        }
    });
    Ok(lines.boxed())
}

/// A `timestamps=true` line split into its RFC 3339 time and the text
/// (newline removed); a line without a readable time keeps all its text.
pub fn split_timestamp(line: &[u8]) -> (Option<SystemTime>, &[u8]) {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let Some(space) = line.iter().position(|b| *b == b' ') else {
        return (None, line);
    };
    let time = std::str::from_utf8(&line[..space])
        .ok()
        .and_then(|t| humantime::parse_rfc3339(t).ok());
    match time {
        Some(t) => (Some(t), &line[space + 1..]),
        None => (None, line),
    }
}

/// Containers of a pod, in spec order (init containers after them).
pub fn containers(pod: &Value) -> Vec<String> {
    ["containers", "initContainers"]
        .iter()
        .filter_map(|f| pod.pointer(&format!("/spec/{f}")).and_then(Value::as_array))
        .flatten()
        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// kubectl's container when none is named: the only one, the annotated
/// default, else the first; with the note kubectl prints on stderr when
/// it had to choose.
pub fn default_container(pod: &Value) -> Option<(String, Option<String>)> {
    let names: Vec<String> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if names.len() == 1 {
        return names.into_iter().next().map(|n| (n, None));
    }
    let annotated = pod
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(DEFAULT_CONTAINER_ANNOTATION))
        .and_then(Value::as_str)
        .filter(|n| names.iter().any(|c| c == n));
    if let Some(n) = annotated {
        return Some((n.to_string(), None));
    }
    let first = names.first()?.clone();
    let note = format!(
        "Defaulted container \"{first}\" out of: {}",
        names.join(", ")
    );
    Some((first, Some(note)))
}

/// A workload's `spec.selector` as a label selector string
/// (`app=web,tier in (a,b)`); None when it has none.
pub fn selector_of(workload: &Value) -> Option<String> {
    let sel = workload.pointer("/spec/selector")?;
    let mut parts: Vec<String> = vec![];
    if let Some(labels) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in labels {
            parts.push(format!("{k}={}", v.as_str().unwrap_or_default()));
        }
    }
    for e in sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
        let values: Vec<&str> = e
            .get("values")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match e.get("operator").and_then(Value::as_str) {
            Some("In") => parts.push(format!("{key} in ({})", values.join(","))),
            Some("NotIn") => parts.push(format!("{key} notin ({})", values.join(","))),
            Some("Exists") => parts.push(key.to_string()),
            Some("DoesNotExist") => parts.push(format!("!{key}")),
            _ => {}
        }
    }
    (!parts.is_empty()).then(|| parts.join(","))
}

/// The pods `selector` picks in `namespace`, in the server's list order.
pub async fn pods(
    client: &kube::Client,
    url: &str,
    namespace: &str,
    selector: &str,
) -> Result<Vec<Value>, ClusterError> {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let list = api
        .list(&ListParams::default().labels(selector))
        .await
        .map_err(|e| ClusterError::from_kube(&format!("pods {namespace}/-l {selector}"), url, e))?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|p| serde_json::to_value(p).ok())
        .collect())
}

fn ready_condition(pod: &Value) -> Option<&Value> {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
}

fn is_ready(pod: &Value) -> bool {
    ready_condition(pod).and_then(|c| c.get("status").and_then(Value::as_str)) == Some("True")
}

fn time_at(v: Option<&Value>) -> Option<SystemTime> {
    v.and_then(Value::as_str)
        .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
}

fn max_restarts(pod: &Value) -> i64 {
    pod.pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("restartCount").and_then(Value::as_i64))
        .max()
        .unwrap_or(0)
}

/// Go's `afterOrZero(a, b)`: a zero (missing) time sorts last.
fn after_or_zero(a: Option<SystemTime>, b: Option<SystemTime>) -> bool {
    match (a, b) {
        (None, _) | (_, None) => a.is_none(),
        (Some(a), Some(b)) => a > b,
    }
}

/// Whether `a` is a better pod to read logs from than `b` (kubectl's
/// `podutils.ByLogging`): scheduled, Running, Ready, ready the longest,
/// restarted the most, oldest.
fn better_for_logging(a: &Value, b: &Value) -> bool {
    let node = |p: &Value| {
        p.pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (na, nb) = (node(a), node(b));
    if na != nb && (na.is_empty() || nb.is_empty()) {
        return !na.is_empty();
    }
    let phase = |p: &Value| match p.pointer("/status/phase").and_then(Value::as_str) {
        Some("Running") => 0,
        Some("Unknown") => 1,
        Some("Pending") => 2,
        _ => 0,
    };
    if phase(a) != phase(b) {
        return phase(a) < phase(b);
    }
    if is_ready(a) != is_ready(b) {
        return is_ready(a);
    }
    if is_ready(a) && is_ready(b) {
        let ra = time_at(ready_condition(a).and_then(|c| c.get("lastTransitionTime")));
        let rb = time_at(ready_condition(b).and_then(|c| c.get("lastTransitionTime")));
        if ra != rb {
            return after_or_zero(rb, ra);
        }
    }
    if max_restarts(a) != max_restarts(b) {
        return max_restarts(a) > max_restarts(b);
    }
    let ca = time_at(a.pointer("/metadata/creationTimestamp"));
    let cb = time_at(b.pointer("/metadata/creationTimestamp"));
    if ca != cb {
        return after_or_zero(cb, ca);
    }
    false
}

/// The pod `kubectl logs KIND/NAME` reads among `pods`.
pub fn pod_for_logging(pods: &[Value]) -> Option<&Value> {
    let mut sorted: Vec<&Value> = pods.iter().collect();
    sorted.sort_by(|a, b| {
        if better_for_logging(a, b) {
            std::cmp::Ordering::Less
        } else if better_for_logging(b, a) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    });
    sorted.first().copied()
}

pub fn name_of(obj: &Value) -> &str {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_are_split_off_and_newlines_dropped() {
        let (t, text) = split_timestamp(b"2026-01-02T03:04:05.123456789Z GET / 200\n");
        assert!(t.is_some());
        assert_eq!(text, b"GET / 200");
        let (t, text) = split_timestamp(b"no time here\n");
        assert_eq!((t, text), (None, &b"no time here"[..]));
    }

    #[test]
    fn the_container_is_defaulted_as_kubectl_does() {
        let one = json!({"spec": {"containers": [{"name": "web"}]}});
        assert_eq!(default_container(&one), Some(("web".into(), None)));
        let two = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        assert_eq!(
            default_container(&two),
            Some((
                "a".into(),
                Some("Defaulted container \"a\" out of: a, b".into())
            ))
        );
        let annotated = json!({"metadata": {"annotations": {DEFAULT_CONTAINER_ANNOTATION: "b"}},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        assert_eq!(default_container(&annotated), Some(("b".into(), None)));
    }

    #[test]
    fn selectors_read_labels_and_expressions() {
        let d = json!({"spec": {"selector": {"matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]},
                                 {"key": "canary", "operator": "DoesNotExist"}]}}});
        assert_eq!(
            selector_of(&d).as_deref(),
            Some("app=web,tier in (a,b),!canary")
        );
        assert_eq!(selector_of(&json!({"spec": {}})), None);
    }

    #[test]
    fn the_pod_is_picked_by_logging_order() {
        let pod = |name: &str, node: &str, phase: &str, ready: bool, restarts: i64| {
            json!({"metadata": {"name": name, "creationTimestamp": "2026-01-01T00:00:00Z"},
                "spec": {"nodeName": node},
                "status": {"phase": phase,
                    "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"},
                                    "lastTransitionTime": "2026-01-01T00:00:05Z"}],
                    "containerStatuses": [{"restartCount": restarts}]}})
        };
        let pods = vec![
            pod("pending", "", "Pending", false, 0),
            pod("not-ready", "n1", "Running", false, 0),
            pod("ready", "n1", "Running", true, 0),
            pod("ready-restarted", "n1", "Running", true, 2),
        ];
        assert_eq!(pod_for_logging(&pods).map(name_of), Some("ready-restarted"));
        assert_eq!(pod_for_logging(&pods[..2]).map(name_of), Some("not-ready"));
        // Ties keep the server's order.
        let twins = vec![
            pod("a", "n1", "Running", true, 0),
            pod("b", "n1", "Running", true, 0),
        ];
        assert_eq!(pod_for_logging(&twins).map(name_of), Some("a"));
    }
}
