//! `kubectl logs` (1.27, 1.32, 1.33) against the simulated kubelet:
//! `-f` streams new lines as they are printed, `--previous` shows a crashed
//! container's panic, `--tail`/`--timestamps`/`--limit-bytes` shape the
//! output, the errors are kube-apiserver's and the kubelet's words, and
//! `exec` fails at once as a server that cannot reach its kubelet does.

mod common;

use common::kubectl::{deploy_with_image, eventually, Env, Lines};
use kube_sim::Options;
use serde_json::Value;
use std::time::{Duration, Instant};

each_version!(
    follow_streams_new_lines,
    previous_shows_the_crashed_container,
    exec_fails_at_once_without_a_kubelet,
);

async fn running_pod(env: &Env, image: &str) -> String {
    let f = env.file("d.yaml", &deploy_with_image(image));
    env.kubectl(&["apply", "--server-side", "-f", &f])
        .await
        .ok();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let pods = env.get_json(&["pods", "-l", "app=web"]).await;
        if let Some(p) = pods["items"].as_array().and_then(|p| p.first()) {
            if p["status"]["phase"] == "Running" {
                return p["metadata"]["name"].as_str().unwrap_or("").to_string();
            }
        }
        assert!(Instant::now() < deadline, "no running pod: {pods}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn follow_streams_new_lines(minor: u32) {
    let env = Env::start(minor).await;
    let pod = running_pod(&env, "nginx:1.25").await;
    let mut child = env
        .command(&["logs", "-f", "--timestamps", &pod])
        .spawn()
        .expect("kubectl logs -f runs");
    let mut lines = Lines::of(child.stdout.take().expect("stdout"));
    let first = lines
        .expect("the start-up line", |l| l.contains("starting nginx:1.25"))
        .await;
    assert!(
        first
            .split_whitespace()
            .next()
            .is_some_and(|t| t.ends_with('Z') && t.contains('T')),
        "{first}"
    );
    // Request lines arrive while kubectl keeps following.
    let started = Instant::now();
    let a = lines
        .expect("a request line", |l| l.contains("\"GET "))
        .await;
    let b = lines
        .expect("another request line", |l| l.contains("\"GET "))
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    let stamp = |l: &str| l.split_whitespace().next().unwrap_or("").to_string();
    assert!(stamp(&a) < stamp(&b), "{a}\n{b}");
    assert!(
        child.try_wait().expect("status").is_none(),
        "kubectl logs -f ended"
    );
    let _ = child.kill().await;
    // Reading again gives the same lines (deterministic), plus newer ones.
    let again = env.kubectl(&["logs", "--timestamps", &pod]).await;
    again.ok();
    assert!(
        again.stdout.contains(&a) && again.stdout.contains(&b),
        "{again}"
    );
    let tail = env.kubectl(&["logs", "--tail=2", &pod]).await;
    assert_eq!(tail.ok().stdout.lines().count(), 2, "{tail}");
    let limited = env.kubectl(&["logs", "--limit-bytes=10", &pod]).await;
    assert_eq!(limited.ok().stdout.len(), 10, "{limited}");
}

async fn previous_shows_the_crashed_container(minor: u32) {
    let env = Env::start(minor).await;
    let pod = running_pod(&env, "nginx:broken").await;
    let crashed = eventually(Duration::from_secs(10), || async {
        let p = env.get_json(&["pod", &pod]).await;
        p["status"]["containerStatuses"][0]["restartCount"]
            .as_i64()
            .unwrap_or(0)
            >= 1
    })
    .await;
    let p = env.get_json(&["pod", &pod]).await;
    assert!(crashed, "{p}");
    let c = &p["status"]["containerStatuses"][0];
    assert_eq!(c["state"]["waiting"]["reason"], "CrashLoopBackOff");
    assert_eq!(c["lastState"]["terminated"]["exitCode"], 1);
    assert_eq!(c["ready"], false);
    let previous = env.kubectl(&["logs", "--previous", &pod]).await;
    previous
        .ok()
        .stdout_has("starting nginx:broken")
        .stdout_has("panic: runtime error: invalid memory address or nil pointer dereference")
        .stdout_has("goroutine 1 [running]:");
    // While it waits to restart, the current log is the crashed run's.
    let current = env.kubectl(&["logs", &pod]).await;
    current.ok().stdout_has("panic: runtime error");
    // A healthy container has no previous one.
    let healthy = Env::start(minor).await;
    let good = running_pod(&healthy, "nginx:1.25").await;
    healthy
        .kubectl(&["logs", "--previous", &good])
        .await
        .failed_with(1)
        .stderr_has(&format!(
            "Error from server (BadRequest): previous terminated container \"web\" in pod \"{good}\" not found"
        ));
}

async fn exec_fails_at_once_without_a_kubelet(minor: u32) {
    let env = Env::start(minor).await;
    let pod = running_pod(&env, "nginx:1.25").await;
    let started = Instant::now();
    let out = env.kubectl(&["exec", &pod, "--", "ls"]).await;
    out.failed_with(1)
        .stderr_has("error dialing backend: dial tcp 172.18.0.");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_worded_as_on_a_cluster() {
    let env = Env::with(Options {
        ready_after: Duration::from_secs(30),
        ..Options::default()
    })
    .await;
    env.sim
        .seed(serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "two", "namespace": "default"},
            "spec": {"containers": [{"name": "a", "image": "nginx:1.25"}, {"name": "b", "image": "nginx:1.25"}]}}))
        .expect("seeded");
    let out = env.kubectl(&["logs", "two", "-c", "a"]).await;
    out.failed_with(1).stderr_has(
        "Error from server (BadRequest): container \"a\" in pod \"two\" is waiting to start: ContainerCreating",
    );
    let raw = env
        .kubectl(&["get", "--raw", "/api/v1/namespaces/default/pods/two/log"])
        .await;
    raw.failed_with(1)
        .stderr_has("a container name must be specified for pod two, choose one of: [a b]");
    let raw = env
        .kubectl(&[
            "get",
            "--raw",
            "/api/v1/namespaces/default/pods/two/log?container=c",
        ])
        .await;
    raw.failed_with(1)
        .stderr_has("container c is not valid for pod two");
    let raw = env
        .kubectl(&[
            "get",
            "--raw",
            "/api/v1/namespaces/default/pods/two/log?container=a&tailLines=-1",
        ])
        .await;
    raw.failed_with(1)
        .stderr_has("PodLogOptions \"two\" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0");
    env.kubectl(&["logs", "nope"])
        .await
        .failed_with(1)
        .stderr_has("pods \"nope\" not found");
    // The Pod's status names its node and addresses.
    let pod: Value = env.get_json(&["pod", "two"]).await;
    let node = pod["spec"]["nodeName"].as_str().unwrap_or("");
    assert!(node.starts_with("kube-sim-worker"), "{pod}");
    assert!(
        pod["status"]["hostIP"]
            .as_str()
            .is_some_and(|ip| ip.starts_with("172.18.0.")),
        "{pod}"
    );
}
