//! What a real cluster serves, seen through the real kubectl 1.27, 1.32 and
//! 1.33: `kubectl api-resources` equals kube-apiserver's list for the version
//! the server reports, and `get -o wide` has kube-apiserver's columns.
//! What it starts with and who may do what: `kubectl_cluster_objects.rs`.

mod common;

use common::kubectl::{eventually, header, row_named, rows, Env, DEPLOY};
use serde_json::json;
use std::time::Duration;

each_version!(
    api_resources_are_kube_apiservers,
    wide_columns_are_kube_apiservers,
);

/// `kubectl api-resources` of a kube-apiserver 1.33 with its default API
/// set (no feature gates, no aggregated servers), in kubectl's order
/// (sorted by group, stable): NAME, SHORTNAMES, APIVERSION, NAMESPACED, KIND.
/// Checked against kubernetes/kubernetes `api/discovery` and the REST
/// storage of each group (pkg/registry/*/rest), not against kube-sim.
const V1_33: &str = "
bindings - v1 true Binding
componentstatuses cs v1 false ComponentStatus
configmaps cm v1 true ConfigMap
endpoints ep v1 true Endpoints
events ev v1 true Event
limitranges limits v1 true LimitRange
namespaces ns v1 false Namespace
nodes no v1 false Node
persistentvolumeclaims pvc v1 true PersistentVolumeClaim
persistentvolumes pv v1 false PersistentVolume
pods po v1 true Pod
podtemplates - v1 true PodTemplate
replicationcontrollers rc v1 true ReplicationController
resourcequotas quota v1 true ResourceQuota
secrets - v1 true Secret
serviceaccounts sa v1 true ServiceAccount
services svc v1 true Service
mutatingwebhookconfigurations - admissionregistration.k8s.io/v1 false MutatingWebhookConfiguration
validatingadmissionpolicies - admissionregistration.k8s.io/v1 false ValidatingAdmissionPolicy
validatingadmissionpolicybindings - admissionregistration.k8s.io/v1 false ValidatingAdmissionPolicyBinding
validatingwebhookconfigurations - admissionregistration.k8s.io/v1 false ValidatingWebhookConfiguration
customresourcedefinitions crd,crds apiextensions.k8s.io/v1 false CustomResourceDefinition
apiservices - apiregistration.k8s.io/v1 false APIService
controllerrevisions - apps/v1 true ControllerRevision
daemonsets ds apps/v1 true DaemonSet
deployments deploy apps/v1 true Deployment
replicasets rs apps/v1 true ReplicaSet
statefulsets sts apps/v1 true StatefulSet
selfsubjectreviews - authentication.k8s.io/v1 false SelfSubjectReview
tokenreviews - authentication.k8s.io/v1 false TokenReview
localsubjectaccessreviews - authorization.k8s.io/v1 true LocalSubjectAccessReview
selfsubjectaccessreviews - authorization.k8s.io/v1 false SelfSubjectAccessReview
selfsubjectrulesreviews - authorization.k8s.io/v1 false SelfSubjectRulesReview
subjectaccessreviews - authorization.k8s.io/v1 false SubjectAccessReview
horizontalpodautoscalers hpa autoscaling/v2 true HorizontalPodAutoscaler
cronjobs cj batch/v1 true CronJob
jobs - batch/v1 true Job
certificatesigningrequests csr certificates.k8s.io/v1 false CertificateSigningRequest
leases - coordination.k8s.io/v1 true Lease
endpointslices - discovery.k8s.io/v1 true EndpointSlice
events ev events.k8s.io/v1 true Event
flowschemas - flowcontrol.apiserver.k8s.io/v1 false FlowSchema
prioritylevelconfigurations - flowcontrol.apiserver.k8s.io/v1 false PriorityLevelConfiguration
ingressclasses - networking.k8s.io/v1 false IngressClass
ingresses ing networking.k8s.io/v1 true Ingress
ipaddresses ip networking.k8s.io/v1 false IPAddress
networkpolicies netpol networking.k8s.io/v1 true NetworkPolicy
servicecidrs - networking.k8s.io/v1 false ServiceCIDR
runtimeclasses - node.k8s.io/v1 false RuntimeClass
poddisruptionbudgets pdb policy/v1 true PodDisruptionBudget
clusterrolebindings - rbac.authorization.k8s.io/v1 false ClusterRoleBinding
clusterroles - rbac.authorization.k8s.io/v1 false ClusterRole
rolebindings - rbac.authorization.k8s.io/v1 true RoleBinding
roles - rbac.authorization.k8s.io/v1 true Role
priorityclasses pc scheduling.k8s.io/v1 false PriorityClass
csidrivers - storage.k8s.io/v1 false CSIDriver
csinodes - storage.k8s.io/v1 false CSINode
csistoragecapacities - storage.k8s.io/v1 true CSIStorageCapacity
storageclasses sc storage.k8s.io/v1 false StorageClass
volumeattachments - storage.k8s.io/v1 false VolumeAttachment
";

