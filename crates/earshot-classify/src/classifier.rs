//! [`Classifier`]: a loaded model plus its feature extractor, the type applications use.

use std::cell::RefCell;
use std::path::Path;

use serde::Serialize;

use crate::features::{FeatureConfig, Featurizer, SparseVec};
use crate::format::{
    ModelError, ModelHeader, RowValues, StoredLinear, StoredRows, read_linear_stored, read_model, write_model,
};
use crate::model::Model;

/// A prediction: the most probable label and every label's probability (in the model's label order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// Most probable label.
    pub label: String,
    /// Probability of the most probable label.
    pub confidence: f32,
    /// `(label, probability)` for every label, in label order; probabilities sum to 1.
    pub scores: Vec<(String, f32)>,
}

/// Per-thread scratch space for prediction, so predicting allocates nothing but the returned [`Prediction`].
#[derive(Debug, Default)]
pub struct Scratch {
    featurizers: Vec<Featurizer>,
    vec: SparseVec,
    hidden: Vec<f32>,
    probs: Vec<f32>,
}

impl Scratch {
    /// Featurize `text` with `cfg`, reusing a cached featurizer for that config.
    pub fn featurize(&mut self, cfg: &FeatureConfig, text: &str) -> &SparseVec {
        let i = match self.featurizers.iter().position(|f| f.config() == cfg) {
            Some(i) => i,
            None => {
                self.featurizers.push(Featurizer::new(cfg.clone()));
                self.featurizers.len() - 1
            }
        };
        self.featurizers[i].featurize(text, &mut self.vec);
        &self.vec
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// A trained text classifier: header (labels, configs, metrics) and weights.
#[derive(Debug, Clone)]
pub struct Classifier {
    header: ModelHeader,
    model: Model,
}

impl Classifier {
    /// Build from parts (used by training).
    #[must_use]
    pub fn from_parts(header: ModelHeader, model: Model) -> Self {
        Self { header, model }
    }

    /// Load from model-file bytes (e.g. `include_bytes!`).
    ///
    /// # Errors
    /// [`ModelError`] when the bytes are not a valid model.
    pub fn load(bytes: &[u8]) -> Result<Self, ModelError> {
        let (header, model) = read_model(bytes)?;
        Ok(Self { header, model })
    }

    /// Load from a file.
    ///
    /// # Errors
    /// [`ModelError`] on I/O failure or an invalid model.
    pub fn load_path(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        Self::load(&std::fs::read(path)?)
    }

    /// Serialise to model-file bytes (deterministic).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        write_model(&self.header, &self.model)
    }

    /// The header: labels, configs, training data digest, metrics.
    #[must_use]
    pub fn header(&self) -> &ModelHeader {
        &self.header
    }

    /// Mutable header (to attach metrics after evaluation).
    pub fn header_mut(&mut self) -> &mut ModelHeader {
        &mut self.header
    }

    /// The weights.
    #[must_use]
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Label names in score order.
    #[must_use]
    pub fn labels(&self) -> &[String] {
        &self.header.labels
    }

    /// Write each label's probability for `text` into `out` (length = number of labels), using `scratch`.
    /// This is the allocation-free hot path.
    pub fn predict_proba_with(&self, scratch: &mut Scratch, text: &str, out: &mut [f32]) {
        scratch.featurize(&self.header.features, text);
        let Scratch { vec, hidden, .. } = scratch;
        self.model.predict_proba(&vec.idx, &vec.val, hidden, out);
    }

    /// Index of the most probable label for `text` (first one on ties).
    pub fn predict_index_with(&self, scratch: &mut Scratch, text: &str) -> usize {
        let mut probs = std::mem::take(&mut scratch.probs);
        probs.resize(self.labels().len(), 0.0);
        self.predict_proba_with(scratch, text, &mut probs);
        let best = argmax(&probs);
        scratch.probs = probs;
        best
    }

    /// Predict `text` with an explicit scratch.
    pub fn predict_with(&self, scratch: &mut Scratch, text: &str) -> Prediction {
        let mut probs = vec![0f32; self.labels().len()];
        self.predict_proba_with(scratch, text, &mut probs);
        let best = argmax(&probs);
        Prediction {
            label: self.header.labels[best].clone(),
            confidence: probs[best],
            scores: self.header.labels.iter().cloned().zip(probs).collect(),
        }
    }

    /// Predict `text` (uses a thread-local scratch).
    #[must_use]
    pub fn predict(&self, text: &str) -> Prediction {
        SCRATCH.with(|s| self.predict_with(&mut s.borrow_mut(), text))
    }
}

/// Index of the largest value (first on ties; 0 for an empty slice).
#[must_use]
pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Several classifiers applied to the same texts (e.g. every shipped model on a firehose). Each text is
/// tokenized, hashed and VADER-scored once per distinct feature set rather than once per model: models whose
/// configs differ only in [`FeatureConfig::l2_normalize`] share one extraction, the normalised values being
/// derived from the raw ones.
///
/// The linear members of a feature group are scored through one fused table: each hashed bucket's weights for all
/// members side by side, so a feature costs one memory access for all models instead of one per model (firehose
/// scoring is bound by these random accesses, not by arithmetic). Only non-zero rows are kept (~280k of the 2^20
/// buckets for the shipped models), found through a small bitmap index; the word-bigram region
/// (`2^context_bits` buckets), which every post reads ~20 times, is a dense f32 array.
///
/// For count features ([`FeatureConfig::counts`]) the linear members are scored through a per-thread word cache:
/// a text's score is the sum of its tokens' summed weight rows plus its bigrams' rows, so each distinct word's
/// row sum (unigram + all its character n-grams, ~20 random reads) is computed once per thread and then costs one
/// hash-map hit.
#[derive(Debug, Clone)]
pub struct ClassifierSet {
    /// Identifies these weights, so a scratch's word cache is never reused across sets.
    id: u64,
    members: Vec<Member>,
    /// For each member: index of its feature group.
    group_of: Vec<usize>,
    /// One raw (un-normalised) config per group.
    groups: Vec<FeatureConfig>,
    /// Per group: the fused weights of its linear members.
    fused: Vec<Fused>,
}

/// One classifier of a set.
#[derive(Debug, Clone)]
struct Member {
    header: ModelHeader,
    scorer: Scorer,
}

#[derive(Debug, Clone)]
enum Scorer {
    /// A linear model, whose hashed-bucket weights live in its group's fused table.
    Fused {
        /// Column of its first class in the fused rows.
        col: usize,
        /// Biases, one per class.
        b: Vec<f32>,
        /// Weights of the dense feature slots (VADER scores), `slots × C`.
        dense: Vec<f32>,
    },
    /// Any other model, scored from the sparse feature vector.
    Model(Model),
}

/// The hashed-bucket weights of a feature group's linear members, side by side.
#[derive(Debug, Clone)]
struct Fused {
    /// Sum of the members' class counts: the meaningful length of a row.
    width: usize,
    /// Length of a row in memory: `width` plus at least one spare slot (where word-cache rows keep their n-gram
    /// count), rounded up to whole 8-float blocks so that row sums compile to fixed-size vector adds.
    stride: usize,
    n_sparse: usize,
    /// Buckets below this (the word-bigram region, `2^context_bits`) have their row in `hot`.
    hot_len: usize,
    /// Rows of buckets `0..hot_len`, dense, in f32: every post reads ~20 of them at random (2^16 × 24 × 4 bytes =
    /// 6 MB for the shipped models).
    hot: Vec<f32>,
    /// Which buckets from `hot_len` on have a non-zero row, and where it is in `cold`.
    index: RowIndex,
    /// The non-zero rows of buckets from `hot_len` on, in bucket order, in f32. They are read only when a word is
    /// seen for the first time by a thread (see [`WordCache`]), ~26 per word. (They were f16, half the memory, but
    /// converting them cost more than the memory saved: 2.2k instructions per post over the first 20k TweetEval
    /// posts, and ~5% of the time of a first pass over TweetEval train.)
    cold: Vec<f32>,
    /// The linear members (indices into [`ClassifierSet::members`]).
    members: Vec<usize>,
    /// Per column (`stride` long): its member's bias, whether its member scales the n-gram sum by
    /// `1/sqrt(occurrences)`, and (`n_dense × stride`) its dense-slot weights, so that all members' logits are
    /// computed in one pass of whole 8-float blocks; the per-member loop over 2–8 classes did not vectorize.
    /// `None` when some member has fewer dense weights than slots (then each member is scored on its own).
    columns: Option<Columns>,
    /// True when some member of the group is not linear (it needs the sparse vector).
    has_nonlinear: bool,
}

/// Maps a bucket to its row in a table holding only the non-zero rows: one bit per bucket, plus the number of set
/// bits before each block of 64. For 2^20 buckets that is 256 KB, which stays in L2, where an array of row
/// numbers would take 4 MB.
#[derive(Debug, Clone, Default)]
struct RowIndex {
    /// `(bits, rank)`: bucket `64 * i + j` has a row iff bit `j` of `blocks[i].0` is set; its row is `blocks[i].1`
    /// plus the set bits below `j`.
    blocks: Vec<(u64, u32)>,
}

impl RowIndex {
    fn new(buckets: usize) -> Self {
        Self { blocks: vec![(0, 0); buckets.div_ceil(64)] }
    }

