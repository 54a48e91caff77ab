//! [`BertRequirementEncoder`]: sentence embeddings from a BERT (mean pooling + L2 norm).

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use modelgpt_core::RequirementEncoder;
use tokenizers::{Tokenizer, TruncationParams};

use super::config::BertConfig;
use super::loader::load_bert;
use super::model::{BertInput, BertModel};
use crate::error::{Error, Result};

/// Longest token sequence the encoder feeds the model (sentence-transformers' `max_seq_length`
/// for all-MiniLM-L6-v2); longer texts are truncated.
pub const DEFAULT_MAX_LENGTH: usize = 256;

/// Sentences per forward pass in [`BertRequirementEncoder::embed`]. On the CPU, passes of 16
/// length-sorted sentences keep the activations in cache: measured on 2 cores, 32 sentences
/// embed at ~285 sentences/s in two passes of 16 and ~180 in one pass of 32
/// (`examples/encoder_speed --encoder-batch N`).
pub const DEFAULT_BATCH_SIZE: usize = 16;

/// A requirement encoder built from a Hugging Face BERT sentence-transformer
/// (paper §2.3.1: the frozen text encoder that turns a requirement into `r`).
///
/// Pipeline (that of sentence-transformers' all-MiniLM-L6-v2): tokenize without padding,
/// truncate at [`DEFAULT_MAX_LENGTH`] tokens, pad each batch to its longest sentence with an
/// attention mask, run BERT, mean-pool the last hidden state over the real tokens, L2-normalise.
///
/// ```no_run
/// use burn::tensor::Device;
/// use modelgpt_targets::BertRequirementEncoder;
///
/// let device = Device::default();
/// let encoder = BertRequirementEncoder::from_dir("assets/minilm", &device)?;
/// let r = encoder.embed(&["This is a 3-class tabular classification task."])?;
/// assert_eq!(r.dims(), [1, 384]);
/// # Ok::<(), modelgpt_targets::Error>(())
/// ```
pub struct BertRequirementEncoder {
    tokenizer: Tokenizer,
    tokenizer_path: PathBuf,
    model: BertModel,
    config: BertConfig,
    device: Device,
    batch_size: usize,
}

impl core::fmt::Debug for BertRequirementEncoder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The tokenizer's own Debug prints its whole vocabulary.
        f.debug_struct("BertRequirementEncoder")
            .field("tokenizer", &self.tokenizer_path)
            .field("config", &self.config)
            .field("device", &self.device)
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

impl BertRequirementEncoder {
    /// Loads `tokenizer.json`, `model.safetensors` and `config.json` from `dir`.
    ///
    /// # Errors
    /// As [`BertRequirementEncoder::from_files`].
    pub fn from_dir(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        Self::from_files(
            dir.join("tokenizer.json"),
            dir.join("model.safetensors"),
            dir.join("config.json"),
            device,
        )
    }

    /// Loads a Hugging Face tokenizer, SafeTensors weights and BERT config.
    ///
    /// # Errors
    /// [`Error::MissingFile`] naming a missing file; [`Error::Tokenizer`] for an unreadable
    /// tokenizer; [`Error::Config`] / [`Error::InvalidConfig`] for the config;
    /// [`Error::Safetensors`] for a truncated or corrupted weights file;
    /// [`Error::MissingTensor`] / [`Error::ShapeMismatch`] naming the tensor when weights and
    /// config disagree.
    pub fn from_files(
        tokenizer_json: impl AsRef<Path>,
        weights: impl AsRef<Path>,
        config_json: impl AsRef<Path>,
        device: &Device,
    ) -> Result<Self> {
        let tokenizer_path = tokenizer_json.as_ref();
        if !tokenizer_path.is_file() {
            return Err(Error::MissingFile {
                path: tokenizer_path.to_path_buf(),
                what: "tokenizer",
            });
        }
        // tokenizers 0.23 panics on some malformed files (e.g. a decoder object with a
        // non-string key); the panic becomes the same typed error as a parse failure.
        let tokenizer = no_panic(|| Tokenizer::from_file(tokenizer_path)).map_err(|source| {
            Error::Tokenizer {
                path: tokenizer_path.to_path_buf(),
                source,
            }
        })?;
        let config = BertConfig::load_hf(config_json)?;
        let model = load_bert(weights, &config, device)?;
        Self::from_parts(tokenizer, tokenizer_path, model, config, device)
    }

