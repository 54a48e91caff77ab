//! MLP target family, baseline training and save/load, through the public API only.

mod common;

use common::test_device;

use burn::tensor::{Device, Tensor, TensorData, Tolerance};
use modelgpt_core::{GeneratedParams, TargetFamily};
use modelgpt_targets::{
    EpochStats, Error, LabeledRows, Mlp, MlpActivation, MlpFamily, MlpSpec, TrainConfig,
    logistic_regression, majority_accuracy, predict, time_to_reach, train_classifier,
};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// `rows x cols` uniform features in [-1, 1).
fn features(rng: &mut StdRng, rows: usize, cols: usize) -> Vec<f32> {
    (0..rows * cols)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect()
}

/// A linearly separable 3-class set: the class is the arg-max of three fixed linear scores, and
/// rows closer than a margin to a decision boundary are dropped.
fn separable(seed: u64, rows: usize, cols: usize) -> (Vec<f32>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    // One direction per class, the same for every seed.
    let mut dirs = StdRng::seed_from_u64(99);
    let w: Vec<Vec<f32>> = (0..3).map(|_| features(&mut dirs, 1, cols)).collect();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    while y.len() < rows {
        let row = features(&mut rng, 1, cols);
        let mut scores: Vec<(f32, usize)> = w
            .iter()
            .enumerate()
            .map(|(c, wc)| (wc.iter().zip(&row).map(|(a, b)| a * b).sum(), c))
            .collect();
        scores.sort_by(|a, b| b.0.total_cmp(&a.0));
        if scores[0].0 - scores[1].0 > 0.1 {
            x.extend(row);
            y.push(scores[0].1);
        }
    }
    (x, y)
}

fn tensor(x: &[f32], cols: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(x.to_vec(), [x.len() / cols, cols]), device)
}

#[test]
fn forward_with_equals_materialized_forward() {
    let device = test_device();
    for activation in [
        MlpActivation::Relu,
        MlpActivation::Gelu,
        MlpActivation::LeakyRelu,
        MlpActivation::Tanh,
    ] {
        let spec = MlpSpec::new(5, 3)
            .with_hidden(vec![7, 4])
            .with_activation(activation);
        let family = MlpFamily::new(spec.clone()).unwrap();
        let params = spec.init_random(&device, 11).unwrap().to_params();
        let x = tensor(&features(&mut StdRng::seed_from_u64(1), 6, 5), 5, &device);

        let functional = family.forward_with(&params, x.clone());
        let model = family.materialize(params, &device).unwrap();
        let materialized = model.forward(x);
        assert_eq!(functional.dims(), [6, 3]);
        functional
            .into_data()
            .assert_approx_eq::<f32>(&materialized.into_data(), Tolerance::default());
    }
}

#[test]
fn to_params_inverts_materialize() {
    let device = test_device();
    let spec = MlpSpec::new(4, 2).with_hidden(vec![3]);
    let family = MlpFamily::new(spec.clone()).unwrap();
    let model = spec.init_random(&device, 5).unwrap();
    let params = model.to_params();
    assert_eq!(params.spec(), family.spec());
    let again = family
        .materialize(params.clone(), &device)
        .unwrap()
        .to_params();
    for (a, b) in params.flat().iter().zip(again.flat()) {
        a.to_data().assert_eq(&b.to_data(), true);
    }
}

#[test]
fn logistic_regression_family_has_one_layer() {
    let device = test_device();
    let spec = MlpSpec::new(3, 4).with_hidden(vec![]);
    let family = MlpFamily::new(spec.clone()).unwrap();
    assert_eq!(family.spec().len(), 2);
    let params = spec.init_random(&device, 0).unwrap().to_params();
    let out = family.forward_with(&params, Tensor::zeros([2, 3], &device));
    assert_eq!(out.dims(), [2, 4]);
}

#[test]
fn gradient_reaches_the_generator() {
    let device = test_device().autodiff();
    let spec = MlpSpec::new(4, 3).with_hidden(vec![6]);
    let family = MlpFamily::new(spec).unwrap();

    // A stand-in generator: one leaf vector sliced into every tensor of the spec.
    let n = family.spec().numel();
    let values = features(&mut StdRng::seed_from_u64(3), 1, n);
    let source = Tensor::<1>::from_data(TensorData::new(values, [n]), &device).require_grad();
    let mut offset = 0;
    let mut tensors = Vec::new();
    for entry in family.spec().entries() {
        tensors.push(source.clone().slice(offset..offset + entry.numel()));
        offset += entry.numel();
    }
    let params = GeneratedParams::from_flat(family.spec().clone(), tensors).unwrap();

    let x = tensor(&features(&mut StdRng::seed_from_u64(4), 8, 4), 4, &device);
    let loss = family.forward_with(&params, x).powi_scalar(2).mean();
    let grads = loss.backward();
    let grad = source
        .grad(&grads)
        .expect("the generator's leaf receives a gradient");
    assert_eq!(grad.dims(), [n]);
    let norm: f32 = grad.abs().sum().into_scalar();
    assert!(norm > 0.0, "gradient is all zeros");
}

