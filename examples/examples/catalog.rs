//! Lists the bundled task catalog.
//!
//! ```text
//! cargo run --release --example catalog              # readable table
//! cargo run --release --example catalog -- --json    # JSON array, one object per task
//! cargo run --release --example catalog -- --requirements iris
//! ```
//!
//! Needs the fetched assets (`python3 scripts/fetch_assets.py`); reads no data file, only the
//! catalog's static metadata.

use anyhow::{Context, Result};
use clap::Parser;
use modelgpt_datasets::Catalog;

/// Lists the tasks of the ModelGPT-rs catalog.
#[derive(Parser, Debug)]
#[command(about)]
struct Args {
    /// Print a JSON array (name, modality, n_rows, n_features, n_classes, labels) instead of a table.
    #[arg(long)]
    json: bool,
    /// Print the requirement pool of this task.
    #[arg(long, value_name = "TASK")]
    requirements: Option<String>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let catalog = Catalog::load()
        .context("loading the task catalog (run `python3 scripts/fetch_assets.py`)")?;

    if let Some(name) = &args.requirements {
        let task = catalog.get(name).with_context(|| {
            format!(
                "no task `{name}`; try one of: {}",
                catalog.names().join(", ")
            )
        })?;
        println!("{}: {}", task.name, task.description);
        println!("source: {}", task.source);
        for r in &task.requirements {
            println!("- {r}");
        }
        return Ok(());
    }

    if args.json {
        /// One task in the JSON listing (fields in this order).
        #[derive(serde::Serialize)]
        struct Row<'a> {
            name: &'a str,
            modality: &'a str,
            n_rows: usize,
            n_features: usize,
            n_classes: usize,
            labels: &'a [String],
        }
        let rows: Vec<Row<'_>> = catalog
            .tasks()
            .iter()
            .map(|t| Row {
                name: &t.name,
                modality: t.modality.as_str(),
                n_rows: t.n_rows,
                n_features: t.n_features,
                n_classes: t.n_classes(),
                labels: &t.labels,
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }

    println!(
        "{:<26} {:<8} {:>6} {:>8} {:>7}  labels",
        "task", "modality", "rows", "features", "classes"
    );
    for t in catalog.tasks() {
        let mut labels = t
            .labels
            .iter()
            .take(4)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if t.labels.len() > 4 {
            labels.push_str(&format!(", ... (+{})", t.labels.len() - 4));
        }
        println!(
            "{:<26} {:<8} {:>6} {:>8} {:>7}  {}",
            t.name,
            t.modality.as_str(),
            t.n_rows,
            t.n_features,
            t.n_classes(),
            labels
        );
    }
    println!(
        "\n{} tasks in {}",
        catalog.tasks().len(),
        catalog.root().display()
    );
    Ok(())
}