    fn insert(&mut self, bucket: usize) {
        self.blocks[bucket / 64].0 |= 1 << (bucket % 64);
    }

    /// Computes the ranks once every bucket is inserted; returns the number of rows.
    fn finish(&mut self) -> usize {
        let mut rows = 0u32;
        for (bits, rank) in &mut self.blocks {
            *rank = rows;
            rows += bits.count_ones();
        }
        rows as usize
    }

    /// Loads the block of `bucket` (see [`Fused::touch`]).
    #[inline]
    fn touch(&self, bucket: usize) -> u64 {
        self.blocks.get(bucket / 64).map_or(0, |b| b.0)
    }

    /// The row of `bucket`, or `None` when its weights are all zero.
    #[inline]
    fn get(&self, bucket: usize) -> Option<usize> {
        let (bits, rank) = *self.blocks.get(bucket / 64)?;
        let bit = 1u64 << (bucket % 64);
        (bits & bit != 0).then(|| rank as usize + (bits & (bit - 1)).count_ones() as usize)
    }
}

impl Fused {
    /// Adds the row of `bucket` (`< n_sparse`) to `acc` (`stride` long). Buckets without a row have all-zero
    /// weights: skipping them changes nothing, since `x + 0.0 == x` for every sum that starts at `+0.0`.
    #[inline(always)]
    fn add_bucket(&self, bucket: u32, acc: &mut [f32]) {
        let b = bucket as usize;
        if b < self.hot_len {
            add_row(acc, &self.hot[b * self.stride..(b + 1) * self.stride]);
        } else if let Some(r) = self.index.get(b) {
            add_row(acc, &self.cold[r * self.stride..(r + 1) * self.stride]);
        }
    }

    /// Reads one weight of the row of a hot `bucket`, so that its cache line is on its way before the row is needed
    /// (a portable, safe prefetch: independent loads overlap, dependent ones wait in turn).
    #[inline]
    fn touch(&self, bucket: u32) -> f32 {
        let b = bucket as usize;
        if b < self.hot_len { self.hot[b * self.stride] } else { 0.0 }
    }

    /// Where the row of `bucket` is: `bucket` itself for a hot bucket, `hot_len` + its row in `cold`, or
    /// [`NO_ROW`] when its weights are all zero.
    #[inline]
    fn locate(&self, bucket: u32) -> u32 {
        let b = bucket as usize;
        if b < self.hot_len {
            bucket
        } else {
            // Fewer rows than buckets, and buckets are u32.
            self.index.get(b).map_or(NO_ROW, |r| (self.hot_len + r) as u32)
        }
    }

    /// [`Fused::touch`] for a location from [`Fused::locate`].
    #[inline]
    fn touch_loc(&self, loc: u32) -> f32 {
        let l = loc as usize;
        if l < self.hot_len {
            self.hot[l * self.stride]
        } else if loc == NO_ROW {
            0.0
        } else {
            self.cold[(l - self.hot_len) * self.stride]
        }
    }

