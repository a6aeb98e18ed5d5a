//! The controllers around workloads as the real kubectl sees them:
//! Endpoints and EndpointSlices listing ready Pod IPs, HPA status without
//! metrics, and a namespace drained before it goes.

mod common;

use common::kubectl::{eventually, pod_ready, Env};
use serde_json::Value;
use std::time::Duration;

each_version!(endpoints_list_ready_pod_ips);

async fn endpoints_list_ready_pod_ips(minor: u32) {
    let env = Env::start(minor).await;
    env.apply(
        "app.yaml",
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - name: http
          containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
  labels:
    app: web
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: http
"#,
    )
    .await;
    env.kubectl(&["rollout", "status", "deploy/web", "--timeout=30s"])
        .await
        .ok();
    let ips = || async {
        let pods = env.get_json(&["pods", "-l", "app=web"]).await;
        let mut ips: Vec<String> = pods["items"]
            .as_array()
            .expect("pods")
            .iter()
            .filter(|p| pod_ready(p))
            .filter_map(|p| p["status"]["podIP"].as_str().map(str::to_string))
            .collect();
        ips.sort();
        ips
    };
    let listed = |ep: &Value| {
        let mut ips: Vec<String> = ep["subsets"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["addresses"].as_array().cloned().unwrap_or_default())
            .filter_map(|a| a["ip"].as_str().map(str::to_string))
            .collect();
        ips.sort();
        ips
    };
    let want = ips().await;
    assert_eq!(want.len(), 2);
    let matched = eventually(Duration::from_secs(10), || async {
        listed(&env.get_json(&["endpoints", "web"]).await) == want
    })
    .await;
    let ep = env.get_json(&["endpoints", "web"]).await;
    assert!(matched, "{ep} vs {want:?}");
    assert_eq!(
        ep["subsets"][0]["ports"][0]["port"], 8080,
        "targetPort by name: {ep}"
    );
    assert_eq!(ep["metadata"]["labels"]["app"], "web");
    let out = env.kubectl(&["get", "endpoints", "web"]).await;
    out.ok();
    let slices = env
        .get_json(&["endpointslices", "-l", "kubernetes.io/service-name=web"])
        .await;
    let slice = &slices["items"][0];
    let mut slice_ips: Vec<String> = slice["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .filter(|e| e["conditions"]["ready"] == true)
        .filter_map(|e| e["addresses"][0].as_str().map(str::to_string))
        .collect();
    slice_ips.sort();
    assert_eq!(slice_ips, want);
    assert_eq!(slice["addressType"], "IPv4");
    assert_eq!(slice["ports"][0]["port"], 8080);
    // Scaled to one, one address stays.
    env.kubectl(&["scale", "deploy/web", "--replicas=1"])
        .await
        .ok();
    let one = eventually(Duration::from_secs(10), || async {
        listed(&env.get_json(&["endpoints", "web"]).await).len() == 1
    })
    .await;
    assert!(one, "{}", env.get_json(&["endpoints", "web"]).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_hpa_reports_its_target_without_metrics() {
    let env = Env::start(32).await;
    env.apply(
        "d.yaml",
        &common::kubectl::DEPLOY.replace("spec:\n  selector", "spec:\n  replicas: 2\n  selector"),
    )
    .await;
    env.apply(
        "hpa.yaml",
        r#"apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: default
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 1
  maxReplicas: 5
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 80
"#,
    )
    .await;
    let settled = eventually(Duration::from_secs(10), || async {
        env.get_json(&["hpa", "web"]).await["status"]["currentReplicas"] == 2
    })
    .await;
    let hpa = env.get_json(&["hpa", "web"]).await;
    assert!(settled, "{hpa}");
    assert_eq!(hpa["status"]["desiredReplicas"], 2);
    let conds = hpa["status"]["conditions"].as_array().expect("conditions");
    let by = |t: &str| {
        conds
            .iter()
            .find(|c| c["type"] == t)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        (
            by("AbleToScale")["status"].as_str(),
            by("AbleToScale")["reason"].as_str()
        ),
        (Some("True"), Some("SucceededGetScale"))
    );
    assert_eq!(
        (
            by("ScalingActive")["status"].as_str(),
            by("ScalingActive")["reason"].as_str()
        ),
        (Some("False"), Some("FailedGetResourceMetric"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_namespace_is_drained_before_it_goes() {
    let env = Env::start(32).await;
    env.kubectl(&["create", "namespace", "shop"]).await.ok();
    env.kubectl(&[
        "-n",
        "shop",
        "create",
        "configmap",
        "plain",
        "--from-literal=a=1",
    ])
    .await
    .ok();
    env.kubectl(&[
        "-n",
        "shop",
        "create",
        "configmap",
        "held",
        "--from-literal=a=1",
    ])
    .await
    .ok();
    env.kubectl(&[
        "-n",
        "shop",
        "patch",
        "configmap",
        "held",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":["example.com/hold"]}}"#,
    ])
    .await
    .ok();
    env.kubectl(&["delete", "namespace", "shop", "--wait=false"])
        .await
        .ok();
    let terminating = eventually(Duration::from_secs(10), || async {
        let ns = env.get_json(&["namespace", "shop"]).await;
        ns["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "NamespaceFinalizersRemaining" && c["status"] == "True")
        })
    })
    .await;
    let ns = env.get_json(&["namespace", "shop"]).await;
    assert!(terminating, "{ns}");
    assert_eq!(ns["status"]["phase"], "Terminating");
    let remaining = ns["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "NamespaceContentRemaining"))
        .expect("condition");
    assert_eq!(
        remaining["message"],
        "Some resources are remaining: configmaps. has 1 resource instances"
    );
    env.kubectl(&["-n", "shop", "get", "configmap", "plain"])
        .await
        .failed_with(1);
    let created = env
        .kubectl(&["-n", "shop", "create", "configmap", "late"])
        .await;
    created
        .failed_with(1)
        .stderr_has("because it is being terminated");
    env.kubectl(&[
        "-n",
        "shop",
        "patch",
        "configmap",
        "held",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ])
    .await
    .ok();
    env.kubectl(&["wait", "--for=delete", "namespace/shop", "--timeout=10s"])
        .await
        .ok();
    env.kubectl(&["get", "namespace", "shop"])
        .await
        .failed_with(1)
        .stderr_has("not found");
}
