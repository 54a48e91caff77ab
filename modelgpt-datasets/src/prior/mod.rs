//! A synthetic prior over tabular classification tasks, for meta-training a hypernetwork that
//! writes classifiers for any table (in the spirit of the TabPFN prior, Hollmann et al., 2023,
//! and of MotherNet, Müller et al., 2023, which meta-train on such draws).
//!
//! [`TaskPrior::task`]`(index)` draws one task, a [`PriorTask`]: a
//! [`TabularDataset`] in exactly `modelgpt-core`'s representation (numeric columns with `NaN` for
//! missing cells, categorical columns with sorted levels and `None` for missing codes), so that
//! [`TabularPreprocessor`](modelgpt_core::data::TabularPreprocessor) imputes and one-hot encodes
//! it as it does real data, plus requirement sentences and what the draw was made of.
//!
//! ```
//! use modelgpt_datasets::prior::{PriorConfig, TaskPrior};
//!
//! let prior = TaskPrior::new(PriorConfig::default())?;
//! let task = prior.task(0);
//! assert_eq!(task.dataset.name, "prior-0");
//! assert!(task.dataset.class_counts().iter().all(|&c| c >= 2));
//! assert_eq!(task.requirements.len(), 3);
//! // Random access: the same index gives the same task.
//! let again = prior.task(0);
//! assert_eq!((again.kind, &again.dataset.targets), (task.kind, &task.dataset.targets));
//! assert_eq!(again.requirements, task.requirements);
//! # Ok::<(), modelgpt_datasets::Error>(())
//! ```
//!
//! # Determinism
//!
//! A task depends only on `(config, index)`: its generator is seeded with a hash of
//! [`PriorConfig::seed`] and the index, and the generator (xoshiro256++ seeded through
//! SplitMix64) is part of this module, so the stream does not change with `rand` releases. A
//! resumed meta-training run continues with [`TaskPrior::stream`]`(next_index)`; tasks can also
//! be drawn in parallel, in any order. Tasks are bit-identical for the same build on the same
//! platform; `exp`, `ln`, `sin`, `tanh` and friends come from the platform's math library, so
//! another libm may change the last bits of some values (and, rarely, a label at a cut point).
//! [`PRIOR_VERSION`] changes whenever a code change alters the draws.
//!
//! # How a task is drawn
//!
//! 1. **Kind**, by [`KindWeights`] (see [`PriorKind`]).
//! 2. **Classes** `k` in `min_classes..=max_classes` (capped at `max_rows / 2`), skewed towards
//!    few: `min_classes` with probability 0.3 (0.7 for [`PriorKind::Boolean`]), otherwise
//!    `min + ⌊(max − min + 1)·u²⌋` for a uniform `u`, so about one task in ten of the default
//!    prior has 20 classes or more. Boolean tasks have at most 8 classes (or `min_classes`).
//! 3. **Rows** log-uniform in `[max(min_rows, 5k), max_rows]` (`5k` capped at `max_rows`), and
//!    **columns** (raw columns, before one-hot encoding) log-uniform in
//!    `min_features..=max_features`.
//! 4. **Pure-noise columns**: with probability `p_irrelevant`, a fraction of 10–70 % of the
//!    columns (at least one column stays informative) are drawn independently of everything from
//!    varied marginals (normal, uniform, log-normal, exponential, bimodal, Laplace, integer,
//!    binary).
//! 5. **Mechanism**: the kind makes the other `n_informative` columns and the labels. All kinds
//!    but [`PriorKind::MlpScm`] compute on a few *driver* columns (drawn from varied marginals)
//!    and fill the remaining informative columns with noisy mixes of one or two drivers, so that
//!    every informative column carries information (redundant, correlated measurements, as in
//!    real tables).
//! 6. **Labels** from real-valued scores are quantile cuts of one score at imbalanced, random
//!    proportions (class 0 lowest), *bands* of one score (`k + 1` to `2k` quantile bands, so a
//!    class holds several ranges: a non-monotone label), or the argmax of one score per class plus
//!    random biases (for up to 10 classes); trees and boolean rules give classes directly; Gaussian
//!    mixtures draw the label first. With probability `p_label_noise` a fraction up to
//!    `max_label_noise` of the rows get a uniformly redrawn label.
//! 7. **Every class has at least two rows**: quantile cuts and mixtures reserve two rows per
//!    class; an argmax gives a rare class the rows whose score for it comes closest; after that
//!    (trees, boolean rules, label noise) random rows of the largest class are re-assigned to any
//!    class still short ([`PriorTask::reassigned`] counts them; at most `2k`, usually 0). So no
//!    task is a single class.
//! 8. **Marginals**: continuous informative columns other than drivers (whose marginals were
//!    drawn on purpose) get a random monotone warp half of the time (log-normal skew, integer
//!    rounding, censoring at a quantile, signed power); every column then gets random units (scale `10^U(−2, 3.5)`, offset, often rounded to about three
//!    significant digits). Columns are shuffled, so noise columns sit among informative ones.
//! 9. **Categorical columns**: with probability `p_categorical`, 10–60 % of the columns are
//!    binned into 2–8 levels (one level per value for flags and small counts; random quantile
//!    cuts otherwise) named from a level set (`color`: red, green, ...; `region`; `grade`;
//!    `material`; ...), bins mapped to names at random, levels stored sorted.
//! 10. **Missing values**: with probability `p_missing`, 10–100 % of the columns lose cells, at
//!     a task rate drawn up to `max_missing_rate` (each column 30–100 % of it): completely at
//!     random, or for a third of numeric columns mostly above a random quantile (missing not at
//!     random).
//! 11. **Names**: feature names come from one of six domain vocabularies (health, finance,
//!     machines, ecology, web shop, shapes), then other domains' words, then numbered names
//!     (`sensor 12`); 15 % of tasks are anonymous (`x1`, `V7`, ...). Categorical columns are
//!     named after their level set. Labels are word pairs for two classes (`benign` /
//!     `malignant`, `no` / `yes`), word lists (`low, medium, high`, seasons, colours, Greek
//!     letters, `A`–`Z`) or numbered (`class 7`, `group 3`). All names are distinct within a
//!     task; the data set is called `prior-{index}`.
//! 12. **Requirements**: [`PriorConfig::n_requirements`] sentences from
//!     [`TemplateWriter::pool`] on the task's [`DataProfile`](modelgpt_core::DataProfile), with
//!     the profile's task named after the target (`credit risk`, `species`, `machine state`,
//!     ...), so they name the class count, some labels and some features.
//!
//! # The kinds
//!
//! - [`PriorKind::MlpScm`]: a random sparse MLP as a structural causal model: 1–16 latent causes,
//!   1–4 layers of 8–64 nodes (widened when needed), each node a weighted sum of 1–12 parents,
//!   standardized, scaled and shifted, through a tanh / ReLU / identity / sin / abs activation,
//!   plus Gaussian noise of a random level. The class comes from a node with enough signal (cut
//!   at quantiles or into bands) or from one node per class (argmax); the features are other
//!   nodes, drawn with weights that fall with the graph distance to the target (its causes,
//!   effects and siblings first). Many of these tasks are close to linear, as in real data.
//! - [`PriorKind::SmoothFunction`]: a GP-like random function of 1–16 drivers from random
//!   Fourier features (length scale 0.4–3 on standardized inputs, per-driver relevance,
//!   interactions of order 1–3, sometimes a linear part).
//! - [`PriorKind::Tree`]: a random axis-aligned tree of depth 2–6 (at least `⌈log₂ k⌉`) with
//!   thresholds at random quantiles and classes on the leaves, or a sum of 2–6 trees (a step
//!   function) cut at quantiles.
//! - [`PriorKind::Boolean`]: 2–8 binary or ternary inputs and `⌈log₂ k⌉` random rules (DNF,
//!   parity, weighted threshold) whose bits code the class; other columns are noisy copies.
//! - [`PriorKind::GaussianMixture`]: each class 1–3 Gaussian blobs with random (or shared)
//!   covariances in 2–10 dimensions; some tasks are linear, most are not.
//!
//! [`PriorTask::description`] records the drawn hyper-parameters of each task.
//!
//! # Cost
//!
//! Drawing a task is cheap and single-threaded. A 2,000-row, 100-column task took 4–5 ms on
//! average with the default kind mix on one core of the 2-core development machine (release
//! build, machine shared with another build; per kind: boolean 2.1–2.9 ms, tree and Gaussian
//! mixture 3–3.9 ms, smooth function 3.8–5.2 ms, MLP-SCM 5–8.5 ms; measured by the ignored test
//! `time_to_draw_a_2000_by_100_task` in `tests/prior.rs`). Tasks of the default configuration
//! (rows and columns log-uniform) average about 0.7 ms. A meta-training loop can draw a fresh
//! task per step, or draw them on another thread.