#[test]
fn training_reaches_high_accuracy_on_a_separable_set() {
    let device = test_device();
    let (x, y) = separable(1, 600, 4);
    let (xv, yv) = separable(2, 200, 4);
    let train = LabeledRows::new(&x, 4, &y).unwrap();
    let valid = LabeledRows::new(&xv, 4, &yv).unwrap();
    let config = TrainConfig::new().with_max_epochs(40).with_patience(10);
    let spec = MlpSpec::new(4, 3).with_hidden(vec![16]);

    let mut seen = Vec::new();
    let mut on_epoch = |s: EpochStats| seen.push(s.epoch);
    let outcome = train_classifier(
        &spec,
        None,
        train,
        valid,
        &config,
        &device,
        Some(&mut on_epoch),
    )
    .unwrap();
    assert!(
        outcome.best_valid_acc >= 0.95,
        "best validation accuracy {}",
        outcome.best_valid_acc
    );
    assert_eq!(
        seen,
        outcome.history.iter().map(|s| s.epoch).collect::<Vec<_>>()
    );
    assert_eq!(outcome.history[0].epoch, 0);
    assert!(
        outcome
            .history
            .windows(2)
            .all(|w| w[0].elapsed_ms <= w[1].elapsed_ms)
    );

    // The returned model is the best one.
    let predicted = predict(&outcome.model, &xv).unwrap();
    let acc = predicted.iter().zip(&yv).filter(|(p, t)| p == t).count() as f32 / yv.len() as f32;
    assert!((acc - outcome.best_valid_acc).abs() < 1e-6);
    assert!(time_to_reach(&outcome.history, outcome.best_valid_acc).is_some());

    let logreg = logistic_regression(3, train, valid, &config, &device, None).unwrap();
    assert!(
        logreg.best_valid_acc >= 0.95,
        "logistic regression {}",
        logreg.best_valid_acc
    );
    assert!(majority_accuracy(&y, &yv) < 0.6);
}

#[test]
fn same_seed_same_history() {
    let device = test_device();
    let (x, y) = separable(5, 200, 3);
    let (xv, yv) = separable(6, 60, 3);
    let train = LabeledRows::new(&x, 3, &y).unwrap();
    let valid = LabeledRows::new(&xv, 3, &yv).unwrap();
    let config = TrainConfig::new().with_max_epochs(5).with_seed(9);
    let spec = MlpSpec::new(3, 3).with_hidden(vec![8, 8]);
    let run = || train_classifier(&spec, None, train, valid, &config, &device, None).unwrap();
    let (a, b) = (run(), run());
    let strip = |h: &[EpochStats]| {
        h.iter()
            .map(|s| (s.epoch, s.train_loss, s.valid_acc))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&a.history), strip(&b.history));
    a.model.to_params().flat()[0]
        .to_data()
        .assert_eq(&b.model.to_params().flat()[0].to_data(), true);
}

#[test]
fn finetuning_starts_from_the_given_model() {
    let device = test_device();
    let (x, y) = separable(8, 200, 3);
    let train = LabeledRows::new(&x, 3, &y).unwrap();
    let spec = MlpSpec::new(3, 3).with_hidden(vec![8]);
    let trained = train_classifier(
        &spec,
        None,
        train,
        train,
        &TrainConfig::new().with_max_epochs(30),
        &device,
        None,
    )
    .unwrap();
    let again = train_classifier(
        &spec,
        Some(trained.model),
        train,
        train,
        &TrainConfig::new().with_max_epochs(1),
        &device,
        None,
    )
    .unwrap();
    assert_eq!(again.history[0].valid_acc, trained.best_valid_acc);

    let wrong = MlpSpec::new(3, 3)
        .with_hidden(vec![5])
        .init_random(&device, 0)
        .unwrap();
    let err = train_classifier(
        &spec,
        Some(wrong),
        train,
        train,
        &TrainConfig::new(),
        &device,
        None,
    )
    .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
}

