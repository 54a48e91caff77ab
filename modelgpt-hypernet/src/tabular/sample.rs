//! What the general hypernetwork reads from a user's labelled sample.
//!
//! From a standardised feature matrix and its labels we compute, on the host:
//! - per-feature descriptors ([`N_FEATURE_STATS`] numbers: shape of the distribution and how
//!   strongly the feature separates the classes),
//! - per-class descriptors ([`N_CLASS_STATS`] numbers: prior, size of the class-mean vector),
//! - the class-conditional means `μ[c, j]` of every feature.
//!
//! These tie generated input-layer rows (one per feature) to generated class-head columns (one
//! per class), which is what lets one set of generator heads serve any feature and class count.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::lda::{LDA_SHRINKAGE_FLOOR, ShrunkLda};

/// Number of statistics per feature.
pub const N_FEATURE_STATS: usize = 9;
/// Number of statistics per class.
pub const N_CLASS_STATS: usize = 5;

/// Host-side summary of a labelled sample (row-major `[rows, cols]` standardised features).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSample {
    /// Number of features (columns of the preprocessed matrix).
    pub n_features: usize,
    /// Number of classes.
    pub n_classes: usize,
    /// `[n_features, N_FEATURE_STATS]`, row-major.
    pub feature_stats: Vec<f32>,
    /// `[n_classes, N_CLASS_STATS]`, row-major.
    pub class_stats: Vec<f32>,
    /// Class-conditional feature means `[n_classes, n_features]`, row-major.
    pub class_means: Vec<f32>,
    /// Linear-discriminant directions `w_c = Σ⁻¹ μ_c` `[n_classes, n_features]`, row-major, with
    /// `Σ` the within-class covariance shrunk towards its mean diagonal with the Ledoit–Wolf
    /// intensity (at least [`LDA_SHRINKAGE_FLOOR`]).
    pub class_dirs: Vec<f32>,
    /// Linear-discriminant offsets `−½ μ_cᵀ Σ⁻¹ μ_c + ln p_c` `[n_classes]`.
    pub class_offsets: Vec<f32>,
    /// The summarised rows themselves `[n_rows, n_features]`, row-major (what the kernel mode
    /// builds its features and discriminant from).
    pub rows_x: Vec<f32>,
    /// Their labels.
    pub rows_y: Vec<usize>,
}

