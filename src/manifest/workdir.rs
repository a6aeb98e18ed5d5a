//! The files of a folder on disk listed as `git::files_at` lists a commit's,
//! so `diff --local` loads a work tree (uncommitted and untracked changes
//! included) through exactly the rules a commit goes through. `.git` and
//! what Git ignores are left out, as `git status` leaves them out.

use std::path::Path;

use crate::git::{FileContent, ReadLimits, TreeFile};

/// Every file under `root/app_path`, paths relative to `root`.
pub fn files_in_dir(
    root: &Path,
    app_path: &str,
    limits: ReadLimits,
) -> Result<Vec<TreeFile>, String> {
    let start = if app_path.is_empty() {
        root.to_path_buf()
    } else {
        root.join(app_path)
    };
    if !start.is_dir() {
        return Err(format!("{} is not a folder", start.display()));
    }
    let repo = git2::Repository::open(root).ok();
    let mut out = Vec::new();
    let mut pending = vec![start];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
            let path = entry.path();
            let Ok(rel) = path.strip_prefix(root) else {
                continue;
            };
            let rel_str = rel.to_string_lossy().replace('\\', "/");
            if entry.file_name() == ".git" {
                continue;
            }
            if let Some(repo) = &repo {
                if repo.is_path_ignored(rel).unwrap_or(false) {
                    continue;
                }
            }
            let kind = entry.file_type().map_err(|e| format!("{rel_str}: {e}"))?;
            if kind.is_symlink() {
                let target = std::fs::read_link(&path)
                    .map_err(|e| format!("{rel_str}: {e}"))?
                    .to_string_lossy()
                    .to_string();
                out.push(TreeFile {
                    path: rel_str,
                    content: FileContent::Symlink { target },
                });
            } else if kind.is_dir() {
                pending.push(path);
            } else {
                let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                let content = if size > limits.max_file_bytes {
                    FileContent::TooLarge {
                        size,
                        limit: limits.max_file_bytes,
                    }
                } else {
                    FileContent::Data(std::fs::read(&path).map_err(|e| format!("{rel_str}: {e}"))?)
                };
                out.push(TreeFile {
                    path: rel_str,
                    content,
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}
