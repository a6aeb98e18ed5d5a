//! Property tests of the manifest loader (issue 8): whatever text a
//! repository holds, loading it never panics, and nothing vanishes: every
//! non-empty document becomes an object (a List one per item), a warning
//! or an error, at the line where it starts. Bounded to a few hundred cases
//! so they run in well under a second; a failure is kept by proptest beside
//! this file and replayed first from then on.

use gitops_tui::git::{FileContent, TreeFile};
use gitops_tui::manifest::{load_files, LoadedManifests, ManifestErrors};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// 256 cases; failures kept beside this file in
/// `tests/manifest_props.proptest-regressions` (commit it when one appears).
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

/// One document, as the generator knows it.
#[derive(Debug, Clone)]
enum Doc {
    /// A ConfigMap (`list` > 0: a List of that many ConfigMaps).
    Object { list: usize },
    /// A mapping with no apiVersion or kind.
    NoKind,
    /// A scalar or a sequence: not a mapping.
    NotAMapping { sequence: bool },
    /// A SOPS-encrypted Secret.
    Sops,
    /// `kind: List` with `items: []`: a warning, not zero objects.
    EmptyList,
    /// Nothing at all, or only a comment.
    Empty { comment: bool },
    /// apiVersion without kind: an error.
    Partial,
}

fn doc() -> impl Strategy<Value = Doc> {
    prop_oneof![
        4 => (0usize..4).prop_map(|n| Doc::Object { list: n.saturating_sub(1) }),
        2 => Just(Doc::NoKind),
        1 => any::<bool>().prop_map(|sequence| Doc::NotAMapping { sequence }),
        1 => Just(Doc::Sops),
        1 => Just(Doc::EmptyList),
        1 => any::<bool>().prop_map(|comment| Doc::Empty { comment }),
        1 => Just(Doc::Partial),
    ]
}

/// What a file of these documents must load to.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    /// (name, line) of every object.
    objects: Vec<(String, usize)>,
    /// Line of every warning.
    warnings: Vec<usize>,
    errors: bool,
}

/// The file's text and what it must give. Every document starts with its
/// own `---` line (a few with a comment after the marker); unique names.
fn render(docs: &[Doc], file_no: usize, crlf: bool) -> (String, Expected) {
    let mut lines: Vec<String> = vec!["# generated".into()];
    let mut want = Expected::default();
    for (i, d) in docs.iter().enumerate() {
        let start = lines.len() + 1;
        lines.push(if i % 3 == 1 {
            "--- # next".into()
        } else {
            "---".into()
        });
        let name = |j: usize| format!("f{file_no}-d{i}-{j}");
        let cm = |j: usize, indent: &str| {
            vec![
                format!("{indent}apiVersion: v1"),
                format!("{indent}kind: ConfigMap"),
                format!("{indent}metadata:"),
                format!("{indent}  name: {}", name(j)),
                format!("{indent}data: {{k: \"v\"}}"),
            ]
        };
        match d {
            Doc::Object { list: 0 } => {
                lines.extend(cm(0, ""));
                want.objects.push((name(0), start));
            }
            Doc::Object { list } => {
                lines.extend([
                    "apiVersion: v1".into(),
                    "kind: List".into(),
                    "items:".into(),
                ]);
                for j in 0..*list {
                    let mut item = cm(j, "  ");
                    item[0] = format!("- {}", item[0].trim_start());
                    lines.extend(item);
                    want.objects.push((name(j), start));
                }
            }
            Doc::NoKind => {
                lines.extend(["replicaCount: 2".into(), "image: {tag: \"1.0\"}".into()]);
                want.warnings.push(start);
            }
            Doc::NotAMapping { sequence: true } => {
                lines.extend(["- a".into(), "- b".into()]);
                want.warnings.push(start);
            }
            Doc::NotAMapping { sequence: false } => {
                lines.push(format!("just text {i}"));
                want.warnings.push(start);
            }
            Doc::Sops => {
                lines.extend([
                    "apiVersion: v1".into(),
                    "kind: Secret".into(),
                    format!("metadata: {{name: {}}}", name(0)),
                    "data: {p: \"ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\"}".into(),
                    "sops: {version: 3.8.1}".into(),
                ]);
                want.warnings.push(start);
            }
            Doc::EmptyList => {
                lines.extend([
                    "apiVersion: v1".into(),
                    "kind: List".into(),
                    "items: []".into(),
                ]);
                want.warnings.push(start);
            }
            Doc::Empty { comment } => {
                if *comment {
                    lines.push("# nothing here".into());
                }
            }
            Doc::Partial => {
                lines.extend([
                    "apiVersion: v1".into(),
                    format!("metadata: {{name: {}}}", name(0)),
                ]);
                want.errors = true;
            }
        }
    }
    let newline = if crlf { "\r\n" } else { "\n" };
    (lines.join(newline) + newline, want)
}

