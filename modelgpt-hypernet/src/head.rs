//! The closed-form class head that the kernel-mode tabular generator and the image generator
//! write on top of the features they generate: the shrunk linear discriminant of the sample in
//! the features' space, solved on the host (as R2-D2 / MetaOptNet solve their heads) and made
//! differentiable with respect to the statistics it is solved from.
//!
//! ```text
//! features φ of the sample rows ─► class means μ_c, within-class covariance S, Σ‖φ_c,i‖⁴
//!   γ_LW = Ledoit–Wolf intensity                                   (host, `shrinkage_target`)
//!   Σ = (1 − γ) S + γ (tr S / h) I,  W = Σ⁻¹ μᵀ,  o_c = −½ μ_cᵀ W_c + ln p_c            (`solve`)
//! ```
//!
//! With `Σ₀`, `W₀ = Σ₀⁻¹ μᵀ` computed on the host, the head is emitted as
//! `W = W₀ + Σ₀⁻¹ ((μ − sg μ)ᵀ − (Σ − sg Σ) W₀)` (`sg` = stop-gradient), whose value is `W₀` and
//! whose gradient is that of `Σ⁻¹ μᵀ`, so meta-training reaches whatever produced `φ` and `γ`.

use burn::tensor::activation::sigmoid;
use burn::tensor::{Tensor, TensorData};

use crate::error::{Error, Result};
use crate::lda::{LDA_SHRINKAGE_FLOOR, lw_from_moments};
use crate::linalg::{cholesky, cholesky_solve_rows, dot, inverse_spd};

/// One-hot labels `[n, k]`, the class counts, and per class `1 / count` and whether it has no
/// row (`[k, 1]` each).
pub(crate) struct Classes {
    pub(crate) onehot: Tensor<2>,
    pub(crate) counts: Vec<usize>,
    inv: Tensor<2>,
    absent: Tensor<2>,
}

impl Classes {
    /// The label bookkeeping of `y` (every label `< k`) on `device`.
    pub(crate) fn new(y: &[usize], k: usize, device: &burn::tensor::Device) -> Self {
        let n = y.len();
        let mut counts = vec![0usize; k];
        let mut onehot = vec![0f32; n * k];
        for (r, &c) in y.iter().enumerate() {
            counts[c] += 1;
            onehot[r * k + c] = 1.0;
        }
        let inv: Vec<f32> = counts
            .iter()
            .map(|&c| if c > 0 { 1.0 / c as f32 } else { 0.0 })
            .collect();
        let absent: Vec<f32> = counts
            .iter()
            .map(|&c| if c > 0 { 0.0 } else { 1.0 })
            .collect();
        Self {
            onehot: Tensor::from_data(TensorData::new(onehot, [n, k]), device),
            counts,
            inv: Tensor::from_data(TensorData::new(inv, [k, 1]), device),
            absent: Tensor::from_data(TensorData::new(absent, [k, 1]), device),
        }
    }

    /// Class means of the rows of `m` (`[n, h]` → `[k, h]`); a class without rows gets the
    /// overall mean.
    pub(crate) fn means(&self, m: Tensor<2>) -> Tensor<2> {
        let global = m.clone().mean_dim(0);
        self.onehot.clone().transpose().matmul(m) * self.inv.clone() + self.absent.clone() * global
    }

    /// `m` minus each row's class mean (`means`, `[k, h]`).
    pub(crate) fn centre(&self, m: Tensor<2>, means: Tensor<2>) -> Tensor<2> {
        m - self.onehot.clone().matmul(means)
    }
}

/// Class means `[k, h]`, within-class covariance `S` `[h, h]` and `Σ_i ‖φ_c,i‖⁴` (`[1]`) of
/// plain features `phi` (`[n, h]`).
pub(crate) fn moments(phi: Tensor<2>, classes: &Classes) -> (Tensor<2>, Tensor<2>, Tensor<1>) {
    let n = phi.dims()[0] as f64;
    let means = classes.means(phi.clone());
    let c = classes.centre(phi, means.clone());
    let s = c.clone().transpose().matmul(c.clone()) / n;
    let fourth = c.powf_scalar(2.0).sum_dim(1).powf_scalar(2.0).sum();
    (means, s, fourth)
}

fn host(t: Tensor<2>) -> Result<Vec<f64>> {
    Ok(t.try_into_data()?
        .convert::<f32>()
        .try_into_vec::<f32>()?
        .into_iter()
        .map(f64::from)
        .collect())
}

/// The Ledoit–Wolf shrinkage intensity of `s` (`[h, h]`) towards its mean diagonal, clamped
/// to `[LDA_SHRINKAGE_FLOOR, 0.999]`, and that mean diagonal `tr S / h`.
///
/// # Errors
/// [`Error::InvalidInput`] for non-finite statistics.
pub(crate) fn shrinkage_target(s: &Tensor<2>, fourth: Tensor<1>, n: usize) -> Result<(f64, f64)> {
    let h = s.dims()[0];
    let s_host = host(s.clone())?;
    let trace: f64 = (0..h).map(|i| s_host[i * h + i]).sum();
    let s_norm2: f64 = s_host.iter().map(|v| v * v).sum();
    let fourth: f64 = fourth.into_scalar::<f32>() as f64;
    if !(trace.is_finite() && s_norm2.is_finite() && fourth.is_finite()) {
        return Err(Error::InvalidInput {
            what: "task sample".into(),
            reason: "non-finite feature statistics (non-finite inputs or weights)".into(),
        });
    }
    let mu = (trace / h as f64).max(1e-12);
    let gamma =
        lw_from_moments(s_norm2, trace, fourth, n as f64, h, mu).clamp(LDA_SHRINKAGE_FLOOR, 0.999);
    Ok((gamma, mu))
}