    /// Assembles an encoder from a tokenizer and a model already in memory. Padding of the
    /// tokenizer is switched off and truncation set to [`DEFAULT_MAX_LENGTH`] (or the model's
    /// number of positions if smaller).
    ///
    /// `tokenizer_path` only labels errors (use e.g. `"<memory>"`).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `config` is invalid or does not match `model`;
    /// [`Error::Tokenizer`] if truncation cannot be set.
    pub fn from_parts(
        mut tokenizer: Tokenizer,
        tokenizer_path: impl AsRef<Path>,
        model: BertModel,
        config: BertConfig,
        device: &Device,
    ) -> Result<Self> {
        config.validate()?;
        if model.d_model() != config.hidden_size || model.layers().len() != config.num_hidden_layers
        {
            return Err(Error::InvalidConfig {
                field: "hidden_size",
                reason: format!(
                    "config says {} layers of width {}, the model has {} of width {}",
                    config.num_hidden_layers,
                    config.hidden_size,
                    model.layers().len(),
                    model.d_model()
                ),
            });
        }
        let tokenizer_path = tokenizer_path.as_ref().to_path_buf();
        // The MiniLM tokenizer.json pads every text to 128 tokens: with padding on, short
        // sentences are dominated by [PAD] positions and all look alike.
        tokenizer.with_padding(None);
        let max_length = DEFAULT_MAX_LENGTH.min(config.max_position_embeddings);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length,
                ..Default::default()
            }))
            .map_err(|source| Error::Tokenizer {
                path: tokenizer_path.clone(),
                source,
            })?;
        Ok(Self {
            tokenizer,
            tokenizer_path,
            // Paper §2.3.1: the text encoder is frozen; no gradients flow into it.
            model: model.no_grad(),
            config,
            device: device.clone(),
            batch_size: DEFAULT_BATCH_SIZE,
        })
    }

    /// Sets how many sentences go through the model at once (default [`DEFAULT_BATCH_SIZE`]).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for 0.
    pub fn with_batch_size(mut self, batch_size: usize) -> Result<Self> {
        if batch_size == 0 {
            return Err(Error::InvalidConfig {
                field: "batch_size",
                reason: "must be positive".into(),
            });
        }
        self.batch_size = batch_size;
        Ok(self)
    }

    /// The BERT backbone.
    pub fn model(&self) -> &BertModel {
        &self.model
    }

    /// The model's configuration.
    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// The tokenizer (padding off, truncation on).
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The device the model lives on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Token ids of each text, with `[CLS]`/`[SEP]`, truncated, unpadded.
    ///
    /// # Errors
    /// [`Error::Tokenizer`] if a text cannot be tokenized (a panic of the tokenizer on an
    /// inconsistent `tokenizer.json`, such as a template naming an undefined special token,
    /// included); [`Error::InvalidConfig`] when the tokenizer gives an id beyond the model's
    /// `vocab_size` or a sequence longer than its `max_position_embeddings` (a `tokenizer.json`
    /// that does not belong to `config.json`).
    pub fn encode_ids(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>> {
        let encodings =
            no_panic(|| self.tokenizer.encode_batch(texts.to_vec(), true)).map_err(|source| {
                Error::Tokenizer {
                    path: self.tokenizer_path.clone(),
                    source,
                }
            })?;
        let ids: Vec<Vec<u32>> = encodings
            .into_iter()
            .map(|e| e.get_ids().to_vec())
            .collect();
        // The model's embedding tables bound ids and lengths: beyond them its forward pass
        // would index out of range (a panic).
        let (vocab, positions) = (self.config.vocab_size, self.config.max_position_embeddings);
        for row in &ids {
            if let Some(&id) = row.iter().find(|&&id| id as usize >= vocab) {
                return Err(Error::InvalidConfig {
                    field: "vocab_size",
                    reason: format!(
                        "{} gives token id {id}, beyond the model's vocab_size {vocab}",
                        self.tokenizer_path.display()
                    ),
                });
            }
            if row.len() > positions {
                return Err(Error::InvalidConfig {
                    field: "max_position_embeddings",
                    reason: format!(
                        "{} gives {} tokens, more than the model's max_position_embeddings {positions}",
                        self.tokenizer_path.display(),
                        row.len()
                    ),
                });
            }
        }
        Ok(ids)
    }

    /// Tokenizes `texts` into one batch padded to its longest text, on the model's device.
    ///
    /// # Shapes
    /// output: `[texts.len(), longest]` token ids and padding mask
    ///
    /// # Errors
    /// As [`encode_ids`](Self::encode_ids).
    pub fn tokenize_batch(&self, texts: &[&str]) -> Result<BertInput> {
        Ok(self.input_from_ids(&self.encode_ids(texts)?))
    }

    fn input_from_ids(&self, ids: &[Vec<u32>]) -> BertInput {
        let batch = ids.len();
        let seq = ids.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let pad = self.config.pad_token_id as i64;
        let mut flat_ids = Vec::with_capacity(batch * seq);
        let mut flat_mask = Vec::with_capacity(batch * seq);
        for row in ids {
            flat_ids.extend(row.iter().map(|&id| i64::from(id)));
            flat_ids.extend(std::iter::repeat_n(pad, seq - row.len()));
            flat_mask.extend(std::iter::repeat_n(false, row.len()));
            flat_mask.extend(std::iter::repeat_n(true, seq - row.len()));
        }
        let token_ids =
            Tensor::<2, Int>::from_data(TensorData::new(flat_ids, [batch, seq]), &self.device);
        let mask_pad = Tensor::from_data(TensorData::new(flat_mask, [batch, seq]), &self.device);
        BertInput::new(token_ids).mask_pad(mask_pad)
    }

    /// Sentence embeddings on the model's device: mean pooling over real tokens, then L2 norm.
    ///
    /// Texts are grouped by length into batches of at most the batch size (less padding), and
    /// the rows come back in the order of `texts`.
    ///
    /// # Shapes
    /// output: `[texts.len(), embed_dim]`
    ///
    /// # Errors
    /// As [`encode_ids`](Self::encode_ids).
    pub fn embed(&self, texts: &[&str]) -> Result<Tensor<2>> {
        let d = self.config.hidden_size;
        if texts.is_empty() {
            return Ok(Tensor::zeros([0, d], &self.device));
        }
        let ids = self.encode_ids(texts)?;
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| ids[i].len());

        let chunks: Vec<Tensor<2>> = order
            .chunks(self.batch_size)
            .map(|chunk| {
                let rows: Vec<Vec<u32>> = chunk.iter().map(|&i| ids[i].clone()).collect();
                let input = self.input_from_ids(&rows);
                let keep = input.keep_mask(); // [batch, seq]
                let hidden = self.model.forward(input); // [batch, seq, d_model]
                l2_normalize(mean_pool(hidden, keep))
            })
            .collect();
        let sorted = Tensor::cat(chunks, 0); // [n, d_model], rows in `order`

        if order.windows(2).all(|w| w[0] < w[1]) {
            return Ok(sorted);
        }
        let mut position = vec![0i64; order.len()];
        for (pos, &original) in order.iter().enumerate() {
            position[original] = pos as i64;
        }
        let index =
            Tensor::<1, Int>::from_data(TensorData::new(position, [order.len()]), &self.device);
        Ok(sorted.select(0, index))
    }

    /// Sentence embeddings as host vectors (one `Vec<f32>` per text).
    ///
    /// # Errors
    /// As [`BertRequirementEncoder::embed`], plus [`Error::Execution`].
    pub fn embed_vecs(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let d = self.config.hidden_size;
        let data = self.embed(texts)?.try_into_data()?;
        let flat: Vec<f32> = data.iter::<f32>().collect();
        Ok(flat.chunks(d.max(1)).map(<[f32]>::to_vec).collect())
    }
}

