//! Error type of `modelgpt-core`.

use std::path::PathBuf;

/// Result alias used throughout `modelgpt-core`.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Everything that can go wrong in `modelgpt-core`: reading data, validating specs, finding assets.
///
/// Variants carry the numbers and locations a user needs to fix the input (file, line, column,
/// tensor name, expected and actual shapes).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error without a more specific location.
    #[error(transparent)]
    Io(#[from] std::io::Error),

    /// An I/O error while accessing `path`.
    #[error("{path}: {source}")]
    IoAt {
        /// The file or folder that could not be read or written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A JSON document could not be parsed or written.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        /// The file (or a description such as `<memory>`).
        path: PathBuf,
        /// The underlying error (it carries line and column).
        #[source]
        source: serde_json::Error,
    },

    /// One line of a JSON Lines file is not valid JSON.
    #[error("{path}:{line}:{}: invalid JSON: {source}", source.column())]
    JsonLine {
        /// The file being read.
        path: PathBuf,
        /// 1-based line number in the file.
        line: usize,
        /// The parser's error (its column is the column within the line).
        #[source]
        source: serde_json::Error,
    },

    /// A malformed record in a data file.
    #[error("{path}:{line}{}: {reason}", column.map(|c| format!(":{c}")).unwrap_or_default())]
    Parse {
        /// The file being read.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// 1-based column (field) number, when the problem is in one field.
        column: Option<usize>,
        /// What is wrong.
        reason: String,
    },

    /// A file is not valid UTF-8 text.
    #[error("{path}:{line}: not valid UTF-8 text")]
    NotUtf8 {
        /// The file being read.
        path: PathBuf,
        /// 1-based line number of the first invalid byte.
        line: usize,
    },

    /// A data file holds no usable record.
    #[error("{path}: {reason}")]
    EmptyData {
        /// The file or folder.
        path: PathBuf,
        /// What was missing (e.g. "header only, no data rows").
        reason: String,
    },

    /// A named column does not exist.
    #[error("{path}: no column named `{column}` (columns: {available})")]
    MissingColumn {
        /// The file being read.
        path: PathBuf,
        /// The requested column.
        column: String,
        /// The columns that do exist, comma-separated.
        available: String,
    },

    /// The data set cannot be used for classification (e.g. one class only).
    #[error("{what}: {reason}")]
    InvalidData {
        /// The data set or file.
        what: String,
        /// What is wrong.
        reason: String,
    },

    /// A tensor or array does not have the shape it must have.
    #[error("shape mismatch for {what}: expected {expected:?}, got {actual:?}")]
    ShapeMismatch {
        /// The tensor or array.
        what: String,
        /// The expected shape.
        expected: Vec<usize>,
        /// The shape found.
        actual: Vec<usize>,
    },

    /// A parameter name is not part of a [`ParamSpec`](crate::ParamSpec).
    #[error("unknown parameter `{name}`")]
    UnknownParam {
        /// The name that was looked up.
        name: String,
    },

    /// A configuration value is out of range.
    #[error("invalid configuration `{field}`: {reason}")]
    InvalidConfig {
        /// The field.
        field: &'static str,
        /// Why the value is rejected.
        reason: String,
    },

    /// An asset (model file, data file) is not where it should be.
    #[error("asset not found: {path} ({hint})")]
    MissingAsset {
        /// Where it was looked for.
        path: PathBuf,
        /// How to get it (usually: run `python3 scripts/fetch_assets.py`).
        hint: String,
    },

    /// A PNG image could not be decoded.
    #[error("{path}: invalid PNG image: {source}")]
    Image {
        /// The image file.
        path: PathBuf,
        /// The decoder's error.
        #[source]
        source: png::DecodingError,
    },

    /// Input beyond one of the documented [`Limits`](crate::Limits) (see [`crate::limits`]).
    ///
    /// For sizes counted while streaming (bytes of a file or a record), `found` is where reading
    /// stopped: the first count above the limit.
    #[error(
        "{path}{}{}: {what} is {found}, above the limit of {limit} (`Limits::{limit_name}`)",
        line.map(|l| format!(":{l}")).unwrap_or_default(),
        column.map(|c| format!(":{c}")).unwrap_or_default()
    )]
    LimitExceeded {
        /// The file or folder being read.
        path: PathBuf,
        /// 1-based line, when the excess is in one record.
        line: Option<usize>,
        /// 1-based column (field), when the excess is in one cell.
        column: Option<usize>,
        /// What was measured, e.g. "the decompressed size in bytes".
        what: String,
        /// The value found.
        found: u64,
        /// The limit.
        limit: u64,
        /// The field of [`Limits`](crate::Limits) holding the limit.
        limit_name: &'static str,
    },

    /// A language model or an encoder failed (used by implementations of the core traits).
    #[error("{context}: {source}")]
    External {
        /// What was being done.
        context: String,
        /// The implementation's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

impl Error {
    /// Wraps an implementation's error at a trait boundary ([`crate::LanguageModel`],
    /// [`crate::RequirementEncoder`]), keeping it as the source: `downcast_ref` on
    /// [`std::error::Error::source`] recovers it.
    pub fn external(
        context: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::External {
            context: context.into(),
            source: Box::new(source),
        }
    }

    /// Shorthand for a [`Error::Parse`] error.
    pub fn parse(
        path: impl Into<PathBuf>,
        line: usize,
        column: Option<usize>,
        reason: impl Into<String>,
    ) -> Self {
        Self::Parse {
            path: path.into(),
            line,
            column,
            reason: reason.into(),
        }
    }

    /// Shorthand for an [`Error::MissingAsset`] error at `path`, with the hint on how to fetch the
    /// assets.
    pub fn missing_asset(path: impl Into<PathBuf>) -> Self {
        Self::MissingAsset {
            path: path.into(),
            hint: crate::data::FETCH_HINT.to_string(),
        }
    }

    /// Shorthand for an [`Error::IoAt`] error.
    pub fn io_at(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::IoAt {
            path: path.into(),
            source,
        }
    }
}
