//! "Real-client acceptance" items 8–14 of `shared/design/kube-sim.md` (items
//! 1–7 are in `kubectl_acceptance.rs`): watch, delete, finalizers, CRDs, 410
//! after compaction, https auth, rollout and scale; each with kubectl 1.27,
//! 1.32 and 1.33.

mod common;

use common::kubectl::{deploy_with_image, Env, Lines, DEPLOY};
use kube_sim::{Options, Rule};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

each_version!(
    item08_watch_shows_patches,
    item09_delete_and_not_found,
    item10_finalizers,
    item11_crd_and_custom_resource,
    item12_compacted_watch_is_410,
    item13_https_tokens_and_rbac,
    item14_rollout_and_scale,
    item14_broken_image_exceeds_deadline,
);

fn cm(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"}, "data": data})
}

async fn item08_watch_shows_patches(minor: u32) {
    let env = Env::start(minor).await;
    env.sim.seed(cm("x", json!({"a": "1"}))).expect("seeded");
    let mut child = env
        .command(&["get", "cm", "-w"])
        .spawn()
        .expect("kubectl get -w runs");
    let mut lines = Lines::of(child.stdout.take().expect("stdout"));
    let cells = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    let header = lines.expect("the header", |l| l.starts_with("NAME")).await;
    assert_eq!(cells(&header), ["NAME", "DATA", "AGE"]);
    let row = lines.expect("x", |l| l.starts_with("x ")).await;
    assert_eq!(cells(&row)[1], "1", "{row}");
    // kubectl prints the list, then starts its watch; wait for the watch.
    let watching = common::kubectl::eventually(Duration::from_secs(10), || async {
        env.sim
            .requests()
            .iter()
            .any(|r| r.param("watch").as_deref() == Some("true"))
    })
    .await;
    assert!(watching, "kubectl started no watch");

    let out = env
        .kubectl(&[
            "patch",
            "cm",
            "x",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"b":"1"}}"#,
        ])
        .await;
    out.ok();
    assert_eq!(out.stdout.trim(), "configmap/x patched");
    let row = lines.expect("x with 2 keys", |l| l.starts_with("x ")).await;
    assert_eq!(
        cells(&row)[..2],
        ["x", "2"],
        "the merge patch: {:#?}",
        lines.seen
    );

    let out = env
        .kubectl(&[
            "patch",
            "cm",
            "x",
            "--type",
            "json",
            "-p",
            r#"[{"op":"add","path":"/data/c","value":"2"}]"#,
        ])
        .await;
    out.ok();
    assert_eq!(out.stdout.trim(), "configmap/x patched");
    let row = lines.expect("x with 3 keys", |l| l.starts_with("x ")).await;
    assert_eq!(
        cells(&row)[..2],
        ["x", "3"],
        "the JSON patch: {:#?}",
        lines.seen
    );

    // A patch that changes nothing sends no event.
    let out = env
        .kubectl(&[
            "patch",
            "cm",
            "x",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"b":"1"}}"#,
        ])
        .await;
    out.ok();
    assert_eq!(out.stdout.trim(), "configmap/x patched (no change)");

    env.sim.seed(cm("later", json!({}))).expect("seeded");
    let row = lines
        .expect("the new configmap", |l| l.starts_with("later "))
        .await;
    assert_eq!(cells(&row)[1], "0", "{row}");
    env.kubectl(&["delete", "cm", "later"]).await.ok();
    let deleted = lines
        .expect("the deletion", |l| l.starts_with("later "))
        .await;
    assert_eq!(cells(&deleted)[1], "0", "{deleted}");
    assert_eq!(
        lines.seen.iter().filter(|l| l.starts_with("x ")).count(),
        3,
        "one row per change, and no blank rows: {:#?}",
        lines.seen
    );
    assert!(
        lines.seen.iter().all(|l| !l.trim().is_empty()),
        "no blank rows: {:#?}",
        lines.seen
    );
    assert_eq!(
        lines.seen.iter().filter(|l| l.starts_with("NAME")).count(),
        1,
        "one header only, with the list's columns: {:#?}",
        lines.seen
    );
    let _ = child.start_kill();
}

