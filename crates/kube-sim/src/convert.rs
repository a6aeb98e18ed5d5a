//! Conversion between the served versions of a resource that is stored once.
//!
//! kube-apiserver keeps one copy of an object, in its storage version, and
//! converts on every read, list and watch event to the version the request
//! named, and on every write from it. kube-sim does the same at the same
//! boundary: objects in the store are in the storage version
//! ([`storage_version`]), [`to_version`] presents them, [`to_storage`] turns
//! a written object back. One resourceVersion serves every version, since
//! there is one object.
//!
//! Today that is HorizontalPodAutoscaler, stored as autoscaling/v2 and served
//! as v1 too. v1 has only a CPU utilization target; as upstream
//! (`pkg/apis/autoscaling/v1/conversion.go`), the rest of v2 travels in
//! annotations on the v1 object and comes back out of them on a v1 write:
//! the other metrics (`autoscaling.alpha.kubernetes.io/metrics`, in v1's
//! metric shape), the current metrics (`.../current-metrics`), the
//! conditions (`.../conditions`) and the behavior (`.../behavior`, which
//! upstream writes by marshalling its internal Go type, so with Go field
//! names: `{"ScaleUp":{"StabilizationWindowSeconds":0,...}}`). Defaulting
//! of both versions is here too, since it decides what the other version
//! shows (a v1 HPA without a target reads as v2 with CPU at 80%).

use crate::registry::ResourceType;
use serde_json::{json, Map, Value};
use std::sync::Arc;

#[path = "convert_metrics.rs"]
mod metrics;
use metrics::{build, empty, metric, Src};

const METRICS: &str = "autoscaling.alpha.kubernetes.io/metrics";
const CURRENT_METRICS: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
const CONDITIONS: &str = "autoscaling.alpha.kubernetes.io/conditions";
const BEHAVIOR: &str = "autoscaling.alpha.kubernetes.io/behavior";
const ROUND_TRIP: [&str; 4] = [METRICS, BEHAVIOR, CURRENT_METRICS, CONDITIONS];
/// `autoscaling.DefaultCPUUtilization`.
const DEFAULT_CPU: i64 = 80;

/// The version objects of a multi-version built-in are stored in, when the
/// versions differ in shape.
pub fn storage_version(group: &str, kind: &str) -> Option<&'static str> {
    match (group, kind) {
        ("autoscaling", "HorizontalPodAutoscaler") => Some("v2"),
        _ => None,
    }
}

fn version_of(obj: &Value) -> &str {
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    api_version.rsplit('/').next().unwrap_or(api_version)
}

/// `obj` as `group/version`, or None when it already is in that version
/// (or the kind has a single shape).
pub fn to_version(obj: &Value, group: &str, kind: &str, version: &str) -> Option<Value> {
    storage_version(group, kind)?;
    let from = version_of(obj);
    if from == version {
        return None;
    }
    let mut out = match (from, version) {
        ("v2", "v1") => hpa_v2_to_v1(obj),
        ("v1", "v2") => hpa_v1_to_v2(obj),
        _ => return None,
    };
    out["apiVersion"] = json!(format!("{group}/{version}"));
    Some(out)
}

/// A stored object as `rt`'s version shows it (shared when that is the
/// stored form).
pub fn presented(obj: Arc<Value>, rt: &ResourceType) -> Arc<Value> {
    match to_version(&obj, &rt.group, &rt.kind, &rt.version) {
        Some(converted) => Arc::new(converted),
        None => obj,
    }
}

/// Whether writes through `rt` are converted before they are stored.
pub fn converts_writes(rt: &ResourceType) -> bool {
    storage_version(&rt.group, &rt.kind).is_some_and(|v| v != rt.version)
}

