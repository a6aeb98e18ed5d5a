//! Deployment rollouts as the real kubectl sees them (1.27, 1.32, 1.33):
//! revisions and `rollout history`, `rollout undo` restoring the previous
//! image, a rollout to a broken image that keeps `replicas -
//! maxUnavailable` Pods available (polled while it runs) and ends with
//! ProgressDeadlineExceeded, pause/resume, scaling down that stays
//! Available, and Recreate.

mod common;

use common::kubectl::Env;
use serde_json::Value;
use std::time::{Duration, Instant};

each_version!(
    history_and_undo_restore_the_previous_image,
    a_broken_rollout_keeps_the_old_pods_serving,
    pause_holds_a_rollout_until_resume,
);

/// A Deployment `web` with `replicas`, the image, and extra spec lines.
fn deploy(replicas: u32, image: &str, extra_spec: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: {replicas}
{extra_spec}  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: {image}
"#
    )
}

async fn rolled_out(env: &Env) {
    env.kubectl(&["rollout", "status", "deploy/web", "--timeout=30s"])
        .await
        .ok()
        .stdout_has("successfully rolled out");
}

fn image_of(d: &Value) -> String {
    d.pointer("/spec/template/spec/containers/0/image")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn condition<'a>(d: &'a Value, kind: &str) -> &'a Value {
    d.pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == kind))
        .unwrap_or_else(|| panic!("no {kind} condition: {d}"))
}

async fn history_and_undo_restore_the_previous_image(minor: u32) {
    let env = Env::start(minor).await;
    env.apply("v1.yaml", &deploy(2, "nginx:1.25", "")).await;
    rolled_out(&env).await;
    env.apply("v2.yaml", &deploy(2, "nginx:1.26", "")).await;
    rolled_out(&env).await;
    let d = env.get_json(&["deploy", "web"]).await;
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    let history = env.kubectl(&["rollout", "history", "deploy/web"]).await;
    history.ok().stdout_has("REVISION");
    let revisions: Vec<String> = history
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("REVISION"))
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    assert_eq!(revisions, ["1", "2"], "{history}");
    let rev1 = env
        .kubectl(&["rollout", "history", "deploy/web", "--revision=1"])
        .await;
    rev1.ok().stdout_has("nginx:1.25");

    env.kubectl(&["rollout", "undo", "deploy/web"])
        .await
        .ok()
        .stdout_has("rolled back");
    rolled_out(&env).await;
    let d = env.get_json(&["deploy", "web"]).await;
    assert_eq!(image_of(&d), "nginx:1.25");
    // The old ReplicaSet came back as revision 3, remembering it was 1.
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "3"
    );
    let rss = env.get_json(&["rs", "-l", "app=web"]).await;
    let items = rss["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "one ReplicaSet per template: {rss}");
    let back = items
        .iter()
        .find(|rs| image_of(rs) == "nginx:1.25")
        .expect("the first ReplicaSet");
    let ann = &back["metadata"]["annotations"];
    assert_eq!(ann["deployment.kubernetes.io/revision"], "3");
    assert_eq!(ann["deployment.kubernetes.io/revision-history"], "1");
    assert_eq!(back["spec"]["replicas"], 2);
    let other = items
        .iter()
        .find(|rs| image_of(rs) == "nginx:1.26")
        .expect("rev 2");
    assert_eq!(other["spec"]["replicas"], 0);
    let pods = env.get_json(&["pods", "-l", "app=web"]).await;
    let images: Vec<String> = pods["items"]
        .as_array()
        .expect("pods")
        .iter()
        .map(|p| {
            p.pointer("/spec/containers/0/image")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(images, ["nginx:1.25", "nginx:1.25"]);
    let history = env.kubectl(&["rollout", "history", "deploy/web"]).await;
    let revisions: Vec<&str> = history
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("REVISION"))
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(revisions, ["2", "3"], "{history}");
}

async fn a_broken_rollout_keeps_the_old_pods_serving(minor: u32) {
    let env = Env::start(minor).await;
    let strategy = "  progressDeadlineSeconds: 3\n  strategy:\n    rollingUpdate:\n      maxSurge: 1\n      maxUnavailable: 1\n";
    env.apply("good.yaml", &deploy(4, "nginx:1.25", strategy))
        .await;
    rolled_out(&env).await;
    env.apply("broken.yaml", &deploy(4, "nginx:broken", strategy))
        .await;
    // Poll the stored status while the rollout runs: never below 3
    // available, never more than 5 Pods.
    let started = Instant::now();
    let mut saw_new_pods = false;
    let d = loop {
        let d = env
            .sim
            .get("apps/v1", "Deployment", "default", "web")
            .expect("deployment");
        let available = d
            .pointer("/status/availableReplicas")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        assert!(
            available >= 3,
            "availability dropped to {available} after {:?}: {d}",
            started.elapsed()
        );
        let pods = env.get_json(&["pods", "-l", "app=web"]).await;
        let pods = pods["items"].as_array().cloned().unwrap_or_default();
        assert!(
            pods.len() <= 5,
            "more than replicas + maxSurge: {}",
            pods.len()
        );
        let ready_old = pods
            .iter()
            .filter(|p| {
                p.pointer("/spec/containers/0/image")
                    .and_then(Value::as_str)
                    == Some("nginx:1.25")
            })
            .filter(|p| {
                p.pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c["type"] == "Ready" && c["status"] == "True")
                    })
            })
            .count();
        assert!(ready_old >= 3, "only {ready_old} old Pods ready");
        saw_new_pods |= pods.iter().any(|p| {
            p.pointer("/spec/containers/0/image")
                .and_then(Value::as_str)
                == Some("nginx:broken")
        });
        if condition(&d, "Progressing")["reason"] == "ProgressDeadlineExceeded" {
            break d;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no deadline: {d}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(saw_new_pods, "the new ReplicaSet got no Pods");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "deadline is 3 s: {:?}",
        started.elapsed()
    );
    assert_eq!(condition(&d, "Available")["status"], "True");
    assert_eq!(d["status"]["updatedReplicas"], 2, "{d}");
    assert_eq!(d["status"]["availableReplicas"], 3, "{d}");
    let progressing = condition(&d, "Progressing");
    assert_eq!(progressing["status"], "False");
    let message = progressing["message"].as_str().unwrap_or("");
    assert!(
        message.starts_with("ReplicaSet \"web-")
            && message.ends_with("\" has timed out progressing."),
        "{message}"
    );
    env.kubectl(&["rollout", "status", "deploy/web", "--timeout=10s"])
        .await
        .failed_with(1)
        .stderr_has("exceeded its progress deadline");
    // Undo brings the broken Pods down and the old ones back to four.
    env.kubectl(&["rollout", "undo", "deploy/web"]).await.ok();
    rolled_out(&env).await;
    let d = env.get_json(&["deploy", "web"]).await;
    assert_eq!(image_of(&d), "nginx:1.25");
    assert_eq!(d["status"]["availableReplicas"], 4);
    assert_eq!(
        condition(&d, "Progressing")["reason"],
        "NewReplicaSetAvailable"
    );
}

