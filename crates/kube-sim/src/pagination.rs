//! `limit` / `continue` pagination over one snapshot.
//!
//! The apiserver serves every page of a paginated list from the resourceVersion
//! of the first page, so an item deleted or added between pages neither
//! vanishes nor repeats. kube-sim keeps the first page's filtered item list and
//! hands out tokens pointing into it; a token whose snapshot has been evicted
//! answers 410 Expired, as an etcd-compacted continue token does.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::Arc;

/// Snapshots kept at once; older ones expire.
const MAX_SNAPSHOTS: usize = 64;

pub struct Snapshot {
    pub id: u64,
    pub rv: u64,
    pub items: Arc<Vec<Arc<Value>>>,
}

#[derive(Default)]
pub struct Snapshots {
    next_id: u64,
    kept: VecDeque<Snapshot>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub id: u64,
    pub offset: usize,
    pub rv: u64,
}

impl Token {
    pub fn encode(&self) -> String {
        let raw =
            json!({"v": "meta.k8s.io/v1", "id": self.id, "start": self.offset, "rv": self.rv});
        URL_SAFE_NO_PAD.encode(raw.to_string())
    }

    pub fn decode(s: &str) -> Option<Token> {
        let bytes = URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()?;
        let v: Value = serde_json::from_slice(&bytes).ok()?;
        Some(Token {
            id: v.get("id")?.as_u64()?,
            offset: usize::try_from(v.get("start")?.as_u64()?).ok()?,
            rv: v.get("rv")?.as_u64()?,
        })
    }
}

impl Snapshots {
    pub fn keep(&mut self, rv: u64, items: Arc<Vec<Arc<Value>>>) -> u64 {
        self.next_id += 1;
        if self.kept.len() >= MAX_SNAPSHOTS {
            self.kept.pop_front();
        }
        self.kept.push_back(Snapshot {
            id: self.next_id,
            rv,
            items,
        });
        self.next_id
    }

    pub fn find(&self, id: u64) -> Option<&Snapshot> {
        self.kept.iter().find(|s| s.id == id)
    }

    /// Forget every snapshot (compaction): outstanding tokens expire.
    pub fn clear(&mut self) {
        self.kept.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let t = Token {
            id: 3,
            offset: 500,
            rv: 42,
        };
        assert_eq!(Token::decode(&t.encode()), Some(t));
        assert_eq!(Token::decode("not-a-token"), None);
    }

    #[test]
    fn old_snapshots_expire() {
        let mut s = Snapshots::default();
        let first = s.keep(1, Arc::new(vec![]));
        for _ in 0..MAX_SNAPSHOTS {
            s.keep(2, Arc::new(vec![]));
        }
        assert!(s.find(first).is_none());
        assert!(s.find(first + 1).is_some());
    }
}
