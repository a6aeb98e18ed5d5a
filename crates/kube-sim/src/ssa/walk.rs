//! Walking objects by schema: the field set an object specifies (SMD's
//! `ToFieldSet`), field scopes, and the walker `compare` builds on.
//!
//! Field sets, diffs and merges all need to know, at each node, whether it is
//! owned as one leaf or split into parts (map fields, map-list items, set
//! values); that decision is `node_kind`, shared by all three so they agree
//! on what a "field" is.

use super::fieldset::FieldSet;
use super::path::{canonical_json, path_to_string, JsonValue, Path, PathElement};
use crate::schema::{KeyField, ListType, Schema};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Which part of an object a request may own. The apiserver resets `status`
/// on main-resource writes and everything but `status` on status writes, so
/// field sets are scoped the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldScope {
    /// The main resource: everything except `status`.
    Main,
    /// The `status` subresource: only `status`.
    Status,
    /// Everything (a custom resource without a status subresource).
    Whole,
}

impl FieldScope {
    /// The scope of a write to `subresource` (`scale` writes `spec.replicas`,
    /// so only `status` is special).
    pub fn for_subresource(subresource: Option<&str>) -> Self {
        match subresource {
            Some("status") => FieldScope::Status,
            _ => FieldScope::Main,
        }
    }
}

/// An object the apiserver would reject with 422 (duplicate map-list keys,
/// set values, items without their key fields).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidObject(pub String);

/// Top-level fields never tracked (the apiserver's `stripmeta`).
const IGNORED_TOP: &[&str] = &["apiVersion", "kind"];
/// `metadata` fields never tracked: set by the server or identifying the object.
const IGNORED_META: &[&str] = &[
    "name",
    "namespace",
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "deletionTimestamp",
    "selfLink",
];

/// Object fields that are non-pointer structs in the Go types, so always
/// present in the apiserver's view of an object: a real Update entry never
/// marks them with `"."` when they first appear, so neither do we.
pub(crate) const ALWAYS_PRESENT_STRUCTS: &[&str] = &["metadata", "spec", "status", "template"];

/// Restricts a set to what `scope` may own.
pub fn scope_set(mut set: FieldSet, scope: FieldScope) -> FieldSet {
    for top in IGNORED_TOP {
        set.remove_subtree(&[PathElement::field(top)]);
    }
    for meta in IGNORED_META {
        set.remove_subtree(&[PathElement::field("metadata"), PathElement::field(meta)]);
    }
    // `metadata` itself is never a member, only things inside it.
    let meta = PathElement::field("metadata");
    if set.has(std::slice::from_ref(&meta)) {
        let inner = set.child(&meta).cloned();
        set.remove_subtree(std::slice::from_ref(&meta));
        if let Some(inner) = inner {
            for p in inner.paths() {
                let mut full = vec![meta.clone()];
                full.extend(p);
                set.insert(&full);
            }
        }
    }
    let status = PathElement::field("status");
    match scope {
        FieldScope::Main => {
            set.remove_subtree(&[status]);
            set
        }
        FieldScope::Status => set.only_subtree(&status),
        FieldScope::Whole => set,
    }
}

/// How a node is owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// As a whole: scalars, null, empty maps, atomic maps and lists.
    Leaf,
    /// Field by field.
    Map,
    /// Item by item, items identified by these keys.
    MapList(Vec<KeyField>),
    /// Value by value.
    Set,
}

/// The kind of `v` found at the field-name path `names`.
pub(crate) fn node_kind(schema: &Schema, names: &[String], v: &Value) -> Kind {
    let path: Vec<&str> = names.iter().map(String::as_str).collect();
    match v {
        Value::Object(m) if m.is_empty() && !names.is_empty() => Kind::Leaf,
        Value::Object(_) if !names.is_empty() && schema.map_is_atomic(&path) => Kind::Leaf,
        Value::Object(_) => Kind::Map,
        Value::Array(_) => match schema.list_type(&path) {
            ListType::Atomic => Kind::Leaf,
            ListType::Set => Kind::Set,
            ListType::Map(keys) => Kind::MapList(keys),
        },
        _ => Kind::Leaf,
    }
}

/// The `k:` element of a map-list item, key fields defaulted as the schema says.
pub(crate) fn item_key(item: &Value, keys: &[KeyField]) -> Result<PathElement, String> {
    let Value::Object(obj) = item else {
        return Err(format!(
            "expected a map as an element of a list with keys, got {}",
            canonical_json(item)
        ));
    };
    let mut fields = Vec::with_capacity(keys.len());
    for k in keys {
        let v = match (obj.get(k.name), k.default) {
            (Some(v), _) if !v.is_null() => v.clone(),
            (_, Some(d)) => Value::String(d.to_string()),
            _ => {
                return Err(format!(
                    "associative list with keys has an element that omits key field {:?} (and doesn't have default value)",
                    k.name
                ))
            }
        };
        fields.push((k.name.to_string(), JsonValue(v)));
    }
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(PathElement::Key(fields))
}

