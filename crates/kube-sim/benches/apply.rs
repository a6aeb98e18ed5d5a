//! kube-sim's server-side apply: what one apply PATCH costs the server.
//!
//! `cargo bench -p kube-sim --bench apply` (release build). gitops-tui's drift
//! check dry-runs an apply of every object of an app; there kube-sim's apply
//! path is most of the server's work. This bench creates Deployments,
//! Services and ConfigMaps by server-side apply (as gitops-tui's first sync
//! does: kube-rs `Patch::Apply`, a JSON body, fieldManager `gitops-tui`,
//! `force=true`), lets the controllers roll the Deployments out, then sends
//! the same applies again, one at a time, over HTTP:
//! - dry-run (`dryRun=All`) of the unchanged objects (a drift check),
//! - dry-run with one field changed in each object,
//! - real applies of the unchanged objects (no-ops),
//! - real applies that change one field (alternating between two values).
//!
//! For each it reports the median latency of one apply and the server CPU per
//! apply: kube-sim runs on its own runtime, whose threads' CPU time is read
//! from `/proc/self/task/*/schedstat` (nanoseconds) around each pass. Each
//! figure is the median over passes. `KUBE_SIM_BENCH_OBJECTS` (per kind,
//! default 200) and `KUBE_SIM_BENCH_RUNS` (passes, default 5) override sizes;
//! `KUBE_SIM_BENCH_ONLY` picks cases by a part of their label.

mod common;

use common::{env_or, median};
use http_body_util::BodyExt;
use kube_sim::{KubeSim, Options};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Thread name of kube-sim's runtime (at most 15 bytes: `comm` is cut there).
const SIM_THREAD: &str = "kube-sim-server";
const NAMESPACE: &str = "default";

/// CPU seconds used so far by kube-sim's runtime threads.
fn sim_cpu() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return f64::NAN;
    };
    let mut ns = 0u64;
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() != SIM_THREAD {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        ns += stat
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    ns as f64 / 1e9
}

fn runtime(name: &str, threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The objects of one component, as gitops-tui applies them; `v` is the
/// value of the one field a "changed" apply alters. The Deployment's change
/// is an annotation outside its pod template: a template change would roll
/// it out, and that is the controllers' cost, not the apply's.
fn component(n: usize, v: &str) -> [(String, Value); 3] {
    let name = format!("svc-{n:04}");
    let labels = json!({"app": name, "app.kubernetes.io/instance": "big"});
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": format!("cfg-{n:04}"), "namespace": NAMESPACE, "labels": labels},
        "data": {"color": v, "size": n.to_string(), "feature.flags": "alpha=true\nbeta=false\n"},
    });
    let svc = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels,
                     "annotations": {"bench/revision": v}},
        "spec": {"selector": {"app": name},
                 "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
    });
    let deploy = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels,
                     "annotations": {"bench/revision": v}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{
                    "name": "web", "image": "nginx:1.27",
                    "ports": [{"containerPort": 8080}],
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                                  "limits": {"memory": "128Mi"}},
                    "envFrom": [{"configMapRef": {"name": format!("cfg-{n:04}")}}],
                }]},
            },
        },
    });
    [
        (
            format!("/api/v1/namespaces/{NAMESPACE}/configmaps/cfg-{n:04}"),
            cm,
        ),
        (
            format!("/api/v1/namespaces/{NAMESPACE}/services/{name}"),
            svc,
        ),
        (
            format!("/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{name}"),
            deploy,
        ),
    ]
}

/// One prepared apply: URL and JSON body, as kube-rs sends `Patch::Apply`.
struct Apply {
    uri: String,
    body: Vec<u8>,
}

fn applies(objects: usize, v: &str, dry_run: bool) -> Vec<Apply> {
    let query = if dry_run {
        "?fieldManager=gitops-tui&force=true&dryRun=All"
    } else {
        "?fieldManager=gitops-tui&force=true"
    };
    (0..objects)
        .flat_map(|n| component(n, v))
        .map(|(path, obj)| Apply {
            uri: format!("{path}{query}"),
            body: serde_json::to_vec(&obj).expect("json"),
        })
        .collect()
}

