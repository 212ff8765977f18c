//! Near-duplicate text clusters with MinHash and LSH banding, online and per brand.
//!
//! A post's words ([`crate::campaign::tokens`]) are cut into overlapping 3-word shingles; the
//! signature keeps, for each of [`NUM_HASHES`] hash functions, the smallest hash of any shingle, so
//! two signatures agree in a position with probability equal to the texts' Jaccard similarity. The
//! signature is cut into [`BANDS`] bands of [`ROWS`] rows; two texts sharing any band are
//! candidates, which happens with probability `1 - (1 - J^4)^8`: about 0.9 at J = 0.7 (a
//! copy-pasted text with one word changed) and under 0.05 at J = 0.3.
//!
//! [`TextClusters`] turns that into an online clustering: a post joins the cluster of any recent
//! band bucket it falls into (the oldest cluster when several match, so a recurring text keeps one
//! id and its baseline), otherwise it founds a cluster named by the hash of its signature; all its
//! band buckets then point to that cluster. The cluster id is the `text` campaign key.
//!
//! Hand-written rather than taken from a crate: the MinHash crates found (`gaoya`, `probminhash`)
//! seed their band tables with per-process random hash states, are not `Serialize`, and bring
//! `rayon` and more; the tracker needs identical clusters after a JSON snapshot and across runs, and
//! the whole algorithm is the few lines below with fixed seeds.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::campaign::Fnv;

/// Hash functions in a signature.
pub const NUM_HASHES: usize = BANDS * ROWS;
/// LSH bands.
pub const BANDS: usize = 8;
/// Rows per band.
pub const ROWS: usize = 4;
/// Words per shingle.
pub const SHINGLE: usize = 3;

/// A MinHash signature.
pub type Signature = [u64; NUM_HASHES];

/// SplitMix64's finalizer: a fast, well-mixed 64-bit permutation.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The fixed per-function seeds.
fn seed(i: usize) -> u64 {
    mix(0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(i as u64 + 1))
}

/// The signature of a token list, or `None` with fewer than `min_tokens` tokens (or fewer than
/// [`SHINGLE`]).
pub fn signature(tokens: &[String], min_tokens: usize) -> Option<Signature> {
    if tokens.len() < min_tokens.max(SHINGLE) {
        return None;
    }
    let seeds: [u64; NUM_HASHES] = std::array::from_fn(seed);
    let mut sig = [u64::MAX; NUM_HASHES];
    for w in tokens.windows(SHINGLE) {
        let mut h = Fnv::new();
        for t in w {
            h.write(t.as_bytes());
            h.write(&[0x1f]);
        }
        let sh = h.finish();
        for (slot, s) in sig.iter_mut().zip(seeds) {
            *slot = (*slot).min(mix(sh ^ s));
        }
    }
    Some(sig)
}

/// The band hashes of a signature (band index included, so bands never collide with each other).
pub fn band_hashes(sig: &Signature) -> [u64; BANDS] {
    std::array::from_fn(|b| {
        let mut h = Fnv::new();
        h.write(&(b as u64).to_le_bytes());
        for v in &sig[b * ROWS..(b + 1) * ROWS] {
            h.write(&v.to_le_bytes());
        }
        h.finish()
    })
}

/// Estimated Jaccard similarity of two texts from their signatures.
pub fn similarity(a: &Signature, b: &Signature) -> f64 {
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / NUM_HASHES as f64
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Bucket {
    cluster: u64,
    /// When the cluster was founded (published time of its first post).
    born: i64,
    last_seen: i64,
    /// Posts that fell into this bucket.
    hits: u32,
}

/// Recent LSH band buckets of one brand and the cluster each points to.
///
/// Bounded: a bucket not seen for `retention` seconds no longer matches, and over `cap` buckets the
/// stale ones and then those with the fewest posts (then the least recently seen) are dropped, down
/// to 3/4 of the cap: a text that recurs all day keeps its buckets, and so its cluster id and its
/// campaign baseline, while one-off texts come and go. Eviction happens only
/// on [`TextClusters::assign`], so results depend only on the posts seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextClusters {
    buckets: HashMap<u64, Bucket>,
}

