//! Feature extraction: hashed word n-grams, hashed character n-grams inside word boundaries, and a few dense
//! features (VADER scores).
//!
//! Every text becomes a sparse vector over `2^bits` hash buckets plus [`FeatureConfig::n_dense`] dense slots after
//! them. Sparse features are binary (presence), then the vector is scaled to unit L2 norm so that long and short
//! posts take SGD steps of similar size; dense features are appended unscaled times `dense_scale`.

use serde::{Deserialize, Serialize};

use crate::hash::{hash_bytes, hash_pair};
use crate::tokenize::{TokenKind, Tokens, tokenize_into};

// Namespaces keep feature families apart: a word and a character n-gram with the same bytes hash differently.
const NS_TOKEN: u64 = 0x746f_6b65_6e00_0001;
const NS_BIGRAM: u64 = 0x6269_6772_616d_0002;
const NS_TRIGRAM: u64 = 0x7472_6967_7261_0003;
const NS_CHAR: u64 = 0x6368_6172_6e67_0004;
const NS_FLAG: u64 = 0x666c_6167_7300_0005;
/// Virtual tokens at the start and end of a text, so bigrams capture "starts with `why`" / "ends with `?`".
const BOS: u64 = 0x0b05_0b05_0b05_0b05;
const EOS: u64 = 0x0e05_0e05_0e05_0e05;
/// Character n-grams are taken from at most this many characters of a token (bounds work on junk like URLs
/// without a scheme or 300-letter "words").
const MAX_CHARS_PER_TOKEN: usize = 40;

/// Number of VADER dense features: neg, neu, pos, compound, max(compound, 0), max(-compound, 0).
pub const VADER_FEATURES: usize = 6;

/// How texts become feature vectors. Stored in every model header: a model is only valid with its own config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// Hashed feature space is `2^bits` buckets.
    pub bits: u8,
    /// Longest word n-gram (1 = unigrams, 2 = +bigrams, 3 = +trigrams).
    pub word_ngrams: u8,
    /// Shortest character n-gram (0 disables character n-grams).
    pub char_min: u8,
    /// Longest character n-gram.
    pub char_max: u8,
    /// Append VADER scores as dense features.
    pub vader: bool,
    /// Multiplier for dense features (they are not L2-normalised with the sparse part).
    pub dense_scale: f32,
    /// Scale the binary n-gram features to unit L2 norm (otherwise each present n-gram has value 1).
    pub l2_normalize: bool,
    /// Hash seed.
    pub seed: u64,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            bits: 20,
            word_ngrams: 2,
            char_min: 2,
            char_max: 5,
            vader: true,
            dense_scale: 1.0,
            l2_normalize: true,
            seed: 0x0065_6172_7368_6f74,
        }
    }
}

impl FeatureConfig {
    /// Number of dense slots after the hashed buckets.
    #[must_use]
    pub fn n_dense(&self) -> usize {
        if self.vader { VADER_FEATURES } else { 0 }
    }

    /// Total feature dimension (hashed buckets + dense slots).
    #[must_use]
    pub fn dim(&self) -> usize {
        (1usize << self.bits) + self.n_dense()
    }

    /// Checks the values a model file could carry.
    ///
    /// # Errors
    /// A human-readable reason when the config cannot be used.
    pub fn validate(&self) -> Result<(), String> {
        if !(8..=26).contains(&self.bits) {
            return Err(format!("bits must be in 8..=26, got {}", self.bits));
        }
        if !(1..=3).contains(&self.word_ngrams) {
            return Err(format!("word_ngrams must be 1..=3, got {}", self.word_ngrams));
        }
        if self.char_min > 0 && (self.char_min > self.char_max || self.char_max > 8) {
            return Err(format!("bad char n-gram range {}..={}", self.char_min, self.char_max));
        }
        if !self.dense_scale.is_finite() {
            return Err("dense_scale must be finite".into());
        }
        Ok(())
    }
}

/// A sparse feature vector: parallel index/value arrays, indices strictly increasing.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SparseVec {
    /// Feature indices (`< dim`), strictly increasing.
    pub idx: Vec<u32>,
    /// Values, same length as `idx`.
    pub val: Vec<f32>,
}

impl SparseVec {
    /// Remove all entries, keeping capacity.
    pub fn clear(&mut self) {
        self.idx.clear();
        self.val.clear();
    }

    /// Number of stored entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.idx.len()
    }

    /// True when empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.idx.is_empty()
    }
}

/// Turns texts into [`SparseVec`]s. Holds scratch buffers, so reuse one per thread.
#[derive(Debug, Clone)]
pub struct Featurizer {
    cfg: FeatureConfig,
    mask: u64,
    tokens: Tokens,
    hashes: Vec<u64>,
    buckets: Vec<u32>,
    chars: Vec<u8>,
    offsets: Vec<usize>,
    vader: earshot_vader::SentimentIntensityAnalyzer,
}

