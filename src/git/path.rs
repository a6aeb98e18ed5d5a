//! Path handling shared by history and tree reading: an app path split into
//! components, and the comparison of two trees at that path by entry id, one
//! component at a time, so unchanged subtrees are never opened.

use git2::{Oid, Repository};

use super::GitError;

const TREE_MODE: i32 = 0o040000;

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

/// True when the trees `a` and `b` hold the same thing at `comps` (both
/// absent counts as the same), which is git's TREESAME for a one-path
/// pathspec. Stops at the first component whose ids agree.
pub(crate) fn same_at(
    repo: &Repository,
    a: Option<Oid>,
    b: Option<Oid>,
    comps: &[String],
) -> Result<bool, git2::Error> {
    let (mut a, mut b) = (a, b);
    if comps.is_empty() {
        return Ok(a == b);
    }
    for (i, comp) in comps.iter().enumerate() {
        if a == b {
            return Ok(true);
        }
        let ea = child(repo, a, comp)?;
        let eb = child(repo, b, comp)?;
        if ea == eb {
            return Ok(true);
        }
        if i + 1 == comps.len() {
            return Ok(false);
        }
        a = ea.and_then(|(id, mode)| (mode == TREE_MODE).then_some(id));
        b = eb.and_then(|(id, mode)| (mode == TREE_MODE).then_some(id));
    }
    Ok(a == b)
}

fn child(
    repo: &Repository,
    tree: Option<Oid>,
    name: &str,
) -> Result<Option<(Oid, i32)>, git2::Error> {
    let Some(tree) = tree else {
        return Ok(None);
    };
    let tree = repo.find_tree(tree)?;
    Ok(tree.get_name(name).map(|e| (e.id(), e.filemode())))
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
