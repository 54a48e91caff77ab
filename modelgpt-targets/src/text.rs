//! The text target family: a frozen BERT-family encoder + LoRA on the attention query/value
//! projections of selected layers + a linear classification head on the sentence embedding
//! (paper §3, text: DistilBERT + LoRA on query/value + classifier; here all-MiniLM-L6-v2).
//!
//! ```text
//! text ─► tokens (≤ max_length) ─► embeddings + layers [0, first) ──► PrefixFeatures (cached once)
//!                                                                     │
//!          layers [first, n) with q += s·(x·A_q)·B_q, v += s·(x·A_v)·B_v ◄┘   (A, B generated)
//!          ─► mean pool over tokens ─► L2 norm ─► e ─► logits = e·W + b        (W, b generated)
//! ```
//!
//! Only layers at or after the first adapted layer depend on generated tensors, so the frozen
//! prefix is computed once per text ([`encode_prefix`]) and every training step or evaluation
//! runs just the adapted tail ([`TextLoraFamily::forward`]). With the default configuration
//! (LoRA on layers 4 and 5 of the 6-layer MiniLM) a step costs a third of a full forward.
//!
//! Tensor names follow Hugging Face / PEFT module paths ([`TextLoraFamily::lora_name`]), in
//! burn's layout: `lora_a` is `[d_in, r]`, `lora_b` `[r, d_out]`, `classifier.weight`
//! `[d_model, n_classes]`. [`crate::peft`] converts to PEFT's PyTorch layout.

use burn::module::{Module, Param};
use burn::tensor::module::linear;
use burn::tensor::{Bool, Device, Distribution, Int, Tensor, TensorData};
use modelgpt_core::{GeneratedParams, ParamRole, ParamSpec, TargetFamily};
use serde::{Deserialize, Serialize};

use crate::bert::{AttentionLora, BertInput, BertModel, BertRequirementEncoder, LoraDelta};
use crate::bert::{l2_normalize, mean_pool};
use crate::error::{Error, Result};

/// Hugging Face id of the backbone (written to PEFT's `base_model_name_or_path`).
pub const MINILM_HF_ID: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// The two attention projections that carry LoRA (paper §3: query and value).
pub const LORA_TARGETS: [&str; 2] = ["query", "value"];

/// Texts per forward pass while computing [`PrefixFeatures`].
const PREFIX_BATCH: usize = 32;

/// LoRA configuration of the text family.
///
/// Defaults: rank 8, alpha 16 (scale 2), layers 4 and 5 (the last two of MiniLM-L6), texts cut at
/// 64 tokens. The paper uses r = 16, alpha = 32 on all DistilBERT layers; we adapt two layers so
/// that the frozen prefix can be cached and training fits 2 CPU cores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextLoraConfig {
    /// LoRA rank `r`.
    pub rank: usize,
    /// LoRA `alpha`; the delta is scaled by `alpha / r`.
    pub alpha: f64,
    /// Encoder layers (0-based) whose query and value projections get LoRA; sorted, distinct.
    pub layers: Vec<usize>,
    /// Longest token sequence (with `[CLS]` and `[SEP]`); longer texts are truncated.
    pub max_length: usize,
}

impl Default for TextLoraConfig {
    fn default() -> Self {
        Self {
            rank: 8,
            alpha: 16.0,
            layers: vec![4, 5],
            max_length: 64,
        }
    }
}

impl TextLoraConfig {
    /// `lora-r{rank}-l{layers}` (layers comma-separated, e.g. `lora-r8-l4,5`); `head-only`
    /// for rank 0 or no adapted layer.
    pub fn name(&self) -> String {
        if self.rank == 0 || self.layers.is_empty() {
            return "head-only".into();
        }
        let layers: Vec<String> = self.layers.iter().map(ToString::to_string).collect();
        format!("lora-r{}-l{}", self.rank, layers.join(","))
    }

    /// Sets the rank.
    pub fn with_rank(mut self, rank: usize) -> Self {
        self.rank = rank;
        self
    }

    /// Sets alpha.
    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Sets the adapted layers.
    pub fn with_layers(mut self, layers: impl Into<Vec<usize>>) -> Self {
        self.layers = layers.into();
        self
    }

    /// Sets the maximum sequence length.
    pub fn with_max_length(mut self, max_length: usize) -> Self {
        self.max_length = max_length;
        self
    }

