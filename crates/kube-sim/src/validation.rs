//! The validation kube-sim does: enough that invalid objects fail the way
//! they fail on a real cluster (names, required fields of common kinds), so a
//! dry-run can catch what a real apply would reject.

use crate::registry::ResourceType;
use crate::status::ApiError;
use serde_json::Value;

pub fn validate(rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut causes: Vec<(String, String)> = Vec::new();
    let dns_subdomain = !matches!(rt.kind.as_str(), "Namespace" | "Service");
    // RBAC names are path segments (`system:basic-user`), not DNS names.
    let rbac = rt.group == "rbac.authorization.k8s.io";
    if let Some(msg) = name_problem(name, dns_subdomain).filter(|_| !rbac) {
        causes.push((
            "metadata.name".into(),
            format!("Invalid value: \"{name}\": {msg}"),
        ));
    }
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") => {
            if obj.pointer("/spec/selector").is_none() {
                causes.push(("spec.selector".into(), "Required value".into()));
            }
            pod_template(
                obj.pointer("/spec/template/spec"),
                "spec.template.spec",
                &mut causes,
            );
            if let (Some(sel), Some(labels)) = (
                obj.pointer("/spec/selector/matchLabels")
                    .and_then(Value::as_object),
                obj.pointer("/spec/template/metadata/labels")
                    .and_then(Value::as_object),
            ) {
                if sel.iter().any(|(k, v)| labels.get(k) != Some(v)) {
                    causes.push((
                        "spec.template.metadata.labels".into(),
                        "Invalid value: `selector` does not match template `labels`".into(),
                    ));
                }
            }
        }
        ("", "Pod") => pod_template(obj.get("spec"), "spec", &mut causes),
        ("batch", "Job") => pod_template(
            obj.pointer("/spec/template/spec"),
            "spec.template.spec",
            &mut causes,
        ),
        ("", "Service") => {
            if let Some(ports) = obj.pointer("/spec/ports").and_then(Value::as_array) {
                for (i, p) in ports.iter().enumerate() {
                    if p.get("port")
                        .and_then(Value::as_i64)
                        .is_none_or(|n| !(1..=65535).contains(&n))
                    {
                        causes.push((
                            format!("spec.ports[{i}].port"),
                            "Invalid value: must be between 1 and 65535, inclusive".into(),
                        ));
                    }
                }
            }
        }
        ("", "ConfigMap") | ("", "Secret") => {
            for field in ["data", "binaryData"] {
                if let Some(map) = obj.get(field).and_then(Value::as_object) {
                    for (k, v) in map {
                        if !k
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                            || k.is_empty()
                        {
                            causes.push((format!("{field}[{k}]"), format!("Invalid value: \"{k}\": a valid config key must consist of alphanumeric characters, '-', '_' or '.'")));
                        }
                        if !v.is_string() {
                            causes.push((
                                format!("{field}[{k}]"),
                                "Invalid value: must be a string".into(),
                            ));
                        }
                    }
                }
            }
        }
        _ => {}
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(&rt.group, &rt.kind, name, causes))
    }
}

fn pod_template(spec: Option<&Value>, path: &str, causes: &mut Vec<(String, String)>) {
    let containers = spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array);
    match containers {
        None => causes.push((format!("{path}.containers"), "Required value".into())),
        Some(cs) => {
            for (i, c) in cs.iter().enumerate() {
                if c.get("name")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    causes.push((
                        format!("{path}.containers[{i}].name"),
                        "Required value".into(),
                    ));
                }
                if c.get("image")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    causes.push((
                        format!("{path}.containers[{i}].image"),
                        "Required value".into(),
                    ));
                }
            }
        }
    }
}

/// RFC 1123 subdomain (most kinds) or label (Namespace, Service).
fn name_problem(name: &str, subdomain: bool) -> Option<&'static str> {
    let max = if subdomain { 253 } else { 63 };
    let ok_char = |c: char| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (subdomain && c == '.')
    };
    let valid = !name.is_empty()
        && name.len() <= max
        && name.chars().all(ok_char)
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if valid {
        None
    } else if subdomain {
        Some("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character")
    } else {
        Some("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;
    use serde_json::json;

    #[test]
    fn names_and_containers_are_checked() {
        let r = Registry::with_builtins();
        let cm = r.find("", "v1", "configmaps").expect("served");
        assert!(validate(&cm, &json!({"metadata": {"name": "ok.name"}})).is_ok());
        let e = validate(&cm, &json!({"metadata": {"name": "Bad_Name"}})).expect_err("invalid");
        assert_eq!(e.code, 422);
        assert!(
            e.message
                .starts_with("ConfigMap \"Bad_Name\" is invalid: metadata.name"),
            "{}",
            e.message
        );
        let d = r.find("apps", "v1", "deployments").expect("served");
        let e = validate(&d, &json!({"metadata": {"name": "web"}, "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "c"}]}}}}))
            .expect_err("no image");
        assert!(
            e.message
                .contains("spec.template.spec.containers[0].image: Required value"),
            "{}",
            e.message
        );
    }
}
