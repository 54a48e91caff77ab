//! The general hypernetwork (ours): one set of heads for any number of features and classes.
//!
//! ```text
//! r (requirement embedding) ─► trunk (3 × SN-Linear, LeakyReLU, Dropout) ─► z
//! feature j: [proj(name_j), stats_j, z] ─► MLP ─► f_j ∈ R^H, gain g_j
//! class c:   [proj(label_c), stats_c, z] ─► MLP ─► v_c = code_c + δ_c ∈ R^(H/2)
//! M[j, :]  = g_j · Σ_c w[c, j] · v_c                      (discriminant directions)
//! W₁[j, :] = ([M[j], −M[j]] + f_j) / √d                   input layer, one row per feature
//! b₁       = head(z)
//! Wₗ = I + head_l(z) / √H, bₗ = head_l(z)                 hidden layers (shapes fixed)
//! u_c = v_c + P v_c;  W_out[:, c] = τ · [u_c, −u_c] · √d / ((1+s)·H/2)   class head, one column per class
//! b_out[c] = τ · (head([v_c, stats_c]) + o_c),  τ = exp(head(z))
//! ```
//!
//! `w_c = Σ⁻¹ μ_c` and `o_c = −½ μ_cᵀ Σ⁻¹ μ_c + ln p_c` are the linear-discriminant direction
//! and offset of class `c` in the user's sample (`μ_c` its mean of the standardised features, `Σ`
//! the pooled within-class covariance with shrinkage, see [`TaskSample`](crate::TaskSample)). The
//! mirrored halves `[M, −M]` and `[u, −u]` let a path through the (Leaky)ReLU layers carry the
//! signed scores `x · w_c` unchanged (`relu(a) − relu(−a) = a`), and every correction head starts
//! at zero, so an untrained generator emits exactly the sample's LDA classifier, logits included;
//! meta-training learns the non-linear corrections, gains and biases on top. `code_c` are fixed orthonormal DCT rows, which keep
//! classes apart even when their label names embed alike.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::activation::leaky_relu;
use burn::tensor::{Device, Tensor, TensorData};

use super::sample::{N_CLASS_STATS, N_FEATURE_STATS};
use crate::trunk::{SLOPE, Trunk, TrunkConfig};

/// Width of the projected name embeddings.
const D_NAME: usize = 16;

/// Configuration of the [`GeneralHyperNet`].
#[derive(Config, Debug)]
pub struct GeneralHyperNetConfig {
    /// Width of the requirement / name embeddings (384 for MiniLM).
    pub d_embed: usize,
    /// Width of the trunk.
    #[config(default = 64)]
    pub d_hidden: usize,
    /// Width of every hidden layer of the generated MLP (even: half carries `+μ`, half `−μ`).
    #[config(default = 64)]
    pub target_width: usize,
    /// Number of hidden layers of the generated MLP.
    #[config(default = 2)]
    pub target_depth: usize,
    /// Dropout in the trunk (paper: 0.1).
    #[config(default = 0.1)]
    pub dropout: f64,
}

impl GeneralHyperNetConfig {
    /// Initialises the hypernetwork.
    pub fn init(&self, device: &Device) -> GeneralHyperNet {
        let d = self.d_hidden;
        let h = self.target_width;
        let trunk = TrunkConfig::new(self.d_embed, d)
            .with_dropout(self.dropout)
            .init(device);
        // Every correction head starts at zero, so an untrained generator emits exactly the
        // linear-discriminant classifier of the sample (see the module docs).
        let zero = |i: usize, o: usize| {
            LinearConfig::new(i, o)
                .with_initializer(Initializer::Zeros)
                .init(device)
        };
        let hidden_heads = (1..self.target_depth).map(|_| zero(d, h * h + h)).collect();
        GeneralHyperNet {
            trunk,
            feat_name: LinearConfig::new(self.d_embed, D_NAME).init(device),
            feat_1: LinearConfig::new(D_NAME + N_FEATURE_STATS + d, d).init(device),
            feat_2: zero(d, h + 1),
            class_name: LinearConfig::new(self.d_embed, D_NAME).init(device),
            class_1: LinearConfig::new(D_NAME + N_CLASS_STATS + d, d).init(device),
            class_2: zero(d, h / 2),
            b1_head: zero(d, h),
            hidden_heads,
            out_proj: LinearConfig::new(h / 2, h / 2)
                .with_bias(false)
                .with_initializer(Initializer::Zeros)
                .init(device),
            out_bias: zero(h / 2 + N_CLASS_STATS, 1),
            temperature: zero(d, 1),
            target_width: h,
            target_depth: self.target_depth,
        }
    }
}

