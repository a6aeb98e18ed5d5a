//! Properties of the normaliser over generated objects (bounded to a few
//! hundred cases so CI stays fast; proptest keeps any failure it finds in
//! `proptest-regressions/` and replays it first on every run):
//! - an object compared with itself, both ways, is Synced with no diff;
//! - noise the server adds (status, managedFields, resourceVersion, our
//!   label) is never drift;
//! - a real change of a spec value is always drift, at that path;
//! - no Secret value, plain or base64, ever reaches a diff.

use super::*;
use base64::Engine as _;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        "[a-z][a-z0-9-]{0,8}".prop_map(Value::from),
    ]
}

/// Arbitrary JSON a spec could hold: maps with lower-case keys, lists, leaves.
fn tree() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

fn object() -> impl Strategy<Value = Value> {
    (
        "[a-z]{1,8}",
        prop::collection::btree_map("[a-z]{1,6}", tree(), 1..4),
    )
        .prop_map(|(name, spec)| {
            json!({
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {"name": name, "namespace": "web"},
                "spec": Value::Object(spec.into_iter().collect()),
            })
        })
}

/// What a server adds to an object it stores.
fn as_stored(o: &Value) -> Value {
    let mut live = o.clone();
    live["metadata"]["resourceVersion"] = json!("42");
    live["metadata"]["uid"] = json!("0000-1111");
    live["metadata"]["generation"] = json!(3);
    live["metadata"]["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
    live["metadata"]["labels"] = json!({TRACKING_LABEL: "web"});
    live["metadata"]["managedFields"] = json!([{"manager": "gitops-tui", "operation": "Apply",
        "apiVersion": "example.com/v1", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {}}}]);
    live["status"] = json!({"observedGeneration": 3, "ready": true});
    live
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn an_object_equals_itself(o in object()) {
        let d = compare_dry_run(&o, &o, &o, &[]);
        prop_assert_eq!(d.status, ResourceStatus::Synced);
        prop_assert!(d.diff.is_empty());
        let l = compare_local(&o, &o, "gitops-tui", &[]);
        prop_assert_eq!(l.status, ResourceStatus::Synced, "{}", l.diff);
    }

    #[test]
    fn server_noise_is_never_drift(o in object()) {
        let live = as_stored(&o);
        let d = compare_dry_run(&o, &live, &live, &[]);
        prop_assert_eq!(d.status, ResourceStatus::Synced, "{}", d.diff);
        let l = compare_local(&o, &live, "gitops-tui", &[]);
        prop_assert_eq!(l.status, ResourceStatus::Synced, "{}", l.diff);
    }

    #[test]
    fn a_changed_spec_value_is_drift_at_its_path(o in object(), key in "[a-z]{1,6}", n in 0u32..1000) {
        let live = as_stored(&o);
        let mut desired = o.clone();
        // A value no generated leaf can equal: real drift, whatever was there.
        desired["spec"][&key] = json!(format!("Changed-{n}"));
        let mut dry = live.clone();
        dry["spec"][&key] = desired["spec"][&key].clone();
        for d in [
            compare_dry_run(&desired, &live, &dry, &[]),
            compare_local(&desired, &live, "gitops-tui", &[]),
        ] {
            prop_assert_eq!(d.status, ResourceStatus::OutOfSync);
            let path = format!("spec.{key}");
            prop_assert!(
                d.changed_paths.iter().any(|p| p == &path || p.starts_with(&format!("{path}."))),
                "{:?} lacks {}", d.changed_paths, path
            );
            prop_assert!(d.diff.contains(&format!("Changed-{n}")), "{}", d.diff);
        }
    }

    #[test]
    fn no_secret_value_reaches_a_diff(
        data in prop::collection::btree_map("[a-z]{1,6}", "[A-Za-z0-9]{6,16}", 1..5),
        rotated in "[A-Za-z0-9]{6,16}",
        plain in any::<bool>(),
    ) {
        let encode = |v: &str| base64::engine::general_purpose::STANDARD.encode(v);
        let field = if plain { "stringData" } else { "data" };
        let values: Map<String, Value> = data
            .iter()
            .map(|(k, v)| (k.clone(), json!(if plain { v.clone() } else { encode(v) })))
            .collect();
        let desired = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "creds", "namespace": "web"}, field: values});
        let stored: Map<String, Value> = data
            .keys()
            .map(|k| (k.clone(), json!(encode(&rotated))))
            .collect();
        let live = as_stored(&json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "creds", "namespace": "web"}, "data": stored}));
        let mut dry = live.clone();
        dry["data"] = json!(data.iter().map(|(k, v)| (k.clone(), json!(encode(v)))).collect::<Map<String, Value>>());
        for d in [
            compare_dry_run(&desired, &live, &dry, &[]),
            compare_local(&desired, &live, "gitops-tui", &[]),
            extra(&live),
            missing(&desired),
        ] {
            for v in data.values().chain(std::iter::once(&rotated)) {
                prop_assert!(!d.diff.contains(v.as_str()), "{} in {}", v, d.diff);
                prop_assert!(!d.diff.contains(&encode(v)), "base64 of {} in {}", v, d.diff);
            }
        }
    }
}
