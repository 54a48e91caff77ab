//! The `ModelGpt` facade: requirement and/or data sample in, tailored model out.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use modelgpt_core::data::{CsvTable, TabularDataset, TabularPreprocessor};
use modelgpt_core::{Requirement, RequirementEncoder, TargetFamily};
use modelgpt_targets::train::{
    EpochStats, LabeledRows, TrainConfig, TrainOutcome, predict, train_classifier,
};
use modelgpt_targets::{Mlp, MlpFamily};
use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::embed_cache::EmbeddingCache;
use crate::error::{Error, Result};
use crate::hypernet::{HyperNet, HyperNetConfig, to_params};
use crate::meta::load_weights;
use crate::sample::TaskSample;
use crate::tasks::{build_context, feature_text};

/// Builder of a [`ModelGpt`]; validation happens once, in [`build`](Self::build).
#[derive(Debug, Default)]
pub struct ModelGptBuilder {
    encoder: Option<Box<dyn RequirementEncoder>>,
    hypernet: Option<(HyperNet, HyperNetConfig)>,
    checkpoint: Option<PathBuf>,
}

impl ModelGptBuilder {
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

    /// Loads the hypernetwork from a meta-training checkpoint folder (`state.json` +
    /// `hypernet.safetensors`).
    pub fn checkpoint(mut self, dir: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(dir.into());
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the encoder or hypernetwork is missing or their widths
    /// disagree; checkpoint loading errors.
    pub fn build(self, device: &Device) -> Result<ModelGpt> {
        let encoder = self.encoder.ok_or(Error::InvalidConfig {
            field: "encoder",
            reason: "a requirement encoder is required".into(),
        })?;
        let (hyper, config) = match (self.hypernet, self.checkpoint) {
            (Some(h), _) => h,
            (None, Some(dir)) => {
                let config = read_checkpoint_config(&dir)?;
                let hyper = load_weights(config.init(device), &dir.join("hypernet.safetensors"))?;
                (hyper, config)
            }
            (None, None) => {
                return Err(Error::InvalidConfig {
                    field: "hypernet",
                    reason: "give a trained hypernetwork or a checkpoint folder".into(),
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
        Ok(ModelGpt {
            encoder,
            hyper,
            config,
            device: device.clone(),
            cache: Mutex::new(EmbeddingCache::new()),
        })
    }
}

fn read_checkpoint_config(dir: &Path) -> Result<HyperNetConfig> {
    #[derive(Deserialize)]
    struct State {
        hypernet: HyperNetConfig,
    }
    let path = dir.join("state.json");
    let bytes = std::fs::read(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    let state: State =
        serde_json::from_slice(&bytes).map_err(|source| Error::Json { path, source })?;
    Ok(state.hypernet)
}

/// Requirement + sample in, tailored MLP out, in one hypernetwork forward pass.
#[derive(Debug)]
pub struct ModelGpt {
    encoder: Box<dyn RequirementEncoder>,
    hyper: HyperNet,
    config: HyperNetConfig,
    device: Device,
    cache: Mutex<EmbeddingCache>,
}

/// Timings of one generation, milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerationTiming {
    /// Preprocessing fit and sample statistics.
    pub prepare_ms: f64,
    /// Encoding the requirement, feature names and label names (cached strings are free).
    pub encode_ms: f64,
    /// The hypernetwork forward pass and materialisation.
    pub hypernet_ms: f64,
}

impl GenerationTiming {
    /// Sum of all parts.
    pub fn total_ms(&self) -> f64 {
        self.prepare_ms + self.encode_ms + self.hypernet_ms
    }
}

impl ModelGpt {
    /// A builder.
    pub fn builder() -> ModelGptBuilder {
        ModelGptBuilder::default()
    }

    /// The hypernetwork configuration.
    pub fn config(&self) -> &HyperNetConfig {
        &self.config
    }

    /// The device models are generated on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Generates an MLP for the labelled `sample` described by `requirement`.
    ///
    /// The preprocessing (impute, one-hot, standardise) is fitted on `sample`; the general
    /// hypernetwork reads the sample's statistics; paper mode serves only its training tasks,
    /// matched by `sample.name`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a sample with fewer than 2 classes; preprocessing and encoder
    /// errors; [`Error::UnseenTask`] in paper mode.
    pub fn generate(
        &self,
        sample: &TabularDataset,
        requirement: &Requirement,
    ) -> Result<TailoredModel> {
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
        let rows: Vec<usize> = (0..sample.n_rows()).collect();
        let pre = TabularPreprocessor::fit(sample, &rows)?;
        let m = pre.transform(sample, &rows)?;
        let stats = TaskSample::from_rows(&m.data, m.cols, &sample.targets, &rows, k)?;
        let t1 = Instant::now();
        let e = self.encoder.embed_dim();
        let (req, feat, lab) = {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            let req = cache.embed(
                self.encoder.as_ref(),
                &[requirement.as_str().to_string()],
                &self.device,
            )?;
            let names: Vec<String> = pre.output_names().iter().map(|n| feature_text(n)).collect();
            let feat = cache.embed(self.encoder.as_ref(), &names, &self.device)?;
            let lab = cache.embed(self.encoder.as_ref(), &sample.label_names, &self.device)?;
            (req, feat, lab)
        };
        let t2 = Instant::now();
        let req = Tensor::<2>::from_data(TensorData::new(req, [1, e]), &self.device);
        let ctx = build_context(req, &feat, &lab, e, &stats, &self.device);
        let mlp = self.generate_from_context(&sample.name, &ctx, m.cols, k)?;
        let t3 = Instant::now();
        let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
        Ok(TailoredModel {
            mlp,
            meta: TailoredMeta {
                requirement: requirement.as_str().to_string(),
                labels: sample.label_names.clone(),
                preprocessor: pre,
            },
            timing: GenerationTiming {
                prepare_ms: ms(t0, t1),
                encode_ms: ms(t1, t2),
                hypernet_ms: ms(t2, t3),
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
        ctx: &crate::general::TaskContext,
        d_input: usize,
        n_classes: usize,
    ) -> Result<Mlp> {
        let tensors = self.hyper.generate_tensors(name, ctx)?;
        let family = MlpFamily::new(self.config.mlp_spec(d_input, n_classes))?;
        let params = to_params(&family, tensors)?;
        Ok(family.materialize(params, &self.device)?)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TailoredMeta {
    requirement: String,
    labels: Vec<String>,
    preprocessor: TabularPreprocessor,
}

/// A generated (and possibly finetuned) model with its preprocessing and label names.
#[derive(Debug, Clone)]
pub struct TailoredModel {
    mlp: Mlp,
    meta: TailoredMeta,
    timing: GenerationTiming,
}

const META_FILE: &str = "tailored.json";

impl TailoredModel {
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
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| Error::InvalidInput {
                what: "model output".into(),
                reason: format!("{e:?}"),
            })?;
        Ok(values.chunks(k.max(1)).map(<[f32]>::to_vec).collect())
    }

    /// Predicted label names for raw CSV rows (the label column, if present, is ignored).
    ///
    /// # Errors
    /// Missing columns or unparsable cells, naming line and column.
    pub fn predict_table(&self, table: &CsvTable) -> Result<Vec<String>> {
        let m = self.meta.preprocessor.transform_table(table)?;
        let idx = predict(&self.mlp, &m.data)?;
        Ok(idx
            .into_iter()
            .map(|i| self.meta.labels[i].clone())
            .collect())
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
    /// (requirement, labels, preprocessing), each written atomically.
    ///
    /// # Errors
    /// I/O and store errors naming the file.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        self.mlp.save(dir)?;
        let path = dir.join(META_FILE);
        let bytes = serde_json::to_vec_pretty(&self.meta).map_err(|source| Error::Json {
            path: path.clone(),
            source,
        })?;
        write_atomic(&path, &bytes)
    }

    /// Loads a model saved by [`save`](Self::save).
    ///
    /// # Errors
    /// Missing or corrupt files, naming them.
    pub fn load(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
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
