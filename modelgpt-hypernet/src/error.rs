//! Error type of `modelgpt-hypernet`.

use std::path::PathBuf;

/// Result alias of `modelgpt-hypernet`.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Everything that can go wrong while generating, meta-training or loading.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error of `modelgpt-core` (data, catalog, specs).
    #[error(transparent)]
    Core(#[from] modelgpt_core::Error),

    /// An error of `modelgpt-targets` (target models, encoder, export).
    #[error(transparent)]
    Targets(#[from] modelgpt_targets::Error),

    /// An input is beyond a documented limit of the library.
    #[error("{what}: {value} exceeds the limit of {limit} {unit}")]
    LimitExceeded {
        /// What was too large (e.g. `sample `credit``).
        what: String,
        /// The input's size.
        value: usize,
        /// The limit.
        limit: usize,
        /// Of what (`features`, `classes`).
        unit: &'static str,
    },

    /// Reading or writing `path` failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A JSON file could not be read or written.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },

    /// Saving or loading weights failed.
    #[error("{path}: {source}")]
    Store {
        /// The weights file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: burn::store::SafetensorsStoreError,
    },

    /// Saving or loading a resumable training snapshot (burnpack) failed.
    #[error("{path}: {source}")]
    Pack {
        /// The snapshot file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: <burn::store::BurnpackStore as burn::store::ModuleStore>::Error,
    },

    /// Saving or loading the meta-training optimizer state failed.
    #[error("{path}: optimizer state: {source}")]
    Record {
        /// The optimizer state file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: burn::store::RecordError,
    },

    /// A tensor could not be read back from the device.
    #[error("reading a tensor back from the device: {0}")]
    Execution(#[from] burn::tensor::ExecutionError),

    /// Tensor data read back could not be converted (dtype, representation).
    #[error("tensor data: {0}")]
    Data(#[from] burn::tensor::DataError),

    /// A SafeTensors file written or read by hand (the Delta rule's inner optimizer state) is
    /// invalid.
    #[error("{path}: {source}")]
    Safetensors {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: safetensors::SafeTensorError,
    },

    /// Input the hypernetwork cannot use (shapes, labels, empty samples).
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// What was passed.
        what: String,
        /// Why it is rejected.
        reason: String,
    },

    /// Paper mode: the task (or its shapes) was not seen in meta-training, so it has no heads.
    #[error(
        "paper-mode hypernetwork has no heads for task `{task}` with {n_features} features and {n_classes} classes; \
         the paper's design only serves its training tasks (use the general mode)"
    )]
    UnseenTask {
        /// The task.
        task: String,
        /// Its feature count.
        n_features: usize,
        /// Its class count.
        n_classes: usize,
    },

    /// A checkpoint was written for another configuration.
    #[error("{path}: checkpoint does not match this configuration: {reason}")]
    CheckpointMismatch {
        /// The checkpoint directory.
        path: PathBuf,
        /// What differs.
        reason: String,
    },

    /// A configuration value is out of range.
    #[error("invalid configuration `{field}`: {reason}")]
    InvalidConfig {
        /// The field.
        field: &'static str,
        /// Why the value is rejected.
        reason: String,
    },

    /// No member of the architecture space satisfies the user's constraints.
    #[error(
        "no architecture satisfies the constraints: {constraint} (the smallest candidate, \
         {smallest}, has {smallest_params} parameters)"
    )]
    ConstraintUnmet {
        /// Which constraint failed, e.g. `max_params = 500` or `architecture mlp-2x64 within
        /// max_params = 500`.
        constraint: String,
        /// The smallest member of the space for this task.
        smallest: String,
        /// Its parameter count.
        smallest_params: usize,
    },
}
