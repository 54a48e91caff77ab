//! The shrunk linear discriminant both wings read from a user's labelled sample (tabular rows,
//! or frozen-encoder sentence embeddings of texts): class means and priors, and the directions
//! `w_c = Σ⁻¹ μ_c` and offsets `o_c = −½ μ_cᵀ Σ⁻¹ μ_c + ln p_c` with `Σ` the pooled within-class
//! covariance shrunk towards its mean diagonal with the Ledoit–Wolf (2004) intensity.
//!
//! With fewer rows than features the directions come from the `n × n` Gram matrix (Woodbury),
//! which gives the same result.
//!
//! ```
//! use modelgpt_hypernet::{LDA_SHRINKAGE_FLOOR, ShrunkLda};
//!
//! // 4 rows, 2 features, 2 classes (row-major).
//! let x = [1.0, 0.0, 3.0, 0.0, -1.0, 1.0, -3.0, 1.0];
//! let lda = ShrunkLda::fit(&x, 2, &[0, 0, 1, 1], &[0, 1, 2, 3], 2, LDA_SHRINKAGE_FLOOR)?;
//! assert_eq!(lda.class_means, [2.0, 0.0, -2.0, 1.0]);
//! assert_eq!(lda.counts, [2, 2]);
//! assert!(lda.dirs[0] > 0.0 && lda.dirs[2] < 0.0); // feature 0 separates the classes
//! # Ok::<(), modelgpt_hypernet::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::linalg::{add_gram, cholesky_solve};

/// Values (rows × features) of centred rows held at once while a covariance is accumulated.
const ROW_BLOCK_VALUES: usize = 1 << 16;

/// Smallest shrinkage of the within-class covariance towards `(tr Σ / d) · I` in the
/// discriminant directions; the intensity itself is the Ledoit–Wolf estimate from the sample.
pub const LDA_SHRINKAGE_FLOOR: f64 = 0.05;

/// The Ledoit–Wolf intensity from the moments it needs: `‖S‖²_F`, `tr S`, `Σ_k ‖x_k‖⁴` over the
/// `n` class-centred rows, the width `d` and the target scale `μ`.
pub(crate) fn lw_from_moments(
    s_norm2: f64,
    trace: f64,
    fourth: f64,
    n: f64,
    d: usize,
    mu: f64,
) -> f64 {
    let delta2 = s_norm2 - 2.0 * mu * trace + mu * mu * d as f64;
    if delta2 <= 1e-12 {
        return 1.0;
    }
    let beta2 = ((fourth - n * s_norm2) / (n * n)).clamp(0.0, delta2);
    beta2 / delta2
}

/// Rows of `x` minus their class mean, `[rows.len(), cols]` row-major.
fn centred_rows(
    x: &[f32],
    cols: usize,
    y: &[usize],
    rows: &[usize],
    class_means: &[f32],
) -> Vec<f64> {
    let mut out = Vec::with_capacity(rows.len() * cols);
    for &r in rows {
        let c = y[r];
        out.extend((0..cols).map(|j| x[r * cols + j] as f64 - class_means[c * cols + j] as f64));
    }
    out
}

/// Discriminant directions `Σ_s⁻¹ μ_c` (rows) from the `d × d` pooled within-class covariance
/// `S`, shrunk as `Σ_s = (1 − γ) S + γ m I` with `m = tr(S)/d` and `γ` the Ledoit–Wolf intensity
/// (at least `min_shrinkage`).
fn discriminant_primal(
    x: &[f32],
    cols: usize,
    y: &[usize],
    rows: &[usize],
    class_means: &[f32],
    means64: &[f64],
    min_shrinkage: f64,
) -> Vec<f64> {
    let n = rows.len() as f64;
    let n_classes = means64.len() / cols;
    // S = Cᵀ C / n over the class-centred rows C, accumulated by blocks of rows (bounded memory)
    // through gemm; the same pass sums Σ_k ‖c_k‖⁴ for the Ledoit–Wolf intensity.
    let mut sw = vec![0f64; cols * cols];
    let block = (ROW_BLOCK_VALUES / cols.max(1)).clamp(1, rows.len().max(1));
    let mut centred = vec![0f64; block * cols];
    let mut fourth = 0f64;
    for chunk in rows.chunks(block) {
        for (i, &r) in chunk.iter().enumerate() {
            let c = y[r];
            let row = &x[r * cols..(r + 1) * cols];
            let out = &mut centred[i * cols..(i + 1) * cols];
            let mut norm2 = 0f64;
            for j in 0..cols {
                let v = row[j] as f64 - class_means[c * cols + j] as f64;
                out[j] = v;
                norm2 += v * v;
            }
            fourth += norm2 * norm2;
        }
        add_gram(&mut sw, &centred, chunk.len(), cols);
    }
    let mut trace = 0f64;
    for i in 0..cols {
        for j in 0..=i {
            // The product is symmetric up to rounding: keep one triangle.
            let v = sw[i * cols + j] / n;
            sw[i * cols + j] = v;
            sw[j * cols + i] = v;
        }
        trace += sw[i * cols + i];
    }
    let s_norm2: f64 = sw.iter().map(|v| v * v).sum();
    let ridge = (trace / cols as f64).max(1e-3);
    let gamma = lw_from_moments(s_norm2, trace, fourth, n, cols, ridge).max(min_shrinkage);
    for i in 0..cols {
        for j in 0..cols {
            sw[i * cols + j] *= 1.0 - gamma;
        }
        sw[i * cols + i] += gamma * ridge;
    }
    // The shrunk matrix is positive definite; fall back to the means if rounding says no.
    cholesky_solve(&sw, cols, means64, n_classes).unwrap_or_else(|| means64.to_vec())
}

