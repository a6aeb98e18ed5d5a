//! Strict decoding of bodies kubectl cannot send (duplicate keys: it reads
//! everything into a map first) and of patches under each `fieldValidation`
//! (kubectl patch sends none), over raw HTTP through kube-rs' client, with
//! kube-apiserver's status codes, messages and `Warning` headers.

mod common;

use common::kube_rs::start;
use http_body_util::BodyExt;
use serde_json::{json, Value};

const CMS: &str = "/api/v1/namespaces/default/configmaps";

async fn send(
    client: &kube::Client,
    method: &str,
    uri: &str,
    content_type: &str,
    body: &str,
) -> (u16, Vec<String>, Value) {
    let req = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .body(kube::client::Body::from(body.as_bytes().to_vec()))
        .expect("request");
    let resp = client.send(req).await.expect("sent");
    let status = resp.status().as_u16();
    let warnings = resp
        .headers()
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().expect("ascii").to_string())
        .collect();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        warnings,
        serde_json::from_slice(&bytes).expect("json body"),
    )
}

fn apply_uri(name: &str, query: &str) -> String {
    format!("{CMS}/{name}?fieldManager=tester{query}")
}

const APPLY: &str = "application/apply-patch+yaml";

/// A compact JSON apply body with `data.a` twice, on its second line.
fn dup_body(name: &str) -> String {
    format!("{{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{{\"name\":\"{name}\"}},\n\"data\":{{\"a\":\"1\",\"a\":\"2\"}}}}")
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_bodies_with_duplicate_keys_follow_the_directive() {
    let (sim, client) = start().await;
    let (status, warnings, body) = send(
        &client,
        "PATCH",
        &apply_uri("s", "&fieldValidation=Strict"),
        APPLY,
        &dup_body("s"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["reason"], "BadRequest");
    assert_eq!(
        body["message"],
        "error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  line 2: key \"a\" already set in map"
    );
    assert!(warnings.is_empty());
    assert!(
        sim.get("v1", "ConfigMap", "default", "s").is_none(),
        "nothing stored"
    );

    // No directive is Warn: applied (the last value wins) and warned.
    let (status, warnings, body) =
        send(&client, "PATCH", &apply_uri("w", ""), APPLY, &dup_body("w")).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"], json!({"a": "2"}));
    assert_eq!(
        warnings,
        vec![r#"299 - "line 2: key \"a\" already set in map""#.to_string()]
    );
    let (status, warnings, _) = send(
        &client,
        "PATCH",
        &apply_uri("i", "&fieldValidation=Ignore"),
        APPLY,
        &dup_body("i"),
    )
    .await;
    assert_eq!((status, warnings.len()), (201, 0));

    // A YAML body: go-yaml's line of the duplicate.
    let yaml =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  a: \"1\"\n  a: \"2\"\n";
    let (status, _, body) = send(
        &client,
        "PATCH",
        &apply_uri("y", "&fieldValidation=Strict"),
        APPLY,
        yaml,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.ends_with("line 7: key \"a\" already set in map")),
        "{body}"
    );

    // The check comes after the apply: a conflict is answered first.
    let other = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"w\"},\"data\":{\"a\":\"9\"}}";
    let (status, _, _) = send(
        &client,
        "PATCH",
        &format!("{CMS}/w?fieldManager=other&force=true"),
        APPLY,
        other,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, body) = send(
        &client,
        "PATCH",
        &apply_uri("w", "&fieldValidation=Strict"),
        APPLY,
        &dup_body("w"),
    )
    .await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (409, Some("Conflict")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn patches_are_decoded_strictly_under_strict() {
    let (sim, client) = start().await;
    let create =
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"1"}}"#;
    let (status, _, _) = send(&client, "POST", CMS, "application/json", create).await;
    assert_eq!(status, 201);
    let uri = format!("{CMS}/c?fieldValidation=Strict");

    let json_patch = r#"[{"op":"add","path":"/datta","value":{"b":"2"},"note":"x"}]"#;
    let (status, _, body) = send(
        &client,
        "PATCH",
        &uri,
        "application/json-patch+json",
        json_patch,
    )
    .await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (422, Some("Invalid")),
        "{body}"
    );
    let message = body["message"].as_str().unwrap_or("");
    assert!(
        message.starts_with(" \"\" is invalid: patch: Invalid value: \"{"),
        "{message}"
    );
    assert!(
        message.ends_with("\": strict decoding error: json patch unknown field \"[0].note\", unknown field \"datta\""),
        "{message}"
    );

    let merge = r#"{"zeta":1,"data":{"b":"2","b":"3"},"datta":{}}"#;
    let (status, _, body) = send(
        &client,
        "PATCH",
        &uri,
        "application/merge-patch+json",
        merge,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| m.ends_with(
            "\": strict decoding error: duplicate field \"data.b\", unknown field \"datta\", unknown field \"zeta\""
        )),
        "{body}"
    );
    let stored = sim.get("v1", "ConfigMap", "default", "c").expect("stored");
    assert_eq!(stored["data"], json!({"a": "1"}), "nothing written");

    // An op naming its path twice is applied with the last one, as
    // evanphx/json-patch reads it, and warned about under Warn.
    let twice = r#"[{"op":"add","path":"/data/x","path":"/data/y","value":"1"}]"#;
    let (status, warnings, body) = send(
        &client,
        "PATCH",
        &format!("{CMS}/c"),
        "application/json-patch+json",
        twice,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({"a": "1", "y": "1"}));
    assert_eq!(
        warnings,
        vec![r#"299 - "json patch duplicate field \"[0].path\"""#.to_string()]
    );
    // Ignore: dropped without a word.
    let (status, warnings, body) = send(
        &client,
        "PATCH",
        &format!("{CMS}/c?fieldValidation=Ignore"),
        "application/merge-patch+json",
        merge,
    )
    .await;
    assert_eq!((status, warnings.len()), (200, 0), "{body}");
    assert_eq!(body["data"], json!({"a": "1", "b": "3", "y": "1"}));
    assert!(body.get("zeta").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn yaml_objects_name_go_yamls_lines() {
    let (_sim, client) = start().await;
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  a: \"1\"\n  a: \"2\"\ndatta: {}\n";
    let (status, _, body) = send(
        &client,
        "POST",
        &format!("{CMS}?fieldValidation=Strict"),
        "application/yaml",
        yaml,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: yaml: unmarshal errors:\n  line 7: key \"a\" already set in map, unknown field \"datta\""
    );
    let (status, warnings, _) = send(&client, "POST", CMS, "application/yaml", yaml).await;
    assert_eq!(status, 201);
    assert_eq!(
        warnings,
        vec![
            r#"299 - "line 7: key \"a\" already set in map""#.to_string(),
            r#"299 - "unknown field \"datta\"""#.to_string(),
        ]
    );
}
