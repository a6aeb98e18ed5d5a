//! Scenario tests of server-side apply, each mirroring what a real
//! kube-apiserver does for the same sequence of kubectl / kube-rs requests.

use super::*;
use crate::schema::Schema;
use serde_json::{json, Value};

const T0: &str = "2024-01-01T00:00:00Z";
const T1: &str = "2024-01-01T00:01:00Z";
const T2: &str = "2024-01-01T00:02:00Z";

fn cm() -> Schema {
    Schema::builtin("", "ConfigMap")
}

fn deploy() -> Schema {
    Schema::builtin("apps", "Deployment")
}

fn cm_cfg(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "c", "namespace": "default"}, "data": data})
}

fn entry<'a>(obj: &'a Value, manager: &str) -> Option<&'a Value> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager)
}

fn owned(obj: &Value, manager: &str) -> Vec<String> {
    entry(obj, manager)
        .map(|e| {
            FieldSet::from_fields_v1(&e["fieldsV1"])
                .expect("fieldsV1")
                .path_strings()
        })
        .unwrap_or_default()
}

fn apply_cm(
    live: Option<&Value>,
    data: Value,
    mgr: &str,
    force: bool,
    now: &str,
) -> Result<Value, ApplyError> {
    apply(live, &cm_cfg(data), mgr, force, &cm(), "v1", now)
}

#[test]
fn create_by_apply_records_an_apply_entry() {
    let out = apply_cm(None, json!({"a": "1"}), "kubectl", false, T0).expect("applies");
    assert_eq!(out["data"], json!({"a": "1"}));
    assert_eq!(out["metadata"]["name"], "c");
    assert_eq!(
        out["metadata"]["managedFields"],
        json!([{"manager": "kubectl", "operation": "Apply", "apiVersion": "v1", "time": T0,
                "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:a": {}}}}])
    );
}

#[test]
fn same_value_is_shared_without_conflict() {
    let v1 = apply_cm(None, json!({"a": "1"}), "alice", false, T0).expect("alice");
    let v2 = apply_cm(Some(&v1), json!({"a": "1"}), "bob", false, T1).expect("no conflict");
    assert_eq!(owned(&v2, "alice"), vec![".data.a"]);
    assert_eq!(owned(&v2, "bob"), vec![".data.a"]);
    // Either dropping it leaves it: the other still owns it.
    let v3 = apply_cm(Some(&v2), json!({"b": "2"}), "alice", false, T2).expect("alice drops a");
    assert_eq!(v3["data"], json!({"a": "1", "b": "2"}));
    assert_eq!(owned(&v3, "alice"), vec![".data.b"]);
    assert_eq!(owned(&v3, "bob"), vec![".data.a"]);
}

#[test]
fn different_value_conflicts_with_an_applier() {
    let v1 = apply_cm(None, json!({"a": "1", "b": "1"}), "mgr", false, T0).expect("mgr");
    let err = apply_cm(Some(&v1), json!({"a": "2"}), "other", false, T1).expect_err("conflict");
    assert_eq!(
        err.message(),
        r#"Apply failed with 1 conflict: conflict with "mgr": .data.a"#
    );
    let ApplyError::Conflicts(cs) = &err else {
        panic!("not a conflict: {err:?}")
    };
    assert_eq!(cs[0].field, ".data.a");
    assert_eq!(cs[0].cause_message(), r#"conflict with "mgr""#);
    let err2 = apply_cm(Some(&v1), json!({"a": "2", "b": "2"}), "other", false, T1)
        .expect_err("conflicts");
    assert_eq!(
        err2.message(),
        "Apply failed with 2 conflicts: conflicts with \"mgr\":\n- .data.a\n- .data.b"
    );
}

#[test]
fn update_managers_are_named_with_their_api_version() {
    let created = track_update(
        None,
        &cm_cfg(json!({"a": "1"})),
        "mgr",
        None,
        &cm(),
        "v1",
        T0,
    );
    let err =
        apply_cm(Some(&created), json!({"a": "2"}), "kubectl", false, T1).expect_err("conflict");
    assert_eq!(
        err.message(),
        r#"Apply failed with 1 conflict: conflict with "mgr" using v1: .data.a"#
    );
    let ApplyError::Conflicts(cs) = &err else {
        panic!("not a conflict")
    };
    assert_eq!(cs[0].cause_message(), r#"conflict with "mgr" using v1"#);
}

#[test]
fn several_managers_get_one_clause_each() {
    let v1 = apply_cm(None, json!({"a": "1"}), "zed", false, T0).expect("zed");
    let mut edited = v1.clone();
    edited["data"]["b"] = json!("1");
    edited["data"]["c"] = json!("1");
    let v2 = track_update(Some(&v1), &edited, "amy", None, &cm(), "v1", T1);
    let err = apply_cm(
        Some(&v2),
        json!({"a": "2", "b": "2", "c": "2"}),
        "me",
        false,
        T2,
    )
    .expect_err("conflicts");
    assert_eq!(
        err.message(),
        "Apply failed with 3 conflicts: conflicts with \"amy\" using v1:\n- .data.b\n- .data.c\nconflicts with \"zed\":\n- .data.a"
    );
}

fn deployment(replicas: i64, containers: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": replicas,
                 "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": containers}}}})
}

