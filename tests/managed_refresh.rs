//! Argo CD refresh, controllers' CRDs installed while the TUI runs, and the
//! confirm dialogs' bodies against what is sent, over kube-sim with its
//! simulated Flux and Argo CD controllers, the upstream CRDs
//! (`../shared/fixtures/crds`, applied with the real kubectl) and real Git
//! repositories. Every body is read back from kube-sim's request log.

mod common;

use common::tmux::{tui_script, Tmux};
use common::*;
use gitops_tui::engine::SyncOptions;
use gitops_tui::model::controller_patch::{ArgoPatch, HYDRATE, REFRESH};
use gitops_tui::model::{AppId, AppSource, Revision};
use gitops_tui::ui::confirm_managed::{self, Write, NOW};
use kube_sim::{GitOpsControllers, Options};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const APP_API: &str = "argoproj.io/v1alpha1";

fn crd_file(name: &str) -> PathBuf {
    crds::dir().join(name)
}

/// kube-sim with `controllers`, an empty repository, and a config of
/// `config` (no app of its own unless it says so).
async fn world(controllers: GitOpsControllers, config: &str) -> Fixture {
    Fixture::with_options(
        config,
        Options {
            ready_after: Duration::from_millis(100),
            controllers,
            ..Default::default()
        },
    )
    .await
}

fn argocd() -> GitOpsControllers {
    GitOpsControllers {
        flux: false,
        argocd: true,
    }
}

fn apply_crd(f: &Fixture, file: &str) {
    let path = crd_file(file);
    f.kubectl_ok(&["apply", "--server-side", "-f", &path.display().to_string()]);
}

fn cm(value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  key: {value}\n")
}

fn application(f: &Fixture, automated: Option<Value>) -> Value {
    let mut policy = json!({"syncOptions": ["CreateNamespace=true"]});
    if let Some(a) = automated {
        policy["automated"] = a;
    }
    json!({
        "apiVersion": APP_API, "kind": "Application",
        "metadata": {"name": "web", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {"repoURL": format!("file://{}", f.repo.display()), "path": "deploy",
                       "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
            "syncPolicy": policy,
        },
    })
}

fn ns(f: &Fixture, name: &str) {
    let _ = f
        .sim
        .seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}));
}

