//! Like a real apiserver, a list of a built-in kind carries apiVersion/kind
//! only at the top: its items have none (clients that assume otherwise break
//! on real clusters, so kube-sim must not hide it). Single gets keep them.

use kube_sim::{KubeSim, Options};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread")]
async fn list_items_of_builtin_kinds_have_no_type_meta() {
    for v in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
        std::env::remove_var(v);
    }
    let sim = KubeSim::start(Options::default()).await.expect("starts");
    sim.seed(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "default"}}))
        .expect("seeded");
    let client = sim.client().await.expect("client");
    let get = |path: &str| {
        let client = client.clone();
        let path = path.to_string();
        async move {
            let req = http::Request::get(path).body(Vec::new()).expect("request");
            let text = client.request_text(req).await.expect("response");
            serde_json::from_str::<Value>(&text).expect("json")
        }
    };
    let list = get("/api/v1/namespaces/default/configmaps").await;
    assert_eq!(list["kind"], "ConfigMapList");
    assert_eq!(list["apiVersion"], "v1");
    let item = &list["items"][0];
    assert_eq!(item["metadata"]["name"], "a");
    assert!(
        item.get("kind").is_none() && item.get("apiVersion").is_none(),
        "{item}"
    );
    let one = get("/api/v1/namespaces/default/configmaps/a").await;
    assert_eq!(
        (one["kind"].as_str(), one["apiVersion"].as_str()),
        (Some("ConfigMap"), Some("v1"))
    );
    sim.stop().await;
}
