//! The loading rules, applied file by file and document by document into one
//! accumulator, so duplicates are found across plain files and rendered
//! kustomize output alike and every error of the app is reported together.

use std::collections::HashMap;

use serde_yaml::Value;

use super::size::ByteSize;
use super::yaml::{is_sops, parse_documents, to_json};
use super::{
    LoadedManifests, ManifestError, ManifestErrors, ManifestObject, SopsSkipped, SourceRef, Warning,
};
use crate::git::{symlink_target_in_repo, FileContent, TreeFile};
use crate::model::ResourceKey;

const KUSTOMIZATION_NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];
const CHART_NAMES: &[&str] = &["Chart.yaml", "Chart.yml"];
const KUSTOMIZE_GROUP: &str = "kustomize.config.k8s.io";

fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn is_under(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Keeps the outermost directories only.
fn outermost(mut dirs: Vec<String>) -> Vec<String> {
    dirs.sort();
    dirs.dedup();
    let mut out: Vec<String> = Vec::new();
    for dir in dirs {
        if !out.iter().any(|o| is_under(&dir, o)) {
            out.push(dir);
        }
    }
    out
}

fn manifest_extension(path: &str) -> Option<bool> {
    let lower = base_name(path).to_ascii_lowercase();
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        Some(false)
    } else if lower.ends_with(".json") {
        Some(true)
    } else {
        None
    }
}

fn is_jsonnet(path: &str) -> bool {
    base_name(path).to_ascii_lowercase().ends_with(".jsonnet")
}

/// Why a listed file has no content to load, if it has none.
fn unreadable_reason(content: &FileContent) -> Option<String> {
    match content {
        FileContent::TooLarge { size, limit } => Some(format!(
            "{} ({size} bytes), over the {} limit (max_manifest_size)",
            ByteSize(*size),
            ByteSize(*limit)
        )),
        FileContent::Missing { oid } => Some(format!(
            "Git object {oid} is missing from the repository (partial clone or broken copy?)"
        )),
        FileContent::Unreadable { oid, reason, .. } => {
            Some(format!("Git object {oid} cannot be read: {reason}"))
        }
        FileContent::Data(_) | FileContent::Symlink { .. } | FileContent::Submodule { .. } => None,
    }
}

/// Collects objects, skips, warnings and errors for one app.
#[derive(Default)]
pub struct Loader {
    out: LoadedManifests,
    errors: Vec<ManifestError>,
    seen: HashMap<ResourceKey, SourceRef>,
    jsonnet_files: Vec<String>,
}

/// Loads the manifests among `files` (as listed by `git::files_at`).
pub fn load_files(files: &[TreeFile]) -> Result<LoadedManifests, ManifestErrors> {
    let mut loader = Loader::new();
    loader.add_files(files);
    loader.finish()
}

/// Loads rendered output (e.g. of `kubectl kustomize`), recording `source`
/// (the kustomization directory) as the file of every object.
pub fn load_rendered(text: &str, source: &str) -> Result<LoadedManifests, ManifestErrors> {
    let mut loader = Loader::new();
    loader.add_rendered(text, source);
    loader.finish()
}

impl Loader {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn finish(self) -> Result<LoadedManifests, ManifestErrors> {
        if self.errors.is_empty() {
            Ok(self.out)
        } else {
            Err(ManifestErrors {
                errors: self.errors,
            })
        }
    }

    /// Kustomize roots found so far (outermost, repository-relative).
    pub fn kustomize_roots(&self) -> &[String] {
        &self.out.kustomize_roots
    }

    /// Helm chart folders found so far (outermost, outside kustomize roots).
    pub fn helm_roots(&self) -> &[String] {
        &self.out.helm_roots
    }

    /// Every `*.jsonnet` file of the Jsonnet folders, each rendered alone.
    pub fn jsonnet_files(&self) -> &[String] {
        &self.jsonnet_files
    }

    /// Adds a rendered JSON value (a Jsonnet file's output): an object, or
    /// an array of them (nested arrays flattened), each from `file`.
    pub fn add_json_value(&mut self, file: &str, value: serde_json::Value) {
        match value {
            serde_json::Value::Array(items) => {
                if items.is_empty() {
                    self.skip(file, 1, "an empty array: no objects");
                }
                let mut stack: Vec<serde_json::Value> = items.into_iter().rev().collect();
                let mut index = 0;
                while let Some(item) = stack.pop() {
                    match item {
                        serde_json::Value::Array(inner) => stack.extend(inner.into_iter().rev()),
                        other => {
                            self.add_json_doc(file, 1, index, other);
                            index += 1;
                        }
                    }
                }
            }
            other => self.add_json_doc(file, 1, 0, other),
        }
    }

    pub fn warn(&mut self, warning: Warning) {
        self.out.warnings.push(warning);
    }

