//! The simulated Argo CD application controller, for `Application`
//! (argoproj.io/v1alpha1) with `spec.source.repoURL` a local repository: it
//! compares `spec.source.path` at `targetRevision` (plain YAML/JSON, or
//! kustomize) with the live objects and writes `status.sync` (status,
//! revision, comparedTo), `status.health`, `status.resources`,
//! `status.reconciledAt`, `status.sourceType` and ComparisonError
//! conditions; it runs the `operation` a client writes (`argocd_sync`) and
//! starts automated syncs (`spec.syncPolicy.automated`, with prune and
//! selfHeal) as upstream decides them. Resources are tracked with the
//! `argocd.argoproj.io/tracking-id` annotation (Argo CD 3's default), and the
//! `argocd.argoproj.io/refresh` annotation (normal or hard: there is no
//! manifest cache, so both resolve `targetRevision` and read Git again) is
//! removed in the same patch as the status it led to, as Argo CD 3.5's
//! `persistReconciliationStatus` does; `argocd.argoproj.io/hydrate`, which
//! the API server sets beside it, is left, as upstream leaves it on apps
//! without a source hydrator. Applies are
//! server-side (field manager `argocd-controller`, as Argo CD does with the
//! `ServerSideApply=true` sync option) and in-sync is decided by a server-side
//! dry-run, as with `ServerSideDiff=true`.

use super::argocd_sync;
use super::gitops::{Ctl, ARGO_REFRESH, ARGO_TRACKING};
use super::gitops_api::{self as api, str_at};
use super::gitsrc::{self, GitError};
use kube::api::{Api, DynamicObject};
use serde_json::{json, Value};
use std::time::Duration;

pub(crate) const API_VERSION: &str = "argoproj.io/v1alpha1";
pub(crate) const MANAGER: &str = "argocd-controller";
const CONTROL_PLANE_NS: &str = "argocd";
const RESYNC: Duration = Duration::from_secs(180);
const PRUNE_FINALIZER: &str = "resources-finalizer.argocd.argoproj.io";

/// The application instance name in tracking ids (`ns_name` outside the
/// control-plane namespace).
pub(crate) fn instance(ns: &str, name: &str) -> String {
    if ns == CONTROL_PLANE_NS {
        name.into()
    } else {
        format!("{ns}_{name}")
    }
}

pub(crate) fn app_of_tracking_id(id: &str) -> Option<(String, String)> {
    let (inst, _) = id.split_once(':')?;
    Some(match inst.split_once('_') {
        Some((ns, name)) => (ns.into(), name.into()),
        None => (CONTROL_PLANE_NS.into(), inst.into()),
    })
}

/// The live objects tracked by application instance `inst`. An annotation
/// copied onto another object (a Deployment's onto its ReplicaSets) names
/// a different resource and does not count, as upstream checks.
pub(crate) fn tracked(shared: &crate::server::Shared, inst: &str) -> Vec<Value> {
    let state = shared.lock();
    state
        .store
        .all()
        .into_iter()
        .filter(|(_, o)| {
            let Some(id) = o
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(ARGO_TRACKING))
                .and_then(Value::as_str)
            else {
                return false;
            };
            let group = str_at(o, "/apiVersion")
                .and_then(|v| v.split_once('/'))
                .map_or("", |(g, _)| g);
            let kind = str_at(o, "/kind").unwrap_or("");
            let (ns, name) = crate::store::ns_name(o);
            id == tracking_id(inst, group, kind, &ns, &name)
        })
        .map(|(_, o)| (*o).clone())
        .collect()
}

pub(crate) fn tracking_id(inst: &str, group: &str, kind: &str, ns: &str, name: &str) -> String {
    format!("{inst}:{group}/{kind}:{ns}/{name}")
}

/// One object of the application: where it lives and what it should be.
pub(crate) struct Managed {
    pub api: Api<DynamicObject>,
    pub group: String,
    pub version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub desired: Option<Value>,
    pub live: Option<Value>,
    pub synced: bool,
}

impl Managed {
    pub fn requires_pruning(&self) -> bool {
        self.desired.is_none()
    }

    /// kubectl's name for it (`deployment.apps/web`).
    pub fn ref_name(&self) -> String {
        let kind = self.kind.to_lowercase();
        if self.group.is_empty() {
            format!("{kind}/{}", self.name)
        } else {
            format!("{kind}.{}/{}", self.group, self.name)
        }
    }

