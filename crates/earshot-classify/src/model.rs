//! Models and their trainers: linear (softmax logistic regression, NB-LR) and a fastText-style averaged-embedding
//! classifier, all over the hashed features of [`crate::features`].
//!
//! Training is deterministic: examples are visited in an order drawn from a seeded [`SplitMix64`], every float
//! operation happens in a fixed order on one thread, and no clock or OS randomness is read. Same data + same
//! config ⇒ the same weights bit for bit, hence byte-identical model files.

use serde::{Deserialize, Serialize};

use crate::features::{Featurizer, SparseVec};
use crate::rng::SplitMix64;

/// Feature vectors of many texts in compressed-sparse-row form (featurize once, train many folds).
#[derive(Debug, Clone, Default)]
pub struct Matrix {
    /// Row `i` is `idx[indptr[i]..indptr[i+1]]`.
    pub indptr: Vec<usize>,
    /// Feature indices.
    pub idx: Vec<u32>,
    /// Feature values.
    pub val: Vec<f32>,
    /// Feature dimension.
    pub dim: usize,
    /// Indices below this are hashed n-gram buckets; the rest are dense features.
    pub n_sparse: usize,
}

impl Matrix {
    /// Featurize every text.
    pub fn from_texts<S: AsRef<str>>(featurizer: &mut Featurizer, texts: &[S]) -> Self {
        let cfg = featurizer.config();
        let mut m = Self { indptr: vec![0], dim: cfg.dim(), n_sparse: 1 << cfg.bits, ..Self::default() };
        let mut v = SparseVec::default();
        for t in texts {
            featurizer.featurize(t.as_ref(), &mut v);
            m.idx.extend_from_slice(&v.idx);
            m.val.extend_from_slice(&v.val);
            m.indptr.push(m.idx.len());
        }
        m
    }

    /// Number of rows.
    #[must_use]
    pub fn rows(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Row `i`.
    #[must_use]
    pub fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        (&self.idx[a..b], &self.val[a..b])
    }
}

/// Learning algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Algorithm {
    /// Multinomial (softmax) logistic regression, SGD with AdaGrad step sizes and L2.
    Logistic,
    /// NB-LR (Wang & Manning 2012): per class, features scaled by the naive-Bayes log-count ratio, then a binary
    /// logistic regression, one-vs-rest. The ratios are folded into the weights, so inference is plain linear.
    NbLogistic {
        /// Additive smoothing of the per-class feature counts.
        alpha: f32,
    },
    /// The average of a [`Algorithm::Logistic`] and an [`Algorithm::NbLogistic`] model's weights (and biases):
    /// both are linear in the same features, so the blend is again one linear model, at no inference cost.
    LogisticNbBlend {
        /// NB smoothing.
        alpha: f32,
    },
    /// fastText-style: average of `dim`-dimensional embeddings of the hashed features, then softmax. Plain SGD
    /// with a linearly decaying learning rate, as in fastText.
    FastText {
        /// Embedding dimension.
        dim: u16,
    },
}

/// Training hyper-parameters. Stored in model headers so a model can be re-trained/re-evaluated exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Learning algorithm.
    pub algorithm: Algorithm,
    /// Passes over the data.
    pub epochs: u32,
    /// Base learning rate.
    pub lr: f32,
    /// L2 penalty (per update, on the touched weights).
    pub l2: f32,
    /// Weight classes inversely to their frequency (scikit-learn's `class_weight="balanced"`).
    pub balanced: bool,
    /// Seed of the example order (and embedding initialisation).
    pub seed: u64,
    /// Linear models only: train this many copies with seeds `seed, seed+1, …` (different example orders) and
    /// average their weights — bagging over SGD orderings, which smooths the last-iterate noise of SGD. The
    /// result is still one linear model.
    #[serde(default = "one")]
    pub bag: u32,
    /// Linear models only: solve the L2-regularised problem exactly with L-BFGS instead of running SGD
    /// (`epochs`, `lr`, `l2` and `bag` are then unused). See [`crate::lbfgs`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lbfgs: Option<Lbfgs>,
}

/// L-BFGS settings: scikit-learn's `C` (inverse regularisation strength) and an iteration cap.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Lbfgs {
    /// Inverse L2 strength: the objective is `½‖W‖² + C · Σ weighted log-loss`.
    pub c: f32,
    /// Iteration cap.
    pub max_iter: u32,
}

