//! The manifest loader against small inline fixtures: every rule of issue 3
//! and every item of the "YAML a loader must survive" list.

use gitops_tui::git::{FileContent, Oid, TreeFile};
use gitops_tui::manifest::{
    load_files, load_rendered, LoadedManifests, ManifestError, ManifestErrors,
};
use serde_json::json;

fn file(path: &str, text: &str) -> TreeFile {
    TreeFile {
        path: path.to_string(),
        content: FileContent::Data(text.as_bytes().to_vec()),
    }
}

fn load(files: &[(&str, &str)]) -> Result<LoadedManifests, ManifestErrors> {
    let files: Vec<TreeFile> = files.iter().map(|(p, t)| file(p, t)).collect();
    load_files(&files)
}

fn ok(files: &[(&str, &str)]) -> LoadedManifests {
    match load(files) {
        Ok(m) => m,
        Err(e) => panic!("unexpected errors: {e}"),
    }
}

fn names(m: &LoadedManifests) -> Vec<String> {
    m.objects
        .iter()
        .map(|o| o.object["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn cm(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n")
}

#[test]
fn document_markers_everywhere() {
    let text = "--- # leading marker with a comment\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  script: |\n    echo start\n    ---\n    echo end\n---\n---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n---\n";
    let m = ok(&[("apps/web/cm.yaml", text)]);
    assert_eq!(names(&m), vec!["a", "b"]);
    assert_eq!(
        m.objects[0].object["data"]["script"],
        "echo start\n---\necho end\n"
    );
    assert_eq!(
        (m.objects[0].source.line, m.objects[0].source.doc_index),
        (1, 0)
    );
    assert_eq!(
        (m.objects[1].source.line, m.objects[1].source.doc_index),
        (14, 3)
    );
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
}

#[test]
fn implicit_first_document_starts_at_its_first_line() {
    let text = format!("# header\n\n{}---\n{}", cm("a"), cm("b"));
    let m = ok(&[("x.yaml", &text)]);
    assert_eq!(m.objects[0].source.line, 3);
    assert_eq!(m.objects[1].source.line, 7);
}

#[test]
fn anchors_aliases_and_merge_keys() {
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: &labels\n    app: web\nspec:\n  selector:\n    matchLabels: *labels\n  template:\n    metadata:\n      labels:\n        <<: *labels\n        tier: front\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels: &labels\n    app: other\ndata: *labels\n";
    let m = ok(&[("d.yaml", text)]);
    let d = &m.objects[0].object;
    assert_eq!(d["spec"]["selector"]["matchLabels"], json!({"app": "web"}));
    assert_eq!(
        d["spec"]["template"]["metadata"]["labels"],
        json!({"app": "web", "tier": "front"})
    );
    // The second document redefines the anchor.
    assert_eq!(m.objects[1].object["data"], json!({"app": "other"}));
}

#[test]
fn yaml_1_1_scalars_stay_strings() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: on\n  b: yes\n  c: no\n  d: =\n  e: off\n";
    let m = ok(&[("c.yaml", text)]);
    assert_eq!(
        m.objects[0].object["data"],
        json!({"a": "on", "b": "yes", "c": "no", "d": "=", "e": "off"})
    );
}

#[test]
fn custom_tags_in_non_kubernetes_files() {
    let mkdocs = "site_name: x\nmarkdown_extensions:\n  - pymdownx.emoji:\n      emoji_generator: !!python/name:material.extensions.emoji.to_svg\n";
    let app = "database: !env_var DB_URL\nother: !custom {a: 1}\n";
    let m = ok(&[
        ("mkdocs.yml", mkdocs),
        ("config/app.yaml", app),
        ("cm.yaml", &cm("a")),
    ]);
    assert_eq!(names(&m), vec!["a"]);
    assert_eq!(m.warnings.len(), 2);
}

