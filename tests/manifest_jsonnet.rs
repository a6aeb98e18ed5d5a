//! Jsonnet apps rendered for real (jrsonnet, in process): a guestbook-like
//! fixture in a real Git repository compared with the objects it must
//! produce, ext-vars and top-level arguments from the config, imports of
//! `.libsonnet` files inside the repository, and imports that would leave
//! it refused with the path they named. Then the same app through the
//! binary over kube-sim: diffed, synced, Synced.

mod common;

use common::{git, Fixture};
use gitops_tui::git::ReadLimits;
use gitops_tui::manifest::{load_at_commit_with, JsonnetOptions, RenderOptions};
use serde_json::json;

const GUESTBOOK: &str = r#"local params = import 'params.libsonnet';
local k = import '../../lib/k.libsonnet';
function(replicas=1, debug=false)
  [
    k.service(params.name, params.port),
    k.deployment(params.name, std.extVar('image'), replicas) + (if debug then { metadata+: { labels+: { debug: 'true' } } } else {}),
  ]
"#;

const PARAMS: &str = "{ name: 'guestbook-ui', port: 80 }\n";

const LIB: &str = r#"{
  service(name, port):: {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: name },
    spec: { ports: [{ port: port, targetPort: port }], selector: { app: name } },
  },
  deployment(name, image, replicas):: {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: name, labels: { app: name } },
    spec: {
      replicas: replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: name, image: image, ports: [{ containerPort: 80 }] }] },
      },
    },
  },
}
"#;

/// A second file in the folder: a single object, not an array.
const REDIS: &str = "{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'guestbook-' + std.extVar('env') }, data: { tier: 'cache' } }\n";

fn repo(files: &[(&str, &str)]) -> (tempfile::TempDir, git2::Oid) {
    let dir = tempfile::tempdir().expect("tempdir");
    git(dir.path(), &["init", "-q", "-b", "main"]);
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "guestbook"]);
    let sha = git(dir.path(), &["rev-parse", "HEAD"]);
    (dir, git2::Oid::from_str(sha.trim()).expect("sha"))
}

fn guestbook_files() -> Vec<(&'static str, &'static str)> {
    vec![
        ("apps/guestbook/guestbook.jsonnet", GUESTBOOK),
        ("apps/guestbook/redis.jsonnet", REDIS),
        ("apps/guestbook/params.libsonnet", PARAMS),
        ("lib/k.libsonnet", LIB),
    ]
}

fn options(jsonnet: JsonnetOptions) -> RenderOptions {
    RenderOptions {
        release_name: "guestbook".into(),
        namespace: "guestbook".into(),
        helm: Default::default(),
        jsonnet,
    }
}

fn prod() -> JsonnetOptions {
    JsonnetOptions {
        ext_vars: [
            (
                "image".to_string(),
                "gcr.io/heptio-images/ks-guestbook-demo:0.2".to_string(),
            ),
            ("env".to_string(), "prod".to_string()),
        ]
        .into(),
        tla_code: [("replicas".to_string(), "3".to_string())].into(),
        ..Default::default()
    }
}