#[test]
fn scaled_replicas_conflict_then_force_takes_them() {
    let d = deploy();
    let nginx = json!([{"name": "nginx", "image": "nginx:1"}]);
    let v1 = apply(
        None,
        &deployment(2, nginx.clone()),
        "kubectl",
        false,
        &d,
        "apps/v1",
        T0,
    )
    .expect("create");
    // `kubectl scale` through the scale subresource.
    let mut scaled = v1.clone();
    scaled["spec"]["replicas"] = json!(5);
    let v2 = track_update(
        Some(&v1),
        &scaled,
        "kubectl",
        Some("scale"),
        &d,
        "apps/v1",
        T1,
    );
    let kubectl_entries = v2["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["manager"] == "kubectl")
        .count();
    assert_eq!(kubectl_entries, 2, "two kubectl entries: Apply and Update");
    let err = apply(
        Some(&v2),
        &deployment(3, nginx.clone()),
        "kubectl",
        false,
        &d,
        "apps/v1",
        T2,
    )
    .expect_err("conflict");
    assert_eq!(
        err.message(),
        r#"Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas"#
    );
    // The same through the main resource, as `kubectl edit` would.
    let v2b = track_update(Some(&v1), &scaled, "kubectl-edit", None, &d, "apps/v1", T1);
    let err = apply(
        Some(&v2b),
        &deployment(3, nginx.clone()),
        "kubectl",
        false,
        &d,
        "apps/v1",
        T2,
    )
    .expect_err("conflict");
    assert_eq!(
        err.message(),
        r#"Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas"#
    );
    let forced = apply(
        Some(&v2b),
        &deployment(3, nginx),
        "kubectl",
        true,
        &d,
        "apps/v1",
        T2,
    )
    .expect("forced");
    assert_eq!(forced["spec"]["replicas"], 3);
    assert!(
        entry(&forced, "kubectl-edit").is_none(),
        "lost its only field"
    );
    assert!(owned(&forced, "kubectl").contains(&".spec.replicas".to_string()));
}

#[test]
fn dropped_fields_and_items_owned_alone_are_removed() {
    let d = deploy();
    let two = json!([{"name": "a", "image": "a"}, {"name": "b", "image": "b"}]);
    let v1 = apply(None, &deployment(1, two), "ci", false, &d, "apps/v1", T0).expect("create");
    let mut cfg = deployment(1, json!([{"name": "a", "image": "a"}]));
    cfg["spec"]
        .as_object_mut()
        .expect("spec")
        .remove("replicas");
    let v2 = apply(Some(&v1), &cfg, "ci", false, &d, "apps/v1", T1).expect("drop");
    assert!(v2["spec"].get("replicas").is_none());
    assert_eq!(
        v2["spec"]["template"]["spec"]["containers"],
        json!([{"name": "a", "image": "a"}])
    );
}

#[test]
fn containers_merge_by_name_across_managers() {
    let d = deploy();
    let v1 = apply(
        None,
        &deployment(1, json!([{"name": "app", "image": "app:1"}])),
        "app",
        false,
        &d,
        "apps/v1",
        T0,
    )
    .expect("app");
    let sidecar = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [{"name": "proxy", "image": "envoy"}]}}}});
    let v2 = apply(Some(&v1), &sidecar, "mesh", false, &d, "apps/v1", T1).expect("mesh");
    assert_eq!(
        v2["spec"]["template"]["spec"]["containers"],
        json!([{"name": "app", "image": "app:1"}, {"name": "proxy", "image": "envoy"}])
    );
    // The app re-applies without knowing about the sidecar: it stays.
    let v3 = apply(
        Some(&v2),
        &deployment(1, json!([{"name": "app", "image": "app:2"}])),
        "app",
        false,
        &d,
        "apps/v1",
        T2,
    )
    .expect("app again");
    let containers = &v3["spec"]["template"]["spec"]["containers"];
    assert_eq!(containers[0]["image"], "app:2");
    assert_eq!(containers[1]["name"], "proxy");
}