fn one() -> u32 {
    1
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::Logistic,
            epochs: 10,
            lr: 0.5,
            l2: 1e-6,
            balanced: true,
            seed: 1,
            bag: 1,
            lbfgs: None,
        }
    }
}

/// A linear scorer: `score[c] = b[c] + Σ x[f] · w[f·C + c]`. Row-major by feature so one feature's `C` weights
/// share a cache line.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearModel {
    /// Number of classes `C`.
    pub n_classes: usize,
    /// Feature dimension.
    pub dim: usize,
    /// `dim × C` weights.
    pub w: Vec<f32>,
    /// `C` biases.
    pub b: Vec<f32>,
}

impl LinearModel {
    /// Raw class scores (logits) into `out` (length `C`).
    pub fn scores(&self, idx: &[u32], val: &[f32], out: &mut [f32]) {
        let c = self.n_classes;
        out.copy_from_slice(&self.b);
        for (&f, &v) in idx.iter().zip(val) {
            let f = f as usize;
            if f >= self.dim {
                continue;
            }
            let row = &self.w[f * c..f * c + c];
            for (o, w) in out.iter_mut().zip(row) {
                *o += v * w;
            }
        }
    }
}

/// fastText-style model: `score = O · mean_f(x_f E_f) + b`.
#[derive(Debug, Clone, PartialEq)]
pub struct FastTextModel {
    /// Number of classes `C`.
    pub n_classes: usize,
    /// Feature dimension (rows of `emb`).
    pub dim: usize,
    /// Embedding dimension `d`.
    pub emb_dim: usize,
    /// `dim × d` input embeddings.
    pub emb: Vec<f32>,
    /// `C × d` output weights.
    pub out: Vec<f32>,
    /// `C` biases.
    pub b: Vec<f32>,
}

impl FastTextModel {
    fn hidden(&self, idx: &[u32], val: &[f32], h: &mut [f32]) {
        let d = self.emb_dim;
        h.iter_mut().for_each(|x| *x = 0.0);
        let mut total = 0.0f32;
        for (&f, &v) in idx.iter().zip(val) {
            let f = f as usize;
            if f >= self.dim {
                continue;
            }
            total += v.abs();
            for (hh, e) in h.iter_mut().zip(&self.emb[f * d..f * d + d]) {
                *hh += v * e;
            }
        }
        if total > 0.0 {
            h.iter_mut().for_each(|x| *x /= total);
        }
    }

    /// Raw class scores into `out` (length `C`); `h` is scratch of length `d`.
    pub fn scores(&self, idx: &[u32], val: &[f32], h: &mut [f32], out: &mut [f32]) {
        self.hidden(idx, val, h);
        let d = self.emb_dim;
        for (c, o) in out.iter_mut().enumerate() {
            *o = self.b[c] + self.out[c * d..c * d + d].iter().zip(h.iter()).map(|(a, b)| a * b).sum::<f32>();
        }
    }
}

/// A trained model of either family.
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    /// Linear (logistic regression or NB-LR).
    Linear(LinearModel),
    /// fastText-style.
    FastText(FastTextModel),
}

impl Model {
    /// Number of classes.
    #[must_use]
    pub fn n_classes(&self) -> usize {
        match self {
            Self::Linear(m) => m.n_classes,
            Self::FastText(m) => m.n_classes,
        }
    }

    /// Class probabilities (softmax of the scores) into `out`; `scratch` is reused between calls.
    pub fn predict_proba(&self, idx: &[u32], val: &[f32], scratch: &mut Vec<f32>, out: &mut [f32]) {
        match self {
            Self::Linear(m) => m.scores(idx, val, out),
            Self::FastText(m) => {
                scratch.resize(m.emb_dim, 0.0);
                m.scores(idx, val, scratch, out);
            }
        }
        softmax(out);
    }
}

/// In-place numerically stable softmax.
pub fn softmax(s: &mut [f32]) {
    let max = s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in s.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    if sum > 0.0 && sum.is_finite() {
        s.iter_mut().for_each(|x| *x /= sum);
    } else {
        let u = 1.0 / s.len() as f32;
        s.iter_mut().for_each(|x| *x = u);
    }
}

