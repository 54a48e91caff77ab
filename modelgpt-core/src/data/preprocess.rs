//! Tabular preprocessing: impute, standardise, one-hot encode. Fitted on training rows only and
//! saved with models.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::csv::CsvTable;
use super::tabular::{ColumnValues, TabularDataset, is_missing, parse_number};
use crate::error::{Error, Result};

/// A dense row-major matrix of `f32`.
///
/// ```
/// use modelgpt_core::data::Matrix;
/// let m = Matrix::new(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
/// assert_eq!(m.row(1), &[4.0, 5.0, 6.0]);
/// assert_eq!(m.get(0, 2), 3.0);
/// # Ok::<(), modelgpt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// `rows * cols` values, row after row.
    pub data: Vec<f32>,
}

impl Matrix {
    /// A matrix from row-major data.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `data.len() != rows * cols`.
    pub fn new(rows: usize, cols: usize, data: Vec<f32>) -> Result<Self> {
        if data.len() != rows * cols {
            return Err(Error::ShapeMismatch {
                what: "matrix data".into(),
                expected: vec![rows * cols],
                actual: vec![data.len()],
            });
        }
        Ok(Self { rows, cols, data })
    }

    /// Row `i`.
    ///
    /// # Panics
    /// If `i >= rows`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// The value at `(row, col)`.
    ///
    /// # Panics
    /// If out of range.
    pub fn get(&self, row: usize, col: usize) -> f32 {
        assert!(
            col < self.cols,
            "column {col} out of range ({} columns)",
            self.cols
        );
        self.data[row * self.cols + col]
    }

    /// `[rows, cols]`.
    pub fn shape(&self) -> [usize; 2] {
        [self.rows, self.cols]
    }
}

/// How one source column becomes outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum ColumnTransform {
    /// `(x - mean) / std`, missing -> mean (i.e. 0 after scaling).
    Numeric { name: String, mean: f32, std: f32 },
    /// One output per level seen in training; missing -> `mode`; unseen levels -> all zeros.
    Categorical {
        name: String,
        levels: Vec<String>,
        mode: Option<usize>,
    },
}

impl ColumnTransform {
    fn name(&self) -> &str {
        match self {
            ColumnTransform::Numeric { name, .. } | ColumnTransform::Categorical { name, .. } => {
                name
            }
        }
    }

    fn width(&self) -> usize {
        match self {
            ColumnTransform::Numeric { .. } => 1,
            ColumnTransform::Categorical { levels, .. } => levels.len(),
        }
    }
}

/// Turns a [`TabularDataset`] into a numeric [`Matrix`]: numeric columns are mean-imputed and
/// standardised (a zero standard deviation counts as 1), categorical columns are mode-imputed and
/// one-hot encoded over the levels seen in training (an unseen level gives all zeros). Statistics
/// come from the training rows only. Serialisable, to be saved with a model.
///
/// ```
/// use modelgpt_core::data::{TabularDataset, TabularPreprocessor};
/// let csv = "x,colour,y\n1,red,a\n3,blue,b\n,red,a\n100,green,b\n";
/// let ds = TabularDataset::from_csv_str(csv, "y", "toy")?;
/// let pre = TabularPreprocessor::fit(&ds, &[0, 1, 2])?; // row 3 held out
/// assert_eq!(pre.output_names(), ["x", "colour=blue", "colour=red"]);
/// assert_eq!(pre.source_columns(), [0, 1, 1]);
/// let m = pre.transform(&ds, &[2, 3])?;
/// assert_eq!(m.row(0), &[0.0, 0.0, 1.0]);         // missing x -> mean -> 0; red
/// assert_eq!(&m.row(1)[1..], &[0.0, 0.0]);        // unseen `green` -> zeros
/// # Ok::<(), modelgpt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FittedColumns")]
pub struct TabularPreprocessor {
    columns: Vec<ColumnTransform>,
}

/// The saved form of a [`TabularPreprocessor`], checked when read back (it comes from a file).
#[derive(Deserialize)]
struct FittedColumns {
    columns: Vec<ColumnTransform>,
}

