//! `pods/eviction`, as kube-apiserver's eviction REST does it: a pod that is
//! running and selected by a PodDisruptionBudget is deleted only while the
//! budget allows a disruption (then the budget's `disruptionsAllowed` goes
//! down and the pod is listed in `disruptedPods`, which the disruption
//! controller reads); otherwise 429 with the budget named. A budget its
//! controller has not processed yet (`observedGeneration` behind
//! `generation`) refuses too, as upstream. A running pod that is not Ready
//! goes without using up a disruption when the budget is met (or its
//! `unhealthyPodEvictionPolicy` is `AlwaysAllow`).

use crate::commit::{commit, Tracking};
use crate::handler::Ctx;
use crate::objects::meta_str;
use crate::registry::ResourceType;
use crate::route::ResourcePath;
use crate::selectors::LabelSelector;
use crate::server::Shared;
use crate::status::ApiError;
use serde_json::{json, Value};
use std::sync::Arc;

const REFUSED: &str = "Cannot evict pod as it would violate the pod's disruption budget.";

fn too_many(cause: String, retry_after: Option<u64>) -> ApiError {
    let mut e = ApiError::new(429, "TooManyRequests", REFUSED)
        .with_details(json!({"causes": [{"reason": "DisruptionBudget", "message": cause}]}));
    e.retry_after = retry_after;
    e
}

/// Whether the budget's selector (a `policy/v1` LabelSelector; empty selects
/// every pod) selects the pod.
pub(crate) fn selects(pdb: &Value, pod: &Value) -> bool {
    let text = crate::table_cells::format_selector(pdb, "/spec/selector");
    if pdb.pointer("/spec/selector").is_none() {
        return false;
    }
    let text = if text == crate::table_cells::NONE {
        String::new()
    } else {
        text
    };
    LabelSelector::parse(&text).is_ok_and(|s| s.matches(pod))
}

/// What the budget says about evicting `pod`: `Ok(None)` when the pod may
/// go without touching the budget, `Ok(Some(new budget))` when it may go
/// using up one disruption (the budget as it is to be written: one fewer
/// allowed, the pod in `disruptedPods` at `now`), or the refusal.
pub(crate) fn decide(pdb: &Value, pod: &Value, now: &str) -> Result<Option<Value>, ApiError> {
    let pdb_name = meta_str(pdb, "name").unwrap_or("").to_string();
    let int = |p: &str| pdb.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    let ready = crate::controllers::pod_ready(pod);
    let always_allow = pdb
        .pointer("/spec/unhealthyPodEvictionPolicy")
        .and_then(Value::as_str)
        == Some("AlwaysAllow");
    if !ready && always_allow {
        return Ok(None);
    }
    let (current, desired) = (int("/status/currentHealthy"), int("/status/desiredHealthy"));
    if !ready && current >= desired && desired > 0 {
        return Ok(None);
    }
    if int("/status/observedGeneration") < int("/metadata/generation") {
        return Err(too_many(
            format!("The disruption budget {pdb_name} is still being processed by the server."),
            Some(10),
        ));
    }
    let forbidden = |why: &str| {
        ApiError::new(
            403,
            "Forbidden",
            format!("poddisruptionbudget.policy \"{pdb_name}\" is forbidden: {why}"),
        )
        .with_details(json!({"name": pdb_name, "group": "policy", "kind": "poddisruptionbudget"}))
    };
    let allowed = int("/status/disruptionsAllowed");
    if allowed < 0 {
        return Err(forbidden("pdb disruptions allowed is negative"));
    }
    let disrupted = pdb
        .pointer("/status/disruptedPods")
        .and_then(Value::as_object)
        .map_or(0, |m| m.len());
    if disrupted > MAX_DISRUPTED_PODS {
        return Err(forbidden(
            "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
        ));
    }
    if allowed == 0 {
        return Err(too_many(
            format!(
                "The disruption budget {pdb_name} needs {desired} healthy pods and has {current} currently"
            ),
            None,
        ));
    }
    let mut new = pdb.clone();
    new["status"]["disruptionsAllowed"] = json!(allowed - 1);
    if allowed == 1 {
        let generation = int("/status/observedGeneration");
        new["status"]["conditions"] = crate::controllers::disruption_condition(&new, 0, generation);
    }
    let pod_name = meta_str(pod, "name").unwrap_or("");
    if !new["status"]["disruptedPods"].is_object() {
        new["status"]["disruptedPods"] = json!({});
    }
    new["status"]["disruptedPods"][pod_name] = json!(now);
    Ok(Some(new))
}

/// Evictions the controller has not confirmed yet beyond which the eviction
/// REST refuses (`MaxDisruptedPodSize`).
const MAX_DISRUPTED_PODS: usize = 2000;

pub fn evict(
    shared: &Shared,
    pods: &Arc<ResourceType>,
    rp: &ResourcePath,
    ctx: &Ctx,
) -> Result<Value, ApiError> {
    let ns = rp.namespace.clone().unwrap_or_default();
    let name = rp.name.clone().unwrap_or_default();
    {
        let mut state = shared.lock();
        let state = &mut *state;
        let pod = state
            .store
            .get(&(String::new(), "pods".into()), &ns, &name)
            .ok_or_else(|| ApiError::not_found("", "pods", &name))?;
        let phase = pod
            .pointer("/status/phase")
            .and_then(Value::as_str)
            .unwrap_or("Pending");
        let ignore = matches!(phase, "Succeeded" | "Failed" | "Pending")
            || meta_str(&pod, "deletionTimestamp").is_some();
        let budgets: Vec<Arc<Value>> = state
            .store
            .list(&("policy".into(), "poddisruptionbudgets".into()), Some(&ns))
            .into_iter()
            .filter(|b| selects(b, &pod))
            .collect();
        if budgets.len() > 1 {
            return Err(ApiError::internal(
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
            ));
        }
        if let (Some(pdb), false) = (budgets.first(), ignore) {
            // A dry run is refused as a real one would be, and writes nothing.
            let decided = decide(pdb, &pod, &crate::objects::now())?;
            if let (Some(new), false) = (decided, ctx.dry_run()) {
                let rt = state
                    .registry
                    .find("policy", "v1", "poddisruptionbudgets")
                    .ok_or_else(|| ApiError::internal("poddisruptionbudgets are not served"))?;
                let tracking = Tracking::Update {
                    manager: "kube-apiserver",
                    subresource: Some("status"),
                };
                commit(state, &rt, Some(pdb.clone()), new, false, tracking)?;
            }
        }
    }
    let target = ResourcePath {
        subresource: None,
        ..rp.clone()
    };
    crate::deletes::delete(shared, pods, &target, ctx, b"")?;
    Ok(
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
    )
}

#[cfg(test)]
#[path = "eviction_tests.rs"]
mod tests;
