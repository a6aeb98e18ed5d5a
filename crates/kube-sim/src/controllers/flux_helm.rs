//! The simulated Flux helm-controller, for `HelmRelease`
//! (helm.toolkit.fluxcd.io/v2): it installs nothing and fetches no chart,
//! it only moves the status as a successful install or upgrade would: the
//! Ready and Released conditions (InstallSucceeded / UpgradeSucceeded, with
//! upstream messages), `history` (release snapshots, newest first, at most
//! `spec.maxHistory`, default 5), `lastAttemptedRevision` (the chart version),
//! `lastAttemptedReleaseAction`, `lastAttemptedGeneration`,
//! `lastAttemptedConfigDigest`, `observedGeneration`, `storageNamespace`,
//! `helmChart`, and `requestedAt` → `lastHandledReconcileAt`; suspended
//! releases are left alone. The chart version is `spec.chart.spec.version`
//! as written (a range or none is recorded as `0.0.0`, since no chart is
//! resolved); the chart name is `spec.chart.spec.chart` or `spec.chartRef.name`.

use super::flux_source::{interval, FINALIZER};
use super::gitops::{Ctl, REQUESTED_AT};
use super::gitops_api::{self as api, set_condition, str_at};
use serde_json::{json, Value};
use std::time::Duration;

const API_VERSION: &str = "helm.toolkit.fluxcd.io/v2";
const MANAGER: &str = "helm-controller";

fn chart_version(obj: &Value) -> String {
    let v = str_at(obj, "/spec/chart/spec/version").unwrap_or("");
    let exact = !v.is_empty()
        && v.split('.').count() == 3
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
        && v.starts_with(|c: char| c.is_ascii_digit());
    if exact {
        v.into()
    } else {
        "0.0.0".into()
    }
}

fn chart_name(obj: &Value) -> String {
    str_at(obj, "/spec/chart/spec/chart")
        .or_else(|| str_at(obj, "/spec/chartRef/name"))
        .unwrap_or("")
        .into()
}

pub(crate) async fn reconcile(ctl: &mut Ctl, ns: &str, name: &str) -> Option<Duration> {
    let hr = api::own_api(ctl, API_VERSION, "HelmRelease", ns)?;
    let obj = api::get(&hr, name).await.ok()??;
    if obj.pointer("/metadata/deletionTimestamp").is_some() {
        let _ = api::set_finalizer(&hr, &obj, FINALIZER, false, MANAGER).await;
        return None;
    }
    if api::set_finalizer(&hr, &obj, FINALIZER, true, MANAGER)
        .await
        .is_err()
    {
        return Some(Duration::from_secs(1));
    }
    let obj = api::get(&hr, name).await.ok()??;
    if obj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let generation = api::generation(&obj);
    let old_status = obj.get("status").cloned().unwrap_or(json!({}));
    let mut status = old_status.clone();
    let release_ns = str_at(&obj, "/spec/targetNamespace")
        .unwrap_or(ns)
        .to_string();
    let release_name = str_at(&obj, "/spec/releaseName")
        .map(str::to_string)
        .unwrap_or_else(|| {
            if release_ns == ns {
                name.to_string()
            } else {
                format!("{release_ns}-{name}")
            }
        });
    let values = obj.pointer("/spec/values").cloned().unwrap_or(json!({}));
    let config_digest = format!(
        "sha256:{}",
        api::sha256_hex(crate::ssa::path::canonical_json(&values).as_bytes())
    );
    let version = chart_version(&obj);
    let chart = chart_name(&obj);
    let mut history: Vec<Value> = status
        .get("history")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let observed = status
        .get("observedGeneration")
        .and_then(Value::as_i64)
        .unwrap_or(-1);
    if observed != generation || history.is_empty() {
        let now = api::now();
        let number = history
            .first()
            .and_then(|h| h.get("version"))
            .and_then(Value::as_i64)
            .unwrap_or(0)
            + 1;
        let (action, reason, verb) = if history.is_empty() {
            ("install", "InstallSucceeded", "install")
        } else {
            ("upgrade", "UpgradeSucceeded", "upgrade")
        };
        if let Some(prev) = history.first_mut() {
            prev["status"] = json!("superseded");
        }
        let first = history
            .last()
            .and_then(|h| h.get("firstDeployed").cloned())
            .unwrap_or(json!(now));
        let mut snapshot = json!({
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "chartName": chart,
            "chartVersion": version,
            "configDigest": config_digest,
            "firstDeployed": first,
            "lastDeployed": now,
            "name": release_name,
            "namespace": release_ns,
            "status": "deployed",
            "version": number,
        });
        let digest = api::sha256_hex(crate::ssa::path::canonical_json(&snapshot).as_bytes());
        snapshot["digest"] = json!(format!("sha256:{digest}"));
        history.insert(0, snapshot);
        let max = obj
            .pointer("/spec/maxHistory")
            .and_then(Value::as_u64)
            .unwrap_or(5)
            .max(1) as usize;
        history.truncate(max);
        let message = format!(
            "Helm {verb} succeeded for release {release_ns}/{release_name}.v{number} with chart {chart}@{version}"
        );
        let mut conditions = api::conditions_of(&obj);
        api::remove_condition(&mut conditions, "Reconciling");
        set_condition(
            &mut conditions,
            "Ready",
            "True",
            reason,
            &message,
            generation,
        );
        set_condition(
            &mut conditions,
            "Released",
            "True",
            reason,
            &message,
            generation,
        );
        status["conditions"] = json!(conditions);
        status["history"] = json!(history);
        status["lastAttemptedReleaseAction"] = json!(action);
        status["lastAttemptedRevision"] = json!(version);
        status["lastAttemptedConfigDigest"] = json!(config_digest);
        status["lastAttemptedGeneration"] = json!(generation);
        status["observedGeneration"] = json!(generation);
        status["storageNamespace"] =
            json!(str_at(&obj, "/spec/storageNamespace").unwrap_or(&release_ns));
        if obj.pointer("/spec/chart").is_some() {
            status["helmChart"] = json!(format!("{ns}/{ns}-{name}"));
        }
    }
    if let Some(v) = obj
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(REQUESTED_AT))
        .and_then(Value::as_str)
    {
        status["lastHandledReconcileAt"] = json!(v);
    }
    if let Some(patch) = api::merge_diff(&old_status, &status) {
        if let Err(e) = api::merge_patch_status(&hr, name, &json!({"status": patch}), MANAGER).await
        {
            tracing::debug!("kube-sim helm-controller: status of {ns}/{name}: {e}");
        }
    }
    Some(interval(&obj))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_version_is_exact_or_zero() {
        let hr = |v: &str| json!({"spec": {"chart": {"spec": {"chart": "podinfo", "version": v}}}});
        assert_eq!(chart_version(&hr("6.5.4")), "6.5.4");
        assert_eq!(chart_version(&hr(">=6.0.0")), "0.0.0");
        assert_eq!(chart_version(&hr("*")), "0.0.0");
        assert_eq!(chart_name(&hr("1.0.0")), "podinfo");
    }
}