use modelgpt_core::data::{Column, ColumnValues, TabularDataset};
use modelgpt_llm::TemplateWriter;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

mod corrupt;
mod inputs;
mod kinds;
mod labels;
mod names;
mod rng;

use inputs::{Marginal, units, warp};
use kinds::{Mechanism, Shape};
use labels::{MIN_PER_CLASS, add_label_noise, ensure_min_count};
use rng::{TaskRng, task_seed};

/// Version of the draw: bumped whenever the task drawn for a given `(config, index)` changes, so
/// a resumed meta-training run (or a cache of prepared tasks) can tell that the stream it started
/// on is no longer the one it would continue.
pub const PRIOR_VERSION: u32 = 1;

/// Most classes of a [`PriorKind::Boolean`] task (unless `min_classes` is larger).
const BOOLEAN_MAX_CLASSES: usize = 8;

/// Largest `max_features` a configuration may ask for.
pub const FEATURES_LIMIT: usize = 10_000;
/// Largest `max_classes` a configuration may ask for.
pub const CLASSES_LIMIT: usize = 1_000;
/// Largest `max_rows × max_features` a configuration may ask for (cells of the largest task).
pub const CELLS_LIMIT: usize = 50_000_000;

/// The mechanism that makes a task's informative columns and labels (see the [module
/// docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriorKind {
    /// A random sparse MLP as a structural causal model (TabPFN style).
    MlpScm,
    /// A smooth random function (random Fourier features) of a few drivers.
    SmoothFunction,
    /// A random decision tree, or a sum of a few, over a few drivers.
    Tree,
    /// Random boolean rules over binary or ternary inputs.
    Boolean,
    /// Classes as mixtures of Gaussian blobs.
    GaussianMixture,
}