    /// [`Fused::add_bucket`] for a location from [`Fused::locate`].
    #[inline]
    fn add_loc(&self, loc: u32, acc: &mut [f32]) {
        let l = loc as usize;
        if l < self.hot_len {
            add_row(acc, &self.hot[l * self.stride..(l + 1) * self.stride]);
        } else if loc != NO_ROW {
            let r = l - self.hot_len;
            add_row(acc, &self.cold[r * self.stride..(r + 1) * self.stride]);
        }
    }
}

/// See [`Fused::columns`].
#[derive(Debug, Clone)]
struct Columns {
    bias: Vec<f32>,
    normalized: Vec<bool>,
    dense: Vec<f32>,
}

/// [`Fused::locate`] of a bucket without a row.
const NO_ROW: u32 = u32::MAX;

/// `acc += row`, both a whole number of 8-float blocks long. Each block is copied into locals, added and stored
/// back: with fixed-size blocks that cannot overlap (the copies) the compiler emits vector adds; adding in place, it
/// must assume a store to `acc` may change `row` and adds one float at a time.
///
/// Every post adds ~30 rows (its bigrams' and its words'), so the common row lengths get a fully unrolled loop of
/// known length, selected by a branch that always goes the same way for a given set.
#[inline(always)]
fn add_row(acc: &mut [f32], row: &[f32]) {
    /// `acc += row` for `N`-float rows.
    #[inline(always)]
    fn fixed<const N: usize>(acc: &mut [f32], row: &[f32]) -> bool {
        let exact = acc.len() == N;
        match (acc.first_chunk_mut::<N>(), row.first_chunk::<N>()) {
            (Some(a), Some(r)) if exact => {
                let (a, r) = (a.as_chunks_mut::<8>().0, r.as_chunks::<8>().0);
                for (a, r) in a.iter_mut().zip(r) {
                    let (mut sum, r) = (*a, *r);
                    for k in 0..8 {
                        sum[k] += r[k];
                    }
                    *a = sum;
                }
                true
            }
            _ => false,
        }
    }
    if fixed::<24>(acc, row) || fixed::<16>(acc, row) || fixed::<32>(acc, row) || fixed::<8>(acc, row) {
        return;
    }
    for (a, r) in acc.as_chunks_mut::<8>().0.iter_mut().zip(row.as_chunks::<8>().0) {
        let (mut sum, r) = (*a, *r);
        for k in 0..8 {
            sum[k] += r[k];
        }
        *a = sum;
    }
}

/// Exact f16 → f32 for finite values, written out so that it inlines and vectorizes inside the loading loop (the
/// `half` crate's conversions dispatch on CPU features at run time, per call). Shifting the exponent and mantissa
/// into place and multiplying by 2^112 re-biases the exponent and handles subnormals.
#[inline]
fn f16_to_f32(h: u16) -> f32 {
    let magnitude = f32::from_bits(u32::from(h & 0x7fff) << 13) * f32::from_bits(0x7780_0000);
    f32::from_bits(magnitude.to_bits() | (u32::from(h & 0x8000) << 16))
}

/// True for the bit pattern of a finite f16.
#[inline]
fn f16_is_finite(h: u16) -> bool {
    h & 0x7c00 != 0x7c00
}

/// Where a linear member's weights come from while its set is built.
enum Source<'a> {
    /// A model in memory: `dim × C` weights, row-major.
    Dense { w: &'a [f32], dim: usize },
    /// A model file's stored rows, decoded straight into the fused table.
    Stored(StoredRows<'a>),
}

impl Source<'_> {
    /// Calls `f(row, values)` for every row that may be non-zero, in increasing row order.
    ///
    /// # Errors
    /// When stored rows are invalid (checked on the way, so the first walk over a source must handle this).
    fn try_for_each_row(&self, c: usize, mut f: impl FnMut(usize, RowValues<'_>)) -> Result<(), ModelError> {
        match self {
            Source::Dense { w, dim } => {
                for (r, row) in w.chunks_exact(c).take(*dim).enumerate() {
                    if row.iter().any(|&x| x != 0.0) {
                        f(r, RowValues::Floats(row));
                    }
                }
                Ok(())
            }
            Source::Stored(s) => s.try_for_each(f),
        }
    }
}

/// Writes a row's values into `dst` (as long as the row) as f32. Runs for every stored weight at every start
/// (~3M for the shipped models), hence the branch-free f16 loop.
#[inline]
fn put_f32(dst: &mut [f32], v: RowValues<'_>) {
    match v {
        RowValues::F16(b) => {
            let mut finite = true;
            for (d, h) in dst.iter_mut().zip(b.as_chunks::<2>().0) {
                let h = u16::from_le_bytes(*h);
                finite &= f16_is_finite(h);
                *d = f16_to_f32(h);
            }
            if !finite {
                // Infinities and NaNs (a degenerate model): converted exactly too.
                for (d, h) in dst.iter_mut().zip(b.as_chunks::<2>().0) {
                    *d = half::f16::from_bits(u16::from_le_bytes(*h)).to_f32();
                }
            }
        }
        v => dst.iter_mut().enumerate().for_each(|(k, d)| *d = v.get(k)),
    }
}

/// Why [`ClassifierSet::from_bytes`] failed.
#[derive(Debug, thiserror::Error)]
#[error("model file {file} of the set (counting from 0) is invalid: {source}")]
pub struct SetLoadError {
    /// Position of the invalid file in the slice given.
    pub file: usize,
    /// What is wrong with it.
    #[source]
    pub source: ModelError,
}

/// A member while its set is being built.
struct Pending<'a> {
    header: ModelHeader,
    kind: PendingKind<'a>,
}

enum PendingKind<'a> {
    Linear { b: Vec<f32>, source: Source<'a> },
    Other(Model),
}

/// Most distinct tokens whose weight sums one scratch keeps per feature group (~100 bytes each for the five
/// shipped models: ~13 MB). Past that, new words are scored without caching; results never depend on the cache.
pub const MAX_CACHED_WORDS: usize = 1 << 17;

/// Per-thread cache of each token's summed fused weight row, keyed by the token's 64-bit identity hash
/// ([`crate::hash::identity_hash`], not the feature hash, which has structured collisions). Two distinct tokens sharing
/// it among the cached ones is a ~1e-14 event per lookup; the text is not stored.
///
/// An open-addressing table (linear probing) whose slots hold the rows themselves: a token's home slot follows from
/// its hash alone, so the key and the row can be fetched together, and a hit usually costs one round of cache misses.
/// A general hash map costs three dependent ones (control bytes, then the entry, then the row it points to), and
/// every token of every post does a lookup.
#[derive(Debug, Default)]
struct WordCache {
    /// Row length: the fused stride (the token's number of n-grams sits in slot `width`).
    stride: usize,
    /// Per slot: the token's identity hash (or [`EMPTY_KEY`]) and its feature hash, which a cached word's bigrams
    /// need: stored here, the token's text is not hashed again.
    keys: Vec<(u64, u64)>,
    /// Per slot: the summed weights (`stride` floats).
    rows: Vec<f32>,
    /// Occupied slots.
    len: usize,
    /// Most words kept ([`MAX_CACHED_WORDS`] but in tests).
    max_words: usize,
}

/// The key of an empty [`WordCache`] slot; a token whose hash is 0 is stored under [`WordCache::key`] 1.
const EMPTY_KEY: u64 = 0;

impl WordCache {
    fn new(stride: usize, max_words: usize) -> Self {
        Self { stride, max_words, ..Self::default() }
    }

    /// The stored key for a token hash (never [`EMPTY_KEY`]).
    #[inline]
    fn key(hash: u64) -> u64 {
        hash.max(1)
    }

