//! The experiments of ModelGPT-rs (not published): meta-training runs over the catalog's tasks,
//! per-task baselines, the tabular and text reports and their plots, and the recipe of the
//! hypernetwork checkpoints shipped in `modelgpt-hypernet` (the `checkpoints` binary).
//!
//! - [`tabular`]: the experiment behind `cargo run --release --example quickstart`
//!   (`reports/tabular.{json,md}`).
//! - [`architecture`]: the tabular architecture selector's outcomes, training and report
//!   (`cargo run --release -p modelgpt-experiments --bin architecture`,
//!   `reports/architecture.{json,md}`).
//! - [`backends`]: the same code on flex, wgpu, tch (and CUDA) measured side by side
//!   (`scripts/check_backends.py`, `reports/backends.json`).
//! - [`image`]: the experiment behind `cargo run --release --example image_report`
//!   (`reports/image.{json,md}`).
//! - [`prior`]: synthetic prior tasks as an extra meta-training source.
//! - [`text`]: the experiment behind `cargo run --release --example text_lora -- --report`
//!   (`reports/text.{json,md}`).
//! - [`device`], [`cache_dir`], [`load_encoder`]: what every program here and in `examples/`
//!   starts with.
//!
//! Nothing here is library API: the library crates never depend on this one.

pub mod architecture;
pub mod backends;
pub mod image;
pub mod prior;
pub mod tabular;
pub mod text;

use std::path::PathBuf;

use anyhow::Context;
use burn::tensor::Device;
use modelgpt_core::data::assets_dir;
use modelgpt_targets::BertRequirementEncoder;

/// The device: `Device::default()` (flex unless a GPU feature is compiled; `BURN_DEVICE`
/// overrides).
pub fn device() -> Device {
    let d = Device::default();
    eprintln!("device: {d:?} (enable the `wgpu` or `cuda` feature for a GPU; BURN_DEVICE selects)");
    d
}

/// Where examples keep caches (embeddings, checkpoints, baseline results): `$MODELGPT_CACHE` or
/// `.modelgpt-cache/` in the current folder.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("MODELGPT_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".modelgpt-cache"))
}

/// Loads the MiniLM requirement encoder from the assets folder.
///
/// # Errors
/// When the assets are missing (run `python3 scripts/fetch_assets.py`) or unreadable.
pub fn load_encoder(device: &Device) -> anyhow::Result<BertRequirementEncoder> {
    let dir = assets_dir().join("minilm");
    BertRequirementEncoder::from_dir(&dir, device).with_context(|| {
        format!(
            "loading the MiniLM encoder from {} (run `python3 scripts/fetch_assets.py`)",
            dir.display()
        )
    })
}
