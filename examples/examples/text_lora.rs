//! Generates LoRA adapters + a classification head for all-MiniLM-L6-v2 from your labelled texts,
//! evaluates them and saves them as a PEFT adapter.
//!
//! ```text
//! cargo run --release --example text_lora -- --jsonl train.jsonl --text-field text --label-field label \
//!     [--description "..."] [--test-jsonl test.jsonl] [--out DIR] [--json]
//! cargo run --release --example text_lora -- --report [--report-dir reports] [--retrain]   # the full experiment
//! ```
//!
//! The hypernetwork is the one shipped with `modelgpt-hypernet`
//! ([`modelgpt_hypernet::shipped::text`]), or the checkpoint folder given with `--hypernet DIR`;
//! nothing is meta-trained on first use. `--report --retrain` meta-trains it afresh (a few
//! minutes on 2 cores). `--out DIR` writes `adapter_config.json`, `adapter_model.safetensors`,
//! `classifier.safetensors`, `labels.json`, `merged/model.safetensors` (+ `config.json`) and,
//! with `--test-jsonl`, `predictions.jsonl` (text, label, logits).

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Parser;
use modelgpt_core::data::{TextDataset, assets_dir};
use modelgpt_examples::{device, load_encoder};
use modelgpt_experiments::text::{TextExperimentConfig, run_experiment};
use modelgpt_hypernet::{TextHyperNet, TextModelGpt, shipped};
use modelgpt_llm::RequirementGenerator;
use modelgpt_targets::metrics::argmax;

/// Generate a LoRA adapter + head for a BERT-family text classifier.
#[derive(Parser, Debug)]
#[command(about)]
struct Args {
    /// Training data, one JSON object per line.
    #[arg(long, required_unless_present = "report")]
    jsonl: Option<PathBuf>,
    /// Field holding the text.
    #[arg(long, default_value = "text")]
    text_field: String,
    /// Field holding the label.
    #[arg(long, default_value = "label")]
    label_field: String,
    /// A description of the task, passed to the requirement writer.
    #[arg(long)]
    description: Option<String>,
    /// Test data (same fields); rows whose label is not in the training labels are skipped.
    #[arg(long)]
    test_jsonl: Option<PathBuf>,
    /// Folder for the PEFT adapter, merged weights and predictions.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Run the full experiment (meta-training, baselines) and write the reports.
    #[arg(long)]
    report: bool,
    /// `--report`: meta-train the text hypernetwork afresh instead of using the shipped one
    /// (needed for another `--seed`).
    #[arg(long, requires = "report")]
    retrain: bool,
    /// A text hypernetwork checkpoint folder (`checkpoint.json` + `hypernet.safetensors`) to use
    /// instead of the shipped one.
    #[arg(long, conflicts_with = "report")]
    hypernet: Option<PathBuf>,
    /// Where `--report` writes `text.json` / `text.md`.
    #[arg(long, default_value = "reports")]
    report_dir: PathBuf,
    /// Training texts per class the generator reads (more: better statistics, slower encoding).
    #[arg(long, default_value_t = 64)]
    support_per_class: usize,
    /// Seed of the splits and subsamples of `--report` (the committed report uses 42).
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let device = device();
    let encoder = load_encoder(&device)?;
    let cfg = TextExperimentConfig {
        seed: args.seed,
        ..TextExperimentConfig::default()
    };
    if args.report {
        run_experiment(&encoder, &cfg, &args.report_dir, args.retrain, &device)?;
        eprintln!("wrote {}/text.json and text.md", args.report_dir.display());
        return Ok(());
    }
    let Some(path) = &args.jsonl else {
        bail!("--jsonl is required")
    };

    let (hyper, hcfg) = match &args.hypernet {
        Some(dir) => TextHyperNet::load(dir, &device)
            .with_context(|| format!("loading the text hypernetwork from {}", dir.display()))?,
        None => {
            let (hyper, hcfg, _) = shipped::text(&device)?;
            (hyper, hcfg)
        }
    };

