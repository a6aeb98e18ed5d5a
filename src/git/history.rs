//! The commits that touched a path, exactly as `git log -- PATH` lists them.
//!
//! This mirrors git's `revision.c` for a plain `git log -- PATH`: commits are
//! popped from a queue ordered by committer date (ties in insertion order),
//! and each popped commit is simplified before its parents are queued
//! (`try_to_simplify_commit`): if the path is identical in some parent (the
//! first such parent), only that parent is followed and the commit is
//! TREESAME, so it is not listed; a root commit is TREESAME when it lacks the
//! path. A merge that differs from every parent is listed and all its parents
//! are followed. With `first_parent`, only the first parent is compared and
//! followed, like `git log --first-parent -- PATH`. A naive first-parent diff
//! disagrees with git on merge-heavy repositories, hence this care.
//!
//! The walker is an iterator, so the first page arrives after walking only as
//! far as it needs. Per-commit results are kept in a memo so a later walk from
//! a newer head (see `history_cache`) only opens trees of new commits.
//!
//! TREESAME for a one-path pathspec is equality of the (id, mode) found at
//! the path, so each commit's entry is resolved once and reused by all its
//! children. Resolving goes down one tree per component, and the answer is
//! remembered for every tree id passed on the way: most commits change only
//! a few subtrees, so the rest of the descent is a map hit.
//!
//! libgit2 is set once per process to read objects the way `git` does (see
//! `tune_libgit2`).

use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Once};

use git2::{Oid, Repository};
use serde::Serialize;

use super::bloom::{self, BloomKey};
use super::commit_graph::CommitGraph;
use super::oidmap::{IdBuild, IdKey, IdMap, IdSet};
use super::path::components;
use super::raw::{CommitInfo, RawReader, TREE_MODE};
use super::GitError;

/// Sets libgit2 to read objects as `git log` does, once per process:
///
/// - No hash verification on read. libgit2 re-hashes every object it
///   inflates, with the collision-detecting SHA-1, which was a sixth of the
///   walk; git itself checks hashes only in fsck and when receiving objects,
///   so a corrupt object gives us what `git log` would show.
/// - No object cache. Every read was inserted into the repository's cache,
///   which then had to be searched and freed again (another sixth, most of
///   it when the `Repository` is dropped). The walk memoises what it needs
///   itself and reads each object about once; the other readers here (files
///   at a commit, revert, a commit's subject) read a handful of objects once
///   each per request, and blobs were never cached by default anyway.
///
/// Both are process-wide settings, which is why they live here, done once.
fn tune_libgit2() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        git2::opts::strict_hash_verification(false);
        git2::opts::enable_caching(false);
    });
}

/// One commit of a path's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// Full 40-hex commit id.
    pub sha: String,
    pub author_name: String,
    pub author_email: String,
    /// Author time, unix seconds.
    pub time: i64,
    /// Author time zone offset, minutes east of UTC.
    pub offset_minutes: i32,
    /// First paragraph of the message, lines joined (git's `%s`).
    pub subject: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct HistoryOptions {
    /// Follow only first parents (`git log --first-parent -- PATH`).
    pub first_parent: bool,
}

/// What git decides about one commit for one path: the parents the walk
/// continues to, and whether the commit is listed.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    date: i64,
    parents: Box<[Oid]>,
    entry: Option<Box<HistoryEntry>>,
}

pub(crate) type Memo = HashMap<Oid, Node, IdBuild>;

#[derive(PartialEq, Eq)]
struct Queued {
    date: i64,
    seq: u64,
    oid: Oid,
}

