//! The hypernetwork through the public API: shapes for any task, gradients into the generator,
//! and the paper mode's typed refusal of unseen tasks.

mod common;

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use common::{D_EMBED, HashEncoder, TaskShape, test_device};
use modelgpt_core::data::{CsvTable, TabularDataset};
use modelgpt_core::{Requirement, TargetFamily};
use modelgpt_hypernet::{
    Error, HyperNet, HyperNetConfig, PaperTask, TabularModelGpt, TaskContext, TaskSample,
    build_context, to_params,
};
use modelgpt_targets::MlpFamily;
use modelgpt_targets::metrics::cross_entropy;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serial_test::serial;

/// A random standardised sample of `rows x d` with labels cycling over `k` classes, and its
/// context (random embeddings).
fn random_context(
    d: usize,
    k: usize,
    rows: usize,
    seed: u64,
    device: &Device,
) -> (TaskContext, Vec<f32>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let y: Vec<usize> = (0..rows).map(|r| r % k).collect();
    let x: Vec<f32> = (0..rows * d)
        .map(|i| rng.random_range(-1.0f32..1.0) + 0.5 * (y[i / d] as f32) * ((i % d) % 3) as f32)
        .collect();
    let all: Vec<usize> = (0..rows).collect();
    let sample = TaskSample::from_rows(&x, d, &y, &all, k).unwrap();
    let emb = |n: usize, rng: &mut StdRng| -> Vec<f32> {
        (0..n * D_EMBED)
            .map(|_| rng.random_range(-1.0f32..1.0))
            .collect()
    };
    let req = emb(1, &mut rng);
    let feat = emb(d, &mut rng);
    let lab = emb(k, &mut rng);
    let req = Tensor::<2>::from_data(TensorData::new(req, [1, D_EMBED]), device);
    (
        build_context(req, &feat, &lab, D_EMBED, &sample, device),
        x,
        y,
    )
}

fn general_config() -> HyperNetConfig {
    HyperNetConfig::general(D_EMBED)
}

#[test]
#[serial]
fn general_mode_generates_any_shape_with_finite_logits() {
    let device = test_device();
    let config = general_config();
    device.seed(7);
    let hyper = config.init(&device).valid();
    let h = config.target_width;
    for (i, &(d, k)) in [(3, 2), (17, 9), (40, 26), (1, 2), (8, 3), (100, 10)]
        .iter()
        .enumerate()
    {
        let (ctx, x, _) = random_context(d, k, 60, 100 + i as u64, &device);
        assert_eq!((ctx.n_features(), ctx.n_classes()), (d, k));
        let tensors = hyper.generate_tensors("never_seen", &ctx).unwrap();
        assert_eq!(tensors.len(), config.target_depth + 1, "{d}x{k}");
        assert_eq!(tensors[0].0.dims(), [d, h], "{d}x{k} input layer");
        assert_eq!(tensors[0].1.dims(), [h]);
        for (w, b) in &tensors[1..config.target_depth] {
            assert_eq!(w.dims(), [h, h]);
            assert_eq!(b.dims(), [h]);
        }
        let (w_out, b_out) = tensors.last().unwrap();
        assert_eq!(w_out.dims(), [h, k], "{d}x{k} class head");
        assert_eq!(b_out.dims(), [k]);

        let family = MlpFamily::new(config.mlp_spec(d, k)).unwrap();
        let params = to_params(&family, tensors).unwrap();
        let xt = Tensor::<2>::from_data(TensorData::new(x.clone(), [60, d]), &device);
        let logits = family.try_forward_with(&params, xt.clone()).unwrap();
        assert_eq!(logits.dims(), [60, k]);
        let values: Vec<f32> = logits.clone().into_data().try_to_vec::<f32>().unwrap();
        assert!(
            values.iter().all(|v| v.is_finite()),
            "{d}x{k}: non-finite logits"
        );
        assert!(values.iter().any(|v| *v != 0.0), "{d}x{k}: all-zero logits");

        // The materialised module computes the same function.
        let mlp = family.materialize(params, &device).unwrap();
        mlp.forward(xt)
            .into_data()
            .assert_approx_eq::<f32>(&logits.into_data(), burn::tensor::Tolerance::default());
    }
}

