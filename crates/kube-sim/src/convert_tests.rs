use super::*;

fn v2_hpa(metrics: Value) -> Value {
    json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "default", "resourceVersion": "7"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                 "minReplicas": 2, "maxReplicas": 5, "metrics": metrics},
        "status": {"currentReplicas": 2, "desiredReplicas": 2}})
}

fn to(obj: &Value, version: &str) -> Value {
    to_version(obj, "autoscaling", "HorizontalPodAutoscaler", version).expect("converted")
}

#[test]
fn a_cpu_utilization_target_is_v1s_percentage_and_comes_back() {
    let v2 = v2_hpa(json!([cpu_metric(55)]));
    let v1 = to(&v2, "v1");
    assert_eq!(v1["apiVersion"], "autoscaling/v1");
    assert_eq!(
        v1["spec"],
        json!({"scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
               "minReplicas": 2, "maxReplicas": 5, "targetCPUUtilizationPercentage": 55})
    );
    assert_eq!(
        v1["status"],
        json!({"currentReplicas": 2, "desiredReplicas": 2})
    );
    assert!(v1["metadata"].get("annotations").is_none(), "{v1}");
    assert_eq!(v1["metadata"]["resourceVersion"], "7");
    let back = to(&v1, "v2");
    assert_eq!(back["spec"]["metrics"], v2["spec"]["metrics"]);
    assert_eq!(back["spec"]["minReplicas"], 2);
    assert!(to_version(&v2, "autoscaling", "HorizontalPodAutoscaler", "v2").is_none());
    assert!(to_version(&v2, "apps", "Deployment", "v1").is_none());
}

#[test]
fn what_v1_cannot_say_travels_in_annotations_and_back() {
    let memory = json!({"type": "Resource", "resource": {"name": "memory",
        "target": {"type": "AverageValue", "averageValue": "200Mi"}}});
    let pods = json!({"type": "Pods", "pods": {"metric": {"name": "qps"},
        "target": {"type": "AverageValue", "averageValue": "1k"}}});
    let external = json!({"type": "External", "external": {
        "metric": {"name": "queue", "selector": {"matchLabels": {"q": "a"}}},
        "target": {"type": "Value", "value": "30"}}});
    let mut v2 = v2_hpa(json!([memory, cpu_metric(60), pods, external]));
    v2["spec"]["behavior"] = json!({"scaleUp": {"stabilizationWindowSeconds": 0,
        "selectPolicy": "Max", "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15}]}});
    let condition = json!({"type": "AbleToScale", "status": "True",
        "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "SucceededGetScale",
        "message": "the HPA controller was able to get the target's current scale"});
    v2["status"]["conditions"] = json!([condition]);
    v2["status"]["currentMetrics"] = json!([{"type": "Resource", "resource": {"name": "cpu",
        "current": {"averageValue": "120m", "averageUtilization": 12}}}]);
    v2["metadata"]["annotations"] = json!({"team": "a", METRICS: "stale"});

    let v1 = to(&v2, "v1");
    assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 60);
    assert_eq!(v1["status"]["currentCPUUtilizationPercentage"], 12);
    let a = &v1["metadata"]["annotations"];
    assert_eq!(a["team"], "a");
    assert_eq!(
        a[METRICS],
        r#"[{"type":"Resource","resource":{"name":"memory","targetAverageValue":"200Mi"}},{"type":"Pods","pods":{"metricName":"qps","targetAverageValue":"1k"}},{"type":"External","external":{"metricName":"queue","metricSelector":{"matchLabels":{"q":"a"}},"targetValue":"30"}}]"#
    );
    assert_eq!(
        a[BEHAVIOR],
        r#"{"ScaleUp":{"StabilizationWindowSeconds":0,"SelectPolicy":"Max","Policies":[{"Type":"Pods","Value":4,"PeriodSeconds":15}]},"ScaleDown":null}"#
    );
    assert_eq!(
        a[CURRENT_METRICS],
        r#"[{"type":"Resource","resource":{"name":"cpu","currentAverageUtilization":12,"currentAverageValue":"120m"}}]"#
    );
    assert_eq!(
        serde_json::from_str::<Value>(a[CONDITIONS].as_str().expect("string")).ok(),
        Some(json!([condition]))
    );

    // Back to v2: the other metrics first, the CPU target last, as upstream.
    let back = to(&v1, "v2");
    assert_eq!(
        back["spec"]["metrics"],
        json!([memory, pods, external, cpu_metric(60)])
    );
    assert_eq!(back["spec"]["behavior"], v2["spec"]["behavior"]);
    assert_eq!(back["status"]["conditions"], json!([condition]));
    assert_eq!(
        back["status"]["currentMetrics"],
        v2["status"]["currentMetrics"]
    );
    assert_eq!(back["metadata"]["annotations"], json!({"team": "a"}));
}

#[test]
fn a_v1_hpa_without_a_target_reads_as_cpu_at_80_percent() {
    let v1 = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3},
        "status": {"currentReplicas": 1, "desiredReplicas": 1, "currentCPUUtilizationPercentage": 40}});
    let v2 = to(&v1, "v2");
    assert_eq!(v2["spec"]["metrics"], json!([cpu_metric(80)]));
    assert_eq!(
        v2["status"]["currentMetrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 40}}}])
    );
    let mut v1_target = v1.clone();
    v1_target["spec"]["targetCPUUtilizationPercentage"] = json!(50);
    assert_eq!(
        to(&v1_target, "v2")["spec"]["metrics"],
        json!([cpu_metric(50)])
    );
    // A metrics annotation that does not parse is ignored, as upstream.
    v1_target["metadata"]["annotations"] = json!({METRICS: "not json"});
    let v2 = to(&v1_target, "v2");
    assert_eq!(v2["spec"]["metrics"], json!([cpu_metric(50)]));
    assert!(v2["metadata"].get("annotations").is_none());
}

