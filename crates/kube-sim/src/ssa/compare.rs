//! What changed between two objects: SMD's `Compare`.
//!
//! Non-apply writes hand the fields they add or change to the writer and take
//! the ones they remove from everyone; apply conflicts are the changed fields
//! other managers own. Both need this diff, computed by the same schema walk
//! as field sets so the two agree on what a field is.

use super::fieldset::FieldSet;
use super::path::PathElement;
use super::walk::{is_managed_fields, keyed_items, scope_set, set_value, FieldScope, Kind, Walker};
use crate::schema::Schema;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

impl Walker<'_> {
    pub(super) fn compare(&mut self, old: &Value, new: &Value, cmp: &mut Comparison) {
        let (mut old_kind, mut new_kind) = (self.kind(old), self.kind(new));
        // SMD treats an empty map as a leaf only when both sides are empty:
        // `data: {}` gaining a key adds that key, it does not modify `.data`.
        let empty_map = |v: &Value| v.as_object().is_some_and(Map::is_empty);
        if old_kind == Kind::Leaf && new_kind == Kind::Map && empty_map(old) {
            old_kind = Kind::Map;
        }
        if new_kind == Kind::Leaf && old_kind == Kind::Map && empty_map(new) {
            new_kind = Kind::Map;
        }
        match (old_kind, new_kind) {
            (Kind::Leaf, Kind::Leaf) => {
                if old != new {
                    cmp.modified.insert(&self.path);
                }
            }
            (Kind::Map, Kind::Map) => {
                let (Some(o), Some(n)) = (old.as_object(), new.as_object()) else {
                    return;
                };
                for (k, ov) in o {
                    if is_managed_fields(&self.names, k) {
                        continue;
                    }
                    self.push_field(k);
                    match n.get(k) {
                        Some(nv) => self.compare(ov, nv, cmp),
                        None => self.removed_node(ov, &mut cmp.removed),
                    }
                    self.pop_field();
                }
                for (k, nv) in n {
                    if o.contains_key(k) || is_managed_fields(&self.names, k) {
                        continue;
                    }
                    self.push_field(k);
                    self.added_node(nv, &mut cmp.added);
                    self.pop_field();
                }
            }
            (Kind::MapList(keys), Kind::MapList(_)) => {
                let empty = Vec::new();
                let o = old.as_array().unwrap_or(&empty);
                let n = new.as_array().unwrap_or(&empty);
                let ok = keyed_items(o, &keys);
                let nk = keyed_items(n, &keys);
                for (pe, i) in &ok {
                    self.path.push(pe.clone());
                    match nk.iter().find(|(q, _)| q == pe) {
                        Some((_, j)) => self.compare_fields_of(&o[*i], &n[*j], cmp),
                        None => {
                            cmp.removed.insert(&self.path);
                            self.removing = true;
                            self.all_item_fields(&o[*i], &mut cmp.removed);
                            self.removing = false;
                        }
                    }
                    self.path.pop();
                }
                for (pe, j) in &nk {
                    if ok.iter().any(|(q, _)| q == pe) {
                        continue;
                    }
                    self.path.push(pe.clone());
                    cmp.added.insert(&self.path);
                    self.all_item_fields(&n[*j], &mut cmp.added);
                    self.path.pop();
                }
            }
            (Kind::Set, Kind::Set) => {
                let values = |v: &Value| -> BTreeSet<PathElement> {
                    v.as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|i| set_value(i).ok())
                        .collect()
                };
                let (o, n) = (values(old), values(new));
                for pe in o.difference(&n) {
                    self.path.push(pe.clone());
                    cmp.removed.insert(&self.path);
                    self.path.pop();
                }
                for pe in n.difference(&o) {
                    self.path.push(pe.clone());
                    cmp.added.insert(&self.path);
                    self.path.pop();
                }
            }
            _ => {
                // The node changed shape (a scalar became a map, ...): the node
                // itself is modified, what hung below it came or went.
                cmp.modified.insert(&self.path);
                self.removing = true;
                self.all_nodes(old, &mut cmp.removed);
                self.removing = false;
                self.all_nodes(new, &mut cmp.added);
            }
        }
    }

    /// Compares two map-list items field by field.
    fn compare_fields_of(&mut self, old: &Value, new: &Value, cmp: &mut Comparison) {
        let empty = Value::Object(Map::new());
        let wrap = |v: &Value| {
            if v.is_object() {
                v.clone()
            } else {
                empty.clone()
            }
        };
        let (o, n) = (wrap(old), wrap(new));
        // Reuse the map comparison; items are maps whatever the schema says.
        if let (Some(om), Some(nm)) = (o.as_object(), n.as_object()) {
            for (k, ov) in om {
                self.push_field(k);
                match nm.get(k) {
                    Some(nv) => self.compare(ov, nv, cmp),
                    None => self.removed_node(ov, &mut cmp.removed),
                }
                self.pop_field();
            }
            for (k, nv) in nm {
                if !om.contains_key(k) {
                    self.push_field(k);
                    self.added_node(nv, &mut cmp.added);
                    self.pop_field();
                }
            }
        }
    }

    /// Like `added_node`, for a subtree that went away.
    fn removed_node(&mut self, v: &Value, out: &mut FieldSet) {
        self.removing = true;
        self.added_node(v, out);
        self.removing = false;
    }

    fn all_item_fields(&mut self, item: &Value, out: &mut FieldSet) {
        for (k, child) in item.as_object().into_iter().flatten() {
            self.push_field(k);
            self.added_node(child, out);
            self.pop_field();
        }
    }
}

