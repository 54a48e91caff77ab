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

/// Requirement sentences in the paper's style (one task each, 12-40 tokens).
const REQUIREMENTS: &[&str] = &[
    "This is a task of tabular classification to recognize which type of iris plant the input is.",
    "This is a task of binary classification to predict whether an individual's income is above or below $50K based on various demographic and employment features.",
    "This is a task of text classification to classify the sentiment of the given sentence to positive or negative.",
    "This is a 10-class image classification task of handwritten digits.",
    "This is a 3-class tabular classification task to predict the cultivar of a wine from its chemical analysis.",
    "This is a binary tabular classification task to predict heart disease from age, cholesterol, resting blood pressure and chest pain type.",
    "This is a 10-class image classification task of grayscale photos of clothing items such as shirts, sneakers and bags.",
    "This is a task of text classification to assign a newsgroup post to one of 20 discussion topics.",
    "This is a binary classification task to predict whether a mushroom is edible or poisonous from its cap, gill and stalk features.",
    "This is a task of binary tabular classification to predict whether a bank customer has good or bad credit risk.",
    "This is a 2-class tabular classification task to diagnose breast cancer as malignant or benign from cell nucleus measurements.",
    "This is a task of text classification to decide whether a movie review is fresh or rotten.",
    "This is a 6-class tabular classification task to predict the quality score of red wine from physicochemical tests.",
    "This is a binary classification task to predict the onset of diabetes in Pima women from medical measurements.",
    "This is an 8-class text classification task to assign Reuters news articles to their topic.",
    "This is a 10-class image classification task of 8x8 handwritten digit bitmaps.",
];

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
    let texts: Vec<&str> = REQUIREMENTS.iter().cycle().take(32).copied().collect();

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
