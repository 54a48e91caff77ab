//! Tabular data sets: typed columns, user CSV files, and [`TabularDataset::from_records`], the
//! building block of readers of other tabular formats.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::csv::{CsvTable, Record, check_width};
use super::{class_counts, pick_profile_rows};
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::profile::{DataProfile, SampleRecord};
use crate::task::{Modality, TaskSpec};

/// Cell values that count as missing: empty, `?`, `NA`, `N/A` and `NaN` (any case).
///
/// ```
/// use modelgpt_core::data::is_missing;
/// assert!(is_missing(" NAN ") && is_missing("") && is_missing("?"));
/// assert!(!is_missing("inf") && !is_missing("Na"));
/// ```
pub fn is_missing(cell: &str) -> bool {
    let c = cell.trim();
    matches!(c, "" | "?" | "NA" | "N/A") || c.eq_ignore_ascii_case("nan")
}

/// Whether `cell` reads as a number that is not finite in 32 bits (`inf`, `-Infinity`, `1e39`).
fn is_non_finite_number(cell: &str) -> bool {
    cell.trim().parse::<f32>().is_ok_and(f32::is_infinite)
}

/// Parses a finite number; `None` otherwise.
pub(crate) fn parse_number(cell: &str) -> Option<f32> {
    cell.trim().parse::<f32>().ok().filter(|v| v.is_finite())
}

/// Sorts distinct values numerically when they all parse as numbers, else lexically.
pub(crate) fn sort_levels(levels: &mut [String]) {
    let nums: Option<Vec<f64>> = levels
        .iter()
        .map(|l| l.trim().parse::<f64>().ok())
        .collect();
    match nums {
        Some(_) => levels.sort_by(|a, b| {
            let (x, y) = (
                a.trim().parse::<f64>().unwrap_or(0.0),
                b.trim().parse::<f64>().unwrap_or(0.0),
            );
            x.total_cmp(&y).then_with(|| a.cmp(b))
        }),
        None => levels.sort(),
    }
}

/// The values of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ColumnValues {
    /// Numbers; `NaN` marks a missing value.
    Numeric(Vec<f32>),
    /// Category codes into `levels`; `None` marks a missing value.
    Categorical {
        /// The distinct values, sorted (numerically when they all look numeric).
        levels: Vec<String>,
        /// One code per row.
        codes: Vec<Option<u32>>,
    },
}

impl ColumnValues {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            ColumnValues::Numeric(v) => v.len(),
            ColumnValues::Categorical { codes, .. } => codes.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the column is numeric.
    pub fn is_numeric(&self) -> bool {
        matches!(self, ColumnValues::Numeric(_))
    }

    /// The value of row `i` as text (`?` when missing).
    ///
    /// # Panics
    /// If `i` is out of range.
    pub fn display(&self, i: usize) -> String {
        match self {
            ColumnValues::Numeric(v) if v[i].is_nan() => "?".into(),
            ColumnValues::Numeric(v) => format!("{}", v[i]),
            ColumnValues::Categorical { levels, codes } => match codes[i] {
                Some(c) => levels[c as usize].clone(),
                None => "?".into(),
            },
        }
    }

    fn subset(&self, rows: &[usize]) -> Self {
        match self {
            ColumnValues::Numeric(v) => ColumnValues::Numeric(rows.iter().map(|&r| v[r]).collect()),
            ColumnValues::Categorical { levels, codes } => ColumnValues::Categorical {
                levels: levels.clone(),
                codes: rows.iter().map(|&r| codes[r]).collect(),
            },
        }
    }

    /// Infers a column from text cells: numeric when every non-missing cell is a finite number.
    pub fn infer<S: AsRef<str>>(cells: &[S]) -> Self {
        let numeric = cells
            .iter()
            .all(|c| is_missing(c.as_ref()) || parse_number(c.as_ref()).is_some());
        if numeric {
            ColumnValues::Numeric(
                cells
                    .iter()
                    .map(|c| parse_number(c.as_ref()).unwrap_or(f32::NAN))
                    .collect(),
            )
        } else {
            Self::categorical(cells)
        }
    }