impl TextClusters {
    /// The cluster of a post with signature `sig` published at `published`, judged at event time
    /// `now`, and whether the cluster existed before this post; records the post's bands.
    pub fn assign(&mut self, sig: &Signature, published: i64, now: i64, retention: i64, cap: usize) -> (u64, bool) {
        let bands = band_hashes(sig);
        // Make room first, so the table never holds more than `cap` buckets (and its hash table
        // never grows past the size `cap` needs).
        let cap = cap.max(2 * BANDS);
        if self.buckets.len() + BANDS > cap {
            self.evict(now, retention, cap * 3 / 4);
        }
        let found = bands
            .iter()
            .filter_map(|b| self.buckets.get(b))
            .filter(|b| b.last_seen > now - retention)
            .map(|b| (b.born, b.cluster))
            .min();
        let (born, cluster) = found.unwrap_or_else(|| {
            let mut h = Fnv::new();
            for v in sig {
                h.write(&v.to_le_bytes());
            }
            (published, h.finish())
        });
        for b in bands {
            let e = self.buckets.entry(b).or_insert(Bucket { cluster, born, last_seen: published, hits: 0 });
            if e.last_seen <= now - retention {
                *e = Bucket { cluster, born, last_seen: published, hits: 0 };
            } else if (born, cluster) < (e.born, e.cluster) {
                e.cluster = cluster;
                e.born = born;
            }
            e.last_seen = e.last_seen.max(published);
            e.hits = e.hits.saturating_add(1);
        }
        (cluster, found.is_some())
    }

    fn evict(&mut self, now: i64, retention: i64, target: usize) {
        self.buckets.retain(|_, b| b.last_seen > now - retention);
        if self.buckets.len() <= target {
            return;
        }
        let mut v: Vec<(u32, i64, u64)> = self.buckets.iter().map(|(h, b)| (b.hits, b.last_seen, *h)).collect();
        let excess = self.buckets.len() - target;
        // Partition rather than sort: the `excess` smallest (unique) tuples, in linear time.
        if excess < v.len() {
            v.select_nth_unstable(excess);
        }
        for (_, _, h) in v.into_iter().take(excess) {
            self.buckets.remove(&h);
        }
    }

    /// Band buckets held.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// True when no bucket is held.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Heap bytes held.
    pub fn memory_bytes(&self) -> usize {
        self.buckets.capacity() * (std::mem::size_of::<(u64, Bucket)>() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::tokens;

    fn sig(t: &str) -> Signature {
        signature(&tokens(t), 6).expect("long enough")
    }

    const BASE: &str = "We the students of Olivet demand that Gymboree stop selling clothes made \
                        with sweatshop labour in their factories today";

    #[test]
    fn similar_texts_have_similar_signatures() {
        let a = sig(BASE);
        let b = sig(&BASE.replace("today", "now"));
        let c = sig("my order from last week never arrived and nobody answers the phone at all");
        assert!(similarity(&a, &b) > 0.6, "{}", similarity(&a, &b));
        assert!(similarity(&a, &c) < 0.2, "{}", similarity(&a, &c));
        assert_eq!(similarity(&a, &a), 1.0);
    }

    #[test]
    fn short_texts_have_no_signature() {
        assert!(signature(&tokens("thanks @brand love it"), 6).is_none());
    }

    #[test]
    fn copies_with_small_edits_join_one_cluster_and_others_do_not() {
        let mut c = TextClusters::default();
        let (first, existed) = c.assign(&sig(BASE), 0, 0, 86_400, 2048);
        assert!(!existed);
        let edits = [
            format!("@gymboree {BASE}"),
            BASE.replace("Olivet", "olivet college"),
            format!("{BASE} #OlivetSocial"),
            BASE.replace("today", "now"),
        ];
        for (i, t) in edits.iter().enumerate() {
            assert_eq!(c.assign(&sig(t), i as i64, i as i64, 86_400, 2048), (first, true), "{t}");
        }
        let (other, _) = c.assign(
            &sig("my order from last week never arrived and nobody answers the phone at all"),
            10,
            10,
            86_400,
            2048,
        );
        assert_ne!(other, first);
        // After the retention, the same text founds a fresh cluster (same id: same signature).
        let later = c.assign(&sig(BASE), 100_000, 100_000, 86_400, 2048);
        assert_eq!(later, (first, false));
    }

    #[test]
    fn buckets_stay_within_the_cap() {
        let mut c = TextClusters::default();
        for i in 0..500 {
            let t = format!("unique text number {i} about nothing in particular {i} here");
            c.assign(&sig(&t), i, i, 86_400, 256);
            assert!(c.len() <= 256);
        }
    }
}