impl PriorKind {
    /// Every kind, in declaration order.
    pub const ALL: [PriorKind; 5] = [
        PriorKind::MlpScm,
        PriorKind::SmoothFunction,
        PriorKind::Tree,
        PriorKind::Boolean,
        PriorKind::GaussianMixture,
    ];

    /// Snake-case name (`mlp_scm`, `smooth_function`, `tree`, `boolean`, `gaussian_mixture`), as
    /// in serialized configurations.
    pub fn as_str(&self) -> &'static str {
        match self {
            PriorKind::MlpScm => "mlp_scm",
            PriorKind::SmoothFunction => "smooth_function",
            PriorKind::Tree => "tree",
            PriorKind::Boolean => "boolean",
            PriorKind::GaussianMixture => "gaussian_mixture",
        }
    }
}

impl core::fmt::Display for PriorKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Mixture weights of the [`PriorKind`]s (non-negative, not all zero; they need not sum to 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KindWeights {
    /// Weight of [`PriorKind::MlpScm`]; default 0.35.
    pub mlp_scm: f64,
    /// Weight of [`PriorKind::SmoothFunction`]; default 0.2.
    pub smooth_function: f64,
    /// Weight of [`PriorKind::Tree`]; default 0.2.
    pub tree: f64,
    /// Weight of [`PriorKind::Boolean`]; default 0.1.
    pub boolean: f64,
    /// Weight of [`PriorKind::GaussianMixture`]; default 0.15.
    pub gaussian_mixture: f64,
}

impl Default for KindWeights {
    fn default() -> Self {
        Self {
            mlp_scm: 0.35,
            smooth_function: 0.2,
            tree: 0.2,
            boolean: 0.1,
            gaussian_mixture: 0.15,
        }
    }
}

impl KindWeights {
    /// Weight 1 for `kind`, 0 for the others.
    ///
    /// ```
    /// use modelgpt_datasets::prior::{KindWeights, PriorKind};
    /// let w = KindWeights::only(PriorKind::Tree);
    /// assert_eq!((w.get(PriorKind::Tree), w.get(PriorKind::MlpScm)), (1.0, 0.0));
    /// ```
    pub fn only(kind: PriorKind) -> Self {
        let mut w = Self {
            mlp_scm: 0.0,
            smooth_function: 0.0,
            tree: 0.0,
            boolean: 0.0,
            gaussian_mixture: 0.0,
        };
        *w.get_mut(kind) = 1.0;
        w
    }

    /// The weight of `kind`.
    pub fn get(&self, kind: PriorKind) -> f64 {
        match kind {
            PriorKind::MlpScm => self.mlp_scm,
            PriorKind::SmoothFunction => self.smooth_function,
            PriorKind::Tree => self.tree,
            PriorKind::Boolean => self.boolean,
            PriorKind::GaussianMixture => self.gaussian_mixture,
        }
    }

    fn get_mut(&mut self, kind: PriorKind) -> &mut f64 {
        match kind {
            PriorKind::MlpScm => &mut self.mlp_scm,
            PriorKind::SmoothFunction => &mut self.smooth_function,
            PriorKind::Tree => &mut self.tree,
            PriorKind::Boolean => &mut self.boolean,
            PriorKind::GaussianMixture => &mut self.gaussian_mixture,
        }
    }
}

/// What a [`TaskPrior`] draws: ranges of the task sizes, how often tasks have categorical
/// columns, missing values, noise columns and label noise, and the mix of kinds.
///
/// Every field has a default ([`PriorConfig::default`]); in JSON, missing fields take it and
/// unknown fields are an error. [`TaskPrior::new`] checks the values.
///
/// ```
/// use modelgpt_datasets::prior::PriorConfig;
/// let config: PriorConfig = serde_json::from_str(r#"{"seed": 7, "max_classes": 10}"#)?;
/// assert_eq!((config.seed, config.max_classes, config.max_rows), (7, 10, 2000));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PriorConfig {
    /// Seed of the whole stream; default 0.
    pub seed: u64,
    /// Fewest raw columns (before one-hot encoding), at least 1; default 2.
    pub min_features: usize,
    /// Most raw columns, at most [`FEATURES_LIMIT`]; default 100.
    pub max_features: usize,
    /// Fewest classes, at least 2; default 2.
    pub min_classes: usize,
    /// Most classes, at most [`CLASSES_LIMIT`]; default 26. Tasks have at most
    /// `max_rows / 2` classes, so that each class has two rows.
    pub max_classes: usize,
    /// Fewest rows, at least 1; default 32. A task with `k` classes has at least
    /// `min(5k, max_rows)` rows.
    pub min_rows: usize,
    /// Most rows, at least `2 * min_classes`; default 2000.
    pub max_rows: usize,
    /// Chance that a task has categorical columns (then 10–60 % of its columns, 2–8 levels
    /// each); default 0.3.
    pub p_categorical: f64,
    /// Chance that a task has missing values (then in 10–100 % of its columns); default 0.3.
    pub p_missing: f64,
    /// Highest task missing rate, in `[0, 0.5]`; default 0.2.
    pub max_missing_rate: f64,
    /// Chance that a task has pure-noise columns (then 10–70 % of its columns); default 0.4.
    pub p_irrelevant: f64,
    /// Chance that a task has label noise; default 0.3.
    pub p_label_noise: f64,
    /// Highest fraction of rows whose label is redrawn uniformly, in `[0, 0.5]`; default 0.1.
    pub max_label_noise: f64,
    /// Requirement sentences per task; default 3.
    pub n_requirements: usize,
    /// Mixture weights of the kinds.
    pub weights: KindWeights,
}

