//! HorizontalPodAutoscalers stored once and served as autoscaling/v1 and v2,
//! PodDisruptionBudgets whose status the disruption controller fills (and
//! `kubectl drain` honours), and the 1.33 deprecation warning on v1
//! Endpoints, all as the real kubectl sees them.

mod common;

use common::kubectl::{eventually, header, pod_ready, row_named, Env, DEPLOY};
use serde_json::{json, Value};
use std::time::Duration;

each_version!(
    an_hpa_created_as_v1_is_one_object_in_both_versions,
    an_hpa_created_as_v2_keeps_what_v1_cannot_say,
    a_budget_reports_real_numbers_and_drain_honours_it,
);

const HPA_V1: &str = r#"apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 4
  targetCPUUtilizationPercentage: 50
"#;

fn cpu(utilization: i64) -> Value {
    json!({"type": "Resource", "resource": {"name": "cpu",
        "target": {"type": "Utilization", "averageUtilization": utilization}}})
}

/// The JSON events of a watch that ends after a second.
async fn watched(env: &Env, path: &str) -> Vec<Value> {
    let url = format!("{path}?watch=true&timeoutSeconds=1");
    let out = env.kubectl(&["get", "--raw", &url]).await;
    out.ok();
    out.stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

async fn an_hpa_created_as_v1_is_one_object_in_both_versions(minor: u32) {
    let env = Env::start(minor).await;
    env.apply("deploy.yaml", DEPLOY).await;
    env.apply("hpa.yaml", HPA_V1).await;

    // `kubectl get hpa` reads v2, the preferred version: the v1 target is a
    // CPU metric, and the controller's status (2 replicas, its minimum) shows.
    let scaled = eventually(Duration::from_secs(15), || async {
        env.get_json(&["hpa", "web"]).await["status"]["currentReplicas"] == 2
    })
    .await;
    let v2 = env.get_json(&["hpa", "web"]).await;
    assert!(scaled, "{v2}");
    assert_eq!(v2["apiVersion"], "autoscaling/v2");
    assert_eq!(v2["spec"]["metrics"], json!([cpu(50)]), "{v2}");
    assert_eq!(v2["spec"]["minReplicas"], 2);
    let out = env.kubectl(&["get", "hpa", "web"]).await;
    out.ok();
    assert_eq!(
        row_named(&out, "web")[1..6],
        ["Deployment/web", "cpu: <unknown>/50%", "2", "4", "2"],
        "{out}"
    );

    // The same object as v1: same resourceVersion, the status, and the
    // conditions (which v1 has no field for) in their annotation.
    let v1 = env
        .get_json(&["horizontalpodautoscalers.v1.autoscaling", "web"])
        .await;
    assert_eq!(v1["apiVersion"], "autoscaling/v1");
    assert_eq!(
        v1["metadata"]["resourceVersion"],
        v2["metadata"]["resourceVersion"]
    );
    assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 50, "{v1}");
    assert!(v1["spec"].get("metrics").is_none(), "{v1}");
    assert_eq!(v1["status"]["currentReplicas"], 2, "{v1}");
    let conditions: Value = v1["metadata"]["annotations"]
        ["autoscaling.alpha.kubernetes.io/conditions"]
        .as_str()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_else(|| panic!("no conditions annotation: {v1}"));
    assert_eq!(conditions, v2["status"]["conditions"]);

    // Lists and watches in either version see the one object, converted.
    let list = env
        .kubectl(&[
            "get",
            "--raw",
            "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers",
        ])
        .await;
    list.ok();
    let list = list.json();
    assert_eq!(list["apiVersion"], "autoscaling/v1");
    assert_eq!(
        list["items"][0]["spec"]["targetCPUUtilizationPercentage"], 50,
        "{list}"
    );
    let events = watched(
        &env,
        "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers",
    )
    .await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "ADDED");
    assert_eq!(events[0]["object"]["apiVersion"], "autoscaling/v1");
    assert_eq!(
        events[0]["object"]["spec"]["targetCPUUtilizationPercentage"],
        50
    );
    let events = watched(
        &env,
        "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers",
    )
    .await;
    assert_eq!(events[0]["object"]["spec"]["metrics"], json!([cpu(50)]));

    // A write through v2 shows in v1.
    let out = env
        .kubectl(&[
            "patch",
            "hpa",
            "web",
            "--type",
            "json",
            "-p",
            r#"[{"op":"replace","path":"/spec/metrics/0/resource/target/averageUtilization","value":70}]"#,
        ])
        .await;
    out.ok();
    let v1 = env
        .get_json(&["horizontalpodautoscalers.v1.autoscaling", "web"])
        .await;
    assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 70, "{v1}");
    assert_eq!(v1["metadata"]["generation"], 2, "{v1}");
}

