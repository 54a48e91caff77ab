//! Missing, truncated or corrupted files and inconsistent configs give typed errors, not panics.

mod common;

use common::test_device;

use std::io::Read;
use std::path::{Path, PathBuf};

use modelgpt_targets::{BertRequirementEncoder, Error};
use safetensors::SafeTensorError;

fn minilm() -> PathBuf {
    modelgpt_core::data::assets_dir().join("minilm")
}

/// A temp dir holding copies of the real tokenizer and config (small files).
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["tokenizer.json", "config.json"] {
        std::fs::copy(minilm().join(name), dir.path().join(name)).unwrap();
    }
    dir
}

/// The first `n` bytes of the real weights.
fn real_prefix(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    std::fs::File::open(minilm().join("model.safetensors"))
        .unwrap()
        .read_exact(&mut bytes)
        .unwrap();
    bytes
}

fn real_header_len() -> usize {
    u64::from_le_bytes(real_prefix(8).try_into().unwrap()) as usize
}

fn load(dir: &Path, weights: &Path) -> Result<BertRequirementEncoder, Error> {
    BertRequirementEncoder::from_files(
        dir.join("tokenizer.json"),
        weights,
        dir.join("config.json"),
        &test_device(),
    )
}

#[test]
fn missing_tokenizer_is_named() {
    let dir = scratch();
    std::fs::remove_file(dir.path().join("tokenizer.json")).unwrap();
    let err = load(dir.path(), &minilm().join("model.safetensors")).unwrap_err();
    match &err {
        Error::MissingFile { path, what } => {
            assert_eq!(*what, "tokenizer");
            assert!(path.ends_with("tokenizer.json"));
        }
        other => panic!("expected MissingFile, got {other:?}"),
    }
    assert!(err.to_string().contains("tokenizer.json"), "{err}");
}

#[test]
fn missing_weights_and_config_are_named() {
    let dir = scratch();
    let err = load(dir.path(), &dir.path().join("model.safetensors")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingFile {
                what: "weights",
                ..
            }
        ),
        "{err:?}"
    );

    std::fs::remove_file(dir.path().join("config.json")).unwrap();
    let err = load(dir.path(), &minilm().join("model.safetensors")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingFile {
                what: "model config",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn corrupted_tokenizer_json_is_a_tokenizer_error() {
    let dir = scratch();
    std::fs::write(
        dir.path().join("tokenizer.json"),
        b"{\"version\": \"1.0\", \"model\": 42",
    )
    .unwrap();
    let err = load(dir.path(), &minilm().join("model.safetensors")).unwrap_err();
    match err {
        Error::Tokenizer { path, .. } => assert!(path.ends_with("tokenizer.json")),
        other => panic!("expected Tokenizer, got {other:?}"),
    }
}

#[test]
fn truncated_weights_are_detected() {
    let dir = scratch();
    let weights = dir.path().join("model.safetensors");
    // Header intact, data cut after 1 MB.
    std::fs::write(&weights, real_prefix(8 + real_header_len() + 1_000_000)).unwrap();
    let err = load(dir.path(), &weights).unwrap_err();
    match &err {
        Error::Safetensors { path, source } => {
            assert_eq!(path, &weights);
            assert!(
                matches!(source, SafeTensorError::MetadataIncompleteBuffer),
                "{source:?}"
            );
        }
        other => panic!("expected Safetensors, got {other:?}"),
    }
    assert!(err.to_string().contains("model.safetensors"), "{err}");

    // Cut inside the header.
    std::fs::write(&weights, real_prefix(100)).unwrap();
    let err = load(dir.path(), &weights).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Safetensors {
                source: SafeTensorError::InvalidHeaderLength,
                ..
            }
        ),
        "{err:?}"
    );

    // Shorter than the length prefix.
    std::fs::write(&weights, [1u8, 2, 3]).unwrap();
    let err = load(dir.path(), &weights).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Safetensors {
                source: SafeTensorError::HeaderTooSmall,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn corrupted_header_is_detected() {
    let dir = scratch();
    let weights = dir.path().join("model.safetensors");
    let mut bytes = real_prefix(8 + real_header_len() + 64);
    // Overwrite some header bytes in the middle of the JSON.
    let mid = 8 + real_header_len() / 2;
    bytes[mid..mid + 6].copy_from_slice(b"\"}]{:,");
    std::fs::write(&weights, &bytes).unwrap();
    let err = load(dir.path(), &weights).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Safetensors {
                source: SafeTensorError::InvalidHeaderDeserialization(_),
                ..
            }
        ),
        "{err:?}"
    );

    // A nonsensical length prefix.
    bytes[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    std::fs::write(&weights, &bytes).unwrap();
    let err = load(dir.path(), &weights).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Safetensors {
                source: SafeTensorError::HeaderTooLarge,
                ..
            }
        ),
        "{err:?}"
    );
}

fn edit_config(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("config.json");
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut value);
    std::fs::write(&path, serde_json::to_string(&value).unwrap()).unwrap();
}

#[test]
fn config_disagreeing_with_weights_names_the_tensor() {
    let dir = scratch();
    edit_config(dir.path(), |v| v["hidden_size"] = 768.into());
    let err = load(dir.path(), &minilm().join("model.safetensors")).unwrap_err();
    match &err {
        Error::ShapeMismatch {
            what,
            expected,
            actual,
        } => {
            assert!(what.contains("embeddings.word_embeddings.weight"), "{what}");
            assert_eq!(expected, &vec![30522, 768]);
            assert_eq!(actual, &vec![30522, 384]);
        }
        other => panic!("expected ShapeMismatch, got {other:?}"),
    }

    let dir = scratch();
    edit_config(dir.path(), |v| v["num_hidden_layers"] = 7.into());
    let err = load(dir.path(), &minilm().join("model.safetensors")).unwrap_err();
    match err {
        Error::MissingTensor { name, .. } => {
            assert!(name.starts_with("encoder.layer.6."), "{name}")
        }
        other => panic!("expected MissingTensor, got {other:?}"),
    }

    let dir = scratch();
    edit_config(dir.path(), |v| v["intermediate_size"] = 1024.into());
    let err = load(dir.path(), &minilm().join("model.safetensors")).unwrap_err();
    match err {
        Error::ShapeMismatch { what, .. } => assert!(
            what.contains("encoder.layer.0.intermediate.dense.weight"),
            "{what}"
        ),
        other => panic!("expected ShapeMismatch, got {other:?}"),
    }
}

#[test]
fn invalid_config_values_are_typed() {
    let dir = scratch();
    edit_config(dir.path(), |v| v["num_attention_heads"] = 5.into());
    let err = load(dir.path(), &minilm().join("model.safetensors")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidConfig {
                field: "num_attention_heads",
                ..
            }
        ),
        "{err:?}"
    );

    let dir = scratch();
    edit_config(dir.path(), |v| {
        v.as_object_mut().unwrap().remove("vocab_size");
    });
    let err = load(dir.path(), &minilm().join("model.safetensors")).unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
}