/// Everything the general hypernetwork reads for one task, as tensors on the working device.
#[derive(Debug, Clone)]
pub struct TaskContext {
    /// Requirement embedding `[1, d_embed]`.
    pub requirement: Tensor<2>,
    /// Feature-name embeddings `[n_features, d_embed]`.
    pub feature_names: Tensor<2>,
    /// Label-name embeddings `[n_classes, d_embed]`.
    pub label_names: Tensor<2>,
    /// Feature descriptors `[n_features, N_FEATURE_STATS]`.
    pub feature_stats: Tensor<2>,
    /// Class descriptors `[n_classes, N_CLASS_STATS]`.
    pub class_stats: Tensor<2>,
    /// Class-conditional means `[n_classes, n_features]`.
    pub class_means: Tensor<2>,
    /// Linear-discriminant directions `Σ⁻¹ μ_c` `[n_classes, n_features]`.
    pub class_dirs: Tensor<2>,
    /// Linear-discriminant offsets `[n_classes, 1]`.
    pub class_offsets: Tensor<2>,
    /// The sample's rows `[n_rows, n_features]` (standardised features).
    pub support_x: Tensor<2>,
    /// Their labels (`< n_classes`).
    pub support_y: Vec<usize>,
    /// Seed of the random feature directions and anchors of the kernel mode (fixed at
    /// generation time; meta-training varies it).
    pub feature_seed: u64,
}

impl TaskContext {
    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.feature_names.dims()[0]
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.label_names.dims()[0]
    }
}

/// The general-mode hypernetwork. See the [module docs](self).
#[derive(Module, Debug)]
pub struct GeneralHyperNet {
    trunk: Trunk,
    feat_name: Linear,
    feat_1: Linear,
    feat_2: Linear,
    class_name: Linear,
    class_1: Linear,
    class_2: Linear,
    b1_head: Linear,
    hidden_heads: Vec<Linear>,
    out_proj: Linear,
    out_bias: Linear,
    temperature: Linear,
    target_width: usize,
    target_depth: usize,
}

/// Orthonormal DCT-II rows used as class codes: `[n_classes, width]` (rows repeat with a phase
/// shift once `n_classes > width`).
fn class_codes(n_classes: usize, width: usize, device: &Device) -> Tensor<2> {
    let mut data = Vec::with_capacity(n_classes * width);
    for c in 0..n_classes {
        let k = (c % width) as f64;
        let shift = (c / width) as f64 * 0.5;
        for h in 0..width {
            let scale = if k == 0.0 {
                (1.0 / width as f64).sqrt()
            } else {
                (2.0 / width as f64).sqrt()
            };
            let v = scale
                * (std::f64::consts::PI * (k + shift) * (h as f64 + 0.5) / width as f64).cos();
            data.push(v as f32 * (width as f32).sqrt());
        }
    }
    Tensor::from_data(TensorData::new(data, [n_classes, width]), device)
}

/// The generated tensors of one MLP, in `layers.{i}.weight` / `layers.{i}.bias` order.
pub type MlpTensors = Vec<(Tensor<2>, Tensor<1>)>;

impl GeneralHyperNet {
    /// Width of the generated hidden layers.
    pub fn target_width(&self) -> usize {
        self.target_width
    }

