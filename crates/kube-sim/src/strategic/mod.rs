//! Strategic merge patch, as `kubectl apply` (client-side), `kubectl patch`
//! (its default patch type) and `kubectl diff` send it.
//!
//! A JSON merge patch cannot express "change the image of the container named
//! `web`" without resending the whole containers list, so Kubernetes added a
//! patch format whose lists merge by a key (`name` for containers) and whose
//! special `$`-keys ("directives") say how to delete items, replace maps, keep
//! only some keys or order a merged list. The real apiserver drives this from
//! Go struct tags; kube-sim drives it from [`Schema::list_type`], whose first
//! map key is the strategic merge key.
//!
//! Everything here is a pure function over `serde_json::Value`: the HTTP layer
//! decodes the body, calls [`strategic_merge`] and stores the result.

use crate::schema::{ListType, Schema};
use serde_json::{Map, Value};

/// `$patch`: `replace`, `delete` or `merge` on a map or as a list item.
const PATCH: &str = "$patch";
/// `$retainKeys`: after merging, keep only these keys of the map.
const RETAIN_KEYS: &str = "$retainKeys";
/// `$setElementOrder/<field>`: the order of the merged list `<field>`.
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";
/// `$deleteFromPrimitiveList/<field>`: values to remove from a list of scalars.
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";

/// Why a strategic merge patch could not be applied. The server answers these
/// with a 4xx status, as the apiserver does for malformed patches.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrategicMergeError {
    /// The patch document itself is not a JSON object.
    #[error("strategic merge patch must be a JSON object, got {0}")]
    NotAnObject(&'static str),
    /// A `$`-key that Kubernetes does not define, or `$patch` with an unknown value.
    #[error("unknown patch directive {directive:?} at {path}")]
    UnknownDirective { directive: String, path: String },
    /// A known directive whose value has the wrong shape.
    #[error("invalid {directive} at {path}: {reason}")]
    InvalidDirective {
        directive: String,
        path: String,
        reason: String,
    },
    /// An item of a keyed list that lacks the merge key.
    #[error("map {item} at {path} does not contain declared merge key: {key}")]
    MissingMergeKey {
        path: String,
        key: String,
        item: String,
    },
}

type Result<T> = std::result::Result<T, StrategicMergeError>;

/// Applies the strategic merge `patch` to `original` and returns the merged
/// object; `original` is left untouched so a failed patch changes nothing.
///
/// `schema` decides, per field path, whether a list is atomic (replaced),
/// a set of scalars (union) or a map keyed by its first key (merged by key).
pub fn strategic_merge(
    original: &Value,
    patch: &Value,
    schema: &Schema,
) -> std::result::Result<Value, StrategicMergeError> {
    let Value::Object(patch) = patch else {
        return Err(StrategicMergeError::NotAnObject(kind_name(patch)));
    };
    let empty = Map::new();
    let original = original.as_object().unwrap_or(&empty);
    let merger = Merger { schema };
    // `$patch: delete` at the root leaves nothing: the empty object.
    let merged = merger.merge_map(original, patch, &mut Vec::new())?;
    Ok(Value::Object(merged.unwrap_or_default()))
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn show_path(path: &[&str]) -> String {
    if path.is_empty() {
        "<root>".to_string()
    } else {
        path.join(".")
    }
}

/// The directives found in one patch map, collected before merging because
/// they refer to sibling fields.
#[derive(Default)]
struct Directives<'p> {
    retain_keys: Option<Vec<&'p str>>,
    set_order: Vec<(&'p str, &'p Vec<Value>)>,
    delete_from: Vec<(&'p str, &'p Vec<Value>)>,
}

struct Merger<'s> {
    schema: &'s Schema,
}

