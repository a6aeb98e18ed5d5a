//! Our side of the `helm template` contract. No machine here has helm, so
//! each test puts a stand-in `helm` (a shell script) first on the PATH of
//! the real binary it runs: the script records the arguments it was given
//! and the values files it could read, then prints canned output or fails
//! as helm does. What is tested is what gitops-tui sends (release name,
//! namespace, values files in order, `--set`) and what it makes of the
//! answer (objects named by template, errors, `helm is not installed`).

mod common;

use common::{Fixture, CONFIGMAP};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CONFIG: &str = r#"
[[apps]]
name = "web"
repo = "repo"
path = "apps/web"
namespace = "web"
create_namespace = true
[apps.helm]
release_name = "web-prod"
values_files = ["values-prod.yaml", "../shared/values-common.yaml"]
set = { "image.tag" = "1.2.3", replicas = "3" }
"#;

const CHART: &str = "apiVersion: v2\nname: web\nversion: 0.1.0\n";
const TEMPLATE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n";

/// What the stand-in prints: two templates, as helm prints them.
const OUTPUT: &str = "---\n# Source: web/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-prod\ndata:\n  tag: \"1.2.3\"\n---\n# Source: web/charts/db/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web-prod-db\nspec:\n  ports:\n  - port: 5432\n";

const STUB: &str = r#"#!/bin/sh
# Stand-in for helm: records its arguments, one a line, and the first line
# of every --values file, then answers as $STUB_MODE says.
log="$STUB_LOG"
: > "$log"
prev=""
for a in "$@"; do
  printf 'arg %s\n' "$a" >> "$log"
  if [ "$prev" = "--values" ]; then printf 'values %s\n' "$(head -n 1 "$a")" >> "$log"; fi
  prev="$a"
done
case "$STUB_MODE" in
  fail) echo 'Error: template: web/templates/cm.yaml:4:11: executing "web/templates/cm.yaml" at <.Values.missing.key>: nil pointer evaluating interface {}.key' >&2; exit 1 ;;
  *) cat "$STUB_OUTPUT" ;;
esac
"#;

struct Stub {
    bin: PathBuf,
    log: PathBuf,
    output: PathBuf,
}

fn stub(f: &Fixture, output: &str) -> Stub {
    use std::os::unix::fs::PermissionsExt;
    let bin = f.dir.path().join("stub-bin");
    std::fs::create_dir_all(&bin).expect("stub dir");
    let helm = bin.join("helm");
    std::fs::write(&helm, STUB).expect("stub");
    std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = f.dir.path().join("stub-output.yaml");
    std::fs::write(&out, output).expect("output");
    Stub {
        bin,
        log: f.dir.path().join("stub.log"),
        output: out,
    }
}

/// The real binary with `path` as its whole PATH (plus the system folders
/// when `system`), and the stand-in's environment.
fn cli(f: &Fixture, path: &Path, system: bool, mode: &str, stub: &Stub, args: &[&str]) -> Output {
    let mut search = path.display().to_string();
    if system {
        search.push_str(":/usr/local/bin:/usr/bin:/bin");
    }
    Command::new(env!("CARGO_BIN_EXE_gitops-tui"))
        .arg("--config")
        .arg(&f.config)
        .arg("--kubeconfig")
        .arg(&f.kubeconfig)
        .args(args)
        .env("PATH", search)
        .env("STUB_LOG", &stub.log)
        .env("STUB_OUTPUT", &stub.output)
        .env("STUB_MODE", mode)
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .output()
        .expect("gitops-tui runs")
}

