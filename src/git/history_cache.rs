//! A cache of path histories keyed by (repository, app path, options), so a
//! refresh whose head did not move costs a map lookup, and one whose head
//! moved walks only what is new. The per-commit memo of the last walk is kept
//! next to its result: a new walk reuses it for every commit it already
//! knows, and when the new walk's queue narrows to the old head alone, the
//! old list is spliced on unchanged. Either way the result is exactly what a
//! fresh walk would give, new side-branch commits interleaved by date as
//! `git log` does.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use git2::{Oid, Repository};

use super::history::{HistoryEntry, HistoryOptions, HistoryWalker, Memo, Splice};
use super::path::components;
use super::GitError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    repo: PathBuf,
    path: String,
    opts: HistoryOptions,
}

struct Cached {
    head: Oid,
    entries: Arc<[HistoryEntry]>,
    memo: Arc<Memo>,
}

#[derive(Default)]
struct Inner {
    map: HashMap<Key, Cached>,
    order: VecDeque<Key>,
}

/// Shared, thread-safe history cache; holds at most `capacity` histories
/// (each with its memo, about 100 bytes per walked commit).
pub struct HistoryCache {
    inner: Mutex<Inner>,
    capacity: usize,
}

impl Default for HistoryCache {
    fn default() -> Self {
        Self::new(32)
    }
}

impl HistoryCache {
    pub fn new(capacity: usize) -> Self {
        HistoryCache {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn key(repo: &Path, path: &str, opts: HistoryOptions) -> Result<Key, GitError> {
        Ok(Key {
            repo: repo.to_path_buf(),
            path: components(path)?.join("/"),
            opts,
        })
    }

    /// The cached history when it was computed for exactly this head.
    pub fn get(
        &self,
        repo: &Repository,
        path: &str,
        head: Oid,
        opts: HistoryOptions,
    ) -> Option<Arc<[HistoryEntry]>> {
        let key = Self::key(repo.path(), path, opts).ok()?;
        let inner = self.lock();
        let cached = inner.map.get(&key)?;
        (cached.head == head).then(|| Arc::clone(&cached.entries))
    }

    /// Starts (or short-cuts) a history walk; iterate it for a first page,
    /// then call `finish` for the whole list, which is then cached.
    pub fn walk<'c, 'r>(
        &'c self,
        repo: &'r Repository,
        path: &str,
        head: Oid,
        opts: HistoryOptions,
    ) -> Result<CachedHistoryWalk<'c, 'r>, GitError> {
        let key = Self::key(repo.path(), path, opts)?;
        let previous = {
            let inner = self.lock();
            inner
                .map
                .get(&key)
                .map(|c| (c.head, Arc::clone(&c.entries), Arc::clone(&c.memo)))
        };
        let state = match previous {
            Some((old_head, entries, _)) if old_head == head => State::Ready { entries, pos: 0 },
            Some((old_head, old_entries, memo)) => {
                let splice = Splice {
                    old_head,
                    old_entries,
                };
                let walker =
                    HistoryWalker::with_memo(repo, path, head, opts, Some(memo), Some(splice))?;
                State::Walking {
                    walker: Box::new(walker),
                    collected: Vec::new(),
                }
            }
            None => State::Walking {
                walker: Box::new(HistoryWalker::new(repo, path, head, opts)?),
                collected: Vec::new(),
            },
        };
        Ok(CachedHistoryWalk {
            cache: self,
            key,
            head,
            state,
        })
    }

    /// The whole history, from the cache when possible.
    pub fn history(
        &self,
        repo: &Repository,
        path: &str,
        head: Oid,
        opts: HistoryOptions,
    ) -> Result<Arc<[HistoryEntry]>, GitError> {
        self.walk(repo, path, head, opts)?.finish()
    }

    fn store(
        &self,
        key: Key,
        head: Oid,
        entries: Arc<[HistoryEntry]>,
        base: Option<Arc<Memo>>,
        new: Memo,
    ) {
        let mut inner = self.lock();
        if inner.map.remove(&key).is_some() {
            inner.order.retain(|k| k != &key);
        }
        let mut memo = match base {
            // Unique once the cache let go of it: no copy.
            Some(base) => Arc::unwrap_or_clone(base),
            None => Memo::default(),
        };
        memo.extend(new);
        inner.order.push_back(key.clone());
        inner.map.insert(
            key,
            Cached {
                head,
                entries,
                memo: Arc::new(memo),
            },
        );
        while inner.order.len() > self.capacity {
            if let Some(old) = inner.order.pop_front() {
                inner.map.remove(&old);
            }
        }
    }
}

enum State<'r> {
    Ready {
        entries: Arc<[HistoryEntry]>,
        pos: usize,
    },
    Walking {
        walker: Box<HistoryWalker<'r>>,
        collected: Vec<HistoryEntry>,
    },
    Failed,
}

/// A history walk that stores its result in the cache once complete.
pub struct CachedHistoryWalk<'c, 'r> {
    cache: &'c HistoryCache,
    key: Key,
    head: Oid,
    state: State<'r>,
}

impl CachedHistoryWalk<'_, '_> {
    /// True when the answer came from the cache without walking.
    pub fn is_cached(&self) -> bool {
        matches!(self.state, State::Ready { .. })
    }

    /// Walks the rest and returns the whole history (also cached).
    pub fn finish(mut self) -> Result<Arc<[HistoryEntry]>, GitError> {
        if let State::Ready { entries, .. } = &self.state {
            return Ok(Arc::clone(entries));
        }
        for item in self.by_ref() {
            item?;
        }
        match &self.state {
            State::Ready { entries, .. } => Ok(Arc::clone(entries)),
            // The iterator ends only in Ready (or after yielding an error).
            State::Walking { .. } | State::Failed => Err(GitError::Git(git2::Error::from_str(
                "history walk did not complete",
            ))),
        }
    }
}

impl Iterator for CachedHistoryWalk<'_, '_> {
    type Item = Result<HistoryEntry, GitError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.state {
            State::Ready { entries, pos } => {
                let item = entries.get(*pos).cloned();
                *pos += 1;
                item.map(Ok)
            }
            State::Failed => None,
            State::Walking { walker, collected } => match walker.next() {
                Some(Ok(entry)) => {
                    collected.push(entry.clone());
                    Some(Ok(entry))
                }
                Some(Err(err)) => {
                    self.state = State::Failed;
                    Some(Err(err))
                }
                None => {
                    if !walker.is_complete() {
                        self.state = State::Failed;
                        return None;
                    }
                    let entries: Arc<[HistoryEntry]> = std::mem::take(collected).into();
                    let (base, new) = walker.take_memos();
                    let pos = entries.len();
                    self.cache
                        .store(self.key.clone(), self.head, Arc::clone(&entries), base, new);
                    self.state = State::Ready { entries, pos };
                    None
                }
            },
        }
    }
}
