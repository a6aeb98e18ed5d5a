//! The demo's Git repository, written from `assets/demo/history.yaml`:
//! real commits by several authors, dated over the past weeks, then checked
//! out so the folder looks like any clone.

use git2::{Repository, Signature, Time};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

pub const HISTORY: &str = include_str!("../../assets/demo/history.yaml");

#[derive(Debug, Deserialize)]
struct History {
    authors: HashMap<String, Author>,
    commits: Vec<CommitSpec>,
}

#[derive(Debug, Deserialize)]
struct Author {
    name: String,
    email: String,
}

#[derive(Debug, Deserialize)]
struct CommitSpec {
    author: String,
    #[serde(default)]
    id: Option<String>,
    days_ago: u64,
    message: String,
    files: BTreeMap<String, Option<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("demo history: {0}")]
    History(String),
    #[error("demo repository: {0}")]
    Git(#[from] git2::Error),
}

/// Write the repository at `dir`; returns the shas of the commits with an `id`.
pub fn write(dir: &Path, now_unix: i64) -> Result<HashMap<String, String>, RepoError> {
    let history: History =
        serde_yaml::from_str(HISTORY).map_err(|e| RepoError::History(e.to_string()))?;
    let repo = Repository::init(dir)?;
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut parent: Option<git2::Oid> = None;
    let mut ids = HashMap::new();
    let count = history.commits.len() as i64;
    for (i, spec) in history.commits.iter().enumerate() {
        for (path, content) in &spec.files {
            match content {
                Some(c) => files.insert(path.clone(), c.clone()),
                None => files.remove(path),
            };
        }
        let tree = build_tree(&repo, &files)?;
        let author = history.authors.get(&spec.author).ok_or_else(|| {
            RepoError::History(format!(
                "commit {:?} names an unknown author {:?}",
                spec.message, spec.author
            ))
        })?;
        // Later commits of the same day come minutes later, so the order is stable.
        let seconds = now_unix - (spec.days_ago as i64) * 86_400 - (count - i as i64) * 600;
        let sig = Signature::new(&author.name, &author.email, &Time::new(seconds, 60))?;
        let parents: Vec<git2::Commit> = parent
            .map(|p| repo.find_commit(p))
            .transpose()?
            .into_iter()
            .collect();
        let parent_refs: Vec<&git2::Commit> = parents.iter().collect();
        let oid = repo.commit(
            Some("refs/heads/main"),
            &sig,
            &sig,
            &spec.message,
            &tree,
            &parent_refs,
        )?;
        if let Some(id) = &spec.id {
            ids.insert(id.clone(), oid.to_string());
        }
        parent = Some(oid);
    }
    repo.set_head("refs/heads/main")?;
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))?;
    Ok(ids)
}

/// A tree holding `files` (nested folders included).
fn build_tree<'r>(
    repo: &'r Repository,
    files: &BTreeMap<String, String>,
) -> Result<git2::Tree<'r>, RepoError> {
    #[derive(Default)]
    struct Dir {
        files: BTreeMap<String, git2::Oid>,
        dirs: BTreeMap<String, Dir>,
    }
    fn write_dir(repo: &Repository, dir: &Dir) -> Result<git2::Oid, git2::Error> {
        let mut builder = repo.treebuilder(None)?;
        for (name, oid) in &dir.files {
            builder.insert(name, *oid, 0o100644)?;
        }
        for (name, sub) in &dir.dirs {
            let oid = write_dir(repo, sub)?;
            builder.insert(name, oid, 0o040000)?;
        }
        builder.write()
    }
    let mut root = Dir::default();
    for (path, content) in files {
        let blob = repo.blob(content.as_bytes())?;
        let mut parts: Vec<&str> = path.split('/').collect();
        let file = parts.pop().unwrap_or_default();
        let mut dir = &mut root;
        for p in parts {
            dir = dir.dirs.entry(p.to_string()).or_default();
        }
        dir.files.insert(file.to_string(), blob);
    }
    let oid = write_dir(repo, &root)?;
    Ok(repo.find_tree(oid)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_becomes_real_commits_with_several_authors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ids = write(dir.path(), 1_700_000_000).expect("written");
        assert!(ids.contains_key("payments-deployed") && ids.contains_key("search-with-synonyms"));
        let repo = Repository::open(dir.path()).expect("open");
        let mut walk = repo.revwalk().expect("walk");
        walk.push_head().expect("head");
        let commits: Vec<git2::Oid> = walk.filter_map(Result::ok).collect();
        assert!(commits.len() >= 18, "{}", commits.len());
        let authors: std::collections::BTreeSet<String> = commits
            .iter()
            .filter_map(|c| {
                repo.find_commit(*c)
                    .ok()
                    .and_then(|c| c.author().name().ok().map(str::to_string))
            })
            .collect();
        assert!(authors.len() >= 4, "{authors:?}");
        // Invented people only: the demo once signed commits with the
        // names of well-known engineers.
        let real = [
            "Lovelace", "Hopper", "Torvalds", "Hamilton", "Thompson", "Ritchie", "Knuth",
        ];
        for author in &authors {
            assert!(
                !real.iter().any(|r| author.contains(r)),
                "a real person's name signs a demo commit: {author}"
            );
        }
        // Checked out: the work tree holds the head's files, and synonyms were deleted.
        assert!(dir.path().join("apps/storefront/deployment.yaml").exists());
        assert!(!dir.path().join("apps/search/synonyms.yaml").exists());
    }
}