impl Default for PriorConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            min_features: 2,
            max_features: 100,
            min_classes: 2,
            max_classes: 26,
            min_rows: 32,
            max_rows: 2000,
            p_categorical: 0.3,
            p_missing: 0.3,
            max_missing_rate: 0.2,
            p_irrelevant: 0.4,
            p_label_noise: 0.3,
            max_label_noise: 0.1,
            n_requirements: 3,
            weights: KindWeights::default(),
        }
    }
}

impl PriorConfig {
    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the range of raw columns.
    pub fn with_features(mut self, min: usize, max: usize) -> Self {
        (self.min_features, self.max_features) = (min, max);
        self
    }

    /// Sets the range of classes.
    pub fn with_classes(mut self, min: usize, max: usize) -> Self {
        (self.min_classes, self.max_classes) = (min, max);
        self
    }

    /// Sets the range of rows.
    pub fn with_rows(mut self, min: usize, max: usize) -> Self {
        (self.min_rows, self.max_rows) = (min, max);
        self
    }

    /// Sets the kind weights.
    pub fn with_weights(mut self, weights: KindWeights) -> Self {
        self.weights = weights;
        self
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first offending field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &'static str, reason: String| Err(Error::InvalidConfig { field, reason });
        if self.min_features == 0 {
            return bad("min_features", "must be at least 1".into());
        }
        if self.max_features < self.min_features {
            return bad(
                "max_features",
                format!(
                    "{} is below min_features = {}",
                    self.max_features, self.min_features
                ),
            );
        }
        if self.max_features > FEATURES_LIMIT {
            return bad(
                "max_features",
                format!("{} exceeds the limit {FEATURES_LIMIT}", self.max_features),
            );
        }
        if self.min_classes < 2 {
            return bad(
                "min_classes",
                format!(
                    "{} is below 2 (classification needs two classes)",
                    self.min_classes
                ),
            );
        }
        if self.max_classes < self.min_classes {
            return bad(
                "max_classes",
                format!(
                    "{} is below min_classes = {}",
                    self.max_classes, self.min_classes
                ),
            );
        }
        if self.max_classes > CLASSES_LIMIT {
            return bad(
                "max_classes",
                format!("{} exceeds the limit {CLASSES_LIMIT}", self.max_classes),
            );
        }
        if self.min_rows == 0 {
            return bad("min_rows", "must be at least 1".into());
        }
        if self.max_rows < self.min_rows {
            return bad(
                "max_rows",
                format!("{} is below min_rows = {}", self.max_rows, self.min_rows),
            );
        }
        if self.max_rows < MIN_PER_CLASS * self.min_classes {
            return bad(
                "max_rows",
                format!(
                    "{} rows cannot hold {MIN_PER_CLASS} rows of each of min_classes = {} classes",
                    self.max_rows, self.min_classes
                ),
            );
        }
        if self.max_rows.saturating_mul(self.max_features) > CELLS_LIMIT {
            return bad(
                "max_rows",
                format!(
                    "max_rows × max_features = {} × {} exceeds the limit of {CELLS_LIMIT} cells",
                    self.max_rows, self.max_features
                ),
            );
        }
        for (field, p, hi) in [
            ("p_categorical", self.p_categorical, 1.0),
            ("p_missing", self.p_missing, 1.0),
            ("max_missing_rate", self.max_missing_rate, 0.5),
            ("p_irrelevant", self.p_irrelevant, 1.0),
            ("p_label_noise", self.p_label_noise, 1.0),
            ("max_label_noise", self.max_label_noise, 0.5),
        ] {
            if !(0.0..=hi).contains(&p) {
                return bad(field, format!("{p} is not in [0, {hi}]"));
            }
        }
        let w = &self.weights;
        if let Some(kind) = PriorKind::ALL
            .into_iter()
            .find(|&k| !(w.get(k).is_finite() && w.get(k) >= 0.0))
        {
            return bad(
                "weights",
                format!(
                    "the weight of {kind} is {} (must be finite and >= 0)",
                    w.get(kind)
                ),
            );
        }
        if PriorKind::ALL.iter().map(|&k| w.get(k)).sum::<f64>() <= 0.0 {
            return bad("weights", "all kind weights are zero".into());
        }
        Ok(())
    }
}

