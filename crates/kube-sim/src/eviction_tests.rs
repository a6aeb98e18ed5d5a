use super::*;

fn budget(allowed: i64, current: i64, desired: i64) -> Value {
    json!({"metadata": {"name": "guard", "generation": 2},
        "spec": {"minAvailable": desired, "selector": {}},
        "status": {"observedGeneration": 2, "disruptionsAllowed": allowed,
                   "currentHealthy": current, "desiredHealthy": desired, "expectedPods": current}})
}

fn pod(ready: bool) -> Value {
    let status = if ready { "True" } else { "False" };
    json!({"metadata": {"name": "p1"},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": status}]}})
}

#[test]
fn an_allowed_disruption_is_used_up_and_the_pod_recorded() {
    let new = decide(&budget(2, 3, 1), &pod(true), "2026-01-01T00:00:00Z")
        .expect("allowed")
        .expect("the budget changes");
    assert_eq!(new["status"]["disruptionsAllowed"], 1);
    assert_eq!(
        new["status"]["disruptedPods"],
        json!({"p1": "2026-01-01T00:00:00Z"})
    );
    // The last one also turns the condition.
    let new = decide(&budget(1, 2, 1), &pod(true), "2026-01-01T00:00:00Z")
        .expect("allowed")
        .expect("the budget changes");
    assert_eq!(new["status"]["disruptionsAllowed"], 0);
    assert_eq!(new["status"]["conditions"][0]["reason"], "InsufficientPods");
}

#[test]
fn no_disruption_left_is_429_naming_the_budget() {
    let e = decide(&budget(0, 2, 2), &pod(true), "t").expect_err("refused");
    assert_eq!((e.code, e.reason), (429, "TooManyRequests"));
    assert_eq!(e.retry_after, None);
    assert_eq!(
        e.message,
        "Cannot evict pod as it would violate the pod's disruption budget."
    );
    assert_eq!(
        e.to_status()["details"]["causes"],
        json!([{"reason": "DisruptionBudget",
                "message": "The disruption budget guard needs 2 healthy pods and has 2 currently"}])
    );
}

#[test]
fn an_unprocessed_budget_asks_to_retry_in_ten_seconds() {
    let mut pdb = budget(5, 5, 1);
    pdb["metadata"]["generation"] = json!(3);
    let e = decide(&pdb, &pod(true), "t").expect_err("refused");
    assert_eq!((e.code, e.retry_after), (429, Some(10)));
    assert_eq!(
        e.to_status()["details"]["causes"][0]["message"],
        "The disruption budget guard is still being processed by the server."
    );
}

#[test]
fn a_not_ready_pod_goes_free_while_the_budget_is_met() {
    assert!(matches!(
        decide(&budget(0, 2, 2), &pod(false), "t"),
        Ok(None)
    ));
    // Budget not met: the unready pod needs a disruption like any other.
    assert!(decide(&budget(0, 1, 2), &pod(false), "t").is_err());
    let mut always = budget(0, 1, 2);
    always["spec"]["unhealthyPodEvictionPolicy"] = json!("AlwaysAllow");
    assert!(matches!(decide(&always, &pod(false), "t"), Ok(None)));
    assert!(decide(&always, &pod(true), "t").is_err());
}

#[test]
fn a_negative_count_is_forbidden() {
    let e = decide(&budget(-1, 1, 2), &pod(true), "t").expect_err("refused");
    assert_eq!(e.code, 403);
    assert_eq!(
        e.message,
        "poddisruptionbudget.policy \"guard\" is forbidden: pdb disruptions allowed is negative"
    );
}