#[test]
#[serial]
fn general_mode_untrained_separates_clusters() {
    // An untrained general generator emits the sample's linear-discriminant classifier (design
    // claim in `general.rs`), so well-separated clusters are classified almost perfectly.
    // Measured: 1.0 on this set (chance 0.33; 0.82 with the earlier class-mean-only design).
    let device = test_device();
    let encoder = HashEncoder::default();
    let mut cache = modelgpt_hypernet::EmbeddingCache::new();
    let shape = TaskShape {
        n_features: 7,
        n_classes: 3,
        rows: 300,
        separation: 5.0,
        seed: 11,
    };
    let task = common::prepared("clusters", shape, &encoder, &mut cache, &device);
    let config = general_config();
    device.seed(3);
    let hyper = config.init(&device).valid();
    let ctx = task.context(0, &task.sample, &device);
    let family = MlpFamily::new(config.mlp_spec(task.cols, task.n_classes())).unwrap();
    let params = to_params(&family, hyper.generate_tensors(&task.name, &ctx).unwrap()).unwrap();
    let logits = family
        .try_forward_with(&params, task.test.x_tensor(task.cols, &device))
        .unwrap();
    let acc = modelgpt_targets::metrics::accuracy(logits, &task.test.y).unwrap();
    assert!(acc > 0.95, "untrained general hypernet accuracy {acc}");
}

/// Collects every float parameter as (id, rank, values).
struct Collect(Vec<(ParamId, usize, Vec<f32>)>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push((
            param.id,
            D,
            param
                .val()
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .unwrap(),
        ));
    }
}

fn params_of(model: &HyperNet) -> Vec<(ParamId, usize, Vec<f32>)> {
    let mut c = Collect(Vec::new());
    model.visit(&mut c);
    c.0
}

/// Counts (parameters without a gradient, parameters with an all-zero gradient).
fn grad_coverage(model: &HyperNet, grads: &GradientsParams) -> (usize, usize) {
    let mut missing = 0;
    let mut zero = 0;
    for (id, rank, _) in params_of(model) {
        let g: Option<Vec<f32>> = match rank {
            1 => grads
                .get::<1>(id)
                .map(|g| g.into_data().try_to_vec::<f32>().unwrap()),
            2 => grads
                .get::<2>(id)
                .map(|g| g.into_data().try_to_vec::<f32>().unwrap()),
            r => panic!("unexpected parameter rank {r}"),
        };
        match g {
            None => missing += 1,
            Some(g) if g.iter().all(|v| *v == 0.0) => zero += 1,
            Some(g) => assert!(g.iter().all(|v| v.is_finite()), "non-finite gradient"),
        }
    }
    (missing, zero)
}

#[test]
#[serial]
fn gradients_reach_the_hypernetwork() {
    let ad = test_device().autodiff();
    let config = general_config();
    ad.seed(5);
    let mut model = config.init(&ad).train();
    let (ctx, x, y) = random_context(6, 3, 128, 9, &ad);
    let family = MlpFamily::new(config.mlp_spec(6, 3)).unwrap();
    let xt = Tensor::<2>::from_data(TensorData::new(x, [128, 6]), &ad);
    let before = params_of(&model);
    let mut optim = AdamConfig::new().init();
    for step in 0..2 {
        let params = to_params(&family, model.generate_tensors("t", &ctx).unwrap()).unwrap();
        let loss = cross_entropy(family.try_forward_with(&params, xt.clone()).unwrap(), &y);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let (missing, zero) = grad_coverage(&model, &grads);
        assert_eq!(
            missing,
            0,
            "step {step}: {missing} of {} parameters got no gradient",
            before.len()
        );
        if step == 0 {
            // The correction heads start at zero (an untrained generator emits the sample's
            // discriminant classifier), so only they get a gradient on the first step.
            assert!(zero < before.len(), "step 0: every gradient is zero");
        } else {
            assert_eq!(
                zero,
                0,
                "step {step}: {zero} of {} parameters got an all-zero gradient",
                before.len()
            );
        }
        model = optim.step(1e-2, model, grads);
    }
    // Two Adam steps change every weight of the generator.
    let after = params_of(&model);
    assert_eq!(before.len(), after.len());
    let changed = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a.2 != b.2)
        .count();
    assert_eq!(
        changed,
        before.len(),
        "only {changed} of {} parameter tensors changed",
        before.len()
    );
}

