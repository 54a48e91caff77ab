//! Export of [`TextLoraFamily`] tensors in Hugging Face PEFT's LoRA format, plus a merged
//! full-weights checkpoint.
//!
//! # Files written by [`save_peft_adapter`]
//! - `adapter_config.json`: `peft_type: "LORA"`, `r`, `lora_alpha`, `target_modules:
//!   ["query", "value"]`, `layers_to_transform`, `base_model_name_or_path`, `task_type:
//!   "FEATURE_EXTRACTION"` (see below);
//! - `adapter_model.safetensors`: the LoRA factors under PEFT's key names, PyTorch layout:
//!
//! | generated tensor (burn layout)                         | PEFT key (PyTorch layout)                                                  |
//! |--------------------------------------------------------|----------------------------------------------------------------------------|
//! | `encoder.layer.{i}.attention.self.{p}.lora_a` `[in, r]` | `base_model.model.encoder.layer.{i}.attention.self.{p}.lora_A.weight` `[r, in]` |
//! | `encoder.layer.{i}.attention.self.{p}.lora_b` `[r, out]`| `base_model.model.encoder.layer.{i}.attention.self.{p}.lora_B.weight` `[out, r]` |
//! | `classifier.weight` `[d, K]`                            | `classifier.weight` `[K, d]` in `classifier.safetensors`                    |
//! | `classifier.bias` `[K]`                                 | `classifier.bias` `[K]` in `classifier.safetensors`                         |
//!
//! - `classifier.safetensors` + `labels.json`: the head, an `nn.Linear(d, K)` applied to the
//!   sentence embedding (mean pooling over the attention mask, then L2 norm).
//!
//! **Why `FEATURE_EXTRACTION` and not `SEQ_CLS`:** PEFT's `SEQ_CLS` wraps a
//! `BertForSequenceClassification`, whose classifier reads the `[CLS]` pooler output (a tanh
//! dense layer MiniLM never trained). Our head reads the mean-pooled, normalised embedding, which
//! `BertForSequenceClassification` cannot express; so the adapter targets the plain `BertModel`
//! (`PeftModel.from_pretrained(BertModel.from_pretrained(minilm_dir), adapter_dir)`) and the head
//! ships beside it as its own `nn.Linear` state dict.
//!
//! [`save_merged`] writes `model.safetensors` with `W' = W + (alpha/r)·B_pt·A_pt` folded into the
//! query/value weights (Hugging Face names, PyTorch layout, every other tensor copied), loadable
//! with `BertModel.from_pretrained` or [`load_bert`](crate::load_bert) without PEFT.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use modelgpt_core::GeneratedParams;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::text::{LORA_TARGETS, MINILM_HF_ID, TextLoraFamily};

/// PEFT's `adapter_config.json` for a LoRA adapter (the fields PEFT reads; the rest default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeftAdapterConfig {
    /// Always `"LORA"`.
    pub peft_type: String,
    /// `"FEATURE_EXTRACTION"` (see the [module docs](self)).
    pub task_type: String,
    /// Hugging Face id of the base model.
    pub base_model_name_or_path: String,
    /// LoRA rank.
    pub r: usize,
    /// LoRA alpha (PEFT scales by `lora_alpha / r`).
    pub lora_alpha: f64,
    /// Dropout on the LoRA input (0: none used in training).
    pub lora_dropout: f64,
    /// Module names that carry LoRA: `["query", "value"]`.
    pub target_modules: Vec<String>,
    /// Encoder layers that carry LoRA.
    pub layers_to_transform: Vec<usize>,
    /// `"none"`: biases are not trained.
    pub bias: String,
    /// `false`: weights are `[out, in]` (PyTorch `nn.Linear`).
    pub fan_in_fan_out: bool,
    /// `true`: the adapter is for inference.
    pub inference_mode: bool,
    /// `false`: plain `alpha / r` scaling.
    pub use_rslora: bool,
    /// PEFT version this layout follows.
    pub peft_version: String,
}

impl PeftAdapterConfig {
    /// The config of `family`'s adapter.
    pub fn for_family(family: &TextLoraFamily) -> Self {
        let c = family.config();
        Self {
            peft_type: "LORA".into(),
            task_type: "FEATURE_EXTRACTION".into(),
            base_model_name_or_path: MINILM_HF_ID.into(),
            r: c.rank,
            lora_alpha: c.alpha,
            lora_dropout: 0.0,
            target_modules: LORA_TARGETS.iter().map(|s| s.to_string()).collect(),
            layers_to_transform: c.layers.clone(),
            bias: "none".into(),
            fan_in_fan_out: false,
            inference_mode: true,
            use_rslora: false,
            peft_version: "0.13.0".into(),
        }
    }
}

/// One tensor ready to be written: name, PyTorch shape, row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportTensor {
    /// Key in the file.
    pub name: String,
    /// Shape in PyTorch layout.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub values: Vec<f32>,
}

