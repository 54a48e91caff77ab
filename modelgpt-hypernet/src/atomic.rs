//! Atomic file writes with this crate's error type (the mechanism is
//! [`modelgpt_core::replace_atomically`]).

use std::path::Path;

use crate::error::{Error, Result};

/// Writes `bytes` to `path` so that readers see either the old file or the new one, never a
/// partial write (a crash leaves at most a stray `*.tmp` file beside it).
///
/// # Errors
/// [`Error::Io`] naming the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    modelgpt_core::write_atomic(path, bytes).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}
