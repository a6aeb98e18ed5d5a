//! managedFields tracking for create, update and patch (operation `Update`).
//!
//! A non-apply write takes every field it adds or changes, from whoever owned
//! it before, into the writer's Update entry; fields it removes leave every
//! entry. This is SMD's `Updater.Update` as the apiserver runs it (through a
//! temporary manager, so the writer's own entry also just gains fields).

use super::compare::Comparison;
use super::managed::{
    raw_managed_fields, read_managed_fields, strip_managed_fields, write_managed_fields,
    ManagedFieldsEntry, Operation,
};
use super::walk::FieldScope;
use crate::schema::Schema;
use serde_json::Value;

/// Everything about a write besides the objects.
#[derive(Debug, Clone)]
pub struct UpdateOptions<'a> {
    pub manager: &'a str,
    /// `Some("status")`, `Some("scale")` for writes to a subresource.
    pub subresource: Option<&'a str>,
    pub api_version: &'a str,
    /// RFC 3339 seconds, `Z`.
    pub now: &'a str,
    /// The part of the object the write may own.
    pub scope: FieldScope,
}

/// Returns `new` with `metadata.managedFields` updated for a create (`old`
/// absent), update or patch by `manager`. The scope follows `subresource`
/// (`status` owns only `status`, anything else everything but `status`).
pub fn track_update(
    old: Option<&Value>,
    new: &Value,
    manager: &str,
    subresource: Option<&str>,
    schema: &Schema,
    api_version: &str,
    now: &str,
) -> Value {
    let opts = UpdateOptions {
        manager,
        subresource,
        api_version,
        now,
        scope: FieldScope::for_subresource(subresource),
    };
    track_update_with(old, new, schema, &opts)
}

/// Whether the writer set managedFields itself (kubectl's client-side to
/// server-side apply migration does, with a JSON patch). Subresource writes
/// cannot, as the apiserver ignores what they send.
fn explicit_managed_fields<'v>(
    old: Option<&Value>,
    new: &'v Value,
    subresource: Option<&str>,
) -> Option<&'v Value> {
    if subresource.is_some() {
        return None;
    }
    let sent = raw_managed_fields(new).filter(|v| !v.is_null())?;
    let before = old.and_then(raw_managed_fields).filter(|v| !v.is_null());
    let unchanged = match before {
        Some(b) => b == sent,
        // Sending `[]` for an object without entries changes nothing.
        None => sent.as_array().is_some_and(|a| a.is_empty()),
    };
    (!unchanged).then_some(sent)
}

