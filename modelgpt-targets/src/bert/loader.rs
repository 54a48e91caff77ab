//! Loading Hugging Face BERT weights (`model.safetensors`) into [`BertModel`].
//!
//! The file's header is parsed and checked against the [`BertConfig`] first, so a truncated file,
//! a corrupted header or a config that disagrees with the weights gives a typed error naming the
//! file or the tensor, before burn's store touches any data.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use burn::store::{KeyRemapper, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};
use burn::tensor::Device;
use safetensors::SafeTensorError;
use safetensors::tensor::Metadata;

use super::config::BertConfig;
use super::model::BertModel;
use crate::error::{Error, Result};

/// Hugging Face BERT tensor names (regex) → our module paths, applied in order.
///
/// LayerNorm `weight`/`bias` become burn's `gamma`/`beta` and Linear weights are transposed from
/// PyTorch's `[out, in]` to burn's `[in, out]` by [`PyTorchToBurnAdapter`], not here.
pub const HF_KEY_TABLE: &[(&str, &str)] = &[
    // Checkpoints saved from `BertFor*` heads carry a `bert.` prefix; sentence-transformers' do not.
    (r"^bert\.", ""),
    (r"^embeddings\.LayerNorm\.", "embeddings.layer_norm."),
    (
        r"^encoder\.layer\.(\d+)\.attention\.self\.(query|key|value)\.",
        "layers.${1}.attention.${2}.",
    ),
    (
        r"^encoder\.layer\.(\d+)\.attention\.output\.dense\.",
        "layers.${1}.attention.output.",
    ),
    (
        r"^encoder\.layer\.(\d+)\.attention\.output\.LayerNorm\.",
        "layers.${1}.attention.layer_norm.",
    ),
    (
        r"^encoder\.layer\.(\d+)\.intermediate\.dense\.",
        "layers.${1}.intermediate.",
    ),
    (
        r"^encoder\.layer\.(\d+)\.output\.dense\.",
        "layers.${1}.output.",
    ),
    (
        r"^encoder\.layer\.(\d+)\.output\.LayerNorm\.",
        "layers.${1}.output_norm.",
    ),
];

/// Tensors a BERT checkpoint may hold that our encoder does not use (names after remapping):
/// - `pooler.*`: the `[CLS]` pooler; sentence embeddings use mean pooling instead;
/// - `embeddings.position_ids`: a constant buffer (`0..max_position`), recomputed in `forward`;
/// - `cls.*`: masked-LM / NSP heads of pre-training checkpoints.
const KNOWN_UNUSED: &[&str] = &["pooler.", "embeddings.position_ids", "cls."];

/// Every tensor a BERT with this config needs, by Hugging Face name (without `bert.` prefix),
/// with its PyTorch shape (`Linear` weights `[out, in]`).
pub fn hf_tensor_shapes(config: &BertConfig) -> Vec<(String, Vec<usize>)> {
    let d = config.hidden_size;
    let d_ff = config.intermediate_size;
    let mut shapes = vec![
        (
            "embeddings.word_embeddings.weight".to_string(),
            vec![config.vocab_size, d],
        ),
        (
            "embeddings.position_embeddings.weight".to_string(),
            vec![config.max_position_embeddings, d],
        ),
        (
            "embeddings.token_type_embeddings.weight".to_string(),
            vec![config.type_vocab_size, d],
        ),
        ("embeddings.LayerNorm.weight".to_string(), vec![d]),
        ("embeddings.LayerNorm.bias".to_string(), vec![d]),
    ];
    for i in 0..config.num_hidden_layers {
        let p = format!("encoder.layer.{i}");
        for proj in [
            "attention.self.query",
            "attention.self.key",
            "attention.self.value",
            "attention.output.dense",
        ] {
            shapes.push((format!("{p}.{proj}.weight"), vec![d, d]));
            shapes.push((format!("{p}.{proj}.bias"), vec![d]));
        }
        shapes.push((format!("{p}.intermediate.dense.weight"), vec![d_ff, d]));
        shapes.push((format!("{p}.intermediate.dense.bias"), vec![d_ff]));
        shapes.push((format!("{p}.output.dense.weight"), vec![d, d_ff]));
        shapes.push((format!("{p}.output.dense.bias"), vec![d]));
        for norm in ["attention.output.LayerNorm", "output.LayerNorm"] {
            shapes.push((format!("{p}.{norm}.weight"), vec![d]));
            shapes.push((format!("{p}.{norm}.bias"), vec![d]));
        }
    }
    shapes
}

