//! The simulated Flux source-controller, for `GitRepository`
//! (source.toolkit.fluxcd.io/v1) pointing at a local repository: it resolves
//! `spec.ref` to a commit and stores the commit's tree as the artifact, with
//! `status.artifact.revision` as source-controller v1 writes it
//! (`main@sha1:…`, `v1.0@sha1:…`, `sha1:…` for a bare commit,
//! `refs/heads/main@sha1:…` for `spec.ref.name`), the Ready, Reconciling,
//! ArtifactInStorage and FetchFailed conditions with upstream reasons and
//! messages, `spec.suspend`, `spec.interval` and `requestedAt` →
//! `lastHandledReconcileAt`. `spec.ref.semver` is not simulated (it fails
//! with a message saying so).

use super::gitops::{Ctl, REQUESTED_AT};
use super::gitops_api::{self as api, set_condition, str_at};
use super::gitsrc::{self, GitError};
use serde_json::{json, Value};
use std::time::Duration;

const API_VERSION: &str = "source.toolkit.fluxcd.io/v1";
pub(crate) const MANAGER: &str = "source-controller";
pub(crate) const FINALIZER: &str = "finalizers.fluxcd.io";
const ARTIFACT_HOST: &str = "source-controller.flux-system.svc.cluster.local.";

/// A resolved `spec.ref`: the commit and the revision string naming it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub sha: String,
    pub revision: String,
}

/// Resolve `spec.ref` as source-controller does (no ref: branch `master`).
pub(crate) fn resolve_ref(repo: &std::path::Path, r: Option<&Value>) -> Result<Resolved, GitError> {
    let field = |k: &str| {
        r.and_then(|r| r.get(k))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let short = |full: &str| {
        // "refs/heads/main" → "main", as git.Commit.String() shortens it.
        let parts: Vec<&str> = full.splitn(3, '/').collect();
        if parts.len() == 3 {
            parts[2].to_string()
        } else {
            full.to_string()
        }
    };
    if let Some(name) = field("name") {
        let sha = gitsrc::reference(repo, name)?;
        return Ok(Resolved {
            revision: format!("{name}@sha1:{sha}"),
            sha,
        });
    }
    if let Some(commit) = field("commit") {
        let sha = gitsrc::commit(repo, commit)?;
        let revision = match field("branch") {
            Some(branch) => format!("{branch}@sha1:{sha}"),
            None => format!("sha1:{sha}"),
        };
        return Ok(Resolved { sha, revision });
    }
    if field("semver").is_some() {
        return Err(GitError::Failed(
            "kube-sim does not simulate spec.ref.semver".into(),
        ));
    }
    let full = match (field("tag"), field("branch")) {
        (Some(tag), _) => format!("refs/tags/{tag}"),
        (None, Some(branch)) => format!("refs/heads/{branch}"),
        (None, None) => "refs/heads/master".into(),
    };
    let sha = gitsrc::reference(repo, &full)?;
    Ok(Resolved {
        revision: format!("{}@sha1:{sha}", short(&full)),
        sha,
    })
}

pub(crate) fn interval(obj: &Value) -> Duration {
    str_at(obj, "/spec/interval")
        .and_then(api::parse_go_duration)
        .filter(|d| !d.is_zero())
        .unwrap_or(Duration::from_secs(60))
}

fn handled(status: &mut Value, obj: &Value) {
    if let Some(v) = obj
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(REQUESTED_AT))
        .and_then(Value::as_str)
    {
        status["lastHandledReconcileAt"] = json!(v);
    }
}

async fn write_status(ctl: &Ctl, ns: &str, name: &str, obj: &Value, status: Value) {
    let Some(gr) = api::own_api(ctl, API_VERSION, "GitRepository", ns) else {
        return;
    };
    let old = obj.get("status").cloned().unwrap_or(json!({}));
    if let Some(patch) = api::merge_diff(&old, &status) {
        if let Err(e) = api::merge_patch_status(&gr, name, &json!({"status": patch}), MANAGER).await
        {
            tracing::debug!("kube-sim source-controller: status of {ns}/{name}: {e}");
        }
    }
}

