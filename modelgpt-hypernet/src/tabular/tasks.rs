//! Tabular tasks prepared for meta-training and evaluation: preprocessed splits, embeddings of
//! the requirement pool, feature names and label names, and the sample statistics.

use burn::tensor::{Device, Tensor, TensorData};
use modelgpt_core::RequirementEncoder;
use modelgpt_core::data::{Split, TabularDataset, TabularPreprocessor};
use rand::RngExt;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::general::TaskContext;
use super::sample::{N_CLASS_STATS, N_FEATURE_STATS, TaskSample};
use crate::encode::EmbeddingCache;
use crate::error::{Error, Result};

/// Rows and labels of one split, features preprocessed (row-major `[rows, cols]`).
#[derive(Debug, Clone, Default)]
pub struct SplitData {
    /// Features, row-major.
    pub x: Vec<f32>,
    /// Labels.
    pub y: Vec<usize>,
}

impl SplitData {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.y.len()
    }

    /// Features as a tensor `[rows, cols]`.
    pub fn x_tensor(&self, cols: usize, device: &Device) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(self.x.clone(), [self.y.len(), cols]),
            device,
        )
    }
}

/// A tabular task ready for the hypernetwork.
#[derive(Debug, Clone)]
pub struct PreparedTask {
    /// Task name.
    pub name: String,
    /// Number of preprocessed features.
    pub cols: usize,
    /// Class names.
    pub label_names: Vec<String>,
    /// Preprocessed feature names (e.g. `color=red`).
    pub feature_names: Vec<String>,
    /// Requirement sentences of the task's pool.
    pub requirements: Vec<String>,
    /// Training rows the hypernetwork reads (at most `max_train_rows`, see
    /// [`PreparedTask::prepare`]).
    pub train: SplitData,
    /// The whole training split (what a conventionally trained baseline gets).
    pub train_full: SplitData,
    /// Validation split.
    pub valid: SplitData,
    /// Test split.
    pub test: SplitData,
    /// The fitted preprocessing (fitted on the training split only).
    pub preprocessor: TabularPreprocessor,
    /// Statistics of the whole training split.
    pub sample: TaskSample,
    embed_dim: usize,
    req_emb: Vec<f32>,
    feat_emb: Vec<f32>,
    label_emb: Vec<f32>,
}

/// Most characters of a feature or label name that are embedded; longer names are cut (at a
/// character boundary) before encoding, so a hostile cell cannot make encoding slow. MiniLM reads
/// at most 256 tokens anyway, and names longer than this carry their meaning in their start.
pub const MAX_NAME_CHARS: usize = 128;

/// The first [`MAX_NAME_CHARS`] characters of `name`.
fn capped(name: &str) -> &str {
    match name.char_indices().nth(MAX_NAME_CHARS) {
        Some((i, _)) => &name[..i],
        None => name,
    }
}

/// Text used to embed a preprocessed feature name (`color=red` reads as `color: red`), cut to
/// [`MAX_NAME_CHARS`] characters.
///
/// ```
/// use modelgpt_hypernet::{MAX_NAME_CHARS, feature_text};
/// assert_eq!(feature_text("colour=dark_red"), "colour: dark red");
/// assert_eq!(feature_text(&"x".repeat(10_000)).chars().count(), MAX_NAME_CHARS);
/// ```
pub fn feature_text(name: &str) -> String {
    capped(name).replace('=', ": ").replace('_', " ")
}

/// Text used to embed a class name: the name cut to [`MAX_NAME_CHARS`] characters.
pub fn class_text(name: &str) -> String {
    capped(name).to_string()
}

