//! The CNN target family: the image branch's target model (a small convolutional classifier
//! whose every weight a hypernetwork can write).
//!
//! ```text
//! image [c, h, w] ─► (x − mean_c) / std_c ─► [conv k×k 'same' ─► activation ─► pool 2×2] × depth
//!                 ─► flatten (or global average) ─► linear head ─► logits [K]
//! ```
//!
//! Three views of the same network, as for the [MLP](crate::mlp):
//!
//! - [`CnnSpec`]: input shape, channels per block, kernel, pooling, head and the input
//!   normalisation (a burn [`Config`], saved as `cnn.json` next to the weights, so a saved model
//!   normalises its inputs itself);
//! - [`CnnFamily`]: the [`TargetFamily`] a hypernetwork generates for. Its
//!   [`forward_with`](TargetFamily::forward_with) runs the network straight on generated tensors
//!   with burn's functional [`conv2d`], pooling and [`linear`], so gradients reach the generator;
//! - [`Cnn`]: the materialised `#[derive(Module)]` network ([`Conv2d`] blocks and a [`Linear`]
//!   head) for export, prediction and ordinary training ([`train_cnn`](crate::train::train_cnn)).
//!
//! Tensor names follow the module paths of [`Cnn`]: `convs.{i}.weight` (`[c_out, c_in, k, k]`,
//! burn's and PyTorch's layout), `convs.{i}.bias` (`[c_out]`), `head.weight` (`[features, K]`,
//! burn's `[d_in, d_out]` layout) and `head.bias` (`[K]`).
//!
//! Images travel as rows: `[batch, c · h · w]` row-major in channel, row, column order (what
//! [`LabeledRows`](crate::train::LabeledRows) holds), reshaped to `[batch, c, h, w]` inside.

use std::path::Path;

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::conv::Conv2d;
use burn::nn::{Linear, PaddingConfig2d};
use burn::tensor::module::{avg_pool2d, conv2d, linear, max_pool2d};
use burn::tensor::ops::{AvgPoolOptions, ConvOptions, MaxPoolOptions};
use burn::tensor::{Device, Tensor, TensorData};
use modelgpt_core::{GeneratedParams, ParamRole, ParamSpec, TargetFamily};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::error::{Error, Result};
use crate::mlp::MlpActivation;
use crate::persist::{check_entries, leaf_on, load_weights, read_spec, save_with_spec};

/// File name of the weights written by [`Cnn::save`].
pub const CNN_WEIGHTS_FILE: &str = "model.safetensors";
/// File name of the [`CnnSpec`] written by [`Cnn::save`].
pub const CNN_SPEC_FILE: &str = "cnn.json";

/// Most values one input image may have (`c · h · w`): 4,194,304 (e.g. 3 × 1182 × 1182).
/// Larger inputs are refused by [`CnnSpec::validate`] before anything is allocated.
pub const MAX_CNN_INPUT_VALUES: usize = 1 << 22;
/// Most convolution blocks of a [`CnnSpec`].
pub const MAX_CNN_DEPTH: usize = 8;
/// Most channels of one convolution block.
pub const MAX_CNN_CHANNELS: usize = 1024;
/// Largest (odd) kernel size.
pub const MAX_CNN_KERNEL: usize = 15;

/// Down-sampling after every convolution block (window 2 × 2, stride 2).
#[derive(Config, Debug, Copy, PartialEq, Eq, Hash)]
pub enum CnnPool {
    /// Maximum of each window.
    Max,
    /// Mean of each window.
    Avg,
}

/// How the last feature map reaches the linear head.
#[derive(Config, Debug, Copy, PartialEq, Eq, Hash)]
pub enum CnnHead {
    /// Every value of the last map (`c · h' · w'` features): keeps where things are.
    Flatten,
    /// One mean per channel (`c` features): translation invariant, fewer head weights.
    GlobalAvg,
}