/// A written object (in the request's version) as it is stored. `old` is
/// the stored object a write replaces and `old_view` that object as the
/// request's version showed it: a part of the object the write left as it
/// was shown (the status through a main-resource write, say) stays exactly
/// as stored, as upstream keeps the old internal status on such writes.
pub fn to_storage(
    new: Value,
    group: &str,
    kind: &str,
    old: Option<&Value>,
    old_view: Option<&Value>,
) -> Value {
    let Some(storage) = storage_version(group, kind) else {
        return new;
    };
    let Some(mut stored) = to_version(&new, group, kind, storage) else {
        return new;
    };
    if let (Some(old), Some(view)) = (old, old_view) {
        if view.get("status") == new.get("status") {
            match old.get("status") {
                Some(s) => stored["status"] = s.clone(),
                None => {
                    if let Some(o) = stored.as_object_mut() {
                        o.remove("status");
                    }
                }
            }
        }
    }
    stored
}

/// kube-apiserver's defaulting of the kinds converted here (version by
/// the object's apiVersion).
pub fn apply_defaults(group: &str, kind: &str, obj: &mut Value) {
    if storage_version(group, kind).is_none() || !obj.get("spec").is_some_and(Value::is_object) {
        return;
    }
    let v2 = version_of(obj) == "v2";
    let spec = &mut obj["spec"];
    if spec.get("minReplicas").is_none_or(Value::is_null) {
        spec["minReplicas"] = json!(1);
    }
    if !v2 {
        return;
    }
    if spec
        .get("metrics")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        spec["metrics"] = json!([cpu_metric(DEFAULT_CPU)]);
    }
    if let Some(behavior) = spec.get_mut("behavior").filter(|b| b.is_object()) {
        let up = json!({"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
            {"type": "Pods", "value": 4, "periodSeconds": 15},
            {"type": "Percent", "value": 100, "periodSeconds": 15}]});
        // Scale-down keeps no stabilization window: the controller's flag decides.
        let down = json!({"selectPolicy": "Max", "policies": [
            {"type": "Percent", "value": 100, "periodSeconds": 15}]});
        for (key, defaults) in [("scaleUp", up), ("scaleDown", down)] {
            behavior[key] = fill_rules(behavior.get(key), defaults);
        }
    }
}

/// Default rules with every field `given` sets taken from it, in v2's order.
fn fill_rules(given: Option<&Value>, defaults: Value) -> Value {
    let mut out = Map::new();
    for key in ["stabilizationWindowSeconds", "selectPolicy", "policies"] {
        let set = given.and_then(|g| g.get(key)).filter(|v| !v.is_null());
        if let Some(v) = set.or_else(|| defaults.get(key)) {
            out.insert(key.into(), v.clone());
        }
    }
    Value::Object(out)
}

fn cpu_metric(utilization: i64) -> Value {
    json!({"type": "Resource", "resource": {"name": "cpu",
        "target": {"type": "Utilization", "averageUtilization": utilization}}})
}

fn is_cpu_utilization(m: &Value) -> bool {
    m.get("type").and_then(Value::as_str) == Some("Resource")
        && m.pointer("/resource/name").and_then(Value::as_str) == Some("cpu")
        && m.pointer("/resource/target/averageUtilization")
            .is_some_and(|u| !u.is_null())
}

