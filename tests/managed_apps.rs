//! Flux and Argo CD apps beside native ones, over kube-sim with the real
//! upstream CRDs (`../shared/fixtures/crds/`, never copied here): found with
//! no config, their status mapped from the fields the controllers write
//! (seeded here as the controllers would leave them), and every write
//! gitops-tui makes to them checked in kube-sim's request log against what
//! the `flux` and `argocd` CLIs send.

mod common;

use common::*;
use gitops_tui::engine::SyncOptions;
use gitops_tui::model::{AppId, AppSource, Health, Revision, SyncStatus};
use serde_json::{json, Value};

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const OLD: &str = "89abcdef0123456789abcdef0123456789abcdef";

fn ns(f: &Fixture, name: &str) {
    let _ = f
        .sim
        .seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}));
}

fn cond(t: &str, s: &str, m: &str) -> Value {
    json!({"type": t, "status": s, "reason": "R", "message": m,
           "lastTransitionTime": "2024-01-01T00:00:00Z"})
}

fn kustomization(name: &str, conditions: Value, suspend: bool) -> Value {
    json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {"interval": "5m", "path": "./apps/web", "prune": true, "suspend": suspend,
                 "sourceRef": {"kind": "GitRepository", "name": "repo"}},
        "status": {
            "conditions": conditions,
            "lastAppliedRevision": format!("main@sha1:{SHA}"),
            "lastAttemptedRevision": format!("main@sha1:{SHA}"),
            "inventory": {"entries": [{"id": "web_web-config__ConfigMap", "v": "v1"}]}
        }
    })
}

fn git_repository(url: &str) -> Value {
    json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "repo", "namespace": "flux-system"},
        "spec": {"interval": "1m", "url": url, "ref": {"branch": "main"}},
        "status": {"artifact": {"revision": format!("main@sha1:{SHA}"), "path": "x", "url": "x",
                                "digest": "sha256:00", "lastUpdateTime": "2024-01-01T00:00:00Z"}}
    })
}

fn application(name: &str, sync: &str, health: &str, automated: Option<Value>) -> Value {
    let mut policy = json!({"syncOptions": ["CreateNamespace=true"]});
    if let Some(a) = automated {
        policy["automated"] = a;
    }
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {"repoURL": "file:///srv/repo", "path": "guestbook", "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "guestbook"},
            "syncPolicy": policy
        },
        "status": {
            "sync": {"status": sync, "revision": SHA},
            "health": {"status": health},
            "history": [
                {"id": 1, "revision": OLD, "deployedAt": "2024-01-01T00:00:00Z",
                 "source": {"repoURL": "file:///srv/repo", "path": "guestbook", "targetRevision": "main"}},
                {"id": 2, "revision": SHA, "deployedAt": "2024-01-02T00:00:00Z",
                 "source": {"repoURL": "file:///srv/repo", "path": "guestbook", "targetRevision": "main"}}
            ],
            "resources": [{"version": "v1", "kind": "ConfigMap", "namespace": "web",
                           "name": "web-config", "status": sync, "health": {"status": "Healthy"}}]
        }
    })
}

