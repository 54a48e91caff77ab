//! Tabular ModelGPT end to end: generate MLPs for the catalog's seen and held-out tasks in one
//! hypernetwork forward pass each, with the hypernetworks shipped in `modelgpt-hypernet`, compare
//! them with per-task training, logistic regression, the majority class and (when
//! `scripts/tabular_baselines.py` has been run on the splits this program exports) LightGBM,
//! random forest and k-NN, and write `reports/tabular.{json,md}` and
//! `reports/finetune_curves.png`.
//!
//! ```text
//! cargo run --release --example quickstart [-- --variants default|all] [--retrain] [--fresh] [--epochs N]
//! ```
//!
//! `--retrain` meta-trains the hypernetworks from scratch instead (cached in `$MODELGPT_CACHE`,
//! default `.modelgpt-cache/`; about 40 minutes on 2 cores, 30 of them the kernel mode on
//! synthetic prior tasks); `--fresh` also drops that cache and the cached baselines. The experiment itself lives in `modelgpt-experiments`
//! ([`modelgpt_experiments::tabular::run_report`]).

use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;
use modelgpt_experiments::tabular::{ReportOptions, run_report};

#[derive(Parser, Debug)]
#[command(about = "Evaluate tabular ModelGPT on the catalog's tasks and write the reports")]
struct Args {
    /// `default` (kernel mode, end-to-end rule) or `all` (kernel end-to-end, and the general and
    /// paper modes with both rules).
    #[arg(long, default_value = "all")]
    variants: String,
    /// Ignore cached checkpoints and baselines.
    #[arg(long)]
    fresh: bool,
    /// Meta-train the hypernetworks now instead of using the shipped checkpoints.
    #[arg(long)]
    retrain: bool,
    /// Where reports go.
    #[arg(long, default_value = "reports")]
    reports: PathBuf,
    /// Meta-training epochs (implies --retrain; default from MetaTrainConfig).
    #[arg(long)]
    epochs: Option<usize>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    run_report(&ReportOptions {
        variants: args.variants,
        fresh: args.fresh,
        retrain: args.retrain,
        reports: args.reports,
        epochs: args.epochs,
    })
}
