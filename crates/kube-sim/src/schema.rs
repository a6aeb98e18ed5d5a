//! How lists and maps inside an object merge.
//!
//! Server-side apply, strategic merge patch and managedFields all need to know,
//! for a field path, whether a list is atomic, a set of scalars, or a map keyed
//! by some of its items' fields. A real apiserver reads this from the OpenAPI
//! `x-kubernetes-list-type` / `x-kubernetes-list-map-keys` extensions (and the
//! Go struct tags behind them); kube-sim keeps a table for the built-in kinds it
//! serves and reads the extensions from a CRD's `openAPIV3Schema`.

use serde_json::Value;
use std::sync::Arc;

/// How a list merges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListType {
    /// Replaced as a whole; owned as one field.
    Atomic,
    /// A set of scalars (`finalizers`); each value is owned separately (`v:` in FieldsV1).
    Set,
    /// A list of objects identified by these key fields (`k:{...}` in FieldsV1).
    /// The first key is the strategic-merge-patch merge key.
    Map(Vec<KeyField>),
}

/// One key field of a map-list, with the default used when an item omits it
/// (container ports default `protocol` to TCP before keys are compared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyField {
    pub name: &'static str,
    pub default: Option<&'static str>,
}

const fn key(name: &'static str) -> KeyField {
    KeyField {
        name,
        default: None,
    }
}

const fn key_or(name: &'static str, default: &'static str) -> KeyField {
    KeyField {
        name,
        default: Some(default),
    }
}

/// The merge schema of one kind.
#[derive(Debug, Clone)]
pub enum Schema {
    /// A built-in kind, identified by API group ("" for core) and kind.
    Builtin { group: String, kind: String },
    /// A custom resource: its version's `openAPIV3Schema`.
    Crd(Arc<Value>),
    /// Unknown structure: every list is atomic, every map granular.
    Opaque,
}

impl Schema {
    pub fn builtin(group: &str, kind: &str) -> Self {
        Schema::Builtin {
            group: group.to_string(),
            kind: kind.to_string(),
        }
    }

    /// The list type of the list found at `path` (field names from the object's
    /// root, list positions left out: `["spec","template","spec","containers"]`).
    pub fn list_type(&self, path: &[&str]) -> ListType {
        match self {
            Schema::Builtin { group, kind } => builtin_list_type(group, kind, path),
            Schema::Crd(schema) => crd_list_type(schema, path),
            Schema::Opaque => ListType::Atomic,
        }
    }

    /// Whether the object-valued field at `path` is atomic (replaced and owned
    /// as a whole, like a `LabelSelector`) rather than merged key by key.
    pub fn map_is_atomic(&self, path: &[&str]) -> bool {
        match self {
            Schema::Builtin { .. } => {
                // metav1.LabelSelector is +structType=atomic wherever it appears.
                matches!(path.last(), Some(&"selector"))
                    && path.len() == 2
                    && path[0] == "spec"
                    && !matches!(self, Schema::Builtin { kind, .. } if kind == "Service")
            }
            Schema::Crd(schema) => schema_at(schema, path)
                .and_then(|s| s.get("x-kubernetes-map-type"))
                .and_then(Value::as_str)
                .is_some_and(|t| t == "atomic"),
            Schema::Opaque => false,
        }
    }
}

fn builtin_list_type(group: &str, kind: &str, path: &[&str]) -> ListType {
    let Some(&last) = path.last() else {
        return ListType::Atomic;
    };
    let parent = path.len().checked_sub(2).map(|i| path[i]);
    let in_container = matches!(
        parent,
        Some("containers") | Some("initContainers") | Some("ephemeralContainers")
    );
    match last {
        "ownerReferences" if path.len() == 2 => ListType::Map(vec![key("uid")]),
        "finalizers" if path.len() == 2 => ListType::Set,
        "finalizers" if kind == "Namespace" && group.is_empty() => ListType::Set,
        "conditions" => ListType::Map(vec![key("type")]),
        "containers" | "initContainers" | "ephemeralContainers" => ListType::Map(vec![key("name")]),
        "volumes" | "imagePullSecrets" | "hostAliases" if !in_container => {
            if last == "hostAliases" {
                ListType::Map(vec![key("ip")])
            } else {
                ListType::Map(vec![key("name")])
            }
        }
        "env" if in_container => ListType::Map(vec![key("name")]),
        "volumeMounts" if in_container => ListType::Map(vec![key("mountPath")]),
        "volumeDevices" if in_container => ListType::Map(vec![key("devicePath")]),
        "ports" if in_container => {
            ListType::Map(vec![key("containerPort"), key_or("protocol", "TCP")])
        }
        "ports" if kind == "Service" && path == ["spec", "ports"] => {
            ListType::Map(vec![key("port"), key_or("protocol", "TCP")])
        }
        "topologySpreadConstraints" => {
            ListType::Map(vec![key("topologyKey"), key("whenUnsatisfiable")])
        }
        "clusterIPs" | "ipFamilies" if kind == "Service" => ListType::Atomic,
        "readinessGates" => ListType::Map(vec![key("conditionType")]),
        "subjects" | "rules" | "args" | "command" | "tolerations" | "envFrom" => ListType::Atomic,
        _ => ListType::Atomic,
    }
}

