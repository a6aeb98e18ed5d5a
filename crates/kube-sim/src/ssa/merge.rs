//! Merging an applied configuration into the live object, and pruning what
//! the applier stopped specifying.
//!
//! Server-side apply is a merge by schema (maps key by key, map-lists item by
//! item, sets by value, everything else replaced) followed by removal of the
//! fields the applier owned last time, left out this time, and nobody else
//! owns. These are SMD's `TypedValue.Merge` and `Updater.prune`.

use super::fieldset::FieldSet;
use super::path::PathElement;
use super::walk::{
    is_managed_fields, item_key, keyed_items, node_kind, set_value, Kind, ALWAYS_PRESENT_STRUCTS,
};
use crate::schema::Schema;
use serde_json::{Map, Value};

/// Merges `config` into `live`. `config` must already be validated (no
/// duplicate keys); items that cannot be keyed are appended as they are.
pub fn merge(live: &Value, config: &Value, schema: &Schema) -> Value {
    let mut out = live.clone();
    merge_into(&mut out, config, schema);
    out
}

/// [`merge`] in place: `live` becomes the merged object. Applies merge into
/// a copy of the live object they own, so nothing is copied twice.
pub fn merge_into(live: &mut Value, config: &Value, schema: &Schema) {
    merge_at(live, config, schema, &mut Vec::new());
}

fn merge_at(live: &mut Value, config: &Value, schema: &Schema, names: &mut Vec<String>) {
    if let (Value::Object(l), Value::Object(c)) = (&mut *live, config) {
        // An empty map merges into a live map (it only owns the map itself);
        // atomic maps are replaced.
        let path: Vec<&str> = names.iter().map(String::as_str).collect();
        if names.is_empty() || !schema.map_is_atomic(&path) {
            merge_fields(l, c, schema, names);
            return;
        }
    }
    match (node_kind(schema, names, config), &mut *live, config) {
        (Kind::MapList(keys), Value::Array(out), Value::Array(c)) => {
            for citem in c {
                // Live items that match the config's key merge in place; new
                // ones go at the end, in the config's order.
                let found = item_key(citem, &keys).ok().and_then(|pe| {
                    keyed_items(out, &keys)
                        .into_iter()
                        .find(|(q, _)| *q == pe)
                        .map(|(_, i)| i)
                });
                match (found, citem) {
                    (Some(i), Value::Object(cm)) => match &mut out[i] {
                        Value::Object(lm) => merge_fields(lm, cm, schema, names),
                        other => *other = Value::Object(cm.clone()),
                    },
                    _ => out.push(citem.clone()),
                }
            }
        }
        (Kind::Set, Value::Array(out), Value::Array(c)) => {
            for v in c {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
        }
        _ => *live = config.clone(),
    }
}

fn merge_fields(
    out: &mut Map<String, Value>,
    config: &Map<String, Value>,
    schema: &Schema,
    names: &mut Vec<String>,
) {
    for (k, cv) in config {
        if is_managed_fields(names, k) {
            continue;
        }
        if cv.is_null() {
            // An explicit null clears the field, as it would once the object
            // goes through its Go type (or a structural schema) and back.
            out.remove(k);
            continue;
        }
        match out.get_mut(k) {
            Some(lv) => {
                names.push(k.clone());
                merge_at(lv, cv, schema, names);
                names.pop();
            }
            None => {
                out.insert(k.clone(), cv.clone());
            }
        }
    }
}

/// Removes from `obj` the fields in `last` (the applier's previous set) that
/// no manager in `managed` (everyone's sets, the applier's new one included)
/// holds. A removed map-list item goes with everything in it; a field stays
/// while anyone owns something below it.
pub fn prune(obj: &mut Value, last: &FieldSet, managed: &FieldSet, schema: &Schema) {
    if let Value::Object(m) = obj {
        prune_fields(m, last, Some(managed), schema, &mut Vec::new());
    }
}

fn is_empty_container(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.is_empty()) || matches!(v, Value::Array(a) if a.is_empty())
}

fn prune_fields(
    obj: &mut Map<String, Value>,
    last: &FieldSet,
    managed: Option<&FieldSet>,
    schema: &Schema,
    names: &mut Vec<String>,
) {
    let keys: Vec<String> = obj.keys().cloned().collect();
    for k in keys {
        let pe = PathElement::Field(k.clone());
        let held = managed.is_some_and(|m| m.holds(&pe));
        // Only what the applier owned as such goes as a whole; a field it
        // held just for owning something below is pruned inside, so fields
        // nobody owns (server-set ones, `metadata.name`) survive.
        if last.has_member(&pe) && !held {
            obj.remove(&k);
            continue;
        }
        let Some(last_child) = last.child(&pe) else {
            continue;
        };
        let Some(v) = obj.get_mut(&k) else {
            continue;
        };
        let was_empty = is_empty_container(v);
        names.push(k.clone());
        prune_node(
            v,
            last_child,
            managed.and_then(|m| m.child(&pe)),
            schema,
            names,
        );
        names.pop();
        // Emptied by pruning and not owned as such: gone, as an empty map or
        // list is omitted once the object goes through its Go type (structs
        // that are always there stay).
        if !was_empty
            && is_empty_container(v)
            && !managed.is_some_and(|m| m.has_member(&pe))
            && !ALWAYS_PRESENT_STRUCTS.contains(&k.as_str())
        {
            obj.remove(&k);
        }
    }
}