async fn item09_delete_and_not_found(minor: u32) {
    let env = Env::start(minor).await;
    env.sim.seed(cm("x", json!({"a": "1"}))).expect("seeded");
    let started = Instant::now();
    let out = env.kubectl(&["delete", "cm", "x"]).await;
    out.ok();
    assert_eq!(out.stdout.trim(), "configmap \"x\" deleted");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "delete took {:?}",
        started.elapsed()
    );
    assert!(env.sim.get("v1", "ConfigMap", "default", "x").is_none());

    let out = env.kubectl(&["get", "cm", "nope"]).await;
    out.failed_with(1);
    assert_eq!(
        out.stderr.trim(),
        "Error from server (NotFound): configmaps \"nope\" not found"
    );
    assert_eq!(out.stdout, "");

    let out = env.kubectl(&["delete", "cm", "x"]).await;
    out.failed_with(1);
    assert_eq!(
        out.stderr.trim(),
        "Error from server (NotFound): configmaps \"x\" not found"
    );
}

async fn item10_finalizers(minor: u32) {
    let env = Env::start(minor).await;
    env.sim.seed(cm("f", json!({"a": "1"}))).expect("seeded");
    let out = env
        .kubectl(&[
            "patch",
            "cm",
            "f",
            "--type",
            "merge",
            "-p",
            r#"{"metadata":{"finalizers":["example.com/hold"]}}"#,
        ])
        .await;
    out.ok();

    let started = Instant::now();
    let out = env.kubectl(&["delete", "cm", "f", "--wait=false"]).await;
    out.ok();
    assert_eq!(out.stdout.trim(), "configmap \"f\" deleted");
    assert!(started.elapsed() < Duration::from_secs(5));

    let live = env.get_json(&["cm", "f"]).await;
    let ts = live["metadata"]["deletionTimestamp"]
        .as_str()
        .unwrap_or_else(|| panic!("no deletionTimestamp: {live}"));
    assert!(
        ts.ends_with('Z') && ts.len() == 20,
        "RFC 3339 seconds: {ts}"
    );
    assert_eq!(live["metadata"]["finalizers"], json!(["example.com/hold"]));
    assert_eq!(live["data"], json!({"a": "1"}));

    // Waiting for the deletion times out while the finalizer holds it.
    let out = env
        .kubectl(&["wait", "--for=delete", "cm/f", "--timeout=1s"])
        .await;
    assert_ne!(out.code, 0, "{out}");

    let out = env
        .kubectl(&[
            "patch",
            "cm",
            "f",
            "--type",
            "json",
            "-p",
            r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
        ])
        .await;
    out.ok();
    let out = env
        .kubectl(&["wait", "--for=delete", "cm/f", "--timeout=10s"])
        .await;
    assert_eq!(out.code, 0, "{out}");
    let out = env.kubectl(&["get", "cm", "f"]).await;
    out.failed_with(1)
        .stderr_has("Error from server (NotFound): configmaps \"f\" not found");

    // What a watcher saw: the update that cleared the finalizers, then the
    // deletion of that object.
    let rv = live["metadata"]["resourceVersion"].as_str().unwrap_or("");
    let out = env
        .kubectl(&[
            "get",
            "--raw",
            &format!("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=1"),
        ])
        .await;
    out.ok();
    let events: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON event"))
        .collect();
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types, ["MODIFIED", "DELETED"], "{out}");
    for e in &events {
        assert!(e["object"]["metadata"].get("finalizers").is_none(), "{e}");
        assert!(
            e["object"]["metadata"]["deletionTimestamp"].is_string(),
            "{e}"
        );
    }
}

const CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names:
    kind: Widget
    listKind: WidgetList
    plural: widgets
    singular: widget
    shortNames: [wg]
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
    additionalPrinterColumns:
    - name: Size
      type: integer
      jsonPath: .spec.size
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size:
                type: integer
              color:
                type: string
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
"#;

const WIDGET: &str = r#"apiVersion: example.com/v1
kind: Widget
metadata:
  name: w1
spec:
  size: 3
  color: blue
"#;