    /// Records an error found outside the loader (a failed render, say).
    pub fn push_error(&mut self, error: ManifestError) {
        self.errors.push(error);
    }

    pub fn add_files(&mut self, files: &[TreeFile]) {
        let mut sorted: Vec<&TreeFile> = files.iter().collect();
        sorted.sort_by(|a, b| a.path.cmp(&b.path));
        let data_named = |names: &[&str]| -> Vec<String> {
            sorted
                .iter()
                .filter(|f| names.contains(&base_name(&f.path)))
                .map(|f| dir_of(&f.path).to_string())
                .collect()
        };
        let roots = outermost(data_named(KUSTOMIZATION_NAMES));
        let outside_roots = |dir: &String| !roots.iter().any(|r| is_under(dir, r) || dir == r);
        let charts: Vec<String> = outermost(data_named(CHART_NAMES))
            .into_iter()
            .filter(outside_roots)
            .collect();
        let jsonnet_dirs: Vec<String> = outermost(
            sorted
                .iter()
                .filter(|f| is_jsonnet(&f.path))
                .map(|f| dir_of(&f.path).to_string())
                .collect(),
        )
        .into_iter()
        .filter(outside_roots)
        .filter(|d| !charts.iter().any(|c| is_under(d, c) || d == c))
        .collect();
        // Rendered later from the exported tree (helm template, jrsonnet):
        // their files are not plain objects.
        self.out.helm_roots.extend(charts.iter().cloned());
        self.out.jsonnet_roots.extend(jsonnet_dirs.iter().cloned());
        self.jsonnet_files.extend(
            sorted
                .iter()
                .filter(|f| is_jsonnet(&f.path))
                .filter(|f| jsonnet_dirs.iter().any(|d| is_under(&f.path, d)))
                .map(|f| f.path.clone()),
        );
        for file in sorted {
            let inside = |dirs: &[String]| {
                let dir = dir_of(&file.path);
                dirs.iter().any(|d| d == dir || is_under(&file.path, d))
            };
            if let FileContent::Symlink { target } = &file.content {
                if symlink_target_in_repo(&file.path, target).is_none() {
                    self.errors.push(ManifestError::SymlinkEscapes {
                        file: file.path.clone(),
                        target: target.clone(),
                    });
                    continue;
                }
            }
            let rendered = inside(&roots) || inside(&charts) || inside(&jsonnet_dirs);
            let manifest = manifest_extension(&file.path);
            // A file that could not be read is an error wherever it could be
            // an input: a manifest, anything a kustomization may use, or a
            // whole folder. Only a non-manifest file beside plain manifests
            // (a README, an image) cannot change what the app is.
            if let Some(reason) = unreadable_reason(&file.content) {
                let folder = matches!(file.content, FileContent::Unreadable { tree: true, .. });
                if manifest.is_some() || rendered || folder {
                    self.errors.push(ManifestError::Unreadable {
                        file: file.path.clone(),
                        reason,
                    });
                }
                continue;
            }
            if rendered {
                continue;
            }
            if let FileContent::Submodule { commit } = &file.content {
                self.warn(Warning::in_file(
                    &file.path,
                    format!("submodule at {commit}: its files are not loaded"),
                ));
                continue;
            }
            let Some(json) = manifest else {
                continue;
            };
            match &file.content {
                FileContent::Data(bytes) => self.add_bytes(&file.path, bytes, json),
                FileContent::Symlink { target } => {
                    self.skip(
                        &file.path,
                        1,
                        &format!("symlink to {target:?}: not followed"),
                    );
                }
                _ => {}
            }
        }
        self.out.kustomize_roots.extend(roots);
    }

    pub fn add_rendered(&mut self, text: &str, source: &str) {
        self.add_yaml(source, text, false);
    }

    fn skip(&mut self, file: &str, line: usize, reason: &str) {
        self.out.warnings.push(Warning::at(file, line, reason));
    }

    fn add_bytes(&mut self, file: &str, bytes: &[u8], json: bool) {
        let unreadable = |reason: &str| ManifestError::Unreadable {
            file: file.to_string(),
            reason: reason.to_string(),
        };
        if bytes.starts_with(b"\0GITCRYPT") {
            self.errors
                .push(unreadable("git-crypt encrypted (binary) content"));
            return;
        }
        if bytes.iter().take(8000).any(|b| *b == 0) {
            self.errors.push(unreadable("binary content"));
            return;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            self.errors.push(unreadable("not valid UTF-8"));
            return;
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if json {
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(value) => self.add_json_doc(file, 1, 0, value),
                Err(err) => self.errors.push(ManifestError::InvalidYaml {
                    file: file.to_string(),
                    line: err.line(),
                    column: err.column(),
                    message: format!("invalid JSON: {err}"),
                }),
            }
        } else {
            self.add_yaml(file, text, true);
        }
    }

