//! Feature extraction: hashed word n-grams, hashed character n-grams inside word boundaries, and a few dense
//! features (VADER scores).
//!
//! Every text becomes a sparse vector over `2^bits` hash buckets plus [`FeatureConfig::n_dense`] dense slots after
//! them. Sparse features are counts ([`FeatureConfig::counts`]) or binary (presence, older models), optionally
//! scaled by `1/sqrt(number of n-gram occurrences)` so that long and short posts take SGD steps of similar size;
//! dense features are appended unscaled times `dense_scale`.
//!
//! With counts, a text's sparse vector is the sum of its tokens' vectors (unigram + character n-grams of each
//! token) plus its word bigrams. That additivity is what lets [`crate::ClassifierSet`] cache each word's summed
//! weights and score a firehose with a handful of memory reads per word instead of one per character n-gram.

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
    /// Scale the n-gram features by `1/sqrt(occurrences)` (unit L2 norm for binary features; otherwise each
    /// n-gram has value 1 per occurrence).
    pub l2_normalize: bool,
    /// Count repeated n-grams (term frequency) instead of recording presence. Models trained before this option
    /// existed are binary, hence the serde default.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub counts: bool,
    /// Word bigrams and trigrams hash into the first `2^min(context_bits, bits)` buckets only (`None`: all). A small
    /// region stays cache-resident: every bigram of every post is a random read, unlike words, whose summed rows
    /// are cached per word.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_bits: Option<u8>,
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
            counts: true,
            context_bits: Some(16),
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
        if self.context_bits.is_some_and(|b| !(8..=26).contains(&b)) {
            return Err(format!("context_bits must be in 8..=26, got {:?}", self.context_bits));
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
        self.featurize_scored(text, None, out);
    }

    /// Featurize `text`, taking VADER's scores from `vader` when the caller already has them (they are only
    /// computed here when `None` and the config wants them).
    pub fn featurize_scored(&mut self, text: &str, vader: Option<&earshot_vader::Polarity>, out: &mut SparseVec) {
        out.clear();
        tokenize_into(text, &mut self.tokens);
        self.hashes.clear();
        self.buckets.clear();
        for i in 0..self.tokens.tokens.len() {
            let t = self.tokens.tokens[i];
            let word = &self.tokens.text[t.start as usize..t.end as usize];
            let h = self.token_hash(word);
            self.hashes.push(h);
            token_buckets(&self.cfg, self.mask, word, t.kind, h, &mut self.chars, &mut self.offsets, &mut self.buckets);
        }
        self.context_buckets_into_own();
        self.buckets.sort_unstable();
        if !self.buckets.is_empty() {
            let occurrences = self.buckets.len();
            if self.cfg.counts {
                // Run-length encode the sorted buckets into (bucket, count).
                let mut i = 0;
                while i < self.buckets.len() {
                    let b = self.buckets[i];
                    let mut j = i + 1;
                    while j < self.buckets.len() && self.buckets[j] == b {
                        j += 1;
                    }
                    out.idx.push(b);
                    out.val.push((j - i) as f32);
                    i = j;
                }
            } else {
                self.buckets.dedup();
                out.idx.extend_from_slice(&self.buckets);
                out.val.resize(self.buckets.len(), 1.0);
            }
            if self.cfg.l2_normalize {
                let n = if self.cfg.counts { occurrences } else { out.idx.len() };
                let v = 1.0 / (n as f32).sqrt();
                out.val.iter_mut().for_each(|x| *x *= v);
            }
        }
        if self.cfg.vader {
            let computed;
            let p = match vader {
                Some(p) => p,
                None => {
                    computed = self.vader.polarity_scores(text);
                    &computed
                }
            };
            let base = 1u32 << self.cfg.bits;
            for (k, d) in dense_features(&self.cfg, p).into_iter().enumerate() {
                out.idx.push(base + k as u32);
                out.val.push(d);
            }
        }
    }

    /// Seeded hash of a token's text (the unigram feature, and the input of bigram hashes).
    #[inline]
    pub(crate) fn token_hash(&self, token: &str) -> u64 {
        hash_bytes(self.cfg.seed ^ NS_TOKEN, token.as_bytes())
    }

    /// The tokens of the last featurized (or [`Featurizer::tokenize`]d) text.
    pub(crate) fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// Tokenize `text` only (the caller then works token by token).
    pub(crate) fn tokenize(&mut self, text: &str) {
        tokenize_into(text, &mut self.tokens);
    }

    /// Pushes the own buckets of token `i` of the last tokenized text (its unigram and, for words, its character
    /// n-grams) onto `out`; `hash` is its [`Featurizer::token_hash`].
    pub(crate) fn token_buckets_into(&mut self, i: usize, hash: u64, out: &mut Vec<u32>) {
        let t = self.tokens.tokens[i];
        let word = &self.tokens.text[t.start as usize..t.end as usize];
        token_buckets(&self.cfg, self.mask, word, t.kind, hash, &mut self.chars, &mut self.offsets, out);
    }

    /// VADER's scores for `text`, from this featurizer's analyzer.
    pub(crate) fn polarity(&self, text: &str) -> earshot_vader::Polarity {
        self.vader.polarity_scores(text)
    }

    /// Pushes the buckets that depend on more than one token (word bigrams and trigrams, the all-caps flag) onto
    /// `out`, given the token hashes in order.
    pub(crate) fn context_buckets(&self, hashes: &[u64], all_caps_words: u32, out: &mut Vec<u32>) {
        let seed = self.cfg.seed;
        let mask = self.cfg.context_bits.map_or(self.mask, |b| (1u64 << b.min(self.cfg.bits)) - 1);
        if self.cfg.word_ngrams >= 2 {
            let n = hashes.len();
            for i in 0..=n {
                let a = if i == 0 { BOS } else { hashes[i - 1] };
                let b = if i == n { EOS } else { hashes[i] };
                out.push((hash_pair(seed ^ NS_BIGRAM, a, b) & mask) as u32);
            }
        }
        if self.cfg.word_ngrams >= 3 {
            for i in 2..hashes.len() {
                let ab = hash_pair(seed ^ NS_TRIGRAM, hashes[i - 2], hashes[i - 1]);
                out.push((hash_pair(seed ^ NS_TRIGRAM, ab, hashes[i]) & mask) as u32);
            }
        }
        if all_caps_words > 0 {
            out.push((hash_bytes(seed ^ NS_FLAG, b"all_caps") & mask) as u32);
        }
    }

    fn context_buckets_into_own(&mut self) {
        let mut buckets = std::mem::take(&mut self.buckets);
        self.context_buckets(&self.hashes, self.tokens.all_caps_words, &mut buckets);
        self.buckets = buckets;
    }
}