impl Ord for Queued {
    fn cmp(&self, other: &Self) -> Ordering {
        // Newest first; among equal dates, first inserted first (git's
        // commit_list_insert_by_date inserts after equal dates).
        self.date
            .cmp(&other.date)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A previous complete walk that a new walk may reuse once its queue holds
/// nothing but the previous head.
pub(crate) struct Splice {
    pub old_head: Oid,
    pub old_entries: Arc<[HistoryEntry]>,
}

/// The (id, mode) at the walked path, `None` when absent.
pub(crate) type PathEntry = Option<(Oid, i32)>;

/// Finds the entry at one path under root trees, remembering the answer for
/// every tree id passed on the way down.
pub(crate) struct PathResolver {
    comps: Vec<String>,
    /// Per component depth: tree id -> the entry at the path below it.
    below: Vec<IdMap<PathEntry>>,
}

impl PathResolver {
    pub fn new(comps: Vec<String>) -> Self {
        let below = comps.iter().map(|_| IdMap::default()).collect();
        PathResolver { comps, below }
    }

    /// `path::entry_at` with the per-tree memo: stops at the first tree id
    /// already resolved and records the answer for each tree it opened.
    pub fn resolve(&mut self, raw: &RawReader<'_>, root: Oid) -> Result<PathEntry, git2::Error> {
        let mut current = (root, TREE_MODE);
        let mut opened: Vec<(usize, IdKey)> = Vec::with_capacity(self.comps.len());
        let found = 'walk: {
            for (depth, comp) in self.comps.iter().enumerate() {
                if current.1 != TREE_MODE {
                    break 'walk None;
                }
                let key = IdKey::from(current.0);
                if let Some(known) = self.below.get(depth).and_then(|m| m.get(&key)) {
                    break 'walk *known;
                }
                opened.push((depth, key));
                match raw.tree_entry(current.0, comp)? {
                    Some(entry) => current = entry,
                    None => break 'walk None,
                }
            }
            Some(current)
        };
        for (depth, key) in opened {
            if let Some(map) = self.below.get_mut(depth) {
                map.insert(key, found);
            }
        }
        Ok(found)
    }
}

struct Walked {
    info: CommitInfo,
    /// Its position in the commit-graph, when the graph has it.
    graph_pos: Option<u32>,
    /// This commit's parents in `HistoryWalker::parent_pool`.
    parents: std::ops::Range<usize>,
    /// Resolved on first comparison; a parent that is never compared (not
    /// followed) is never resolved.
    at_path: Option<PathEntry>,
}

/// Streams the history of a path from a head commit, newest first.
pub struct HistoryWalker<'r> {
    repo: &'r Repository,
    raw: RawReader<'r>,
    /// git's commit-graph, when the repository has one: dates, trees and
    /// parents without reading commit objects.
    graph: Option<CommitGraph>,
    /// The path's changed-path Bloom keys, when the graph has filters.
    bloom_keys: Vec<BloomKey>,
    resolver: PathResolver,
    /// Commits read so far; a parent is read once, for its date when queued
    /// and its tree when compared.
    commits: IdMap<Walked>,
    parent_pool: Vec<Oid>,
    first_parent: bool,
    queue: BinaryHeap<Queued>,
    seq: u64,
    seen: IdSet,
    base: Option<Arc<Memo>>,
    memo: Memo,
    splice: Option<Splice>,
    splice_blocked: bool,
    spliced: Option<(Arc<[HistoryEntry]>, usize)>,
    done: bool,
    failed: bool,
}

impl<'r> HistoryWalker<'r> {
    /// Starts a walk from `head` over the commits touching `path` (a
    /// repository-relative path; `""` means the whole tree).
    pub fn new(
        repo: &'r Repository,
        path: &str,
        head: Oid,
        opts: HistoryOptions,
    ) -> Result<Self, GitError> {
        Self::with_memo(repo, path, head, opts, None, None)
    }

