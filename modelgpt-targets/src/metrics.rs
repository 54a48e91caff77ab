//! The one home of the losses and metrics every crate uses: cross-entropy on logits, arg-max on
//! the device and on the host, and accuracy.
//!
//! ```
//! use burn::tensor::{Device, Tensor};
//! use modelgpt_targets::metrics::{accuracy, argmax, argmax_rows, cross_entropy};
//!
//! let device = Device::default();
//! let logits = Tensor::<2>::from_floats([[2.0, 0.0], [0.0, 1.0], [3.0, -1.0]], &device);
//! assert_eq!(argmax_rows(logits.clone())?, [0, 1, 0]);
//! assert_eq!(accuracy(logits.clone(), &[0, 1, 1])?, 2.0 / 3.0);
//! assert_eq!(argmax(&[0.5, 2.0, 2.0]), 1); // the first maximum
//! let loss = cross_entropy(logits, &[0, 1, 0]).into_scalar::<f32>();
//! assert!(loss > 0.0 && loss < 0.3);
//! # Ok::<(), modelgpt_targets::Error>(())
//! ```

use burn::tensor::activation::log_softmax;
use burn::tensor::{Tensor, TensorData};

use crate::error::Result;

/// Mean cross-entropy of `logits` against class indices `targets` (differentiable).
///
/// The one-hot targets are built on the host, so no integer kernels are needed on the device.
///
/// # Shapes
/// - `logits`: `[batch, n_classes]`
/// - `targets`: `batch` class indices `< n_classes`
/// - output: `[1]`
///
/// # Panics
/// If `targets.len()` differs from `batch` or a target is `≥ n_classes` (a caller bug: both
/// come from the same task).
pub fn cross_entropy(logits: Tensor<2>, targets: &[usize]) -> Tensor<1> {
    let [b, k] = logits.dims();
    assert_eq!(
        b,
        targets.len(),
        "cross_entropy: {b} rows of logits but {} targets",
        targets.len()
    );
    let mut onehot = vec![0f32; b * k];
    for (i, &t) in targets.iter().enumerate() {
        assert!(t < k, "cross_entropy: target {t} for {k} classes");
        onehot[i * k + t] = 1.0;
    }
    let onehot = Tensor::<2>::from_data(TensorData::new(onehot, [b, k]), &logits.device());
    -(log_softmax(logits, 1) * onehot).sum() / (b.max(1) as f64)
}

/// Arg-max class of each row, read back to the host in one transfer.
///
/// # Shapes
/// `logits`: `[batch, n_classes]` -> `batch` indices
///
/// # Errors
/// [`Error::Execution`](crate::Error::Execution) if the device cannot read the tensor back.
pub fn argmax_rows(logits: Tensor<2>) -> Result<Vec<usize>> {
    let [n, _] = logits.dims();
    if n == 0 {
        return Ok(Vec::new());
    }
    let pred = logits.argmax(1).reshape([n]).try_into_data()?;
    Ok(pred.iter::<i64>().map(|p| p.max(0) as usize).collect())
}

/// Index of the largest value on the host (the first on ties; NaN never wins; 0 when all are
/// NaN or `values` is empty).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, &v) in values.iter().enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

/// Fraction of `predicted` equal to `targets` (0 for none).
///
/// # Panics
/// If the lengths differ.
pub fn hit_rate(predicted: &[usize], targets: &[usize]) -> f64 {
    assert_eq!(
        predicted.len(),
        targets.len(),
        "hit_rate: {} predictions but {} targets",
        predicted.len(),
        targets.len()
    );
    if targets.is_empty() {
        return 0.0;
    }
    let hits = predicted
        .iter()
        .zip(targets)
        .filter(|(p, t)| p == t)
        .count();
    hits as f64 / targets.len() as f64
}

/// Fraction of rows whose arg-max logit is the target (0 for an empty batch).
///
/// # Shapes
/// - `logits`: `[batch, n_classes]`
/// - `targets`: `batch` class indices
///
/// # Errors
/// As [`argmax_rows`].
///
/// # Panics
/// If `targets.len()` differs from `batch`.
pub fn accuracy(logits: Tensor<2>, targets: &[usize]) -> Result<f64> {
    Ok(hit_rate(&argmax_rows(logits)?, targets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_device;

    #[test]
    fn cross_entropy_matches_hand_computation() {
        let device = test_device();
        let logits = Tensor::<2>::from_floats([[0.0, 0.0], [1.0, 0.0]], &device);
        let loss = cross_entropy(logits, &[1, 0]).into_scalar::<f32>();
        // (ln 2 + ln(1 + e^-1)) / 2
        let expected = ((2f32).ln() + (1.0 + (-1f32).exp()).ln()) / 2.0;
        assert!((loss - expected).abs() < 1e-6, "{loss} vs {expected}");
    }

    #[test]
    fn argmax_takes_first_maximum_and_skips_nan() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1);
        assert_eq!(argmax(&[f32::NAN, 0.5]), 1);
        assert_eq!(argmax(&[]), 0);
    }

    #[test]
    fn accuracy_counts_hits() {
        let device = test_device();
        let logits = Tensor::<2>::from_floats([[1.0, 0.0], [0.0, 1.0]], &device);
        assert_eq!(accuracy(logits, &[0, 0]).unwrap(), 0.5);
        assert_eq!(hit_rate(&[], &[]), 0.0);
    }
}
