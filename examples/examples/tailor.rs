//! Tailor a model to your own CSV in one hypernetwork forward pass.
//!
//! ```text
//! cargo run --release --example tailor -- --csv TRAIN.csv --target COLUMN [--description TEXT]
//!     [--test-csv TEST.csv] [--finetune-epochs N] [--max-params N] [--architecture NAME]
//!     [--out DIR] [--json]
//! cargo run --release --example tailor -- --model DIR --csv NEW.csv [--json]
//! ```
//!
//! The requirement sentence is written by the Requirement Generator (`modelgpt-llm`): the offline
//! template writer by default, or an OpenAI-compatible endpoint with `--endpoint URL --llm-model
//! NAME`. The hypernetwork is the one shipped with `modelgpt-hypernet`
//! ([`modelgpt_hypernet::shipped::tabular`]): nothing is meta-trained here.
//!
//! The architecture (`linear` or `mlp-{depth}x{width}`) is chosen per table by the shipped
//! selector ([`modelgpt_hypernet::shipped::tabular_selector`]) within a parameter budget: the
//! smaller of `--max-params` and a budget the description states ("under 5,000 parameters", "a
//! tiny model for a microcontroller"; read by the Requirement Generator). `--architecture NAME`
//! generates a fixed member instead. A budget no member meets is an error naming it.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Parser;
use modelgpt_core::Requirement;
use modelgpt_core::data::{CsvOptions, Split, TabularDataset, read_csv_table};
use modelgpt_examples::{device, load_encoder, requirement_generator};
use modelgpt_hypernet::{ArchConstraints, TabularModelGpt, TailoredTabularModel};
use modelgpt_targets::MlpArchitecture;
use modelgpt_targets::train::TrainConfig;
use serde_json::json;

