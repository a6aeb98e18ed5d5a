//! Issue 8, "nothing dropped silently": each input that was once dropped
//! without a word, over kube-sim and a real Git repository built with the
//! git CLI, through the engine and the binary. A file that cannot be read
//! makes the app Invalid (Unknown, nothing compared, nothing applied, the
//! attempt recorded as Failed); what is skipped on purpose is a warning in
//! every output; a folder gitops-tui cannot render is Unknown, never Synced.

mod common;

use common::{git, synced_shop, Fixture, APP, CONFIGMAP};
use gitops_tui::engine::{Engine, SyncOptions};
use gitops_tui::model::AppId;
use gitops_tui::model::AppStatus;
use gitops_tui::model::{Health, SyncStatus};
use serde_json::Value;
use std::path::PathBuf;

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Invalid: Unknown/Unknown, nothing compared (so nothing Extra), the reason
/// naming `file`.
fn assert_invalid(s: &AppStatus, file: &str, reason: &str) {
    assert_eq!((s.sync, s.health), (SyncStatus::Unknown, Health::Unknown));
    assert!(
        s.message.contains(file) && s.message.contains(reason),
        "{}",
        s.message
    );
    assert!(s.resources.is_empty(), "{:?}", s.resources);
    assert_eq!(s.counts, Default::default());
}

/// The last sync record's result, from the engine's history.
async fn last_result(engine: &Engine) -> String {
    let history = engine
        .history(&AppId::native("shop"))
        .await
        .expect("history");
    history
        .syncs
        .and_then(|s| s.last().cloned())
        .expect("a sync record")
        .result
        .to_string()
}

