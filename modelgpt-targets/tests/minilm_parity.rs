//! Parity of the BERT requirement encoder with sentence-transformers' all-MiniLM-L6-v2
//! (reference values computed with PyTorch: `tests/fixtures/minilm-reference.json`, a verbatim
//! copy of the project's `shared/fixtures/minilm-reference.json`, kept in the repository so the
//! tests read only files inside it, wherever the clone is).

mod common;

use std::sync::OnceLock;

use common::test_device;

use burn::tensor::{Tensor, TensorData, Tolerance};
use modelgpt_core::RequirementEncoder;
use modelgpt_targets::prelude::*;
use serde::Deserialize;

const REFERENCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/minilm-reference.json"
);
const TOL: f32 = 1e-4;

#[derive(Deserialize)]
struct Reference {
    sentences: Vec<String>,
    input_ids: Vec<Vec<u32>>,
    embeddings: Vec<Vec<f32>>,
    last_hidden_state_sentence0_first3_tokens: Vec<Vec<f32>>,
    pairwise_cosine: Vec<Vec<f32>>,
}

fn reference() -> &'static Reference {
    static REF: OnceLock<Reference> = OnceLock::new();
    REF.get_or_init(|| {
        let text =
            std::fs::read_to_string(REFERENCE).unwrap_or_else(|e| panic!("{REFERENCE}: {e}"));
        serde_json::from_str(&text).expect("valid reference JSON")
    })
}

fn encoder() -> &'static BertRequirementEncoder {
    static ENC: OnceLock<BertRequirementEncoder> = OnceLock::new();
    ENC.get_or_init(|| {
        let dir = modelgpt_core::data::assets_dir().join("minilm");
        BertRequirementEncoder::from_dir(&dir, &test_device())
            .unwrap_or_else(|e| panic!("loading {}: {e}", dir.display()))
    })
}

fn sentences() -> Vec<&'static str> {
    reference().sentences.iter().map(String::as_str).collect()
}

fn rows(t: Tensor<2>) -> Vec<Vec<f32>> {
    let [_, d] = t.dims();
    let flat: Vec<f32> = t.into_data().iter::<f32>().collect();
    flat.chunks(d).map(<[f32]>::to_vec).collect()
}

fn assert_close(what: &str, actual: &[f32], expected: &[f32]) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    let max = actual
        .iter()
        .zip(expected)
        .map(|(a, e)| (a - e).abs())
        .fold(0.0f32, f32::max);
    assert!(max <= TOL, "{what}: max abs difference {max} > {TOL}");
}

#[test]
fn token_ids_match_hugging_face() {
    let reference = reference();
    let ids = encoder().encode_ids(&sentences()).unwrap();
    for (i, (got, want)) in ids.iter().zip(&reference.input_ids).enumerate() {
        assert_eq!(got, want, "sentence {i}: {:?}", reference.sentences[i]);
    }
    assert_eq!(
        ids[8].len(),
        256,
        "the long sentence is truncated at 256 tokens"
    );
}

#[test]
fn embeddings_match_one_sentence_at_a_time() {
    let reference = reference();
    for (i, sentence) in sentences().into_iter().enumerate() {
        let got = encoder().embed_vecs(&[sentence]).unwrap();
        assert_close(
            &format!("sentence {i} alone"),
            &got[0],
            &reference.embeddings[i],
        );
    }
}

#[test]
fn embeddings_match_in_one_padded_batch() {
    // All nine in one batch padded to 256 tokens, in the given order: exercises the mask.
    let reference = reference();
    let enc = encoder();
    let input = enc.tokenize_batch(&sentences()).unwrap();
    assert_eq!(input.dims(), [9, 256]);
    let keep = input.keep_mask();
    let pooled = l2_normalize(mean_pool(enc.model().forward(input), keep));
    for (i, row) in rows(pooled).iter().enumerate() {
        assert_close(
            &format!("sentence {i} in a padded batch"),
            row,
            &reference.embeddings[i],
        );
    }
}

#[test]
fn embed_keeps_input_order_across_length_sorted_batches() {
    let reference = reference();
    // Batch size 32 > 9: one batch; the encoder sorts by length and must restore the order.
    let got = encoder().embed_vecs(&sentences()).unwrap();
    for (i, row) in got.iter().enumerate() {
        assert_close(
            &format!("sentence {i} via embed"),
            row,
            &reference.embeddings[i],
        );
    }
}

#[test]
fn last_hidden_state_slice_matches() {
    let reference = reference();
    let enc = encoder();
    let hidden = enc
        .model()
        .forward(enc.tokenize_batch(&sentences()[..1]).unwrap()); // [1, 21, 384]
    let slice: Tensor<2> = hidden.slice([0..1, 0..3]).squeeze_dim(0); // [3, 384]
    for (t, (row, want)) in rows(slice)
        .iter()
        .zip(&reference.last_hidden_state_sentence0_first3_tokens)
        .enumerate()
    {
        assert_close(&format!("hidden state of token {t}"), row, want);
    }
}

#[test]
fn pairwise_cosines_match() {
    let reference = reference();
    let e = encoder().embed(&sentences()).unwrap(); // [9, 384], unit rows
    let cos = e.clone().matmul(e.transpose()); // [9, 9]
    let expected: Vec<f32> = reference
        .pairwise_cosine
        .iter()
        .flatten()
        .copied()
        .collect();
    cos.into_data()
        .assert_approx_eq::<f32>(&TensorData::new(expected, [9, 9]), Tolerance::absolute(TOL));
}

#[test]
fn works_as_a_requirement_encoder_trait_object() {
    let enc: &dyn RequirementEncoder = encoder();
    assert_eq!(enc.embed_dim(), 384);
    let out = enc
        .encode(&["A cat sat on the mat.", "short"], &test_device())
        .unwrap();
    assert_eq!(out.dims(), [2, 384]);
    let empty = enc.encode(&[], &test_device()).unwrap();
    assert_eq!(empty.dims(), [0, 384]);
}

#[test]
fn small_batches_give_the_same_embeddings() {
    // Batch size 4: three length-sorted batches, results put back in input order.
    let reference = reference();
    let dir = modelgpt_core::data::assets_dir().join("minilm");
    let enc = BertRequirementEncoder::from_dir(&dir, &test_device())
        .unwrap()
        .with_batch_size(4)
        .unwrap();
    let got = enc.embed_vecs(&sentences()).unwrap();
    for (i, row) in got.iter().enumerate() {
        assert_close(
            &format!("sentence {i} with batch size 4"),
            row,
            &reference.embeddings[i],
        );
    }
    assert!(matches!(
        enc.with_batch_size(0),
        Err(Error::InvalidConfig {
            field: "batch_size",
            ..
        })
    ));
}

/// The committed fixture is a verbatim copy of the project's shared one: checked wherever the
/// shared folder sits beside the repository (the development workspace); a clone elsewhere has
/// only the committed copy, and the check has nothing to compare.
#[test]
fn committed_fixture_matches_the_shared_one_where_it_exists() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/minilm-reference.json");
    let Ok(theirs) = std::fs::read(&shared) else {
        eprintln!("{} is absent: nothing to compare", shared.display());
        return;
    };
    let ours = std::fs::read(REFERENCE).unwrap_or_else(|e| panic!("{REFERENCE}: {e}"));
    assert!(
        ours == theirs,
        "{REFERENCE} differs from {}; copy it again",
        shared.display()
    );
}
