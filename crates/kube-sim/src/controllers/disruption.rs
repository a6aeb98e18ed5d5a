//! The disruption controller of kube-controller-manager: it fills in a
//! PodDisruptionBudget's status from the Pods it selects, so `kubectl get
//! pdb` shows real numbers and the eviction subresource (`eviction.rs`)
//! refuses what the budget does not allow.
//!
//! As upstream (`pkg/controller/disruption`): `currentHealthy` counts the
//! selected Pods that are Ready, not being deleted and not just evicted
//! (`disruptedPods`, forgotten after two minutes); `desiredHealthy` is an
//! integer `minAvailable` as it is, or a percentage of `expectedPods`
//! rounded up; with `maxUnavailable` it is `expectedPods` minus that
//! (rounded up too). `expectedPods` is the number of selected Pods for an
//! integer `minAvailable`, else the sum of the scales of the Pods'
//! controllers (Pods without a controller are left out, with an
//! `UnmanagedPods` warning). A budget whose count cannot be computed gets
//! `disruptionsAllowed: 0` and a `SyncFailed` condition.

use super::{find_condition, pod_ready, set_status, Key, Run};
use crate::events::{record, Kind};
use crate::objects::{meta_str, now};
use crate::registry::ResourceType;
use crate::server::State;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;

const COMPONENT: &str = "controllermanager";
/// How long an evicted Pod may take to go before the budget counts it again.
const DELETION_TIMEOUT: Duration = Duration::from_secs(120);

fn pdbs() -> (String, String) {
    ("policy".into(), "poddisruptionbudgets".into())
}

/// The budgets in `ns` selecting the Pod as it is or as it was.
pub(super) fn selecting(state: &State, ns: &str, pod: &Value, old: Option<&Value>) -> Vec<Key> {
    state
        .store
        .list(&pdbs(), Some(ns))
        .iter()
        .filter(|b| {
            crate::eviction::selects(b, pod) || old.is_some_and(|o| crate::eviction::selects(b, o))
        })
        .map(|b| {
            (
                pdbs(),
                ns.to_string(),
                meta_str(b, "name").unwrap_or("").into(),
            )
        })
        .collect()
}

/// An int-or-percent against `total`, rounded up, as
/// `intstr.GetScaledValueFromIntOrPercent(v, total, true)`.
pub(crate) fn scaled(v: &Value, total: i64) -> Result<i64, String> {
    if let Some(n) = v.as_i64() {
        return Ok(n);
    }
    let s = v
        .as_str()
        .ok_or("invalid type: neither int nor percentage")?;
    let pct = s
        .strip_suffix('%')
        .ok_or("invalid type: string is not a percentage")?;
    let pct: i64 = pct
        .parse()
        .map_err(|e| format!("invalid value {s:?}: {e}"))?;
    Ok((pct * total + 99).div_euclid(100))
}

/// What a budget needs: `(expectedPods, desiredHealthy, unmanaged pods)`.
/// `scale` gives the (uid, scale) of a Pod's controller, or why not.
pub(crate) fn expected_and_desired(
    spec: &Value,
    pods: &[Arc<Value>],
    scale: impl Fn(&Value) -> Result<(String, i64), String>,
) -> Result<(i64, i64, Vec<String>), String> {
    let expected_scale = || -> Result<(i64, Vec<String>), String> {
        let mut seen: Vec<(String, i64)> = Vec::new();
        let mut unmanaged = Vec::new();
        for pod in pods {
            let Some(uid) = controller_uid(pod) else {
                unmanaged.push(meta_str(pod, "name").unwrap_or("").to_string());
                continue;
            };
            if seen.iter().any(|(u, _)| u == uid) {
                continue;
            }
            // Keyed by the uid of what has the scale (a ReplicaSet's Pods
            // count their Deployment once), as upstream's map is.
            let (owner, n) = scale(pod)?;
            if !seen.iter().any(|(u, _)| *u == owner) {
                seen.push((owner, n));
            }
        }
        Ok((seen.iter().map(|(_, n)| n).sum(), unmanaged))
    };
    if let Some(max) = spec.get("maxUnavailable").filter(|v| !v.is_null()) {
        let (expected, unmanaged) = expected_scale()?;
        let desired = (expected - scaled(max, expected)?).max(0);
        return Ok((expected, desired, unmanaged));
    }
    match spec.get("minAvailable") {
        Some(Value::Number(n)) => Ok((pods.len() as i64, n.as_i64().unwrap_or(0), vec![])),
        Some(min @ Value::String(_)) => {
            let (expected, unmanaged) = expected_scale()?;
            Ok((expected, scaled(min, expected)?, unmanaged))
        }
        _ => Ok((0, 0, vec![])),
    }
}

