//! The meta-trained hypernetworks that ship with this crate, so nobody meta-trains on first use.
//!
//! The checkpoints live in `modelgpt-hypernet/checkpoints/` in the [`crate::checkpoint`] layout
//! and are compiled into the library (`include_bytes!`), so they load the same from any folder,
//! any clone and any installed binary:
//!
//! | checkpoint | what | loader |
//! |---|---|---|
//! | `tabular-kernel-end_to_end` | kernel mode, end-to-end rule: the default tabular generator | [`tabular`] |
//! | `tabular-general-end_to_end`, `tabular-general-delta`, `tabular-paper-end_to_end`, `tabular-paper-delta` | the other variants of the tabular report | [`tabular_variant`] |
//! | `tabular-selector` | the architecture selector: which member of the MLP family the kernel generator writes | [`tabular_selector`] |
//! | `text` | LoRA adapters + head for all-MiniLM-L6-v2 | [`text`] |
//!
//! Each was meta-trained on the catalog's seen tasks (the held-out tasks of the reports were never
//! seen; the kernel mode also on a stream of synthetic prior tasks) by one command, which rewrites
//! them in place:
//!
//! ```text
//! cargo run --release -p modelgpt-experiments --bin checkpoints
//! ```
//!
//! The selector is trained on outcomes measured with the shipped kernel generator, by
//! `cargo run --release -p modelgpt-experiments --bin architecture`.
//!
//! ```
//! use burn::tensor::Device;
//! use modelgpt_hypernet::{HyperMode, shipped};
//!
//! let device = Device::default();
//! let (hyper, config) = shipped::tabular(&device)?;
//! assert_eq!(config.mode, HyperMode::Kernel);
//! assert_eq!(config.d_embed, 384); // all-MiniLM-L6-v2 embeddings
//! # let _ = hyper;
//! # Ok::<(), modelgpt_hypernet::Error>(())
//! ```

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use modelgpt_core::Modality;
use serde::de::DeserializeOwned;

use crate::checkpoint::{MANIFEST_FILE, Manifest, WEIGHTS_FILE, load_weights_from_bytes};
use crate::error::{Error, Result};
use crate::tabular::{
    ArchSelector, ArchSelectorConfig, HyperMode, HyperNet, HyperNetConfig, MetaRule,
    MetaTrainReport, SelectorTrainReport,
};
use crate::text::{TextHyperNet, TextHyperNetConfig, TextMetaReport};

/// One embedded checkpoint: its folder name and its two files.
struct Embedded {
    name: &'static str,
    manifest: &'static [u8],
    weights: &'static [u8],
}

macro_rules! embedded {
    ($name:literal) => {
        Embedded {
            name: $name,
            manifest: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/checkpoints/",
                $name,
                "/checkpoint.json"
            )),
            weights: include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/checkpoints/",
                $name,
                "/hypernet.safetensors"
            )),
        }
    };
}

const TABULAR_KERNEL_E2E: Embedded = embedded!("tabular-kernel-end_to_end");
const TABULAR_GENERAL_E2E: Embedded = embedded!("tabular-general-end_to_end");
const TABULAR_GENERAL_DELTA: Embedded = embedded!("tabular-general-delta");
const TABULAR_PAPER_E2E: Embedded = embedded!("tabular-paper-end_to_end");
const TABULAR_PAPER_DELTA: Embedded = embedded!("tabular-paper-delta");
const TABULAR_SELECTOR: Embedded = embedded!("tabular-selector");
const TEXT: Embedded = embedded!("text");

impl Embedded {
    /// Where the checkpoint sits in the source tree (named in errors).
    fn origin(&self, file: &str) -> PathBuf {
        Path::new("modelgpt-hypernet/checkpoints")
            .join(self.name)
            .join(file)
    }

    fn manifest<C: DeserializeOwned>(&self, modality: Modality) -> Result<Manifest<C>> {
        crate::checkpoint::manifest_from_bytes(self.manifest, &self.origin(MANIFEST_FILE), modality)
    }
}

/// A shipped tabular hypernetwork with its configuration and meta-training report.
pub type ShippedTabular = (HyperNet, HyperNetConfig, Option<MetaTrainReport>);

/// The shipped architecture selector with its configuration and training report.
pub type ShippedSelector = (
    ArchSelector,
    ArchSelectorConfig,
    Option<SelectorTrainReport>,
);

/// A shipped text hypernetwork with its configuration and meta-training report.
pub type ShippedText = (TextHyperNet, TextHyperNetConfig, Option<TextMetaReport>);

fn report<R: DeserializeOwned>(
    value: Option<serde_json::Value>,
    origin: PathBuf,
) -> Result<Option<R>> {
    value
        .map(|v| {
            serde_json::from_value(v).map_err(|source| Error::Json {
                path: origin,
                source,
            })
        })
        .transpose()
}

/// The default tabular hypernetwork (general mode, end-to-end rule), on `device`.
///
/// # Errors
/// Only if the embedded checkpoint does not match this build (a packaging bug): as
/// [`crate::checkpoint::load_checkpoint`].
pub fn tabular(device: &Device) -> Result<(HyperNet, HyperNetConfig)> {
    let (hyper, config, _) = tabular_variant(HyperMode::Kernel, MetaRule::EndToEnd, device)?;
    Ok((hyper, config))
}

