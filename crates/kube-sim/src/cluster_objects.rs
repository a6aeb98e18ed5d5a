//! The objects a freshly started cluster already holds, and the ones its
//! controllers put in every namespace.
//!
//! At start: the `kubernetes` Service with its Endpoints and EndpointSlice,
//! three Nodes (a tainted control plane and two workers, Ready, with
//! capacity) and their Leases in `kube-node-lease`, the control plane's
//! Leases, the bootstrap ClusterRoles and the cluster-admin binding, the two
//! system PriorityClasses, a default StorageClass, ComponentStatuses, one
//! APIService per served group-version and (1.33) the default ServiceCIDR.
//! Then, as kube-controller-manager's serviceaccounts and root-ca-cert
//! publisher controllers do, a `default` ServiceAccount and the
//! `kube-root-ca.crt` ConfigMap in every namespace, created asynchronously
//! when the namespace appears and put back when deleted, without
//! ownerReferences.

use crate::commit::{commit, Tracking};
use crate::objects::meta_str;
use crate::server::Shared;
use crate::store::EventType;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

const CONTROLLER: &str = "kube-controller-manager";
const APISERVER: &str = "kube-apiserver";
pub const ROOT_CA: &str = "kube-root-ca.crt";
const ROOT_CA_DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";
/// The simulated nodes: (name, internal IP, control plane).
pub const NODES: [(&str, &str, bool); 3] = [
    ("kube-sim-control-plane", "172.18.0.2", true),
    ("kube-sim-worker", "172.18.0.3", false),
    ("kube-sim-worker2", "172.18.0.4", false),
];

fn create(shared: &Shared, manager: &str, object: Value) {
    let api_version = object["apiVersion"].as_str().unwrap_or("");
    let group = api_version
        .rsplit_once('/')
        .map_or("", |(g, _)| g)
        .to_string();
    let kind = object["kind"].as_str().unwrap_or("").to_string();
    let mut state = shared.lock();
    let Some(rt) = state.registry.find_kind(&group, &kind) else {
        return; // not served by the version this server reports
    };
    let (ns, name) = crate::store::ns_name(&object);
    if state
        .store
        .get(&(rt.group.clone(), rt.plural.clone()), &ns, &name)
        .is_some()
    {
        return;
    }
    let tracking = Tracking::Update {
        manager,
        subresource: None,
    };
    if let Err(e) = commit(&mut state, &rt, None, object, false, tracking) {
        tracing::warn!("kube-sim: creating {kind} {ns}/{name}: {}", e.message);
    }
}

