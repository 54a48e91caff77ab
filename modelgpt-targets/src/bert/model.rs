//! BERT encoder modules: embeddings, self-attention, feed-forward, the stacked encoder.

use burn::module::Module;
use burn::nn::{Embedding, LayerNorm, Linear};
use burn::tensor::activation::{gelu, gelu_approximate, relu, softmax};
use burn::tensor::{Bool, Int, Tensor};

use super::config::HiddenAct;
use super::lora::AttentionLora;

/// Additive stand-in for `-inf` on masked attention scores: `exp` underflows to exactly 0 in f32
/// while a row that is masked everywhere still gives finite (uniform) weights instead of NaN.
const MASKED_SCORE: f32 = -1.0e9;

/// `f` applied to `x` (`[batch, seq, d_in]`) with the leading dimensions folded into the rows,
/// so that a row-wise map such as a linear layer is one `[batch · seq, d_in] × [d_in, d_out]`
/// matrix multiplication (burn's broadcast path may run one small product per sequence instead,
/// which does not get faster with the batch).
pub(crate) fn fold_rows(x: Tensor<3>, f: impl FnOnce(Tensor<2>) -> Tensor<2>) -> Tensor<3> {
    let [batch, seq, d_in] = x.dims();
    let y = f(x.reshape([batch * seq, d_in]));
    let d_out = y.dims()[1];
    y.reshape([batch, seq, d_out])
}

/// `linear.forward(x)` through [`fold_rows`].
fn linear_rows(linear: &Linear, x: Tensor<3>) -> Tensor<3> {
    fold_rows(x, |rows| linear.forward(rows))
}

/// The exact (erf) GELU, `x Φ(x)`.
///
/// On the CPU backend, outside autodiff, it runs on the host over all cores with a branch-free
/// erf ([`erf_f32`], absolute error below 6e-7 in `f32`) that the compiler vectorises:
/// burn-flex's `gelu` calls a scalar `erf` on one thread, a fifth of the encoder's time.
/// Elsewhere it is burn's `gelu`.
fn gelu_exact<const D: usize>(h: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "flex")]
    {
        let device = h.device();
        if !device.is_autodiff()
            && !h.is_require_grad()
            && h.dtype() == burn::tensor::DType::F32
            && matches!(device.as_dispatch(), burn::backend::DispatchDevice::Flex(_))
        {
            let dims = h.dims();
            // `h` is moved, not cloned: a uniquely held buffer need not be copied out.
            let mut v = h
                .into_data()
                .try_into_vec::<f32>()
                .unwrap_or_else(|_| unreachable!("an f32 tensor reads back as f32"));
            use rayon::prelude::*;
            v.par_chunks_mut(1 << 14).for_each(|chunk| {
                for x in chunk {
                    *x = 0.5 * *x * (1.0 + erf_f32(*x * core::f32::consts::FRAC_1_SQRT_2));
                }
            });
            return Tensor::from_data(burn::tensor::TensorData::new(v, dims), &device);
        }
    }
    gelu(h)
}

/// `erf(x)` without branches (Abramowitz & Stegun 7.1.26: absolute error 1.5e-7 in exact
/// arithmetic, below 6e-7 in `f32`; `exp` by range reduction and a degree-6 polynomial), so that
/// loops over it vectorise.
#[inline]
fn erf_f32(x: f32) -> f32 {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [
        0.254_829_6,
        -0.284_496_74,
        1.421_413_7,
        -1.453_152,
        1.061_405_4,
    ];
    let a = x.abs();
    let t = 1.0 / (1.0 + P * a);
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    let y = 1.0 - poly * exp_neg(a * a);
    y.copysign(x)
}

/// `exp(-z)` for `z ≥ 0` (flushed to 0 beyond `z = 87`): `2^n · p(r)` with
/// `-z = n ln 2 + r`, `|r| ≤ ln 2 / 2`.
#[inline]
fn exp_neg(z: f32) -> f32 {
    let x = (-z).max(-87.0);
    // Round to nearest by adding and removing 1.5 · 2²³ (exact for |y| < 2²²; `round` is a
    // library call on baseline x86-64 and would stop the loop from vectorising).
    const SHIFT: f32 = 12_582_912.0;
    let n = (x * core::f32::consts::LOG2_E + SHIFT) - SHIFT;
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let p = 1.0
        + r * (1.0
            + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r / 720.0)))));
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    if z > 87.0 { 0.0 } else { p * scale }
}

