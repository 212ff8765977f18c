//! [`Classifier`]: a loaded model plus its feature extractor, the type applications use.

use std::cell::RefCell;
use std::path::Path;

use serde::Serialize;

use crate::features::{FeatureConfig, Featurizer, SparseVec};
use crate::format::{ModelError, ModelHeader, read_model, write_model};
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
/// For count features ([`FeatureConfig::counts`]) the linear members are scored through a per-thread word cache:
/// a text's score is the sum of its tokens' summed weight rows plus its bigrams' rows, so each distinct word's
/// row sum (unigram + all its character n-grams, ~20 random reads into a 100 MB table) is computed once per
/// thread and then costs one hash-map hit. That turns firehose scoring from memory-bound to cheap.
#[derive(Debug, Clone)]
pub struct ClassifierSet {
    /// Identifies these weights, so a scratch's word cache is never reused across sets.
    id: u64,
    classifiers: Vec<Classifier>,
    /// For each classifier: index of its feature group.
    group_of: Vec<usize>,
    /// One raw (un-normalised) config per group.
    groups: Vec<FeatureConfig>,
    /// Per group: the hashed-bucket weights of all its linear members side by side (`width` floats per bucket),
    /// so each feature costs one memory access for all models instead of one per model. Firehose scoring is bound
    /// by these random accesses into multi-megabyte tables, not by arithmetic.
    fused: Vec<Fused>,
}

#[derive(Debug, Clone)]
struct Fused {
    width: usize,
    n_sparse: usize,
    w: FusedWeights,
    /// `(classifier index, column offset)` of each member.
    members: Vec<(usize, usize)>,
    /// True when some classifier of the group is not linear (it needs the sparse vector).
    has_nonlinear: bool,
}

/// The fused table, in half precision when every weight is exactly representable (the shipped models are stored
/// as f16), which halves the memory each random read touches; f32 otherwise.
#[derive(Debug, Clone)]
enum FusedWeights {
    F32(Vec<f32>),
    /// Rows padded to `stride` (a multiple of 8) for the batched conversion.
    F16 {
        stride: usize,
        w: Vec<half::f16>,
    },
}

impl Fused {
    /// Lays the sparse-bucket weights of `members` (all linear) side by side.
    fn new(classifiers: &[Classifier], members: Vec<(usize, usize)>, width: usize, n_sparse: usize) -> Self {
        let linear = |i: usize| match &classifiers[i].model {
            Model::Linear(m) => m,
            _ => unreachable!("members are linear"),
        };
        // Weights read from f16 model files are exact in f16; others are checked.
        let exact_f16 = members.iter().all(|&(i, _)| {
            classifiers[i].header.quantization == crate::Quantization::F16 || {
                let m = linear(i);
                m.w[..n_sparse * m.n_classes].iter().all(|&x| half::f16::from_f32(x).to_f32() == x)
            }
        });
        let stride = if exact_f16 { width.div_ceil(8) * 8 } else { width };
        let w = if exact_f16 {
            let mut h = vec![half::f16::ZERO; n_sparse * stride];
            for &(i, off) in &members {
                let m = linear(i);
                let c = m.n_classes;
                for (row, src) in h.chunks_exact_mut(stride).zip(m.w.chunks_exact(c)) {
                    for (d, &x) in row[off..off + c].iter_mut().zip(src) {
                        *d = half::f16::from_f32(x);
                    }
                }
            }
            FusedWeights::F16 { stride, w: h }
        } else {
            let mut w = vec![0f32; n_sparse * stride];
            for &(i, off) in &members {
                let m = linear(i);
                let c = m.n_classes;
                for (row, src) in w.chunks_exact_mut(stride).zip(m.w.chunks_exact(c)) {
                    row[off..off + c].copy_from_slice(src);
                }
            }
            FusedWeights::F32(w)
        };
        Self { width, n_sparse, w, members, has_nonlinear: false }
    }

    /// Adds the row of `bucket` to `acc` (`width` long).
    #[inline]
    fn add_row(&self, bucket: u32, acc: &mut [f32]) {
        let b = bucket as usize;
        match &self.w {
            FusedWeights::F32(w) => add_row(acc, &w[b * self.width..(b + 1) * self.width]),
            FusedWeights::F16 { stride, w } => {
                let row = &w[b * stride..b * stride + self.width];
                for (a, h) in acc.iter_mut().zip(row) {
                    *a += f16_to_f32(h.to_bits());
                }
            }
        }
    }

    /// Reads the first and last weight of the row of `bucket`, so that the cache lines are on their way before the
    /// row is needed (a portable, safe prefetch: independent loads overlap, dependent ones wait in turn).
    #[inline]
    fn touch(&self, bucket: u32) -> f32 {
        let b = bucket as usize;
        match &self.w {
            FusedWeights::F32(w) => w[b * self.width] + w[(b + 1) * self.width - 1],
            // Raw bits as a number: only the load matters (`to_f32` would check CPU features on each call).
            FusedWeights::F16 { stride, w } => f32::from(w[b * stride].to_bits() ^ w[(b + 1) * stride - 1].to_bits()),
        }
    }
}

