//! Seeded, stratified train / validation / test splits.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Row indices of the training, validation and test parts (disjoint, each sorted ascending).
///
/// ```
/// use modelgpt_core::data::Split;
/// let targets = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
/// let s = Split::seeded(targets.len(), &targets, (0.6, 0.1, 0.3), 42)?;
/// assert_eq!((s.train.len(), s.valid.len(), s.test.len()), (12, 2, 6));
/// assert_eq!(s, Split::seeded(targets.len(), &targets, (0.6, 0.1, 0.3), 42)?); // deterministic
/// // Each class keeps its share in every part.
/// assert_eq!(s.test.iter().filter(|&&i| targets[i] == 1).count(), 3);
/// # Ok::<(), modelgpt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// Training rows.
    pub train: Vec<usize>,
    /// Validation rows.
    pub valid: Vec<usize>,
    /// Test rows.
    pub test: Vec<usize>,
}

impl Split {
    /// A seeded split of `n` rows stratified by `targets` (class index per row), with
    /// `fractions = (train, valid, test)` summing to 1 (e.g. `(0.6, 0.1, 0.3)`, paper §3 for
    /// tabular data). With empty `targets` the split is not stratified.
    ///
    /// Within each class the rows are shuffled with `StdRng::seed_from_u64(seed)`, then
    /// `round(k * valid)` go to validation and `round(k * test)` to test; a class with at least
    /// three rows puts at least one in every part whose fraction is positive, and training always
    /// keeps at least one row of each class.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for negative fractions or fractions not summing to 1;
    /// [`Error::ShapeMismatch`] when `targets` is neither empty nor of length `n`.
    pub fn seeded(
        n: usize,
        targets: &[usize],
        fractions: (f32, f32, f32),
        seed: u64,
    ) -> Result<Self> {
        let (ft, fv, fs) = fractions;
        if ft < 0.0 || fv < 0.0 || fs < 0.0 || ((ft + fv + fs) - 1.0).abs() > 1e-3 {
            return Err(Error::InvalidConfig {
                field: "fractions",
                reason: format!(
                    "train/valid/test fractions must be >= 0 and sum to 1, got ({ft}, {fv}, {fs})"
                ),
            });
        }
        if !targets.is_empty() && targets.len() != n {
            return Err(Error::ShapeMismatch {
                what: "split targets".into(),
                expected: vec![n],
                actual: vec![targets.len()],
            });
        }
        let n_classes = targets.iter().max().map_or(1, |&m| m + 1);
        let mut groups: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
        for i in 0..n {
            groups[targets.get(i).copied().unwrap_or(0)].push(i);
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let mut split = Split {
            train: Vec::with_capacity(n),
            valid: Vec::new(),
            test: Vec::new(),
        };
        for mut g in groups {
            g.shuffle(&mut rng);
            let k = g.len();
            let mut n_valid = (k as f32 * fv).round() as usize;
            let mut n_test = (k as f32 * fs).round() as usize;
            if k >= 3 {
                if fv > 0.0 {
                    n_valid = n_valid.max(1);
                }
                if fs > 0.0 {
                    n_test = n_test.max(1);
                }
            }
            // Keep at least one training row per class.
            while k > 0 && n_valid + n_test >= k {
                if n_valid >= n_test && n_valid > 0 {
                    n_valid -= 1;
                } else if n_test > 0 {
                    n_test -= 1;
                } else {
                    break;
                }
            }
            split.valid.extend_from_slice(&g[..n_valid]);
            split.test.extend_from_slice(&g[n_valid..n_valid + n_test]);
            split.train.extend_from_slice(&g[n_valid + n_test..]);
        }
        split.sort();
        Ok(split)
    }

    /// A split for data with its own train/test parts: rows `0..n_train` are the training part,
    /// `n_train..n_train + n_test` the test part. A seeded `valid_frac` of the training part
    /// becomes the validation set.
    ///
    /// ```
    /// use modelgpt_core::data::Split;
    /// let s = Split::from_train_test(10, 4, 0.2, 1);
    /// assert_eq!((s.train.len(), s.valid.len()), (8, 2));
    /// assert_eq!(s.test, [10, 11, 12, 13]);
    /// ```
    pub fn from_train_test(n_train: usize, n_test: usize, valid_frac: f32, seed: u64) -> Self {
        let mut idx: Vec<usize> = (0..n_train).collect();
        idx.shuffle(&mut StdRng::seed_from_u64(seed));
        let n_valid = ((n_train as f32 * valid_frac.clamp(0.0, 1.0)).round() as usize).min(n_train);
        let mut split = Split {
            valid: idx[..n_valid].to_vec(),
            train: idx[n_valid..].to_vec(),
            test: (n_train..n_train + n_test).collect(),
        };
        split.sort();
        split
    }

    /// [`Split::from_train_test`] with the validation rows carved from the training part stratified
    /// by class: `targets` covers all rows (training part first).
    ///
    /// # Errors
    /// As [`Split::seeded`]; [`Error::ShapeMismatch`] when `n_train > targets.len()`.
    pub fn from_train_test_stratified(
        targets: &[usize],
        n_train: usize,
        valid_frac: f32,
        seed: u64,
    ) -> Result<Self> {
        if n_train > targets.len() {
            return Err(Error::ShapeMismatch {
                what: "training part of the split".into(),
                expected: vec![targets.len()],
                actual: vec![n_train],
            });
        }
        let f = valid_frac.clamp(0.0, 1.0);
        let inner = Split::seeded(n_train, &targets[..n_train], (1.0 - f, f, 0.0), seed)?;
        Ok(Split {
            train: inner.train,
            valid: inner.valid,
            test: (n_train..targets.len()).collect(),
        })
    }

    /// Total rows in the three parts.
    pub fn len(&self) -> usize {
        self.train.len() + self.valid.len() + self.test.len()
    }

    /// Whether all parts are empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn sort(&mut self) {
        self.train.sort_unstable();
        self.valid.sort_unstable();
        self.test.sort_unstable();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets() -> Vec<usize> {
        (0..1000)
            .map(|i| if i % 10 == 0 { 2 } else { i % 2 })
            .collect()
    }

    #[test]
    fn deterministic_and_seed_dependent() {
        let t = targets();
        let a = Split::seeded(t.len(), &t, (0.6, 0.1, 0.3), 1).unwrap();
        let b = Split::seeded(t.len(), &t, (0.6, 0.1, 0.3), 1).unwrap();
        let c = Split::seeded(t.len(), &t, (0.6, 0.1, 0.3), 2).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn partition_and_stratification() {
        let t = targets();
        let s = Split::seeded(t.len(), &t, (0.6, 0.1, 0.3), 5).unwrap();
        let mut all: Vec<usize> = s
            .train
            .iter()
            .chain(&s.valid)
            .chain(&s.test)
            .copied()
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..t.len()).collect::<Vec<_>>());
        for class in 0..3 {
            let total = t.iter().filter(|&&x| x == class).count() as f32;
            let in_test = s.test.iter().filter(|&&i| t[i] == class).count() as f32;
            assert!(
                (in_test / total - 0.3).abs() < 0.01,
                "class {class}: {in_test}/{total}"
            );
        }
    }

    #[test]
    fn tiny_classes_keep_a_training_row() {
        let t = [0, 0, 0, 0, 0, 0, 1, 1, 2];
        let s = Split::seeded(t.len(), &t, (0.6, 0.1, 0.3), 0).unwrap();
        for class in 0..3 {
            assert!(s.train.iter().any(|&i| t[i] == class));
        }
    }

    #[test]
    fn bad_fractions_are_rejected() {
        assert!(matches!(
            Split::seeded(3, &[], (0.5, 0.1, 0.1), 0),
            Err(Error::InvalidConfig {
                field: "fractions",
                ..
            })
        ));
    }

    #[test]
    fn stratified_train_test() {
        let t: Vec<usize> = (0..30).map(|i| i % 3).collect();
        let s = Split::from_train_test_stratified(&t, 20, 0.25, 3).unwrap();
        assert_eq!(s.test, (20..30).collect::<Vec<_>>());
        assert_eq!(s.train.len() + s.valid.len(), 20);
        assert!(s.valid.iter().all(|&i| i < 20));
    }
}