/// Everything a new cluster starts with besides its namespaces.
pub fn seed(shared: &Shared, minor: u32) {
    let now = crate::objects::now();
    create(
        shared,
        APISERVER,
        json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"], "type": "ClusterIP",
            "sessionAffinity": "None",
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}}),
    );
    create(
        shared,
        APISERVER,
        json!({"apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": NODES[0].1}],
            "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]}),
    );
    create(
        shared,
        APISERVER,
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [NODES[0].1], "conditions": {"ready": true}}],
        "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}),
    );
    create(
        shared,
        APISERVER,
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "ServiceCIDR",
        "metadata": {"name": "kubernetes"}, "spec": {"cidrs": ["10.96.0.0/16"]},
        "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "",
            "message": "Kubernetes Service CIDR is ready", "lastTransitionTime": now}]}}),
    );
    create(
        shared,
        APISERVER,
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "IPAddress",
        "metadata": {"name": "10.96.0.1",
            "labels": {"ipaddress.kubernetes.io/ip-family": "IPv4",
                "ipaddress.kubernetes.io/managed-by": "ipallocator.k8s.io"}},
        "spec": {"parentRef": {"group": "", "resource": "services",
            "namespace": "default", "name": "kubernetes"}}}),
    );
    for (name, ip, control_plane) in NODES {
        create(
            shared,
            "kubelet",
            node(name, ip, control_plane, minor, &now),
        );
        create(
            shared,
            "kubelet",
            json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": name, "namespace": "kube-node-lease",
                "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name,
                    "uid": node_uid(shared, name)}]},
            "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": micro(&now)}}),
        );
    }
    for component in ["kube-controller-manager", "kube-scheduler"] {
        create(
            shared,
            component,
            json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": component, "namespace": "kube-system"},
            "spec": {"holderIdentity": format!("{}_{}", NODES[0].0, uuid::Uuid::new_v4()),
                "leaseDurationSeconds": 15, "leaseTransitions": 0,
                "acquireTime": micro(&now), "renewTime": micro(&now)}}),
        );
    }
    for role in cluster_roles() {
        create(shared, APISERVER, role);
    }
    create(
        shared,
        APISERVER,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "cluster-admin", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}]}),
    );
    for (name, value, what) in [
        ("system-cluster-critical", 2_000_000_000, "cluster"),
        ("system-node-critical", 2_000_001_000, "node"),
    ] {
        create(
            shared,
            APISERVER,
            json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": name}, "value": value, "globalDefault": false,
            "preemptionPolicy": "PreemptLowerPriority",
            "description": format!("Used for system critical pods that must run in the {what}, but can be moved to another {what} if necessary.")}),
        );
    }
    create(
        shared,
        "kubectl-client-side-apply",
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": "standard",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer"}),
    );
    for name in ["controller-manager", "scheduler", "etcd-0"] {
        create(
            shared,
            APISERVER,
            json!({"apiVersion": "v1", "kind": "ComponentStatus", "metadata": {"name": name},
            "conditions": [{"type": "Healthy", "status": "True", "message": "ok"}]}),
        );
    }
    let groups = shared.lock().registry.groups();
    for (priority, (group, versions)) in groups.iter().enumerate() {
        for (i, version) in versions.iter().enumerate() {
            create(
                shared,
                APISERVER,
                json!({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                "metadata": {"name": format!("{version}.{group}"),
                    "labels": {"kube-aggregator.kubernetes.io/automanaged": "onstart"}},
                "spec": {"group": group, "version": version,
                    "groupPriorityMinimum": 18000 - 100 * priority as i64,
                    "versionPriority": 15 - i as i64},
                "status": {"conditions": [{"type": "Available", "status": "True",
                    "reason": "Local", "message": "Local APIServices are always available",
                    "lastTransitionTime": now}]}}),
            );
        }
    }
}

/// `2026-01-01T00:00:00.000000Z`: the MicroTime Leases carry.
fn micro(now: &str) -> String {
    now.trim_end_matches('Z').to_string() + ".000000Z"
}

fn node_uid(shared: &Shared, name: &str) -> String {
    shared
        .lock()
        .store
        .get(&(String::new(), "nodes".into()), "", name)
        .and_then(|n| meta_str(&n, "uid").map(str::to_string))
        .unwrap_or_default()
}

fn node(name: &str, ip: &str, control_plane: bool, minor: u32, now: &str) -> Value {
    let mut labels = json!({
        "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
    });
    let index = NODES.iter().position(|n| n.0 == name).unwrap_or(0);
    let cidr = format!("10.244.{index}.0/24");
    let mut spec = json!({"podCIDR": cidr, "podCIDRs": [cidr], "providerID": format!("kind://docker/kube-sim/{name}")});
    if control_plane {
        labels["node-role.kubernetes.io/control-plane"] = json!("");
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = json!("");
        spec["taints"] =
            json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]);
    }
    let capacity = json!({"cpu": "4", "ephemeral-storage": "102625208Ki", "hugepages-1Gi": "0",
        "hugepages-2Mi": "0", "memory": "16329540Ki", "pods": "110"});
    let condition = |kind: &str, status: &str, reason: &str, message: &str| {
        json!({"type": kind, "status": status, "reason": reason, "message": message,
            "lastHeartbeatTime": now, "lastTransitionTime": now})
    };
    json!({"apiVersion": "v1", "kind": "Node",
    "metadata": {"name": name, "labels": labels,
        "annotations": {"node.alpha.kubernetes.io/ttl": "0",
            "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
    "spec": spec,
    "status": {
        "capacity": capacity, "allocatable": capacity,
        "conditions": [
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ],
        "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {"architecture": "amd64", "bootID": uuid::Uuid::new_v4().to_string(),
            "containerRuntimeVersion": "containerd://2.0.3", "kernelVersion": "6.8.0-kube-sim",
            "kubeletVersion": format!("v1.{minor}.0"), "machineID": uuid::Uuid::new_v4().simple().to_string(),
            "operatingSystem": "linux", "osImage": "Debian GNU/Linux 12 (bookworm)",
            "systemUUID": uuid::Uuid::new_v4().to_string()},
    }})
}