fn paper_config() -> HyperNetConfig {
    HyperNetConfig::paper(
        D_EMBED,
        vec![
            PaperTask {
                name: "iris".into(),
                n_features: 4,
                n_classes: 3,
            },
            PaperTask {
                name: "wine".into(),
                n_features: 13,
                n_classes: 3,
            },
        ],
    )
}

#[test]
#[serial]
fn paper_mode_serves_known_tasks() {
    let device = test_device();
    let config = paper_config();
    device.seed(1);
    let hyper = config.init(&device).valid();
    for (name, d, k) in [("iris", 4, 3), ("wine", 13, 3)] {
        let (ctx, x, _) = random_context(d, k, 20, 3, &device);
        let tensors = hyper.generate_tensors(name, &ctx).unwrap();
        assert_eq!(tensors[0].0.dims(), [d, config.target_width]);
        assert_eq!(tensors.last().unwrap().0.dims(), [config.target_width, k]);
        let family = MlpFamily::new(config.mlp_spec(d, k)).unwrap();
        let params = to_params(&family, tensors).unwrap();
        let logits = family
            .try_forward_with(
                &params,
                Tensor::from_data(TensorData::new(x, [20, d]), &device),
            )
            .unwrap();
        let values: Vec<f32> = logits.into_data().try_to_vec::<f32>().unwrap();
        assert!(values.iter().all(|v| v.is_finite()));
    }
}

#[test]
#[serial]
fn paper_mode_refuses_unseen_tasks_with_a_typed_error() {
    let device = test_device();
    let config = paper_config();
    device.seed(1);
    let hyper = config.init(&device).valid();
    // An unknown name.
    let (ctx, _, _) = random_context(4, 3, 20, 3, &device);
    let err = hyper.generate_tensors("penguins", &ctx).unwrap_err();
    match &err {
        Error::UnseenTask {
            task,
            n_features,
            n_classes,
        } => {
            assert_eq!((task.as_str(), *n_features, *n_classes), ("penguins", 4, 3));
        }
        other => panic!("expected UnseenTask, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("penguins") && msg.contains("general"), "{msg}");

    // A known name with a feature or class count it was not trained on.
    for (d, k) in [(5, 3), (4, 2)] {
        let (ctx, _, _) = random_context(d, k, 20, 3, &device);
        let err = hyper.generate_tensors("iris", &ctx).unwrap_err();
        assert!(
            matches!(err, Error::UnseenTask { ref task, .. } if task == "iris"),
            "{err:?}"
        );
    }
}

#[test]
#[serial]
fn facade_in_paper_mode_refuses_unseen_tasks() {
    let device = test_device();
    let config = paper_config();
    device.seed(1);
    let hyper = config.init(&device);
    let gpt = TabularModelGpt::builder()
        .encoder(Box::new(HashEncoder::default()))
        .hypernet(hyper, config)
        .build(&device)
        .unwrap();
    let shape = TaskShape {
        n_features: 4,
        n_classes: 3,
        rows: 60,
        separation: 3.0,
        seed: 5,
    };
    let req = Requirement::new("A 3-class flower task.");
    // Same shapes as `iris`, but named otherwise.
    let err = gpt
        .generate(&common::dataset("penguins", shape), &req)
        .unwrap_err();
    assert!(
        matches!(err, Error::UnseenTask { ref task, .. } if task == "penguins"),
        "{err:?}"
    );
    // The known task works.
    let model = gpt.generate(&common::dataset("iris", shape), &req).unwrap();
    assert_eq!(model.labels().len(), 3);
}

#[test]
#[serial]
fn facade_generates_for_unseen_shapes_in_general_mode() {
    let device = test_device();
    let config = general_config();
    device.seed(2);
    let gpt = TabularModelGpt::builder()
        .encoder(Box::new(HashEncoder::default()))
        .hypernet(config.init(&device), config.clone())
        .build(&device)
        .unwrap();
    for (i, (d, k)) in [(3, 2), (17, 9), (40, 6)].into_iter().enumerate() {
        let shape = TaskShape {
            n_features: d,
            n_classes: k,
            rows: 20 * k,
            separation: 6.0,
            seed: 40 + i as u64,
        };
        let ds = common::dataset("user_data", shape);
        let model = gpt
            .generate(
                &ds,
                &Requirement::new(format!("A {k}-class task with {d} features.")),
            )
            .unwrap();
        assert_eq!(model.mlp().d_input(), d);
        assert_eq!(model.mlp().n_classes(), k);
        let rows: Vec<usize> = (0..ds.n_rows()).collect();
        let pred = model.predict(&ds, &rows).unwrap();
        assert_eq!(pred.len(), ds.n_rows());
        assert!(pred.iter().all(|&p| p < k));
        assert!(model.timing().total_ms() > 0.0);
    }
}

#[test]
fn builder_rejects_missing_parts_and_width_mismatch() {
    let device = test_device();
    let err = TabularModelGpt::builder().build(&device).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidConfig {
                field: "encoder",
                ..
            }
        ),
        "{err:?}"
    );
    let err = TabularModelGpt::builder()
        .encoder(Box::new(HashEncoder::default()))
        .build(&device)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidConfig {
                field: "hypernet",
                ..
            }
        ),
        "{err:?}"
    );
    let config = HyperNetConfig::general(D_EMBED + 1);
    let err = TabularModelGpt::builder()
        .encoder(Box::new(HashEncoder::default()))
        .hypernet(config.init(&device), config)
        .build(&device)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidConfig {
                field: "d_embed",
                ..
            }
        ),
        "{err:?}"
    );
}