#[test]
fn non_kubernetes_yaml_is_skipped_with_reasons() {
    let values = "replicaCount: 2\nimage:\n  tag: 1.0\n";
    let workflow = "name: ci\non:\n  push:\n    branches: [main]\njobs:\n  build:\n    runs-on: ubuntu-latest\n";
    let sops_cfg = "creation_rules:\n  - path_regex: .*\\.yaml\n    age: age1xyz\n";
    let taskfile = "version: '3'\ntasks:\n  default:\n    cmds: [echo hi]\n";
    let m = ok(&[
        ("apps/web/values.yaml", values),
        (".github/workflows/ci.yml", workflow),
        (".sops.yaml", sops_cfg),
        ("Taskfile.yml", taskfile),
        ("apps/web/cm.yaml", &cm("a")),
        ("apps/web/README.md", "# not yaml {{ }} ---"),
    ]);
    assert_eq!(names(&m), vec!["a"]);
    assert_eq!(m.warnings.len(), 4);
    assert!(m
        .warnings
        .iter()
        .all(|s| s.reason.contains("no apiVersion or kind") && s.line == Some(1)));
}

#[test]
fn kustomization_files_are_never_objects_and_mark_roots() {
    let kust = "resources:\n  - deploy.yaml\n";
    let kust_with_type =
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n";
    let m = ok(&[
        ("apps/web/base/kustomization.yaml", kust),
        ("apps/web/base/deploy.yaml", &cm("from-base")),
        ("apps/web/overlays/prod/kustomization.yml", kust_with_type),
        ("apps/web/overlays/prod/nested/Kustomization", kust),
        ("apps/web/plain/cm.yaml", &cm("plain")),
    ]);
    assert_eq!(names(&m), vec!["plain"]);
    assert_eq!(
        m.kustomize_roots,
        vec!["apps/web/base", "apps/web/overlays/prod"]
    );
    let root = ok(&[("kustomization.yaml", kust), ("a.yaml", &cm("a"))]);
    assert_eq!(root.kustomize_roots, vec![""]);
    assert!(root.objects.is_empty());
}

#[test]
fn kustomization_kind_is_told_apart_by_group() {
    let flux = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  path: ./apps\n  postBuild:\n    substitute:\n      cluster: prod\n";
    let kustomize_cfg =
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nmetadata:\n  name: apps\n";
    let m = ok(&[
        ("clusters/prod/apps.yaml", flux),
        ("components/c.yaml", kustomize_cfg),
    ]);
    assert_eq!(m.objects.len(), 1);
    assert_eq!(m.objects[0].identity().group, "kustomize.toolkit.fluxcd.io");
    assert!(m.warnings[0].reason.contains("kustomize configuration"));

    // Same kind and name in two groups is not a duplicate.
    let other = "apiVersion: example.com/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\n";
    let m = ok(&[("a.yaml", flux), ("b.yaml", other)]);
    assert_eq!(m.objects.len(), 2);
}

#[test]
fn loose_helm_templates_are_warnings_and_literal_braces_are_kept() {
    let template = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n{{- if .Values.x }}\nspec: {}\n{{- end }}\n";
    let m = ok(&[
        ("loose/template.yaml", template),
        ("loose/ok.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: alerts\ndata:\n  msg: \"{{ $labels.instance }} is down\"\n  tpl: |\n    {{ define \"x\" }}hi{{ end }}\n"),
    ]);
    assert_eq!(names(&m), vec!["alerts"]);
    assert_eq!(
        m.objects[0].object["data"]["msg"],
        "{{ $labels.instance }} is down"
    );
    let reasons: Vec<_> = m.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        reasons,
        vec!["loose/template.yaml:1: Helm template ({{ }}): not YAML until rendered"]
    );
}

