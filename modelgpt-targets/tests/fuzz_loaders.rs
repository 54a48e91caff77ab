//! Property tests of the loaders of saved files on mutated copies of real saved folders: the MLP
//! folder (`Mlp::load`: `mlp.json` + `model.safetensors`), the SafeTensors header reader, the
//! Hugging Face BERT `config.json`, the tokenizer (`tokenizer.json`, a tiny WordPiece one built
//! here) and the BERT encoder folder (`tokenizer.json`, `config.json`, `model.safetensors` of a
//! tiny model built here). Each case mutates one file (JSON-aware value swaps, SafeTensors-aware
//! header and data mutations, byte flips, truncations, splices), 100,000 cases per loader
//! (`FUZZ_CASES` overrides); nothing may panic, every failure is a typed error with a message,
//! and what loads must work: a forward pass for the MLP, sentence embeddings for the encoder.
//! The mutation engine is `modelgpt-core/tests/fuzz/mod.rs`.

#[path = "../../modelgpt-core/tests/fuzz/mod.rs"]
mod fuzz;

use std::collections::HashMap;
use std::path::Path;

use burn::tensor::{Device, Tensor};
use fuzz::{Rng, mutate_json, mutate_safetensors};
use modelgpt_targets::bert::{hf_tensor_shapes, read_safetensors_header};
use modelgpt_targets::{BertConfig, BertRequirementEncoder, Error, Mlp, MlpSpec};
use serde_json::json;

fn device() -> Device {
    Device::flex()
}

/// `mlp.json` or `model.safetensors` of a saved MLP, mutated.
fn mutated_mlp_file(rng: &mut Rng, spec: &[u8], weights: &[u8]) -> (&'static str, Vec<u8>) {
    if rng.chance(50) {
        let strings = [
            "d_input",
            "hidden",
            "n_classes",
            "activation",
            "Relu",
            "LeakyRelu",
            "Tanh",
        ];
        ("mlp.json", mutate_json(rng, spec, &strings, &[]))
    } else {
        ("model.safetensors", mutate_safetensors(rng, weights, &[]))
    }
}

/// A saved `[3] → 4 → [2]` MLP: its folder's two files.
fn saved_mlp(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let mlp = MlpSpec::new(3, 2)
        .with_hidden(vec![4])
        .init_random(&device(), 7)
        .unwrap();
    mlp.save(dir).unwrap();
    (
        std::fs::read(dir.join("mlp.json")).unwrap(),
        std::fs::read(dir.join("model.safetensors")).unwrap(),
    )
}

/// `Mlp::load` on 100,000 folders with `mlp.json` or `model.safetensors` mutated; a loaded MLP
/// must run a forward pass of the shape it reports.
#[test]
fn fuzz_mlp_load() {
    let dir = fuzz::scratch_dir();
    let (spec, weights) = saved_mlp(dir.path());
    let loaded = Mlp::load(dir.path(), &device()).unwrap();
    assert_eq!((loaded.d_input(), loaded.n_classes()), (3, 2));
    let report = fuzz::run(
        "mlp_load",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| mutated_mlp_file(rng, &spec, &weights),
        |(file, bytes)| {
            let path = dir.path().join(file);
            std::fs::write(&path, bytes).expect("write");
            let result = Mlp::load(dir.path(), &device());
            let original = if *file == "mlp.json" { &spec } else { &weights };
            std::fs::write(&path, original).expect("restore");
            let mlp = result?;
            let d = mlp.d_input();
            let out = mlp.forward(Tensor::<2>::zeros([2, d], &device()));
            assert_eq!(out.dims(), [2, mlp.n_classes()]);
            let _ = mlp.to_params();
            Ok::<_, Error>(())
        },
    );
    fuzz::assert_mixed(&report);
}

/// `read_safetensors_header` on 100,000 mutated SafeTensors files.
#[test]
fn fuzz_safetensors_header() {
    let dir = fuzz::scratch_dir();
    let (_, weights) = saved_mlp(dir.path());
    let path = dir.path().join("w.safetensors");
    let report = fuzz::run(
        "safetensors_header",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| mutate_safetensors(rng, &weights, &[]),
        |bytes| {
            std::fs::write(&path, bytes).expect("write");
            let meta = read_safetensors_header(&path)?;
            assert_eq!(
                8 + u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"))
                    + meta.data_len() as u64,
                bytes.len() as u64
            );
            Ok::<_, Error>(())
        },
    );
    fuzz::assert_mixed(&report);
}

/// The tiny BERT of these tests.
fn tiny_config() -> serde_json::Value {
    json!({
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": 32,
        "hidden_size": 8,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "intermediate_size": 16,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "max_position_embeddings": 16,
        "type_vocab_size": 2,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0
    })
}