impl TryFrom<FittedColumns> for TabularPreprocessor {
    type Error = String;

    /// A categorical column's `mode` must index one of its levels: the transforms write the
    /// imputed one-hot entry at that index.
    fn try_from(saved: FittedColumns) -> core::result::Result<Self, String> {
        for c in &saved.columns {
            if let ColumnTransform::Categorical {
                name,
                levels,
                mode: Some(mode),
            } = c
                && *mode >= levels.len()
            {
                return Err(format!(
                    "categorical column `{name}`: mode {mode} is not one of its {} levels",
                    levels.len()
                ));
            }
        }
        Ok(Self {
            columns: saved.columns,
        })
    }
}

impl TabularPreprocessor {
    /// Fits on the rows `rows` of `data` (the training rows).
    ///
    /// # Errors
    /// [`Error::EmptyData`] when `rows` is empty; [`Error::ShapeMismatch`] when a row index is out
    /// of range.
    pub fn fit(data: &TabularDataset, rows: &[usize]) -> Result<Self> {
        if rows.is_empty() {
            return Err(Error::EmptyData {
                path: data.name.clone().into(),
                reason: "no training rows to fit the preprocessor on".into(),
            });
        }
        check_rows(data, rows)?;
        let columns = data
            .columns
            .iter()
            .map(|c| match &c.values {
                ColumnValues::Numeric(v) => {
                    let present: Vec<f64> = rows
                        .iter()
                        .map(|&r| v[r])
                        .filter(|x| !x.is_nan())
                        .map(f64::from)
                        .collect();
                    let (mean, std) = if present.is_empty() {
                        (0.0, 1.0)
                    } else {
                        let n = present.len() as f64;
                        let mean = present.iter().sum::<f64>() / n;
                        let var = present.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
                        let std = var.sqrt();
                        (mean, if std > 1e-12 { std } else { 1.0 })
                    };
                    ColumnTransform::Numeric {
                        name: c.name.clone(),
                        mean: mean as f32,
                        std: std as f32,
                    }
                }
                ColumnValues::Categorical { levels, codes } => {
                    let mut counts = vec![0usize; levels.len()];
                    for &r in rows {
                        if let Some(code) = codes[r] {
                            counts[code as usize] += 1;
                        }
                    }
                    let seen: Vec<usize> = (0..levels.len()).filter(|&l| counts[l] > 0).collect();
                    // Mode: the most frequent level (first in level order on ties).
                    let mode = seen
                        .iter()
                        .enumerate()
                        .max_by(|a, b| counts[*a.1].cmp(&counts[*b.1]).then(b.0.cmp(&a.0)))
                        .map(|(i, _)| i);
                    ColumnTransform::Categorical {
                        name: c.name.clone(),
                        levels: seen.iter().map(|&l| levels[l].clone()).collect(),
                        mode,
                    }
                }
            })
            .collect();
        Ok(Self { columns })
    }