fn class_weights(y: &[u32], rows: &[usize], n_classes: usize, balanced: bool) -> Vec<f32> {
    let mut counts = vec![0usize; n_classes];
    for &r in rows {
        counts[y[r] as usize] += 1;
    }
    counts
        .iter()
        .map(|&n| if balanced && n > 0 { rows.len() as f32 / (n_classes as f32 * n as f32) } else { 1.0 })
        .collect()
}

/// Train on rows `rows` of `x` with labels `y` (`y[i] < n_classes`).
///
/// # Panics
/// If a label is out of range or `rows` indexes past `x`.
#[must_use]
pub fn train(x: &Matrix, y: &[u32], rows: &[usize], n_classes: usize, cfg: &TrainConfig) -> Model {
    assert!(rows.iter().all(|&r| (y[r] as usize) < n_classes), "label out of range");
    if let Some(opt) = cfg.lbfgs {
        let w = class_weights(y, rows, n_classes, cfg.balanced);
        match cfg.algorithm {
            Algorithm::Logistic => return Model::Linear(lbfgs_softmax(x, y, rows, n_classes, &w, opt, None)),
            Algorithm::NbLogistic { alpha } => {
                return Model::Linear(lbfgs_nblr(x, y, rows, n_classes, alpha, cfg.balanced, opt));
            }
            Algorithm::LogisticNbBlend { alpha } => {
                return Model::Linear(average(&[
                    lbfgs_softmax(x, y, rows, n_classes, &w, opt, None),
                    lbfgs_nblr(x, y, rows, n_classes, alpha, cfg.balanced, opt),
                ]));
            }
            Algorithm::FastText { .. } => {}
        }
    }
    let linear = |f: &dyn Fn(&TrainConfig) -> LinearModel| {
        let models: Vec<LinearModel> = (0..cfg.bag.max(1))
            .map(|i| f(&TrainConfig { seed: cfg.seed.wrapping_add(u64::from(i)), ..cfg.clone() }))
            .collect();
        Model::Linear(average(&models))
    };
    match cfg.algorithm {
        Algorithm::Logistic => linear(&|c| train_softmax(x, y, rows, n_classes, c)),
        Algorithm::NbLogistic { alpha } => linear(&|c| train_nblr(x, y, rows, n_classes, alpha, c)),
        Algorithm::LogisticNbBlend { alpha } => linear(&|c| {
            average(&[train_softmax(x, y, rows, n_classes, c), train_nblr(x, y, rows, n_classes, alpha, c)])
        }),
        Algorithm::FastText { dim } => Model::FastText(train_fasttext(x, y, rows, n_classes, usize::from(dim), cfg)),
    }
}

const ADAGRAD_EPS: f32 = 1e-6;

/// Element-wise mean of linear models of the same shape (summed in a fixed order, so deterministic).
fn average(models: &[LinearModel]) -> LinearModel {
    let mut out = models[0].clone();
    if models.len() == 1 {
        return out;
    }
    for m in &models[1..] {
        for (a, b) in out.w.iter_mut().zip(&m.w) {
            *a += b;
        }
        for (a, b) in out.b.iter_mut().zip(&m.b) {
            *a += b;
        }
    }
    let k = models.len() as f32;
    out.w.iter_mut().for_each(|v| *v /= k);
    out.b.iter_mut().for_each(|v| *v /= k);
    out
}

// Index loops mirror the maths (w[f·C + k], g[k]) and fix the float summation order that reproducibility needs.
#[allow(clippy::needless_range_loop)]
fn train_softmax(x: &Matrix, y: &[u32], rows: &[usize], c: usize, cfg: &TrainConfig) -> LinearModel {
    let cw = class_weights(y, rows, c, cfg.balanced);
    let mut w = vec![0f32; x.dim * c];
    let mut g2 = vec![0f32; x.dim * c];
    let mut b = vec![0f32; c];
    let mut gb = vec![0f32; c];
    let mut order: Vec<usize> = rows.to_vec();
    let mut rng = SplitMix64::new(cfg.seed);
    let mut p = vec![0f32; c];
    let mut g = vec![0f32; c];
    for _ in 0..cfg.epochs {
        rng.shuffle(&mut order);
        for &r in &order {
            let (idx, val) = x.row(r);
            p.copy_from_slice(&b);
            for (&f, &v) in idx.iter().zip(val) {
                let f = f as usize * c;
                for (pp, ww) in p.iter_mut().zip(&w[f..f + c]) {
                    *pp += v * ww;
                }
            }
            softmax(&mut p);
            let label = y[r] as usize;
            for k in 0..c {
                g[k] = cw[label] * (p[k] - if k == label { 1.0 } else { 0.0 });
            }
            for (&f, &v) in idx.iter().zip(val) {
                let f = f as usize * c;
                for k in 0..c {
                    let i = f + k;
                    let grad = g[k] * v + cfg.l2 * w[i];
                    g2[i] += grad * grad;
                    w[i] -= cfg.lr * grad / (g2[i] + ADAGRAD_EPS).sqrt();
                }
            }
            for k in 0..c {
                gb[k] += g[k] * g[k];
                b[k] -= cfg.lr * g[k] / (gb[k] + ADAGRAD_EPS).sqrt();
            }
        }
    }
    LinearModel { n_classes: c, dim: x.dim, w, b }
}

