//! What the apiextensions controller does for a CRD: check its names and
//! mark it NamesAccepted and Established, so `kubectl wait
//! --for condition=established` returns at once.

use crate::objects::now;
use serde_json::{json, Value};

pub fn accept(crd: &mut Value) -> Result<(), String> {
    let spec = crd.get("spec").ok_or("spec: Required value")?;
    let group = spec
        .get("group")
        .and_then(Value::as_str)
        .ok_or("spec.group: Required value")?;
    let plural = spec
        .pointer("/names/plural")
        .and_then(Value::as_str)
        .ok_or("spec.names.plural: Required value")?;
    let name = crd
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if name != format!("{plural}.{group}") {
        return Err(format!(
            "metadata.name: Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"
        ));
    }
    let names = spec.get("names").cloned().unwrap_or(json!({}));
    let stored: Vec<Value> = spec
        .get("versions")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter(|v| v.get("storage") == Some(&json!(true)))
                .filter_map(|v| v.get("name").cloned())
                .collect()
        })
        .unwrap_or_default();
    let existing_time = crd
        .pointer("/status/conditions/0/lastTransitionTime")
        .cloned();
    let time = existing_time.unwrap_or_else(|| json!(now()));
    let mut accepted = names.clone();
    if accepted.get("singular").is_none() {
        if let Some(kind) = names.get("kind").and_then(Value::as_str) {
            accepted["singular"] = json!(kind.to_lowercase());
        }
    }
    if accepted.get("listKind").is_none() {
        if let Some(kind) = names.get("kind").and_then(Value::as_str) {
            accepted["listKind"] = json!(format!("{kind}List"));
        }
    }
    crd["status"] = json!({
        "acceptedNames": accepted,
        "storedVersions": stored,
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": time},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": time},
        ],
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_named_crd_is_established() {
        let mut crd = json!({"metadata": {"name": "widgets.example.com"}, "spec": {"group": "example.com",
            "names": {"plural": "widgets", "kind": "Widget"}, "versions": [{"name": "v1", "storage": true}]}});
        accept(&mut crd).expect("accepted");
        assert_eq!(crd["status"]["conditions"][1]["type"], "Established");
        assert_eq!(crd["status"]["acceptedNames"]["listKind"], "WidgetList");
        assert_eq!(crd["status"]["storedVersions"], json!(["v1"]));
        let mut bad = json!({"metadata": {"name": "x"}, "spec": {"group": "example.com", "names": {"plural": "widgets"}}});
        assert!(accept(&mut bad).is_err());
    }
}