    /// Transforms the rows `rows` of `data` into a `[rows.len(), n_outputs()]` matrix.
    ///
    /// # Errors
    /// [`Error::InvalidData`] naming the column when `data`'s columns (count, names or kinds)
    /// differ from those fitted; [`Error::ShapeMismatch`] when a row index is out of range.
    pub fn transform(&self, data: &TabularDataset, rows: &[usize]) -> Result<Matrix> {
        if data.columns.len() != self.columns.len() {
            let fitted: Vec<&str> = self.columns.iter().map(ColumnTransform::name).collect();
            let given: Vec<&str> = data.columns.iter().map(|c| c.name.as_str()).collect();
            let odd = fitted
                .iter()
                .find(|f| !given.contains(f))
                .or_else(|| given.iter().find(|g| !fitted.contains(g)))
                .unwrap_or(&"?");
            return Err(Error::InvalidData {
                what: format!("{}: column `{odd}`", data.name),
                reason: format!(
                    "the preprocessor was fitted on {} columns ({}), the data has {} ({})",
                    fitted.len(),
                    fitted.join(", "),
                    given.len(),
                    given.join(", ")
                ),
            });
        }
        check_rows(data, rows)?;
        let cols = self.n_outputs();
        let mut out = vec![0.0f32; rows.len() * cols];
        let mut offset = 0;
        for (t, c) in self.columns.iter().zip(&data.columns) {
            if t.name() != c.name {
                return Err(Error::InvalidData {
                    what: format!("{}: column `{}`", data.name, c.name),
                    reason: format!("expected column `{}` at this position", t.name()),
                });
            }
            match (t, &c.values) {
                (ColumnTransform::Numeric { mean, std, .. }, ColumnValues::Numeric(v)) => {
                    for (i, &r) in rows.iter().enumerate() {
                        let x = v[r];
                        out[i * cols + offset] = if x.is_nan() { 0.0 } else { (x - mean) / std };
                    }
                }
                (
                    ColumnTransform::Categorical { levels, mode, .. },
                    ColumnValues::Categorical { levels: dl, codes },
                ) => {
                    let index: HashMap<&str, usize> = levels
                        .iter()
                        .enumerate()
                        .map(|(i, l)| (l.as_str(), i))
                        .collect();
                    let map: Vec<Option<usize>> =
                        dl.iter().map(|l| index.get(l.as_str()).copied()).collect();
                    for (i, &r) in rows.iter().enumerate() {
                        let k = match codes[r] {
                            Some(code) => map.get(code as usize).copied().flatten(),
                            None => *mode,
                        };
                        if let Some(k) = k {
                            out[i * cols + offset + k] = 1.0;
                        }
                    }
                }
                _ => {
                    return Err(Error::InvalidData {
                        what: format!("{}: column `{}`", data.name, c.name),
                        reason: format!(
                            "fitted as {}, but the data's column is {}",
                            kind(t),
                            if c.values.is_numeric() {
                                "numeric"
                            } else {
                                "categorical"
                            }
                        ),
                    });
                }
            }
            offset += t.width();
        }
        Matrix::new(rows.len(), cols, out)
    }

    /// Transforms raw text rows of a [`CsvTable`] (e.g. new rows to predict on, read with
    /// [`read_csv_table`](super::read_csv_table)). Fitted columns are looked up by name; extra
    /// columns (such as a label) are ignored. Missing cells (empty, `?`, `NA`, `NaN`) are imputed.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] for a fitted column absent from the table; [`Error::Parse`] (line
    /// and column) for a non-numeric value in a numeric column.
    pub fn transform_table(&self, table: &CsvTable) -> Result<Matrix> {
        let idx: Vec<usize> = self
            .columns
            .iter()
            .map(|t| table.column_index(t.name()))
            .collect::<Result<_>>()?;
        let cols = self.n_outputs();
        let mut out = vec![0.0f32; table.rows.len() * cols];
        for (i, row) in table.rows.iter().enumerate() {
            let mut offset = 0;
            for (t, &j) in self.columns.iter().zip(&idx) {
                let cell = row[j].trim();
                match t {
                    ColumnTransform::Numeric { mean, std, .. } => {
                        if !is_missing(cell) {
                            let x = parse_number(cell).ok_or_else(|| {
                                Error::parse(
                                    &table.path,
                                    table.lines.get(i).copied().unwrap_or(i + 2),
                                    Some(j + 1),
                                    format!("column `{}` is numeric, found `{cell}`", t.name()),
                                )
                            })?;
                            out[i * cols + offset] = (x - mean) / std;
                        }
                    }
                    ColumnTransform::Categorical { levels, mode, .. } => {
                        let k = if is_missing(cell) {
                            *mode
                        } else {
                            levels.iter().position(|l| l == cell)
                        };
                        if let Some(k) = k {
                            out[i * cols + offset + k] = 1.0;
                        }
                    }
                }
                offset += t.width();
            }
        }
        Matrix::new(table.rows.len(), cols, out)
    }

    /// Number of output features.
    pub fn n_outputs(&self) -> usize {
        self.columns.iter().map(ColumnTransform::width).sum()
    }

    /// Output feature names: the column name for numeric columns, `column=level` for one-hot ones.
    pub fn output_names(&self) -> Vec<String> {
        self.columns
            .iter()
            .flat_map(|t| match t {
                ColumnTransform::Numeric { name, .. } => vec![name.clone()],
                ColumnTransform::Categorical { name, levels, .. } => {
                    levels.iter().map(|l| format!("{name}={l}")).collect()
                }
            })
            .collect()
    }

