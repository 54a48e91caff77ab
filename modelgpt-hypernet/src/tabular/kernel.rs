//! The kernel hypernetwork: writes a non-linear MLP `[d] → ReLU[2p] → [K]` for any table in one
//! forward pass, from the user's sample and the requirement.
//!
//! ```text
//! r ─► trunk ─► z
//! feature j: [proj(name_j), stats_j, z] ─► MLP ─► log-scale g_j           (learned relevance)
//! directions v_h (h < p), three blocks:
//!   the sample's discriminant directions Σ⁻¹μ_c (as many as fit in p/4), anchored at a random row;
//!   standard normal directions, anchored at a random row;
//!   differences x_a − x_b of two rows of different classes (`pair_fraction` of the rest),
//!   anchored at their midpoint (the unit's hinge bisects the pair);
//! v_h ← G_block(h) · diag(e^g) v_h / ‖diag(e^g) v_h‖,  G = exp(head([z, task shape]))  (block gains)
//! hidden unit pair  relu(±v_h·(x − anchor_h))
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
//! [`crate::LDA_SHRINKAGE_FLOOR`]).
//!
//! What meta-training learns, as functions of the requirement and the sample's statistics: the
//! per-feature scales `g_j` (which inputs the random directions emphasise), the gains of the three
//! blocks (with the shrinkage towards the mean diagonal they set how much each block may carry),
//! the shrinkage correction `a`, the logit temperature `τ` and the per-class offsets `δ_c`. Every head starts
//! at zero, so the untrained generator is the plain random-feature discriminant. Gradients reach
//! them through the closed-form solve: with `Σ₀`, `W₀ = Σ₀⁻¹ μᵀ` computed on the host, the
//! generator emits `W = W₀ + Σ₀⁻¹ ((μ − sg μ)ᵀ − (Σ − sg Σ) W₀)` (`sg` = stop-gradient), whose
//! value is `W₀` and whose gradient is that of `Σ⁻¹ μᵀ`.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::activation::{leaky_relu, relu};
use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::general::{MlpTensors, TaskContext};
use super::sample::{N_CLASS_STATS, N_FEATURE_STATS};
use crate::error::{Error, Result};
use crate::head::{Classes, corrected_head, moments, shrinkage_target};
use crate::trunk::{SLOPE, Trunk, TrunkConfig};
use modelgpt_targets::MlpArchitecture;

/// Width of the projected name embeddings.
const D_NAME: usize = 16;
/// Task-level descriptors read by the task head (`ln n`, `ln d`, `ln K`, `γ_LW`).
const N_TASK_STATS: usize = 4;
/// Descriptors read by the block-gain head (`ln n`, `ln d`, `ln K`, mean and max `η²` of the
/// features, share of binary features).
const N_SHAPE_STATS: usize = 6;

/// Configuration of the [`KernelHyperNet`].
#[derive(Config, Debug)]
pub struct KernelHyperNetConfig {
    /// Width of the requirement / name embeddings (384 for MiniLM).
    pub d_embed: usize,
    /// Width of the trunk and of the heads.
    #[config(default = 64)]
    pub d_hidden: usize,
    /// Number of directions `p` for a small sample; the generated hidden layer has `2p` ReLU
    /// units. Larger samples get more ([`KernelHyperNetConfig::directions_for`]).
    #[config(default = 128)]
    pub n_directions: usize,
    /// Most directions any sample gets (at least `n_directions`).
    #[config(default = 128)]
    pub max_directions: usize,
    /// Sample rows per direction beyond `n_directions`: a sample of `n` rows gets
    /// `clamp(⌈n / rows_per_direction⌉, n_directions, max_directions)` directions.
    #[config(default = 16)]
    pub rows_per_direction: usize,
    /// Dropout in the trunk.
    #[config(default = 0.1)]
    pub dropout: f64,
    /// Share of the non-discriminant directions drawn as differences `x_a − x_b` of two sample
    /// rows of different classes (the rest are standard normal).
    #[config(default = 0.5)]
    pub pair_fraction: f64,
}

