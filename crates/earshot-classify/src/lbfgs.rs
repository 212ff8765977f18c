//! Full-batch L-BFGS for L2-regularised (softmax) logistic regression over sparse features.
//!
//! SGD reaches a point near the regularised optimum that depends on the step schedule; on a few thousand tweets
//! that costs 1–2 macro-F1 points against solving the problem exactly. L-BFGS solves
//! `min ½‖W‖² + C Σᵢ cᵢ · (−log softmax(Wxᵢ + b)_{yᵢ})` (bias not penalised, `cᵢ` the class weight), the
//! objective scikit-learn's `LogisticRegression(C=…)` solves, deterministically: no example order, fixed-order
//! f64 sums. Only the columns that occur in the training rows are optimised (the rest are 0 at the optimum).

/// Objective and gradient of the problem above for `k` outputs. `theta` = `[W (ncols × k, row-major), b (k)]`.
pub struct SoftmaxProblem<'a> {
    /// CSR row pointers (rows = training examples).
    pub indptr: &'a [usize],
    /// Compact column of each stored value (`< ncols`).
    pub cols: &'a [u32],
    /// Feature values.
    pub vals: &'a [f64],
    /// Label of each row (`< k`).
    pub y: &'a [u32],
    /// Loss weight of each row (class weighting).
    pub weight: &'a [f64],
    /// Number of (compact) columns.
    pub ncols: usize,
    /// Number of outputs (classes).
    pub k: usize,
    /// Inverse regularisation strength.
    pub c: f64,
}

impl SoftmaxProblem<'_> {
    fn eval(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let k = self.k;
        let (w, b) = theta.split_at(self.ncols * k);
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut s = vec![0f64; k];
        let mut loss = 0.0;
        for i in 0..self.y.len() {
            let (a, e) = (self.indptr[i], self.indptr[i + 1]);
            s.copy_from_slice(b);
            for j in a..e {
                let f = self.cols[j] as usize * k;
                let v = self.vals[j];
                for (ss, ww) in s.iter_mut().zip(&w[f..f + k]) {
                    *ss += v * ww;
                }
            }
            let max = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mut z = 0.0;
            for ss in &mut s {
                *ss = (*ss - max).exp();
                z += *ss;
            }
            let yi = self.y[i] as usize;
            loss += self.weight[i] * (z.ln() - (s[yi].ln()));
            for (c, ss) in s.iter_mut().enumerate() {
                *ss = self.weight[i] * (*ss / z - if c == yi { 1.0 } else { 0.0 });
            }
            for j in a..e {
                let f = self.cols[j] as usize * k;
                let v = self.vals[j];
                for (g, ss) in grad[f..f + k].iter_mut().zip(&s) {
                    *g += v * ss;
                }
            }
            let gb = &mut grad[self.ncols * k..];
            for (g, ss) in gb.iter_mut().zip(&s) {
                *g += ss;
            }
        }
        let mut reg = 0.0;
        for (g, ww) in grad[..self.ncols * k].iter_mut().zip(w) {
            *g = *g * self.c + ww;
            reg += ww * ww;
        }
        for g in &mut grad[self.ncols * k..] {
            *g *= self.c;
        }
        loss * self.c + 0.5 * reg
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimise with L-BFGS (memory `m`), Armijo backtracking; stops after `max_iter` iterations or when the relative
/// decrease of the objective stays below `1e-6` for 3 iterations / the gradient vanishes.
pub fn minimize(p: &SoftmaxProblem<'_>, max_iter: u32, m: usize) -> Vec<f64> {
    let n = p.ncols * p.k + p.k;
    let mut x = vec![0f64; n];
    let mut g = vec![0f64; n];
    let mut fx = p.eval(&x, &mut g);
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut rho: Vec<f64> = Vec::new();
    let mut d = vec![0f64; n];
    let mut xn = vec![0f64; n];
    let mut gn = vec![0f64; n];
    let mut alpha = vec![0f64; m];
    let mut small = 0;
    for it in 0..max_iter {
        // Two-loop recursion: d = -H g.
        d.copy_from_slice(&g);
        for i in (0..s_hist.len()).rev() {
            alpha[i] = rho[i] * dot(&s_hist[i], &d);
            for (dd, yy) in d.iter_mut().zip(&y_hist[i]) {
                *dd -= alpha[i] * yy;
            }
        }
        let gamma = if let (Some(s), Some(y)) = (s_hist.last(), y_hist.last()) {
            dot(s, y) / dot(y, y)
        } else {
            1.0 / dot(&g, &g).sqrt().max(1e-12)
        };
        d.iter_mut().for_each(|v| *v *= gamma);
        for i in 0..s_hist.len() {
            let beta = rho[i] * dot(&y_hist[i], &d);
            for (dd, ss) in d.iter_mut().zip(&s_hist[i]) {
                *dd += ss * (alpha[i] - beta);
            }
        }
        d.iter_mut().for_each(|v| *v = -*v);
        let mut gd = dot(&g, &d);
        if gd >= 0.0 {
            // Not a descent direction (numerical trouble): restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            rho.clear();
            let scale = 1.0 / dot(&g, &g).sqrt().max(1e-12);
            for (dd, gg) in d.iter_mut().zip(&g) {
                *dd = -gg * scale;
            }
            gd = dot(&g, &d);
        }
        let mut step = 1.0;
        let mut fnew;
        let mut tries = 0;
        loop {
            for ((xx, x0), dd) in xn.iter_mut().zip(&x).zip(&d) {
                *xx = x0 + step * dd;
            }
            fnew = p.eval(&xn, &mut gn);
            if fnew <= fx + 1e-4 * step * gd || tries >= 30 {
                break;
            }
            step *= 0.5;
            tries += 1;
        }
        let mut s: Vec<f64> = if s_hist.len() == m { s_hist.remove(0) } else { vec![0f64; n] };
        let mut y: Vec<f64> = if y_hist.len() == m { y_hist.remove(0) } else { vec![0f64; n] };
        if rho.len() == m {
            rho.remove(0);
        }
        for i in 0..n {
            s[i] = xn[i] - x[i];
            y[i] = gn[i] - g[i];
        }
        let sy = dot(&s, &y);
        let rel = (fx - fnew).abs() / fx.abs().max(1.0);
        std::mem::swap(&mut x, &mut xn);
        std::mem::swap(&mut g, &mut gn);
        fx = fnew;
        if sy > 1e-12 {
            s_hist.push(s);
            y_hist.push(y);
            rho.push(1.0 / sy);
        }
        small = if rel < 1e-6 { small + 1 } else { 0 };
        let gmax = g.iter().fold(0f64, |a, v| a.max(v.abs()));
        if small >= 3 || gmax < 1e-6 || it + 1 == max_iter {
            break;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separable_toy_converges() {
        // Two rows, one feature each, two classes: the optimum puts positive weight on the matching class.
        let indptr = [0, 1, 2];
        let cols = [0u32, 1];
        let vals = [1.0, 1.0];
        let y = [0u32, 1];
        let weight = [1.0, 1.0];
        let p = SoftmaxProblem {
            indptr: &indptr,
            cols: &cols,
            vals: &vals,
            y: &y,
            weight: &weight,
            ncols: 2,
            k: 2,
            c: 10.0,
        };
        let x = minimize(&p, 100, 5);
        assert!(x[0] > x[1] && x[3] > x[2], "{x:?}");
        let mut g = vec![0.0; x.len()];
        p.eval(&x, &mut g);
        assert!(g.iter().all(|v| v.abs() < 1e-3), "gradient at optimum {g:?}");
    }
}
