//! Text data sets: JSONL records, and [`TextDataset::from_texts`], the building block of readers of
//! other text formats.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::assets::for_each_line;
use super::csv::open_input;
use super::tabular::{encode_levels, is_missing};
use super::{class_counts, pick_profile_rows};
use crate::error::{Error, Result};
use crate::limits::{Limits, Reservoir};
use crate::profile::{DataProfile, SampleRecord};
use crate::task::{Modality, TaskSpec};

/// Longest text shown in a [`DataProfile`] record, in characters.
pub const PROFILE_TEXT_CHARS: usize = 400;

/// Labelled texts.
///
/// ```
/// use modelgpt_core::data::TextDataset;
/// let ds = TextDataset::from_pairs("toy", [("great film", "pos"), ("dull", "neg"), ("loved it", "pos")])?;
/// assert_eq!(ds.label_names, ["neg", "pos"]);
/// assert_eq!(ds.targets, [1, 0, 1]);
/// assert_eq!(ds.task_spec().features, ["text"]);
/// # Ok::<(), modelgpt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextDataset {
    /// Data set name.
    pub name: String,
    /// One text per row.
    pub texts: Vec<String>,
    /// Class index of each row.
    pub targets: Vec<usize>,
    /// Class names, in class-index order.
    pub label_names: Vec<String>,
}

impl TextDataset {
    /// Builds a data set from `(text, label)` pairs; labels are the distinct values, sorted.
    ///
    /// # Errors
    /// [`Error::InvalidData`] when there are no rows or fewer than two classes.
    pub fn from_pairs<T: Into<String>, L: AsRef<str>>(
        name: &str,
        pairs: impl IntoIterator<Item = (T, L)>,
    ) -> Result<Self> {
        let (texts, labels): (Vec<String>, Vec<L>) =
            pairs.into_iter().map(|(t, l)| (t.into(), l)).unzip();
        let labels: Vec<&str> = labels.iter().map(|l| l.as_ref()).collect();
        Self::build(name, name, texts, &labels)
    }

    /// Builds a data set from texts and their labels (one per text), as the format readers do;
    /// `path` names the source in errors. Texts whose label is missing (empty, `?`, `NA`, ...) are
    /// dropped; labels are the distinct values, sorted.
    ///
    /// ```
    /// use std::path::Path;
    /// use modelgpt_core::data::TextDataset;
    /// let texts = vec!["fine".to_string(), "awful".to_string(), "no label".to_string()];
    /// let ds = TextDataset::from_texts("toy", Path::new("toy.txt"), texts, &["pos", "neg", ""])?;
    /// assert_eq!((ds.n_rows(), ds.label_names.clone()), (2, vec!["neg".to_string(), "pos".to_string()]));
    /// # Ok::<(), modelgpt_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `labels` and `texts` differ in length, [`Error::InvalidData`]
    /// when no text is labelled or there are fewer than two classes.
    pub fn from_texts(
        name: &str,
        path: &Path,
        texts: Vec<String>,
        labels: &[&str],
    ) -> Result<Self> {
        if labels.len() != texts.len() {
            return Err(Error::ShapeMismatch {
                what: format!("labels of the texts of {}", path.display()),
                expected: vec![texts.len()],
                actual: vec![labels.len()],
            });
        }
        Self::build(name, &path.display().to_string(), texts, labels)
    }

    fn build(name: &str, what: &str, texts: Vec<String>, labels: &[&str]) -> Result<Self> {
        let keep: Vec<usize> = (0..texts.len())
            .filter(|&i| !is_missing(labels[i]))
            .collect();
        if keep.is_empty() {
            return Err(Error::InvalidData {
                what: what.to_string(),
                reason: "no labelled text".into(),
            });
        }
        let (label_names, codes) = encode_levels(keep.iter().map(|&i| labels[i]));
        if label_names.len() < 2 {
            return Err(Error::InvalidData {
                what: what.to_string(),
                reason: format!(
                    "a single class (`{}`); classification needs at least two",
                    label_names[0]
                ),
            });
        }
        let mut texts = texts;
        let texts = if keep.len() == texts.len() {
            texts
        } else {
            keep.iter()
                .map(|&i| std::mem::take(&mut texts[i]))
                .collect()
        };
        Ok(Self {
            name: name.to_string(),
            texts,
            // All kept labels are present, so every code is Some.
            targets: codes.into_iter().map(|c| c.unwrap_or(0) as usize).collect(),
            label_names,
        })
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.targets.len()
    }

    /// Number of input fields: always 1 (the text).
    pub fn n_features(&self) -> usize {
        1
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.label_names.len()
    }

    /// The task: text modality, one feature `text`, the class names as labels.
    pub fn task_spec(&self) -> TaskSpec {
        TaskSpec::new(&self.name, Modality::Text)
            .with_features(["text"])
            .with_labels(self.label_names.clone())
    }

    /// Rows per class.
    pub fn class_counts(&self) -> Vec<usize> {
        class_counts(&self.targets, self.n_classes())
    }

