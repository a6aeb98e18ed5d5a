//! Helpers for the kube-rs integration tests.

use kube_sim::{KubeSim, Options};
use serde_json::{json, Value};
use std::future::Future;
use std::time::Duration;

/// kube-rs honours proxy variables even for loopback http.
pub fn no_proxy() {
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        std::env::remove_var(var);
    }
}

/// A fresh in-memory server and a kube-rs client for it.
pub async fn start() -> (KubeSim, kube::Client) {
    start_with(Options::default()).await
}

pub async fn start_with(opts: Options) -> (KubeSim, kube::Client) {
    no_proxy();
    let sim = KubeSim::start(opts).await.expect("kube-sim starts");
    let client = sim.client().await.expect("kube-rs client");
    (sim, client)
}

pub fn cm(name: &str, data: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": data,
    })
}

pub fn labelled_cm(name: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "data": {"k": name},
    })
}

pub fn deployment(name: &str, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": image}]}
            }
        }
    })
}

/// Poll `check` every 20 ms until it is true, or fail after `within`.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {within:?} waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The `kube::Error::Api` status of a failed call.
pub fn api_status<T: std::fmt::Debug>(r: Result<T, kube::Error>) -> kube::core::Status {
    match r {
        Err(kube::Error::Api(s)) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}