    pub(crate) fn with_memo(
        repo: &'r Repository,
        path: &str,
        head: Oid,
        opts: HistoryOptions,
        base: Option<Arc<Memo>>,
        splice: Option<Splice>,
    ) -> Result<Self, GitError> {
        tune_libgit2();
        let comps = components(path)?;
        let graph = CommitGraph::open(repo);
        // The whole tree (no path) changes with every commit: no filter helps.
        let bloom_keys = match graph.as_ref().and_then(CommitGraph::bloom_settings) {
            Some(settings) if !comps.is_empty() => bloom::keys_for(&comps, settings),
            _ => Vec::new(),
        };
        let resolver = PathResolver::new(comps);
        let mut walker = HistoryWalker {
            repo,
            raw: RawReader::new(repo)?,
            graph,
            bloom_keys,
            resolver,
            commits: IdMap::default(),
            parent_pool: Vec::new(),
            first_parent: opts.first_parent,
            queue: BinaryHeap::new(),
            seq: 0,
            seen: IdSet::default(),
            base,
            memo: Memo::default(),
            splice,
            splice_blocked: false,
            spliced: None,
            done: false,
            failed: false,
        };
        walker.enqueue(head)?;
        Ok(walker)
    }

    /// Collects the next `n` entries (fewer at the end of history).
    pub fn page(&mut self, n: usize) -> Result<Vec<HistoryEntry>, GitError> {
        self.by_ref().take(n).collect()
    }

    /// The memo this walk started from and the one it computed itself.
    pub(crate) fn take_memos(&mut self) -> (Option<Arc<Memo>>, Memo) {
        (self.base.take(), std::mem::take(&mut self.memo))
    }

    /// True once the whole history was walked without an error.
    pub(crate) fn is_complete(&self) -> bool {
        self.done && !self.failed
    }

    fn lookup(&self, oid: &Oid) -> Option<&Node> {
        self.memo
            .get(oid)
            .or_else(|| self.base.as_ref().and_then(|b| b.get(oid)))
    }

    fn enqueue(&mut self, oid: Oid) -> Result<(), GitError> {
        if !self.seen.insert(IdKey::from(oid)) {
            return Ok(());
        }
        let date = match self.lookup(&oid) {
            Some(node) => node.date,
            None => self.read(oid)?.info.date,
        };
        self.seq += 1;
        self.queue.push(Queued {
            date,
            seq: self.seq,
            oid,
        });
        Ok(())
    }