fn prune_node(
    v: &mut Value,
    last: &FieldSet,
    managed: Option<&FieldSet>,
    schema: &Schema,
    names: &mut Vec<String>,
) {
    let owned = |pe: &PathElement| managed.is_some_and(|m| m.has_member(pe));
    match node_kind(schema, names, v) {
        Kind::Map => {
            if let Value::Object(m) = v {
                prune_fields(m, last, managed, schema, names);
            }
        }
        Kind::MapList(keys) => {
            let Value::Array(items) = v else { return };
            let mut kept = Vec::with_capacity(items.len());
            for mut item in std::mem::take(items) {
                let Ok(pe) = item_key(&item, &keys) else {
                    kept.push(item);
                    continue;
                };
                if last.has_member(&pe) && !owned(&pe) {
                    continue;
                }
                if let (Some(lc), Value::Object(m)) = (last.child(&pe), &mut item) {
                    prune_fields(m, lc, managed.and_then(|s| s.child(&pe)), schema, names);
                }
                kept.push(item);
            }
            *items = kept;
        }
        Kind::Set => {
            if let Value::Array(items) = v {
                items.retain(|item| match set_value(item) {
                    Ok(pe) => !last.has_member(&pe) || owned(&pe),
                    Err(_) => true,
                });
            }
        }
        Kind::Leaf => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssa::walk::FieldScope;
    use serde_json::json;

    fn deploy() -> Schema {
        Schema::builtin("apps", "Deployment")
    }

    #[test]
    fn containers_merge_by_name_and_ports_by_defaulted_key() {
        let live = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "a", "image": "a:1", "ports": [{"containerPort": 80, "protocol": "TCP"}]},
            {"name": "b", "image": "b:1"}
        ]}}}});
        let cfg = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "a", "image": "a:2", "ports": [{"containerPort": 80, "name": "http"}]},
            {"name": "c", "image": "c:1"}
        ]}}}});
        let out = merge(&live, &cfg, &deploy());
        assert_eq!(
            out,
            json!({"spec": {"template": {"spec": {"containers": [
                {"name": "a", "image": "a:2",
                 "ports": [{"containerPort": 80, "protocol": "TCP", "name": "http"}]},
                {"name": "b", "image": "b:1"},
                {"name": "c", "image": "c:1"}
            ]}}}})
        );
    }

    #[test]
    fn sets_union_atomic_lists_and_selectors_replace() {
        let live = json!({"metadata": {"finalizers": ["a", "b"]},
            "spec": {"selector": {"matchLabels": {"x": "1"}},
                     "template": {"spec": {"containers": [{"name": "n", "args": ["1", "2"]}]}}}});
        let cfg = json!({"metadata": {"finalizers": ["c", "a"]},
            "spec": {"selector": {"matchLabels": {"y": "2"}},
                     "template": {"spec": {"containers": [{"name": "n", "args": ["3"]}]}}}});
        let out = merge(&live, &cfg, &deploy());
        assert_eq!(out["metadata"]["finalizers"], json!(["a", "b", "c"]));
        assert_eq!(out["spec"]["selector"], json!({"matchLabels": {"y": "2"}}));
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["args"],
            json!(["3"])
        );
    }

    #[test]
    fn prune_removes_only_unheld_fields_and_items() {
        let s = deploy();
        let mut obj = json!({"metadata": {"labels": {"a": "1", "b": "2"}},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [
                {"name": "x", "image": "x"}, {"name": "y", "image": "y"}]}}}});
        let last = FieldSet::from_object(&obj, &s, FieldScope::Main).expect("valid");
        // The new config keeps label a and container x; someone else owns replicas.
        let now = FieldSet::from_object(
            &json!({"metadata": {"labels": {"a": "1"}},
                    "spec": {"template": {"spec": {"containers": [{"name": "x", "image": "x"}]}}}}),
            &s,
            FieldScope::Main,
        )
        .expect("valid");
        let other = FieldSet::from_object(&json!({"spec": {"replicas": 3}}), &s, FieldScope::Main)
            .expect("valid");
        prune(&mut obj, &last, &now.union(&other), &s);
        assert_eq!(
            obj,
            json!({"metadata": {"labels": {"a": "1"}},
                "spec": {"replicas": 3, "template": {"spec": {"containers": [
                    {"name": "x", "image": "x"}]}}}})
        );
        // Dropping the last label leaves no empty map behind.
        let mut obj2 = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"replicas": 1}});
        let last2 = FieldSet::from_object(&obj2, &s, FieldScope::Main).expect("valid");
        prune(&mut obj2, &last2, &other, &s);
        assert_eq!(obj2, json!({"metadata": {}, "spec": {"replicas": 1}}));
    }
}