/// The 1.33 list as an older kube-apiserver serves it: ServiceCIDR and
/// IPAddress went GA in 1.33, ValidatingAdmissionPolicy in 1.30,
/// flowcontrol v1 in 1.29 (v1beta3 before), SelfSubjectReview in 1.28
/// (v1beta1 in 1.27).
fn expected(minor: u32) -> Vec<Vec<String>> {
    V1_33
        .lines()
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let mut cells: Vec<String> = l.split(' ').map(str::to_string).collect();
            let name = cells[0].clone();
            let api = cells[2].clone();
            match name.as_str() {
                "ipaddresses" | "servicecidrs" if minor < 33 => return None,
                "validatingadmissionpolicies" | "validatingadmissionpolicybindings"
                    if minor < 30 =>
                {
                    return None
                }
                _ => {}
            }
            if api.starts_with("flowcontrol") && minor < 29 {
                cells[2] = "flowcontrol.apiserver.k8s.io/v1beta3".into();
            }
            if name == "selfsubjectreviews" && minor < 28 {
                cells[2] = "authentication.k8s.io/v1beta1".into();
            }
            cells.retain(|c| c != "-");
            Some(cells)
        })
        .collect()
}

async fn api_resources_are_kube_apiservers(minor: u32) {
    let env = Env::start(minor).await;
    let out = env.kubectl(&["api-resources"]).await;
    out.ok();
    let got = rows(&out);
    let want = expected(minor);
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w, "1.{minor}:\n{out}");
    }
    assert_eq!(got.len(), want.len(), "1.{minor}:\n{out}");

    // Verbs and categories (`-o wide`; 1.27 prints `[a b]`, later `a,b`).
    let wide = env.kubectl(&["api-resources", "-o", "wide"]).await;
    wide.ok();
    let after_kind = |name: &str, api: &str| -> (Vec<String>, Vec<String>) {
        let line = wide
            .stdout
            .lines()
            .find(|l| {
                let c: Vec<&str> = l.split_whitespace().collect();
                c.first() == Some(&name) && c.contains(&api)
            })
            .unwrap_or_else(|| panic!("no {name} {api}:\n{wide}"));
        let toks: Vec<String> = line
            .replace(['[', ']', ','], " ")
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let at = toks
            .iter()
            .position(|t| t == "true" || t == "false")
            .unwrap_or_else(|| panic!("no NAMESPACED in {line}"));
        const VERBS: [&str; 8] = [
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ];
        toks[at + 2..]
            .iter()
            .cloned()
            .partition(|t| VERBS.contains(&t.as_str()))
    };
    let all = "create delete deletecollection get list patch update watch";
    for (name, api, verbs, categories) in [
        ("bindings", "v1", "create", ""),
        ("componentstatuses", "v1", "get list", ""),
        (
            "namespaces",
            "v1",
            "create delete get list patch update watch",
            "",
        ),
        (
            "selfsubjectaccessreviews",
            "authorization.k8s.io/v1",
            "create",
            "",
        ),
        ("tokenreviews", "authentication.k8s.io/v1", "create", ""),
        ("configmaps", "v1", all, ""),
        ("pods", "v1", all, "all"),
        ("horizontalpodautoscalers", "autoscaling/v2", all, "all"),
        (
            "customresourcedefinitions",
            "apiextensions.k8s.io/v1",
            all,
            "api-extensions",
        ),
        (
            "mutatingwebhookconfigurations",
            "admissionregistration.k8s.io/v1",
            all,
            "api-extensions",
        ),
    ] {
        let (v, c) = after_kind(name, api);
        assert_eq!(
            (v.join(" "), c.join(" ")),
            (verbs.to_string(), categories.to_string()),
            "{name}:\n{wide}"
        );
    }

    // A verb discovery does not list is refused as kube-apiserver does.
    let out = env
        .kubectl(&["delete", "componentstatus", "scheduler"])
        .await;
    out.failed_with(1)
        .stderr_has("Error from server (MethodNotAllowed)");
    // The subresources are served under their own kinds.
    let scale = env
        .kubectl(&[
            "get",
            "--raw",
            "/api/v1/namespaces/default/replicationcontrollers",
        ])
        .await;
    scale
        .ok()
        .stdout_has("\"kind\":\"ReplicationControllerList\"");
}

