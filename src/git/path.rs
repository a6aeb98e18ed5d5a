//! Path handling shared by history and tree reading: an app path split into
//! components, and the entry found at that path in a tree.

use git2::{Oid, Repository};

use super::GitError;

use super::raw::TREE_MODE;

/// Splits a repository-relative path into components; `""`, `"."` and `"/"`
/// mean the whole tree. `..` is refused so a path can never leave the tree.
pub(crate) fn components(path: &str) -> Result<Vec<String>, GitError> {
    let mut out = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(GitError::InvalidPath {
                    path: path.to_string(),
                    reason: "`..` is not allowed",
                })
            }
            other => out.push(other.to_string()),
        }
    }
    Ok(out)
}

/// The (id, mode) of the entry at `comps` under the tree `root`, or `None`
/// when the path does not exist (or crosses something that is not a tree).
pub(crate) fn entry_at(
    repo: &Repository,
    root: Oid,
    comps: &[String],
) -> Result<Option<(Oid, i32)>, git2::Error> {
    let mut current = (root, TREE_MODE);
    for comp in comps {
        if current.1 != TREE_MODE {
            return Ok(None);
        }
        let tree = repo.find_tree(current.0)?;
        let found = tree.get_name(comp).map(|e| (e.id(), e.filemode()));
        match found {
            Some(entry) => current = entry,
            None => return Ok(None),
        }
    }
    Ok(Some(current))
}

/// Where a symlink stored at `link` (repository-relative) points, as a
/// repository-relative path, or `None` when the target is absolute or climbs
/// out of the repository.
pub fn symlink_target_in_repo(link: &str, target: &str) -> Option<String> {
    if target.starts_with('/') || target.starts_with('\\') {
        return None;
    }
    let mut out: Vec<&str> = link.split('/').filter(|c| !c.is_empty()).collect();
    out.pop();
    for comp in target.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            other => out.push(other),
        }
    }
    Some(out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_normalise() {
        assert!(components("").unwrap().is_empty());
        assert!(components("./").unwrap().is_empty());
        assert_eq!(components("apps//web/").unwrap(), vec!["apps", "web"]);
        assert!(components("apps/../x").is_err());
    }

    #[test]
    fn symlink_targets() {
        assert_eq!(
            symlink_target_in_repo("a/b/l.yaml", "../c.yaml").as_deref(),
            Some("a/c.yaml")
        );
        assert_eq!(
            symlink_target_in_repo("a/l.yaml", "../c.yaml").as_deref(),
            Some("c.yaml")
        );
        assert_eq!(symlink_target_in_repo("a/l.yaml", "../../c.yaml"), None);
        assert_eq!(symlink_target_in_repo("l.yaml", "/etc/passwd"), None);
    }
}
