//! The manifests of one path at one commit, read once for every app that
//! deploys them. A fleet deploys the same path to many clusters (an app per
//! cluster, one folder in Git): at 100 clusters the status of every app read
//! and parsed the same files a hundred times, a quarter of `status`'s CPU.
//!
//! A commit's tree never changes, so an entry is keyed by what the answer
//! depends on: the repository, the commit, the path and the file size limit.
//! Only plain YAML and kustomize folders are kept: Helm and Jsonnet render
//! with each app's own options (release name, namespace, values), so they
//! are read per app as before. Errors are never kept. Bounded: at most
//! [`ENTRIES`] answers, the oldest dropped first; a load in progress makes
//! the other apps asking for the same key wait for it rather than read too.
//! One cache per engine (a new engine reads Git anew).

use crate::git::Oid;
use crate::manifest::LoadedManifests;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// How many answers are kept (a few MB for paths of tens of objects).
pub const ENTRIES: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub repo: PathBuf,
    pub commit: Oid,
    pub path: String,
    pub max_file_bytes: u64,
}

type Slot = Arc<Mutex<Option<LoadedManifests>>>;

#[derive(Default)]
struct Slots {
    slots: HashMap<Key, Slot>,
    order: VecDeque<Key>,
}

/// The kept answers (see the module doc).
#[derive(Default)]
pub struct LoadedCache {
    inner: Mutex<Slots>,
}

/// Whether an answer can be shared between apps (rendered without options
/// of its own app).
pub fn shareable(loaded: &LoadedManifests) -> bool {
    loaded.helm_roots.is_empty() && loaded.jsonnet_roots.is_empty()
}

impl LoadedCache {
    /// The answer for `key`: the kept one, else `load`'s (kept when
    /// shareable). Blocking: called on a blocking thread, as every Git read is.
    pub fn get_or_load<E>(
        &self,
        key: Key,
        load: impl FnOnce() -> Result<LoadedManifests, E>,
    ) -> Result<LoadedManifests, E> {
        let slot = {
            let mut c = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(slot) = c.slots.get(&key) {
                slot.clone()
            } else {
                let slot = Slot::default();
                c.slots.insert(key.clone(), slot.clone());
                c.order.push_back(key.clone());
                while c.order.len() > ENTRIES {
                    if let Some(old) = c.order.pop_front() {
                        c.slots.remove(&old);
                    }
                }
                slot
            }
        };
        // One load per key at a time; the others wait here and read its answer.
        let mut held = slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(hit) = held.as_ref() {
            return Ok(hit.clone());
        }
        let loaded = load()?;
        if shareable(&loaded) {
            *held = Some(loaded.clone());
        } else {
            drop(held);
            self.forget(&key);
        }
        Ok(loaded)
    }

    fn forget(&self, key: &Key) {
        let mut c = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        c.slots.remove(key);
        c.order.retain(|k| k != key);
    }

    /// How many answers are kept now.
    #[cfg(test)]
    fn len(&self) -> usize {
        let c = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        c.slots
            .values()
            .filter(|s| s.lock().map(|s| s.is_some()).unwrap_or(false))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key(path: &str, n: u8) -> Key {
        Key {
            repo: PathBuf::from(format!("/cache-test/{path}")),
            commit: Oid::from_bytes(&[n; 20]).expect("oid"),
            path: path.into(),
            max_file_bytes: 1,
        }
    }

    #[test]
    fn one_load_per_key_and_errors_or_rendered_answers_are_not_kept() {
        let cache = LoadedCache::default();
        let loads = AtomicUsize::new(0);
        let load = || {
            loads.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>(LoadedManifests::default())
        };
        for _ in 0..3 {
            cache.get_or_load(key("plain", 1), load).expect("loads");
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1, "read once");
        cache
            .get_or_load(key("plain", 2), load)
            .expect("another commit");
        assert_eq!(loads.load(Ordering::SeqCst), 2, "another commit is read");
        // An error is not kept: the next ask reads again.
        assert!(cache
            .get_or_load(key("broken", 1), || Err::<LoadedManifests, _>("no"))
            .is_err());
        cache
            .get_or_load(key("broken", 1), load)
            .expect("read again");
        assert_eq!(loads.load(Ordering::SeqCst), 3);
        // A Helm folder renders with each app's options: read every time.
        let helm = || {
            loads.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>(LoadedManifests {
                helm_roots: vec!["chart".into()],
                ..Default::default()
            })
        };
        cache.get_or_load(key("helm", 1), helm).expect("renders");
        cache.get_or_load(key("helm", 1), helm).expect("renders");
        assert_eq!(loads.load(Ordering::SeqCst), 5);
    }

    #[test]
    fn the_cache_is_bounded_oldest_first() {
        let cache = LoadedCache::default();
        for n in 0..=ENTRIES {
            let n = u8::try_from(n % 251).expect("small");
            cache
                .get_or_load(key(&format!("bound-{n}"), n), || {
                    Ok::<_, ()>(LoadedManifests::default())
                })
                .expect("loads");
        }
        assert!(cache.len() <= ENTRIES, "{}", cache.len());
        let reloaded = AtomicUsize::new(0);
        cache
            .get_or_load(key("bound-0", 0), || {
                reloaded.fetch_add(1, Ordering::SeqCst);
                Ok::<_, ()>(LoadedManifests::default())
            })
            .expect("loads");
        assert_eq!(reloaded.load(Ordering::SeqCst), 1, "the oldest was dropped");
    }
}
