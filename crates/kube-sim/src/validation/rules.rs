//! Value validation: the common rules of kube-apiserver's
//! `pkg/apis/*/validation`, with their field paths, cause types and
//! messages (object names, required container name and image, enum values,
//! ports, selectors matching template labels), so a dry-run catches what a
//! real apply would reject. Runs on every write, after defaulting.

use super::go;
use crate::registry::ResourceType;
use crate::status::{ApiError, Cause};
use serde_json::{Map, Value};

const LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";

pub(crate) const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
pub(crate) const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
pub(crate) const DNS_POLICIES: &[&str] =
    &["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"];
pub(crate) const POD_RESTART: &[&str] = &["Always", "Never", "OnFailure"];
pub(crate) const SERVICE_TYPES: &[&str] =
    &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];

impl Cause {
    pub fn required(field: impl Into<String>) -> Cause {
        Cause::new(field, "FieldValueRequired", "Required value")
    }

    /// `Unsupported value: "x": supported values: "a", "b"`.
    pub fn not_supported(field: impl Into<String>, value: &str, supported: &[&str]) -> Cause {
        let quoted: Vec<String> = supported.iter().map(|s| go::quote(s)).collect();
        Cause::new(
            field,
            "FieldValueNotSupported",
            format!(
                "Unsupported value: {}: supported values: {}",
                go::quote(value),
                quoted.join(", ")
            ),
        )
    }

    /// `Invalid value: <shown>: detail`; `shown` is already formatted as Go
    /// prints the bad value (`"x"` for strings, `2` for numbers).
    pub fn invalid(field: impl Into<String>, shown: &str, detail: &str) -> Cause {
        Cause::new(
            field,
            "FieldValueInvalid",
            format!("Invalid value: {shown}: {detail}"),
        )
    }
}

fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    let shown: Vec<String> = examples.iter().map(|e| format!("'{e}', ")).collect();
    format!(
        "{msg} (e.g. {}regex used for validation is '{fmt}')",
        shown.join(" or ")
    )
}

fn is_label(s: &str) -> bool {
    let b = s.as_bytes();
    let inner = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-';
    let end = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty() && end(&b[0]) && end(&b[b.len() - 1]) && b.iter().all(inner)
}

/// `IsDNS1123Label`: the messages for a container or Namespace name.
fn label_problems(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    if s.len() > 63 {
        out.push("must be no more than 63 characters".to_string());
    }
    if !is_label(s) {
        if s.split('.').all(is_label) {
            out.push("must not contain dots".to_string());
        } else {
            out.push(regex_error(LABEL_MSG, LABEL_FMT, &["my-name", "123-abc"]));
        }
    }
    out
}

fn subdomain_problems(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    if s.len() > 253 {
        out.push("must be no more than 253 characters".to_string());
    }
    if !s.split('.').all(is_label) {
        let fmt = format!("{LABEL_FMT}(\\.{LABEL_FMT})*");
        out.push(regex_error(SUBDOMAIN_MSG, &fmt, &["example.com"]));
    }
    out
}

fn dns1035_problems(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    if s.len() > 63 {
        out.push("must be no more than 63 characters".to_string());
    }
    if !(is_label(s) && s.starts_with(|c: char| c.is_ascii_lowercase())) {
        out.push(regex_error(
            DNS1035_MSG,
            DNS1035_FMT,
            &["my-name", "abc-123"],
        ));
    }
    out
}

/// RBAC objects take any name that is a valid path segment.
fn path_segment_problems(s: &str) -> Vec<String> {
    if s == "." || s == ".." {
        return vec![format!("may not be '{s}'")];
    }
    ["/", "%"]
        .iter()
        .filter(|bad| s.contains(**bad))
        .map(|bad| format!("may not contain '{bad}'"))
        .collect()
}

