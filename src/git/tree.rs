//! Files under a path at a commit, read from the object database: no
//! checkout, no work tree touched, any commit of the history equally cheap.
//! Sizes are checked from object headers before a blob is loaded, symlinks
//! are reported with their target (the loader decides whether one leaves the
//! repository), and a blob missing from a partial clone or corrupt on disk
//! becomes a placeholder naming its path, so the loader can say which file
//! made the app invalid. Blob contents are checked against their ids (the
//! history walk turns libgit2's own check off process-wide).

use std::fs;
use std::path::{Path, PathBuf};

use git2::{ErrorCode, ObjectType, Odb, Oid, Repository};

use super::path::{components, entry_at, symlink_target_in_repo};
use super::GitError;

/// Files bigger than this are listed as too large, not read (10 MiB, the
/// default `max_manifest_size`).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

const TREE_MODE: i32 = 0o040000;
const LINK_MODE: i32 = 0o120000;
const COMMIT_MODE: i32 = 0o160000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    pub max_file_bytes: u64,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        }
    }
}

/// One entry under the requested path; `path` is repository-relative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    pub path: String,
    pub content: FileContent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileContent {
    Data(Vec<u8>),
    Symlink {
        target: String,
    },
    TooLarge {
        size: u64,
        limit: u64,
    },
    /// The object is not in this repository (partial clone, broken snapshot).
    Missing {
        oid: Oid,
    },
    /// The object is there but cannot be read: corrupt on disk, or its
    /// content does not hash to its id. `tree` when it is a folder.
    Unreadable {
        oid: Oid,
        reason: String,
        tree: bool,
    },
    /// A gitlink: the commit of a submodule, which has no files here.
    Submodule {
        commit: Oid,
    },
}