/// Shape of a CNN classifier (see the [module docs](self)).
///
/// ```
/// use modelgpt_targets::{CnnSpec, CnnHead};
/// // 1 × 28 × 28 greyscale digits, two blocks of 8 and 16 channels, flattened head.
/// let spec = CnnSpec::new(1, 28, 28, 10).with_channels(vec![8, 16]);
/// assert_eq!(spec.feature_map(), [16, 7, 7]);
/// assert_eq!(spec.n_features(), 16 * 7 * 7);
/// assert_eq!(
///     spec.param_spec().numel(),
///     (8 * 9 + 8) + (16 * 8 * 9 + 16) + (784 * 10 + 10)
/// );
/// assert_eq!(spec.clone().with_head(CnnHead::GlobalAvg).n_features(), 16);
/// ```
#[derive(Config, Debug, PartialEq)]
pub struct CnnSpec {
    /// Input channels (1 for greyscale, 3 for colour).
    pub in_channels: usize,
    /// Input height in pixels.
    pub height: usize,
    /// Input width in pixels.
    pub width: usize,
    /// Number of classes (width of the output logits).
    pub n_classes: usize,
    /// Output channels of each convolution block, input side first (at least one block).
    #[config(default = "vec![8, 16]")]
    pub channels: Vec<usize>,
    /// Side of the square convolution kernels (odd; 'same' padding of `kernel_size / 2`).
    #[config(default = 3)]
    pub kernel_size: usize,
    /// Pooling after every block.
    #[config(default = "CnnPool::Max")]
    pub pool: CnnPool,
    /// Nonlinearity after every convolution (before the pooling).
    #[config(default = "MlpActivation::Relu")]
    pub activation: MlpActivation,
    /// How the last feature map reaches the head.
    #[config(default = "CnnHead::Flatten")]
    pub head: CnnHead,
    /// Per-channel mean subtracted from the input (empty: 0). Stored with the model.
    #[config(default = "Vec::new()")]
    pub input_mean: Vec<f32>,
    /// Per-channel standard deviation the input is divided by (empty: 1). Stored with the model.
    #[config(default = "Vec::new()")]
    pub input_std: Vec<f32>,
}

impl CnnSpec {
    /// `cnn-{channels}-k{kernel}`, channels joined by `x` (e.g. `cnn-8x16-k3`).
    pub fn name(&self) -> String {
        let ch: Vec<String> = self.channels.iter().map(ToString::to_string).collect();
        format!("cnn-{}-k{}", ch.join("x"), self.kernel_size)
    }

