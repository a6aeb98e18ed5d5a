//! Nothing taken: a sync never adopts silently, never takes another app's
//! object, never writes outside the app's boundaries, and prune deletes only
//! what the app created (a Namespace or CRD only when nothing else goes with
//! it). Each case of issue 8 (items 1–4, 7, 9) over kube-sim, real Git and
//! the real kubectl setting up hostile state.

mod common;

use common::*;
use gitops_tui::engine::{EngineError, SyncOptions, SyncReport};
use gitops_tui::model::AppId;

const WEB: &str = r#"
[[apps]]
name = "web"
repo = "repo"
path = "apps/web"
namespace = "web"
create_namespace = true
prune = true
"#;

const TWO_APPS: &str = r#"
[[apps]]
name = "web"
repo = "repo"
path = "apps/web"
namespace = "web"
create_namespace = true
prune = true

[[apps]]
name = "api"
repo = "repo"
path = "apps/api"
namespace = "web"
prune = true
"#;

fn cm(name: &str, key: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  {key}: \"{value}\"\n"
    )
}

fn action_of<'a>(r: &'a SyncReport, kind: &str, name: &str) -> Option<&'a str> {
    r.resources
        .iter()
        .find(|x| x.key.kind == kind && x.key.name == name)
        .map(|x| x.action.as_str())
}

const NAMESPACE_WEB: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n";

/// The web app (OWN_NS: no create_namespace) whose Git holds its own
/// Namespace and one ConfigMap `settings`, committed, not synced.
async fn app_with_its_namespace() -> Fixture {
    let f = Fixture::new(OWN_NS).await;
    f.commit(
        &[
            ("apps/web/ns.yaml", Some(NAMESPACE_WEB)),
            ("apps/web/config.yaml", Some(&cm("settings", "a", "1"))),
        ],
        "web with its namespace",
    );
    f
}

/// The web app whose Git holds `theirs` (a ConfigMap that already exists,
/// made with kubectl create) in a.yaml and `ours` in b.yaml.
async fn web_with_foreign(theirs: &str, ours: &str) -> Fixture {
    let f = Fixture::new(WEB).await;
    f.kubectl_ok(&["create", "namespace", "web"]);
    f.kubectl_ok(&[
        "create",
        "configmap",
        theirs,
        "-n",
        "web",
        "--from-literal=x=1",
    ]);
    f.commit(
        &[
            ("apps/web/a.yaml", Some(&cm(theirs, "x", "2"))),
            ("apps/web/b.yaml", Some(&cm(ours, "y", "1"))),
        ],
        "web",
    );
    f
}

async fn sync(f: &Fixture, app: &str, opts: SyncOptions) -> SyncReport {
    f.engine()
        .sync(&AppId::native(app), &opts)
        .await
        .expect("sync runs")
}