async fn pause_holds_a_rollout_until_resume(minor: u32) {
    let env = Env::start(minor).await;
    env.apply("v1.yaml", &deploy(2, "nginx:1.25", "")).await;
    rolled_out(&env).await;
    env.kubectl(&["rollout", "pause", "deploy/web"])
        .await
        .ok()
        .stdout_has("paused");
    env.kubectl(&["set", "image", "deploy/web", "web=nginx:1.26"])
        .await
        .ok();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let d = env.get_json(&["deploy", "web"]).await;
    assert_eq!(condition(&d, "Progressing")["reason"], "DeploymentPaused");
    assert_eq!(condition(&d, "Progressing")["status"], "Unknown");
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );
    let rss = env.get_json(&["rs", "-l", "app=web"]).await;
    assert_eq!(
        rss["items"].as_array().map(Vec::len),
        Some(1),
        "no new ReplicaSet while paused"
    );
    env.kubectl(&["rollout", "resume", "deploy/web"])
        .await
        .ok()
        .stdout_has("resumed");
    rolled_out(&env).await;
    let d = env.get_json(&["deploy", "web"]).await;
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    assert_eq!(d["status"]["updatedReplicas"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn scaling_down_stays_available() {
    let env = Env::start(32).await;
    env.apply("v1.yaml", &deploy(3, "nginx:1.25", "")).await;
    rolled_out(&env).await;
    env.kubectl(&["scale", "deploy/web", "--replicas=1"])
        .await
        .ok();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(2) {
        let d = env
            .sim
            .get("apps/v1", "Deployment", "default", "web")
            .expect("deployment");
        assert_eq!(condition(&d, "Available")["status"], "True", "{d}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let d = env.get_json(&["deploy", "web"]).await;
    assert_eq!(
        (
            d["status"]["replicas"].as_i64(),
            d["status"]["availableReplicas"].as_i64()
        ),
        (Some(1), Some(1)),
        "{d}"
    );
    let events = env.get_json(&["events"]).await;
    let scaled: Vec<&str> = events["items"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["reason"] == "ScalingReplicaSet")
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(
        scaled
            .iter()
            .any(|m| m.starts_with("Scaled down replica set web-") && m.ends_with(" to 1 from 3")),
        "{scaled:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn recreate_stops_the_old_pods_first() {
    let env = Env::start(32).await;
    let recreate = "  strategy:\n    type: Recreate\n";
    env.apply("v1.yaml", &deploy(2, "nginx:1.25", recreate))
        .await;
    rolled_out(&env).await;
    env.apply("v2.yaml", &deploy(2, "nginx:1.26", recreate))
        .await;
    // Never old and new Pods at once.
    let started = Instant::now();
    loop {
        let pods = env.get_json(&["pods", "-l", "app=web"]).await;
        let images: Vec<String> = pods["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|p| {
                p.pointer("/spec/containers/0/image")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        let mixed =
            images.iter().any(|i| i == "nginx:1.25") && images.iter().any(|i| i == "nginx:1.26");
        assert!(!mixed, "old and new together: {images:?}");
        if images == ["nginx:1.26", "nginx:1.26"] {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "{images:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    rolled_out(&env).await;
}