    /// Checks every value, and that the input survives `depth` poolings (each side at least
    /// `2^depth` pixels).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the offending field and the limit.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &'static str, reason: String| Err(Error::InvalidConfig { field, reason });
        if self.in_channels == 0 || self.height == 0 || self.width == 0 {
            return bad(
                "in_channels/height/width",
                format!(
                    "the input must have at least one channel and pixel, got {} × {} × {}",
                    self.in_channels, self.height, self.width
                ),
            );
        }
        let values = self
            .in_channels
            .checked_mul(self.height)
            .and_then(|v| v.checked_mul(self.width));
        if values.is_none_or(|v| v > MAX_CNN_INPUT_VALUES) {
            return bad(
                "in_channels/height/width",
                format!(
                    "{} × {} × {} input values exceed the limit of {MAX_CNN_INPUT_VALUES}",
                    self.in_channels, self.height, self.width
                ),
            );
        }
        if self.n_classes < 2 {
            return bad(
                "n_classes",
                format!(
                    "a classifier needs at least 2 classes, got {}",
                    self.n_classes
                ),
            );
        }
        let depth = self.channels.len();
        if !(1..=MAX_CNN_DEPTH).contains(&depth) {
            return bad(
                "channels",
                format!("a CNN has 1 to {MAX_CNN_DEPTH} convolution blocks, got {depth}"),
            );
        }
        if let Some(i) = self
            .channels
            .iter()
            .position(|&c| c == 0 || c > MAX_CNN_CHANNELS)
        {
            return bad(
                "channels",
                format!(
                    "block {i} has {} channels (1 to {MAX_CNN_CHANNELS})",
                    self.channels[i]
                ),
            );
        }
        if self.kernel_size % 2 == 0 || self.kernel_size > MAX_CNN_KERNEL {
            return bad(
                "kernel_size",
                format!(
                    "the kernel side must be odd and at most {MAX_CNN_KERNEL}, got {}",
                    self.kernel_size
                ),
            );
        }
        let min_side = 1usize << depth;
        if self.height < min_side || self.width < min_side {
            return bad(
                "height/width",
                format!(
                    "{depth} poolings need sides of at least {min_side} pixels, got {} × {}",
                    self.height, self.width
                ),
            );
        }
        for (field, values, positive) in [
            ("input_mean", &self.input_mean, false),
            ("input_std", &self.input_std, true),
        ] {
            if !values.is_empty() && values.len() != self.in_channels {
                return bad(
                    field,
                    format!(
                        "one value per input channel ({}) or none, got {}",
                        self.in_channels,
                        values.len()
                    ),
                );
            }
            if let Some(v) = values
                .iter()
                .find(|v| !v.is_finite() || (positive && **v <= 0.0))
            {
                return bad(field, format!("{v} is not a usable value"));
            }
        }
        Ok(())
    }

    /// Values per input image, `c · h · w` (the row width of the images as rows).
    pub fn input_len(&self) -> usize {
        self.in_channels * self.height * self.width
    }

    /// Shape `[c, h', w']` of the last feature map (after every block's pooling).
    pub fn feature_map(&self) -> [usize; 3] {
        let depth = self.channels.len() as u32;
        [
            self.channels.last().copied().unwrap_or(0),
            self.height >> depth,
            self.width >> depth,
        ]
    }

    /// Width of the head's input: `c · h' · w'` ([`CnnHead::Flatten`]) or `c`
    /// ([`CnnHead::GlobalAvg`]).
    pub fn n_features(&self) -> usize {
        let [c, h, w] = self.feature_map();
        match self.head {
            CnnHead::Flatten => c * h * w,
            CnnHead::GlobalAvg => c,
        }
    }

    /// The generated tensors in order: every block's `convs.{i}.weight`
    /// (`[c_out, c_in, k, k]`) and `convs.{i}.bias` (`[c_out]`), then `head.weight`
    /// (`[n_features, n_classes]`) and `head.bias` (`[n_classes]`).
    ///
    /// Roles: the first kernel depends on the input channels ([`ParamRole::InputDependent`]),
    /// the head on the classes ([`ParamRole::ClassDependent`]), the rest is
    /// [`ParamRole::Shared`].
    pub fn param_spec(&self) -> ParamSpec {
        let k = self.kernel_size;
        let mut spec = ParamSpec::new();
        let mut c_in = self.in_channels;
        for (i, &c_out) in self.channels.iter().enumerate() {
            let role = if i == 0 {
                ParamRole::InputDependent
            } else {
                ParamRole::Shared
            };
            spec.push(format!("convs.{i}.weight"), [c_out, c_in, k, k], role);
            spec.push(format!("convs.{i}.bias"), [c_out], ParamRole::Shared);
            c_in = c_out;
        }
        spec.push(
            "head.weight",
            [self.n_features(), self.n_classes],
            ParamRole::ClassDependent,
        );
        spec.push("head.bias", [self.n_classes], ParamRole::ClassDependent);
        spec
    }

    /// This spec with the input normalisation set to the per-channel mean and standard
    /// deviation of `images` (rows of [`input_len`](Self::input_len) values; a channel without
    /// spread keeps a standard deviation of 1).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `images.len()` is not a multiple of the input length;
    /// [`Error::InvalidData`] for no images or a non-finite value.
    pub fn with_normalisation_from(mut self, images: &[f32]) -> Result<Self> {
        let len = self.input_len();
        if len == 0 || !images.len().is_multiple_of(len) {
            return Err(Error::ShapeMismatch {
                what: "images for the input normalisation".into(),
                expected: vec![images.len() / len.max(1), len],
                actual: vec![images.len()],
            });
        }
        if images.is_empty() {
            return Err(Error::InvalidData {
                what: "images for the input normalisation",
                reason: "no images".into(),
            });
        }
        if let Some(i) = images.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidData {
                what: "images for the input normalisation",
                reason: format!("value {i} is {}", images[i]),
            });
        }
        let plane = self.height * self.width;
        let (mut mean, mut std) = (Vec::new(), Vec::new());
        for c in 0..self.in_channels {
            let (mut s, mut s2, mut n) = (0f64, 0f64, 0f64);
            for image in images.chunks_exact(len) {
                for &v in &image[c * plane..(c + 1) * plane] {
                    s += f64::from(v);
                    s2 += f64::from(v) * f64::from(v);
                    n += 1.0;
                }
            }
            let m = s / n;
            let sd = (s2 / n - m * m).max(0.0).sqrt();
            mean.push(m as f32);
            std.push(if sd > 1e-6 { sd as f32 } else { 1.0 });
        }
        self.input_mean = mean;
        self.input_std = std;
        Ok(self)
    }

    /// A randomly initialised [`Cnn`], reproducible from `seed` alone: every weight and bias
    /// from `U(-k, k)`, `k = 1/sqrt(fan_in)` (burn's and PyTorch's default), drawn on the host.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if the spec is invalid (see [`CnnSpec::validate`]).
    pub fn init_random(&self, device: &Device, seed: u64) -> Result<Cnn> {
        self.validate()?;
        let mut rng = StdRng::seed_from_u64(seed);
        let family = CnnFamily::new(self.clone())?;
        let mut values = Vec::with_capacity(family.params.len());
        let mut fan_in = 1;
        for e in family.params.entries() {
            // A kernel's fan-in is c_in · k · k, the head's d_in; a bias takes its weight's.
            match e.shape.as_slice() {
                [_, c_in, kh, kw] => fan_in = c_in * kh * kw,
                [d_in, _] => fan_in = *d_in,
                _ => {}
            }
            let k = 1.0 / (fan_in as f32).sqrt();
            let v: Vec<f32> = (0..e.numel()).map(|_| rng.random_range(-k..k)).collect();
            values.push(Tensor::<1>::from_data(
                TensorData::new(v, [e.numel()]),
                device,
            ));
        }
        let params = GeneratedParams::from_flat(family.params.clone(), values)?;
        family.materialize(params, device)
    }
}