    /// A categorical column from text cells (missing cells get `None`).
    pub fn categorical<S: AsRef<str>>(cells: &[S]) -> Self {
        let (levels, codes) = encode_levels(cells.iter().map(|c| c.as_ref()));
        ColumnValues::Categorical { levels, codes }
    }
}

/// Distinct non-missing values (sorted by [`sort_levels`]) and per-cell codes.
pub(crate) fn encode_levels<'a>(
    cells: impl Iterator<Item = &'a str> + Clone,
) -> (Vec<String>, Vec<Option<u32>>) {
    let mut distinct: Vec<String> = cells
        .clone()
        .filter(|c| !is_missing(c))
        .map(|c| c.trim().to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    sort_levels(&mut distinct);
    let index: HashMap<&str, u32> = distinct
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i as u32))
        .collect();
    let codes = cells
        .map(|c| {
            if is_missing(c) {
                None
            } else {
                index.get(c.trim()).copied()
            }
        })
        .collect();
    (distinct, codes)
}

/// A named column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// The values.
    pub values: ColumnValues,
}

/// A labelled table: feature columns, one class index per row and the class names.
///
/// ```
/// use modelgpt_core::data::TabularDataset;
/// let csv = "height,colour,kind\n1.0,red,a\n2.0,blue,b\n,red,a\n";
/// let ds = TabularDataset::from_csv_str(csv, "kind", "toy")?;
/// assert_eq!(ds.n_rows(), 3);
/// assert_eq!(ds.n_features(), 2);
/// assert_eq!(ds.label_names, ["a", "b"]);
/// assert_eq!(ds.class_counts(), [2, 1]);
/// assert!(ds.columns[0].values.is_numeric());
/// # Ok::<(), modelgpt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TabularDataset {
    /// Data set name.
    pub name: String,
    /// Feature columns (the target is not among them).
    pub columns: Vec<Column>,
    /// Class index of each row.
    pub targets: Vec<usize>,
    /// Class names, in class-index order.
    pub label_names: Vec<String>,
}

