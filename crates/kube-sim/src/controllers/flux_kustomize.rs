//! The simulated Flux kustomize-controller, for `Kustomization`
//! (kustomize.toolkit.fluxcd.io/v1) with a `GitRepository` source: it
//! unpacks the source's artifact, renders `spec.path` (kustomize when there
//! is a kustomization file, else the plain YAML under it), labels each object
//! with its owner (`kustomize.toolkit.fluxcd.io/name`/`namespace`), applies
//! them with server-side apply as field manager `kustomize-controller`,
//! prunes what left the inventory when `spec.prune` (only objects with its
//! owner labels, never those annotated `kustomize.toolkit.fluxcd.io/prune:
//! disabled`), and writes the status as upstream: `inventory.entries`
//! (`NS_NAME_GROUP_KIND`, `v`), `lastAttemptedRevision`,
//! `lastAppliedRevision`, `lastHandledReconcileAt`, Ready/Reconciling with
//! upstream reasons and messages, and Stalled for the terminal errors it
//! can meet. `spec.suspend`, `spec.interval`, `spec.retryInterval` and
//! `spec.targetNamespace` are honoured; health checks (`wait`) are not
//! simulated.

use super::flux_source::{interval, FINALIZER};
use super::gitops::{Ctl, Kind, Target, REQUESTED_AT};
use super::gitops_api::{self as api, set_condition, str_at};
use super::gitsrc;
use crate::server::Shared;
use serde_json::{json, Value};
use std::time::Duration;

const API_VERSION: &str = "kustomize.toolkit.fluxcd.io/v1";
pub(crate) const MANAGER: &str = "kustomize-controller";
const STATUS_MANAGER: &str = "gotk-kustomize-controller";
pub(crate) const NAME_LABEL: &str = "kustomize.toolkit.fluxcd.io/name";
pub(crate) const NAMESPACE_LABEL: &str = "kustomize.toolkit.fluxcd.io/namespace";
const PRUNE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/prune";
const DEPENDENCY_REQUEUE: Duration = Duration::from_secs(30);

/// The Kustomizations whose source is GitRepository `ns/name`.
pub(crate) fn using_source(shared: &Shared, ns: &str, name: &str) -> Vec<Target> {
    let state = shared.lock();
    state
        .store
        .list(
            &(
                "kustomize.toolkit.fluxcd.io".into(),
                "kustomizations".into(),
            ),
            None,
        )
        .iter()
        .filter(|k| {
            let (kns, _) = crate::store::ns_name(k);
            str_at(k, "/spec/sourceRef/kind") == Some("GitRepository")
                && str_at(k, "/spec/sourceRef/name") == Some(name)
                && str_at(k, "/spec/sourceRef/namespace").unwrap_or(&kns) == ns
        })
        .map(|k| {
            let (namespace, name) = crate::store::ns_name(k);
            Target {
                kind: Kind::Kustomization,
                namespace,
                name,
            }
        })
        .collect()
}

/// An inventory entry's id, as cli-utils' `ObjMetadata.String()` writes it.
pub(crate) fn inventory_id(ns: &str, name: &str, group: &str, kind: &str) -> String {
    format!("{ns}_{}_{group}_{kind}", name.replace(':', "__"))
}

/// The namespace, name, group and kind of an inventory id.
pub(crate) fn split_inventory_id(id: &str) -> Option<(&str, String, &str, &str)> {
    let (ns, rest) = id.split_once('_')?;
    let (rest, kind) = rest.rsplit_once('_')?;
    let (name, group) = rest.rsplit_once('_')?;
    Some((ns, name.replace("__", ":"), group, kind))
}

/// Why a reconcile stopped: the Ready reason and message, and whether it is
/// terminal (Stalled).
struct Failure {
    reason: &'static str,
    message: String,
    stalled: bool,
    retry: Duration,
}

impl Failure {
    fn new(reason: &'static str, message: impl Into<String>, retry: Duration) -> Self {
        Failure {
            reason,
            message: message.into(),
            stalled: false,
            retry,
        }
    }
}