/// A batch of token sequences for [`BertModel::forward`] (after burn's `TransformerEncoderInput`).
///
/// ```
/// use burn::tensor::{Device, Int, Tensor};
/// use modelgpt_targets::BertInput;
///
/// let device = Device::default();
/// let ids = Tensor::<2, Int>::from_ints([[101, 7, 102], [101, 102, 0]], &device);
/// let keep = Tensor::<2, Int>::from_ints([[1, 1, 1], [1, 1, 0]], &device);
/// let input = BertInput::new(ids).attention_mask(keep);
/// assert_eq!(input.dims(), [2, 3]);
/// ```
#[derive(Debug, Clone)]
pub struct BertInput {
    token_ids: Tensor<2, Int>,
    token_type_ids: Option<Tensor<2, Int>>,
    mask_pad: Option<Tensor<2, Bool>>,
}

impl BertInput {
    /// A batch without padding: every position is attended to, all token types are 0.
    ///
    /// # Shapes
    /// - `token_ids`: `[batch, seq]`
    pub fn new(token_ids: Tensor<2, Int>) -> Self {
        Self {
            token_ids,
            token_type_ids: None,
            mask_pad: None,
        }
    }

    /// Sets the padding mask in burn's convention: `true` marks a padding position.
    ///
    /// # Shapes
    /// - `mask_pad`: `[batch, seq]`
    pub fn mask_pad(mut self, mask_pad: Tensor<2, Bool>) -> Self {
        self.mask_pad = Some(mask_pad);
        self
    }

    /// Sets the padding mask from a Hugging Face `attention_mask` (`1` = token, `0` = padding).
    ///
    /// # Shapes
    /// - `attention_mask`: `[batch, seq]`
    pub fn attention_mask(self, attention_mask: Tensor<2, Int>) -> Self {
        self.mask_pad(attention_mask.equal_elem(0))
    }

    /// Sets the segment ids (`token_type_ids`); they default to 0.
    ///
    /// # Shapes
    /// - `token_type_ids`: `[batch, seq]`
    pub fn token_type_ids(mut self, token_type_ids: Tensor<2, Int>) -> Self {
        self.token_type_ids = Some(token_type_ids);
        self
    }

    /// `[batch, seq]`.
    pub fn dims(&self) -> [usize; 2] {
        self.token_ids.dims()
    }

    /// The token ids, `[batch, seq]`.
    pub fn token_ids(&self) -> &Tensor<2, Int> {
        &self.token_ids
    }

    /// The padding mask (`true` = padding), if any, `[batch, seq]`.
    pub fn padding_mask(&self) -> Option<&Tensor<2, Bool>> {
        self.mask_pad.as_ref()
    }

    /// `1.0` at tokens and `0.0` at padding, `[batch, seq]` (what mean pooling weights by).
    pub fn keep_mask(&self) -> Tensor<2> {
        match &self.mask_pad {
            Some(mask) => mask.clone().bool_not().float(),
            None => Tensor::ones(self.token_ids.shape(), &self.token_ids.device()),
        }
    }
}

/// Word + position + token-type embeddings followed by LayerNorm.
#[derive(Module, Debug)]
pub struct BertEmbeddings {
    pub(crate) word_embeddings: Embedding,
    pub(crate) position_embeddings: Embedding,
    pub(crate) token_type_embeddings: Embedding,
    pub(crate) layer_norm: LayerNorm,
}

impl BertEmbeddings {
    /// Embeds a batch.
    ///
    /// # Shapes
    /// - output: `[batch, seq, d_model]`
    ///
    /// # Panics
    /// If `seq` exceeds the number of learned positions.
    pub fn forward(&self, input: &BertInput) -> Tensor<3> {
        let [batch, seq] = input.dims();
        let [n_positions, _] = self.position_embeddings.weight.dims();
        assert!(
            seq <= n_positions,
            "sequence of {seq} tokens is longer than the {n_positions} learned positions"
        );
        let device = input.token_ids.device();
        let positions = Tensor::<1, Int>::arange(0..seq as i64, &device)
            .unsqueeze::<2>()
            .repeat_dim(0, batch); // [batch, seq]
        let token_types = input
            .token_type_ids
            .clone()
            .unwrap_or_else(|| Tensor::zeros([batch, seq], &device));
        let x = self.word_embeddings.forward(input.token_ids.clone())
            + self.position_embeddings.forward(positions)
            + self.token_type_embeddings.forward(token_types); // [batch, seq, d_model]
        self.layer_norm.forward(x)
    }
}

