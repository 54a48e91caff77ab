//! [`PriorKind::SmoothFunction`](crate::prior::PriorKind::SmoothFunction): a Gaussian-process-like
//! random function of the drivers, made of random Fourier features.

use super::super::inputs::standardized;
use super::super::labels::{argmax_labels, banded_labels, class_weights, quantile_labels};
use super::super::rng::TaskRng;
use super::{Drivers, Mechanism, Shape, n_drivers, use_argmax};

/// One random Fourier feature `cos(Σ ω_j z_j + φ)` over a few drivers.
struct Feature {
    dims: Vec<usize>,
    omega: Vec<f32>,
    phase: f32,
}

/// A smooth random function: `f(z) = Σ_m a_m cos(ω_m · z + φ_m) + λ β · z` over standardized
/// drivers `z` (random Fourier features approximate a GP with an RBF kernel of length scale `ℓ`;
/// each feature touches only `order` drivers, so the function has interactions of that order).
/// Classes are quantile cuts of one such function (20 % of the time bands, several per class) or
/// the argmax of one per class (sharing the features, with their own amplitudes).
pub(in crate::prior) fn smooth_function(rng: &mut TaskRng, shape: Shape) -> Mechanism {
    let Shape { n, d, k } = shape;
    let s = n_drivers(rng, d, 16);
    let drivers = Drivers::draw(rng, n, s, 0.15);
    let z = &drivers.std;

    let order = rng.int_in(1, s.min(3));
    let length = rng.log_uniform(0.4, 3.0);
    let ard: Vec<f64> = (0..s).map(|_| rng.log_uniform(0.5, 2.0)).collect();
    let m = rng.int_in(16, 64).max(s.div_ceil(order));
    // Cover every driver: the first features take the drivers in a shuffled order.
    let mut cover: Vec<usize> = (0..s).collect();
    rng.shuffle(&mut cover);
    let mut features = Vec::with_capacity(m);
    for i in 0..m {
        let mut dims: Vec<usize> = Vec::with_capacity(order);
        for j in 0..order {
            let idx = i * order + j;
            let dim = if idx < s { cover[idx] } else { rng.below(s) };
            if !dims.contains(&dim) {
                dims.push(dim);
            }
        }
        let scale = 1.0 / (length * (dims.len() as f64).sqrt());
        let omega = dims
            .iter()
            .map(|&j| (rng.normal() * scale / ard[j]) as f32)
            .collect();
        let phase = rng.range(0.0, std::f64::consts::TAU) as f32;
        features.push(Feature { dims, omega, phase });
    }
    // Basis values, one row per feature: [m][n].
    let norm = (2.0 / m as f64).sqrt() as f32;
    let basis: Vec<Vec<f32>> = features
        .iter()
        .map(|f| {
            (0..n)
                .map(|r| {
                    let mut t = f.phase;
                    for (&j, &w) in f.dims.iter().zip(&f.omega) {
                        t += w * z[j][r];
                    }
                    norm * t.cos()
                })
                .collect()
        })
        .collect();

    let argmax = use_argmax(rng, k, 0.4);
    let n_fun = if argmax { k } else { 1 };
    let linear = if rng.bool(0.5) {
        0.0
    } else {
        rng.range(0.0, 1.0)
    };
    let functions: Vec<Vec<f32>> = (0..n_fun)
        .map(|_| {
            let amp: Vec<f32> = (0..m).map(|_| rng.normal() as f32).collect();
            let beta: Vec<f32> = (0..s)
                .map(|_| (rng.normal() * linear / (s as f64).sqrt()) as f32)
                .collect();
            let mut f = vec![0.0f32; n];
            for (a, b) in amp.iter().zip(&basis) {
                for (fr, &br) in f.iter_mut().zip(b) {
                    *fr += a * br;
                }
            }
            for (bj, zj) in beta.iter().zip(z) {
                for (fr, &zr) in f.iter_mut().zip(zj) {
                    *fr += bj * zr;
                }
            }
            f
        })
        .collect();

    let mut banded = false;
    let labels = if argmax {
        let functions: Vec<Vec<f32>> = functions.iter().map(|f| standardized(f)).collect();
        let bias: Vec<f32> = (0..k).map(|_| (rng.normal() * 0.3) as f32).collect();
        argmax_labels(&functions, &bias)
    } else if rng.bool(0.2) {
        banded = true;
        banded_labels(rng, &functions[0], k)
    } else {
        quantile_labels(&functions[0], &class_weights(rng, k))
    };
    let description = format!(
        "smooth_function: {s} drivers, {m} Fourier features of order {order}, length scale \
         {length:.2}, linear part {linear:.2}, label: {}",
        if argmax {
            "argmax of one function per class"
        } else if banded {
            "bands of one function"
        } else {
            "quantile cuts of one function"
        }
    );
    drivers.into_mechanism(rng, d, labels, description)
}