pub(crate) async fn reconcile(ctl: &mut Ctl, ns: &str, name: &str) -> Option<Duration> {
    let ks = api::own_api(ctl, API_VERSION, "Kustomization", ns)?;
    let obj = api::get(&ks, name).await.ok()??;
    if obj.pointer("/metadata/deletionTimestamp").is_some() {
        if obj.pointer("/spec/prune").and_then(Value::as_bool) == Some(true)
            && obj.pointer("/spec/suspend").and_then(Value::as_bool) != Some(true)
        {
            let entries = entries(&obj);
            let _ = prune(ctl, &obj, &entries).await;
        }
        let _ = api::set_finalizer(&ks, &obj, FINALIZER, false, MANAGER).await;
        return None;
    }
    if api::set_finalizer(&ks, &obj, FINALIZER, true, MANAGER)
        .await
        .is_err()
    {
        return Some(Duration::from_secs(1));
    }
    let obj = api::get(&ks, name).await.ok()??;
    let mut status = obj.get("status").cloned().unwrap_or(json!({}));
    let generation = api::generation(&obj);
    if obj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
        // Upstream still records the handled request of a suspended object.
        finalize(&mut status, &obj);
        write_status(ctl, ns, name, &obj, status).await;
        return None;
    }
    let every = interval(&obj);
    let retry = str_at(&obj, "/spec/retryInterval")
        .and_then(api::parse_go_duration)
        .unwrap_or(every);
    let outcome = run(ctl, ns, name, &obj, &mut status, retry).await;
    let mut conditions = status
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let again = match outcome {
        Ok(revision) => {
            set_condition(
                &mut conditions,
                "Ready",
                "True",
                "ReconciliationSucceeded",
                &format!("Applied revision: {revision}"),
                generation,
            );
            api::remove_condition(&mut conditions, "Stalled");
            status["lastAppliedRevision"] = json!(revision);
            every
        }
        Err(f) => {
            set_condition(
                &mut conditions,
                "Ready",
                "False",
                f.reason,
                &f.message,
                generation,
            );
            if f.stalled {
                set_condition(
                    &mut conditions,
                    "Stalled",
                    "True",
                    f.reason,
                    &f.message,
                    generation,
                );
                status["observedGeneration"] = json!(generation);
            }
            f.retry
        }
    };
    status["conditions"] = json!(conditions);
    finalize(&mut status, &obj);
    let latest = api::get(&ks, name).await.ok().flatten()?;
    write_status(ctl, ns, name, &latest, status).await;
    Some(again)
}

/// What `finalizeStatus` does: the handled request, and on success the
/// observed generation and no Reconciling; on failure Reconciling becomes
/// ProgressingWithRetry.
fn finalize(status: &mut Value, obj: &Value) {
    if let Some(v) = obj
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(REQUESTED_AT))
        .and_then(Value::as_str)
    {
        status["lastHandledReconcileAt"] = json!(v);
    }
    let mut conditions = status
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let ready = conditions
        .iter()
        .find(|c| c["type"] == "Ready")
        .and_then(|c| c["status"].as_str())
        .map(str::to_string);
    match ready.as_deref() {
        Some("True") => {
            api::remove_condition(&mut conditions, "Reconciling");
            status["observedGeneration"] = json!(api::generation(obj));
        }
        Some("False") => {
            for c in conditions.iter_mut() {
                if c["type"] == "Reconciling" {
                    c["reason"] = json!("ProgressingWithRetry");
                }
            }
        }
        _ => {}
    }
    if status.get("conditions").is_some() || !conditions.is_empty() {
        status["conditions"] = json!(conditions);
    }
}

async fn write_status(ctl: &Ctl, ns: &str, name: &str, obj: &Value, status: Value) {
    let Some(ks) = api::own_api(ctl, API_VERSION, "Kustomization", ns) else {
        return;
    };
    let old = obj.get("status").cloned().unwrap_or(json!({}));
    if let Some(patch) = api::merge_diff(&old, &status) {
        if let Err(e) =
            api::merge_patch_status(&ks, name, &json!({"status": patch}), STATUS_MANAGER).await
        {
            tracing::debug!("kube-sim kustomize-controller: status of {ns}/{name}: {e}");
        }
    }
}

