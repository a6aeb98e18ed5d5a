//! Tests of the strategic merge patch, mostly patches as kubectl builds them.

use super::*;
use serde_json::json;

fn deploy() -> Schema {
    Schema::builtin("apps", "Deployment")
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default",
                     "labels": {"app": "web", "tier": "frontend"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [
                    {"name": "web", "image": "nginx:1.25",
                     "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                     "ports": [{"containerPort": 80, "protocol": "TCP"}]},
                    {"name": "sidecar", "image": "busybox:1.36", "args": ["sleep", "1d"]}
                ]}
            }
        }
    })
}

#[test]
fn kubectl_apply_drops_label_and_changes_image() {
    // What kubectl's client-side apply computes from last-applied vs new.
    let patch = json!({
        "metadata": {
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
            "labels": {"tier": null}
        },
        "spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
            "containers": [{"image": "nginx:1.26", "name": "web"}]
        }}}
    });
    let out = strategic_merge(&deployment(), &patch, &deploy()).unwrap();
    let mut want = deployment();
    want["metadata"]["labels"] = json!({"app": "web"});
    want["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/last-applied-configuration": "{}"});
    want["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.26");
    assert_eq!(out, want);
}

#[test]
fn set_element_order_reorders_and_adds() {
    let patch = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "init"}, {"name": "sidecar"}, {"name": "web"}],
        "containers": [{"name": "init", "image": "alpine"}]
    }}}});
    let out = strategic_merge(&deployment(), &patch, &deploy()).unwrap();
    let names: Vec<_> = out["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["init", "sidecar", "web"]);
    // Items not named keep their relative order after the named ones.
    let patch = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "sidecar"}]
    }}}});
    let out = strategic_merge(&deployment(), &patch, &deploy()).unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"][1]["name"],
        "web"
    );
}

#[test]
fn env_var_deleted_by_patch_delete() {
    let patch = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "web", "env": [{"name": "A", "$patch": "delete"},
                                 {"name": "C", "value": "3"}]}
    ]}}}});
    let out = strategic_merge(&deployment(), &patch, &deploy()).unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "B", "value": "2"}, {"name": "C", "value": "3"}])
    );
    // The other container is untouched.
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"][1],
        deployment()["spec"]["template"]["spec"]["containers"][1]
    );
}

#[test]
fn retain_keys_on_strategy() {
    // Switching to Recreate must drop rollingUpdate, which a plain merge
    // would keep: kubectl sends $retainKeys for that.
    let patch = json!({"spec": {"strategy": {
        "$retainKeys": ["type"], "type": "Recreate"}}});
    let out = strategic_merge(&deployment(), &patch, &deploy()).unwrap();
    assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
}

#[test]
fn configmap_key_dropped_with_null() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}});
    let patch = json!({"data": {"a": null, "c": "3"}});
    let out = strategic_merge(&cm, &patch, &Schema::builtin("", "ConfigMap")).unwrap();
    assert_eq!(out["data"], json!({"b": "2", "c": "3"}));
    // Nulls for keys that do not exist are no-ops, not stored nulls.
    let out = strategic_merge(
        &cm,
        &json!({"data": {"zz": null}, "x": {"y": null}}),
        &deploy(),
    )
    .unwrap();
    assert_eq!(out["data"], cm["data"]);
    assert_eq!(out["x"], json!({}));
}

#[test]
fn map_patch_replace_and_delete() {
    let patch = json!({"spec": {"selector": {"$patch": "replace",
                                              "matchLabels": {"app": "api"}}}});
    let out = strategic_merge(&deployment(), &patch, &deploy()).unwrap();
    assert_eq!(
        out["spec"]["selector"],
        json!({"matchLabels": {"app": "api"}})
    );

    let patch = json!({"metadata": {"labels": {"$patch": "replace", "only": "me"}}});
    let out = strategic_merge(&deployment(), &patch, &deploy()).unwrap();
    assert_eq!(out["metadata"]["labels"], json!({"only": "me"}));

    let patch = json!({"spec": {"strategy": {"$patch": "delete"}}});
    let out = strategic_merge(&deployment(), &patch, &deploy()).unwrap();
    assert!(out["spec"].get("strategy").is_none());
}

