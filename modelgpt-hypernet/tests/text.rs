//! Text hypernetwork: generation for any class count, and end-to-end meta-training on a tiny
//! random BERT (no assets needed).
//!
//! Every test is `#[serial]`: they draw from the device's random generator, which one test's
//! seed resets for all (one concurrent run in the workspace suite saw a loss curve end above
//! its start).

mod common;

use common::test_device;

use burn::tensor::{Bool, Device, Distribution, Int, Tensor};
use modelgpt_hypernet::{
    Error, TextHyperNetConfig, TextMetaConfig, TextMetaTask, TextSample, TextTaskInput,
    meta_train_text,
};
use modelgpt_targets::{BertConfig, BertModel, PrefixFeatures, TextLoraConfig, TextLoraFamily};
use serial_test::serial;

const D: usize = 16;

fn tiny_bert(device: &Device) -> BertModel {
    BertConfig::new()
        .with_vocab_size(30)
        .with_hidden_size(D)
        .with_num_hidden_layers(3)
        .with_num_attention_heads(4)
        .with_intermediate_size(24)
        .with_max_position_embeddings(12)
        .init(device)
}

fn config() -> TextHyperNetConfig {
    TextHyperNetConfig {
        d_embed: D,
        d_model: D,
        d_hidden: 12,
        d_class: 6,
        lora: TextLoraConfig::default()
            .with_rank(2)
            .with_layers([2])
            .with_max_length(8),
        ..TextHyperNetConfig::default()
    }
}

fn unit_rows(n: usize, device: &Device) -> Vec<f32> {
    let t = Tensor::<2>::random([n, D], Distribution::Normal(0.0, 1.0), device);
    let norm = t.clone().square().sum_dim(1).sqrt();
    (t / norm).into_data().iter::<f32>().collect()
}

/// A support sample of `k` classes, 3 random unit embeddings each.
fn sample(k: usize, device: &Device) -> TextSample {
    let emb = unit_rows(3 * k, device);
    let targets: Vec<usize> = (0..3 * k).map(|i| i % k).collect();
    let rows: Vec<usize> = (0..3 * k).collect();
    TextSample::from_embeddings(&emb, D, &targets, &rows, k, 0.05).unwrap()
}

#[test]
#[serial]
fn generates_heads_for_any_class_count() {
    let device = test_device();
    let model = tiny_bert(&device);
    let cfg = config();
    let hyper = cfg.init(&device).unwrap();
    for k in [2, 5, 11] {
        let family = TextLoraFamily::for_model(&model, cfg.lora.clone(), k).unwrap();
        let support = sample(k, &device);
        let input = TextTaskInput::from_host(
            &unit_rows(1, &device),
            &unit_rows(k, &device),
            &support,
            &device,
        )
        .unwrap();
        let params = hyper.generate(&family, &input).unwrap();
        assert_eq!(params.spec(), family.spec());
        let w: Tensor<2> = params.get("classifier.weight").unwrap();
        assert_eq!(w.dims(), [D, k]);
        // Untrained: the head is the support sample's shrunk-LDA classifier.
        let lda = Tensor::<2>::from_data(
            burn::tensor::TensorData::new(support.lda_dirs.clone(), [k, D]),
            &device,
        )
        .transpose();
        let gap = (w - lda).abs().max().into_scalar::<f32>();
        assert!(gap < 1e-3, "head differs from LDA by {gap}");
        let bias: Tensor<1> = params.get("classifier.bias").unwrap();
        let offsets = Tensor::<1>::from_floats(support.lda_offsets.as_slice(), &device);
        assert!((bias - offsets).abs().max().into_scalar::<f32>() < 1e-4);
        // Untrained: B = 0, so the adapted tail equals the frozen encoder.
        let b: Tensor<2> = params
            .get("encoder.layer.2.attention.self.query.lora_b")
            .unwrap();
        assert_eq!(b.abs().max().into_scalar::<f32>(), 0.0);
    }
    // Mismatched inputs are errors, not panics.
    let family = TextLoraFamily::for_model(&model, cfg.lora.clone(), 3).unwrap();
    let input = TextTaskInput::from_host(
        &unit_rows(1, &device),
        &unit_rows(2, &device),
        &sample(2, &device),
        &device,
    )
    .unwrap();
    assert!(hyper.generate(&family, &input).is_err());
    assert!(TextTaskInput::from_host(&[0.0; 3], &[0.0; 32], &sample(2, &device), &device).is_err());
    // Label embeddings for 3 classes with a sample of 2 classes.
    assert!(
        TextTaskInput::from_host(
            &unit_rows(1, &device),
            &unit_rows(3, &device),
            &sample(2, &device),
            &device
        )
        .is_err()
    );
    // A support set with one class or an out-of-range label is a typed error.
    let err = TextSample::from_embeddings(&unit_rows(2, &device), D, &[0, 5], &[0, 1], 2, 0.05);
    assert!(matches!(err, Err(Error::InvalidInput { .. })));
    let err = TextSample::from_embeddings(&unit_rows(2, &device), D, &[0, 1], &[0, 1], 2, 1.5);
    assert!(matches!(err, Err(Error::InvalidInput { .. })));
}