    fn resource_status(&self) -> Value {
        let mut r = json!({});
        if !self.group.is_empty() {
            r["group"] = json!(self.group);
        }
        r["kind"] = json!(self.kind);
        if !self.namespace.is_empty() {
            r["namespace"] = json!(self.namespace);
        }
        r["name"] = json!(self.name);
        r["version"] = json!(self.version);
        r["status"] = json!(if self.synced { "Synced" } else { "OutOfSync" });
        if let Some(h) = self.health() {
            r["health"] = h;
        }
        if self.requires_pruning() {
            r["requiresPruning"] = json!(true);
        }
        r
    }

    fn health(&self) -> Option<Value> {
        match &self.live {
            None => Some(json!({"status": "Missing"})),
            Some(live) => super::argocd_health::health(&self.group, &self.kind, live),
        }
    }
}

/// The result of comparing an application with Git.
pub(crate) struct Comparison {
    pub revision: String,
    pub objects: Vec<Managed>,
    pub source_type: &'static str,
}

impl Comparison {
    pub fn synced(&self) -> bool {
        self.objects.iter().all(|m| m.synced)
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum CompareError {
    #[error("{0}")]
    Source(String),
}

fn generate_error(message: impl std::fmt::Display) -> CompareError {
    CompareError::Source(format!(
        "Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = {message}"
    ))
}

/// Resolve a `targetRevision` (HEAD, a branch, a tag or a commit) to a sha.
pub(crate) fn resolve_revision(repo: &std::path::Path, target: &str) -> Result<String, GitError> {
    let target = if target.is_empty() { "HEAD" } else { target };
    if target == "HEAD" {
        return gitsrc::resolve(repo, "HEAD").ok_or_else(|| GitError::NoRef("HEAD".into()));
    }
    for full in [
        format!("refs/heads/{target}"),
        format!("refs/tags/{target}"),
    ] {
        if let Some(sha) = gitsrc::resolve(repo, &full) {
            return Ok(sha);
        }
    }
    gitsrc::commit(repo, target)
}

/// Render the source at `revision` (a target revision, or a sha).
pub(crate) async fn desired(
    app: &Value,
    revision: &str,
) -> Result<(String, Vec<Value>, &'static str), CompareError> {
    if app.pointer("/spec/source").is_none() {
        return Err(generate_error(
            "kube-sim simulates only applications with spec.source",
        ));
    }
    let url = str_at(app, "/spec/source/repoURL")
        .unwrap_or("")
        .to_string();
    let path = str_at(app, "/spec/source/path").unwrap_or("").to_string();
    let recurse = app
        .pointer("/spec/source/directory/recurse")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let revision = revision.to_string();
    tokio::task::spawn_blocking(move || {
        let repo = gitsrc::local_repo(&url).map_err(generate_error)?;
        let sha = resolve_revision(&repo, &revision).map_err(|_| {
            generate_error(format!("unable to resolve '{revision}' to a commit SHA"))
        })?;
        let tarball = gitsrc::archive(&repo, &sha).map_err(generate_error)?;
        let tmp = super::flux_kustomize::tempdir().map_err(generate_error)?;
        let result = (|| {
            gitsrc::extract(&tarball, &tmp).map_err(generate_error)?;
            let rel = path.trim_start_matches("./").trim_matches('/');
            let dir = tmp.join(rel);
            if rel.split('/').any(|p| p == "..") || !dir.is_dir() {
                return Err(generate_error(format!("{path}: app path does not exist")));
            }
            let kind = if gitsrc::has_kustomization(&dir) {
                "Kustomize"
            } else {
                "Directory"
            };
            let objects = gitsrc::render(&dir, recurse).map_err(generate_error)?;
            Ok((sha, objects, kind))
        })();
        let _ = std::fs::remove_dir_all(&tmp);
        result
    })
    .await
    .unwrap_or_else(|e| Err(generate_error(e)))
}

/// Compare the application at `revision` with the live objects.
pub(crate) async fn compare(
    ctl: &Ctl,
    app: &Value,
    revision: &str,
) -> Result<Comparison, CompareError> {
    let (sha, objects, source_type) = desired(app, revision).await?;
    let app_ns = str_at(app, "/metadata/namespace").unwrap_or("");
    let app_name = str_at(app, "/metadata/name").unwrap_or("");
    let inst = instance(app_ns, app_name);
    let dest_ns = str_at(app, "/spec/destination/namespace").unwrap_or("");
    let mut out = Vec::new();
    for mut o in objects {
        let api_version = str_at(&o, "/apiVersion").unwrap_or("").to_string();
        let kind = str_at(&o, "/kind").unwrap_or("").to_string();
        let name = str_at(&o, "/metadata/name").unwrap_or("").to_string();
        let Some((ar, namespaced)) = api::resource(ctl, &api_version, &kind) else {
            return Err(CompareError::Source(format!(
                "Failed to load live state: the server could not find the requested resource: {kind} {api_version}"
            )));
        };
        let meta = crate::objects::metadata_mut(&mut o);
        let ns = if namespaced {
            let ns = meta
                .get("namespace")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or(dest_ns)
                .to_string();
            meta.insert("namespace".into(), json!(ns));
            ns
        } else {
            meta.remove("namespace");
            String::new()
        };
        let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
        annotations[ARGO_TRACKING] = json!(tracking_id(&inst, &ar.group, &kind, &ns, &name));
        let target = api::api(ctl, &ar, namespaced, &ns);
        let live = api::get(&target, &name).await.ok().flatten();
        let synced = match &live {
            None => false,
            Some(live) => match api::apply(&target, &o, MANAGER, true).await {
                Ok(dry) => same(&dry, live),
                Err(_) => false,
            },
        };
        out.push(Managed {
            api: target,
            group: ar.group.clone(),
            version: ar.version.clone(),
            kind,
            namespace: ns,
            name,
            desired: Some(o),
            live,
            synced,
        });
    }
    // Live objects this application tracks that Git no longer has.
    let tracked = tracked(&ctl.shared, &inst);
    for live in tracked {
        let api_version = str_at(&live, "/apiVersion").unwrap_or("").to_string();
        let kind = str_at(&live, "/kind").unwrap_or("").to_string();
        let (ns, name) = crate::store::ns_name(&live);
        let Some((ar, namespaced)) = api::resource(ctl, &api_version, &kind) else {
            continue;
        };
        let known = out
            .iter()
            .any(|m| m.group == ar.group && m.kind == kind && m.namespace == ns && m.name == name);
        if known {
            continue;
        }
        out.push(Managed {
            api: api::api(ctl, &ar, namespaced, &ns),
            group: ar.group.clone(),
            version: ar.version.clone(),
            kind,
            namespace: ns,
            name,
            desired: None,
            live: Some(live),
            synced: false,
        });
    }
    out.sort_by(|a, b| {
        (&a.group, &a.kind, &a.namespace, &a.name).cmp(&(&b.group, &b.kind, &b.namespace, &b.name))
    });
    Ok(Comparison {
        revision: sha,
        objects: out,
        source_type,
    })
}

/// Whether a dry-run apply would change nothing that matters.
fn same(dry: &Value, live: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in ["managedFields", "resourceVersion", "generation"] {
                m.remove(k);
            }
        }
        v
    };
    strip(dry) == strip(live)
}