    /// Number of generated hidden layers.
    pub fn target_depth(&self) -> usize {
        self.target_depth
    }

    /// Trunk: requirement embedding to task code `z`.
    ///
    /// # Shapes
    /// `[1, d_embed]` -> `[1, d_hidden]`
    pub fn trunk(&self, requirement: Tensor<2>) -> Tensor<2> {
        self.trunk.forward(requirement)
    }

    /// Generates every tensor of an MLP `[d] -> [H; depth] -> [K]` in one forward pass.
    ///
    /// Returns `(weight [d_in, d_out], bias [d_out])` per layer, input layer first.
    pub fn forward(&self, ctx: &TaskContext) -> MlpTensors {
        let device = ctx.requirement.device();
        let d = ctx.n_features();
        let k = ctx.n_classes();
        let h = self.target_width;
        let z = self.trunk(ctx.requirement.clone()); // [1, D]
        let dz = z.dims()[1];

        let hc = h / 2;
        // Feature tokens f_j and a per-feature gain on the class-mean term.
        let fname = self.feat_name.forward(ctx.feature_names.clone()); // [d, D_NAME]
        let fin = Tensor::cat(
            vec![fname, ctx.feature_stats.clone(), z.clone().expand([d, dz])],
            1,
        );
        let f = self
            .feat_2
            .forward(leaky_relu(self.feat_1.forward(fin), SLOPE)); // [d, H+1]
        let f_tok = f.clone().slice([0..d, 0..h]); // [d, H]
        let f_gain = f.slice([0..d, h..h + 1]).exp(); // [d, 1]

        // Class tokens v_c.
        let cname = self.class_name.forward(ctx.label_names.clone());
        let cin = Tensor::cat(
            vec![cname, ctx.class_stats.clone(), z.clone().expand([k, dz])],
            1,
        );
        let delta = self
            .class_2
            .forward(leaky_relu(self.class_1.forward(cin), SLOPE)); // [k, H/2]
        let v = class_codes(k, hc, &device) + delta; // [k, H/2]

        let scale = 1.0 / (d as f64).sqrt();
        let m = ctx.class_dirs.clone().transpose().matmul(v.clone()) * f_gain; // [d, H/2]
        let w1 = (Tensor::cat(vec![m.clone(), -m], 1) + f_tok) * scale; // [d, H]
        let b1 = self.b1_head.forward(z.clone()).reshape([h]);
        let mut out = vec![(w1, b1)];

        let eye: Tensor<2> = Tensor::eye(h, &device);
        for head in &self.hidden_heads {
            let g = head.forward(z.clone()).reshape([h * h + h]);
            let w =
                eye.clone() + g.clone().slice(0..h * h).reshape([h, h]) * (1.0 / (h as f64).sqrt());
            let b = g.slice(h * h..h * h + h);
            out.push((w, b));
        }

        let u = v.clone() + self.out_proj.forward(v.clone()); // [k, H/2]
        // Unit scale: through the mirrored path the logits are exactly the discriminant scores
        // x·w_c + o_c (log posteriors under the LDA model) when the corrections are zero:
        // a·u_c = (x·w_c)·(H/2)/√d and the LeakyReLU pair contributes (1 + slope).
        // A learned temperature (zero-initialised, from z) rescales both.
        let unit = (d as f64).sqrt() / ((1.0 + SLOPE) * hc as f64);
        let temperature = self.temperature.forward(z.clone()).exp().reshape([1, 1]); // [1, 1]
        let w_out = Tensor::cat(vec![u.clone(), -u], 1).transpose() * unit * temperature.clone(); // [H, k]
        let b_out = ((self
            .out_bias
            .forward(Tensor::cat(vec![v, ctx.class_stats.clone()], 1))
            + ctx.class_offsets.clone())
            * temperature)
            .reshape([k]);
        out.push((w_out, b_out));
        out
    }
}
