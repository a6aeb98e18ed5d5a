//! Client-side apply followed by server-side apply, as kube-apiserver's
//! field manager answers it: the take-over of what the last-applied
//! annotation set, and where it stops.

use super::*;
use crate::schema::Schema;
use serde_json::{json, Value};

const T0: &str = "2024-01-01T00:00:00Z";
const T1: &str = "2024-01-01T00:01:00Z";
const T2: &str = "2024-01-01T00:02:00Z";
const CSA: &str = "kubectl-client-side-apply";

fn cm() -> Schema {
    Schema::builtin("", "ConfigMap")
}

fn config(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "default"}, "data": data})
}

/// What `kubectl apply -f` leaves: the object with its annotation, every
/// field recorded in an Update entry of kubectl-client-side-apply.
fn client_side_applied(data: Value) -> Value {
    let cfg = config(data);
    let mut obj = cfg.clone();
    let mut annotated = cfg.clone();
    annotated["metadata"]["annotations"] = json!({});
    obj["metadata"]["annotations"] = json!({
        LAST_APPLIED_ANNOTATION: serde_json::to_string(&annotated).expect("json")});
    track_update(None, &obj, CSA, None, &cm(), "v1", T0)
}

fn kubectl_apply(live: &Value, data: Value, manager: &str) -> Result<Value, ApplyError> {
    apply(Some(live), &config(data), manager, false, &cm(), "v1", T1)
}

fn owned(obj: &Value, manager: &str) -> Vec<String> {
    obj["metadata"]["managedFields"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["manager"] == manager))
        .map(|e| {
            FieldSet::from_fields_v1(&e["fieldsV1"])
                .expect("fieldsV1")
                .path_strings()
        })
        .unwrap_or_default()
}

fn message(r: Result<Value, ApplyError>) -> String {
    match r {
        Err(e @ ApplyError::Conflicts(_)) => e.message(),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn kubectl_takes_over_what_client_side_apply_set() {
    let live = client_side_applied(json!({"a": "1", "b": "2"}));
    let out =
        kubectl_apply(&live, json!({"a": "9", "b": "2"}), KUBECTL_MANAGER).expect("taken over");
    assert_eq!(out["data"], json!({"a": "9", "b": "2"}));
    assert_eq!(owned(&out, KUBECTL_MANAGER), vec![".data.a", ".data.b"]);
    let csa = owned(&out, CSA);
    assert!(!csa.contains(&".data.a".to_string()), "{csa:?}");
    assert!(
        csa.contains(&".data.b".to_string()),
        "shared, not taken: {csa:?}"
    );
    // The annotation is left to the updater (the HTTP layer has the body).
    assert_eq!(
        out["metadata"]["annotations"],
        live["metadata"]["annotations"]
    );
}

#[test]
fn other_managers_and_fields_outside_the_annotation_still_conflict() {
    let live = client_side_applied(json!({"a": "1"}));
    // Another writer adds a key the annotation never had.
    let mut patched = live.clone();
    patched["data"]["c"] = json!("x");
    let live = track_update(
        Some(&live),
        &patched,
        "kubectl-patch",
        None,
        &cm(),
        "v1",
        T1,
    );
    let r = kubectl_apply(&live, json!({"a": "9", "c": "y"}), KUBECTL_MANAGER);
    // Only the conflict that is not allowed is reported.
    assert_eq!(
        message(r),
        "Apply failed with 1 conflict: conflict with \"kubectl-patch\" using v1: .data.c"
    );
    // A value changed since the client-side apply is not the annotation's.
    let mut edited = live.clone();
    edited["data"]["a"] = json!("5");
    let live = track_update(Some(&live), &edited, "kubectl-edit", None, &cm(), "v1", T2);
    let r = kubectl_apply(&live, json!({"a": "9"}), KUBECTL_MANAGER);
    assert_eq!(
        message(r),
        "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1: .data.a"
    );
}

#[test]
fn without_the_annotation_or_as_another_manager_nothing_is_taken() {
    let live = client_side_applied(json!({"a": "1"}));
    let want = "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using v1: .data.a";
    assert_eq!(
        message(kubectl_apply(&live, json!({"a": "9"}), "gitops-tui")),
        want
    );
    let mut bare = live.clone();
    bare["metadata"]["annotations"] = json!({"other": "x"});
    let bare = track_update(Some(&live), &bare, CSA, None, &cm(), "v1", T1);
    assert_eq!(
        message(kubectl_apply(&bare, json!({"a": "9"}), KUBECTL_MANAGER)),
        want
    );
    // An annotation that does not type against the schema allows nothing.
    let opts = ApplyOptions {
        manager: KUBECTL_MANAGER,
        force: false,
        api_version: "v1",
        now: T1,
        subresource: None,
        scope: FieldScope::Main,
    };
    let r = apply_checked(
        Some(&live),
        &config(json!({"a": "9"})),
        &cm(),
        &opts,
        &|_| false,
    );
    assert_eq!(message(r), want);
}