impl KernelHyperNetConfig {
    /// Number of directions `p` generated for a sample of `n_rows` rows (the hidden layer has
    /// `2p` units): `clamp(⌈n_rows / rows_per_direction⌉, n_directions, max_directions)`. A
    /// discriminant over `2p` units needs rows to estimate its `2p × 2p` covariance; more rows
    /// support more units, and the cost of a generation grows as `n_rows · (2p)²`.
    pub fn directions_for(&self, n_rows: usize) -> usize {
        directions_for(
            n_rows,
            self.n_directions,
            self.max_directions,
            self.rows_per_direction,
        )
    }

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
            gain_1: LinearConfig::new(d + N_SHAPE_STATS, d).init(device),
            gain_2: zero(d, 3),
            n_directions: self.n_directions.max(1),
            max_directions: self.max_directions.max(self.n_directions).max(1),
            rows_per_direction: self.rows_per_direction.max(1),
            pair_fraction: self.pair_fraction,
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
    gain_1: Linear,
    gain_2: Linear,
    n_directions: usize,
    max_directions: usize,
    rows_per_direction: usize,
    pair_fraction: f64,
}

fn directions_for(n_rows: usize, min: usize, max: usize, rows_per: usize) -> usize {
    n_rows
        .div_ceil(rows_per.max(1))
        .clamp(min.max(1), max.max(min).max(1))
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
    /// Number of directions `p` of a small sample (the hidden layer has `2p` units).
    pub fn n_directions(&self) -> usize {
        self.n_directions
    }

    /// Generates the tensors of the MLP `[d] → ReLU[2p] → [K]` in one forward pass: input layer
    /// `(W₁ [d, 2p], b₁ [2p])`, then the class head `(W_out [2p, K], b_out [K])`, with `p`
    /// from the sample's rows ([`KernelHyperNetConfig::directions_for`]). The default member;
    /// [`KernelHyperNet::forward_arch`] writes any other.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a context without rows or with a label out of range.
    pub fn forward(&self, ctx: &TaskContext) -> Result<MlpTensors> {
        self.forward_arch(ctx, None)
    }

    /// The member of the MLP family this generator writes by default for a sample of `n_rows`
    /// rows: one hidden layer of `2 · directions_for(n_rows)` units.
    pub fn default_architecture(&self, n_rows: usize) -> MlpArchitecture {
        let p = directions_for(
            n_rows,
            self.n_directions,
            self.max_directions,
            self.rows_per_direction,
        );
        MlpArchitecture::new(1, 2 * p)
    }

    /// Generates the tensors of member `arch` of the MLP family (`None`: the
    /// [default](Self::default_architecture)) in one forward pass, input layer first.
    ///
    /// - depth 0: the corrected shrunk discriminant of the sample in the input space;
    /// - depth 1: the module docs' network with `p = width / 2` directions;
    /// - depth ≥ 2: layer 1 as for depth 1, then every further layer is again `width / 2`
    ///   mirrored hinge pairs on the previous layer's units (directions: the diagonal
    ///   discriminant of the previous units, standard normal and row-pair differences, each
    ///   scaled by the units' spread; anchors at sample rows), and the class head is the
    ///   corrected shrunk discriminant of the last layer's units.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a context without rows, a label out of range, or an odd
    /// hidden width.
    pub fn forward_arch(
        &self,
        ctx: &TaskContext,
        arch: Option<MlpArchitecture>,
    ) -> Result<MlpTensors> {
        let device = ctx.support_x.device();
        let d = ctx.n_features();
        let k = ctx.n_classes();
        let n = ctx.support_y.len();
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
        let arch = arch.unwrap_or_else(|| self.default_architecture(n));
        if arch.depth > 0 && (arch.width < 2 || arch.width % 2 == 1) {
            return Err(Error::InvalidInput {
                what: format!("architecture {arch}"),
                reason: "kernel mode writes hidden units in mirrored pairs: the width must be \
                         even and at least 2"
                    .into(),
            });
        }
        let p = arch.width / 2;
        let z = self.trunk.forward(ctx.requirement.clone()); // [1, D]
        let differentiable = z.is_require_grad();
        let dz = z.dims()[1];
        let classes = Classes::new(&ctx.support_y, k, &device);
        // The class head of the last layer's statistics, with the learned corrections.
        let head = |s: Tensor<2>, means: Tensor<2>, fourth: Tensor<1>| -> Result<Head> {
            let (gamma_lw, mu) = shrinkage_target(&s, fourth, n)?;
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
            let cname = self.class_name.forward(ctx.label_names.clone());
            let cin = Tensor::cat(
                vec![cname, ctx.class_stats.clone(), z.clone().expand([k, dz])],
                1,
            );
            let delta = self
                .class_2
                .forward(leaky_relu(self.class_1.forward(cin), SLOPE)); // [k, 1]
            corrected_head(
                s,
                means,
                t,
                delta,
                (gamma_lw, mu),
                &classes.counts,
                differentiable,
            )
        };
        if arch.depth == 0 {
            let (means, s, fourth) = moments(ctx.support_x.clone(), &classes);
            return Ok(vec![head(s, means, fourth)?]);
        }

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
        // Anchors: a random row for the discriminant and Gaussian directions; for the pair
        // directions x_a − x_b (a and b of different classes) their midpoint, so that the unit's
        // hinge bisects the pair.
        let xs = host(ctx.support_x.clone())?; // [n, d]
        let n_pairs = ((p - n_lda) as f64 * self.pair_fraction.clamp(0.0, 1.0)).round() as usize;
        let anchor_pts = pair_directions(&mut v, &xs, &ctx.support_y, d, p, n_pairs, &mut rng);
        let v = Tensor::<2>::from_data(TensorData::new(v, [d, p]), &device) * g;
        // The epsilon inside the root keeps the gradient finite for a zero direction (x_a = x_b).
        let norms = (v.clone().powf_scalar(2.0).sum_dim(0) + 1e-12).sqrt(); // [1, p]
        let v = v / norms;
        // Learned gains of the three blocks (discriminant, Gaussian, pair directions): with the
        // shrinkage towards the mean diagonal they set how much each block may carry.
        let fs = host(ctx.feature_stats.clone())?; // [d, N_FEATURE_STATS]
        let eta2 = |j: usize| fs[j * N_FEATURE_STATS + 3];
        let mean_eta2 = (0..d).map(eta2).sum::<f32>() / d as f32;
        let max_eta2 = (0..d).map(eta2).fold(0f32, f32::max);
        let binary = (0..d).filter(|&j| fs[j * N_FEATURE_STATS] > 0.5).count() as f32 / d as f32;
        let shape = Tensor::<2>::from_data(
            TensorData::new(
                vec![
                    (n as f32).ln() / 8.0,
                    (d as f32).ln() / 4.0,
                    (k as f32).ln() / 2.0,
                    mean_eta2,
                    max_eta2,
                    binary,
                ],
                [1, N_SHAPE_STATS],
            ),
            &device,
        );
        let gains = self
            .gain_2
            .forward(leaky_relu(
                self.gain_1.forward(Tensor::cat(vec![z.clone(), shape], 1)),
                SLOPE,
            ))
            .clamp(-3.0, 3.0)
            .exp(); // [1, 3]
        let n_gauss = p - n_lda - n_pairs;
        let mut parts = Vec::new();
        for (b, width) in [n_lda, n_gauss, n_pairs].into_iter().enumerate() {
            if width > 0 {
                parts.push(gains.clone().slice([0..1, b..b + 1]).expand([1, width]));
            }
        }
        let v = v * Tensor::cat(parts, 1); // [d, p]
        let xa = Tensor::<2>::from_data(TensorData::new(anchor_pts, [p, d]), &device);
        let u = (xa * v.clone().transpose()).sum_dim(1).reshape([p]); // v_h · x_{a_h}

        let mut layers: MlpTensors = Vec::with_capacity(arch.depth + 1);
        let mut input = ctx.support_x.clone();
        let (mut v, mut u) = (v, u);
        for layer in 1..=arch.depth {
            let w = Tensor::cat(vec![v.clone(), -v.clone()], 1); // [d_in, 2p]
            let b = Tensor::cat(vec![-u.clone(), u.clone()], 0); // [2p]
            if layer == arch.depth {
                let (s, means, fourth) = mirrored_moments(input, v, u, &classes);
                layers.push((w, b));
                layers.push(head(s, means, fourth)?);
                break;
            }
            let phi = relu(input.matmul(w.clone()) + b.clone().reshape([1, 2 * p])); // [n, 2p]
            layers.push((w, b));
            let (vn, un) =
                deep_directions(&phi, &ctx.support_y, k, p, self.pair_fraction, &mut rng)?;
            v = vn;
            u = un;
            input = phi;
        }
        Ok(layers)
    }
}