    /// The first slot probed for `key`.
    #[inline]
    fn home(&self, key: u64) -> usize {
        // Token hashes are fmix64 outputs: their low bits are as good as any.
        key as usize & (self.keys.len().wrapping_sub(1))
    }

    /// Makes room for `more` insertions without growing (growth moves rows, so it must not happen while a text
    /// holds slot numbers). Keeps the table at most 70% full.
    fn reserve(&mut self, more: usize) {
        let want = (self.len + more).min(self.max_words);
        if !self.keys.is_empty() && want * 10 <= self.keys.len() * 7 {
            return;
        }
        let mut slots = self.keys.len().max(1024);
        while want * 10 > slots * 7 {
            slots *= 2;
        }
        let old_keys = std::mem::replace(&mut self.keys, vec![(EMPTY_KEY, 0); slots]);
        let old_rows = std::mem::replace(&mut self.rows, vec![0.0; slots * self.stride]);
        for (k, row) in old_keys.iter().zip(old_rows.chunks_exact(self.stride)) {
            if k.0 != EMPTY_KEY {
                let slot = self.free_slot(k.0);
                self.keys[slot] = *k;
                self.rows[slot * self.stride..(slot + 1) * self.stride].copy_from_slice(row);
            }
        }
    }

    /// The slot holding `hash`'s row, if cached.
    #[inline]
    fn find(&self, hash: u64) -> Option<u32> {
        if self.keys.is_empty() {
            return None;
        }
        let key = Self::key(hash);
        let mask = self.keys.len() - 1;
        let mut slot = self.home(key);
        loop {
            match self.keys[slot].0 {
                k if k == key => return Some(slot as u32),
                EMPTY_KEY => return None,
                _ => slot = (slot + 1) & mask,
            }
        }
    }

    /// The first empty slot on `key`'s probe sequence (the table is never full).
    fn free_slot(&self, key: u64) -> usize {
        let mask = self.keys.len() - 1;
        let mut slot = self.home(key);
        while self.keys[slot].0 != EMPTY_KEY {
            slot = (slot + 1) & mask;
        }
        slot
    }

    /// Loads the key and the row start of `hash`'s home slot (see [`Fused::touch`]).
    #[inline]
    fn touch(&self, hash: u64) -> f32 {
        if self.keys.is_empty() {
            return 0.0;
        }
        let home = self.home(Self::key(hash));
        self.rows[home * self.stride] + f32::from(self.keys[home].0 as u8)
    }

    /// Row of slot `e`: the summed weights, with the n-gram count in slot `width`.
    #[inline]
    fn row(&self, e: u32) -> &[f32] {
        let e = e as usize;
        &self.rows[e * self.stride..(e + 1) * self.stride]
    }

    /// The feature hash of the token in slot `e`.
    #[inline]
    fn feature_hash(&self, e: u32) -> u64 {
        self.keys[e as usize].1
    }

