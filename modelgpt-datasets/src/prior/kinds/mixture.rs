//! [`PriorKind::GaussianMixture`](crate::prior::PriorKind::GaussianMixture): each class a mixture
//! of 1–3 Gaussian blobs with random covariances.

use super::super::inputs::{derived, standardized};
use super::super::labels::{MIN_PER_CLASS, class_weights, segment_sizes};
use super::super::rng::TaskRng;
use super::{Mechanism, Shape, n_drivers};

/// One Gaussian blob: mean and a lower-triangular factor of its covariance (`Σ = L Lᵀ`).
struct Blob {
    mean: Vec<f32>,
    /// Row-major `s × s`, zero above the diagonal.
    factor: Vec<f32>,
}

fn random_factor(rng: &mut TaskRng, s: usize) -> Vec<f32> {
    let scale = rng.log_uniform(0.3, 1.5);
    let corr = rng.range(0.0, 0.8);
    let mut l = vec![0.0f32; s * s];
    for i in 0..s {
        let axis = scale * rng.log_uniform(0.5, 2.0);
        l[i * s + i] = axis as f32;
        for j in 0..i {
            l[i * s + j] = (rng.normal() * corr * scale) as f32;
        }
    }
    l
}

/// Labels are drawn first (imbalanced class weights, at least two rows per class, shuffled);
/// each row then comes from one blob of its class: `x = μ + L ε`. Means spread with a random
/// scale (how separable the classes are); with probability 0.3 all blobs share one covariance
/// (then single-blob classes are linearly separable in the Bayes sense). The drivers are the
/// blob coordinates; the other columns are noisy mixes of them.
pub(in crate::prior) fn gaussian_mixture(rng: &mut TaskRng, shape: Shape) -> Mechanism {
    let Shape { n, d, k } = shape;
    let s = n_drivers(rng, d, 10).max(2.min(d));
    let spread = rng.log_uniform(0.7, 3.0);
    let shared = rng.bool(0.3).then(|| random_factor(rng, s));
    let classes: Vec<Vec<(f64, Blob)>> = (0..k)
        .map(|_| {
            let blobs = match rng.uniform() {
                u if u < 0.35 => 1,
                u if u < 0.75 => 2,
                _ => 3,
            };
            (0..blobs)
                .map(|_| {
                    let mean = (0..s).map(|_| (rng.normal() * spread) as f32).collect();
                    let factor = shared.clone().unwrap_or_else(|| random_factor(rng, s));
                    (rng.range(0.3, 1.0), Blob { mean, factor })
                })
                .collect()
        })
        .collect();

    let sizes = segment_sizes(n, &class_weights(rng, k));
    let mut labels: Vec<usize> = sizes
        .iter()
        .enumerate()
        .flat_map(|(c, &size)| std::iter::repeat_n(c, size))
        .collect();
    debug_assert!(sizes.iter().all(|&c| c >= MIN_PER_CLASS.min(n / k)));
    rng.shuffle(&mut labels);

    let mut columns = vec![vec![0.0f32; n]; s];
    let mut eps = vec![0.0f32; s];
    for (r, &c) in labels.iter().enumerate() {
        let blobs = &classes[c];
        let weights: Vec<f64> = blobs.iter().map(|(w, _)| *w).collect();
        let blob = &blobs[rng.weighted(&weights)].1;
        rng.fill_normal(&mut eps, 1.0);
        for (i, col) in columns.iter_mut().enumerate() {
            // Row i of the lower-triangular factor: entries 0..=i.
            let row = &blob.factor[i * s..i * s + i + 1];
            let v: f32 = row.iter().zip(&eps).map(|(a, e)| a * e).sum();
            col[r] = blob.mean[i] + v;
        }
    }
    let n_blobs: usize = classes.iter().map(Vec::len).sum();
    let description = format!(
        "gaussian_mixture: {s} dimensions, {n_blobs} blobs for {k} classes, spread {spread:.2}, \
         {} covariance",
        if shared.is_some() {
            "shared"
        } else {
            "per-blob"
        }
    );
    let std: Vec<Vec<f32>> = columns.iter().map(|c| standardized(c)).collect();
    let more = derived(rng, &std, d - s, false);
    columns.extend(more);
    Mechanism::continuous(columns, labels, description)
}
