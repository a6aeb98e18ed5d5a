//! Small helpers over objects as JSON: metadata access, timestamps, and
//! presenting a stored object at the version a client asked for.

use crate::registry::ResourceType;
use serde_json::{json, Value};
use std::borrow::Cow;

/// RFC 3339 with seconds and `Z`, as the apiserver writes timestamps.
pub fn now() -> String {
    let now = time::OffsetDateTime::now_utc();
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    now.format(&format)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// Seconds since an RFC 3339 timestamp (0 when unparseable or in the future).
pub fn age_seconds(timestamp: &str) -> u64 {
    time::OffsetDateTime::parse(timestamp, &time::format_description::well_known::Rfc3339)
        .map(|t| (time::OffsetDateTime::now_utc() - t).whole_seconds().max(0) as u64)
        .unwrap_or(0)
}

pub fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(field)?.as_str()
}

pub fn metadata_mut(obj: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    match obj.get_mut("metadata") {
        Some(Value::Object(m)) => m,
        // Just made sure it is an object.
        _ => unreachable!("metadata is an object"),
    }
}

/// The object as the client's requested version presents it: converted for
/// a kind whose versions differ in shape (`convert.rs`), else the one stored
/// form with the requested apiVersion.
pub fn at_version<'a>(obj: &'a Value, rt: &ResourceType) -> Cow<'a, Value> {
    if let Some(converted) = crate::convert::to_version(obj, &rt.group, &rt.kind, &rt.version) {
        return Cow::Owned(converted);
    }
    let api_version = rt.api_version();
    let kind_ok = obj.get("kind").and_then(Value::as_str) == Some(rt.kind.as_str());
    if obj.get("apiVersion").and_then(Value::as_str) == Some(api_version.as_str()) && kind_ok {
        Cow::Borrowed(obj)
    } else {
        let mut owned = obj.clone();
        owned["apiVersion"] = json!(api_version);
        owned["kind"] = json!(rt.kind);
        Cow::Owned(owned)
    }
}

pub fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|f| {
            f.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_seconds() {
        let t = now();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.ends_with('Z'));
        assert!(age_seconds(&t) < 5);
        assert_eq!(age_seconds("garbage"), 0);
    }
}
