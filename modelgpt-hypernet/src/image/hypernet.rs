//! The image hypernetwork: writes **every** weight of a small CNN (`modelgpt_targets::Cnn`) for
//! an image classification task in one forward pass, from the requirement and the user's
//! labelled images.
//!
//! ```text
//! r ─► trunk ─► z ──────────────┬──────────────────────────────┬─────────────────────┐
//! images ─► per-channel mean/std (stored with the model as its input normalisation)  │
//! block b:  patches k×k×c_in of the current maps (≤ max_patches, seeded positions)    │
//!           F_b = top ⌈c_out/2⌉ principal directions of the patches / √(λ + ε)   (whitened)
//!           kernels  [F_b; −F_b] · G_b,  bias β_b        G_b, β_b = head([z, image stats])
//!           maps ← pool₂ₓ₂(relu(conv(maps)))
//! head:     φ = flatten(maps);  W, o = shrunk discriminant of the sample in φ's space
//!           (γ = σ(logit γ_LW + a(z))),  W_out = τ W,  b_out = τ o + δ_c(label name, class stats)
//! ```
//!
//! The convolution kernels are what the user's images show: each block's filters are the
//! principal directions of the patches its input maps contain (PCANet, Chan et al. 2015, with
//! the whitening of Coates & Ng 2011), mirrored so that a ReLU keeps both signs of every
//! direction. The class head is the closed-form discriminant of the sample in the generated
//! features' space (as in the tabular kernel mode, [`crate::tabular::kernel`]). No gradient step touches the
//! user's images.
//!
//! What meta-training learns, as functions of the requirement embedding and the image
//! statistics: each block's gain `G_b` and bias `β_b` (how sharp and how sparse its units are),
//! the shrinkage correction `a`, the temperature `τ` and the per-class offsets `δ_c`. Every head
//! starts at zero, so the untrained generator is the plain PCA network with its discriminant
//! head. The principal directions are computed on the host and enter as constants; gradients
//! reach the heads through the convolutions and the closed-form solve.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::activation::{leaky_relu, relu};
use burn::tensor::module::{conv2d, max_pool2d};
use burn::tensor::ops::{ConvOptions, MaxPoolOptions};
use burn::tensor::{Device, Tensor, TensorData};
use modelgpt_core::GeneratedParams;
use modelgpt_targets::{CnnPool, CnnSpec, MlpActivation};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::error::{Error, Result};
use crate::head::{Classes, corrected_head, moments, shrinkage_target};
use crate::linalg::symmetric_eigen;
use crate::trunk::{SLOPE, Trunk, TrunkConfig};

/// Width of the projected label-name embeddings.
const D_NAME: usize = 16;
/// Image-level descriptors read by the block heads: `ln n`, `ln K`, `ln(h·w)`, channels, the
/// sample's pixel mean and standard deviation, and its roughness (mean absolute difference of
/// horizontally adjacent pixels over the standard deviation: high for noise).
const N_IMAGE_STATS: usize = 7;
/// Per-class descriptors read by the class-offset head: the class's share of the sample and
/// its mean pixel value minus the sample's.
const N_CLASS_STATS: usize = 2;
/// Task-level descriptors read by the shrinkage / temperature head: `ln n`, `ln K`,
/// `ln(features)`, `γ_LW`.
const N_TASK_STATS: usize = 4;

/// Configuration of the [`ImageHyperNet`].
#[derive(Config, Debug)]
pub struct ImageHyperNetConfig {
    /// Width of the requirement / label-name embeddings (384 for MiniLM).
    pub d_embed: usize,
    /// Width of the trunk and of the heads.
    #[config(default = 64)]
    pub d_hidden: usize,
    /// Output channels of the generated convolution blocks, input side first.
    #[config(default = "vec![8, 16]")]
    pub channels: Vec<usize>,
    /// Side of the generated (odd) kernels.
    #[config(default = 3)]
    pub kernel_size: usize,
    /// Most patches per block whose principal directions become the kernels.
    #[config(default = 4096)]
    pub max_patches: usize,
    /// Dropout in the trunk.
    #[config(default = 0.1)]
    pub dropout: f64,
}