    /// Stores `row` with the token's feature hash and returns its slot, unless the cache is full (`max_words`) or
    /// has no room reserved.
    fn insert(&mut self, hash: u64, row: &[f32], feature_hash: u64) -> Option<u32> {
        if let Some(e) = self.find(hash) {
            return Some(e);
        }
        if self.len >= self.max_words || (self.len + 1) * 10 > self.keys.len() * 7 {
            return None;
        }
        let key = Self::key(hash);
        let slot = self.free_slot(key);
        self.keys[slot] = (key, feature_hash);
        self.rows[slot * self.stride..(slot + 1) * self.stride].copy_from_slice(row);
        self.len += 1;
        Some(slot as u32)
    }
}

/// Marks a word-cache entry as a row of [`SetScratch::spill`] (cache slots stay below 2^31).
const SPILLED: u32 = 1 << 31;

/// Scratch space for [`ClassifierSet`]: featurizers, word caches and buffers for one thread.
#[derive(Debug, Default)]
pub struct SetScratch {
    set_id: u64,
    featurizers: Vec<Featurizer>,
    caches: Vec<WordCache>,
    raw: Vec<SparseVec>,
    normalized: SparseVec,
    hidden: Vec<f32>,
    probs: Vec<f32>,
    acc: Vec<f32>,
    /// Every fused member's logits (see [`Fused::columns`]).
    logits: Vec<f32>,
    word: Vec<f32>,
    hashes: Vec<u64>,
    /// Per token: its [`crate::hash::identity_hash`], the word cache's key.
    keys: Vec<u64>,
    /// Per token: its word-cache entry, `u32::MAX` while it must be computed, or [`SPILLED`] + its row in `spill`.
    entries: Vec<u32>,
    buckets: Vec<u32>,
    /// The own buckets of the tokens not in the cache, one run per token.
    own: Vec<u32>,
    /// Where the row of each bucket in `own` is (see [`Fused::locate`]).
    locs: Vec<u32>,
    /// `(token, start of its run in own)` for each token not in the cache.
    fresh: Vec<(u32, u32)>,
    /// Word rows of this text that did not fit in a full cache.
    spill: Vec<f32>,
    all_probs: Vec<Vec<f32>>,
    /// Most words per word cache; `None`: [`MAX_CACHED_WORDS`].
    word_limit: Option<usize>,
}

thread_local! {
    static SET_SCRATCH: RefCell<SetScratch> = RefCell::new(SetScratch::default());
}

static NEXT_SET_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl ClassifierSet {
    /// Group `classifiers` by feature set.
    #[must_use]
    pub fn new(classifiers: Vec<Classifier>) -> Self {
        let pending = classifiers
            .iter()
            .map(|c| Pending {
                header: c.header.clone(),
                kind: match &c.model {
                    Model::Linear(m) => PendingKind::Linear {
                        b: m.b.clone(),
                        source: Source::Dense { w: &m.w, dim: m.dim.min(m.w.len() / m.n_classes.max(1)) },
                    },
                    other => PendingKind::Other(other.clone()),
                },
            })
            .collect();
        // Models in memory are dense arrays: walking them cannot fail.
        Self::assemble(pending).unwrap_or_else(|e| unreachable!("in-memory models are valid: {e}"))
    }

    /// Loads a set from model-file bytes (e.g. `include_bytes!`), in the order given. Linear models' weights go
    /// straight from the file into the fused table: nothing is allocated per model beyond its non-zero rows, so
    /// loading the five shipped models takes milliseconds. The result scores exactly like
    /// `ClassifierSet::new` of the [`Classifier::load`]ed files.
    ///
    /// # Errors
    /// [`SetLoadError`] naming the first file (by position) that is not a valid model.
    pub fn from_bytes(files: &[&[u8]]) -> Result<Self, SetLoadError> {
        let mut pending = Vec::with_capacity(files.len());
        for (file, bytes) in files.iter().enumerate() {
            let error = |source| SetLoadError { file, source };
            pending.push(match read_linear_stored(bytes).map_err(error)? {
                Some(StoredLinear { header, b, w }) => {
                    Pending { header, kind: PendingKind::Linear { b, source: Source::Stored(w) } }
                }
                None => {
                    let Classifier { header, model } = Classifier::load(bytes).map_err(error)?;
                    Pending { header, kind: PendingKind::Other(model) }
                }
            });
        }
        Self::assemble(pending)
    }

    /// Builds the set. Only stored sources can fail (their rows are checked in the first pass over them).
    fn assemble(pending: Vec<Pending<'_>>) -> Result<Self, SetLoadError> {
        let mut groups: Vec<FeatureConfig> = Vec::new();
        let group_of: Vec<usize> = pending
            .iter()
            .map(|p| {
                let raw = FeatureConfig { l2_normalize: false, ..p.header.features.clone() };
                groups.iter().position(|g| *g == raw).unwrap_or_else(|| {
                    groups.push(raw);
                    groups.len() - 1
                })
            })
            .collect();
        let mut scorers: Vec<Option<Scorer>> = (0..pending.len()).map(|_| None).collect();
        let mut fused = Vec::with_capacity(groups.len());
        for (g, cfg) in groups.iter().enumerate() {
            let n_sparse = 1usize << cfg.bits;
            let hot_len = cfg.context_bits.map_or(0, |b| 1usize << b.min(cfg.bits));
            let mut members = Vec::new();
            let mut width = 0;
            let mut has_nonlinear = false;
            for (i, p) in pending.iter().enumerate().filter(|(i, _)| group_of[*i] == g) {
                match &p.kind {
                    PendingKind::Linear { b, .. } => {
                        members.push((i, width));
                        width += b.len();
                    }
                    PendingKind::Other(_) => has_nonlinear = true,
                }
            }
            let stride = (width + 1).div_ceil(8) * 8;
            let linear = |i: usize| match &pending[i].kind {
                PendingKind::Linear { b, source } => (b, source),
                PendingKind::Other(_) => unreachable!("members are linear"),
            };
            // Pass 1: which cold buckets have a row; the dense-slot weights.
            let mut index = RowIndex::new(n_sparse);
            for &(i, col) in &members {
                let (b, source) = linear(i);
                let c = b.len();
                let n_dense = cfg.n_dense();
                let mut dense = vec![0f32; n_dense * c];
                let walked = source.try_for_each_row(c, |r, v| {
                    if r >= n_sparse {
                        let k = r - n_sparse;
                        if k < n_dense {
                            put_f32(&mut dense[k * c..(k + 1) * c], v);
                        }
                    } else if r >= hot_len {
                        index.insert(r);
                    }
                });
                walked.map_err(|source| SetLoadError { file: i, source })?;
                // A model narrower than its config has fewer dense slots: those are skipped when scoring.
                if let Source::Dense { dim, .. } = source {
                    dense.truncate(dim.saturating_sub(n_sparse).min(n_dense) * c);
                }
                scorers[i] = Some(Scorer::Fused { col, b: b.clone(), dense });
            }
            let n_cold = index.finish();
            let columns = {
                let n_dense = cfg.n_dense();
                let mut cols = Columns {
                    bias: vec![0.0; stride],
                    normalized: vec![false; stride],
                    dense: vec![0.0; n_dense * stride],
                };
                let mut full = true;
                for &(i, col) in &members {
                    let Some(Scorer::Fused { b, dense, .. }) = &scorers[i] else { continue };
                    let c = b.len();
                    cols.bias[col..col + c].copy_from_slice(b);
                    cols.normalized[col..col + c].fill(pending[i].header.features.l2_normalize);
                    full &= dense.len() == n_dense * c;
                    for (k, w) in dense.chunks_exact(c).enumerate() {
                        cols.dense[k * stride + col..k * stride + col + c].copy_from_slice(w);
                    }
                }
                full.then_some(cols)
            };
            // Pass 2: the weights.
            let mut hot = vec![0.0; hot_len * stride];
            let mut cold = vec![0.0; n_cold * stride];
            for &(i, col) in &members {
                let (b, source) = linear(i);
                let c = b.len();
                // Checked in pass 1, so this walk cannot fail.
                let _ = source.try_for_each_row(c, |r, v| {
                    if r < hot_len {
                        put_f32(&mut hot[r * stride + col..r * stride + col + c], v);
                    } else if let Some(row) = index.get(r).filter(|_| r < n_sparse) {
                        put_f32(&mut cold[row * stride + col..row * stride + col + c], v);
                    }
                });
            }
            fused.push(Fused {
                width,
                stride,
                n_sparse,
                hot_len,
                hot,
                index,
                cold,
                members: members.iter().map(|&(i, _)| i).collect(),
                columns,
                has_nonlinear,
            });
        }
        let members = pending
            .into_iter()
            .zip(scorers)
            .map(|(p, scorer)| Member {
                scorer: match p.kind {
                    PendingKind::Other(model) => Scorer::Model(model),
                    PendingKind::Linear { .. } => {
                        scorer.unwrap_or_else(|| unreachable!("every linear member is fused"))
                    }
                },
                header: p.header,
            })
            .collect();
        let id = NEXT_SET_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Self { id, members, group_of, groups, fused })
    }

    /// Number of classifiers.
    #[must_use]
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True for a set of no classifiers.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The header of classifier `i` (in the order given).
    ///
    /// # Panics
    /// If `i >= self.len()`.
    #[must_use]
    pub fn header(&self, i: usize) -> &ModelHeader {
        &self.members[i].header
    }

    /// The label names of classifier `i`, in score order.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    #[must_use]
    pub fn labels(&self, i: usize) -> &[String] {
        &self.members[i].header.labels
    }

    /// Number of distinct feature extractions per text.
    #[must_use]
    pub fn n_feature_groups(&self) -> usize {
        self.groups.len()
    }

    /// Call `f(i, probabilities)` for every classifier `i` on `text`, in classifier order. The allocation-free
    /// hot path. Linear models are scored through the fused tables: the same maths as [`Classifier::predict`],
    /// summed in a different order, so probabilities agree to float rounding (~1e-6), not bit for bit.
    pub fn for_each_proba(&self, scratch: &mut SetScratch, text: &str, f: impl FnMut(usize, &[f32])) {
        self.for_each_proba_scored(scratch, text, None, f);
    }

