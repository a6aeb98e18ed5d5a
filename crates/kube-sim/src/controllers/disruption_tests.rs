use super::*;

fn pod(name: &str, owner_uid: Option<&str>) -> Arc<Value> {
    let refs: Vec<Value> = owner_uid
        .map(|uid| json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": uid, "controller": true}))
        .into_iter()
        .collect();
    Arc::new(json!({"metadata": {"name": name, "namespace": "default", "ownerReferences": refs}}))
}

/// Every controller has scale 4 (its uid is the Pod's controller uid).
fn scale_4(p: &Value) -> Result<(String, i64), String> {
    Ok((controller_uid(p).unwrap_or("").to_string(), 4))
}

#[test]
fn percentages_round_up() {
    assert_eq!(scaled(&json!("50%"), 3), Ok(2));
    assert_eq!(scaled(&json!("10%"), 4), Ok(1));
    assert_eq!(scaled(&json!("100%"), 7), Ok(7));
    assert_eq!(scaled(&json!("0%"), 7), Ok(0));
    assert_eq!(scaled(&json!("34%"), 0), Ok(0));
    assert_eq!(scaled(&json!(2), 10), Ok(2));
    assert_eq!(
        scaled(&json!("2"), 10),
        Err("invalid type: string is not a percentage".into())
    );
}

#[test]
fn an_integer_min_available_counts_the_selected_pods() {
    let pods = [pod("a", Some("u1")), pod("b", None), pod("c", Some("u1"))];
    let got = expected_and_desired(&json!({"minAvailable": 2}), &pods, |_| {
        Err("the scale is not looked at".into())
    });
    assert_eq!(got, Ok((3, 2, vec![])));
    assert_eq!(
        expected_and_desired(&json!({"minAvailable": 1}), &[], scale_4),
        Ok((0, 1, vec![]))
    );
}

#[test]
fn percentages_and_max_unavailable_use_the_controllers_scale() {
    // Two pods of one controller (scale 4): expected 4, not 2.
    let pods = [pod("a", Some("u1")), pod("b", Some("u1"))];
    assert_eq!(
        expected_and_desired(&json!({"minAvailable": "50%"}), &pods, scale_4),
        Ok((4, 2, vec![]))
    );
    assert_eq!(
        expected_and_desired(&json!({"maxUnavailable": "30%"}), &pods, scale_4),
        Ok((4, 2, vec![])),
        "30% of 4 rounds up to 2 unavailable"
    );
    assert_eq!(
        expected_and_desired(&json!({"maxUnavailable": 9}), &pods, scale_4),
        Ok((4, 0, vec![])),
        "never below zero"
    );
    // Two controllers add up.
    let two = [pod("a", Some("u1")), pod("b", Some("u2"))];
    assert_eq!(
        expected_and_desired(&json!({"maxUnavailable": 1}), &two, scale_4),
        Ok((8, 7, vec![]))
    );
}

#[test]
fn pods_of_two_replica_sets_of_one_deployment_count_its_scale_once() {
    // Regression: the scale was added once per ReplicaSet (per Pod even).
    let pods = [
        pod("a", Some("rs1")),
        pod("b", Some("rs2")),
        pod("c", Some("rs1")),
    ];
    let deployment_scale = |_: &Value| Ok(("deploy".to_string(), 3));
    assert_eq!(
        expected_and_desired(&json!({"maxUnavailable": 1}), &pods, deployment_scale),
        Ok((3, 2, vec![]))
    );
}

#[test]
fn unmanaged_pods_are_left_out_of_the_scale_and_named() {
    let pods = [pod("a", Some("u1")), pod("loose", None)];
    assert_eq!(
        expected_and_desired(&json!({"maxUnavailable": 1}), &pods, scale_4),
        Ok((4, 3, vec!["loose".to_string()]))
    );
    let only_loose = [pod("loose", None)];
    assert_eq!(
        expected_and_desired(&json!({"minAvailable": "100%"}), &only_loose, scale_4),
        Ok((0, 0, vec!["loose".to_string()]))
    );
}

#[test]
fn a_controller_without_a_scale_is_an_error() {
    let pods = [pod("a", Some("u1"))];
    let err = expected_and_desired(&json!({"maxUnavailable": 1}), &pods, |_| {
        Err("daemonsets.apps does not implement the scale subresource".into())
    });
    assert_eq!(
        err,
        Err("daemonsets.apps does not implement the scale subresource".into())
    );
}

#[test]
fn the_condition_follows_the_allowed_count_and_keeps_its_transition_time() {
    let pdb = json!({"status": {"conditions": [
        {"type": "DisruptionAllowed", "status": "True", "observedGeneration": 1,
         "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "SufficientPods", "message": ""},
        {"type": "Other", "status": "True"}]}});
    let same = allowed_condition(&pdb, 2, 3);
    assert_eq!(same[0]["lastTransitionTime"], "2026-01-01T00:00:00Z");
    assert_eq!(same[0]["observedGeneration"], 3);
    assert_eq!(same[1]["type"], "Other");
    let none = allowed_condition(&pdb, 0, 3);
    assert_eq!(none[0]["status"], "False");
    assert_eq!(none[0]["reason"], "InsufficientPods");
    assert_ne!(none[0]["lastTransitionTime"], "2026-01-01T00:00:00Z");
}