    let mgpt = TextModelGpt::new(encoder, hyper, hcfg)?
        .with_support_per_class(args.support_per_class.max(1))?;

    let mut train = TextDataset::from_jsonl(path, &args.text_field, &args.label_field)
        .with_context(|| format!("reading {}", path.display()))?;
    // The requirement names what is predicted: the label field, not the file.
    train.name = args.label_field.clone();
    let mut profile = train.profile(5, 0);
    if let Some(d) = &args.description {
        profile = profile.with_description(d.clone());
    }
    let requirement = RequirementGenerator::new()
        .generate(&profile)?
        .requirement
        .to_string();

    // Support texts through the frozen encoder, requirement + label names through the encoder,
    // the support statistics, then one hypernetwork pass.
    let tailored = mgpt.tailor(&train, &requirement)?;
    let timing = tailored.timing();
    let generation_ms = timing.encode_ms + timing.hypernet_ms;
    let support_ms = timing.prepare_ms;
    let labels = tailored.labels().to_vec();
    let k = labels.len();
    // The text family's member is fixed (LoRA rank and layers of the shipped hypernetwork).
    let architecture = modelgpt_core::TailoredModel::architecture(&tailored);
    let n_params = modelgpt_core::TailoredModel::n_generated_params(&tailored);

    let mut test_accuracy = None;
    let mut predictions = Vec::new();
    if let Some(test_path) = &args.test_jsonl {
        let test = TextDataset::from_jsonl(test_path, &args.text_field, &args.label_field)
            .with_context(|| format!("reading {}", test_path.display()))?;
        let index: HashMap<&str, usize> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i))
            .collect();
        let rows: Vec<(usize, usize)> = (0..test.n_rows())
            .filter_map(|r| {
                index
                    .get(test.label_names[test.targets[r]].as_str())
                    .map(|&c| (r, c))
            })
            .collect();
        if rows.len() < test.n_rows() {
            eprintln!(
                "skipping {} test rows whose label is not among the training labels",
                test.n_rows() - rows.len()
            );
        }
        if !rows.is_empty() {
            let texts: Vec<&str> = rows.iter().map(|&(r, _)| test.texts[r].as_str()).collect();
            let logits = tailored.logits(&texts)?;
            let hits = logits
                .iter()
                .zip(&rows)
                .filter(|(l, (_, c))| argmax(l) == *c)
                .count();
            test_accuracy = Some(hits as f64 / rows.len() as f64);
            for (l, &(r, c)) in logits.iter().zip(&rows) {
                predictions.push(serde_json::json!({
                    "text": test.texts[r], "label": labels[c], "logits": l,
                }));
            }
        }
    }

    if let Some(out) = &args.out {
        tailored.save_peft(out)?;
        tailored.save_merged(
            out.join("merged"),
            assets_dir().join("minilm").join("model.safetensors"),
        )?;
        if !predictions.is_empty() {
            let lines: Vec<String> = predictions.iter().map(|p| p.to_string()).collect();
            modelgpt_hypernet::write_atomic(
                &out.join("predictions.jsonl"),
                (lines.join("\n") + "\n").as_bytes(),
            )?;
        }
    }

    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "requirement": requirement, "n_classes": k, "labels": labels,
                "architecture": architecture, "n_params": n_params,
                "generation_ms": generation_ms, "support_encoding_ms": support_ms, "test_accuracy": test_accuracy,
            })
        );
    } else {
        println!("requirement: {requirement}");
        println!("{k} classes: {}", labels.join(", "));
        println!(
            "generation: {generation_ms:.1} ms (+ {support_ms:.0} ms encoding {} support texts)",
            timing.n_sample
        );
        if let Some(acc) = test_accuracy {
            println!("test accuracy: {acc:.3}");
        }
        if let Some(out) = &args.out {
            println!("PEFT adapter written to {}", out.display());
        }
    }
    Ok(())
}