/// One drawn task: the data set, its requirement sentences and what it was made of.
///
/// `PartialEq` compares every field; numeric cells compare as `f32`, so a task with missing
/// values (`NaN`) is not equal to itself (compare `f32::to_bits` to check determinism).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorTask {
    /// Position in the stream.
    pub index: u64,
    /// The mechanism.
    pub kind: PriorKind,
    /// The table (`name` is `prior-{index}`), in `modelgpt-core`'s representation.
    pub dataset: TabularDataset,
    /// What is predicted (`credit risk`, `species`, `outcome`, ...): the task name used for the
    /// requirements.
    pub target: String,
    /// Requirement sentences ([`PriorConfig::n_requirements`] of them).
    pub requirements: Vec<String>,
    /// Number of columns made by the mechanism; the other columns are pure noise.
    pub n_informative: usize,
    /// Per column of `dataset`: whether it is informative (made by the mechanism).
    pub informative: Vec<bool>,
    /// Number of categorical columns.
    pub n_categorical: usize,
    /// Fraction of all cells that are missing.
    pub missing_fraction: f64,
    /// Fraction of rows whose label was redrawn uniformly at random (label noise).
    pub label_noise: f64,
    /// Rows re-assigned to a class that had fewer than two (usually 0).
    pub reassigned: usize,
    /// The drawn hyper-parameters of the mechanism, in words.
    pub description: String,
}

