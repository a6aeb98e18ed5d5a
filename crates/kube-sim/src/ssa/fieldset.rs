//! A set of field paths, SMD's `fieldpath.Set`, and its FieldsV1 encoding.
//!
//! Every managedFields entry is one of these sets. It is a tree: at each level
//! `members` are the paths that end here (owned as a whole) and `children` the
//! subtrees below. In FieldsV1 a member with no children is `{}` and a member
//! that also has children carries a `".": {}` entry; a child that is not a
//! member is just its subtree. Set operations follow SMD exactly, since
//! ownership transfer and removal are defined in terms of them.

use super::path::{path_to_string, Path, PathElement};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// A set of field paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    members: BTreeSet<PathElement>,
    /// Never holds an empty set: operations prune empty subtrees so that
    /// equality and `is_empty` mean what they say.
    children: BTreeMap<PathElement, FieldSet>,
}

/// A malformed FieldsV1 document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid FieldsV1: {0}")]
pub struct FieldsV1Error(pub String);

impl FieldSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// Adds `path` as a member (the root itself cannot be a member).
    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// Whether `path` is a member.
    pub fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|c| c.has(rest)),
        }
    }

    /// Members at this level.
    pub fn members(&self) -> impl Iterator<Item = &PathElement> {
        self.members.iter()
    }

    /// The subtree under `pe`, if any member lies below it.
    pub fn child(&self, pe: &PathElement) -> Option<&FieldSet> {
        self.children.get(pe)
    }

    /// Whether `pe` is a member at this level.
    pub fn has_member(&self, pe: &PathElement) -> bool {
        self.members.contains(pe)
    }

    /// Whether `pe` is a member here or, for a field, has members below it.
    /// This is SMD's `EnsureNamedFieldsAreMembers` view: a manager that owns
    /// `.spec.replicas` also holds on to `.spec` itself, whereas owning a
    /// field of a list item does not keep the item alive.
    pub fn holds(&self, pe: &PathElement) -> bool {
        self.members.contains(pe)
            || (matches!(pe, PathElement::Field(_)) && self.children.contains_key(pe))
    }

    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (pe, child) in &other.children {
            let merged = match out.children.get(pe) {
                Some(mine) => mine.union(child),
                None => child.clone(),
            };
            out.children.insert(pe.clone(), merged);
        }
        out
    }

    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.intersection(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(pe, mine)| {
                let both = mine.intersection(other.children.get(pe)?);
                (!both.is_empty()).then(|| (pe.clone(), both))
            })
            .collect();
        FieldSet { members, children }
    }

    /// Members of `self` not in `other`. As in SMD, removing a member does not
    /// remove what lies below it; callers remove subtrees by listing them.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let children = self
            .children
            .iter()
            .filter_map(|(pe, mine)| {
                let rest = match other.children.get(pe) {
                    Some(theirs) => mine.difference(theirs),
                    None => mine.clone(),
                };
                (!rest.is_empty()).then(|| (pe.clone(), rest))
            })
            .collect();
        FieldSet { members, children }
    }

    /// Drops `path` and everything below it.
    pub fn remove_subtree(&mut self, path: &[PathElement]) {
        match path {
            [] => *self = FieldSet::new(),
            [last] => {
                self.members.remove(last);
                self.children.remove(last);
            }
            [first, rest @ ..] => {
                if let Some(child) = self.children.get_mut(first) {
                    child.remove_subtree(rest);
                    if child.is_empty() {
                        self.children.remove(first);
                    }
                }
            }
        }
    }

    /// Keeps only the subtree under `pe` (used to scope a set to `status`).
    pub fn only_subtree(&self, pe: &PathElement) -> FieldSet {
        let mut out = FieldSet::new();
        if self.members.contains(pe) {
            out.members.insert(pe.clone());
        }
        if let Some(child) = self.children.get(pe) {
            out.children.insert(pe.clone(), child.clone());
        }
        out
    }

    /// Every member path, members of a level before the subtrees below it,
    /// each in sorted order (SMD's `Set.Iterate` order, which is the order
    /// conflicts are listed in).
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Path, out: &mut Vec<Path>) {
        for m in &self.members {
            let mut p = prefix.clone();
            p.push(m.clone());
            out.push(p);
        }
        for (pe, child) in &self.children {
            prefix.push(pe.clone());
            child.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    /// Member paths in the apiserver's printed form (`.spec.replicas`).
    pub fn path_strings(&self) -> Vec<String> {
        self.paths().iter().map(|p| path_to_string(p)).collect()
    }

    /// The FieldsV1 JSON of this set.
    pub fn to_fields_v1(&self) -> Value {
        Value::Object(self.fields_v1_contents(false))
    }

    fn fields_v1_contents(&self, include_self: bool) -> Map<String, Value> {
        let mut out = Map::new();
        if include_self {
            out.insert(".".to_string(), Value::Object(Map::new()));
        }
        // Members and children merged in one sorted walk, as SMD emits them.
        let keys: BTreeSet<&PathElement> =
            self.members.iter().chain(self.children.keys()).collect();
        for pe in keys {
            let inner = match self.children.get(pe) {
                Some(child) => child.fields_v1_contents(self.members.contains(pe)),
                None => Map::new(),
            };
            out.insert(pe.to_fields_v1_key(), Value::Object(inner));
        }
        out
    }

    /// Parses a FieldsV1 JSON document.
    pub fn from_fields_v1(v: &Value) -> Result<FieldSet, FieldsV1Error> {
        let Value::Object(map) = v else {
            return Err(FieldsV1Error("expected a JSON object".into()));
        };
        let mut out = FieldSet::new();
        for (k, child) in map {
            if k == "." {
                // Handled by the parent, which saw this map as `child`.
                continue;
            }
            let pe = PathElement::from_fields_v1_key(k).map_err(FieldsV1Error)?;
            let Value::Object(inner) = child else {
                return Err(FieldsV1Error(format!("value of {k:?} is not an object")));
            };
            if inner.is_empty() || inner.contains_key(".") {
                out.members.insert(pe.clone());
            }
            let sub = FieldSet::from_fields_v1(child)?;
            if !sub.is_empty() {
                out.children.insert(pe, sub);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(name: &str) -> PathElement {
        PathElement::field(name)
    }

    fn set(paths: &[&[&str]]) -> FieldSet {
        let mut s = FieldSet::new();
        for p in paths {
            let path: Path = p.iter().map(|n| f(n)).collect();
            s.insert(&path);
        }
        s
    }

    #[test]
    fn fields_v1_round_trips_with_dot_and_keys() {
        let doc = json!({
            "f:data": {".": {}, "f:a": {}},
            "f:metadata": {"f:finalizers": {"v:\"x\"": {}}},
            "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}}}}
        });
        let s = FieldSet::from_fields_v1(&doc).expect("parses");
        assert!(s.has(&[f("data")]));
        assert!(s.has(&[f("data"), f("a")]));
        assert!(!s.has(&[f("spec")]));
        assert_eq!(s.to_fields_v1(), doc);
        assert_eq!(
            s.path_strings(),
            vec![
                ".data",
                ".data.a",
                ".metadata.finalizers[=\"x\"]",
                ".spec.containers[name=\"nginx\"]",
                ".spec.containers[name=\"nginx\"].image",
            ]
        );
        assert!(FieldSet::from_fields_v1(&json!({"f:a": 1})).is_err());
        assert!(FieldSet::from_fields_v1(&json!({"q:a": {}})).is_err());
    }

    #[test]
    fn set_operations_follow_smd() {
        let a = set(&[&["data", "a"], &["data", "b"], &["spec", "replicas"]]);
        let b = set(&[&["data", "b"], &["data", "c"]]);
        assert_eq!(
            a.union(&b),
            set(&[
                &["data", "a"],
                &["data", "b"],
                &["data", "c"],
                &["spec", "replicas"]
            ])
        );
        assert_eq!(a.intersection(&b), set(&[&["data", "b"]]));
        assert_eq!(
            a.difference(&b),
            set(&[&["data", "a"], &["spec", "replicas"]])
        );
        assert!(a.difference(&a).is_empty());
        assert!(set(&[&["data", "a"]])
            .intersection(&set(&[&["data", "b"]]))
            .is_empty());
        // A removed member keeps its subtree unless that is removed too.
        let parent = set(&[&["data"], &["data", "a"]]);
        assert_eq!(
            parent.difference(&set(&[&["data"]])),
            set(&[&["data", "a"]])
        );
    }

    #[test]
    fn holds_expands_fields_but_not_items() {
        let doc = json!({"f:spec": {"f:c": {"k:{\"name\":\"x\"}": {"f:image": {}}}}});
        let s = FieldSet::from_fields_v1(&doc).expect("parses");
        assert!(s.holds(&f("spec")));
        let c = s
            .child(&f("spec"))
            .and_then(|s| s.child(&f("c")))
            .expect("c");
        let item = PathElement::from_fields_v1_key(r#"k:{"name":"x"}"#).expect("key");
        assert!(!c.holds(&item));
    }

    #[test]
    fn remove_subtree_prunes_empty_parents() {
        let mut s = set(&[
            &["metadata", "name"],
            &["metadata", "labels", "a"],
            &["kind"],
        ]);
        s.remove_subtree(&[f("metadata"), f("name")]);
        s.remove_subtree(&[f("kind")]);
        assert_eq!(s, set(&[&["metadata", "labels", "a"]]));
        s.remove_subtree(&[f("metadata"), f("labels")]);
        assert!(s.is_empty());
    }
}
