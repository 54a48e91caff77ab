//! The task catalog: every bundled task with its description, features, labels, documented size,
//! source and a pool of requirement sentences.
//!
//! The table is data: `catalog.json` (next to this file, embedded at compile time; its schema is
//! documented in `table.rs`). Building the catalog parses and checks it and reads no data file;
//! [`Catalog::load_task`] reads one task's files on demand.

use std::path::{Path, PathBuf};

use modelgpt_core::Error as CoreError;
use modelgpt_core::data::{Dataset, Split, assets_dir};
use modelgpt_core::{Modality, TaskSpec};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

mod load;
mod requirements;
mod table;

use table::Info;

/// Seed of the per-class row caps of large text and image sets (fixed, so documented counts hold).
pub const CAP_SEED: u64 = 0x00C0_FFEE;

/// Fraction of a data set's own training part carved out for validation.
pub const OWN_SPLIT_VALID_FRACTION: f32 = 0.1;

/// One task of the catalog.
///
/// `requirements` holds at least five requirement sentences (paper §3: a small pool per task, one
/// sampled at each training step), generated deterministically from the description, modality,
/// class count, labels and features.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskEntry {
    /// Catalog key, e.g. `iris`.
    pub name: String,
    /// Data modality.
    pub modality: Modality,
    /// What is predicted, from what (a verb phrase: "recognise the species of iris plants from
    /// sepal and petal measurements").
    pub description: String,
    /// Input feature names (tabular: columns; text: `text`; image: empty).
    pub features: Vec<String>,
    /// Class names, in class-index order.
    pub labels: Vec<String>,
    /// Number of rows [`Catalog::load_task`] returns (after any documented cap).
    pub n_rows: usize,
    /// Inputs per row: columns (tabular), 1 (text), `channels * height * width` (image).
    pub n_features: usize,
    /// For data sets with their own train/test split: the number of training rows (they come
    /// first; the test rows follow). `None` when the catalog splits the data itself.
    pub n_train: Option<usize>,
    /// Requirement sentences (at least five).
    pub requirements: Vec<String>,
    /// Where the data comes from: package (registry) and file(s), plus any cap applied.
    pub source: String,
}

impl TaskEntry {
    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.labels.len()
    }

    /// The task spec (modality, features, labels).
    pub fn task_spec(&self) -> TaskSpec {
        TaskSpec::new(&self.name, self.modality)
            .with_features(self.features.clone())
            .with_labels(self.labels.clone())
    }

    /// The catalog's split for this task, given the loaded data set's targets: the data set's own
    /// train/test split with [`OWN_SPLIT_VALID_FRACTION`] of the training part (stratified) as
    /// validation where it has one; otherwise a seeded stratified split, 60/10/30 for tabular and
    /// text tasks and 80/10/10 for images (paper §3).
    ///
    /// # Errors
    /// [`modelgpt_core::Error::ShapeMismatch`] when `targets` does not have
    /// [`TaskEntry::n_rows`] entries.
    pub fn split(&self, targets: &[usize], seed: u64) -> Result<Split> {
        if targets.len() != self.n_rows {
            return Err(CoreError::ShapeMismatch {
                what: format!("targets of task `{}`", self.name),
                expected: vec![self.n_rows],
                actual: vec![targets.len()],
            }
            .into());
        }
        let split = match self.n_train {
            Some(n_train) => {
                Split::from_train_test_stratified(targets, n_train, OWN_SPLIT_VALID_FRACTION, seed)
            }
            None => {
                let fractions = match self.modality {
                    Modality::Image => (0.8, 0.1, 0.1),
                    _ => (0.6, 0.1, 0.3),
                };
                Split::seeded(targets.len(), targets, fractions, seed)
            }
        };
        Ok(split?)
    }
}

