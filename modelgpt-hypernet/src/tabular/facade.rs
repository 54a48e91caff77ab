//! The tabular facade: requirement and/or data sample in, tailored model out.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use modelgpt_core::data::{CsvTable, TabularDataset, TabularPreprocessor};
use modelgpt_core::{
    GenerationTiming, Modality, ModelCustomizer, Requirement, RequirementEncoder, TailoredModel,
    TargetFamily,
};
use modelgpt_targets::train::{
    EpochStats, LabeledRows, TrainConfig, TrainOutcome, predict, train_classifier,
};
use modelgpt_targets::{Mlp, MlpArchitecture, MlpSpace};
use serde::{Deserialize, Serialize};

use super::hypernet::{HyperMode, HyperNet, HyperNetConfig};
use super::sample::TaskSample;
use super::select::{
    ArchConstraints, ArchSelector, ArchSelectorConfig, ArchitectureChoice, TaskMeta,
    select_architecture,
};
use super::tasks::{build_context, class_text, feature_text};
use crate::atomic::write_atomic;
use crate::encode::EmbeddingCache;
use crate::error::{Error, Result};

/// Most preprocessed feature columns (after one-hot encoding) a sample may have; wider tables
/// get [`Error::LimitExceeded`].
pub const MAX_FEATURES: usize = 4096;
/// Most classes a sample may have; more give [`Error::LimitExceeded`].
pub const MAX_CLASSES: usize = 1000;
/// Most rows the hypernetwork reads: a larger sample is subsampled to this many rows, class
/// proportions kept (seeded, so the same sample gives the same model); the preprocessing is still
/// fitted on every row. [`GenerationTiming::n_sample`] reports the rows read.
pub const MAX_SAMPLE_ROWS: usize = 10_000;

/// Builder of a [`TabularModelGpt`]; validation happens once, in [`build`](Self::build).
#[derive(Debug, Default)]
pub struct TabularModelGptBuilder {
    encoder: Option<Box<dyn RequirementEncoder>>,
    hypernet: Option<(HyperNet, HyperNetConfig)>,
    checkpoint: Option<PathBuf>,
    shipped: bool,
    selector: Option<(ArchSelector, ArchSelectorConfig)>,
    without_selector: bool,
}

impl TabularModelGptBuilder {
    /// The requirement encoder (e.g. `modelgpt_targets::BertRequirementEncoder`).
    pub fn encoder(mut self, encoder: Box<dyn RequirementEncoder>) -> Self {
        self.encoder = Some(encoder);
        self
    }

    /// A trained hypernetwork and its configuration.
    pub fn hypernet(mut self, hypernet: HyperNet, config: HyperNetConfig) -> Self {
        self.hypernet = Some((hypernet, config));
        self
    }

    /// Loads the hypernetwork from a checkpoint folder written by [`HyperNet::save`]
    /// (`checkpoint.json` + `hypernet.safetensors`, see [`crate::checkpoint`]).
    pub fn checkpoint(mut self, dir: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(dir.into());
        self
    }

    /// Uses the hypernetwork shipped with this crate ([`crate::shipped::tabular`]: kernel
    /// mode, end-to-end rule, meta-trained on the catalog's seen tasks and synthetic prior
    /// tasks) and, unless [`without_selector`](Self::without_selector) or another
    /// [`selector`](Self::selector) is given, the shipped architecture selector
    /// ([`crate::shipped::tabular_selector`]).
    pub fn shipped(mut self) -> Self {
        self.shipped = true;
        self
    }

    /// An architecture selector ([`crate::tabular::select`]): every generation then scores
    /// the members of its space and writes the one it picks. Needs a kernel-mode hypernetwork
    /// (the only mode that writes any member).
    pub fn selector(mut self, selector: ArchSelector, config: ArchSelectorConfig) -> Self {
        self.selector = Some((selector, config));
        self
    }

