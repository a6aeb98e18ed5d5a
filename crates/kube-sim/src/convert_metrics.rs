//! The metric shapes of autoscaling/v1 and v2, field by field: v1 keeps
//! the v2beta1 shape (`targetAverageValue`, `metricName`), v2 nests a
//! `target` or `current` and a `metric` identifier. Kept apart from
//! `convert.rs`, which decides what goes where in the object.

use serde_json::{json, Map, Value};

/// Where a field of a converted object comes from.
pub(super) enum Src {
    /// This pointer in the source, left out when absent.
    Opt(&'static str),
    /// This pointer, or the value a Go non-pointer field has when unset.
    Or(&'static str, Value),
    /// A value decided by the conversion.
    Lit(Value),
}

/// An object built field by field (output keys are pointers, so nested
/// objects come out in the order their first field is listed).
pub(super) fn build(src: &Value, fields: Vec<(&str, Src)>) -> Value {
    let mut out = json!({});
    for (to, from) in fields {
        let value = match from {
            Src::Opt(p) => src.pointer(p).filter(|v| !v.is_null()).cloned(),
            Src::Or(p, default) => Some(
                src.pointer(p)
                    .filter(|v| !v.is_null())
                    .cloned()
                    .unwrap_or(default),
            ),
            Src::Lit(v) => Some(v),
        };
        if let Some(v) = value.filter(|v| !v.is_null()) {
            set_at(&mut out, to, v);
        }
    }
    out
}

fn set_at(out: &mut Value, pointer: &str, v: Value) {
    let mut at = out;
    let mut parts = pointer.trim_start_matches('/').split('/').peekable();
    while let Some(key) = parts.next() {
        if !at.is_object() {
            *at = json!({});
        }
        if parts.peek().is_none() {
            at[key] = v;
            return;
        }
        if at.get(key).is_none() {
            at[key] = json!({});
        }
        at = &mut at[key];
    }
}

fn zero() -> Value {
    json!("0")
}

pub(super) fn empty() -> Value {
    json!("")
}

/// The metric source key of each metric type, in Go's field order.
const SOURCES: [&str; 5] = [
    "object",
    "pods",
    "resource",
    "containerResource",
    "external",
];

/// One metric or metric status between versions: `spec` says whether it is
/// a MetricSpec (targets) or a MetricStatus (current values).
pub(super) fn metric(m: &Value, to_v1: bool, spec: bool) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), m.get("type").cloned().unwrap_or_else(empty));
    for source in SOURCES {
        if let Some(s) = m.get(source).filter(|s| s.is_object()) {
            let converted = match (to_v1, spec) {
                (true, true) => spec_to_v1(source, s),
                (false, true) => spec_to_v2(source, s),
                (true, false) => status_to_v1(source, s),
                (false, false) => status_to_v2(source, s),
            };
            out.insert(source.into(), converted);
        }
    }
    Value::Object(out)
}

fn spec_to_v1(source: &str, s: &Value) -> Value {
    use Src::*;
    let fields = match source {
        "object" => vec![
            ("/target/kind", Or("/describedObject/kind", empty())),
            ("/target/name", Or("/describedObject/name", empty())),
            ("/target/apiVersion", Opt("/describedObject/apiVersion")),
            ("/metricName", Or("/metric/name", empty())),
            ("/targetValue", Or("/target/value", zero())),
            ("/selector", Opt("/metric/selector")),
            ("/averageValue", Opt("/target/averageValue")),
        ],
        "pods" => vec![
            ("/metricName", Or("/metric/name", empty())),
            ("/targetAverageValue", Or("/target/averageValue", zero())),
            ("/selector", Opt("/metric/selector")),
        ],
        "external" => vec![
            ("/metricName", Or("/metric/name", empty())),
            ("/metricSelector", Opt("/metric/selector")),
            ("/targetValue", Opt("/target/value")),
            ("/targetAverageValue", Opt("/target/averageValue")),
        ],
        _ => vec![
            ("/name", Or("/name", empty())),
            (
                "/targetAverageUtilization",
                Opt("/target/averageUtilization"),
            ),
            ("/targetAverageValue", Opt("/target/averageValue")),
            ("/container", container(source)),
        ],
    };
    build(s, fields)
}