/// Tailors, predicts, times and saves through the facade traits only, as code generic over
/// modalities would.
fn tailor_through_traits<'a, C: modelgpt_core::ModelCustomizer>(
    customizer: &'a C,
    sample: &C::Sample,
    requirement: &Requirement,
    inputs: &<C::Tailored<'a> as modelgpt_core::TailoredModel>::Input,
    dir: &std::path::Path,
) -> (
    Vec<usize>,
    Vec<String>,
    modelgpt_core::GenerationTiming,
    usize,
) {
    use modelgpt_core::TailoredModel;
    let model = customizer.tailor(sample, requirement).unwrap();
    let predicted = model.predict(inputs).unwrap();
    let labels = model.predict_labels(inputs).unwrap();
    model.save(dir).unwrap();
    (
        predicted,
        labels,
        model.timing(),
        model.n_generated_params(),
    )
}

#[test]
#[serial]
fn tabular_facade_works_through_the_customizer_traits() {
    use modelgpt_core::{Modality, ModelCustomizer};
    let device = test_device();
    let config = general_config();
    device.seed(4);
    let gpt = TabularModelGpt::builder()
        .encoder(Box::new(HashEncoder::default()))
        .hypernet(config.init(&device), config.clone())
        .build(&device)
        .unwrap();
    assert_eq!(gpt.modality(), Modality::Tabular);
    let shape = TaskShape {
        n_features: 3,
        n_classes: 3,
        rows: 90,
        separation: 4.0,
        seed: 9,
    };
    let csv = common::cluster_csv(shape);
    let sample = TabularDataset::from_csv_str(&csv, "label", "clusters").unwrap();
    let table = CsvTable::parse_str(&csv, "clusters.csv").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let req = Requirement::new("A 3-class tabular task on clusters.");
    let (predicted, labels, timing, n_params) =
        tailor_through_traits(&gpt, &sample, &req, &table, dir.path());
    assert_eq!(predicted.len(), sample.n_rows());
    // Well separated clusters: the generated (untrained = shrunk-LDA) model gets most right.
    let hits = predicted
        .iter()
        .zip(&sample.targets)
        .filter(|(p, t)| p == t)
        .count();
    assert!(
        hits * 10 >= sample.n_rows() * 8,
        "{hits} of {}",
        sample.n_rows()
    );
    assert_eq!(labels[0], sample.label_names[predicted[0]]);
    assert_eq!(timing.n_sample, sample.n_rows());
    assert!(timing.total_ms() > 0.0);
    let spec = config.mlp_spec(3, 3);
    let expected: usize = [3, spec.hidden[0], spec.hidden[1], 3]
        .windows(2)
        .map(|w| w[0] * w[1] + w[1])
        .sum();
    assert_eq!(n_params, expected);
    // What the trait saved loads back and predicts the same.
    let loaded = modelgpt_hypernet::TailoredTabularModel::load(dir.path(), &device).unwrap();
    assert_eq!(
        modelgpt_core::TailoredModel::predict(&loaded, &table).unwrap(),
        predicted
    );
}
