//! The same code on another backend: every check computes something on the device under test
//! and compares it with flex (or with the sentence-transformers fixture).
//!
//! The device under test is the one `BURN_DEVICE` names (`modelgpt_core::backend`): `.ci/run`
//! runs this file with `BURN_DEVICE=wgpu` in a build with the `wgpu` feature (on lavapipe, Mesa's
//! software Vulkan driver), and `scripts/check_backends.py` with `tch`. In the ordinary flex
//! build `BURN_DEVICE` is unset and the device under test is flex itself: the checks then assert
//! that the same code gives the same numbers twice, and the two-device meta-training check runs
//! on two flex worker threads.
//!
//! Tolerances, stated once and documented in the README's backend table:
//! - MiniLM sentence embeddings: 1e-4 from the PyTorch reference (as on flex);
//! - generated tensors: `GEN_TOL` times the largest magnitude of the tensor (at least 1);
//!   class probabilities and logits: `GEN_TOL` absolute;
//! - training (meta-training steps, MLP epochs): losses within `TRAIN_TOL` relative, weights
//!   within `TRAIN_TOL` times their largest magnitude.
//!
//! Needs `assets/minilm` (`python3 scripts/fetch_assets.py`).

mod common;

use std::sync::OnceLock;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use common::{D_EMBED, minilm, sports_vs_cooking, test_device, weights_of};
use modelgpt_core::data::assets_dir;
use modelgpt_core::{GeneratedParams, Requirement, RequirementEncoder};
use modelgpt_hypernet::{
    HyperNet, HyperNetConfig, MetaRule, MetaTrainConfig, MetaTrainReport, MetaTrainer,
    TabularModelGpt, TextModelGpt,
};
use modelgpt_targets::MlpSpec;
use modelgpt_targets::train::{LabeledRows, TrainConfig, train_classifier};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::Deserialize;
use serial_test::serial;

/// Relative tolerance of generated tensors, absolute of probabilities and logits.
const GEN_TOL: f32 = 1e-3;
/// Relative tolerance of losses and trained weights after a few optimizer steps.
const TRAIN_TOL: f64 = 1e-3;

/// The device under test (`BURN_DEVICE`, flex when unset).
fn dut() -> Device {
    modelgpt_core::backend::device_from_env().expect("BURN_DEVICE names a compiled backend")
}

fn max_gap(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn max_abs(a: &[f32]) -> f32 {
    a.iter().map(|x| x.abs()).fold(0.0, f32::max)
}

fn host(t: &Tensor<1>) -> Vec<f32> {
    t.clone()
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap()
}

/// Every generated tensor of `b` (made on `device`) within `GEN_TOL` of `a`'s, relative to the
/// tensor's largest magnitude (at least 1).
fn assert_same_tensors(device: &Device, a: &GeneratedParams, b: &GeneratedParams) {
    assert_eq!(a.flat().len(), b.flat().len(), "{device:?}: tensor count");
    for ((entry, ta), (_, tb)) in a.iter().zip(b.iter()) {
        let (va, vb) = (host(ta), host(tb));
        let gap = max_gap(&va, &vb);
        let scale = max_abs(&va).max(1.0);
        assert!(
            gap <= GEN_TOL * scale,
            "{device:?}: {}: max abs difference {gap} (magnitude {scale})",
            entry.name
        );
    }
}

#[derive(Deserialize)]
struct Reference {
    sentences: Vec<String>,
    embeddings: Vec<Vec<f32>>,
}

fn reference() -> &'static Reference {
    static REF: OnceLock<Reference> = OnceLock::new();
    REF.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../modelgpt-targets/tests/fixtures/minilm-reference.json"
        );
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).expect("valid reference JSON")
    })
}

#[test]
fn minilm_matches_sentence_transformers_on_the_device() {
    let device = dut();
    let reference = reference();
    let texts: Vec<&str> = reference.sentences.iter().map(String::as_str).collect();
    let got = minilm(&device).encode(&texts, &device).unwrap();
    let [n, d] = got.dims();
    let got: Vec<f32> = got
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(n, reference.embeddings.len());
    for (i, want) in reference.embeddings.iter().enumerate() {
        let gap = max_gap(&got[i * d..(i + 1) * d], want);
        assert!(
            gap <= 1e-4,
            "{device:?}: sentence {i}: max abs difference {gap}"
        );
    }
}