    /// A profile with up to `max_records` texts (each cut to [`PROFILE_TEXT_CHARS`] characters),
    /// every class represented when possible.
    pub fn profile(&self, max_records: usize, seed: u64) -> DataProfile {
        let rows = pick_profile_rows(&self.targets, self.n_classes(), max_records, seed);
        let mut p = DataProfile::new(self.task_spec(), self.n_rows(), self.class_counts());
        p.records = rows
            .into_iter()
            .map(|r| {
                let t = self.texts[r].trim();
                let shown = match t.char_indices().nth(PROFILE_TEXT_CHARS) {
                    Some((cut, _)) => format!("{}...", &t[..cut]),
                    None => t.to_string(),
                };
                SampleRecord {
                    fields: vec![("text".to_string(), shown)],
                    label: self.label_names[self.targets[r]].clone(),
                }
            })
            .collect();
        p
    }

    /// The rows `rows`, in that order.
    ///
    /// # Panics
    /// If a row index is out of range.
    pub fn subset(&self, rows: &[usize]) -> Self {
        Self {
            name: self.name.clone(),
            texts: rows.iter().map(|&r| self.texts[r].clone()).collect(),
            targets: rows.iter().map(|&r| self.targets[r]).collect(),
            label_names: self.label_names.clone(),
        }
    }

    /// One row per paragraph: each text is cut at its line breaks, every line is trimmed, and the
    /// lines of at least `min_chars` characters (Unicode scalar values) become rows carrying their
    /// text's label. Blank and shorter lines are dropped. Class names and order are unchanged.
    ///
    /// ```
    /// use modelgpt_core::data::TextDataset;
    /// let ds = TextDataset::from_pairs(
    ///     "speeches",
    ///     [("Thank you.\n  We will rebuild the economy together.  \n\n", "a"), ("Jobs come first, here and now.", "b")],
    /// )?;
    /// let p = ds.split_paragraphs(20)?;
    /// assert_eq!(p.texts, ["We will rebuild the economy together.", "Jobs come first, here and now."]);
    /// assert_eq!(p.targets, [0, 1]);
    /// # Ok::<(), modelgpt_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidData`] when a class is left without any paragraph of `min_chars` characters.
    pub fn split_paragraphs(&self, min_chars: usize) -> Result<Self> {
        let mut texts = Vec::new();
        let mut targets = Vec::new();
        for (text, &target) in self.texts.iter().zip(&self.targets) {
            for p in paragraphs(text, min_chars) {
                texts.push(p.to_string());
                targets.push(target);
            }
        }
        let counts = class_counts(&targets, self.n_classes());
        if let Some(empty) = counts.iter().position(|&c| c == 0) {
            return Err(Error::InvalidData {
                what: self.name.clone(),
                reason: format!(
                    "class `{}` has no paragraph of at least {min_chars} characters",
                    self.label_names[empty]
                ),
            });
        }
        Ok(Self {
            name: self.name.clone(),
            texts,
            targets,
            label_names: self.label_names.clone(),
        })
    }

    /// Loads JSON Lines (`.gz` / `.bz2` decompressed by name): one object per line with a
    /// string field `text_field` and a label field `label_field` (string, number or boolean),
    /// within the default [`Limits`] (see [`TextDataset::from_jsonl_with`]). Blank lines are
    /// skipped. The name is the file stem.
    ///
    /// # Errors
    /// As [`TextDataset::from_jsonl_with`].
    ///
    /// ```no_run
    /// let ds = modelgpt_core::data::TextDataset::from_jsonl("reviews.jsonl", "text", "label")?;
    /// # Ok::<(), modelgpt_core::Error>(())
    /// ```
    pub fn from_jsonl(path: impl AsRef<Path>, text_field: &str, label_field: &str) -> Result<Self> {
        Self::from_jsonl_with(path, text_field, label_field, &Limits::DEFAULT)
    }