/// Exact f16 → f32 for finite values, written out so that it inlines and vectorizes inside the row loop (the `half`
/// crate's conversions dispatch on CPU features at run time, per call). Shifting the exponent and mantissa into
/// place and multiplying by 2^112 re-biases the exponent and handles subnormals; weights are never inf or NaN.
#[inline]
fn f16_to_f32(h: u16) -> f32 {
    let magnitude = f32::from_bits(u32::from(h & 0x7fff) << 13) * f32::from_bits(0x7780_0000);
    f32::from_bits(magnitude.to_bits() | (u32::from(h & 0x8000) << 16))
}

/// Most distinct tokens whose weight sums one scratch keeps per feature group (~100 bytes each for the five
/// shipped models: ~13 MB). Past that, new words are scored without caching; results never depend on the cache.
pub const MAX_CACHED_WORDS: usize = 1 << 17;

/// Per-thread cache of each token's summed fused weight row, keyed by the token's 64-bit hash. Two distinct
/// tokens sharing a 64-bit hash among the cached ones is a ~1e-14 event per lookup; the text is not stored.
#[derive(Debug, Default)]
struct WordCache {
    /// Row length: the fused width plus one slot holding the token's number of n-grams.
    stride: usize,
    index: rustc_hash::FxHashMap<u64, u32>,
    rows: Vec<f32>,
}

impl WordCache {
    fn new(width: usize) -> Self {
        Self { stride: width + 1, ..Self::default() }
    }

    #[inline]
    fn get(&self, hash: u64) -> Option<u32> {
        self.index.get(&hash).copied()
    }

    /// Row `e`: the summed weights then the n-gram count.
    #[inline]
    fn row(&self, e: u32) -> &[f32] {
        let e = e as usize;
        &self.rows[e * self.stride..(e + 1) * self.stride]
    }

    /// Stores `row` (width + count) and returns its entry, unless the cache is full.
    fn insert(&mut self, hash: u64, row: &[f32]) -> Option<u32> {
        if let Some(&e) = self.index.get(&hash) {
            return Some(e);
        }
        if self.index.len() >= MAX_CACHED_WORDS {
            return None;
        }
        let e = self.index.len() as u32;
        self.index.insert(hash, e);
        self.rows.extend_from_slice(row);
        Some(e)
    }
}

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
    word: Vec<f32>,
    hashes: Vec<u64>,
    /// Per token: its word-cache entry, or `u32::MAX` when it must be computed.
    entries: Vec<u32>,
    buckets: Vec<u32>,
    own: Vec<u32>,
    all_probs: Vec<Vec<f32>>,
}

thread_local! {
    static SET_SCRATCH: RefCell<SetScratch> = RefCell::new(SetScratch::default());
}

static NEXT_SET_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

#[inline]
fn add_row(acc: &mut [f32], row: &[f32]) {
    for (a, w) in acc.iter_mut().zip(row) {
        *a += w;
    }
}

impl ClassifierSet {
    /// Group `classifiers` by feature set.
    #[must_use]
    pub fn new(classifiers: Vec<Classifier>) -> Self {
        let mut groups: Vec<FeatureConfig> = Vec::new();
        let group_of: Vec<usize> = classifiers
            .iter()
            .map(|c| {
                let raw = FeatureConfig { l2_normalize: false, ..c.header.features.clone() };
                groups.iter().position(|g| *g == raw).unwrap_or_else(|| {
                    groups.push(raw);
                    groups.len() - 1
                })
            })
            .collect();
        let fused = (0..groups.len())
            .map(|g| {
                let n_sparse = 1usize << groups[g].bits;
                let mut members = Vec::new();
                let mut width = 0;
                let mut has_nonlinear = false;
                for (i, c) in classifiers.iter().enumerate() {
                    match (group_of[i] == g, &c.model) {
                        (true, Model::Linear(m)) => {
                            members.push((i, width));
                            width += m.n_classes;
                        }
                        (true, _) => has_nonlinear = true,
                        _ => {}
                    }
                }
                Fused { has_nonlinear, ..Fused::new(&classifiers, members, width, n_sparse) }
            })
            .collect();
        let id = NEXT_SET_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self { id, classifiers, group_of, groups, fused }
    }

