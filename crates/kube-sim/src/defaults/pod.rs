//! Defaults of a pod spec, wherever one appears: a Pod, a workload's
//! `spec.template.spec`, a CronJob's `spec.jobTemplate.spec.template.spec`.
//!
//! These are the fields that make a naive diff of a Deployment noisy
//! (`imagePullPolicy`, `terminationMessagePath`, `dnsPolicy`, ...). They follow
//! k8s.io/kubernetes `pkg/apis/core/v1/defaults.go`; the few Pod-only ones
//! (`priority`, `preemptionPolicy`) come from admission plugins that run on
//! every Pod create.

use super::{default, each, existing, object, str_at, unset};
use serde_json::{json, Map, Value};

/// Where the pod spec sits; a few defaults depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PodSpecOf {
    /// A Pod's own spec: also gets the Pod-only defaults.
    Pod,
    /// A template of a Deployment, StatefulSet, DaemonSet, ReplicaSet, ...
    Template,
    /// The template of a Job (or CronJob's job template): `restartPolicy` is
    /// required there (Always is invalid), so it is not defaulted.
    JobTemplate,
}

/// A whole Pod: spec defaults plus the status the apiserver sets on create.
pub(super) fn pod(obj: &mut Map<String, Value>) {
    if let Some(spec) = existing(obj, "spec") {
        pod_spec(spec, PodSpecOf::Pod);
        let qos = qos_class(spec);
        if let Some(status) = object(obj, "status") {
            default(status, "phase", "Pending");
            default(status, "qosClass", qos);
        }
    }
}

pub(super) fn pod_spec(spec: &mut Map<String, Value>, of: PodSpecOf) {
    if of != PodSpecOf::JobTemplate {
        default(spec, "restartPolicy", "Always");
    }
    default(spec, "dnsPolicy", "ClusterFirst");
    default(spec, "schedulerName", "default-scheduler");
    default(spec, "securityContext", json!({}));
    default(spec, "terminationGracePeriodSeconds", 30);
    if of == PodSpecOf::Pod {
        default(spec, "enableServiceLinks", true);
        // Set by the Priority admission plugin when no PriorityClass applies.
        default(spec, "preemptionPolicy", "PreemptLowerPriority");
        default(spec, "priority", 0);
    }
    let host_network = spec.get("hostNetwork") == Some(&Value::Bool(true));
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        each(spec, list, |c| container(c, of, host_network));
    }
    each(spec, "volumes", volume);
}

fn container(c: &mut Map<String, Value>, of: PodSpecOf, host_network: bool) {
    default(c, "terminationMessagePath", "/dev/termination-log");
    default(c, "terminationMessagePolicy", "File");
    if unset(c, "imagePullPolicy") {
        if let Some(image) = str_at(c, "image") {
            let policy = pull_policy(image);
            c.insert("imagePullPolicy".into(), policy.into());
        }
    }
    if let Some(resources) = object(c, "resources") {
        // SetDefaults_Pod (Pods only): requests default to the limits.
        if of == PodSpecOf::Pod {
            if let Some(limits) = resources.get("limits").and_then(Value::as_object).cloned() {
                if let Some(requests) = object(resources, "requests") {
                    for (k, v) in limits {
                        requests.entry(k).or_insert(v);
                    }
                }
            }
        }
    }
    each(c, "ports", |p| {
        default(p, "protocol", "TCP");
        // With hostNetwork the container port is the host port.
        if host_network {
            if let Some(port) = p.get("containerPort").cloned() {
                default(p, "hostPort", port);
            }
        }
    });
    each(c, "env", |e| {
        if let Some(from) = existing(e, "valueFrom") {
            field_refs(from);
        }
    });
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = existing(c, probe) {
            default(p, "timeoutSeconds", 1);
            default(p, "periodSeconds", 10);
            default(p, "successThreshold", 1);
            default(p, "failureThreshold", 3);
            handler(p);
            if let Some(grpc) = existing(p, "grpc") {
                default(grpc, "service", "");
            }
        }
    }
    if let Some(lifecycle) = existing(c, "lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(h) = existing(lifecycle, hook) {
                handler(h);
            }
        }
    }
}

/// `imagePullPolicy` from the image reference: Always for `:latest` or no
/// tag, IfNotPresent for any other tag or a digest-only reference.
fn pull_policy(image: &str) -> &'static str {
    let (name, digest) = match image.split_once('@') {
        Some((name, _)) => (name, true),
        None => (image, false),
    };
    // A ':' before the last '/' is a registry port, not a tag.
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.split_once(':').map(|(_, tag)| tag) {
        Some("latest") => "Always",
        Some(_) => "IfNotPresent",
        None if digest => "IfNotPresent",
        None => "Always",
    }
}