fn entries(obj: &Value) -> Vec<(String, String)> {
    obj.pointer("/status/inventory/entries")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|e| Some((e.get("id")?.as_str()?.into(), e.get("v")?.as_str()?.into())))
                .collect()
        })
        .unwrap_or_default()
}

/// One reconcile up to the applied revision, writing progress on the way.
async fn run(
    ctl: &mut Ctl,
    ns: &str,
    name: &str,
    obj: &Value,
    status: &mut Value,
    retry: Duration,
) -> Result<String, Failure> {
    let generation = api::generation(obj);
    if obj
        .pointer("/spec/decryption/serviceAccountName")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty())
    {
        // The ObjectLevelWorkloadIdentity feature gate is off by default.
        return Err(Failure {
            reason: "FeatureGateDisabled",
            message: "to use spec.decryption.serviceAccountName for decryption authentication please enable the ObjectLevelWorkloadIdentity feature gate in the controller".into(),
            stalled: true,
            retry,
        });
    }
    let src_kind = str_at(obj, "/spec/sourceRef/kind").unwrap_or("");
    let src_name = str_at(obj, "/spec/sourceRef/name").unwrap_or("");
    let src_ns = str_at(obj, "/spec/sourceRef/namespace").unwrap_or(ns);
    if src_kind != "GitRepository" {
        return Err(Failure::new(
            "ArtifactFailed",
            format!("kube-sim simulates only GitRepository sources, not {src_kind}"),
            retry,
        ));
    }
    let source = match api::own_api(ctl, "source.toolkit.fluxcd.io/v1", "GitRepository", src_ns) {
        Some(gr) => api::get(&gr, src_name).await.ok().flatten(),
        None => None,
    };
    let Some(source) = source else {
        return Err(Failure::new(
            "ArtifactFailed",
            format!(
                "unable to get source '{src_ns}/{src_name}': gitrepositories.source.toolkit.fluxcd.io \"{src_name}\" not found"
            ),
            retry,
        ));
    };
    let (Some(revision), Some(url)) = (
        str_at(&source, "/status/artifact/revision").map(str::to_string),
        str_at(&source, "/status/artifact/url").map(str::to_string),
    ) else {
        return Err(Failure::new(
            "ArtifactFailed",
            format!(
                "Source artifact not found, retrying in {}",
                api::go_duration(DEPENDENCY_REQUEUE)
            ),
            DEPENDENCY_REQUEUE,
        ));
    };
    let timeout = str_at(obj, "/spec/timeout")
        .and_then(api::parse_go_duration)
        .unwrap_or_else(|| interval(obj));
    let mut conditions = api::conditions_of(obj);
    set_condition(
        &mut conditions,
        "Ready",
        "Unknown",
        "Progressing",
        "Reconciliation in progress",
        generation,
    );
    set_condition(
        &mut conditions,
        "Reconciling",
        "True",
        "Progressing",
        &format!(
            "Fetching manifests for revision {revision} with a timeout of {}",
            api::go_duration(timeout)
        ),
        generation,
    );
    status["conditions"] = json!(conditions);
    write_status(ctl, ns, name, obj, status.clone()).await;
    let Some(tarball) = ctl.artifacts.get(&url).cloned() else {
        return Err(Failure::new(
            "ArtifactFailed",
            format!(
                "Source is not ready, artifact not found, retrying in {}",
                api::go_duration(DEPENDENCY_REQUEUE)
            ),
            DEPENDENCY_REQUEUE,
        ));
    };
    let path = str_at(obj, "/spec/path").unwrap_or("").to_string();
    let rendered = tokio::task::spawn_blocking(move || render(&tarball, &path))
        .await
        .unwrap_or_else(|e| Err(Failure::new("BuildFailed", e.to_string(), retry)));
    // As upstream, the attempt is recorded once the path is found.
    if !matches!(&rendered, Err(f) if f.reason == "ArtifactFailed") {
        status["lastAttemptedRevision"] = json!(revision);
    }
    let mut objects = rendered.map_err(|mut f| {
        f.retry = retry;
        f
    })?;
    let target_ns = str_at(obj, "/spec/targetNamespace").map(str::to_string);
    let mut applied = Vec::new();
    // Label, place and validate everything before applying anything.
    let mut planned = Vec::new();
    sort_for_apply(&mut objects);
    for mut o in objects {
        let api_version = str_at(&o, "/apiVersion").unwrap_or("").to_string();
        let kind = str_at(&o, "/kind").unwrap_or("").to_string();
        let oname = str_at(&o, "/metadata/name").unwrap_or("").to_string();
        let Some((ar, namespaced)) = api::resource(ctl, &api_version, &kind) else {
            return Err(Failure::new(
                "ReconciliationFailed",
                format!(
                    "{kind}/{oname} dry-run failed: no matches for kind \"{kind}\" in version \"{api_version}\""
                ),
                retry,
            ));
        };
        let meta = crate::objects::metadata_mut(&mut o);
        if namespaced {
            if let Some(t) = &target_ns {
                meta.insert("namespace".into(), json!(t));
            }
        } else {
            meta.remove("namespace");
        }
        let ons = meta
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if namespaced && ons.is_empty() {
            return Err(Failure::new(
                "ReconciliationFailed",
                format!("{kind}/{oname} namespace not specified"),
                retry,
            ));
        }
        let labels = meta.entry("labels").or_insert_with(|| json!({}));
        labels[NAME_LABEL] = json!(name);
        labels[NAMESPACE_LABEL] = json!(ns);
        let id = inventory_id(&ons, &oname, &ar.group, &kind);
        let target = api::api(ctl, &ar, namespaced, &ons);
        if let Err(e) = api::apply(&target, &o, MANAGER, true).await {
            return Err(Failure::new(
                "ReconciliationFailed",
                format!("{kind}/{ons}/{oname} dry-run failed: {e}"),
                retry,
            ));
        }
        let shown = format!("{kind}/{ons}/{oname}");
        planned.push((id, ar.version.clone(), target, o, shown));
    }
    for (id, version, target, o, shown) in planned {
        if let Err(e) = api::apply(&target, &o, MANAGER, false).await {
            return Err(Failure::new(
                "ReconciliationFailed",
                format!("{shown} apply failed: {e}"),
                retry,
            ));
        }
        applied.push((id, version));
    }
    let old = entries(obj);
    status["inventory"] = json!({
        "entries": applied.iter().map(|(id, v)| json!({"id": id, "v": v})).collect::<Vec<_>>()
    });
    if obj.pointer("/spec/prune").and_then(Value::as_bool) == Some(true) {
        let stale: Vec<(String, String)> = old
            .into_iter()
            .filter(|(id, _)| !applied.iter().any(|(a, _)| a == id))
            .collect();
        if let Err(message) = prune(ctl, obj, &stale).await {
            return Err(Failure::new("PruneFailed", message, retry));
        }
    }
    Ok(revision)
}