/// [`track_update`] with the scope chosen by the caller (a custom resource
/// without a status subresource owns `status` through the main resource).
pub fn track_update_with(
    old: Option<&Value>,
    new: &Value,
    schema: &Schema,
    opts: &UpdateOptions<'_>,
) -> Value {
    if let Some(sent) = explicit_managed_fields(old, new, opts.subresource) {
        // Kept as given; an explicit empty list clears them.
        let mut out = new.clone();
        if sent.as_array().is_some_and(|a| a.is_empty()) {
            strip_managed_fields(&mut out);
        }
        return out;
    }

    // Undecodable managedFields are reset, as the apiserver does.
    let mut entries = old
        .map(|o| read_managed_fields(o).unwrap_or_default())
        .unwrap_or_default();
    let old_clean = old.map(|o| {
        let mut o = o.clone();
        strip_managed_fields(&mut o);
        o
    });
    let mut out = new.clone();
    strip_managed_fields(&mut out);

    let cmp = Comparison::between(old_clean.as_ref(), &out, schema, opts.scope);
    let changed = cmp.changed();
    for e in &mut entries {
        e.fields = e.fields.difference(&changed).difference(&cmp.removed);
    }
    if !changed.is_empty() {
        let mine = entries
            .iter()
            .position(|e| e.is(opts.manager, Operation::Update, opts.subresource));
        match mine {
            Some(i) => {
                let e = &mut entries[i];
                e.fields = e.fields.union(&changed);
                e.api_version = opts.api_version.into();
                e.time = Some(opts.now.into());
            }
            None => entries.push(ManagedFieldsEntry {
                manager: opts.manager.into(),
                operation: Operation::Update,
                api_version: opts.api_version.into(),
                time: Some(opts.now.into()),
                fields: changed,
                subresource: opts.subresource.map(str::to_string),
            }),
        }
    }
    write_managed_fields(&mut out, entries);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const T0: &str = "2024-01-01T00:00:00Z";
    const T1: &str = "2024-01-01T00:01:00Z";

    fn cm() -> Schema {
        Schema::builtin("", "ConfigMap")
    }

    fn mf(obj: &Value) -> Value {
        obj["metadata"]["managedFields"].clone()
    }

    #[test]
    fn create_records_everything_like_kubectl_create() {
        let new = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "default", "labels": {"app": "x"}},
            "data": {"a": "1"}});
        let out = track_update(None, &new, "kubectl-create", None, &cm(), "v1", T0);
        assert_eq!(
            mf(&out),
            json!([{"manager": "kubectl-create", "operation": "Update", "apiVersion": "v1",
                "time": T0, "fieldsType": "FieldsV1",
                "fieldsV1": {"f:data": {".": {}, "f:a": {}},
                             "f:metadata": {"f:labels": {".": {}, "f:app": {}}}}}])
        );
    }

    #[test]
    fn changed_fields_move_to_the_writer_and_removed_ones_leave_everyone() {
        let new = json!({"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}});
        let v1 = track_update(None, &new, "alice", None, &cm(), "v1", T0);
        let mut edited = v1.clone();
        edited["data"]["a"] = json!("9");
        edited["data"]["c"] = json!("3");
        edited["data"].as_object_mut().expect("map").remove("b");
        let v2 = track_update(Some(&v1), &edited, "bob", None, &cm(), "v1", T1);
        let entries = mf(&v2);
        assert_eq!(entries[0]["manager"], "alice");
        assert_eq!(entries[0]["time"], T0, "untouched entry keeps its time");
        assert_eq!(entries[0]["fieldsV1"], json!({"f:data": {}}));
        assert_eq!(entries[1]["manager"], "bob");
        assert_eq!(entries[1]["time"], T1);
        assert_eq!(
            entries[1]["fieldsV1"],
            json!({"f:data": {"f:a": {}, "f:c": {}}})
        );
        // A write that changes nothing adds no entry and touches no time.
        let v3 = track_update(
            Some(&v2),
            &v2,
            "carol",
            None,
            &cm(),
            "v1",
            "2030-01-01T00:00:00Z",
        );
        assert_eq!(mf(&v3), entries);
    }

    #[test]
    fn the_writer_merges_into_its_own_entry() {
        let v1 = track_update(
            None,
            &json!({"data": {"a": "1"}}),
            "m",
            None,
            &cm(),
            "v1",
            T0,
        );
        let v2 = track_update(
            Some(&v1),
            &json!({"data": {"a": "1", "b": "2"}}),
            "m",
            None,
            &cm(),
            "v1",
            T1,
        );
        let entries = mf(&v2);
        assert_eq!(entries.as_array().map(Vec::len), Some(1));
        assert_eq!(
            entries[0]["fieldsV1"],
            json!({"f:data": {".": {}, "f:a": {}, "f:b": {}}})
        );
        assert_eq!(entries[0]["time"], T1);
    }

    #[test]
    fn explicit_managed_fields_are_kept_or_cleared() {
        let v1 = track_update(
            None,
            &json!({"metadata": {"name": "c"}, "data": {"a": "1"}}),
            "m",
            None,
            &cm(),
            "v1",
            T0,
        );
        // kubectl's migration rewrites the entry as an Apply entry.
        let migrated = json!([{"manager": "kubectl", "operation": "Apply", "apiVersion": "v1",
            "time": T0, "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:a": {}}}}]);
        let mut sent = v1.clone();
        sent["metadata"]["managedFields"] = migrated.clone();
        let v2 = track_update(Some(&v1), &sent, "kubectl", None, &cm(), "v1", T1);
        assert_eq!(mf(&v2), migrated);
        let mut cleared = v1.clone();
        cleared["metadata"]["managedFields"] = json!([]);
        let v3 = track_update(Some(&v1), &cleared, "x", None, &cm(), "v1", T1);
        assert!(v3["metadata"].get("managedFields").is_none());
        // Omitted managedFields mean "unchanged", not "cleared".
        let mut omitted = v1.clone();
        strip_managed_fields(&mut omitted);
        let v4 = track_update(Some(&v1), &omitted, "x", None, &cm(), "v1", T1);
        assert_eq!(mf(&v4), mf(&v1));
    }

    #[test]
    fn status_writes_own_only_status_under_their_subresource() {
        let d = Schema::builtin("apps", "Deployment");
        let old = json!({"metadata": {"name": "d"}, "spec": {"replicas": 1}});
        let new = json!({"metadata": {"name": "d"}, "spec": {"replicas": 1},
            "status": {"replicas": 1, "conditions": [{"type": "Available", "status": "True"}]}});
        let out = track_update(
            Some(&old),
            &new,
            "kube-controller-manager",
            Some("status"),
            &d,
            "apps/v1",
            T0,
        );
        assert_eq!(
            mf(&out),
            json!([{"manager": "kube-controller-manager", "operation": "Update",
                "apiVersion": "apps/v1", "time": T0, "fieldsType": "FieldsV1",
                "fieldsV1": {"f:status": {"f:conditions": {".": {}, "k:{\"type\":\"Available\"}": {
                    ".": {}, "f:status": {}, "f:type": {}}}, "f:replicas": {}}},
                "subresource": "status"}])
        );
    }
}