fn array<'a>(obj: &'a Value, pointer: &str) -> &'a [Value] {
    obj.pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The object with the round-trip annotations taken off (and the emptied
/// annotations map with them).
fn without_round_trip(obj: &Value) -> Value {
    let mut out = obj.clone();
    if let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            for k in ROUND_TRIP {
                a.remove(k);
            }
            if a.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    out
}

fn annotate(obj: &mut Value, key: &str, value: &Value) {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    let meta = &mut obj["metadata"];
    if !meta.get("annotations").is_some_and(Value::is_object) {
        meta["annotations"] = json!({});
    }
    meta["annotations"][key] = json!(value.to_string());
}

fn annotation(obj: &Value, key: &str) -> Option<Value> {
    let raw = obj.pointer("/metadata/annotations")?.get(key)?.as_str()?;
    serde_json::from_str(raw).ok()
}

fn cross_ref(r: Option<&Value>) -> Value {
    build(
        r.unwrap_or(&Value::Null),
        vec![
            ("/kind", Src::Or("/kind", empty())),
            ("/name", Src::Or("/name", empty())),
            ("/apiVersion", Src::Opt("/apiVersion")),
        ],
    )
}

fn hpa_v2_to_v1(v2: &Value) -> Value {
    let mut out = without_round_trip(v2);
    let spec = v2.get("spec").unwrap_or(&Value::Null);
    let status = v2.get("status").unwrap_or(&Value::Null);
    let metrics = array(v2, "/spec/metrics");
    let mut v1_spec = json!({"scaleTargetRef": cross_ref(spec.get("scaleTargetRef"))});
    if let Some(min) = spec.get("minReplicas").filter(|m| !m.is_null()) {
        v1_spec["minReplicas"] = min.clone();
    }
    v1_spec["maxReplicas"] = spec.get("maxReplicas").cloned().unwrap_or(json!(0));
    // The first CPU resource metric decides; only a utilization target shows.
    let cpu = metrics.iter().find(|m| {
        m.get("type").and_then(Value::as_str) == Some("Resource")
            && m.pointer("/resource/name").and_then(Value::as_str) == Some("cpu")
    });
    if let Some(u) = cpu
        .and_then(|m| m.pointer("/resource/target/averageUtilization"))
        .filter(|u| !u.is_null())
    {
        v1_spec["targetCPUUtilizationPercentage"] = u.clone();
    }
    out["spec"] = v1_spec;
    let current = array(v2, "/status/currentMetrics");
    let mut v1_status = build(
        status,
        vec![
            ("/observedGeneration", Src::Opt("/observedGeneration")),
            ("/lastScaleTime", Src::Opt("/lastScaleTime")),
            ("/currentReplicas", Src::Or("/currentReplicas", json!(0))),
            ("/desiredReplicas", Src::Or("/desiredReplicas", json!(0))),
        ],
    );
    // Every CPU metric status is looked at: the last with a utilization wins.
    for m in current.iter().filter(|m| {
        m.get("type").and_then(Value::as_str) == Some("Resource")
            && m.pointer("/resource/name").and_then(Value::as_str) == Some("cpu")
    }) {
        if let Some(u) = m
            .pointer("/resource/current/averageUtilization")
            .filter(|u| !u.is_null())
        {
            v1_status["currentCPUUtilizationPercentage"] = u.clone();
        }
    }
    out["status"] = v1_status;
    let others: Vec<Value> = metrics
        .iter()
        .filter(|m| !is_cpu_utilization(m))
        .map(|m| metric(m, true, true))
        .collect();
    if !others.is_empty() {
        annotate(&mut out, METRICS, &json!(others));
    }
    if !current.is_empty() {
        let statuses: Vec<Value> = current.iter().map(|m| metric(m, true, false)).collect();
        annotate(&mut out, CURRENT_METRICS, &json!(statuses));
    }
    let conditions = array(v2, "/status/conditions");
    if !conditions.is_empty() {
        annotate(&mut out, CONDITIONS, &json!(conditions));
    }
    if let Some(b) = spec.get("behavior").filter(|b| b.is_object()) {
        annotate(&mut out, BEHAVIOR, &behavior_to_go(b));
    }
    out
}

fn hpa_v1_to_v2(v1: &Value) -> Value {
    let mut out = without_round_trip(v1);
    let spec = v1.get("spec").unwrap_or(&Value::Null);
    let status = v1.get("status").unwrap_or(&Value::Null);
    let mut v2_spec = json!({"scaleTargetRef": cross_ref(spec.get("scaleTargetRef"))});
    if let Some(min) = spec.get("minReplicas").filter(|m| !m.is_null()) {
        v2_spec["minReplicas"] = min.clone();
    }
    v2_spec["maxReplicas"] = spec.get("maxReplicas").cloned().unwrap_or(json!(0));
    let mut metrics: Vec<Value> = annotation(v1, METRICS)
        .as_ref()
        .and_then(Value::as_array)
        .map(|ms| ms.iter().map(|m| metric(m, false, true)).collect())
        .unwrap_or_default();
    match spec
        .get("targetCPUUtilizationPercentage")
        .and_then(Value::as_i64)
    {
        Some(pct) => metrics.push(cpu_metric(pct)),
        // The implicit target v1 had before v2 existed.
        None if metrics.is_empty() => metrics.push(cpu_metric(DEFAULT_CPU)),
        None => {}
    }
    v2_spec["metrics"] = json!(metrics);
    if let Some(b) = annotation(v1, BEHAVIOR).and_then(|b| behavior_from_go(&b)) {
        v2_spec["behavior"] = b;
    }
    out["spec"] = v2_spec;
    let mut v2_status = build(
        status,
        vec![
            ("/observedGeneration", Src::Opt("/observedGeneration")),
            ("/lastScaleTime", Src::Opt("/lastScaleTime")),
            ("/currentReplicas", Src::Or("/currentReplicas", json!(0))),
            ("/desiredReplicas", Src::Or("/desiredReplicas", json!(0))),
        ],
    );
    let current = match annotation(v1, CURRENT_METRICS) {
        Some(Value::Array(ms)) => Some(ms.iter().map(|m| metric(m, false, false)).collect()),
        _ => status
            .get("currentCPUUtilizationPercentage")
            .filter(|u| !u.is_null())
            .map(|u| {
                vec![json!({"type": "Resource", "resource": {"name": "cpu",
                "current": {"averageUtilization": u}}})]
            }),
    };
    if let Some(current) = current {
        v2_status["currentMetrics"] = json!(current);
    }
    if let Some(Value::Array(conditions)) = annotation(v1, CONDITIONS) {
        v2_status["conditions"] = json!(conditions);
    }
    out["status"] = v2_status;
    out
}

const GO_RULES: [(&str, &str); 3] = [
    ("stabilizationWindowSeconds", "StabilizationWindowSeconds"),
    ("selectPolicy", "SelectPolicy"),
    ("policies", "Policies"),
];
const GO_POLICY: [(&str, &str); 3] = [
    ("type", "Type"),
    ("value", "Value"),
    ("periodSeconds", "PeriodSeconds"),
];

/// The behavior as `encoding/json` writes the internal Go type: field
/// names, and `null` for what is unset.
fn behavior_to_go(b: &Value) -> Value {
    let rules = |r: Option<&Value>| -> Value {
        let Some(r) = r.filter(|r| r.is_object()) else {
            return Value::Null;
        };
        let mut out = Map::new();
        for (json_name, go_name) in GO_RULES {
            let v = match (json_name, r.get(json_name)) {
                ("policies", Some(Value::Array(ps))) => json!(ps
                    .iter()
                    .map(|p| rename(p, &GO_POLICY, true))
                    .collect::<Vec<_>>()),
                (_, Some(v)) => v.clone(),
                (_, None) => Value::Null,
            };
            out.insert(go_name.into(), v);
        }
        Value::Object(out)
    };
    json!({"ScaleUp": rules(b.get("scaleUp")), "ScaleDown": rules(b.get("scaleDown"))})
}

/// The inverse of [`behavior_to_go`]; Go reads field names case-blind. An
/// annotation holding no rules gives no behavior.
fn behavior_from_go(b: &Value) -> Option<Value> {
    let rules = |r: Option<&Value>| -> Option<Value> {
        let r = r.filter(|r| r.is_object())?;
        let mut out = Map::new();
        for (json_name, go_name) in GO_RULES {
            let v = match (json_name, get_ci(r, go_name)) {
                ("policies", Some(Value::Array(ps))) => json!(ps
                    .iter()
                    .map(|p| rename(p, &GO_POLICY, false))
                    .collect::<Vec<_>>()),
                (_, Some(v)) if !v.is_null() => v.clone(),
                _ => continue,
            };
            out.insert(json_name.into(), v);
        }
        Some(Value::Object(out))
    };
    let mut out = Map::new();
    for (json_name, go_name) in [("scaleUp", "ScaleUp"), ("scaleDown", "ScaleDown")] {
        if let Some(r) = rules(get_ci(b, go_name)) {
            out.insert(json_name.into(), r);
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

fn rename(v: &Value, names: &[(&str, &str)], to_go: bool) -> Value {
    let mut out = Map::new();
    for (json_name, go_name) in names {
        let (from, to) = if to_go {
            (v.get(*json_name), *go_name)
        } else {
            (get_ci(v, go_name), *json_name)
        };
        if let Some(x) = from {
            out.insert(to.into(), x.clone());
        }
    }
    Value::Object(out)
}

fn get_ci<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    let m = v.as_object()?;
    m.get(name).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
