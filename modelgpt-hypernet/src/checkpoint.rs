//! One on-disk layout for every hypernetwork checkpoint, whatever its modality:
//!
//! ```text
//! dir/
//!   checkpoint.json        Manifest: layout version, modality, the hypernetwork's configuration,
//!                          optionally the meta-training report and how the weights were made
//!   hypernet.safetensors   the weights (burn module paths as keys, f32)
//! ```
//!
//! [`save_checkpoint`] writes both files atomically; [`load_checkpoint`] reads them back into a
//! freshly initialised module and refuses a folder of another layout version or modality with a
//! typed error. The same functions serve the checkpoints shipped inside this crate
//! ([`crate::shipped`]), read from memory. Meta-training keeps its resumable state (optimizer,
//! last epoch) in its own folder; a finished run exports its best weights in this layout.

use std::path::Path;

use burn::module::Module;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use modelgpt_core::Modality;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::error::{Error, Result};

/// Layout version of checkpoints written by this build.
///
/// 1: `checkpoint.json` + `hypernet.safetensors`, the trunk under `trunk.layers.*`.
pub const CHECKPOINT_VERSION: u32 = 1;

/// File name of the manifest inside a checkpoint folder.
pub const MANIFEST_FILE: &str = "checkpoint.json";

/// File name of the weights inside a checkpoint folder.
pub const WEIGHTS_FILE: &str = "hypernet.safetensors";

/// What `checkpoint.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest<C> {
    /// Layout version ([`CHECKPOINT_VERSION`] when written by this build).
    pub version: u32,
    /// Which wing the hypernetwork belongs to.
    pub modality: Modality,
    /// The hypernetwork's configuration (it initialises the module the weights load into).
    pub config: C,
    /// The meta-training report of the run that produced the weights, if any.
    #[serde(default)]
    pub report: Option<serde_json::Value>,
    /// How the weights were made (e.g. the command that reproduces them).
    #[serde(default)]
    pub provenance: Option<String>,
}

impl<C> Manifest<C> {
    /// A manifest of the current layout version.
    pub fn new(modality: Modality, config: C) -> Self {
        Self {
            version: CHECKPOINT_VERSION,
            modality,
            config,
            report: None,
            provenance: None,
        }
    }

    /// Attaches a meta-training report.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the report cannot be represented as JSON.
    pub fn with_report(mut self, report: &impl Serialize) -> Result<Self> {
        let value = serde_json::to_value(report).map_err(|e| Error::InvalidInput {
            what: "meta-training report".into(),
            reason: format!("not representable as JSON: {e}"),
        })?;
        self.report = Some(value);
        Ok(self)
    }

    /// Records how the weights were made.
    pub fn with_provenance(mut self, provenance: impl Into<String>) -> Self {
        self.provenance = Some(provenance.into());
        self
    }
}

/// Writes `manifest` and `module`'s weights into `dir` (created if missing), each atomically.
///
/// # Errors
/// [`Error::Io`], [`Error::Json`] or [`Error::Store`] naming the file.
pub fn save_checkpoint<C: Serialize, M: Module>(
    dir: &Path,
    manifest: &Manifest<C>,
    module: &M,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let path = dir.join(MANIFEST_FILE);
    let json = serde_json::to_vec_pretty(manifest).map_err(|source| Error::Json {
        path: path.clone(),
        source,
    })?;
    // Weights first: a crash in between leaves the old manifest, which still names the layout.
    save_weights(module, &dir.join(WEIGHTS_FILE))?;
    write_atomic(&path, &json)
}

/// Reads the manifest of the checkpoint in `dir` and checks its version and modality.
///
/// # Errors
/// [`Error::Io`] / [`Error::Json`] naming the file; [`Error::CheckpointMismatch`] for another
/// layout version or modality.
pub fn read_manifest<C: DeserializeOwned>(dir: &Path, modality: Modality) -> Result<Manifest<C>> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = std::fs::read(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    manifest_from_bytes(&bytes, &path, modality)
}

/// Parses a manifest read from `origin` (a file name, for errors) and checks it.
///
/// # Errors
/// As [`read_manifest`].
pub fn manifest_from_bytes<C: DeserializeOwned>(
    bytes: &[u8],
    origin: &Path,
    modality: Modality,
) -> Result<Manifest<C>> {
    let manifest: Manifest<C> = serde_json::from_slice(bytes).map_err(|source| Error::Json {
        path: origin.to_path_buf(),
        source,
    })?;
    if manifest.version != CHECKPOINT_VERSION {
        return Err(Error::CheckpointMismatch {
            path: origin.to_path_buf(),
            reason: format!(
                "layout version {} (this build reads {CHECKPOINT_VERSION}); regenerate it",
                manifest.version
            ),
        });
    }
    if manifest.modality != modality {
        return Err(Error::CheckpointMismatch {
            path: origin.to_path_buf(),
            reason: format!("a {} hypernetwork, not a {modality} one", manifest.modality),
        });
    }
    Ok(manifest)
}

/// Loads the checkpoint in `dir`: the manifest, then the weights into the module `init` builds
/// from its configuration.
///
/// # Errors
/// As [`read_manifest`], errors of `init`, and [`Error::Store`] when the weights are missing,
/// corrupt or of another shape.
pub fn load_checkpoint<C: DeserializeOwned, M: Module>(
    dir: &Path,
    modality: Modality,
    init: impl FnOnce(&C) -> Result<M>,
) -> Result<(M, Manifest<C>)> {
    let manifest = read_manifest::<C>(dir, modality)?;
    let module = load_weights(init(&manifest.config)?, &dir.join(WEIGHTS_FILE))?;
    Ok((module, manifest))
}

/// Saves a module's weights to `path` atomically (safetensors).
///
/// # Errors
/// Store or I/O failures, naming the file.
pub fn save_weights<M: Module>(module: &M, path: &Path) -> Result<()> {
    let mut store = SafetensorsStore::from_bytes(None);
    module
        .save_into(&mut store)
        .map_err(|source| Error::Store {
            path: path.to_path_buf(),
            source,
        })?;
    let bytes = store.get_bytes().map_err(|source| Error::Store {
        path: path.to_path_buf(),
        source,
    })?;
    write_atomic(path, &bytes)
}

/// Loads weights saved by [`save_weights`] into `module`.
///
/// # Errors
/// [`Error::Io`] / [`Error::Store`] naming the file when it is missing, corrupt, or of another
/// shape.
pub fn load_weights<M: Module>(module: M, path: &Path) -> Result<M> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    load_weights_from_bytes(module, bytes, path)
}

/// Loads safetensors `bytes` (read from `origin`, named in errors) into `module`.
///
/// # Errors
/// [`Error::Store`] when the bytes are corrupt or of another shape.
pub fn load_weights_from_bytes<M: Module>(
    mut module: M,
    bytes: Vec<u8>,
    origin: &Path,
) -> Result<M> {
    let mut store = SafetensorsStore::from_bytes(Some(bytes));
    module
        .load_from(&mut store)
        .map_err(|source| Error::Store {
            path: origin.to_path_buf(),
            source,
        })?;
    Ok(module)
}