    /// The LoRA scale `alpha / r`.
    pub fn scale(&self) -> f64 {
        self.alpha / self.rank.max(1) as f64
    }

    /// The first adapted layer (every layer before it is frozen and cacheable).
    pub fn first_layer(&self) -> usize {
        self.layers.first().copied().unwrap_or(0)
    }

    /// Checks the configuration against an encoder with `n_layers` layers.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for rank 0, a non-positive or non-finite alpha, no layers,
    /// unsorted/duplicate layers, a layer out of range, or `max_length < 2`.
    pub fn validate(&self, n_layers: usize) -> Result<()> {
        let bad = |field, reason: String| Err(Error::InvalidConfig { field, reason });
        if self.rank == 0 {
            return bad("rank", "must be positive".into());
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return bad(
                "alpha",
                format!("must be positive and finite, got {}", self.alpha),
            );
        }
        if self.layers.is_empty() {
            return bad("layers", "at least one layer must get LoRA".into());
        }
        if self.layers.windows(2).any(|w| w[0] >= w[1]) {
            return bad(
                "layers",
                format!("must be sorted and distinct, got {:?}", self.layers),
            );
        }
        if let Some(&last) = self.layers.last()
            && last >= n_layers
        {
            return bad(
                "layers",
                format!("layer {last} out of range for {n_layers} layers"),
            );
        }
        if self.max_length < 2 {
            return bad("max_length", "must leave room for [CLS] and [SEP]".into());
        }
        Ok(())
    }
}

/// Hidden states after the frozen layers `[0, first)` for a set of texts, padded to one length.
///
/// Computed once by [`encode_prefix`] and reused by every step that runs the adapted tail.
#[derive(Debug, Clone)]
pub struct PrefixFeatures {
    /// `[n, seq, d_model]`.
    pub hidden: Tensor<3>,
    /// `[n, seq]`, `true` at padding.
    pub mask_pad: Tensor<2, Bool>,
}

impl PrefixFeatures {
    /// Number of texts.
    pub fn len(&self) -> usize {
        self.hidden.dims()[0]
    }

    /// Whether there are no texts.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows `rows`, in that order.
    ///
    /// # Panics
    /// If a row is out of range (burn's `select`).
    pub fn select(&self, rows: &[usize]) -> Self {
        let device = self.hidden.device();
        let index = Tensor::<1, Int>::from_data(
            TensorData::new(
                rows.iter().map(|&r| r as i64).collect::<Vec<_>>(),
                [rows.len()],
            ),
            &device,
        );
        Self {
            hidden: self.hidden.clone().select(0, index.clone()),
            mask_pad: self.mask_pad.clone().select(0, index),
        }
    }

    /// The contiguous rows `range`.
    pub fn slice(&self, range: core::ops::Range<usize>) -> Self {
        Self {
            hidden: self.hidden.clone().slice([range.clone()]),
            mask_pad: self.mask_pad.clone().slice([range]),
        }
    }

    /// The same features on an autodiff device (as constants), for training steps.
    pub fn autodiff(&self) -> Self {
        Self {
            hidden: self.hidden.clone().autodiff(),
            mask_pad: self.mask_pad.clone().autodiff(),
        }
    }
}

