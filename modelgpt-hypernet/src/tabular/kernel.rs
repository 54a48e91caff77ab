//! The kernel hypernetwork: writes a non-linear MLP `[d] → ReLU[2p] → [K]` for any table in one
//! forward pass, from the user's sample and the requirement.
//!
//! ```text
//! r ─► trunk ─► z
//! feature j: [proj(name_j), stats_j, z] ─► MLP ─► log-scale g_j           (learned relevance)
//! directions v_h (h < p): the sample's discriminant directions Σ⁻¹μ_c (as many as fit in p/4),
//!                         the rest standard normal; v_h ← diag(e^g) v_h / ‖diag(e^g) v_h‖
//! anchors a_h: a random row of the sample;  hidden unit pair  relu(±v_h·(x − x_{a_h}))
//! W₁ = [V, −V],  b₁ = [−Vᵀx_a, Vᵀx_a]                                      (input layer)
//! φ = relu(X_s W₁ + b₁) over the sample rows X_s
//! μ_c = class means of φ,  S = within-class covariance of φ,
//! Σ = (1 − γ) S + γ (tr S / 2p) I,  γ = σ(logit γ_LW + a(z))              (shrinkage)
//! W_out = τ Σ⁻¹ μ,  b_out[c] = τ (−½ μ_cᵀ Σ⁻¹ μ_c + ln p_c) + δ_c            (class head)
//! ```
//!
//! The output layer is the shrunk linear discriminant of the sample **in the space of the
//! hidden units** (solved in closed form on the host, as R2-D2 / MetaOptNet solve their heads),
//! so the generated MLP is a random-feature kernel discriminant: non-linear, yet written without
//! a gradient step on the user's rows. A mirrored pair `relu(u) − relu(−u) = u` keeps every
//! direction's linear score available, so the span of the hidden layer contains the input-space
//! discriminant whenever `p` covers the feature count; the discriminant directions are among the
//! first units so that it does for any `d`. `γ_LW` is the Ledoit–Wolf intensity of `S` (at least
//! [`LDA_SHRINKAGE_FLOOR`](crate::LDA_SHRINKAGE_FLOOR)).
//!
//! What meta-training learns, as functions of the requirement and the sample's statistics: the
//! per-feature scales `g_j` (which inputs the random directions emphasise), the shrinkage
//! correction `a`, the logit temperature `τ` and the per-class offsets `δ_c`. Every head starts
//! at zero, so the untrained generator is the plain random-feature discriminant. Gradients reach
//! them through the closed-form solve: with `Σ₀`, `W₀ = Σ₀⁻¹ μᵀ` computed on the host, the
//! generator emits `W = W₀ + Σ₀⁻¹ ((μ − sg μ)ᵀ − (Σ − sg Σ) W₀)` (`sg` = stop-gradient), whose
//! value is `W₀` and whose gradient is that of `Σ⁻¹ μᵀ`.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::activation::{leaky_relu, relu, sigmoid};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::general::{MlpTensors, TaskContext};
use super::sample::{N_CLASS_STATS, N_FEATURE_STATS};
use crate::error::{Error, Result};
use crate::lda::{LDA_SHRINKAGE_FLOOR, lw_from_moments};
use crate::linalg::{cholesky, cholesky_solve_rows, inverse_spd};
use crate::trunk::{SLOPE, Trunk, TrunkConfig};

/// Width of the projected name embeddings.
const D_NAME: usize = 16;
/// Task-level descriptors read by the task head (`ln n`, `ln d`, `ln K`, `γ_LW`).
const N_TASK_STATS: usize = 4;

/// Configuration of the [`KernelHyperNet`].
#[derive(Config, Debug)]
pub struct KernelHyperNetConfig {
    /// Width of the requirement / name embeddings (384 for MiniLM).
    pub d_embed: usize,
    /// Width of the trunk and of the heads.
    #[config(default = 64)]
    pub d_hidden: usize,
    /// Number of directions `p`; the generated hidden layer has `2p` ReLU units.
    #[config(default = 128)]
    pub n_directions: usize,
    /// Dropout in the trunk.
    #[config(default = 0.1)]
    pub dropout: f64,
}

impl KernelHyperNetConfig {
    /// Initialises the hypernetwork (every correction head at zero).
    pub fn init(&self, device: &Device) -> KernelHyperNet {
        let d = self.d_hidden;
        let zero = |i: usize, o: usize| {
            LinearConfig::new(i, o)
                .with_initializer(Initializer::Zeros)
                .init(device)
        };
        KernelHyperNet {
            trunk: TrunkConfig::new(self.d_embed, d)
                .with_dropout(self.dropout)
                .init(device),
            feat_name: LinearConfig::new(self.d_embed, D_NAME).init(device),
            feat_1: LinearConfig::new(D_NAME + N_FEATURE_STATS + d, d).init(device),
            feat_2: zero(d, 1),
            class_name: LinearConfig::new(self.d_embed, D_NAME).init(device),
            class_1: LinearConfig::new(D_NAME + N_CLASS_STATS + d, d).init(device),
            class_2: zero(d, 1),
            task_1: LinearConfig::new(d + N_TASK_STATS, d).init(device),
            task_2: zero(d, 2),
            n_directions: self.n_directions.max(1),
        }
    }
}

