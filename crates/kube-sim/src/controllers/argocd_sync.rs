//! Argo CD sync operations, simulated: the `operation` field a client writes
//! (as `argocd app sync` does, or `kubectl patch`), with `sync.revision`,
//! `prune`, `dryRun` and `resources`; `status.operationState` (Running, then
//! Succeeded / Failed / Error, with `syncResult`), `status.history` (id,
//! revision, deployedAt, deployStartedAt, source, initiatedBy; at most
//! `spec.revisionHistoryLimit`, default 10) and `operation` cleared once done.
//! Automated sync writes the same `operation` (`initiatedBy.automated`) when
//! the application is OutOfSync, skipping what upstream skips: a revision
//! already attempted (unless selfHeal), prune-only changes without
//! `prune`, and an empty target without `allowEmpty`. Deleting an
//! application with the `resources-finalizer.argocd.argoproj.io` finalizer
//! deletes its resources first. `CreateNamespace=true` makes the
//! destination namespace first (with `managedNamespaceMetadata`).

use super::argocd::{self, Comparison, Managed, MANAGER};
use super::gitops::Ctl;
use super::gitops_api::{self as api, str_at};
use serde_json::{json, Value};

fn selected(op: &Value, m: &Managed) -> bool {
    let Some(list) = op.pointer("/sync/resources").and_then(Value::as_array) else {
        return true;
    };
    list.iter().any(|r| {
        str_at(r, "/kind") == Some(m.kind.as_str())
            && str_at(r, "/name") == Some(m.name.as_str())
            && str_at(r, "/group").unwrap_or("") == m.group
            && str_at(r, "/namespace").is_none_or(|ns| ns.is_empty() || ns == m.namespace)
    })
}

fn result_entry(m: &Managed, status: &str, message: &str) -> Value {
    let mut r = json!({});
    r["group"] = json!(m.group);
    r["version"] = json!(m.version);
    r["kind"] = json!(m.kind);
    r["namespace"] = json!(m.namespace);
    r["name"] = json!(m.name);
    r["status"] = json!(status);
    r["message"] = json!(message);
    r["hookPhase"] = json!("Running");
    r["syncPhase"] = json!("Sync");
    r
}

/// Run the application's `operation` to its end.
pub(crate) async fn run_operation(ctl: &Ctl, app: &Value) {
    let (ns, name) = crate::store::ns_name(app);
    let Some(apps) = argocd::app_api(ctl, &ns) else {
        return;
    };
    let op = app.get("operation").cloned().unwrap_or(Value::Null);
    let started = api::now();
    let mut running = app.clone();
    running["status"]["operationState"] = json!({
        "operation": op,
        "phase": "Running",
        "message": "",
        "startedAt": started,
    });
    argocd::patch_app(ctl, app, &running).await;
    let revision = str_at(&op, "/sync/revision")
        .filter(|r| !r.is_empty())
        .or_else(|| str_at(app, "/spec/source/targetRevision"))
        .unwrap_or("HEAD")
        .to_string();
    let dry_run = op.pointer("/sync/dryRun").and_then(Value::as_bool) == Some(true);
    let prune = op.pointer("/sync/prune").and_then(Value::as_bool) == Some(true);
    let (phase, message, sync_result) = match argocd::compare(ctl, app, &revision).await {
        Err(e) => ("Error".to_string(), e.to_string(), None),
        Ok(c) => {
            let (phase, message, results) = match create_namespace(ctl, app, &op, dry_run).await {
                Some(Err((entry, reason))) => (
                    "Failed".to_string(),
                    format!("one or more objects failed to apply, reason: {reason}"),
                    vec![entry],
                ),
                Some(Ok(entry)) => {
                    let (phase, message, mut results) = sync(&op, &c, dry_run, prune).await;
                    results.insert(0, entry);
                    (phase, message, results)
                }
                None => sync(&op, &c, dry_run, prune).await,
            };
            let result = json!({
                "resources": results,
                "revision": c.revision,
                "source": app.pointer("/spec/source").cloned().unwrap_or(json!({})),
            });
            (phase, message, Some((result, c.revision)))
        }
    };
    let Some(latest) = api::get(&apps, &name).await.ok().flatten() else {
        return;
    };
    let mut done = latest.clone();
    let finished = api::now();
    let mut state = json!({
        "operation": op,
        "phase": phase,
        "message": message,
        "startedAt": started,
        "finishedAt": finished,
    });
    if let Some((result, _)) = &sync_result {
        state["syncResult"] = result.clone();
    }
    done["status"]["operationState"] = state;
    if let (Some((_, sha)), false, "Succeeded") = (&sync_result, dry_run, phase.as_str()) {
        let mut history: Vec<Value> = latest
            .pointer("/status/history")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let id = history
            .iter()
            .filter_map(|h| h.get("id").and_then(Value::as_i64))
            .max()
            .map_or(0, |m| m + 1);
        history.push(json!({
            "deployStartedAt": started,
            "deployedAt": finished,
            "id": id,
            "initiatedBy": op.get("initiatedBy").cloned().unwrap_or(json!({})),
            "revision": sha,
            "source": latest.pointer("/spec/source").cloned().unwrap_or(json!({})),
        }));
        let limit = latest
            .pointer("/spec/revisionHistoryLimit")
            .and_then(Value::as_u64)
            .unwrap_or(10)
            .max(1) as usize;
        if history.len() > limit {
            history.drain(..history.len() - limit);
        }
        done["status"]["history"] = json!(history);
    }
    // Clear `operation` only if it is still the one that ran.
    if latest.get("operation") == Some(&op) {
        if let Some(m) = done.as_object_mut() {
            m.remove("operation");
        }
    }
    argocd::patch_app(ctl, &latest, &done).await;
}