const HPA_V2: &str = r#"apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: mem, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 3
  metrics:
  - type: Resource
    resource: {name: memory, target: {type: AverageValue, averageValue: 200Mi}}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 60}
"#;

async fn an_hpa_created_as_v2_keeps_what_v1_cannot_say(minor: u32) {
    let env = Env::start(minor).await;
    env.apply("deploy.yaml", DEPLOY).await;
    env.apply("hpa.yaml", HPA_V2).await;
    let v1 = env
        .get_json(&["horizontalpodautoscalers.v1.autoscaling", "mem"])
        .await;
    assert!(
        v1["spec"].get("targetCPUUtilizationPercentage").is_none(),
        "{v1}"
    );
    assert_eq!(v1["spec"]["minReplicas"], 1, "defaulted: {v1}");
    let annotations = &v1["metadata"]["annotations"];
    assert_eq!(
        annotations["autoscaling.alpha.kubernetes.io/metrics"],
        r#"[{"type":"Resource","resource":{"name":"memory","targetAverageValue":"200Mi"}}]"#,
        "{v1}"
    );
    // Upstream writes its internal Go type here: field names, defaults filled.
    assert_eq!(
        annotations["autoscaling.alpha.kubernetes.io/behavior"],
        r#"{"ScaleUp":{"StabilizationWindowSeconds":0,"SelectPolicy":"Max","Policies":[{"Type":"Pods","Value":4,"PeriodSeconds":15},{"Type":"Percent","Value":100,"PeriodSeconds":15}]},"ScaleDown":{"StabilizationWindowSeconds":60,"SelectPolicy":"Max","Policies":[{"Type":"Percent","Value":100,"PeriodSeconds":15}]}}"#,
        "{v1}"
    );

    // A write through v1 (which never sees the metric) keeps it and the
    // behavior; the status the controller wrote is kept too.
    let settled = eventually(Duration::from_secs(15), || async {
        env.get_json(&["hpa", "mem"]).await["status"]["conditions"].is_array()
    })
    .await;
    assert!(settled, "the controller wrote a status");
    let before = env.get_json(&["hpa", "mem"]).await;
    let out = env
        .kubectl(&[
            "patch",
            "horizontalpodautoscalers.v1.autoscaling",
            "mem",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"maxReplicas":7}}"#,
        ])
        .await;
    out.ok();
    let v2 = env.get_json(&["hpa", "mem"]).await;
    assert_eq!(v2["spec"]["maxReplicas"], 7, "{v2}");
    assert_eq!(v2["spec"]["metrics"], before["spec"]["metrics"], "{v2}");
    assert_eq!(
        v2["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"], 60,
        "{v2}"
    );
    assert_eq!(
        v2["status"]["conditions"][0]["type"], before["status"]["conditions"][0]["type"],
        "{v2}"
    );
    assert!(
        v2["metadata"].get("annotations").is_none(),
        "the round-trip annotations are not stored: {v2}"
    );
    let out = env.kubectl(&["get", "hpa", "mem"]).await;
    out.ok();
    assert_eq!(
        row_named(&out, "mem")[2],
        "memory: <unknown>/200Mi",
        "{out}"
    );
}

const PDB: &str = r#"apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: default}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: loose, namespace: default, labels: {app: loose}}
spec:
  containers: [{name: c, image: busybox:1.36}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: loose, namespace: default}
spec:
  minAvailable: 50%
  selector: {matchLabels: {app: loose}}
"#;