/// Naive-Bayes log-count ratios `r = log((α+p)/‖α+p‖₁) − log((α+q)/‖α+q‖₁)` for class `k` vs the rest, over
/// binarised features. Dense (VADER) slots keep `r = 1`: they are not counts.
fn nb_ratios(x: &Matrix, y: &[u32], rows: &[usize], k: u32, alpha: f32, n_sparse: usize) -> Vec<f32> {
    let mut p = vec![0f64; x.dim];
    let mut q = vec![0f64; x.dim];
    for &r in rows {
        let (idx, _) = x.row(r);
        let t = if y[r] == k { &mut p } else { &mut q };
        for &f in idx {
            t[f as usize] += 1.0;
        }
    }
    let a = f64::from(alpha);
    let sp: f64 = p[..n_sparse].iter().map(|v| v + a).sum();
    let sq: f64 = q[..n_sparse].iter().map(|v| v + a).sum();
    (0..x.dim)
        .map(|f| if f < n_sparse { (((p[f] + a) / sp).ln() - ((q[f] + a) / sq).ln()) as f32 } else { 1.0 })
        .collect()
}

fn train_nblr(x: &Matrix, y: &[u32], rows: &[usize], c: usize, alpha: f32, cfg: &TrainConfig) -> LinearModel {
    let n_sparse = x.n_sparse;
    // Binary tasks need one model; it is stored as the two-class softmax with logits (-s/2, s/2) = sigmoid(s).
    let heads: Vec<u32> = if c == 2 { vec![1] } else { (0..c as u32).collect() };
    let mut w_out = vec![0f32; x.dim * c];
    let mut b_out = vec![0f32; c];
    for &k in &heads {
        let r = nb_ratios(x, y, rows, k, alpha, n_sparse);
        let pos = rows.iter().filter(|&&i| y[i] == k).count().max(1) as f32;
        let neg = (rows.len() as f32 - pos).max(1.0);
        let (wp, wn) =
            if cfg.balanced { (rows.len() as f32 / (2.0 * pos), rows.len() as f32 / (2.0 * neg)) } else { (1.0, 1.0) };
        let mut w = vec![0f32; x.dim];
        let mut g2 = vec![0f32; x.dim];
        let (mut b, mut gb) = (0f32, 0f32);
        let mut order: Vec<usize> = rows.to_vec();
        let mut rng = SplitMix64::new(cfg.seed ^ u64::from(k).wrapping_mul(0x9e37_79b9));
        for _ in 0..cfg.epochs {
            rng.shuffle(&mut order);
            for &i in &order {
                let (idx, val) = x.row(i);
                let mut s = b;
                for (&f, &v) in idx.iter().zip(val) {
                    s += v * r[f as usize] * w[f as usize];
                }
                let target = if y[i] == k { 1.0 } else { 0.0 };
                let pr = 1.0 / (1.0 + (-s).exp());
                let g = (pr - target) * if y[i] == k { wp } else { wn };
                for (&f, &v) in idx.iter().zip(val) {
                    let f = f as usize;
                    let grad = g * v * r[f] + cfg.l2 * w[f];
                    g2[f] += grad * grad;
                    w[f] -= cfg.lr * grad / (g2[f] + ADAGRAD_EPS).sqrt();
                }
                gb += g * g;
                b -= cfg.lr * g / (gb + ADAGRAD_EPS).sqrt();
            }
        }
        if c == 2 {
            for f in 0..x.dim {
                let e = w[f] * r[f] * 0.5;
                w_out[f * 2] = -e;
                w_out[f * 2 + 1] = e;
            }
            b_out = vec![-b * 0.5, b * 0.5];
        } else {
            let k = k as usize;
            for f in 0..x.dim {
                w_out[f * c + k] = w[f] * r[f];
            }
            b_out[k] = b;
        }
    }
    LinearModel { n_classes: c, dim: x.dim, w: w_out, b: b_out }
}

