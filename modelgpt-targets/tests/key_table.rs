//! Round trip of the Hugging Face key table: a tiny random BERT saved with burn's names is renamed
//! to Hugging Face names (PyTorch layout) and loaded back with `load_bert`: same outputs.

mod common;

use common::test_device;

use std::path::Path;

use burn::module::Module;
use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, SafetensorsStore};
use burn::tensor::{Device, Int, Tensor, Tolerance};
use modelgpt_targets::prelude::*;
use safetensors::SafeTensors;
use safetensors::tensor::TensorView;

fn tiny() -> BertConfig {
    BertConfig::new()
        .with_vocab_size(60)
        .with_hidden_size(16)
        .with_num_hidden_layers(2)
        .with_num_attention_heads(4)
        .with_intermediate_size(32)
        .with_max_position_embeddings(12)
}

/// burn module path → Hugging Face name, written out by hand (independent of `HF_KEY_TABLE`).
fn to_hf(burn: &str) -> String {
    let burn = burn.replace(".gamma", ".weight").replace(".beta", ".bias");
    if let Some(rest) = burn.strip_prefix("embeddings.layer_norm.") {
        return format!("embeddings.LayerNorm.{rest}");
    }
    if burn.starts_with("embeddings.") {
        return burn;
    }
    let parts: Vec<&str> = burn.splitn(3, '.').collect(); // ["layers", i, rest]
    assert_eq!(parts[0], "layers", "{burn}");
    let (i, rest) = (parts[1], parts[2]);
    let hf_rest = match rest.rsplit_once('.') {
        Some(("attention.query", p)) => format!("attention.self.query.{p}"),
        Some(("attention.key", p)) => format!("attention.self.key.{p}"),
        Some(("attention.value", p)) => format!("attention.self.value.{p}"),
        Some(("attention.output", p)) => format!("attention.output.dense.{p}"),
        Some(("attention.layer_norm", p)) => format!("attention.output.LayerNorm.{p}"),
        Some(("intermediate", p)) => format!("intermediate.dense.{p}"),
        Some(("output", p)) => format!("output.dense.{p}"),
        Some(("output_norm", p)) => format!("output.LayerNorm.{p}"),
        _ => panic!("unexpected burn path {burn}"),
    };
    format!("encoder.layer.{i}.{hf_rest}")
}

/// Rewrites `from` into `to` with every tensor renamed by `rename` plus `extra` tensors.
fn rename_file(
    from: &Path,
    to: &Path,
    rename: impl Fn(&str) -> String,
    extra: &[(&str, Vec<usize>)],
) {
    let bytes = std::fs::read(from).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let extra_data: Vec<Vec<u8>> = extra
        .iter()
        .map(|(_, shape)| vec![0u8; 4 * shape.iter().product::<usize>()])
        .collect();
    let mut tensors: Vec<(String, TensorView<'_>)> =
        st.iter().map(|(name, view)| (rename(name), view)).collect();
    for ((name, shape), data) in extra.iter().zip(&extra_data) {
        tensors.push((
            name.to_string(),
            TensorView::new(safetensors::Dtype::F32, shape.clone(), data).unwrap(),
        ));
    }
    safetensors::serialize_to_file(tensors, None, to).unwrap();
}

fn sample_input(device: &Device) -> BertInput {
    let ids = Tensor::<2, Int>::from_ints([[1, 5, 7, 9, 2], [1, 44, 2, 0, 0]], device);
    let keep = Tensor::<2, Int>::from_ints([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], device);
    BertInput::new(ids).attention_mask(keep)
}

#[test]
fn hf_named_checkpoint_round_trips() {
    let device = test_device();
    let config = tiny();
    let model = config.init(&device);
    let expected = model.forward(sample_input(&device));

    let dir = tempfile::tempdir().unwrap();
    let burn_file = dir.path().join("burn.safetensors");
    let mut store = SafetensorsStore::from_file(&burn_file)
        .with_to_adapter(BurnToPyTorchAdapter)
        .overwrite(true);
    model.save_into(&mut store).unwrap();

    // The pooler is allowed to be unused.
    let hf_file = dir.path().join("model.safetensors");
    rename_file(
        &burn_file,
        &hf_file,
        to_hf,
        &[
            ("pooler.dense.weight", vec![16, 16]),
            ("pooler.dense.bias", vec![16]),
        ],
    );
    modelgpt_targets::bert::check_bert_weights(&hf_file, &config).unwrap();

    let loaded = load_bert(&hf_file, &config, &device).unwrap();
    assert_eq!(loaded.num_params(), model.num_params());
    loaded
        .forward(sample_input(&device))
        .into_data()
        .assert_approx_eq::<f32>(&expected.into_data(), Tolerance::absolute(1e-6));

    // A `bert.` prefix (checkpoints of `BertFor*` models) is accepted too.
    let prefixed = dir.path().join("prefixed.safetensors");
    rename_file(&burn_file, &prefixed, |n| format!("bert.{}", to_hf(n)), &[]);
    let loaded = load_bert(&prefixed, &config, &device).unwrap();
    let again = loaded.forward(sample_input(&device));
    again.into_data().assert_approx_eq::<f32>(
        &model.forward(sample_input(&device)).into_data(),
        Tolerance::absolute(1e-6),
    );
}

#[test]
fn unknown_extra_tensors_are_reported() {
    let device = test_device();
    let config = tiny();
    let model = config.init(&device);
    let dir = tempfile::tempdir().unwrap();
    let burn_file = dir.path().join("burn.safetensors");
    let mut store = SafetensorsStore::from_file(&burn_file)
        .with_to_adapter(BurnToPyTorchAdapter)
        .overwrite(true);
    model.save_into(&mut store).unwrap();
    let hf_file = dir.path().join("model.safetensors");
    rename_file(
        &burn_file,
        &hf_file,
        to_hf,
        &[("classifier.weight", vec![2, 16])],
    );
    match load_bert(&hf_file, &config, &device) {
        Err(Error::UnexpectedTensors { names, .. }) => {
            assert_eq!(names, vec!["classifier.weight".to_string()])
        }
        other => panic!("expected UnexpectedTensors, got {other:?}"),
    }
}