/// The discriminant head: `W` (`[h, k]`) and the offsets `o` (`[k, 1]`) for the shrinkage
/// `gamma` (`[1, 1]`, in `(0, 1)`), with `mu` the mean diagonal of `s` (a small ridge of
/// `1e-6 · mu` keeps `Σ` definite). When `differentiable`, gradients flow into `s`, `means`
/// and `gamma` (see the [module docs](self)); otherwise `W` is a plain solve.
///
/// # Errors
/// [`Error::InvalidInput`] when `Σ` is not positive definite (non-finite inputs).
pub(crate) fn solve(
    s: Tensor<2>,
    means: Tensor<2>,
    gamma: Tensor<2>,
    mu: f64,
    counts: &[usize],
    differentiable: bool,
) -> Result<(Tensor<2>, Tensor<2>)> {
    let h = s.dims()[0];
    let k = counts.len();
    let device = s.device();
    let eye: Tensor<2> = Tensor::eye(h, &device);
    let mu_t = (s.clone() * eye.clone()).sum().reshape([1, 1]) / h as f64;
    let ridge = 1e-6 * mu;
    let sigma = s * (gamma.clone().neg() + 1.0) + eye.clone() * (gamma * mu_t) + eye * ridge;

    let sigma_host = host(sigma.clone())?;
    let means_host = host(means.clone())?;
    let not_pd = || Error::InvalidInput {
        what: "task sample".into(),
        reason: "the feature covariance is not positive definite (non-finite inputs?)".into(),
    };
    let (w0_rows, inverse) = if differentiable {
        let inv = inverse_spd(&sigma_host, h).ok_or_else(not_pd)?;
        let mut rows = vec![0f64; k * h];
        for c in 0..k {
            let m = &means_host[c * h..(c + 1) * h];
            for i in 0..h {
                rows[c * h + i] = dot(&inv[i * h..(i + 1) * h], m);
            }
        }
        (rows, Some(inv))
    } else {
        let l = cholesky(&sigma_host, h).ok_or_else(not_pd)?;
        (cholesky_solve_rows(&l, h, &means_host, k), None)
    };
    let w0 = Tensor::<2>::from_data(
        TensorData::new(w0_rows.iter().map(|&v| v as f32).collect(), [k, h]),
        &device,
    )
    .transpose(); // [h, k]
    let w = match inverse {
        Some(inv) => {
            let inv = Tensor::<2>::from_data(
                TensorData::new(inv.iter().map(|&v| v as f32).collect(), [h, h]),
                &device,
            );
            let dm = (means.clone() - means.clone().detach()).transpose(); // [h, k]
            let ds = sigma.clone() - sigma.detach(); // [h, h]
            w0.clone() + inv.matmul(dm - ds.matmul(w0))
        }
        None => w0,
    };
    let n: usize = counts.iter().sum();
    let n_f = n as f32;
    let log_priors: Vec<f32> = counts
        .iter()
        .map(|&c| ((c as f32 + 0.5) / (n_f + 0.5 * k as f32)).ln())
        .collect();
    let log_priors = Tensor::<2>::from_data(TensorData::new(log_priors, [k, 1]), &device);
    let offsets = (means * w.clone().transpose()).sum_dim(1) * (-0.5) + log_priors; // [k, 1]
    Ok((w, offsets))
}

/// The class head as a generator emits it: [`solve`] at the shrinkage
/// `γ = σ(logit γ_LW + t₀)` and the logits scaled by the temperature `τ = exp(clamp(t₁, ±3))`,
/// plus the per-class offsets `delta` (`[k, 1]`): `W_out = τ W`, `b_out = τ o + δ`. `t`
/// (`[1, 2]`) is the generator's correction; zeros give the plain Ledoit–Wolf discriminant.
///
/// # Errors
/// As [`solve`].
pub(crate) fn corrected_head(
    s: Tensor<2>,
    means: Tensor<2>,
    t: Tensor<2>,
    delta: Tensor<2>,
    (gamma_lw, mu): (f64, f64),
    counts: &[usize],
    differentiable: bool,
) -> Result<(Tensor<2>, Tensor<1>)> {
    let k = counts.len();
    let logit_lw = (gamma_lw / (1.0 - gamma_lw)).ln();
    let gamma = sigmoid(t.clone().slice([0..1, 0..1]) + logit_lw); // [1, 1]
    let temperature = t.slice([0..1, 1..2]).clamp(-3.0, 3.0).exp(); // [1, 1]
    let (w, offsets) = solve(s, means, gamma, mu, counts, differentiable)?;
    let w_out = w * temperature.clone(); // [h, k]
    let b_out = (offsets * temperature + delta).reshape([k]);
    Ok((w_out, b_out))
}