/// The same directions as [`discriminant_primal`] through the `n × n` Gram matrix `G = C Cᵀ` of
/// the class-centred rows `C` (for `n < d`): `‖S‖_F = ‖G‖_F / n`, `tr S = tr G / n`, and by the
/// Woodbury identity `Σ_s⁻¹ μ = (μ − Cᵀ (n b / a · I + G)⁻¹ C μ) / b` with `a = 1 − γ`, `b = γ m`.
fn discriminant_dual(
    x: &[f32],
    cols: usize,
    y: &[usize],
    rows: &[usize],
    class_means: &[f32],
    means64: &[f64],
    min_shrinkage: f64,
) -> Vec<f64> {
    let n = rows.len();
    let nf = n as f64;
    let n_classes = means64.len() / cols;
    let c = centred_rows(x, cols, y, rows, class_means);
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
    let mut gram = vec![0f64; n * n];
    for i in 0..n {
        for j in 0..=i {
            let v = dot(&c[i * cols..(i + 1) * cols], &c[j * cols..(j + 1) * cols]);
            gram[i * n + j] = v;
            gram[j * n + i] = v;
        }
    }
    let trace_s = (0..n).map(|i| gram[i * n + i]).sum::<f64>() / nf;
    let s_norm2 = gram.iter().map(|v| v * v).sum::<f64>() / (nf * nf);
    let ridge = (trace_s / cols as f64).max(1e-3);
    let fourth: f64 = (0..n).map(|i| gram[i * n + i] * gram[i * n + i]).sum();
    let lw = lw_from_moments(s_norm2, trace_s, fourth, nf, cols, ridge);
    let gamma = lw.max(min_shrinkage);
    let (a, b) = (1.0 - gamma, gamma * ridge);
    if a <= 1e-12 {
        return means64.iter().map(|v| v / b).collect();
    }
    let mut k = gram;
    for i in 0..n {
        k[i * n + i] += nf * b / a;
    }
    // Right-hand sides C μ_c, one row of n values per class.
    let mut rhs = vec![0f64; n_classes * n];
    for cl in 0..n_classes {
        let m = &means64[cl * cols..(cl + 1) * cols];
        for i in 0..n {
            rhs[cl * n + i] = dot(&c[i * cols..(i + 1) * cols], m);
        }
    }
    let Some(sol) = cholesky_solve(&k, n, &rhs, n_classes) else {
        return discriminant_primal(x, cols, y, rows, class_means, means64, min_shrinkage);
    };
    let mut dirs = means64.to_vec();
    for cl in 0..n_classes {
        let out = &mut dirs[cl * cols..(cl + 1) * cols];
        for i in 0..n {
            let w = sol[cl * n + i];
            if w == 0.0 {
                continue;
            }
            let row = &c[i * cols..(i + 1) * cols];
            for j in 0..cols {
                out[j] -= w * row[j];
            }
        }
        out.iter_mut().for_each(|v| *v /= b);
    }
    dirs
}

/// A shrunk linear discriminant of a labelled sample. See the [module docs](self).
#[derive(Debug, Clone, PartialEq)]
pub struct ShrunkLda {
    /// Number of features.
    pub n_features: usize,
    /// Number of classes.
    pub n_classes: usize,
    /// Rows of each class in the sample.
    pub counts: Vec<usize>,
    /// Smoothed class priors `(n_c + ½) / (n + k/2)`.
    pub priors: Vec<f32>,
    /// Class-conditional feature means `[n_classes, n_features]`, row-major (zeros for a class
    /// without rows).
    pub class_means: Vec<f32>,
    /// Directions `Σ⁻¹ μ_c` `[n_classes, n_features]`, row-major.
    pub dirs: Vec<f64>,
    /// Offsets `−½ μ_cᵀ Σ⁻¹ μ_c + ln p_c` `[n_classes]`.
    pub offsets: Vec<f32>,
}

