//! `pods/eviction`, as kube-apiserver's eviction REST does it: a pod that is
//! running and selected by a PodDisruptionBudget is deleted only while the
//! budget allows a disruption (then the budget's `disruptionsAllowed` goes
//! down and the pod is listed in `disruptedPods`); otherwise 429 with the
//! budget named. A budget its controller has not processed yet
//! (`observedGeneration` behind `generation`) refuses too, as upstream.

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
fn selects(pdb: &Value, pod: &Value) -> bool {
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
            let pdb_name = meta_str(pdb, "name").unwrap_or("").to_string();
            let int = |p: &str| pdb.pointer(p).and_then(Value::as_i64).unwrap_or(0);
            if int("/status/observedGeneration") < int("/metadata/generation") {
                return Err(too_many(
                    format!(
                        "The disruption budget {pdb_name} is still being processed by the server."
                    ),
                    Some(10),
                ));
            }
            let allowed = int("/status/disruptionsAllowed");
            if allowed <= 0 {
                return Err(too_many(
                    format!(
                        "The disruption budget {pdb_name} needs {} healthy pods and has {} currently",
                        int("/status/desiredHealthy"),
                        int("/status/currentHealthy")
                    ),
                    None,
                ));
            }
            if !ctx.dry_run() {
                let rt = state
                    .registry
                    .find("policy", "v1", "poddisruptionbudgets")
                    .ok_or_else(|| ApiError::internal("poddisruptionbudgets are not served"))?;
                let mut new = (**pdb).clone();
                new["status"]["disruptionsAllowed"] = json!(allowed - 1);
                new["status"]["disruptedPods"][&name] = json!(crate::objects::now());
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
