//! The resources pane as a tree by ownerReferences (Deployment → ReplicaSet →
//! Pod), built once per status or watch change rather than on every frame.
//!
//! The engine's resources are the roots (what Git declares, plus extras);
//! objects they own arrive separately (`Msg::OwnedObjects`) and hang below
//! their owner by uid. Owned objects whose owner is not shown are left out:
//! they belong to something else.

use super::state::OwnedObject;
use crate::model::{LiveObject, ResourceState};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRef {
    /// Index into `AppStatus::resources`.
    Resource(usize),
    /// Index into `AppRow::owned`.
    Owned(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRow {
    pub node: NodeRef,
    pub depth: usize,
    /// Box-drawing prefix, e.g. `│  └─ `.
    pub prefix: String,
}

fn sort_key(obj: &LiveObject) -> (u8, String) {
    let key = obj.key();
    let rank = match key.kind.as_str() {
        "ReplicaSet" | "ControllerRevision" => 0,
        "Job" => 1,
        "Pod" => 2,
        _ => 3,
    };
    (rank, key.name.clone())
}

/// Reads only what [`LiveObject`] keeps beside its text (uid, owners, key):
/// no object is parsed.
pub fn build(resources: &[ResourceState], owned: &[OwnedObject]) -> Vec<TreeRow> {
    let mut by_uid: BTreeMap<&str, NodeRef> = BTreeMap::new();
    for (i, r) in resources.iter().enumerate() {
        if let Some(u) = r.live.as_ref().and_then(LiveObject::uid) {
            by_uid.insert(u, NodeRef::Resource(i));
        }
    }
    for (i, o) in owned.iter().enumerate() {
        if let Some(u) = o.live.uid() {
            by_uid.entry(u).or_insert(NodeRef::Owned(i));
        }
    }
    let object = |n: NodeRef| -> Option<&LiveObject> {
        match n {
            NodeRef::Resource(i) => resources.get(i).and_then(|r| r.live.as_ref()),
            NodeRef::Owned(i) => owned.get(i).map(|o| &o.live),
        }
    };
    let mut children: BTreeMap<NodeRefKey, Vec<NodeRef>> = BTreeMap::new();
    let mut has_parent: BTreeSet<NodeRefKey> = BTreeSet::new();
    let all = (0..resources.len())
        .map(NodeRef::Resource)
        .chain((0..owned.len()).map(NodeRef::Owned));
    for n in all {
        let Some(obj) = object(n) else { continue };
        let parent = obj
            .owner_uids()
            .filter_map(|u| by_uid.get(u).copied())
            .find(|p| *p != n);
        if let Some(p) = parent {
            children.entry(key(p)).or_default().push(n);
            has_parent.insert(key(n));
        }
    }
    for list in children.values_mut() {
        list.sort_by_key(|n| object(*n).map(sort_key).unwrap_or_default());
    }
    let mut rows = vec![];
    let mut seen = BTreeSet::new();
    for i in 0..resources.len() {
        let n = NodeRef::Resource(i);
        if !has_parent.contains(&key(n)) {
            walk(n, 0, &mut Vec::new(), &children, &mut seen, &mut rows);
        }
    }
    // Resources caught in an ownership cycle had no root: show them flat.
    for i in 0..resources.len() {
        let n = NodeRef::Resource(i);
        if !seen.contains(&key(n)) {
            walk(n, 0, &mut Vec::new(), &children, &mut seen, &mut rows);
        }
    }
    rows
}

/// `NodeRef` as an orderable map key.
type NodeRefKey = (u8, usize);

fn key(n: NodeRef) -> NodeRefKey {
    match n {
        NodeRef::Resource(i) => (0, i),
        NodeRef::Owned(i) => (1, i),
    }
}

fn walk(
    n: NodeRef,
    depth: usize,
    lasts: &mut Vec<bool>,
    children: &BTreeMap<NodeRefKey, Vec<NodeRef>>,
    seen: &mut BTreeSet<NodeRefKey>,
    rows: &mut Vec<TreeRow>,
) {
    // ownerReferences can be wrong or cyclic in a broken cluster; never loop.
    if !seen.insert(key(n)) {
        return;
    }
    let mut prefix = String::new();
    if let Some((last, ancestors)) = lasts.split_last() {
        for a in ancestors {
            prefix.push_str(if *a { "   " } else { "│  " });
        }
        prefix.push_str(if *last { "└─ " } else { "├─ " });
    }
    rows.push(TreeRow {
        node: n,
        depth,
        prefix,
    });
    let kids = children.get(&key(n)).map(Vec::as_slice).unwrap_or(&[]);
    for (i, c) in kids.iter().enumerate() {
        lasts.push(i + 1 == kids.len());
        walk(*c, depth + 1, lasts, children, seen, rows);
        lasts.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Health, ResourceKey, ResourceStatus};
    use serde_json::json;

    fn res(kind: &str, name: &str, uid: &str) -> ResourceState {
        ResourceState {
            key: ResourceKey {
                group: "apps".into(),
                kind: kind.into(),
                namespace: Some("shop".into()),
                name: name.into(),
            },
            api_version: "apps/v1".into(),
            status: ResourceStatus::Synced,
            health: Health::Healthy,
            health_reason: String::new(),
            diff: String::new(),
            takeover: None,
            live: Some(json!({"kind": kind, "metadata": {"name": name, "uid": uid}}).into()),
        }
    }

    fn live(kind: &str, name: &str, uid: &str, owner: &str) -> LiveObject {
        json!({"kind": kind, "metadata": {"name": name, "uid": uid,
            "ownerReferences": [{"uid": owner}]}})
        .into()
    }

    fn owned(kind: &str, name: &str, uid: &str, owner: &str) -> OwnedObject {
        OwnedObject {
            live: live(kind, name, uid, owner),
            health: Health::Healthy,
            health_reason: String::new(),
        }
    }

    #[test]
    fn deployments_own_replicasets_own_pods() {
        let resources = vec![res("Deployment", "web", "d1"), res("Service", "web", "s1")];
        let owned = vec![
            owned("Pod", "web-1-b", "p2", "rs1"),
            owned("ReplicaSet", "web-1", "rs1", "d1"),
            owned("Pod", "web-1-a", "p1", "rs1"),
            owned("Pod", "stranger", "p9", "elsewhere"),
        ];
        let rows = build(&resources, &owned);
        let shape: Vec<(NodeRef, String)> =
            rows.iter().map(|r| (r.node, r.prefix.clone())).collect();
        assert_eq!(
            shape,
            vec![
                (NodeRef::Resource(0), "".into()),
                (NodeRef::Owned(1), "└─ ".into()),
                (NodeRef::Owned(2), "   ├─ ".into()),
                (NodeRef::Owned(0), "   └─ ".into()),
                (NodeRef::Resource(1), "".into()),
            ]
        );
    }

    #[test]
    fn cycles_do_not_loop() {
        let mut a = res("ConfigMap", "a", "u1");
        let mut b = res("ConfigMap", "b", "u2");
        a.live = Some(live("ConfigMap", "a", "u1", "u2"));
        b.live = Some(live("ConfigMap", "b", "u2", "u1"));
        assert_eq!(build(&[a, b], &[]).len(), 2);
    }
}