/// A sync that must be refused for `file`, applying nothing and recorded as
/// Failed; the binary says so on stderr with exit 2.
async fn assert_sync_refused(f: &Fixture, file: &str) {
    let engine = f.engine();
    let rv = f.rv("v1", "ConfigMap", "shop", "settings");
    let err = engine
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect_err("the sync is refused");
    assert!(err.to_string().contains(file), "{err}");
    assert_eq!(f.rv("v1", "ConfigMap", "shop", "settings"), rv);
    assert!(!f.exists("v1", "ConfigMap", "shop", "added"));
    let result = last_result(&engine).await;
    assert!(
        result.starts_with("Failed: ") && result.contains(file),
        "{result}"
    );
    let out = f.cli(&["sync", "shop"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains(file), "{}", text(&out.stderr));
}

fn cm(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: b\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_manifest_over_10_mib_makes_the_app_invalid_and_is_named() {
    let f = synced_shop(false).await;
    // 10 MiB and a little: the default limit, not a configured one.
    let big = format!("{}#{}\n", cm("big"), "x".repeat(10 << 20));
    f.commit(
        &[
            ("apps/shop/big.yaml", Some(&big)),
            ("apps/shop/added.yaml", Some(&cm("added"))),
        ],
        "shop: a huge file",
    );
    let engine = f.engine();
    let s = engine.status(&AppId::native("shop")).await.expect("status");
    assert_invalid(&s, "apps/shop/big.yaml:1", "over the 10 MiB limit");
    assert!(
        s.message.starts_with("invalid manifests: "),
        "{}",
        s.message
    );
    assert_sync_refused(&f, "apps/shop/big.yaml").await;

    let out = f.cli(&["status", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let app = &json(&out)["apps"][0];
    assert_eq!(app["sync"], "Unknown");
    assert!(
        app["message"]
            .as_str()
            .is_some_and(|m| m.contains("apps/shop/big.yaml:1: unreadable file: 10.0 MiB")),
        "{app}"
    );
    let out = f.cli(&["status"]);
    assert!(
        text(&out.stdout).contains("apps/shop/big.yaml:1"),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn max_manifest_size_is_configurable_per_app() {
    let config = APP.replace("prune = true", "prune = true\nmax_manifest_size = \"1KiB\"");
    let f = Fixture::new(&config).await;
    let padded = format!("{}#{}\n", cm("padded"), "x".repeat(1100));
    f.commit(&[("apps/shop/padded.yaml", Some(&padded))], "padded");
    let s = f
        .engine()
        .status(&AppId::native("shop"))
        .await
        .expect("status");
    assert_invalid(&s, "apps/shop/padded.yaml:1", "over the 1 KiB limit");

    let roomy = config.replace("\"1KiB\"", "\"2KiB\"");
    std::fs::write(&f.config, roomy).expect("config");
    let s = f
        .engine()
        .status(&AppId::native("shop"))
        .await
        .expect("status");
    assert_eq!(s.sync, SyncStatus::OutOfSync, "{}", s.message);
    assert_eq!(s.counts.missing, 1);

    std::fs::write(&f.config, config.replace("\"1KiB\"", "\"lots\"")).expect("config");
    let out = f.cli(&["status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("max_manifest_size") || text(&out.stderr).contains("lots"),
        "{}",
        text(&out.stderr)
    );
}

/// The loose object file of the blob `path` has at HEAD.
fn loose_object(repo: &std::path::Path, path: &str) -> PathBuf {
    let oid = git(repo, &["rev-parse", &format!("HEAD:{path}")]);
    let oid = oid.trim();
    let file = repo.join(".git/objects").join(&oid[..2]).join(&oid[2..]);
    assert!(file.exists(), "{} is loose", file.display());
    let mut perms = std::fs::metadata(&file).expect("stat").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&file, perms).expect("chmod");
    file
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_git_object_is_invalid_never_extra_and_the_sync_fails() {
    let f = synced_shop(false).await;
    f.commit(&[("apps/shop/added.yaml", Some(&cm("added")))], "added");
    let object = loose_object(&f.repo, "apps/shop/config.yaml");
    std::fs::write(&object, b"this is not a zlib stream at all").expect("corrupt");

    let engine = f.engine();
    let s = engine.status(&AppId::native("shop")).await.expect("status");
    assert_invalid(&s, "apps/shop/config.yaml:1", "cannot be read");
    assert_sync_refused(&f, "apps/shop/config.yaml").await;
    // Nothing was pruned on the basis of a file that could not be read.
    assert_eq!(f.cm_data("shop", "settings", "color"), "blue");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_git_object_with_other_content_is_caught_by_its_hash() {
    let f = synced_shop(false).await;
    // A valid loose object of another blob in the place of config.yaml's:
    // zlib inflates it fine, only its id says it is wrong.
    let other = f.dir.path().join("other.yaml");
    std::fs::write(&other, cm("impostor")).expect("write");
    let other_oid = git(
        &f.repo,
        &["hash-object", "-w", other.to_str().expect("utf-8")],
    );
    let other_oid = other_oid.trim();
    let source = f
        .repo
        .join(".git/objects")
        .join(&other_oid[..2])
        .join(&other_oid[2..]);
    let object = loose_object(&f.repo, "apps/shop/config.yaml");
    std::fs::copy(&source, &object).expect("swap");
    let engine = f.engine();
    // The history walk turns libgit2's own hash check off for the process.
    engine
        .history(&AppId::native("shop"))
        .await
        .expect("history");
    let s = engine.status(&AppId::native("shop")).await.expect("status");
    assert_invalid(
        &s,
        "apps/shop/config.yaml:1",
        "corrupt: its content hashes to",
    );
    assert!(!f.exists("v1", "ConfigMap", "shop", "impostor"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_git_object_is_invalid_and_nothing_is_pruned() {
    let f = synced_shop(false).await;
    let object = loose_object(&f.repo, "apps/shop/config.yaml");
    std::fs::remove_file(&object).expect("delete");
    let s = f
        .engine()
        .status(&AppId::native("shop"))
        .await
        .expect("status");
    assert_invalid(
        &s,
        "apps/shop/config.yaml:1",
        "is missing from the repository",
    );
    assert_sync_refused(&f, "apps/shop/config.yaml").await;
    assert!(f.exists("v1", "ConfigMap", "shop", "settings"));
}

const NO_KIND: &str = "replicaCount: 2\nimage:\n  tag: \"1.0\"\n";
const TEMPLATE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n{{- if .Values.x }}\ndata: {}\n{{- end }}\n";
const SOPS: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ndata:\n  password: ENC[AES256_GCM,data:abc,iv:x,tag:y,type:str]\nsops:\n  version: 3.8.1\n";
const CI: &str = "stages: [test]\ntest:\n  script: [cargo test]\n";

/// The four skipped inputs, each as (file, line, words of its reason).
const SKIPPED: [(&str, u64, &str); 4] = [
    (
        "apps/shop/.gitlab-ci.yml",
        1,
        "no apiVersion or kind: not a Kubernetes object",
    ),
    (
        "apps/shop/chart-values.yaml",
        2,
        "no apiVersion or kind: not a Kubernetes object",
    ),
    (
        "apps/shop/secret.yaml",
        1,
        "SOPS-encrypted Secret creds skipped",
    ),
    (
        "apps/shop/template.yaml",
        1,
        "Helm template ({{ }}): not YAML until rendered",
    ),
];

fn assert_json_warnings(warnings: &Value) {
    let got: Vec<(String, u64, String)> = warnings
        .as_array()
        .unwrap_or_else(|| panic!("warnings is an array: {warnings}"))
        .iter()
        .map(|w| {
            (
                w["file"].as_str().unwrap_or("").to_string(),
                w["line"].as_u64().unwrap_or(0),
                w["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(got.len(), SKIPPED.len(), "{warnings}");
    for ((file, line, reason), (want_file, want_line, want_reason)) in got.iter().zip(SKIPPED) {
        assert_eq!((file.as_str(), *line), (want_file, want_line), "{warnings}");
        assert!(reason.starts_with(want_reason), "{reason}");
    }
}

fn assert_text_warnings(out: &str, prefix: &str) {
    for (file, line, reason) in SKIPPED {
        let want = format!("warning: {prefix}{file}:{line}: {reason}");
        assert!(out.lines().any(|l| l.starts_with(&want)), "{want}\n{out}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn skipped_documents_and_files_are_warnings_in_every_output() {
    let f = synced_shop(false).await;
    f.commit(
        &[
            (
                "apps/shop/chart-values.yaml",
                Some(&format!("# values\n---\n{NO_KIND}")),
            ),
            ("apps/shop/template.yaml", Some(TEMPLATE)),
            ("apps/shop/secret.yaml", Some(SOPS)),
            ("apps/shop/.gitlab-ci.yml", Some(CI)),
        ],
        "shop: files that are not objects",
    );
    let s = f
        .engine()
        .status(&AppId::native("shop"))
        .await
        .expect("status");
    assert_eq!(s.sync, SyncStatus::Synced, "{}", s.message);
    assert_json_warnings(&serde_json::to_value(&s.warnings).expect("json"));

    let out = f.cli(&["status", "-o", "json"]);
    assert_json_warnings(&json(&out)["apps"][0]["warnings"]);
    let out = f.cli(&["status"]);
    assert_text_warnings(&text(&out.stdout), "app shop: ");

    let out = f.cli(&["diff", "shop", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_json_warnings(&json(&out)["warnings"]);
    let out = f.cli(&["diff", "shop"]);
    assert_text_warnings(&text(&out.stdout), "");

    let out = f.cli(&["sync", "shop", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = json(&out);
    assert_eq!(report["succeeded"], true);
    assert_json_warnings(&report["warnings"]);
    let out = f.cli(&["sync", "shop", "--dry-run"]);
    assert_text_warnings(&text(&out.stdout), "");
    // The SOPS Secret is never applied (and so never pruned).
    assert!(!f.exists("v1", "Secret", "shop", "creds"));

    // An app with nothing skipped still has the array, empty.
    f.commit(
        &[
            ("apps/shop/chart-values.yaml", None),
            ("apps/shop/template.yaml", None),
            ("apps/shop/secret.yaml", None),
            ("apps/shop/.gitlab-ci.yml", None),
        ],
        "shop: only objects",
    );
    let out = f.cli(&["status", "-o", "json"]);
    assert_eq!(json(&out)["apps"][0]["warnings"], serde_json::json!([]));
}

// A folder gitops-tui cannot render (a Helm chart without helm, a Jsonnet
// import leaving the repository) is Unknown and applies nothing: see
// tests/manifest_helm.rs and tests/manifest_jsonnet.rs, which control the
// PATH the binary sees.

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_file_of_a_kustomization_is_named_not_left_to_kustomize() {
    let f = Fixture::new(APP).await;
    f.commit(
        &[
            (
                "apps/shop/kustomization.yaml",
                Some("resources:\n  - config.yaml\n"),
            ),
            ("apps/shop/config.yaml", Some(CONFIGMAP)),
        ],
        "shop: kustomize",
    );
    let s = f
        .engine()
        .status(&AppId::native("shop"))
        .await
        .expect("status");
    assert_eq!(s.counts.missing, 1, "{}", s.message);
    let object = loose_object(&f.repo, "apps/shop/config.yaml");
    std::fs::write(&object, b"garbage").expect("corrupt");
    let s = f
        .engine()
        .status(&AppId::native("shop"))
        .await
        .expect("status");
    assert_invalid(&s, "apps/shop/config.yaml:1", "cannot be read");
    assert_sync_refused(&f, "apps/shop/config.yaml").await;
}
