//! `gitops-tui init` on a repository with five kinds of folders (a
//! kustomize overlay and its base, plain manifests, a Helm chart, Jsonnet)
//! beside folders that are no app (docs, CI YAML): one app per folder, paths
//! relative to the root, namespace guesses, a config that loads, and never
//! an existing file overwritten without `--force`. Then the first run: no
//! config, no apps, and `status` says in one stderr line where the config is
//! looked for and how to start.

mod common;

use common::git;
use gitops_tui::config::Config;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    git(dir.path(), &["init", "-q", "-b", "main"]);
    write(
        dir.path(),
        &[
            ("apps/web/base/kustomization.yaml", "resources:\n  - deploy.yaml\n"),
            ("apps/web/base/deploy.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n"),
            ("apps/web/overlays/prod/kustomization.yaml", "namespace: web-prod\nresources:\n  - ../../base\n"),
            ("apps/api/deploy.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api\n  namespace: backend\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: backend\n"),
            ("charts/Redis_Cache/Chart.yaml", "apiVersion: v2\nname: redis\nversion: 0.1.0\n"),
            ("charts/Redis_Cache/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"),
            ("jsonnet/guestbook/main.jsonnet", "{}\n"),
            ("jsonnet/guestbook/lib.libsonnet", "{}\n"),
            ("docs/README.md", "# docs\n"),
            (".github/workflows/ci.yml", "on: push\njobs: {}\n"),
            ("ci/pipeline.yaml", "stages: [test]\n"),
        ],
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "five kinds of folders"]);
    dir
}

fn init(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gitops-tui"))
        .current_dir(cwd)
        .arg("init")
        .args(args)
        .env_remove("GITOPS_TUI_CONFIG")
        .env_remove("COLUMNS")
        .stdin(Stdio::null())
        .output()
        .expect("gitops-tui runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn init_proposes_one_app_per_folder_and_writes_a_config_that_loads() {
    let repo = repo();
    let out_dir = tempfile::tempdir().expect("out");
    let config = out_dir.path().join("conf/config.toml");
    let c = config.to_str().expect("utf-8");
    let root = repo.path().to_str().expect("utf-8");

    // Asked, with no terminal to answer: nothing written.
    let out = init(out_dir.path(), &[root, "--config", c]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("needs confirmation: pass --yes"),
        "{}",
        text(&out.stderr)
    );
    assert!(!config.exists());

    let out = init(out_dir.path(), &[root, "--config", c, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("NAME")
            && shown.contains("web-prod")
            && shown.contains("(apps/web/base: used by another kustomization, not an app)"),
        "{shown}"
    );
    let written = std::fs::read_to_string(&config).expect("written");
    let loaded = Config::load(&config, true).unwrap_or_else(|e| panic!("{e}\n{written}"));
    let apps: Vec<(&str, &str, &str)> = loaded
        .apps
        .iter()
        .map(|a| (a.name.as_str(), a.path.as_str(), a.namespace.as_str()))
        .collect();
    assert_eq!(
        apps,
        vec![
            ("api", "apps/api", "backend"),
            ("web-prod", "apps/web/overlays/prod", "web-prod"),
            ("redis-cache", "charts/Redis_Cache", "redis-cache"),
            ("guestbook", "jsonnet/guestbook", "guestbook"),
        ]
    );
    let canonical = repo.path().canonicalize().expect("canonical");
    assert!(
        loaded.apps.iter().all(|a| Path::new(&a.repo) == canonical),
        "{written}"
    );
    assert!(
        written.contains("# plain manifests (namespace guessed from the manifests' namespace)"),
        "{written}"
    );
    assert!(
        written.contains("# helm chart (namespace guessed from the folder's name)"),
        "{written}"
    );

    // Never overwritten without --force, whatever --yes says.
    std::fs::write(&config, "# mine\n").expect("edit");
    let out = init(out_dir.path(), &[root, "--config", c, "--yes"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("exists: not overwritten (pass --force to replace it)"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&config).expect("kept"), "# mine\n");
    let out = init(
        out_dir.path(),
        &[root, "--config", c, "--yes", "--force", "-o", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["written"], true);
    assert_eq!(doc["apps"].as_array().map(Vec::len), Some(4));
    assert_eq!(doc["bases"], serde_json::json!(["apps/web/base"]));
    assert_eq!(doc["apps"][3]["kind"], "jsonnet");

    // From inside the repository, REPO defaults to the current folder.
    let other = out_dir.path().join("other.toml");
    let out = init(
        repo.path(),
        &["--config", other.to_str().expect("utf-8"), "--yes"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&other).expect("written"),
        std::fs::read_to_string(&config).expect("written")
    );

    // Not a Git repository: refused.
    let out = init(
        out_dir.path(),
        &[
            out_dir.path().to_str().expect("utf-8"),
            "--config",
            c,
            "--force",
            "--yes",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not a Git repository"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_first_run_status_says_where_the_config_is_looked_for_and_how_to_start() {
    let home = tempfile::tempdir().expect("home");
    let run = |cwd: &Path| {
        Command::new(env!("CARGO_BIN_EXE_gitops-tui"))
            .current_dir(cwd)
            .arg("status")
            .env("HOME", home.path())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("GITOPS_TUI_CONFIG")
            .env("KUBECONFIG", home.path().join("no-kubeconfig"))
            .output()
            .expect("runs")
    };
    let looked = home.path().join(".config/gitops-tui/config.toml");
    let plain = tempfile::tempdir().expect("not a repo");
    let out = run(plain.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        format!("no apps configured (config: {}): `gitops-tui init REPO` proposes apps from a Git repository; `gitops-tui demo` tries it all on an embedded cluster\n", looked.display())
    );
    let repo = repo();
    let out = run(repo.path());
    assert_eq!(
        text(&out.stderr),
        format!("no apps configured (config: {}): `gitops-tui init` proposes apps from the Git repository here; `gitops-tui demo` tries it all on an embedded cluster\n", looked.display())
    );
}
