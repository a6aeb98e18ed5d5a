//! `pods/eviction` against a PodDisruptionBudget the disruption controller
//! keeps: 429 with the budget named while it allows no disruption, as
//! kube-apiserver's eviction REST answers, and the eviction going through
//! (and being recorded in the budget) once another Pod is ready. Sent over
//! a plain socket, since clients retry a 429 by themselves. (A budget not
//! processed yet, answered with `Retry-After: 10`, is a unit test of
//! `eviction.rs`: the controller leaves no window to hit it from outside.)

mod common;

use common::kube_rs::{eventually, start};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
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

fn status_of(body: &str) -> Value {
    serde_json::from_str(body.trim()).unwrap_or_else(|e| {
        // A chunked body: take the JSON object out of it.
        let start = body.find('{').unwrap_or(0);
        let end = body.rfind('}').map_or(body.len(), |e| e + 1);
        serde_json::from_str(&body[start..end]).unwrap_or_else(|_| panic!("{e}: {body}"))
    })
}

fn guarded_pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "guarded"}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}})
}

async fn budget_allows(pdbs: &Api<PodDisruptionBudget>, healthy: i32, allowed: i32) {
    let pdbs = pdbs.clone();
    eventually(
        std::time::Duration::from_secs(10),
        "the budget is recomputed",
        || {
            let pdbs = pdbs.clone();
            async move {
                pdbs.get("guard")
                    .await
                    .ok()
                    .and_then(|b| b.status)
                    .is_some_and(|s| {
                        s.current_healthy == healthy
                            && s.disruptions_allowed == allowed
                            && s.disrupted_pods.is_none_or(|d| d.is_empty())
                    })
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_budget_without_room_refuses_the_eviction_until_a_pod_is_spare() {
    let (sim, client) = start().await;
    sim.seed(
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": "guard", "namespace": "default"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "guarded"}}}}),
    )
    .expect("budget seeded");
    sim.seed(guarded_pod("running")).expect("pod seeded");
    let pdbs: Api<PodDisruptionBudget> = Api::namespaced(client.clone(), "default");
    budget_allows(&pdbs, 1, 0).await;

    let eviction = json!({"apiVersion": "policy/v1", "kind": "Eviction",
        "metadata": {"name": "running", "namespace": "default"}});
    let path = "/api/v1/namespaces/default/pods/running/eviction";
    let (head, body) = post(sim.url(), path, &eviction).await;
    assert!(head.starts_with("HTTP/1.1 429"), "{head}");
    assert!(!head.to_lowercase().contains("retry-after"), "{head}");
    let status = status_of(&body);
    assert_eq!(status["reason"], "TooManyRequests", "{status}");
    assert_eq!(
        status["message"],
        "Cannot evict pod as it would violate the pod's disruption budget."
    );
    assert_eq!(
        status["details"]["causes"][0],
        json!({"reason": "DisruptionBudget",
            "message": "The disruption budget guard needs 1 healthy pods and has 1 currently"})
    );
    let pods: Api<Pod> = Api::namespaced(client, "default");
    assert!(pods.get("running").await.is_ok(), "the pod stays");

    // A second ready Pod makes room for one disruption.
    sim.seed(guarded_pod("spare")).expect("pod seeded");
    budget_allows(&pdbs, 2, 1).await;
    let (head, body) = post(sim.url(), path, &eviction).await;
    assert!(head.starts_with("HTTP/1.1 201"), "{head}\n{body}");
    assert_eq!(status_of(&body)["status"], "Success");
    assert!(pods.get("running").await.is_err(), "the pod is gone");
    // The evicted Pod left the budget's books as it went.
    budget_allows(&pdbs, 1, 0).await;

    let (head, _) = post(
        sim.url(),
        "/api/v1/namespaces/default/pods/nope/eviction",
        &eviction,
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    sim.stop().await;
}
