//! Meta-trains the tabular architecture selector on measured outcomes, writes it to
//! `modelgpt-hypernet/checkpoints/tabular-selector/` (the library embeds it) and writes
//! `reports/architecture.{json,md}`.
//!
//! ```text
//! cargo run --release -p modelgpt-experiments --bin architecture [-- --out DIR] [--reports DIR]
//! ```
//!
//! Outcomes are cached in `$MODELGPT_CACHE/architecture/` (default `.modelgpt-cache/`), so an
//! interrupted run resumes. See [`modelgpt_experiments::architecture`].

use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;
use modelgpt_experiments::architecture::{ArchExperimentConfig, run, shipped_selector_dir};
use modelgpt_experiments::{cache_dir, device, load_encoder};

#[derive(Parser, Debug)]
#[command(about = "Meta-train the architecture selector and write reports/architecture.{json,md}")]
struct Args {
    /// Where the selector checkpoint goes (default: the shipped one).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Where the reports go.
    #[arg(long, default_value = "reports")]
    reports: PathBuf,
    /// Synthetic prior tasks measured for the selector's training.
    #[arg(long, default_value_t = ArchExperimentConfig::default().prior_tasks)]
    prior_tasks: usize,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let device = device();
    let encoder = load_encoder(&device)?;
    let out = args.out.unwrap_or_else(shipped_selector_dir);
    let cfg = ArchExperimentConfig {
        prior_tasks: args.prior_tasks,
        ..Default::default()
    };
    let report = run(
        &encoder,
        &cache_dir(),
        &out,
        Some(&args.reports),
        cfg,
        &device,
    )?;
    eprintln!(
        "held-out: chosen {:.4}, default {:.4}, oracle {:.4}; selector -> {}",
        report.mean_chosen_acc,
        report.mean_default_acc,
        report.mean_oracle_acc,
        out.display()
    );
    Ok(())
}