#[derive(Parser, Debug)]
#[command(about = "Generate a classifier for a CSV file, or predict with a saved one")]
struct Args {
    /// Training CSV (with a header), or new rows to predict on with --model.
    #[arg(long)]
    csv: PathBuf,
    /// Name of the label column.
    #[arg(long)]
    target: Option<String>,
    /// What the task is about (helps the requirement).
    #[arg(long)]
    description: Option<String>,
    /// Labelled test CSV: report accuracy on it.
    #[arg(long)]
    test_csv: Option<PathBuf>,
    /// ModelGPT-F: finetune the generated model this many epochs on the training CSV.
    #[arg(long, default_value_t = 0)]
    finetune_epochs: usize,
    /// Most parameters the generated model may have.
    #[arg(long)]
    max_params: Option<usize>,
    /// Generate this member of the MLP family instead of letting the selector choose:
    /// `linear` or `mlp-DEPTHxWIDTH` (e.g. `mlp-1x256`).
    #[arg(long)]
    architecture: Option<MlpArchitecture>,
    /// Save the model to this folder.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Predict with a saved model instead of generating one.
    #[arg(long, conflicts_with_all = ["target", "test_csv", "out", "finetune_epochs", "max_params", "architecture"])]
    model: Option<PathBuf>,
    /// OpenAI-compatible endpoint for the requirement (e.g. http://127.0.0.1:8080/v1).
    #[arg(long)]
    endpoint: Option<String>,
    /// Model name at the endpoint.
    #[arg(long, requires = "endpoint")]
    llm_model: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn accuracy_on(model: &TailoredTabularModel, path: &PathBuf, target: &str) -> Result<f64> {
    let table = read_csv_table(path).with_context(|| format!("reading {}", path.display()))?;
    let col = table.column_index(target)?;
    let pred = model.predict_table(&table)?;
    if pred.is_empty() {
        bail!("{}: no rows", path.display());
    }
    let hits = pred
        .iter()
        .zip(&table.rows)
        .filter(|(p, row)| row[col].trim() == p.as_str())
        .count();
    Ok(hits as f64 / pred.len() as f64)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let device = device();

    if let Some(dir) = &args.model {
        let model = TailoredTabularModel::load(dir, &device)
            .with_context(|| format!("loading model from {}", dir.display()))?;
        let table =
            read_csv_table(&args.csv).with_context(|| format!("reading {}", args.csv.display()))?;
        let labels = model.predict_table(&table)?;
        if args.json {
            println!("{}", serde_json::to_string(&labels)?);
        } else {
            for l in labels {
                println!("{l}");
            }
        }
        return Ok(());
    }

    let Some(target) = &args.target else {
        bail!("--target COLUMN is required to generate a model")
    };
    // The documented data rules and limits (modelgpt_core::Limits): rows past 100,000 are
    // sampled, rows without a label and classes with fewer than two rows are left out, and
    // all of it is reported.
    let (mut data, read) = TabularDataset::read_csv(&args.csv, target, &CsvOptions::default())
        .with_context(|| format!("reading {}", args.csv.display()))?;
    if !args.json {
        if read.subsampled() {
            eprintln!(
                "note: {} rows in the file; a seeded sample of {} is used",
                read.rows_in_file, read.rows_read
            );
        }
        if read.rows_missing_label > 0 {
            eprintln!(
                "note: {} rows without a `{target}` value were left out",
                read.rows_missing_label
            );
        }
        for (label, n) in &read.dropped_classes {
            eprintln!("note: class `{label}` has {n} row(s), fewer than 2; left out");
        }
    }
    // The requirement names what is predicted: the target column, not the file.
    data.name = target.clone();

    // Requirement Generator: template writer offline, or a real LLM endpoint.
    let mut profile = data.profile(32, 0);
    if let Some(d) = &args.description {
        profile = profile.with_description(d.clone());
    }
    let generator = requirement_generator(args.endpoint.as_deref(), args.llm_model.as_deref())?;
    let generated = generator.generate(&profile)?;
    let requirement: Requirement = generated.requirement.clone();

    let encoder = load_encoder(&device)?;
    let mgpt = TabularModelGpt::builder()
        .encoder(Box::new(encoder))
        .shipped()
        .build(&device)?;
    // The budget: the tighter of the flag and what the description states.
    let max_params = args
        .max_params
        .into_iter()
        .chain(generated.budget.as_ref().map(|b| b.max_params))
        .min();
    if let (Some(b), false) = (generated.budget.as_ref(), args.json) {
        eprintln!(
            "note: the description asks for at most {} parameters (\"{}\")",
            b.max_params, b.phrase
        );
    }
    let constraints = ArchConstraints {
        max_params,
        architecture: args.architecture,
    };
    let mut model = mgpt.generate_with(&data, &requirement, &constraints)?;
    let timing = model.timing();

    if args.finetune_epochs > 0 {
        let split = Split::seeded(data.n_rows(), &data.targets, (0.9, 0.1, 0.0), 0)?;
        let cfg = TrainConfig::new()
            .with_max_epochs(args.finetune_epochs)
            .with_patience(0);
        let outcome = model.finetune(&data, &split.train, &split.valid, &cfg, None)?;
        if !args.json {
            println!(
                "ModelGPT-F: finetuned {} epochs, validation accuracy {:.3} -> {:.3}",
                args.finetune_epochs,
                outcome.history.first().map(|h| h.valid_acc).unwrap_or(0.0),
                outcome.best_valid_acc
            );
        }
    }
    let test_accuracy = match &args.test_csv {
        Some(p) => Some(accuracy_on(&model, p, target)?),
        None => None,
    };
    if let Some(dir) = &args.out {
        model
            .save(dir)
            .with_context(|| format!("saving to {}", dir.display()))?;
    }
    if args.json {
        println!(
            "{}",
            json!({
                "requirement": requirement.as_str(),
                "n_train": data.n_rows(),
                "rows_in_file": read.rows_in_file,
                "rows_read": read.rows_read,
                "rows_missing_label": read.rows_missing_label,
                "dropped_classes": read.dropped_classes,
                "n_features": model.mlp().d_input(),
                "n_classes": data.n_classes(),
                "architecture": model.architecture().name(),
                "n_params": model.n_params(),
                "max_params": max_params,
                "generation_ms": timing.total_ms(),
                "test_accuracy": test_accuracy,
            })
        );
    } else {
        println!("requirement: {requirement}");
        println!(
            "generated {} ({} parameters{}) for {} rows, {} features, {} classes in {:.2} ms (prepare {:.2}, encode {:.2}, hypernetwork {:.3})",
            model.architecture(),
            model.n_params(),
            max_params.map_or(String::new(), |b| format!(", budget {b}")),
            data.n_rows(),
            model.mlp().d_input(),
            data.n_classes(),
            timing.total_ms(),
            timing.prepare_ms,
            timing.encode_ms,
            timing.hypernet_ms
        );
        if let Some(a) = test_accuracy {
            println!("test accuracy: {a:.3}");
        }
        if let Some(dir) = &args.out {
            println!("saved to {}", dir.display());
        }
    }
    Ok(())
}
