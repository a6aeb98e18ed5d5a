//! `--state-dir`: the store saved on stop and restored on start, so a
//! restarted server keeps its objects and resourceVersions (watches from
//! before the restart get 410 and re-list, as after an apiserver restart).

use crate::server::Shared;
use serde_json::{json, Value};
use std::path::Path;

const FILE: &str = "kube-sim-state.json";

pub fn save(shared: &Shared, dir: &Path) -> std::io::Result<()> {
    let state = shared.lock();
    let objects: Vec<Value> = state
        .store
        .all()
        .into_iter()
        .map(|((group, plural), obj)| json!({"group": group, "resource": plural, "object": *obj}))
        .collect();
    let doc = json!({"resourceVersion": state.store.resource_version(), "objects": objects});
    drop(state);
    let text = serde_json::to_string(&doc).map_err(std::io::Error::other)?;
    crate::kubeconfig::write_atomically(&dir.join(FILE), &text)
}

/// Load a saved store; false when there is none yet.
pub fn restore(shared: &Shared, dir: &Path) -> std::io::Result<bool> {
    let path = dir.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let doc: Value = serde_json::from_str(&text).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    })?;
    let mut state = shared.lock();
    let objects = doc
        .get("objects")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for entry in objects {
        let group = entry
            .get("group")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let resource = entry
            .get("resource")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let Some(obj) = entry.get("object").cloned() else {
            continue;
        };
        if group == "apiextensions.k8s.io" && resource == "customresourcedefinitions" {
            let _ = state.registry.register_crd(&obj);
        }
        state.store.restore(&(group, resource), obj);
    }
    // The last version may belong to a deletion; never hand it out again.
    if let Some(rv) = doc.get("resourceVersion").and_then(Value::as_u64) {
        state.store.restore_version(rv);
    }
    Ok(true)
}
