//! Text LoRA family: PEFT export round trip and merged-weights equivalence on the real MiniLM.

mod common;

use common::test_device;

use burn::tensor::{Device, Distribution, Tensor, Tolerance};
use modelgpt_core::GeneratedParams;
use modelgpt_core::data::assets_dir;
use modelgpt_targets::peft::{PeftAdapterConfig, peft_key, transpose};
use modelgpt_targets::{
    BertRequirementEncoder, TextLoraConfig, TextLoraFamily, encode_prefix, load_bert, save_merged,
    save_peft_adapter,
};
use safetensors::SafeTensors;

fn random_params(family: &TextLoraFamily, device: &Device) -> GeneratedParams {
    let tensors: Vec<Tensor<1>> = family
        .spec()
        .entries()
        .iter()
        .map(|e| Tensor::random([e.numel()], Distribution::Normal(0.0, 0.05), device))
        .collect();
    GeneratedParams::from_flat(family.spec().clone(), tensors).unwrap()
}

fn host(t: &Tensor<1>) -> Vec<f32> {
    t.clone().into_data().iter::<f32>().collect()
}

fn read_f32(st: &SafeTensors, name: &str) -> (Vec<usize>, Vec<f32>) {
    let v = st.tensor(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let values = v
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    (v.shape().to_vec(), values)
}

#[test]
fn peft_export_round_trips_with_transposition() {
    let device = test_device();
    let config = TextLoraConfig::default()
        .with_rank(4)
        .with_alpha(8.0)
        .with_layers([1, 2]);
    let family = TextLoraFamily::new(config, 16, 3, 3).unwrap();
    let params = random_params(&family, &device);
    let dir = tempfile::tempdir().unwrap();
    let labels: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let files = save_peft_adapter(dir.path(), &family, &params, &labels).unwrap();
    assert_eq!(files.len(), 4);

    let cfg: PeftAdapterConfig =
        serde_json::from_slice(&std::fs::read(dir.path().join("adapter_config.json")).unwrap())
            .unwrap();
    assert_eq!(cfg.peft_type, "LORA");
    assert_eq!(cfg.r, 4);
    assert_eq!(cfg.lora_alpha, 8.0);
    assert_eq!(cfg.target_modules, ["query", "value"]);
    assert_eq!(cfg.layers_to_transform, [1, 2]);
    assert_eq!(
        cfg.base_model_name_or_path,
        "sentence-transformers/all-MiniLM-L6-v2"
    );

    let bytes = std::fs::read(dir.path().join("adapter_model.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.names().len(), 8, "2 layers x (query, value) x (A, B)");
    for (entry, t) in params.iter() {
        let ours = host(t);
        if let Some(rest) = entry.name.strip_prefix("encoder.layer.") {
            let layer: usize = rest.split('.').next().unwrap().parse().unwrap();
            let proj = if entry.name.contains(".query.") {
                "query"
            } else {
                "value"
            };
            let factor = if entry.name.ends_with("lora_a") {
                "lora_A"
            } else {
                "lora_B"
            };
            let (shape, values) = read_f32(&st, &peft_key(layer, proj, factor));
            // PyTorch layout: lora_A [r, in], lora_B [out, r].
            assert_eq!(
                shape,
                vec![entry.shape[1], entry.shape[0]],
                "{}",
                entry.name
            );
            assert_eq!(
                transpose(&values, shape[0], shape[1]),
                ours,
                "{}",
                entry.name
            );
        }
    }
    let head_bytes = std::fs::read(dir.path().join("classifier.safetensors")).unwrap();
    let head = SafeTensors::deserialize(&head_bytes).unwrap();
    let (shape, w) = read_f32(&head, "classifier.weight");
    assert_eq!(shape, vec![3, 16]);
    let ours = host(&params.flat()[8]);
    assert_eq!(transpose(&w, 3, 16), ours);
    let (_, b) = read_f32(&head, "classifier.bias");
    assert_eq!(b, host(&params.flat()[9]));

    // Wrong label count is a typed error, not a panic.
    assert!(save_peft_adapter(dir.path(), &family, &params, &labels[..2]).is_err());
}

#[test]
fn merged_checkpoint_equals_lora_forward_on_minilm() {
    let device = test_device();
    let dir = assets_dir().join("minilm");
    let encoder = BertRequirementEncoder::from_dir(&dir, &device).unwrap();
    let family = TextLoraFamily::for_model(encoder.model(), TextLoraConfig::default(), 2).unwrap();
    let params = random_params(&family, &device);
    let texts = [
        "a short sentence",
        "another, somewhat longer sentence about the weather today",
    ];
    let feats = encode_prefix(&encoder, &texts, 4, 64).unwrap();
    let with_lora = family.embed(encoder.model(), &params, &feats).unwrap();

    // In-memory merge.
    let merged = family.merge(encoder.model().clone(), &params).unwrap();
    let merged_out = TextLoraFamily::base_embed(&merged, 4, &feats);
    with_lora
        .clone()
        .into_data()
        .assert_approx_eq::<f32>(&merged_out.into_data(), Tolerance::absolute(1e-4));

    // Merged file, reloaded with the ordinary Hugging Face loader.
    let out = tempfile::tempdir().unwrap();
    let path = save_merged(out.path(), &family, &params, dir.join("model.safetensors")).unwrap();
    let config = modelgpt_targets::BertConfig::load_hf(out.path().join("config.json")).unwrap();
    let reloaded = load_bert(&path, &config, &device).unwrap();
    let reloaded_out = TextLoraFamily::base_embed(&reloaded, 4, &feats);
    with_lora
        .into_data()
        .assert_approx_eq::<f32>(&reloaded_out.into_data(), Tolerance::absolute(1e-4));
}
