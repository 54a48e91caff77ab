//! Data sets, loaders for a user's own data, splits and preprocessing.
//!
//! - Data set types: [`TabularDataset`] (typed [`Column`]s), [`TextDataset`], [`ImageDataset`],
//!   and the [`Dataset`] enum over the three. Each has `n_rows`, `n_classes`, `task_spec`,
//!   `class_counts`, `profile` (for prompts) and `subset`.
//! - Loaders for a user's own data, streamed within [`Limits`](crate::Limits):
//!   [`TabularDataset::read_csv`] / [`TabularDataset::from_csv`] (RFC 4180, `.gz` / `.bz2`,
//!   inferred column types, a [`CsvReport`] of what was left out),
//!   [`TextDataset::from_jsonl`], [`ImageDataset::from_folder`] (one PNG sub-folder per class), and
//!   [`read_csv_table`] for unlabeled rows to predict on.
//! - Building blocks for readers of other formats: [`read_records`], [`open_input`],
//!   [`parse_records`], [`check_width`],
//!   [`decode_utf8`], [`TabularDataset::from_records`] (with [`ColumnKind`]) and
//!   [`TextDataset::from_texts`].
//! - Where the fetched assets (models, data) live: [`assets_dir`], [`asset`], [`asset_in`].
//! - Seeded stratified [`Split`]s and the [`TabularPreprocessor`] (impute, standardise, one-hot)
//!   producing a row-major [`Matrix`].
//!
//! Every loader returns typed errors ([`crate::Error`]) naming the file, line and column; none panics
//! on bad input.
//!
//! ```
//! use modelgpt_core::data::{Split, TabularDataset, TabularPreprocessor};
//! let csv = "size,colour,label\n1,red,a\n2,blue,b\n3,red,a\n4,blue,b\n5,red,a\n6,blue,b\n";
//! let ds = TabularDataset::from_csv_str(csv, "label", "toy")?;
//! let split = Split::seeded(ds.n_rows(), &ds.targets, (0.5, 0.0, 0.5), 7)?;
//! let pre = TabularPreprocessor::fit(&ds, &split.train)?;
//! let x = pre.transform(&ds, &split.test)?;
//! assert_eq!(x.rows, split.test.len());
//! assert_eq!(x.cols, 3); // size, colour=blue, colour=red
//! # Ok::<(), modelgpt_core::Error>(())
//! ```

mod assets;
mod csv;
mod image;
mod preprocess;
mod sample;
mod split;
mod tabular;
mod text;

pub(crate) use assets::FETCH_HINT;
pub use assets::{ASSETS_ENV, asset, asset_in, assets_dir, decode_utf8};
pub use csv::{
    CsvTable, Record, check_width, open_input, parse_records, read_csv_table, read_records,
};
pub use image::ImageDataset;
pub use preprocess::{Matrix, TabularPreprocessor};
pub use sample::{sample_per_class, sample_stratified, shuffled_by_class};
pub use split::Split;
pub use tabular::{
    Column, ColumnKind, ColumnValues, CsvOptions, CsvReport, TabularDataset, is_missing,
};
pub use text::{PROFILE_TEXT_CHARS, TextDataset};

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::profile::DataProfile;
use crate::task::{Modality, TaskSpec};

/// A labelled data set of any modality.
#[derive(Debug, Clone, PartialEq)]
pub enum Dataset {
    /// Rows of typed columns.
    Tabular(TabularDataset),
    /// Texts.
    Text(TextDataset),
    /// Images.
    Image(ImageDataset),
}

macro_rules! each {
    ($self:ident, $d:ident => $e:expr) => {
        match $self {
            Dataset::Tabular($d) => $e,
            Dataset::Text($d) => $e,
            Dataset::Image($d) => $e,
        }
    };
}

impl Dataset {
    /// The data set's name.
    pub fn name(&self) -> &str {
        each!(self, d => &d.name)
    }