impl TabularDataset {
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.targets.len()
    }

    /// Number of feature columns.
    pub fn n_features(&self) -> usize {
        self.columns.len()
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.label_names.len()
    }

    /// Feature column names.
    pub fn feature_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }

    /// The task: tabular, column names as features, class names as labels.
    pub fn task_spec(&self) -> TaskSpec {
        TaskSpec::new(&self.name, Modality::Tabular)
            .with_features(self.feature_names())
            .with_labels(self.label_names.clone())
    }

    /// Rows per class, in label order.
    pub fn class_counts(&self) -> Vec<usize> {
        class_counts(&self.targets, self.n_classes())
    }

    /// A profile with up to `max_records` example rows, every class represented when possible
    /// (rows drawn with a seeded shuffle); values are shown as text, `?` when missing.
    pub fn profile(&self, max_records: usize, seed: u64) -> DataProfile {
        let rows = pick_profile_rows(&self.targets, self.n_classes(), max_records, seed);
        let mut p = DataProfile::new(self.task_spec(), self.n_rows(), self.class_counts());
        p.records = rows
            .into_iter()
            .map(|r| SampleRecord {
                fields: self
                    .columns
                    .iter()
                    .map(|c| (c.name.clone(), c.values.display(r)))
                    .collect(),
                label: self.label_names[self.targets[r]].clone(),
            })
            .collect();
        p
    }

    /// The rows `rows` (in that order), keeping all columns, levels and labels.
    ///
    /// # Panics
    /// If a row index is out of range.
    pub fn subset(&self, rows: &[usize]) -> Self {
        Self {
            name: self.name.clone(),
            columns: self
                .columns
                .iter()
                .map(|c| Column {
                    name: c.name.clone(),
                    values: c.values.subset(rows),
                })
                .collect(),
            targets: rows.iter().map(|&r| self.targets[r]).collect(),
            label_names: self.label_names.clone(),
        }
    }

    /// Loads a CSV file with a header; `target` names the label column. This is
    /// [`TabularDataset::read_csv`] with the default [`CsvOptions`], without its report.
    ///
    /// Column types are inferred (numeric when every non-missing value is a number; missing =
    /// empty, `?`, `NA`, `N/A`, `NaN`). Labels are the target's distinct values, sorted
    /// (numerically when numeric). Rows whose target is missing are dropped, and so are classes
    /// with fewer than two rows.
    ///
    /// # Errors
    /// As [`TabularDataset::read_csv`].
    ///
    /// ```no_run
    /// let ds = modelgpt_core::data::TabularDataset::from_csv("my_data.csv", "label")?;
    /// # Ok::<(), modelgpt_core::Error>(())
    /// ```
    pub fn from_csv(path: impl AsRef<Path>, target: &str) -> Result<Self> {
        Ok(Self::read_csv(path, target, &CsvOptions::default())?.0)
    }

    /// Loads a user's CSV file (`.gz` / `.bz2` decompressed by name) with the data rules and
    /// limits of `options`, and says what was left out.
    ///
    /// The rules, in order: the file is streamed within [`CsvOptions::limits`] (above
    /// [`Limits::max_rows`] data rows, a seeded uniform sample is kept); rows whose label is
    /// missing are dropped and counted; classes with fewer than [`CsvOptions::min_class_rows`]
    /// rows are dropped with their rows (they cannot be learnt or validated). The data set is
    /// named after the file (its name up to `.csv`).
    ///
    /// ```
    /// use modelgpt_core::data::{CsvOptions, TabularDataset};
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("pets.csv");
    /// std::fs::write(&path, "w,kind\n1,cat\n2,dog\n3,cat\n4,dog\n5,\n6,fish\n")?;
    /// let (ds, report) = TabularDataset::read_csv(&path, "kind", &CsvOptions::default())?;
    /// assert_eq!(ds.label_names, ["cat", "dog"]);
    /// assert_eq!((report.rows_in_file, report.rows_missing_label), (6, 1));
    /// assert_eq!(report.dropped_classes, [("fish".to_string(), 1)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// I/O errors naming the file, [`Error::NotUtf8`] (line), [`Error::EmptyData`] (empty file or
    /// header only), [`Error::Parse`] (ragged row: line, expected and found field counts; bad
    /// quoting; empty or duplicate header names; a non-finite number such as `inf` in a numeric
    /// column: line and column), [`Error::MissingColumn`] (lists the available columns),
    /// [`Error::LimitExceeded`] (any of [`Limits`] but the row count), [`Error::InvalidData`]
    /// (target all missing, fewer than two classes with enough rows, no feature column).
    pub fn read_csv(
        path: impl AsRef<Path>,
        target: &str,
        options: &CsvOptions,
    ) -> Result<(Self, CsvReport)> {
        let path = path.as_ref();
        let name = path
            .file_name()
            .and_then(|s| s.to_str())
            .and_then(|s| s.split(".csv").next())
            .filter(|s| !s.is_empty())
            .unwrap_or("data")
            .to_string();
        let table = CsvTable::read(path, &options.limits)?;
        Self::from_table_with(&table, target, name, options)
    }

    /// [`TabularDataset::from_csv`] on CSV text held in memory (`name` names the data set and
    /// labels errors), without dropping rare classes (see [`TabularDataset::from_table`]).
    ///
    /// # Errors
    /// As [`TabularDataset::from_table`], and the parse errors of [`CsvTable::parse_str`].
    pub fn from_csv_str(content: &str, target: &str, name: &str) -> Result<Self> {
        let table = CsvTable::parse_str(content, name)?;
        Self::from_table(&table, target, name.to_string())
    }

    /// Builds a data set from a parsed [`CsvTable`] with `target` as the label column, within the
    /// default [`Limits`]. Rows whose target is missing are dropped; unlike
    /// [`TabularDataset::from_table_with`], classes are kept however few rows they have.
    ///
    /// # Errors
    /// [`Error::EmptyData`] (no rows), [`Error::MissingColumn`], [`Error::Parse`] (a non-finite
    /// number in a numeric column), [`Error::LimitExceeded`] ([`Limits::max_classes`],
    /// [`Limits::max_categories`]), [`Error::InvalidData`] (target all missing, a single class,
    /// no feature column).
    pub fn from_table(table: &CsvTable, target: &str, name: String) -> Result<Self> {
        let options = CsvOptions {
            min_class_rows: 1,
            ..CsvOptions::default()
        };
        Ok(Self::from_table_with(table, target, name, &options)?.0)
    }

    /// Builds a data set from a parsed [`CsvTable`] with the rules of `options` (see
    /// [`TabularDataset::read_csv`]; the table was read already, so only
    /// [`Limits::max_classes`], [`Limits::max_categories`] and [`CsvOptions::min_class_rows`]
    /// apply here) and reports what was left out.
    ///
    /// # Errors
    /// As [`TabularDataset::from_table`]; [`Error::InvalidData`] also when fewer than two classes
    /// have [`CsvOptions::min_class_rows`] rows.
    pub fn from_table_with(
        table: &CsvTable,
        target: &str,
        name: String,
        options: &CsvOptions,
    ) -> Result<(Self, CsvReport)> {
        if table.rows.is_empty() {
            return Err(Error::EmptyData {
                path: table.path.clone(),
                reason: "header only, no data rows".into(),
            });
        }
        let t = table.column_index(target)?;
        if table.header.len() < 2 {
            return Err(Error::InvalidData {
                what: table.path.display().to_string(),
                reason: "no feature column besides the target".into(),
            });
        }
        let what = table.path.display().to_string();
        let rows_missing_label = table.rows.iter().filter(|r| is_missing(&r[t])).count();
        // Classes with too few rows, counted on the rows with a label.
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for r in &table.rows {
            if !is_missing(&r[t]) {
                *counts.entry(r[t].trim()).or_default() += 1;
            }
        }
        let mut dropped_classes: Vec<(String, usize)> = counts
            .iter()
            .filter(|&(_, &n)| n < options.min_class_rows)
            .map(|(&l, &n)| (l.to_string(), n))
            .collect();
        dropped_classes.sort();
        let kept_classes = counts.len() - dropped_classes.len();
        if !counts.is_empty() && kept_classes < 2 && !dropped_classes.is_empty() {
            return Err(Error::InvalidData {
                what,
                reason: format!(
                    "fewer than two classes of `{target}` have at least {} rows ({} of {} classes \
                     have fewer)",
                    options.min_class_rows,
                    dropped_classes.len(),
                    counts.len()
                ),
            });
        }
        let rare = |r: &Vec<String>| {
            !is_missing(&r[t])
                && counts
                    .get(r[t].trim())
                    .is_some_and(|&n| n < options.min_class_rows)
        };
        let (rows, lines): (Vec<Vec<String>>, Vec<usize>) = if dropped_classes.is_empty() {
            (table.rows.clone(), table.lines.clone())
        } else {
            table
                .rows
                .iter()
                .zip(&table.lines)
                .filter(|(r, _)| !rare(r))
                .map(|(r, &l)| (r.clone(), l))
                .unzip()
        };
        let rows_dropped = table.rows.len() - rows.len();
        let ds = build(
            name,
            &what,
            &table.header,
            &rows,
            &lines,
            t,
            &vec![ColumnKind::Infer; table.header.len()],
            &options.limits,
        )?;
        let report = CsvReport {
            rows_in_file: table.rows_in_file,
            rows_read: table.rows.len(),
            rows_missing_label,
            dropped_classes,
            rows_dropped_with_classes: rows_dropped,
        };
        Ok((ds, report))
    }

    /// Builds a data set from text records (as [`parse_records`](super::parse_records) returns
    /// them): `header` names the columns, `target` indexes the label column and `kinds` types each
    /// column (the target's kind is ignored). This is the building block of the format readers.
    ///
    /// Labels are the target's distinct values, sorted (numerically when they all look numeric);
    /// rows whose target is missing are dropped.
    ///
    /// ```
    /// use std::path::Path;
    /// use modelgpt_core::data::{ColumnKind, TabularDataset};
    /// let header = ["size", "code", "label"].map(String::from);
    /// let records = vec![
    ///     (1, vec!["1.5".into(), "7".into(), "yes".into()]),
    ///     (2, vec!["2.0".into(), "8".into(), "no".into()]),
    /// ];
    /// let kinds = [ColumnKind::Numeric, ColumnKind::Categorical, ColumnKind::Infer];
    /// let ds = TabularDataset::from_records("toy", Path::new("toy.txt"), &header, records, 2, &kinds)?;
    /// assert_eq!(ds.label_names, ["no", "yes"]);
    /// assert!(!ds.columns[1].values.is_numeric());
    /// # Ok::<(), modelgpt_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Parse`] for a record whose field count differs from the header's (its line and the
    /// first missing or extra field) or a non-finite number (`inf`) in a numeric column (line and
    /// column), [`Error::LimitExceeded`] past the default [`Limits::max_classes`] or
    /// [`Limits::max_categories`], [`Error::ShapeMismatch`] when `kinds` does not have one entry
    /// per column or `target` is out of range, [`Error::InvalidData`] (target all missing, a single
    /// class, no feature column, a non-numeric cell in a [`ColumnKind::Numeric`] column). `path`
    /// only labels errors.
    pub fn from_records(
        name: impl Into<String>,
        path: &Path,
        header: &[String],
        records: Vec<Record>,
        target: usize,
        kinds: &[ColumnKind],
    ) -> Result<Self> {
        if kinds.len() != header.len() || target >= header.len() {
            return Err(Error::ShapeMismatch {
                what: format!("column kinds and target index for {}", path.display()),
                expected: vec![header.len(), header.len().saturating_sub(1)],
                actual: vec![kinds.len(), target],
            });
        }
        let mut rows = Vec::with_capacity(records.len());
        let mut lines = Vec::with_capacity(records.len());
        for (line, fields) in records {
            check_width(path, line, header.len(), fields.len())?;
            rows.push(fields);
            lines.push(line);
        }
        build(
            name.into(),
            &path.display().to_string(),
            header,
            &rows,
            &lines,
            target,
            kinds,
            &Limits::DEFAULT,
        )
    }
}