/// The task prior: an endless, seeded, random-access stream of [`PriorTask`]s.
///
/// Built once from a checked [`PriorConfig`]; drawing never fails.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskPrior {
    config: PriorConfig,
}

impl TaskPrior {
    /// A prior drawing from `config`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the offending field (see [`PriorConfig::validate`]).
    ///
    /// ```
    /// use modelgpt_datasets::{Error, prior::{PriorConfig, TaskPrior}};
    /// let err = TaskPrior::new(PriorConfig::default().with_rows(100, 50)).unwrap_err();
    /// assert!(matches!(err, Error::InvalidConfig { field: "max_rows", .. }), "{err}");
    /// ```
    pub fn new(config: PriorConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self { config })
    }

    /// The configuration.
    pub fn config(&self) -> &PriorConfig {
        &self.config
    }

    /// Task `index` of the stream; depends only on the configuration and `index`.
    pub fn task(&self, index: u64) -> PriorTask {
        let c = &self.config;
        let mut rng = TaskRng::new(task_seed(c.seed, index));
        let mut mech_rng = rng.fork();
        let mut cell_rng = rng.fork();
        let mut name_rng = rng.fork();
        let requirement_seed = rng.next_u64();

        let weights: Vec<f64> = PriorKind::ALL.iter().map(|&k| c.weights.get(k)).collect();
        let kind = PriorKind::ALL[rng.weighted(&weights)];
        let k = self.draw_classes(&mut rng, kind);
        let n = self.draw_rows(&mut rng, k);
        let d = rng.log_uniform_int(c.min_features, c.max_features);
        let n_noise = if d >= 2 && rng.bool(c.p_irrelevant) {
            ((d as f64 * rng.range(0.1, 0.7)).round() as usize).clamp(1, d - 1)
        } else {
            0
        };
        let shape = Shape {
            n,
            d: d - n_noise,
            k,
        };
        let Mechanism {
            columns: mut values,
            mut continuous,
            warpable,
            labels: mut targets,
            description,
        } = match kind {
            PriorKind::MlpScm => kinds::mlp_scm(&mut mech_rng, shape),
            PriorKind::SmoothFunction => kinds::smooth_function(&mut mech_rng, shape),
            PriorKind::Tree => kinds::tree(&mut mech_rng, shape),
            PriorKind::Boolean => kinds::boolean(&mut mech_rng, shape),
            PriorKind::GaussianMixture => kinds::gaussian_mixture(&mut mech_rng, shape),
        };
        debug_assert_eq!(values.len(), shape.d);

        let label_noise = if c.max_label_noise > 0.0 && rng.bool(c.p_label_noise) {
            rng.range(0.0, c.max_label_noise)
        } else {
            0.0
        };
        add_label_noise(&mut rng, &mut targets, k, label_noise);
        let reassigned = ensure_min_count(&mut rng, &mut targets, k);

        // Warps, noise columns, units.
        for (col, &w) in values.iter_mut().zip(&warpable) {
            if w {
                warp(&mut cell_rng, col);
            }
        }
        let mut informative = vec![true; values.len()];
        let p_discrete = if kind == PriorKind::Boolean { 0.6 } else { 0.2 };
        for _ in 0..n_noise {
            let m = Marginal::draw(&mut cell_rng, p_discrete);
            values.push(m.sample(&mut cell_rng, n));
            continuous.push(!m.is_discrete());
            informative.push(false);
        }
        for (col, &cont) in values.iter_mut().zip(&continuous) {
            units(&mut cell_rng, col, !cont);
        }
        // Shuffle the columns, so noise columns sit among informative ones.
        let mut order: Vec<usize> = (0..d).collect();
        cell_rng.shuffle(&mut order);
        let values: Vec<Vec<f32>> = order
            .iter()
            .map(|&j| std::mem::take(&mut values[j]))
            .collect();
        let informative: Vec<bool> = order.iter().map(|&j| informative[j]).collect();

        // Categorical columns.
        let mut categorical: Vec<Option<ColumnValues>> = vec![None; d];
        let mut set_names: Vec<Option<&'static str>> = vec![None; d];
        if rng.bool(c.p_categorical) {
            let want = ((d as f64 * rng.range(0.1, 0.6)).round() as usize).clamp(1, d);
            for j in cell_rng.sample_indices(d, want) {
                if let Some(cat) = corrupt::to_categorical(&mut cell_rng, &values[j]) {
                    categorical[j] = Some(cat.values);
                    set_names[j] = Some(cat.set_name);
                }
            }
        }
        let mut column_values: Vec<ColumnValues> = values
            .into_iter()
            .zip(categorical)
            .map(|(v, cat)| cat.unwrap_or(ColumnValues::Numeric(v)))
            .collect();

        // Missing values.
        let mut missing = 0usize;
        if c.max_missing_rate > 0.0 && rng.bool(c.p_missing) {
            let top = rng.range((0.02f64).min(c.max_missing_rate), c.max_missing_rate);
            let cols = ((d as f64 * rng.range(0.1, 1.0)).round() as usize).clamp(1, d);
            for j in cell_rng.sample_indices(d, cols) {
                let rate = top * cell_rng.range(0.3, 1.0);
                missing += corrupt::blank_out(&mut cell_rng, &mut column_values[j], rate);
            }
        }

        // Names.
        let (feature_names, domain) = names::feature_names(&mut name_rng, &set_names);
        let target = names::target_name(&mut name_rng, domain);
        let label_names = names::label_names(&mut name_rng, k);
        let columns: Vec<Column> = feature_names
            .into_iter()
            .zip(column_values)
            .map(|(name, values)| Column { name, values })
            .collect();
        let n_categorical = columns.iter().filter(|c| !c.values.is_numeric()).count();
        let dataset = TabularDataset {
            name: format!("prior-{index}"),
            columns,
            targets,
            label_names,
        };

        let mut profile = dataset.profile(0, requirement_seed);
        profile.task.name = target.clone();
        let requirements = TemplateWriter::new()
            .pool(&profile, c.n_requirements, requirement_seed)
            .into_iter()
            .map(|r| r.into_string())
            .collect();

        PriorTask {
            index,
            kind,
            dataset,
            target,
            requirements,
            n_informative: d - n_noise,
            informative,
            n_categorical,
            missing_fraction: missing as f64 / (n * d) as f64,
            label_noise,
            reassigned,
            description,
        }
    }

    /// The tasks `start, start + 1, ...` (ending after index `u64::MAX`).
    ///
    /// ```
    /// use modelgpt_datasets::prior::{PriorConfig, TaskPrior};
    /// let prior = TaskPrior::new(PriorConfig::default().with_rows(32, 100))?;
    /// let mut stream = prior.stream(10);
    /// let first = stream.next().expect("endless");
    /// assert_eq!(first.index, 10);
    /// assert_eq!(stream.next_index(), Some(11)); // where a resumed run continues
    /// # Ok::<(), modelgpt_datasets::Error>(())
    /// ```
    pub fn stream(&self, start: u64) -> PriorStream<'_> {
        PriorStream {
            prior: self,
            next: Some(start),
        }
    }

    fn draw_classes(&self, rng: &mut TaskRng, kind: PriorKind) -> usize {
        let c = &self.config;
        let lo = c.min_classes;
        let mut hi = c.max_classes.min(c.max_rows / MIN_PER_CLASS);
        if kind == PriorKind::Boolean {
            // A few discrete inputs cannot tell many classes apart.
            hi = hi.min(BOOLEAN_MAX_CLASSES).max(lo);
        }
        let p_fewest = if kind == PriorKind::Boolean { 0.7 } else { 0.3 };
        if hi <= lo || rng.bool(p_fewest) {
            return lo;
        }
        let u = rng.uniform();
        (lo + ((hi - lo + 1) as f64 * u * u) as usize).min(hi)
    }

    fn draw_rows(&self, rng: &mut TaskRng, k: usize) -> usize {
        let c = &self.config;
        let lo = c
            .min_rows
            .max((5 * k).min(c.max_rows))
            .max(MIN_PER_CLASS * k);
        rng.log_uniform_int(lo, c.max_rows)
    }
}

