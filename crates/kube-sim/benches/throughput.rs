//! kube-sim throughput: is kube-sim ever what limits a client benchmark?
//!
//! `cargo bench -p kube-sim --bench throughput` (release build). With 50,000
//! ConfigMaps loaded it measures, over HTTP:
//! - a full list (raw bytes, and typed through kube-rs `Api::list`),
//! - a paged list with `limit=500`, following `continue` as kube-rs does,
//! - watch fan-out: 20 concurrent watchers while writers PATCH as fast as
//!   they can; the rate of events received across all watchers (the target
//!   is 20,000 events/s in total).
//!
//! Each figure is the median of several runs. `KUBE_SIM_BENCH_OBJECTS`,
//! `KUBE_SIM_BENCH_RUNS` and `KUBE_SIM_BENCH_WATCH_SECS` override the sizes.

mod common;

use bytes::Bytes;
use common::{env_or, median};
use futures::StreamExt;
use http_body_util::BodyExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube_sim::{KubeSim, Options};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WATCHERS: usize = 20;
const WRITERS: usize = 4;

fn watcher_count() -> usize {
    env_or("KUBE_SIM_BENCH_WATCHERS", WATCHERS)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn get_bytes(client: &kube::Client, uri: &str) -> Bytes {
    let req = axum::http::Request::builder()
        .uri(uri)
        .header("accept", "application/json")
        .body(kube::client::Body::from(Vec::new()))
        .expect("request");
    let resp = client.send(req).await.expect("response");
    assert!(resp.status().is_success(), "{uri}: {}", resp.status());
    resp.into_body().collect().await.expect("body").to_bytes()
}

#[derive(serde::Deserialize)]
struct Page {
    metadata: PageMeta,
    items: Vec<serde::de::IgnoredAny>,
}

#[derive(serde::Deserialize)]
struct PageMeta {
    #[serde(rename = "continue", default)]
    continue_: Option<String>,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // `cargo bench` passes --bench; nothing else is understood.
    for var in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
        std::env::remove_var(var);
    }
    let objects = env_or("KUBE_SIM_BENCH_OBJECTS", 50_000);
    let runs = env_or("KUBE_SIM_BENCH_RUNS", 7);
    let watch_secs = env_or("KUBE_SIM_BENCH_WATCH_SECS", 3) as u64;

    let sim = KubeSim::start(Options {
        ready_after: Duration::from_secs(3600),
        ..Options::default()
    })
    .await
    .expect("start");
    let client = sim.client().await.expect("client");

    let started = Instant::now();
    for i in 0..objects {
        sim.seed(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("cm-{i:05}"), "namespace": "default",
                         "labels": {"app": "bench", "shard": (i % 10).to_string()}},
            "data": {"key": "value", "index": i.to_string()},
        }))
        .expect("seed");
    }
    let seed_time = started.elapsed();
    println!(
        "seeded {objects} ConfigMaps in {:.0} ms ({:.0} objects/s)",
        ms(seed_time),
        objects as f64 / seed_time.as_secs_f64()
    );

    if std::env::var("KUBE_SIM_BENCH_ONLY").as_deref() != Ok("watch") {
        lists(&client, objects, runs).await;
    }
    if std::env::var("KUBE_SIM_BENCH_ONLY").as_deref() == Ok("list") {
        sim.stop().await;
        return;
    }

    let mut rates = Vec::new();
    let mut write_rates = Vec::new();
    for run in 0..3 {
        let (events, writes) = watch_fan_out(&sim, &client, objects, watch_secs, run).await;
        rates.push(events);
        write_rates.push(writes);
    }
    println!(
        "watch fan-out, {} watchers, {WRITERS} HTTP writers: median {:.0} events/s delivered in total ({:.0} writes/s); runs {:?}",
        watcher_count(),
        median(rates.clone()),
        median(write_rates),
        rates.iter().map(|r| r.round()).collect::<Vec<_>>()
    );
    // For bench/run: one JSON line in its format (its units are times, so
    // the rate is given as the time per 1,000 events delivered).
    if std::env::var_os("BENCH_JSON").is_some() {
        let rate = median(rates);
        println!(
            "{{\"bench\":\"kube_sim_watch\",\"unit\":\"ms\",\"ours\":{:.3},\"peer\":null,\"peer_value\":null,\"ratio\":null,\"note\":\"per 1,000 events delivered ({rate:.0} events/s), {} watchers, {WRITERS} writers, {objects} objects\"}}",
            1e6 / rate.max(1.0),
            watcher_count()
        );
    }
    sim.stop().await;
}