/// The dense VADER features for `p`: neg, neu, pos, compound, max(compound, 0), max(-compound, 0), times
/// `dense_scale`.
#[must_use]
pub fn dense_features(cfg: &FeatureConfig, p: &earshot_vader::Polarity) -> [f32; VADER_FEATURES] {
    let s = cfg.dense_scale;
    let c = p.compound as f32;
    [p.neg as f32, p.neu as f32, p.pos as f32, c, c.max(0.0), (-c).max(0.0)].map(|d| d * s)
}

/// A token's unigram bucket and, for words, the buckets of its character n-grams, padded with a space on both
/// sides (like scikit-learn's `char_wb`).
#[allow(clippy::too_many_arguments)] // scratch buffers are passed in so the hot path allocates nothing
fn token_buckets(
    cfg: &FeatureConfig,
    mask: u64,
    word: &str,
    kind: TokenKind,
    hash: u64,
    chars: &mut Vec<u8>,
    offsets: &mut Vec<usize>,
    out: &mut Vec<u32>,
) {
    out.push((hash & mask) as u32);
    if cfg.char_min == 0 || kind != TokenKind::Word {
        return;
    }
    let (lo, hi) = (usize::from(cfg.char_min), usize::from(cfg.char_max));
    let seed = cfg.seed ^ NS_CHAR;
    chars.clear();
    offsets.clear();
    chars.push(b' ');
    offsets.push(0);
    for (k, (off, _)) in word.char_indices().enumerate() {
        if k == MAX_CHARS_PER_TOKEN {
            break;
        }
        offsets.push(1 + off);
    }
    let used = if offsets.len() > MAX_CHARS_PER_TOKEN { offsets[MAX_CHARS_PER_TOKEN] - 1 } else { word.len() };
    chars.extend_from_slice(&word.as_bytes()[..used]);
    offsets.push(chars.len());
    chars.push(b' ');
    offsets.push(chars.len());
    let nchars = offsets.len() - 1;
    for n in lo..=hi {
        if n > nchars {
            break;
        }
        for i in 0..=(nchars - n) {
            out.push((hash_bytes(seed, &chars[offsets[i]..offsets[i + n]]) & mask) as u32);
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