fn controller_ref(obj: &Value) -> Option<&Value> {
    obj.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
}

fn controller_uid(pod: &Value) -> Option<&str> {
    controller_ref(pod)?.get("uid")?.as_str()
}

fn ref_field<'a>(r: &'a Value, key: &str) -> &'a str {
    r.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The scale of the Pod's controller, found as the upstream finders do: a
/// ReplicaSet's Deployment, else the controller itself when it has a scale
/// subresource. The uid must be the one the Pod names.
fn controller_scale(state: &State, pod: &Value) -> Result<(String, i64), String> {
    let ns = meta_str(pod, "namespace").unwrap_or("");
    let name = meta_str(pod, "name").unwrap_or("");
    let not_found = || format!("found no controllers for pod {name:?}");
    let owner = controller_ref(pod).ok_or_else(not_found)?;
    let field = |k: &str| ref_field(owner, k);
    let group = field("apiVersion")
        .rsplit_once('/')
        .map_or("", |(g, _)| g)
        .to_string();
    let get = |group: &str, plural: &str, name: &str, uid: &str| {
        state
            .store
            .get(&(group.to_string(), plural.to_string()), ns, name)
            .filter(|o| meta_str(o, "uid") == Some(uid))
    };
    if field("kind") == "ReplicaSet" && group == "apps" {
        let rs = get("apps", "replicasets", field("name"), field("uid"));
        let deployment = rs.as_deref().and_then(controller_ref).and_then(|r| {
            let deploy = (ref_field(r, "kind") == "Deployment").then_some(r)?;
            get(
                "apps",
                "deployments",
                ref_field(deploy, "name"),
                ref_field(deploy, "uid"),
            )
        });
        if let Some(d) = deployment {
            return Ok((
                meta_str(&d, "uid").unwrap_or("").into(),
                super::replicas(&d),
            ));
        }
    }
    let rt = state
        .registry
        .all()
        .iter()
        .find(|t| t.group == group && t.kind == field("kind"))
        .cloned()
        .ok_or_else(|| format!("no matches for kind {:?} in group {group:?}", field("kind")))?;
    if !rt.has_scale {
        return Err(format!(
            "{} does not implement the scale subresource",
            rt.group_resource()
        ));
    }
    let target = get(&rt.group, &rt.plural, field("name"), field("uid")).ok_or_else(not_found)?;
    Ok((field("uid").into(), super::replicas(&target)))
}

fn condition(old: &Value, status: &str, reason: &str, message: &str, generation: i64) -> Value {
    let transition = find_condition(old, "DisruptionAllowed")
        .filter(|c| c["status"] == status)
        .and_then(|c| c.get("lastTransitionTime").cloned())
        .unwrap_or_else(|| json!(now()));
    json!({"type": "DisruptionAllowed", "status": status, "observedGeneration": generation,
           "lastTransitionTime": transition, "reason": reason, "message": message})
}

/// The conditions with `DisruptionAllowed` set to `c`, others kept.
fn with_condition(old: &Value, c: Value) -> Value {
    let mut out: Vec<Value> = old
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match out.iter_mut().find(|x| x["type"] == "DisruptionAllowed") {
        Some(slot) => *slot = c,
        None => out.push(c),
    }
    json!(out)
}

/// The `DisruptionAllowed` condition for `allowed` disruptions, as
/// `UpdateDisruptionAllowedCondition` sets it (also used by the eviction).
pub(crate) fn allowed_condition(pdb: &Value, allowed: i64, generation: i64) -> Value {
    let c = if allowed > 0 {
        condition(pdb, "True", "SufficientPods", "", generation)
    } else {
        condition(pdb, "False", "InsufficientPods", "", generation)
    };
    with_condition(pdb, c)
}

fn wall_time(t: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
}