/// Runs the network on `x` (`[batch, c, h, w]`) with the given kernels and head; `None` for the
/// head returns the head's input features (`[batch, n_features]`).
fn run(
    spec: &CnnSpec,
    x: Tensor<4>,
    convs: &[(Tensor<4>, Tensor<1>)],
    head: Option<(Tensor<2>, Tensor<1>)>,
) -> Tensor<2> {
    let c = spec.in_channels;
    let mut x = x;
    if !spec.input_mean.is_empty() {
        let mean =
            Tensor::<1>::from_data(TensorData::new(spec.input_mean.clone(), [c]), &x.device());
        x = x - mean.reshape([1, c, 1, 1]);
    }
    if !spec.input_std.is_empty() {
        let std = Tensor::<1>::from_data(TensorData::new(spec.input_std.clone(), [c]), &x.device());
        x = x / std.reshape([1, c, 1, 1]);
    }
    let pad = spec.kernel_size / 2;
    for (weight, bias) in convs {
        let options = ConvOptions::new([1, 1], [pad, pad], [1, 1], 1);
        x = spec
            .activation
            .forward(conv2d(x, weight.clone(), Some(bias.clone()), options)); // [b, c_out, h, w]
        x = match spec.pool {
            CnnPool::Max => max_pool2d(x, MaxPoolOptions::new([2, 2])),
            CnnPool::Avg => avg_pool2d(x, AvgPoolOptions::new([2, 2])),
        }; // [b, c_out, h / 2, w / 2]
    }
    let [b, ch, h, w] = x.dims();
    let features = match spec.head {
        CnnHead::Flatten => x.reshape([b, ch * h * w]),
        CnnHead::GlobalAvg => x.mean_dim(3).mean_dim(2).reshape([b, ch]),
    }; // [b, n_features]
    match head {
        Some((weight, bias)) => linear(features, weight, Some(bias)), // [b, n_classes]
        None => features,
    }
}

/// The CNN [`TargetFamily`]: generated tensors in, logits out.
#[derive(Debug, Clone)]
pub struct CnnFamily {
    spec: CnnSpec,
    params: ParamSpec,
}

impl CnnFamily {
    /// A family for CNNs of shape `spec`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if the spec is invalid (see [`CnnSpec::validate`]).
    pub fn new(spec: CnnSpec) -> Result<Self> {
        spec.validate()?;
        let params = spec.param_spec();
        Ok(Self { spec, params })
    }

    /// The CNN's shape.
    pub fn cnn_spec(&self) -> &CnnSpec {
        &self.spec
    }

    /// Checks that `params` holds exactly this family's tensors (names and shapes, in order).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] naming the first tensor whose shape differs (or the count);
    /// [`Error::Core`] for a name that differs.
    pub fn check_params(&self, params: &GeneratedParams) -> Result<()> {
        check_entries(&self.params, params, "number of generated CNN tensors")
    }

    fn unpack(
        &self,
        params: &GeneratedParams,
    ) -> (Vec<(Tensor<4>, Tensor<1>)>, Tensor<2>, Tensor<1>) {
        let flat = params.flat();
        let entries = self.params.entries();
        let depth = self.spec.channels.len();
        let convs = (0..depth)
            .map(|i| {
                let s = &entries[2 * i].shape;
                let weight = flat[2 * i].clone().reshape([s[0], s[1], s[2], s[3]]);
                (weight, flat[2 * i + 1].clone())
            })
            .collect();
        let s = &entries[2 * depth].shape;
        let head_w = flat[2 * depth].clone().reshape([s[0], s[1]]);
        (convs, head_w, flat[2 * depth + 1].clone())
    }

