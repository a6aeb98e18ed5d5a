//! Jsonnet apps rendered in process with jrsonnet (as Argo CD renders a
//! folder of `*.jsonnet` files), so users need no jsonnet binary. External
//! variables and top-level arguments come from the app's `[apps.jsonnet]`
//! table; imports resolve only inside the repository (the exported tree):
//! an import that leaves it is refused with the path it named, since a
//! manifest must never read the machine it is rendered on.

use std::any::Any;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use jrsonnet_evaluator::error::{Error as JrError, LocError};
use jrsonnet_evaluator::trace::{CompactFormat, PathResolver};
use jrsonnet_evaluator::{EvaluationState, IStr, ImportResolver, ManifestFormat};
use serde::Deserialize;

/// `[apps.jsonnet]`: what the Jsonnet files of an app are evaluated with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonnetOptions {
    /// `std.extVar` strings (`--ext-str`).
    #[serde(default)]
    pub ext_vars: BTreeMap<String, String>,
    /// `std.extVar` values given as Jsonnet code (`--ext-code`).
    #[serde(default)]
    pub ext_code: BTreeMap<String, String>,
    /// Top-level arguments, strings (`--tla-str`).
    #[serde(default)]
    pub tlas: BTreeMap<String, String>,
    /// Top-level arguments given as Jsonnet code (`--tla-code`).
    #[serde(default)]
    pub tla_code: BTreeMap<String, String>,
    /// Library folders (`-J`), relative to the repository root.
    #[serde(default)]
    pub libs: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum JsonnetError {
    #[error("{0}")]
    Evaluation(String),
    #[error("library folder {0:?} must stay inside the repository")]
    LibOutside(String),
    #[error("the output is not JSON: {0}")]
    NotJson(String),
}

/// Lexically normalised `path` (no `.`, `..` folded), or None when `..`
/// climbs above its start.
fn normalise(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    Some(out)
}

/// Resolves imports against the importing file's folder, then the library
/// folders, and never outside `root`.
struct ConfinedResolver {
    root: PathBuf,
    libs: Vec<PathBuf>,
}

impl ConfinedResolver {
    fn inside(&self, candidate: &Path) -> Option<PathBuf> {
        let normal = normalise(candidate)?;
        normal.starts_with(&self.root).then_some(normal)
    }

    fn refuse(&self, from: &Path, path: &Path) -> LocError {
        let from = from.strip_prefix(&self.root).unwrap_or(from);
        let from = if from.as_os_str().is_empty() {
            ".".to_string()
        } else {
            from.display().to_string()
        };
        LocError::new(JrError::RuntimeError(IStr::from(format!(
            "import {:?} from {from} leaves the repository: refused (imports resolve inside the repository only)",
            path.display().to_string()
        ))))
    }
}

impl ImportResolver for ConfinedResolver {
    fn resolve_file(
        &self,
        from: &Path,
        path: &Path,
    ) -> jrsonnet_evaluator::error::Result<Rc<Path>> {
        // The entry file is named relative to the repository root.
        let from = if from == Path::new(".") {
            self.root.as_path()
        } else {
            from
        };
        if path.is_absolute() {
            return Err(self.refuse(from, path));
        }
        let direct = self.inside(&from.join(path));
        let Some(direct) = direct else {
            return Err(self.refuse(from, path));
        };
        // A symlink in the tree must not lead out either.
        let real_inside = |p: &Path| {
            std::fs::canonicalize(p)
                .map(|real| {
                    std::fs::canonicalize(&self.root)
                        .map(|root| real.starts_with(root))
                        .unwrap_or(false)
                })
                .unwrap_or(false)
        };
        if direct.is_file() {
            if !real_inside(&direct) {
                return Err(self.refuse(from, path));
            }
            return Ok(direct.into());
        }
        for lib in &self.libs {
            if let Some(candidate) = self.inside(&lib.join(path)) {
                if candidate.is_file() && real_inside(&candidate) {
                    return Ok(candidate.into());
                }
            }
        }
        let shown_from = from.strip_prefix(&self.root).unwrap_or(from).to_path_buf();
        Err(LocError::new(JrError::ImportFileNotFound(
            shown_from,
            path.to_path_buf(),
        )))
    }

    fn load_file_contents(&self, resolved: &Path) -> jrsonnet_evaluator::error::Result<IStr> {
        match std::fs::read(resolved) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Ok(IStr::from(text)),
                Err(_) => Err(LocError::new(JrError::ImportBadFileUtf8(
                    resolved.to_path_buf(),
                ))),
            },
            Err(_) => Err(LocError::new(JrError::ResolvedFileNotFound(
                resolved.to_path_buf(),
            ))),
        }
    }

    unsafe fn as_any(&self) -> &dyn Any {
        // Only language bindings call this; gitops-tui has none.
        &()
    }
}

/// Evaluates `file` (repository-relative) in the tree at `root` and returns
/// its JSON value: an object, or an array of objects, as Argo CD accepts.
pub fn render_jsonnet(
    root: &Path,
    file: &str,
    opts: &JsonnetOptions,
) -> Result<serde_json::Value, JsonnetError> {
    let root = normalise(root).unwrap_or_else(|| root.to_path_buf());
    let mut libs = Vec::new();
    for lib in &opts.libs {
        let joined = root.join(lib);
        match normalise(&joined) {
            Some(p) if p.starts_with(&root) && !Path::new(lib).is_absolute() => libs.push(p),
            _ => return Err(JsonnetError::LibOutside(lib.clone())),
        }
    }
    let state = EvaluationState::default();
    state.with_stdlib();
    state.set_import_resolver(Box::new(ConfinedResolver {
        root: root.clone(),
        libs,
    }));
    state.set_trace_format(Box::new(CompactFormat {
        resolver: PathResolver::Relative(root.clone()),
        padding: 4,
    }));
    state.set_manifest_format(ManifestFormat::Json(0));
    let describe = |e: &LocError| {
        let text = state.stringify_err(e);
        let text = text.replace(&format!("{}/", root.display()), "");
        JsonnetError::Evaluation(text.trim().replace('\n', "; "))
    };
    for (name, value) in &opts.ext_vars {
        state.add_ext_str(name.as_str().into(), value.as_str().into());
    }
    for (name, code) in &opts.ext_code {
        state
            .add_ext_code(name.as_str().into(), code.as_str().into())
            .map_err(|e| describe(&e))?;
    }
    for (name, value) in &opts.tlas {
        state.add_tla_str(name.as_str().into(), value.as_str().into());
    }
    for (name, code) in &opts.tla_code {
        state
            .add_tla_code(name.as_str().into(), code.as_str().into())
            .map_err(|e| describe(&e))?;
    }
    let value = state
        .evaluate_file_raw_nocwd(Path::new(file))
        .and_then(|v| state.with_tla(v))
        .and_then(|v| state.manifest(v))
        .map_err(|e| describe(&e))?;
    serde_json::from_str(&value).map_err(|e| JsonnetError::NotJson(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_folds_dots_and_refuses_climbing_out() {
        assert_eq!(
            normalise(Path::new("/r/a/./b/../c")),
            Some(PathBuf::from("/r/a/c"))
        );
        assert_eq!(normalise(Path::new("a/../../b")), None);
    }
}