/// The `v:` element of a set member.
pub(crate) fn set_value(item: &Value) -> Result<PathElement, String> {
    match item {
        Value::Object(_) | Value::Array(_) => Err(
            "associative list without keys has an element that's a map or list type".to_string(),
        ),
        v => Ok(PathElement::Value(JsonValue(v.clone()))),
    }
}

/// Whether a map field is skipped by every walk (never part of any set).
pub(crate) fn is_managed_fields(names: &[String], key: &str) -> bool {
    key == "managedFields" && names.len() == 1 && names[0] == "metadata"
}

/// Keyed view of a map-list: (element, index) in list order, skipping items
/// without a usable key and later duplicates (a live object may hold them).
pub(crate) fn keyed_items(items: &[Value], keys: &[KeyField]) -> Vec<(PathElement, usize)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if let Ok(pe) = item_key(item, keys) {
            if seen.insert(pe.clone()) {
                out.push((pe, i));
            }
        }
    }
    out
}

pub(crate) struct Walker<'a> {
    schema: &'a Schema,
    /// Whether malformed lists are errors (applied configs) or skipped (live objects).
    pub(crate) strict: bool,
    pub(crate) names: Vec<String>,
    pub(crate) path: Path,
    /// Collecting a removed subtree: every node counts, struct or not.
    pub(crate) removing: bool,
}

impl<'a> Walker<'a> {
    pub(crate) fn new(schema: &'a Schema, strict: bool) -> Self {
        Walker {
            schema,
            strict,
            names: Vec::new(),
            path: Vec::new(),
            removing: false,
        }
    }

    fn fail(&self, msg: String) -> Result<(), InvalidObject> {
        if self.strict {
            Err(InvalidObject(format!(
                "{}: {msg}",
                path_to_string(&self.path)
            )))
        } else {
            Ok(())
        }
    }

    pub(crate) fn kind(&self, v: &Value) -> Kind {
        node_kind(self.schema, &self.names, v)
    }

    pub(crate) fn push_field(&mut self, k: &str) {
        self.names.push(k.to_string());
        self.path.push(PathElement::field(k));
    }

    pub(crate) fn pop_field(&mut self) {
        self.names.pop();
        self.path.pop();
    }

    /// SMD's `ToFieldSet`: leaves and list items become members.
    fn collect_set(&mut self, v: &Value, out: &mut FieldSet) -> Result<(), InvalidObject> {
        match self.kind(v) {
            Kind::Leaf => out.insert(&self.path),
            Kind::Map => {
                if let Value::Object(m) = v {
                    self.collect_fields(m, out)?;
                }
            }
            Kind::MapList(keys) => {
                let mut seen = BTreeSet::new();
                for item in v.as_array().into_iter().flatten() {
                    let pe = match item_key(item, &keys) {
                        Ok(pe) => pe,
                        Err(e) => {
                            self.fail(e)?;
                            continue;
                        }
                    };
                    if !seen.insert(pe.clone()) {
                        self.fail(format!("duplicate entries for key {pe}"))?;
                        continue;
                    }
                    self.path.push(pe);
                    out.insert(&self.path);
                    if let Value::Object(m) = item {
                        self.collect_fields(m, out)?;
                    }
                    self.path.pop();
                }
            }
            Kind::Set => {
                let mut seen = BTreeSet::new();
                for item in v.as_array().into_iter().flatten() {
                    let pe = match set_value(item) {
                        Ok(pe) => pe,
                        Err(e) => {
                            self.fail(e)?;
                            continue;
                        }
                    };
                    if !seen.insert(pe.clone()) {
                        self.fail(format!("duplicate entries for key {pe}"))?;
                        continue;
                    }
                    self.path.push(pe);
                    out.insert(&self.path);
                    self.path.pop();
                }
            }
        }
        Ok(())
    }

    fn collect_fields(
        &mut self,
        m: &Map<String, Value>,
        out: &mut FieldSet,
    ) -> Result<(), InvalidObject> {
        for (k, child) in m {
            if is_managed_fields(&self.names, k) {
                continue;
            }
            self.push_field(k);
            let r = self.collect_set(child, out);
            self.pop_field();
            r?;
        }
        Ok(())
    }

