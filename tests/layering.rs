//! The layering, enforced: main → runtime → ui → app → engine →
//! source/sync → manifest/drift/health → git/cluster/model, no arrow running
//! back up. The panes (`ui`), the reducer (`app`) and `drift` name what they
//! show through `model` alone, and `model` depends on nothing, so an import
//! of the engine, the cluster layer, the sync records or the runtime from
//! them fails here, naming the file and the line.
//!
//! It reads the sources (every `crate::…` path, in `use` lines, grouped
//! `use crate::{…}` imports spread over lines, and inline paths), so it
//! needs no build of anything and cannot be fooled by a re-export.

use std::path::{Path, PathBuf};

/// One `crate::` path's first segment and the line it starts on.
#[derive(Debug, PartialEq, Eq)]
struct CrateRef {
    line: usize,
    module: String,
}

/// The source without comments (line, doc and block), newlines kept so line
/// numbers stay right.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                    }
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

fn ident_at(text: &str, at: usize) -> String {
    text[at..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Every module a `crate::` path in `text` reaches first.
fn crate_refs(text: &str) -> Vec<CrateRef> {
    let text = strip_comments(text);
    let line_of = |at: usize| text[..at].matches('\n').count() + 1;
    let mut refs = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("crate::") {
        let start = from + found;
        from = start + "crate::".len();
        // `$crate::` in macros and `gitops_tui_crate::` are not ours.
        let before = text[..start].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if text[from..].starts_with('{') {
            // A grouped import: the first segment of each top-level item.
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in text[from..].char_indices() {
                let at = from + i;
                match c {
                    '{' => {
                        depth += 1;
                        item_start = depth == 1;
                    }
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => item_start = true,
                    c if item_start && depth == 1 && (c.is_alphanumeric() || c == '_') => {
                        refs.push(CrateRef {
                            line: line_of(at),
                            module: ident_at(&text, at),
                        });
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            refs.push(CrateRef {
                line: line_of(start),
                module: ident_at(&text, from),
            });
        }
    }
    refs
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Modules a layer must never import.
const ABOVE_OR_BESIDE_THE_PANES: &[&str] = &[
    "engine", "cluster", "sync", "runtime", "source", "git", "cli", "demo", "config",
];

/// (folder under src/, what it may not import, or the only things it may).
enum Rule {
    Forbid(&'static [&'static str]),
    Only(&'static [&'static str]),
}

fn violations() -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rules: [(&str, Rule); 4] = [
        ("ui", Rule::Forbid(ABOVE_OR_BESIDE_THE_PANES)),
        ("app", Rule::Forbid(ABOVE_OR_BESIDE_THE_PANES)),
        // drift: the model, and the manifest helpers beside it.
        ("drift", Rule::Only(&["drift", "model", "manifest"])),
        // The vocabulary depends on nothing.
        ("model", Rule::Only(&["model"])),
    ];
    let mut found = Vec::new();
    for (folder, rule) in rules {
        let mut files = Vec::new();
        rust_files(&src.join(folder), &mut files);
        assert!(!files.is_empty(), "src/{folder} has no sources");
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read source");
            for r in crate_refs(&text) {
                let bad = match &rule {
                    Rule::Forbid(list) => list.contains(&r.module.as_str()),
                    Rule::Only(list) => !list.contains(&r.module.as_str()),
                };
                if bad {
                    let shown = file
                        .strip_prefix(src.parent().expect("crate dir"))
                        .unwrap_or(&file);
                    found.push(format!(
                        "{}:{}: src/{folder} imports crate::{}",
                        shown.display(),
                        r.line,
                        r.module
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn the_panes_the_reducer_drift_and_model_import_only_what_the_layering_allows() {
    let found = violations();
    assert!(
        found.is_empty(),
        "arrows running back up the layering:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scanner_sees_every_form_of_import() {
    let text = r#"//! crate::engine in a doc comment is not an import
use crate::model::AppStatus;
use crate::{
    engine::EventRow,
    model::{Health, ResourceKey},
    cluster,
};
fn f(s: &crate::sync::record::AppRecord) {} // crate::runtime in a comment
/* crate::demo
   in a block */ const X: &str = "crate::cli in a string";
macro_rules! m { () => { $crate::git::x() } }
"#;
    let refs = crate_refs(text);
    let seen: Vec<(usize, &str)> = refs.iter().map(|r| (r.line, r.module.as_str())).collect();
    assert_eq!(
        seen,
        [
            (2, "model"),
            (4, "engine"),
            (5, "model"),
            (6, "cluster"),
            (8, "sync"),
            (10, "cli"),
        ],
        "the string literal is scanned as code on purpose: better a false alarm than a miss"
    );
}