/// HTTPGetAction defaults in a probe or lifecycle handler.
fn handler(h: &mut Map<String, Value>) {
    if let Some(get) = existing(h, "httpGet") {
        default(get, "path", "/");
        default(get, "scheme", "HTTP");
    }
}

/// `fieldRef.apiVersion` and `resourceFieldRef.divisor` (a Quantity that is
/// always serialized) in env `valueFrom` and downward API items.
fn field_refs(m: &mut Map<String, Value>) {
    if let Some(f) = existing(m, "fieldRef") {
        default(f, "apiVersion", "v1");
    }
    if let Some(r) = existing(m, "resourceFieldRef") {
        default(r, "divisor", "0");
    }
}

fn volume(v: &mut Map<String, Value>) {
    // A volume naming no source is an emptyDir.
    if v.iter().all(|(k, val)| k == "name" || val.is_null()) {
        v.insert("emptyDir".into(), json!({}));
    }
    for source in ["configMap", "secret", "downwardAPI", "projected"] {
        if let Some(s) = existing(v, source) {
            default(s, "defaultMode", 420);
        }
    }
    if let Some(h) = existing(v, "hostPath") {
        default(h, "type", "");
    }
    if let Some(d) = existing(v, "downwardAPI") {
        each(d, "items", field_refs);
    }
    if let Some(p) = existing(v, "projected") {
        each(p, "sources", |s| {
            if let Some(d) = existing(s, "downwardAPI") {
                each(d, "items", field_refs);
            }
            if let Some(t) = existing(s, "serviceAccountToken") {
                default(t, "expirationSeconds", 3600);
            }
        });
    }
    if let Some(spec) = existing(v, "ephemeral")
        .and_then(|e| existing(e, "volumeClaimTemplate"))
        .and_then(|t| existing(t, "spec"))
    {
        default(spec, "volumeMode", "Filesystem");
    }
}