/// The shipped tabular generator, its selector and MiniLM on `device`.
fn shipped_tabular(device: &Device) -> TabularModelGpt {
    TabularModelGpt::builder()
        .encoder(Box::new(minilm(device)))
        .shipped()
        .build(device)
        .unwrap()
}

#[test]
#[serial]
fn tabular_generation_matches_flex() {
    let (flex, device) = (test_device(), dut());
    let shape = common::TaskShape {
        n_features: 7,
        n_classes: 3,
        rows: 240,
        separation: 2.0,
        seed: 4,
    };
    let ds = common::dataset("backend_check", shape);
    let req = Requirement::new("Sort the backend check records into three groups.");
    let rows: Vec<usize> = (0..ds.n_rows()).collect();
    let a = shipped_tabular(&flex).generate(&ds, &req).unwrap();
    let b = shipped_tabular(&device).generate(&ds, &req).unwrap();
    assert_eq!(
        a.architecture(),
        b.architecture(),
        "the same member is chosen"
    );
    assert_same_tensors(&device, &a.mlp().to_params(), &b.mlp().to_params());
    let pa: Vec<f32> = a.predict_proba(&ds, &rows).unwrap().concat();
    let pb: Vec<f32> = b.predict_proba(&ds, &rows).unwrap().concat();
    let gap = max_gap(&pa, &pb);
    assert!(gap <= GEN_TOL, "{device:?}: probabilities differ by {gap}");
}

#[test]
#[serial]
fn text_lora_generation_matches_flex() {
    let (flex, device) = (test_device(), dut());
    let dir = assets_dir().join("minilm");
    let data = sports_vs_cooking();
    let req = "Tell sports news from cooking recipes.";
    let ga = TextModelGpt::shipped(&dir, &flex).unwrap();
    let gb = TextModelGpt::shipped(&dir, &device).unwrap();
    let (a, b) = (
        ga.tailor(&data, req).unwrap(),
        gb.tailor(&data, req).unwrap(),
    );
    assert_same_tensors(&device, a.params(), b.params());
    let texts: Vec<&str> = data.texts.iter().map(String::as_str).collect();
    let la = a.logits(&texts).unwrap().concat();
    let lb = b.logits(&texts).unwrap().concat();
    let gap = max_gap(&la, &lb);
    assert!(gap <= GEN_TOL, "{device:?}: logits differ by {gap}");
}

/// A kernel-mode generator without dropout (whose masks come from each backend's own random
/// numbers), initialised once on flex.
fn kernel_generator() -> (HyperNetConfig, HyperNet) {
    let config = HyperNetConfig {
        dropout: 0.0,
        ..HyperNetConfig::kernel(D_EMBED)
    };
    let flex = test_device();
    flex.seed(21);
    let hyper = config.init(&flex);
    (config, hyper)
}

fn meta_config(rule: MetaRule, tasks_per_step: usize) -> MetaTrainConfig {
    MetaTrainConfig {
        rule,
        epochs: 2,
        steps_per_task: 1,
        batch_size: 32,
        lr: 1e-3,
        sample_min_rows: 24,
        sample_max_rows: 96,
        tasks_per_step,
        seed: 5,
        ..MetaTrainConfig::default()
    }
}

/// Every weight of `b` within `TRAIN_TOL` of `a`'s, relative to the tensor's largest magnitude
/// (at least 1); both modules on one device.
fn assert_close_weights<M: Module>(what: &str, a: &M, b: &M) {
    let (wa, wb) = (weights_of(a), weights_of(b));
    assert_eq!(wa.len(), wb.len(), "{what}: parameter count");
    for ((_, x), (_, y)) in wa.iter().zip(&wb) {
        let gap = max_gap(x, y) as f64;
        let scale = (max_abs(x) as f64).max(1.0);
        assert!(gap <= TRAIN_TOL * scale, "{what}: weights differ by {gap}");
    }
}