    fn check_input(&self, input: &Tensor<4>) -> Result<()> {
        let [batch, c, h, w] = input.dims();
        let s = &self.spec;
        if [c, h, w] != [s.in_channels, s.height, s.width] {
            return Err(Error::ShapeMismatch {
                what: "CNN input".into(),
                expected: vec![batch, s.in_channels, s.height, s.width],
                actual: vec![batch, c, h, w],
            });
        }
        Ok(())
    }

    /// Fallible form of [`forward_with`](TargetFamily::forward_with).
    ///
    /// # Shapes
    /// - input: `[batch, in_channels, height, width]`
    /// - output: `[batch, n_classes]` (logits)
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `params` does not match the family or the input shape is
    /// not the spec's.
    pub fn try_forward_with(
        &self,
        params: &GeneratedParams,
        input: Tensor<4>,
    ) -> Result<Tensor<2>> {
        self.check_params(params)?;
        self.check_input(&input)?;
        let (convs, w, b) = self.unpack(params);
        Ok(run(&self.spec, input, &convs, Some((w, b))))
    }

    /// The head's input features computed with the generated kernels of `params` (the head
    /// tensors are not read): what a closed-form head is fitted on.
    ///
    /// # Shapes
    /// - input: `[batch, in_channels, height, width]`
    /// - output: `[batch, n_features]`
    ///
    /// # Errors
    /// As [`CnnFamily::try_forward_with`].
    pub fn try_features_with(
        &self,
        params: &GeneratedParams,
        input: Tensor<4>,
    ) -> Result<Tensor<2>> {
        self.check_params(params)?;
        self.check_input(&input)?;
        let (convs, _, _) = self.unpack(params);
        Ok(run(&self.spec, input, &convs, None))
    }
}

impl TargetFamily for CnnFamily {
    type Input = Tensor<4>;
    type Output = Tensor<2>;
    type Model = Cnn;
    type Error = Error;

    /// See [`CnnSpec::param_spec`].
    fn spec(&self) -> &ParamSpec {
        &self.params
    }

    /// Runs the CNN on generated tensors with burn's functional ops, keeping the autodiff graph.
    ///
    /// # Shapes
    /// - input: `[batch, in_channels, height, width]`
    /// - output: `[batch, n_classes]` (logits)
    ///
    /// # Panics
    /// If `params` or the input do not match the family (use
    /// [`CnnFamily::try_forward_with`] to get an error instead).
    ///
    /// # Example
    ///
    /// ```
    /// use burn::tensor::{Device, Tensor};
    /// use modelgpt_core::TargetFamily;
    /// use modelgpt_targets::{CnnFamily, CnnSpec};
    ///
    /// let device = Device::default();
    /// let spec = CnnSpec::new(1, 8, 8, 3).with_channels(vec![4]);
    /// // A hypernetwork would write these; here they are a seeded random CNN's.
    /// let params = spec.init_random(&device, 0)?.to_params();
    /// let family = CnnFamily::new(spec)?;
    /// let logits = family.forward_with(&params, Tensor::zeros([2, 1, 8, 8], &device));
    /// assert_eq!(logits.dims(), [2, 3]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn forward_with(&self, params: &GeneratedParams, input: Tensor<4>) -> Tensor<2> {
        match self.try_forward_with(params, input) {
            Ok(logits) => logits,
            Err(err) => panic!("CnnFamily::forward_with: {err}"),
        }
    }

    /// Writes the generated tensors into a [`Cnn`] on `device` (detached from the generator's
    /// graph; on an autodiff `device` the parameters are leaves that require gradients).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `params` does not match the family.
    fn materialize(&self, params: GeneratedParams, device: &Device) -> Result<Cnn> {
        self.check_params(&params)?;
        let (convs, head_w, head_b) = self.unpack(&params);
        let pad = self.spec.kernel_size / 2;
        let k = self.spec.kernel_size;
        let convs = convs
            .into_iter()
            .map(|(w, b)| Conv2d {
                weight: Param::from_tensor(leaf_on(w, device)),
                bias: Some(Param::from_tensor(leaf_on(b, device))),
                stride: [1, 1],
                kernel_size: [k, k],
                dilation: [1, 1],
                groups: 1,
                padding: PaddingConfig2d::Explicit(pad, pad, pad, pad),
            })
            .collect();
        Ok(Cnn {
            convs,
            head: Linear {
                weight: Param::from_tensor(leaf_on(head_w, device)),
                bias: Some(Param::from_tensor(leaf_on(head_b, device))),
            },
            spec: self.spec.clone(),
        })
    }
}