    /// [`TextDataset::from_jsonl`] within `limits`: the file is streamed line by line; above
    /// [`Limits::max_rows`] records a seeded uniform sample of them is kept (in file order).
    ///
    /// # Errors
    /// I/O errors naming the file, [`Error::NotUtf8`] (line), [`Error::JsonLine`] (bad JSON: line
    /// and column), [`Error::Parse`] (not an object, missing field or wrong type: line),
    /// [`Error::LimitExceeded`] ([`Limits::max_input_bytes`], [`Limits::max_record_bytes`],
    /// [`Limits::max_text_bytes`], [`Limits::max_classes`]), [`Error::EmptyData`],
    /// [`Error::InvalidData`] (fewer than two classes).
    pub fn from_jsonl_with(
        path: impl AsRef<Path>,
        text_field: &str,
        label_field: &str,
        limits: &Limits,
    ) -> Result<Self> {
        let path = path.as_ref();
        let mut kept = Reservoir::new(limits.max_rows, limits.row_sample_seed);
        for_each_line(open_input(path)?, path, limits, |line_no, line| {
            if line.trim().is_empty() {
                return Ok(());
            }
            let value: serde_json::Value =
                serde_json::from_str(line).map_err(|source| Error::JsonLine {
                    path: path.to_path_buf(),
                    line: line_no,
                    source,
                })?;
            let Some(obj) = value.as_object() else {
                return Err(Error::parse(path, line_no, None, "expected a JSON object"));
            };
            let field = |name: &str| {
                obj.get(name).ok_or_else(|| {
                    Error::parse(path, line_no, None, format!("missing field `{name}`"))
                })
            };
            let text = match field(text_field)? {
                serde_json::Value::String(s) => s.clone(),
                _ => {
                    return Err(Error::parse(
                        path,
                        line_no,
                        None,
                        format!("field `{text_field}` is not a string"),
                    ));
                }
            };
            let check_len = |name: &str, value: &str, limit: usize, limit_name| {
                if value.len() <= limit {
                    return Ok(());
                }
                Err(Error::LimitExceeded {
                    path: path.to_path_buf(),
                    line: Some(line_no),
                    column: None,
                    what: format!("the length in bytes of field `{name}`"),
                    found: value.len() as u64,
                    limit: limit as u64,
                    limit_name,
                })
            };
            check_len(text_field, &text, limits.max_text_bytes, "max_text_bytes")?;
            let label = match field(label_field)? {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => {
                    return Err(Error::parse(
                        path,
                        line_no,
                        None,
                        format!("field `{label_field}` is not a string, number or boolean"),
                    ));
                }
            };
            check_len(label_field, &label, limits.max_cell_bytes, "max_cell_bytes")?;
            kept.push((text, label));
            Ok(())
        })?;
        let (texts, labels): (Vec<String>, Vec<String>) = kept.into_sorted().into_iter().unzip();
        if texts.is_empty() {
            return Err(Error::EmptyData {
                path: path.to_path_buf(),
                reason: "no JSON records".into(),
            });
        }
        let distinct: std::collections::HashSet<&str> = labels.iter().map(|l| l.trim()).collect();
        if distinct.len() > limits.max_classes {
            return Err(Error::LimitExceeded {
                path: path.to_path_buf(),
                line: None,
                column: None,
                what: format!("the number of classes of field `{label_field}`"),
                found: distinct.len() as u64,
                limit: limits.max_classes as u64,
                limit_name: "max_classes",
            });
        }
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("texts");
        Self::build(name, &path.display().to_string(), texts, &labels)
    }
}

/// The paragraphs of `text`: its lines, trimmed, that have at least `min_chars` characters (and
/// are not blank).
fn paragraphs(text: &str, min_chars: usize) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(move |p| !p.is_empty() && p.chars().count() >= min_chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_are_trimmed_non_empty_long_lines() {
        let text = "  Thank you.\r\n\n   \nFour more years of jobs and growth!  \r\nOk\néééé";
        let got: Vec<&str> = paragraphs(text, 4).collect();
        assert_eq!(
            got,
            ["Thank you.", "Four more years of jobs and growth!", "éééé"]
        );
        // Characters, not bytes: four `é` are 8 bytes but only 4 characters.
        assert_eq!(paragraphs("éééé", 5).count(), 0);
        assert_eq!(paragraphs("", 0).count(), 0);
    }

    #[test]
    fn split_paragraphs_keeps_labels_and_rejects_emptied_classes() {
        let ds = TextDataset::from_pairs(
            "t",
            [
                ("first long paragraph\nsecond long paragraph\nshort", "d"),
                ("a republican paragraph", "r"),
            ],
        )
        .unwrap();
        let p = ds.split_paragraphs(10).unwrap();
        assert_eq!(
            p.texts,
            [
                "first long paragraph",
                "second long paragraph",
                "a republican paragraph"
            ]
        );
        assert_eq!(p.targets, [0, 0, 1]);
        assert_eq!(p.label_names, ["d", "r"]);
        let err = ds.split_paragraphs(22).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidData { reason, .. } if reason.contains("`d`")),
            "{err:?}"
        );
    }

    #[test]
    fn from_texts_needs_one_label_per_text() {
        let texts = vec!["a".to_string(), "b".to_string()];
        let err = TextDataset::from_texts("t", Path::new("t.tab"), texts, &["x"]).unwrap_err();
        assert!(
            matches!(&err, Error::ShapeMismatch { expected, actual, .. } if expected == &[2] && actual == &[1]),
            "{err:?}"
        );
    }

    #[test]
    fn profile_truncates_long_texts() {
        let long = "é".repeat(1000);
        let ds = TextDataset::from_pairs("t", [(long.as_str(), "a"), ("short", "b")]).unwrap();
        let p = ds.profile(2, 0);
        assert!(
            p.records
                .iter()
                .all(|r| r.fields[0].1.chars().count() <= PROFILE_TEXT_CHARS + 3)
        );
    }
}