#[test]
fn a_guestbook_renders_to_exactly_its_objects_with_ext_vars_and_tlas() {
    let (dir, commit) = repo(&guestbook_files());
    let repo = git2::Repository::open(dir.path()).expect("open");
    let m = load_at_commit_with(
        &repo,
        commit,
        "apps/guestbook",
        ReadLimits::default(),
        &options(prod()),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<(&serde_json::Value, String)> = m
        .objects
        .iter()
        .map(|o| (&o.object, o.source.file.clone()))
        .collect();
    let want_service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "guestbook-ui"},
        "spec": {"ports": [{"port": 80, "targetPort": 80}], "selector": {"app": "guestbook-ui"}}});
    let want_deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "guestbook-ui", "labels": {"app": "guestbook-ui"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "guestbook-ui"}},
            "template": {"metadata": {"labels": {"app": "guestbook-ui"}},
                "spec": {"containers": [{"name": "guestbook-ui", "image": "gcr.io/heptio-images/ks-guestbook-demo:0.2", "ports": [{"containerPort": 80}]}]}}}});
    let want_cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "guestbook-prod"}, "data": {"tier": "cache"}});
    assert_eq!(
        got,
        vec![
            (
                &want_service,
                "apps/guestbook/guestbook.jsonnet".to_string()
            ),
            (
                &want_deployment,
                "apps/guestbook/guestbook.jsonnet".to_string()
            ),
            (&want_cm, "apps/guestbook/redis.jsonnet".to_string()),
        ]
    );
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    assert_eq!(m.jsonnet_roots, vec!["apps/guestbook"]);

    // A string TLA and the default: replicas from the function's default.
    let mut opts = prod();
    opts.tla_code.clear();
    opts.tla_code.insert("debug".into(), "true".into());
    let m = load_at_commit_with(
        &repo,
        commit,
        "apps/guestbook",
        ReadLimits::default(),
        &options(opts),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.objects[1].object["spec"]["replicas"], 1);
    assert_eq!(m.objects[1].object["metadata"]["labels"]["debug"], "true");
}

#[test]
fn a_missing_ext_var_is_an_error_naming_the_file_and_the_variable() {
    let (dir, commit) = repo(&guestbook_files());
    let repo = git2::Repository::open(dir.path()).expect("open");
    let err = load_at_commit_with(
        &repo,
        commit,
        "apps/guestbook",
        ReadLimits::default(),
        &options(JsonnetOptions::default()),
    )
    .expect_err("no ext vars");
    let msg = err.to_string();
    assert!(
        msg.starts_with("apps/guestbook/guestbook.jsonnet:1: "),
        "{msg}"
    );
    assert!(msg.contains("image"), "{msg}");
    assert!(!msg.contains("/tmp/"), "{msg}");
}

#[test]
fn imports_leaving_the_repository_are_refused_with_a_clear_message() {
    let secret = tempfile::tempdir().expect("outside");
    std::fs::write(
        secret.path().join("token.libsonnet"),
        "{ token: 'hunter2' }",
    )
    .expect("write");
    let escape = format!(
        "local t = import '../../../../../../../../../..{}/token.libsonnet';\n{{ apiVersion: 'v1', kind: 'ConfigMap', metadata: {{ name: 'x' }}, data: t }}\n",
        secret.path().display()
    );
    let absolute = format!(
        "local t = import '{}/token.libsonnet';\n{{ apiVersion: 'v1', kind: 'ConfigMap', metadata: {{ name: 'y' }}, data: t }}\n",
        secret.path().display()
    );
    for (text, named) in [
        (&escape, "../../"),
        (&absolute, secret.path().to_str().expect("utf-8")),
    ] {
        let (dir, commit) = repo(&[("apps/x/main.jsonnet", text)]);
        let repo = git2::Repository::open(dir.path()).expect("open");
        let err = load_at_commit_with(
            &repo,
            commit,
            "apps/x",
            ReadLimits::default(),
            &options(JsonnetOptions::default()),
        )
        .expect_err("refused");
        let msg = err.to_string();
        assert!(msg.starts_with("apps/x/main.jsonnet:1: "), "{msg}");
        assert!(
            msg.contains("leaves the repository: refused") && msg.contains(named),
            "{msg}"
        );
        assert!(!msg.contains("hunter2"), "{msg}");
    }
    // A library folder outside the repository is refused too.
    let (dir, commit) = repo(&guestbook_files());
    let repo = git2::Repository::open(dir.path()).expect("open");
    let mut opts = prod();
    opts.libs = vec!["../vendor".into()];
    let err = load_at_commit_with(
        &repo,
        commit,
        "apps/guestbook",
        ReadLimits::default(),
        &options(opts),
    )
    .expect_err("lib outside");
    assert!(
        err.to_string()
            .contains("library folder \"../vendor\" must stay inside the repository"),
        "{err}"
    );
}