/// The kernel-mode hypernetwork. See the [module docs](self).
#[derive(Module, Debug)]
pub struct KernelHyperNet {
    trunk: Trunk,
    feat_name: Linear,
    feat_1: Linear,
    feat_2: Linear,
    class_name: Linear,
    class_1: Linear,
    class_2: Linear,
    task_1: Linear,
    task_2: Linear,
    n_directions: usize,
}

/// Standard normal draws (Box–Muller).
fn normals(rng: &mut StdRng, n: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let u1: f64 = rng.random::<f64>().max(1e-12);
        let u2: f64 = rng.random::<f64>();
        let r = (-2.0 * u1.ln()).sqrt();
        let t = std::f64::consts::TAU * u2;
        out.push((r * t.cos()) as f32);
        out.push((r * t.sin()) as f32);
    }
    out.truncate(n);
    out
}

fn host(t: Tensor<2>) -> Result<Vec<f32>> {
    Ok(t.try_into_data()?.convert::<f32>().try_into_vec::<f32>()?)
}

impl KernelHyperNet {
    /// Number of directions `p` (the hidden layer has `2p` units).
    pub fn n_directions(&self) -> usize {
        self.n_directions
    }

    /// Generates the tensors of the MLP `[d] → ReLU[2p] → [K]` in one forward pass: input layer
    /// `(W₁ [d, 2p], b₁ [2p])`, then the class head `(W_out [2p, K], b_out [K])`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a context without rows or with a label out of range.
    pub fn forward(&self, ctx: &TaskContext) -> Result<MlpTensors> {
        let device = ctx.support_x.device();
        let d = ctx.n_features();
        let k = ctx.n_classes();
        let n = ctx.support_y.len();
        let p = self.n_directions;
        let h = 2 * p;
        if n == 0 || ctx.support_x.dims() != [n, d] {
            return Err(Error::InvalidInput {
                what: "task context".into(),
                reason: format!(
                    "the sample must hold [rows, {d}] features, got {:?} for {n} labels",
                    ctx.support_x.dims()
                ),
            });
        }
        if let Some(&bad) = ctx.support_y.iter().find(|&&c| c >= k) {
            return Err(Error::InvalidInput {
                what: "task context".into(),
                reason: format!("label {bad} out of range for {k} classes"),
            });
        }
        let z = self.trunk.forward(ctx.requirement.clone()); // [1, D]
        let differentiable = z.is_require_grad();
        let dz = z.dims()[1];

        // Per-feature relevance scales.
        let fname = self.feat_name.forward(ctx.feature_names.clone());
        let fin = Tensor::cat(
            vec![fname, ctx.feature_stats.clone(), z.clone().expand([d, dz])],
            1,
        );
        let g = self
            .feat_2
            .forward(leaky_relu(self.feat_1.forward(fin), SLOPE))
            .clamp(-4.0, 4.0)
            .exp(); // [d, 1]

        // Directions: the input-space discriminant directions first, then random ones.
        let mut rng = StdRng::seed_from_u64(
            ctx.feature_seed ^ ((d as u64) << 40) ^ ((k as u64) << 20) ^ n as u64,
        );
        let n_lda = k.min(p / 4);
        let mut v = normals(&mut rng, d * p); // [d, p] row-major
        if n_lda > 0 {
            let dirs = host(ctx.class_dirs.clone())?; // [k, d]
            for c in 0..n_lda {
                let norm = dirs[c * d..(c + 1) * d]
                    .iter()
                    .map(|x| x * x)
                    .sum::<f32>()
                    .sqrt();
                if norm > 1e-8 {
                    for j in 0..d {
                        v[j * p + c] = dirs[c * d + j] / norm;
                    }
                }
            }
        }
        let anchors: Vec<i64> = (0..p).map(|_| rng.random_range(0..n) as i64).collect();
        let v = Tensor::<2>::from_data(TensorData::new(v, [d, p]), &device) * g;
        let norms = v.clone().powf_scalar(2.0).sum_dim(0).sqrt().clamp_min(1e-6); // [1, p]
        let v = v / norms;
        let xa = ctx.support_x.clone().select(
            0,
            Tensor::<1, Int>::from_data(TensorData::new(anchors, [p]), &device),
        ); // [p, d]
        let u = (xa * v.clone().transpose()).sum_dim(1).reshape([p]); // v_h · x_{a_h}
        let w1 = Tensor::cat(vec![v.clone(), -v], 1); // [d, 2p]
        let b1 = Tensor::cat(vec![-u.clone(), u], 0); // [2p]

        // The discriminant in the space of the hidden units.
        let phi = relu(ctx.support_x.clone().matmul(w1.clone()) + b1.clone().reshape([1, h])); // [n, 2p]
        let mut counts = vec![0usize; k];
        let mut onehot = vec![0f32; n * k];
        for (r, &c) in ctx.support_y.iter().enumerate() {
            counts[c] += 1;
            onehot[r * k + c] = 1.0;
        }
        let y = Tensor::<2>::from_data(TensorData::new(onehot, [n, k]), &device);
        let inv: Vec<f32> = counts
            .iter()
            .map(|&c| if c > 0 { 1.0 / c as f32 } else { 0.0 })
            .collect();
        let absent: Vec<f32> = counts
            .iter()
            .map(|&c| if c > 0 { 0.0 } else { 1.0 })
            .collect();
        let inv = Tensor::<2>::from_data(TensorData::new(inv, [k, 1]), &device);
        let absent = Tensor::<2>::from_data(TensorData::new(absent, [k, 1]), &device);
        let global = phi.clone().mean_dim(0); // [1, 2p]
        // Classes without rows get the overall mean (and a small prior).
        let means = y.clone().transpose().matmul(phi.clone()) * inv + absent * global; // [k, 2p]
        let centred = phi - y.matmul(means.clone()); // [n, 2p]
        let s = centred.clone().transpose().matmul(centred.clone()) / n as f64; // [2p, 2p]
        let fourth = centred.powf_scalar(2.0).sum_dim(1).powf_scalar(2.0).sum(); // [1]

        let s_host: Vec<f64> = host(s.clone())?.into_iter().map(f64::from).collect();
        let trace: f64 = (0..h).map(|i| s_host[i * h + i]).sum();
        let s_norm2: f64 = s_host.iter().map(|v| v * v).sum();
        let fourth: f64 = fourth.into_scalar::<f32>() as f64;
        let mu = (trace / h as f64).max(1e-12);
        let gamma_lw = lw_from_moments(s_norm2, trace, fourth, n as f64, h, mu)
            .clamp(LDA_SHRINKAGE_FLOOR, 0.999);

        let task_stats = Tensor::<2>::from_data(
            TensorData::new(
                vec![
                    (n as f32).ln() / 8.0,
                    (d as f32).ln() / 4.0,
                    (k as f32).ln() / 2.0,
                    gamma_lw as f32,
                ],
                [1, N_TASK_STATS],
            ),
            &device,
        );
        let t = self.task_2.forward(leaky_relu(
            self.task_1
                .forward(Tensor::cat(vec![z.clone(), task_stats], 1)),
            SLOPE,
        )); // [1, 2]
        let logit_lw = (gamma_lw / (1.0 - gamma_lw)).ln();
        let gamma = sigmoid(t.clone().slice([0..1, 0..1]) + logit_lw); // [1, 1]
        let temperature = t.slice([0..1, 1..2]).clamp(-3.0, 3.0).exp(); // [1, 1]
        let eye: Tensor<2> = Tensor::eye(h, &device);
        let mu_t = (s.clone() * eye.clone()).sum().reshape([1, 1]) / h as f64;
        let ridge = 1e-6 * mu;
        let sigma = s * (gamma.clone().neg() + 1.0) + eye.clone() * (gamma * mu_t) + eye * ridge; // [2p, 2p]

        let sigma_host: Vec<f64> = host(sigma.clone())?.into_iter().map(f64::from).collect();
        let means_host: Vec<f64> = host(means.clone())?.into_iter().map(f64::from).collect();
        let not_pd = || Error::InvalidInput {
            what: "task sample".into(),
            reason: "the hidden-unit covariance is not positive definite (non-finite features?)"
                .into(),
        };
        let (w0_rows, inverse) = if differentiable {
            let inv = inverse_spd(&sigma_host, h).ok_or_else(not_pd)?;
            let mut rows = vec![0f64; k * h];
            for c in 0..k {
                let m = &means_host[c * h..(c + 1) * h];
                for i in 0..h {
                    rows[c * h + i] = crate::linalg::dot(&inv[i * h..(i + 1) * h], m);
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
        .transpose(); // [2p, k]
        let w = match inverse {
            Some(inv) => {
                let inv = Tensor::<2>::from_data(
                    TensorData::new(inv.iter().map(|&v| v as f32).collect(), [h, h]),
                    &device,
                );
                let dm = (means.clone() - means.clone().detach()).transpose(); // [2p, k]
                let ds = sigma.clone() - sigma.detach(); // [2p, 2p]
                w0.clone() + inv.matmul(dm - ds.matmul(w0))
            }
            None => w0,
        };
        let n_f = n as f32;
        let log_priors: Vec<f32> = counts
            .iter()
            .map(|&c| ((c as f32 + 0.5) / (n_f + 0.5 * k as f32)).ln())
            .collect();
        let log_priors = Tensor::<2>::from_data(TensorData::new(log_priors, [k, 1]), &device);
        let offsets = (means * w.clone().transpose()).sum_dim(1) * (-0.5) + log_priors; // [k, 1]

        let cname = self.class_name.forward(ctx.label_names.clone());
        let cin = Tensor::cat(vec![cname, ctx.class_stats.clone(), z.expand([k, dz])], 1);
        let delta = self
            .class_2
            .forward(leaky_relu(self.class_1.forward(cin), SLOPE)); // [k, 1]
        let w_out = w * temperature.clone(); // [2p, k]
        let b_out = (offsets * temperature + delta).reshape([k]);
        Ok(vec![(w1, b1), (w_out, b_out)])
    }
}
