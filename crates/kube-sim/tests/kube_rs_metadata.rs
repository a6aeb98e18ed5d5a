//! Metadata-only requests, as kube-rs's `Api<PartialObjectMeta<K>>` sends
//! them (`Accept: application/json;as=PartialObjectMetadata[List];
//! g=meta.k8s.io;v=v1`): the apiserver answers with the objects' metadata
//! and nothing else, for get, list and watch, so a client that reads more
//! than metadata from such an answer fails on a cluster. kube-sim sent the
//! whole objects (whole CRDs to a CRD watch), which hid that.

mod common;

use common::kube_rs::{cm, start};
use http_body_util::BodyExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams};
use kube::core::PartialObjectMeta;
use serde_json::{json, Value};

const ONE: &str = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
const LIST: &str = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

async fn get(client: &kube::Client, uri: &str, accept: &str) -> (u16, String) {
    let req = http::Request::builder()
        .uri(uri)
        .header("accept", accept)
        .body(kube::client::Body::empty())
        .expect("request");
    let resp = client.send(req).await.expect("sent");
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn assert_partial(object: &Value, name: &str) {
    assert_eq!(object["kind"], "PartialObjectMetadata", "{object}");
    assert_eq!(object["apiVersion"], "meta.k8s.io/v1", "{object}");
    assert_eq!(object["metadata"]["name"], name, "{object}");
    assert_eq!(object["metadata"]["namespace"], "default", "{object}");
    assert!(
        object["metadata"]["resourceVersion"].is_string(),
        "{object}"
    );
    let keys: Vec<&String> = object.as_object().expect("object").keys().collect();
    assert_eq!(keys.len(), 3, "metadata only: {object}");
}

#[tokio::test(flavor = "multi_thread")]
async fn metadata_requests_are_answered_with_metadata_only() {
    let (_sim, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for name in ["flags", "limits"] {
        let mut object = cm(name, json!({"password": "hunter2"}));
        object["metadata"]["labels"] = json!({"app": "t"});
        let body: ConfigMap = serde_json::from_value(object).expect("cm");
        cms.create(&PostParams::default(), &body)
            .await
            .expect("created");
    }
    let base = "/api/v1/namespaces/default/configmaps";

    let (status, body) = get(&client, &format!("{base}/flags"), ONE).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("hunter2"), "{body}");
    assert_partial(&serde_json::from_str(&body).expect("json"), "flags");

    let (status, body) = get(&client, &format!("{base}?labelSelector=app%3Dt"), LIST).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("hunter2"), "{body}");
    let list: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(list["kind"], "PartialObjectMetadataList", "{list}");
    assert_eq!(list["apiVersion"], "meta.k8s.io/v1", "{list}");
    assert!(list["metadata"]["resourceVersion"].is_string(), "{list}");
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{list}");
    assert_partial(&items[0], "flags");
    assert_partial(&items[1], "limits");

    // A paged list keeps its continue token.
    let (_, body) = get(
        &client,
        &format!("{base}?labelSelector=app%3Dt&limit=1"),
        LIST,
    )
    .await;
    let page: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{page}");
    assert!(page["metadata"]["continue"].is_string(), "{page}");

    // A watch's events carry metadata only.
    let (status, body) = get(
        &client,
        &format!(
            "{base}?labelSelector=app%3Dt&watch=true&timeoutSeconds=1&allowWatchBookmarks=true"
        ),
        ONE,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("hunter2"), "{body}");
    let events: Vec<Value> = body
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("event"))
        .collect();
    let added: Vec<&Value> = events.iter().filter(|e| e["type"] == "ADDED").collect();
    assert_eq!(added.len(), 2, "{body}");
    assert_partial(&added[0]["object"], "flags");

    // The full object is still what a plain request gets.
    let (_, body) = get(&client, &format!("{base}/flags"), "application/json").await;
    assert!(body.contains("hunter2"), "{body}");

    // And kube-rs's typed metadata API reads these answers.
    let meta: Api<PartialObjectMeta<ConfigMap>> = Api::namespaced(client, "default");
    let listed = meta
        .list(&ListParams::default().labels("app=t"))
        .await
        .expect("list");
    let names: Vec<String> = listed
        .items
        .iter()
        .filter_map(|m| m.metadata.name.clone())
        .collect();
    assert_eq!(names, ["flags", "limits"]);
}