/// Multi-head self-attention with its output projection, residual and LayerNorm
/// (Hugging Face `BertAttention` = `BertSelfAttention` + `BertSelfOutput`).
#[derive(Module, Debug)]
pub struct BertAttention {
    pub(crate) query: Linear,
    pub(crate) key: Linear,
    pub(crate) value: Linear,
    pub(crate) output: Linear,
    pub(crate) layer_norm: LayerNorm,
    pub(crate) n_heads: usize,
}

impl BertAttention {
    /// Number of heads.
    pub fn n_heads(&self) -> usize {
        self.n_heads
    }

    /// The query projection (frozen base of a LoRA on queries).
    pub fn query(&self) -> &Linear {
        &self.query
    }

    /// The value projection (frozen base of a LoRA on values).
    pub fn value(&self) -> &Linear {
        &self.value
    }

    /// Self-attention block, optionally adding LoRA deltas to the query and value projections.
    ///
    /// # Shapes
    /// - `x`: `[batch, seq, d_model]`
    /// - `mask_pad`: `[batch, seq]`, `true` at padding (keys there get zero weight)
    /// - output: `[batch, seq, d_model]`
    pub fn forward(
        &self,
        x: Tensor<3>,
        mask_pad: Option<Tensor<2, Bool>>,
        lora: Option<&AttentionLora>,
    ) -> Tensor<3> {
        let [batch, seq, d_model] = x.dims();
        let d_head = d_model / self.n_heads;

        let mut q = linear_rows(&self.query, x.clone()); // [batch, seq, d_model]
        let k = linear_rows(&self.key, x.clone());
        let mut v = linear_rows(&self.value, x.clone());
        if let Some(lora) = lora {
            if let Some(delta) = &lora.query {
                q = q + delta.forward(x.clone());
            }
            if let Some(delta) = &lora.value {
                v = v + delta.forward(x.clone());
            }
        }

        let split = |t: Tensor<3>| {
            t.reshape([batch, seq, self.n_heads, d_head])
                .swap_dims(1, 2)
        };
        let (q, k, v) = (split(q), split(k), split(v)); // [batch, n_heads, seq, d_head]

        let mut scores = q.matmul(k.transpose()).div_scalar((d_head as f64).sqrt()); // [batch, n_heads, seq, seq]
        if let Some(mask) = mask_pad {
            scores = scores.mask_fill(mask.reshape([batch, 1, 1, seq]), MASKED_SCORE);
        }
        let weights = softmax(scores, 3);
        let context = weights
            .matmul(v) // [batch, n_heads, seq, d_head]
            .swap_dims(1, 2)
            .reshape([batch, seq, d_model]);

        self.layer_norm
            .forward(linear_rows(&self.output, context) + x)
    }
}

/// One encoder layer: self-attention, then the feed-forward block with residual and LayerNorm.
#[derive(Module, Debug)]
pub struct BertLayer {
    pub(crate) attention: BertAttention,
    pub(crate) intermediate: Linear,
    pub(crate) output: Linear,
    pub(crate) output_norm: LayerNorm,
    #[module(skip)]
    pub(crate) activation: HiddenAct,
}

impl BertLayer {
    /// The self-attention block.
    pub fn attention(&self) -> &BertAttention {
        &self.attention
    }

    /// Runs the layer.
    ///
    /// # Shapes
    /// - `x`: `[batch, seq, d_model]`
    /// - `mask_pad`: `[batch, seq]`, `true` at padding
    /// - output: `[batch, seq, d_model]`
    pub fn forward(
        &self,
        x: Tensor<3>,
        mask_pad: Option<Tensor<2, Bool>>,
        lora: Option<&AttentionLora>,
    ) -> Tensor<3> {
        let x = self.attention.forward(x, mask_pad, lora);
        let h = linear_rows(&self.intermediate, x.clone()); // [batch, seq, d_ff]
        let h = match self.activation {
            HiddenAct::Gelu => gelu_exact(h),
            HiddenAct::GeluApprox => gelu_approximate(h),
            HiddenAct::Relu => relu(h),
        };
        self.output_norm.forward(linear_rows(&self.output, h) + x)
    }
}