impl ImageHyperNetConfig {
    /// Initialises the hypernetwork (every correction head at zero).
    pub fn init(&self, device: &Device) -> ImageHyperNet {
        let d = self.d_hidden;
        let depth = self.channels.len();
        let zero = |i: usize, o: usize| {
            LinearConfig::new(i, o)
                .with_initializer(Initializer::Zeros)
                .init(device)
        };
        ImageHyperNet {
            trunk: TrunkConfig::new(self.d_embed, d)
                .with_dropout(self.dropout)
                .init(device),
            block_1: LinearConfig::new(d + N_IMAGE_STATS, d).init(device),
            block_2: zero(d, 2 * depth),
            class_name: LinearConfig::new(self.d_embed, D_NAME).init(device),
            class_1: LinearConfig::new(D_NAME + N_CLASS_STATS + d, d).init(device),
            class_2: zero(d, 1),
            task_1: LinearConfig::new(d + N_TASK_STATS, d).init(device),
            task_2: zero(d, 2),
            channels: self.channels.clone(),
            kernel_size: self.kernel_size,
            max_patches: self.max_patches.max(1),
        }
    }
}

/// What the image hypernetwork reads for one task.
#[derive(Debug, Clone)]
pub struct ImageContext {
    /// Requirement embedding, `[1, d_embed]`.
    pub requirement: Tensor<2>,
    /// Label-name embeddings, `[n_classes, d_embed]`.
    pub label_names: Tensor<2>,
    /// The labelled sample: pixels in `[0, 1]`, `n · c · h · w` values, image after image
    /// (channel, row, column order).
    pub pixels: Vec<f32>,
    /// Class of each sample image.
    pub labels: Vec<usize>,
    /// Channels, height and width of every image.
    pub shape: [usize; 3],
    /// Number of classes (labels are below it; a class may have no sample image).
    pub n_classes: usize,
    /// Seed of the patch positions.
    pub seed: u64,
}

/// The kernel-generating part of one forward pass: the CNN's shape and its generated tensors
/// (in [`CnnSpec::param_spec`] order).
#[derive(Debug, Clone)]
pub struct GeneratedCnn {
    /// The generated network's shape, input normalisation included.
    pub spec: CnnSpec,
    /// Every tensor of the network, flat, ready for `CnnFamily`.
    pub params: GeneratedParams,
}

/// The image-mode hypernetwork. See the [module docs](self).
#[derive(Module, Debug)]
pub struct ImageHyperNet {
    trunk: Trunk,
    block_1: Linear,
    block_2: Linear,
    class_name: Linear,
    class_1: Linear,
    class_2: Linear,
    task_1: Linear,
    task_2: Linear,
    channels: Vec<usize>,
    kernel_size: usize,
    max_patches: usize,
}

fn host(t: Tensor<4>) -> Result<Vec<f32>> {
    Ok(t.try_into_data()?.convert::<f32>().try_into_vec::<f32>()?)
}

/// Whitened principal directions of `count` random `k × k` patches of `maps` (`[n, c, h, w]`,
/// row-major on the host): `m` filters of `c · k · k` values each ('same' zero padding, patch
/// means removed). Directions beyond the patch dimension are seeded random unit vectors.
fn patch_filters(
    maps: &[f32],
    [n, c, h, w]: [usize; 4],
    k: usize,
    m: usize,
    count: usize,
    rng: &mut StdRng,
) -> Vec<f32> {
    let dim = c * k * k;
    let pad = (k / 2) as isize;
    let mut cov = vec![0f64; dim * dim];
    let mut patch = vec![0f64; dim];
    for _ in 0..count {
        let (i, y, x) = (
            rng.random_range(0..n),
            rng.random_range(0..h) as isize,
            rng.random_range(0..w) as isize,
        );
        for ch in 0..c {
            for dy in 0..k as isize {
                for dx in 0..k as isize {
                    let (yy, xx) = (y + dy - pad, x + dx - pad);
                    let inside = (0..h as isize).contains(&yy) && (0..w as isize).contains(&xx);
                    patch[(ch * k + dy as usize) * k + dx as usize] = if inside {
                        f64::from(maps[((i * c + ch) * h + yy as usize) * w + xx as usize])
                    } else {
                        0.0
                    };
                }
            }
        }
        let mean = patch.iter().sum::<f64>() / dim as f64;
        for v in &mut patch {
            *v -= mean;
        }
        for a in 0..dim {
            let pa = patch[a];
            if pa != 0.0 {
                for b in 0..dim {
                    cov[a * dim + b] += pa * patch[b];
                }
            }
        }
    }
    for v in &mut cov {
        *v /= count.max(1) as f64;
    }
    let (values, vectors) = symmetric_eigen(&cov, dim);
    let mean_value = values.iter().map(|v| v.max(0.0)).sum::<f64>() / dim as f64;
    let eps = 1e-2 * mean_value + 1e-8;
    let mut out = Vec::with_capacity(m * dim);
    for j in 0..m {
        if j < dim && values[j] > eps {
            let scale = 1.0 / (values[j] + eps).sqrt();
            out.extend(
                vectors[j * dim..(j + 1) * dim]
                    .iter()
                    .map(|&v| (v * scale) as f32),
            );
        } else {
            let mut v: Vec<f64> = (0..dim).map(|_| rng.random_range(-1.0..1.0)).collect();
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
            let scale = 1.0 / (norm * (mean_value + eps).sqrt());
            v.iter_mut().for_each(|x| *x *= scale);
            out.extend(v.iter().map(|&x| x as f32));
        }
    }
    out
}