/// The shipped tabular hypernetwork of one mode × rule variant, with its meta-training report.
///
/// # Errors
/// As [`tabular`].
pub fn tabular_variant(mode: HyperMode, rule: MetaRule, device: &Device) -> Result<ShippedTabular> {
    let e = match (mode, rule) {
        (HyperMode::General, MetaRule::EndToEnd) => &TABULAR_GENERAL_E2E,
        (HyperMode::General, MetaRule::Delta) => &TABULAR_GENERAL_DELTA,
        (HyperMode::Paper, MetaRule::EndToEnd) => &TABULAR_PAPER_E2E,
        (HyperMode::Paper, MetaRule::Delta) => &TABULAR_PAPER_DELTA,
        (HyperMode::Kernel, MetaRule::EndToEnd) => &TABULAR_KERNEL_E2E,
        (HyperMode::Kernel, MetaRule::Delta) => {
            return Err(crate::Error::InvalidConfig {
                field: "rule",
                reason: "only the end-to-end rule of the kernel mode is shipped; meta-train \
                         the Delta rule with MetaTrainer"
                    .into(),
            });
        }
    };
    let manifest: Manifest<HyperNetConfig> = e.manifest(Modality::Tabular)?;
    let hyper = load_weights_from_bytes(
        manifest.config.init(device),
        e.weights.to_vec(),
        &e.origin(WEIGHTS_FILE),
    )?;
    let report = report(manifest.report, e.origin(MANIFEST_FILE))?;
    Ok((hyper, manifest.config, report))
}

/// The shipped architecture selector of the tabular wing (scores every member of its
/// [`ArchSelectorConfig::space`] for a task; see [`crate::tabular::select`]), on `device`, with
/// its training report. It was trained on outcomes of the generator [`tabular`] returns.
///
/// ```
/// use burn::tensor::Device;
/// use modelgpt_hypernet::shipped;
///
/// let (selector, config, report) = shipped::tabular_selector(&Device::default())?;
/// assert_eq!(config.space.candidates().len(), 22);
/// assert!(report.is_some());
/// # let _ = selector;
/// # Ok::<(), modelgpt_hypernet::Error>(())
/// ```
///
/// # Errors
/// As [`tabular`].
pub fn tabular_selector(device: &Device) -> Result<ShippedSelector> {
    let e = &TABULAR_SELECTOR;
    let manifest: Manifest<ArchSelectorConfig> = e.manifest(Modality::Tabular)?;
    manifest.config.validate()?;
    let selector = load_weights_from_bytes(
        manifest.config.init(device),
        e.weights.to_vec(),
        &e.origin(WEIGHTS_FILE),
    )?;
    let report = report(manifest.report, e.origin(MANIFEST_FILE))?;
    Ok((selector, manifest.config, report))
}

/// The shipped text hypernetwork (LoRA adapters + head for all-MiniLM-L6-v2), with its
/// meta-training report.
///
/// # Errors
/// As [`tabular`].
pub fn text(device: &Device) -> Result<ShippedText> {
    let manifest: Manifest<TextHyperNetConfig> = TEXT.manifest(Modality::Text)?;
    let hyper = load_weights_from_bytes(
        manifest.config.init(device)?,
        TEXT.weights.to_vec(),
        &TEXT.origin(WEIGHTS_FILE),
    )?;
    let report = report(manifest.report, TEXT.origin(MANIFEST_FILE))?;
    Ok((hyper, manifest.config, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_device;

    /// The shipped configurations are the ones the code builds by default, so the checkpoints
    /// are what `cargo run --bin checkpoints` writes today.
    #[test]
    fn shipped_configs_match_the_code_and_load() {
        let device = test_device();
        for (mode, rule) in [
            (HyperMode::Kernel, MetaRule::EndToEnd),
            (HyperMode::General, MetaRule::EndToEnd),
            (HyperMode::General, MetaRule::Delta),
            (HyperMode::Paper, MetaRule::EndToEnd),
            (HyperMode::Paper, MetaRule::Delta),
        ] {
            let (_, config, report) = tabular_variant(mode, rule, &device).unwrap();
            assert_eq!(config.mode, mode);
            let report = report.expect("shipped checkpoints carry their report");
            assert!(report.best_valid_acc > 0.5, "{mode:?}/{rule:?}: {report:?}");
            if mode == HyperMode::Kernel {
                assert_eq!(config, HyperNetConfig::kernel(384), "{mode:?}/{rule:?}");
            } else if mode == HyperMode::General {
                let mut fresh = HyperNetConfig::general(384);
                fresh.mode = mode;
                assert_eq!(config, fresh, "{mode:?}/{rule:?}");
            } else {
                assert!(!config.tasks.is_empty());
                assert_eq!(config.d_hidden, HyperNetConfig::paper(384, vec![]).d_hidden);
            }
        }
        let (_, config, report) = text(&device).unwrap();
        let fresh = TextHyperNetConfig {
            min_shrinkage: config.min_shrinkage,
            ..TextHyperNetConfig::default()
        };
        assert_eq!(config, fresh);
        assert!(report.is_some());
        let (_, config) = tabular(&device).unwrap();
        assert_eq!(config.mode, HyperMode::Kernel, "users get the kernel mode");
        assert!(tabular_variant(HyperMode::Kernel, MetaRule::Delta, &device).is_err());
        let (_, sel, report) = tabular_selector(&device).unwrap();
        let fresh = ArchSelectorConfig {
            tolerance: sel.tolerance,
            ..ArchSelectorConfig::new(384)
        };
        assert_eq!(sel, fresh, "the shipped selector is what the code builds");
        let report = report.expect("the selector carries its training report");
        assert!(report.valid.n_tasks > 0 && report.valid.spearman > 0.0);
    }
}
