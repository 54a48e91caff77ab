//! Write the requirement sentence for your own data (paper §2.2, the Requirement Generator).
//!
//! ```text
//! cargo run --release --example requirement -- --csv data.csv --target label
//! cargo run --release --example requirement -- --jsonl reviews.jsonl --text-field text --label-field label \
//!     --description "English film reviews" --json
//! cargo run --release --example requirement -- --images my_pictures/ --show-prompt
//! # With an OpenAI-compatible server (llama.cpp, vLLM, Ollama, OpenAI; key from OPENAI_API_KEY):
//! cargo run --release --example requirement -- --csv data.csv --target label \
//!     --endpoint http://127.0.0.1:8080/v1 --model qwen2.5-coder-0.5b --json
//! ```
//!
//! Without `--endpoint` the offline template writer answers (no network). With `--json` prints
//! `{"requirement": ..., "source": "template"|"llm", "cached": bool}`. Answers of a language model
//! are cached under `$MODELGPT_CACHE/llm` (default `.modelgpt-cache/llm`); `--no-cache` skips it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{ArgGroup, Parser};
use modelgpt_core::data::{ImageDataset, TabularDataset, TextDataset};
use modelgpt_core::{DataProfile, Prompt};
use modelgpt_llm::{AnswerCache, OpenAiClient, PromptConfig, RequirementGenerator};

/// Print the one-sentence requirement for a labelled data set.
#[derive(Parser, Debug)]
#[command(group(ArgGroup::new("data").required(true).args(["csv", "jsonl", "images"])))]
struct Args {
    /// A CSV file with a header row.
    #[arg(long, requires = "target")]
    csv: Option<PathBuf>,
    /// The label column of the CSV file.
    #[arg(long)]
    target: Option<String>,
    /// A JSON Lines file, one object per line.
    #[arg(long, requires_all = ["text_field", "label_field"])]
    jsonl: Option<PathBuf>,
    /// The text field of the JSONL objects.
    #[arg(long)]
    text_field: Option<String>,
    /// The label field of the JSONL objects.
    #[arg(long)]
    label_field: Option<String>,
    /// A folder with one sub-folder of PNG images per class.
    #[arg(long)]
    images: Option<PathBuf>,
    /// What the data are about (shown to the model as background).
    #[arg(long)]
    description: Option<String>,
    /// Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1.
    #[arg(long, requires = "model")]
    endpoint: Option<String>,
    /// Model name sent to the server.
    #[arg(long, requires = "endpoint")]
    model: Option<String>,
    /// Environment variable holding the API key.
    #[arg(long, default_value = "OPENAI_API_KEY")]
    api_key_env: String,
    /// Most seconds one request to the server may take, retries and their waits included (a
    /// repair request, sent when the first answer is rejected, gets as long again).
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Example rows shown in the prompt.
    #[arg(long, default_value_t = 8)]
    rows: usize,
    /// Prompt budget in approximate tokens (characters / 4).
    #[arg(long, default_value_t = 1500)]
    token_budget: usize,
    /// Seed of the row sampling and of the template writer.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Do not read or write the answer cache.
    #[arg(long)]
    no_cache: bool,
    /// Print the prompt (to stderr with --json).
    #[arg(long)]
    show_prompt: bool,
    /// Print JSON instead of the bare sentence.
    #[arg(long)]
    json: bool,
}

fn load_profile(args: &Args) -> anyhow::Result<DataProfile> {
    // More records than the prompt shows, so the prompt's own sampling can pick per class.
    let max_records = args.rows.saturating_mul(4).max(16);
    let profile = if let (Some(csv), Some(target)) = (&args.csv, &args.target) {
        let mut data = TabularDataset::from_csv(csv, target)
            .with_context(|| format!("reading {}", csv.display()))?;
        // The requirement names what is predicted: the target column, not the file.
        data.name = target.clone();
        data.profile(max_records, args.seed)
    } else if let (Some(jsonl), Some(text), Some(label)) =
        (&args.jsonl, &args.text_field, &args.label_field)
    {
        let mut data = TextDataset::from_jsonl(jsonl, text, label)
            .with_context(|| format!("reading {}", jsonl.display()))?;
        data.name = label.clone();
        data.profile(max_records, args.seed)
    } else if let Some(dir) = &args.images {
        ImageDataset::from_folder(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .profile(max_records, args.seed)
    } else {
        anyhow::bail!(
            "give --csv F --target C, --jsonl F --text-field T --label-field L, or --images DIR"
        );
    };
    Ok(match &args.description {
        Some(d) => profile.with_description(d.clone()),
        None => profile,
    })
}

fn render(prompt: &Prompt) -> String {
    prompt
        .messages
        .iter()
        .map(|m| {
            let images = if m.images.is_empty() {
                String::new()
            } else {
                format!(" (+{} images)", m.images.len())
            };
            format!("--- {:?}{images} ---\n{}", m.role, m.content)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let profile = load_profile(&args)?;

    let prompt_config = PromptConfig::new()
        .with_max_rows(args.rows)
        .with_token_budget(args.token_budget)
        .with_seed(args.seed);
    let mut generator = RequirementGenerator::new()
        .with_prompt_config(prompt_config)
        .with_seed(args.seed);
    if let (Some(endpoint), Some(model)) = (&args.endpoint, &args.model) {
        let timeout = Duration::from_secs(args.timeout.max(1));
        let client = OpenAiClient::builder(endpoint.as_str())
            .model(model.as_str())
            .api_key_env(args.api_key_env.as_str())
            // One slow answer may use the whole budget; quick failures (503, refused) are retried
            // within it.
            .read_timeout(timeout)
            .deadline(timeout)
            .on_retry(|event| eprintln!("warning: {event}"))
            .build()?;
        generator = generator.with_openai(client);
        if !args.no_cache {
            generator = generator.with_cache(AnswerCache::open_default()?);
        }
    }

    if args.show_prompt {
        let text = render(&generator.prompt(&profile)?);
        if args.json {
            eprintln!("{text}")
        } else {
            println!("{text}\n---")
        }
    }

    let out = generator.generate(&profile)?;
    if args.json {
        println!("{}", serde_json::to_string(&out)?);
    } else {
        println!("{}", out.requirement);
    }
    Ok(())
}
