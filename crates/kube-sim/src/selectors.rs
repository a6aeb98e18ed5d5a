//! Label and field selectors, parsed and matched as the apiserver does.

use crate::status::ApiError;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed `labelSelector`; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(Vec<Requirement>);

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for term in split_terms(s) {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            reqs.push(parse_term(term).ok_or_else(|| {
                ApiError::bad_request(format!("unable to parse requirement: found '{term}'"))
            })?);
        }
        Ok(LabelSelector(reqs))
    }

    pub fn matches(&self, object: &Value) -> bool {
        let labels = object.pointer("/metadata/labels");
        let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => label(k) == Some(v),
            Requirement::NotEquals(k, v) => label(k) != Some(v),
            Requirement::In(k, vs) => label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            Requirement::NotIn(k, vs) => !label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            Requirement::Exists(k) => label(k).is_some(),
            Requirement::NotExists(k) => label(k).is_none(),
        })
    }
}

/// Split on commas that are not inside `in (...)` parentheses.
fn split_terms(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn parse_term(term: &str) -> Option<Requirement> {
    if let Some(key) = term.strip_prefix('!') {
        return valid_key(key.trim()).map(|k| Requirement::NotExists(k.to_string()));
    }
    if let Some((k, v)) = term.split_once("!=") {
        return Some(Requirement::NotEquals(
            valid_key(k.trim())?.into(),
            v.trim().into(),
        ));
    }
    if let Some((k, v)) = term.split_once("==") {
        return Some(Requirement::Equals(
            valid_key(k.trim())?.into(),
            v.trim().into(),
        ));
    }
    if let Some((k, v)) = term.split_once('=') {
        return Some(Requirement::Equals(
            valid_key(k.trim())?.into(),
            v.trim().into(),
        ));
    }
    let mut words = term.splitn(2, char::is_whitespace);
    let key = valid_key(words.next()?.trim())?;
    let Some(rest) = words.next() else {
        return Some(Requirement::Exists(key.to_string()));
    };
    let rest = rest.trim();
    let (op, values) = if let Some(v) = rest.strip_prefix("notin") {
        ("notin", v)
    } else if let Some(v) = rest.strip_prefix("in") {
        ("in", v)
    } else {
        return None;
    };
    let values = values.trim().strip_prefix('(')?.strip_suffix(')')?;
    let values: Vec<String> = values
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    Some(if op == "in" {
        Requirement::In(key.into(), values)
    } else {
        Requirement::NotIn(key.into(), values)
    })
}

fn valid_key(k: &str) -> Option<&str> {
    let ok = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    ok.then_some(k)
}

/// A parsed `fieldSelector`: `metadata.name` and `metadata.namespace`, and
/// the labels kube-apiserver supports for the kind (others are a 400).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    pub fn parse(s: &str, kind: &str) -> Result<Self, ApiError> {
        let mut out = Vec::new();
        for term in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (field, equal, value) = if let Some((f, v)) = term.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = term.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = term.split_once('=') {
                (f, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{term}'"
                )));
            };
            let field = field.trim();
            let supported = matches!(field, "metadata.name" | "metadata.namespace")
                || kind_field_labels(kind).contains(&field);
            if !supported {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {field}"
                )));
            }
            out.push((field.to_string(), equal, value.trim().to_string()));
        }
        Ok(FieldSelector(out))
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|(field, equal, value)| {
            let pointer = match field.as_str() {
                "source" => "/source/component".to_string(),
                "status.successful" => "/status/succeeded".to_string(),
                f => format!("/{}", f.replace('.', "/")),
            };
            // Booleans and counts compare as the apiserver formats them.
            let actual = match object.pointer(&pointer) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(Value::Number(n)) => n.to_string(),
                _ => match field.as_str() {
                    "spec.hostNetwork" | "spec.unschedulable" => "false".into(),
                    "status.replicas" | "status.successful" => "0".into(),
                    _ => String::new(),
                },
            };
            (actual == *value) == *equal
        })
    }

    /// `metadata.name=x`, which lets a get-by-name use the index.
    pub fn exact_name(&self) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, eq, _)| f == "metadata.name" && *eq)
            .map(|(_, _, v)| v.as_str())
    }
}

/// The field labels kube-apiserver's storage of a kind selects on, besides
/// `metadata.name` and `metadata.namespace` (its `GetAttrs` functions).
fn kind_field_labels(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pod" => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        "Event" => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        "Secret" => &["type"],
        "Namespace" => &["status.phase"],
        "Node" => &["spec.unschedulable"],
        "ReplicationController" | "ReplicaSet" => &["status.replicas"],
        "Job" => &["status.successful"],
        "CertificateSigningRequest" => &["spec.signerName"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "x", "namespace": "ns", "labels": labels}})
    }

    #[test]
    fn every_label_operator() {
        let o = obj(json!({"app": "web", "tier": "front"}));
        let m = |s: &str| LabelSelector::parse(s).expect("parses").matches(&o);
        assert!(m("app=web"));
        assert!(m("app==web"));
        assert!(!m("app!=web"));
        assert!(m("app in (web, api)"));
        assert!(!m("app notin (web,api)"));
        assert!(m("tier"));
        assert!(m("!missing"));
        assert!(!m("!tier"));
        assert!(m("app=web,tier in (front)"));
        assert!(m(""));
        assert!(LabelSelector::parse("app in web").is_err());
    }

    #[test]
    fn field_selectors_on_name_and_namespace_only() {
        let o = obj(json!({}));
        let f = FieldSelector::parse("metadata.name=x,metadata.namespace!=other", "ConfigMap")
            .expect("supported");
        assert!(f.matches(&o));
        assert_eq!(f.exact_name(), Some("x"));
        let e = FieldSelector::parse("spec.foo=1", "ConfigMap").expect_err("unsupported");
        assert_eq!(e.code, 400);
        assert_eq!(e.message, "field label not supported: spec.foo");
    }

    #[test]
    fn kinds_select_on_their_own_field_labels() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
        let m = |s: &str| {
            FieldSelector::parse(s, "Pod")
                .expect("pod label")
                .matches(&pod)
        };
        assert!(m("spec.nodeName=n1,status.phase=Running"));
        assert!(!m("spec.nodeName=n2"));
        assert!(m("spec.hostNetwork=false"));
        assert!(FieldSelector::parse("spec.nodeName=n1", "ConfigMap").is_err());
        let node = json!({"metadata": {"name": "n"}, "spec": {"unschedulable": true}});
        let f = FieldSelector::parse("spec.unschedulable=true", "Node").expect("node label");
        assert!(f.matches(&node));
        let job = json!({"status": {"succeeded": 1}});
        let f = FieldSelector::parse("status.successful=1", "Job").expect("job label");
        assert!(f.matches(&job));
    }
}