    /// No architecture selector, not even the shipped one: every generation writes the
    /// generator's default member ([`HyperNet::default_architecture`]) unless
    /// [`ArchConstraints`] ask otherwise.
    pub fn without_selector(mut self) -> Self {
        self.without_selector = true;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the encoder or hypernetwork is missing, their widths
    /// disagree, or a selector is given with a hypernetwork that is not in kernel mode or
    /// together with [`without_selector`](Self::without_selector); checkpoint loading errors.
    pub fn build(self, device: &Device) -> Result<TabularModelGpt> {
        let encoder = self.encoder.ok_or(Error::InvalidConfig {
            field: "encoder",
            reason: "a requirement encoder is required".into(),
        })?;
        let shipped = self.shipped;
        let (hyper, config) = match (self.hypernet, self.checkpoint, self.shipped) {
            (Some(h), None, false) => h,
            (None, Some(dir), false) => HyperNet::load(&dir, device)?,
            (None, None, true) => crate::shipped::tabular(device)?,
            (None, None, false) => {
                return Err(Error::InvalidConfig {
                    field: "hypernet",
                    reason: "give a trained hypernetwork, a checkpoint folder or `.shipped()`"
                        .into(),
                });
            }
            _ => {
                return Err(Error::InvalidConfig {
                    field: "hypernet",
                    reason: "give only one of a hypernetwork, a checkpoint folder and `.shipped()`"
                        .into(),
                });
            }
        };
        if config.d_embed != encoder.embed_dim() {
            return Err(Error::InvalidConfig {
                field: "d_embed",
                reason: format!(
                    "hypernetwork expects {}-wide embeddings, encoder gives {}",
                    config.d_embed,
                    encoder.embed_dim()
                ),
            });
        }
        let selector = match (self.selector, self.without_selector) {
            (Some(_), true) => {
                return Err(Error::InvalidConfig {
                    field: "selector",
                    reason: "give a selector or `without_selector()`, not both".into(),
                });
            }
            (Some(s), false) => Some(s),
            (None, false) if shipped => {
                let (s, c, _) = crate::shipped::tabular_selector(device)?;
                Some((s, c))
            }
            (None, _) => None,
        };
        if let Some((_, c)) = &selector {
            c.validate()?;
            if config.mode != HyperMode::Kernel {
                return Err(Error::InvalidConfig {
                    field: "selector",
                    reason: format!(
                        "only a kernel-mode hypernetwork writes any member of the MLP family; \
                         this one is in {} mode",
                        config.mode.as_str()
                    ),
                });
            }
            if c.d_embed != encoder.embed_dim() {
                return Err(Error::InvalidConfig {
                    field: "selector.d_embed",
                    reason: format!(
                        "the selector expects {}-wide embeddings, encoder gives {}",
                        c.d_embed,
                        encoder.embed_dim()
                    ),
                });
            }
        }
        Ok(TabularModelGpt {
            encoder,
            hyper,
            config,
            selector,
            device: device.clone(),
            cache: Mutex::new(EmbeddingCache::new().with_capacity(crate::encode::MEMO_CAPACITY)),
        })
    }
}

/// Requirement + sample in, tailored MLP out, in one hypernetwork forward pass.
#[derive(Debug)]
pub struct TabularModelGpt {
    encoder: Box<dyn RequirementEncoder>,
    hyper: HyperNet,
    config: HyperNetConfig,
    selector: Option<(ArchSelector, ArchSelectorConfig)>,
    device: Device,
    cache: Mutex<EmbeddingCache>,
}

impl TabularModelGpt {
    /// A builder.
    pub fn builder() -> TabularModelGptBuilder {
        TabularModelGptBuilder::default()
    }

    /// The hypernetwork configuration.
    pub fn config(&self) -> &HyperNetConfig {
        &self.config
    }

    /// The device models are generated on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The architecture selector and its configuration, if there is one.
    pub fn selector(&self) -> Option<(&ArchSelector, &ArchSelectorConfig)> {
        self.selector.as_ref().map(|(s, c)| (s, c))
    }

    /// The members of the MLP family generation chooses from: the selector's space, or the
    /// default [`MlpSpace`] without a selector (used to honour a `max_params` budget).
    pub fn space(&self) -> MlpSpace {
        self.selector
            .as_ref()
            .map_or_else(MlpSpace::default, |(_, c)| c.space.clone())
    }

    /// Generates an MLP for the labelled `sample` described by `requirement`, without
    /// constraints on its architecture: [`generate_with`](Self::generate_with) with
    /// [`ArchConstraints::default`].
    ///
    /// # Errors
    /// As [`generate_with`](Self::generate_with).
    pub fn generate(
        &self,
        sample: &TabularDataset,
        requirement: &Requirement,
    ) -> Result<TailoredTabularModel> {
        self.generate_with(sample, requirement, &ArchConstraints::default())
    }

