//! Requirement encoder throughput: all-MiniLM-L6-v2 on realistic requirement sentences
//! (tokenize + BERT + mean pooling + L2 norm), batch 1 and 32.
//!
//! Group name: `<backend>/encoder` (e.g. `flex/encoder`); throughput in sentences.

use std::hint::black_box;
use std::time::{Duration, Instant};

use burn::tensor::Device;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use modelgpt_core::data::assets_dir;
use modelgpt_targets::BertRequirementEncoder;

/// Requirement sentences in the paper's style (one task each, 12-40 tokens), shared with
/// `examples/encoder_speed` and `scripts/bench_encoder.py`.
const REQUIREMENTS_JSON: &str = include_str!("../../data/requirement_sentences.json");

fn encoder(c: &mut Criterion) {
    let device = Device::default();
    let dir = assets_dir().join("minilm");
    let encoder = match BertRequirementEncoder::from_dir(&dir, &device) {
        Ok(encoder) => encoder,
        Err(err) => {
            eprintln!("skipping encoder benches: {err} (run `python3 scripts/fetch_assets.py`)");
            return;
        }
    };
    let requirements: Vec<String> =
        serde_json::from_str(REQUIREMENTS_JSON).expect("benches/data/requirement_sentences.json");
    let texts: Vec<&str> = requirements
        .iter()
        .map(String::as_str)
        .cycle()
        .take(32)
        .collect();

    let mut group = c.benchmark_group(format!("{}/encoder", super::backend_name(&device)));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for batch in [1usize, 32] {
        let batch_texts = &texts[..batch];
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(batch),
            &batch_texts,
            |b, batch_texts| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let out = encoder
                            .embed(black_box(batch_texts))
                            .expect("tokenizing fixed sentences");
                        // Sync: read the result back before stopping the clock.
                        black_box(out.into_data());
                    }
                    start.elapsed()
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, encoder);
