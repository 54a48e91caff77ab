//! Where the fetched assets live, and reading text files.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::limits::Limits;

/// Environment variable that overrides the asset folder.
pub const ASSETS_ENV: &str = "MODELGPT_ASSETS";

/// How to get missing assets.
pub(crate) const FETCH_HINT: &str = "run `python3 scripts/fetch_assets.py`";

/// The folder holding the fetched assets (models and data sets).
///
/// Resolution order:
/// 1. `$MODELGPT_ASSETS` if set and non-empty;
/// 2. the first `assets/` folder containing `minilm/`, searching upward from the current directory;
/// 3. `<modelgpt-core>/../assets` (the workspace's own folder).
///
/// The folder is not required to exist; [`asset`] reports missing files.
///
/// ```
/// let dir = modelgpt_core::data::assets_dir();
/// assert!(dir.ends_with("assets") || std::env::var_os("MODELGPT_ASSETS").is_some());
/// ```
pub fn assets_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(ASSETS_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Ok(cwd) = std::env::current_dir() {
        for dir in cwd.ancestors() {
            let candidate = dir.join("assets");
            if candidate.join("minilm").is_dir() {
                return candidate;
            }
        }
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets"))
}

/// The path of asset `rel` (relative to [`assets_dir`]), checked to exist.
///
/// # Errors
/// [`Error::MissingAsset`] (with a hint on how to fetch the assets) when the file or folder is absent.
///
/// ```no_run
/// let tokenizer = modelgpt_core::data::asset("minilm/tokenizer.json")?;
/// # Ok::<(), modelgpt_core::Error>(())
/// ```
pub fn asset(rel: impl AsRef<Path>) -> Result<PathBuf> {
    asset_in(&assets_dir(), rel.as_ref())
}

/// [`asset`] below an explicit asset folder `root`.
///
/// # Errors
/// [`Error::MissingAsset`] when `root/rel` is absent.
pub fn asset_in(root: impl AsRef<Path>, rel: impl AsRef<Path>) -> Result<PathBuf> {
    let path = root.as_ref().join(rel);
    if path.exists() {
        Ok(path)
    } else {
        Err(Error::missing_asset(path))
    }
}

/// Converts the bytes of file `path` to text, reporting the line of the first invalid byte. A
/// UTF-8 BOM is dropped. Every loader reads text through this; readers of compressed files decode
/// their decompressed bytes with it too.
///
/// ```
/// use std::path::Path;
/// use modelgpt_core::{Error, data::decode_utf8};
/// assert_eq!(decode_utf8(Path::new("a.csv"), "\u{feff}x,y".into())?, "x,y");
/// let err = decode_utf8(Path::new("a.csv"), b"x\n\xff".to_vec()).unwrap_err();
/// assert!(matches!(err, Error::NotUtf8 { line: 2, .. }));
/// # Ok::<(), Error>(())
/// ```
///
/// # Errors
/// [`Error::NotUtf8`] naming `path` and the line of the first invalid byte.
pub fn decode_utf8(path: &Path, bytes: Vec<u8>) -> Result<String> {
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            if s.starts_with('\u{feff}') {
                s.drain(..'\u{feff}'.len_utf8());
            }
            Ok(s)
        }
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let line = 1 + e.as_bytes()[..valid]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            Err(Error::NotUtf8 {
                path: path.to_path_buf(),
                line,
            })
        }
    }
}

/// Appends the next line of `reader` (through its `\n`, if any) to `buf`, the one bounded read
/// of every streaming loader: the line being read is line `line` of `path`, the record in `buf`
/// started at line `record_line`. Adds the bytes read to `total` and returns their count (0 at
/// the end of the input).
///
/// # Errors
/// I/O errors naming `path`; [`Error::LimitExceeded`] when `total` passes
/// [`Limits::max_input_bytes`] or `buf` passes [`Limits::max_record_bytes`] (only that many bytes
/// plus one are ever read into it).
pub(crate) fn read_line_within(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    total: &mut u64,
    path: &Path,
    limits: &Limits,
    line: usize,
    record_line: usize,
) -> Result<usize> {
    let room = (limits.max_record_bytes + 1).saturating_sub(buf.len()) as u64;
    let n = reader
        .take(room)
        .read_until(b'\n', buf)
        .map_err(|e| Error::io_at(path, e))?;
    *total += n as u64;
    if *total > limits.max_input_bytes {
        return Err(Error::LimitExceeded {
            path: path.to_path_buf(),
            line: Some(line),
            column: None,
            what: "the (decompressed) input size in bytes".into(),
            found: *total,
            limit: limits.max_input_bytes,
            limit_name: "max_input_bytes",
        });
    }
    if buf.len() > limits.max_record_bytes {
        return Err(Error::LimitExceeded {
            path: path.to_path_buf(),
            line: Some(record_line),
            column: None,
            what: "the record length in bytes".into(),
            found: buf.len() as u64,
            limit: limits.max_record_bytes as u64,
            limit_name: "max_record_bytes",
        });
    }
    Ok(n)
}

/// Streams the lines of UTF-8 text from `reader` (without their line break, `\r` included),
/// calling `on_line` with each 1-based line number, within [`Limits::max_input_bytes`] and
/// [`Limits::max_record_bytes`] (the longest line). A BOM at the start is dropped.
pub(crate) fn for_each_line(
    mut reader: impl BufRead,
    path: &Path,
    limits: &Limits,
    mut on_line: impl FnMut(usize, &str) -> Result<()>,
) -> Result<()> {
    let mut buf = Vec::new();
    let mut total = 0u64;
    let mut line = 0usize;
    loop {
        buf.clear();
        line += 1;
        if read_line_within(&mut reader, &mut buf, &mut total, path, limits, line, line)? == 0 {
            return Ok(());
        }
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        let text = match std::str::from_utf8(&buf) {
            Ok(t) => t,
            Err(_) => {
                return Err(Error::NotUtf8 {
                    path: path.to_path_buf(),
                    line,
                });
            }
        };
        let text = if line == 1 {
            text.strip_prefix('\u{feff}').unwrap_or(text)
        } else {
            text
        };
        on_line(line, text)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_utf8_names_the_line() {
        let err = decode_utf8(Path::new("x.csv"), b"a,b\n1,2\n\xff,3\n".to_vec()).unwrap_err();
        assert!(matches!(err, Error::NotUtf8 { line: 3, .. }), "{err:?}");
    }

    #[test]
    fn bom_is_dropped() {
        let s = decode_utf8(Path::new("x"), "\u{feff}a,b".as_bytes().to_vec()).unwrap();
        assert_eq!(s, "a,b");
    }
}