    /// A commit's date, tree and parents, read from the odb once per walk.
    fn read(&mut self, oid: Oid) -> Result<&mut Walked, GitError> {
        match self.commits.entry(IdKey::from(oid)) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => {
                let start = self.parent_pool.len();
                let graph_pos = self.graph.as_ref().and_then(|g| g.position(oid));
                let from_graph = graph_pos.and_then(|pos| {
                    let g = self.graph.as_ref()?;
                    let c = g.commit(pos, &mut self.parent_pool)?;
                    Some(CommitInfo {
                        date: c.date,
                        tree: c.tree,
                    })
                });
                let info = match from_graph {
                    Some(info) => info,
                    None => self.raw.commit(oid, &mut self.parent_pool)?,
                };
                Ok(e.insert(Walked {
                    info,
                    graph_pos,
                    parents: start..self.parent_pool.len(),
                    at_path: None,
                }))
            }
        }
    }

    /// The entry at the path in this commit's tree, resolved at most once.
    fn at_path(&mut self, oid: Oid) -> Result<PathEntry, GitError> {
        let walked = self.read(oid)?;
        if let Some(found) = walked.at_path {
            return Ok(found);
        }
        let tree = walked.info.tree;
        let found = self.resolver.resolve(&self.raw, tree)?;
        self.read(oid)?.at_path = Some(found);
        Ok(found)
    }

    /// Whether the commit's changed-path filter rules the path out, i.e. the
    /// path is certainly the same as in the first parent (git's
    /// `check_maybe_different_in_bloom_filter` answering 0).
    fn unchanged_by_filter(&self, graph_pos: Option<u32>) -> bool {
        let (Some(graph), Some(pos)) = (&self.graph, graph_pos) else {
            return false;
        };
        if self.bloom_keys.is_empty() {
            return false;
        }
        let Some(filter) = graph.filter(pos) else {
            return false;
        };
        self.bloom_keys
            .iter()
            .any(|k| k.maybe_in(filter) == Some(false))
    }

    /// git's try_to_simplify_commit plus the listing decision.
    fn simplify(&mut self, oid: Oid) -> Result<Node, GitError> {
        let walked = self.read(oid)?;
        let (date, range, graph_pos) = (walked.info.date, walked.parents.clone(), walked.graph_pos);
        if !range.is_empty() && self.unchanged_by_filter(graph_pos) {
            // TREESAME to the first parent without opening a tree.
            return Ok(Node {
                date,
                parents: Box::new([self.parent_pool[range.start]]),
                entry: None,
            });
        }
        let own = self.at_path(oid)?;
        let mut treesame = false;
        let followed = if self.first_parent {
            range.start..range.end.min(range.start + 1)
        } else {
            range.clone()
        };
        let mut kept: Box<[Oid]> = self.parent_pool[followed].into();
        if range.is_empty() {
            treesame = own.is_none();
        } else {
            for (n, i) in range.enumerate() {
                if n == 1 && self.first_parent {
                    break;
                }
                let parent = self.parent_pool[i];
                if self.at_path(parent)? == own {
                    kept = Box::new([parent]);
                    treesame = true;
                    break;
                }
            }
        }
        let entry = if treesame {
            None
        } else {
            Some(Box::new(entry_of(&self.repo.find_commit(oid)?)))
        };
        Ok(Node {
            date,
            parents: kept,
            entry,
        })
    }

    fn step(&mut self) -> Result<Option<HistoryEntry>, GitError> {
        if let Some((entries, pos)) = &mut self.spliced {
            let next = entries.get(*pos).cloned();
            *pos += 1;
            if next.is_none() {
                self.done = true;
            }
            return Ok(next);
        }
        loop {
            if let Some(splice) = &self.splice {
                let only_old_head = self.queue.len() == 1
                    && self.queue.peek().map(|q| q.oid) == Some(splice.old_head);
                if only_old_head && !self.splice_blocked {
                    // The rest of this walk is exactly the previous walk.
                    self.queue.clear();
                    self.spliced = Some((Arc::clone(&splice.old_entries), 0));
                    return self.step();
                }
            }
            let Some(Queued { oid, .. }) = self.queue.pop() else {
                self.done = true;
                return Ok(None);
            };
            let (parents, entry) = match self.lookup(&oid) {
                Some(node) => {
                    let out = (node.parents.clone(), node.entry.as_deref().cloned());
                    // A commit the previous walk knew, reached before the old
                    // head: splicing could then skip or repeat commits.
                    self.splice_blocked = true;
                    out
                }
                None => {
                    let node = self.simplify(oid)?;
                    let out = (node.parents.clone(), node.entry.as_deref().cloned());
                    self.memo.insert(oid, node);
                    out
                }
            };
            for parent in parents.iter() {
                self.enqueue(*parent)?;
            }
            if let Some(entry) = entry {
                return Ok(Some(entry));
            }
        }
    }
}

impl Iterator for HistoryWalker<'_> {
    type Item = Result<HistoryEntry, GitError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.step() {
            Ok(Some(entry)) => Some(Ok(entry)),
            Ok(None) => None,
            Err(err) => {
                self.done = true;
                self.failed = true;
                self.queue.clear();
                self.spliced = None;
                Some(Err(err))
            }
        }
    }
}

pub(crate) fn entry_of(commit: &git2::Commit<'_>) -> HistoryEntry {
    let author = commit.author();
    let when = author.when();
    HistoryEntry {
        sha: commit.id().to_string(),
        author_name: String::from_utf8_lossy(author.name_bytes()).into_owned(),
        author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
        time: when.seconds(),
        offset_minutes: when.offset_minutes(),
        subject: commit
            .summary_bytes()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .unwrap_or_default(),
    }
}