impl ShrunkLda {
    /// Fits the discriminant on `rows` of `x` (`[n, cols]` row-major) with labels `y`
    /// (`< n_classes`), the covariance shrunk by the Ledoit–Wolf intensity and at least
    /// `min_shrinkage` (in `[0, 1]`; 1 gives a nearest-class-mean rule with priors).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when shapes disagree, the sample is empty, there are no features
    /// or fewer than 2 classes, a row or label is out of range, or `min_shrinkage` is outside
    /// `[0, 1]`.
    pub fn fit(
        x: &[f32],
        cols: usize,
        y: &[usize],
        rows: &[usize],
        n_classes: usize,
        min_shrinkage: f64,
    ) -> Result<Self> {
        let bad = |reason: String| Error::InvalidInput {
            what: "task sample".into(),
            reason,
        };
        if !(0.0..=1.0).contains(&min_shrinkage) {
            return Err(bad(format!(
                "shrinkage must be in [0, 1], got {min_shrinkage}"
            )));
        }
        if cols == 0 || n_classes < 2 {
            return Err(bad(format!(
                "need at least 1 feature and 2 classes, got {cols} features and {n_classes} classes"
            )));
        }
        if x.len() != y.len() * cols {
            return Err(bad(format!(
                "{} values do not make {} rows of {cols} features",
                x.len(),
                y.len()
            )));
        }
        if rows.is_empty() {
            return Err(bad("empty sample".into()));
        }
        let n = rows.len() as f32;
        let mut counts = vec![0usize; n_classes];
        let mut sums = vec![0f64; n_classes * cols];
        for &r in rows {
            let c = *y
                .get(r)
                .ok_or_else(|| bad(format!("row {r} out of range ({} rows)", y.len())))?;
            if c >= n_classes {
                return Err(bad(format!(
                    "label {c} out of range for {n_classes} classes"
                )));
            }
            counts[c] += 1;
            let row = &x[r * cols..(r + 1) * cols];
            for (j, &v) in row.iter().enumerate() {
                sums[c * cols + j] += v as f64;
            }
        }
        let mut class_means = vec![0f32; n_classes * cols];
        for c in 0..n_classes {
            if counts[c] > 0 {
                for j in 0..cols {
                    class_means[c * cols + j] = (sums[c * cols + j] / counts[c] as f64) as f32;
                }
            }
        }
        let means64: Vec<f64> = class_means.iter().map(|&v| v as f64).collect();
        // Fewer rows than features: the n × n Gram form is cheaper and gives the same result.
        let dirs = if rows.len() < cols {
            discriminant_dual(x, cols, y, rows, &class_means, &means64, min_shrinkage)
        } else {
            discriminant_primal(x, cols, y, rows, &class_means, &means64, min_shrinkage)
        };
        let priors: Vec<f32> = counts
            .iter()
            .map(|&k| (k as f32 + 0.5) / (n + 0.5 * n_classes as f32))
            .collect();
        let offsets: Vec<f32> = (0..n_classes)
            .map(|c| {
                let q: f64 = (0..cols)
                    .map(|j| means64[c * cols + j] * dirs[c * cols + j])
                    .sum();
                (-0.5 * q + (priors[c] as f64).ln()) as f32
            })
            .collect();
        Ok(Self {
            n_features: cols,
            n_classes,
            counts,
            priors,
            class_means,
            dirs,
            offsets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference of the tests: the Ledoit–Wolf (2004) shrinkage intensity of the pooled within-class covariance `s`
    /// (`d × d`, row-major) towards `μ·I`, `μ = tr(s)/d`: `min(1, β̄² / δ²)` with
    /// `δ² = ‖s − μI‖²_F` and `β̄² = n⁻² Σ_k ‖x_k x_kᵀ − s‖²_F` over the class-centred rows `x_k`
    /// (`discriminant_primal` sums the same fourth moment in its pass over the rows).
    fn ledoit_wolf_intensity(
        x: &[f32],
        cols: usize,
        y: &[usize],
        rows: &[usize],
        class_means: &[f32],
        s: &[f64],
        mu: f64,
    ) -> f64 {
        let s_norm2: f64 = s.iter().map(|v| v * v).sum();
        let trace: f64 = (0..cols).map(|i| s[i * cols + i]).sum();
        // Σ_k ‖x_k x_kᵀ − S‖² = Σ_k ‖x_k‖⁴ − 2 Σ_k x_kᵀ S x_k + n‖S‖², and since S = n⁻¹ Σ_k x_k x_kᵀ,
        // Σ_k x_kᵀ S x_k = n‖S‖²: the sum is Σ_k ‖x_k‖⁴ − n‖S‖², one pass over the rows.
        let fourth: f64 = rows
            .iter()
            .map(|&r| {
                let c = y[r];
                let norm2: f64 = (0..cols)
                    .map(|j| {
                        let v = x[r * cols + j] as f64 - class_means[c * cols + j] as f64;
                        v * v
                    })
                    .sum();
                norm2 * norm2
            })
            .sum();
        lw_from_moments(s_norm2, trace, fourth, rows.len() as f64, cols, mu)
    }

    #[test]
    fn gram_form_equals_the_covariance_form() {
        // 12 rows, 20 features, 3 classes: fewer rows than features.
        let (n, d, k) = (12, 20, 3);
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let x: Vec<f32> = (0..n * d).map(|_| next()).collect();
        let y: Vec<usize> = (0..n).map(|i| i % k).collect();
        let rows: Vec<usize> = (0..n).collect();
        let s = ShrunkLda::fit(&x, d, &y, &rows, k, LDA_SHRINKAGE_FLOOR).unwrap();
        let means: Vec<f64> = s.class_means.iter().map(|&v| v as f64).collect();
        for floor in [0.0, 0.05, 0.5, 1.0] {
            let p = discriminant_primal(&x, d, &y, &rows, &s.class_means, &means, floor);
            let q = discriminant_dual(&x, d, &y, &rows, &s.class_means, &means, floor);
            let scale = p.iter().fold(0f64, |m, v| m.max(v.abs()));
            let gap = p
                .iter()
                .zip(&q)
                .fold(0f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(
                gap <= 1e-9 * scale.max(1.0),
                "floor {floor}: gap {gap} at scale {scale}"
            );
        }
    }

    #[test]
    fn ledoit_wolf_shrinks_little_with_many_rows_of_correlated_data() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let (n, d) = (2000, 3);
        let mut x = Vec::with_capacity(n * d);
        for _ in 0..n {
            let a: f32 = rng.random_range(-1.0..1.0);
            let b: f32 = rng.random_range(-0.1..0.1);
            x.extend_from_slice(&[a, a + b, -a]);
        }
        let y = vec![0usize; n];
        let rows: Vec<usize> = (0..n).collect();
        let labels = [vec![0; n - 1], vec![1]].concat();
        let s = ShrunkLda::fit(&x, d, &labels, &rows, 2, LDA_SHRINKAGE_FLOOR).unwrap();
        assert!(s.dirs.iter().all(|v| v.is_finite()));
        // Strongly correlated features, plenty of rows: the covariance is far from μI and well
        // estimated, so little shrinkage.
        let means = vec![0f32; 2 * d];
        let mut cov = vec![0f64; d * d];
        for r in 0..n {
            for i in 0..d {
                for j in 0..d {
                    cov[i * d + j] += (x[r * d + i] * x[r * d + j]) as f64 / n as f64;
                }
            }
        }
        let mu = (0..d).map(|i| cov[i * d + i]).sum::<f64>() / d as f64;
        let g = ledoit_wolf_intensity(&x, d, &y, &rows, &means, &cov, mu);
        assert!(g < 0.05, "intensity {g}");
        // Few rows of isotropic noise: the sample covariance is mostly noise, so much shrinkage.
        let few: Vec<f32> = (0..5 * d).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        let few_rows: Vec<usize> = (0..5).collect();
        let mut cov = vec![0f64; d * d];
        for r in 0..5 {
            for i in 0..d {
                for j in 0..d {
                    cov[i * d + j] += (few[r * d + i] * few[r * d + j]) as f64 / 5.0;
                }
            }
        }
        let mu = (0..d).map(|i| cov[i * d + i]).sum::<f64>() / d as f64;
        let g_few = ledoit_wolf_intensity(&few, d, &[0; 5], &few_rows, &means, &cov, mu);
        assert!(g_few > 0.3, "intensity {g_few}");
    }

    #[test]
    fn cholesky_solves_a_small_system() {
        // [[4, 2], [2, 3]] x = [2, 1]  =>  x = [0.5, 0]
        let x = cholesky_solve(&[4.0, 2.0, 2.0, 3.0], 2, &[2.0, 1.0], 1).unwrap();
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12, "{x:?}");
        assert!(cholesky_solve(&[-1.0], 1, &[1.0], 1).is_none());
    }
}