#[test]
fn keyed_list_patch_replace() {
    let patch = json!({"spec": {"template": {"spec": {"containers": [
        {"$patch": "replace"}, {"name": "only", "image": "x"}
    ]}}}});
    let out = strategic_merge(&deployment(), &patch, &deploy()).unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"],
        json!([{"name": "only", "image": "x"}])
    );
}

#[test]
fn primitive_list_union_and_delete() {
    let obj = json!({"metadata": {"name": "x", "finalizers": ["a", "b", "c"]}});
    let patch = json!({"metadata": {
        "$deleteFromPrimitiveList/finalizers": ["b"],
        "finalizers": ["d", "a"]
    }});
    let out = strategic_merge(&obj, &patch, &deploy()).unwrap();
    assert_eq!(out["metadata"]["finalizers"], json!(["a", "c", "d"]));

    let patch = json!({"metadata": {
        "$setElementOrder/finalizers": ["c", "a"]
    }});
    let out = strategic_merge(&obj, &patch, &deploy()).unwrap();
    assert_eq!(out["metadata"]["finalizers"], json!(["c", "a", "b"]));
}

#[test]
fn atomic_lists_are_replaced() {
    let patch = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "sidecar", "args": ["sleep", "2d"]}
    ]}}}});
    let out = strategic_merge(&deployment(), &patch, &deploy()).unwrap();
    let c = &out["spec"]["template"]["spec"]["containers"][1];
    assert_eq!(c["args"], json!(["sleep", "2d"]));
    assert_eq!(c["image"], "busybox:1.36");
}

#[test]
fn directives_never_reach_the_result() {
    // New fields carrying directives are cleaned too.
    let patch = json!({"spec": {"newmap": {"$patch": "merge", "a": 1,
                                           "inner": {"$retainKeys": ["b"], "b": 2, "c": 3}}}});
    let out = strategic_merge(&json!({}), &patch, &deploy()).unwrap();
    assert_eq!(
        out,
        json!({"spec": {"newmap": {"a": 1, "inner": {"b": 2}}}})
    );
    let patch = json!({"metadata": {"$patch": "delete"}});
    let out = strategic_merge(&deployment(), &patch, &deploy()).unwrap();
    assert!(out.get("metadata").is_none());
    assert_eq!(
        strategic_merge(&deployment(), &json!({"$patch": "delete"}), &deploy()).unwrap(),
        json!({})
    );
}

#[test]
fn errors() {
    let d = deployment();
    assert_eq!(
        strategic_merge(&d, &json!([1]), &deploy()),
        Err(StrategicMergeError::NotAnObject("an array"))
    );
    assert!(matches!(
        strategic_merge(&d, &json!("x"), &deploy()),
        Err(StrategicMergeError::NotAnObject(_))
    ));
    assert!(matches!(
        strategic_merge(&d, &json!({"spec": {"$bogus": 1}}), &deploy()),
        Err(StrategicMergeError::UnknownDirective { .. })
    ));
    assert!(matches!(
        strategic_merge(&d, &json!({"spec": {"$patch": "explode"}}), &deploy()),
        Err(StrategicMergeError::UnknownDirective { .. })
    ));
    assert!(matches!(
        strategic_merge(&d, &json!({"spec": {"$retainKeys": "type"}}), &deploy()),
        Err(StrategicMergeError::InvalidDirective { .. })
    ));
    let missing_key = json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}});
    let err = strategic_merge(&d, &missing_key, &deploy()).unwrap_err();
    assert!(matches!(err, StrategicMergeError::MissingMergeKey { .. }));
    assert!(err.to_string().contains("merge key: name"));
}

#[test]
fn service_ports_merge_by_port() {
    let svc = json!({"spec": {"ports": [{"port": 80, "targetPort": 8080},
                                        {"port": 443, "targetPort": 8443}]}});
    let patch = json!({"spec": {"ports": [{"port": 443, "targetPort": 9443}]}});
    let out = strategic_merge(&svc, &patch, &Schema::builtin("", "Service")).unwrap();
    assert_eq!(
        out["spec"]["ports"],
        json!([{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 9443}])
    );
}

#[test]
fn kubectl_apply_removes_a_container() {
    let patch = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "web"}],
        "containers": [{"$patch": "delete", "name": "sidecar"}]
    }}}});
    let out = strategic_merge(&deployment(), &patch, &deploy()).unwrap();
    let containers = out["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 1);
    assert_eq!(containers[0]["name"], "web");
    // The original is not modified.
    assert_eq!(
        deployment()["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