/// The bundled tasks over the fetched assets.
///
/// ```
/// use modelgpt_datasets::Catalog;
/// # let dir = tempfile::tempdir()?;
/// let catalog = Catalog::load_from(dir.path())?; // reads no data file
/// let iris = catalog.get("iris").expect("iris is in the catalog");
/// assert_eq!(iris.labels, ["setosa", "versicolor", "virginica"]);
/// assert_eq!((iris.n_rows, iris.n_features), (150, 4));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// With the fetched assets (not run here):
///
/// ```no_run
/// use modelgpt_datasets::Catalog;
/// let catalog = Catalog::load()?;
/// let data = catalog.load_task("iris")?;
/// let split = catalog.split("iris", 42)?;
/// assert_eq!(split.len(), data.n_rows());
/// # Ok::<(), modelgpt_datasets::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Catalog {
    root: PathBuf,
    infos: Vec<Info>,
    tasks: Vec<TaskEntry>,
}

impl Catalog {
    /// The catalog over [`assets_dir`].
    ///
    /// # Errors
    /// As [`Catalog::load_from`].
    pub fn load() -> Result<Self> {
        Self::load_from(assets_dir())
    }

    /// The catalog over the asset folder `dir`. Cheap: no data file is read.
    ///
    /// # Errors
    /// [`modelgpt_core::Error::MissingAsset`] when `dir` is not a folder; [`Error::Table`] or
    /// [`Error::InvalidTask`] if the embedded table is broken (its tests rule that out).
    pub fn load_from(dir: impl AsRef<Path>) -> Result<Self> {
        let root = dir.as_ref().to_path_buf();
        if !root.is_dir() {
            return Err(CoreError::missing_asset(root).into());
        }
        let infos = table::parse()?;
        let tasks = infos.iter().map(requirements::entry).collect();
        Ok(Self { root, infos, tasks })
    }

    /// The asset folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// All tasks, in catalog order (tabular, then text, then image).
    pub fn tasks(&self) -> &[TaskEntry] {
        &self.tasks
    }

    /// Task names, in catalog order.
    pub fn names(&self) -> Vec<&str> {
        self.tasks.iter().map(|t| t.name.as_str()).collect()
    }

    /// The tasks of one modality.
    pub fn by_modality(&self, modality: Modality) -> impl Iterator<Item = &TaskEntry> {
        self.tasks.iter().filter(move |t| t.modality == modality)
    }

    /// The task called `name`.
    pub fn get(&self, name: &str) -> Option<&TaskEntry> {
        self.tasks.iter().find(|t| t.name == name)
    }

    /// Loads the data of task `name` (its rows exactly as documented in its [`TaskEntry`]).
    ///
    /// # Errors
    /// [`Error::UnknownTask`], [`modelgpt_core::Error::MissingAsset`] when its files are absent,
    /// the readers' errors, and [`Error::InvalidTask`] when the data's own training part does not
    /// have [`TaskEntry::n_train`] rows.
    pub fn load_task(&self, name: &str) -> Result<Dataset> {
        let info = self
            .infos
            .iter()
            .find(|i| i.name == name)
            .ok_or_else(|| Error::UnknownTask { name: name.into() })?;
        let (data, n_train) = load::load(&self.root, info)?;
        if n_train != info.n_train {
            return Err(Error::InvalidTask {
                task: info.name.clone(),
                reason: format!(
                    "the data's own training part has {n_train:?} rows, the table says {:?}",
                    info.n_train
                ),
            });
        }
        Ok(data)
    }

    /// The split of task `name` (see [`TaskEntry::split`]); loads the task to stratify. Use
    /// [`TaskEntry::split`] when the data is already loaded.
    ///
    /// # Errors
    /// As [`Catalog::load_task`].
    pub fn split(&self, name: &str, seed: u64) -> Result<Split> {
        let data = self.load_task(name)?;
        let entry = self
            .get(name)
            .ok_or_else(|| Error::UnknownTask { name: name.into() })?;
        entry.split(data.targets(), seed)
    }
}