pub fn validate(rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut causes: Vec<Cause> = Vec::new();
    let name_problems = match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Namespace") => label_problems(name),
        ("", "Service") => dns1035_problems(name),
        ("rbac.authorization.k8s.io", _) => path_segment_problems(name),
        _ => subdomain_problems(name),
    };
    if !name.is_empty() {
        for p in name_problems {
            causes.push(Cause::invalid("metadata.name", &go::quote(name), &p));
        }
    }
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") => {
            workload(obj, &mut causes)
        }
        ("", "Pod") => pod_spec(obj.get("spec"), "spec", POD_RESTART, &mut causes),
        ("", "PodTemplate") => pod_spec(
            obj.pointer("/template/spec"),
            "template.spec",
            POD_RESTART,
            &mut causes,
        ),
        ("batch", "Job") => pod_spec(
            obj.pointer("/spec/template/spec"),
            "spec.template.spec",
            &["OnFailure", "Never"],
            &mut causes,
        ),
        ("batch", "CronJob") => pod_spec(
            obj.pointer("/spec/jobTemplate/spec/template/spec"),
            "spec.jobTemplate.spec.template.spec",
            &["OnFailure", "Never"],
            &mut causes,
        ),
        ("", "Service") => service(obj, &mut causes),
        ("", "ConfigMap") | ("", "Secret") => config_keys(obj, &mut causes),
        _ => {}
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid_with(&rt.group, &rt.kind, name, causes))
    }
}

fn workload(obj: &Value, causes: &mut Vec<Cause>) {
    match obj.pointer("/spec/selector") {
        None | Some(Value::Null) => causes.push(Cause::required("spec.selector")),
        Some(selector) => {
            let labels = obj
                .pointer("/spec/template/metadata/labels")
                .and_then(Value::as_object);
            let empty = Map::new();
            let labels = labels.unwrap_or(&empty);
            if !selector_is_empty(selector) && !selector_matches(selector, labels) {
                causes.push(Cause::invalid(
                    "spec.template.metadata.labels",
                    &go::sharp_v_string_map(labels),
                    "`selector` does not match template `labels`",
                ));
            }
        }
    }
    pod_spec(
        obj.pointer("/spec/template/spec"),
        "spec.template.spec",
        POD_RESTART,
        causes,
    );
    // Controllers' pods must restart.
    if let Some(policy) = obj
        .pointer("/spec/template/spec/restartPolicy")
        .and_then(Value::as_str)
    {
        if policy != "Always" && POD_RESTART.contains(&policy) {
            causes.push(Cause::not_supported(
                "spec.template.spec.restartPolicy",
                policy,
                &["Always"],
            ));
        }
    }
}

fn selector_is_empty(selector: &Value) -> bool {
    let n = |k: &str| {
        selector.get(k).map_or(0, |v| {
            v.as_object().map_or(0, Map::len) + v.as_array().map_or(0, Vec::len)
        })
    };
    n("matchLabels") + n("matchExpressions") == 0
}

/// A `metav1.LabelSelector` against a label set.
fn selector_matches(selector: &Value, labels: &Map<String, Value>) -> bool {
    let by_labels = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .is_none_or(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)));
    let by_expressions = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .is_none_or(|exprs| {
            exprs.iter().all(|e| {
                let key = e.get("key").and_then(Value::as_str).unwrap_or("");
                let values: Vec<&str> = e
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|vs| vs.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let have = labels.get(key).and_then(Value::as_str);
                match e.get("operator").and_then(Value::as_str).unwrap_or("") {
                    "In" => have.is_some_and(|h| values.contains(&h)),
                    "NotIn" => have.is_none_or(|h| !values.contains(&h)),
                    "Exists" => have.is_some(),
                    "DoesNotExist" => have.is_none(),
                    _ => false,
                }
            })
        });
    by_labels && by_expressions
}

fn pod_spec(spec: Option<&Value>, path: &str, restart: &[&str], causes: &mut Vec<Cause>) {
    let containers = spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array);
    match containers {
        None => causes.push(Cause::required(format!("{path}.containers"))),
        Some(cs) if cs.is_empty() => causes.push(Cause::required(format!("{path}.containers"))),
        Some(cs) => containers_rules(cs, &format!("{path}.containers"), causes),
    }
    if let Some(init) = spec
        .and_then(|s| s.get("initContainers"))
        .and_then(Value::as_array)
    {
        containers_rules(init, &format!("{path}.initContainers"), causes);
    }
    let Some(spec) = spec else { return };
    if let Some(policy) = spec.get("restartPolicy").and_then(Value::as_str) {
        if !policy.is_empty() && !restart.contains(&policy) {
            causes.push(Cause::not_supported(
                format!("{path}.restartPolicy"),
                policy,
                restart,
            ));
        }
    }
    if let Some(policy) = spec.get("dnsPolicy").and_then(Value::as_str) {
        if !DNS_POLICIES.contains(&policy) {
            causes.push(Cause::not_supported(
                format!("{path}.dnsPolicy"),
                policy,
                DNS_POLICIES,
            ));
        }
    }
}