fn spec_to_v2(source: &str, s: &Value) -> Value {
    use Src::*;
    let has = |p: &str| s.pointer(p).is_some_and(|v| !v.is_null());
    let fields = match source {
        "object" => {
            let kind = if has("/averageValue") {
                "AverageValue"
            } else {
                "Value"
            };
            vec![
                ("/describedObject/kind", Or("/target/kind", empty())),
                ("/describedObject/name", Or("/target/name", empty())),
                ("/describedObject/apiVersion", Opt("/target/apiVersion")),
                ("/target/type", Lit(json!(kind))),
                ("/target/value", Or("/targetValue", zero())),
                ("/target/averageValue", Opt("/averageValue")),
                ("/metric/name", Or("/metricName", empty())),
                ("/metric/selector", Opt("/selector")),
            ]
        }
        "pods" => vec![
            ("/metric/name", Or("/metricName", empty())),
            ("/metric/selector", Opt("/selector")),
            ("/target/type", Lit(json!("AverageValue"))),
            ("/target/averageValue", Or("/targetAverageValue", zero())),
        ],
        "external" => {
            let kind = if has("/targetValue") {
                "Value"
            } else {
                "AverageValue"
            };
            vec![
                ("/metric/name", Or("/metricName", empty())),
                ("/metric/selector", Opt("/metricSelector")),
                ("/target/type", Lit(json!(kind))),
                ("/target/value", Opt("/targetValue")),
                ("/target/averageValue", Opt("/targetAverageValue")),
            ]
        }
        _ => {
            let kind = if has("/targetAverageUtilization") {
                "Utilization"
            } else {
                "AverageValue"
            };
            vec![
                ("/name", Or("/name", empty())),
                ("/target/type", Lit(json!(kind))),
                ("/target/averageValue", Opt("/targetAverageValue")),
                (
                    "/target/averageUtilization",
                    Opt("/targetAverageUtilization"),
                ),
                ("/container", container(source)),
            ]
        }
    };
    build(s, fields)
}

fn status_to_v1(source: &str, s: &Value) -> Value {
    use Src::*;
    let fields = match source {
        "object" => vec![
            ("/target/kind", Or("/describedObject/kind", empty())),
            ("/target/name", Or("/describedObject/name", empty())),
            ("/target/apiVersion", Opt("/describedObject/apiVersion")),
            ("/metricName", Or("/metric/name", empty())),
            ("/currentValue", Or("/current/value", zero())),
            ("/selector", Opt("/metric/selector")),
            ("/averageValue", Opt("/current/averageValue")),
        ],
        "pods" => vec![
            ("/metricName", Or("/metric/name", empty())),
            ("/currentAverageValue", Or("/current/averageValue", zero())),
            ("/selector", Opt("/metric/selector")),
        ],
        "external" => vec![
            ("/metricName", Or("/metric/name", empty())),
            ("/metricSelector", Opt("/metric/selector")),
            ("/currentValue", Or("/current/value", zero())),
            ("/currentAverageValue", Opt("/current/averageValue")),
        ],
        _ => vec![
            ("/name", Or("/name", empty())),
            (
                "/currentAverageUtilization",
                Opt("/current/averageUtilization"),
            ),
            ("/currentAverageValue", Or("/current/averageValue", zero())),
            ("/container", container(source)),
        ],
    };
    build(s, fields)
}

fn status_to_v2(source: &str, s: &Value) -> Value {
    use Src::*;
    let fields = match source {
        "object" => vec![
            ("/metric/name", Or("/metricName", empty())),
            ("/metric/selector", Opt("/selector")),
            ("/current/value", Or("/currentValue", zero())),
            ("/current/averageValue", Opt("/averageValue")),
            ("/describedObject/kind", Or("/target/kind", empty())),
            ("/describedObject/name", Or("/target/name", empty())),
            ("/describedObject/apiVersion", Opt("/target/apiVersion")),
        ],
        "pods" => vec![
            ("/metric/name", Or("/metricName", empty())),
            ("/metric/selector", Opt("/selector")),
            ("/current/averageValue", Or("/currentAverageValue", zero())),
        ],
        "external" => vec![
            ("/metric/name", Or("/metricName", empty())),
            ("/metric/selector", Opt("/metricSelector")),
            ("/current/value", Or("/currentValue", zero())),
            ("/current/averageValue", Opt("/currentAverageValue")),
        ],
        _ => vec![
            ("/name", Or("/name", empty())),
            ("/current/averageValue", Or("/currentAverageValue", zero())),
            (
                "/current/averageUtilization",
                Opt("/currentAverageUtilization"),
            ),
            ("/container", container(source)),
        ],
    };
    build(s, fields)
}

/// A container resource metric names its container; a resource metric has none.
fn container(source: &str) -> Src {
    if source == "containerResource" {
        Src::Or("/container", empty())
    } else {
        Src::Lit(Value::Null)
    }
}
