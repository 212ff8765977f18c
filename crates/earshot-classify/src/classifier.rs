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
/// derived from the binary ones (bit-identical to extracting them directly).
#[derive(Debug, Clone)]
pub struct ClassifierSet {
    classifiers: Vec<Classifier>,
    /// For each classifier: index of its feature group.
    group_of: Vec<usize>,
    /// One binary (un-normalised) config per group.
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
    w: Vec<f32>,
    /// `(classifier index, column offset)` of each member.
    members: Vec<(usize, usize)>,
}

/// Scratch space for [`ClassifierSet`].
#[derive(Debug, Default)]
pub struct SetScratch {
    featurizers: Vec<Featurizer>,
    raw: Vec<SparseVec>,
    normalized: SparseVec,
    hidden: Vec<f32>,
    probs: Vec<f32>,
    acc: Vec<f32>,
    all_probs: Vec<Vec<f32>>,
}

thread_local! {
    static SET_SCRATCH: RefCell<SetScratch> = RefCell::new(SetScratch::default());
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
                for (i, c) in classifiers.iter().enumerate() {
                    if let (true, Model::Linear(m)) = (group_of[i] == g, &c.model) {
                        members.push((i, width));
                        width += m.n_classes;
                    }
                }
                let mut w = vec![0f32; n_sparse * width];
                for &(i, off) in &members {
                    let Model::Linear(m) = &classifiers[i].model else { unreachable!("members are linear") };
                    let c = m.n_classes;
                    for f in 0..n_sparse {
                        w[f * width + off..f * width + off + c].copy_from_slice(&m.w[f * c..f * c + c]);
                    }
                }
                Fused { width, n_sparse, w, members }
            })
            .collect();
        Self { classifiers, group_of, groups, fused }
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
    pub fn for_each_proba(&self, scratch: &mut SetScratch, text: &str, mut f: impl FnMut(usize, &[f32])) {
        if scratch.featurizers.len() != self.groups.len()
            || scratch.featurizers.iter().zip(&self.groups).any(|(a, b)| a.config() != b)
        {
            scratch.featurizers = self.groups.iter().cloned().map(Featurizer::new).collect();
            scratch.raw = vec![SparseVec::default(); self.groups.len()];
        }
        scratch.all_probs.resize(self.classifiers.len(), Vec::new());
        for (g, (fz, v)) in scratch.featurizers.iter_mut().zip(scratch.raw.iter_mut()).enumerate() {
            fz.featurize(text, v);
            let fu = &self.fused[g];
            if fu.members.is_empty() {
                continue;
            }
            // Sum of the fused rows of the present buckets (binary features: value 1 each).
            scratch.acc.clear();
            scratch.acc.resize(fu.width, 0.0);
            let mut n = 0usize;
            for &idx in &v.idx {
                let idx = idx as usize;
                if idx >= fu.n_sparse {
                    continue;
                }
                n += 1;
                for (a, w) in scratch.acc.iter_mut().zip(&fu.w[idx * fu.width..(idx + 1) * fu.width]) {
                    *a += w;
                }
            }
            let inv_norm = if n > 0 { 1.0 / (n as f32).sqrt() } else { 1.0 };
            for &(i, off) in &fu.members {
                let Model::Linear(m) = &self.classifiers[i].model else { unreachable!("members are linear") };
                let c = m.n_classes;
                let scale = if self.classifiers[i].header.features.l2_normalize { inv_norm } else { 1.0 };
                let p = &mut scratch.all_probs[i];
                p.clear();
                p.extend(m.b.iter().zip(&scratch.acc[off..off + c]).map(|(b, a)| b + scale * a));
                for (&idx, &x) in v.idx.iter().zip(&v.val) {
                    let idx = idx as usize;
                    if idx >= fu.n_sparse && idx < m.dim {
                        for (pp, w) in p.iter_mut().zip(&m.w[idx * c..idx * c + c]) {
                            *pp += x * w;
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
                let n = raw.idx.iter().filter(|&&f| f < n_sparse).count();
                let v = if n > 0 { 1.0 / (n as f32).sqrt() } else { 1.0 };
                let out = &mut scratch.normalized;
                out.idx.clear();
                out.idx.extend_from_slice(&raw.idx);
                out.val.clear();
                out.val.extend(raw.idx.iter().zip(&raw.val).map(|(&f, &x)| if f < n_sparse { v } else { x }));
                &scratch.normalized
            } else {
                raw
            };
            scratch.probs.resize(c.labels().len(), 0.0);
            c.model.predict_proba(&vec.idx, &vec.val, &mut scratch.hidden, &mut scratch.probs);
            scratch.all_probs[i].clone_from(&scratch.probs);
        }
        for (i, p) in scratch.all_probs.iter().enumerate() {
            f(i, p);
        }
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
    fn argmax_first_on_ties() {
        assert_eq!(argmax(&[0.5, 0.5]), 0);
        assert_eq!(argmax(&[0.1, 0.7, 0.2]), 1);
        assert_eq!(argmax(&[]), 0);
    }
}