#[test]
fn env_entries_of_one_container_owned_by_two_managers() {
    let d = deploy();
    let with_env = |env: Value| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "env": env}]}}}})
    };
    let v1 = apply(
        None,
        &with_env(json!([{"name": "A", "value": "1"}])),
        "one",
        false,
        &d,
        "apps/v1",
        T0,
    )
    .expect("one");
    let v2 = apply(
        Some(&v1),
        &with_env(json!([{"name": "B", "value": "2"}])),
        "two",
        false,
        &d,
        "apps/v1",
        T1,
    )
    .expect("two");
    let env = &v2["spec"]["template"]["spec"]["containers"][0]["env"];
    assert_eq!(
        env,
        &json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
    );
    // "one" drops its entry: only A goes, the container and B stay.
    let v3 = apply(
        Some(&v2),
        &with_env(json!([])),
        "one",
        false,
        &d,
        "apps/v1",
        T2,
    )
    .expect("one drops A");
    let c = &v3["spec"]["template"]["spec"]["containers"];
    assert_eq!(
        c,
        &json!([{"name": "app", "env": [{"name": "B", "value": "2"}]}])
    );
}

#[test]
fn finalizers_are_a_set_and_args_atomic() {
    let d = deploy();
    let with = |fins: Value, args: Value| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "finalizers": fins},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "args": args}]}}}})
    };
    let v1 = apply(
        None,
        &with(json!(["a/x"]), json!(["1", "2"])),
        "one",
        false,
        &d,
        "apps/v1",
        T0,
    )
    .expect("one");
    let fin_only = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "finalizers": ["b/y"]}});
    let v2 = apply(Some(&v1), &fin_only, "two", false, &d, "apps/v1", T1).expect("two");
    assert_eq!(v2["metadata"]["finalizers"], json!(["a/x", "b/y"]));
    assert_eq!(owned(&v2, "two"), vec![r#".metadata.finalizers[="b/y"]"#]);
    // Args are replaced as a whole and owned as one field.
    let v3 = apply(
        Some(&v2),
        &with(json!(["a/x"]), json!(["3"])),
        "one",
        false,
        &d,
        "apps/v1",
        T2,
    )
    .expect("one");
    assert_eq!(
        v3["spec"]["template"]["spec"]["containers"][0]["args"],
        json!(["3"])
    );
    let err = apply(
        Some(&v3),
        &with(json!([]), json!(["4"])),
        "two",
        false,
        &d,
        "apps/v1",
        T2,
    )
    .expect_err("atomic");
    assert!(
        err.message()
            .ends_with(r#".spec.template.spec.containers[name="app"].args"#),
        "{}",
        err.message()
    );
    // "one" drops its finalizer: only "a/x" goes.
    let v4 = apply(
        Some(&v3),
        &with(json!([]), json!(["3"])),
        "one",
        false,
        &d,
        "apps/v1",
        T2,
    )
    .expect("drop");
    assert_eq!(v4["metadata"]["finalizers"], json!(["b/y"]));
}

#[test]
fn duplicate_keys_are_invalid() {
    let d = deploy();
    let cfg = deployment(1, json!([{"name": "a"}, {"name": "a"}]));
    let err = apply(None, &cfg, "m", false, &d, "apps/v1", T0).expect_err("invalid");
    assert_eq!(
        err,
        ApplyError::Invalid(
            r#"failed to create typed patch object (apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name="a"]"#.into()
        )
    );
    let fin = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "finalizers": ["x", "x"]}});
    assert!(matches!(
        apply(None, &fin, "m", false, &cm(), "v1", T0),
        Err(ApplyError::Invalid(_))
    ));
}