impl PreparedTask {
    /// Preprocesses `dataset` with `split` (fit on the training rows the hypernetwork reads),
    /// caps those rows at `max_train_rows` (an evenly spaced subsample of the shuffled split),
    /// keeps the whole training split for baselines, and embeds the task's texts.
    ///
    /// # Errors
    /// Preprocessing, encoder or sample errors.
    #[allow(clippy::too_many_arguments)]
    pub fn prepare(
        name: &str,
        dataset: &TabularDataset,
        split: &Split,
        requirements: Vec<String>,
        encoder: &dyn RequirementEncoder,
        cache: &mut EmbeddingCache,
        max_train_rows: usize,
        device: &Device,
    ) -> Result<Self> {
        let mut train_rows = split.train.clone();
        let capped = train_rows.len() > max_train_rows;
        if capped {
            // Deterministic thinning: keep every k-th row of the (already shuffled) split.
            let step = train_rows.len() as f64 / max_train_rows as f64;
            train_rows = (0..max_train_rows)
                .map(|i| train_rows[(i as f64 * step) as usize])
                .collect();
        }
        let pre = TabularPreprocessor::fit(dataset, &train_rows)?;
        let take = |rows: &[usize]| -> Result<SplitData> {
            let m = pre.transform(dataset, rows)?;
            Ok(SplitData {
                x: m.data,
                y: rows.iter().map(|&r| dataset.targets[r]).collect(),
            })
        };
        let train = take(&train_rows)?;
        let train_full = if capped {
            take(&split.train)?
        } else {
            train.clone()
        };
        let valid = take(&split.valid)?;
        let test = take(&split.test)?;
        let cols = pre.n_outputs();
        let n_classes = dataset.label_names.len();
        let all: Vec<usize> = (0..train.rows()).collect();
        let sample = TaskSample::from_rows(&train.x, cols, &train.y, &all, n_classes)?;
        let feature_names = pre.output_names();
        if requirements.is_empty() {
            return Err(Error::InvalidInput {
                what: format!("task {name}"),
                reason: "empty requirement pool".into(),
            });
        }
        let req_emb = cache.embed(encoder, &requirements, device)?;
        let feat_texts: Vec<String> = feature_names.iter().map(|n| feature_text(n)).collect();
        let feat_emb = cache.embed(encoder, &feat_texts, device)?;
        let label_texts: Vec<String> = dataset.label_names.iter().map(|n| class_text(n)).collect();
        let label_emb = cache.embed(encoder, &label_texts, device)?;
        Ok(Self {
            name: name.to_string(),
            cols,
            label_names: dataset.label_names.clone(),
            feature_names,
            requirements,
            train,
            train_full,
            valid,
            test,
            preprocessor: pre,
            sample,
            embed_dim: encoder.embed_dim(),
            req_emb,
            feat_emb,
            label_emb,
        })
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.label_names.len()
    }

    /// Embedding of requirement `i` of the pool, `[1, embed_dim]`.
    pub fn requirement_embedding(&self, i: usize, device: &Device) -> Tensor<2> {
        let e = self.embed_dim;
        let i = i % self.requirements.len();
        Tensor::from_data(
            TensorData::new(self.req_emb[i * e..(i + 1) * e].to_vec(), [1, e]),
            device,
        )
    }

    /// Builds the hypernetwork input from requirement `req` and sample statistics `sample`.
    pub fn context(&self, req: usize, sample: &TaskSample, device: &Device) -> TaskContext {
        build_context(
            self.requirement_embedding(req, device),
            &self.feat_emb,
            &self.label_emb,
            self.embed_dim,
            sample,
            device,
        )
    }

    /// Statistics of a random subset of the training rows (between `min_rows` and `max_rows`).
    ///
    /// Meta-training varies the sample so that the generator copes with the small samples users
    /// bring.
    ///
    /// # Errors
    /// Sample errors (never for a prepared task).
    pub fn random_sample(
        &self,
        rng: &mut StdRng,
        min_rows: usize,
        max_rows: usize,
    ) -> Result<TaskSample> {
        let n = self.train.rows();
        let hi = max_rows.min(n).max(1);
        let lo = min_rows.min(hi).max(1);
        let m = rng.random_range(lo..=hi);
        let rows: Vec<usize> = if m >= n {
            (0..n).collect()
        } else {
            (0..m).map(|_| rng.random_range(0..n)).collect()
        };
        TaskSample::from_rows(
            &self.train.x,
            self.cols,
            &self.train.y,
            &rows,
            self.n_classes(),
        )
    }
}

/// Seed of the kernel mode's random feature directions at generation time.
pub const DEFAULT_FEATURE_SEED: u64 = 0x5eed_f00d;