async fn ready_pods(env: &Env, selector: &str) -> Vec<Value> {
    let pods = env.get_json(&["pods", "-l", selector]).await;
    pods["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| pod_ready(p) && p["metadata"].get("deletionTimestamp").is_none())
        .collect()
}

async fn a_budget_reports_real_numbers_and_drain_honours_it(minor: u32) {
    let env = Env::start(minor).await;
    env.apply(
        "deploy.yaml",
        &DEPLOY.replace("spec:\n  selector:", "spec:\n  replicas: 3\n  selector:"),
    )
    .await;
    env.apply("pdb.yaml", PDB).await;
    let healthy = eventually(Duration::from_secs(15), || async {
        env.get_json(&["pdb", "web"]).await["status"]["currentHealthy"] == 3
    })
    .await;
    let pdb = env.get_json(&["pdb", "web"]).await;
    assert!(healthy, "{pdb}");
    let status = &pdb["status"];
    assert_eq!(
        [
            &status["desiredHealthy"],
            &status["expectedPods"],
            &status["disruptionsAllowed"],
            &status["observedGeneration"]
        ],
        [&json!(2), &json!(3), &json!(1), &json!(1)],
        "{pdb}"
    );
    let condition = &status["conditions"][0];
    assert_eq!(
        (
            &condition["type"],
            &condition["status"],
            &condition["reason"]
        ),
        (
            &json!("DisruptionAllowed"),
            &json!("True"),
            &json!("SufficientPods")
        ),
        "{pdb}"
    );
    let out = env.kubectl(&["get", "pdb"]).await;
    out.ok();
    assert_eq!(header(&out)[3], "ALLOWED DISRUPTIONS");
    assert_eq!(row_named(&out, "web")[1..4], ["N/A", "1", "1"], "{out}");
    // A bare Pod has no controller whose scale a percentage could use.
    assert_eq!(row_named(&out, "loose")[1..4], ["50%", "N/A", "0"], "{out}");
    let loose = env.get_json(&["pdb", "loose"]).await;
    assert_eq!(loose["status"]["expectedPods"], 0, "{loose}");
    let events = env.get_json(&["events"]).await;
    assert!(
        events["items"]
            .as_array()
            .is_some_and(|es| es.iter().any(|e| e["reason"] == "UnmanagedPods")),
        "{events}"
    );

    // Drain the node holding most of the web Pods: the second eviction is
    // refused (429) until the first Pod's replacement is ready elsewhere, and
    // kubectl retries it.
    let pods = ready_pods(&env, "app=web").await;
    let mut by_node: Vec<(String, usize)> = Vec::new();
    for p in &pods {
        let node = p["spec"]["nodeName"].as_str().unwrap_or("").to_string();
        match by_node.iter_mut().find(|(n, _)| *n == node) {
            Some((_, c)) => *c += 1,
            None => by_node.push((node, 1)),
        }
    }
    by_node.sort_by_key(|(_, c)| std::cmp::Reverse(*c));
    let (node, count) = by_node.first().cloned().expect("a node with pods");
    assert!(count >= 2, "3 pods on 2 nodes: {by_node:?}");
    let out = env
        .kubectl(&[
            "drain",
            &node,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--timeout=60s",
            "--pod-selector=app=web",
        ])
        .await;
    out.ok()
        .stdout_has(&format!("node/{node} drained"))
        .stderr_has("Cannot evict pod as it would violate the pod's disruption budget.");
    let moved = eventually(Duration::from_secs(15), || async {
        let pods = ready_pods(&env, "app=web").await;
        pods.len() == 3 && pods.iter().all(|p| p["spec"]["nodeName"] != node.as_str())
    })
    .await;
    assert!(moved, "the web pods run elsewhere");
    let back = eventually(Duration::from_secs(15), || async {
        let pdb = env.get_json(&["pdb", "web"]).await;
        pdb["status"]["disruptionsAllowed"] == 1 && pdb["status"].get("disruptedPods").is_none()
    })
    .await;
    assert!(back, "{}", env.get_json(&["pdb", "web"]).await);
}

const SVC: &str = r#"apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"#;

const DEPRECATED: &str =
    "Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice";

#[tokio::test(flavor = "multi_thread")]
async fn endpoints_warn_on_a_1_33_server() {
    let env = Env::start(33).await;
    env.apply("svc.yaml", SVC).await;
    let out = env.kubectl(&["get", "endpoints", "web"]).await;
    out.ok().stdout_has("web").stderr_has(DEPRECATED);
    // On an error answer too, and once per request.
    let out = env.kubectl(&["get", "ep", "nope"]).await;
    out.failed_with(1)
        .stderr_has(DEPRECATED)
        .stderr_has("endpoints \"nope\" not found");
    assert_eq!(out.stderr.matches(DEPRECATED).count(), 1, "{out}");
    let out = env.kubectl(&["get", "endpointslices"]).await;
    out.ok();
    assert!(!out.stderr.contains("deprecated"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoints_do_not_warn_on_a_1_32_server() {
    let env = Env::start(32).await;
    env.apply("svc.yaml", SVC).await;
    let out = env.kubectl(&["get", "endpoints", "web"]).await;
    out.ok().stdout_has("web");
    assert!(!out.stderr.contains("deprecated"), "{out}");
}