const VOCAB: &[&str] = &[
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "the", "a", "task", "class",
    "##es", "##ify", "text", "data", "is", "of", "good", "bad", "film", "##s", "it", ".", ",", "!",
    "?", "un", "##known", "z", "##z", "0", "1",
];

/// A BERT WordPiece `tokenizer.json` over [`VOCAB`], shaped like MiniLM's (padding and truncation
/// included, as the real file has them).
fn tiny_tokenizer() -> serde_json::Value {
    let special = |id: usize| {
        json!({"id": id, "special": true, "content": VOCAB[id], "single_word": false,
               "lstrip": false, "rstrip": false, "normalized": false})
    };
    let vocab: serde_json::Map<String, serde_json::Value> = VOCAB
        .iter()
        .enumerate()
        .map(|(i, t)| (t.to_string(), json!(i)))
        .collect();
    let tok = |id: &str, type_id: u32| json!({"SpecialToken": {"id": id, "type_id": type_id}});
    let seq = |id: &str, type_id: u32| json!({"Sequence": {"id": id, "type_id": type_id}});
    json!({
        "version": "1.0",
        "truncation": {"max_length": 12, "strategy": "LongestFirst", "stride": 0},
        "padding": {"strategy": {"Fixed": 12}, "direction": "Right", "pad_to_multiple_of": null,
                    "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
        "added_tokens": (0..5).map(special).collect::<Vec<_>>(),
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                       "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [tok("[CLS]", 0), seq("A", 0), tok("[SEP]", 0)],
            "pair": [tok("[CLS]", 0), seq("A", 0), tok("[SEP]", 0), seq("B", 1), tok("[SEP]", 1)],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}
            }
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab}
    })
}