/// Assembles a [`TaskContext`] from host-side embeddings and statistics.
pub fn build_context(
    requirement: Tensor<2>,
    feat_emb: &[f32],
    label_emb: &[f32],
    embed_dim: usize,
    sample: &TaskSample,
    device: &Device,
) -> TaskContext {
    let d = sample.n_features;
    let k = sample.n_classes;
    let t = |v: &[f32], shape: [usize; 2]| {
        Tensor::<2>::from_data(TensorData::new(v.to_vec(), shape), device)
    };
    TaskContext {
        requirement,
        feature_names: t(feat_emb, [d, embed_dim]),
        label_names: t(label_emb, [k, embed_dim]),
        feature_stats: t(&sample.feature_stats, [d, N_FEATURE_STATS]),
        class_stats: t(&sample.class_stats, [k, N_CLASS_STATS]),
        class_means: t(&sample.class_means, [k, d]),
        class_dirs: t(&sample.class_dirs, [k, d]),
        class_offsets: t(&sample.class_offsets, [k, 1]),
        support_x: t(&sample.rows_x, [sample.rows_y.len(), d]),
        support_y: sample.rows_y.clone(),
        feature_seed: DEFAULT_FEATURE_SEED,
    }
}

/// A sub-task of a [`PreparedTask`]: a subset of its feature columns and of its classes.
///
/// Meta-training draws such views at random (task augmentation): each one is a new task with
/// its own feature count and class count, which teaches the general hypernetwork to serve shapes
/// that no catalog task has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskView {
    /// Feature columns kept, in order.
    pub cols: Vec<usize>,
    /// Classes kept, in order; class `classes[i]` becomes label `i`.
    pub classes: Vec<usize>,
}

impl TaskView {
    /// The whole task.
    pub fn full(task: &PreparedTask) -> Self {
        Self {
            cols: (0..task.cols).collect(),
            classes: (0..task.n_classes()).collect(),
        }
    }

    /// A random view keeping at least half of the features (at least one) and at least two
    /// classes present in the training rows.
    pub fn random(task: &PreparedTask, rng: &mut StdRng) -> Self {
        let d = task.cols;
        let keep = rng.random_range(d.div_ceil(2).max(1)..=d);
        let mut cols: Vec<usize> = (0..d).collect();
        cols.shuffle(rng);
        cols.truncate(keep);
        cols.sort_unstable();
        let mut present: Vec<usize> = (0..task.n_classes())
            .filter(|c| task.train.y.contains(c))
            .collect();
        if present.len() > 2 {
            present.shuffle(rng);
            let k = rng.random_range(2..=present.len());
            present.truncate(k);
            present.sort_unstable();
        }
        Self {
            cols,
            classes: present,
        }
    }

    fn label(&self, y: usize) -> Option<usize> {
        self.classes.iter().position(|&c| c == y)
    }

    /// Rows of `split` whose class is kept.
    pub fn rows(&self, split: &SplitData) -> Vec<usize> {
        (0..split.rows())
            .filter(|&r| self.label(split.y[r]).is_some())
            .collect()
    }

    /// The kept columns of `rows` and their remapped labels (row-major `[rows, cols.len()]`).
    pub fn gather(
        &self,
        split: &SplitData,
        n_cols: usize,
        rows: &[usize],
    ) -> (Vec<f32>, Vec<usize>) {
        let mut x = Vec::with_capacity(rows.len() * self.cols.len());
        let mut y = Vec::with_capacity(rows.len());
        for &r in rows {
            let row = &split.x[r * n_cols..(r + 1) * n_cols];
            x.extend(self.cols.iter().map(|&j| row[j]));
            // Callers pass rows from `self.rows`, whose labels are kept.
            y.push(self.label(split.y[r]).unwrap_or(0));
        }
        (x, y)
    }

    /// Builds the hypernetwork input for this view from requirement `req` and the statistics of
    /// `sample_rows` of the training split.
    ///
    /// # Errors
    /// Sample errors (empty sample).
    pub fn context(
        &self,
        task: &PreparedTask,
        req: usize,
        sample_rows: &[usize],
        device: &Device,
    ) -> Result<TaskContext> {
        let (x, y) = self.gather(&task.train, task.cols, sample_rows);
        let all: Vec<usize> = (0..y.len()).collect();
        let sample = TaskSample::from_rows(&x, self.cols.len(), &y, &all, self.classes.len())?;
        let e = task.embed_dim;
        let feat: Vec<f32> = self
            .cols
            .iter()
            .flat_map(|&j| task.feat_emb[j * e..(j + 1) * e].iter().copied())
            .collect();
        let lab: Vec<f32> = self
            .classes
            .iter()
            .flat_map(|&c| task.label_emb[c * e..(c + 1) * e].iter().copied())
            .collect();
        Ok(build_context(
            task.requirement_embedding(req, device),
            &feat,
            &lab,
            e,
            &sample,
            device,
        ))
    }
}