async fn send(client: &kube::Client, a: &Apply) {
    let req = axum::http::Request::builder()
        .method("PATCH")
        .uri(&a.uri)
        .header("content-type", "application/apply-patch+yaml")
        .header("accept", "application/json")
        .body(kube::client::Body::from(a.body.clone()))
        .expect("request");
    let resp = client.send(req).await.expect("response");
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert!(
        status.is_success(),
        "{}: {status} {}",
        a.uri,
        String::from_utf8_lossy(&body)
    );
}

/// One pass over `batch`: (per-apply latencies in ms, server CPU per apply in ms).
async fn pass(client: &kube::Client, batch: &[Apply]) -> (Vec<f64>, f64) {
    let cpu = sim_cpu();
    let mut latencies = Vec::with_capacity(batch.len());
    for a in batch {
        let t = Instant::now();
        send(client, a).await;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let per_apply = (sim_cpu() - cpu) * 1000.0 / batch.len() as f64;
    (latencies, per_apply)
}

/// Waits (at most two minutes) until kube-sim uses under 2% of a core.
fn settle() -> bool {
    for _ in 0..120 {
        let before = sim_cpu();
        std::thread::sleep(Duration::from_secs(1));
        if sim_cpu() - before < 0.02 {
            return true;
        }
    }
    false
}

fn main() {
    // `cargo bench` passes --bench; nothing else is understood.
    for var in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
        std::env::remove_var(var);
    }
    let objects = env_or("KUBE_SIM_BENCH_OBJECTS", 200);
    let runs = env_or("KUBE_SIM_BENCH_RUNS", 5);

    // The server on its own threads, so its CPU can be told from the client's.
    let sim_rt = runtime(SIM_THREAD, 2);
    let rt = runtime("bench-client", 1);
    let sim = sim_rt
        .block_on(KubeSim::start(Options {
            ready_after: Duration::from_millis(50),
            ..Options::default()
        }))
        .expect("start");
    let client = rt.block_on(sim.client()).expect("client");

    let t = Instant::now();
    rt.block_on(async {
        for a in &applies(objects, "blue", false) {
            send(&client, a).await;
        }
    });
    println!(
        "created {} objects by server-side apply in {:.0} ms",
        objects * 3,
        t.elapsed().as_secs_f64() * 1000.0
    );
    if !settle() {
        println!("warning: kube-sim never went quiet; figures include its controllers");
    }

    let cases: [(&str, Vec<Vec<Apply>>); 4] = [
        ("dry-run, unchanged", vec![applies(objects, "blue", true)]),
        (
            "dry-run, one field changed",
            vec![applies(objects, "green", true)],
        ),
        (
            "apply, unchanged (no-op)",
            vec![applies(objects, "blue", false)],
        ),
        (
            "apply, one field changed",
            vec![
                applies(objects, "green", false),
                applies(objects, "blue", false),
            ],
        ),
    ];
    println!(
        "server-side apply of {} objects ({objects} each of Deployment, Service, ConfigMap), one in flight:",
        objects * 3
    );
    // `KUBE_SIM_BENCH_ONLY=dry-run` (a part of a label) runs only those cases,
    // for profiling one of them.
    let only = std::env::var("KUBE_SIM_BENCH_ONLY").unwrap_or_default();
    for (label, batches) in cases.iter().filter(|(l, _)| l.contains(only.as_str())) {
        // Warm up.
        rt.block_on(pass(&client, &batches[0]));
        let mut latency = Vec::new();
        let mut cpu = Vec::new();
        for run in 0..runs {
            // Changing applies alternate so that every pass changes each object.
            let batch = &batches[(run + 1) % batches.len()];
            let (l, c) = rt.block_on(pass(&client, batch));
            latency.push(median(l));
            cpu.push(c);
        }
        println!(
            "  {label:<28} median latency {:.3} ms, server CPU {:.3} ms per apply (passes: {:?})",
            median(latency),
            median(cpu.clone()),
            cpu.iter()
                .map(|c| (c * 1000.0).round() / 1000.0)
                .collect::<Vec<_>>()
        );
    }
    sim_rt.block_on(sim.stop());
}