/// The data rules of [`TabularDataset::read_csv`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvOptions {
    /// Resource limits of the reader.
    pub limits: Limits,
    /// Classes with fewer rows than this are dropped with their rows (default 2: a class needs a
    /// row to learn from and one to check on). 1 keeps every class.
    pub min_class_rows: usize,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            limits: Limits::DEFAULT,
            min_class_rows: 2,
        }
    }
}

/// What [`TabularDataset::read_csv`] left out of a file, for the user to see.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CsvReport {
    /// Data rows in the file.
    pub rows_in_file: usize,
    /// Rows read: all of them, or the [`Limits::max_rows`] sample when there were more.
    pub rows_read: usize,
    /// Rows read whose label is missing (dropped).
    pub rows_missing_label: usize,
    /// Classes dropped for having fewer than [`CsvOptions::min_class_rows`] rows, with their row
    /// counts, sorted by name.
    pub dropped_classes: Vec<(String, usize)>,
    /// Rows dropped with those classes.
    pub rows_dropped_with_classes: usize,
}

impl CsvReport {
    /// Whether the rows were sampled down to [`Limits::max_rows`].
    pub fn subsampled(&self) -> bool {
        self.rows_read < self.rows_in_file
    }
}

/// How [`TabularDataset::from_records`] types a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Numeric when every non-missing cell is a finite number, else categorical.
    Infer,
    /// Numeric; a non-numeric, non-missing cell is an error.
    Numeric,
    /// Categorical, even when the cells look numeric.
    Categorical,
    /// Not a feature: the column is dropped.
    Skip,
}