/// A BERT encoder (no pooler): token ids in, last hidden state out.
///
/// Build with [`BertConfig::init`](super::BertConfig::init) (random) or
/// [`load_bert`](super::load_bert) (Hugging Face weights).
#[derive(Module, Debug)]
pub struct BertModel {
    pub(crate) embeddings: BertEmbeddings,
    pub(crate) layers: Vec<BertLayer>,
    pub(crate) pad_token_id: usize,
}

impl BertModel {
    /// The embedding block.
    pub fn embeddings(&self) -> &BertEmbeddings {
        &self.embeddings
    }

    /// The encoder layers, first to last.
    pub fn layers(&self) -> &[BertLayer] {
        &self.layers
    }

    /// Width of the hidden states.
    pub fn d_model(&self) -> usize {
        self.embeddings.word_embeddings.weight.dims()[1]
    }

    /// Id of the padding token.
    pub fn pad_token_id(&self) -> usize {
        self.pad_token_id
    }

    /// Last hidden state.
    ///
    /// # Shapes
    /// - input: `[batch, seq]` token ids (+ optional `[batch, seq]` padding mask)
    /// - output: `[batch, seq, d_model]`
    ///
    /// # Panics
    /// If `seq` exceeds `max_position_embeddings`.
    pub fn forward(&self, input: BertInput) -> Tensor<3> {
        self.forward_with_lora(input, &[])
    }