/// Weights of [`tiny_config`] under Hugging Face names, PyTorch layout.
fn tiny_weights(config: &BertConfig) -> Vec<u8> {
    let mut rng = Rng::new(3);
    let tensors: Vec<(String, Vec<usize>, Vec<u8>)> = hf_tensor_shapes(config)
        .into_iter()
        .map(|(name, shape)| {
            let n: usize = shape.iter().product();
            let values: Vec<f32> = (0..n)
                .map(|_| {
                    if name.ends_with("LayerNorm.weight") {
                        1.0
                    } else if name.ends_with("LayerNorm.bias") {
                        0.0
                    } else {
                        (rng.below(2001) as f32 - 1000.0) / 5000.0
                    }
                })
                .collect();
            let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            (name, shape, bytes)
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .map(|(name, shape, bytes)| {
            let view =
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                    .unwrap();
            (name.clone(), view)
        })
        .collect();
    safetensors::serialize(views, None::<HashMap<String, String>>).unwrap()
}

/// The three files of the tiny encoder folder, as written.
struct EncoderFiles {
    tokenizer: Vec<u8>,
    config: Vec<u8>,
    weights: Vec<u8>,
}

fn write_encoder(dir: &Path) -> EncoderFiles {
    let config_json = tiny_config();
    let files = EncoderFiles {
        tokenizer: serde_json::to_vec_pretty(&tiny_tokenizer()).unwrap(),
        config: serde_json::to_vec_pretty(&config_json).unwrap(),
        weights: Vec::new(),
    };
    std::fs::write(dir.join("tokenizer.json"), &files.tokenizer).unwrap();
    std::fs::write(dir.join("config.json"), &files.config).unwrap();
    let config = BertConfig::load_hf(dir.join("config.json")).unwrap();
    let weights = tiny_weights(&config);
    std::fs::write(dir.join("model.safetensors"), &weights).unwrap();
    EncoderFiles { weights, ..files }
}

const TEXTS: &[&str] = &[
    "Hello world, the film is good!",
    "",
    "unknown zzz tokens ### beyond the vocabulary of this tiny tokenizer, long enough to be truncated",
    "a",
];

/// Embeddings of [`TEXTS`]: one row per text, of the model's width, finite.
fn check_encoder(encoder: &BertRequirementEncoder) -> Result<(), Error> {
    let rows = encoder.embed_vecs(TEXTS)?;
    assert_eq!(rows.len(), TEXTS.len(), "one embedding per text");
    let d = encoder.config().hidden_size;
    assert!(rows.iter().all(|r| r.len() == d), "embedding width");
    Ok(())
}

#[test]
fn tiny_encoder_loads_and_embeds() {
    let dir = tempfile::tempdir().unwrap();
    write_encoder(dir.path());
    let encoder = BertRequirementEncoder::from_dir(dir.path(), &device()).unwrap();
    check_encoder(&encoder).unwrap();
    let rows = encoder.embed_vecs(TEXTS).unwrap();
    assert!(rows.iter().flatten().all(|x| x.is_finite()));
    let ids = encoder.encode_ids(&["hello classes"]).unwrap();
    assert_eq!(ids[0], [2, 5, 10, 11, 3]);
}

/// `BertConfig::load_hf` on 100,000 mutated `config.json` files; a loaded config validates.
#[test]
fn fuzz_bert_config() {
    let dir = fuzz::scratch_dir();
    let path = dir.path().join("config.json");
    let seed = serde_json::to_vec_pretty(&tiny_config()).unwrap();
    let strings = [
        "gelu",
        "gelu_new",
        "relu",
        "vocab_size",
        "hidden_size",
        "pad_token_id",
    ];
    let report = fuzz::run(
        "bert_config",
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| mutate_json(rng, &seed, &strings, &[]),
        |bytes| {
            std::fs::write(&path, bytes).expect("write");
            let config = BertConfig::load_hf(&path)?;
            assert!(config.validate().is_ok());
            assert!(config.d_head() > 0);
            Ok::<_, Error>(())
        },
    );
    fuzz::assert_mixed(&report);
}

/// Domain strings for the tokenizer's JSON: component type names, special tokens, enum
/// spellings.
const TOKENIZER_STRINGS: &[&str] = &[
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[PAD]",
    "##",
    "WordPiece",
    "WordLevel",
    "BPE",
    "Unigram",
    "BertNormalizer",
    "Lowercase",
    "NFC",
    "BertPreTokenizer",
    "Whitespace",
    "ByteLevel",
    "TemplateProcessing",
    "BertProcessing",
    "RobertaProcessing",
    "SpecialToken",
    "Sequence",
    "A",
    "B",
    "Fixed",
    "BatchLongest",
    "LongestFirst",
    "OnlyFirst",
    "OnlySecond",
    "Left",
    "Right",
    "type",
    "vocab",
    "ids",
    "tokens",
    "id",
    "content",
    "special",
    "unk_token",
    "hello",
];

/// Runs `name`: each case mutates one file of the encoder folder (`generate` gets the files as
/// written), loads the folder, restores the file; a loaded encoder must embed texts.
fn fuzz_encoder_files(
    name: &str,
    mut generate: impl FnMut(&mut Rng, &EncoderFiles) -> (&'static str, Vec<u8>),
) {
    let dir = fuzz::scratch_dir();
    let files = write_encoder(dir.path());
    let report = fuzz::run(
        name,
        fuzz::cases(fuzz::DEFAULT_CASES),
        |rng| generate(rng, &files),
        |(file, bytes)| {
            let path = dir.path().join(file);
            std::fs::write(&path, bytes).expect("write");
            let result = BertRequirementEncoder::from_dir(dir.path(), &device());
            let original = match *file {
                "tokenizer.json" => &files.tokenizer,
                "config.json" => &files.config,
                _ => &files.weights,
            };
            std::fs::write(&path, original).expect("restore");
            check_encoder(&result?)
        },
    );
    fuzz::assert_mixed(&report);
}

/// The tokenizer loader (`Tokenizer::from_file` inside `BertRequirementEncoder::from_dir`, the
/// only function of ours that reads `tokenizer.json`) on 100,000 mutations of the tiny
/// tokenizer (JSON-aware: component types, special tokens, ids, templates); a loaded encoder
/// must tokenize and embed texts.
#[test]
fn fuzz_bert_tokenizer() {
    fuzz_encoder_files("bert_tokenizer", |rng, files| {
        let bytes = mutate_json(rng, &files.tokenizer, TOKENIZER_STRINGS, &[]);
        ("tokenizer.json", bytes)
    });
}

/// `BertRequirementEncoder::from_dir` (`BertConfig::load_hf`, `check_bert_weights`, `load_bert`)
/// on 100,000 folders with `config.json` (40 %) or `model.safetensors` mutated; a loaded encoder
/// must embed texts.
#[test]
fn fuzz_bert_encoder_dir() {
    let strings = [
        "gelu",
        "relu",
        "vocab_size",
        "hidden_size",
        "max_position_embeddings",
    ];
    fuzz_encoder_files("bert_encoder_dir", |rng, files| {
        if rng.chance(40) {
            (
                "config.json",
                mutate_json(rng, &files.config, &strings, &[]),
            )
        } else {
            let bytes = mutate_safetensors(rng, &files.weights, &[]);
            ("model.safetensors", bytes)
        }
    });
}