    /// Generates an MLP for the labelled `sample` described by `requirement`, of the member of
    /// the MLP family `constraints` allow.
    ///
    /// Which member: a fixed `constraints.architecture` as asked; otherwise the selector's
    /// pick among the members within `constraints.max_params` (with a selector), or the
    /// generator's default member (without one; when it is over the budget, the largest member
    /// of depth ≤ 1 within it). [`TailoredTabularModel::architecture_choice`] records the
    /// decision.
    ///
    /// The preprocessing (impute, one-hot, standardise) is fitted on `sample`; the kernel and
    /// general hypernetworks read the sample's rows (at most [`MAX_SAMPLE_ROWS`], a stratified
    /// subsample beyond) and statistics; paper mode serves only its training tasks, matched by
    /// `sample.name`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a sample with fewer than 2 classes;
    /// [`Error::LimitExceeded`] beyond [`MAX_FEATURES`] or [`MAX_CLASSES`];
    /// [`Error::ConstraintUnmet`] when no member (or not the fixed one) fits `max_params`;
    /// [`Error::InvalidInput`] for a member other than the default with a general- or
    /// paper-mode hypernetwork; preprocessing and encoder errors; [`Error::UnseenTask`] in
    /// paper mode.
    pub fn generate_with(
        &self,
        sample: &TabularDataset,
        requirement: &Requirement,
        constraints: &ArchConstraints,
    ) -> Result<TailoredTabularModel> {
        let t0 = Instant::now();
        let k = sample.label_names.len();
        if k < 2 || sample.n_rows() == 0 {
            return Err(Error::InvalidInput {
                what: format!("sample `{}`", sample.name),
                reason: format!(
                    "need rows of at least 2 classes, got {} rows and {k} classes",
                    sample.n_rows()
                ),
            });
        }
        if k > MAX_CLASSES {
            return Err(Error::LimitExceeded {
                what: format!("sample `{}`", sample.name),
                value: k,
                limit: MAX_CLASSES,
                unit: "classes",
            });
        }
        let all: Vec<usize> = (0..sample.n_rows()).collect();
        let pre = TabularPreprocessor::fit(sample, &all)?;
        if pre.n_outputs() > MAX_FEATURES {
            return Err(Error::LimitExceeded {
                what: format!("sample `{}` (columns after one-hot encoding)", sample.name),
                value: pre.n_outputs(),
                limit: MAX_FEATURES,
                unit: "features",
            });
        }
        let rows = if all.len() > MAX_SAMPLE_ROWS {
            let mut r = modelgpt_core::data::sample_stratified(
                &sample.targets,
                &all,
                k,
                MAX_SAMPLE_ROWS,
                0,
            );
            r.sort_unstable();
            r
        } else {
            all
        };
        let m = pre.transform(sample, &rows)?;
        let local: Vec<usize> = (0..rows.len()).collect();
        let targets: Vec<usize> = rows.iter().map(|&r| sample.targets[r]).collect();
        let stats = TaskSample::from_rows(&m.data, m.cols, &targets, &local, k)?;
        let t1 = Instant::now();
        let e = self.encoder.embed_dim();
        let (req, feat, lab) = {
            // One batched call for the requirement, every feature name and every class name.
            let names = pre.output_names();
            let mut texts = Vec::with_capacity(1 + names.len() + k);
            texts.push(requirement.as_str().to_string());
            texts.extend(names.iter().map(|n| feature_text(n)));
            texts.extend(sample.label_names.iter().map(|n| class_text(n)));
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            let mut all = cache.embed(self.encoder.as_ref(), &texts, &self.device)?;
            let lab = all.split_off((1 + names.len()) * e);
            let feat = all.split_off(e);
            (all, feat, lab)
        };
        let t2 = Instant::now();
        let req = Tensor::<2>::from_data(TensorData::new(req, [1, e]), &self.device);
        let default = self.hyper.default_architecture(stats.rows_y.len());
        let choice = select_architecture(
            self.selector(),
            &self.space(),
            &TaskMeta::from_sample(&stats),
            req.clone(),
            default,
            constraints,
        )?;
        let ctx = build_context(req, &feat, &lab, e, &stats, &self.device);
        let mlp = self.generate_member(&sample.name, &ctx, m.cols, k, Some(choice.chosen))?;
        let t3 = Instant::now();
        let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
        Ok(TailoredTabularModel {
            mlp,
            meta: TailoredMeta {
                requirement: requirement.as_str().to_string(),
                labels: sample.label_names.clone(),
                preprocessor: pre,
                architecture: Some(choice),
            },
            timing: GenerationTiming {
                prepare_ms: ms(t0, t1),
                encode_ms: ms(t1, t2),
                hypernet_ms: ms(t2, t3),
                n_sample: rows.len(),
            },
        })
    }

