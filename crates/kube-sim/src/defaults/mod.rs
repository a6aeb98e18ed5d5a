//! Server-side defaulting, as the kube-apiserver applies it.
//!
//! The real apiserver fills in dozens of fields a manifest leaves out
//! (`imagePullPolicy`, `terminationMessagePath`, a Service's `clusterIP`, ...)
//! on create, update, apply and dry-run. Clients see them in every response and
//! `kubectl diff` / kube-rs tests compare against them, so kube-sim has to fill
//! in the same values, or diffs and round-trips behave differently from a real
//! cluster. This module does that as pure functions over `serde_json::Value`:
//! the HTTP layer calls [`apply_defaults`] on the decoded object before storing
//! or returning it.
//!
//! Two rules hold for every kind: a value the user set is never overwritten
//! (JSON `null` counts as unset, as a nil Go pointer would), and defaulting is
//! idempotent, so applying it to an already-stored object changes nothing.
//! Allocations (cluster IPs, node ports) go through [`Allocator`] because the
//! server owns those counters and must not hand out the same IP twice.

mod core;
mod pod;
mod workloads;

use serde_json::{Map, Value};

/// The server's allocators for values the apiserver assigns rather than
/// defaults: each call hands out a fresh value.
pub trait Allocator {
    /// A free ClusterIP from the service CIDR (e.g. `10.96.0.17`).
    fn cluster_ip(&mut self) -> String;
    /// A free port from the node port range (30000-32767).
    fn node_port(&mut self) -> i64;
}

/// Fills in the apiserver's defaults for an object of `group`/`kind`
/// (group `""` for the core API). Kinds without defaults, custom resources
/// included, are left untouched; so is anything that is not a JSON object.
pub fn apply_defaults(group: &str, kind: &str, obj: &mut Value, alloc: &mut dyn Allocator) {
    let Value::Object(obj) = obj else {
        return;
    };
    match (group, kind) {
        ("", "Pod") => pod::pod(obj),
        ("", "PodTemplate") => {
            if let Some(spec) = existing(obj, "template").and_then(|t| existing(t, "spec")) {
                pod::pod_spec(spec, pod::PodSpecOf::Template);
            }
        }
        ("", "ReplicationController") | ("apps", "ReplicaSet") => workloads::replica_set(obj),
        ("apps", "Deployment") => workloads::deployment(obj),
        ("apps", "StatefulSet") => workloads::stateful_set(obj),
        ("apps", "DaemonSet") => workloads::daemon_set(obj),
        ("batch", "Job") => workloads::job(obj),
        ("batch", "CronJob") => workloads::cron_job(obj),
        ("", "Service") => core::service(obj, alloc),
        ("", "Secret") => core::secret(obj),
        ("", "Namespace") => core::namespace(obj),
        ("", "PersistentVolumeClaim") => core::persistent_volume_claim(obj),
        ("", "PersistentVolume") => core::persistent_volume(obj),
        // ConfigMap, ServiceAccount, Role/ClusterRole(Binding) and Ingress
        // (networking.k8s.io/v1 requires pathType, it has no default) have
        // no server-side defaults.
        _ => {}
    }
}

/// Whether `map[key]` counts as unset: absent or JSON `null`.
fn unset(map: &Map<String, Value>, key: &str) -> bool {
    map.get(key).is_none_or(Value::is_null)
}

/// Sets `map[key]` to `value` unless the user already set it.
fn default(map: &mut Map<String, Value>, key: &str, value: impl Into<Value>) {
    if unset(map, key) {
        map.insert(key.to_string(), value.into());
    }
}

/// The object at `map[key]`, created empty when unset. `None` when the field
/// holds something else (an invalid object is left for validation to reject).
fn object<'a>(map: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    if unset(map, key) {
        map.insert(key.to_string(), Value::Object(Map::new()));
    }
    map.get_mut(key).and_then(Value::as_object_mut)
}

/// The object at `map[key]` if the user set one; nothing is created.
fn existing<'a>(map: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    map.get_mut(key).and_then(Value::as_object_mut)
}

/// Runs `f` on every object item of the list at `map[key]`.
fn each(map: &mut Map<String, Value>, key: &str, mut f: impl FnMut(&mut Map<String, Value>)) {
    if let Some(Value::Array(items)) = map.get_mut(key) {
        items
            .iter_mut()
            .filter_map(Value::as_object_mut)
            .for_each(&mut f);
    }
}

/// The string at `map[key]`, if it is one.
fn str_at<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
}

#[cfg(test)]
pub(crate) mod test_alloc {
    use super::Allocator;

    /// Hands out 10.96.0.10, .11, ... and 30000, 30001, ... like the server.
    #[derive(Default)]
    pub struct Counter {
        pub ips: u32,
        pub ports: i64,
    }

    impl Allocator for Counter {
        fn cluster_ip(&mut self) -> String {
            self.ips += 1;
            format!("10.96.0.{}", 9 + self.ips)
        }
        fn node_port(&mut self) -> i64 {
            self.ports += 1;
            29999 + self.ports
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_alloc::Counter;
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_without_defaults_are_untouched() {
        let mut alloc = Counter::default();
        for (group, kind) in [
            ("", "ConfigMap"),
            ("", "ServiceAccount"),
            ("rbac.authorization.k8s.io", "Role"),
            ("rbac.authorization.k8s.io", "ClusterRole"),
            ("networking.k8s.io", "Ingress"),
            ("example.com", "Widget"),
        ] {
            let original = json!({"metadata": {"name": "x"}, "data": {"a": "1"},
                "spec": {"rules": [{"http": {"paths": [{"path": "/"}]}}]}});
            let mut obj = original.clone();
            apply_defaults(group, kind, &mut obj, &mut alloc);
            assert_eq!(obj, original, "{group}/{kind}");
        }
        let mut not_an_object = json!([1]);
        apply_defaults("", "Pod", &mut not_an_object, &mut alloc);
        assert_eq!(not_an_object, json!([1]));
    }

    #[test]
    fn null_counts_as_unset() {
        let mut alloc = Counter::default();
        let mut obj = json!({"spec": {"replicas": null, "selector": {}, "template": null}});
        apply_defaults("apps", "ReplicaSet", &mut obj, &mut alloc);
        assert_eq!(obj["spec"]["replicas"], 1);
    }
}
