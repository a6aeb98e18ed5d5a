//! Cell formatting for `table.rs`: the helpers kube-apiserver's printers use
//! (label selectors, container lists, ages, `<none>`), over JSON objects.

use crate::objects::age_seconds;
use serde_json::Value;

pub const NONE: &str = "<none>";

pub fn str_at<'a>(o: &'a Value, pointer: &str) -> &'a str {
    o.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The string at `pointer`, or `<none>` when it is missing or empty.
pub fn or_none(o: &Value, pointer: &str) -> String {
    non_empty(str_at(o, pointer).to_string())
}

pub fn non_empty(s: String) -> String {
    if s.is_empty() {
        NONE.to_string()
    } else {
        s
    }
}

pub fn int_at(o: &Value, pointer: &str) -> i64 {
    o.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

pub fn len_at(o: &Value, pointer: &str) -> usize {
    match o.pointer(pointer) {
        Some(Value::Array(a)) => a.len(),
        Some(Value::Object(m)) => m.len(),
        _ => 0,
    }
}

pub fn array_at<'a>(o: &'a Value, pointer: &str) -> &'a [Value] {
    o.pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Age of the timestamp at `pointer`, `<unknown>` when there is none.
pub fn age_at(o: &Value, pointer: &str) -> String {
    match o.pointer(pointer).and_then(Value::as_str) {
        Some(t) if !t.is_empty() => format_age(age_seconds(t)),
        _ => "<unknown>".into(),
    }
}

/// Container names (`field` "name") or images of a pod spec, comma-joined.
pub fn containers(o: &Value, pod_spec: &str, field: &str) -> String {
    array_at(o, &format!("{pod_spec}/containers"))
        .iter()
        .map(|c| str_at(c, &format!("/{field}")))
        .collect::<Vec<_>>()
        .join(",")
}

/// `labels.FormatLabels`: `a=1,b=2` sorted by key, `<none>` when empty.
pub fn format_labels(o: &Value, pointer: &str) -> String {
    let Some(m) = o.pointer(pointer).and_then(Value::as_object) else {
        return NONE.into();
    };
    let mut pairs: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    pairs.sort();
    non_empty(pairs.join(","))
}

/// `metav1.FormatLabelSelector`: requirements sorted by key, `<none>` when empty.
pub fn format_selector(o: &Value, pointer: &str) -> String {
    let Some(sel) = o.pointer(pointer) else {
        return NONE.into();
    };
    let mut reqs: Vec<(String, String)> = Vec::new();
    if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in m {
            reqs.push((k.clone(), format!("{k}={}", v.as_str().unwrap_or(""))));
        }
    }
    for e in sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
    {
        let key = str_at(e, "/key");
        let mut values: Vec<&str> = array_at(e, "/values")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        values.sort_unstable();
        let text = match str_at(e, "/operator") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            _ => continue,
        };
        reqs.push((key.to_string(), text));
    }
    reqs.sort();
    non_empty(
        reqs.into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// The `status` of the condition of `type` in `conditions` at `pointer`.
pub fn condition<'a>(o: &'a Value, pointer: &str, kind: &str) -> Option<&'a Value> {
    array_at(o, pointer)
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

pub fn condition_true(o: &Value, pointer: &str, kind: &str) -> bool {
    condition(o, pointer, kind).is_some_and(|c| str_at(c, "/status") == "True")
}

/// A scalar as kubectl prints it (`intstr` values, quantities): `N/A` when unset.
pub fn scalar_or(o: &Value, pointer: &str, missing: &str) -> String {
    match o.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => missing.to_string(),
    }
}

/// `duration.HumanDuration`, which kubectl's AGE column shows:
/// `45s`, `3m20s`, `12m`, `5h3m`, `20h`, `3d4h`, `30d`, `2y10d`.
pub fn format_age(secs: u64) -> String {
    let (m, h, d) = (secs / 60, secs / 3600, secs / 86400);
    let with = |big: u64, unit: &str, small: u64, small_unit: &str| {
        if small == 0 {
            format!("{big}{unit}")
        } else {
            format!("{big}{unit}{small}{small_unit}")
        }
    };
    match secs {
        s if s < 120 => format!("{s}s"),
        _ if m < 10 => with(m, "m", secs % 60, "s"),
        _ if m < 180 => format!("{m}m"),
        _ if h < 8 => with(h, "h", m % 60, "m"),
        _ if h < 48 => format!("{h}h"),
        _ if h < 24 * 8 => with(d, "d", h % 24, "h"),
        _ if h < 24 * 365 * 2 => format!("{d}d"),
        _ if h < 24 * 365 * 8 => with(d / 365, "y", d % 365, "d"),
        _ => format!("{}y", d / 365),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ages_as_human_duration() {
        let cases = [
            (30, "30s"),
            (119, "119s"),
            (120, "2m"),
            (400, "6m40s"),
            (900, "15m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 300, "3h5m"),
            (90_000, "25h"),
            (3 * 86400 + 4 * 3600, "3d4h"),
            (30 * 86400, "30d"),
            (800 * 86400, "2y70d"),
        ];
        for (secs, want) in cases {
            assert_eq!(format_age(secs), want, "{secs}s");
        }
    }

    #[test]
    fn selectors_format_as_the_apiserver_does() {
        let o = json!({"s": {"matchLabels": {"tier": "web", "app": "x"},
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]},
                                 {"key": "gone", "operator": "DoesNotExist"}]}});
        assert_eq!(
            format_selector(&o, "/s"),
            "app=x,env in (dev,prod),!gone,tier=web"
        );
        assert_eq!(format_selector(&json!({"s": {}}), "/s"), "<none>");
        assert_eq!(
            format_labels(&json!({"l": {"b": "2", "a": "1"}}), "/l"),
            "a=1,b=2"
        );
    }
}
