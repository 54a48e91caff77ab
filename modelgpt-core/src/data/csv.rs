//! A small RFC 4180 reader (quoted fields, doubled quotes, embedded newlines, CRLF), streamed
//! record by record within [`Limits`].

use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::assets::{decode_utf8, read_line_within};
use crate::error::{Error, Result};
use crate::limits::{Limits, Reservoir};

/// One parsed record: the 1-based line where it starts and its fields.
pub type Record = (usize, Vec<String>);

/// A CSV file split into its header and rows of text fields (no type inference).
///
/// Every row has exactly `header.len()` fields; `lines[i]` is the 1-based line where row `i` starts.
/// Header names are non-empty and distinct. Files with more than [`Limits::max_rows`] data rows
/// keep a seeded uniform sample of them (in file order); `rows_in_file` says how many there were.
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
    /// Data rows in the file; more than `rows.len()` when the rows were sampled down to
    /// [`Limits::max_rows`].
    pub rows_in_file: usize,
}

impl CsvTable {
    /// Parses CSV text with a header line, within the default [`Limits`]. `path` only labels
    /// errors.
    ///
    /// Unquoted fields are trimmed of surrounding blanks; blank lines are skipped.
    ///
    /// # Errors
    /// As [`CsvTable::from_reader`].
    pub fn parse_str(content: &str, path: impl Into<PathBuf>) -> Result<Self> {
        Self::from_reader(content.as_bytes(), path, &Limits::DEFAULT)
    }

    /// Reads CSV file `path` (UTF-8; `.gz` and `.bz2` names are decompressed while streaming)
    /// within `limits`.
    ///
    /// # Errors
    /// I/O errors naming the file (also a corrupt compressed stream), and those of
    /// [`CsvTable::from_reader`].
    pub fn read(path: impl AsRef<Path>, limits: &Limits) -> Result<Self> {
        let path = path.as_ref();
        Self::from_reader(open_input(path)?, path, limits)
    }

    /// Streams CSV text with a header line from `reader` within `limits`, keeping at most
    /// [`Limits::max_rows`] rows (a seeded uniform sample, in file order, above it). `path` only
    /// labels errors.
    ///
    /// ```
    /// use modelgpt_core::{Error, Limits, data::CsvTable};
    /// let few_rows = Limits { max_rows: 2, ..Limits::default() };
    /// let t = CsvTable::from_reader("x,y\n1,a\n2,b\n3,a\n4,b\n".as_bytes(), "t.csv", &few_rows)?;
    /// assert_eq!((t.rows.len(), t.rows_in_file), (2, 4));
    /// let err = CsvTable::parse_str("x,x\n1,2\n", "t.csv").unwrap_err();
    /// assert_eq!(err.to_string(), "t.csv:1:2: duplicate column name `x` (also column 1)");
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::EmptyData`] for empty text; [`Error::Parse`] for an unterminated quote, text after
    /// a closing quote, a row whose field count differs from the header's, or an empty or
    /// duplicate header name (naming line and column); [`Error::NotUtf8`] (line);
    /// [`Error::LimitExceeded`] past [`Limits::max_input_bytes`], [`Limits::max_record_bytes`],
    /// [`Limits::max_cell_bytes`] or [`Limits::max_columns`].
    pub fn from_reader(
        reader: impl BufRead,
        path: impl Into<PathBuf>,
        limits: &Limits,
    ) -> Result<Self> {
        let path = path.into();
        let mut header: Option<Vec<String>> = None;
        let mut rows = Reservoir::new(limits.max_rows, limits.row_sample_seed);
        read_records(reader, b',', &path, limits, |line, fields| {
            match &header {
                None => {
                    check_header(&path, &fields, limits)?;
                    header = Some(fields);
                }
                Some(h) => {
                    check_width(&path, line, h.len(), fields.len())?;
                    rows.push((line, fields));
                }
            }
            Ok(())
        })?;
        let Some(header) = header else {
            return Err(Error::EmptyData {
                path,
                reason: "empty file".into(),
            });
        };
        let rows_in_file = rows.seen();
        let (lines, rows) = rows.into_sorted().into_iter().unzip();
        Ok(Self {
            path,
            header,
            rows,
            lines,
            rows_in_file,
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
    CsvTable::read(path, &Limits::DEFAULT)
}

/// Header names must be non-empty and distinct, and there must not be too many.
fn check_header(path: &Path, header: &[String], limits: &Limits) -> Result<()> {
    if header.len() > limits.max_columns {
        return Err(Error::LimitExceeded {
            path: path.to_path_buf(),
            line: Some(1),
            column: None,
            what: "the number of columns".into(),
            found: header.len() as u64,
            limit: limits.max_columns as u64,
            limit_name: "max_columns",
        });
    }
    let mut seen = std::collections::HashMap::with_capacity(header.len());
    for (j, name) in header.iter().enumerate() {
        if name.is_empty() {
            return Err(Error::parse(path, 1, Some(j + 1), "empty column name"));
        }
        if let Some(first) = seen.insert(name.as_str(), j) {
            return Err(Error::parse(
                path,
                1,
                Some(j + 1),
                format!("duplicate column name `{name}` (also column {})", first + 1),
            ));
        }
    }
    Ok(())
}

/// Opens `path` for streaming, decompressing it while reading when its name ends in `.gz` (gzip,
/// multi-member) or `.bz2` (bzip2, multi-stream).
///
/// ```no_run
/// use std::io::BufRead;
/// let lines = modelgpt_core::data::open_input("rows.csv.gz".as_ref())?.lines().count();
/// # Ok::<(), modelgpt_core::Error>(())
/// ```
///
/// # Errors
/// [`Error::IoAt`] naming `path` when it cannot be opened.
pub fn open_input(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io_at(path, e))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let buffered = std::io::BufReader::with_capacity(1 << 16, file);
    Ok(if name.ends_with(".gz") {
        Box::new(std::io::BufReader::new(
            flate2::bufread::MultiGzDecoder::new(buffered),
        ))
    } else if name.ends_with(".bz2") {
        Box::new(std::io::BufReader::new(
            bzip2::bufread::MultiBzDecoder::new(buffered),
        ))
    } else {
        Box::new(buffered)
    })
}