const HEALTH_ORDER: [&str; 6] = [
    "Healthy",
    "Suspended",
    "Progressing",
    "Missing",
    "Degraded",
    "Unknown",
];

/// The application's health: the worst of its resources' (pruning ones aside).
fn app_health(c: &Comparison) -> &'static str {
    let mut worst = 0;
    for m in c.objects.iter().filter(|m| !m.requires_pruning()) {
        if let Some(h) = m.health() {
            let s = h["status"].as_str().unwrap_or("Unknown");
            let rank = HEALTH_ORDER.iter().position(|x| *x == s).unwrap_or(5);
            worst = worst.max(rank);
        }
    }
    HEALTH_ORDER[worst]
}

pub(crate) fn app_api(ctl: &Ctl, ns: &str) -> Option<Api<DynamicObject>> {
    api::own_api(ctl, API_VERSION, "Application", ns)
}

/// Patch the application with the difference between `old` and `new`
/// (status, `operation`, and the refresh annotation once handled: the rest
/// belongs to its users).
pub(crate) async fn patch_app(ctl: &Ctl, old: &Value, new: &Value) {
    let (ns, name) = crate::store::ns_name(old);
    let Some(apps) = app_api(ctl, &ns) else {
        return;
    };
    let mut patch = json!({});
    if let Some(p) = api::merge_diff(
        old.get("status").unwrap_or(&json!({})),
        new.get("status").unwrap_or(&json!({})),
    ) {
        patch["status"] = p;
    }
    if old.get("operation").is_some() && new.get("operation").is_none() {
        patch["operation"] = Value::Null;
    }
    let refresh = |o: &Value| {
        o.pointer("/metadata/annotations")
            .and_then(|a| a.get(ARGO_REFRESH))
            .is_some_and(|v| !v.is_null())
    };
    if refresh(old) && !refresh(new) {
        patch["metadata"] = json!({"annotations": {ARGO_REFRESH: null}});
    }
    if patch.as_object().is_some_and(|m| m.is_empty()) {
        return;
    }
    if let Err(e) = api::merge_patch(&apps, &name, &patch, MANAGER).await {
        tracing::debug!("kube-sim argocd: patching {ns}/{name}: {e}");
    }
}