/// Every file under `path` at `commit`, recursively, sorted by path. A path
/// naming a single file gives that file. An absent path is an error.
pub fn files_at(
    repo: &Repository,
    commit: Oid,
    path: &str,
    limits: ReadLimits,
) -> Result<Vec<TreeFile>, GitError> {
    let comps = components(path)?;
    let root = repo.find_commit(commit)?.tree_id();
    let Some((oid, mode)) = entry_at(repo, root, &comps)? else {
        return Err(GitError::PathNotFound {
            path: path.to_string(),
            commit,
        });
    };
    let odb = repo.odb()?;
    let mut out = Vec::new();
    let prefix = comps.join("/");
    if mode == TREE_MODE {
        collect(repo, &odb, oid, &prefix, limits, &mut out)?;
    } else {
        out.push(read_entry(&odb, &prefix, oid, mode, limits)?);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

fn collect(
    repo: &Repository,
    odb: &Odb<'_>,
    tree: Oid,
    prefix: &str,
    limits: ReadLimits,
    out: &mut Vec<TreeFile>,
) -> Result<(), GitError> {
    let tree = match repo.find_tree(tree) {
        Ok(tree) => tree,
        Err(err) => {
            let content = if err.code() == ErrorCode::NotFound {
                FileContent::Missing { oid: tree }
            } else {
                FileContent::Unreadable {
                    oid: tree,
                    reason: err.message().to_string(),
                    tree: true,
                }
            };
            out.push(TreeFile {
                path: prefix.to_string(),
                content,
            });
            return Ok(());
        }
    };
    for entry in tree.iter() {
        let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
        let path = join(prefix, &name);
        if entry.kind() == Some(ObjectType::Tree) || entry.filemode() == TREE_MODE {
            collect(repo, odb, entry.id(), &path, limits, out)?;
        } else {
            out.push(read_entry(
                odb,
                &path,
                entry.id(),
                entry.filemode(),
                limits,
            )?);
        }
    }
    Ok(())
}

fn read_entry(
    odb: &Odb<'_>,
    path: &str,
    oid: Oid,
    mode: i32,
    limits: ReadLimits,
) -> Result<TreeFile, GitError> {
    let file = |content| TreeFile {
        path: path.to_string(),
        content,
    };
    if mode == COMMIT_MODE {
        return Ok(file(FileContent::Submodule { commit: oid }));
    }
    let unreadable = |err: git2::Error| {
        if err.code() == ErrorCode::NotFound {
            FileContent::Missing { oid }
        } else {
            FileContent::Unreadable {
                oid,
                reason: err.message().to_string(),
                tree: false,
            }
        }
    };
    let size = match odb.read_header(oid) {
        Ok((size, _)) => size as u64,
        Err(err) => return Ok(file(unreadable(err))),
    };
    if size > limits.max_file_bytes {
        return Ok(file(FileContent::TooLarge {
            size,
            limit: limits.max_file_bytes,
        }));
    }
    let data = match odb.read(oid) {
        Ok(object) if object.kind() == ObjectType::Blob => object.data().to_vec(),
        Ok(object) => {
            return Ok(file(FileContent::Unreadable {
                oid,
                reason: format!("a {} where a file was expected", object.kind()),
                tree: false,
            }))
        }
        Err(err) => return Ok(file(unreadable(err))),
    };
    match Oid::hash_object(ObjectType::Blob, &data) {
        Ok(id) if id == oid => {}
        Ok(id) => {
            return Ok(file(FileContent::Unreadable {
                oid,
                reason: format!("corrupt: its content hashes to {id}"),
                tree: false,
            }))
        }
        Err(err) => return Ok(file(unreadable(err))),
    }
    if mode == LINK_MODE {
        let target = String::from_utf8_lossy(&data).into_owned();
        return Ok(file(FileContent::Symlink { target }));
    }
    Ok(file(FileContent::Data(data)))
}

/// What `export_tree` wrote and what it left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    pub written: usize,
    /// (repository-relative path, reason) of every file not written.
    pub skipped: Vec<(String, String)>,
}

/// Writes the files under `path` at `commit` into `dest` (paths relative to
/// `path`), for tools such as `kubectl kustomize` that need real files. A
/// kustomize overlay often reaches `../base`, so export `""` (the whole
/// tree) and run the tool in `dest/APP_PATH` when that matters. Symlinks are
/// recreated only when they stay inside the exported tree (on Unix).
pub fn export_tree(
    repo: &Repository,
    commit: Oid,
    path: &str,
    dest: &Path,
    limits: ReadLimits,
) -> Result<ExportSummary, GitError> {
    let prefix = components(path)?.join("/");
    let files = files_at(repo, commit, path, limits)?;
    let mut summary = ExportSummary::default();
    for file in files {
        let relative = if prefix.is_empty() {
            file.path.clone()
        } else {
            match file.path.strip_prefix(&prefix) {
                Some("") => file
                    .path
                    .rsplit('/')
                    .next()
                    .unwrap_or(&file.path)
                    .to_string(),
                Some(rest) => rest.trim_start_matches('/').to_string(),
                None => file.path.clone(),
            }
        };
        let target_path = dest.join(&relative);
        let mut skip = |reason: String| summary.skipped.push((file.path.clone(), reason));
        match &file.content {
            FileContent::Data(data) => {
                write_file(&target_path, data)?;
                summary.written += 1;
            }
            FileContent::Symlink { target } => {
                let inside = symlink_target_in_repo(&file.path, target).filter(|t| {
                    prefix.is_empty() || t == &prefix || t.starts_with(&format!("{prefix}/"))
                });
                match inside {
                    Some(_) => {
                        make_symlink(target, &target_path)?;
                        summary.written += 1;
                    }
                    None => skip(format!("symlink to {target:?} leaves the exported tree")),
                }
            }
            FileContent::TooLarge { size, limit } => {
                skip(format!("{size} bytes, over the {limit}-byte limit"))
            }
            FileContent::Missing { oid } => {
                skip(format!("object {oid} missing from the repository"))
            }
            FileContent::Unreadable { oid, reason, .. } => {
                skip(format!("object {oid} cannot be read: {reason}"))
            }
            FileContent::Submodule { commit } => skip(format!("submodule at {commit}")),
        }
    }
    Ok(summary)
}

fn parent_dir(path: &Path) -> Result<(), GitError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|source| GitError::Write {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    Ok(())
}

fn write_file(path: &PathBuf, data: &[u8]) -> Result<(), GitError> {
    parent_dir(path)?;
    fs::write(path, data).map_err(|source| GitError::Write {
        path: path.clone(),
        source,
    })
}

#[cfg(unix)]
fn make_symlink(target: &str, path: &PathBuf) -> Result<(), GitError> {
    parent_dir(path)?;
    std::os::unix::fs::symlink(target, path).map_err(|source| GitError::Write {
        path: path.clone(),
        source,
    })
}

#[cfg(not(unix))]
fn make_symlink(_target: &str, path: &PathBuf) -> Result<(), GitError> {
    Err(GitError::Write {
        path: path.clone(),
        source: std::io::Error::new(std::io::ErrorKind::Unsupported, "symlinks"),
    })
}