/// The [`KeyRemapper`] built from [`HF_KEY_TABLE`].
pub fn hf_key_remapper() -> KeyRemapper {
    // The table is a constant checked by the unit tests below: a failure here is a bug.
    KeyRemapper::from_patterns(HF_KEY_TABLE.to_vec()).expect("HF_KEY_TABLE holds valid regexes")
}

/// Reads and validates the header of a SafeTensors file without reading its data.
///
/// # Errors
/// [`Error::MissingFile`] / [`Error::Io`] if the file cannot be read, [`Error::Safetensors`] if
/// the header is corrupted or the file is shorter (or longer) than the header says.
pub fn read_safetensors_header(path: &Path) -> Result<Metadata> {
    let invalid = |source| Error::Safetensors {
        path: path.to_path_buf(),
        source,
    };
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    if !path.is_file() {
        return Err(Error::MissingFile {
            path: path.to_path_buf(),
            what: "weights",
        });
    }
    let mut file = File::open(path).map_err(io)?;
    let file_len = file.metadata().map_err(io)?.len();

    let mut len_bytes = [0u8; 8];
    file.read_exact(&mut len_bytes)
        .map_err(|_| invalid(SafeTensorError::HeaderTooSmall))?;
    let header_len = u64::from_le_bytes(len_bytes);
    // Same limit as the safetensors crate (100 MB); also keeps a corrupted length from
    // triggering a huge allocation.
    if header_len > 100_000_000 {
        return Err(invalid(SafeTensorError::HeaderTooLarge));
    }
    if 8 + header_len > file_len {
        return Err(invalid(SafeTensorError::InvalidHeaderLength));
    }
    let mut header = vec![0u8; header_len as usize];
    file.seek(SeekFrom::Start(8)).map_err(io)?;
    file.read_exact(&mut header).map_err(io)?;
    let text =
        std::str::from_utf8(&header).map_err(|e| invalid(SafeTensorError::InvalidHeader(e)))?;
    let metadata: Metadata = serde_json::from_str(text)
        .map_err(|e| invalid(SafeTensorError::InvalidHeaderDeserialization(e)))?;
    if 8 + header_len + metadata.data_len() as u64 != file_len {
        return Err(invalid(SafeTensorError::MetadataIncompleteBuffer));
    }
    Ok(metadata)
}

/// Checks that a weights file holds every tensor `config` implies, with the right shapes.
///
/// # Errors
/// As [`read_safetensors_header`], plus [`Error::MissingTensor`] and [`Error::ShapeMismatch`]
/// (naming the tensor as the file names it).
pub fn check_bert_weights(path: &Path, config: &BertConfig) -> Result<()> {
    let metadata = read_safetensors_header(path)?;
    let tensors = metadata.tensors();
    let prefixed = tensors.keys().any(|k| k.starts_with("bert."));
    // A layer has 16 tensors, so the file holds fewer than `len / 16 + 1` of them: checking at
    // most that many still finds the first missing tensor, without first listing the names of
    // a corrupted `num_hidden_layers` (10^9 layers would exhaust memory).
    let most_layers = tensors.len() / 16 + 1;
    let expected_shapes = if config.num_hidden_layers > most_layers {
        hf_tensor_shapes(&BertConfig {
            num_hidden_layers: most_layers,
            ..config.clone()
        })
    } else {
        hf_tensor_shapes(config)
    };
    for (name, expected) in expected_shapes {
        let file_name = if prefixed {
            format!("bert.{name}")
        } else {
            name
        };
        let Some(info) = tensors.get(&file_name) else {
            return Err(Error::MissingTensor {
                path: path.to_path_buf(),
                name: file_name,
            });
        };
        if info.shape != expected {
            return Err(Error::ShapeMismatch {
                what: format!("{} (in {})", file_name, path.display()),
                expected,
                actual: info.shape.clone(),
            });
        }
    }
    Ok(())
}