impl TaskSample {
    /// Summarises `rows` of `x` (`[n, cols]` row-major) with labels `y` (`< n_classes`).
    ///
    /// Classes absent from the sample get zero means and a small prior. The discriminant uses
    /// at least [`LDA_SHRINKAGE_FLOOR`] shrinkage; see [`TaskSample::from_rows_shrunk`].
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) when shapes disagree, the sample is
    /// empty, or a label is out of range.
    pub fn from_rows(
        x: &[f32],
        cols: usize,
        y: &[usize],
        rows: &[usize],
        n_classes: usize,
    ) -> Result<Self> {
        Self::from_rows_shrunk(x, cols, y, rows, n_classes, LDA_SHRINKAGE_FLOOR)
    }

    /// As [`TaskSample::from_rows`], with the covariance shrunk by at least `min_shrinkage`
    /// (in `[0, 1]`; 1 gives a nearest-class-mean rule with priors).
    ///
    /// # Errors
    /// As [`TaskSample::from_rows`], and [`Error::InvalidInput`](crate::Error::InvalidInput) for `min_shrinkage` outside
    /// `[0, 1]`.
    pub fn from_rows_shrunk(
        x: &[f32],
        cols: usize,
        y: &[usize],
        rows: &[usize],
        n_classes: usize,
        min_shrinkage: f64,
    ) -> Result<Self> {
        let lda = ShrunkLda::fit(x, cols, y, rows, n_classes, min_shrinkage)?;
        let n = rows.len() as f32;
        let mut m1 = vec![0f64; cols];
        let mut m2 = vec![0f64; cols];
        let mut m3 = vec![0f64; cols];
        let mut m4 = vec![0f64; cols];
        let mut distinct_01 = vec![true; cols];
        for &r in rows {
            let row = &x[r * cols..(r + 1) * cols];
            for (j, &v) in row.iter().enumerate() {
                m1[j] += v as f64;
            }
        }
        for m in &mut m1 {
            *m /= n as f64;
        }
        let mut first = vec![f32::NAN; cols];
        let mut second = vec![f32::NAN; cols];
        for &r in rows {
            let row = &x[r * cols..(r + 1) * cols];
            for (j, &v) in row.iter().enumerate() {
                let d = v as f64 - m1[j];
                m2[j] += d * d;
                m3[j] += d * d * d;
                m4[j] += d * d * d * d;
                if distinct_01[j] {
                    if first[j].is_nan() {
                        first[j] = v;
                    } else if v != first[j] {
                        if second[j].is_nan() {
                            second[j] = v;
                        } else if v != second[j] {
                            distinct_01[j] = false;
                        }
                    }
                }
            }
        }
        let ShrunkLda {
            counts,
            priors,
            class_means,
            dirs,
            offsets: class_offsets,
            ..
        } = lda;
        let mut feature_stats = Vec::with_capacity(cols * N_FEATURE_STATS);
        for j in 0..cols {
            let raw_var = m2[j] / n as f64;
            let constant = raw_var < 1e-10;
            let var = raw_var.max(1e-10);
            let sd = var.sqrt();
            // A constant column has no shape: report zeros rather than 0/0.
            let skew = if constant {
                0.0
            } else {
                (m3[j] / n as f64) / (sd * sd * sd)
            };
            let kurt = if constant {
                0.0
            } else {
                (m4[j] / n as f64) / (var * var) - 3.0
            };
            // Between-class spread of the feature, relative to its total variance (η²).
            let mut between = 0f64;
            let mut max_abs = 0f64;
            for c in 0..n_classes {
                let d = class_means[c * cols + j] as f64 - m1[j];
                between += priors[c] as f64 * d * d;
                if !constant {
                    max_abs = max_abs.max(d.abs() / sd);
                }
            }
            let eta2 = (between / var).min(1.0);
            feature_stats.extend_from_slice(&[
                if distinct_01[j] { 1.0 } else { 0.0 },
                (skew.clamp(-10.0, 10.0) / 5.0) as f32,
                ((kurt.clamp(-3.0, 50.0) + 4.0).ln() / 3.0) as f32,
                eta2 as f32,
                eta2.sqrt() as f32,
                max_abs.min(5.0) as f32 / 2.0,
                (cols as f32).ln() / 4.0,
                (n_classes as f32).ln() / 2.0,
                // Sample size: how far the statistics can be trusted.
                n.ln() / 8.0,
            ]);
        }
        let mut class_stats = Vec::with_capacity(n_classes * N_CLASS_STATS);
        for c in 0..n_classes {
            let norm2: f32 = (0..cols)
                .map(|j| class_means[c * cols + j].powi(2))
                .sum::<f32>()
                / cols as f32;
            class_stats.extend_from_slice(&[
                priors[c],
                priors[c].ln() / 3.0,
                norm2.sqrt(),
                (n_classes as f32).ln() / 2.0,
                (counts[c] as f32 + 1.0).ln() / 6.0,
            ]);
        }
        Ok(Self {
            n_features: cols,
            n_classes,
            feature_stats,
            class_stats,
            class_means,
            class_dirs: dirs.iter().map(|&v| v as f32).collect(),
            class_offsets,
            rows_x: rows
                .iter()
                .flat_map(|&r| x[r * cols..(r + 1) * cols].iter().copied())
                .collect(),
            rows_y: rows.iter().map(|&r| y[r]).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_means_and_priors() {
        // 4 rows, 2 features, 2 classes.
        let x = [1.0, 0.0, 3.0, 0.0, -1.0, 1.0, -3.0, 1.0];
        let y = [0, 0, 1, 1];
        let s = TaskSample::from_rows(&x, 2, &y, &[0, 1, 2, 3], 2).unwrap();
        assert_eq!(s.class_means, vec![2.0, 0.0, -2.0, 1.0]);
        assert_eq!(s.feature_stats.len(), 2 * N_FEATURE_STATS);
        assert_eq!(
            s.feature_stats[N_FEATURE_STATS], 1.0,
            "second feature is binary"
        );
        assert!((s.class_stats[0] - 0.5).abs() < 1e-6);
        assert_eq!(s.class_dirs.len(), 4);
        assert!(s.class_offsets.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn discriminant_directions_separate_classes() {
        // Two classes differing along feature 0 only; feature 1 is noise correlated within class.
        let x = [
            2.0, 0.5, 2.2, -0.5, 1.8, 0.1, -2.0, 0.4, -2.1, -0.3, -1.9, 0.0,
        ];
        let y = [0, 0, 0, 1, 1, 1];
        let s = TaskSample::from_rows(&x, 2, &y, &[0, 1, 2, 3, 4, 5], 2).unwrap();
        // LDA score difference along feature 0 is positive for class 0.
        assert!(
            s.class_dirs[0] > 0.0 && s.class_dirs[2] < 0.0,
            "{:?}",
            s.class_dirs
        );
    }

    #[test]
    fn constant_column_gives_finite_stats() {
        let x = [3.0, 1.0, 3.0, 2.0, 3.0, -1.0];
        let s = TaskSample::from_rows(&x, 2, &[0, 1, 0], &[0, 1, 2], 2).unwrap();
        assert!(
            s.feature_stats
                .iter()
                .chain(&s.class_stats)
                .chain(&s.class_means)
                .all(|v| v.is_finite())
        );
    }

    #[test]
    fn bad_label_is_an_error() {
        let err = TaskSample::from_rows(&[0.0, 1.0], 1, &[0, 5], &[0, 1], 2).unwrap_err();
        assert!(err.to_string().contains("label 5"), "{err}");
    }
}