pub(super) fn pdb(run: &mut Run, rt: &Arc<ResourceType>, pdb: &Value) {
    let ns = meta_str(pdb, "namespace").unwrap_or("").to_string();
    let pods: Vec<Arc<Value>> = run
        .state
        .store
        .list(&(String::new(), "pods".into()), Some(&ns))
        .into_iter()
        .filter(|p| crate::eviction::selects(pdb, p))
        .collect();
    if pods.is_empty() {
        record(
            run.state,
            pdb,
            Kind::Normal,
            "NoPods",
            "No matching pods found",
            COMPONENT,
        );
    }
    let spec = pdb.get("spec").cloned().unwrap_or(json!({}));
    let state = &*run.state;
    let counted = expected_and_desired(&spec, &pods, |p| controller_scale(state, p));
    let generation = super::generation(pdb);
    let (expected, desired, unmanaged) = match counted {
        Ok(c) => c,
        Err(e) => {
            let message = format!("Failed to calculate the number of expected pods: {e}");
            record(
                run.state,
                pdb,
                Kind::Warning,
                "CalculateExpectedPodCountFailed",
                &message,
                COMPONENT,
            );
            fail_safe(run.state, rt, pdb, &e);
            return;
        }
    };
    if !unmanaged.is_empty() {
        let selector = crate::table_cells::format_selector(pdb, "/spec/selector");
        let message = format!("Pods selected by this PodDisruptionBudget (selector: {selector}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value.");
        record(
            run.state,
            pdb,
            Kind::Warning,
            "UnmanagedPods",
            &message,
            COMPONENT,
        );
    }
    // Evictions not yet followed by the Pod's deletion, for two minutes.
    let wall = time::OffsetDateTime::now_utc();
    let mut disrupted = Map::new();
    let mut recheck: Option<Duration> = None;
    let listed = pdb
        .pointer("/status/disruptedPods")
        .and_then(Value::as_object);
    for pod in &pods {
        let name = meta_str(pod, "name").unwrap_or("");
        let Some(at) = listed.and_then(|l| l.get(name)) else {
            continue;
        };
        if meta_str(pod, "deletionTimestamp").is_some() {
            continue;
        }
        let expires = at
            .as_str()
            .and_then(wall_time)
            .map(|t| t + DELETION_TIMEOUT);
        if let Some(left) = expires.and_then(|e| Duration::try_from(e - wall).ok()) {
            disrupted.insert(name.to_string(), at.clone());
            recheck = Some(recheck.map_or(left, |r| r.min(left)));
        }
    }
    let healthy = pods
        .iter()
        .filter(|p| meta_str(p, "deletionTimestamp").is_none())
        .filter(|p| !disrupted.contains_key(meta_str(p, "name").unwrap_or("")))
        .filter(|p| pod_ready(p))
        .count() as i64;
    let allowed = if expected <= 0 {
        0
    } else {
        (healthy - desired).max(0)
    };
    let mut status = json!({"observedGeneration": generation});
    if !disrupted.is_empty() {
        status["disruptedPods"] = Value::Object(disrupted);
    }
    status["disruptionsAllowed"] = json!(allowed);
    status["currentHealthy"] = json!(healthy);
    status["desiredHealthy"] = json!(desired);
    status["expectedPods"] = json!(expected);
    status["conditions"] = allowed_condition(pdb, allowed, generation);
    set_status(run.state, rt, pdb, status);
    if let Some(left) = recheck {
        let at = run.now + left + Duration::from_millis(10);
        run.wake_at(at);
    }
}

/// `failSafe`: no disruptions until the count can be computed again.
fn fail_safe(state: &mut State, rt: &Arc<ResourceType>, pdb: &Value, error: &str) {
    let mut status = pdb.get("status").cloned().unwrap_or(json!({}));
    if !status.is_object() {
        status = json!({});
    }
    let observed = status
        .get("observedGeneration")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    for field in ["currentHealthy", "desiredHealthy", "expectedPods"] {
        if status.get(field).is_none() {
            status[field] = json!(0);
        }
    }
    status["disruptionsAllowed"] = json!(0);
    status["conditions"] =
        with_condition(pdb, condition(pdb, "False", "SyncFailed", error, observed));
    set_status(state, rt, pdb, status);
}

#[cfg(test)]
#[path = "disruption_tests.rs"]
mod tests;