/// A cluster with the shop app synced, the CRDs, and one app of each source.
async fn world() -> Fixture {
    let f = synced_shop(false).await;
    crds::install(&f);
    for n in ["flux-system", "argocd", "web"] {
        ns(&f, n);
    }
    f.sim
        .seed(json!({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": "web-config", "namespace": "web"}, "data": {"a": "1"}}))
        .expect("cm");
    f.sim
        .seed(git_repository("file:///srv/repo"))
        .expect("gitrepo");
    f.sim
        .seed(kustomization(
            "web",
            json!([cond(
                "Ready",
                "True",
                &format!("Applied revision: main@sha1:{SHA}")
            )]),
            false,
        ))
        .expect("ks");
    f.sim
        .seed(application(
            "guestbook",
            "OutOfSync",
            "Healthy",
            Some(json!({"prune": true, "selfHeal": true, "allowEmpty": false})),
        ))
        .expect("app");
    f
}

fn flux(name: &str) -> AppId {
    AppId::managed(AppSource::Flux, "", "flux-system", name)
}

fn argo(name: &str) -> AppId {
    AppId::managed(AppSource::ArgoCd, "", "argocd", name)
}

/// The mutating requests to paths ending in `suffix`, since the log was cleared.
fn writes(f: &Fixture, suffix: &str) -> Vec<(String, String, Value)> {
    f.sim
        .requests()
        .into_iter()
        .filter(|r| r.is_mutating() && r.path.ends_with(suffix))
        .map(|r| {
            let body = serde_json::from_str(&r.body).unwrap_or(Value::Null);
            (r.method, r.content_type, body)
        })
        .collect()
}

fn status_json(f: &Fixture) -> Value {
    let out = f.cli(&["status", "-o", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_without_the_crds_lists_only_native_apps() {
    let f = synced_shop(false).await;
    let doc = status_json(&f);
    let apps = doc["apps"].as_array().expect("apps");
    assert_eq!(apps.len(), 1, "{doc}");
    assert_eq!(apps[0]["name"], "shop");
    assert_eq!(apps[0]["managed_by"], "gitops-tui");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_and_argo_apps_are_listed_with_no_config_beside_native_ones() {
    let f = world().await;
    // No [[apps]] at all: a config of nothing finds them too.
    std::fs::write(&f.config, "").expect("empty config");
    let doc = status_json(&f);
    let by_name: Vec<(String, String, String, String)> = doc["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .map(|a| {
            let t = |k: &str| a[k].as_str().unwrap_or("").to_string();
            (t("name"), t("managed_by"), t("sync"), t("health"))
        })
        .collect();
    assert_eq!(
        by_name,
        [
            (
                "flux/flux-system/web".into(),
                "flux".into(),
                "Synced".into(),
                "Healthy".into()
            ),
            (
                "argocd/argocd/guestbook".into(),
                "argocd".into(),
                "OutOfSync".into(),
                "Healthy".into()
            ),
        ],
        "{doc}"
    );
    let web = &doc["apps"][0];
    assert_eq!(web["message"], format!("Applied revision: main@sha1:{SHA}"));
    assert_eq!(web["deployed_revision"], SHA);
    assert_eq!(web["source"], "file:///srv/repo:./apps/web");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_map_the_controllers_fields_and_resources_get_our_health() {
    let f = world().await;
    f.sim
        .seed(kustomization(
            "stalled",
            json!([
                cond("Ready", "False", "path not found"),
                cond("Stalled", "True", "spec.path ./apps/web not found")
            ]),
            false,
        ))
        .expect("ks");
    f.sim
        .seed(kustomization(
            "paused",
            json!([cond("Ready", "True", "ok")]),
            true,
        ))
        .expect("ks");
    f.sim
        .seed(kustomization(
            "moving",
            json!([
                cond("Ready", "Unknown", "in progress"),
                cond("Reconciling", "True", "Applying")
            ]),
            false,
        ))
        .expect("ks");
    let mut running = application("deploying", "OutOfSync", "Progressing", None);
    running["status"]["operationState"] = json!({"phase": "Running", "message": "one more hook",
        "startedAt": "2024-01-01T00:00:00Z", "operation": {"sync": {"revision": SHA}}});
    f.sim.seed(running).expect("app");
    f.sim
        .seed(application("broken", "Synced", "Degraded", None))
        .expect("app");
    let engine = f.engine();
    let web = engine.status(&flux("web")).await.expect("status");
    assert_eq!(
        (web.sync, web.health),
        (SyncStatus::Synced, Health::Healthy)
    );
    assert_eq!(web.resources.len(), 1);
    assert_eq!(web.resources[0].key.display(), "ConfigMap web/web-config");
    assert_eq!(web.resources[0].health, Health::Healthy);
    assert!(web.resources[0].live.is_some(), "read from the cluster");
    let stalled = engine.status(&flux("stalled")).await.expect("status");
    assert_eq!(stalled.health, Health::Degraded);
    assert_eq!(stalled.message, "stalled: spec.path ./apps/web not found");
    assert!(
        engine
            .status(&flux("paused"))
            .await
            .expect("status")
            .suspended
    );
    assert_eq!(
        engine.status(&flux("moving")).await.expect("status").health,
        Health::Progressing
    );
    let deploying = engine.status(&argo("deploying")).await.expect("status");
    assert_eq!(deploying.message, "operation running: one more hook");
    assert_eq!(
        engine.status(&argo("broken")).await.expect("status").health,
        Health::Degraded
    );
    let guestbook = engine.status(&argo("guestbook")).await.expect("status");
    assert_eq!(guestbook.sync, SyncStatus::OutOfSync);
    assert_eq!(guestbook.counts.out_of_sync, 1);
    // A name no controller object has says what was looked for.
    let err = engine.status(&flux("nope")).await.expect_err("unknown");
    assert_eq!(
        err.to_string(),
        "app flux/flux-system/nope: no such Kustomization or HelmRelease in the current context"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_suspend_and_resume_send_the_flux_clis_merge_patches() {
    let f = world().await;
    let engine = f.engine();
    f.sim.clear_requests();
    engine.suspend(&flux("web")).await.expect("suspend");
    let w = writes(&f, "/kustomizations/web");
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].0, "PATCH");
    assert_eq!(w[0].1, "application/merge-patch+json");
    assert_eq!(w[0].2, json!({"spec": {"suspend": true}}));
    // A suspended app is not reconciled silently.
    let err = engine
        .sync(&flux("web"), &SyncOptions::default())
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("is suspended"), "{err}");
    f.sim.clear_requests();
    engine.resume(&flux("web")).await.expect("resume");
    let w = writes(&f, "/kustomizations/web");
    assert_eq!(w[0].2, json!({"spec": {"suspend": null}}), "{w:?}");
    let at = w[1].2["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"]
        .as_str()
        .expect("requestedAt");
    assert!(humantime::parse_rfc3339(at).is_ok(), "{at}");
    let stored = f
        .sim
        .get(
            "kustomize.toolkit.fluxcd.io/v1",
            "Kustomization",
            "flux-system",
            "web",
        )
        .expect("ks");
    assert_eq!(stored.pointer("/spec/suspend"), None);
}

/// Stands in for kustomize-controller: hands each reconcile request as the
/// controller does (lastHandledReconcileAt = the annotation).
fn fake_controller(
    f: &Fixture,
    plural: &'static str,
    api: &'static str,
) -> tokio::task::JoinHandle<()> {
    let url = f.sim.url().to_string();
    tokio::spawn(async move {
        let http = reqwest_like(&url);
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let path = format!("/apis/{api}/namespaces/flux-system/{plural}");
            let Ok(list) = http.get(&path).await else {
                continue;
            };
            for item in list["items"].as_array().cloned().unwrap_or_default() {
                let want = item
                    .pointer("/metadata/annotations/reconcile.fluxcd.io~1requestedAt")
                    .cloned();
                if want.is_some() && item.pointer("/status/lastHandledReconcileAt") != want.as_ref()
                {
                    let name = item["metadata"]["name"].as_str().unwrap_or("").to_string();
                    let _ = http
                        .merge_status(
                            &format!("{path}/{name}/status"),
                            &json!({"status": {"lastHandledReconcileAt": want}}),
                        )
                        .await;
                }
            }
        }
    })
}

struct Http {
    client: kube::Client,
}

fn reqwest_like(url: &str) -> Http {
    let config = kube::Config::new(url.parse().expect("url"));
    Http {
        client: kube::Client::try_from(config).expect("client"),
    }
}

impl Http {
    async fn get(&self, path: &str) -> Result<Value, kube::Error> {
        let req = http::Request::get(path).body(Vec::new()).expect("request");
        self.client.request::<Value>(req).await
    }
    async fn merge_status(&self, path: &str, body: &Value) -> Result<Value, kube::Error> {
        let req = http::Request::patch(path)
            .header("content-type", "application/merge-patch+json")
            .body(serde_json::to_vec(body).expect("json"))
            .expect("request");
        self.client.request::<Value>(req).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_waits_for_the_controller_to_handle_the_request_source_first() {
    let f = world().await;
    let ks = fake_controller(&f, "kustomizations", "kustomize.toolkit.fluxcd.io/v1");
    let src = fake_controller(&f, "gitrepositories", "source.toolkit.fluxcd.io/v1");
    let engine = f.engine();
    f.sim.clear_requests();
    let opts = SyncOptions {
        with_source: true,
        ..Default::default()
    };
    let report = engine.sync(&flux("web"), &opts).await.expect("reconcile");
    ks.abort();
    src.abort();
    assert!(report.succeeded, "{report:?}");
    assert_eq!(report.revision.as_str(), SHA);
    assert_eq!(
        report.message,
        format!("reconciled: Applied revision: main@sha1:{SHA}")
    );
    let source = writes(&f, "/gitrepositories/repo");
    let app = writes(&f, "/kustomizations/web");
    let at = |w: &Vec<(String, String, Value)>| {
        w[0].2["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"].clone()
    };
    assert_eq!(
        source[0].2,
        json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": at(&source)}}})
    );
    assert_eq!(at(&source), at(&app), "one request time, as flux stamps it");
    let stored = f
        .sim
        .get(
            "kustomize.toolkit.fluxcd.io/v1",
            "Kustomization",
            "flux-system",
            "web",
        )
        .expect("ks");
    assert_eq!(
        stored.pointer("/status/lastHandledReconcileAt"),
        Some(&at(&app))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_rollback_pins_the_gitrepository_and_resume_restores_its_ref_byte_for_byte() {
    let f = world().await;
    let ks = fake_controller(&f, "kustomizations", "kustomize.toolkit.fluxcd.io/v1");
    let src = fake_controller(&f, "gitrepositories", "source.toolkit.fluxcd.io/v1");
    let engine = f.engine();
    let get = || {
        f.sim
            .get(
                "source.toolkit.fluxcd.io/v1",
                "GitRepository",
                "flux-system",
                "repo",
            )
            .expect("repo")
    };
    let before = get()["spec"]["ref"].to_string();
    f.sim.clear_requests();
    let report = engine
        .rollback_with(&flux("web"), &Revision::new(OLD), SyncOptions::default())
        .await
        .expect("rollback");
    assert!(report.succeeded, "{report:?}");
    let w = writes(&f, "/gitrepositories/repo");
    assert_eq!(
        w[0].2,
        json!({"metadata": {"annotations": {"gitops-tui.dev/rollback-ref": "{\"branch\":\"main\"}"}},
               "spec": {"ref": {"commit": OLD}}})
    );
    // The source reconciled, then the Kustomization, which is then suspended.
    let at = &w[1].2["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"];
    assert!(at.is_string(), "{w:?}");
    assert_eq!(w.len(), 2, "{w:?}");
    let k = writes(&f, "/kustomizations/web");
    assert_eq!(
        k.iter().map(|w| w.2.clone()).collect::<Vec<_>>(),
        vec![
            json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": at}}}),
            json!({"spec": {"suspend": true}}),
        ]
    );
    assert_eq!(
        get()["spec"]["ref"],
        json!({"branch": "main", "commit": OLD})
    );
    let status = engine.status(&flux("web")).await.expect("status");
    assert_eq!(
        status.paused_revision.as_deref(),
        Some(OLD),
        "shown as paused by the rollback"
    );
    // A second rollback keeps the ref the first remembered.
    engine
        .rollback_with(&flux("web"), &Revision::new(SHA), SyncOptions::default())
        .await
        .expect("again");
    engine.resume(&flux("web")).await.expect("resume");
    ks.abort();
    src.abort();
    let after = get();
    assert_eq!(after["spec"]["ref"].to_string(), before);
    assert_eq!(
        after.pointer("/metadata/annotations/gitops-tui.dev~1rollback-ref"),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argo_suspend_and_resume_keep_prune_self_heal_and_allow_empty() {
    let f = world().await;
    let engine = f.engine();
    let policy = || {
        f.sim
            .get("argoproj.io/v1alpha1", "Application", "argocd", "guestbook")
            .expect("app")["spec"]["syncPolicy"]
            .clone()
    };
    f.sim.clear_requests();
    engine.suspend(&argo("guestbook")).await.expect("suspend");
    let w = writes(&f, "/applications/guestbook");
    assert_eq!(w[0].1, "application/merge-patch+json");
    assert_eq!(
        w[0].2,
        json!({"spec": {"syncPolicy": {"automated": {"enabled": false}}}})
    );
    assert_eq!(
        policy()["automated"],
        json!({"prune": true, "selfHeal": true, "allowEmpty": false, "enabled": false})
    );
    assert!(
        engine
            .status(&argo("guestbook"))
            .await
            .expect("status")
            .suspended
    );
    engine.resume(&argo("guestbook")).await.expect("resume");
    assert_eq!(
        policy()["automated"],
        json!({"prune": true, "selfHeal": true, "allowEmpty": false, "enabled": true})
    );
    assert_eq!(policy()["syncOptions"], json!(["CreateNamespace=true"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argo_sync_and_rollback_write_the_operation_as_the_argocd_cli_does() {
    let f = world().await;
    let engine = f.engine();
    f.sim.clear_requests();
    let opts = SyncOptions {
        prune: true,
        ..Default::default()
    };
    let report = engine.sync(&argo("guestbook"), &opts).await.expect("sync");
    assert!(report.succeeded);
    let w = writes(&f, "/applications/guestbook");
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(
        w[0].0, "PUT",
        "an update preconditioned on the resourceVersion read"
    );
    assert!(w[0].2.pointer("/metadata/resourceVersion").is_some());
    assert_eq!(
        w[0].2["operation"],
        json!({"sync": {"revision": SHA, "prune": true, "syncStrategy": {"hook": {}},
                        "source": {"repoURL": "file:///srv/repo", "path": "guestbook", "targetRevision": "main"},
                        "syncOptions": ["CreateNamespace=true"]},
               "initiatedBy": {}, "retry": {}})
    );
    // An operation already there: refused, nothing written.
    f.sim.clear_requests();
    let err = engine
        .sync(&argo("guestbook"), &opts)
        .await
        .expect_err("busy");
    assert!(
        err.to_string()
            .contains("another operation is already in progress"),
        "{err}"
    );
    assert!(writes(&f, "/applications/guestbook").is_empty());

    // Rollback (of an app with no operation written): auto-sync goes off
    // first, then the operation.
    f.sim
        .seed(application(
            "rollme",
            "Synced",
            "Healthy",
            Some(json!({"prune": true})),
        ))
        .expect("app");
    let target = argo("rollme");
    let suffix = "/applications/rollme";
    f.sim.clear_requests();
    let rev = engine
        .rollback_revision(&target, &gitops_tui::engine::RollbackTarget::Previous)
        .await
        .expect("previous");
    assert_eq!(rev.as_str(), OLD);
    engine
        .rollback_with(&target, &rev, SyncOptions::default())
        .await
        .expect("rollback");
    let w = writes(&f, suffix);
    assert_eq!(
        w[0].2,
        json!({"spec": {"syncPolicy": {"automated": {"enabled": false}}}})
    );
    assert_eq!(w[1].0, "PUT");
    assert_eq!(
        w[1].2["operation"],
        json!({"sync": {"revision": OLD, "syncStrategy": {"apply": {}},
                        "source": {"repoURL": "file:///srv/repo", "path": "guestbook", "targetRevision": "main"},
                        "syncOptions": ["CreateNamespace=true"]},
               "initiatedBy": {}, "retry": {}})
    );
}