fn labels(f: &Fixture, args: &[&str]) -> String {
    let mut a = vec!["get"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["-o", "jsonpath={.metadata.labels}"]);
    f.kubectl_ok(&a)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_namespace_kube_system_in_git_is_refused_and_never_labelled_or_pruned() {
    let f = Fixture::new(WEB).await;
    f.commit(
        &[
            ("apps/web/config.yaml", Some(&cm("settings", "a", "1"))),
            (
                "apps/web/ns.yaml",
                Some("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kube-system\n"),
            ),
        ],
        "web with kube-system",
    );
    let err = f
        .engine()
        .sync(&AppId::native("web"), &SyncOptions::default())
        .await
        .expect_err("refused");
    assert!(matches!(err, EngineError::OutOfBounds { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("apps/web/ns.yaml:1: Namespace kube-system: a Namespace object for kube-system belongs to the cluster"),
        "{text}"
    );
    assert!(!labels(&f, &["ns", "kube-system"]).contains("gitops-tui.dev/app"));
    assert!(
        !f.exists("v1", "ConfigMap", "web", "settings"),
        "nothing applied"
    );

    // The CLI: exit 2, the file and line on the first line of stderr.
    let out = f.cli(&["sync", "web"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .lines()
            .next()
            .unwrap_or("")
            .contains("apps/web/ns.yaml:1"),
        "{stderr}"
    );

    // status warns before anyone syncs.
    let status = f
        .engine()
        .status(&AppId::native("web"))
        .await
        .expect("status");
    assert!(
        status
            .warnings
            .iter()
            .any(|w| w.reason.contains("Namespace kube-system")
                && w.file.as_deref() == Some("apps/web/ns.yaml")),
        "{:?}",
        status.warnings
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kube_system_labelled_by_an_older_version_is_never_pruned() {
    // What a version before the boundary rules left behind: kube-system
    // applied by gitops-tui's field manager and labelled as the app's.
    let f = app_with_its_namespace().await;
    assert!(sync(&f, "web", SyncOptions::default()).await.succeeded);
    let old = f.dir.path().join("kube-system.yaml");
    std::fs::write(
        &old,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kube-system\n  labels:\n    gitops-tui.dev/app: web\n",
    )
    .expect("write");
    f.kubectl_ok(&[
        "apply",
        "--server-side",
        "--field-manager=gitops-tui",
        "-f",
        old.to_str().unwrap_or_default(),
    ]);
    let report = sync(&f, "web", SyncOptions::default()).await;
    assert!(report.succeeded, "{report:?}");
    assert_eq!(action_of(&report, "Namespace", "kube-system"), Some("kept"));
    assert!(f.exists("v1", "Namespace", "", "kube-system"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_object_is_adopted_only_with_consent_and_released_not_pruned() {
    let f = Fixture::new(WEB).await;
    f.kubectl_ok(&["create", "namespace", "web"]);
    f.kubectl_ok(&[
        "create",
        "configmap",
        "settings",
        "-n",
        "web",
        "--from-literal=theirs=kept",
        "--from-literal=a=0",
    ]);
    f.commit(
        &[
            ("apps/web/config.yaml", Some(&cm("settings", "a", "1"))),
            ("apps/web/other.yaml", Some(&cm("other", "b", "2"))),
        ],
        "web",
    );

    // status (what the TUI's confirm dialog lists) names the takeover.
    let status = f
        .engine()
        .status(&AppId::native("web"))
        .await
        .expect("status");
    let takeover = status
        .resources
        .iter()
        .find(|r| r.key.name == "settings")
        .and_then(|r| r.takeover.clone());
    assert_eq!(
        takeover,
        Some(gitops_tui::model::Takeover::Adopt {
            managers: vec!["kubectl-create (Update)".into()]
        })
    );

    let diff = f.cli(&["diff", "web", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&diff.stdout).expect("diff json");
    let settings = doc["resources"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["name"] == "settings"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        settings["takeover"],
        serde_json::json!({"kind": "adopt", "managers": ["kubectl-create (Update)"]})
    );

    let text = String::from_utf8_lossy(&f.cli(&["diff", "web"]).stdout).into_owned();
    assert!(
        text.contains(
            "=== ConfigMap web/settings (OutOfSync; adopt (managed by kubectl-create (Update)))"
        ),
        "{text}"
    );

    // The preview lists the adoption with its current managers.
    let preview = sync(
        &f,
        "web",
        SyncOptions {
            dry_run: true,
            ..Default::default()
        },
    )
    .await;
    assert!(preview.succeeded, "{preview:?}");
    let adopt = preview
        .resources
        .iter()
        .find(|r| r.key.name == "settings")
        .expect("settings in the preview");
    assert_eq!(adopt.action, "would be adopted");
    assert!(
        adopt.message.contains("kubectl-create (Update)"),
        "{}",
        adopt.message
    );

    // Without --adopt: refused, nothing applied, no label added.
    let refused = sync(&f, "web", SyncOptions::default()).await;
    assert!(!refused.succeeded);
    assert_eq!(
        action_of(&refused, "ConfigMap", "settings"),
        Some("refused")
    );
    assert!(
        !f.exists("v1", "ConfigMap", "web", "other"),
        "nothing applied"
    );
    assert!(!labels(&f, &["cm", "settings", "-n", "web"]).contains("gitops-tui.dev/app"));
    let out = f.cli(&["sync", "web"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("ConfigMap web/settings refused"),
        "{stdout}"
    );
    assert!(stdout.contains("--adopt"), "{stdout}");

    // With --adopt: taken over, said so, recorded as adopted.
    let out = f.cli(&["sync", "web", "--adopt"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("ConfigMap web/settings adopted"),
        "{stdout}"
    );
    assert_eq!(f.cm_data("web", "settings", "a"), "1");
    assert!(labels(&f, &["cm", "settings", "-n", "web"]).contains("gitops-tui.dev/app"));

    // Gone from Git: released (label removed), not deleted; keys it never
    // owned are still there.
    f.commit(&[("apps/web/config.yaml", None)], "drop settings");
    let report = sync(&f, "web", SyncOptions::default()).await;
    assert!(report.succeeded, "{report:?}");
    assert_eq!(
        action_of(&report, "ConfigMap", "settings"),
        Some("released")
    );
    assert!(f.exists("v1", "ConfigMap", "web", "settings"));
    assert_eq!(f.cm_data("web", "settings", "theirs"), "kept");
    assert!(!labels(&f, &["cm", "settings", "-n", "web"]).contains("gitops-tui.dev/app"));
    // Released means no longer the app's: not Extra, not pruned again.
    let status = f
        .engine()
        .status(&AppId::native("web"))
        .await
        .expect("status");
    assert!(status.resources.iter().all(|r| r.key.name != "settings"));
}

#[tokio::test(flavor = "multi_thread")]
async fn another_apps_object_is_never_taken_even_with_adopt() {
    let f = Fixture::new(TWO_APPS).await;
    f.commit(
        &[
            ("apps/web/config.yaml", Some(&cm("shared", "a", "1"))),
            ("apps/api/config.yaml", Some(&cm("shared", "a", "2"))),
            ("apps/api/own.yaml", Some(&cm("api-own", "b", "2"))),
        ],
        "two apps, one name",
    );
    let first = sync(&f, "web", SyncOptions::default()).await;
    assert!(first.succeeded, "{first:?}");
    for adopt in [false, true] {
        let r = sync(
            &f,
            "api",
            SyncOptions {
                adopt,
                ..Default::default()
            },
        )
        .await;
        assert!(!r.succeeded);
        let failed = r
            .resources
            .iter()
            .find(|x| x.key.name == "shared")
            .expect("shared named");
        assert_eq!(failed.action, "failed");
        assert!(
            failed.message.contains("belongs to app web") && failed.message.contains("not to api"),
            "{}",
            failed.message
        );
        assert!(
            !f.exists("v1", "ConfigMap", "web", "api-own"),
            "nothing applied"
        );
    }
    assert_eq!(f.cm_data("web", "shared", "a"), "1");
    assert!(labels(&f, &["cm", "shared", "-n", "web"]).contains("web"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_record_namespace_and_other_namespaces_are_out_of_bounds() {
    let f = Fixture::new(TWO_APPS).await;
    f.kubectl_ok(&["create", "namespace", "web"]);
    f.commit(
        &[("apps/api/config.yaml", Some(&cm("own", "a", "1")))],
        "api",
    );
    let ok = sync(&f, "api", SyncOptions::default()).await;
    assert!(ok.succeeded, "{ok:?}");
    let record_before = f.rv("v1", "ConfigMap", "gitops-tui", "app-api");
    assert!(record_before.is_some());
    // web's Git holds a ConfigMap named like api's record, in the record namespace.
    f.commit(
        &[(
            "apps/web/evil.yaml",
            Some("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-api\n  namespace: gitops-tui\ndata:\n  suspended: \"true\"\n"),
        ),
        ("apps/web/billing.yaml", Some("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: billing\n"))],
        "web writes into the record namespace",
    );
    let err = f
        .engine()
        .sync(&AppId::native("web"), &SyncOptions::default())
        .await
        .expect_err("refused");
    let text = err.to_string();
    assert!(
        text.contains("2 object(s) outside the app's boundaries"),
        "{text}"
    );
    assert!(text.contains("apps/web/evil.yaml:1: ConfigMap gitops-tui/app-api: namespace gitops-tui is the record namespace"), "{text}");
    assert!(
        text.contains("namespace billing is outside the app's namespaces (web)"),
        "{text}"
    );
    assert_eq!(
        f.rv("v1", "ConfigMap", "gitops-tui", "app-api"),
        record_before
    );
}

const OWN_NS: &str = r#"
[[apps]]
name = "web"
repo = "repo"
path = "apps/web"
namespace = "web"
prune = true
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_namespace_is_pruned_only_when_nothing_else_goes_with_it() {
    let f = Fixture::new(OWN_NS).await;
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n";
    f.commit(
        &[
            ("apps/web/ns.yaml", Some(ns)),
            ("apps/web/config.yaml", Some(&cm("settings", "a", "1"))),
            ("apps/web/README.md", Some("The web app.\n")),
        ],
        "web with its namespace",
    );
    let first = sync(&f, "web", SyncOptions::default()).await;
    assert!(first.succeeded, "{first:?}");
    f.kubectl_ok(&[
        "create",
        "configmap",
        "manual",
        "-n",
        "web",
        "--from-literal=x=1",
    ]);

    // The Namespace leaves Git, the ConfigMap stays desired: deleting the
    // namespace would take both the desired object and the manual one.
    f.commit(&[("apps/web/ns.yaml", None)], "drop the namespace");
    let r = sync(&f, "web", SyncOptions::default()).await;
    assert!(r.succeeded, "{r:?}");
    let kept = r
        .resources
        .iter()
        .find(|x| x.key.kind == "Namespace")
        .expect("namespace reported");
    assert_eq!(kept.action, "kept");
    assert!(
        kept.message.contains("ConfigMap web/manual"),
        "{}",
        kept.message
    );
    assert!(
        kept.message.contains("ConfigMap web/settings"),
        "{}",
        kept.message
    );
    assert!(f.exists("v1", "Namespace", "", "web"));
    assert!(f.exists("v1", "ConfigMap", "web", "manual"));

    // Everything of the app gone from Git, the manual object still there: kept.
    f.commit(&[("apps/web/config.yaml", None)], "drop everything");
    let r = sync(&f, "web", SyncOptions::default()).await;
    assert_eq!(action_of(&r, "ConfigMap", "settings"), Some("pruned"));
    assert_eq!(action_of(&r, "Namespace", "web"), Some("kept"));
    assert!(f.exists("v1", "ConfigMap", "web", "manual"));

    // Once the manual object is gone, the namespace the app created goes too.
    f.kubectl_ok(&["delete", "configmap", "manual", "-n", "web"]);
    let r = sync(&f, "web", SyncOptions::default()).await;
    assert_eq!(action_of(&r, "Namespace", "web"), Some("pruned"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crd_is_kept_while_custom_resources_of_it_exist() {
    let f = Fixture::new(OWN_NS).await;
    let crd = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"#;
    f.commit(
        &[
            ("apps/web/crd.yaml", Some(crd)),
            ("apps/web/config.yaml", Some(&cm("settings", "a", "1"))),
        ],
        "a CRD",
    );
    f.kubectl_ok(&["create", "namespace", "web"]);
    let first = sync(&f, "web", SyncOptions::default()).await;
    assert!(first.succeeded, "{first:?}");
    let widget = f.dir.path().join("widget.yaml");
    std::fs::write(
        &widget,
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: default\n",
    )
    .expect("write");
    f.kubectl_ok(&["apply", "-f", widget.to_str().unwrap_or_default()]);
    f.commit(&[("apps/web/crd.yaml", None)], "drop the CRD");
    let r = sync(&f, "web", SyncOptions::default()).await;
    let kept = r
        .resources
        .iter()
        .find(|x| x.key.kind == "CustomResourceDefinition")
        .expect("crd reported");
    assert_eq!(kept.action, "kept", "{r:?}");
    assert!(
        kept.message.contains("Widget default/w"),
        "{}",
        kept.message
    );
    assert!(f.exists(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "",
        "widgets.example.com"
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_object_with_and_without_its_namespace_is_a_duplicate() {
    let f = Fixture::new(WEB).await;
    let with_ns = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: web\ndata:\n  a: \"1\"\n";
    f.commit(
        &[
            ("apps/web/a.yaml", Some(with_ns)),
            ("apps/web/b.yaml", Some(&cm("settings", "a", "2"))),
        ],
        "the same object twice",
    );
    let err = f
        .engine()
        .sync(&AppId::native("web"), &SyncOptions::default())
        .await
        .expect_err("duplicate");
    let text = err.to_string();
    assert!(
        text.contains("apps/web/b.yaml:1: duplicate object ConfigMap web/settings, first defined at apps/web/a.yaml:1"),
        "{text}"
    );
    assert!(!f.exists("v1", "ConfigMap", "web", "settings"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_of_a_new_app_reports_what_its_new_namespace_would_hold() {
    let f = app_with_its_namespace().await;
    let out = f.cli(&["sync", "web", "--dry-run"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Namespace web would be created"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ConfigMap web/settings would be created: namespace created by this sync"),
        "{stdout}"
    );
    assert!(!stdout.contains("stage one created"), "{stdout}");
    assert!(
        !f.exists("v1", "Namespace", "", "web"),
        "a dry run creates nothing"
    );
    let json = f.cli(&["sync", "web", "--dry-run", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(v["stage_one_created"], serde_json::json!([]));
    // And the real sync then does what the dry run said.
    let real = sync(&f, "web", SyncOptions::default()).await;
    assert!(real.succeeded, "{real:?}");
    assert_eq!(action_of(&real, "ConfigMap", "settings"), Some("created"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_that_fails_part_way_still_records_what_it_adopted() {
    let f = web_with_foreign("a-theirs", "b-ours").await;
    // b-ours passes its dry-run, then its real apply is refused.
    f.sim.inject(
        kube_sim::Fault::status(422)
            .on("PATCH", "/namespaces/web/configmaps/b-ours")
            .after(1)
            .times(1),
    );
    let r = sync(
        &f,
        "web",
        SyncOptions {
            adopt: true,
            ..Default::default()
        },
    )
    .await;
    assert!(!r.succeeded, "{r:?}");
    assert_eq!(action_of(&r, "ConfigMap", "a-theirs"), Some("adopted"));
    assert_eq!(action_of(&r, "ConfigMap", "b-ours"), Some("failed"));
    let inventory = f.cm_data("gitops-tui", "app-web", "inventory");
    assert!(
        inventory.contains("a-theirs") && inventory.contains("adopted"),
        "{inventory}"
    );
    // So once a-theirs leaves Git it is released, not deleted.
    f.commit(&[("apps/web/a.yaml", None)], "drop a");
    let r = sync(&f, "web", SyncOptions::default()).await;
    assert!(r.succeeded, "{r:?}");
    assert_eq!(action_of(&r, "ConfigMap", "a-theirs"), Some("released"));
    assert!(f.exists("v1", "ConfigMap", "web", "a-theirs"));
}

#[tokio::test(flavor = "multi_thread")]
async fn prune_adopted_deletes_what_was_adopted_when_asked() {
    let f = web_with_foreign("theirs", "ours").await;
    let out = f.cli(&["sync", "web", "--adopt"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    f.commit(&[("apps/web/a.yaml", None)], "drop theirs");
    let preview = f.cli(&["sync", "web", "--prune-adopted", "--dry-run"]);
    let text = String::from_utf8_lossy(&preview.stdout);
    assert!(
        text.contains("ConfigMap web/theirs would be pruned"),
        "{text}"
    );
    assert!(f.exists("v1", "ConfigMap", "web", "theirs"));
    let out = f.cli(&["sync", "web", "--prune-adopted"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("ConfigMap web/theirs pruned"), "{text}");
    assert!(!f.exists("v1", "ConfigMap", "web", "theirs"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_previews_adoptions_and_takes_them_only_with_adopt() {
    let f = Fixture::new(WEB).await;
    let old = f.commit(
        &[
            ("apps/web/a.yaml", Some(&cm("ours", "x", "1"))),
            ("apps/web/b.yaml", Some(&cm("later-theirs", "y", "1"))),
        ],
        "old",
    );
    f.commit(&[("apps/web/b.yaml", None)], "drop b");
    assert!(sync(&f, "web", SyncOptions::default()).await.succeeded);
    // Someone creates what the old commit has, outside the app.
    f.kubectl_ok(&[
        "create",
        "configmap",
        "later-theirs",
        "-n",
        "web",
        "--from-literal=y=0",
    ]);

    let preview = f.cli(&["rollback", "web", "--to", &old, "--dry-run"]);
    let text = String::from_utf8_lossy(&preview.stdout);
    assert!(
        text.contains(
            "ConfigMap web/later-theirs (OutOfSync; adopt (managed by kubectl-create (Update)))"
        ),
        "{text}"
    );
    let refused = f.cli(&["rollback", "web", "--to", &old, "--yes"]);
    let text = String::from_utf8_lossy(&refused.stdout);
    assert_eq!(refused.status.code(), Some(1), "{text}");
    assert!(
        text.contains("ConfigMap web/later-theirs refused"),
        "{text}"
    );
    assert_eq!(f.cm_data("web", "later-theirs", "y"), "0");
    let taken = f.cli(&["rollback", "web", "--to", &old, "--yes", "--adopt"]);
    let text = String::from_utf8_lossy(&taken.stdout);
    assert_eq!(taken.status.code(), Some(0), "{text}");
    assert!(
        text.contains("ConfigMap web/later-theirs adopted"),
        "{text}"
    );
    assert_eq!(f.cm_data("web", "later-theirs", "y"), "1");
}