async fn wait_obj(
    f: &Fixture,
    (api, kind, namespace, name): (&str, &str, &str, &str),
    what: &str,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        if let Some(o) = f.sim.get(api, kind, namespace, name) {
            if ok(&o) {
                return o;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "waited 30s for {what}: {:#}",
            f.sim.get(api, kind, namespace, name).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_app(f: &Fixture, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    wait_obj(f, (APP_API, "Application", "argocd", "web"), what, ok).await
}

fn argo() -> AppId {
    AppId::managed(AppSource::ArgoCd, "", "argocd", "web")
}

/// An Argo CD world: the CRD, the repository at its first commit, and the
/// Application compared at it by the simulated controller.
async fn argo_world(controllers: GitOpsControllers, config: &str) -> (Fixture, String) {
    let f = world(controllers, config).await;
    apply_crd(&f, "argocd-applications.yaml");
    ns(&f, "argocd");
    // kube-sim's controller does not simulate CreateNamespace=true.
    ns(&f, "web");
    let first = f.commit(&[("deploy/cm.yaml", Some(&cm("one")))], "first");
    f.apply_server_side(&application(&f, None));
    (f, first)
}

/// The mutating requests to `suffix` (a path's end) since the log was
/// cleared, with their bodies as sent.
fn sent(f: &Fixture, suffix: &str) -> Vec<(String, String)> {
    f.sim
        .requests()
        .into_iter()
        .filter(|r| r.is_mutating() && r.path.ends_with(suffix))
        .map(|r| (r.method, r.body))
        .collect()
}

/// The refresh requests among them (the controller's own patches clear the
/// annotation; only a client sets the hydrate one).
fn refreshes(f: &Fixture) -> Vec<String> {
    sent(f, "/applications/web")
        .into_iter()
        .filter(|(m, b)| m == "PATCH" && b.contains(HYDRATE))
        .map(|(_, b)| b)
        .collect()
}

fn out_text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_sends_argocds_patch_and_waits_for_the_controller_to_compare_again() {
    let (f, first) = argo_world(argocd(), "").await;
    wait_app(&f, "compared at the first commit", |o| {
        o["status"]["sync"]["revision"] == first.as_str()
    })
    .await;
    // A new commit: the controller does not look until asked (or its
    // three-minute resync).
    let second = f.commit(&[("deploy/cm.yaml", Some(&cm("two")))], "second");
    let before = f
        .sim
        .get(APP_API, "Application", "argocd", "web")
        .expect("app");
    assert_eq!(before["status"]["sync"]["revision"], first.as_str());

    f.sim.clear_requests();
    let out = f.cli(&["refresh", "argocd/argocd/web", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", out_text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["revision"], second.as_str(), "{doc:#}");
    assert_eq!(doc["sync"], "OutOfSync", "{doc:#}");
    assert_eq!(doc["hard"], false);
    assert!(doc["reconciled_at"].is_string(), "{doc:#}");
    // Exactly Argo CD 3.5's RefreshApp body, once, as a merge patch.
    assert_eq!(
        refreshes(&f),
        vec![ArgoPatch::Refresh { hard: false }.body_text()]
    );
    assert!(f.sim.requests().iter().any(|r| r.method == "PATCH"
        && r.content_type.starts_with("application/merge-patch+json")
        && r.body == ArgoPatch::Refresh { hard: false }.body_text()));
    // The controller removed the refresh annotation; hydrate stays, as on
    // an Argo CD app without a source hydrator.
    let after = f
        .sim
        .get(APP_API, "Application", "argocd", "web")
        .expect("app");
    let annotations = &after["metadata"]["annotations"];
    assert!(annotations.get(REFRESH).is_none(), "{annotations}");
    assert_eq!(annotations[HYDRATE], "normal");

    // Hard refresh: the same with "hard", text output.
    f.sim.clear_requests();
    let out = f.cli(&["refresh", "argocd/argocd/web", "--hard"]);
    assert_eq!(out.status.code(), Some(0), "{}", out_text(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("hard-refreshed argocd/argocd/web: OutOfSync at "),
        "{text}"
    );
    assert_eq!(
        refreshes(&f),
        vec![ArgoPatch::Refresh { hard: true }.body_text()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_without_a_running_controller_says_so_at_the_deadline_and_leaves_the_request() {
    let (f, _) = argo_world(
        GitOpsControllers::default(),
        "[cluster]\ndeadline = \"2s\"\n",
    )
    .await;
    let out = f.cli(&["refresh", "argocd/argocd/web"]);
    assert_eq!(out.status.code(), Some(2), "{}", out_text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("did not handle the refresh within 2s (is it running?)"),
        "{err}"
    );
    let app = f
        .sim
        .get(APP_API, "Application", "argocd", "web")
        .expect("app");
    assert_eq!(app["metadata"]["annotations"][REFRESH], "normal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_native_and_readonly_refreshes_are_refused_saying_what_there_is() {
    let config =
        "[[apps]]\nname = \"shop\"\nrepo = \"repo\"\npath = \"apps/shop\"\nnamespace = \"shop\"\n";
    let (f, _) = argo_world(argocd(), config).await;
    f.sim.clear_requests();
    let out = f.cli(&["refresh", "flux/flux-system/podinfo"]);
    assert_eq!(out.status.code(), Some(2), "{}", out_text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Flux has no refresh"), "{err}");
    assert!(err.contains("`sync flux/flux-system/podinfo`"), "{err}");
    let out = f.cli(&["refresh", "shop", "-o", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", out_text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("app shop is gitops-tui's own"), "{err}");
    let out = f.cli(&["refresh", "nosuch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no app named \"nosuch\""));
    let out = f.cli(&["--readonly", "refresh", "argocd/argocd/web"]);
    assert_eq!(out.status.code(), Some(2), "{}", out_text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused under --readonly"));
    let out = f.cli(&["refresh", "argocd/argocd/absent"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no such Application"),
        "{}",
        out_text(&out)
    );
    assert!(refreshes(&f).is_empty(), "nothing was written");
}

/// The bodies of a preview's writes, a reconcile's time left as `<now>`.
fn bodies(writes: &[Write]) -> Vec<String> {
    writes
        .iter()
        .filter_map(|w| match w {
            Write::Patch { body, .. } => Some(body.clone()),
            Write::Operation { operation, .. } => Some(operation.clone()),
            Write::Say(_) => None,
        })
        .collect()
}

/// A sent body with the time of its reconcile request put back to `<now>`.
fn timeless(body: &str) -> String {
    let Ok(mut v) = serde_json::from_str::<Value>(body) else {
        return body.to_string();
    };
    if let Some(at) = v.pointer_mut("/metadata/annotations/reconcile.fluxcd.io~1requestedAt") {
        *at = json!(NOW);
        return v.to_string();
    }
    body.to_string()
}

fn patches(f: &Fixture, suffix: &str) -> Vec<String> {
    sent(f, suffix)
        .into_iter()
        .filter(|(m, _)| m == "PATCH")
        .map(|(_, b)| timeless(&b))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_argo_preview_shows_the_body_that_is_sent() {
    let (f, first) = argo_world(argocd(), "").await;
    f.apply_server_side(&application(
        &f,
        Some(json!({"prune": true, "selfHeal": false})),
    ));
    let e = f.engine();
    wait_app(&f, "synced by auto-sync", |o| {
        o["status"]["sync"]["status"] == "Synced" && o["status"]["history"].is_array()
    })
    .await;
    async fn status(e: &gitops_tui::engine::Engine) -> gitops_tui::model::AppStatus {
        e.status(&argo()).await.expect("status")
    }

    // Suspend: auto-sync off.
    let preview = bodies(&confirm_managed::suspend_writes(&argo()));
    f.sim.clear_requests();
    e.suspend(&argo()).await.expect("suspend");
    assert_eq!(patches(&f, "/applications/web")[..1], preview[..]);

    // Resume: back on.
    let s2 = status(&e).await;
    assert!(s2.suspended);
    let preview = bodies(&confirm_managed::resume_writes(&argo(), Some(&s2)));
    f.sim.clear_requests();
    e.resume(&argo()).await.expect("resume");
    assert_eq!(patches(&f, "/applications/web")[..1], preview[..]);

    // Sync: the operation field of the update.
    e.suspend(&argo()).await.expect("suspend again");
    let second = f.commit(&[("deploy/cm.yaml", Some(&cm("two")))], "second");
    e.refresh(&argo(), false).await.expect("refresh");
    let s3 = status(&e).await;
    assert_eq!(s3.target_revision, Some(Revision::new(&second)));
    let preview = bodies(&confirm_managed::sync_writes(&argo(), Some(&s3), true));
    f.sim.clear_requests();
    e.sync(
        &argo(),
        &SyncOptions {
            prune: true,
            ..Default::default()
        },
    )
    .await
    .expect("sync");
    let put: Vec<String> = sent(&f, "/applications/web")
        .into_iter()
        .filter(|(m, _)| m == "PUT")
        .map(|(_, b)| {
            let v: Value = serde_json::from_str(&b).expect("json body");
            v["operation"].to_string()
        })
        .collect();
    assert_eq!(put, preview);

    // Refresh, normal and hard.
    for hard in [false, true] {
        let preview = bodies(&confirm_managed::refresh_writes(&argo(), hard));
        f.sim.clear_requests();
        e.refresh(&argo(), hard).await.expect("refresh");
        assert_eq!(refreshes(&f), preview);
    }

    // Rollback to the first history entry: auto-sync is off already, so
    // only the operation.
    wait_app(&f, "the second sync in the history", |o| {
        o["status"]["history"].as_array().map(Vec::len) == Some(2)
    })
    .await;
    let s4 = status(&e).await;
    let preview = bodies(&confirm_managed::rollback_writes(
        &argo(),
        Some(&s4),
        &Revision::new(&first),
    ));
    f.sim.clear_requests();
    e.rollback(&argo(), &Revision::new(&first), false)
        .await
        .expect("rollback");
    let written: Vec<String> = sent(&f, "/applications/web")
        .into_iter()
        .map(|(m, b)| {
            if m == "PUT" {
                let v: Value = serde_json::from_str(&b).expect("json body");
                v["operation"].to_string()
            } else {
                b
            }
        })
        .filter(|b| !b.contains("\"status\""))
        .collect();
    assert_eq!(written[..1], preview[..], "{written:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_flux_preview_shows_the_body_that_is_sent() {
    let f = world(
        GitOpsControllers {
            flux: true,
            argocd: false,
        },
        "",
    )
    .await;
    for file in ["flux-gitrepositories.yaml", "flux-kustomizations.yaml"] {
        apply_crd(&f, file);
    }
    ns(&f, "flux-system");
    let first = f.commit(&[("deploy/cm.yaml", Some(&cm("one")))], "first");
    let second = f.commit(&[("deploy/cm.yaml", Some(&cm("two")))], "second");
    crds::flux_app(&f, "web");
    let ks = (
        "kustomize.toolkit.fluxcd.io/v1",
        "Kustomization",
        "flux-system",
        "web",
    );
    wait_obj(&f, ks, "applied", |o| {
        o["status"]["lastAppliedRevision"]
            .as_str()
            .is_some_and(|r| r.ends_with(&second))
    })
    .await;
    let id = AppId::managed(AppSource::Flux, "", "flux-system", "web");
    let e = f.engine();

    // Sync: the reconcile request.
    let s = e.status(&id).await.expect("status");
    let preview = bodies(&confirm_managed::sync_writes(&id, Some(&s), false));
    f.sim.clear_requests();
    e.sync(&id, &SyncOptions::default()).await.expect("sync");
    assert_eq!(patches(&f, "/kustomizations/web")[..1], preview[..]);

    // Suspend.
    let preview = bodies(&confirm_managed::suspend_writes(&id));
    f.sim.clear_requests();
    e.suspend(&id).await.expect("suspend");
    assert_eq!(patches(&f, "/kustomizations/web"), preview);

    // Rollback: the pin of the GitRepository, remembering its ref.
    let s = e.status(&id).await.expect("status");
    let preview = bodies(&confirm_managed::rollback_writes(
        &id,
        Some(&s),
        &Revision::new(&first),
    ));
    f.sim.clear_requests();
    e.rollback(&id, &Revision::new(&first), false)
        .await
        .expect("rollback");
    // The pin and the source's reconcile, then (suspended above) the
    // Kustomization resumed, reconciled and suspended again, in order.
    let mut written = patches(&f, "/gitrepositories/repo");
    written.extend(patches(&f, "/kustomizations/web"));
    assert_eq!(written, preview);

    // Resume: the ref restored and the source reconciled, suspend removed,
    // a reconcile, in order.
    let s = e.status(&id).await.expect("status");
    assert!(s.paused_revision.is_some() && s.suspended, "{s:?}");
    let preview = bodies(&confirm_managed::resume_writes(&id, Some(&s)));
    f.sim.clear_requests();
    e.resume(&id).await.expect("resume");
    let mut written = patches(&f, "/gitrepositories/repo");
    written.extend(patches(&f, "/kustomizations/web"));
    assert_eq!(written, preview);
}

/// The row of an app in the apps pane (the left half at 160 columns; a
/// name there is cut at 11 columns).
/// The apps pane's row of the app at `address` (`flux/NS/NAME`): the NAME
/// column shows the address, `NS/NAME` or `NAME`, whichever fits, followed
/// by its MANAGED-BY (SOURCE) word.
fn row<'a>(screen: &'a str, address: &str) -> Option<&'a str> {
    let (source, names) = match address.split('/').collect::<Vec<_>>()[..] {
        [source, ns, name] => (
            source,
            vec![
                address.to_string(),
                format!("{ns}/{name}"),
                name.to_string(),
            ],
        ),
        _ => ("gitops", vec![address.to_string()]),
    };
    screen.lines().find(|l| {
        let pane: String = l.chars().take(80).collect();
        let words: Vec<&str> = pane.split_whitespace().collect();
        words
            .windows(2)
            .any(|w| names.iter().any(|n| n == w[0]) && w[1] == source)
    })
}

/// The TUI started on a cluster without Flux or Argo CD; their CRDs and an
/// app of each are applied with kubectl while it runs: the apps appear, and
/// leave again when a CRD is deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crds_installed_while_the_tui_runs_bring_their_apps() {
    let f = world(
        GitOpsControllers {
            flux: true,
            argocd: true,
        },
        "",
    )
    .await;
    let t = Tmux::start("late-crds", &tui_script(&f, "", ""));
    t.wait_for("the TUI up", |s| s.contains("? help"));
    ns(&f, "flux-system");
    ns(&f, "argocd");
    f.commit(&[("deploy/cm.yaml", Some(&cm("one")))], "first");
    // flux install, as far as gitops-tui cares.
    for file in ["flux-gitrepositories.yaml", "flux-kustomizations.yaml"] {
        apply_crd(&f, file);
    }
    crds::flux_app(&f, "late");
    t.wait_for("the Flux app listed and reconciled", |s| {
        row(s, "flux/flux-system/late").is_some_and(|r| r.contains("Synced"))
    });
    // Then Argo CD.
    apply_crd(&f, "argocd-applications.yaml");
    f.apply_server_side(&application(&f, None));
    t.wait_for("the Argo CD app listed", |s| {
        row(s, "argocd/argocd/web").is_some()
    });
    // Its refresh preview, opened with ctrl-r: the exact patch; h makes it hard.
    t.send(&["/", "a", "r", "g", "o", "Enter"]);
    t.wait_for("the argo filter", |s| s.contains("Apps (1/2)"));
    t.send(&["C-r"]);
    let screen = t.wait_for("the refresh preview", |s| {
        s.contains("Refresh argocd/argocd/web")
    });
    // The dialog's lines, between its double borders, joined.
    let joined: String = screen
        .lines()
        .filter_map(|l| {
            let start = l.find('║')? + '║'.len_utf8();
            let end = l.rfind('║')?;
            (end > start).then(|| l[start..end].trim().to_string())
        })
        .collect();
    assert!(
        joined.contains(&ArgoPatch::Refresh { hard: false }.body_text()),
        "{screen}"
    );
    t.send(&["h"]);
    t.wait_for("the hard refresh preview", |s| {
        s.contains("Hard refresh argocd/argocd/web")
    });
    t.send(&["y"]);
    t.wait_for("the refresh done", |s| {
        s.contains("hard-refreshed argocd/argocd/web")
    });
    t.send(&["Escape"]);
    // Argo CD uninstalled: its app leaves the list.
    f.kubectl_ok(&["delete", "crd", "applications.argoproj.io"]);
    t.wait_for("the Argo CD app gone", |s| {
        row(s, "argocd/argocd/web").is_none() && row(s, "flux/flux-system/late").is_some()
    });
    t.send(&["q"]);
}
