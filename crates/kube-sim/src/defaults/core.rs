//! Defaults of core (v1) kinds other than Pod: Service, Secret, Namespace,
//! PersistentVolumeClaim and PersistentVolume. Most follow
//! k8s.io/kubernetes `pkg/apis/core/v1/defaults.go`; the Service IP fields,
//! Secret `stringData` and the Namespace finalizer/phase are done by the
//! apiserver's registry on create, which kube-sim folds in here.

use super::{default, each, existing, object, str_at, unset, Allocator};
use base64::Engine as _;
use serde_json::{json, Map, Value};

/// `sessionAffinity: ClientIP` without a timeout gets three hours.
const CLIENT_IP_TIMEOUT_SECONDS: i64 = 10800;

pub(super) fn service(obj: &mut Map<String, Value>, alloc: &mut dyn Allocator) {
    let Some(spec) = object(obj, "spec") else {
        return;
    };
    default(spec, "sessionAffinity", "None");
    if str_at(spec, "sessionAffinity") == Some("ClientIP") {
        if let Some(client_ip) =
            object(spec, "sessionAffinityConfig").and_then(|c| object(c, "clientIP"))
        {
            default(client_ip, "timeoutSeconds", CLIENT_IP_TIMEOUT_SECONDS);
        }
    }
    default(spec, "type", "ClusterIP");
    let ty = str_at(spec, "type").unwrap_or("ClusterIP").to_string();
    each(spec, "ports", |p| {
        default(p, "protocol", "TCP");
        // targetPort 0 or "" also means "same as port".
        let target_unset = match p.get("targetPort") {
            None | Some(Value::Null) => true,
            Some(Value::Number(n)) => n.as_i64() == Some(0),
            Some(Value::String(s)) => s.is_empty(),
            Some(_) => false,
        };
        if target_unset {
            if let Some(port) = p.get("port").cloned() {
                p.insert("targetPort".into(), port);
            }
        }
    });
    let has_external_ips = spec
        .get("externalIPs")
        .and_then(Value::as_array)
        .is_some_and(|ips| !ips.is_empty());
    let node_ports = ty == "NodePort" || ty == "LoadBalancer";
    if node_ports || (ty == "ClusterIP" && has_external_ips) {
        default(spec, "externalTrafficPolicy", "Cluster");
    }
    if ty == "LoadBalancer" {
        default(spec, "allocateLoadBalancerNodePorts", true);
    }
    if ty != "ExternalName" {
        default(spec, "internalTrafficPolicy", "Cluster");
        allocate(spec, &ty, alloc);
    }
    // The (empty) load balancer status is always serialized.
    if let Some(status) = object(obj, "status") {
        default(status, "loadBalancer", json!({}));
    }
}

/// The registry's allocations: cluster IP, IP families and node ports. Only
/// unset values are allocated, so re-defaulting a stored Service (update,
/// apply) keeps its IP and ports.
fn allocate(spec: &mut Map<String, Value>, ty: &str, alloc: &mut dyn Allocator) {
    let ip_unset = match spec.get("clusterIP") {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    };
    if ip_unset {
        // A client that sent only clusterIPs asked for that IP.
        let first = spec
            .get("clusterIPs")
            .and_then(Value::as_array)
            .and_then(|ips| ips.first())
            .and_then(Value::as_str)
            .filter(|ip| !ip.is_empty())
            .map(str::to_string);
        let ip = first.unwrap_or_else(|| alloc.cluster_ip());
        spec.insert("clusterIP".into(), Value::String(ip));
    }
    if unset(spec, "clusterIPs") {
        // Headless ("None") services get ["None"] the same way.
        if let Some(ip) = spec.get("clusterIP").cloned() {
            spec.insert("clusterIPs".into(), Value::Array(vec![ip]));
        }
    }
    default(spec, "ipFamilies", json!(["IPv4"]));
    default(spec, "ipFamilyPolicy", "SingleStack");

    let wants_node_ports = ty == "NodePort"
        || (ty == "LoadBalancer"
            && spec.get("allocateLoadBalancerNodePorts") != Some(&Value::Bool(false)));
    if wants_node_ports {
        each(spec, "ports", |p| {
            let port_unset = match p.get("nodePort") {
                None | Some(Value::Null) => true,
                Some(v) => v.as_i64() == Some(0),
            };
            if port_unset {
                p.insert("nodePort".into(), json!(alloc.node_port()));
            }
        });
    }
    if ty == "LoadBalancer"
        && str_at(spec, "externalTrafficPolicy") == Some("Local")
        && spec
            .get("healthCheckNodePort")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            == 0
    {
        spec.insert("healthCheckNodePort".into(), json!(alloc.node_port()));
    }
}

