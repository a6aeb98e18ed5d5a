//! Git and manifests for the simulated GitOps controllers, with the git CLI
//! and `kubectl kustomize` (blocking; callers run it on a blocking thread):
//! resolve a reference in a local repository, pack a commit as a tarball
//! (source-controller's artifact), unpack it, and render a path of it as
//! plain YAML or, when it holds a `kustomization.yaml`, with kustomize.
//! Only local repositories are reachable: a path or a `file://` URL.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, thiserror::Error)]
pub(crate) enum GitError {
    #[error("kube-sim reaches only local repositories (a path or a file:// URL)")]
    NotLocal,
    #[error("repository not found")]
    NotFound,
    #[error("couldn't find remote ref \"{0}\"")]
    NoRef(String),
    #[error("{0}")]
    Failed(String),
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum RenderError {
    #[error("{0}")]
    Io(String),
    #[error("{file}: {message}")]
    Yaml { file: String, message: String },
    #[error("kustomize build failed: {0}")]
    Kustomize(String),
}

/// The local repository a source URL names.
pub(crate) fn local_repo(url: &str) -> Result<PathBuf, GitError> {
    let path = match url.strip_prefix("file://") {
        Some(p) => p,
        None if url.starts_with('/') => url,
        None => return Err(GitError::NotLocal),
    };
    let p = PathBuf::from(path);
    if p.exists() {
        Ok(p)
    } else {
        Err(GitError::NotFound)
    }
}

fn git(repo: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| GitError::Failed(format!("git: {e}")))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(GitError::Failed(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ))
    }
}

/// The commit a full ref name or revision points at, if any.
pub(crate) fn resolve(repo: &Path, spec: &str) -> Option<String> {
    let arg = format!("{spec}^{{commit}}");
    git(repo, &["rev-parse", "--verify", "--quiet", &arg])
        .ok()
        .map(|o| String::from_utf8_lossy(&o).trim().to_string())
        .filter(|s| s.len() == 40)
}

/// The full sha of a commit given by (a prefix of) its hash.
pub(crate) fn commit(repo: &Path, sha: &str) -> Result<String, GitError> {
    if sha.is_empty() || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(GitError::NoRef(sha.into()));
    }
    resolve(repo, sha).ok_or_else(|| GitError::NoRef(sha.into()))
}

/// A ref (`refs/heads/main`), as the remote has it.
pub(crate) fn reference(repo: &Path, full: &str) -> Result<String, GitError> {
    resolve(repo, full).ok_or_else(|| GitError::NoRef(full.into()))
}

/// The commit's tree as a gzipped tarball.
pub(crate) fn archive(repo: &Path, sha: &str) -> Result<Vec<u8>, GitError> {
    git(repo, &["archive", "--format=tar.gz", sha])
}

/// Unpack a tarball made by [`archive`] into `dir`.
pub(crate) fn extract(tarball: &[u8], dir: &Path) -> Result<(), RenderError> {
    let mut child = Command::new("tar")
        .arg("-xzf")
        .arg("-")
        .arg("-C")
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| RenderError::Io(format!("tar: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(tarball)
            .map_err(|e| RenderError::Io(format!("tar: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| RenderError::Io(format!("tar: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(RenderError::Io(format!(
            "tar: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

pub(crate) fn has_kustomization(dir: &Path) -> bool {
    KUSTOMIZATION_FILES.iter().any(|f| dir.join(f).is_file())
}

/// The objects `dir` describes: `kubectl kustomize` where there is a
/// kustomization file, else every YAML/JSON file (in sub-folders too when
/// `recurse`), documents in file order, files in name order.
pub(crate) fn render(dir: &Path, recurse: bool) -> Result<Vec<Value>, RenderError> {
    if has_kustomization(dir) {
        return kustomize(dir);
    }
    let mut files = Vec::new();
    collect(dir, recurse, &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| RenderError::Io(format!("{}: {e}", file.display())))?;
        let shown = file
            .strip_prefix(dir)
            .unwrap_or(&file)
            .display()
            .to_string();
        out.extend(documents(&text).map_err(|message| RenderError::Yaml {
            file: shown,
            message,
        })?);
    }
    Ok(out)
}

fn collect(dir: &Path, recurse: bool, out: &mut Vec<PathBuf>) -> Result<(), RenderError> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| RenderError::Io(format!("{}: {e}", dir.display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if recurse && !entry.file_name().to_string_lossy().starts_with('.') {
                collect(&path, recurse, out)?;
            }
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

fn kustomize(dir: &Path) -> Result<Vec<Value>, RenderError> {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| RenderError::Kustomize(format!("kubectl: {e}")))?;
    if !out.status.success() {
        return Err(RenderError::Kustomize(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    documents(&String::from_utf8_lossy(&out.stdout)).map_err(RenderError::Kustomize)
}

/// The objects of a multi-document YAML text (empty documents skipped,
/// `List`s flattened).
pub(crate) fn documents(text: &str) -> Result<Vec<Value>, String> {
    use serde::Deserialize;
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let v = Value::deserialize(doc).map_err(|e| e.to_string())?;
        match v {
            Value::Null => {}
            Value::Object(_) => {
                let is_list = v
                    .get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.ends_with("List"))
                    && v.get("items").is_some_and(Value::is_array);
                if is_list {
                    if let Some(items) = v.get("items").and_then(Value::as_array) {
                        out.extend(items.iter().cloned());
                    }
                } else {
                    out.push(v);
                }
            }
            _ => return Err("a document is not an object".into()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_skip_empty_ones_and_flatten_lists() {
        let text = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\n\
                    apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n";
        let docs = documents(text).expect("parses");
        let names: Vec<_> = docs
            .iter()
            .map(|d| d["metadata"]["name"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert!(documents("- 1\n").is_err());
    }

    #[test]
    fn only_local_urls_are_reachable() {
        assert!(matches!(
            local_repo("https://github.com/x/y"),
            Err(GitError::NotLocal)
        ));
        assert!(matches!(
            local_repo("file:///nonexistent/repo"),
            Err(GitError::NotFound)
        ));
    }
}
