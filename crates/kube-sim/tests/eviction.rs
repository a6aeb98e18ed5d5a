//! `pods/eviction` against a PodDisruptionBudget its controller has not
//! processed yet: 429 with `Retry-After: 10` and the budget named, as
//! kube-apiserver's eviction REST answers. Sent over a plain socket, since
//! clients retry a 429 with Retry-After by themselves.

mod common;

use common::kube_rs::{eventually, start};
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn post(url: &str, path: &str, body: &Value) -> (String, String) {
    let addr = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let body = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (head.to_string(), body.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unprocessed_budget_refuses_the_eviction() {
    let (sim, client) = start().await;
    sim.seed(
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": "guard", "namespace": "default"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "guarded"}}}}),
    )
    .expect("budget seeded");
    sim.seed(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "running", "namespace": "default", "labels": {"app": "guarded"}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}))
        .expect("pod seeded");
    let pods: Api<Pod> = Api::namespaced(client, "default");
    eventually(std::time::Duration::from_secs(10), "the pod runs", || {
        let pods = pods.clone();
        async move {
            pods.get("running")
                .await
                .ok()
                .and_then(|p| p.status?.phase)
                .as_deref()
                == Some("Running")
        }
    })
    .await;

    let eviction = json!({"apiVersion": "policy/v1", "kind": "Eviction",
        "metadata": {"name": "running", "namespace": "default"}});
    let path = "/api/v1/namespaces/default/pods/running/eviction";
    let (head, body) = post(sim.url(), path, &eviction).await;
    assert!(head.starts_with("HTTP/1.1 429"), "{head}");
    assert!(head.to_lowercase().contains("retry-after: 10"), "{head}");
    let status: Value = serde_json::from_str(body.trim()).unwrap_or_else(|e| {
        // A chunked body: take the JSON object out of it.
        let start = body.find('{').unwrap_or(0);
        let end = body.rfind('}').map_or(body.len(), |e| e + 1);
        serde_json::from_str(&body[start..end]).unwrap_or_else(|_| panic!("{e}: {body}"))
    });
    assert_eq!(status["reason"], "TooManyRequests", "{status}");
    assert_eq!(
        status["message"],
        "Cannot evict pod as it would violate the pod's disruption budget."
    );
    assert_eq!(
        status["details"]["causes"][0],
        json!({"reason": "DisruptionBudget",
            "message": "The disruption budget guard is still being processed by the server."})
    );
    assert!(pods.get("running").await.is_ok(), "the pod stays");

    let (head, _) = post(
        sim.url(),
        "/api/v1/namespaces/default/pods/nope/eviction",
        &eviction,
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    sim.stop().await;
}
