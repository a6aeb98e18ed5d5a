//! ControllerRevisions, the history StatefulSets and DaemonSets keep of
//! their pod templates (what `kubectl rollout history sts/x` lists): one per
//! distinct template, named `<owner>-<hash>`, labelled with
//! `controller.kubernetes.io/hash`, numbered by `revision`, owned by the
//! workload, holding the template as a replace patch as upstream does.

use super::{find_type, hash_of, owner_ref, BY_CONTROLLER};
use crate::commit::commit;
use crate::objects::meta_str;
use crate::server::State;
use serde_json::{json, Value};

/// The revision hash of a workload's template (upstream's is FNV of the
/// patch; any stable hash of the template does).
pub fn hash(template: &Value) -> String {
    format!("{:x}", hash_of(&template.to_string()) & 0xff_ffff_ffff)
        .chars()
        .take(10)
        .collect()
}

/// Make sure `owner` has a ControllerRevision for its current template and
/// that it is the newest; returns its name (`<owner>-<hash>`) and number.
pub fn ensure(state: &mut State, owner: &Value) -> (String, i64) {
    let template = owner
        .pointer("/spec/template")
        .cloned()
        .unwrap_or(json!({}));
    let h = hash(&template);
    let owner_name = meta_str(owner, "name").unwrap_or("");
    let name = format!("{owner_name}-{h}");
    let Some(rt) = find_type(state, "apps", "controllerrevisions") else {
        return (name, 1);
    };
    let ns = meta_str(owner, "namespace").unwrap_or("").to_string();
    let uid = meta_str(owner, "uid").unwrap_or("");
    let resource = (rt.group.clone(), rt.plural.clone());
    let existing = state.store.owned_by(&resource, &ns, uid);
    let number = |r: &Value| r.get("revision").and_then(Value::as_i64).unwrap_or(0);
    let max_other = existing
        .iter()
        .filter(|r| meta_str(r, "name") != Some(name.as_str()))
        .map(|r| number(r))
        .max()
        .unwrap_or(0);
    match existing
        .iter()
        .find(|r| meta_str(r, "name") == Some(name.as_str()))
    {
        Some(current) if number(current) > max_other => (name, number(current)),
        Some(current) => {
            let mut bumped = (**current).clone();
            bumped["revision"] = json!(max_other + 1);
            let _ = commit(
                state,
                &rt,
                Some(current.clone()),
                bumped,
                false,
                BY_CONTROLLER,
            );
            (name, max_other + 1)
        }
        None => {
            let mut labels = owner
                .pointer("/spec/selector/matchLabels")
                .cloned()
                .unwrap_or(json!({}));
            labels["controller.kubernetes.io/hash"] = json!(h);
            let mut patch_template = template;
            patch_template["$patch"] = json!("replace");
            let revision = json!({
                "apiVersion": "apps/v1", "kind": "ControllerRevision",
                "metadata": {"name": name, "namespace": ns, "labels": labels,
                             "ownerReferences": [owner_ref(owner)]},
                "data": {"spec": {"template": patch_template}},
                "revision": max_other + 1,
            });
            let _ = commit(state, &rt, None, revision, false, BY_CONTROLLER);
            (name, max_other + 1)
        }
    }
}