fn containers_rules(cs: &[Value], path: &str, causes: &mut Vec<Cause>) {
    let mut seen: Vec<&str> = Vec::new();
    for (i, c) in cs.iter().enumerate() {
        let at = format!("{path}[{i}]");
        match c
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        {
            None => causes.push(Cause::required(format!("{at}.name"))),
            Some(name) => {
                for p in label_problems(name) {
                    causes.push(Cause::invalid(format!("{at}.name"), &go::quote(name), &p));
                }
                if seen.contains(&name) {
                    causes.push(Cause::new(
                        format!("{at}.name"),
                        "FieldValueDuplicate",
                        format!("Duplicate value: {}", go::quote(name)),
                    ));
                }
                seen.push(name);
            }
        }
        if c.get("image")
            .and_then(Value::as_str)
            .is_none_or(|s| s.trim().is_empty())
        {
            causes.push(Cause::required(format!("{at}.image")));
        }
        if let Some(ports) = c.get("ports").and_then(Value::as_array) {
            for (j, p) in ports.iter().enumerate() {
                let port_at = format!("{at}.ports[{j}]");
                match p.get("containerPort").and_then(Value::as_i64) {
                    None | Some(0) => {
                        causes.push(Cause::required(format!("{port_at}.containerPort")))
                    }
                    Some(n) if !(1..=65535).contains(&n) => causes.push(Cause::invalid(
                        format!("{port_at}.containerPort"),
                        &n.to_string(),
                        "must be between 1 and 65535, inclusive",
                    )),
                    Some(_) => {}
                }
                protocol(p, &port_at, causes);
            }
        }
        if let Some(policy) = c.get("imagePullPolicy").and_then(Value::as_str) {
            if !PULL_POLICIES.contains(&policy) {
                causes.push(Cause::not_supported(
                    format!("{at}.imagePullPolicy"),
                    policy,
                    PULL_POLICIES,
                ));
            }
        }
    }
}

fn protocol(port: &Value, at: &str, causes: &mut Vec<Cause>) {
    if let Some(proto) = port.get("protocol").and_then(Value::as_str) {
        if !PROTOCOLS.contains(&proto) {
            causes.push(Cause::not_supported(
                format!("{at}.protocol"),
                proto,
                PROTOCOLS,
            ));
        }
    }
}

fn service(obj: &Value, causes: &mut Vec<Cause>) {
    if let Some(t) = obj.pointer("/spec/type").and_then(Value::as_str) {
        if !SERVICE_TYPES.contains(&t) {
            causes.push(Cause::not_supported("spec.type", t, SERVICE_TYPES));
        }
    }
    if let Some(ports) = obj.pointer("/spec/ports").and_then(Value::as_array) {
        for (i, p) in ports.iter().enumerate() {
            let at = format!("spec.ports[{i}]");
            match p.get("port").and_then(Value::as_i64) {
                None | Some(0) => causes.push(Cause::required(format!("{at}.port"))),
                Some(n) if !(1..=65535).contains(&n) => causes.push(Cause::invalid(
                    format!("{at}.port"),
                    &n.to_string(),
                    "must be between 1 and 65535, inclusive",
                )),
                Some(_) => {}
            }
            protocol(p, &at, causes);
        }
    }
}

