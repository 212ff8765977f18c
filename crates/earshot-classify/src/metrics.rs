//! Classification metrics: confusion matrix, accuracy, per-class and macro precision/recall/F1.
//!
//! Conventions follow scikit-learn (`average="macro"`, `zero_division=0`): a class with no true and no predicted
//! examples gets F1 = 0 and still counts in the macro average, so callers should restrict `n_classes` to the
//! classes that the evaluation is about.

use serde::{Deserialize, Serialize};

/// `n × n` confusion matrix: `m[truth][predicted]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    /// Counts, row = true class, column = predicted class.
    pub m: Vec<Vec<u64>>,
}

impl Confusion {
    /// Build from parallel truth/prediction slices over `n_classes` classes.
    ///
    /// # Panics
    /// If the slices differ in length or a label is `>= n_classes`.
    #[must_use]
    pub fn new(truth: &[u32], pred: &[u32], n_classes: usize) -> Self {
        assert_eq!(truth.len(), pred.len(), "truth and prediction lengths differ");
        let mut m = vec![vec![0u64; n_classes]; n_classes];
        for (&t, &p) in truth.iter().zip(pred) {
            m[t as usize][p as usize] += 1;
        }
        Self { m }
    }

    /// Number of classes.
    #[must_use]
    pub fn n_classes(&self) -> usize {
        self.m.len()
    }

    fn total(&self) -> u64 {
        self.m.iter().flatten().sum()
    }

    /// Fraction of examples on the diagonal (0 when empty).
    #[must_use]
    pub fn accuracy(&self) -> f64 {
        let t = self.total();
        if t == 0 { 0.0 } else { (0..self.n_classes()).map(|i| self.m[i][i]).sum::<u64>() as f64 / t as f64 }
    }

    /// Recall of class `c` (0 when it has no true examples).
    #[must_use]
    pub fn recall(&self, c: usize) -> f64 {
        let support: u64 = self.m[c].iter().sum();
        if support == 0 { 0.0 } else { self.m[c][c] as f64 / support as f64 }
    }

    /// Precision of class `c` (0 when never predicted).
    #[must_use]
    pub fn precision(&self, c: usize) -> f64 {
        let predicted: u64 = self.m.iter().map(|row| row[c]).sum();
        if predicted == 0 { 0.0 } else { self.m[c][c] as f64 / predicted as f64 }
    }

    /// F1 of class `c`.
    #[must_use]
    pub fn f1(&self, c: usize) -> f64 {
        let (p, r) = (self.precision(c), self.recall(c));
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }

    /// Unweighted mean of per-class F1.
    #[must_use]
    pub fn macro_f1(&self) -> f64 {
        mean((0..self.n_classes()).map(|c| self.f1(c)))
    }

    /// Unweighted mean of per-class recall (TweetEval's sentiment metric).
    #[must_use]
    pub fn macro_recall(&self) -> f64 {
        mean((0..self.n_classes()).map(|c| self.recall(c)))
    }

    /// Unweighted mean of per-class precision.
    #[must_use]
    pub fn macro_precision(&self) -> f64 {
        mean((0..self.n_classes()).map(|c| self.precision(c)))
    }

    /// Add another confusion matrix of the same shape (pooling cross-validation folds).
    pub fn add(&mut self, other: &Self) {
        for (a, b) in self.m.iter_mut().zip(&other.m) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    }

    /// A plain-text rendering with class names.
    #[must_use]
    pub fn render(&self, labels: &[String]) -> String {
        use std::fmt::Write;
        let w = labels.iter().map(String::len).max().unwrap_or(4).max(6);
        let mut s = format!("{:>w$} |", "truth\\pred");
        for l in labels {
            let _ = write!(s, " {l:>w$}");
        }
        s.push('\n');
        for (l, row) in labels.iter().zip(&self.m) {
            let _ = write!(s, "{l:>w$} |");
            for v in row {
                let _ = write!(s, " {v:>w$}");
            }
            s.push('\n');
        }
        s
    }
}

fn mean(it: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = it.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { 0.0 } else { s / n as f64 }
}

/// Macro F1 of predictions against truth.
#[must_use]
pub fn macro_f1(truth: &[u32], pred: &[u32], n_classes: usize) -> f64 {
    Confusion::new(truth, pred, n_classes).macro_f1()
}

/// Macro-averaged recall of predictions against truth.
#[must_use]
pub fn macro_recall(truth: &[u32], pred: &[u32], n_classes: usize) -> f64 {
    Confusion::new(truth, pred, n_classes).macro_recall()
}

/// Accuracy of predictions against truth.
#[must_use]
pub fn accuracy(truth: &[u32], pred: &[u32], n_classes: usize) -> f64 {
    Confusion::new(truth, pred, n_classes).accuracy()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: [u32; 8] = [0, 0, 0, 1, 1, 2, 2, 2];
    const P: [u32; 8] = [0, 1, 0, 1, 2, 2, 2, 0];

    #[test]
    fn hand_computed_three_class() {
        // Confusion: row0 [2,1,0], row1 [0,1,1], row2 [1,0,2].
        let c = Confusion::new(&T, &P, 3);
        assert_eq!(c.m, vec![vec![2, 1, 0], vec![0, 1, 1], vec![1, 0, 2]]);
        assert!((c.accuracy() - 5.0 / 8.0).abs() < 1e-12);
        // recall: 2/3, 1/2, 2/3 -> macro 11/18
        assert!((c.macro_recall() - 11.0 / 18.0).abs() < 1e-12);
        // precision: 2/3, 1/2, 2/3; F1 equals precision=recall per class here -> 2/3, 1/2, 2/3.
        assert!((c.f1(1) - 0.5).abs() < 1e-12);
        assert!((c.macro_f1() - 11.0 / 18.0).abs() < 1e-12);
    }

    #[test]
    fn hand_computed_binary() {
        // tp=2 fn=1 fp=1 tn=4 -> class1 P=2/3 R=2/3 F1=2/3; class0 P=4/5 R=4/5 F1=4/5; macro=(2/3+4/5)/2=11/15
        let t = [1, 1, 1, 0, 0, 0, 0, 0];
        let p = [1, 1, 0, 1, 0, 0, 0, 0];
        assert!((macro_f1(&t, &p, 2) - 11.0 / 15.0).abs() < 1e-12);
        assert!((accuracy(&t, &p, 2) - 6.0 / 8.0).abs() < 1e-12);
        assert!((macro_recall(&t, &p, 2) - (2.0 / 3.0 + 0.8) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn zero_division_is_zero() {
        let c = Confusion::new(&[0, 0], &[0, 0], 2);
        assert_eq!(c.f1(1), 0.0);
        assert_eq!(c.precision(1), 0.0);
        assert!((c.macro_f1() - 0.5).abs() < 1e-12);
        assert_eq!(Confusion::new(&[], &[], 2).accuracy(), 0.0);
    }

    #[test]
    fn pooling_adds_counts() {
        let mut a = Confusion::new(&T, &P, 3);
        a.add(&Confusion::new(&T, &P, 3));
        assert_eq!(a.m[0][0], 4);
        assert!(a.render(&["a".into(), "b".into(), "c".into()]).contains("truth"));
    }
}
