//! Throughput of the MiniLM requirement encoder (tokenize + BERT + mean pooling + L2 norm) at
//! several batch sizes, for side-by-side runs with sentence-transformers
//! (`scripts/bench_encoder.py` runs both on the same sentences).
//!
//! ```text
//! cargo run --release --example encoder_speed -- [--sentences FILE] [--batch-sizes 1,8,32,128] [--encoder-batch N] [--seconds 3] [--json]
//! ```
//!
//! `FILE` is a JSON array of strings (default: the 16 requirement sentences of `benches/data/requirement_sentences.json`, cycled). For
//! each batch size `b` the first `b` sentences (cycled) are embedded repeatedly for about
//! `--seconds` after one warm-up call; the result is sentences per second and the median
//! milliseconds per call. `--json` prints one JSON object.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use burn::tensor::Device;
use clap::Parser;
use modelgpt_core::data::assets_dir;
use modelgpt_targets::BertRequirementEncoder;
use serde::Serialize;

/// Built-in sentences: the 16 requirement sentences of the criterion encoder bench.
const SENTENCES_JSON: &str = include_str!("../../benches/data/requirement_sentences.json");

/// Measure the requirement encoder's throughput.
#[derive(Parser, Debug)]
struct Args {
    /// JSON array of sentences to embed (cycled to fill a batch).
    #[arg(long)]
    sentences: Option<PathBuf>,
    /// Comma-separated batch sizes.
    #[arg(long, default_value = "1,8,32,128", value_delimiter = ',')]
    batch_sizes: Vec<usize>,
    /// The encoder's own batch size (texts per forward pass) [default: the library's,
    /// `modelgpt_targets::bert::DEFAULT_BATCH_SIZE`: a call with more texts runs several passes, as a
    /// user's call does].
    #[arg(long)]
    encoder_batch: Option<usize>,
    /// Seconds of measurement per batch size.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Folder with tokenizer.json, model.safetensors and config.json [default: <assets>/minilm].
    #[arg(long)]
    model_dir: Option<PathBuf>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// One batch size's measurement.
#[derive(Serialize)]
struct Row {
    batch: usize,
    calls: usize,
    sentences_per_s: f64,
    median_ms_per_call: f64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !(args.seconds > 0.0 && args.seconds.is_finite()) {
        bail!("--seconds must be positive, got {}", args.seconds);
    }
    if args.batch_sizes.contains(&0) {
        bail!("batch sizes must be positive");
    }
    let sentences: Vec<String> = match &args.sentences {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_slice(&bytes)
                .with_context(|| format!("{}: expected a JSON array of strings", path.display()))?
        }
        None => serde_json::from_str(SENTENCES_JSON)
            .context("the built-in benches/data/requirement_sentences.json")?,
    };
    if sentences.is_empty() {
        bail!("no sentences to embed");
    }
    let dir = args
        .model_dir
        .unwrap_or_else(|| assets_dir().join("minilm"));
    let device = Device::default();
    let encoder = BertRequirementEncoder::from_dir(&dir, &device)
        .with_context(|| format!("loading the encoder from {}", dir.display()))?;
    let encoder = encoder.with_batch_size(
        args.encoder_batch
            .unwrap_or(modelgpt_targets::bert::DEFAULT_BATCH_SIZE),
    )?;
    let mut rows = Vec::new();
    for &b in &args.batch_sizes {
        let texts: Vec<&str> = sentences
            .iter()
            .map(String::as_str)
            .cycle()
            .take(b)
            .collect();
        encoder.embed_vecs(&texts)?; // warm-up
        let mut times = Vec::new();
        let start = Instant::now();
        while start.elapsed().as_secs_f64() < args.seconds || times.len() < 3 {
            let t0 = Instant::now();
            let out = encoder.embed_vecs(&texts)?;
            times.push(t0.elapsed().as_secs_f64());
            std::hint::black_box(out);
        }
        let total: f64 = times.iter().sum();
        times.sort_by(f64::total_cmp);
        rows.push(Row {
            batch: b,
            calls: times.len(),
            sentences_per_s: (b * times.len()) as f64 / total,
            median_ms_per_call: 1e3 * times[times.len() / 2],
        });
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "device": format!("{device:?}"), "rows": rows })
        );
    } else {
        println!("batch  sentences/s  median ms/call");
        for r in &rows {
            println!(
                "{:>5}  {:>11.1}  {:>14.2}",
                r.batch, r.sentences_per_s, r.median_ms_per_call
            );
        }
    }
    Ok(())
}
