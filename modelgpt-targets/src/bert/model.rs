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

        let mut q = self.query.forward(x.clone()); // [batch, seq, d_model]
        let k = self.key.forward(x.clone());
        let mut v = self.value.forward(x.clone());
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

        self.layer_norm.forward(self.output.forward(context) + x)
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
        let h = self.intermediate.forward(x.clone()); // [batch, seq, d_ff]
        let h = match self.activation {
            HiddenAct::Gelu => gelu(h),
            HiddenAct::GeluApprox => gelu_approximate(h),
            HiddenAct::Relu => relu(h),
        };
        self.output_norm.forward(self.output.forward(h) + x)
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