impl Merger<'_> {
    /// Merges a patch map into an original map. `None` means the map itself
    /// is deleted (`$patch: delete`).
    fn merge_map<'p>(
        &self,
        original: &Map<String, Value>,
        patch: &'p Map<String, Value>,
        path: &mut Vec<&'p str>,
    ) -> Result<Option<Map<String, Value>>> {
        match patch.get(PATCH) {
            None => {}
            Some(Value::String(d)) if d == "merge" => {}
            Some(Value::String(d)) if d == "delete" => return Ok(None),
            Some(Value::String(d)) if d == "replace" => {
                // Replace = the patch's own content, cleaned of directives:
                // merging it into nothing does exactly that.
                let mut rest = patch.clone();
                rest.remove(PATCH);
                return self.merge_owned(&Map::new(), &rest, path);
            }
            Some(other) => {
                return Err(StrategicMergeError::UnknownDirective {
                    directive: format!("{PATCH}: {other}"),
                    path: show_path(path),
                })
            }
        }
        let directives = collect_directives(patch, path)?;
        let mut result = original.clone();

        // Deletions from primitive lists apply to the original values, so
        // a patch that both deletes and re-adds a value ends up with it.
        for (field, values) in &directives.delete_from {
            if let Some(Value::Array(items)) = result.get_mut(*field) {
                items.retain(|item| !values.contains(item));
            }
        }

        for (key, patch_value) in patch {
            if key.starts_with('$') {
                continue;
            }
            if patch_value.is_null() {
                result.remove(key);
                continue;
            }
            path.push(key.as_str());
            let merged = self.merge_value(result.get(key), patch_value, path);
            path.pop();
            match merged? {
                Some(v) => {
                    result.insert(key.clone(), v);
                }
                None => {
                    result.remove(key);
                }
            }
        }

        for (field, order) in &directives.set_order {
            path.push(field);
            let list_type = self.schema.list_type(path);
            path.pop();
            if let Some(Value::Array(items)) = result.get_mut(*field) {
                reorder(items, order, &list_type);
            }
        }

        if let Some(keep) = &directives.retain_keys {
            result.retain(|k, _| keep.contains(&k.as_str()));
        }
        Ok(Some(result))
    }

    /// `merge_map` for a patch map built locally (its keys do not outlive the
    /// call, so the path cannot borrow them).
    fn merge_owned(
        &self,
        original: &Map<String, Value>,
        patch: &Map<String, Value>,
        path: &[&str],
    ) -> Result<Option<Map<String, Value>>> {
        let mut local: Vec<&str> = path.to_vec();
        self.merge_map(original, patch, &mut local)
    }

    /// Merges one patch value into the original value of the same field.
    fn merge_value<'p>(
        &self,
        original: Option<&Value>,
        patch: &'p Value,
        path: &mut Vec<&'p str>,
    ) -> Result<Option<Value>> {
        match patch {
            Value::Object(p) => {
                let empty = Map::new();
                // A map replacing a scalar or list is merged into nothing.
                let o = original.and_then(Value::as_object).unwrap_or(&empty);
                Ok(self.merge_map(o, p, path)?.map(Value::Object))
            }
            Value::Array(p) => {
                let o: &[Value] = original.and_then(Value::as_array).map_or(&[], |v| v);
                Ok(Some(Value::Array(self.merge_list(o, p, path)?)))
            }
            scalar => Ok(Some(scalar.clone())),
        }
    }

    /// Merges a patch list into the original list of the same field.
    fn merge_list<'p>(
        &self,
        original: &[Value],
        patch: &'p [Value],
        path: &mut Vec<&'p str>,
    ) -> Result<Vec<Value>> {
        let list_type = self.schema.list_type(path);
        match list_type {
            // Atomic lists are replaced; their items are still cleaned of
            // directives so none reach the stored object.
            ListType::Atomic => {
                let mut out = Vec::with_capacity(patch.len());
                for item in patch {
                    if let Some(v) = self.merge_value(None, item, path)? {
                        out.push(v);
                    }
                }
                Ok(out)
            }
            ListType::Set => {
                let (replace, plain) = self.special_elements(patch, None, path)?;
                let mut out: Vec<Value> = if replace {
                    Vec::new()
                } else {
                    original.to_vec()
                };
                for item in plain {
                    if !out.contains(item) {
                        out.push(item.clone());
                    }
                }
                Ok(out)
            }
            ListType::Map(keys) => {
                let Some(first) = keys.first() else {
                    return Ok(patch.to_vec());
                };
                let key = MergeKey {
                    name: first.name,
                    default: first.default,
                };
                let (replace, plain) = self.special_elements(patch, Some(&key), path)?;
                // `$patch: replace` discards the original items, deletes included.
                let mut out: Vec<Value> = if replace {
                    Vec::new()
                } else {
                    original.to_vec()
                };
                if !replace {
                    for deleted in deleted_keys(patch, &key) {
                        out.retain(|item| key.value_of(item).as_ref() != Some(&deleted));
                    }
                }
                for item in plain {
                    let Value::Object(item_map) = item else {
                        out.push(item.clone());
                        continue;
                    };
                    let Some(k) = key.value_of(item) else {
                        return Err(StrategicMergeError::MissingMergeKey {
                            path: show_path(path),
                            key: key.name.to_string(),
                            item: item.to_string(),
                        });
                    };
                    let pos = out
                        .iter()
                        .position(|o| key.value_of(o).as_ref() == Some(&k));
                    let empty = Map::new();
                    let base = pos
                        .and_then(|i| out[i].as_object())
                        .unwrap_or(&empty)
                        .clone();
                    let merged = self.merge_map(&base, item_map, path)?;
                    match (pos, merged) {
                        (Some(i), Some(m)) => out[i] = Value::Object(m),
                        (Some(i), None) => {
                            out.remove(i);
                        }
                        (None, Some(m)) => out.push(Value::Object(m)),
                        (None, None) => {}
                    }
                }
                Ok(out)
            }
        }
    }

    /// Splits a patch list into its `$patch` items and its plain items.
    /// The flag is set when a `$patch: replace` item asks for the whole list
    /// to be replaced by the plain items.
    fn special_elements<'p>(
        &self,
        patch: &'p [Value],
        key: Option<&MergeKey>,
        path: &[&str],
    ) -> Result<(bool, Vec<&'p Value>)> {
        let mut replace = false;
        let mut plain = Vec::new();
        for item in patch {
            match item.get(PATCH) {
                None => plain.push(item),
                Some(Value::String(d)) if d == "replace" => replace = true,
                Some(Value::String(d)) if d == "merge" => plain.push(item),
                Some(Value::String(d)) if d == "delete" => {
                    if let Some(key) = key {
                        if key.value_of(item).is_none() {
                            return Err(StrategicMergeError::MissingMergeKey {
                                path: show_path(path),
                                key: key.name.to_string(),
                                item: item.to_string(),
                            });
                        }
                    }
                }
                Some(other) => {
                    return Err(StrategicMergeError::UnknownDirective {
                        directive: format!("{PATCH}: {other}"),
                        path: show_path(path),
                    })
                }
            }
        }
        Ok((replace, plain))
    }
}