    fn add_yaml(&mut self, file: &str, text: &str, may_be_template: bool) {
        let docs = parse_documents(text);
        let templated = may_be_template && text.contains("{{");
        if templated {
            let broken = docs.iter().any(|d| match &d.value {
                Err(_) => true,
                Ok(v) => to_json(v).is_err(),
            });
            if broken {
                self.skip(file, 1, "Helm template ({{ }}): not YAML until rendered");
                return;
            }
        }
        for (index, doc) in docs.into_iter().enumerate() {
            match doc.value {
                Ok(value) => self.add_yaml_doc(file, doc.line, index, value),
                Err(err) => self.errors.push(ManifestError::InvalidYaml {
                    file: file.to_string(),
                    line: err.line,
                    column: err.column,
                    message: err.message,
                }),
            }
        }
    }

    fn add_yaml_doc(&mut self, file: &str, line: usize, doc_index: usize, mut value: Value) {
        if value.is_null() {
            return;
        }
        if let Err(err) = value.apply_merge() {
            self.errors.push(ManifestError::InvalidYaml {
                file: file.to_string(),
                line,
                column: 0,
                message: format!("merge key: {err}"),
            });
            return;
        }
        let source = SourceRef {
            file: file.to_string(),
            line,
            doc_index,
        };
        if value.is_mapping() && is_sops(&value) {
            let identity = to_json(&value).map(|j| ResourceKey::of(&j)).ok();
            let what = match &identity {
                Some(id) if !id.kind.is_empty() => {
                    self.out.sops_skipped.push(SopsSkipped {
                        identity: id.clone(),
                        source: source.clone(),
                    });
                    id.dotted()
                }
                _ => "document".to_string(),
            };
            self.skip(
                file,
                line,
                &format!(
                    "SOPS-encrypted {what} skipped: gitops-tui cannot decrypt it (never applied, never pruned)"
                ),
            );
            return;
        }
        match to_json(&value) {
            Ok(json) => self.add_json_doc(file, line, doc_index, json),
            Err(message) => self.errors.push(ManifestError::InvalidObject {
                file: file.to_string(),
                line,
                message,
            }),
        }
    }

    fn add_json_doc(
        &mut self,
        file: &str,
        line: usize,
        doc_index: usize,
        value: serde_json::Value,
    ) {
        let source = SourceRef {
            file: file.to_string(),
            line,
            doc_index,
        };
        if value.is_null() {
            self.skip(file, line, "null: not a Kubernetes object");
            return;
        }
        let Some(map) = value.as_object() else {
            self.skip(file, line, "not a mapping: not a Kubernetes object");
            return;
        };
        let invalid = |message: String| ManifestError::InvalidObject {
            file: file.to_string(),
            line,
            message,
        };
        let api_version = map.get("apiVersion");
        let kind = map.get("kind");
        match (api_version, kind) {
            (None, None) => {
                self.skip(file, line, "no apiVersion or kind: not a Kubernetes object");
                return;
            }
            (Some(_), None) | (None, Some(_)) => {
                let (present, missing) = if kind.is_none() {
                    ("apiVersion", "kind")
                } else {
                    ("kind", "apiVersion")
                };
                self.errors.push(ManifestError::PartialTypeMeta {
                    file: file.to_string(),
                    line,
                    present,
                    missing,
                });
                return;
            }
            (Some(a), Some(k)) => {
                let ok = a.as_str().is_some_and(|s| !s.is_empty())
                    && k.as_str().is_some_and(|s| !s.is_empty());
                if !ok {
                    self.errors.push(invalid(
                        "apiVersion and kind must be non-empty strings".into(),
                    ));
                    return;
                }
            }
        }
        let identity = ResourceKey::of(&value);
        if identity.group == KUSTOMIZE_GROUP {
            self.skip(file, line, "kustomize configuration, not a cluster object");
            return;
        }
        if identity.group.is_empty() && identity.kind.ends_with("List") {
            if let Some(items) = map.get("items").and_then(|i| i.as_array()) {
                if items.is_empty() {
                    self.skip(file, line, &format!("{} with no items", identity.kind));
                }
                for item in items.clone() {
                    self.add_json_doc(file, line, doc_index, item);
                }
                return;
            }
        }
        if identity.name.is_empty() {
            self.errors
                .push(invalid(format!("{} has no metadata.name", identity.kind)));
            return;
        }
        if let Some(first) = self.seen.get(&identity) {
            self.errors.push(ManifestError::Duplicate {
                file: file.to_string(),
                line,
                identity,
                first: first.clone(),
            });
            return;
        }
        self.seen.insert(identity, source.clone());
        self.out.objects.push(ManifestObject {
            object: value,
            source,
        });
    }
}
