//! Hypernetwork benches: generation latency of the kernel mode (`HyperNetConfig::kernel(384)`,
//! the default) and of the general mode (`HyperNetConfig::general(384)`), both untrained (the
//! latency does not depend on the weights), and the equivalent of one end-to-end meta-training
//! step of the general mode.
//!
//! Groups: `<backend>/generate_mlp/<mode>/<features>x<classes>x<rows>` (the sample statistics
//! from the standardised rows, context build from host-side embeddings, hypernetwork forward —
//! in kernel mode the hidden-unit features of the sample and the closed-form solve —, and
//! `MlpFamily::materialize`; the sentence encoder is not timed) and
//! `<backend>/meta_step/<features>x<classes>` (generate on an autodiff device, MLP forward on a
//! batch of 128, cross-entropy, backward, Adam step on the hypernetwork).

use std::hint::black_box;
use std::time::{Duration, Instant};

use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use criterion::{BenchmarkId, Criterion, criterion_group};
use modelgpt_core::TargetFamily;
use modelgpt_hypernet::{HyperNetConfig, TaskSample, build_context, to_params};
use modelgpt_targets::MlpFamily;
use modelgpt_targets::metrics::cross_entropy;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Width of MiniLM sentence embeddings.
const D_EMBED: usize = 384;
/// (features, classes) of the benched meta-training steps.
const SHAPES: [(usize, usize); 3] = [(8, 3), (30, 2), (100, 10)];
/// (features, classes, rows) of the benched generations.
const GEN_SHAPES: [(usize, usize, usize); 4] =
    [(8, 3, 500), (30, 2, 2000), (100, 10, 2000), (100, 10, 500)];
/// Rows of the user's sample / of a meta-training minibatch.
const ROWS: usize = 128;

/// Host-side inputs of one task: embeddings, a labelled sample and its statistics.
struct HostTask {
    d: usize,
    k: usize,
    req: Vec<f32>,
    feat: Vec<f32>,
    label: Vec<f32>,
    x: Vec<f32>,
    y: Vec<usize>,
    sample: TaskSample,
}

fn host_task(d: usize, k: usize, seed: u64) -> HostTask {
    host_task_rows(d, k, ROWS, seed)
}

fn host_task_rows(d: usize, k: usize, n_rows: usize, seed: u64) -> HostTask {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut draw =
        |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect() };
    let req = draw(D_EMBED);
    let feat = draw(d * D_EMBED);
    let label = draw(k * D_EMBED);
    let y: Vec<usize> = (0..n_rows).map(|r| r % k).collect();
    let x: Vec<f32> = draw(n_rows * d)
        .into_iter()
        .enumerate()
        .map(|(i, v)| v + if i % d == y[i / d] % d { 1.0 } else { 0.0 })
        .collect();
    let rows: Vec<usize> = (0..n_rows).collect();
    let sample = TaskSample::from_rows(&x, d, &y, &rows, k).expect("valid synthetic sample");
    HostTask {
        d,
        k,
        req,
        feat,
        label,
        x,
        y,
        sample,
    }
}

fn generate(c: &mut Criterion) {
    let device = Device::default();
    let mut group = c.benchmark_group(format!("{}/generate_mlp", super::backend_name(&device)));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for config in [
        HyperNetConfig::kernel(D_EMBED),
        HyperNetConfig::general(D_EMBED),
    ] {
        device.seed(0);
        let hyper = config.init(&device);
        for (i, &(d, k, n)) in GEN_SHAPES.iter().enumerate() {
            let task = host_task_rows(d, k, n, i as u64);
            let rows: Vec<usize> = (0..n).collect();
            group.bench_with_input(
                BenchmarkId::new(config.mode.as_str(), format!("{d}x{k}x{n}")),
                &task,
                |b, t| {
                    b.iter_custom(|iters| {
                        let start = Instant::now();
                        for _ in 0..iters {
                            let sample = TaskSample::from_rows(&t.x, t.d, &t.y, &rows, t.k)
                                .expect("valid synthetic sample");
                            let req = Tensor::<2>::from_data(
                                TensorData::new(t.req.clone(), [1, D_EMBED]),
                                &device,
                            );
                            let ctx =
                                build_context(req, &t.feat, &t.label, D_EMBED, &sample, &device);
                            let tensors = hyper.generate_tensors("bench", &ctx).expect("generates");
                            let family =
                                MlpFamily::new(config.mlp_spec(t.d, t.k)).expect("valid spec");
                            let params = to_params(&family, tensors).expect("shapes");
                            let mlp = family.materialize(params, &device).expect("shapes");
                            // Sync: read the last generated tensor back before stopping the clock.
                            let head = mlp.layers().last().expect("at least one layer");
                            black_box(head.weight.val().into_data());
                        }
                        start.elapsed()
                    });
                },
            );
        }
    }
    group.finish();
}

fn meta_step(c: &mut Criterion) {
    let device = Device::default();
    let ad = device.clone().autodiff();
    let config = HyperNetConfig::general(D_EMBED);
    let mut group = c.benchmark_group(format!("{}/meta_step", super::backend_name(&device)));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for (i, &(d, k)) in SHAPES.iter().enumerate() {
        let task = host_task(d, k, 10 + i as u64);
        let family = MlpFamily::new(config.mlp_spec(d, k)).expect("valid spec");
        ad.seed(0);
        let mut model = Some(config.init(&ad).train());
        let mut optim = AdamConfig::new()
            .with_grad_clipping(Some(GradientClippingConfig::Norm(0.25)))
            .init();
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{d}x{k}")),
            &task,
            |b, t| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let hyper = model.take().expect("model is put back every step");
                        let req = Tensor::<2>::from_data(
                            TensorData::new(t.req.clone(), [1, D_EMBED]),
                            &ad,
                        );
                        let ctx = build_context(req, &t.feat, &t.label, D_EMBED, &t.sample, &ad);
                        let params = to_params(
                            &family,
                            hyper.generate_tensors("bench", &ctx).expect("general mode"),
                        )
                        .expect("shapes");
                        let xb =
                            Tensor::<2>::from_data(TensorData::new(t.x.clone(), [ROWS, t.d]), &ad);
                        let logits = family.try_forward_with(&params, xb).expect("shapes");
                        let loss = cross_entropy(logits, &t.y);
                        // The trainer reads the loss value every step too.
                        black_box(loss.clone().into_data());
                        let grads = GradientsParams::from_grads(loss.backward(), &hyper);
                        let hyper = optim.step(2e-3, hyper, grads);
                        // Sync: wait for the update before stopping the clock (the loss was read back
                        // above; on async backends the Adam step may still be queued).
                        ad.sync().expect("device sync");
                        model = Some(hyper);
                    }
                    start.elapsed()
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, generate, meta_step);