#[test]
fn fields_without_managed_fields_belong_to_before_first_apply() {
    let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "uid": "u", "resourceVersion": "5"}, "data": {"a": "1", "b": "1"}});
    let err = apply_cm(Some(&live), json!({"a": "2"}), "kubectl", false, T1).expect_err("conflict");
    assert_eq!(
        err.message(),
        r#"Apply failed with 1 conflict: conflict with "before-first-apply" using v1: .data.a"#
    );
    let ok = apply_cm(Some(&live), json!({"a": "1"}), "kubectl", false, T1).expect("shared");
    assert_eq!(owned(&ok, "before-first-apply"), vec![".data.a", ".data.b"]);
    assert_eq!(ok["metadata"]["uid"], "u");
}

#[test]
fn no_op_apply_keeps_time_and_status_is_not_owned_through_main() {
    let v1 = apply_cm(None, json!({"a": "1"}), "m", false, T0).expect("m");
    let v2 = apply_cm(Some(&v1), json!({"a": "1"}), "m", false, T2).expect("again");
    assert_eq!(v2, v1);
    let d = deploy();
    let mut cfg = deployment(1, json!([{"name": "a"}]));
    cfg["status"] = json!({"replicas": 9});
    let live = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "status": {"replicas": 1}});
    let out = apply(Some(&live), &cfg, "m", false, &d, "apps/v1", T0).expect("applies");
    // Merged (the server's strategy resets it) but not owned.
    assert_eq!(out["status"], json!({"replicas": 9}));
    assert!(!owned(&out, "m").iter().any(|p| p.starts_with(".status")));
}

#[test]
fn update_owned_field_survives_when_applier_drops_it() {
    let v1 = apply_cm(None, json!({"a": "1", "b": "1"}), "ci", false, T0).expect("ci");
    let mut edited = v1.clone();
    edited["data"]["a"] = json!("5");
    let v2 = track_update(Some(&v1), &edited, "human", None, &cm(), "v1", T1);
    assert_eq!(owned(&v2, "ci"), vec![".data.b"]);
    assert_eq!(owned(&v2, "human"), vec![".data.a"]);
    // An empty map keeps the live keys; the applier now owns just the map.
    let v3 = apply_cm(Some(&v2), json!({}), "ci", false, T2).expect("ci drops b");
    assert_eq!(v3["data"], json!({"a": "5"}));
    assert_eq!(owned(&v3, "ci"), vec![".data"]);
    // Applying nothing at all removes the entry.
    let bare = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
    let v4 = apply(Some(&v2), &bare, "ci", false, &cm(), "v1", T2).expect("ci drops all");
    assert_eq!(v4["data"], json!({"a": "5"}));
    assert!(entry(&v4, "ci").is_none());
}

#[test]
fn status_subresource_apply_owns_only_status() {
    let d = deploy();
    let v1 = apply(
        None,
        &deployment(1, json!([{"name": "a"}])),
        "kubectl",
        false,
        &d,
        "apps/v1",
        T0,
    )
    .expect("create");
    let cfg = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 7}, "status": {"readyReplicas": 1}});
    let opts = ApplyOptions {
        manager: "controller",
        force: false,
        api_version: "apps/v1",
        now: T1,
        subresource: Some("status"),
        scope: FieldScope::Status,
    };
    let v2 = apply_with(Some(&v1), &cfg, &d, &opts).expect("status apply");
    // spec.replicas is merged (the status strategy resets it), not owned.
    assert_eq!(v2["status"], json!({"readyReplicas": 1}));
    let e = entry(&v2, "controller").expect("entry");
    assert_eq!(e["subresource"], "status");
    assert_eq!(e["fieldsV1"], json!({"f:status": {"f:readyReplicas": {}}}));
    // The main-resource applier is untouched and can re-apply freely.
    assert_eq!(entry(&v2, "kubectl"), entry(&v1, "kubectl"));
    let mut reset = v2.clone();
    reset["spec"]["replicas"] = json!(1);
    apply(
        Some(&reset),
        &deployment(2, json!([{"name": "a"}])),
        "kubectl",
        false,
        &d,
        "apps/v1",
        T2,
    )
    .expect("no conflict with the status manager");
}
