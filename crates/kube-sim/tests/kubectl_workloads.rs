//! The workload controllers besides Deployments as the real kubectl sees
//! them: StatefulSet Pods created in ordinal order, DaemonSet Pods per
//! node, Jobs running to completion (and failing past their backoffLimit),
//! a CronJob creating a Job on schedule (its clock advanced, not waited
//! for), and a deleted Pod replaced under a new name.

mod common;

use common::kubectl::{eventually, pod_ready, Env, DEPLOY};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

each_version!(
    stateful_set_pods_come_up_in_order,
    a_job_completes_and_keeps_its_pod,
);

/// A DaemonSet `agent` of one container.
const DS: &str = r#"apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: default
spec:
  selector:
    matchLabels:
      app: agent
  template:
    metadata:
      labels:
        app: agent
    spec:
      containers:
      - name: agent
        image: fluent-bit:3.0
"#;

const STS: &str = r#"apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
  namespace: default
spec:
  serviceName: web
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
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 1Gi
"#;

async fn stateful_set_pods_come_up_in_order(minor: u32) {
    let env = Env::start(minor).await;
    env.apply("sts.yaml", STS).await;
    // Poll: web-N exists only once web-0..N-1 are ready.
    let started = Instant::now();
    loop {
        let pods = env.get_json(&["pods", "-l", "app=web"]).await;
        let pods = pods["items"].as_array().cloned().unwrap_or_default();
        let mut names: Vec<String> = pods
            .iter()
            .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
            .collect();
        names.sort();
        let expected: Vec<String> = (0..names.len()).map(|i| format!("web-{i}")).collect();
        assert_eq!(names, expected, "ordinals in order");
        for p in &pods {
            let i: usize = p["metadata"]["name"]
                .as_str()
                .and_then(|n| n.strip_prefix("web-"))
                .and_then(|n| n.parse().ok())
                .expect("ordinal");
            for earlier in pods.iter().filter(|q| {
                q["metadata"]["name"]
                    .as_str()
                    .and_then(|n| n.strip_prefix("web-"))
                    .and_then(|n| n.parse::<usize>().ok())
                    .is_some_and(|j| j < i)
            }) {
                assert!(
                    pod_ready(earlier),
                    "web-{i} exists before {} is ready",
                    earlier["metadata"]["name"]
                );
            }
        }
        if pods.len() == 3 && pods.iter().all(pod_ready) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{names:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    env.kubectl(&["rollout", "status", "sts/web", "--timeout=30s"])
        .await
        .ok()
        .stdout_has("roll");
    let sts = env.get_json(&["sts", "web"]).await;
    let status = &sts["status"];
    assert_eq!(
        (
            status["replicas"].as_i64(),
            status["readyReplicas"].as_i64()
        ),
        (Some(3), Some(3)),
        "{sts}"
    );
    let revision = status["updateRevision"]
        .as_str()
        .expect("updateRevision")
        .to_string();
    assert_eq!(status["currentRevision"], json!(revision));
    let pod = env.get_json(&["pod", "web-1"]).await;
    assert_eq!(
        pod["metadata"]["labels"]["controller-revision-hash"],
        json!(revision)
    );
    assert_eq!(
        pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"],
        "web-1"
    );
    assert_eq!(pod["spec"]["hostname"], "web-1");
    assert_eq!(pod["spec"]["subdomain"], "web");
    assert!(
        pod["spec"]["nodeName"]
            .as_str()
            .is_some_and(|n| !n.is_empty()),
        "{pod}"
    );
    assert!(
        pod["status"]["podIP"]
            .as_str()
            .is_some_and(|ip| ip.starts_with("10.244.")),
        "{pod}"
    );
    let claims = env.get_json(&["pvc"]).await;
    let mut claims: Vec<&str> = claims["items"]
        .as_array()
        .expect("pvcs")
        .iter()
        .filter_map(|c| c["metadata"]["name"].as_str())
        .collect();
    claims.sort();
    assert_eq!(claims, ["data-web-0", "data-web-1", "data-web-2"]);
    let revisions = env.get_json(&["controllerrevisions"]).await;
    let revs = revisions["items"].as_array().expect("revisions");
    assert_eq!(revs.len(), 1);
    assert_eq!(revs[0]["metadata"]["name"], json!(revision));
    assert_eq!(revs[0]["revision"], 1);
    // An update rolls from the highest ordinal and records a revision.
    env.kubectl(&["set", "image", "sts/web", "web=nginx:1.26"])
        .await
        .ok();
    env.kubectl(&["rollout", "status", "sts/web", "--timeout=30s"])
        .await
        .ok();
    let sts = env.get_json(&["sts", "web"]).await;
    assert_ne!(sts["status"]["updateRevision"], json!(revision));
    assert_eq!(
        sts["status"]["currentRevision"],
        sts["status"]["updateRevision"]
    );
    assert_eq!(sts["status"]["updatedReplicas"], 3);
    let history = env.kubectl(&["rollout", "history", "sts/web"]).await;
    history.ok().stdout_has("1 ").stdout_has("2 ");
}

const JOB: &str = r#"apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: default
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: IMAGE
"#;

async fn a_job_completes_and_keeps_its_pod(minor: u32) {
    let env = Env::start(minor).await;
    env.apply("job.yaml", &JOB.replace("IMAGE", "busybox:1.36"))
        .await;
    env.kubectl(&[
        "wait",
        "--for=condition=complete",
        "job/migrate",
        "--timeout=30s",
    ])
    .await
    .ok()
    .stdout_has("condition met");
    let job = env.get_json(&["job", "migrate"]).await;
    assert_eq!(job["status"]["succeeded"], 1, "{job}");
    assert!(job["status"]["completionTime"].is_string(), "{job}");
    let complete = job["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Complete"))
        .expect("Complete");
    assert_eq!(complete["reason"], "CompletionsReached");
    let pods = env.get_json(&["pods", "-l", "job-name=migrate"]).await;
    let pods = pods["items"].as_array().expect("pods");
    assert_eq!(pods.len(), 1, "the Pod stays");
    assert_eq!(pods[0]["status"]["phase"], "Succeeded");
    assert_eq!(
        pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]["reason"],
        "Completed"
    );
    env.kubectl(&["logs", "job/migrate"])
        .await
        .ok()
        .stdout_has("starting busybox:1.36");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_job_fails_past_its_backoff_limit() {
    let env = Env::start(32).await;
    env.apply("job.yaml", &JOB.replace("IMAGE", "busybox:broken"))
        .await;
    env.kubectl(&[
        "wait",
        "--for=condition=failed",
        "job/migrate",
        "--timeout=30s",
    ])
    .await
    .ok();
    let job = env.get_json(&["job", "migrate"]).await;
    assert_eq!(
        job["status"]["failed"], 2,
        "backoffLimit 1: two Pods failed: {job}"
    );
    let failed = job["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Failed"))
        .expect("Failed");
    assert_eq!(failed["reason"], "BackoffLimitExceeded");
    assert_eq!(
        failed["message"],
        "Job has reached the specified backoff limit"
    );
    let pods = env.get_json(&["pods", "-l", "job-name=migrate"]).await;
    let phases: Vec<&str> = pods["items"]
        .as_array()
        .expect("pods")
        .iter()
        .filter_map(|p| p["status"]["phase"].as_str())
        .collect();
    assert_eq!(phases, ["Failed", "Failed"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cron_job_creates_a_job_on_schedule() {
    let env = Env::start(32).await;
    // Not just before a minute turns, so the wall clock alone starts no Job.
    while time::OffsetDateTime::now_utc().second() >= 55 {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    env.apply(
        "cj.yaml",
        r#"apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
  namespace: default
spec:
  schedule: "*/1 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: report
            image: busybox:1.36
"#,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let jobs = env.get_json(&["jobs"]).await;
    assert_eq!(
        jobs["items"].as_array().map(Vec::len),
        Some(0),
        "nothing before the schedule: {jobs}"
    );
    env.sim.advance_schedule_clock(Duration::from_secs(61));
    let created = eventually(Duration::from_secs(10), || async {
        env.get_json(&["jobs"]).await["items"]
            .as_array()
            .is_some_and(|j| j.len() == 1)
    })
    .await;
    assert!(created, "no Job after the schedule came round");
    let jobs = env.get_json(&["jobs"]).await;
    let job = &jobs["items"][0];
    let name = job["metadata"]["name"].as_str().expect("name");
    let minutes: i64 = name
        .strip_prefix("report-")
        .and_then(|m| m.parse().ok())
        .expect("report-<minutes>");
    assert_eq!(job["metadata"]["ownerReferences"][0]["kind"], "CronJob");
    env.kubectl(&[
        "wait",
        "--for=condition=complete",
        &format!("job/{name}"),
        "--timeout=30s",
    ])
    .await
    .ok();
    let settled = eventually(Duration::from_secs(10), || async {
        let cj = env.get_json(&["cronjob", "report"]).await;
        cj["status"]["lastSuccessfulTime"].is_string() && cj["status"].get("active").is_none()
    })
    .await;
    let cj = env.get_json(&["cronjob", "report"]).await;
    assert!(settled, "{cj}");
    let scheduled = cj["status"]["lastScheduleTime"]
        .as_str()
        .expect("lastScheduleTime");
    let at = time::OffsetDateTime::parse(scheduled, &time::format_description::well_known::Rfc3339)
        .expect("rfc3339");
    assert_eq!(at.unix_timestamp() / 60, minutes);
    assert_eq!(at.unix_timestamp() % 60, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daemon_set_runs_a_pod_per_node() {
    let env = Env::start(32).await;
    env.apply("ds.yaml", DS).await;
    env.kubectl(&["rollout", "status", "ds/agent", "--timeout=30s"])
        .await
        .ok();
    let pods = env.get_json(&["pods", "-l", "app=agent"]).await;
    let mut nodes: Vec<&str> = pods["items"]
        .as_array()
        .expect("pods")
        .iter()
        .filter_map(|p| p["spec"]["nodeName"].as_str())
        .collect();
    nodes.sort();
    // The start-up workers; the control plane is tainted NoSchedule.
    assert_eq!(nodes, ["kube-sim-worker", "kube-sim-worker2"]);
    let ds = env.get_json(&["ds", "agent"]).await;
    assert_eq!(ds["status"]["desiredNumberScheduled"], 2);
    assert_eq!(ds["status"]["numberReady"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn stored_nodes_join_the_start_up_ones() {
    let env = Env::start(32).await;
    for (name, ip, taint) in [
        ("n-a", "10.0.0.11", false),
        ("n-b", "10.0.0.12", false),
        ("cp", "10.0.0.10", true),
    ] {
        let mut node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "status": {"addresses": [{"type": "InternalIP", "address": ip}]}});
        if taint {
            node["spec"] = json!({"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]});
        }
        env.sim.seed(node).expect("node seeded");
    }
    env.apply("ds.yaml", DS).await;
    env.kubectl(&["rollout", "status", "ds/agent", "--timeout=30s"])
        .await
        .ok();
    let pods = env.get_json(&["pods", "-l", "app=agent"]).await;
    let mut placed: Vec<(String, String)> = pods["items"]
        .as_array()
        .expect("pods")
        .iter()
        .map(|p| {
            let s = |v: &Value| v.as_str().unwrap_or("").to_string();
            (s(&p["spec"]["nodeName"]), s(&p["status"]["hostIP"]))
        })
        .collect();
    placed.sort();
    assert_eq!(
        placed,
        [
            ("kube-sim-worker".to_string(), "172.18.0.3".to_string()),
            ("kube-sim-worker2".to_string(), "172.18.0.4".to_string()),
            ("n-a".to_string(), "10.0.0.11".to_string()),
            ("n-b".to_string(), "10.0.0.12".to_string())
        ],
        "one Pod per schedulable stored Node"
    );
    // A node joining gets its Pod too.
    env.sim
        .seed(
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n-c"},
            "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.13"}]}}),
        )
        .expect("node seeded");
    let joined = eventually(Duration::from_secs(10), || async {
        let pods = env.get_json(&["pods", "-l", "app=agent"]).await;
        pods["items"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["spec"]["nodeName"] == "n-c"))
    })
    .await;
    assert!(joined, "no Pod on the new node");
}

/// The names of the ready Pods selected by `selector`, not being deleted,
/// once there are `count` of them (within 20 s; fewer after that).
async fn ready_names(env: &Env, selector: &str, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let names = ready_now(env, selector).await;
        if names.len() == count || Instant::now() > deadline {
            return names;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn ready_now(env: &Env, selector: &str) -> Vec<String> {
    let pods = env.get_json(&["pods", "-l", selector]).await;
    pods["items"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter(|p| pod_ready(p) && p["metadata"].get("deletionTimestamp").is_none())
                .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A ReplicaSet's or a DaemonSet's replacement Pod never takes the name of
/// the Pod it replaces: the controllers name Pods by `generateName`, so a
/// PodDisruptionBudget's `disruptedPods` (keyed by name) does not take the
/// replacement for the evicted Pod and refuse every later eviction. (kube-sim
/// named them by a hash of the owner and a counter, reused once the old Pod
/// was gone: `kubectl drain` then timed out now and then.)
#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_pod_is_replaced_under_a_new_name() {
    let env = Env::start(32).await;
    env.apply(
        "deploy.yaml",
        &DEPLOY.replace("spec:\n  selector:", "spec:\n  replicas: 3\n  selector:"),
    )
    .await;
    env.apply("ds.yaml", DS).await;
    for (selector, count) in [("app=web", 3), ("app=agent", 2)] {
        let mut seen: Vec<String> = Vec::new();
        for round in 0..4 {
            let names = ready_names(&env, selector, count).await;
            assert_eq!(names.len(), count, "{selector}, round {round}: {names:?}");
            for name in &names {
                if !seen.contains(name) {
                    seen.push(name.clone());
                }
            }
            // Delete one and wait until it is gone, so its name is free.
            env.kubectl(&["delete", "pod", &names[0], "--wait=true"])
                .await
                .ok();
        }
        let names = ready_names(&env, selector, count).await;
        assert_eq!(names.len(), count, "{selector}: {names:?}");
        // Every Pod ever seen had its own name: 4 deleted, `count` left.
        let reused: Vec<&String> = names.iter().filter(|n| seen.contains(n)).collect();
        assert_eq!(
            seen.len() + names.len() - reused.len(),
            count + 4,
            "{selector}: a replacement took a deleted Pod's name; seen {seen:?}, now {names:?}"
        );
    }
}