/// Write the comparison (or its error) into `app`'s status.
pub(crate) fn record(app: &mut Value, compared: &Result<Comparison, CompareError>) {
    let mut status = app.get("status").cloned().unwrap_or(json!({}));
    let now = api::now();
    let compared_to = json!({
        "source": app.pointer("/spec/source").cloned().unwrap_or(json!({})),
        "destination": app.pointer("/spec/destination").cloned().unwrap_or(json!({})),
    });
    match compared {
        Ok(c) => {
            let sync = if c.synced() { "Synced" } else { "OutOfSync" };
            status["sync"] =
                json!({"status": sync, "revision": c.revision, "comparedTo": compared_to});
            let health = app_health(c);
            let since = match status.pointer("/health/status").and_then(Value::as_str) {
                Some(h) if h == health => status
                    .pointer("/health/lastTransitionTime")
                    .cloned()
                    .unwrap_or(json!(now)),
                _ => json!(now),
            };
            status["health"] = json!({"status": health, "lastTransitionTime": since});
            status["resources"] = json!(c
                .objects
                .iter()
                .map(Managed::resource_status)
                .collect::<Vec<_>>());
            status["sourceType"] = json!(c.source_type);
            if let Some(m) = status.as_object_mut() {
                m.remove("conditions");
            }
        }
        Err(e) => {
            status["sync"] = json!({"status": "Unknown", "comparedTo": compared_to});
            if status.pointer("/health/status").is_none() {
                status["health"] = json!({"status": "Unknown", "lastTransitionTime": now});
            }
            status["conditions"] = json!([{
                "type": "ComparisonError",
                "message": e.to_string(),
                "lastTransitionTime": now,
            }]);
        }
    }
    status["reconciledAt"] = json!(now);
    status["controllerNamespace"] = json!(CONTROL_PLANE_NS);
    app["status"] = status;
}

pub(crate) async fn reconcile(ctl: &mut Ctl, ns: &str, name: &str) -> Option<Duration> {
    let apps = app_api(ctl, ns)?;
    let app = api::get(&apps, name).await.ok()??;
    if app.pointer("/metadata/deletionTimestamp").is_some() {
        argocd_sync::finalize(ctl, &app, PRUNE_FINALIZER).await;
        return None;
    }
    if app.get("operation").is_some_and(|o| !o.is_null()) {
        argocd_sync::run_operation(ctl, &app).await;
    }
    let app = api::get(&apps, name).await.ok()??;
    let target = str_at(&app, "/spec/source/targetRevision")
        .unwrap_or("HEAD")
        .to_string();
    let compared = compare(ctl, &app, &target).await;
    let mut new = app.clone();
    record(&mut new, &compared);
    // A refresh asked for is handled by this comparison.
    if let Some(a) = new
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.remove(ARGO_REFRESH);
    }
    patch_app(ctl, &app, &new).await;
    if let Ok(c) = &compared {
        argocd_sync::maybe_auto_sync(ctl, &new, c).await;
    }
    Some(RESYNC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_ids_name_the_application() {
        let id = tracking_id(
            &instance("argocd", "web"),
            "apps",
            "Deployment",
            "prod",
            "web",
        );
        assert_eq!(id, "web:apps/Deployment:prod/web");
        assert_eq!(
            app_of_tracking_id(&id),
            Some(("argocd".to_string(), "web".to_string()))
        );
        let other = tracking_id(&instance("team", "api"), "", "ConfigMap", "team", "cfg");
        assert_eq!(other, "team_api:/ConfigMap:team/cfg");
        assert_eq!(
            app_of_tracking_id(&other),
            Some(("team".to_string(), "api".to_string()))
        );
    }
}