    /// The classifiers, in the order given.
    #[must_use]
    pub fn classifiers(&self) -> &[Classifier] {
        &self.classifiers
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
        if scratch.set_id != self.id || scratch.featurizers.len() != self.groups.len() {
            scratch.set_id = self.id;
            scratch.featurizers = self.groups.iter().cloned().map(Featurizer::new).collect();
            scratch.caches = self.fused.iter().map(|fu| WordCache::new(fu.width)).collect();
            scratch.raw = vec![SparseVec::default(); self.groups.len()];
        }
        scratch.all_probs.resize(self.classifiers.len(), Vec::new());
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
                scratch.acc.resize(fu.width, 0.0);
                let v = &scratch.raw[g];
                let mut n = 0usize;
                for (&idx, &x) in v.idx.iter().zip(&v.val) {
                    if (idx as usize) < fu.n_sparse {
                        n += 1;
                        debug_assert!(x == 1.0, "binary features");
                        fu.add_row(idx, &mut scratch.acc);
                    }
                }
                n
            };
            let inv_norm = if n > 0 { 1.0 / (n as f32).sqrt() } else { 1.0 };
            let dense = match (cfg.vader, vader) {
                (true, Some(p)) => Some(crate::features::dense_features(cfg, p)),
                _ => None,
            };
            for &(i, off) in &fu.members {
                let Model::Linear(m) = &self.classifiers[i].model else { unreachable!("members are linear") };
                let c = m.n_classes;
                let scale = if self.classifiers[i].header.features.l2_normalize { inv_norm } else { 1.0 };
                let p = &mut scratch.all_probs[i];
                p.clear();
                p.extend(m.b.iter().zip(&scratch.acc[off..off + c]).map(|(b, a)| b + scale * a));
                if let Some(dense) = dense {
                    for (k, x) in dense.into_iter().enumerate() {
                        let idx = fu.n_sparse + k;
                        if idx < m.dim {
                            for (pp, w) in p.iter_mut().zip(&m.w[idx * c..idx * c + c]) {
                                *pp += x * w;
                            }
                        }
                    }
                }
                crate::model::softmax(p);
            }
        }
        for (i, c) in self.classifiers.iter().enumerate() {
            if matches!(c.model, Model::Linear(_)) {
                continue;
            }
            let g = self.group_of[i];
            let raw = &scratch.raw[g];
            let vec = if c.header.features.l2_normalize {
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
            scratch.probs.resize(c.labels().len(), 0.0);
            c.model.predict_proba(&vec.idx, &vec.val, &mut scratch.hidden, &mut scratch.probs);
            scratch.all_probs[i].clone_from(&scratch.probs);
        }
        &scratch.all_probs
    }

    /// Fills `scratch.acc` with the count-weighted sum of group `g`'s fused rows for `text` and returns the number
    /// of n-gram occurrences. Each token's own rows (unigram + character n-grams) are summed into a word row
    /// first, cached or not, so the result is the same whether the cache hits.
    fn sum_rows_cached(&self, g: usize, scratch: &mut SetScratch, text: &str) -> usize {
        let fu = &self.fused[g];
        let SetScratch { featurizers, caches, acc, word, hashes, entries, buckets, own, .. } = scratch;
        let fz = &mut featurizers[g];
        let cache = &mut caches[g];
        acc.clear();
        acc.resize(fu.width, 0.0);
        fz.tokenize(text);
        let n_tokens = fz.tokens().len();
        hashes.clear();
        hashes.extend((0..n_tokens).map(|i| fz.token_hash(fz.tokens().get(i))));
        entries.clear();
        entries.extend(hashes.iter().map(|&h| cache.get(h).unwrap_or(u32::MAX)));
        buckets.clear();
        fz.context_buckets(hashes, fz.tokens().all_caps_words, buckets);
        // Start every random read of this text before using any of them.
        let mut warm = 0f32;
        for &e in entries.iter().filter(|&&e| e != u32::MAX) {
            warm += cache.row(e)[0];
        }
        for &b in buckets.iter() {
            warm += fu.touch(b);
        }
        std::hint::black_box(warm);
        let mut n = buckets.len();
        for &b in buckets.iter() {
            fu.add_row(b, acc);
        }
        for i in 0..n_tokens {
            if entries[i] == u32::MAX {
                own.clear();
                fz.token_buckets_into(i, hashes[i], own);
                word.clear();
                word.resize(fu.width, 0.0);
                for &b in own.iter() {
                    fu.add_row(b, word);
                }
                word.push(own.len() as f32);
                match cache.insert(hashes[i], word) {
                    Some(e) => entries[i] = e,
                    None => {
                        add_row(acc, &word[..fu.width]);
                        n += own.len();
                        continue;
                    }
                }
            }
            let row = cache.row(entries[i]);
            add_row(acc, &row[..fu.width]);
            n += row[fu.width] as usize;
        }
        n
    }

    /// Every classifier's prediction for `text`, in classifier order (uses a thread-local scratch).
    #[must_use]
    pub fn predict_all(&self, text: &str) -> Vec<Prediction> {
        SET_SCRATCH.with(|s| {
            let mut out = Vec::with_capacity(self.classifiers.len());
            self.for_each_proba(&mut s.borrow_mut(), text, |i, p| {
                let labels = self.classifiers[i].labels();
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
    use crate::format::{DataInfo, FORMAT_VERSION};
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