impl ImageHyperNet {
    #[cfg(test)]
    pub(crate) fn block_2_weight(&self) -> Tensor<2> {
        self.block_2.weight.val()
    }

    #[cfg(test)]
    pub(crate) fn task_2_weight(&self) -> Tensor<2> {
        self.task_2.weight.val()
    }

    #[cfg(test)]
    pub(crate) fn class_2_weight(&self) -> Tensor<2> {
        self.class_2.weight.val()
    }

    /// The shape of the CNN this generator writes for images of `shape` (`[c, h, w]`) and
    /// `n_classes` classes (without input normalisation).
    pub fn cnn_spec(&self, shape: [usize; 3], n_classes: usize) -> CnnSpec {
        CnnSpec::new(shape[0], shape[1], shape[2], n_classes)
            .with_channels(self.channels.clone())
            .with_kernel_size(self.kernel_size)
            .with_pool(CnnPool::Max)
            .with_activation(MlpActivation::Relu)
    }

    /// Generates every tensor of the CNN in one forward pass.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty sample, pixels that do not match the shape, a
    /// label out of range, non-finite pixels, or images too small for the blocks; errors of the
    /// CNN spec (limits) as [`Error::Targets`].
    pub fn forward(&self, ctx: &ImageContext) -> Result<GeneratedCnn> {
        let [c, h, w] = ctx.shape;
        let n = ctx.labels.len();
        let k = ctx.n_classes;
        let bad = |reason: String| Error::InvalidInput {
            what: "image sample".into(),
            reason,
        };
        if n == 0 {
            return Err(bad("no images".into()));
        }
        if ctx.pixels.len() != n * c * h * w {
            return Err(bad(format!(
                "{} pixel values for {n} images of {c} × {h} × {w}",
                ctx.pixels.len()
            )));
        }
        if let Some(&label) = ctx.labels.iter().find(|&&l| l >= k) {
            return Err(bad(format!("label {label} out of range for {k} classes")));
        }
        if let Some(v) = ctx.pixels.iter().find(|v| !v.is_finite()) {
            return Err(bad(format!("non-finite pixel value {v}")));
        }
        let spec = self
            .cnn_spec(ctx.shape, k)
            .with_normalisation_from(&ctx.pixels)?;
        spec.validate()?;
        let device = ctx.requirement.device();
        let z = self.trunk.forward(ctx.requirement.clone()); // [1, D]
        let differentiable = z.is_require_grad();
        let dz = z.dims()[1];

        // Image statistics and the per-block gains and biases.
        let nf = ctx.pixels.len() as f64;
        let mean = ctx.pixels.iter().map(|&v| f64::from(v)).sum::<f64>() / nf;
        let var = ctx
            .pixels
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / nf;
        let mut diff = 0f64;
        for row in ctx.pixels.chunks_exact(w) {
            diff += row
                .windows(2)
                .map(|p| f64::from((p[1] - p[0]).abs()))
                .sum::<f64>();
        }
        let pairs = (ctx.pixels.len() / w * (w - 1)).max(1) as f64;
        let roughness = diff / pairs / var.sqrt().max(1e-6);
        let image_stats = Tensor::<2>::from_data(
            TensorData::new(
                vec![
                    (n as f32).ln() / 8.0,
                    (k as f32).ln() / 2.0,
                    ((h * w) as f32).ln() / 8.0,
                    c as f32 / 3.0,
                    mean as f32,
                    var.sqrt() as f32,
                    roughness as f32,
                ],
                [1, N_IMAGE_STATS],
            ),
            &device,
        );
        let depth = self.channels.len();
        let blocks = self.block_2.forward(leaky_relu(
            self.block_1
                .forward(Tensor::cat(vec![z.clone(), image_stats], 1)),
            SLOPE,
        )); // [1, 2 · depth]: log-gain, bias per block

        // The normalised sample.
        let x = Tensor::<4>::from_data(TensorData::new(ctx.pixels.clone(), [n, c, h, w]), &device);
        let mean_t = Tensor::<1>::from_data(TensorData::new(spec.input_mean.clone(), [c]), &device);
        let std_t = Tensor::<1>::from_data(TensorData::new(spec.input_std.clone(), [c]), &device);
        let mut maps = (x - mean_t.reshape([1, c, 1, 1])) / std_t.reshape([1, c, 1, 1]);

        let mut rng = StdRng::seed_from_u64(ctx.seed ^ ((n as u64) << 32) ^ k as u64);
        let ks = self.kernel_size;
        let pad = ks / 2;
        let mut tensors: Vec<Tensor<1>> = Vec::with_capacity(2 * depth + 2);
        let mut c_in = c;
        for (b, &c_out) in self.channels.iter().enumerate() {
            let dims = maps.dims();
            let host_maps = host(maps.clone().detach())?;
            let m = c_out.div_ceil(2);
            let filters = patch_filters(&host_maps, dims, ks, m, self.max_patches, &mut rng);
            let dim = c_in * ks * ks;
            let mut mirrored = filters.clone();
            mirrored.extend(filters.iter().map(|v| -v));
            mirrored.truncate(c_out * dim);
            let base = Tensor::<2>::from_data(TensorData::new(mirrored, [c_out, dim]), &device);
            let gain = blocks
                .clone()
                .slice([0..1, 2 * b..2 * b + 1])
                .clamp(-3.0, 3.0)
                .exp(); // [1, 1]
            let bias = blocks.clone().slice([0..1, 2 * b + 1..2 * b + 2]); // [1, 1]
            let weight = (base * gain.clone()).reshape([c_out, c_in, ks, ks]);
            let bias = (bias * gain).reshape([1]).expand([c_out]);
            let options = ConvOptions::new([1, 1], [pad, pad], [1, 1], 1);
            maps = max_pool2d(
                relu(conv2d(maps, weight.clone(), Some(bias.clone()), options)),
                MaxPoolOptions::new([2, 2]),
            );
            tensors.push(weight.reshape([c_out * dim]));
            tensors.push(bias);
            c_in = c_out;
        }

        // The discriminant head in the generated features' space.
        let [_, ch, hh, ww] = maps.dims();
        let f = ch * hh * ww;
        let phi = maps.reshape([n, f]);
        let classes = Classes::new(&ctx.labels, k, &device);
        let (means, s, fourth) = moments(phi, &classes);
        let (gamma_lw, mu) = shrinkage_target(&s, fourth, n)?;
        let task_stats = Tensor::<2>::from_data(
            TensorData::new(
                vec![
                    (n as f32).ln() / 8.0,
                    (k as f32).ln() / 2.0,
                    (f as f32).ln() / 8.0,
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

        // Per-class offsets from the label names and what each class's images look like.
        let plane = c * h * w;
        let class_stats: Vec<f32> = (0..k)
            .flat_map(|cls| {
                let rows: Vec<usize> = (0..n).filter(|&r| ctx.labels[r] == cls).collect();
                let share = rows.len() as f32 / n as f32;
                let m = if rows.is_empty() {
                    mean as f32
                } else {
                    rows.iter()
                        .map(|&r| ctx.pixels[r * plane..(r + 1) * plane].iter().sum::<f32>())
                        .sum::<f32>()
                        / (rows.len() * plane) as f32
                };
                [share, m - mean as f32]
            })
            .collect();
        let class_stats =
            Tensor::<2>::from_data(TensorData::new(class_stats, [k, N_CLASS_STATS]), &device);
        let cname = self.class_name.forward(ctx.label_names.clone());
        let cin = Tensor::cat(vec![cname, class_stats, z.expand([k, dz])], 1);
        let delta = self
            .class_2
            .forward(leaky_relu(self.class_1.forward(cin), SLOPE)); // [k, 1]
        let (w_out, b_out) = corrected_head(
            s,
            means,
            t,
            delta,
            (gamma_lw, mu),
            &classes.counts,
            differentiable,
        )?; // [f, k], [k]
        tensors.push(w_out.reshape([f * k]));
        tensors.push(b_out);
        let params = GeneratedParams::from_flat(spec.param_spec(), tensors)?;
        Ok(GeneratedCnn { spec, params })
    }
}