/// `CreateNamespace=true` (the operation's or the application's sync
/// options): the destination namespace is made first, as a PreSync task,
/// with `managedNamespaceMetadata`'s labels and annotations (and those set
/// again on a namespace that exists), as upstream does. `None`: nothing to
/// do; an `Err` stops the sync there.
async fn create_namespace(
    ctl: &Ctl,
    app: &Value,
    op: &Value,
    dry_run: bool,
) -> Option<Result<Value, (Value, String)>> {
    let wanted = [
        op.pointer("/sync/syncOptions"),
        app.pointer("/spec/syncPolicy/syncOptions"),
    ]
    .into_iter()
    .flatten()
    .filter_map(Value::as_array)
    .flatten()
    .any(|o| o.as_str().map(str::trim) == Some("CreateNamespace=true"));
    let ns = str_at(app, "/spec/destination/namespace").filter(|n| !n.is_empty())?;
    if !wanted {
        return None;
    }
    let (ar, _) = api::resource(ctl, "v1", "Namespace")?;
    let namespaces = api::api(ctl, &ar, false, "");
    let metadata = app.pointer("/spec/syncPolicy/managedNamespaceMetadata");
    let exists = api::get(&namespaces, ns).await.ok().flatten().is_some();
    if exists && metadata.is_none() {
        return None;
    }
    let mut namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
    for field in ["labels", "annotations"] {
        if let Some(v) = metadata
            .and_then(|m| m.get(field))
            .filter(|v| v.is_object())
        {
            namespace["metadata"][field] = v.clone();
        }
    }
    let verb = if exists { "configured" } else { "created" };
    let suffix = if dry_run { " (dry run)" } else { "" };
    let entry = |status: &str, message: &str| {
        json!({"group": "", "version": "v1", "kind": "Namespace", "namespace": "", "name": ns,
               "status": status, "message": message, "hookPhase": "Running", "syncPhase": "PreSync"})
    };
    Some(
        match api::apply(&namespaces, &namespace, MANAGER, dry_run).await {
            Ok(_) => Ok(entry("Synced", &format!("namespace/{ns} {verb}{suffix}"))),
            Err(e) => {
                let message = e.to_string();
                Err((entry("SyncFailed", &message), message))
            }
        },
    )
}