impl Featurizer {
    /// A featurizer for `cfg`.
    #[must_use]
    pub fn new(cfg: FeatureConfig) -> Self {
        let mask = (1u64 << cfg.bits) - 1;
        Self {
            cfg,
            mask,
            tokens: Tokens::default(),
            hashes: Vec::with_capacity(64),
            buckets: Vec::with_capacity(1024),
            chars: Vec::with_capacity(64),
            offsets: Vec::with_capacity(64),
            vader: earshot_vader::SentimentIntensityAnalyzer::new(),
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &FeatureConfig {
        &self.cfg
    }

    /// Featurize `text` into `out` (cleared first).
    pub fn featurize(&mut self, text: &str, out: &mut SparseVec) {
        out.clear();
        tokenize_into(text, &mut self.tokens);
        let seed = self.cfg.seed;
        let mask = self.mask;
        self.hashes.clear();
        self.buckets.clear();
        for (tok, _) in self.tokens.iter() {
            self.hashes.push(hash_bytes(seed ^ NS_TOKEN, tok.as_bytes()));
        }
        for &h in &self.hashes {
            self.buckets.push((h & mask) as u32);
        }
        if self.cfg.word_ngrams >= 2 {
            let n = self.hashes.len();
            for i in 0..=n {
                let a = if i == 0 { BOS } else { self.hashes[i - 1] };
                let b = if i == n { EOS } else { self.hashes[i] };
                self.buckets.push((hash_pair(seed ^ NS_BIGRAM, a, b) & mask) as u32);
            }
        }
        if self.cfg.word_ngrams >= 3 {
            let n = self.hashes.len();
            for i in 2..n {
                let ab = hash_pair(seed ^ NS_TRIGRAM, self.hashes[i - 2], self.hashes[i - 1]);
                self.buckets.push((hash_pair(seed ^ NS_TRIGRAM, ab, self.hashes[i]) & mask) as u32);
            }
        }
        if self.tokens.all_caps_words > 0 {
            self.buckets.push((hash_bytes(seed ^ NS_FLAG, b"all_caps") & mask) as u32);
        }
        if self.cfg.char_min > 0 {
            self.char_ngrams();
        }
        self.buckets.sort_unstable();
        self.buckets.dedup();
        if !self.buckets.is_empty() {
            let v = if self.cfg.l2_normalize { 1.0 / (self.buckets.len() as f32).sqrt() } else { 1.0 };
            out.idx.extend_from_slice(&self.buckets);
            out.val.resize(self.buckets.len(), v);
        }
        if self.cfg.vader {
            let p = self.vader.polarity_scores(text);
            let base = 1u32 << self.cfg.bits;
            let s = self.cfg.dense_scale;
            let c = p.compound as f32;
            let dense = [p.neg as f32, p.neu as f32, p.pos as f32, c, c.max(0.0), (-c).max(0.0)];
            for (k, d) in dense.into_iter().enumerate() {
                out.idx.push(base + k as u32);
                out.val.push(d * s);
            }
        }
    }

    /// Character n-grams of each word token, padded with a space on both sides (like scikit-learn's `char_wb`).
    fn char_ngrams(&mut self) {
        let (lo, hi) = (usize::from(self.cfg.char_min), usize::from(self.cfg.char_max));
        let seed = self.cfg.seed ^ NS_CHAR;
        for t in &self.tokens.tokens {
            if t.kind != TokenKind::Word {
                continue;
            }
            let word = &self.tokens.text[t.start as usize..t.end as usize];
            self.chars.clear();
            self.offsets.clear();
            self.chars.push(b' ');
            self.offsets.push(0);
            for (k, (off, _)) in word.char_indices().enumerate() {
                if k == MAX_CHARS_PER_TOKEN {
                    break;
                }
                self.offsets.push(1 + off);
            }
            let used = if self.offsets.len() > MAX_CHARS_PER_TOKEN {
                self.offsets[MAX_CHARS_PER_TOKEN] - 1
            } else {
                word.len()
            };
            self.chars.extend_from_slice(&word.as_bytes()[..used]);
            self.offsets.push(self.chars.len());
            self.chars.push(b' ');
            self.offsets.push(self.chars.len());
            let nchars = self.offsets.len() - 1;
            for n in lo..=hi {
                if n > nchars {
                    break;
                }
                for i in 0..=(nchars - n) {
                    let g = &self.chars[self.offsets[i]..self.offsets[i + n]];
                    self.buckets.push((hash_bytes(seed, g) & self.mask) as u32);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(vader: bool) -> FeatureConfig {
        FeatureConfig { bits: 16, vader, ..FeatureConfig::default() }
    }

    #[test]
    fn counts_match_hand_computation() {
        // "ab cd": unigrams 2, bigrams 3 (BOS-ab, ab-cd, cd-EOS), char n-grams of " ab " (4 chars): n=2:3, n=3:2,
        // n=4:1 -> 6 per word, 12 total. 17 distinct features barring collisions in 65,536 buckets.
        let mut f = Featurizer::new(cfg(false));
        let mut v = SparseVec::default();
        f.featurize("ab cd", &mut v);
        assert_eq!(v.len(), 17);
        assert!(v.idx.windows(2).all(|w| w[0] < w[1]));
        let norm: f32 = v.val.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-5);
    }

    #[test]
    fn vader_slots_follow_buckets() {
        let c = cfg(true);
        let mut f = Featurizer::new(c.clone());
        let mut v = SparseVec::default();
        f.featurize("I love it", &mut v);
        let base = 1u32 << c.bits;
        let dense: Vec<_> = v.idx.iter().zip(&v.val).filter(|(i, _)| **i >= base).collect();
        assert_eq!(dense.len(), VADER_FEATURES);
        assert!(*dense[3].1 > 0.5, "compound of 'I love it' is positive");
        assert!(v.idx.iter().all(|&i| (i as usize) < c.dim()));
    }

    #[test]
    fn empty_text_has_only_boundary_bigram() {
        let mut f = Featurizer::new(cfg(false));
        let mut v = SparseVec::default();
        f.featurize("", &mut v);
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn config_validation() {
        assert!(FeatureConfig::default().validate().is_ok());
        assert!(FeatureConfig { bits: 40, ..FeatureConfig::default() }.validate().is_err());
        assert!(FeatureConfig { char_min: 5, char_max: 2, ..FeatureConfig::default() }.validate().is_err());
    }
}