/// Tokenizes `texts` (cut at `max_length` tokens, keeping the final `[SEP]`), runs the embeddings
/// and the frozen layers `[0, upto)` of the encoder's model, and returns the hidden states padded
/// to the longest text.
///
/// # Errors
/// [`Error::Tokenizer`]; [`Error::InvalidConfig`] when `upto` exceeds the number of layers or
/// `max_length < 2`; [`Error::InvalidData`] for no texts.
pub fn encode_prefix(
    encoder: &BertRequirementEncoder,
    texts: &[&str],
    upto: usize,
    max_length: usize,
) -> Result<PrefixFeatures> {
    let model = encoder.model();
    if upto > model.layers().len() {
        return Err(Error::InvalidConfig {
            field: "layers",
            reason: format!(
                "prefix up to layer {upto} of a {}-layer model",
                model.layers().len()
            ),
        });
    }
    if max_length < 2 {
        return Err(Error::InvalidConfig {
            field: "max_length",
            reason: "must leave room for [CLS] and [SEP]".into(),
        });
    }
    if texts.is_empty() {
        return Err(Error::InvalidData {
            what: "texts",
            reason: "no text to encode".into(),
        });
    }
    let mut ids = encoder.encode_ids(texts)?;
    for row in &mut ids {
        if row.len() > max_length {
            let last = row[row.len() - 1];
            row.truncate(max_length - 1);
            row.push(last);
        }
    }
    let seq = ids.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let pad = model.pad_token_id() as i64;
    let device = encoder.device();
    let mut hidden = Vec::new();
    let mut masks = Vec::new();
    for chunk in ids.chunks(PREFIX_BATCH) {
        let b = chunk.len();
        let mut flat_ids = Vec::with_capacity(b * seq);
        let mut flat_mask = Vec::with_capacity(b * seq);
        for row in chunk {
            flat_ids.extend(row.iter().map(|&id| i64::from(id)));
            flat_ids.extend(std::iter::repeat_n(pad, seq - row.len()));
            flat_mask.extend(std::iter::repeat_n(false, row.len()));
            flat_mask.extend(std::iter::repeat_n(true, seq - row.len()));
        }
        let token_ids = Tensor::<2, Int>::from_data(TensorData::new(flat_ids, [b, seq]), device);
        let mask_pad = Tensor::<2, Bool>::from_data(TensorData::new(flat_mask, [b, seq]), device);
        let input = BertInput::new(token_ids).mask_pad(mask_pad.clone());
        let mut x = model.embeddings.forward(&input); // [b, seq, d_model]
        for layer in &model.layers[..upto] {
            x = layer.forward(x, Some(mask_pad.clone()), None);
        }
        hidden.push(x);
        masks.push(mask_pad);
    }
    Ok(PrefixFeatures {
        hidden: Tensor::cat(hidden, 0),
        mask_pad: Tensor::cat(masks, 0),
    })
}

/// Frozen BERT + LoRA (query/value of [`TextLoraConfig::layers`]) + linear head: the tensors a
/// hypernetwork generates for a text classifier, and the functional forward that uses them.
#[derive(Debug, Clone)]
pub struct TextLoraFamily {
    config: TextLoraConfig,
    d_model: usize,
    n_layers: usize,
    n_classes: usize,
    spec: ParamSpec,
}

impl TextLoraFamily {
    /// A family for an encoder with `n_layers` layers of width `d_model` and `n_classes` classes.
    ///
    /// # Errors
    /// [`TextLoraConfig::validate`]; [`Error::InvalidConfig`] for fewer than 2 classes or
    /// `d_model == 0`.
    pub fn new(
        config: TextLoraConfig,
        d_model: usize,
        n_layers: usize,
        n_classes: usize,
    ) -> Result<Self> {
        config.validate(n_layers)?;
        if n_classes < 2 {
            return Err(Error::InvalidConfig {
                field: "n_classes",
                reason: format!("classification needs at least 2 classes, got {n_classes}"),
            });
        }
        if d_model == 0 {
            return Err(Error::InvalidConfig {
                field: "d_model",
                reason: "must be positive".into(),
            });
        }
        let r = config.rank;
        let mut spec = ParamSpec::new();
        for &layer in &config.layers {
            for proj in LORA_TARGETS {
                spec.push(
                    Self::lora_name(layer, proj, "lora_a"),
                    [d_model, r],
                    ParamRole::Shared,
                );
                spec.push(
                    Self::lora_name(layer, proj, "lora_b"),
                    [r, d_model],
                    ParamRole::Shared,
                );
            }
        }
        spec.push(
            "classifier.weight",
            [d_model, n_classes],
            ParamRole::ClassDependent,
        );
        spec.push("classifier.bias", [n_classes], ParamRole::ClassDependent);
        Ok(Self {
            config,
            d_model,
            n_layers,
            n_classes,
            spec,
        })
    }

    /// A family matching `model`'s width and depth.
    ///
    /// # Errors
    /// As [`TextLoraFamily::new`].
    pub fn for_model(model: &BertModel, config: TextLoraConfig, n_classes: usize) -> Result<Self> {
        Self::new(config, model.d_model(), model.layers().len(), n_classes)
    }

    /// The generated-tensor name of a LoRA factor, after PEFT's module path:
    /// `encoder.layer.{layer}.attention.self.{proj}.{factor}` (`factor` = `lora_a` / `lora_b`).
    pub fn lora_name(layer: usize, proj: &str, factor: &str) -> String {
        format!("encoder.layer.{layer}.attention.self.{proj}.{factor}")
    }

