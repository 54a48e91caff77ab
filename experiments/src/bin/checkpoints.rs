//! Meta-trains the hypernetworks that `modelgpt-hypernet` ships (`modelgpt-hypernet/checkpoints/`)
//! and writes them in the checkpoint layout: the four tabular variants (general/paper mode ×
//! end-to-end/Delta rule) on the catalog's seen tabular tasks, and the text hypernetwork on the
//! seen text tasks, with the same settings and seeds as the reports.
//!
//! ```text
//! cargo run --release -p modelgpt-experiments --bin checkpoints [-- --only tabular|text] [--out DIR]
//! ```
//!
//! Meta-training state is kept in `$MODELGPT_CACHE` (default `.modelgpt-cache/`), so an
//! interrupted run resumes; about 15 minutes on 2 CPU cores. The files are overwritten in place
//! (the library embeds them, so they must exist when it is built).

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Parser;
use modelgpt_experiments::tabular::{ALL_VARIANTS, ExperimentConfig, meta_train, prepare_tasks};
use modelgpt_experiments::text::{TextExperimentConfig, prepare_all, train_hypernet};
use modelgpt_experiments::{cache_dir, device, load_encoder};
use modelgpt_hypernet::TextHyperNetConfig;
use modelgpt_hypernet::checkpoint::Manifest;

#[derive(Parser, Debug)]
#[command(about = "Meta-train the shipped hypernetwork checkpoints")]
struct Args {
    /// `tabular`, `text` or `all`.
    #[arg(long, default_value = "all")]
    only: String,
    /// Where the checkpoint folders go.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../modelgpt-hypernet/checkpoints"))]
    out: PathBuf,
}

const PROVENANCE: &str = "cargo run --release -p modelgpt-experiments --bin checkpoints";

fn main() -> Result<()> {
    let args = Args::parse();
    if !["all", "tabular", "text"].contains(&args.only.as_str()) {
        bail!("--only must be tabular, text or all, not `{}`", args.only);
    }
    let device = device();
    let encoder = load_encoder(&device)?;
    let cache = cache_dir();
    if args.only != "text" {
        let cfg = ExperimentConfig::default();
        let tasks = prepare_tasks(&encoder, &cache, &cfg, &device)?;
        for variant in ALL_VARIANTS {
            let (hyper, config, report, secs) =
                meta_train(variant, &tasks, &encoder, &cache, &cfg, &device)?;
            let dir = args.out.join(format!("tabular-{}", variant.name()));
            let manifest = Manifest::new(modelgpt_core::Modality::Tabular, config.clone())
                .with_report(&report)?
                .with_provenance(PROVENANCE);
            modelgpt_hypernet::checkpoint::save_checkpoint(&dir, &manifest, &hyper)?;
            eprintln!(
                "{}: best epoch {} (mean valid acc {:.4}), {secs:.0} s -> {}",
                variant.name(),
                report.best_epoch,
                report.best_valid_acc,
                dir.display()
            );
        }
    }
    if args.only != "tabular" {
        let cfg = TextExperimentConfig::default();
        let prepared = prepare_all(&encoder, &cfg)?;
        let (hyper, report) = train_hypernet(&encoder, &prepared, &cfg, &device)?;
        let config = TextHyperNetConfig {
            min_shrinkage: hyper.min_shrinkage(),
            ..cfg.hyper.clone()
        };
        let dir = args.out.join("text");
        let manifest = Manifest::new(modelgpt_core::Modality::Text, config)
            .with_report(&report)?
            .with_provenance(PROVENANCE);
        modelgpt_hypernet::checkpoint::save_checkpoint(&dir, &manifest, &hyper)?;
        eprintln!(
            "text: best step {} of {} -> {}",
            report.best_step,
            report.steps,
            dir.display()
        );
    }
    Ok(())
}
