//! Hash maps keyed by object id for the history walk. A walk over 50,000
//! commits does several map operations per commit; with `HashMap<Oid, _>`
//! each one ran SipHash over 20 bytes and each key comparison was an FFI call
//! into libgit2's `git_oid_equal`, about a tenth of the walk in a profile.
//! Object ids are uniformly random already, so their first 8 bytes are a
//! good hash on their own and a plain byte array compares inline.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use git2::Oid;

/// An object id as plain bytes (SHA-1 length; longer ids are cut, which at
/// 160 bits cannot make two real objects collide).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IdKey([u8; 20]);

impl From<Oid> for IdKey {
    fn from(oid: Oid) -> Self {
        let mut key = [0u8; 20];
        let bytes = oid.as_bytes();
        let n = bytes.len().min(key.len());
        key[..n].copy_from_slice(&bytes[..n]);
        IdKey(key)
    }
}

impl Hash for IdKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let [a, b, c, d, e, f, g, h, ..] = self.0;
        state.write_u64(u64::from_le_bytes([a, b, c, d, e, f, g, h]));
    }
}

/// An FxHash-style hasher: one multiply per word. Fine for object ids (and
/// for `Oid`'s own `Hash`, which writes its bytes), not for untrusted keys
/// chosen to collide, which an object id cannot be without breaking SHA-1.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
}

pub(crate) type IdBuild = BuildHasherDefault<IdHasher>;
pub(crate) type IdMap<V> = HashMap<IdKey, V, IdBuild>;
pub(crate) type IdSet = HashSet<IdKey, IdBuild>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_compare_and_hash_by_id() {
        let a = Oid::from_bytes(&[1; 20]).unwrap();
        let b = Oid::from_bytes(&[2; 20]).unwrap();
        let mut set = IdSet::default();
        assert!(set.insert(IdKey::from(a)));
        assert!(!set.insert(IdKey::from(a)));
        assert!(set.insert(IdKey::from(b)));
        let mut by_oid: HashMap<Oid, u8, IdBuild> = HashMap::default();
        by_oid.insert(a, 1);
        assert_eq!(by_oid.get(&a), Some(&1));
        assert_eq!(by_oid.get(&b), None);
    }
}
