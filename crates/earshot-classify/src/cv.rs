//! Stratified k-fold cross-validation and hold-out splits, deterministic under a seed.

use crate::classifier::argmax;
use crate::metrics::Confusion;
use crate::model::{Matrix, Model, TrainConfig, train};
use crate::rng::SplitMix64;

/// Assign each example to one of `k` folds so that every class is spread evenly: each class's examples are shuffled
/// (seeded) and dealt round-robin, continuing the deal across classes so fold sizes differ by at most one.
#[must_use]
pub fn stratified_folds(labels: &[u32], k: usize, seed: u64) -> Vec<usize> {
    assert!(k >= 2, "need at least two folds");
    let n_classes = labels.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut rng = SplitMix64::new(seed);
    let mut fold = vec![0usize; labels.len()];
    let mut next = 0usize;
    for c in 0..n_classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] as usize == c).collect();
        rng.shuffle(&mut members);
        for i in members {
            fold[i] = next % k;
            next += 1;
        }
    }
    fold
}

/// A stratified hold-out split: returns `(train_rows, test_rows)` with about `test_fraction` of each class held out.
#[must_use]
pub fn stratified_holdout(labels: &[u32], test_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let n_classes = labels.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut rng = SplitMix64::new(seed);
    let (mut tr, mut te) = (Vec::new(), Vec::new());
    for c in 0..n_classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] as usize == c).collect();
        rng.shuffle(&mut members);
        let n_test = (members.len() as f64 * test_fraction).round() as usize;
        te.extend_from_slice(&members[..n_test]);
        tr.extend_from_slice(&members[n_test..]);
    }
    tr.sort_unstable();
    te.sort_unstable();
    (tr, te)
}

/// Result of cross-validation.
#[derive(Debug, Clone)]
pub struct CvResult {
    /// Confusion matrix pooled over folds.
    pub confusion: Confusion,
    /// Macro F1 of each fold.
    pub fold_macro_f1: Vec<f64>,
    /// Macro recall of each fold.
    pub fold_macro_recall: Vec<f64>,
    /// Out-of-fold prediction for every example.
    pub predictions: Vec<u32>,
}

impl CvResult {
    /// Mean of per-fold macro F1 (how the complaint papers report cross-validation).
    #[must_use]
    pub fn mean_macro_f1(&self) -> f64 {
        self.fold_macro_f1.iter().sum::<f64>() / self.fold_macro_f1.len().max(1) as f64
    }

    /// Mean of per-fold macro recall.
    #[must_use]
    pub fn mean_macro_recall(&self) -> f64 {
        self.fold_macro_recall.iter().sum::<f64>() / self.fold_macro_recall.len().max(1) as f64
    }
}

/// Predict the argmax class of each row in `rows`.
#[must_use]
pub fn predict_rows(model: &Model, x: &Matrix, rows: &[usize]) -> Vec<u32> {
    let mut p = vec![0f32; model.n_classes()];
    let mut scratch = Vec::new();
    rows.iter()
        .map(|&r| {
            let (i, v) = x.row(r);
            model.predict_proba(i, v, &mut scratch, &mut p);
            argmax(&p) as u32
        })
        .collect()
}

/// `k`-fold stratified cross-validation of `cfg` on featurized `x` with labels `y`.
#[must_use]
pub fn cross_validate(x: &Matrix, y: &[u32], n_classes: usize, cfg: &TrainConfig, k: usize, seed: u64) -> CvResult {
    let folds = stratified_folds(y, k, seed);
    let mut confusion = Confusion::new(&[], &[], n_classes);
    let mut predictions = vec![0u32; y.len()];
    let (mut f1s, mut recalls) = (Vec::new(), Vec::new());
    for f in 0..k {
        let train_rows: Vec<usize> = (0..y.len()).filter(|&i| folds[i] != f).collect();
        let test_rows: Vec<usize> = (0..y.len()).filter(|&i| folds[i] == f).collect();
        let model = train(x, y, &train_rows, n_classes, cfg);
        let pred = predict_rows(&model, x, &test_rows);
        let truth: Vec<u32> = test_rows.iter().map(|&i| y[i]).collect();
        let c = Confusion::new(&truth, &pred, n_classes);
        f1s.push(c.macro_f1());
        recalls.push(c.macro_recall());
        confusion.add(&c);
        for (&r, &p) in test_rows.iter().zip(&pred) {
            predictions[r] = p;
        }
    }
    CvResult { confusion, fold_macro_f1: f1s, fold_macro_recall: recalls, predictions }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_stratified_and_balanced() {
        let y: Vec<u32> = (0..103).map(|i| u32::from(i % 3 == 0)).collect();
        let folds = stratified_folds(&y, 10, 7);
        for f in 0..10 {
            let n = folds.iter().filter(|&&x| x == f).count();
            assert!((10..=11).contains(&n), "fold {f} has {n}");
            let pos = (0..y.len()).filter(|&i| folds[i] == f && y[i] == 1).count();
            assert!((3..=4).contains(&pos));
        }
        assert_eq!(folds, stratified_folds(&y, 10, 7));
    }

    #[test]
    fn holdout_fraction() {
        let y: Vec<u32> = (0..100).map(|i| i % 4).collect();
        let (tr, te) = stratified_holdout(&y, 0.2, 3);
        assert_eq!(te.len(), 20);
        assert_eq!(tr.len(), 80);
        assert!(tr.iter().all(|i| !te.contains(i)));
    }
}