impl RequirementEncoder for BertRequirementEncoder {
    fn embed_dim(&self) -> usize {
        self.config.hidden_size
    }

    /// Runs on the encoder's own device and moves the result to `device`.
    fn encode(&self, texts: &[&str], device: &Device) -> modelgpt_core::Result<Tensor<2>> {
        let out = self
            .embed(texts)
            .map_err(|e| modelgpt_core::Error::external("MiniLM requirement encoder", e))?;
        Ok(if device == &self.device {
            out
        } else {
            out.to_device(device)
        })
    }
}

/// Runs a tokenizers call, turning a panic inside the tokenizers crate into its error type. The
/// tokenizer is only read (`&self`) by the calls wrapped here, so no state is left half-changed.
fn no_panic<T>(f: impl FnOnce() -> tokenizers::Result<T>) -> tokenizers::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("unknown panic");
        Err(format!("the tokenizers library panicked: {what}").into())
    })
}

/// Mean of `hidden` over the positions where `keep` is 1.
///
/// # Shapes
/// - `hidden`: `[batch, seq, d_model]`
/// - `keep`: `[batch, seq]` (1.0 = token, 0.0 = padding)
/// - output: `[batch, d_model]`
pub fn mean_pool(hidden: Tensor<3>, keep: Tensor<2>) -> Tensor<2> {
    let keep = keep.unsqueeze_dim::<3>(2); // [batch, seq, 1]
    let sum = (hidden * keep.clone()).sum_dim(1).squeeze_dim::<2>(1); // [batch, d_model]
    let count = keep.sum_dim(1).squeeze_dim::<2>(1).clamp_min(1e-9); // [batch, 1]
    sum / count
}

/// Divides each row by its Euclidean norm (rows of norm 0 stay 0), as `F.normalize(p=2, dim=1)`.
///
/// # Shapes
/// - `x`, output: `[batch, d]`
pub fn l2_normalize(x: Tensor<2>) -> Tensor<2> {
    let norm = x.clone().square().sum_dim(1).sqrt().clamp_min(1e-12); // [batch, 1]
    x / norm
}