fn cluster_roles() -> Vec<Value> {
    let role = |name: &str, aggregate_to: &[&str], rules: Value| {
        let mut labels = json!({"kubernetes.io/bootstrapping": "rbac-defaults"});
        for to in aggregate_to {
            labels[format!("rbac.authorization.k8s.io/aggregate-to-{to}")] = json!("true");
        }
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": name, "labels": labels,
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
        "rules": rules})
    };
    let read = json!(["get", "list", "watch"]);
    let write = json!(["create", "delete", "deletecollection", "patch", "update"]);
    let workloads = json!([
        "configmaps",
        "endpoints",
        "persistentvolumeclaims",
        "pods",
        "replicationcontrollers",
        "services",
        "serviceaccounts"
    ]);
    vec![
        role(
            "cluster-admin",
            &[],
            json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                   {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
        ),
        role(
            "admin",
            &[],
            json!([{"apiGroups": ["", "apps", "batch", "autoscaling", "networking.k8s.io", "policy"],
                    "resources": ["*"], "verbs": ["*"]},
                   {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": ["*"]}]),
        ),
        role(
            "edit",
            &["admin"],
            json!([{"apiGroups": [""], "resources": workloads.clone(), "verbs": write},
                   {"apiGroups": ["apps", "batch", "autoscaling"], "resources": ["*"], "verbs": write},
                   {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}]),
        ),
        role(
            "view",
            &["edit"],
            json!([{"apiGroups": [""], "resources": workloads, "verbs": read},
                   {"apiGroups": ["apps", "batch", "autoscaling", "networking.k8s.io", "policy"], "resources": ["*"], "verbs": read}]),
        ),
        role(
            "system:basic-user",
            &[],
            json!([{"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], "verbs": ["create"]},
                   {"apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"], "verbs": ["create"]}]),
        ),
        role(
            "system:discovery",
            &[],
            json!([{"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"], "verbs": ["get"]}]),
        ),
    ]
}

/// The namespace's `default` ServiceAccount and `kube-root-ca.crt`, made
/// when missing (and when the namespace is not being deleted).
fn ensure_namespace_objects(shared: &Shared, namespace: &str, ca_pem: &str) {
    let active = shared
        .lock()
        .store
        .get(&(String::new(), "namespaces".into()), "", namespace)
        .is_some_and(|ns| meta_str(&ns, "deletionTimestamp").is_none());
    if !active {
        return;
    }
    create(
        shared,
        CONTROLLER,
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "default", "namespace": namespace}}),
    );
    create(
        shared,
        CONTROLLER,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": ROOT_CA, "namespace": namespace,
                "annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION}},
            "data": {"ca.crt": ca_pem}}),
    );
}

/// Whether an event asks the namespace controllers to look at its namespace.
fn concerns(resource: &(String, String), name: &str, kind: EventType) -> bool {
    match (resource.0.as_str(), resource.1.as_str()) {
        ("", "namespaces") => kind == EventType::Added,
        ("", "serviceaccounts") => name == "default" && kind == EventType::Deleted,
        ("", "configmaps") => name == ROOT_CA && kind == EventType::Deleted,
        _ => false,
    }
}

/// Make what every existing namespace lacks; done before serving, so a
/// server that starts holds them as a cluster that has been up a while does.
pub fn ensure_all(shared: &Shared, ca_pem: &str) {
    let namespaces: Vec<String> = shared
        .lock()
        .store
        .list(&(String::new(), "namespaces".into()), None)
        .iter()
        .filter_map(|n| meta_str(n, "name").map(str::to_string))
        .collect();
    for ns in namespaces {
        ensure_namespace_objects(shared, &ns, ca_pem);
    }
}

/// Run the serviceaccounts and root-ca-cert-publisher controllers until
/// shutdown: namespaces created later get their objects asynchronously, as
/// from kube-controller-manager.
pub async fn run(shared: Arc<Shared>, ca_pem: String, mut shutdown: watch::Receiver<bool>) {
    let mut rx = shared.lock().store.subscribe();
    // Whatever changed between start and this subscription.
    ensure_all(&shared, &ca_pem);
    loop {
        tokio::select! {
            received = rx.recv() => match received {
                Ok(event) => {
                    if concerns(&event.resource, &event.name, event.kind) {
                        let ns = if event.resource.1 == "namespaces" { &event.name } else { &event.namespace };
                        ensure_namespace_objects(&shared, ns, &ca_pem);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => ensure_all(&shared, &ca_pem),
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = shutdown.changed() => return,
        }
    }
}