pub(crate) async fn reconcile(ctl: &mut Ctl, ns: &str, name: &str) -> Option<Duration> {
    let gr = api::own_api(ctl, API_VERSION, "GitRepository", ns)?;
    let obj = api::get(&gr, name).await.ok()??;
    let url_path = format!("gitrepository/{ns}/{name}/");
    if obj.pointer("/metadata/deletionTimestamp").is_some() {
        ctl.artifacts.retain(|k, _| !k.contains(&url_path));
        let _ = api::set_finalizer(&gr, &obj, FINALIZER, false, MANAGER).await;
        return None;
    }
    if api::set_finalizer(&gr, &obj, FINALIZER, true, MANAGER)
        .await
        .is_err()
    {
        return Some(Duration::from_secs(1));
    }
    let obj = api::get(&gr, name).await.ok()??;
    let generation = api::generation(&obj);
    let mut status = obj.get("status").cloned().unwrap_or(json!({}));
    let every = interval(&obj);
    if obj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
        handled(&mut status, &obj);
        write_status(ctl, ns, name, &obj, status).await;
        return None;
    }
    let mut conditions = api::conditions_of(&obj);
    let url = str_at(&obj, "/spec/url").unwrap_or("").to_string();
    let spec_ref = obj.pointer("/spec/ref").cloned();
    let resolved = tokio::task::spawn_blocking(move || {
        let repo = gitsrc::local_repo(&url)?;
        let r = resolve_ref(&repo, spec_ref.as_ref())?;
        let tarball = gitsrc::archive(&repo, &r.sha)?;
        Ok::<_, GitError>((r, tarball))
    })
    .await
    .unwrap_or_else(|e| Err(GitError::Failed(e.to_string())));
    let (r, tarball) = match resolved {
        Ok(x) => x,
        Err(e) => {
            let url = str_at(&obj, "/spec/url").unwrap_or("");
            let message =
                format!("failed to checkout and determine revision: unable to clone '{url}': {e}");
            set_condition(
                &mut conditions,
                "FetchFailed",
                "True",
                "GitOperationFailed",
                &message,
                generation,
            );
            set_condition(
                &mut conditions,
                "Ready",
                "False",
                "GitOperationFailed",
                &message,
                generation,
            );
            set_condition(
                &mut conditions,
                "Reconciling",
                "True",
                "ProgressingWithRetry",
                &message,
                generation,
            );
            status["conditions"] = json!(conditions);
            status["observedGeneration"] = json!(generation);
            handled(&mut status, &obj);
            write_status(ctl, ns, name, &obj, status).await;
            return Some(every);
        }
    };
    let current = str_at(&obj, "/status/artifact/revision").map(str::to_string);
    if current.as_deref() != Some(r.revision.as_str()) {
        // A new revision: Reconciling while the artifact is built, as upstream.
        let message = format!("building artifact: new upstream revision '{}'", r.revision);
        set_condition(
            &mut conditions,
            "Reconciling",
            "True",
            "Progressing",
            &message,
            generation,
        );
        set_condition(
            &mut conditions,
            "Ready",
            "Unknown",
            "Progressing",
            "reconciliation in progress",
            generation,
        );
        if current.is_some() {
            set_condition(
                &mut conditions,
                "ArtifactOutdated",
                "True",
                "NewRevision",
                &format!("new upstream revision '{}'", r.revision),
                generation,
            );
        }
        let mut progressing = status.clone();
        progressing["conditions"] = json!(conditions);
        write_status(ctl, ns, name, &obj, progressing).await;
    }
    let path = format!("{url_path}{}.tar.gz", r.sha);
    let artifact_url = format!("http://{ARTIFACT_HOST}/{path}");
    let same = current.as_deref() == Some(r.revision.as_str());
    let artifact = json!({
        "digest": format!("sha256:{}", api::sha256_hex(&tarball)),
        "lastUpdateTime": match (same, obj.pointer("/status/artifact/lastUpdateTime")) {
            (true, Some(t)) => t.clone(),
            _ => json!(api::now()),
        },
        "path": path,
        "revision": r.revision,
        "size": tarball.len(),
        "url": artifact_url,
    });
    ctl.artifacts.retain(|k, _| !k.contains(&url_path));
    ctl.artifacts.insert(artifact_url, tarball);
    let message = format!("stored artifact for revision '{}'", r.revision);
    api::remove_condition(&mut conditions, "FetchFailed");
    api::remove_condition(&mut conditions, "ArtifactOutdated");
    api::remove_condition(&mut conditions, "Reconciling");
    set_condition(
        &mut conditions,
        "Ready",
        "True",
        "Succeeded",
        &message,
        generation,
    );
    set_condition(
        &mut conditions,
        "ArtifactInStorage",
        "True",
        "Succeeded",
        &message,
        generation,
    );
    status["artifact"] = artifact;
    status["conditions"] = json!(conditions);
    status["observedGeneration"] = json!(generation);
    handled(&mut status, &obj);
    let obj = api::get(&gr, name).await.ok()??;
    write_status(ctl, ns, name, &obj, status).await;
    Some(every)
}