    /// The hypernetwork step alone: context in, materialised MLP out.
    ///
    /// # Errors
    /// [`Error::UnseenTask`] in paper mode; shape errors.
    pub fn generate_from_context(
        &self,
        name: &str,
        ctx: &super::general::TaskContext,
        d_input: usize,
        n_classes: usize,
    ) -> Result<Mlp> {
        self.generate_member(name, ctx, d_input, n_classes, None)
    }

    /// The hypernetwork step for member `arch` (`None`: the default).
    fn generate_member(
        &self,
        name: &str,
        ctx: &super::general::TaskContext,
        d_input: usize,
        n_classes: usize,
        arch: Option<MlpArchitecture>,
    ) -> Result<Mlp> {
        let tensors = match arch {
            Some(a) => self.hyper.generate_tensors_arch(name, ctx, a)?,
            None => self.hyper.generate_tensors(name, ctx)?,
        };
        let (family, params) = self.config.family_and_params(tensors)?;
        let spec = family.mlp_spec();
        if spec.d_input != d_input || spec.n_classes != n_classes {
            return Err(Error::InvalidInput {
                what: "generated model".into(),
                reason: format!(
                    "expected {d_input} inputs and {n_classes} classes, the generator wrote {} and {}",
                    spec.d_input, spec.n_classes
                ),
            });
        }
        Ok(family.materialize(params, &self.device)?)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TailoredMeta {
    requirement: String,
    labels: Vec<String>,
    preprocessor: TabularPreprocessor,
    /// How the architecture was chosen (absent in models saved before the choice existed).
    #[serde(default)]
    architecture: Option<ArchitectureChoice>,
}

/// A generated (and possibly finetuned) model with its preprocessing and label names.
#[derive(Debug, Clone)]
pub struct TailoredTabularModel {
    mlp: Mlp,
    meta: TailoredMeta,
    timing: GenerationTiming,
}

const META_FILE: &str = "tailored.json";

/// Where [`TailoredTabularModel::save`] keeps the previous model of `dir` while replacing it.
fn backup_dir(dir: &Path) -> Option<PathBuf> {
    let name = dir.file_name()?.to_str()?;
    Some(dir.with_file_name(format!(".{name}.previous")))
}

/// Whether `dir` holds nothing but a saved model's files (and temporary files of their writes).
fn holds_only_model_files(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().all(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        name == META_FILE
            || name == modelgpt_targets::mlp::MLP_WEIGHTS_FILE
            || name == modelgpt_targets::mlp::MLP_SPEC_FILE
            || (name.starts_with('.') && name.ends_with(".tmp"))
    })
}

impl TailoredTabularModel {
    /// The MLP.
    pub fn mlp(&self) -> &Mlp {
        &self.mlp
    }

    /// The requirement it was generated from.
    pub fn requirement(&self) -> &str {
        &self.meta.requirement
    }

    /// Class names in logit order.
    pub fn labels(&self) -> &[String] {
        &self.meta.labels
    }

    /// The fitted preprocessing.
    pub fn preprocessor(&self) -> &TabularPreprocessor {
        &self.meta.preprocessor
    }

    /// How long generation took.
    pub fn timing(&self) -> GenerationTiming {
        self.timing
    }

    /// The member of the MLP family this model is (read off its layers).
    pub fn architecture(&self) -> MlpArchitecture {
        let hidden = self.mlp.spec().hidden;
        MlpArchitecture::new(hidden.len(), hidden.first().copied().unwrap_or(0))
    }

    /// Number of parameters (weights and biases).
    pub fn n_params(&self) -> usize {
        self.mlp.spec().param_spec().numel()
    }

    /// How the architecture was chosen at generation (the selector's ranking with scores, a
    /// fixed member, the default or a budget); saved with the model. `None` for models saved by
    /// versions before the choice was recorded.
    pub fn architecture_choice(&self) -> Option<&ArchitectureChoice> {
        self.meta.architecture.as_ref()
    }