#[test]
fn bad_training_input_gives_typed_errors() {
    let device = test_device();
    let x = [0.0f32; 6];
    let spec = MlpSpec::new(3, 2);
    let ok = LabeledRows::new(&x, 3, &[0, 1]).unwrap();
    let bad_label = LabeledRows::new(&x, 3, &[0, 2]).unwrap();
    let err = train_classifier(
        &spec,
        None,
        bad_label,
        ok,
        &TrainConfig::new(),
        &device,
        None,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::LabelOutOfRange {
                row: 1,
                label: 2,
                n_classes: 2,
                ..
            }
        ),
        "{err}"
    );

    let empty = LabeledRows::new(&[], 3, &[]).unwrap();
    let err =
        train_classifier(&spec, None, ok, empty, &TrainConfig::new(), &device, None).unwrap_err();
    assert!(matches!(err, Error::InvalidData { .. }), "{err}");

    let err = train_classifier(
        &spec,
        None,
        ok,
        ok,
        &TrainConfig::new().with_lr(0.0),
        &device,
        None,
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::InvalidConfig { field: "lr", .. }),
        "{err}"
    );

    let narrow = LabeledRows::new(&x, 2, &[0, 1, 0]).unwrap();
    let err =
        train_classifier(&spec, None, narrow, ok, &TrainConfig::new(), &device, None).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");

    let model = spec.init_random(&device, 0).unwrap();
    assert!(matches!(
        predict(&model, &[1.0; 4]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        MlpFamily::new(MlpSpec::new(3, 1)),
        Err(Error::InvalidConfig { .. })
    ));
}

#[test]
fn save_load_round_trip() {
    let device = test_device();
    let dir = tempfile::tempdir().unwrap();
    let spec = MlpSpec::new(4, 3)
        .with_hidden(vec![5, 6])
        .with_activation(MlpActivation::Gelu);
    let model = spec.init_random(&device, 21).unwrap();
    model.save(dir.path()).unwrap();
    // Saving again overwrites.
    model.save(dir.path()).unwrap();
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "no temporary files left: {names:?}");

    let loaded = Mlp::load(dir.path(), &device).unwrap();
    assert_eq!(loaded.spec(), spec);
    let x = tensor(&features(&mut StdRng::seed_from_u64(2), 5, 4), 4, &device);
    model
        .forward(x.clone())
        .into_data()
        .assert_eq(&loaded.forward(x).into_data(), true);
}

#[test]
fn corrupt_or_mismatched_files_give_typed_errors() {
    let device = test_device();
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("model.safetensors");
    let spec_file = dir.path().join("mlp.json");

    assert!(matches!(
        Mlp::load(dir.path(), &device),
        Err(Error::MissingFile { .. })
    ));

    let spec = MlpSpec::new(4, 3).with_hidden(vec![5]);
    spec.init_random(&device, 0)
        .unwrap()
        .save(dir.path())
        .unwrap();

    // Truncated weights.
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let err = Mlp::load(dir.path(), &device).unwrap_err();
    assert!(matches!(err, Error::Safetensors { .. }), "{err}");

    // Garbage header.
    std::fs::write(&weights, b"not a safetensors file at all").unwrap();
    let err = Mlp::load(dir.path(), &device).unwrap_err();
    assert!(matches!(err, Error::Safetensors { .. }), "{err}");

    // Weights of another shape than the spec says: the error names the tensor.
    MlpSpec::new(4, 3)
        .with_hidden(vec![6])
        .init_random(&device, 0)
        .unwrap()
        .save(dir.path())
        .unwrap();
    std::fs::write(&spec_file, serde_json::to_string(&spec).unwrap()).unwrap();
    let err = Mlp::load(dir.path(), &device).unwrap_err();
    assert!(
        matches!(err, Error::ShapeMismatch { ref what, .. } if what.contains("layers.0.weight")),
        "{err}"
    );

    // A deeper model's weights: extra tensors.
    MlpSpec::new(4, 3)
        .with_hidden(vec![5, 5])
        .init_random(&device, 0)
        .unwrap()
        .save(dir.path())
        .unwrap();
    std::fs::write(&spec_file, serde_json::to_string(&spec).unwrap()).unwrap();
    let err = Mlp::load(dir.path(), &device).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnexpectedTensors { .. } | Error::ShapeMismatch { .. }
        ),
        "{err}"
    );

    // Broken spec.
    std::fs::write(&spec_file, "{\"d_input\": 4").unwrap();
    let err = Mlp::load(dir.path(), &device).unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err}");
    std::fs::write(
        &spec_file,
        serde_json::to_string(&MlpSpec::new(0, 3)).unwrap(),
    )
    .unwrap();
    let err = Mlp::load(dir.path(), &device).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
}