/// Walks a CRD's structural schema along `path` (properties, then `items` for
/// lists) and reads the list-type extensions there. Lists default to atomic,
/// as the apiserver does for CRDs.
fn crd_list_type(schema: &Value, path: &[&str]) -> ListType {
    let Some(node) = schema_at(schema, path) else {
        return ListType::Atomic;
    };
    match node.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("set") => ListType::Set,
        Some("map") => {
            let keys: Vec<KeyField> = node
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|ks| {
                    ks.iter()
                        .filter_map(Value::as_str)
                        .map(|k| key(leak(k)))
                        .collect()
                })
                .unwrap_or_default();
            if keys.is_empty() {
                ListType::Atomic
            } else {
                ListType::Map(keys)
            }
        }
        _ => ListType::Atomic,
    }
}

/// Key names of CRD schemas live as long as the server; interning them keeps
/// `KeyField` a plain `&'static str` for the built-in table's sake.
fn leak(s: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut guard = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let set = guard.get_or_insert_with(HashSet::new);
    if let Some(existing) = set.get(s) {
        return existing;
    }
    let leaked: &'static str = Box::leak(s.to_string().into_boxed_str());
    set.insert(leaked);
    leaked
}

/// The schema node for `path`, following `items` through lists.
fn schema_at<'a>(schema: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut node = schema;
    for field in path {
        // Step into list items first if the current node is an array schema.
        if node.get("type").and_then(Value::as_str) == Some("array") {
            node = node.get("items")?;
        }
        node = node.get("properties")?.get(*field)?;
    }
    Some(node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn container_lists_are_keyed_by_name() {
        let s = Schema::builtin("apps", "Deployment");
        assert_eq!(
            s.list_type(&["spec", "template", "spec", "containers"]),
            ListType::Map(vec![key("name")])
        );
        assert_eq!(
            s.list_type(&["spec", "template", "spec", "containers", "env"]),
            ListType::Map(vec![key("name")])
        );
        assert_eq!(
            s.list_type(&["spec", "template", "spec", "containers", "ports"]),
            ListType::Map(vec![key("containerPort"), key_or("protocol", "TCP")])
        );
        assert_eq!(
            s.list_type(&["spec", "template", "spec", "containers", "args"]),
            ListType::Atomic
        );
        assert_eq!(s.list_type(&["metadata", "finalizers"]), ListType::Set);
    }

    #[test]
    fn service_ports_are_keyed_by_port_and_protocol() {
        let s = Schema::builtin("", "Service");
        assert_eq!(
            s.list_type(&["spec", "ports"]),
            ListType::Map(vec![key("port"), key_or("protocol", "TCP")])
        );
        assert!(!s.map_is_atomic(&["spec", "selector"]));
        assert!(Schema::builtin("apps", "Deployment").map_is_atomic(&["spec", "selector"]));
    }

    #[test]
    fn crd_lists_follow_the_schema_extensions() {
        let s = Schema::Crd(Arc::new(json!({
            "type": "object",
            "properties": {"spec": {"type": "object", "properties": {
                "items": {"type": "array", "x-kubernetes-list-type": "map",
                          "x-kubernetes-list-map-keys": ["id"],
                          "items": {"type": "object", "properties": {
                              "tags": {"type": "array", "x-kubernetes-list-type": "set"}}}},
                "plain": {"type": "array"}
            }}}
        })));
        assert_eq!(
            s.list_type(&["spec", "items"]),
            ListType::Map(vec![key("id")])
        );
        assert_eq!(s.list_type(&["spec", "items", "tags"]), ListType::Set);
        assert_eq!(s.list_type(&["spec", "plain"]), ListType::Atomic);
        assert_eq!(s.list_type(&["spec", "missing"]), ListType::Atomic);
    }
}
