//! Image ModelGPT generation latency: every weight of the two-block CNN (9,098 parameters for
//! 10 classes on 28 × 28 images) from a labelled sample, **including** encoding the requirement
//! and the label names with MiniLM (cached after the first call, as the facade caches them) and
//! materialising the `Cnn`. The sample images are seeded noise with class-dependent blobs (the
//! latency does not depend on what they show).
//!
//! Group name: `<backend>/image_generate`, parameter = sample images (10 classes).

use std::hint::black_box;
use std::time::{Duration, Instant};

use burn::tensor::Device;
use criterion::{BenchmarkId, Criterion, criterion_group};
use modelgpt_core::data::{ImageDataset, assets_dir};
use modelgpt_hypernet::image::ImageModelGpt;
use modelgpt_targets::BertRequirementEncoder;

const REQUIREMENT: &str = "The images are clean scans. Classify the handwritten digit in each image into one of 10 classes.";

fn sample(n: usize) -> ImageDataset {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let mut pixels = Vec::with_capacity(n * 784);
    for i in 0..n {
        let class = i % 10;
        for r in 0..28 {
            for c in 0..28 {
                let blob = (r / 7) * 4 + c / 7 == class;
                pixels.push(if blob { 0.7 } else { 0.1 } + 0.2 * next());
            }
        }
    }
    ImageDataset {
        name: "bench".into(),
        channels: 1,
        height: 28,
        width: 28,
        pixels,
        targets: (0..n).map(|i| i % 10).collect(),
        label_names: (0..10).map(|d| format!("digit {d}")).collect(),
    }
}

fn image_generate(c: &mut Criterion) {
    let device = Device::default();
    let encoder = match BertRequirementEncoder::from_dir(assets_dir().join("minilm"), &device) {
        Ok(encoder) => encoder,
        Err(err) => {
            eprintln!("skipping image benches: {err} (run `python3 scripts/fetch_assets.py`)");
            return;
        }
    };
    let mgpt = ImageModelGpt::untrained(Box::new(encoder), &device);
    let backend = super::backend_name(&device);
    let mut group = c.benchmark_group(format!("{backend}/image_generate"));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for n in [100usize, 500, 2000] {
        let data = sample(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    let model = mgpt
                        .tailor(black_box(&data), REQUIREMENT)
                        .expect("valid sample");
                    // Sync: read the head back before stopping the clock.
                    black_box(model.cnn().to_params().flat()[0].clone().into_data());
                }
                start.elapsed()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, image_generate);