/// Unpack the artifact and render `path` of it.
fn render(tarball: &[u8], path: &str) -> Result<Vec<Value>, Failure> {
    let retry = Duration::ZERO;
    let tmp = tempdir().map_err(|e| Failure::new("DirCreationFailed", e, retry))?;
    let result = (|| {
        gitsrc::extract(tarball, &tmp)
            .map_err(|e| Failure::new("ArtifactFailed", e.to_string(), retry))?;
        let rel = path.trim_start_matches("./").trim_start_matches('/');
        if rel.split('/').any(|p| p == "..") {
            return Err(Failure::new(
                "ArtifactFailed",
                format!("kustomization path not found: path {path} leaves the artifact"),
                retry,
            ));
        }
        let dir = tmp.join(rel);
        if !dir.is_dir() {
            return Err(Failure::new(
                "ArtifactFailed",
                format!(
                    "kustomization path not found: stat {}: no such file or directory",
                    dir.display()
                ),
                retry,
            ));
        }
        gitsrc::render(&dir, true).map_err(|e| Failure::new("BuildFailed", e.to_string(), retry))
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

pub(crate) fn tempdir() -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("kustomization-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("tmp dir error: {e}"))?;
    Ok(dir)
}

/// Namespaces and CRDs first, then the rest by kind and name, as Flux's
/// staged apply orders them.
pub(crate) fn sort_for_apply(objects: &mut [Value]) {
    let rank = |o: &Value| match str_at(o, "/kind").unwrap_or("") {
        "CustomResourceDefinition" => 0,
        "Namespace" => 1,
        "ResourceQuota" | "LimitRange" | "PriorityClass" | "StorageClass" => 2,
        "ServiceAccount" | "ClusterRole" | "Role" | "ClusterRoleBinding" | "RoleBinding" => 3,
        "Secret" | "ConfigMap" | "PersistentVolume" | "PersistentVolumeClaim" => 4,
        "Service" => 5,
        _ => 6,
    };
    objects.sort_by(|a, b| {
        (
            rank(a),
            str_at(a, "/kind"),
            str_at(a, "/metadata/namespace"),
            str_at(a, "/metadata/name"),
        )
            .cmp(&(
                rank(b),
                str_at(b, "/kind"),
                str_at(b, "/metadata/namespace"),
                str_at(b, "/metadata/name"),
            ))
    });
}

/// Delete what left the inventory: objects still labelled as this
/// Kustomization's and not opted out of pruning.
async fn prune(ctl: &Ctl, obj: &Value, stale: &[(String, String)]) -> Result<(), String> {
    let name = str_at(obj, "/metadata/name").unwrap_or("");
    let ns = str_at(obj, "/metadata/namespace").unwrap_or("");
    let mut failures = Vec::new();
    for (id, version) in stale {
        let Some((ons, oname, group, kind)) = split_inventory_id(id) else {
            continue;
        };
        let api_version = if group.is_empty() {
            version.clone()
        } else {
            format!("{group}/{version}")
        };
        let Some((ar, namespaced)) = api::resource(ctl, &api_version, kind) else {
            continue;
        };
        let target = api::api(ctl, &ar, namespaced, ons);
        let Ok(Some(live)) = api::get(&target, &oname).await else {
            continue;
        };
        let label = |k: &str| {
            live.pointer("/metadata/labels")
                .and_then(|l| l.get(k))
                .and_then(Value::as_str)
        };
        let opted_out = live
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(PRUNE_ANNOTATION))
            .and_then(Value::as_str)
            == Some("disabled");
        if label(NAME_LABEL) != Some(name) || label(NAMESPACE_LABEL) != Some(ns) || opted_out {
            continue;
        }
        if let Err(e) = api::delete(&target, &oname).await {
            failures.push(format!("{kind}/{ons}/{oname} prune failed: {e}"));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inventory_ids_are_cli_utils_object_metadata() {
        assert_eq!(
            inventory_id("default", "web", "apps", "Deployment"),
            "default_web_apps_Deployment"
        );
        assert_eq!(
            inventory_id("default", "cfg", "", "ConfigMap"),
            "default_cfg__ConfigMap"
        );
        assert_eq!(
            inventory_id(
                "",
                "system:view",
                "rbac.authorization.k8s.io",
                "ClusterRole"
            ),
            "_system__view_rbac.authorization.k8s.io_ClusterRole"
        );
        assert_eq!(
            split_inventory_id("_system__view_rbac.authorization.k8s.io_ClusterRole"),
            Some((
                "",
                "system:view".to_string(),
                "rbac.authorization.k8s.io",
                "ClusterRole"
            ))
        );
        assert_eq!(
            split_inventory_id("default_cfg__ConfigMap"),
            Some(("default", "cfg".to_string(), "", "ConfigMap"))
        );
    }
}
