//! Image ModelGPT on the catalog's image tasks: generate a CNN for MNIST, Fashion-MNIST and
//! optdigits in several domains in one hypernetwork forward pass each, compare it with per-task
//! training of the same CNN, logistic regression and the nearest class centroid on the pixels,
//! and write `reports/image.{json,md}`.
//!
//! ```text
//! cargo run --release --example image_report [-- --epochs N] [--max-train-images N] [--meta-steps N] [--reports DIR]
//! ```
//!
//! The experiment lives in `modelgpt-experiments`
//! ([`modelgpt_experiments::image::run_image_report`]).

use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;
use modelgpt_experiments::image::{ImageReportOptions, run_image_report};

#[derive(Parser, Debug)]
#[command(about = "Evaluate image ModelGPT on the catalog's image tasks and write the reports")]
struct Args {
    /// Most training epochs of the per-task CNN baseline.
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// Most training images of the per-task CNN baseline (stratified).
    #[arg(long, default_value_t = 8000)]
    max_train_images: usize,
    /// Meta-training steps of the image generator on the seen tasks before the evaluation (0,
    /// the default: the untrained generator; meta-training does not beat it yet, see the issue
    /// notes).
    #[arg(long, default_value_t = 0)]
    meta_steps: usize,
    /// Where reports go.
    #[arg(long, default_value = "reports")]
    reports: PathBuf,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let device = modelgpt_experiments::device();
    let encoder = modelgpt_experiments::load_encoder(&device)?;
    let cache = modelgpt_experiments::cache_dir();
    std::fs::create_dir_all(&cache)?;
    let opts = ImageReportOptions {
        reports: args.reports,
        epochs: args.epochs,
        max_train_images: args.max_train_images,
        meta_steps: args.meta_steps,
        ..ImageReportOptions::default()
    };
    let results = run_image_report(&encoder, &cache, &opts, &device)?;
    eprintln!(
        "{} tasks; reports written to {}",
        results.len(),
        opts.reports.display()
    );
    Ok(())
}