/// Softmax regression by L-BFGS over the columns present in `rows`; `scale` (NB ratios) multiplies feature values.
fn lbfgs_softmax(
    x: &Matrix,
    y: &[u32],
    rows: &[usize],
    c: usize,
    class_w: &[f32],
    opt: Lbfgs,
    scale: Option<&[f32]>,
) -> LinearModel {
    // Compact the column space: sorted unique features of the training rows.
    let mut used: Vec<u32> = rows.iter().flat_map(|&r| x.row(r).0.iter().copied()).collect();
    used.sort_unstable();
    used.dedup();
    let mut indptr = Vec::with_capacity(rows.len() + 1);
    indptr.push(0);
    let mut cols = Vec::new();
    let mut vals = Vec::new();
    for &r in rows {
        let (idx, val) = x.row(r);
        for (&f, &v) in idx.iter().zip(val) {
            cols.push(used.binary_search(&f).expect("column is used") as u32);
            vals.push(f64::from(v * scale.map_or(1.0, |s| s[f as usize])));
        }
        indptr.push(cols.len());
    }
    let ys: Vec<u32> = rows.iter().map(|&r| y[r]).collect();
    let weight: Vec<f64> = ys.iter().map(|&l| f64::from(class_w[l as usize])).collect();
    let p = crate::lbfgs::SoftmaxProblem {
        indptr: &indptr,
        cols: &cols,
        vals: &vals,
        y: &ys,
        weight: &weight,
        ncols: used.len(),
        k: c,
        c: f64::from(opt.c),
    };
    let theta = crate::lbfgs::minimize(&p, opt.max_iter, 10);
    let mut w = vec![0f32; x.dim * c];
    for (j, &f) in used.iter().enumerate() {
        let s = scale.map_or(1.0, |s| s[f as usize]);
        for k in 0..c {
            w[f as usize * c + k] = theta[j * c + k] as f32 * s;
        }
    }
    let b = theta[used.len() * c..].iter().map(|&v| v as f32).collect();
    LinearModel { n_classes: c, dim: x.dim, w, b }
}

/// NB-LR with L-BFGS: per head, a two-class softmax on NB-scaled features (binary tasks: one head).
fn lbfgs_nblr(x: &Matrix, y: &[u32], rows: &[usize], c: usize, alpha: f32, balanced: bool, opt: Lbfgs) -> LinearModel {
    let heads: Vec<u32> = if c == 2 { vec![1] } else { (0..c as u32).collect() };
    let mut w_out = vec![0f32; x.dim * c];
    let mut b_out = vec![0f32; c];
    for &k in &heads {
        let r = nb_ratios(x, y, rows, k, alpha, x.n_sparse);
        let yk: Vec<u32> = (0..y.len()).map(|i| u32::from(y[i] == k)).collect();
        let cw = class_weights(&yk, rows, 2, balanced);
        let m = lbfgs_softmax(x, &yk, rows, 2, &cw, opt, Some(&r));
        if c == 2 {
            return m;
        }
        let k = k as usize;
        for f in 0..x.dim {
            w_out[f * c + k] = m.w[f * 2 + 1] - m.w[f * 2];
        }
        b_out[k] = m.b[1] - m.b[0];
    }
    LinearModel { n_classes: c, dim: x.dim, w: w_out, b: b_out }
}