/// Type Opaque, and the write-only `stringData` folded into `data`
/// (base64-encoded, overriding `data` keys of the same name).
pub(super) fn secret(obj: &mut Map<String, Value>) {
    default(obj, "type", "Opaque");
    let Some(Value::Object(string_data)) = obj.remove("stringData") else {
        return;
    };
    if string_data.is_empty() {
        return;
    }
    if let Some(data) = object(obj, "data") {
        for (k, v) in string_data {
            if let Value::String(s) = v {
                let encoded = base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
                data.insert(k, Value::String(encoded));
            }
        }
    }
}

/// The `kubernetes` finalizer and `Active` phase of a new namespace, and the
/// immutable `kubernetes.io/metadata.name` label. The apiserver forces that
/// label to the name, so here it is the one value that is overwritten.
pub(super) fn namespace(obj: &mut Map<String, Value>) {
    let name = obj
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string);
    if let (Some(name), Some(labels)) = (
        name,
        object(obj, "metadata").and_then(|m| object(m, "labels")),
    ) {
        labels.insert("kubernetes.io/metadata.name".into(), Value::String(name));
    }
    // Only when unset: the finalizer may be removed later via /finalize.
    if let Some(spec) = object(obj, "spec") {
        default(spec, "finalizers", json!(["kubernetes"]));
    }
    if let Some(status) = object(obj, "status") {
        default(status, "phase", "Active");
    }
}

pub(super) fn persistent_volume_claim(obj: &mut Map<String, Value>) {
    if let Some(spec) = existing(obj, "spec") {
        default(spec, "volumeMode", "Filesystem");
    }
    if let Some(status) = object(obj, "status") {
        default(status, "phase", "Pending");
    }
}

pub(super) fn persistent_volume(obj: &mut Map<String, Value>) {
    if let Some(spec) = existing(obj, "spec") {
        default(spec, "persistentVolumeReclaimPolicy", "Retain");
        default(spec, "volumeMode", "Filesystem");
    }
    if let Some(status) = object(obj, "status") {
        default(status, "phase", "Pending");
    }
}

#[cfg(test)]
mod tests {
    use super::super::{apply_defaults, test_alloc::Counter};
    use serde_json::{json, Value};

    fn defaulted(kind: &str, obj: Value, alloc: &mut Counter) -> Value {
        let mut obj = obj;
        apply_defaults("", kind, &mut obj, alloc);
        obj
    }

    #[test]
    fn cluster_ip_service() {
        let mut alloc = Counter::default();
        let out = defaulted(
            "Service",
            json!({"spec": {"selector": {"app": "a"}, "ports": [{"port": 80}]}}),
            &mut alloc,
        );
        assert_eq!(
            out,
            json!({
                "spec": {"selector": {"app": "a"},
                    "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
                    "sessionAffinity": "None", "type": "ClusterIP",
                    "internalTrafficPolicy": "Cluster",
                    "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                    "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack"},
                "status": {"loadBalancer": {}}
            })
        );
        // Re-defaulting the stored object (update, apply) allocates nothing.
        let again = defaulted("Service", out.clone(), &mut alloc);
        assert_eq!(again, out);
        assert_eq!(alloc.ips, 1);
    }

    #[test]
    fn node_port_and_load_balancer_services() {
        let mut alloc = Counter::default();
        let out = defaulted(
            "Service",
            json!({"spec": {"type": "NodePort", "ports": [
                {"port": 80, "targetPort": "http"}, {"port": 443, "nodePort": 31443}]}}),
            &mut alloc,
        );
        assert_eq!(
            out["spec"]["ports"],
            json!([{"port": 80, "targetPort": "http", "protocol": "TCP", "nodePort": 30000},
                   {"port": 443, "nodePort": 31443, "protocol": "TCP", "targetPort": 443}])
        );
        assert_eq!(out["spec"]["externalTrafficPolicy"], "Cluster");
        assert!(out["spec"].get("allocateLoadBalancerNodePorts").is_none());

        let out = defaulted(
            "Service",
            json!({"spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local",
                            "ports": [{"port": 80}]}}),
            &mut alloc,
        );
        assert_eq!(out["spec"]["allocateLoadBalancerNodePorts"], true);
        assert_eq!(out["spec"]["ports"][0]["nodePort"], 30001);
        assert_eq!(out["spec"]["healthCheckNodePort"], 30002);
        assert_eq!(out["spec"]["externalTrafficPolicy"], "Local");
        assert_eq!(out["spec"]["clusterIP"], "10.96.0.11");
        let again = defaulted("Service", out.clone(), &mut alloc);
        assert_eq!(again, out);
        assert_eq!((alloc.ips, alloc.ports), (2, 3));

        let out = defaulted(
            "Service",
            json!({"spec": {"type": "LoadBalancer", "allocateLoadBalancerNodePorts": false,
                            "ports": [{"port": 80}]}}),
            &mut alloc,
        );
        assert!(out["spec"]["ports"][0].get("nodePort").is_none());
    }

