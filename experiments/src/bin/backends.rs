//! Measures the library on several backends in one run beside flex and writes the figures as
//! JSON ([`modelgpt_experiments::backends`]).
//!
//! ```text
//! cargo run --release -p modelgpt-experiments --features wgpu,tch --bin backends -- \
//!     [--backends flex,wgpu,tch] [--seconds 2] [--out reports/backends.json]
//! ```
//!
//! `--backends` defaults to every backend compiled in; `--seconds` is the least time each
//! throughput figure is measured over. `scripts/check_backends.py` builds and runs this.

use anyhow::{Result, bail};
use clap::Parser;

/// Command line.
#[derive(Parser, Debug)]
#[command(about = "MiniLM, generation and meta-training on several backends beside flex")]
struct Args {
    /// Comma-separated backend names (flex, wgpu, cuda, tch, tch-cuda); default: all compiled.
    #[arg(long, value_delimiter = ',')]
    backends: Option<Vec<String>>,
    /// Least seconds per throughput figure.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Where the JSON goes (`-` for standard output).
    #[arg(long, default_value = "-")]
    out: String,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let names: Vec<String> = match args.backends {
        Some(v) => v,
        None => modelgpt_core::backend::compiled_backends()
            .into_iter()
            .filter(|n| !n.ends_with("-cuda") && *n != "cuda")
            .map(String::from)
            .collect(),
    };
    if !args.seconds.is_finite() || args.seconds <= 0.0 {
        bail!("--seconds must be a positive number, got {}", args.seconds);
    }
    let figures = modelgpt_experiments::backends::run(&names, args.seconds)?;
    let json = serde_json::to_string_pretty(&serde_json::json!({
        "compiled": modelgpt_core::backend::compiled_backends(),
        "threads": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "backends": figures,
    }))?;
    if args.out == "-" {
        println!("{json}");
    } else {
        modelgpt_core::write_atomic(std::path::Path::new(&args.out), json.as_bytes())?;
        eprintln!("wrote {}", args.out);
    }
    Ok(())
}