#[allow(clippy::needless_range_loop)]
fn train_fasttext(x: &Matrix, y: &[u32], rows: &[usize], c: usize, d: usize, cfg: &TrainConfig) -> FastTextModel {
    let cw = class_weights(y, rows, c, cfg.balanced);
    let mut rng = SplitMix64::new(cfg.seed);
    let scale = 1.0 / d as f32;
    let emb: Vec<f32> = (0..x.dim * d).map(|_| rng.symmetric_f32() * scale).collect();
    let mut m = FastTextModel { n_classes: c, dim: x.dim, emb_dim: d, emb, out: vec![0f32; c * d], b: vec![0f32; c] };
    let mut order: Vec<usize> = rows.to_vec();
    let total_steps = (cfg.epochs as usize * rows.len()).max(1) as f32;
    let mut step = 0usize;
    let mut h = vec![0f32; d];
    let mut gh = vec![0f32; d];
    let mut p = vec![0f32; c];
    for _ in 0..cfg.epochs {
        rng.shuffle(&mut order);
        for &r in &order {
            let lr = cfg.lr * (1.0 - step as f32 / total_steps);
            step += 1;
            let (idx, val) = x.row(r);
            m.scores(idx, val, &mut h, &mut p);
            softmax(&mut p);
            let label = y[r] as usize;
            gh.iter_mut().for_each(|v| *v = 0.0);
            for k in 0..c {
                let g = cw[label] * (p[k] - if k == label { 1.0 } else { 0.0 });
                let o = &mut m.out[k * d..k * d + d];
                for j in 0..d {
                    gh[j] += g * o[j];
                    o[j] -= lr * (g * h[j] + cfg.l2 * o[j]);
                }
                m.b[k] -= lr * g;
            }
            let total: f32 = val.iter().map(|v| v.abs()).sum();
            if total <= 0.0 {
                continue;
            }
            for (&f, &v) in idx.iter().zip(val) {
                let f = f as usize;
                let s = lr * v / total;
                for (e, g) in m.emb[f * d..f * d + d].iter_mut().zip(&gh) {
                    *e -= s * g;
                }
            }
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureConfig;

    fn toy() -> (Matrix, Vec<u32>) {
        let texts = [
            "i love this",
            "love it so much",
            "great great service",
            "thanks so much love",
            "this is awful",
            "terrible service hate it",
            "awful awful",
            "i hate waiting",
        ];
        let y = vec![1, 1, 1, 1, 0, 0, 0, 0];
        let mut f = Featurizer::new(FeatureConfig { bits: 14, vader: false, ..FeatureConfig::default() });
        (Matrix::from_texts(&mut f, &texts), y)
    }

    fn fits(algorithm: Algorithm) {
        let (x, y) = toy();
        let rows: Vec<usize> = (0..x.rows()).collect();
        let cfg = TrainConfig { algorithm, epochs: 30, lr: 0.3, ..TrainConfig::default() };
        let m = train(&x, &y, &rows, 2, &cfg);
        let mut p = [0f32; 2];
        let mut s = Vec::new();
        for &r in &rows {
            let (i, v) = x.row(r);
            m.predict_proba(i, v, &mut s, &mut p);
            assert!((p[0] + p[1] - 1.0).abs() < 1e-5);
            assert_eq!(u32::from(p[1] > 0.5), y[r], "{algorithm:?} row {r} p={p:?}");
        }
        assert_eq!(m, train(&x, &y, &rows, 2, &cfg), "training is deterministic");
    }

    #[test]
    fn logistic_fits_toy() {
        fits(Algorithm::Logistic);
    }

    #[test]
    fn nblr_fits_toy() {
        fits(Algorithm::NbLogistic { alpha: 1.0 });
    }

    #[test]
    fn fasttext_fits_toy() {
        fits(Algorithm::FastText { dim: 8 });
    }

    #[test]
    fn lbfgs_fits_toy() {
        for algorithm in [Algorithm::Logistic, Algorithm::NbLogistic { alpha: 1.0 }] {
            let (x, y) = toy();
            let rows: Vec<usize> = (0..x.rows()).collect();
            let cfg =
                TrainConfig { algorithm, lbfgs: Some(Lbfgs { c: 10.0, max_iter: 100 }), ..TrainConfig::default() };
            let m = train(&x, &y, &rows, 2, &cfg);
            assert_eq!(crate::cv::predict_rows(&m, &x, &rows), y, "{algorithm:?}");
        }
    }

    #[test]
    fn blend_fits_toy() {
        fits(Algorithm::LogisticNbBlend { alpha: 1.0 });
    }

    #[test]
    fn softmax_is_stable() {
        let mut s = [1000.0, 1000.0, -1000.0];
        softmax(&mut s);
        assert!((s[0] - 0.5).abs() < 1e-6 && s[2] == 0.0);
    }

    #[test]
    fn balanced_weights() {
        let y = [0, 0, 0, 1];
        assert_eq!(class_weights(&y, &[0, 1, 2, 3], 2, true), vec![4.0 / 6.0, 2.0]);
        assert_eq!(class_weights(&y, &[0, 1, 2, 3], 2, false), vec![1.0, 1.0]);
    }
}
