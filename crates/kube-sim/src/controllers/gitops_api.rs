//! What every simulated GitOps controller does against the API: get, patch,
//! apply and delete over HTTP with kube-rs (as the real controllers use
//! client-go), kstatus-style conditions, Go durations and digests. Kept apart
//! from the controllers so each of them reads as the reconcile it simulates.

use super::gitops::Ctl;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::discovery::ApiResource;
use serde_json::{json, Value};
use std::time::Duration;

/// An API error as the controllers report it: the apiserver's message.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiFailure {
    #[error("{0}")]
    Api(String),
}

impl From<kube::Error> for ApiFailure {
    fn from(e: kube::Error) -> Self {
        match e {
            kube::Error::Api(s) => ApiFailure::Api(s.message),
            other => ApiFailure::Api(other.to_string()),
        }
    }
}

/// The served resource for `apiVersion` + `kind`, and whether it is namespaced.
pub(crate) fn resource(ctl: &Ctl, api_version: &str, kind: &str) -> Option<(ApiResource, bool)> {
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    let state = ctl.shared.lock();
    let rt = state
        .registry
        .all()
        .iter()
        .find(|t| t.group == group && t.version == version && t.kind == kind)?
        .clone();
    drop(state);
    Some((
        ApiResource {
            group: group.into(),
            version: version.into(),
            api_version: api_version.into(),
            kind: kind.into(),
            plural: rt.plural.clone(),
        },
        rt.namespaced,
    ))
}

pub(crate) fn api(ctl: &Ctl, ar: &ApiResource, namespaced: bool, ns: &str) -> Api<DynamicObject> {
    if namespaced {
        Api::namespaced_with(ctl.client.clone(), ns, ar)
    } else {
        Api::all_with(ctl.client.clone(), ar)
    }
}

/// The API of one of the controllers' own kinds (`None` if its CRD is not installed).
pub(crate) fn own_api(
    ctl: &Ctl,
    api_version: &str,
    kind: &str,
    ns: &str,
) -> Option<Api<DynamicObject>> {
    let (ar, namespaced) = resource(ctl, api_version, kind)?;
    Some(api(ctl, &ar, namespaced, ns))
}

fn to_value(o: DynamicObject) -> Value {
    serde_json::to_value(o).unwrap_or(Value::Null)
}

pub(crate) async fn get(api: &Api<DynamicObject>, name: &str) -> Result<Option<Value>, ApiFailure> {
    Ok(api.get_opt(name).await?.map(to_value))
}

pub(crate) async fn merge_patch(
    api: &Api<DynamicObject>,
    name: &str,
    patch: &Value,
    manager: &str,
) -> Result<Value, ApiFailure> {
    let pp = PatchParams {
        field_manager: Some(manager.into()),
        ..Default::default()
    };
    Ok(to_value(api.patch(name, &pp, &Patch::Merge(patch)).await?))
}

pub(crate) async fn merge_patch_status(
    api: &Api<DynamicObject>,
    name: &str,
    patch: &Value,
    manager: &str,
) -> Result<Value, ApiFailure> {
    let pp = PatchParams {
        field_manager: Some(manager.into()),
        ..Default::default()
    };
    Ok(to_value(
        api.patch_status(name, &pp, &Patch::Merge(patch)).await?,
    ))
}

/// Server-side apply with `force` (both Flux and Argo CD take ownership).
pub(crate) async fn apply(
    api: &Api<DynamicObject>,
    obj: &Value,
    manager: &str,
    dry_run: bool,
) -> Result<Value, ApiFailure> {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut pp = PatchParams::apply(manager).force();
    pp.dry_run = dry_run;
    Ok(to_value(api.patch(name, &pp, &Patch::Apply(obj)).await?))
}

