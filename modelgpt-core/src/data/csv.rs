//! A small RFC 4180 reader (quoted fields, doubled quotes, embedded newlines, CRLF).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::assets::read_text;
use crate::error::{Error, Result};

/// One parsed record: the 1-based line where it starts and its fields.
pub type Record = (usize, Vec<String>);

/// A CSV file split into its header and rows of text fields (no type inference).
///
/// Every row has exactly `header.len()` fields; `lines[i]` is the 1-based line where row `i` starts.
///
/// ```
/// use modelgpt_core::data::CsvTable;
/// let t = CsvTable::parse_str("a,b\n1,\"x, \"\"y\"\"\"\n", "<memory>")?;
/// assert_eq!(t.header, ["a", "b"]);
/// assert_eq!(t.rows[0][1], "x, \"y\"");
/// # Ok::<(), modelgpt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvTable {
    /// The file the table came from (or a label such as `<memory>`), used in error messages.
    pub path: PathBuf,
    /// Column names from the first record.
    pub header: Vec<String>,
    /// Data rows.
    pub rows: Vec<Vec<String>>,
    /// 1-based starting line of each row.
    pub lines: Vec<usize>,
}

impl CsvTable {
    /// Parses CSV text with a header line. `path` only labels errors.
    ///
    /// Unquoted fields are trimmed of surrounding blanks; blank lines are skipped.
    ///
    /// # Errors
    /// [`Error::EmptyData`] for empty text, [`Error::Parse`] for an unterminated quote, text after a
    /// closing quote or a row whose field count differs from the header's (naming line and column).
    pub fn parse_str(content: &str, path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let mut records = parse_records(content, b',', &path)?.into_iter();
        let Some((_, header)) = records.next() else {
            return Err(Error::EmptyData {
                path,
                reason: "empty file".into(),
            });
        };
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for (line, fields) in records {
            check_width(&path, line, header.len(), fields.len())?;
            rows.push(fields);
            lines.push(line);
        }
        Ok(Self {
            path,
            header,
            rows,
            lines,
        })
    }

    /// Index of the column called `name`.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] listing the available columns.
    pub fn column_index(&self, name: &str) -> Result<usize> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::MissingColumn {
                path: self.path.clone(),
                column: name.to_string(),
                available: self.header.join(", "),
            })
    }
}

/// Reads a CSV file (UTF-8) with a header line.
///
/// # Errors
/// I/O errors with the path, [`Error::NotUtf8`] naming the line, and those of
/// [`CsvTable::parse_str`].
///
/// ```no_run
/// let table = modelgpt_core::data::read_csv_table("new_rows.csv")?;
/// println!("{} rows with columns {:?}", table.rows.len(), table.header);
/// # Ok::<(), modelgpt_core::Error>(())
/// ```
pub fn read_csv_table(path: impl AsRef<Path>) -> Result<CsvTable> {
    let path = path.as_ref();
    let text = read_text(path)?;
    CsvTable::parse_str(&text, path)
}

/// The ragged-row check of every reader: `Ok` when a record at `line` of `path` has the `expected`
/// number of fields.
///
/// ```
/// use std::path::Path;
/// let err = modelgpt_core::data::check_width(Path::new("d.csv"), 4, 3, 2).unwrap_err();
/// assert_eq!(err.to_string(), "d.csv:4:3: expected 3 fields, found 2");
/// ```
///
/// # Errors
/// [`Error::Parse`] naming the line and the first missing or extra field.
pub fn check_width(path: &Path, line: usize, expected: usize, found: usize) -> Result<()> {
    if expected == found {
        return Ok(());
    }
    let column = if found > expected {
        expected + 1
    } else {
        found + 1
    };
    Err(Error::parse(
        path,
        line,
        Some(column),
        format!("expected {expected} fields, found {found}"),
    ))
}