async fn lists(client: &kube::Client, seeded: usize, runs: usize) {
    let list_uri = "/api/v1/namespaces/default/configmaps";
    // The seeded ConfigMaps and the namespace's own kube-root-ca.crt.
    let objects = seeded + 1;
    // Warm up.
    let body = get_bytes(client, list_uri).await;
    println!("full list body: {:.1} MB", body.len() as f64 / 1e6);

    let mut raw = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let body = get_bytes(client, list_uri).await;
        raw.push(ms(t.elapsed()));
        assert!(body.len() > objects * 100);
    }
    println!(
        "full list, raw HTTP ({objects} objects): median {:.0} ms",
        median(raw)
    );

    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let mut typed = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let list = api.list(&ListParams::default()).await.expect("list");
        typed.push(ms(t.elapsed()));
        assert_eq!(list.items.len(), objects);
    }
    println!(
        "full list, kube-rs Api::list typed (server + client decoding): median {:.0} ms",
        median(typed)
    );

    let mut paged = Vec::new();
    let mut page_count = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let mut token: Option<String> = None;
        let mut seen = 0;
        page_count = 0;
        loop {
            let uri = match &token {
                Some(c) => format!("{list_uri}?limit=500&continue={c}"),
                None => format!("{list_uri}?limit=500"),
            };
            let page: Page = serde_json::from_slice(&get_bytes(client, &uri).await).expect("page");
            seen += page.items.len();
            page_count += 1;
            token = page.metadata.continue_.filter(|c| !c.is_empty());
            if token.is_none() {
                break;
            }
        }
        paged.push(ms(t.elapsed()));
        assert_eq!(seen, objects);
    }
    println!(
        "paged list, limit=500 ({page_count} pages, raw HTTP): median {:.0} ms",
        median(paged)
    );

    let mut typed_paged = Vec::new();
    for _ in 0..runs.min(3) {
        let t = Instant::now();
        let mut lp = ListParams::default().limit(500);
        let mut seen = 0;
        loop {
            let page = api.list(&lp).await.expect("page");
            seen += page.items.len();
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(c) => lp = lp.continue_token(&c),
                None => break,
            }
        }
        typed_paged.push(ms(t.elapsed()));
        assert_eq!(seen, objects);
    }
    println!(
        "paged list, limit=500, kube-rs typed: median {:.0} ms",
        median(typed_paged)
    );
}

/// Writers PATCH as fast as they can for `secs`; returns (events delivered
/// per second across all watchers, writes per second).
async fn watch_fan_out(
    sim: &KubeSim,
    client: &kube::Client,
    objects: usize,
    secs: u64,
    run: usize,
) -> (f64, f64) {
    let rv = sim.resource_version();
    let delivered = Arc::new(AtomicU64::new(0));
    let mut watchers = Vec::new();
    for _ in 0..watcher_count() {
        let client = client.clone();
        let delivered = delivered.clone();
        let uri = format!(
            "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds={}",
            secs + 30
        );
        watchers.push(tokio::spawn(async move {
            let req = axum::http::Request::builder()
                .uri(uri)
                .body(kube::client::Body::from(Vec::new()))
                .expect("request");
            let resp = client.send(req).await.expect("watch");
            let mut body = resp.into_body().into_data_stream();
            while let Some(chunk) = body.next().await {
                let Ok(chunk) = chunk else { break };
                // One pass: count lines, and fail on an ERROR event (a
                // watcher that fell behind gets 410).
                let error = |at: &[u8]| at.starts_with(b"{\"type\":\"ERROR\"");
                assert!(!error(&chunk), "watcher got an ERROR event (fell behind)");
                let mut lines = 0;
                for (i, b) in chunk.iter().enumerate() {
                    if *b == b'\n' {
                        lines += 1;
                        assert!(
                            !error(&chunk[i + 1..]),
                            "watcher got an ERROR event (fell behind)"
                        );
                    }
                }
                delivered.fetch_add(lines, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
        let stop = stop.clone();
        let writes = writes.clone();
        writers.push(tokio::spawn(async move {
            let mut i = w;
            while !stop.load(Ordering::Relaxed) {
                let name = format!("cm-{:05}", (i * 7919) % objects);
                api.patch(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"data": {"v": format!("{run}-{i}")}})),
                )
                .await
                .expect("patch");
                writes.fetch_add(1, Ordering::Relaxed);
                i += WRITERS;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.expect("writer");
    }
    let total_writes = writes.load(Ordering::Relaxed);
    let expected = total_writes * watcher_count() as u64;
    let deadline = Instant::now() + Duration::from_secs(10);
    while delivered.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let got = delivered.load(Ordering::Relaxed);
    assert_eq!(got, expected, "every watcher got every event");
    sim.drop_watches();
    for w in watchers {
        let _ = w.await;
    }
    (got as f64 / elapsed, total_writes as f64 / elapsed)
}