    /// Names, shapes and order of the generated tensors: per adapted layer `query.lora_a`
    /// `[d, r]`, `query.lora_b` `[r, d]`, `value.lora_a`, `value.lora_b`; then
    /// `classifier.weight` `[d, K]` and `classifier.bias` `[K]`.
    pub fn spec(&self) -> &ParamSpec {
        &self.spec
    }

    /// The LoRA configuration.
    pub fn config(&self) -> &TextLoraConfig {
        &self.config
    }

    /// Width of the encoder.
    pub fn d_model(&self) -> usize {
        self.d_model
    }

    /// Number of encoder layers.
    pub fn n_layers(&self) -> usize {
        self.n_layers
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The same family for another class count.
    ///
    /// # Errors
    /// As [`TextLoraFamily::new`].
    pub fn with_classes(&self, n_classes: usize) -> Result<Self> {
        Self::new(self.config.clone(), self.d_model, self.n_layers, n_classes)
    }

    fn check(&self, model: &BertModel, params: &GeneratedParams) -> Result<()> {
        if model.d_model() != self.d_model || model.layers().len() != self.n_layers {
            return Err(Error::ShapeMismatch {
                what: "backbone (layers, width)".into(),
                expected: vec![self.n_layers, self.d_model],
                actual: vec![model.layers().len(), model.d_model()],
            });
        }
        if params.spec() != &self.spec {
            let actual = params
                .spec()
                .get("classifier.bias")
                .map(|e| e.shape.clone())
                .unwrap_or_default();
            return Err(Error::ShapeMismatch {
                what: "generated tensors (spec differs; classifier.bias shown)".into(),
                expected: vec![self.n_classes],
                actual,
            });
        }
        Ok(())
    }

    /// The LoRA deltas of every layer from `first_layer` on (empty entries where not adapted).
    fn deltas(&self, params: &GeneratedParams) -> Result<Vec<AttentionLora>> {
        let scale = self.config.scale();
        (self.config.first_layer()..self.n_layers)
            .map(|layer| {
                let mut lora = AttentionLora::new();
                if self.config.layers.contains(&layer) {
                    for proj in LORA_TARGETS {
                        let a: Tensor<2> = params.get(&Self::lora_name(layer, proj, "lora_a"))?;
                        let b: Tensor<2> = params.get(&Self::lora_name(layer, proj, "lora_b"))?;
                        let delta = LoraDelta::new(a, b, scale);
                        lora = if proj == "query" {
                            lora.with_query(delta)
                        } else {
                            lora.with_value(delta)
                        };
                    }
                }
                Ok(lora)
            })
            .collect()
    }

    /// Sentence embeddings after the adapted tail: layers `[first, n)` with LoRA, mean pooling
    /// over real tokens, L2 norm. Differentiable in `params`.
    ///
    /// # Shapes
    /// - `features`: `[batch, seq, d_model]` (+ mask)
    /// - output: `[batch, d_model]`
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `params` or `model` do not fit the family.
    pub fn embed(
        &self,
        model: &BertModel,
        params: &GeneratedParams,
        features: &PrefixFeatures,
    ) -> Result<Tensor<2>> {
        self.check(model, params)?;
        let deltas = self.deltas(params)?;
        Ok(Self::tail(
            model,
            self.config.first_layer(),
            &deltas,
            features,
        ))
    }

    fn tail(
        model: &BertModel,
        first: usize,
        deltas: &[AttentionLora],
        features: &PrefixFeatures,
    ) -> Tensor<2> {
        let mut x = features.hidden.clone();
        for (i, layer) in model.layers[first..].iter().enumerate() {
            x = layer.forward(x, Some(features.mask_pad.clone()), deltas.get(i));
        }
        let keep = features.mask_pad.clone().bool_not().float(); // [batch, seq]
        l2_normalize(mean_pool(x, keep))
    }

    /// Sentence embeddings of the frozen backbone (no LoRA) from prefix features computed up to
    /// `first`: the encoder's ordinary embedding.
    ///
    /// # Shapes
    /// output: `[batch, d_model]`
    pub fn base_embed(model: &BertModel, first: usize, features: &PrefixFeatures) -> Tensor<2> {
        Self::tail(model, first.min(model.layers().len()), &[], features)
    }

    /// [`TextLoraFamily::base_embed`] for many texts, `chunk` rows at a time, read back to the host:
    /// `[n · d_model]`, row-major.
    ///
    /// # Errors
    /// [`Error::Execution`] if a result cannot be read back.
    pub fn base_embed_host(
        model: &BertModel,
        first: usize,
        features: &PrefixFeatures,
        chunk: usize,
    ) -> Result<Vec<f32>> {
        let n = features.len();
        let chunk = chunk.max(1);
        let mut out = Vec::with_capacity(n * model.d_model());
        let mut start = 0;
        while start < n {
            let end = (start + chunk).min(n);
            let e = Self::base_embed(model, first, &features.slice(start..end));
            out.extend(e.try_into_data()?.iter::<f32>());
            start = end;
        }
        Ok(out)
    }

    /// Logits: [`TextLoraFamily::embed`] then `e·W + b` with the generated head.
    ///
    /// # Shapes
    /// output: `[batch, n_classes]`
    ///
    /// # Errors
    /// As [`TextLoraFamily::embed`].
    pub fn forward(
        &self,
        model: &BertModel,
        params: &GeneratedParams,
        features: &PrefixFeatures,
    ) -> Result<Tensor<2>> {
        let e = self.embed(model, params, features)?; // [batch, d_model]
        let w: Tensor<2> = params.get("classifier.weight")?;
        let b: Tensor<1> = params.get("classifier.bias")?;
        Ok(linear(e, w, Some(b)))
    }

    /// Logits for many texts, `chunk` rows at a time (evaluation; detach `params` first).
    ///
    /// # Errors
    /// As [`TextLoraFamily::embed`].
    pub fn forward_chunked(
        &self,
        model: &BertModel,
        params: &GeneratedParams,
        features: &PrefixFeatures,
        chunk: usize,
    ) -> Result<Tensor<2>> {
        let n = features.len();
        let chunk = chunk.max(1);
        let mut out = Vec::new();
        let mut start = 0;
        while start < n {
            let end = (start + chunk).min(n);
            out.push(self.forward(model, params, &features.slice(start..end))?);
            start = end;
        }
        if out.is_empty() {
            return Ok(Tensor::zeros(
                [0, self.n_classes],
                &features.hidden.device(),
            ));
        }
        Ok(Tensor::cat(out, 0))
    }

    /// Merges the LoRA deltas into the backbone: `W' = W + (alpha/r)·A·B` for the query and value
    /// weights of every adapted layer (burn layout `[d_in, d_out]`). The head is not part of the
    /// backbone; use the generated `classifier.*` tensors beside it.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `params` or `model` do not fit the family.
    pub fn merge(&self, mut model: BertModel, params: &GeneratedParams) -> Result<BertModel> {
        self.check(&model, params)?;
        let device = model.embeddings.word_embeddings.weight.device();
        let scale = self.config.scale();
        for &layer in &self.config.layers {
            for proj in LORA_TARGETS {
                let a: Tensor<2> = params.get(&Self::lora_name(layer, proj, "lora_a"))?;
                let b: Tensor<2> = params.get(&Self::lora_name(layer, proj, "lora_b"))?;
                let delta = a
                    .detach()
                    .matmul(b.detach())
                    .mul_scalar(scale)
                    .to_device(&device); // [d_in, d_out]
                let attention = &mut model.layers[layer].attention;
                let linear = if proj == "query" {
                    &mut attention.query
                } else {
                    &mut attention.value
                };
                let w = linear.weight.val() + delta;
                linear.weight = Param::from_tensor(w);
            }
        }
        Ok(model.no_grad())
    }
}

/// What [`TextLoraFamily`]'s [`TargetFamily::forward_with`] reads: the frozen backbone (a cheap
/// handle: burn tensors are shared, not copied) and the cached prefix features of a batch.
#[derive(Debug, Clone)]
pub struct TextLoraBatch {
    /// The frozen encoder the adapters plug into.
    pub backbone: BertModel,
    /// Hidden states of the frozen layers before the first adapted one ([`encode_prefix`]).
    pub features: PrefixFeatures,
}

impl TargetFamily for TextLoraFamily {
    type Input = TextLoraBatch;
    /// Logits `[batch, n_classes]`, or an error when the tensors or the backbone do not match.
    type Output = Result<Tensor<2>>;
    type Model = TextLoraModule;
    type Error = Error;