/// Splits delimited text (RFC 4180 quoting) into [`Record`]s, without treating any line as a
/// header. Quoted fields keep their content verbatim (doubled quotes undone, embedded newlines
/// kept); unquoted fields are trimmed. Lines holding only blanks are skipped. Records may have
/// different field counts; [`CsvTable::parse_str`] and [`TabularDataset::from_records`] check
/// them. `path` only labels errors.
///
/// ```
/// use std::path::Path;
/// let records = modelgpt_core::data::parse_records("1;\"a;b\"\n\n2;c\n", b';', Path::new("x.txt"))?;
/// assert_eq!(records, [(1, vec!["1".to_string(), "a;b".to_string()]), (3, vec!["2".into(), "c".into()])]);
/// # Ok::<(), modelgpt_core::Error>(())
/// ```
///
/// # Errors
/// [`Error::Parse`] for an unterminated quote or text after a closing quote (line and column).
///
/// [`TabularDataset::from_records`]: super::TabularDataset::from_records
pub fn parse_records(content: &str, delimiter: u8, path: &Path) -> Result<Vec<Record>> {
    let bytes = content.as_bytes();
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field: Vec<u8> = Vec::new();
    let mut line = 1usize;
    let mut record_line = 1usize;
    let mut i = 0usize;
    // Whether the current record has seen a delimiter or any non-blank byte.
    let mut record_has_content = false;
    let n = bytes.len();

    // Safe: we only split at ASCII bytes, so every field is valid UTF-8 as the input is.
    let to_string = |f: &[u8]| String::from_utf8_lossy(f).into_owned();

    while i <= n {
        // At the start of a field: skip leading blanks, then look for an opening quote.
        let mut j = i;
        while j < n && (bytes[j] == b' ' || bytes[j] == b'\t') && bytes[j] != delimiter {
            j += 1;
        }
        if j < n && bytes[j] == b'"' {
            record_has_content = true;
            let quote_line = line;
            j += 1;
            field.clear();
            loop {
                if j >= n {
                    return Err(Error::parse(
                        path,
                        quote_line,
                        Some(fields.len() + 1),
                        "unterminated quoted field",
                    ));
                }
                let b = bytes[j];
                if b == b'"' {
                    if j + 1 < n && bytes[j + 1] == b'"' {
                        field.push(b'"');
                        j += 2;
                    } else {
                        j += 1;
                        break;
                    }
                } else {
                    if b == b'\n' {
                        line += 1;
                    }
                    field.push(b);
                    j += 1;
                }
            }
            // After the closing quote: blanks, then delimiter / end of line / end of input.
            while j < n && (bytes[j] == b' ' || bytes[j] == b'\t') && bytes[j] != delimiter {
                j += 1;
            }
            fields.push(to_string(&field));
            if j < n && bytes[j] == b'\r' && j + 1 < n && bytes[j + 1] == b'\n' {
                j += 1;
            }
            if j >= n || bytes[j] == b'\n' {
                records.push((record_line, std::mem::take(&mut fields)));
                record_has_content = false;
                line += 1;
                record_line = line;
                i = j + 1;
                if j >= n {
                    break;
                }
            } else if bytes[j] == delimiter {
                i = j + 1;
            } else {
                return Err(Error::parse(
                    path,
                    line,
                    Some(fields.len()),
                    "unexpected text after a closing quote",
                ));
            }
        } else {
            // Unquoted field: up to the delimiter or end of line.
            let start = i;
            let mut k = i;
            while k < n && bytes[k] != delimiter && bytes[k] != b'\n' {
                k += 1;
            }
            let mut end = k;
            if end > start && bytes[end - 1] == b'\r' {
                end -= 1;
            }
            let text = content[start..end].trim();
            if !text.is_empty() {
                record_has_content = true;
            }
            fields.push(text.to_string());
            if k < n && bytes[k] == delimiter {
                record_has_content = true;
                i = k + 1;
            } else {
                if record_has_content {
                    records.push((record_line, std::mem::take(&mut fields)));
                } else {
                    fields.clear();
                }
                record_has_content = false;
                line += 1;
                record_line = line;
                i = k + 1;
                if k >= n {
                    break;
                }
            }
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recs(s: &str) -> Vec<Record> {
        parse_records(s, b',', Path::new("t.csv")).unwrap()
    }

    #[test]
    fn quotes_newlines_and_crlf() {
        let r = recs("a,b\r\n\"x\ny\",\"say \"\"hi\"\"\"\r\n\n 3 , 4\n");
        assert_eq!(r.len(), 3);
        assert_eq!(
            r[1],
            (2, vec!["x\ny".to_string(), "say \"hi\"".to_string()])
        );
        assert_eq!(r[2], (5, vec!["3".to_string(), "4".to_string()]));
    }

    #[test]
    fn trailing_empty_field_and_no_final_newline() {
        let r = recs("a,b,\n1,,");
        assert_eq!(r[0].1, ["a", "b", ""]);
        assert_eq!(r[1].1, ["1", "", ""]);
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        let e = parse_records("a\n\"abc\n", b',', Path::new("t.csv")).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Parse {
                    line: 2,
                    column: Some(1),
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn ragged_row_names_line_and_column() {
        let e = CsvTable::parse_str("a,b,c\n1,2,3\n4,5\n", "t.csv").unwrap_err();
        assert!(
            matches!(
                e,
                Error::Parse {
                    line: 3,
                    column: Some(3),
                    ..
                }
            ),
            "{e:?}"
        );
    }
}