    /// For each output, the index of its source column in the data set.
    pub fn source_columns(&self) -> Vec<usize> {
        self.columns
            .iter()
            .enumerate()
            .flat_map(|(i, t)| std::iter::repeat_n(i, t.width()))
            .collect()
    }

    /// Names of the fitted source columns.
    pub fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(|t| t.name().to_string()).collect()
    }
}

fn kind(t: &ColumnTransform) -> &'static str {
    match t {
        ColumnTransform::Numeric { .. } => "numeric",
        ColumnTransform::Categorical { .. } => "categorical",
    }
}

fn check_rows(data: &TabularDataset, rows: &[usize]) -> Result<()> {
    let n = data.n_rows();
    if let Some(&bad) = rows.iter().find(|&&r| r >= n) {
        return Err(Error::ShapeMismatch {
            what: format!("{}: row index {bad}", data.name),
            expected: vec![n],
            actual: vec![bad + 1],
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> TabularDataset {
        TabularDataset::from_csv_str("x,c,y\n0,a,p\n2,a,q\n4,b,p\n1000,z,q\n", "y", "toy").unwrap()
    }

    #[test]
    fn fit_uses_training_rows_only() {
        let ds = toy();
        let pre = TabularPreprocessor::fit(&ds, &[0, 1, 2]).unwrap();
        // Mean 2, std sqrt(8/3) from rows 0..3; the outlier row 3 does not move them.
        let m = pre.transform(&ds, &[1]).unwrap();
        assert_eq!(m.row(0)[0], 0.0);
        assert_eq!(pre.output_names(), ["x", "c=a", "c=b"]);
        let all = TabularPreprocessor::fit(&ds, &[0, 1, 2, 3]).unwrap();
        assert_ne!(pre, all);
        assert_eq!(all.output_names(), ["x", "c=a", "c=b", "c=z"]);
    }

    #[test]
    fn constant_column_has_unit_std_and_serde_round_trip() {
        let ds = TabularDataset::from_csv_str("x,y\n5,p\n5,q\n", "y", "t").unwrap();
        let pre = TabularPreprocessor::fit(&ds, &[0, 1]).unwrap();
        assert_eq!(pre.transform(&ds, &[0]).unwrap().data, [0.0]);
        let json = serde_json::to_string(&pre).unwrap();
        let back: TabularPreprocessor = serde_json::from_str(&json).unwrap();
        assert_eq!(back, pre);
    }

    #[test]
    fn mismatched_columns_name_the_column() {
        let ds = toy();
        let pre = TabularPreprocessor::fit(&ds, &[0, 1]).unwrap();
        let other = TabularDataset::from_csv_str("x,d,y\n0,a,p\n2,a,q\n", "y", "other").unwrap();
        let err = pre.transform(&other, &[0]).unwrap_err();
        assert!(err.to_string().contains("`d`"), "{err}");
        let fewer = TabularDataset::from_csv_str("x,y\n0,p\n2,q\n", "y", "fewer").unwrap();
        let err = pre.transform(&fewer, &[0]).unwrap_err();
        assert!(err.to_string().contains("`c`"), "{err}");
    }

    #[test]
    fn transform_table_matches_transform() {
        let ds = toy();
        let pre = TabularPreprocessor::fit(&ds, &[0, 1, 2]).unwrap();
        let table = CsvTable::parse_str("c,x\na,2\nq,?\n", "<new>").unwrap();
        let m = pre.transform_table(&table).unwrap();
        assert_eq!(m.row(0), pre.transform(&ds, &[1]).unwrap().row(0));
        assert_eq!(m.row(1), &[0.0, 0.0, 0.0]);
        let bad = CsvTable::parse_str("c,x\na,abc\n", "<new>").unwrap();
        assert!(matches!(
            pre.transform_table(&bad),
            Err(Error::Parse {
                line: 2,
                column: Some(2),
                ..
            })
        ));
    }
}