/// A materialised CNN classifier: [`Conv2d`] blocks and a [`Linear`] head, with its
/// [`CnnSpec`] (input normalisation included).
///
/// Build one with [`CnnSpec::init_random`], [`TargetFamily::materialize`] on a [`CnnFamily`],
/// [`Cnn::load`], or train one with [`train_cnn`](crate::train::train_cnn).
#[derive(Module, Debug)]
pub struct Cnn {
    /// Convolution blocks, input side first.
    convs: Vec<Conv2d>,
    /// The linear head, weight `[n_features, n_classes]`.
    head: Linear,
    /// The shape and the input normalisation.
    #[module(skip)]
    spec: CnnSpec,
}

impl Cnn {
    fn tensors(&self) -> (Vec<(Tensor<4>, Tensor<1>)>, Tensor<2>, Tensor<1>) {
        let convs = self
            .convs
            .iter()
            .map(|c| {
                let w = c.weight.val();
                let b = match &c.bias {
                    Some(b) => b.val(),
                    None => Tensor::zeros([w.dims()[0]], &w.device()),
                };
                (w, b)
            })
            .collect();
        let w = self.head.weight.val();
        let b = match &self.head.bias {
            Some(b) => b.val(),
            None => Tensor::zeros([w.dims()[1]], &w.device()),
        };
        (convs, w, b)
    }

    /// Logits for a batch of images.
    ///
    /// # Shapes
    /// - input: `[batch, in_channels, height, width]`
    /// - output: `[batch, n_classes]`
    ///
    /// # Panics
    /// If the input shape is not the spec's.
    pub fn forward(&self, input: Tensor<4>) -> Tensor<2> {
        let (convs, w, b) = self.tensors();
        run(&self.spec, input, &convs, Some((w, b)))
    }

    /// Logits for a batch of images given as rows of `c · h · w` values.
    ///
    /// # Shapes
    /// - input: `[batch, in_channels · height · width]`
    /// - output: `[batch, n_classes]`
    pub fn forward_rows(&self, rows: Tensor<2>) -> Tensor<2> {
        let [b, _] = rows.dims();
        let s = &self.spec;
        self.forward(rows.reshape([b, s.in_channels, s.height, s.width]))
    }

    /// The head's input features of a batch of images.
    ///
    /// # Shapes
    /// - input: `[batch, in_channels, height, width]`
    /// - output: `[batch, n_features]`
    pub fn features(&self, input: Tensor<4>) -> Tensor<2> {
        let (convs, _, _) = self.tensors();
        run(&self.spec, input, &convs, None)
    }

    /// The shape and input normalisation.
    pub fn spec(&self) -> &CnnSpec {
        &self.spec
    }

    /// The device holding the weights.
    pub fn device(&self) -> Device {
        self.head.weight.lazy_device()
    }

    /// Number of parameters.
    pub fn n_params(&self) -> usize {
        self.spec.param_spec().numel()
    }

    /// The weights as [`GeneratedParams`] in [`CnnSpec::param_spec`] order: the inverse of
    /// [`TargetFamily::materialize`].
    pub fn to_params(&self) -> GeneratedParams {
        let (convs, w, b) = self.tensors();
        let mut flat = Vec::with_capacity(2 * convs.len() + 2);
        for (cw, cb) in convs {
            let n: usize = cw.dims().iter().product();
            flat.push(cw.reshape([n]));
            flat.push(cb);
        }
        let n: usize = w.dims().iter().product();
        flat.push(w.reshape([n]));
        flat.push(b);
        GeneratedParams::from_flat(self.spec.param_spec(), flat)
            .expect("Cnn::to_params: spec built from the model's own shapes")
    }