async fn item11_crd_and_custom_resource(minor: u32) {
    let env = Env::start(minor).await;
    // Discovery is cached before the CRD exists, as a user's would be.
    env.kubectl(&["get", "cm"]).await.ok();

    let crd = env.file("crd.yaml", CRD);
    let out = env.kubectl(&["apply", "--server-side", "-f", &crd]).await;
    out.ok();
    assert_eq!(
        out.stdout.trim(),
        "customresourcedefinition.apiextensions.k8s.io/widgets.example.com serverside-applied"
    );
    let out = env
        .kubectl(&[
            "wait",
            "--for",
            "condition=established",
            "crd/widgets.example.com",
            "--timeout=10s",
        ])
        .await;
    out.ok();
    assert_eq!(
        out.stdout.trim(),
        "customresourcedefinition.apiextensions.k8s.io/widgets.example.com condition met"
    );

    let widget = env.file("widget.yaml", WIDGET);
    let out = env
        .kubectl(&["apply", "--server-side", "-f", &widget])
        .await;
    out.ok();
    assert_eq!(
        out.stdout.trim(),
        "widget.example.com/w1 serverside-applied"
    );

    let out = env.kubectl(&["get", "widgets"]).await;
    out.ok();
    let rows: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    // Declared printer columns replace the default AGE, as in
    // apiextensions-apiserver (CRDs list Age themselves when they want it).
    assert_eq!(rows[0], ["NAME", "SIZE"], "printer columns: {out}");
    assert_eq!(rows[1][..2], ["w1", "3"], "{out}");

    let w = env.get_json(&["wg", "w1"]).await;
    assert_eq!(w["spec"], json!({"size": 3, "color": "blue"}));
    assert_eq!(w["metadata"]["generation"], 1);

    // A client-side apply of a CR works too (JSON merge patch).
    let bigger = env.file("widget2.yaml", &WIDGET.replace("size: 3", "size: 4"));
    let out = env.kubectl(&["apply", "-f", &bigger]).await;
    out.ok();
    let out = env
        .kubectl(&["get", "widget", "w1", "-o", "jsonpath={.spec.size}"])
        .await;
    out.ok();
    assert_eq!(out.stdout, "4");
}

async fn item12_compacted_watch_is_410(minor: u32) {
    let env = Env::start(minor).await;
    for i in 0..3 {
        env.sim
            .seed(cm(&format!("c{i}"), json!({})))
            .expect("seeded");
    }
    env.sim.compact();
    let out = env
        .kubectl(&[
            "get",
            "--raw",
            "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1",
        ])
        .await;
    out.ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one event, then the end:\n{out}");
    let event: Value = serde_json::from_str(lines[0]).expect("a JSON event");
    assert_eq!(event["type"], "ERROR", "{event}");
    let status = &event["object"];
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["code"], 410);
    assert_eq!(status["reason"], "Expired");
    assert!(
        status["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("too old resource version: 1 (")),
        "{status}"
    );

    // A watch from the current version is fine.
    let rv = env.sim.resource_version().to_string();
    let out = env
        .kubectl(&[
            "get",
            "--raw",
            &format!(
                "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=1"
            ),
        ])
        .await;
    out.ok();
    assert_eq!(out.stdout, "", "no events:\n{out}");
}

async fn item13_https_tokens_and_rbac(minor: u32) {
    let admin = format!("admin-token-{minor}");
    let env = Env::with(Options {
        tls: true,
        token: Some(admin.clone()),
        kube_minor: minor,
        ..Options::default()
    })
    .await;
    assert!(env.sim.url().starts_with("https://127.0.0.1:"));
    env.sim.seed(cm("x", json!({"a": "1"}))).expect("seeded");

    let out = env
        .kubectl(&["get", "cm", "x", "-o", "jsonpath={.data.a}"])
        .await;
    out.ok();
    assert_eq!(out.stdout, "1");

    let kubeconfig_with = |token: &str, file: &str| {
        let text = env.sim.kubeconfig();
        assert!(text.contains(&format!("token: {admin}")), "{text}");
        let p = env.dir.path().join(file);
        std::fs::write(&p, text.replace(&admin, token)).expect("kubeconfig written");
        p
    };

    let wrong = kubeconfig_with("not-the-token", "wrong");
    let out = env.kubectl_with(&wrong, &["get", "cm"]).await;
    out.failed_with(1);
    assert_eq!(
        out.stderr.trim(),
        "error: You must be logged in to the server (Unauthorized)"
    );

    env.sim.add_user("viewer-token", "viewer");
    env.sim.allow(Rule {
        user: "viewer".into(),
        verbs: vec!["get".into(), "list".into(), "watch".into()],
        resources: vec!["*".into()],
        namespace: None,
    });
    let viewer = kubeconfig_with("viewer-token", "viewer");
    let out = env.kubectl_with(&viewer, &["get", "cm"]).await;
    out.ok();
    assert!(out.stdout.lines().any(|l| l.starts_with("x ")), "{out}");
    let out = env
        .kubectl_with(
            &viewer,
            &[
                "patch",
                "cm",
                "x",
                "--type",
                "merge",
                "-p",
                r#"{"data":{"a":"2"}}"#,
            ],
        )
        .await;
    out.failed_with(1);
    assert_eq!(
        out.stderr.trim(),
        "Error from server (Forbidden): configmaps \"x\" is forbidden: User \"viewer\" \
         cannot patch resource \"configmaps\" in API group \"\" in the namespace \"default\""
    );
    let live = env.sim.get("v1", "ConfigMap", "default", "x").expect("x");
    assert_eq!(live["data"]["a"], "1");

    // The admin may.
    env.kubectl(&[
        "patch",
        "cm",
        "x",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"a":"2"}}"#,
    ])
    .await
    .ok();
    let live = env.sim.get("v1", "ConfigMap", "default", "x").expect("x");
    assert_eq!(live["data"]["a"], "2");
}