/// Builds a data set from string rows (all of `header.len()` fields) that start at `lines` of
/// file `what`; `target` indexes the label.
#[allow(clippy::too_many_arguments)]
pub(crate) fn build(
    name: String,
    what: &str,
    header: &[String],
    rows: &[Vec<String>],
    lines: &[usize],
    target: usize,
    kinds: &[ColumnKind],
    limits: &Limits,
) -> Result<TabularDataset> {
    let over = |what_: String, column: Option<usize>, found: usize, limit: usize, name| {
        Error::LimitExceeded {
            path: what.into(),
            line: None,
            column,
            what: what_,
            found: found as u64,
            limit: limit as u64,
            limit_name: name,
        }
    };
    // Keep rows whose target is present.
    let keep: Vec<usize> = (0..rows.len())
        .filter(|&r| !is_missing(&rows[r][target]))
        .collect();
    if keep.is_empty() {
        return Err(Error::InvalidData {
            what: what.to_string(),
            reason: format!("target column `{}` has no values", header[target]),
        });
    }
    let (label_names, codes) = encode_levels(keep.iter().map(|&r| rows[r][target].as_str()));
    if label_names.len() > limits.max_classes {
        return Err(over(
            format!("the number of classes of `{}`", header[target]),
            Some(target + 1),
            label_names.len(),
            limits.max_classes,
            "max_classes",
        ));
    }
    if label_names.len() < 2 {
        return Err(Error::InvalidData {
            what: what.to_string(),
            reason: format!(
                "target column `{}` has a single class (`{}`); classification needs at least two",
                header[target], label_names[0]
            ),
        });
    }
    // Every kept row has a present target, so each code is Some.
    let targets: Vec<usize> = codes.into_iter().map(|c| c.unwrap_or(0) as usize).collect();
    let mut columns = Vec::new();
    for (j, name) in header.iter().enumerate() {
        if j == target || kinds[j] == ColumnKind::Skip {
            continue;
        }
        let cells: Vec<&str> = keep.iter().map(|&r| rows[r][j].as_str()).collect();
        // A non-finite number where every other value is a number (or missing) is an error, not
        // a category.
        if kinds[j] != ColumnKind::Categorical {
            let mut first_inf = None;
            let mut numeric = true;
            for (i, c) in cells.iter().enumerate() {
                if is_missing(c) {
                    continue;
                }
                if is_non_finite_number(c) {
                    first_inf.get_or_insert(i);
                } else if parse_number(c).is_none() {
                    numeric = false;
                }
            }
            if let Some(i) = first_inf.filter(|_| numeric || kinds[j] == ColumnKind::Numeric) {
                return Err(Error::parse(
                    what,
                    lines.get(keep[i]).copied().unwrap_or(keep[i] + 1),
                    Some(j + 1),
                    format!(
                        "`{}` in numeric column `{name}` is not a finite 32-bit number; replace \
                         it, or leave the cell empty to mark it missing",
                        cells[i].trim()
                    ),
                ));
            }
        }
        let values = match kinds[j] {
            ColumnKind::Categorical => ColumnValues::categorical(&cells),
            ColumnKind::Numeric | ColumnKind::Infer => {
                let v = ColumnValues::infer(&cells);
                if kinds[j] == ColumnKind::Numeric && !v.is_numeric() {
                    // Report the first non-numeric cell.
                    let r = keep
                        .iter()
                        .position(|&r| {
                            !is_missing(&rows[r][j]) && parse_number(&rows[r][j]).is_none()
                        })
                        .unwrap_or(0);
                    return Err(Error::InvalidData {
                        what: what.to_string(),
                        reason: format!(
                            "column `{name}` is declared numeric but row {} holds `{}`",
                            keep[r] + 1,
                            rows[keep[r]][j]
                        ),
                    });
                }
                v
            }
            ColumnKind::Skip => continue,
        };
        if let ColumnValues::Categorical { levels, .. } = &values
            && levels.len() > limits.max_categories
        {
            return Err(over(
                format!("the number of distinct values of categorical column `{name}`"),
                Some(j + 1),
                levels.len(),
                limits.max_categories,
                "max_categories",
            ));
        }
        columns.push(Column {
            name: name.clone(),
            values,
        });
    }
    if columns.is_empty() {
        return Err(Error::InvalidData {
            what: what.to_string(),
            reason: "no feature column besides the target".into(),
        });
    }
    Ok(TabularDataset {
        name,
        columns,
        targets,
        label_names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infer_types_and_sort_numeric_labels() {
        let ds = TabularDataset::from_csv_str("x,c,y\n1,a,10\n2,?,9\nNA,b,10\n", "y", "t").unwrap();
        assert_eq!(ds.label_names, ["9", "10"]);
        assert_eq!(ds.targets, [1, 0, 1]);
        match &ds.columns[0].values {
            ColumnValues::Numeric(v) => assert!(v[2].is_nan()),
            other => panic!("{other:?}"),
        }
        match &ds.columns[1].values {
            ColumnValues::Categorical { levels, codes } => {
                assert_eq!(levels, &["a", "b"]);
                assert_eq!(codes, &[Some(0), None, Some(1)]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn from_records_checks_widths_kinds_and_numeric_columns() {
        let path = Path::new("t.txt");
        let header: Vec<String> = ["a", "b", "y"].map(String::from).into();
        let rec = |line, f: [&str; 3]| (line, f.map(String::from).to_vec());
        let kinds = [ColumnKind::Numeric, ColumnKind::Skip, ColumnKind::Infer];
        let ds = TabularDataset::from_records(
            "t",
            path,
            &header,
            vec![rec(1, ["1", "x", "p"]), rec(2, ["?", "y", "q"])],
            2,
            &kinds,
        )
        .unwrap();
        assert_eq!(ds.feature_names(), ["a"]);
        let ragged = vec![rec(1, ["1", "x", "p"]), (7, vec!["2".to_string()])];
        let err = TabularDataset::from_records("t", path, &header, ragged, 2, &kinds).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Parse {
                    line: 7,
                    column: Some(2),
                    ..
                }
            ),
            "{err:?}"
        );
        let err = TabularDataset::from_records("t", path, &header, vec![], 3, &kinds).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { .. }), "{err:?}");
        let err = TabularDataset::from_records(
            "t",
            path,
            &header,
            vec![rec(1, ["1", "x", "p"]), rec(2, ["two", "y", "q"])],
            2,
            &kinds,
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidData { reason, .. } if reason.contains("row 2 holds `two`")),
            "{err:?}"
        );
    }

    #[test]
    fn rows_with_missing_target_are_dropped() {
        let ds = TabularDataset::from_csv_str("x,y\n1,a\n2,\n3,b\n", "y", "t").unwrap();
        assert_eq!(ds.n_rows(), 2);
    }

    #[test]
    fn profile_covers_every_class() {
        let mut csv = String::from("x,y\n");
        for i in 0..50 {
            csv.push_str(&format!("{i},{}\n", if i == 7 { "rare" } else { "common" }));
        }
        let ds = TabularDataset::from_csv_str(&csv, "y", "t").unwrap();
        let p = ds.profile(3, 1);
        assert_eq!(p.records.len(), 3);
        assert!(p.records.iter().any(|r| r.label == "rare"));
        assert_eq!(p, ds.profile(3, 1));
    }
}