    /// Logits for preprocessed rows.
    ///
    /// # Shapes
    /// `[batch, n_features]` -> `[batch, n_classes]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.mlp.forward(x)
    }

    /// Preprocesses `rows` of `data` (same columns as the sample it was generated from).
    ///
    /// # Errors
    /// Column mismatches, naming the column.
    pub fn features(&self, data: &TabularDataset, rows: &[usize]) -> Result<Vec<f32>> {
        Ok(self.meta.preprocessor.transform(data, rows)?.data)
    }

    /// Predicted class indices for `rows` of `data`.
    ///
    /// # Errors
    /// Column mismatches.
    pub fn predict(&self, data: &TabularDataset, rows: &[usize]) -> Result<Vec<usize>> {
        let x = self.features(data, rows)?;
        Ok(predict(&self.mlp, &x)?)
    }

    /// Class probabilities (softmax of the logits) for `rows` of `data`, one `Vec` per row in
    /// label order. For a freshly generated general-mode model they are the posteriors of the
    /// sample's linear-discriminant model plus the learned corrections.
    ///
    /// # Errors
    /// Column mismatches.
    pub fn predict_proba(&self, data: &TabularDataset, rows: &[usize]) -> Result<Vec<Vec<f32>>> {
        let x = self.features(data, rows)?;
        let d = self.mlp.d_input();
        let k = self.mlp.n_classes();
        let input = Tensor::<2>::from_data(TensorData::new(x, [rows.len(), d]), &self.mlp.device());
        let probs = burn::tensor::activation::softmax(self.mlp.forward(input), 1);
        let values = probs
            .try_into_data()?
            .convert::<f32>()
            .try_into_vec::<f32>()?;
        Ok(values.chunks(k.max(1)).map(<[f32]>::to_vec).collect())
    }

    /// Predicted label names for raw CSV rows (the label column, if present, is ignored).
    ///
    /// # Errors
    /// Missing columns or unparsable cells, naming line and column.
    pub fn predict_table(&self, table: &CsvTable) -> Result<Vec<String>> {
        self.predict_labels(table)
    }

    /// Accuracy on `rows` of `data`.
    ///
    /// # Errors
    /// Column mismatches.
    pub fn accuracy(&self, data: &TabularDataset, rows: &[usize]) -> Result<f64> {
        let pred = self.predict(data, rows)?;
        let hits = pred
            .iter()
            .zip(rows)
            .filter(|(p, r)| **p == data.targets[**r])
            .count();
        Ok(hits as f64 / rows.len().max(1) as f64)
    }

    /// ModelGPT-F: finetunes the generated weights on `train` rows, selecting on `valid` rows.
    ///
    /// # Errors
    /// Training errors (shapes, empty splits).
    pub fn finetune(
        &mut self,
        data: &TabularDataset,
        train: &[usize],
        valid: &[usize],
        config: &TrainConfig,
        progress: Option<&mut dyn FnMut(EpochStats)>,
    ) -> Result<TrainOutcome> {
        let xt = self.features(data, train)?;
        let yt: Vec<usize> = train.iter().map(|&r| data.targets[r]).collect();
        let xv = self.features(data, valid)?;
        let yv: Vec<usize> = valid.iter().map(|&r| data.targets[r]).collect();
        let d = self.mlp.d_input();
        let outcome = train_classifier(
            &self.mlp.spec(),
            Some(self.mlp.clone()),
            LabeledRows::new(&xt, d, &yt)?,
            LabeledRows::new(&xv, d, &yv)?,
            config,
            &self.mlp.device(),
            progress,
        )?;
        self.mlp = outcome.model.clone();
        Ok(outcome)
    }