/// What changed between two objects, as SMD's `Compare` reports it. `added`
/// and `removed` hold whole subtrees (each node a member), `modified` the
/// leaves whose value changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    pub added: FieldSet,
    pub modified: FieldSet,
    pub removed: FieldSet,
}

impl Comparison {
    /// Compares `old` (absent for a create) with `new`, within `scope`.
    pub fn between(old: Option<&Value>, new: &Value, schema: &Schema, scope: FieldScope) -> Self {
        let empty = Value::Object(Map::new());
        let mut cmp = Comparison::default();
        Walker::new(schema, false).compare(old.unwrap_or(&empty), new, &mut cmp);
        Comparison {
            added: scope_set(cmp.added, scope),
            modified: scope_set(cmp.modified, scope),
            removed: scope_set(cmp.removed, scope),
        }
    }

    /// Fields this change sets (added or modified).
    pub fn changed(&self) -> FieldSet {
        self.added.union(&self.modified)
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
    fn comparison_reports_subtrees_and_leaves() {
        let cm = Schema::builtin("", "ConfigMap");
        let old = json!({"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}});
        let new =
            json!({"metadata": {"name": "c", "labels": {"x": "y"}}, "data": {"a": "9", "c": "3"}});
        let cmp = Comparison::between(Some(&old), &new, &cm, FieldScope::Main);
        assert_eq!(cmp.modified.path_strings(), vec![".data.a"]);
        assert_eq!(
            cmp.added.path_strings(),
            vec![".data.c", ".metadata.labels", ".metadata.labels.x"]
        );
        assert_eq!(cmp.removed.path_strings(), vec![".data.b"]);
        // A create: every new map is a member, the always-present structs not.
        let create = Comparison::between(None, &new, &cm, FieldScope::Main);
        assert_eq!(
            create.added.to_fields_v1(),
            json!({"f:data": {".": {}, "f:a": {}, "f:c": {}},
                   "f:metadata": {"f:labels": {".": {}, "f:x": {}}}})
        );
    }

    #[test]
    fn an_empty_map_gaining_a_key_adds_only_the_key() {
        let cm = Schema::builtin("", "ConfigMap");
        let old = json!({"metadata": {"name": "c"}, "data": {}});
        let new = json!({"metadata": {"name": "c"}, "data": {"k": "v"}});
        let cmp = Comparison::between(Some(&old), &new, &cm, FieldScope::Main);
        assert!(cmp.modified.path_strings().is_empty());
        assert_eq!(cmp.added.path_strings(), vec![".data.k"]);
        let back = Comparison::between(Some(&new), &old, &cm, FieldScope::Main);
        assert!(back.modified.path_strings().is_empty());
        assert_eq!(back.removed.path_strings(), vec![".data.k"]);
    }

    #[test]
    fn comparison_walks_map_lists_and_sets() {
        let old = json!({"metadata": {"finalizers": ["a", "b"]},
            "spec": {"template": {"spec": {"containers": [
                {"name": "n", "image": "1", "env": [{"name": "A", "value": "1"}]}]}}}});
        let new = json!({"metadata": {"finalizers": ["b", "c"]},
            "spec": {"template": {"spec": {"containers": [
                {"name": "n", "image": "2", "env": [{"name": "B", "value": "1"}]}]}}}});
        let cmp = Comparison::between(Some(&old), &new, &deploy(), FieldScope::Main);
        let c = r#".spec.template.spec.containers[name="n"]"#;
        assert_eq!(cmp.modified.path_strings(), vec![format!("{c}.image")]);
        assert_eq!(
            cmp.added.path_strings(),
            vec![
                r#".metadata.finalizers[="c"]"#.to_string(),
                format!(r#"{c}.env[name="B"]"#),
                format!(r#"{c}.env[name="B"].name"#),
                format!(r#"{c}.env[name="B"].value"#),
            ]
        );
        assert_eq!(
            cmp.removed.path_strings()[0],
            r#".metadata.finalizers[="a"]"#
        );
    }
}