#[test]
fn library_folders_inside_the_repository_resolve_imports() {
    let main = "local k = import 'k.libsonnet';\n[k.service('web', 8080)]\n";
    let (dir, commit) = repo(&[("apps/web/main.jsonnet", main), ("vendor/k.libsonnet", LIB)]);
    let repo = git2::Repository::open(dir.path()).expect("open");
    let opts = JsonnetOptions {
        libs: vec!["vendor".into()],
        ..Default::default()
    };
    let m = load_at_commit_with(
        &repo,
        commit,
        "apps/web",
        ReadLimits::default(),
        &options(opts),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.objects.len(), 1);
    assert_eq!(m.objects[0].object["spec"]["ports"][0]["port"], 8080);
}

const CONFIG: &str = r#"
[[apps]]
name = "guestbook"
repo = "repo"
path = "apps/guestbook"
namespace = "guestbook"
create_namespace = true
[apps.jsonnet]
ext_vars = { image = "nginx:1.27", env = "prod" }
tla_code = { replicas = "2" }
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_jsonnet_app_is_diffed_synced_and_then_synced_through_the_binary() {
    let f = Fixture::new(CONFIG).await;
    let files: Vec<(&str, Option<&str>)> = guestbook_files()
        .into_iter()
        .map(|(p, t)| (p, Some(t)))
        .collect();
    f.commit(&files, "guestbook");
    let out = f.cli(&["diff", "guestbook", "-o", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = f.cli(&["sync", "guestbook"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replicas = f.kubectl_ok(&[
        "get",
        "deploy",
        "guestbook-ui",
        "-n",
        "guestbook",
        "-o",
        "jsonpath={.spec.replicas}",
    ]);
    assert_eq!(replicas, "2");
    assert_eq!(f.cm_data("guestbook", "guestbook-prod", "tier"), "cache");
    let out = f.cli(&["status", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["apps"][0]["sync"], "Synced", "{doc}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_jsonnet_app_whose_import_escapes_is_unknown_and_applies_nothing() {
    let f = Fixture::new(CONFIG).await;
    f.commit(
        &[
            (
                "apps/guestbook/main.jsonnet",
                Some("import '../../../../../../etc/hostname'\n"),
            ),
            ("apps/guestbook/cm.yaml", Some(common::CONFIGMAP)),
        ],
        "an import that leaves the repository",
    );
    let out = f.cli(&["status", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let app = &doc["apps"][0];
    assert_eq!(
        (&app["sync"], &app["health"]),
        (&"Unknown".into(), &"Unknown".into())
    );
    let msg = app["message"].as_str().unwrap_or("");
    assert!(
        msg.starts_with("invalid manifests: apps/guestbook/main.jsonnet:1: ")
            && msg.contains("leaves the repository"),
        "{msg}"
    );
    let out = f.cli(&["sync", "guestbook"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!f.exists("v1", "Namespace", "", "guestbook"));
    assert!(!f.exists("v1", "ConfigMap", "guestbook", "settings"));
}

#[test]
fn a_symlink_in_the_work_tree_leading_out_is_refused_too() {
    use gitops_tui::manifest::load_dir;
    let outside = tempfile::tempdir().expect("outside");
    std::fs::write(
        outside.path().join("token.libsonnet"),
        "{ token: 'hunter2' }",
    )
    .expect("write");
    let (dir, _) = repo(&[(
        "apps/x/main.jsonnet",
        "local t = import 'lib.libsonnet';\n{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: t }\n",
    )]);
    std::os::unix::fs::symlink(
        outside.path().join("token.libsonnet"),
        dir.path().join("apps/x/lib.libsonnet"),
    )
    .expect("symlink");
    let err = load_dir(
        dir.path(),
        "apps/x",
        ReadLimits::default(),
        &options(JsonnetOptions::default()),
    )
    .expect_err("refused");
    let msg = err.to_string();
    assert!(msg.contains("leaves the repository: refused"), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
}