async fn item14_rollout_and_scale(minor: u32) {
    let env = Env::start(minor).await;
    let f = env.file("deploy.yaml", DEPLOY);
    env.kubectl(&["apply", "--server-side", "-f", &f])
        .await
        .ok();
    let out = env
        .kubectl(&["rollout", "status", "deploy/web", "--timeout=30s"])
        .await;
    out.ok()
        .stdout_has("deployment \"web\" successfully rolled out");
    let d = env.get_json(&["deploy", "web"]).await;
    assert_eq!(d["status"]["availableReplicas"], 1, "{d}");

    let out = env
        .kubectl(&["scale", "deploy", "web", "--replicas=3"])
        .await;
    out.ok();
    assert_eq!(out.stdout.trim(), "deployment.apps/web scaled");
    let d = env
        .get_json(&["deploy", "web", "--show-managed-fields"])
        .await;
    assert_eq!(d["spec"]["replicas"], 3);
    let scale_entry = d["metadata"]["managedFields"]
        .as_array()
        .and_then(|m| m.iter().find(|e| e["subresource"] == "scale"))
        .unwrap_or_else(|| panic!("no scale entry: {d}"));
    assert_eq!(scale_entry["manager"], "kubectl", "{scale_entry}");
    assert_eq!(scale_entry["operation"], "Update", "{scale_entry}");
    assert_eq!(scale_entry["apiVersion"], "apps/v1", "{scale_entry}");
    assert_eq!(
        scale_entry["fieldsV1"],
        json!({"f:spec": {"f:replicas": {}}}),
        "{scale_entry}"
    );

    let out = env
        .kubectl(&["rollout", "status", "deploy/web", "--timeout=30s"])
        .await;
    out.ok()
        .stdout_has("deployment \"web\" successfully rolled out");
    let out = env.kubectl(&["get", "deploy", "web"]).await;
    out.ok();
    let row: Vec<&str> = out
        .stdout
        .lines()
        .nth(1)
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    assert_eq!(row[..4], ["web", "3/3", "3", "3"], "{out}");

    // A new image rolls out again.
    let f = env.file("deploy2.yaml", &deploy_with_image("nginx:1.26"));
    env.kubectl(&["apply", "--server-side", "-f", &f])
        .await
        .ok();
    let out = env
        .kubectl(&["rollout", "status", "deploy/web", "--timeout=30s"])
        .await;
    out.ok()
        .stdout_has("deployment \"web\" successfully rolled out");
}

async fn item14_broken_image_exceeds_deadline(minor: u32) {
    let env = Env::start(minor).await;
    let broken = deploy_with_image("nginx:broken").replace(
        "spec:\n  selector:",
        "spec:\n  progressDeadlineSeconds: 2\n  selector:",
    );
    assert!(broken.contains("progressDeadlineSeconds: 2"));
    let f = env.file("broken.yaml", &broken);
    env.kubectl(&["apply", "--server-side", "-f", &f])
        .await
        .ok();
    let started = Instant::now();
    let out = env
        .kubectl(&["rollout", "status", "deploy/web", "--timeout=30s"])
        .await;
    out.failed_with(1)
        .stderr_has("error: deployment \"web\" exceeded its progress deadline");
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "the deadline is 2 s: {:?}",
        started.elapsed()
    );
    let d = env.get_json(&["deploy", "web"]).await;
    let progressing = d["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "Progressing"))
        .unwrap_or_else(|| panic!("no Progressing condition: {d}"));
    assert_eq!(progressing["status"], "False");
    assert_eq!(progressing["reason"], "ProgressDeadlineExceeded");
}
