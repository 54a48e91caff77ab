//! Target-model benches: one epoch of the per-task baseline training
//! (`modelgpt_targets::train::train_classifier`, `max_epochs = 1`) on 1000 x 20 synthetic rows of
//! 3 classes, and an MLP forward pass on a batch of 1024. The MLP has the generated shape
//! (`HyperNetConfig::general(384).mlp_spec`: 2 hidden layers of 64, LeakyReLU).
//!
//! Groups: `<backend>/baseline_epoch/1000x20`, `<backend>/mlp_forward/1024`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use burn::tensor::{Device, Tensor, TensorData};
use criterion::{BenchmarkId, Criterion, criterion_group};
use modelgpt_hypernet::HyperNetConfig;
use modelgpt_targets::train::{LabeledRows, TrainConfig, train_classifier};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const FEATURES: usize = 20;
const CLASSES: usize = 3;

/// `rows` standardised-looking rows whose class shifts one feature by +2.
fn synthetic(rows: usize, seed: u64) -> (Vec<f32>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let y: Vec<usize> = (0..rows).map(|_| rng.random_range(0..CLASSES)).collect();
    let x = (0..rows * FEATURES)
        .map(|i| {
            rng.random_range(-1.0f32..1.0)
                + if i % FEATURES == y[i / FEATURES] {
                    2.0
                } else {
                    0.0
                }
        })
        .collect();
    (x, y)
}

fn baseline_epoch(c: &mut Criterion) {
    let device = Device::default();
    let spec = HyperNetConfig::general(384).mlp_spec(FEATURES, CLASSES);
    let (xt, yt) = synthetic(1000, 1);
    let (xv, yv) = synthetic(200, 2);
    let config = TrainConfig::new().with_max_epochs(1);
    let mut group = c.benchmark_group(format!("{}/baseline_epoch", super::backend_name(&device)));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    group.bench_function(
        BenchmarkId::from_parameter(format!("1000x{FEATURES}")),
        |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    let out = train_classifier(
                        &spec,
                        None,
                        LabeledRows::new(&xt, FEATURES, &yt).expect("rows"),
                        LabeledRows::new(&xv, FEATURES, &yv).expect("rows"),
                        &config,
                        &device,
                        None,
                    )
                    .expect("training");
                    // The outcome's accuracies were read back on the host: synced.
                    black_box(out.best_valid_acc);
                }
                start.elapsed()
            });
        },
    );
    group.finish();
}

fn mlp_forward(c: &mut Criterion) {
    let device = Device::default();
    let spec = HyperNetConfig::general(384).mlp_spec(FEATURES, CLASSES);
    let mlp = spec.init_random(&device, 0).expect("valid spec");
    let (x, _) = synthetic(1024, 3);
    let x = Tensor::<2>::from_data(TensorData::new(x, [1024, FEATURES]), &device);
    let mut group = c.benchmark_group(format!("{}/mlp_forward", super::backend_name(&device)));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    group.bench_function(BenchmarkId::from_parameter(1024), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                // Sync: read the logits back before stopping the clock.
                black_box(mlp.forward(x.clone()).into_data());
            }
            start.elapsed()
        });
    });
    group.finish();
}

criterion_group!(benches, baseline_epoch, mlp_forward);
