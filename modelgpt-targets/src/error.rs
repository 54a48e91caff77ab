//! Error type of `modelgpt-targets`.

use std::path::PathBuf;

/// Result alias used throughout `modelgpt-targets`.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Everything that can go wrong while building, loading or running a target model.
///
/// Variants name the file or tensor at fault and carry the numbers a user needs to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error of `modelgpt-core`.
    #[error(transparent)]
    Core(#[from] modelgpt_core::Error),

    /// An I/O error while accessing `path`.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder that could not be read or written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// burn's SafeTensors store failed (reading, applying or writing tensors).
    #[error(transparent)]
    Store(#[from] burn::store::SafetensorsStoreError),

    /// A burn [`Config`](burn::config::Config) file could not be read or parsed.
    #[error("{path}: {source}")]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// burn's error (its message carries serde's line and column).
        #[source]
        source: burn::config::ConfigError,
    },

    /// A tokenizer could not be loaded or failed to encode a text.
    #[error("{path}: tokenizer: {source}")]
    Tokenizer {
        /// The `tokenizer.json` in use.
        path: PathBuf,
        /// The tokenizer's error (a boxed `dyn Error`).
        #[source]
        source: tokenizers::Error,
    },

    /// A required file does not exist.
    #[error("{what} not found: {path}")]
    MissingFile {
        /// Where it was looked for.
        path: PathBuf,
        /// What the file is (e.g. `tokenizer`, `weights`, `model config`).
        what: &'static str,
    },

    /// A SafeTensors file is truncated or its header is corrupted.
    #[error("{path}: invalid SafeTensors file: {source}")]
    Safetensors {
        /// The weights file.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: safetensors::SafeTensorError,
    },

    /// A tensor the model needs is absent from a weights file.
    #[error("{path}: tensor `{name}` is missing")]
    MissingTensor {
        /// The weights file.
        path: PathBuf,
        /// The tensor's name in the file's own (e.g. Hugging Face) naming.
        name: String,
    },

    /// A weights file holds tensors that no part of the model uses and that are not known to be
    /// unused (a sign of a wrong key table or of a different architecture).
    #[error("{path}: unexpected tensors: {}", names.join(", "))]
    UnexpectedTensors {
        /// The weights file.
        path: PathBuf,
        /// Their names after key remapping.
        names: Vec<String>,
    },

    /// A tensor does not have the shape the configuration implies.
    #[error("shape mismatch for {what}: expected {expected:?}, got {actual:?}")]
    ShapeMismatch {
        /// The tensor (its name in the weights file) or input.
        what: String,
        /// The shape implied by the configuration.
        expected: Vec<usize>,
        /// The shape found.
        actual: Vec<usize>,
    },

    /// A tensor could not be read back from the device.
    #[error("reading a tensor back from the device: {0}")]
    Execution(#[from] burn::tensor::ExecutionError),

    /// A configuration value is out of range or unsupported.
    #[error("invalid configuration `{field}`: {reason}")]
    InvalidConfig {
        /// The field.
        field: &'static str,
        /// Why the value is rejected.
        reason: String,
    },

    /// Training or prediction data cannot be used (no rows, NaN or infinite features).
    #[error("{what}: {reason}")]
    InvalidData {
        /// The data set (e.g. `training rows`).
        what: &'static str,
        /// What is wrong, with the row and column where it applies.
        reason: String,
    },

    /// A class label is not below the model's class count.
    #[error("{what}: label {label} at row {row} is out of range for {n_classes} classes")]
    LabelOutOfRange {
        /// The data set (e.g. `validation rows`).
        what: &'static str,
        /// 0-based row of the first offending label.
        row: usize,
        /// The label found.
        label: usize,
        /// The model's number of classes.
        n_classes: usize,
    },
}