    /// Saves the model to `dir`: `model.safetensors` + `mlp.json` (the MLP) and `tailored.json`
    /// (requirement, labels, preprocessing).
    ///
    /// Crash-safe: the three files are written into a hidden sibling folder that then replaces
    /// `dir` by renames, so after a crash (even `kill -9`) at any moment `dir` holds the old model
    /// or the new one, never a mix; [`load`](Self::load) also finds the old model in the one
    /// window where it sits in its hidden backup (`.NAME.previous`). This needs `dir` to hold
    /// only a saved model: a folder with other files in it is written file by file (each file
    /// atomically) and left in place.
    ///
    /// # Errors
    /// I/O and store errors naming the file.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io {
                path: path.clone(),
                source,
            }
        };
        let Some(name) = dir.file_name().and_then(|n| n.to_str()) else {
            return self.write_files(dir);
        };
        if dir.exists() && !holds_only_model_files(dir) {
            return self.write_files(dir);
        }
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let staging = parent.join(format!(".{name}.saving-{}-{n}", std::process::id()));
        let backup = backup_dir(dir).unwrap_or_else(|| parent.join(format!(".{name}.previous")));
        let _ = std::fs::remove_dir_all(&staging);
        let written = self.write_files(&staging).and_then(|()| {
            if dir.exists() {
                // `dir` is complete: an older backup is stale.
                if backup.exists() {
                    std::fs::remove_dir_all(&backup).map_err(io(&backup))?;
                }
                std::fs::rename(dir, &backup).map_err(io(dir))?;
            }
            std::fs::rename(&staging, dir).map_err(io(dir))
        });
        if written.is_err() {
            let _ = std::fs::remove_dir_all(&staging);
            return written;
        }
        if backup.exists() {
            let _ = std::fs::remove_dir_all(&backup);
        }
        Ok(())
    }

    fn write_files(&self, dir: &Path) -> Result<()> {
        self.mlp.save(dir)?;
        let path = dir.join(META_FILE);
        let bytes = serde_json::to_vec_pretty(&self.meta).map_err(|source| Error::Json {
            path: path.clone(),
            source,
        })?;
        write_atomic(&path, &bytes)
    }

    /// Loads a model saved by [`save`](Self::save) (from its backup when a save was interrupted
    /// between its two renames).
    ///
    /// # Errors
    /// Missing or corrupt files, naming them.
    pub fn load(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let given = dir.as_ref();
        let dir = match backup_dir(given) {
            Some(b) if !given.join(META_FILE).exists() && b.join(META_FILE).exists() => b,
            _ => given.to_path_buf(),
        };
        let dir = dir.as_path();
        let path = dir.join(META_FILE);
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let meta: TailoredMeta =
            serde_json::from_slice(&bytes).map_err(|source| Error::Json { path, source })?;
        let mlp = Mlp::load(dir, device)?;
        if mlp.n_classes() != meta.labels.len() || mlp.d_input() != meta.preprocessor.n_outputs() {
            return Err(Error::CheckpointMismatch {
                path: dir.to_path_buf(),
                reason: format!(
                    "model has {} inputs / {} classes but the metadata describes {} / {}",
                    mlp.d_input(),
                    mlp.n_classes(),
                    meta.preprocessor.n_outputs(),
                    meta.labels.len()
                ),
            });
        }
        Ok(Self {
            mlp,
            meta,
            timing: GenerationTiming::default(),
        })
    }
}

impl ModelCustomizer for TabularModelGpt {
    type Sample = TabularDataset;
    type Tailored<'a> = TailoredTabularModel;
    type Error = Error;

    fn modality(&self) -> Modality {
        Modality::Tabular
    }

    /// As [`TabularModelGpt::generate`].
    fn tailor<'a>(
        &'a self,
        sample: &TabularDataset,
        requirement: &Requirement,
    ) -> Result<TailoredTabularModel> {
        self.generate(sample, requirement)
    }
}

impl TailoredModel for TailoredTabularModel {
    /// Rows to predict on, read by column name (the label column may be absent).
    type Input = CsvTable;
    type Error = Error;

    fn requirement(&self) -> &str {
        &self.meta.requirement
    }

    fn labels(&self) -> &[String] {
        &self.meta.labels
    }

    fn timing(&self) -> GenerationTiming {
        self.timing
    }

    fn n_generated_params(&self) -> usize {
        self.n_params()
    }

    fn architecture(&self) -> String {
        TailoredTabularModel::architecture(self).name()
    }

    fn predict(&self, table: &CsvTable) -> Result<Vec<usize>> {
        let m = self.meta.preprocessor.transform_table(table)?;
        Ok(predict(&self.mlp, &m.data)?)
    }

    /// As [`TailoredTabularModel::save`].
    fn save(&self, dir: &Path) -> Result<()> {
        TailoredTabularModel::save(self, dir)
    }
}
