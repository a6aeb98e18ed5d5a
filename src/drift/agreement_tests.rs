//! The issue's drift cases, each run through both comparison paths on the same
//! inputs: the dry-run path and the local path must give the same status and
//! the same changed paths.
//!
//! The live objects are shaped like `kubectl get -o yaml --show-managed-fields`
//! after a server-side apply by `gitops-tui`; the dry-run results are what the
//! API server returns for a server-side dry-run apply of the desired object.

use serde_json::{json, Value};

use super::*;

const MANAGER: &str = "gitops-tui";

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).expect("fixture YAML")
}

fn desired_deployment() -> Value {
    yaml(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels:
    app: web
    tier: frontend
    gitops-tui.dev/app: demo
spec:
  replicas: 3
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
        - containerPort: 8080
        resources:
          requests:
            cpu: 0.5
            memory: 1024Mi
"#,
    )
}

/// Live after applying `desired_deployment()`: server defaults, controller
/// annotations, status and managedFields added; quantities canonicalised.
fn live_deployment() -> Value {
    yaml(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    deployment.kubernetes.io/revision: "1"
  creationTimestamp: "2024-05-01T10:00:00Z"
  generation: 1
  labels:
    app: web
    tier: frontend
    gitops-tui.dev/app: demo
  managedFields:
  - apiVersion: apps/v1
    fieldsType: FieldsV1
    fieldsV1:
      f:metadata:
        f:labels:
          f:app: {}
          f:gitops-tui.dev/app: {}
          f:tier: {}
      f:spec:
        f:replicas: {}
        f:selector: {}
        f:template:
          f:metadata:
            f:labels:
              f:app: {}
          f:spec:
            f:containers:
              k:{"name":"web"}:
                .: {}
                f:image: {}
                f:name: {}
                f:ports:
                  k:{"containerPort":8080,"protocol":"TCP"}:
                    .: {}
                    f:containerPort: {}
                f:resources:
                  f:requests:
                    f:cpu: {}
                    f:memory: {}
    manager: gitops-tui
    operation: Apply
    time: "2024-05-01T10:00:00Z"
  - apiVersion: apps/v1
    fieldsType: FieldsV1
    fieldsV1:
      f:metadata:
        f:annotations:
          .: {}
          f:deployment.kubernetes.io/revision: {}
      f:status:
        f:availableReplicas: {}
        f:replicas: {}
    manager: kube-controller-manager
    operation: Update
    subresource: status
    time: "2024-05-01T10:00:05Z"
  name: web
  namespace: default
  resourceVersion: "4711"
  uid: 0b5c3f5e-7a8e-4d1c-9a0e-2f1d6c1e9b11
spec:
  progressDeadlineSeconds: 600
  replicas: 3
  revisionHistoryLimit: 10
  selector:
    matchLabels:
      app: web
  strategy:
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 25%
    type: RollingUpdate
  template:
    metadata:
      creationTimestamp: null
      labels:
        app: web
    spec:
      containers:
      - image: nginx:1.25
        imagePullPolicy: IfNotPresent
        name: web
        ports:
        - containerPort: 8080
          protocol: TCP
        resources:
          requests:
            cpu: 500m
            memory: 1Gi
        terminationMessagePath: /dev/termination-log
        terminationMessagePolicy: File
      dnsPolicy: ClusterFirst
      restartPolicy: Always
      schedulerName: default-scheduler
      securityContext: {}
      terminationGracePeriodSeconds: 30
status:
  availableReplicas: 3
  observedGeneration: 1
  readyReplicas: 3
  replicas: 3
  updatedReplicas: 3
"#,
    )
}

/// What a dry-run apply returns: live with the edit applied, a fresh
/// managedFields time and (for spec changes) a bumped generation.
fn dry_run_of(live: &Value, edit: impl FnOnce(&mut Value)) -> Value {
    let mut result = live.clone();
    result["metadata"]["managedFields"][0]["time"] = json!("2024-06-01T00:00:00Z");
    let before = result["spec"].clone();
    edit(&mut result);
    if result["spec"] != before {
        result["metadata"]["generation"] = json!(2);
    }
    result
}