    /// Every node below `v` as a member: what an Update takes when a whole
    /// subtree appears (or loses when it disappears).
    pub(crate) fn all_nodes(&mut self, v: &Value, out: &mut FieldSet) {
        match self.kind(v) {
            Kind::Leaf => {}
            Kind::Map => {
                for (k, child) in v.as_object().into_iter().flatten() {
                    if is_managed_fields(&self.names, k) {
                        continue;
                    }
                    self.push_field(k);
                    self.added_node(child, out);
                    self.pop_field();
                }
            }
            Kind::MapList(keys) => {
                let items = v.as_array().map(Vec::as_slice).unwrap_or_default();
                for (pe, i) in keyed_items(items, &keys) {
                    self.path.push(pe);
                    out.insert(&self.path);
                    for (k, child) in items[i].as_object().into_iter().flatten() {
                        self.push_field(k);
                        self.added_node(child, out);
                        self.pop_field();
                    }
                    self.path.pop();
                }
            }
            Kind::Set => {
                for item in v.as_array().into_iter().flatten() {
                    if let Ok(pe) = set_value(item) {
                        self.path.push(pe);
                        out.insert(&self.path);
                        self.path.pop();
                    }
                }
            }
        }
    }

    /// The node at the current path and everything below it.
    pub(crate) fn added_node(&mut self, v: &Value, out: &mut FieldSet) {
        let always_present = !self.removing
            && self.kind(v) == Kind::Map
            && self
                .names
                .last()
                .is_some_and(|n| ALWAYS_PRESENT_STRUCTS.contains(&n.as_str()));
        if !always_present {
            out.insert(&self.path);
        }
        self.all_nodes(v, out);
    }
}

impl FieldSet {
    /// The set of fields `obj` specifies (an applied configuration's set):
    /// every leaf, every map-list item and set value, atomic lists and maps
    /// and empty maps as single leaves; restricted to `scope`. Errors on what
    /// the apiserver rejects in an applied configuration (duplicate keys).
    pub fn from_object(
        obj: &Value,
        schema: &Schema,
        scope: FieldScope,
    ) -> Result<FieldSet, InvalidObject> {
        let mut out = FieldSet::new();
        Walker::new(schema, true).collect_set(obj, &mut out)?;
        Ok(scope_set(out, scope))
    }

    /// Like `from_object`, skipping malformed list items instead of failing
    /// (for stored objects, which may predate validation).
    pub fn from_object_lenient(obj: &Value, schema: &Schema, scope: FieldScope) -> FieldSet {
        let mut out = FieldSet::new();
        // A non-strict walker never fails.
        let _ = Walker::new(schema, false).collect_set(obj, &mut out);
        scope_set(out, scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy() -> Schema {
        Schema::builtin("apps", "Deployment")
    }

    #[test]
    fn applied_deployment_set_matches_kubectl() {
        let cfg = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{
                        "name": "nginx", "image": "nginx:1.25",
                        "args": ["-g", "daemon off;"],
                        "ports": [{"containerPort": 80}],
                        "resources": {}
                    }]}
                }
            },
            "status": {"replicas": 2}
        });
        let set = FieldSet::from_object(&cfg, &deploy(), FieldScope::Main).expect("valid");
        assert_eq!(
            set.to_fields_v1(),
            json!({
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {
                        "f:metadata": {"f:labels": {"f:app": {}}},
                        "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                            ".": {}, "f:args": {}, "f:image": {}, "f:name": {},
                            "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                                ".": {}, "f:containerPort": {}
                            }},
                            "f:resources": {}
                        }}}
                    }
                }
            })
        );
        let status = FieldSet::from_object(&cfg, &deploy(), FieldScope::Status).expect("valid");
        assert_eq!(
            status.to_fields_v1(),
            json!({"f:status": {"f:replicas": {}}})
        );
    }

    #[test]
    fn duplicates_in_applied_config_are_invalid() {
        let cfg = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "a"}, {"name": "a"}
        ]}}}});
        let err = FieldSet::from_object(&cfg, &deploy(), FieldScope::Main).expect_err("dup");
        assert_eq!(
            err.0,
            r#".spec.template.spec.containers: duplicate entries for key [name="a"]"#
        );
        let fin = json!({"metadata": {"finalizers": ["x", "x"]}});
        assert!(FieldSet::from_object(&fin, &deploy(), FieldScope::Main).is_err());
        let nokey = json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}});
        assert!(FieldSet::from_object(&nokey, &deploy(), FieldScope::Main).is_err());
        // A stored object with duplicates is still readable.
        let set = FieldSet::from_object_lenient(&cfg, &deploy(), FieldScope::Main);
        assert_eq!(set.path_strings().len(), 2);
    }
}