#[test]
#[serial]
fn checkpoints_of_another_layout_are_refused() {
    let device = test_device();
    let cfg = TextHyperNetConfig {
        version: 1,
        ..config()
    };
    let err = cfg.init(&device).unwrap_err();
    assert!(err.to_string().contains("layout 1"), "{err}");
}

#[test]
#[serial]
fn meta_training_reduces_the_loss() {
    let device = test_device();
    device.seed(7);
    let ad_model = tiny_bert(&device.clone().autodiff());
    let n = 24;
    // Two separable classes: hidden states shifted along a class direction.
    let targets: Vec<usize> = (0..n).map(|i| i % 2).collect();
    let noise = Tensor::<3>::random([n, 4, D], Distribution::Normal(0.0, 1.0), &device);
    let sign: Vec<f32> = targets
        .iter()
        .map(|&t| if t == 0 { -2.0 } else { 2.0 })
        .collect();
    let shift = Tensor::<1>::from_floats(sign.as_slice(), &device).reshape([n, 1, 1]);
    let hidden = noise + shift;
    let mask_pad: Tensor<2, Bool> = Tensor::<2, Int>::zeros([n, 4], &device).bool();
    let task = TextMetaTask {
        name: "toy".into(),
        requirements: vec![unit_rows(1, &device), unit_rows(1, &device)],
        labels: unit_rows(2, &device),
        n_classes: 2,
        features: PrefixFeatures { hidden, mask_pad },
        base_embeddings: unit_rows(n, &device),
        targets,
    };
    let meta = TextMetaConfig {
        steps: 40,
        batch_size: 8,
        lr: 1e-2,
        support_per_class: 4,
        eval_every: 0,
        ..TextMetaConfig::default()
    };
    let (_hyper, report) = meta_train_text(
        &config(),
        &meta,
        std::slice::from_ref(&task),
        &ad_model,
        &device,
        |_, _| {},
        |_| Ok(0.0),
    )
    .unwrap();
    assert_eq!(report.steps, 40);
    assert!(report.valid_curve.is_empty());
    let first = report.loss_curve[0];
    let last = *report.loss_curve.last().unwrap();
    assert!(last.is_finite() && last < first, "loss {first} -> {last}");
}

#[test]
#[serial]
fn meta_training_keeps_the_best_validated_generator() {
    let device = test_device();
    device.seed(3);
    let ad_model = tiny_bert(&device.clone().autodiff());
    let n = 16;
    let targets: Vec<usize> = (0..n).map(|i| i % 2).collect();
    let hidden = Tensor::<3>::random([n, 4, D], Distribution::Normal(0.0, 1.0), &device);
    let mask_pad: Tensor<2, Bool> = Tensor::<2, Int>::zeros([n, 4], &device).bool();
    let task = TextMetaTask {
        name: "toy".into(),
        requirements: vec![unit_rows(1, &device)],
        labels: unit_rows(2, &device),
        n_classes: 2,
        features: PrefixFeatures { hidden, mask_pad },
        base_embeddings: unit_rows(n, &device),
        targets,
    };
    let meta = TextMetaConfig {
        steps: 10,
        batch_size: 4,
        eval_every: 4,
        ..TextMetaConfig::default()
    };
    // A score that peaks at the second validation (step 4).
    let scores = [0.1, 0.9, 0.5, 0.2];
    let mut calls = 0;
    let (_hyper, report) = meta_train_text(
        &config(),
        &meta,
        &[task],
        &ad_model,
        &device,
        |_, _| {},
        |_| {
            calls += 1;
            Ok(scores[(calls - 1).min(3)])
        },
    )
    .unwrap();
    let steps: Vec<usize> = report.valid_curve.iter().map(|&(s, _)| s).collect();
    assert_eq!(steps, vec![0, 4, 8, 10]);
    assert_eq!(report.best_step, 4);
}