/// The PEFT key of a LoRA factor (`factor` = `"lora_A"` / `"lora_B"`).
pub fn peft_key(layer: usize, proj: &str, factor: &str) -> String {
    format!("base_model.model.encoder.layer.{layer}.attention.self.{proj}.{factor}.weight")
}

/// Transposes a row-major `[rows, cols]` matrix (burn `[in, out]` ↔ PyTorch `[out, in]`).
pub fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for i in 0..rows {
        for j in 0..cols {
            out[j * rows + i] = values[i * cols + j];
        }
    }
    out
}

fn host_matrix(params: &GeneratedParams, name: &str) -> Result<(Vec<usize>, Vec<f32>)> {
    let t: burn::tensor::Tensor<1> = params
        .iter()
        .find(|(e, _)| e.name == name)
        .map(|(_, t)| t.clone())
        .ok_or_else(|| modelgpt_core::Error::UnknownParam { name: name.into() })?;
    let shape = params
        .spec()
        .get(name)
        .map(|e| e.shape.clone())
        .unwrap_or_default();
    let values = t.detach().try_into_data()?.iter::<f32>().collect();
    Ok((shape, values))
}

/// The adapter's LoRA tensors under PEFT key names in PyTorch layout, then the head
/// (`classifier.weight` `[K, d]`, `classifier.bias` `[K]`).
///
/// # Errors
/// [`Error::ShapeMismatch`] when `params` is not `family`'s; [`Error::Execution`].
pub fn peft_tensors(
    family: &TextLoraFamily,
    params: &GeneratedParams,
) -> Result<(Vec<ExportTensor>, Vec<ExportTensor>)> {
    if params.spec() != family.spec() {
        return Err(Error::ShapeMismatch {
            what: "generated tensors for the PEFT export".into(),
            expected: vec![family.spec().len()],
            actual: vec![params.spec().len()],
        });
    }
    let mut lora = Vec::new();
    for &layer in &family.config().layers {
        for proj in LORA_TARGETS {
            for (ours, theirs) in [("lora_a", "lora_A"), ("lora_b", "lora_B")] {
                let (shape, values) =
                    host_matrix(params, &TextLoraFamily::lora_name(layer, proj, ours))?;
                lora.push(ExportTensor {
                    name: peft_key(layer, proj, theirs),
                    shape: vec![shape[1], shape[0]],
                    values: transpose(&values, shape[0], shape[1]),
                });
            }
        }
    }
    let (shape, w) = host_matrix(params, "classifier.weight")?;
    let (_, b) = host_matrix(params, "classifier.bias")?;
    let head = vec![
        ExportTensor {
            name: "classifier.weight".into(),
            shape: vec![shape[1], shape[0]],
            values: transpose(&w, shape[0], shape[1]),
        },
        ExportTensor {
            name: "classifier.bias".into(),
            shape: vec![shape[1]],
            values: b,
        },
    ];
    Ok((lora, head))
}

/// Writes `bytes` to `path` atomically ([`modelgpt_core::write_atomic`]).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    modelgpt_core::write_atomic(path, bytes).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn serialize(
    path: &Path,
    tensors: &[ExportTensor],
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>> {
    let bytes: Vec<Vec<u8>> = tensors.iter().map(|t| f32_bytes(&t.values)).collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|(t, b)| {
            Ok((
                t.name.clone(),
                TensorView::new(Dtype::F32, t.shape.clone(), b)?,
            ))
        })
        .collect::<core::result::Result<Vec<_>, safetensors::SafeTensorError>>()
        .map_err(|source| Error::Safetensors {
            path: path.to_path_buf(),
            source,
        })?;
    safetensors::serialize(views, Some(metadata)).map_err(|source| Error::Safetensors {
        path: path.to_path_buf(),
        source,
    })
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })?;
    write_atomic(path, &bytes)
}

/// Writes a PEFT LoRA adapter for `family`'s tensors into `dir`: `adapter_config.json`,
/// `adapter_model.safetensors`, `classifier.safetensors` and `labels.json` (see the
/// [module docs](self) for the key mapping). Every file is written atomically.
///
/// Returns the paths written.
///
/// # Errors
/// [`Error::InvalidData`] when `labels` does not have one name per class; as [`peft_tensors`];
/// [`Error::Io`] naming the file.
pub fn save_peft_adapter(
    dir: impl AsRef<Path>,
    family: &TextLoraFamily,
    params: &GeneratedParams,
    labels: &[String],
) -> Result<Vec<PathBuf>> {
    let dir = dir.as_ref();
    if labels.len() != family.n_classes() {
        return Err(Error::InvalidData {
            what: "labels",
            reason: format!("{} names for {} classes", labels.len(), family.n_classes()),
        });
    }
    let (lora, head) = peft_tensors(family, params)?;
    let meta = HashMap::from([("format".to_string(), "pt".to_string())]);

    let config_path = dir.join("adapter_config.json");
    write_json(&config_path, &PeftAdapterConfig::for_family(family))?;
    let adapter_path = dir.join("adapter_model.safetensors");
    let bytes = serialize(&adapter_path, &lora, meta.clone())?;
    write_atomic(&adapter_path, &bytes)?;
    let head_path = dir.join("classifier.safetensors");
    let mut head_meta = meta;
    head_meta.insert(
        "pooling".into(),
        "mean over attention mask, then L2 normalize".into(),
    );
    let bytes = serialize(&head_path, &head, head_meta)?;
    write_atomic(&head_path, &bytes)?;
    let labels_path = dir.join("labels.json");
    write_json(&labels_path, &labels)?;
    Ok(vec![config_path, adapter_path, head_path, labels_path])
}