/// The iterator of [`TaskPrior::stream`].
#[derive(Debug, Clone)]
pub struct PriorStream<'a> {
    prior: &'a TaskPrior,
    next: Option<u64>,
}

impl PriorStream<'_> {
    /// The index of the task the next call to `next` returns (`None` past `u64::MAX`): where a
    /// resumed run continues.
    pub fn next_index(&self) -> Option<u64> {
        self.next
    }
}

impl Iterator for PriorStream<'_> {
    type Item = PriorTask;

    fn next(&mut self) -> Option<PriorTask> {
        let i = self.next?;
        self.next = i.checked_add(1);
        Some(self.prior.task(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_autotraits<T: Send + Sync + Sized + Unpin>() {}

    #[test]
    fn public_types_are_send_sync() {
        has_autotraits::<TaskPrior>();
        has_autotraits::<PriorTask>();
        has_autotraits::<PriorConfig>();
        has_autotraits::<PriorStream<'static>>();
        has_autotraits::<PriorKind>();
        has_autotraits::<KindWeights>();
    }

    #[test]
    fn every_kind_makes_consistent_tasks() {
        for kind in PriorKind::ALL {
            let prior = TaskPrior::new(
                PriorConfig::default()
                    .with_weights(KindWeights::only(kind))
                    .with_rows(32, 400),
            )
            .unwrap();
            for i in 0..40 {
                let t = prior.task(i);
                let ds = &t.dataset;
                assert_eq!(t.kind, kind);
                assert!(ds.columns.iter().all(|c| c.values.len() == ds.n_rows()));
                assert!(ds.targets.iter().all(|&y| y < ds.n_classes()));
                assert!(
                    ds.class_counts().iter().all(|&c| c >= MIN_PER_CLASS),
                    "{t:?}"
                );
                assert_eq!(t.informative.len(), ds.n_features());
                assert_eq!(
                    t.informative.iter().filter(|&&b| b).count(),
                    t.n_informative
                );
                for c in &ds.columns {
                    match &c.values {
                        ColumnValues::Numeric(v) => {
                            assert!(v.iter().all(|x| x.is_nan() || x.is_finite()), "{}", c.name)
                        }
                        ColumnValues::Categorical { levels, codes } => {
                            assert!(levels.windows(2).all(|w| w[0] < w[1]));
                            assert!(codes.iter().flatten().all(|&c| (c as usize) < levels.len()));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn validation_names_the_field() {
        let field = |c: PriorConfig| match TaskPrior::new(c) {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        let d = PriorConfig::default;
        assert_eq!(field(d().with_features(0, 3)), "min_features");
        assert_eq!(field(d().with_features(5, 3)), "max_features");
        assert_eq!(
            field(d().with_features(1, FEATURES_LIMIT + 1)),
            "max_features"
        );
        assert_eq!(field(d().with_classes(1, 3)), "min_classes");
        assert_eq!(field(d().with_classes(4, 3)), "max_classes");
        assert_eq!(field(d().with_rows(0, 3)), "min_rows");
        assert_eq!(field(d().with_rows(10, 5)), "max_rows");
        assert_eq!(field(d().with_classes(5, 8).with_rows(4, 9)), "max_rows");
        let mut c = d();
        c.p_missing = 1.5;
        assert_eq!(field(c), "p_missing");
        let mut c = d();
        c.max_label_noise = f64::NAN;
        assert_eq!(field(c), "max_label_noise");
        let mut c = d();
        c.weights.tree = -1.0;
        assert_eq!(field(c), "weights");
        assert_eq!(
            field(d().with_weights(KindWeights {
                mlp_scm: 0.0,
                smooth_function: 0.0,
                tree: 0.0,
                boolean: 0.0,
                gaussian_mixture: 0.0
            })),
            "weights"
        );
    }
}