    fn spec(&self) -> &ParamSpec {
        TextLoraFamily::spec(self)
    }

    /// As [`TextLoraFamily::forward`] (differentiable in `params`).
    fn forward_with(&self, params: &GeneratedParams, input: TextLoraBatch) -> Result<Tensor<2>> {
        self.forward(&input.backbone, params, &input.features)
    }

    /// As [`TextLoraModule::from_params`]: a trainable module holding the adapters and head.
    fn materialize(&self, params: GeneratedParams, device: &Device) -> Result<TextLoraModule> {
        TextLoraModule::from_params(self, &params, device)
    }
}

/// Trainable LoRA factors + head in the [`TextLoraFamily`] layout: the per-task LoRA-finetuning
/// baseline (and the shared LoRA of the multi-task baseline).
///
/// Initialisation follows LoRA: `A` uniform in `±1/√d_in`, `B = 0` (the model starts as the
/// frozen encoder); the head is `N(0, 0.01²)` stored divided by [`HEAD_SCALE`] so that one Adam
/// learning rate suits both the factors and the head on unit-norm embeddings.
#[derive(Module, Debug)]
pub struct TextLoraModule {
    tensors: Vec<Param<Tensor<1>>>,
    #[module(skip)]
    spec: ParamSpec,
}

/// Multiplier applied to the stored head weights of a [`TextLoraModule`] (an effective 10x
/// learning rate for the head; embeddings are unit vectors, so useful logits need large weights).
pub const HEAD_SCALE: f64 = 10.0;

impl TextLoraModule {
    /// A fresh module for `family` on `device`.
    pub fn init(family: &TextLoraFamily, device: &Device) -> Self {
        let tensors = family
            .spec()
            .entries()
            .iter()
            .map(|e| {
                let n = e.numel();
                let t: Tensor<1> = if e.name.ends_with("lora_a") {
                    let bound = 1.0 / (e.shape[0] as f64).sqrt();
                    Tensor::random([n], Distribution::Uniform(-bound, bound), device)
                } else if e.name == "classifier.weight" {
                    Tensor::random([n], Distribution::Normal(0.0, 0.01 / HEAD_SCALE), device)
                } else {
                    Tensor::zeros([n], device)
                };
                Param::from_tensor(t)
            })
            .collect();
        Self {
            tensors,
            spec: family.spec().clone(),
        }
    }