/// Apply and prune what the operation selects; the phase, message and
/// per-resource results.
async fn sync(
    op: &Value,
    c: &Comparison,
    dry_run: bool,
    prune: bool,
) -> (String, String, Vec<Value>) {
    let mut results = Vec::new();
    let mut failure: Option<String> = None;
    let suffix = if dry_run { " (dry run)" } else { "" };
    // Applies in Flux's (kubectl's) kind order; prunes last, as sync waves do.
    let mut order: Vec<&Managed> = c.objects.iter().filter(|m| selected(op, m)).collect();
    order.sort_by_key(|m| (m.requires_pruning(), kind_rank(&m.kind)));
    for m in order {
        match &m.desired {
            Some(desired) => {
                let verb = match (&m.live, m.synced) {
                    (None, _) => "created",
                    (Some(_), true) => "unchanged",
                    (Some(_), false) => "configured",
                };
                match api::apply(&m.api, desired, MANAGER, dry_run).await {
                    Ok(_) => results.push(result_entry(
                        m,
                        "Synced",
                        &format!("{} {verb}{suffix}", m.ref_name()),
                    )),
                    Err(e) => {
                        let msg = e.to_string();
                        results.push(result_entry(m, "SyncFailed", &msg));
                        failure.get_or_insert(msg);
                    }
                }
            }
            None if prune => {
                if !dry_run {
                    if let Err(e) = api::delete(&m.api, &m.name).await {
                        let msg = e.to_string();
                        results.push(result_entry(m, "SyncFailed", &msg));
                        failure.get_or_insert(msg);
                        continue;
                    }
                }
                results.push(result_entry(m, "Pruned", &format!("pruned{suffix}")));
            }
            None => results.push(result_entry(
                m,
                "PruneSkipped",
                "ignored (requires pruning)",
            )),
        }
    }
    match failure {
        Some(reason) => (
            "Failed".into(),
            format!("one or more objects failed to apply, reason: {reason}"),
            results,
        ),
        None => (
            "Succeeded".into(),
            "successfully synced (all tasks run)".into(),
            results,
        ),
    }
}

fn kind_rank(kind: &str) -> u8 {
    match kind {
        "Namespace" => 0,
        "CustomResourceDefinition" => 1,
        "ServiceAccount" | "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => 2,
        "ConfigMap" | "Secret" | "PersistentVolumeClaim" => 3,
        "Service" => 4,
        _ => 5,
    }
}

/// Start an automated sync if upstream would.
pub(crate) async fn maybe_auto_sync(ctl: &Ctl, app: &Value, c: &Comparison) {
    let Some(automated) = app
        .pointer("/spec/syncPolicy/automated")
        .filter(|a| a.is_object())
    else {
        return;
    };
    let flag = |k: &str| automated.get(k).and_then(Value::as_bool);
    if flag("enabled") == Some(false) || app.get("operation").is_some_and(|o| !o.is_null()) {
        return;
    }
    if c.synced() {
        return;
    }
    let prune = flag("prune") == Some(true);
    let only_pruning = c
        .objects
        .iter()
        .filter(|m| !m.synced)
        .all(Managed::requires_pruning);
    if only_pruning && !prune {
        return;
    }
    let empty = c.objects.iter().all(Managed::requires_pruning);
    if empty && flag("allowEmpty") != Some(true) {
        return;
    }
    if let Some(state) = app.pointer("/status/operationState") {
        let attempted = str_at(state, "/syncResult/revision") == Some(c.revision.as_str());
        if attempted {
            let succeeded = str_at(state, "/phase") == Some("Succeeded");
            if !succeeded || flag("selfHeal") != Some(true) {
                return;
            }
        }
    }
    let mut sync = json!({"revision": c.revision, "prune": prune});
    if let Some(opts) = app.pointer("/spec/syncPolicy/syncOptions") {
        sync["syncOptions"] = opts.clone();
    }
    let mut op = json!({"sync": sync, "initiatedBy": {"automated": true}});
    if let Some(retry) = app.pointer("/spec/syncPolicy/retry") {
        op["retry"] = retry.clone();
    }
    let (ns, name) = crate::store::ns_name(app);
    if let Some(apps) = argocd::app_api(ctl, &ns) {
        let _ = api::merge_patch(&apps, &name, &json!({"operation": op}), MANAGER).await;
    }
}

/// An application being deleted: with the resources finalizer, delete what
/// it tracks, then let it go.
pub(crate) async fn finalize(ctl: &Ctl, app: &Value, finalizer: &str) {
    let has = app
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| f.iter().any(|x| x.as_str() == Some(finalizer)));
    if !has {
        return;
    }
    let (ns, name) = crate::store::ns_name(app);
    let tracked = argocd::tracked(&ctl.shared, &argocd::instance(&ns, &name));
    for live in tracked {
        let api_version = str_at(&live, "/apiVersion").unwrap_or("");
        let kind = str_at(&live, "/kind").unwrap_or("");
        let (ons, oname) = crate::store::ns_name(&live);
        if let Some((ar, namespaced)) = api::resource(ctl, api_version, kind) {
            if api::delete(&api::api(ctl, &ar, namespaced, &ons), &oname)
                .await
                .is_err()
            {
                return;
            }
        }
    }
    if let Some(apps) = argocd::app_api(ctl, &ns) {
        let _ = api::set_finalizer(&apps, app, finalizer, false, MANAGER).await;
    }
}