/// Writes `dir/model.safetensors`: the base checkpoint `base_weights` (Hugging Face names, e.g.
/// MiniLM's `model.safetensors`) with the LoRA deltas merged into the query/value weights,
/// `W' = W + (alpha/r)·lora_B·lora_A` in PyTorch layout; every other tensor is copied unchanged.
/// Copies `config.json` from beside `base_weights` when present, so `dir` loads as a model.
///
/// # Errors
/// [`Error::Io`] / [`Error::Safetensors`] naming the file; [`Error::MissingTensor`] when the base
/// checkpoint lacks an adapted weight; [`Error::ShapeMismatch`] when its shape disagrees.
pub fn save_merged(
    dir: impl AsRef<Path>,
    family: &TextLoraFamily,
    params: &GeneratedParams,
    base_weights: impl AsRef<Path>,
) -> Result<PathBuf> {
    let dir = dir.as_ref();
    let base = base_weights.as_ref();
    let bytes = std::fs::read(base).map_err(|source| Error::Io {
        path: base.to_path_buf(),
        source,
    })?;
    let st = SafeTensors::deserialize(&bytes).map_err(|source| Error::Safetensors {
        path: base.to_path_buf(),
        source,
    })?;
    let (lora, _) = peft_tensors(family, params)?;
    let find = |name: &str| lora.iter().find(|t| t.name == name);
    let scale = family.config().scale() as f32;

    // Merged weights, by Hugging Face key (without the `bert.` prefix some checkpoints carry).
    let mut merged: HashMap<String, Vec<u8>> = HashMap::new();
    for &layer in &family.config().layers {
        for proj in LORA_TARGETS {
            let a = find(&peft_key(layer, proj, "lora_A"));
            let b = find(&peft_key(layer, proj, "lora_B"));
            let (Some(a), Some(b)) = (a, b) else { continue };
            let hf = format!("encoder.layer.{layer}.attention.self.{proj}.weight");
            let key = if st.names().contains(&hf.as_str()) {
                hf.clone()
            } else {
                format!("bert.{hf}")
            };
            let view = st.tensor(&key).map_err(|_| Error::MissingTensor {
                path: base.to_path_buf(),
                name: hf.clone(),
            })?;
            let (out, inp, r) = (b.shape[0], a.shape[1], a.shape[0]);
            if view.dtype() != Dtype::F32 || view.shape() != [out, inp] {
                return Err(Error::ShapeMismatch {
                    what: format!("{key} (f32 expected)"),
                    expected: vec![out, inp],
                    actual: view.shape().to_vec(),
                });
            }
            let mut w: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            for o in 0..out {
                for i in 0..inp {
                    let mut s = 0.0f32;
                    for k in 0..r {
                        s += b.values[o * r + k] * a.values[k * inp + i];
                    }
                    w[o * inp + i] += scale * s;
                }
            }
            merged.insert(key, f32_bytes(&w));
        }
    }
    let path = dir.join("model.safetensors");
    let mut names: Vec<&str> = st.names();
    names.sort_unstable();
    let mut views = Vec::with_capacity(names.len());
    for name in names {
        let view = st.tensor(name).map_err(|source| Error::Safetensors {
            path: base.to_path_buf(),
            source,
        })?;
        let data: &[u8] = merged.get(name).map(Vec::as_slice).unwrap_or(view.data());
        let v = TensorView::new(view.dtype(), view.shape().to_vec(), data).map_err(|source| {
            Error::Safetensors {
                path: path.clone(),
                source,
            }
        })?;
        views.push((name.to_string(), v));
    }
    let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
    let out = safetensors::serialize(views, Some(meta)).map_err(|source| Error::Safetensors {
        path: path.clone(),
        source,
    })?;
    write_atomic(&path, &out)?;
    if let Some(config) = base.parent().map(|p| p.join("config.json"))
        && config.is_file()
    {
        let text = std::fs::read(&config).map_err(|source| Error::Io {
            path: config.clone(),
            source,
        })?;
        write_atomic(&dir.join("config.json"), &text)?;
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_is_its_own_inverse() {
        let m = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // [2, 3]
        let t = transpose(&m, 2, 3);
        assert_eq!(t, [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert_eq!(transpose(&t, 3, 2), m);
    }

    #[test]
    fn peft_key_matches_peft_naming() {
        assert_eq!(
            peft_key(4, "query", "lora_A"),
            "base_model.model.encoder.layer.4.attention.self.query.lora_A.weight"
        );
    }
}