/// Where the scan of a record is: decides whether a line break ends the record.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scan {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteSeen,
}

impl Scan {
    fn step(self, b: u8, delimiter: u8) -> Self {
        match self {
            Scan::Quoted if b == b'"' => Scan::QuoteSeen,
            Scan::Quoted => Scan::Quoted,
            Scan::QuoteSeen if b == b'"' => Scan::Quoted,
            _ if b == delimiter || b == b'\n' => Scan::FieldStart,
            Scan::FieldStart if b == b' ' || b == b'\t' => Scan::FieldStart,
            Scan::FieldStart if b == b'"' => Scan::Quoted,
            _ => Scan::Unquoted,
        }
    }
}

/// Streams the [`Record`]s of delimited text (the rules of [`parse_records`]) from `reader`,
/// calling `on_record` with each record's first line and fields, within `limits`
/// ([`Limits::max_input_bytes`], [`Limits::max_record_bytes`], [`Limits::max_cell_bytes`]). Only
/// one record is held at a time. `path` only labels errors.
///
/// ```
/// use std::path::Path;
/// use modelgpt_core::{Limits, data::read_records};
/// let mut n = 0;
/// read_records("a,\"b\nc\"\n1,2\n".as_bytes(), b',', Path::new("t.csv"), &Limits::DEFAULT, |line, f| {
///     n += 1;
///     assert_eq!((line, f.len()), (if n == 1 { 1 } else { 3 }, 2));
///     Ok(())
/// })?;
/// assert_eq!(n, 2);
/// # Ok::<(), modelgpt_core::Error>(())
/// ```
///
/// # Errors
/// I/O errors naming `path`, [`Error::NotUtf8`] (line), the [`Error::Parse`] errors of
/// [`parse_records`], [`Error::LimitExceeded`], and whatever `on_record` returns.
pub fn read_records(
    mut reader: impl BufRead,
    delimiter: u8,
    path: &Path,
    limits: &Limits,
    mut on_record: impl FnMut(usize, Vec<String>) -> Result<()>,
) -> Result<()> {
    let mut buf: Vec<u8> = Vec::new();
    let mut total = 0u64;
    let mut line = 1usize;
    let mut record_line = 1usize;
    let mut scan = Scan::FieldStart;
    loop {
        let start = buf.len();
        let n = read_line_within(
            &mut reader,
            &mut buf,
            &mut total,
            path,
            limits,
            line,
            record_line,
        )?;
        for &b in &buf[start..] {
            scan = scan.step(b, delimiter);
        }
        let eof = n == 0 || buf.last() != Some(&b'\n');
        if eof || scan != Scan::Quoted {
            if !buf.is_empty() {
                let bytes = std::mem::take(&mut buf);
                let text = decode_utf8(path, bytes).map_err(|e| match e {
                    Error::NotUtf8 { path, line } => Error::NotUtf8 {
                        path,
                        line: line + record_line - 1,
                    },
                    other => other,
                })?;
                for (l, fields) in parse_records_from(&text, delimiter, path, record_line)? {
                    if let Some(j) = fields.iter().position(|f| f.len() > limits.max_cell_bytes) {
                        return Err(Error::LimitExceeded {
                            path: path.to_path_buf(),
                            line: Some(l),
                            column: Some(j + 1),
                            what: "the cell length in bytes".into(),
                            found: fields[j].len() as u64,
                            limit: limits.max_cell_bytes as u64,
                            limit_name: "max_cell_bytes",
                        });
                    }
                    on_record(l, fields)?;
                }
            }
            if eof {
                return Ok(());
            }
            line += 1;
            record_line = line;
            scan = Scan::FieldStart;
        } else {
            line += 1;
        }
    }
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
    parse_records_from(content, delimiter, path, 1)
}

/// [`parse_records`] on text whose first line is line `first_line` of `path`.
fn parse_records_from(
    content: &str,
    delimiter: u8,
    path: &Path,
    first_line: usize,
) -> Result<Vec<Record>> {
    let bytes = content.as_bytes();
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field: Vec<u8> = Vec::new();
    let mut line = first_line;
    let mut record_line = first_line;
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