/// Delete with background propagation; `Ok(false)` if it was already gone.
pub(crate) async fn delete(api: &Api<DynamicObject>, name: &str) -> Result<bool, ApiFailure> {
    match api.delete(name, &DeleteParams::background()).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Add or remove `finalizer` with a merge patch of the whole list.
pub(crate) async fn set_finalizer(
    api: &Api<DynamicObject>,
    obj: &Value,
    finalizer: &str,
    present: bool,
    manager: &str,
) -> Result<(), ApiFailure> {
    let mut list: Vec<String> = obj
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let has = list.iter().any(|f| f == finalizer);
    if has == present {
        return Ok(());
    }
    if present {
        list.push(finalizer.into());
    } else {
        list.retain(|f| f != finalizer);
    }
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let rv = obj
        .pointer("/metadata/resourceVersion")
        .cloned()
        .unwrap_or(Value::Null);
    let patch = json!({"metadata": {"finalizers": list, "resourceVersion": rv}});
    merge_patch(api, name, &patch, manager).await.map(|_| ())
}

pub(crate) fn now() -> String {
    crate::objects::now()
}

pub(crate) fn str_at<'a>(obj: &'a Value, pointer: &str) -> Option<&'a str> {
    obj.pointer(pointer).and_then(Value::as_str)
}

pub(crate) fn generation(obj: &Value) -> i64 {
    obj.pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

/// Set a condition as `meta.SetStatusCondition` does: the transition time
/// moves only when the status changes.
pub(crate) fn set_condition(
    conditions: &mut Vec<Value>,
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    observed_generation: i64,
) {
    let now = now();
    if let Some(c) = conditions
        .iter_mut()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
    {
        if c.get("status").and_then(Value::as_str) != Some(status) {
            c["lastTransitionTime"] = json!(now);
        }
        c["status"] = json!(status);
        c["reason"] = json!(reason);
        c["message"] = json!(message);
        c["observedGeneration"] = json!(observed_generation);
        return;
    }
    conditions.push(json!({
        "lastTransitionTime": now,
        "message": message,
        "observedGeneration": observed_generation,
        "reason": reason,
        "status": status,
        "type": kind,
    }));
}

pub(crate) fn remove_condition(conditions: &mut Vec<Value>, kind: &str) {
    conditions.retain(|c| c.get("type").and_then(Value::as_str) != Some(kind));
}

pub(crate) fn conditions_of(obj: &Value) -> Vec<Value> {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// A Go `time.Duration` string (`1m`, `10m0s`, `1h30m`, `500ms`).
pub(crate) fn parse_go_duration(s: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let n: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let secs = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return None,
        };
        total += Duration::from_secs_f64(n * secs);
        rest = &rest[unit_len..];
    }
    Some(total)
}

/// A duration the way Go prints it (`5m0s`, `1h0m0s`, `30s`).
pub(crate) fn go_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A merge patch that turns `old` into `new` (removed keys as null).
pub(crate) fn merge_diff(old: &Value, new: &Value) -> Option<Value> {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let mut patch = serde_json::Map::new();
            for (k, nv) in n {
                match o.get(k) {
                    Some(ov) => {
                        if let Some(p) = merge_diff(ov, nv) {
                            patch.insert(k.clone(), p);
                        }
                    }
                    None => {
                        patch.insert(k.clone(), nv.clone());
                    }
                }
            }
            for k in o.keys() {
                if !n.contains_key(k) {
                    patch.insert(k.clone(), Value::Null);
                }
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        (o, n) if o == n => None,
        (_, n) => Some(n.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse_and_print() {
        assert_eq!(parse_go_duration("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_go_duration("10m0s"), Some(Duration::from_secs(600)));
        assert_eq!(parse_go_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("5x"), None);
        assert_eq!(parse_go_duration(""), None);
        assert_eq!(go_duration(Duration::from_secs(300)), "5m0s");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
    }

    #[test]
    fn merge_diff_nulls_removed_keys_and_keeps_equal_ones_out() {
        let old = json!({"a": 1, "b": {"c": 1, "d": 2}, "e": [1]});
        let new = json!({"a": 1, "b": {"c": 2}, "e": [1, 2], "f": "x"});
        assert_eq!(
            merge_diff(&old, &new),
            Some(json!({"b": {"c": 2, "d": null}, "e": [1, 2], "f": "x"}))
        );
        assert_eq!(merge_diff(&old, &old), None);
    }

    #[test]
    fn sha256_is_the_real_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