async fn wide_columns_are_kube_apiservers(minor: u32) {
    let env = Env::start(minor).await;
    env.kubectl(&["apply", "--server-side", "-f", &env.file("d.yaml", DEPLOY)])
        .await
        .ok();
    env.kubectl(&["expose", "deployment", "web", "--port", "80"])
        .await
        .ok();
    env.kubectl(&["create", "job", "once", "--image", "busybox:1.36"])
        .await
        .ok();
    env.sim
        .seed(json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web.1", "namespace": "default"},
            "involvedObject": {"kind": "Deployment", "name": "web", "namespace": "default",
                "apiVersion": "apps/v1", "fieldPath": "spec"},
            "reason": "ScalingReplicaSet", "message": "Scaled up replica set web-1 to 1",
            "type": "Normal", "count": 3, "source": {"component": "deployment-controller"},
            "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z"}))
        .expect("event seeded");

    let ready = eventually(Duration::from_secs(10), || async {
        let out = env.kubectl(&["get", "deploy", "web"]).await;
        out.code == 0 && row_named(&out, "web").get(1).map(String::as_str) == Some("1/1")
    })
    .await;
    assert!(ready, "the deployment never became ready");

    let out = env.kubectl(&["get", "deploy", "-o", "wide"]).await;
    out.ok();
    assert_eq!(
        header(&out),
        [
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ]
    );
    let row = row_named(&out, "web");
    assert_eq!(row[..4], ["web", "1/1", "1", "1"], "{out}");
    assert_eq!(row[5..], ["web", "nginx:1.25", "app=web"], "{out}");

    let out = env.kubectl(&["get", "svc", "-o", "wide"]).await;
    out.ok();
    assert_eq!(
        header(&out),
        [
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE",
            "SELECTOR"
        ]
    );
    let row = row_named(&out, "web");
    assert_eq!(
        (
            row[1].as_str(),
            row[3].as_str(),
            row[4].as_str(),
            row[6].as_str()
        ),
        ("ClusterIP", "<none>", "80/TCP", "app=web"),
        "{out}"
    );
    assert!(row[2].starts_with("10.96."), "{out}");
    assert_eq!(
        row_named(&out, "kubernetes")[1..5],
        ["ClusterIP", "10.96.0.1", "<none>", "443/TCP"],
        "{out}"
    );

    let out = env.kubectl(&["get", "pods", "-o", "wide"]).await;
    out.ok();
    assert_eq!(
        header(&out),
        [
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED NODE",
            "READINESS GATES"
        ]
    );
    let pod = out
        .stdout
        .lines()
        .find(|l| l.starts_with("web-"))
        .unwrap_or_else(|| panic!("no web pod:\n{out}"));
    let cells: Vec<&str> = pod.split_whitespace().collect();
    assert_eq!(cells[1..4], ["1/1", "Running", "0"], "{out}");
    assert_eq!(cells[cells.len() - 2..], ["<none>", "<none>"], "{out}");

    let out = env.kubectl(&["get", "events", "-o", "wide"]).await;
    out.ok();
    assert_eq!(
        header(&out),
        [
            "LAST SEEN",
            "TYPE",
            "REASON",
            "OBJECT",
            "SUBOBJECT",
            "SOURCE",
            "MESSAGE",
            "FIRST SEEN",
            "COUNT",
            "NAME"
        ]
    );
    let seeded = out
        .stdout
        .lines()
        .find(|l| l.contains("web.1"))
        .unwrap_or_else(|| panic!("no seeded event:\n{out}"));
    for cell in [
        "(x3 over",
        "Normal",
        "ScalingReplicaSet",
        "deployment/web",
        "spec",
        "deployment-controller",
        "Scaled up replica set web-1 to 1",
    ] {
        assert!(seeded.contains(cell), "{cell} missing in {seeded}");
    }
    let out = env.kubectl(&["get", "events"]).await;
    out.ok();
    assert_eq!(
        header(&out),
        ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    );

    let done = eventually(Duration::from_secs(10), || async {
        let out = env.kubectl(&["get", "jobs", "-o", "wide"]).await;
        out.code == 0 && row_named(&out, "once").get(1).map(String::as_str) == Some("Complete")
    })
    .await;
    let out = env.kubectl(&["get", "jobs", "-o", "wide"]).await;
    assert!(done, "the job never completed:\n{out}");
    assert_eq!(
        header(&out),
        [
            "NAME",
            "STATUS",
            "COMPLETIONS",
            "DURATION",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ]
    );
    let row = row_named(&out, "once");
    assert_eq!(row[2], "1/1", "{out}");
    assert_eq!(row[5..7], ["once", "busybox:1.36"], "{out}");

    let out = env.kubectl(&["get", "nodes", "-o", "wide"]).await;
    out.ok();
    assert_eq!(
        header(&out),
        [
            "NAME",
            "STATUS",
            "ROLES",
            "AGE",
            "VERSION",
            "INTERNAL-IP",
            "EXTERNAL-IP",
            "OS-IMAGE",
            "KERNEL-VERSION",
            "CONTAINER-RUNTIME"
        ]
    );
    let cp = row_named(&out, "kube-sim-control-plane");
    assert_eq!(cp[1..3], ["Ready", "control-plane"], "{out}");
    assert_eq!(cp[4], format!("v1.{minor}.0"), "{out}");
    assert_eq!(cp[6], "<none>", "{out}");

    env.kubectl(&[
        "create",
        "secret",
        "generic",
        "s",
        "--from-literal=a=1",
        "--from-literal=b=2",
    ])
    .await
    .ok();
    let out = env.kubectl(&["get", "secret", "s"]).await;
    out.ok();
    assert_eq!(header(&out), ["NAME", "TYPE", "DATA", "AGE"]);
    assert_eq!(row_named(&out, "s")[1..3], ["Opaque", "2"], "{out}");
}

