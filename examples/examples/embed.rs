//! Sentence embeddings with the MiniLM requirement encoder.
//!
//! ```text
//! cargo run --release --example embed -- --json "This is a 3-class tabular classification task." "short"
//! cargo run --release --example embed -- "A cat sat on the mat." "A dog lay on the rug."
//! ```
//!
//! With `--json` prints a JSON array with one array of floats per sentence; otherwise a short
//! summary (dimension, norms, first values, pairwise cosines). The device is `Device::default()`
//! (flex unless a GPU feature is compiled in; `BURN_DEVICE` overrides).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use burn::tensor::Device;
use clap::Parser;
use modelgpt_core::data::assets_dir;
use modelgpt_targets::BertRequirementEncoder;

/// Embed sentences with the all-MiniLM-L6-v2 requirement encoder.
#[derive(Parser, Debug)]
struct Args {
    /// Print a JSON array of embeddings (arrays of f32) instead of a summary.
    #[arg(long)]
    json: bool,
    /// Folder with tokenizer.json, model.safetensors and config.json
    /// [default: <assets>/minilm].
    #[arg(long)]
    model_dir: Option<PathBuf>,
    /// The sentences to embed.
    #[arg(required = true)]
    sentences: Vec<String>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = args
        .model_dir
        .unwrap_or_else(|| assets_dir().join("minilm"));
    let device = Device::default();

    let start = Instant::now();
    let encoder = BertRequirementEncoder::from_dir(&dir, &device)
        .with_context(|| format!("loading the encoder from {}", dir.display()))?;
    let loaded = start.elapsed();

    let texts: Vec<&str> = args.sentences.iter().map(String::as_str).collect();
    let start = Instant::now();
    let embeddings = encoder.embed_vecs(&texts)?;
    let encoded = start.elapsed();
    if embeddings.len() != texts.len() {
        bail!(
            "expected {} embeddings, got {}",
            texts.len(),
            embeddings.len()
        );
    }

    if args.json {
        println!("{}", serde_json::to_string(&embeddings)?);
        return Ok(());
    }

    let ids = encoder.encode_ids(&texts)?;
    println!(
        "device {device:?}; model {} (d = {}); loaded in {:.0} ms, encoded {} sentence(s) in {:.1} ms",
        dir.display(),
        embeddings.first().map_or(0, Vec::len),
        loaded.as_secs_f64() * 1e3,
        texts.len(),
        encoded.as_secs_f64() * 1e3,
    );
    for ((text, e), ids) in texts.iter().zip(&embeddings).zip(&ids) {
        let norm = e.iter().map(|x| x * x).sum::<f32>().sqrt();
        let head: Vec<String> = e.iter().take(4).map(|x| format!("{x:+.4}")).collect();
        let shown: String = text.chars().take(60).collect();
        let ellipsis = if text.chars().count() > 60 { "…" } else { "" };
        println!(
            "  {} tokens, |e| = {norm:.4}, e[..4] = [{}]  {shown:?}{ellipsis}",
            ids.len(),
            head.join(", ")
        );
    }
    if embeddings.len() > 1 {
        println!("pairwise cosine:");
        for a in &embeddings {
            let row: Vec<String> = embeddings
                .iter()
                .map(|b| format!("{:.3}", a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>()))
                .collect();
            println!("  {}", row.join("  "));
        }
    }
    Ok(())
}