    /// [`ClassifierSet::for_each_proba`] with VADER's scores for `text` supplied by the caller (who usually needs
    /// them too), so they are not computed twice.
    pub fn for_each_proba_scored(
        &self,
        scratch: &mut SetScratch,
        text: &str,
        vader: Option<&earshot_vader::Polarity>,
        mut f: impl FnMut(usize, &[f32]),
    ) {
        for (i, p) in self.probas(scratch, text, vader).iter().enumerate() {
            f(i, p);
        }
    }

    /// Every classifier's probabilities for `text` (in classifier order), borrowed from `scratch`. `vader` passes
    /// VADER's scores when the caller has them.
    pub fn probas<'s>(
        &self,
        scratch: &'s mut SetScratch,
        text: &str,
        vader: Option<&earshot_vader::Polarity>,
    ) -> &'s [Vec<f32>] {
        self.fit_scratch(scratch);
        scratch.all_probs.resize(self.members.len(), Vec::new());
        let wants_vader = self.groups.iter().any(|g| g.vader);
        let computed;
        let vader = match vader {
            Some(p) => Some(p),
            None if wants_vader => {
                computed = scratch.featurizers[0].polarity(text);
                Some(&computed)
            }
            None => None,
        };
        for g in 0..self.groups.len() {
            let fu = &self.fused[g];
            let cfg = &self.groups[g];
            let counts_path = cfg.counts && !fu.members.is_empty();
            if !counts_path || fu.has_nonlinear {
                scratch.featurizers[g].featurize_scored(text, vader, &mut scratch.raw[g]);
            }
            if fu.members.is_empty() {
                continue;
            }
            // Sum of the fused rows of the buckets present, with their counts; `n` occurrences in all.
            let n = if counts_path {
                self.sum_rows_cached(g, scratch, text)
            } else {
                scratch.acc.clear();
                scratch.acc.resize(fu.stride, 0.0);
                let v = &scratch.raw[g];
                let mut n = 0usize;
                for (&idx, &x) in v.idx.iter().zip(&v.val) {
                    if (idx as usize) < fu.n_sparse {
                        n += 1;
                        debug_assert!(x == 1.0, "binary features");
                        fu.add_bucket(idx, &mut scratch.acc);
                    }
                }
                n
            };
            let inv_norm = if n > 0 { 1.0 / (n as f32).sqrt() } else { 1.0 };
            let dense_x = match (cfg.vader, vader) {
                (true, Some(p)) => Some(crate::features::dense_features(cfg, p)),
                _ => None,
            };
            if let Some(cols) = &fu.columns {
                // Every member's logits at once, each value computed as in the loop below (same operations in the
                // same order: bias + scale · sum, then + x · w for each dense slot in turn), hence the same bits.
                let SetScratch { acc, logits, .. } = &mut *scratch;
                logits.clear();
                logits.resize(fu.stride, 0.0);
                let blocks = logits.as_chunks_mut::<8>().0.iter_mut().zip(acc.as_chunks::<8>().0);
                let blocks = blocks.zip(cols.bias.as_chunks::<8>().0).zip(cols.normalized.as_chunks::<8>().0);
                for (((q, a), b), l2) in blocks {
                    let mut v = [0f32; 8];
                    for k in 0..8 {
                        let scale = if l2[k] { inv_norm } else { 1.0 };
                        v[k] = b[k] + scale * a[k];
                    }
                    *q = v;
                }
                if let Some(x) = dense_x {
                    for (x, w) in x.iter().zip(cols.dense.chunks_exact(fu.stride)) {
                        for (q, w) in logits.as_chunks_mut::<8>().0.iter_mut().zip(w.as_chunks::<8>().0) {
                            let (mut v, w) = (*q, *w);
                            for k in 0..8 {
                                v[k] += x * w[k];
                            }
                            *q = v;
                        }
                    }
                }
                for &i in &fu.members {
                    let Scorer::Fused { col, b, .. } = &self.members[i].scorer else {
                        unreachable!("members are linear")
                    };
                    let p = &mut scratch.all_probs[i];
                    p.clear();
                    p.extend_from_slice(&scratch.logits[*col..*col + b.len()]);
                    crate::model::softmax(p);
                }
                continue;
            }
            for &i in &fu.members {
                let member = &self.members[i];
                let Scorer::Fused { col, b, dense } = &member.scorer else { unreachable!("members are linear") };
                let c = b.len();
                let scale = if member.header.features.l2_normalize { inv_norm } else { 1.0 };
                let p = &mut scratch.all_probs[i];
                p.clear();
                p.extend(b.iter().zip(&scratch.acc[*col..*col + c]).map(|(b, a)| b + scale * a));
                if let Some(x) = dense_x {
                    for (x, w) in x.iter().zip(dense.chunks_exact(c)) {
                        for (pp, w) in p.iter_mut().zip(w) {
                            *pp += x * w;
                        }
                    }
                }
                crate::model::softmax(p);
            }
        }
        for (i, member) in self.members.iter().enumerate() {
            let Scorer::Model(model) = &member.scorer else { continue };
            let g = self.group_of[i];
            let raw = &scratch.raw[g];
            let vec = if member.header.features.l2_normalize {
                let n_sparse = 1u32 << self.groups[g].bits;
                let n: f32 = raw.idx.iter().zip(&raw.val).filter(|(f, _)| **f < n_sparse).map(|(_, x)| x).sum();
                let v = if n > 0.0 { 1.0 / n.sqrt() } else { 1.0 };
                let out = &mut scratch.normalized;
                out.idx.clear();
                out.idx.extend_from_slice(&raw.idx);
                out.val.clear();
                out.val.extend(raw.idx.iter().zip(&raw.val).map(|(&f, &x)| if f < n_sparse { x * v } else { x }));
                &scratch.normalized
            } else {
                raw
            };
            scratch.probs.resize(member.header.labels.len(), 0.0);
            model.predict_proba(&vec.idx, &vec.val, &mut scratch.hidden, &mut scratch.probs);
            scratch.all_probs[i].clone_from(&scratch.probs);
        }
        &scratch.all_probs
    }

    /// Sets `scratch` up for this set (a scratch is bound to the last set it served: its word rows are these weights').
    fn fit_scratch(&self, scratch: &mut SetScratch) {
        if scratch.set_id != self.id || scratch.featurizers.len() != self.groups.len() {
            scratch.set_id = self.id;
            scratch.featurizers = self.groups.iter().cloned().map(Featurizer::new).collect();
            let max_words = scratch.word_limit.unwrap_or(MAX_CACHED_WORDS);
            scratch.caches = self.fused.iter().map(|fu| WordCache::new(fu.stride, max_words)).collect();
            scratch.raw = vec![SparseVec::default(); self.groups.len()];
        }
    }

    /// Fills `scratch.acc` with the count-weighted sum of group `g`'s fused rows for `text` and returns the number
    /// of n-gram occurrences. Each token's own rows (unigram + character n-grams) are summed into a word row
    /// first, cached or not, so the result is the same whether the cache hits.
    fn sum_rows_cached(&self, g: usize, scratch: &mut SetScratch, text: &str) -> usize {
        let fu = &self.fused[g];
        let SetScratch {
            featurizers, caches, acc, word, hashes, keys, entries, buckets, own, locs, fresh, spill, ..
        } = scratch;
        let fz = &mut featurizers[g];
        let cache = &mut caches[g];
        acc.clear();
        acc.resize(fu.stride, 0.0);
        fz.tokenize(text);
        // The cache is keyed by an identity hash of the token, not by its feature hash: feature hashes of
        // different tokens can be equal (see `hash::identity_hash`), and their rows differ.
        keys.clear();
        for i in 0..fz.tokens().len() {
            keys.push(crate::hash::identity_hash(fz.tokens().get(i).as_bytes()));
        }
        let mut warm = 0f32;
        for &k in keys.iter() {
            warm += cache.touch(k);
        }
        let n_tokens = fz.tokens().len();
        // Room for every token of this text, so that slot numbers stay valid until the end.
        cache.reserve(n_tokens);
        entries.clear();
        entries.extend(keys.iter().map(|&k| cache.find(k).unwrap_or(u32::MAX)));
        // Feature hashes (bigrams are made of them): a cached word's is stored with it.
        hashes.clear();
        for (i, &e) in entries.iter().enumerate() {
            hashes.push(if e == u32::MAX { fz.token_hash(fz.tokens().get(i)) } else { cache.feature_hash(e) });
        }
        buckets.clear();
        fz.context_buckets(hashes, fz.tokens().all_caps_words, buckets);
        // The own buckets (unigram + character n-grams) of the tokens not in the cache, one run per token.
        own.clear();
        fresh.clear();
        spill.clear();
        for i in 0..n_tokens {
            if entries[i] == u32::MAX {
                fresh.push((i as u32, own.len() as u32));
                fz.token_buckets_into(i, hashes[i], own);
            }
        }
        // Memory, not arithmetic, bounds this function: start every random read of the text (cached word rows,
        // bigram rows, the index blocks of new words' buckets, then their rows) before using any, so that the
        // cache misses overlap instead of waiting one after another.
        for &e in entries.iter().filter(|&&e| e != u32::MAX) {
            warm += cache.row(e)[0];
        }
        for &b in buckets.iter() {
            warm += fu.touch(b);
        }
        let mut warm_index = 0u64;
        for &b in own.iter() {
            warm_index ^= fu.index.touch(b as usize);
        }
        locs.clear();
        locs.extend(own.iter().map(|&b| fu.locate(b)));
        for &l in locs.iter() {
            warm += fu.touch_loc(l);
        }
        std::hint::black_box((warm, warm_index));
        let n = buckets.len();
        for &b in buckets.iter() {
            fu.add_bucket(b, acc);
        }
        for (k, &(i, start)) in fresh.iter().enumerate() {
            let (i, start) = (i as usize, start as usize);
            let end = fresh.get(k + 1).map_or(own.len(), |&(_, s)| s as usize);
            word.clear();
            word.resize(fu.stride, 0.0);
            for &l in &locs[start..end] {
                fu.add_loc(l, word);
            }
            word[fu.width] = (end - start) as f32;
            entries[i] = match cache.insert(keys[i], word, hashes[i]) {
                Some(e) => e,
                None => {
                    // The cache is full: the row is kept for this text only.
                    let e = SPILLED + (spill.len() / fu.stride) as u32;
                    spill.extend_from_slice(word);
                    e
                }
            };
        }
        // Summed in token order, so the result is the same whichever words were cached. The n-gram counts are
        // small whole numbers, summed exactly in f64 (one conversion per text instead of one per word).
        let mut ngrams = 0f64;
        for &e in entries.iter() {
            let row = if e >= SPILLED {
                let e = (e - SPILLED) as usize;
                &spill[e * fu.stride..(e + 1) * fu.stride]
            } else {
                cache.row(e)
            };
            add_row(acc, row);
            ngrams += f64::from(row[fu.width]);
        }
        n + ngrams as usize
    }

    /// Every classifier's prediction for `text`, in classifier order (uses a thread-local scratch).
    #[must_use]
    pub fn predict_all(&self, text: &str) -> Vec<Prediction> {
        SET_SCRATCH.with(|s| {
            let mut out = Vec::with_capacity(self.members.len());
            self.for_each_proba(&mut s.borrow_mut(), text, |i, p| {
                let labels = self.labels(i);
                let best = argmax(p);
                out.push(Prediction {
                    label: labels[best].clone(),
                    confidence: p[best],
                    scores: labels.iter().cloned().zip(p.iter().copied()).collect(),
                });
            });
            out
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{DataInfo, FORMAT_VERSION, Quantization};
    use crate::model::{Matrix, TrainConfig, train};

    fn clf(l2_normalize: bool) -> Classifier {
        let features = FeatureConfig { bits: 12, l2_normalize, ..FeatureConfig::default() };
        let texts = ["love it great", "awful hate it", "so good thanks", "terrible broken"];
        let y = [1, 0, 1, 0];
        let mut f = Featurizer::new(features.clone());
        let x = Matrix::from_texts(&mut f, &texts);
        let cfg = TrainConfig { epochs: 5, ..TrainConfig::default() };
        let model = train(&x, &y, &[0, 1, 2, 3], 2, &cfg);
        let header = ModelHeader {
            format_version: FORMAT_VERSION,
            task: "t".into(),
            kind: "linear".into(),
            labels: vec!["neg".into(), "pos".into()],
            hash: crate::hash::HASH_ID.into(),
            features,
            train: cfg,
            emb_dim: None,
            quantization: crate::Quantization::F32,
            data: DataInfo::default(),
            metrics: std::collections::BTreeMap::new(),
            notes: String::new(),
        };
        Classifier::from_parts(header, model)
    }

    #[test]
    fn set_matches_individual_predictions() {
        let (a, b) = (clf(true), clf(false));
        let set = ClassifierSet::new(vec![a.clone(), b.clone()]);
        assert_eq!(set.n_feature_groups(), 1);
        for text in ["I love it", "", "broken and awful!!! 😡 http://x.co @bob", "great great great"] {
            let all = set.predict_all(text);
            for (got, want) in all.iter().zip([a.predict(text), b.predict(text)]) {
                assert_eq!(got.label, want.label, "{text:?}");
                for (g, w) in got.scores.iter().zip(&want.scores) {
                    assert!((g.1 - w.1).abs() < 1e-5, "{text:?}: {g:?} vs {w:?}");
                }
            }
        }
    }

    #[test]
    fn word_cache_never_changes_results() {
        let (a, b) = (clf(true), clf(false));
        let texts = ["great great great", "awful broken thing", "great thing", "", "GREAT!!! 😡 @bob"];
        let set = ClassifierSet::new(vec![a.clone(), b.clone()]);
        let mut cold = Vec::new();
        for t in texts {
            // A fresh scratch per text: every word misses the cache.
            let mut s = SetScratch::default();
            cold.push(set.probas(&mut s, t, None).to_vec());
        }
        let mut warm = SetScratch::default();
        for _ in 0..3 {
            for (t, want) in texts.iter().zip(&cold) {
                assert_eq!(set.probas(&mut warm, t, None), &want[..], "{t:?}");
            }
        }
        // Another set with the same configs but other weights must not reuse this scratch's cached rows.
        let other = ClassifierSet::new(vec![b.clone(), a.clone()]);
        let mut fresh = SetScratch::default();
        let want = other.probas(&mut fresh, texts[0], None).to_vec();
        assert_eq!(other.probas(&mut warm, texts[0], None), &want[..]);
    }

    #[test]
    fn fused_columns_score_bit_for_bit_like_each_member_alone() {
        let set = ClassifierSet::from_bytes(&[&clf(true).to_bytes(), &clf(false).to_bytes()]).unwrap();
        assert!(set.fused.iter().all(|f| f.columns.is_some()));
        let mut apart = set.clone();
        apart.fused.iter_mut().for_each(|f| f.columns = None);
        let vader = earshot_vader::polarity_scores("I love it, but it BROKE!!");
        for t in ["love it", "", "awful broken thing!!! @bob", "great great great thanks"] {
            for v in [None, Some(&vader)] {
                let want = apart.probas(&mut SetScratch::default(), t, v).to_vec();
                let got = set.probas(&mut SetScratch::default(), t, v).to_vec();
                let bits = |p: &[Vec<f32>]| p.iter().flatten().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{t:?}");
            }
        }
    }

    #[test]
    fn words_whose_feature_hashes_collide_keep_their_own_cached_rows() {
        // Found in generated care traffic: a reply containing "siguiente" made a later "siguiendo" score as
        // "siguiente", because the cache was keyed by the feature hash, which these two share.
        let cfg = clf(true).header().features.clone();
        let fz = Featurizer::new(cfg);
        assert_eq!(fz.token_hash("siguiente"), fz.token_hash("siguiendo"), "the pair still collides");
        let set = ClassifierSet::new(vec![clf(true), clf(false)]);
        for (first, second) in [("siguiente", "siguiendo"), ("siguiendo", "siguiente")] {
            let want = set.probas(&mut SetScratch::default(), second, None).to_vec();
            let mut warm = SetScratch::default();
            set.probas(&mut warm, first, None);
            assert_eq!(set.probas(&mut warm, second, None), &want[..], "{second:?} after {first:?}");
        }
    }

    #[test]
    fn a_full_or_growing_word_cache_never_changes_results() {
        let set = ClassifierSet::new(vec![clf(true), clf(false)]);
        // Many distinct words, so that the cache grows (rehashes) several times, and repeats within a text.
        let texts: Vec<String> = (0..600).map(|i| format!("w{i} great w{} thing w{i} x{} 😡", i / 2, i % 7)).collect();
        let cold: Vec<_> = texts.iter().map(|t| set.probas(&mut SetScratch::default(), t, None).to_vec()).collect();
        for limit in [0, 1, 3, 50, MAX_CACHED_WORDS] {
            let mut warm = SetScratch { word_limit: Some(limit), ..SetScratch::default() };
            for _ in 0..2 {
                for (t, want) in texts.iter().zip(&cold) {
                    assert_eq!(set.probas(&mut warm, t, None), &want[..], "{t:?} with at most {limit} cached words");
                }
            }
            assert!(warm.caches[0].len <= limit);
        }
    }

    #[test]
    fn from_bytes_scores_exactly_like_loaded_classifiers() {
        for q in [Quantization::F32, Quantization::F16, Quantization::I8] {
            let models: Vec<Classifier> = [clf(true), clf(false)]
                .into_iter()
                .map(|c| {
                    let mut h = c.header().clone();
                    h.quantization = q;
                    Classifier::load(&Classifier::from_parts(h, c.model().clone()).to_bytes()).unwrap()
                })
                .collect();
            let files: Vec<Vec<u8>> = models.iter().map(Classifier::to_bytes).collect();
            let slices: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
            let (loaded, fast) = (ClassifierSet::new(models), ClassifierSet::from_bytes(&slices).unwrap());
            assert_eq!(fast.len(), 2);
            assert_eq!(fast.labels(1), ["neg", "pos"]);
            for t in ["love it", "", "awful broken thing!!! @bob", "great great great thanks"] {
                let want = loaded.probas(&mut SetScratch::default(), t, None).to_vec();
                assert_eq!(fast.probas(&mut SetScratch::default(), t, None), &want[..], "{q:?} {t:?}");
            }
        }
    }

    #[test]
    fn from_bytes_names_the_bad_file() {
        let good = clf(true).to_bytes();
        let mut truncated = good.clone();
        truncated.pop();
        let mut trailing = good.clone();
        trailing.push(0);
        for bad in [&b"nope"[..], &truncated, &trailing, &good[..good.len() - 3]] {
            let err = ClassifierSet::from_bytes(&[&good, bad]).unwrap_err();
            assert_eq!(err.file, 1, "{err}");
        }
    }

    #[test]
    fn row_index_finds_exactly_the_inserted_buckets() {
        let mut index = RowIndex::new(300);
        let buckets = [0usize, 1, 63, 64, 65, 127, 200, 299];
        for b in buckets {
            index.insert(b);
        }
        assert_eq!(index.finish(), buckets.len());
        for b in 0..300 {
            assert_eq!(index.get(b), buckets.iter().position(|&x| x == b), "bucket {b}");
        }
        assert_eq!(index.get(300), None);
    }

    #[test]
    fn f16_conversion_is_exact_for_every_finite_value() {
        for bits in 0..=u16::MAX {
            let h = half::f16::from_bits(bits);
            if h.is_finite() {
                assert_eq!(f16_to_f32(bits).to_bits(), h.to_f32().to_bits(), "{bits:#06x}");
            }
        }
    }

    #[test]
    fn argmax_first_on_ties() {
        assert_eq!(argmax(&[0.5, 0.5]), 0);
        assert_eq!(argmax(&[0.1, 0.7, 0.2]), 1);
        assert_eq!(argmax(&[]), 0);
    }
}