each_version!(more_kinds_apply_and_print);

/// A podinfo-like app using kinds beyond the workloads: each is served,
/// applies server-side and prints kube-apiserver's columns.
const MORE_KINDS: &str = r#"apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 4
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 99}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: default}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: web}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: default}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: web-high}
value: 1000
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: small, namespace: default}
spec:
  hard: {pods: "10", limits.memory: 2Gi}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: web-leader, namespace: default}
spec: {holderIdentity: web-0, leaseDurationSeconds: 15}
"#;

async fn more_kinds_apply_and_print(minor: u32) {
    let env = Env::start(minor).await;
    let file = env.file("more.yaml", MORE_KINDS);
    let out = env.kubectl(&["apply", "--server-side", "-f", &file]).await;
    out.ok();
    for applied in [
        "horizontalpodautoscaler.autoscaling/web serverside-applied",
        "poddisruptionbudget.policy/web serverside-applied",
        "networkpolicy.networking.k8s.io/web serverside-applied",
        "ingressclass.networking.k8s.io/nginx serverside-applied",
        "priorityclass.scheduling.k8s.io/web-high serverside-applied",
        "resourcequota/small serverside-applied",
        "lease.coordination.k8s.io/web-leader serverside-applied",
    ] {
        out.stdout_has(applied);
    }

    let out = env.kubectl(&["get", "hpa", "web"]).await;
    out.ok();
    assert_eq!(
        header(&out),
        [
            "NAME",
            "REFERENCE",
            "TARGETS",
            "MINPODS",
            "MAXPODS",
            "REPLICAS",
            "AGE"
        ]
    );
    assert_eq!(
        row_named(&out, "web")[1..5],
        ["Deployment/web", "cpu: <unknown>/99%", "2", "4"],
        "{out}"
    );
    let out = env.kubectl(&["get", "pdb", "web"]).await;
    out.ok();
    assert_eq!(
        header(&out),
        [
            "NAME",
            "MIN AVAILABLE",
            "MAX UNAVAILABLE",
            "ALLOWED DISRUPTIONS",
            "AGE"
        ]
    );
    assert_eq!(row_named(&out, "web")[1..3], ["1", "N/A"], "{out}");
    let out = env.kubectl(&["get", "netpol", "web"]).await;
    out.ok();
    assert_eq!(header(&out), ["NAME", "POD-SELECTOR", "AGE"]);
    assert_eq!(row_named(&out, "web")[1], "app=web", "{out}");
    let out = env.kubectl(&["get", "ingressclass"]).await;
    out.ok();
    assert_eq!(header(&out), ["NAME", "CONTROLLER", "PARAMETERS", "AGE"]);
    assert_eq!(
        row_named(&out, "nginx")[1..3],
        ["k8s.io/ingress-nginx", "<none>"],
        "{out}"
    );
    let out = env.kubectl(&["get", "quota", "small"]).await;
    out.ok();
    assert_eq!(header(&out), ["NAME", "AGE", "REQUEST", "LIMIT"]);
    let out = env.kubectl(&["get", "lease", "web-leader"]).await;
    out.ok();
    assert_eq!(row_named(&out, "web-leader")[1], "web-0", "{out}");

    // The `all` category holds the HPA, as on a real cluster.
    let out = env.kubectl(&["get", "all", "-n", "default"]).await;
    out.ok()
        .stdout_has("horizontalpodautoscaler.autoscaling/web");
    let out = env.kubectl(&["delete", "-f", &file]).await;
    out.ok();
    let out = env
        .kubectl(&["get", "hpa,pdb,netpol,lease", "-n", "default"])
        .await;
    out.ok();
    assert!(!out.stdout.contains("web"), "{out}");
}