/// The Pod's QoS class as the apiserver computes it on create. Quantities
/// are compared as written, which is exact for the usual manifests.
fn qos_class(spec: &Map<String, Value>) -> &'static str {
    let containers = ["containers", "initContainers"]
        .iter()
        .filter_map(|l| spec.get(*l).and_then(Value::as_array))
        .flatten()
        .collect::<Vec<_>>();
    let of = |c: &Value, kind: &str, res: &str| c.get("resources")?.get(kind)?.get(res).cloned();
    let mut any = false;
    let mut guaranteed = true;
    for c in &containers {
        for res in ["cpu", "memory"] {
            let (req, lim) = (of(c, "requests", res), of(c, "limits", res));
            any |= req.is_some() || lim.is_some();
            guaranteed &= lim.is_some() && req == lim;
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

#[cfg(test)]
mod tests {
    use super::super::{apply_defaults, test_alloc::Counter};
    use super::*;

    fn defaulted(mut obj: Value) -> Value {
        apply_defaults("", "Pod", &mut obj, &mut Counter::default());
        obj
    }

    #[test]
    fn pod_gets_spec_container_and_status_defaults() {
        let out = defaulted(json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{
                "name": "app", "image": "nginx",
                "ports": [{"containerPort": 80}],
                "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                "livenessProbe": {"httpGet": {"port": 80}},
                "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 5}
            }]}
        }));
        assert_eq!(
            out,
            json!({
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": {
                    "containers": [{
                        "name": "app", "image": "nginx",
                        "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        "env": [{"name": "NODE", "valueFrom": {"fieldRef": {
                            "fieldPath": "spec.nodeName", "apiVersion": "v1"}}}],
                        "livenessProbe": {"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
                            "timeoutSeconds": 1, "periodSeconds": 10,
                            "successThreshold": 1, "failureThreshold": 3},
                        "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 5,
                            "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
                        "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File",
                        "imagePullPolicy": "Always",
                        "resources": {}
                    }],
                    "restartPolicy": "Always",
                    "dnsPolicy": "ClusterFirst",
                    "schedulerName": "default-scheduler",
                    "securityContext": {},
                    "terminationGracePeriodSeconds": 30,
                    "enableServiceLinks": true,
                    "preemptionPolicy": "PreemptLowerPriority",
                    "priority": 0
                },
                "status": {"phase": "Pending", "qosClass": "BestEffort"}
            })
        );
        assert_eq!(defaulted(out.clone()), out, "idempotent");
    }

    #[test]
    fn image_pull_policy_follows_the_tag() {
        for (image, want) in [
            ("nginx", "Always"),
            ("nginx:latest", "Always"),
            ("nginx:1.25", "IfNotPresent"),
            ("registry:5000/team/app", "Always"),
            ("registry:5000/team/app:v2", "IfNotPresent"),
            ("nginx@sha256:abcd", "IfNotPresent"),
            ("nginx:1.25@sha256:abcd", "IfNotPresent"),
        ] {
            assert_eq!(pull_policy(image), want, "{image}");
        }
    }

    #[test]
    fn user_values_are_kept() {
        let spec = json!({
            "restartPolicy": "Never", "dnsPolicy": "Default", "priority": 5,
            "terminationGracePeriodSeconds": 0, "enableServiceLinks": false,
            "securityContext": {"runAsUser": 1000},
            "initContainers": [{"name": "i", "image": "busybox:1", "imagePullPolicy": "Never",
                "terminationMessagePolicy": "FallbackToLogsOnError",
                "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "500m"}}}],
            "containers": [{"name": "c", "image": "x:1",
                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]
        });
        let out = defaulted(json!({"spec": spec}));
        for (k, v) in spec.as_object().unwrap() {
            if k != "initContainers" && k != "containers" {
                assert_eq!(&out["spec"][k], v, "{k}");
            }
        }
        let init = &out["spec"]["initContainers"][0];
        assert_eq!(init["imagePullPolicy"], "Never");
        assert_eq!(init["terminationMessagePolicy"], "FallbackToLogsOnError");
        assert_eq!(init["resources"]["requests"], json!({"cpu": "500m"}));
        // Requests default to limits on Pods.
        assert_eq!(
            out["spec"]["containers"][0]["resources"]["requests"],
            json!({"cpu": "1", "memory": "1Gi"})
        );
        assert_eq!(out["status"]["qosClass"], "Burstable");
    }

    #[test]
    fn guaranteed_when_requests_equal_limits() {
        let out = defaulted(json!({"spec": {"containers": [{"name": "c", "image": "x:1",
            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}}));
        assert_eq!(out["status"]["qosClass"], "Guaranteed");
    }

    #[test]
    fn volumes_get_their_modes() {
        let out = defaulted(json!({"spec": {"containers": [], "volumes": [
            {"name": "cm", "configMap": {"name": "c"}},
            {"name": "s", "secret": {"secretName": "s", "defaultMode": 256}},
            {"name": "d", "downwardAPI": {"items": [{"path": "l",
                "fieldRef": {"fieldPath": "metadata.labels"}}]}},
            {"name": "p", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
            {"name": "scratch"},
            {"name": "h", "hostPath": {"path": "/data"}},
            {"name": "e", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"]}}}}
        ]}}));
        assert_eq!(
            out["spec"]["volumes"],
            json!([
                {"name": "cm", "configMap": {"name": "c", "defaultMode": 420}},
                {"name": "s", "secret": {"secretName": "s", "defaultMode": 256}},
                {"name": "d", "downwardAPI": {"defaultMode": 420, "items": [{"path": "l",
                    "fieldRef": {"fieldPath": "metadata.labels", "apiVersion": "v1"}}]}},
                {"name": "p", "projected": {"defaultMode": 420, "sources": [
                    {"serviceAccountToken": {"path": "t", "expirationSeconds": 3600}}]}},
                {"name": "scratch", "emptyDir": {}},
                {"name": "h", "hostPath": {"path": "/data", "type": ""}},
                {"name": "e", "ephemeral": {"volumeClaimTemplate": {"spec": {
                    "accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"}}}}
            ])
        );
    }

    #[test]
    fn host_network_ports_and_grpc_probes() {
        let out = defaulted(json!({"spec": {"hostNetwork": true, "containers": [{
            "name": "c", "image": "x:1", "ports": [{"containerPort": 9000}],
            "startupProbe": {"grpc": {"port": 9000}},
            "lifecycle": {"preStop": {"httpGet": {"port": 8080}}}
        }]}}));
        let c = &out["spec"]["containers"][0];
        assert_eq!(
            c["ports"],
            json!([{"containerPort": 9000, "protocol": "TCP", "hostPort": 9000}])
        );
        assert_eq!(
            c["startupProbe"]["grpc"],
            json!({"port": 9000, "service": ""})
        );
        assert_eq!(
            c["lifecycle"]["preStop"]["httpGet"],
            json!({"port": 8080, "path": "/", "scheme": "HTTP"})
        );
    }
}