/// ConfigMap and Secret keys: `IsConfigMapKey`.
fn config_keys(obj: &Value, causes: &mut Vec<Cause>) {
    for field in ["data", "binaryData"] {
        let Some(map) = obj.get(field).and_then(Value::as_object) else {
            continue;
        };
        for k in map.keys() {
            let ok = !k.is_empty()
                && k.len() <= 253
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !ok {
                causes.push(Cause::invalid(
                    format!("{field}[{k}]"),
                    &go::quote(k),
                    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;
    use serde_json::json;

    fn check(plural: &str, group: &str, obj: Value) -> Result<(), ApiError> {
        let r = Registry::with_builtins();
        let rt = r.find(group, "v1", plural).expect("served");
        validate(&rt, &obj)
    }

    fn deployment(container: Value, selector: Value, labels: Value) -> Value {
        json!({"metadata": {"name": "web"}, "spec": {"selector": selector,
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}}})
    }

    #[test]
    fn names_follow_the_kind_rule() {
        assert!(check("configmaps", "", json!({"metadata": {"name": "ok.name"}})).is_ok());
        let e =
            check("configmaps", "", json!({"metadata": {"name": "Bad_Name"}})).expect_err("bad");
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        );
        let e = check(
            "services",
            "",
            json!({"metadata": {"name": "1web"}, "spec": {"ports": [{"port": 80}]}}),
        )
        .expect_err("a Service name is a DNS-1035 label");
        assert!(
            e.message.contains("a DNS-1035 label must consist"),
            "{}",
            e.message
        );
        let e = check("namespaces", "", json!({"metadata": {"name": "a.b"}})).expect_err("dots");
        assert!(
            e.message
                .ends_with("Invalid value: \"a.b\": must not contain dots"),
            "{}",
            e.message
        );
        let rbac = check(
            "clusterroles",
            "rbac.authorization.k8s.io",
            json!({"metadata": {"name": "system:aggregate-to-edit"}}),
        );
        assert!(rbac.is_ok(), "{rbac:?}");
    }

    #[test]
    fn containers_need_name_and_image_and_known_enums() {
        let e = check(
            "deployments",
            "apps",
            deployment(json!({"name": "c", "imagePullPolicy": "Sometimes", "ports": [{"containerPort": 80, "protocol": "tcp"}]}),
                json!({"matchLabels": {"app": "web"}}), json!({"app": "web"})),
        )
        .expect_err("invalid");
        assert_eq!(
            e.message,
            "Deployment.apps \"web\" is invalid: [spec.template.spec.containers[0].image: Required value, spec.template.spec.containers[0].ports[0].protocol: Unsupported value: \"tcp\": supported values: \"SCTP\", \"TCP\", \"UDP\", spec.template.spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"]"
        );
        let causes = &e.details.as_ref().expect("details")["causes"];
        assert_eq!(causes[0]["reason"], "FieldValueRequired");
        assert_eq!(causes[2]["reason"], "FieldValueNotSupported");
        assert_eq!(
            causes[2]["field"],
            "spec.template.spec.containers[0].imagePullPolicy"
        );
        let e = check(
            "pods",
            "",
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"image": "x"}],
            "restartPolicy": "Sometimes", "dnsPolicy": "Nope"}}),
        )
        .expect_err("invalid");
        assert_eq!(e.message, "Pod \"p\" is invalid: [spec.containers[0].name: Required value, spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"Never\", \"OnFailure\", spec.dnsPolicy: Unsupported value: \"Nope\": supported values: \"ClusterFirst\", \"ClusterFirstWithHostNet\", \"Default\", \"None\"]");
    }

    #[test]
    fn a_selector_must_match_the_template() {
        let c = json!({"name": "c", "image": "nginx"});
        let e = check(
            "deployments",
            "apps",
            deployment(
                c.clone(),
                json!({"matchLabels": {"app": "web"}}),
                json!({"app": "api", "tier": "x"}),
            ),
        )
        .expect_err("mismatch");
        assert_eq!(e.message, "Deployment.apps \"web\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"api\", \"tier\":\"x\"}: `selector` does not match template `labels`");
        let exprs = json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]});
        assert!(check(
            "deployments",
            "apps",
            deployment(c.clone(), exprs, json!({"app": "api"}))
        )
        .is_ok());
        let never = json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"restartPolicy": "Never", "containers": [c]}}}});
        let e = check("deployments", "apps", never).expect_err("never");
        assert!(e.message.ends_with("spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""), "{}", e.message);
    }

    #[test]
    fn service_types_and_ports() {
        let e = check("services", "", json!({"metadata": {"name": "web"}, "spec": {"type": "Internal", "ports": [{"port": 70000, "protocol": "HTTP"}]}}))
            .expect_err("invalid");
        assert_eq!(e.message, "Service \"web\" is invalid: [spec.type: Unsupported value: \"Internal\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\", spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive, spec.ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"]");
    }
}
