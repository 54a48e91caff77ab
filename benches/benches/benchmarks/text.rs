//! Text ModelGPT generation latency: a full LoRA adapter set (r = 8, query/value of layers 4-5)
//! and a classification head for all-MiniLM-L6-v2, **including** encoding the requirement and the
//! label names with the frozen encoder (the paper's generation cost) and summarising 16 support
//! embeddings per class (prototypes + shrunk LDA). The support texts themselves are encoded by
//! the caller (see `reports/text.md`); here their embeddings are random unit vectors.
//!
//! Group name: `<backend>/text_generate`, parameter = number of classes.

use std::hint::black_box;
use std::time::{Duration, Instant};

use burn::tensor::Device;
use criterion::{BenchmarkId, Criterion, criterion_group};
use modelgpt_core::data::assets_dir;
use modelgpt_hypernet::{TextHyperNetConfig, TextTaskInput};
use modelgpt_targets::{BertRequirementEncoder, TextLoraFamily};

const REQUIREMENT: &str = "This is a task of text classification to assign Reuters news articles to one of several topics.";
const LABELS: &[&str] = &[
    "acquisitions",
    "crude oil",
    "earnings",
    "grain",
    "interest rates",
    "money and foreign exchange",
    "shipping",
    "trade",
    "sports",
    "weather",
    "politics",
    "science",
    "health",
    "music",
    "film",
    "travel",
    "food",
    "fashion",
    "technology",
    "education",
];

fn text_generate(c: &mut Criterion) {
    let device = Device::default();
    let encoder = match BertRequirementEncoder::from_dir(assets_dir().join("minilm"), &device) {
        Ok(encoder) => encoder,
        Err(err) => {
            eprintln!("skipping text benches: {err} (run `python3 scripts/fetch_assets.py`)");
            return;
        }
    };
    let config = TextHyperNetConfig::default();
    // Latency does not depend on the trained values: an initialised hypernetwork suffices.
    let Ok(hyper) = config.init(&device) else {
        return;
    };
    let backend = super::backend_name(&device);
    let mut group = c.benchmark_group(format!("{backend}/text_generate"));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for k in [2usize, 20] {
        let Ok(family) = TextLoraFamily::for_model(encoder.model(), config.lora.clone(), k) else {
            return;
        };
        // 16 support embeddings per class (fixed pseudo-random unit vectors).
        let n = 16 * k;
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut support: Vec<f32> = (0..n * 384)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        for row in support.chunks_mut(384) {
            let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
            row.iter_mut().for_each(|v| *v /= norm);
        }
        let targets: Vec<usize> = (0..n).map(|i| i % k).collect();
        let rows: Vec<usize> = (0..n).collect();
        group.bench_with_input(BenchmarkId::from_parameter(k), &k, |b, &k| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    let req = encoder
                        .embed_vecs(black_box(&[REQUIREMENT]))
                        .expect("fixed sentence")
                        .concat();
                    let labels = encoder
                        .embed_vecs(black_box(&LABELS[..k]))
                        .expect("fixed labels")
                        .concat();
                    let sample = hyper
                        .sample(&support, &targets, &rows, k)
                        .expect("consistent shapes");
                    let input = TextTaskInput::from_host(&req, &labels, &sample, &device)
                        .expect("consistent shapes");
                    let params = hyper.generate(&family, &input).expect("matching family");
                    // Sync: read every generated tensor back before stopping the clock.
                    for t in params.flat() {
                        black_box(t.clone().into_data());
                    }
                }
                start.elapsed()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, text_generate);