#[test]
fn a_helm_chart_folder_is_a_helm_root_its_templates_not_loaded_as_plain_files() {
    let chart = "apiVersion: v2\nname: web\nversion: 0.1.0\n";
    let template =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n";
    let m = ok(&[
        ("charts/web/Chart.yaml", chart),
        ("charts/web/templates/deploy.yaml", template),
        ("charts/web/values.yaml", "a: 1\n"),
        ("charts/web/charts/db/Chart.yaml", chart),
        ("plain/cm.yaml", &cm("a")),
    ]);
    // Rendered by `helm template` (render.rs); only the plain file loads here.
    assert_eq!(m.helm_roots, vec!["charts/web"]);
    assert_eq!(names(&m), vec!["a"]);
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    // A chart at the app's root, too.
    let m = ok(&[("Chart.yml", chart), ("values.yaml", "a: 1\n")]);
    assert_eq!(m.helm_roots, vec![""]);
    // Inside a kustomize root it is kustomize's business (helmCharts).
    let m = ok(&[
        ("k/kustomization.yaml", "resources: []\n"),
        ("k/charts/web/Chart.yaml", chart),
    ]);
    assert_eq!(m.kustomize_roots, vec!["k"]);
    assert!(m.helm_roots.is_empty());
}

#[test]
fn a_jsonnet_folder_is_a_jsonnet_root_and_yaml_beside_it_is_not_loaded_twice() {
    let m = ok(&[
        ("app/main.jsonnet", "{ kind: 'ConfigMap' }"),
        ("app/lib/util.libsonnet", "{}"),
        ("app/other.JSONNET", "{}"),
        ("app/cm.yaml", &cm("a")),
    ]);
    assert_eq!(m.jsonnet_roots, vec!["app"]);
    assert!(m.objects.is_empty());
    // Two separate folders; a broken YAML file elsewhere is still reported.
    let err = load(&[
        ("a/x.jsonnet", "{}"),
        ("b/y.jsonnet", "{}"),
        ("c/bad.yaml", "a: [unclosed\n"),
    ])
    .unwrap_err();
    assert_eq!(err.errors.len(), 1, "{err}");
    assert!(!err.only_unsupported());
}

#[test]
fn flux_substitutions_stay_literal() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: ${NS}\ndata:\n  a: ${VAR}\n  b: ${VAR:=default}\n  c: \"${cluster_name:-x}\"\n";
    let m = ok(&[("c.yaml", text)]);
    assert_eq!(
        m.objects[0].object["data"],
        json!({"a": "${VAR}", "b": "${VAR:=default}", "c": "${cluster_name:-x}"})
    );
    assert_eq!(m.objects[0].identity().namespace.as_deref(), Some("${NS}"));
}

#[test]
fn sops_documents_are_skipped_with_a_warning_and_their_identity() {
    let sops = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: web\ndata:\n  password: ENC[AES256_GCM,data:abc,iv:x,tag:y,type:str]\nsops:\n  version: 3.8.1\n";
    let enc_only = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: other\nstringData:\n  k: ENC[AES256_GCM,data:zz]\n";
    let m = ok(&[(
        "s.yaml",
        &format!("{}---\n{sops}---\n{enc_only}", cm("plain")),
    )]);
    assert_eq!(names(&m), vec!["plain"]);
    let ids: Vec<_> = m
        .sops_skipped
        .iter()
        .map(|s| {
            (
                s.identity.kind.as_str(),
                s.identity.name.as_str(),
                s.source.line,
            )
        })
        .collect();
    assert_eq!(ids, vec![("Secret", "creds", 5), ("Secret", "other", 15)]);
    assert_eq!(m.warnings.len(), 2);
    let first = m.warnings[0].to_string();
    assert!(
        first.starts_with("s.yaml:5: SOPS-encrypted Secret web/creds"),
        "{first}"
    );
    assert!(first.contains("never applied, never pruned"), "{first}");
}

#[test]
fn git_crypt_and_binary_files_are_errors() {
    let files = vec![
        TreeFile {
            path: "secret.yml".into(),
            content: FileContent::Data(b"\0GITCRYPT\0\x12\x34".to_vec()),
        },
        TreeFile {
            path: "bin.yaml".into(),
            content: FileContent::Data(vec![0xff, 0xfe, b'a']),
        },
        TreeFile {
            path: "logo.png".into(),
            content: FileContent::Data(vec![0, 1, 2]),
        },
    ];
    let err = load_files(&files).unwrap_err();
    assert_eq!(err.errors.len(), 2);
    assert!(
        err.to_string().contains("secret.yml:1") && err.to_string().contains("git-crypt"),
        "{err}"
    );
    assert!(err.to_string().contains("bin.yaml:1"), "{err}");
}

