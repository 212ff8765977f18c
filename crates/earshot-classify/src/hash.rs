//! Stable, seeded feature hashing.
//!
//! Model files store weights indexed by hash bucket, so the hash must never change between builds, platforms or
//! Rust versions: `std`'s `RandomState`/`DefaultHasher` are explicitly unstable and are never used here. The
//! function below is FxHash's word-at-a-time rotate-xor-multiply loop (as in `rustc-hash` 1.x), fed explicit
//! little-endian words and finished with MurmurHash3's `fmix64` avalanche so that the *low* bits used for bucket
//! selection depend on every input bit (plain FxHash has weak low bits). Changing anything here invalidates every
//! shipped model, which is why [`HASH_ID`] is recorded in each model header and checked on load.

/// Identifier of this hash function, written to model headers and checked when loading.
pub const HASH_ID: &str = "fxhash64-fmix64-le-v1";

const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// MurmurHash3's 64-bit finaliser: a bijective avalanche so every output bit depends on every input bit.
#[inline]
#[must_use]
pub fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h
}

#[inline]
fn step(h: u64, w: u64) -> u64 {
    (h.rotate_left(5) ^ w).wrapping_mul(K)
}

/// Hash `bytes` under `seed` (callers pass a per-feature-family namespace mixed with the model seed).
#[inline]
#[must_use]
pub fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = step(seed, bytes.len() as u64);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = step(h, u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        h = step(h, tail_word(rest));
    }
    fmix64(h)
}

/// The 1–7 bytes of `rest` as a little-endian word, zero-padded: `u64::from_le_bytes` of them copied into a zeroed
/// `[u8; 8]`, built from at most two overlapping loads instead (a variable-length copy is a `memcpy` call, and every
/// token and character n-gram of every post ends in such a tail). Overlapping bytes are OR-ed with themselves.
#[inline]
fn tail_word(rest: &[u8]) -> u64 {
    let n = rest.len();
    debug_assert!((1..8).contains(&n));
    if n >= 4 {
        let lo = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let hi = u32::from_le_bytes([rest[n - 4], rest[n - 3], rest[n - 2], rest[n - 1]]);
        u64::from(lo) | (u64::from(hi) << (8 * (n - 4)))
    } else {
        u64::from(rest[0]) | (u64::from(rest[n / 2]) << (8 * (n / 2))) | (u64::from(rest[n - 1]) << (8 * (n - 1)))
    }
}

/// A 64-bit identity for `bytes` in caches keyed by hash alone (the per-thread word cache), where two inputs sharing
/// a key would silently share a result. [`hash_bytes`] cannot serve: its rotate-xor-multiply loop is linear enough
/// that a difference in one word can cancel one in the next (`siguiente` and `siguiendo` share a hash under some
/// seeds), which is harmless for feature buckets (collisions are part of hashing) but not for an identity. Here each
/// word is folded in with a full 64×64→128-bit multiply whose halves are xor-ed (wyhash's "mum"), which is not
/// linear in either operand, and the result goes through `fmix64`: two inputs collide only by a ~2^-64 accident. Not
/// stored anywhere, so it may change freely.
#[inline]
#[must_use]
pub fn identity_hash(bytes: &[u8]) -> u64 {
    const SEED: u64 = 0x9e37_79b9_7f4a_7c15;
    const M: u64 = 0xe703_7ed1_a0b4_28db;
    #[inline]
    fn mum(a: u64, b: u64) -> u64 {
        let p = u128::from(a) * u128::from(b);
        (p as u64) ^ ((p >> 64) as u64)
    }
    let mut h = SEED ^ bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = mum(h ^ w, M);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        h = mum(h ^ tail_word(rest), M);
    }
    fmix64(h)
}

/// Combine two already-mixed hashes (e.g. two word hashes into a bigram), order-sensitive.
#[inline]
#[must_use]
pub fn hash_pair(seed: u64, a: u64, b: u64) -> u64 {
    fmix64(step(step(seed, a), b))
}

