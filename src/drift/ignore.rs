//! `ignore_differences` rules, as in Argo CD: per group/kind/name/namespace,
//! JSON pointers to leave out of the comparison, and field managers whose
//! fields (in the live object's managedFields) are left out, e.g. replicas
//! owned by an HPA (`kube-controller-manager`).
//!
//! Ignored fields are removed from *both* sides before comparing, so they
//! neither show as drift nor appear in the diff.

use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use super::fields::{owned_by, remove_fields};
use super::normalize::{group_of, kind_of};

/// One `ignore_differences` rule. Unset selectors match anything, and so does
/// `*`. Keys are read in snake_case (our TOML config) or Argo CD's camelCase.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreRule {
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default, alias = "jsonPointers")]
    pub json_pointers: Vec<String>,
    #[serde(default, alias = "managedFieldsManagers")]
    pub managed_fields_managers: Vec<String>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum IgnoreError {
    #[error("ignore_differences: JSON pointer {0:?} must start with '/'")]
    BadPointer(String),
    #[error("ignore_differences: a rule needs json_pointers or managed_fields_managers")]
    Empty,
}

impl IgnoreRule {
    /// Checks the rule's shape; for config loading, so mistakes are reported
    /// once with the rule rather than silently ignoring nothing.
    pub fn validate(&self) -> Result<(), IgnoreError> {
        if self.json_pointers.is_empty() && self.managed_fields_managers.is_empty() {
            return Err(IgnoreError::Empty);
        }
        match self.json_pointers.iter().find(|p| !p.starts_with('/')) {
            Some(bad) => Err(IgnoreError::BadPointer(bad.clone())),
            None => Ok(()),
        }
    }

    /// Whether the rule applies to `obj` (desired or live; both name the same
    /// object).
    pub fn matches(&self, obj: &Value) -> bool {
        let meta = |field: &str| {
            obj.pointer(&format!("/metadata/{field}"))
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        selector_matches(&self.group, group_of(obj))
            && selector_matches(&self.kind, kind_of(obj))
            && selector_matches(&self.name, meta("name"))
            && selector_matches(&self.namespace, meta("namespace"))
    }
}

fn selector_matches(selector: &Option<String>, actual: &str) -> bool {
    match selector.as_deref() {
        None | Some("*") => true,
        Some(want) => want == actual,
    }
}

/// Removes what the matching rules ignore from every object in `sides`.
/// `identity` picks the rules and `live` supplies managedFields (it is one of
/// the sides, or the live object they were derived from).
pub fn apply_rules(rules: &[IgnoreRule], identity: &Value, live: &Value, sides: &mut [&mut Value]) {
    for rule in rules.iter().filter(|r| r.matches(identity)) {
        if !rule.managed_fields_managers.is_empty() {
            let managers: Vec<&str> = rule
                .managed_fields_managers
                .iter()
                .map(String::as_str)
                .collect();
            // A malformed entry of an ignored manager ignores nothing more.
            let (fields, _errors) = owned_by(live, &managers);
            for side in sides.iter_mut() {
                remove_fields(side, &fields);
            }
        }
        for pointer in &rule.json_pointers {
            for side in sides.iter_mut() {
                remove_pointer(side, pointer);
            }
        }
    }
}

/// Removes the value at an RFC 6901 pointer, if present.
pub fn remove_pointer(obj: &mut Value, pointer: &str) {
    let Some(rest) = pointer.strip_prefix('/') else {
        return;
    };
    let tokens: Vec<String> = rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, parents)) = tokens.split_last() else {
        return;
    };
    let mut current = obj;
    for token in parents {
        let next = match current {
            Value::Object(map) => map.get_mut(token),
            Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        };
        match next {
            Some(v) => current = v,
            None => return,
        }
    }
    match current {
        Value::Object(map) => {
            map.shift_remove(last);
        }
        Value::Array(items) => {
            if let Some(i) = last.parse::<usize>().ok().filter(|i| *i < items.len()) {
                items.remove(i);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default",
                "annotations": {"a/b": "x"},
                "managedFields": [{"manager": "kube-controller-manager", "operation": "Update",
                    "subresource": "scale", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]},
            "spec": {"replicas": 5, "paused": false, "list": [1, 2, 3]}})
    }

    #[test]
    fn deserialises_both_spellings() {
        let argo: IgnoreRule = serde_json::from_value(json!({
            "group": "apps", "kind": "Deployment",
            "jsonPointers": ["/spec/replicas"], "managedFieldsManagers": ["kube-controller-manager"]
        }))
        .expect("camelCase");
        let ours: IgnoreRule = serde_json::from_value(json!({
            "group": "apps", "kind": "Deployment",
            "json_pointers": ["/spec/replicas"], "managed_fields_managers": ["kube-controller-manager"]
        }))
        .expect("snake_case");
        assert_eq!(argo, ours);
        assert!(serde_json::from_value::<IgnoreRule>(json!({"kindd": "x"})).is_err());
    }

    #[test]
    fn validates() {
        let rule = IgnoreRule {
            json_pointers: vec!["spec/replicas".into()],
            ..Default::default()
        };
        assert_eq!(
            rule.validate(),
            Err(IgnoreError::BadPointer("spec/replicas".into()))
        );
        assert_eq!(IgnoreRule::default().validate(), Err(IgnoreError::Empty));
    }

    #[test]
    fn matching() {
        let d = deployment();
        let rule = |group: &str, kind: &str| IgnoreRule {
            group: Some(group.into()),
            kind: Some(kind.into()),
            ..Default::default()
        };
        assert!(rule("apps", "Deployment").matches(&d));
        assert!(rule("*", "Deployment").matches(&d));
        assert!(!rule("", "Deployment").matches(&d));
        assert!(!IgnoreRule {
            name: Some("api".into()),
            ..Default::default()
        }
        .matches(&d));
        assert!(IgnoreRule {
            namespace: Some("default".into()),
            ..Default::default()
        }
        .matches(&d));
    }

    #[test]
    fn pointers_and_managers() {
        let live = deployment();
        let mut side = deployment();
        let rules = [IgnoreRule {
            json_pointers: vec!["/metadata/annotations/a~1b".into(), "/spec/list/1".into()],
            managed_fields_managers: vec!["kube-controller-manager".into()],
            ..Default::default()
        }];
        apply_rules(&rules, &live, &live, &mut [&mut side]);
        assert_eq!(side["spec"], json!({"paused": false, "list": [1, 3]}));
        assert_eq!(side["metadata"]["annotations"], json!({}));
    }

    #[test]
    fn missing_pointer_targets_are_fine() {
        let mut v = json!({"a": [1]});
        for p in ["/b/c", "/a/7", "/a/x/y", "", "/"] {
            remove_pointer(&mut v, p);
        }
        assert_eq!(v, json!({"a": [1]}));
    }
}