fn data(path: &str, bytes: &[u8]) -> TreeFile {
    TreeFile {
        path: path.to_string(),
        content: FileContent::Data(bytes.to_vec()),
    }
}

fn got(result: &Result<LoadedManifests, ManifestErrors>) -> Expected {
    match result {
        Err(_) => Expected {
            errors: true,
            ..Default::default()
        },
        Ok(m) => Expected {
            objects: m
                .objects
                .iter()
                .map(|o| {
                    let name = o.object["metadata"]["name"].as_str().unwrap_or("");
                    (name.to_string(), o.source.line)
                })
                .collect(),
            warnings: m.warnings.iter().map(|w| w.line.unwrap_or(0)).collect(),
            errors: false,
        },
    }
}

/// Fragments that make the YAML parser work: markers, flow and block
/// syntax, anchors, tags, templates, SOPS markers, odd numbers, CRLF.
fn fragment() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "---",
        "...",
        "--- # c",
        "\n",
        "\r\n",
        "  ",
        "\t",
        ": ",
        "- ",
        "{",
        "}",
        "[",
        "]",
        ",",
        "&a ",
        "*a",
        "<<: *a",
        "!tag ",
        "!!binary ",
        "\"",
        "'",
        "# c",
        "%YAML 1.2",
        "|",
        ">-",
        "apiVersion: v1",
        "kind: ConfigMap",
        "kind: List",
        "items:",
        "metadata:",
        "name: x",
        "namespace: y",
        "{{ .Values.x }}",
        "sops:",
        "ENC[AES256_GCM,",
        "~",
        "null",
        "0x1F",
        "1e400",
        "yes",
        "? ",
        "key",
        "\u{feff}",
        "é",
        "\0",
    ])
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_document_is_an_object_a_warning_or_an_error(
        files in prop::collection::vec(prop::collection::vec(doc(), 0..8), 1..4),
        crlf in any::<bool>(),
    ) {
        let mut tree = Vec::new();
        let mut want = Expected::default();
        let mut non_empty = 0;
        for (n, docs) in files.iter().enumerate() {
            let (text, expected) = render(docs, n, crlf);
            tree.push(data(&format!("app/f{n}.yaml"), text.as_bytes()));
            want.objects.extend(expected.objects);
            want.warnings.extend(expected.warnings);
            want.errors |= expected.errors;
            non_empty += docs
                .iter()
                .map(|d| match d {
                    Doc::Object { list } => (*list).max(1),
                    Doc::Empty { .. } => 0,
                    _ => 1,
                })
                .sum::<usize>();
        }
        let result = load_files(&tree);
        if want.errors {
            prop_assert!(result.is_err(), "{:?}", result);
        } else {
            let loaded = got(&result);
            prop_assert_eq!(loaded.objects.len() + loaded.warnings.len(), non_empty);
            prop_assert_eq!(loaded, want);
        }
    }

    #[test]
    fn yaml_made_of_tricky_fragments_never_panics_and_explains_itself(
        parts in prop::collection::vec(fragment(), 0..60),
    ) {
        let text: String = parts.concat();
        let result = load_files(&[data("app/x.yaml", text.as_bytes()), data("app/y.json", text.as_bytes())]);
        match result {
            Ok(m) => {
                for w in &m.warnings {
                    prop_assert!(w.file.is_some() && !w.reason.is_empty(), "{:?}", w);
                }
                for o in &m.objects {
                    prop_assert!(o.object.get("kind").is_some_and(|k| k.is_string()));
                    prop_assert!(o.source.line >= 1);
                }
            }
            Err(e) => {
                prop_assert!(!e.errors.is_empty());
                for err in &e.errors {
                    prop_assert!(err.file() == "app/x.yaml" || err.file() == "app/y.json", "{}", err);
                    prop_assert!(err.line() >= 1, "{}", err);
                }
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let result = load_files(&[data("app/x.yaml", &bytes)]);
        if let Err(e) = result {
            prop_assert!(!e.errors.is_empty());
        }
    }
}