/// A 64-bit digest of a sequence of byte strings, used to fingerprint training data in model headers.
#[derive(Debug, Clone)]
pub struct Digest {
    state: u64,
    n: u64,
}

impl Default for Digest {
    fn default() -> Self {
        Self { state: 0x6a09_e667_f3bc_c908, n: 0 }
    }
}

impl Digest {
    /// Feed one item (its length is mixed in, so `["ab","c"]` and `["a","bc"]` differ).
    pub fn update(&mut self, bytes: &[u8]) {
        self.state = hash_pair(0x0123_4567_89ab_cdef, self.state, hash_bytes(self.n, bytes));
        self.n += 1;
    }

    /// Hex digest of everything fed so far.
    #[must_use]
    pub fn hex(&self) -> String {
        format!("{:016x}", fmix64(self.state ^ self.n))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn identity_hash_separates_what_the_feature_hash_confuses() {
        assert_ne!(identity_hash(b"siguiente"), identity_hash(b"siguiendo"));
        // Every word of a real vocabulary gets its own identity.
        let words =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../earshot-vader/data/vader_lexicon.txt"))
                .expect("VADER's lexicon");
        let distinct: std::collections::HashSet<&str> = words.lines().filter_map(|l| l.split('\t').next()).collect();
        let ids: std::collections::HashSet<u64> = distinct.iter().map(|w| identity_hash(w.as_bytes())).collect();
        assert_eq!(ids.len(), distinct.len());
        let n = distinct.len();
        assert!(n > 7000);
    }

    use super::*;

    #[test]
    fn hash_is_pinned() {
        // Pinned values: if these change, every shipped model silently breaks. Bump HASH_ID and retrain instead.
        assert_eq!(hash_bytes(0, b"hello"), 0x7bfc_b015_ea00_c929);
        assert_eq!(hash_pair(0, 1, 2), 0x5aa6_13d5_81ed_de2b);
        let a = hash_bytes(1, b"hello");
        let b = hash_bytes(1, b"hello");
        assert_eq!(a, b);
        assert_ne!(hash_bytes(1, b"hello"), hash_bytes(2, b"hello"));
        assert_ne!(hash_bytes(1, b"hello"), hash_bytes(1, b"hellp"));
        assert_ne!(hash_bytes(1, b"abcdefgh"), hash_bytes(1, b"abcdefgh\0"));
        assert_ne!(hash_pair(0, a, b ^ 1), hash_pair(0, b ^ 1, a));
    }

    #[test]
    fn tail_word_is_the_zero_padded_little_endian_word() {
        let bytes: Vec<u8> = (1..=7).map(|i| 0x10 * i + i).collect();
        for n in 1..8 {
            let mut buf = [0u8; 8];
            buf[..n].copy_from_slice(&bytes[..n]);
            assert_eq!(tail_word(&bytes[..n]), u64::from_le_bytes(buf), "{n} bytes");
            let ones = vec![0xff; n];
            buf = [0; 8];
            buf[..n].copy_from_slice(&ones);
            assert_eq!(tail_word(&ones), u64::from_le_bytes(buf), "{n} bytes of 0xff");
        }
    }

    #[test]
    fn low_bits_are_spread() {
        // 4096 similar keys into 256 buckets: no bucket should get a large share.
        let mut counts = [0u32; 256];
        for i in 0..4096u32 {
            let h = hash_bytes(7, format!("w{i}").as_bytes());
            counts[(h & 255) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| c < 40), "{counts:?}");
    }

    #[test]
    fn digest_separates_items() {
        let mut a = Digest::default();
        a.update(b"ab");
        a.update(b"c");
        let mut b = Digest::default();
        b.update(b"a");
        b.update(b"bc");
        assert_ne!(a.hex(), b.hex());
    }
}