/// A generated class head `(W_out [h, K], b_out [K])`.
type Head = (Tensor<2>, Tensor<1>);

/// Writes `n_pairs` row-pair directions `x_a − x_b` (rows of different classes where the draw
/// finds them) into the last columns of `v` (`[d, p]` row-major) and returns the anchors
/// (`[p, d]` row-major): the pair's midpoint for those, a random row for the others.
fn pair_directions(
    v: &mut [f32],
    xs: &[f32],
    y: &[usize],
    d: usize,
    p: usize,
    n_pairs: usize,
    rng: &mut StdRng,
) -> Vec<f32> {
    let n = y.len();
    let mut anchor_pts = vec![0f32; p * d];
    for h in 0..p {
        let a = rng.random_range(0..n);
        let row_a = &xs[a * d..(a + 1) * d];
        if h >= p - n_pairs {
            let mut b = rng.random_range(0..n);
            for _ in 0..8 {
                if y[b] != y[a] {
                    break;
                }
                b = rng.random_range(0..n);
            }
            let row_b = &xs[b * d..(b + 1) * d];
            for j in 0..d {
                v[j * p + h] = row_a[j] - row_b[j];
                anchor_pts[h * d + j] = 0.5 * (row_a[j] + row_b[j]);
            }
        } else {
            anchor_pts[h * d..(h + 1) * d].copy_from_slice(row_a);
        }
    }
    anchor_pts
}

