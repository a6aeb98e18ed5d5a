//! `rollback --revert`: a new commit on the app's branch whose tree at the
//! app's path equals an earlier commit's, leaving every other path as the
//! branch has it. Unlike a rollback pin, this moves Git itself forward.

use super::GitError;
use git2::{Oid, Repository, Signature, Tree};

#[derive(Debug, thiserror::Error)]
pub enum RevertError {
    #[error("{0}")]
    Git(#[from] GitError),
    #[error("git: {0}")]
    Git2(#[from] git2::Error),
    #[error("{0} is not a branch: a revert commit needs a branch to go on (set the app's ref to a branch)")]
    NotABranch(String),
    #[error("the work tree of {0} has uncommitted changes: commit or stash them first")]
    Dirty(String),
    #[error("{path} already equals {target} on {branch}: nothing to revert")]
    NothingToDo {
        path: String,
        target: String,
        branch: String,
    },
}

pub struct Reverted {
    pub commit: Oid,
    pub branch: String,
}

/// The tree of `root` with the subtree at `path` replaced by `replacement`
/// (None removes it).
fn replace_at(
    repo: &Repository,
    root: &Tree,
    path: &[&str],
    replacement: Option<(Oid, i32)>,
) -> Result<Oid, git2::Error> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(replacement.map(|(oid, _)| oid).unwrap_or(root.id()));
    };
    let mut builder = repo.treebuilder(Some(root))?;
    if rest.is_empty() {
        match replacement {
            Some((oid, mode)) => {
                builder.insert(first, oid, mode)?;
            }
            None => {
                if builder.get(first)?.is_some() {
                    builder.remove(first)?;
                }
            }
        }
    } else {
        let child = match root.get_name(first) {
            Some(entry) if entry.kind() == Some(git2::ObjectType::Tree) => {
                repo.find_tree(entry.id())?
            }
            // The folder does not exist on the branch: start from an empty tree.
            _ => repo.find_tree(repo.treebuilder(None)?.write()?)?,
        };
        let new_child = replace_at(repo, &child, rest, replacement)?;
        let empty = repo.find_tree(new_child)?.is_empty();
        if empty {
            if builder.get(first)?.is_some() {
                builder.remove(first)?;
            }
        } else {
            builder.insert(first, new_child, 0o040000)?;
        }
    }
    builder.write()
}

/// Commit, on `branch`, the content of `path` at `target`. Updates the work
/// tree when the branch is checked out (which must then be clean).
pub fn revert_path(
    repo: &Repository,
    branch: &str,
    path: &str,
    target: Oid,
    message: &str,
) -> Result<Reverted, RevertError> {
    let refname = format!("refs/heads/{branch}");
    let branch_ref = repo
        .find_reference(&refname)
        .map_err(|_| RevertError::NotABranch(branch.to_string()))?;
    let head = branch_ref.peel_to_commit()?;
    let checked_out = !repo.is_bare()
        && repo
            .head()
            .ok()
            .and_then(|h| h.name().ok().map(str::to_string))
            .as_deref()
            == Some(refname.as_str());
    if checked_out {
        let mut opts = git2::StatusOptions::new();
        opts.include_untracked(false);
        if !repo.statuses(Some(&mut opts))?.is_empty() {
            let dir = repo
                .workdir()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            return Err(RevertError::Dirty(dir));
        }
    }
    let target_tree = repo.find_commit(target)?.tree()?;
    let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let replacement = if components.is_empty() {
        Some((target_tree.id(), 0o040000))
    } else {
        match target_tree.get_path(std::path::Path::new(path)) {
            Ok(entry) => Some((entry.id(), entry.filemode())),
            Err(_) => None,
        }
    };
    let new_tree = replace_at(repo, &head.tree()?, &components, replacement)?;
    if new_tree == head.tree_id() {
        return Err(RevertError::NothingToDo {
            path: if path.is_empty() {
                "/".into()
            } else {
                path.to_string()
            },
            target: target.to_string()[..7].to_string(),
            branch: branch.to_string(),
        });
    }
    let sig = repo
        .signature()
        .or_else(|_| Signature::now("gitops-tui", "gitops-tui@localhost"))?;
    let tree = repo.find_tree(new_tree)?;
    let commit = repo.commit(Some(&refname), &sig, &sig, message, &tree, &[&head])?;
    if checked_out {
        repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))?;
    }
    Ok(Reverted {
        commit,
        branch: branch.to_string(),
    })
}

/// The branch an app follows: its ref when that names a branch, else the
/// branch HEAD points at.
pub fn branch_of(repo: &Repository, git_ref: Option<&str>) -> Result<String, RevertError> {
    match git_ref {
        Some(r) => {
            let name = r.strip_prefix("refs/heads/").unwrap_or(r);
            repo.find_reference(&format!("refs/heads/{name}"))
                .map_err(|_| RevertError::NotABranch(r.to_string()))?;
            Ok(name.to_string())
        }
        None => {
            let head = repo.head()?;
            head.shorthand()
                .ok()
                .filter(|_| head.is_branch())
                .map(str::to_string)
                .ok_or_else(|| RevertError::NotABranch("HEAD (detached)".into()))
        }
    }
}