    /// A module starting from given tensors (e.g. generated ones: ModelGPT-F finetunes from the
    /// generator's output) on `device`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `params` has another layout than `family`.
    pub fn from_params(
        family: &TextLoraFamily,
        params: &GeneratedParams,
        device: &Device,
    ) -> Result<Self> {
        if params.spec() != family.spec() {
            return Err(Error::InvalidConfig {
                field: "params",
                reason: "the tensors do not follow this family's layout".into(),
            });
        }
        let tensors = family
            .spec()
            .entries()
            .iter()
            .zip(params.flat())
            .map(|(e, t)| {
                let t = t.clone().detach().to_device(device);
                let t = if e.name == "classifier.weight" {
                    t.div_scalar(HEAD_SCALE)
                } else {
                    t
                };
                Param::from_tensor(t)
            })
            .collect();
        Ok(Self {
            tensors,
            spec: family.spec().clone(),
        })
    }

    /// The current tensors as [`GeneratedParams`] (with the autodiff graph, if any).
    ///
    /// # Errors
    /// Never in practice (the tensors were built from the spec); [`Error::Core`] otherwise.
    pub fn params(&self) -> Result<GeneratedParams> {
        let tensors = self
            .spec
            .entries()
            .iter()
            .zip(&self.tensors)
            .map(|(e, p)| {
                let t = p.val();
                if e.name.starts_with("classifier.weight") {
                    t.mul_scalar(HEAD_SCALE)
                } else {
                    t
                }
            })
            .collect();
        Ok(GeneratedParams::from_flat(self.spec.clone(), tensors)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bert::BertConfig;
    use crate::test_device;

    fn tiny_model(device: &Device) -> BertModel {
        BertConfig::new()
            .with_vocab_size(30)
            .with_hidden_size(16)
            .with_num_hidden_layers(3)
            .with_num_attention_heads(4)
            .with_intermediate_size(24)
            .with_max_position_embeddings(12)
            .init(device)
    }

    fn prefix(model: &BertModel, upto: usize, device: &Device) -> PrefixFeatures {
        let ids = Tensor::<2, Int>::from_ints([[1, 5, 7, 2], [1, 9, 2, 0]], device);
        let keep = Tensor::<2, Int>::from_ints([[1, 1, 1, 1], [1, 1, 1, 0]], device);
        let input = BertInput::new(ids).attention_mask(keep);
        let mut x = model.embeddings.forward(&input);
        let mask = input.padding_mask().cloned();
        for layer in &model.layers[..upto] {
            x = layer.forward(x, mask.clone(), None);
        }
        PrefixFeatures {
            hidden: x,
            mask_pad: mask.unwrap_or_else(|| Tensor::<2, Int>::zeros([2, 4], device).bool()),
        }
    }

    #[test]
    fn spec_names_and_shapes() {
        let family = TextLoraFamily::new(TextLoraConfig::default(), 384, 6, 3).unwrap();
        let names: Vec<&str> = family
            .spec()
            .entries()
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(names[0], "encoder.layer.4.attention.self.query.lora_a");
        assert_eq!(names[3], "encoder.layer.4.attention.self.value.lora_b");
        assert_eq!(names[8], "classifier.weight");
        assert_eq!(
            family.spec().get("classifier.weight").unwrap().shape,
            vec![384, 3]
        );
        assert_eq!(family.spec().len(), 10);
    }

    #[test]
    fn bad_configs_are_errors() {
        assert!(TextLoraFamily::new(TextLoraConfig::default().with_rank(0), 8, 6, 2).is_err());
        assert!(TextLoraFamily::new(TextLoraConfig::default().with_layers([6]), 8, 6, 2).is_err());
        assert!(
            TextLoraFamily::new(TextLoraConfig::default().with_layers([5, 4]), 8, 6, 2).is_err()
        );
        assert!(TextLoraFamily::new(TextLoraConfig::default(), 8, 6, 1).is_err());
        assert!(
            TextLoraFamily::new(TextLoraConfig::default().with_alpha(f64::NAN), 8, 6, 2).is_err()
        );
    }

    #[test]
    fn tail_with_lora_matches_full_forward_and_merge() {
        let device = test_device();
        let model = tiny_model(&device);
        let config = TextLoraConfig::default()
            .with_rank(2)
            .with_alpha(4.0)
            .with_layers([1, 2]);
        let family = TextLoraFamily::for_model(&model, config, 3).unwrap();
        let tensors: Vec<Tensor<1>> = family
            .spec()
            .entries()
            .iter()
            .map(|e| Tensor::random([e.numel()], Distribution::Normal(0.0, 0.3), &device))
            .collect();
        let params = GeneratedParams::from_flat(family.spec().clone(), tensors).unwrap();

        // Tail from the cached prefix == full forward with the same deltas.
        let feats = prefix(&model, 1, &device);
        let tail = family.embed(&model, &params, &feats).unwrap();
        let full_feats = prefix(&model, 0, &device);
        let mut lora = vec![AttentionLora::new()];
        lora.extend(family.deltas(&params).unwrap());
        let full = TextLoraFamily::tail(&model, 0, &lora, &full_feats);
        tail.clone()
            .into_data()
            .assert_approx_eq::<f32>(&full.into_data(), burn::tensor::Tolerance::absolute(1e-4));

        // Merged weights give the same embedding without LoRA.
        let merged = family.merge(model.clone(), &params).unwrap();
        let merged_out = TextLoraFamily::base_embed(&merged, 1, &feats);
        tail.into_data().assert_approx_eq::<f32>(
            &merged_out.into_data(),
            burn::tensor::Tolerance::absolute(1e-4),
        );
    }

    #[test]
    fn fresh_module_is_the_frozen_encoder() {
        let device = test_device();
        let model = tiny_model(&device);
        let family =
            TextLoraFamily::for_model(&model, TextLoraConfig::default().with_layers([2]), 2)
                .unwrap();
        let module = TextLoraModule::init(&family, &device);
        let feats = prefix(&model, 2, &device);
        let e = family
            .embed(&model, &module.params().unwrap(), &feats)
            .unwrap();
        let base = TextLoraFamily::base_embed(&model, 2, &feats);
        e.into_data()
            .assert_approx_eq::<f32>(&base.into_data(), burn::tensor::Tolerance::absolute(1e-6));
    }
}