fn assert_same_training(
    what: &str,
    a: (&HyperNet, &MetaTrainReport),
    b: (&HyperNet, &MetaTrainReport),
) {
    assert_eq!(a.1.history.len(), b.1.history.len(), "{what}");
    for (x, y) in a.1.history.iter().zip(&b.1.history) {
        let tol = TRAIN_TOL * x.mean_loss.abs().max(1e-3);
        assert!(
            (x.mean_loss - y.mean_loss).abs() <= tol,
            "{what}: epoch {}: loss {} vs {}",
            x.epoch,
            x.mean_loss,
            y.mean_loss
        );
        assert!(
            (x.mean_valid_acc - y.mean_valid_acc).abs() <= 0.02,
            "{what}: epoch {}: valid acc {} vs {}",
            x.epoch,
            x.mean_valid_acc,
            y.mean_valid_acc
        );
    }
    if a.1.best_epoch == b.1.best_epoch {
        assert_close_weights(what, a.0, b.0);
    }
}

#[test]
#[serial]
fn meta_training_steps_of_both_rules_match_flex() {
    let (flex, device) = (test_device(), dut());
    let tasks = common::tasks_with(1.5, &flex);
    for rule in [MetaRule::EndToEnd, MetaRule::Delta] {
        let (config, init) = kernel_generator();
        let run = |on: &Device| {
            MetaTrainer::new(config.clone(), meta_config(rule, 1))
                .with_progress(false)
                .with_initial(init.clone())
                .train(&tasks, on)
                .unwrap()
        };
        let (ma, ra) = run(&flex);
        let (mb, rb) = run(&device);
        let mb = mb.to_device(&flex);
        assert_same_training(
            &format!("{device:?} {}", rule.as_str()),
            (&ma, &ra),
            (&mb, &rb),
        );
    }
}

#[test]
#[serial]
fn meta_training_over_two_devices_matches_one() {
    let (flex, device) = (test_device(), dut());
    let tasks = common::tasks_with(1.5, &flex);
    let (config, init) = kernel_generator();
    let run = |devices: Vec<Device>| {
        MetaTrainer::new(config.clone(), meta_config(MetaRule::EndToEnd, 2))
            .with_progress(false)
            .with_initial(init.clone())
            .with_devices(devices)
            .train(&tasks, &flex)
            .unwrap()
    };
    let (ma, ra) = run(Vec::new());
    let (mb, rb) = run(vec![flex.clone(), device.clone()]);
    assert_same_training(&format!("flex + {device:?}"), (&ma, &ra), (&mb, &rb));
}

#[test]
fn mlp_training_matches_flex() {
    let (flex, device) = (test_device(), dut());
    // Three classes by the sign pattern of two of six uniform features (not linear).
    let (d, n) = (6, 300);
    let mut rng = StdRng::seed_from_u64(9);
    let x: Vec<f32> = (0..n * d).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    let y: Vec<usize> = x
        .chunks(d)
        .map(|r| {
            if r[0] * r[1] > 0.0 {
                0
            } else if r[2] > 0.0 {
                1
            } else {
                2
            }
        })
        .collect();
    let (train_rows, valid_rows) = (240, 60);
    let train = LabeledRows::new(&x[..train_rows * d], d, &y[..train_rows]).unwrap();
    let valid = LabeledRows::new(
        &x[train_rows * d..],
        d,
        &y[train_rows..train_rows + valid_rows],
    )
    .unwrap();
    let spec = MlpSpec::new(d, 3).with_hidden(vec![32, 16]);
    let init = spec.init_random(&flex, 3).unwrap();
    let config = TrainConfig::new().with_max_epochs(2).with_patience(0);
    let a = train_classifier(
        &spec,
        Some(init.clone()),
        train,
        valid,
        &config,
        &flex,
        None,
    )
    .unwrap();
    let b = train_classifier(
        &spec,
        Some(init.to_device(&device)),
        train,
        valid,
        &config,
        &device,
        None,
    )
    .unwrap();
    for (x, y) in a.history.iter().zip(&b.history) {
        let tol = TRAIN_TOL as f32 * x.train_loss.abs().max(1e-3);
        assert!(
            (x.train_loss - y.train_loss).abs() <= tol,
            "{device:?}: epoch {}: loss {} vs {}",
            x.epoch,
            x.train_loss,
            y.train_loss
        );
    }
    assert_eq!(a.best_epoch, b.best_epoch);
    assert_close_weights(&format!("{device:?}"), &a.model, &b.model.to_device(&flex));
}