    /// Writes `model.safetensors` (keys `convs.{i}.weight|bias`, `head.weight|bias`) and
    /// `cnn.json` (the [`CnnSpec`], input normalisation included) into `dir`, each atomically
    /// (as [`Mlp::save`](crate::Mlp::save)).
    ///
    /// # Errors
    /// [`Error::Io`] for file-system failures, [`Error::Store`] if burn cannot serialise the
    /// tensors.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        save_with_spec(self, dir.as_ref(), CNN_WEIGHTS_FILE, CNN_SPEC_FILE, |tmp| {
            self.spec.save(tmp)
        })
    }

    /// Loads a CNN written by [`Cnn::save`] onto `device`: the spec is validated, its parameter
    /// count is checked against the size of the weights file before anything is allocated,
    /// then every tensor is checked against the spec.
    ///
    /// # Errors
    /// [`Error::MissingFile`], [`Error::Config`], [`Error::InvalidConfig`],
    /// [`Error::Safetensors`], [`Error::ShapeMismatch`], [`Error::MissingTensor`] or
    /// [`Error::UnexpectedTensors`], as [`Mlp::load`](crate::Mlp::load).
    pub fn load(dir: impl AsRef<Path>, device: &Device) -> Result<Cnn> {
        let dir = dir.as_ref();
        let spec_path = dir.join(CNN_SPEC_FILE);
        let weights = dir.join(CNN_WEIGHTS_FILE);
        let spec: CnnSpec = read_spec(&spec_path, &weights, ["CNN spec", "CNN weights"])?;
        spec.validate()?;
        let file_len = crate::bert::read_safetensors_header(&weights)?.data_len();
        let numel = spec
            .param_spec()
            .entries()
            .iter()
            .try_fold(0usize, |n, e| n.checked_add(e.numel()));
        if numel.is_none_or(|n| n > file_len) {
            return Err(Error::InvalidConfig {
                field: "channels/height/width/n_classes",
                reason: format!(
                    "{} asks for more parameters than the {file_len} data bytes of {} hold",
                    spec_path.display(),
                    weights.display()
                ),
            });
        }
        let family = CnnFamily::new(spec.clone())?;
        let zeros = family
            .params
            .entries()
            .iter()
            .map(|e| Tensor::<1>::zeros([e.numel()], device))
            .collect();
        let model = family.materialize(
            GeneratedParams::from_flat(family.params.clone(), zeros)?,
            device,
        )?;
        load_weights(model, &weights)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_device;

    fn spec() -> CnnSpec {
        CnnSpec::new(1, 8, 8, 3).with_channels(vec![4, 6])
    }

    #[test]
    fn shapes_names_and_roles() {
        let s = spec();
        assert_eq!(s.feature_map(), [6, 2, 2]);
        let ps = s.param_spec();
        let names: Vec<_> = ps.entries().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "convs.0.weight",
                "convs.0.bias",
                "convs.1.weight",
                "convs.1.bias",
                "head.weight",
                "head.bias"
            ]
        );
        assert_eq!(ps.entries()[2].shape, vec![6, 4, 3, 3]);
        assert_eq!(ps.entries()[4].shape, vec![24, 3]);
        assert_eq!(ps.entries()[0].role, ParamRole::InputDependent);
        assert_eq!(ps.entries()[5].role, ParamRole::ClassDependent);
    }

    #[test]
    fn invalid_specs_name_the_field() {
        let field = |s: CnnSpec| match s.validate() {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(spec().with_kernel_size(4)), "kernel_size");
        assert_eq!(field(spec().with_channels(vec![])), "channels");
        assert_eq!(field(spec().with_channels(vec![4, 0])), "channels");
        assert_eq!(
            field(CnnSpec::new(1, 3, 8, 3).with_channels(vec![4, 4])),
            "height/width"
        );
        assert_eq!(field(CnnSpec::new(1, 8, 8, 1)), "n_classes");
        assert_eq!(
            field(CnnSpec::new(3, 4096, 4096, 2)),
            "in_channels/height/width"
        );
        assert_eq!(field(spec().with_input_std(vec![0.0])), "input_std");
        assert_eq!(field(spec().with_input_mean(vec![0.0, 1.0])), "input_mean");
    }

    #[test]
    fn module_and_family_agree_and_gradients_reach_generated_tensors() {
        let device = test_device();
        let ad = device.clone().autodiff();
        let s = spec().with_input_mean(vec![0.5]).with_input_std(vec![2.0]);
        let model = s.init_random(&ad, 3).unwrap();
        let params = model.to_params();
        let family = CnnFamily::new(s.clone()).unwrap();
        let x = Tensor::<4>::random(
            [5, 1, 8, 8],
            burn::tensor::Distribution::Uniform(0.0, 1.0),
            &ad,
        );
        let a = family.try_forward_with(&params, x.clone()).unwrap();
        let b = model.forward(x.clone());
        let diff = (a.clone() - b).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-6, "{diff}");
        let grads = a.sum().backward();
        let g = model.convs[0]
            .weight
            .val()
            .grad(&grads)
            .expect("kernel gradient");
        assert!(g.abs().sum().into_scalar::<f32>() > 0.0);
        // Rows and images agree.
        let rows = x.reshape([5, 64]);
        let c = model.forward_rows(rows);
        assert_eq!(c.dims(), [5, 3]);
    }

    #[test]
    fn save_load_round_trip_keeps_the_normalisation() {
        let device = test_device();
        let dir = std::env::temp_dir().join(format!("modelgpt-cnn-{}", std::process::id()));
        let s = spec().with_input_mean(vec![0.25]).with_input_std(vec![0.5]);
        let model = s.init_random(&device, 1).unwrap();
        model.save(&dir).unwrap();
        let back = Cnn::load(&dir, &device).unwrap();
        assert_eq!(back.spec(), &s);
        let x = Tensor::<4>::ones([2, 1, 8, 8], &device);
        let diff = (model.forward(x.clone()) - back.forward(x))
            .abs()
            .max()
            .into_scalar::<f32>();
        assert!(diff < 1e-6);
        // A spec whose parameters the file cannot hold is refused before allocating.
        let big = spec().with_channels(vec![1024, 1024]);
        big.save(dir.join(CNN_SPEC_FILE)).unwrap();
        assert!(matches!(
            Cnn::load(&dir, &device),
            Err(Error::InvalidConfig { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// 8 × 8 images of one bright horizontal (class 0) or vertical (class 1) line at a random
    /// position, on noise: the same pixel statistics for both classes, only the shape differs.
    fn lines(n: usize, seed: u64) -> (Vec<f32>, Vec<usize>) {
        let mut rng = StdRng::seed_from_u64(seed);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for i in 0..n {
            let class = i % 2;
            let at = rng.random_range(0..8usize);
            for r in 0..8 {
                for c in 0..8 {
                    let on = if class == 0 { r == at } else { c == at };
                    x.push(if on { 1.0 } else { 0.0 } + rng.random_range(-0.3..0.3f32));
                }
            }
            y.push(class);
        }
        (x, y)
    }

    #[test]
    fn a_trained_cnn_learns_line_orientation() {
        use crate::train::{LabeledRows, TrainConfig, train_cnn};
        let device = test_device();
        let (xt, yt) = lines(256, 1);
        let (xv, yv) = lines(64, 2);
        let s = CnnSpec::new(1, 8, 8, 2)
            .with_channels(vec![4])
            .with_normalisation_from(&xt)
            .unwrap();
        let train = LabeledRows::new(&xt, 64, &yt).unwrap();
        let valid = LabeledRows::new(&xv, 64, &yv).unwrap();
        let config = TrainConfig::new().with_max_epochs(30).with_lr(0.02);
        let out = train_cnn(&s, None, train, valid, &config, &device, None).unwrap();
        assert!(out.best_valid_acc > 0.95, "{}", out.best_valid_acc);
        assert_eq!(out.history[0].epoch, 0);
        assert!(
            out.best_epoch > 0,
            "training must improve on the random start"
        );
        // Wrong row width and a foreign initial model are typed errors.
        let short = LabeledRows::new(&xt[..255 * 63], 63, &yt[..255]).unwrap();
        assert!(matches!(
            train_cnn(&s, None, short, valid, &config, &device, None),
            Err(Error::ShapeMismatch { .. })
        ));
        let other = CnnSpec::new(1, 8, 8, 2).with_channels(vec![5]);
        let init = other.init_random(&device, 0).unwrap();
        assert!(matches!(
            train_cnn(&s, Some(init), train, valid, &config, &device, None),
            Err(Error::ShapeMismatch { .. })
        ));
    }

    #[test]
    fn normalisation_is_per_channel() {
        let s = CnnSpec::new(2, 2, 2, 2).with_channels(vec![1]);
        let images = [0.0, 0.0, 2.0, 2.0, 5.0, 5.0, 5.0, 5.0];
        let s = s.with_normalisation_from(&images).unwrap();
        assert_eq!(s.input_mean, vec![1.0, 5.0]);
        assert_eq!(s.input_std, vec![1.0, 1.0]);
        assert!(s.clone().with_normalisation_from(&images[..3]).is_err());
    }
}