/// Runs both paths and checks they agree; returns the local result.
fn both(desired: &Value, live: &Value, dry_run: &Value, rules: &[IgnoreRule]) -> ResourceDrift {
    let server = compare_dry_run(desired, live, dry_run, rules);
    let local = compare_local(desired, live, MANAGER, rules);
    assert_eq!(
        server.status, local.status,
        "status\nserver:\n{}\nlocal:\n{}",
        server.diff, local.diff
    );
    assert_eq!(
        server.changed_paths, local.changed_paths,
        "paths\nserver:\n{}\nlocal:\n{}",
        server.diff, local.diff
    );
    local
}

#[test]
fn in_sync_with_defaults_noise_and_respellings() {
    let live = live_deployment();
    let drift = both(
        &desired_deployment(),
        &live,
        &dry_run_of(&live, |_| {}),
        &[],
    );
    assert_eq!(drift.status, ResourceStatus::Synced);
    assert!(drift.diff.is_empty());
    assert!(drift.changed_paths.is_empty());
}

#[test]
fn kubectl_scale_is_drift() {
    let mut live = live_deployment();
    live["spec"]["replicas"] = json!(5);
    // `kubectl scale` (an Update) took replicas over from gitops-tui.
    let fields = live["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]
        .as_object_mut()
        .expect("f:spec");
    fields.shift_remove("f:replicas");
    live["metadata"]["managedFields"]
        .as_array_mut()
        .expect("managedFields")
        .push(
            json!({"manager": "kubectl", "operation": "Update", "subresource": "scale",
                     "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}),
        );
    let dry_run = dry_run_of(&live, |r| r["spec"]["replicas"] = json!(3));
    let drift = both(&desired_deployment(), &live, &dry_run, &[]);
    assert_eq!(drift.status, ResourceStatus::OutOfSync);
    assert_eq!(drift.changed_paths, ["spec.replicas"]);
    assert!(drift.diff.starts_with(
        "--- live apps/Deployment default/web\n+++ desired apps/Deployment default/web\n"
    ));
    assert!(
        drift.diff.contains("-  replicas: 5\n+  replicas: 3\n"),
        "{}",
        drift.diff
    );
}

#[test]
fn new_commit_changes_image() {
    let live = live_deployment();
    let mut desired = desired_deployment();
    desired["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.26");
    let dry_run = dry_run_of(&live, |r| {
        r["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.26");
    });
    let drift = both(&desired, &live, &dry_run, &[]);
    assert_eq!(
        drift.changed_paths,
        ["spec.template.spec.containers[name=web].image"]
    );
    assert!(
        drift.diff.contains("+      - image: nginx:1.26\n"),
        "{}",
        drift.diff
    );
}

#[test]
fn field_removed_from_git_but_still_owned_is_drift() {
    let live = live_deployment();
    let mut desired = desired_deployment();
    desired["metadata"]["labels"]
        .as_object_mut()
        .expect("labels")
        .shift_remove("tier");
    let dry_run = dry_run_of(&live, |r| {
        r["metadata"]["labels"]
            .as_object_mut()
            .expect("labels")
            .shift_remove("tier");
    });
    let drift = both(&desired, &live, &dry_run, &[]);
    assert_eq!(drift.changed_paths, ["metadata.labels.tier"]);
    assert!(
        drift.diff.contains("-    tier: frontend\n"),
        "{}",
        drift.diff
    );
}

#[test]
fn field_set_by_someone_else_and_not_in_git_is_not_drift() {
    let mut live = live_deployment();
    live["metadata"]["labels"]["team"] = json!("payments");
    live["metadata"]["managedFields"]
        .as_array_mut()
        .expect("managedFields")
        .push(json!({"manager": "kubectl-label", "operation": "Update",
                     "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {"f:team": {}}}}}));
    let dry_run = dry_run_of(&live, |_| {});
    assert_eq!(
        both(&desired_deployment(), &live, &dry_run, &[]).status,
        ResourceStatus::Synced
    );
}

#[test]
fn container_added_and_removed() {
    let live = live_deployment();
    let mut desired = desired_deployment();
    desired["spec"]["template"]["spec"]["containers"] = json!([{"name": "api", "image": "api:1"}]);
    let dry_run = dry_run_of(&live, |r| {
        r["spec"]["template"]["spec"]["containers"] = json!([{
            "name": "api", "image": "api:1", "imagePullPolicy": "IfNotPresent",
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"
        }]);
    });
    let drift = both(&desired, &live, &dry_run, &[]);
    assert_eq!(
        drift.changed_paths,
        [
            "spec.template.spec.containers[name=api]",
            "spec.template.spec.containers[name=web]"
        ]
    );
}

#[test]
fn hpa_replicas_ignored_by_manager_rule() {
    let mut live = live_deployment();
    live["spec"]["replicas"] = json!(7);
    let fields = live["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]
        .as_object_mut()
        .expect("f:spec");
    fields.shift_remove("f:replicas");
    live["metadata"]["managedFields"]
        .as_array_mut()
        .expect("managedFields")
        .push(json!({"manager": "kube-controller-manager", "operation": "Update", "subresource": "scale",
                     "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}));
    let dry_run = dry_run_of(&live, |r| r["spec"]["replicas"] = json!(3));
    let desired = desired_deployment();
    // Without a rule, the HPA's replicas are drift on both paths...
    assert_eq!(
        both(&desired, &live, &dry_run, &[]).changed_paths,
        ["spec.replicas"]
    );
    // ...with one, on neither; a JSON pointer rule does the same.
    let by_manager = IgnoreRule {
        group: Some("apps".into()),
        kind: Some("Deployment".into()),
        managed_fields_managers: vec!["kube-controller-manager".into()],
        ..Default::default()
    };
    let by_pointer = IgnoreRule {
        kind: Some("Deployment".into()),
        json_pointers: vec!["/spec/replicas".into()],
        ..Default::default()
    };
    for rule in [by_manager, by_pointer] {
        let drift = both(&desired, &live, &dry_run, std::slice::from_ref(&rule));
        assert_eq!(drift.status, ResourceStatus::Synced, "{rule:?}");
    }
    // A rule for another kind changes nothing.
    let other = IgnoreRule {
        kind: Some("StatefulSet".into()),
        json_pointers: vec!["/spec/replicas".into()],
        ..Default::default()
    };
    assert_eq!(
        both(&desired, &live, &dry_run, &[other]).status,
        ResourceStatus::OutOfSync
    );
}

fn desired_secret(password: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "db", "namespace": "default", "labels": {TRACKING_LABEL: "demo"}},
        "type": "Opaque",
        "data": {"username": "YWRtaW4="},
        "stringData": {"password": password}
    })
}

fn live_secret(password_b64: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {
            "name": "db", "namespace": "default", "labels": {TRACKING_LABEL: "demo"},
            "uid": "u-1", "resourceVersion": "12", "creationTimestamp": "2024-05-01T10:00:00Z",
            "managedFields": [{"manager": "gitops-tui", "operation": "Apply", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:data": {"f:username": {}}, "f:stringData": {"f:password": {}},
                             "f:metadata": {"f:labels": {"f:gitops-tui.dev/app": {}}}, "f:type": {}}}]
        },
        "type": "Opaque",
        "data": {"username": "YWRtaW4=", "password": password_b64}
    })
}

#[test]
fn secret_in_sync_through_string_data() {
    // base64("s3cr3t-old") = czNjcjN0LW9sZA==
    let live = live_secret("czNjcjN0LW9sZA==");
    let dry_run = dry_run_of(&live, |_| {});
    let drift = both(&desired_secret("s3cr3t-old"), &live, &dry_run, &[]);
    assert_eq!(drift.status, ResourceStatus::Synced);
}

#[test]
fn secret_change_is_drift_and_never_printed() {
    let old_b64 = "czNjcjN0LW9sZA==";
    let new_b64 = "czNjcjN0LW5ldw=="; // base64("s3cr3t-new")
    let mut live = live_secret(old_b64);
    live["metadata"]["annotations"] = json!({
        "kubectl.kubernetes.io/last-applied-configuration":
            format!("{{\"data\":{{\"password\":\"{old_b64}\"}},\"stringData\":{{\"password\":\"s3cr3t-old\"}}}}")
    });
    let dry_run = dry_run_of(&live, |r| r["data"]["password"] = json!(new_b64));
    let mut desired = desired_secret("s3cr3t-new");
    let server = compare_dry_run(&desired, &live, &dry_run, &[]);
    let local = compare_local(&desired, &live, MANAGER, &[]);
    for drift in [&server, &local] {
        assert_eq!(drift.status, ResourceStatus::OutOfSync);
        assert_eq!(drift.changed_paths, ["data.password"]);
        assert!(
            drift
                .diff
                .contains("-  password: ++++++++\n+  password: ++++++++++++\n"),
            "{}",
            drift.diff
        );
        // The unchanged key is masked too, and shows no change.
        assert!(!drift.diff.contains("-  username"));
        for secret in [
            "s3cr3t-old",
            "s3cr3t-new",
            old_b64,
            new_b64,
            "YWRtaW4=",
            "admin",
        ] {
            assert!(
                !drift.diff.contains(secret),
                "{secret} leaked:\n{}",
                drift.diff
            );
        }
    }
    // One-sided and commit-to-commit diffs mask as well.
    desired["metadata"]["annotations"] = live["metadata"]["annotations"].clone();
    let texts = [
        missing(&desired).diff,
        extra(&live).diff,
        diff_objects(&live, &desired, "a", "b"),
        diff_objects(
            &desired_secret("s3cr3t-old"),
            &desired_secret("s3cr3t-new"),
            "a",
            "b",
        ),
    ];
    for text in &texts {
        assert!(text.contains("password"), "{text}");
        for secret in ["s3cr3t-old", "s3cr3t-new", old_b64, new_b64, "YWRtaW4="] {
            assert!(!text.contains(secret), "{secret} leaked:\n{text}");
        }
    }
}

#[test]
fn missing_and_extra_render_whole_objects() {
    let desired = desired_deployment();
    let m = missing(&desired);
    assert_eq!(m.status, ResourceStatus::Missing);
    assert!(m.diff.starts_with("--- live apps/Deployment default/web\n+++ desired apps/Deployment default/web\n@@ -0,0 +1,"));
    assert!(
        m.diff.lines().skip(3).all(|l| l.starts_with('+')),
        "{}",
        m.diff
    );
    assert!(!m.diff.contains(TRACKING_LABEL));

    let e = extra(&live_deployment());
    assert_eq!(e.status, ResourceStatus::Extra);
    assert!(
        e.diff.lines().skip(3).all(|l| l.starts_with('-')),
        "{}",
        e.diff
    );
    for noise in [
        "managedFields",
        "resourceVersion",
        "status:",
        "uid:",
        "deployment.kubernetes.io/revision",
    ] {
        assert!(!e.diff.contains(noise), "{noise} in\n{}", e.diff);
    }
}

#[test]
fn service_target_port_written_as_string() {
    let desired = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "8080"}]}});
    let live = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "default", "managedFields": [{"manager": "gitops-tui",
            "operation": "Apply", "fieldsV1": {"f:spec": {"f:selector": {}, "f:ports": {
                "k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}, "f:targetPort": {}}}}}}]},
        "spec": {"clusterIP": "10.96.0.12", "clusterIPs": ["10.96.0.12"], "type": "ClusterIP",
            "sessionAffinity": "None", "selector": {"app": "web"},
            "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}]},
        "status": {"loadBalancer": {}}});
    let drift = both(&desired, &live, &live.clone(), &[]);
    assert_eq!(drift.status, ResourceStatus::Synced, "{}", drift.diff);
}

#[test]
fn keys_and_app_status() {
    let key = ResourceKey::of_named(&live_deployment()).expect("key");
    assert_eq!(
        (key.group.as_str(), key.kind.as_str()),
        ("apps", "Deployment")
    );
    assert_eq!(key.namespace.as_deref(), Some("default"));
    assert_eq!(
        object_label(
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}})
        ),
        "Namespace demo"
    );
    assert_eq!(app_sync_status([]), SyncStatus::Synced);
    assert_eq!(
        app_sync_status([ResourceStatus::Synced, ResourceStatus::Missing]),
        SyncStatus::OutOfSync
    );
}

#[test]
fn local_path_without_managed_fields_still_sees_desired_fields() {
    // A cache that dropped managedFields loses "removed from Git" drift, but
    // changes to fields Git sets still show, and defaults still do not.
    let mut live = live_deployment();
    live["metadata"]
        .as_object_mut()
        .expect("metadata")
        .shift_remove("managedFields");
    let synced = compare_local(&desired_deployment(), &live, MANAGER, &[]);
    assert_eq!(synced.status, ResourceStatus::Synced, "{}", synced.diff);
    live["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.24");
    let drift = compare_local(&desired_deployment(), &live, MANAGER, &[]);
    assert_eq!(
        drift.changed_paths,
        ["spec.template.spec.containers[name=web].image"]
    );
}
