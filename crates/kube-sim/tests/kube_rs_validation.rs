//! Field validation as kube-rs meets it: the typed API's errors under
//! `fieldValidation=Strict` for each patch type, and the `Warning` header
//! (which kube-rs' typed API does not surface) read through `Client::send`.

mod common;

use common::kube_rs::{api_status, cm, start};
use http_body_util::BodyExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

fn api_error(e: kube::Error) -> kube::core::Status {
    api_status::<()>(Err(e))
}

#[tokio::test(flavor = "multi_thread")]
async fn strict_patches_fail_as_on_a_cluster() {
    let (sim, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let typo = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "flags", "namespace": "default"}, "datta": {"a": "1"}});
    // Server-side apply: refused whatever the directive, as a 500 without a reason.
    for params in [
        PatchParams::apply("gitops-tui").validation_strict(),
        PatchParams::apply("gitops-tui").validation_ignore(),
        PatchParams::apply("gitops-tui")
            .validation_strict()
            .dry_run(),
    ] {
        let e = api_error(
            cms.patch("flags", &params, &Patch::Apply(&typo))
                .await
                .expect_err("refused"),
        );
        assert_eq!(e.code, 500);
        assert_eq!(e.reason, "");
        assert_eq!(e.message, "failed to create typed patch object (default/flags; /v1, Kind=ConfigMap): .datta: field not declared in schema");
    }
    assert!(sim.get("v1", "ConfigMap", "default", "flags").is_none());
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(cm("flags", json!({"a": "1"}))).expect("cm"),
    )
    .await
    .expect("created");
    let e = api_error(
        cms.patch(
            "flags",
            &PatchParams::default().validation_strict(),
            &Patch::Merge(json!({"datta": {"b": "2"}})),
        )
        .await
        .expect_err("refused"),
    );
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    assert!(
        e.message
            .ends_with("\": strict decoding error: unknown field \"datta\""),
        "{}",
        e.message
    );
    let e = api_error(
        cms.patch(
            "flags",
            &PatchParams::default().validation_strict(),
            &Patch::Strategic(json!({"datta": {"b": "2"}})),
        )
        .await
        .expect_err("refused"),
    );
    assert_eq!(
        e.message,
        " \"\" is invalid: patch: Invalid value: \"map[datta:map[b:2]]\": strict decoding error: unknown field \"datta\""
    );
    // Warn (the default) lets the patch through, without the field.
    let patched = cms
        .patch(
            "flags",
            &PatchParams::default(),
            &Patch::Merge(json!({"datta": {"b": "2"}, "data": {"b": "2"}})),
        )
        .await
        .expect("warned only");
    assert_eq!(
        patched.data.expect("data").get("b").map(String::as_str),
        Some("2")
    );
    let stored = sim
        .get("v1", "ConfigMap", "default", "flags")
        .expect("stored");
    assert!(stored.get("datta").is_none());
}

async fn post(
    client: &kube::Client,
    query: &str,
    body: &serde_json::Value,
) -> (u16, Vec<String>, serde_json::Value) {
    let uri = format!("/api/v1/namespaces/default/configmaps{query}");
    send(client, "POST", &uri, "application/json", body).await
}

#[tokio::test(flavor = "multi_thread")]
async fn warnings_reach_the_client_as_headers() {
    let (_sim, client) = start().await;
    let typo = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "a", "namespace": "default"}, "datta": {"x": "1"}, "dataa": {}});
    let (status, warnings, body) = post(&client, "", &typo).await;
    assert_eq!(status, 201);
    assert_eq!(
        warnings,
        vec![
            r#"299 - "unknown field \"datta\"""#.to_string(),
            r#"299 - "unknown field \"dataa\"""#.to_string(),
        ]
    );
    assert!(body.get("datta").is_none());
    let mut again = typo.clone();
    again["metadata"]["name"] = json!("b");
    let (status, warnings, body) = post(&client, "?fieldValidation=Strict", &again).await;
    assert_eq!(status, 400);
    assert!(warnings.is_empty());
    assert_eq!(body["reason"], "BadRequest");
    assert_eq!(
        body["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"datta\", unknown field \"dataa\""
    );
    let (status, warnings, _) = post(&client, "?fieldValidation=Ignore&dryRun=All", &again).await;
    assert_eq!((status, warnings.len()), (201, 0));
    let (status, _, body) = post(&client, "?fieldValidation=Loose", &again).await;
    assert_eq!((status, body["reason"].as_str()), (422, Some("Invalid")));
}

async fn send(
    client: &kube::Client,
    method: &str,
    uri: &str,
    content_type: &str,
    body: &serde_json::Value,
) -> (u16, Vec<String>, serde_json::Value) {
    let req = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .body(kube::client::Body::from(
            serde_json::to_vec(body).expect("json"),
        ))
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

#[tokio::test(flavor = "multi_thread")]
async fn custom_resources_follow_their_schema() {
    let (sim, client) = start().await;
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "type": "object", "properties": {"spec": {"type": "object", "properties": {
                    "size": {"type": "integer"},
                    "parts": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}}}},
                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}}}]}});
    let (status, _, body) = send(
        &client,
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        "application/json",
        &crd,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let url = "/apis/example.com/v1/namespaces/default/widgets";
    let widget = |name: &str, spec: serde_json::Value| json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name, "namespace": "default"}, "spec": spec});
    let typo = widget(
        "a",
        json!({"size": 1, "sise": 2, "parts": [{"id": "x", "idd": "y"}], "free": {"any": {"thing": 1}}}),
    );
    let (status, _, body) = send(
        &client,
        "POST",
        &format!("{url}?fieldValidation=Strict"),
        "application/json",
        &typo,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["message"], "Widget in version \"v1\" cannot be handled as a Widget: strict decoding error: unknown field \"spec.sise\", unknown field \"spec.parts[0].idd\"");
    let (status, warnings, body) = send(&client, "POST", url, "application/json", &typo).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        warnings,
        vec![
            r#"299 - "unknown field \"spec.sise\"""#,
            r#"299 - "unknown field \"spec.parts[0].idd\"""#
        ]
    );
    let stored = sim
        .get("example.com/v1", "Widget", "default", "a")
        .expect("stored");
    assert_eq!(
        stored["spec"],
        json!({"size": 1, "parts": [{"id": "x"}], "free": {"any": {"thing": 1}}}),
        "pruned, the preserved kept"
    );
    let (status, _, body) = send(
        &client,
        "POST",
        url,
        "application/json",
        &widget("b", json!({"size": "two"})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["message"], "Widget.example.com \"b\" is invalid: spec.size: Invalid value: \"string\": spec.size in body must be of type integer: \"string\"");
    assert_eq!(
        body["details"]["causes"][0]["reason"],
        "FieldValueTypeInvalid"
    );
    let (status, _, body) = send(
        &client,
        "PATCH",
        &format!("{url}/c?fieldManager=t"),
        "application/apply-patch+yaml",
        &widget("c", json!({"sise": 1})),
    )
    .await;
    assert_eq!(status, 500);
    assert_eq!(body["message"], "failed to create typed patch object (default/c; example.com/v1, Kind=Widget): .spec.sise: field not declared in schema");
}