/// Directions `[h, p]` and offsets `[p]` of a further hidden layer on the units `phi`
/// (`[n, h]`) of the previous one: the diagonal discriminant directions `(μ_c − μ̄) / σ²` of
/// the units (as many as fit in `p / 4`), standard normal directions and row-pair differences
/// (`pair_fraction` of the rest), every one scaled by the units' spread (units that never vary
/// get no weight) and of unit length, anchored at sample rows.
fn deep_directions(
    phi: &Tensor<2>,
    y: &[usize],
    k: usize,
    p: usize,
    pair_fraction: f64,
    rng: &mut StdRng,
) -> Result<(Tensor<2>, Tensor<1>)> {
    let device = phi.device();
    let [n, h] = phi.dims();
    let xs = host(phi.clone().detach())?; // [n, h]
    let mut mean = vec![0f64; h];
    let mut class_mean = vec![0f64; k * h];
    let mut counts = vec![0usize; k];
    for (r, &c) in y.iter().enumerate() {
        counts[c] += 1;
        for j in 0..h {
            let x = f64::from(xs[r * h + j]);
            mean[j] += x;
            class_mean[c * h + j] += x;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut var = vec![0f64; h];
    for r in 0..n {
        for j in 0..h {
            let e = f64::from(xs[r * h + j]) - mean[j];
            var[j] += e * e;
        }
    }
    let inv_sd: Vec<f32> = var
        .iter()
        .map(|v| {
            let sd = (v / n as f64).sqrt();
            if sd > 1e-6 { (1.0 / sd) as f32 } else { 0.0 }
        })
        .collect();
    let present: Vec<usize> = (0..k).filter(|&c| counts[c] > 0).collect();
    let n_lda = present.len().min(p / 4);
    let n_pairs = ((p - n_lda) as f64 * pair_fraction.clamp(0.0, 1.0)).round() as usize;
    let mut v = normals(rng, h * p); // [h, p]
    for (col, &c) in present.iter().take(n_lda).enumerate() {
        for j in 0..h {
            let diff = class_mean[c * h + j] / counts[c] as f64 - mean[j];
            v[j * p + col] = (diff * f64::from(inv_sd[j])) as f32;
        }
    }
    let anchors = pair_directions(&mut v, &xs, y, h, p, n_pairs, rng);
    // Spread scaling (the discriminant block becomes (μ_c − μ̄) / σ²) and unit length.
    for col in 0..p {
        let mut norm = 0f32;
        for j in 0..h {
            let x = &mut v[j * p + col];
            *x *= inv_sd[j];
            norm += *x * *x;
        }
        let norm = norm.sqrt().max(1e-12);
        for j in 0..h {
            v[j * p + col] /= norm;
        }
    }
    let mut u = vec![0f32; p];
    for (col, u_col) in u.iter_mut().enumerate() {
        *u_col = (0..h).map(|j| v[j * p + col] * anchors[col * h + j]).sum();
    }
    Ok((
        Tensor::from_data(TensorData::new(v, [h, p]), &device),
        Tensor::from_data(TensorData::new(u, [p]), &device),
    ))
}

/// Within-class covariance `S` (`[2p, 2p]`), class means (`[k, 2p]`) and the Ledoit–Wolf fourth
/// moment of the mirrored hinge units `φ = [relu(t), relu(−t)]`, `t = x v − u`, of the rows `x`
/// (`[n, d]`).
///
/// With `r = relu(t)` the second half is `relu(−t) = r − t`. Every statistic of `φ = [r, r − t]`
/// follows from those of `r` and `t`, and `t` is linear in `x`, so the covariance costs one
/// `n·p²` product instead of `n·(2p)²`:
/// `S = [[A, A − B], [(A − B)ᵀ, A − B − Bᵀ + C]]`, `A = S_rr`, `B = S_rt`, `C = S_tt`,
/// with `S_rt = (r_cᵀ x_c) v` and `S_tt = vᵀ S_x v` when the inputs are fewer than the
/// directions (`x_c`: the class-centred rows).
fn mirrored_moments(
    x: Tensor<2>,
    v: Tensor<2>,
    u: Tensor<1>,
    classes: &Classes,
) -> (Tensor<2>, Tensor<2>, Tensor<1>) {
    let [n, d] = x.dims();
    let p = v.dims()[1];
    let t = x.clone().matmul(v.clone()) - u.reshape([1, p]); // [n, p]
    let r = relu(t.clone()); // [n, p]
    let means_r = classes.means(r.clone()); // [k, p]
    let means_t = classes.means(t.clone()); // [k, p]
    let rc = classes.centre(r, means_r.clone()); // [n, p]
    let nf = n as f64;
    let (tc, s_rt, s_tt) = if d < p {
        let xc = classes.centre(x.clone(), classes.means(x)); // [n, d]
        let s_x = xc.clone().transpose().matmul(xc.clone()) / nf; // [d, d]
        let s_rt = rc.clone().transpose().matmul(xc.clone()).matmul(v.clone()) / nf;
        let s_tt = v.clone().transpose().matmul(s_x).matmul(v.clone());
        (xc.matmul(v), s_rt, s_tt)
    } else {
        let tc = classes.centre(t, means_t.clone()); // [n, p]
        let s_rt = rc.clone().transpose().matmul(tc.clone()) / nf;
        let s_tt = tc.clone().transpose().matmul(tc.clone()) / nf;
        (tc, s_rt, s_tt)
    };
    let s_rr = rc.clone().transpose().matmul(rc.clone()) / nf; // [p, p]
    let a_b = s_rr.clone() - s_rt.clone();
    let s = Tensor::cat(
        vec![
            Tensor::cat(vec![s_rr, a_b.clone()], 1),
            Tensor::cat(
                vec![a_b.clone().transpose(), a_b - s_rt.transpose() + s_tt],
                1,
            ),
        ],
        0,
    ); // [2p, 2p]
    let means = Tensor::cat(vec![means_r.clone(), means_r - means_t], 1); // [k, 2p]
    // ‖φ_c,i‖² = ‖r_c,i‖² + ‖r_c,i − t_c,i‖² for the Ledoit–Wolf fourth moment.
    let row_sq = rc.clone().powf_scalar(2.0).sum_dim(1) + (rc - tc).powf_scalar(2.0).sum_dim(1);
    let fourth = row_sq.powf_scalar(2.0).sum(); // [1]
    (s, means, fourth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tabular::{HyperNetConfig, TaskSample, build_context, to_params};
    use crate::test_device;
    use modelgpt_targets::MlpFamily;
    use modelgpt_targets::metrics::{accuracy, cross_entropy};

    const E: usize = 8;

    /// XOR of the signs of two coordinates, plus a noise column: no linear rule beats chance.
    fn xor(n: usize, seed: u64) -> (Vec<f32>, Vec<usize>) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut x = Vec::with_capacity(n * 3);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let a: f32 = rng.random_range(-1.0..1.0);
            let b: f32 = rng.random_range(-1.0..1.0);
            x.extend([a * 1.7, b * 1.7, rng.random_range(-1.7..1.7)]);
            y.push(usize::from((a > 0.0) != (b > 0.0)));
        }
        (x, y)
    }

    fn context(x: &[f32], y: &[usize], device: &Device) -> TaskContext {
        let rows: Vec<usize> = (0..y.len()).collect();
        let sample = TaskSample::from_rows(x, 3, y, &rows, 2).unwrap();
        let req = Tensor::<2>::from_data(TensorData::new(vec![0.1; E], [1, E]), device);
        build_context(req, &[0.0; 3 * E], &[0.0; 2 * E], E, &sample, device)
    }

    fn test_accuracy(config: &HyperNetConfig, tensors: MlpTensors, device: &Device) -> f64 {
        let (xt, yt) = xor(400, 99);
        let family = MlpFamily::new(config.mlp_spec(3, 2)).unwrap();
        let params = to_params(&family, tensors).unwrap();
        let x = Tensor::<2>::from_data(TensorData::new(xt, [400, 3]), device);
        accuracy(family.try_forward_with(&params, x).unwrap(), &yt).unwrap()
    }

    #[test]
    fn untrained_generator_writes_a_non_linear_model() {
        let device = test_device();
        let (x, y) = xor(400, 1);
        let ctx = context(&x, &y, &device);
        let kernel = HyperNetConfig::kernel(E);
        let hyper = kernel.init(&device);
        let tensors = hyper.generate_tensors("xor", &ctx).unwrap();
        assert_eq!(tensors[0].0.dims(), [3, 256]);
        assert_eq!(tensors[1].0.dims(), [256, 2]);
        let acc = test_accuracy(&kernel, tensors, &device);
        let general = HyperNetConfig::general(E);
        let lda = general.init(&device).generate_tensors("xor", &ctx).unwrap();
        let lda_acc = test_accuracy(&general, lda, &device);
        assert!(acc > 0.9, "kernel generator on XOR: {acc}");
        assert!(lda_acc < 0.7, "a linear rule cannot solve XOR: {lda_acc}");
    }

    #[test]
    fn the_hidden_layer_widens_with_the_sample_rows() {
        let c = KernelHyperNetConfig::new(E)
            .with_n_directions(8)
            .with_max_directions(32)
            .with_rows_per_direction(4);
        assert_eq!(c.directions_for(1), 8);
        assert_eq!(c.directions_for(40), 10);
        assert_eq!(c.directions_for(10_000), 32);
        let device = test_device();
        let (x, y) = xor(60, 7);
        let ctx = context(&x, &y, &device);
        let hyper = c.init(&device);
        let tensors = hyper.forward(&ctx).unwrap();
        assert_eq!(tensors[0].0.dims(), [3, 30]);
        let config = HyperNetConfig::kernel(E);
        let spec = config.spec_for(&tensors).unwrap();
        assert_eq!(spec.hidden, vec![30]);
        assert!(config.family_and_params(tensors).is_ok());
    }

    #[test]
    fn every_member_of_the_space_is_written() {
        let device = test_device();
        let (x, y) = xor(300, 8);
        let ctx = context(&x, &y, &device);
        let config = HyperNetConfig::kernel(E);
        let hyper = config.init(&device);
        let (xt, yt) = xor(400, 99);
        let xt = Tensor::<2>::from_data(TensorData::new(xt, [400, 3]), &device);
        for arch in modelgpt_targets::MlpSpace::default().candidates() {
            let tensors = hyper.generate_tensors_arch("xor", &ctx, arch).unwrap();
            assert_eq!(tensors.len(), arch.depth + 1, "{arch}");
            let (family, params) = config.family_and_params(tensors).unwrap();
            assert_eq!(family.mlp_spec().hidden, arch.hidden(), "{arch}");
            let acc = accuracy(family.try_forward_with(&params, xt.clone()).unwrap(), &yt).unwrap();
            if arch.depth == 0 {
                assert!(acc < 0.7, "a linear model cannot solve XOR: {acc}");
            } else if arch.width >= 128 {
                assert!(acc > 0.9, "{arch} on XOR: {acc}");
            }
        }
        let odd = MlpArchitecture::new(1, 7);
        assert!(hyper.generate_tensors_arch("xor", &ctx, odd).is_err());
    }

    #[test]
    fn generation_is_deterministic() {
        let device = test_device();
        let (x, y) = xor(200, 2);
        let ctx = context(&x, &y, &device);
        let hyper = HyperNetConfig::kernel(E).init(&device);
        let a = hyper.generate_tensors("t", &ctx).unwrap();
        let b = hyper.generate_tensors("t", &ctx).unwrap();
        for ((wa, ba), (wb, bb)) in a.into_iter().zip(b) {
            assert_eq!(wa.into_data(), wb.into_data());
            assert_eq!(ba.into_data(), bb.into_data());
        }
    }

    #[test]
    fn gradients_reach_the_heads_through_the_solve() {
        let device = test_device();
        let ad = device.clone().autodiff();
        let (x, y) = xor(300, 3);
        let ctx = context(&x, &y, &ad);
        let config = KernelHyperNetConfig::new(E).with_n_directions(32);
        let hyper = config.init(&ad).train();
        let tensors = hyper.forward(&ctx).unwrap();
        let spec = HyperNetConfig {
            target_width: 64,
            ..HyperNetConfig::kernel(E)
        }
        .mlp_spec(3, 2);
        let family = MlpFamily::new(spec).unwrap();
        let params = to_params(&family, tensors).unwrap();
        let (xq, yq) = xor(128, 4);
        let xq = Tensor::<2>::from_data(TensorData::new(xq, [128, 3]), &ad);
        let loss = cross_entropy(family.try_forward_with(&params, xq).unwrap(), &yq);
        let grads = loss.backward();
        for (name, w) in [
            ("feature scales", hyper.feat_2.weight.val()),
            ("block gains", hyper.gain_2.weight.val()),
            ("shrinkage/temperature", hyper.task_2.weight.val()),
            ("class offsets", hyper.class_2.weight.val()),
        ] {
            let g: Vec<f32> = w
                .grad(&grads)
                .expect(name)
                .into_data()
                .try_to_vec()
                .unwrap();
            assert!(g.iter().all(|v| v.is_finite()), "{name}: {g:?}");
            assert!(g.iter().any(|v| *v != 0.0), "{name}: no gradient");
        }
    }

    #[test]
    fn rows_with_a_bad_label_are_an_error() {
        let device = test_device();
        let (x, y) = xor(50, 5);
        let mut ctx = context(&x, &y, &device);
        ctx.support_y[0] = 7;
        let hyper = KernelHyperNetConfig::new(E).init(&device);
        let err = hyper.forward(&ctx).unwrap_err();
        assert!(err.to_string().contains("label 7"), "{err}");
    }
}