#[test]
fn behavior_annotation_is_read_case_blind_and_empty_gives_none() {
    let read = |raw: &str| behavior_from_go(&serde_json::from_str(raw).expect("json"));
    assert_eq!(
        read(
            r#"{"scaleDown":{"stabilizationWindowSeconds":60,"policies":[{"type":"Percent","value":10,"periodSeconds":60}]}}"#
        ),
        Some(json!({"scaleDown": {"stabilizationWindowSeconds": 60,
            "policies": [{"type": "Percent", "value": 10, "periodSeconds": 60}]}}))
    );
    assert_eq!(read(r#"{"ScaleUp":null,"ScaleDown":null}"#), None);
}

#[test]
fn defaults_fill_min_replicas_metrics_and_behavior_rules() {
    let mut v2 = v2_hpa(json!([]));
    v2["spec"]
        .as_object_mut()
        .expect("spec")
        .remove("minReplicas");
    v2["spec"]["behavior"] = json!({"scaleUp": {"stabilizationWindowSeconds": 30}});
    apply_defaults("autoscaling", "HorizontalPodAutoscaler", &mut v2);
    assert_eq!(v2["spec"]["minReplicas"], 1);
    assert_eq!(v2["spec"]["metrics"], json!([cpu_metric(80)]));
    assert_eq!(
        v2["spec"]["behavior"],
        json!({"scaleUp": {"stabilizationWindowSeconds": 30, "selectPolicy": "Max", "policies": [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15}]},
               "scaleDown": {"selectPolicy": "Max", "policies": [
                {"type": "Percent", "value": 100, "periodSeconds": 15}]}})
    );
    let mut v1 = json!({"apiVersion": "autoscaling/v1", "spec": {"maxReplicas": 2}});
    apply_defaults("autoscaling", "HorizontalPodAutoscaler", &mut v1);
    assert_eq!(v1["spec"], json!({"maxReplicas": 2, "minReplicas": 1}));
}

#[test]
fn a_v1_write_that_leaves_the_status_as_shown_keeps_the_stored_status() {
    let mut stored = v2_hpa(json!([cpu_metric(55)]));
    stored["status"]["conditions"] = json!([{"type": "ScalingActive", "status": "False"}]);
    let view = to(&stored, "v1");
    // A client's update without the annotations (so without the conditions).
    let mut new = view.clone();
    new["metadata"] = json!({"name": "web", "namespace": "default"});
    new["spec"]["maxReplicas"] = json!(9);
    let out = to_storage(
        new.clone(),
        "autoscaling",
        "HorizontalPodAutoscaler",
        Some(&stored),
        Some(&view),
    );
    assert_eq!(out["apiVersion"], "autoscaling/v2");
    assert_eq!(out["spec"]["maxReplicas"], 9);
    assert_eq!(out["status"], stored["status"]);
    // A status write that changes it takes the new status.
    new["status"]["currentReplicas"] = json!(4);
    let out = to_storage(
        new,
        "autoscaling",
        "HorizontalPodAutoscaler",
        Some(&stored),
        Some(&view),
    );
    assert_eq!(out["status"]["currentReplicas"], 4);
    assert!(out["status"].get("conditions").is_none());
}
