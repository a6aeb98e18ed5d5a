//! Commits and trees read straight from the object database for the history
//! walk. The walk needs only a commit's date, tree and parents, and one entry
//! per tree level; `find_commit`/`find_tree` would parse signatures, messages
//! and every tree entry into fresh allocations for each of the ~50,000
//! commits of a large history. Anything these parsers do not recognise
//! falls back to git2, so the answers stay exactly libgit2's.

use git2::{ObjectType, Odb, Oid, Repository};

pub(crate) const TREE_MODE: i32 = 0o040000;

/// What the walk needs of one commit; its parents go to a pool the caller
/// owns, so reading 50,000 commits does not leave 50,000 small allocations to
/// free (and for malloc to consolidate, which showed up as a slow refresh).
pub(crate) struct CommitInfo {
    /// Committer time, unix seconds (what libgit2's `Commit::time` gives).
    pub date: i64,
    pub tree: Oid,
}

/// Raw object reads with a git2 fallback.
pub(crate) struct RawReader<'r> {
    repo: &'r Repository,
    odb: Odb<'r>,
    /// Shallow repositories rewrite parents through grafts, which only
    /// libgit2's commit parser applies.
    raw_commits: bool,
}

impl<'r> RawReader<'r> {
    pub fn new(repo: &'r Repository) -> Result<Self, git2::Error> {
        Ok(RawReader {
            repo,
            odb: repo.odb()?,
            raw_commits: !repo.is_shallow(),
        })
    }

    /// Reads a commit, appending its parents to `parents`.
    pub fn commit(&self, oid: Oid, parents: &mut Vec<Oid>) -> Result<CommitInfo, git2::Error> {
        let start = parents.len();
        if self.raw_commits {
            let obj = self.odb.read(oid)?;
            if obj.kind() == ObjectType::Commit {
                if let Some(info) = parse_commit(obj.data(), parents) {
                    return Ok(info);
                }
                parents.truncate(start);
            }
        }
        let commit = self.repo.find_commit(oid)?;
        parents.extend(commit.parent_ids());
        Ok(CommitInfo {
            date: commit.time().seconds(),
            tree: commit.tree_id(),
        })
    }

    /// The (id, mode) of `name` in the tree `tree`, mode normalised as
    /// `TreeEntry::filemode` does.
    pub fn tree_entry(&self, tree: Oid, name: &str) -> Result<Option<(Oid, i32)>, git2::Error> {
        let obj = self.odb.read(tree)?;
        if obj.kind() == ObjectType::Tree {
            if let Some(found) = find_in_tree(obj.data(), name.as_bytes()) {
                return Ok(found);
            }
        }
        let tree = self.repo.find_tree(tree)?;
        Ok(tree.get_name(name).map(|e| (e.id(), e.filemode())))
    }
}

/// Parses the headers libgit2 requires, in its order (tree, parents, one or
/// more authors, committer); `None` for anything else.
fn parse_commit(data: &[u8], parents: &mut Vec<Oid>) -> Option<CommitInfo> {
    let mut lines = data.split(|&b| b == b'\n');
    let tree = hex_oid(lines.next()?.strip_prefix(b"tree ")?)?;
    let mut line = lines.next()?;
    while let Some(hex) = line.strip_prefix(b"parent ") {
        parents.push(hex_oid(hex)?);
        line = lines.next()?;
    }
    line.strip_prefix(b"author ")?;
    while line.starts_with(b"author ") {
        line = lines.next()?;
    }
    let committer = line.strip_prefix(b"committer ")?;
    Some(CommitInfo {
        date: signature_time(committer)?,
        tree,
    })
}

fn hex_oid(hex: &[u8]) -> Option<Oid> {
    if hex.len() != 40 {
        return None;
    }
    Oid::from_str(std::str::from_utf8(hex).ok()?).ok()
}

/// The time after the last `>`, when it is the plain `> SECONDS ` form;
/// libgit2's lenient handling of anything odder is left to libgit2.
fn signature_time(sig: &[u8]) -> Option<i64> {
    let close = sig.iter().rposition(|&b| b == b'>')?;
    if sig.iter().rposition(|&b| b == b'<')? > close {
        return None;
    }
    let rest = sig.get(close + 1..)?.strip_prefix(b" ")?;
    let end = rest.iter().position(|&b| b == b' ')?;
    let digits = &rest[..end];
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Looks `name` up in raw tree data: `Some(None)` when absent, `None` when
/// the data is not a well-formed SHA-1 tree.
fn find_in_tree(mut data: &[u8], name: &[u8]) -> Option<Option<(Oid, i32)>> {
    while !data.is_empty() {
        let space = data.iter().position(|&b| b == b' ')?;
        let mode = parse_mode(&data[..space])?;
        let after = &data[space + 1..];
        let nul = after.iter().position(|&b| b == 0)?;
        let id = after.get(nul + 1..nul + 21)?;
        if &after[..nul] == name {
            return Some(Some((Oid::from_bytes(id).ok()?, normalize_mode(mode))));
        }
        data = &after[nul + 21..];
    }
    Some(None)
}

fn parse_mode(octal: &[u8]) -> Option<i32> {
    if octal.is_empty() || octal.len() > 7 {
        return None;
    }
    octal.iter().try_fold(0i32, |acc, &b| {
        (b'0'..=b'7')
            .contains(&b)
            .then(|| acc * 8 + i32::from(b - b'0'))
    })
}

/// libgit2's `normalize_filemode`, so modes compare as `filemode()` does.
fn normalize_mode(mode: i32) -> i32 {
    const TYPE: i32 = 0o170000;
    if mode & TYPE == TREE_MODE {
        TREE_MODE
    } else if mode & 0o100 != 0 {
        0o100755
    } else if mode & TYPE == 0o160000 {
        0o160000
    } else if mode & TYPE == 0o120000 {
        0o120000
    } else {
        0o100644
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_commit() {
        let data = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
parent 1111111111111111111111111111111111111111\n\
parent 2222222222222222222222222222222222222222\n\
author A <a@x> 5 +0000\n\
committer C <c@x> 1700000000 -0130\n\nmsg\n";
        let mut parents = Vec::new();
        let info = parse_commit(data, &mut parents).unwrap();
        assert_eq!(info.date, 1_700_000_000);
        assert_eq!(parents.len(), 2);
    }

    #[test]
    fn odd_commits_fall_back() {
        let no_committer =
            b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@x> 5 +0000\n\nm";
        assert!(parse_commit(no_committer, &mut Vec::new()).is_none());
        assert!(signature_time(b"C <c@x>  12 +0000").is_none());
        assert_eq!(signature_time(b"C <c> x> 12 +0000"), Some(12));
    }

    #[test]
    fn tree_lookup_and_modes() {
        let mut data = Vec::new();
        for (mode, name, byte) in [("100755", "a", 1u8), ("40000", "b", 2)] {
            data.extend_from_slice(format!("{mode} {name}\0").as_bytes());
            data.extend_from_slice(&[byte; 20]);
        }
        let b = find_in_tree(&data, b"b").unwrap().unwrap();
        assert_eq!(b, (Oid::from_bytes(&[2; 20]).unwrap(), TREE_MODE));
        assert_eq!(find_in_tree(&data, b"a").unwrap().unwrap().1, 0o100755);
        assert_eq!(find_in_tree(&data, b"c"), Some(None));
        assert_eq!(find_in_tree(&data[..30], b"b"), None);
        assert_eq!(normalize_mode(0o100664), 0o100644);
    }
}