/// The merge key values of the `$patch: delete` items of a keyed patch list.
fn deleted_keys(patch: &[Value], key: &MergeKey) -> Vec<Value> {
    patch
        .iter()
        .filter(|item| item.get(PATCH).and_then(Value::as_str) == Some("delete"))
        .filter_map(|item| key.value_of(item))
        .collect()
}

/// The strategic merge key of a keyed list, with the schema's default for
/// items that omit it.
struct MergeKey {
    name: &'static str,
    default: Option<&'static str>,
}

impl MergeKey {
    fn value_of(&self, item: &Value) -> Option<Value> {
        match item.get(self.name) {
            Some(v) if !v.is_null() => Some(v.clone()),
            _ => self.default.map(|d| Value::String(d.to_string())),
        }
    }
}

/// Reads and validates the directives of one patch map.
fn collect_directives<'p>(patch: &'p Map<String, Value>, path: &[&str]) -> Result<Directives<'p>> {
    let mut d = Directives::default();
    let invalid = |directive: &str, reason: &str| StrategicMergeError::InvalidDirective {
        directive: directive.to_string(),
        path: show_path(path),
        reason: reason.to_string(),
    };
    for (key, value) in patch {
        if !key.starts_with('$') || key == PATCH {
            continue;
        }
        if key == RETAIN_KEYS {
            let list = value
                .as_array()
                .ok_or_else(|| invalid(key, "must be a list of field names"))?;
            let names = list
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| invalid(key, "must be a list of strings"))
                })
                .collect::<Result<Vec<_>>>()?;
            d.retain_keys = Some(names);
        } else if let Some(field) = key.strip_prefix(SET_ELEMENT_ORDER) {
            let list = value
                .as_array()
                .ok_or_else(|| invalid(key, "must be a list"))?;
            d.set_order.push((field, list));
        } else if let Some(field) = key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            let list = value
                .as_array()
                .ok_or_else(|| invalid(key, "must be a list"))?;
            d.delete_from.push((field, list));
        } else {
            return Err(StrategicMergeError::UnknownDirective {
                directive: key.clone(),
                path: show_path(path),
            });
        }
    }
    Ok(d)
}

/// Orders a merged list by a `$setElementOrder` list: the items it names, in
/// its order, then every other item in the order it already had.
fn reorder(items: &mut Vec<Value>, order: &[Value], list_type: &ListType) {
    let identity = |v: &Value| -> Option<Value> {
        match list_type {
            ListType::Map(keys) => {
                let first = keys.first()?;
                MergeKey {
                    name: first.name,
                    default: first.default,
                }
                .value_of(v)
            }
            _ => Some(v.clone()),
        }
    };
    if matches!(list_type, ListType::Atomic) {
        return;
    }
    let mut rest: Vec<Option<Value>> = items.drain(..).map(Some).collect();
    let ids: Vec<Option<Value>> = rest.iter().map(|v| v.as_ref().and_then(identity)).collect();
    for wanted in order.iter().filter_map(identity) {
        if let Some(i) = ids.iter().position(|id| id.as_ref() == Some(&wanted)) {
            if let Some(v) = rest[i].take() {
                items.push(v);
            }
        }
    }
    items.extend(rest.into_iter().flatten());
}

#[cfg(test)]
mod tests;