    #[test]
    fn headless_and_external_name_services() {
        let mut alloc = Counter::default();
        let out = defaulted(
            "Service",
            json!({"spec": {"clusterIP": "None", "ports": [{"port": 5432}]}}),
            &mut alloc,
        );
        assert_eq!(out["spec"]["clusterIP"], "None");
        assert_eq!(out["spec"]["clusterIPs"], json!(["None"]));
        assert_eq!(out["spec"]["ipFamilies"], json!(["IPv4"]));

        let out = defaulted(
            "Service",
            json!({"spec": {"type": "ExternalName", "externalName": "db.example.com"}}),
            &mut alloc,
        );
        assert_eq!(
            out["spec"],
            json!({"type": "ExternalName", "externalName": "db.example.com",
                   "sessionAffinity": "None"})
        );
        assert_eq!(alloc.ips, 0);

        let out = defaulted(
            "Service",
            json!({"spec": {"clusterIP": "10.0.0.5", "sessionAffinity": "ClientIP"}}),
            &mut alloc,
        );
        assert_eq!(out["spec"]["clusterIPs"], json!(["10.0.0.5"]));
        assert_eq!(
            out["spec"]["sessionAffinityConfig"],
            json!({"clientIP": {"timeoutSeconds": 10800}})
        );
        assert_eq!(alloc.ips, 0);
    }

    #[test]
    fn secret_folds_string_data() {
        let mut alloc = Counter::default();
        let out = defaulted(
            "Secret",
            json!({"metadata": {"name": "s"}, "data": {"a": "eA==", "b": "eQ=="},
                   "stringData": {"b": "hello", "c": "wörld"}}),
            &mut alloc,
        );
        assert_eq!(
            out,
            json!({"metadata": {"name": "s"}, "type": "Opaque",
                   "data": {"a": "eA==", "b": "aGVsbG8=", "c": "d8O2cmxk"}})
        );
        assert_eq!(defaulted("Secret", out.clone(), &mut alloc), out);
        let out = defaulted(
            "Secret",
            json!({"type": "kubernetes.io/tls", "stringData": {"tls.crt": "x"}}),
            &mut alloc,
        );
        assert_eq!(
            out,
            json!({"type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}})
        );
    }

    #[test]
    fn namespace() {
        let mut alloc = Counter::default();
        let out = defaulted(
            "Namespace",
            json!({"metadata": {"name": "team-a", "labels": {"env": "dev"}}}),
            &mut alloc,
        );
        assert_eq!(
            out,
            json!({"metadata": {"name": "team-a", "labels": {"env": "dev",
                       "kubernetes.io/metadata.name": "team-a"}},
                   "spec": {"finalizers": ["kubernetes"]},
                   "status": {"phase": "Active"}})
        );
        assert_eq!(defaulted("Namespace", out.clone(), &mut alloc), out);
        let terminating = json!({"metadata": {"name": "x", "labels": {}},
            "spec": {"finalizers": []}, "status": {"phase": "Terminating"}});
        let out = defaulted("Namespace", terminating, &mut alloc);
        assert_eq!(out["spec"]["finalizers"], json!([]));
        assert_eq!(out["status"]["phase"], "Terminating");
    }

    #[test]
    fn persistent_volume_claim() {
        let mut alloc = Counter::default();
        let out = defaulted(
            "PersistentVolumeClaim",
            json!({"spec": {"accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}}}}),
            &mut alloc,
        );
        assert_eq!(
            out,
            json!({"spec": {"accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                            "volumeMode": "Filesystem"},
                   "status": {"phase": "Pending"}})
        );
        let block = defaulted(
            "PersistentVolumeClaim",
            json!({"spec": {"volumeMode": "Block"}, "status": {"phase": "Bound"}}),
            &mut alloc,
        );
        assert_eq!(block["spec"]["volumeMode"], "Block");
        assert_eq!(block["status"]["phase"], "Bound");
    }
}
