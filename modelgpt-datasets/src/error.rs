//! Error type of `modelgpt-datasets`.

/// Result alias used throughout `modelgpt-datasets`.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Everything that can go wrong while reading a bundled data set or the task catalog, or while
/// configuring the synthetic task prior.
///
/// Reading and parsing errors are `modelgpt-core`'s, nested in [`Error::Core`]: they name the
/// file, line and column ([`modelgpt_core::Error::Parse`], [`modelgpt_core::Error::NotUtf8`],
/// [`modelgpt_core::Error::Json`], ...) or the missing asset
/// ([`modelgpt_core::Error::MissingAsset`], with a hint on how to fetch the assets).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error of `modelgpt-core`: reading, parsing or validating data, a missing asset.
    #[error(transparent)]
    Core(#[from] modelgpt_core::Error),

    /// A task name is not in the catalog.
    #[error("unknown task `{name}`")]
    UnknownTask {
        /// The requested task.
        name: String,
    },

    /// The embedded task table (`catalog.json`) is not valid JSON or does not follow its schema.
    #[error("the embedded task table is invalid: {source}")]
    Table {
        /// The parser's error (it carries the line and column in `catalog.json`).
        #[source]
        source: serde_json::Error,
    },

    /// A configuration value is out of range or inconsistent with another one (for example a
    /// [`PriorConfig`](crate::prior::PriorConfig) whose `min_rows` exceeds its `max_rows`).
    #[error("invalid `{field}`: {reason}")]
    InvalidConfig {
        /// The offending field, as spelled in the configuration.
        field: &'static str,
        /// What is wrong, with the values involved.
        reason: String,
    },

    /// A task of the table is inconsistent (with itself, or with the data it loads).
    #[error("task `{task}`: {reason}")]
    InvalidTask {
        /// The task.
        task: String,
        /// What is wrong.
        reason: String,
    },
}