    /// The modality.
    pub fn modality(&self) -> Modality {
        match self {
            Dataset::Tabular(_) => Modality::Tabular,
            Dataset::Text(_) => Modality::Text,
            Dataset::Image(_) => Modality::Image,
        }
    }

    /// Number of rows (examples).
    pub fn n_rows(&self) -> usize {
        each!(self, d => d.n_rows())
    }

    /// Number of input features: columns (tabular), 1 (text), `channels * height * width` (image).
    pub fn n_features(&self) -> usize {
        each!(self, d => d.n_features())
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        each!(self, d => d.n_classes())
    }

    /// Class index of each row.
    pub fn targets(&self) -> &[usize] {
        each!(self, d => &d.targets)
    }

    /// Class names in class-index order.
    pub fn label_names(&self) -> &[String] {
        each!(self, d => &d.label_names)
    }

    /// The task description (modality, features, labels).
    pub fn task_spec(&self) -> TaskSpec {
        each!(self, d => d.task_spec())
    }

    /// Rows per class.
    pub fn class_counts(&self) -> Vec<usize> {
        each!(self, d => d.class_counts())
    }

    /// A profile with up to `max_records` examples, every class represented when possible.
    pub fn profile(&self, max_records: usize, seed: u64) -> DataProfile {
        each!(self, d => d.profile(max_records, seed))
    }

    /// The rows `rows`, in that order.
    ///
    /// # Panics
    /// If a row index is out of range.
    pub fn subset(&self, rows: &[usize]) -> Self {
        match self {
            Dataset::Tabular(d) => Dataset::Tabular(d.subset(rows)),
            Dataset::Text(d) => Dataset::Text(d.subset(rows)),
            Dataset::Image(d) => Dataset::Image(d.subset(rows)),
        }
    }

    /// The tabular data set, if this is one.
    pub fn as_tabular(&self) -> Option<&TabularDataset> {
        match self {
            Dataset::Tabular(d) => Some(d),
            _ => None,
        }
    }

    /// The text data set, if this is one.
    pub fn as_text(&self) -> Option<&TextDataset> {
        match self {
            Dataset::Text(d) => Some(d),
            _ => None,
        }
    }

    /// The image data set, if this is one.
    pub fn as_image(&self) -> Option<&ImageDataset> {
        match self {
            Dataset::Image(d) => Some(d),
            _ => None,
        }
    }
}

/// Counts of each class index in `targets` (indices `>= n_classes` are ignored).
pub(crate) fn class_counts(targets: &[usize], n_classes: usize) -> Vec<usize> {
    let mut counts = vec![0; n_classes];
    for &t in targets {
        if let Some(c) = counts.get_mut(t) {
            *c += 1;
        }
    }
    counts
}

/// Row indices for a profile: classes visited round-robin, rows of each class in seeded random
/// order, so every class appears when `max_records >= n_classes`. The result is sorted by class
/// visit order and deterministic for a seed.
pub(crate) fn pick_profile_rows(
    targets: &[usize],
    n_classes: usize,
    max_records: usize,
    seed: u64,
) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed);
    let all: Vec<usize> = (0..targets.len()).collect();
    let per_class = shuffled_by_class(targets, &all, n_classes, &mut rng);
    let mut order: Vec<usize> = (0..n_classes).collect();
    order.shuffle(&mut rng);
    let mut out = Vec::new();
    let mut depth = 0;
    while out.len() < max_records.min(targets.len()) {
        let mut any = false;
        for &c in &order {
            if let Some(&r) = per_class[c].get(depth) {
                any = true;
                if out.len() < max_records {
                    out.push(r);
                }
            }
        }
        if !any {
            break;
        }
        depth += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_rows_cover_classes() {
        let targets = [0, 0, 0, 0, 1, 0, 0, 2];
        let rows = pick_profile_rows(&targets, 3, 3, 9);
        let mut classes: Vec<usize> = rows.iter().map(|&r| targets[r]).collect();
        classes.sort_unstable();
        assert_eq!(classes, [0, 1, 2]);
    }
}
