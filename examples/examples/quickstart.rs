//! Tabular ModelGPT end to end: meta-train a hypernetwork on real catalog tasks (cached after
//! the first run), generate MLPs for seen and held-out tasks in one forward pass each, compare
//! them with per-task training, and write `reports/tabular.{json,md}`.
//!
//! ```text
//! cargo run --release --example quickstart [-- --variants default|all] [--fresh]
//! ```

use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;
use modelgpt_core::RequirementEncoder;
use modelgpt_examples::tabular::{
    DEFAULT_VARIANT, ExperimentConfig, Variant, all_baselines, evaluate, finetune_curves,
    meta_train, plot_curves, prepare_tasks, summarise, write_reports,
};
use modelgpt_examples::{cache_dir, device, load_encoder};
use modelgpt_hypernet::{HyperMode, MetaRule};

#[derive(Parser, Debug)]
#[command(about = "Meta-train ModelGPT on tabular tasks and evaluate generated models")]
struct Args {
    /// `default` (general mode, end-to-end rule) or `all` (both modes x both rules).
    #[arg(long, default_value = "all")]
    variants: String,
    /// Ignore cached checkpoints and baselines.
    #[arg(long)]
    fresh: bool,
    /// Where reports go.
    #[arg(long, default_value = "reports")]
    reports: PathBuf,
    /// Meta-training epochs (default from MetaTrainConfig).
    #[arg(long)]
    epochs: Option<usize>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let device = device();
    let cache = cache_dir();
    if args.fresh && cache.exists() {
        for entry in std::fs::read_dir(&cache)? {
            let p = entry?.path();
            if p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("tabular-"))
            {
                if p.is_dir() {
                    std::fs::remove_dir_all(&p)?;
                } else {
                    std::fs::remove_file(&p)?;
                }
            }
        }
    }
    let mut cfg = ExperimentConfig::default();
    if let Some(e) = args.epochs {
        cfg.meta.epochs = e;
    }
    let encoder = load_encoder(&device)?;
    let tasks = prepare_tasks(&encoder, &cache, &cfg, &device)?;
    println!(
        "{} training tasks, {} held-out tasks (never seen in meta-training)",
        tasks.seen.len(),
        tasks.heldout.len()
    );
    let mut variants = vec![DEFAULT_VARIANT];
    if args.variants == "all" {
        variants.extend([
            Variant {
                mode: HyperMode::General,
                rule: MetaRule::Delta,
            },
            Variant {
                mode: HyperMode::Paper,
                rule: MetaRule::EndToEnd,
            },
            Variant {
                mode: HyperMode::Paper,
                rule: MetaRule::Delta,
            },
        ]);
    }
    let mut summaries = Vec::new();
    let mut default_rows = Vec::new();
    let mut baselines = None;
    for (i, variant) in variants.iter().enumerate() {
        let (hyper, config, report, secs) =
            meta_train(*variant, &tasks, encoder.embed_dim(), &cache, &cfg, &device)?;
        if baselines.is_none() {
            let all: Vec<_> = tasks.seen.iter().chain(&tasks.heldout).collect();
            baselines = Some(all_baselines(&all, &config, &cache, &cfg, &device)?);
        }
        let base = baselines.as_ref().expect("set above");
        let rows = evaluate(&encoder, &hyper, &config, &tasks, base, &device)?;
        let s = summarise(&variant.name(), &rows, &report, secs);
        println!(
            "{:<22} seen {:.3}  held-out {:.3}  above-majority {}/{}  gen {:.3} ms  speedup {:.0}x  (meta-train {:.0}s, best epoch {})",
            s.variant,
            s.seen_ratio,
            s.heldout_ratio,
            s.heldout_above_majority,
            s.heldout_count,
            s.median_generation_ms,
            s.median_speedup,
            s.meta_train_s,
            s.best_epoch
        );
        summaries.push(s);
        if i == 0 {
            default_rows = rows;
        }
    }
    println!(
        "\n{:<18} {:<8} {:>9} {:>9} {:>7} {:>8} {:>9}",
        "task", "split", "generated", "trained", "logreg", "majority", "speedup"
    );
    for r in default_rows.iter().filter(|r| r.split == "heldout") {
        println!(
            "{:<18} {:<8} {:>9.3} {:>9.3} {:>7.3} {:>8.3} {:>8.0}x",
            r.task,
            r.split,
            r.generated_acc,
            r.finetuned_acc,
            r.logreg_acc,
            r.majority_acc,
            r.finetune_ms / r.generation_ms.max(1e-9)
        );
    }
    // ModelGPT-F: finetuning curves on a few held-out tasks, from the default variant.
    let (hyper, config, _, _) = meta_train(
        variants[0],
        &tasks,
        encoder.embed_dim(),
        &cache,
        &cfg,
        &device,
    )?;
    let mut curves = Vec::new();
    for name in ["iris", "wine", "vowel", "letter"] {
        if let Some(task) = tasks.heldout.iter().find(|t| t.name == name) {
            curves.push(finetune_curves(&hyper, &config, task, 30, &cfg, &device)?);
        }
    }
    std::fs::create_dir_all(&args.reports)?;
    let png = args.reports.join("finetune_curves.png");
    match plot_curves(&curves, &png) {
        Ok(()) => println!("figure written: {}", png.display()),
        Err(e) => eprintln!("warning: could not draw {}: {e:#}", png.display()),
    }
    let (json, md) = write_reports(
        &args.reports,
        &default_rows,
        &summaries,
        &curves,
        &cfg,
        &device,
    )?;
    println!("\nreports written: {} and {}", json.display(), md.display());
    Ok(())
}