/// Loads Hugging Face BERT weights into a new [`BertModel`] on `device`.
///
/// The parameters keep burn's default `require_grad`; call `Module::freeze` (or `no_grad`) for
/// a frozen backbone.
///
/// # Errors
/// [`Error::InvalidConfig`] for a bad config; the errors of [`check_bert_weights`]; a burn
/// [`Error::Store`] if applying the tensors fails; [`Error::UnexpectedTensors`] if the file holds
/// tensors that are neither used nor known to be unused (see [`HF_KEY_TABLE`]).
pub fn load_bert(
    weights: impl AsRef<Path>,
    config: &BertConfig,
    device: &Device,
) -> Result<BertModel> {
    let path = weights.as_ref();
    config.validate()?;
    check_bert_weights(path, config)?;

    let mut model = config.init(device);
    // No `allow_partial`: every parameter of the model must be in the file (already checked
    // above, so this is a second line of defence).
    let mut store = SafetensorsStore::from_file(path)
        .with_from_adapter(PyTorchToBurnAdapter)
        .remap(hf_key_remapper());
    let result = model.load_from(&mut store)?;
    let unexpected: Vec<String> = result
        .unused
        .into_iter()
        .filter(|name| !KNOWN_UNUSED.iter().any(|known| name.starts_with(known)))
        .collect();
    if !unexpected.is_empty() {
        return Err(Error::UnexpectedTensors {
            path: path.to_path_buf(),
            names: unexpected,
        });
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_table_maps_every_hf_name() {
        let remapper = hf_key_remapper();
        let config = BertConfig::new().with_num_hidden_layers(2);
        for (name, _) in hf_tensor_shapes(&config) {
            let mut mapped = name.clone();
            for (re, to) in remapper.to_regex_pairs() {
                mapped = re.replace_all(&mapped, to.as_str()).to_string();
            }
            assert!(
                !mapped.contains("LayerNorm") && !mapped.starts_with("encoder."),
                "{name} -> {mapped}"
            );
        }
    }

    #[test]
    fn key_table_examples() {
        let remap = |name: &str| {
            let mut mapped = name.to_string();
            for (re, to) in hf_key_remapper().to_regex_pairs() {
                mapped = re.replace_all(&mapped, to.as_str()).to_string();
            }
            mapped
        };
        assert_eq!(
            remap("bert.embeddings.LayerNorm.weight"),
            "embeddings.layer_norm.weight"
        );
        assert_eq!(
            remap("encoder.layer.11.attention.self.value.bias"),
            "layers.11.attention.value.bias"
        );
        assert_eq!(
            remap("encoder.layer.0.attention.output.dense.weight"),
            "layers.0.attention.output.weight"
        );
        assert_eq!(
            remap("encoder.layer.3.attention.output.LayerNorm.bias"),
            "layers.3.attention.layer_norm.bias"
        );
        assert_eq!(
            remap("encoder.layer.2.intermediate.dense.weight"),
            "layers.2.intermediate.weight"
        );
        assert_eq!(
            remap("encoder.layer.2.output.dense.bias"),
            "layers.2.output.bias"
        );
        assert_eq!(
            remap("encoder.layer.5.output.LayerNorm.weight"),
            "layers.5.output_norm.weight"
        );
        assert_eq!(remap("pooler.dense.weight"), "pooler.dense.weight");
    }
}