    /// Last hidden state with LoRA deltas added to the query/value projections of each layer:
    /// `q = x·W_q + b_q + scale·(x·A)·B` (paper §3, text targets: LoRA on query and value).
    ///
    /// `lora` is empty (plain forward) or has one entry per layer; an entry whose fields are
    /// `None` leaves that projection unchanged. The deltas are plain tensors, so gradients flow
    /// into whatever generated them while the base weights stay as they are.
    ///
    /// # Shapes
    /// - input: `[batch, seq]`
    /// - output: `[batch, seq, d_model]`
    ///
    /// # Panics
    /// If `lora` is neither empty nor one entry per layer, or a delta's shape does not fit.
    pub fn forward_with_lora(&self, input: BertInput, lora: &[AttentionLora]) -> Tensor<3> {
        assert!(
            lora.is_empty() || lora.len() == self.layers.len(),
            "forward_with_lora: got {} LoRA entries for {} layers",
            lora.len(),
            self.layers.len()
        );
        let mut x = self.embeddings.forward(&input); // [batch, seq, d_model]
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x, input.mask_pad.clone(), lora.get(i));
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Distribution, TensorData, Tolerance};

    use super::*;
    use crate::bert::{BertConfig, LoraDelta};
    use crate::test_device;

    fn tiny() -> BertConfig {
        BertConfig::new()
            .with_vocab_size(40)
            .with_hidden_size(16)
            .with_num_hidden_layers(2)
            .with_num_attention_heads(4)
            .with_intermediate_size(24)
            .with_max_position_embeddings(10)
    }

    #[test]
    fn fast_erf_and_gelu_match_the_reference() {
        let mut worst = 0f32;
        for i in -100_000..=100_000 {
            let x = i as f32 * 1e-4;
            worst = worst.max((erf_f32(x) - reference_erf(x)).abs());
        }
        assert!(worst < 6e-7, "erf error {worst}");
        assert_eq!(erf_f32(100.0), 1.0);
        assert_eq!(erf_f32(-100.0), -1.0);
        let device = burn::tensor::Device::default();
        let x = Tensor::<2>::from_floats([[-6.0, -1.5, -0.3, 0.0], [0.2, 1.0, 2.5, 9.0]], &device);
        let fast = gelu_exact(x.clone())
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let slow = gelu(x).into_data().try_into_vec::<f32>().unwrap();
        for (a, b) in fast.iter().zip(&slow) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }

    /// erf in f64: its Taylor series up to |x| = 3, the asymptotic series of erfc beyond.
    fn reference_erf(x: f32) -> f32 {
        let x = f64::from(x);
        let a = x.abs();
        if a > 3.0 {
            let x2 = a * a;
            let series = 1.0 - 1.0 / (2.0 * x2) + 3.0 / (4.0 * x2 * x2)
                - 15.0 / (8.0 * x2 * x2 * x2)
                + 105.0 / (16.0 * x2 * x2 * x2 * x2);
            let erfc = (-x2).exp() / (a * core::f64::consts::PI.sqrt()) * series;
            return ((1.0 - erfc) * x.signum()) as f32;
        }
        let mut sum = 0f64;
        let mut term = x;
        for n in 0..200 {
            sum += term / (2 * n + 1) as f64;
            term *= -x * x / (n + 1) as f64;
        }
        (2.0 / core::f64::consts::PI.sqrt() * sum) as f32
    }

    #[test]
    fn padding_does_not_change_real_tokens() {
        let device = test_device();
        let model = tiny().init(&device);
        let short = Tensor::<2, Int>::from_ints([[1, 5, 7, 2]], &device);
        let padded = Tensor::<2, Int>::from_ints([[1, 5, 7, 2, 0, 0], [1, 3, 4, 6, 8, 2]], &device);
        let keep = Tensor::<2, Int>::from_ints([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], &device);

        let alone = model.forward(BertInput::new(short)); // [1, 4, 16]
        let batched = model.forward(BertInput::new(padded).attention_mask(keep)); // [2, 6, 16]
        let first = batched.slice([0..1, 0..4]);
        alone
            .into_data()
            .assert_approx_eq::<f32>(&first.into_data(), Tolerance::absolute(1e-5));
    }

    #[test]
    fn zero_lora_equals_plain_forward_and_nonzero_changes_it() {
        let device = test_device();
        let model = tiny().init(&device);
        let ids = Tensor::<2, Int>::from_ints([[1, 5, 7, 2], [1, 9, 2, 0]], &device);
        let keep = Tensor::<2, Int>::from_ints([[1, 1, 1, 1], [1, 1, 1, 0]], &device);
        let input = BertInput::new(ids).attention_mask(keep);
        let plain = model.forward(input.clone());

        let zero = || {
            LoraDelta::with_alpha(
                Tensor::zeros([16, 4], &device),
                Tensor::zeros([4, 16], &device),
                8.0,
            )
        };
        let lora: Vec<AttentionLora> = (0..2)
            .map(|_| AttentionLora::new().with_query(zero()).with_value(zero()))
            .collect();
        let with_zero = model.forward_with_lora(input.clone(), &lora);
        plain
            .clone()
            .into_data()
            .assert_approx_eq::<f32>(&with_zero.into_data(), Tolerance::absolute(1e-6));

        let random =
            |shape: [usize; 2]| Tensor::<2>::random(shape, Distribution::Normal(0.0, 0.5), &device);
        let lora = vec![
            AttentionLora::new().with_value(LoraDelta::new(random([16, 4]), random([4, 16]), 2.0)),
            AttentionLora::new(),
        ];
        let changed = model.forward_with_lora(input, &lora);
        let diff: f32 = (changed - plain).abs().max().into_scalar();
        assert!(
            diff > 1e-3,
            "a non-zero value delta must change the output (diff {diff})"
        );
    }

    #[test]
    fn lora_delta_is_scaled_low_rank_product() {
        let device = test_device();
        let a = Tensor::<2>::from_floats([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], &device); // [3, 2]
        let b = Tensor::<2>::from_floats([[1.0, 2.0], [3.0, 4.0]], &device); // [2, 2]
        let delta = LoraDelta::with_alpha(a, b, 4.0); // scale 4 / 2 = 2
        let x = Tensor::<3>::from_floats([[[1.0, 2.0, 3.0]]], &device); // [1, 1, 3]
        // x·A = [4, 5]; (x·A)·B = [19, 28]; ×2
        let out = delta.forward(x);
        out.into_data()
            .assert_approx_eq::<f32>(&TensorData::from([[[38.0f32, 56.0]]]), Tolerance::default());
    }

    #[test]
    #[should_panic(expected = "LoRA entries")]
    fn wrong_number_of_lora_entries_panics() {
        let device = test_device();
        let model = tiny().init(&device);
        let ids = Tensor::<2, Int>::from_ints([[1, 2]], &device);
        let _ = model.forward_with_lora(BertInput::new(ids), &[AttentionLora::new()]);
    }
}
