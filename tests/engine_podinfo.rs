//! A podinfo-like app (the kinds real GitOps repositories hold beyond
//! Deployments and Services: HPA autoscaling/v2, PodDisruptionBudget,
//! NetworkPolicy, a StatefulSet with its headless Service) syncs through
//! gitops-tui against kube-sim, comes up Healthy and is then in sync.

mod common;

use common::*;
use gitops_tui::engine::SyncOptions;
use gitops_tui::model::AppId;
use gitops_tui::model::SyncStatus;

const PODINFO: &str = r#"
[[apps]]
name = "podinfo"
repo = "repo"
path = "apps/podinfo"
namespace = "podinfo"
create_namespace = true
prune = true
"#;

const FILES: &[(&str, &str)] = &[
    (
        "apps/podinfo/deployment.yaml",
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  labels: {app: podinfo}
spec:
  minReadySeconds: 3
  revisionHistoryLimit: 5
  progressDeadlineSeconds: 60
  strategy:
    rollingUpdate: {maxUnavailable: 0}
    type: RollingUpdate
  selector:
    matchLabels: {app: podinfo}
  template:
    metadata:
      labels: {app: podinfo}
    spec:
      containers:
      - name: podinfod
        image: ghcr.io/stefanprodan/podinfo:6.7.1
        imagePullPolicy: IfNotPresent
        ports:
        - {name: http, containerPort: 9898, protocol: TCP}
        resources:
          limits: {cpu: 2000m, memory: 512Mi}
          requests: {cpu: 100m, memory: 64Mi}
"#,
    ),
    (
        "apps/podinfo/service.yaml",
        r#"apiVersion: v1
kind: Service
metadata:
  name: podinfo
spec:
  type: ClusterIP
  selector: {app: podinfo}
  ports:
  - {name: http, port: 9898, protocol: TCP, targetPort: http}
"#,
    ),
    (
        "apps/podinfo/hpa.yaml",
        r#"apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: podinfo
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  minReplicas: 2
  maxReplicas: 4
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {type: Utilization, averageUtilization: 99}
"#,
    ),
    (
        "apps/podinfo/pdb.yaml",
        r#"apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: podinfo
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: podinfo}
"#,
    ),
    (
        "apps/podinfo/netpol.yaml",
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: podinfo
spec:
  podSelector:
    matchLabels: {app: podinfo}
  policyTypes: [Ingress]
  ingress:
  - ports:
    - {port: 9898, protocol: TCP}
"#,
    ),
    (
        "apps/podinfo/cache.yaml",
        r#"apiVersion: v1
kind: Service
metadata:
  name: cache
spec:
  clusterIP: None
  selector: {app: cache}
  ports:
  - {name: redis, port: 6379}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: cache
spec:
  serviceName: cache
  replicas: 2
  selector:
    matchLabels: {app: cache}
  template:
    metadata:
      labels: {app: cache}
    spec:
      containers:
      - name: redis
        image: redis:7.2
        ports:
        - {name: redis, containerPort: 6379}
"#,
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn a_podinfo_like_app_syncs_comes_up_healthy_and_is_in_sync() {
    let f = Fixture::new(PODINFO).await;
    let files: Vec<(&str, Option<&str>)> = FILES.iter().map(|(p, c)| (*p, Some(*c))).collect();
    f.commit(&files, "podinfo");
    let report = f
        .engine()
        .sync(&AppId::native("podinfo"), &SyncOptions::default())
        .await
        .expect("sync runs");
    assert!(report.succeeded, "{report:#?}");
    assert_eq!(
        report
            .resources
            .iter()
            .filter(|r| r.action == "created")
            .count(),
        8,
        "seven objects and the namespace: {:#?}",
        report.resources
    );
    let waited = f
        .engine()
        .wait_for_health(
            &AppId::native("podinfo"),
            std::time::Duration::from_secs(60),
        )
        .await
        .expect("status");
    assert!(
        matches!(waited, gitops_tui::engine::WaitOutcome::Healthy),
        "{waited:?}"
    );
    // The StatefulSet's pods are there, by ordinal.
    assert!(f.exists("v1", "Pod", "podinfo", "cache-0"));
    assert!(f.exists("v1", "Pod", "podinfo", "cache-1"));
    let status = f
        .engine()
        .status(&AppId::native("podinfo"))
        .await
        .expect("status");
    assert_eq!(
        status.sync,
        SyncStatus::Synced,
        "{:#?}",
        status
            .resources
            .iter()
            .filter(|r| r.status != gitops_tui::model::ResourceStatus::Synced)
            .map(|r| (&r.key, &r.diff))
            .collect::<Vec<_>>()
    );
    // Seven objects of the app (the Namespace create_namespace made is not one).
    assert_eq!(status.counts.synced, 7);
}