#[test]
fn crlf_tabs_and_no_final_newline() {
    let crlf = "apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: crlf\r\ndata:\r\n  a: \"x\"\r\n---\r\napiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: crlf2";
    let tabs = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tabs\ndata:\n  a: one\ttwo\n  b:\t\"x\"\n  c: |\n    first\n    \tthen a tab\n  d: trailing\t\n";
    let m = ok(&[("a.yaml", crlf), ("b.yaml", tabs)]);
    assert_eq!(names(&m), vec!["crlf", "crlf2", "tabs"]);
    assert_eq!(m.objects[1].source.line, 7);
    assert_eq!(m.objects[2].object["data"]["a"], "one\ttwo");
    assert_eq!(m.objects[2].object["data"]["c"], "first\n\tthen a tab\n");
}

#[test]
fn large_missing_and_corrupt_files_are_errors_naming_the_file() {
    let unreadable = |path: &str, content: FileContent| TreeFile {
        path: path.into(),
        content,
    };
    let files = vec![
        file("a.yaml", &cm("a")),
        unreadable(
            "crds.yaml",
            FileContent::TooLarge {
                size: 50 << 20,
                limit: 10 << 20,
            },
        ),
        unreadable(
            "gone.yaml",
            FileContent::Missing {
                oid: Oid::ZERO_SHA1,
            },
        ),
        unreadable(
            "sub",
            FileContent::Unreadable {
                oid: Oid::ZERO_SHA1,
                reason: "inflate failed".into(),
                tree: true,
            },
        ),
        // Not a manifest and not used by any renderer: cannot change the app.
        unreadable(
            "logo.png",
            FileContent::TooLarge {
                size: 50 << 20,
                limit: 10 << 20,
            },
        ),
    ];
    let err = load_files(&files).unwrap_err();
    let messages: Vec<String> = err.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        messages,
        vec![
            "crds.yaml:1: unreadable file: 50 MiB (52428800 bytes), over the 10 MiB limit (max_manifest_size)".to_string(),
            format!("gone.yaml:1: unreadable file: Git object {} is missing from the repository (partial clone or broken copy?)", Oid::ZERO_SHA1),
            format!("sub:1: unreadable file: Git object {} cannot be read: inflate failed", Oid::ZERO_SHA1),
        ]
    );
    // Inside a kustomize root any file may be an input: an error too.
    let err = load_files(&[
        file("k/kustomization.yaml", "resources: []\n"),
        unreadable(
            "k/data.bin",
            FileContent::Missing {
                oid: Oid::ZERO_SHA1,
            },
        ),
    ])
    .unwrap_err();
    assert_eq!(err.errors[0].file(), "k/data.bin");
}

#[test]
fn submodules_empty_lists_and_null_json_are_warnings() {
    let files = vec![
        TreeFile {
            path: "vendor/lib".into(),
            content: FileContent::Submodule {
                commit: Oid::ZERO_SHA1,
            },
        },
        file("list.yaml", "apiVersion: v1\nkind: List\nitems: []\n"),
        file("null.json", "null"),
        file("a.yaml", &cm("a")),
    ];
    let m = load_files(&files).unwrap();
    assert_eq!(names(&m), vec!["a"]);
    let warnings: Vec<String> = m.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        warnings,
        vec![
            "list.yaml:1: List with no items".to_string(),
            "null.json:1: null: not a Kubernetes object".to_string(),
            format!(
                "vendor/lib: submodule at {}: its files are not loaded",
                Oid::ZERO_SHA1
            ),
        ]
    );
}

#[test]
fn only_one_of_api_version_and_kind_is_an_error_with_file_and_line() {
    let text = format!(
        "{}---\napiVersion: v1\nmetadata:\n  name: x\n---\nkind: Pod\n",
        cm("a")
    );
    let err = load(&[("apps/x.yaml", &text)]).unwrap_err();
    assert_eq!(err.errors.len(), 2);
    assert_eq!(
        (err.errors[0].file(), err.errors[0].line()),
        ("apps/x.yaml", 5)
    );
    assert_eq!(err.errors[1].line(), 9);
    assert!(
        err.to_string()
            .contains("apps/x.yaml:5: document has apiVersion but no kind"),
        "{err}"
    );
}