fn chart(f: &Fixture) {
    f.commit(
        &[
            ("apps/web/Chart.yaml", Some(CHART)),
            ("apps/web/values.yaml", Some("replicas: 1\n")),
            (
                "apps/web/values-prod.yaml",
                Some("# prod values\nreplicas: 2\n"),
            ),
            ("apps/web/templates/cm.yaml", Some(TEMPLATE)),
            (
                "apps/web/charts/db/Chart.yaml",
                Some("apiVersion: v2\nname: db\nversion: 0.1.0\n"),
            ),
            (
                "apps/shared/values-common.yaml",
                Some("# common values\nteam: web\n"),
            ),
        ],
        "web: a chart with a subchart",
    );
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn helm_template_gets_release_namespace_values_in_order_and_set() {
    let f = Fixture::new(CONFIG).await;
    chart(&f);
    let s = stub(&f, OUTPUT);
    let out = cli(&f, &s.bin, true, "ok", &s, &["diff", "web", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let log = std::fs::read_to_string(&s.log).expect("the stand-in ran");
    let args: Vec<&str> = log.lines().filter_map(|l| l.strip_prefix("arg ")).collect();
    assert_eq!(args.len(), 13, "{args:?}");
    assert_eq!(&args[..2], &["template", "web-prod"]);
    // The chart folder of the exported tree, never the work tree.
    assert!(args[2].ends_with("/apps/web"), "{args:?}");
    assert!(
        !args[2].starts_with(&f.repo.display().to_string()),
        "{args:?}"
    );
    assert_eq!(&args[3..5], &["--namespace", "web"]);
    assert_eq!(args[5], "--values");
    assert!(args[6].ends_with("/apps/web/values-prod.yaml"), "{args:?}");
    assert_eq!(args[7], "--values");
    assert!(
        args[8].ends_with("/apps/shared/values-common.yaml"),
        "{args:?}"
    );
    assert_eq!(
        &args[9..],
        &["--set", "image.tag=1.2.3", "--set", "replicas=3"]
    );
    // The values files were there for helm to read, in that order.
    let values: Vec<&str> = log
        .lines()
        .filter_map(|l| l.strip_prefix("values "))
        .collect();
    assert_eq!(values, vec!["# prod values", "# common values"]);

    let doc = json(&out);
    let objects: Vec<(String, String, String)> = doc["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or("").to_string(),
                r["name"].as_str().unwrap_or("").to_string(),
                r["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        objects,
        vec![
            ("ConfigMap".into(), "web-prod".into(), "Missing".into()),
            ("Service".into(), "web-prod-db".into(), "Missing".into()),
        ]
    );

    // Synced for real, the rendered objects land in the app's namespace.
    let out = cli(&f, &s.bin, true, "ok", &s, &["sync", "web"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(f.cm_data("web", "web-prod", "tag"), "1.2.3");
    let out = cli(&f, &s.bin, true, "ok", &s, &["status", "-o", "json"]);
    assert_eq!(json(&out)["apps"][0]["sync"], "Synced", "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn release_name_defaults_to_the_app_and_no_values_means_no_flags() {
    let f = Fixture::new(
        "[[apps]]\nname = \"web\"\nrepo = \"repo\"\npath = \"apps/web\"\nnamespace = \"team-a\"\n",
    )
    .await;
    chart(&f);
    let s = stub(&f, OUTPUT);
    let out = cli(&f, &s.bin, true, "ok", &s, &["diff", "web", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let log = std::fs::read_to_string(&s.log).expect("ran");
    let args: Vec<&str> = log.lines().filter_map(|l| l.strip_prefix("arg ")).collect();
    assert_eq!(args.len(), 5, "{args:?}");
    assert_eq!(args[1], "web");
    assert_eq!(&args[3..], &["--namespace", "team-a"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn rendered_objects_are_named_by_template_and_bad_output_is_an_error_there() {
    let f = Fixture::new(CONFIG).await;
    chart(&f);
    let bad = format!("{OUTPUT}---\n# Source: web/templates/broken.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n");
    let s = stub(&f, &bad);
    let out = cli(&f, &s.bin, true, "ok", &s, &["status", "-o", "json"]);
    let app = &json(&out)["apps"][0];
    assert_eq!(app["sync"], "Unknown");
    let msg = app["message"].as_str().expect("message");
    assert!(
        msg.starts_with("invalid manifests: apps/web/templates/broken.yaml:"),
        "{msg}"
    );
    // A duplicate across two templates names both.
    let dup = format!("{OUTPUT}---\n# Source: web/templates/again.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-prod\n");
    std::fs::write(&s.output, dup).expect("output");
    let out = cli(&f, &s.bin, true, "ok", &s, &["status", "-o", "json"]);
    let msg = json(&out)["apps"][0]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        msg.contains("apps/web/templates/again.yaml:")
            && msg.contains("first defined at apps/web/templates/cm.yaml:"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_helm_is_an_error_naming_the_chart_and_helms_message() {
    let f = Fixture::new(CONFIG).await;
    chart(&f);
    f.commit(
        &[("apps/web/extra.yaml", Some(CONFIGMAP))],
        "a plain file beside",
    );
    let s = stub(&f, OUTPUT);
    let out = cli(&f, &s.bin, true, "fail", &s, &["diff", "web"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("apps/web/Chart.yaml")
            && err.contains("`helm template` failed")
            && err.contains("nil pointer evaluating"),
        "{err}"
    );
    // The temporary export is never shown.
    assert!(!err.contains("/tmp/"), "{err}");
    let out = cli(&f, &s.bin, true, "fail", &s, &["sync", "web"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!f.exists("v1", "Namespace", "", "web"));
    assert!(!f.exists("v1", "ConfigMap", "web", "settings"));
}

#[tokio::test(flavor = "multi_thread")]
async fn values_files_outside_the_repository_or_missing_are_refused_before_helm_runs() {
    let outside = CONFIG.replace("../shared/values-common.yaml", "../../../etc/passwd");
    let f = Fixture::new(&outside).await;
    chart(&f);
    let s = stub(&f, OUTPUT);
    let out = cli(&f, &s.bin, true, "ok", &s, &["diff", "web"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("values file \"../../../etc/passwd\" must stay inside the repository"),
        "{err}"
    );
    assert!(!s.log.exists(), "helm ran");
    let missing = CONFIG.replace("values-prod.yaml", "values-staging.yaml");
    std::fs::write(&f.config, missing).expect("config");
    let out = cli(&f, &s.bin, true, "ok", &s, &["diff", "web"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("values file apps/web/values-staging.yaml does not exist"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_helm_the_app_is_unknown_helm_is_not_installed_never_synced() {
    let f = Fixture::new(CONFIG).await;
    chart(&f);
    let s = stub(&f, OUTPUT);
    let empty = f.dir.path().join("empty-bin");
    std::fs::create_dir_all(&empty).expect("dir");
    let out = cli(&f, &empty, false, "ok", &s, &["status", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let app = &json(&out)["apps"][0];
    assert_eq!(
        (&app["sync"], &app["health"]),
        (&"Unknown".into(), &"Unknown".into())
    );
    assert_eq!(
        app["message"],
        "cannot render: apps/web/Chart.yaml: Helm chart: helm is not installed"
    );
    let out = cli(&f, &empty, false, "ok", &s, &["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Unknown") && text.contains("helm is not installed"),
        "{text}"
    );
    let out = cli(&f, &empty, false, "ok", &s, &["sync", "web"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("helm is not installed"),
        "{}",
        stderr(&out)
    );
    assert!(!f.exists("v1", "Namespace", "", "web"));
}
