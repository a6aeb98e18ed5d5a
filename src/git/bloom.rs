//! git's changed-path Bloom filters (`commit-graph write --changed-paths`).
//!
//! Each commit in a commit-graph may carry a filter of the paths that differ
//! from its first parent (every changed file and each of its leading
//! directories). A path whose key is not in the filter certainly did not
//! change, so `git log -- PATH` skips the tree comparison; so do we. The
//! hashing is git's (`bloom.c`): seeded 32-bit murmur3, double hashing for
//! the `k` probes, bit `n` of a filter at byte `n / 8`, bit `n % 8`. Version 1
//! filters were written by a murmur3 that read bytes as signed `char`, which
//! only differs for bytes of 0x80 and above; both are implemented.

/// How a commit-graph's filters were made (the BDAT chunk's header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BloomSettings {
    /// 1 (signed-char murmur3) or 2.
    pub hash_version: u32,
    pub num_hashes: u32,
}

const SEED0: u32 = 0x293a_e76f;
const SEED1: u32 = 0x7e64_6e2c;

fn murmur3(seed: u32, data: &[u8], signed_bytes: bool) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let byte = |b: u8| -> u32 {
        if signed_bytes {
            b as i8 as i32 as u32
        } else {
            u32::from(b)
        }
    };
    let mut h = seed;
    let blocks = data.len() / 4;
    for i in 0..blocks {
        let b = &data[4 * i..4 * i + 4];
        let mut k = byte(b[0]) | byte(b[1]) << 8 | byte(b[2]) << 16 | byte(b[3]) << 24;
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = &data[4 * blocks..];
    let mut k1: u32 = 0;
    if tail.len() >= 3 {
        k1 ^= byte(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        k1 ^= byte(tail[1]) << 8;
    }
    if !tail.is_empty() {
        k1 ^= byte(tail[0]);
        k1 = k1.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k1;
    }
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h
}

/// The probe positions of one path in filters made with `settings`.
#[derive(Debug, Clone)]
pub(crate) struct BloomKey(Vec<u32>);

impl BloomKey {
    pub fn new(path: &str, settings: BloomSettings) -> BloomKey {
        let signed = settings.hash_version == 1;
        let h0 = murmur3(SEED0, path.as_bytes(), signed);
        let h1 = murmur3(SEED1, path.as_bytes(), signed);
        BloomKey(
            (0..settings.num_hashes)
                .map(|i| h0.wrapping_add(i.wrapping_mul(h1)))
                .collect(),
        )
    }

    /// Whether the filter may hold the key (`None`: an empty filter says
    /// nothing, and the trees must be compared).
    pub fn maybe_in(&self, filter: &[u8]) -> Option<bool> {
        let bits = filter.len() as u64 * 8;
        if bits == 0 {
            return None;
        }
        Some(self.0.iter().all(|h| {
            let pos = u64::from(*h) % bits;
            filter[(pos / 8) as usize] & (1 << (pos % 8)) != 0
        }))
    }
}

/// The keys git checks for a pathspec `a/b/c`: the path and each leading
/// directory (`a/b/c`, `a/b`, `a`). All must be present for a maybe.
pub(crate) fn keys_for(comps: &[String], settings: BloomSettings) -> Vec<BloomKey> {
    (1..=comps.len())
        .rev()
        .map(|n| BloomKey::new(&comps[..n].join("/"), settings))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur3_matches_the_reference_vectors() {
        // Vectors of the reference MurmurHash3_x86_32 (also in git's t0095).
        assert_eq!(murmur3(0, b"", false), 0x0000_0000);
        assert_eq!(murmur3(0, b"Hello world!", false), 0x627b_0c2c);
        assert_eq!(
            murmur3(0, b"The quick brown fox jumps over the lazy dog", false),
            0x2e4f_f723
        );
        // Signed bytes change nothing for ASCII, and something above 0x7f.
        assert_eq!(
            murmur3(7, b"apps/web", true),
            murmur3(7, b"apps/web", false)
        );
        assert_ne!(
            murmur3(7, "apps/café".as_bytes(), true),
            murmur3(7, "apps/café".as_bytes(), false)
        );
    }

    #[test]
    fn a_filter_holds_what_was_added_and_an_empty_one_says_nothing() {
        let settings = BloomSettings {
            hash_version: 2,
            num_hashes: 7,
        };
        let mut filter = vec![0u8; 8];
        let added = BloomKey::new("apps/web", settings);
        for h in &added.0 {
            let pos = u64::from(*h) % 64;
            filter[(pos / 8) as usize] |= 1 << (pos % 8);
        }
        assert_eq!(added.maybe_in(&filter), Some(true));
        assert_eq!(
            BloomKey::new("apps/db", settings).maybe_in(&filter),
            Some(false)
        );
        assert_eq!(added.maybe_in(&[]), None);
        let keys = keys_for(&["apps".into(), "web".into()], settings);
        assert_eq!(keys.len(), 2);
    }
}