#[test]
fn duplicates_are_errors_naming_both_places() {
    let ns = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: x\n";
    let err = load(&[
        ("a.yaml", &cm("a")),
        ("b/c.yaml", &format!("{}---\n{}", cm("b"), cm("a"))),
        ("d.yaml", ns),
    ])
    .unwrap_err();
    assert_eq!(err.errors.len(), 1);
    match &err.errors[0] {
        ManifestError::Duplicate {
            file, line, first, ..
        } => {
            assert_eq!((file.as_str(), *line), ("b/c.yaml", 5));
            assert_eq!((first.file.as_str(), first.line), ("a.yaml", 1));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_yaml_is_an_error_with_its_line_and_all_errors_are_listed() {
    let bad = format!(
        "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  a: [1, 2\n  b: 3\n",
        cm("a")
    );
    let dup_key = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  name: d\n";
    let err = load(&[
        ("bad.yaml", &bad),
        ("dupkey.yaml", dup_key),
        ("ok.yaml", &cm("z")),
    ])
    .unwrap_err();
    assert_eq!(err.errors.len(), 2, "{err}");
    assert_eq!(err.errors[0].file(), "bad.yaml");
    assert!(err.errors[0].line() >= 10, "{err}");
    assert_eq!(err.errors[1].file(), "dupkey.yaml");
    assert!(matches!(err.errors[0], ManifestError::InvalidYaml { .. }));
}

#[test]
fn symlinks_leaving_the_repository_are_errors() {
    let files = vec![
        file("apps/web/a.yaml", &cm("a")),
        TreeFile {
            path: "apps/web/evil.yaml".into(),
            content: FileContent::Symlink {
                target: "../../../etc/passwd".into(),
            },
        },
        TreeFile {
            path: "apps/web/abs.yaml".into(),
            content: FileContent::Symlink {
                target: "/etc/passwd".into(),
            },
        },
        TreeFile {
            path: "apps/web/shared.yaml".into(),
            content: FileContent::Symlink {
                target: "../shared/cm.yaml".into(),
            },
        },
    ];
    let err = load_files(&files).unwrap_err();
    assert_eq!(err.errors.len(), 2);
    assert!(err
        .errors
        .iter()
        .all(|e| matches!(e, ManifestError::SymlinkEscapes { .. })));
    let ok = load_files(&[files[0].clone(), files[3].clone()]).unwrap();
    assert_eq!(ok.warnings.len(), 1);
    assert!(ok.warnings[0].reason.contains("symlink"));
}

#[test]
fn stable_order_json_lists_and_names() {
    let json_obj = r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}}"#;
    let list = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: l1}\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: l2}\n";
    let m = ok(&[
        ("z/last.yaml", &cm("z")),
        ("a/b.json", json_obj),
        ("a/list.yml", list),
        ("dashboards/d.json", r#"{"title": "grafana"}"#),
    ]);
    assert_eq!(names(&m), vec!["j", "l1", "l2", "z"]);
    let err = load(&[("n.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n")]).unwrap_err();
    assert!(
        err.to_string()
            .contains("n.yaml:1: ConfigMap has no metadata.name"),
        "{err}"
    );
    let err = load(&[("bad.json", "{\"a\": \n")]).unwrap_err();
    assert!(err.to_string().contains("bad.json:"), "{err}");
}

#[test]
fn rendered_output_uses_the_source_directory() {
    let text = format!("{}---\n{}", cm("a"), cm("b"));
    let m = load_rendered(&text, "apps/web/overlays/prod").unwrap();
    assert_eq!(m.objects[1].source.file, "apps/web/overlays/prod");
    assert_eq!(m.objects[1].source.line, 5);
    let err = load_rendered(&format!("{}---\n{}", cm("a"), cm("a")), "k").unwrap_err();
    assert!(err.to_string().contains("duplicate"));
}
