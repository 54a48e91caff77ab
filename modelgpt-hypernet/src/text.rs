//! Text ModelGPT: a hypernetwork that generates LoRA adapters and the classification head of a
//! frozen BERT-family encoder ([`TextLoraFamily`]) from a requirement, for any label set.
//!
//! ```text
//! r (requirement embedding) ─► LeakyReLU ─► 3 × [SN-Linear ─► LeakyReLU ─► Dropout] ─► z
//! z ─► one Linear head per LoRA tensor (shapes do not depend on the task: shared heads)
//!        A_{l,p} = head(z)                 (LoRA-style init: A random, B = 0 at start)
//!        B_{l,p} = head(z)                 (zero-initialised head)
//! class c: [P_l·label_c, P_p·proto_c, z] ─► Linear ─► LeakyReLU ─► h_c
//!        W[:, c] = s·w_c + τ·(m_l·label_c + m_p·proto_c + Δ(h_c)),   b_c = s·o_c + β(h_c)
//! ```
//!
//! `label_c` is the encoder's embedding of the class name, and the rest comes from the user's
//! labelled support texts through the frozen encoder (no LoRA), summarised by a [`TextSample`]:
//! `proto_c` is the normalised class mean, and `w_c = Σ⁻¹μ_c`, `o_c = −½μ_cᵀΣ⁻¹μ_c + ln p_c` are
//! the linear-discriminant direction and offset of class `c`, with `Σ` the pooled within-class
//! covariance shrunk with the Ledoit–Wolf intensity (as in the tabular general mode).
//!
//! One set of class-token weights serves every class count and unseen label sets (paper §2.3.2
//! uses a head per task; we go beyond it, as in the tabular general mode). The B heads and the
//! corrections start at zero and `m_l = m_p = 0`, `s = 1`, so before meta-training the generated
//! model is exactly the frozen encoder with the support sample's shrunk-LDA classifier as head.
//! Meta-training (end-to-end, the loss backpropagated through the generated tensors) learns the
//! adapters, the scales `s`, `τ`, the mix `m` and the corrections `Δ`, `β`; the best checkpoint is
//! chosen on validation accuracy, the untrained generator included.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig, Initializer, Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::leaky_relu;
use burn::tensor::{Device, Tensor, TensorData};
use modelgpt_core::GeneratedParams;
use modelgpt_targets::{BertModel, PrefixFeatures, TextLoraConfig, TextLoraFamily};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::meta::{cross_entropy, load_weights, save_weights};
use crate::sample::TaskSample;
use crate::spectral::{SpectralLinear, SpectralLinearConfig};

const SLOPE: f64 = 0.01;

/// Configuration of a [`TextHyperNet`] (saved as JSON beside its weights).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextHyperNetConfig {
    /// Width of requirement and label-name embeddings (384 for MiniLM).
    pub d_embed: usize,
    /// Width of the encoder whose adapters are generated (384 for MiniLM); must equal `d_embed`
    /// (label and prototype embeddings come from the same encoder).
    pub d_model: usize,
    /// Width of the trunk and of the class tokens.
    pub d_hidden: usize,
    /// Width of the projected label / prototype embeddings in class tokens.
    pub d_class: usize,
    /// Dropout in the trunk (paper: 0.1).
    pub dropout: f64,
    /// Initial temperature `τ` of the generated cosine head.
    pub init_temperature: f64,
    /// The LoRA layout (rank, alpha, adapted layers, sequence length).
    pub lora: TextLoraConfig,
    /// Least shrinkage of the support sample's within-class covariance (see [`TextSample`]);
    /// the text experiment selects it on the seen tasks' validation data.
    #[serde(default = "default_min_shrinkage")]
    pub min_shrinkage: f64,
    /// Layout version of the weights this configuration describes ([`TEXT_HYPERNET_VERSION`]
    /// for new ones; files written before versions existed read as 1).
    #[serde(default = "legacy_version")]
    pub version: u32,
}

/// Layout version of [`TextHyperNet`] weights written by this build (2: shrunk-LDA head term).
pub const TEXT_HYPERNET_VERSION: u32 = 2;

fn legacy_version() -> u32 {
    1
}

fn default_min_shrinkage() -> f64 {
    crate::sample::LDA_SHRINKAGE_FLOOR
}

impl Default for TextHyperNetConfig {
    fn default() -> Self {
        Self {
            d_embed: 384,
            d_model: 384,
            d_hidden: 128,
            d_class: 64,
            dropout: 0.1,
            init_temperature: 20.0,
            lora: TextLoraConfig::default(),
            min_shrinkage: default_min_shrinkage(),
            version: TEXT_HYPERNET_VERSION,
        }
    }
}

impl TextHyperNetConfig {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero widths, `d_embed != d_model`, a bad dropout or
    /// temperature, or weights of another layout version.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, reason: String| Err(Error::InvalidConfig { field, reason });
        if self.version != TEXT_HYPERNET_VERSION {
            return bad(
                "version",
                format!(
                    "text hypernetwork layout {} cannot be read by this build (layout {TEXT_HYPERNET_VERSION}); meta-train a new one",
                    self.version
                ),
            );
        }
        if self.d_embed == 0 || self.d_hidden == 0 || self.d_class == 0 {
            return bad("d_hidden", "widths must be positive".into());
        }
        if self.d_embed != self.d_model {
            return bad(
                "d_model",
                format!(
                    "label embeddings ({}) and encoder ({}) must have one width",
                    self.d_embed, self.d_model
                ),
            );
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(
                "dropout",
                format!("must be in [0, 1), got {}", self.dropout),
            );
        }
        if !(self.init_temperature.is_finite() && self.init_temperature > 0.0) {
            return bad(
                "init_temperature",
                format!("must be positive, got {}", self.init_temperature),
            );
        }
        if !(0.0..=1.0).contains(&self.min_shrinkage) {
            return bad(
                "min_shrinkage",
                format!("must be in [0, 1], got {}", self.min_shrinkage),
            );
        }
        if self.lora.rank == 0 || self.lora.layers.is_empty() {
            return bad("lora", "rank and layers must be non-empty".into());
        }
        Ok(())
    }

    /// Initialises the hypernetwork.
    ///
    /// # Errors
    /// As [`TextHyperNetConfig::validate`].
    pub fn init(&self, device: &Device) -> Result<TextHyperNet> {
        self.validate()?;
        let d = self.d_hidden;
        let n = self.d_model * self.lora.rank;
        let zeros = |i, o| {
            LinearConfig::new(i, o)
                .with_initializer(Initializer::Zeros)
                .init(device)
        };
        let mut lora_heads = Vec::new();
        for _ in &self.lora.layers {
            for _ in 0..2 {
                // Paper §2.3.2: one linear head per generated tensor; shapes are task-independent.
                lora_heads.push(LinearConfig::new(d, n).init(device)); // A
                lora_heads.push(zeros(d, n)); // B = 0: the untrained generator leaves the encoder as is
            }
        }
        // [ln τ, m_label, m_proto, ln s]: the untrained head is the sample's LDA classifier.
        let mix =
            Tensor::<1>::from_floats([self.init_temperature.ln() as f32, 0.0, 0.0, 0.0], device);
        Ok(TextHyperNet {
            trunk: vec![
                SpectralLinearConfig::new(self.d_embed, d).init(device),
                SpectralLinearConfig::new(d, d).init(device),
                SpectralLinearConfig::new(d, d).init(device),
            ],
            dropout: DropoutConfig::new(self.dropout).init(),
            lora_heads,
            label_proj: LinearConfig::new(self.d_embed, self.d_class).init(device),
            proto_proj: LinearConfig::new(self.d_model, self.d_class).init(device),
            class_1: LinearConfig::new(2 * self.d_class + d, d).init(device),
            class_w: zeros(d, self.d_model),
            class_b: zeros(d, 1),
            mix: Param::from_tensor(mix),
            d_model: self.d_model,
            min_shrinkage: self.min_shrinkage,
        })
    }

    /// Saves the configuration as JSON.
    ///
    /// # Errors
    /// [`Error::Json`] / [`Error::Io`] naming the file.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|source| Error::Json {
            path: path.to_path_buf(),
            source,
        })?;
        crate::write_atomic(path, &bytes)
    }

    /// Loads a configuration saved by [`TextHyperNetConfig::save`].
    ///
    /// # Errors
    /// [`Error::Io`] / [`Error::Json`] naming the file.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|source| Error::Json {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// What the hypernetwork reads from the user's labelled support texts: class prototypes and the
/// shrunk linear-discriminant classifier of their frozen-encoder sentence embeddings.
#[derive(Debug, Clone, PartialEq)]
pub struct TextSample {
    /// Embedding width.
    pub d: usize,
    /// Number of classes.
    pub n_classes: usize,
    /// Support texts read.
    pub n_support: usize,
    /// Normalised class means `[n_classes · d]`, row-major (zeros for a class without texts).
    pub prototypes: Vec<f32>,
    /// Discriminant directions `Σ⁻¹μ_c` `[n_classes · d]`, row-major.
    pub lda_dirs: Vec<f32>,
    /// Discriminant offsets `−½μ_cᵀΣ⁻¹μ_c + ln p_c` `[n_classes]`.
    pub lda_offsets: Vec<f32>,
}

impl TextSample {
    /// Summarises the rows `rows` of `embeddings` (`[n, d]`, row-major sentence embeddings from
    /// the frozen encoder) with classes `targets` (`< n_classes`, one per row of `embeddings`).
    ///
    /// The within-class covariance is shrunk towards its mean diagonal with the Ledoit–Wolf
    /// intensity, at least `min_shrinkage` (in `[0, 1]`; [`TextHyperNetConfig::min_shrinkage`]),
    /// so a handful of texts per class gives a nearest-mean classifier and many texts a full
    /// discriminant. A class without texts gets a zero prototype and direction and a low prior.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when shapes disagree, `rows` is empty, a row or class is out of
    /// range, there are fewer than 2 classes, or `min_shrinkage` is outside `[0, 1]`.
    pub fn from_embeddings(
        embeddings: &[f32],
        d: usize,
        targets: &[usize],
        rows: &[usize],
        n_classes: usize,
        min_shrinkage: f64,
    ) -> Result<Self> {
        let summary =
            TaskSample::from_rows_shrunk(embeddings, d, targets, rows, n_classes, min_shrinkage)?;
        Ok(Self {
            d,
            n_classes,
            n_support: rows.len(),
            prototypes: prototypes(embeddings, d, targets, rows, n_classes),
            lda_dirs: summary.class_dirs,
            lda_offsets: summary.class_offsets,
        })
    }
}

/// What the hypernetwork reads for one task, as tensors on the working device.
#[derive(Debug, Clone)]
pub struct TextTaskInput {
    /// Requirement embedding `[1, d_embed]`.
    pub requirement: Tensor<2>,
    /// Label-name embeddings `[n_classes, d_embed]`.
    pub labels: Tensor<2>,
    /// Normalised class prototypes of the support texts `[n_classes, d_model]` (a class without
    /// support texts has a zero row).
    pub prototypes: Tensor<2>,
    /// Shrunk-LDA directions of the support texts `[n_classes, d_model]`.
    pub lda_dirs: Tensor<2>,
    /// Shrunk-LDA offsets `[n_classes]`.
    pub lda_offsets: Tensor<1>,
}

impl TextTaskInput {
    /// Builds the input from the requirement embedding (`d` values), the label-name embeddings
    /// (`k · d`, row-major) and the support sample.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when a length is not a multiple of `d`, the class counts differ or
    /// there are fewer than 2 classes.
    pub fn from_host(
        requirement: &[f32],
        labels: &[f32],
        sample: &TextSample,
        device: &Device,
    ) -> Result<Self> {
        let d = sample.d;
        let k = labels.len() / d.max(1);
        if d == 0
            || requirement.len() != d
            || labels.len() != k * d
            || sample.n_classes != k
            || sample.prototypes.len() != k * d
            || sample.lda_dirs.len() != k * d
            || sample.lda_offsets.len() != k
            || k < 2
        {
            return Err(Error::InvalidInput {
                what: "text task input".into(),
                reason: format!(
                    "requirement {} / labels {} values for width {d}, sample of {} classes (need ≥ 2 classes, one width)",
                    requirement.len(),
                    labels.len(),
                    sample.n_classes
                ),
            });
        }
        let t = |v: &[f32], rows| {
            Tensor::<2>::from_data(TensorData::new(v.to_vec(), [rows, d]), device)
        };
        Ok(Self {
            requirement: t(requirement, 1),
            labels: t(labels, k),
            prototypes: t(&sample.prototypes, k),
            lda_dirs: t(&sample.lda_dirs, k),
            lda_offsets: Tensor::from_data(
                TensorData::new(sample.lda_offsets.clone(), [k]),
                device,
            ),
        })
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.labels.dims()[0]
    }
}

/// The text hypernetwork. See the [module docs](self).
#[derive(Module, Debug)]
pub struct TextHyperNet {
    trunk: Vec<SpectralLinear>,
    dropout: Dropout,
    lora_heads: Vec<Linear>,
    label_proj: Linear,
    proto_proj: Linear,
    class_1: Linear,
    class_w: Linear,
    class_b: Linear,
    /// `[ln τ, m_label, m_proto, ln s]`.
    mix: Param<Tensor<1>>,
    d_model: usize,
    min_shrinkage: f64,
}

impl TextHyperNet {
    /// Least covariance shrinkage for the [`TextSample`]s this hypernetwork reads
    /// ([`TextHyperNetConfig::min_shrinkage`]).
    pub fn min_shrinkage(&self) -> f64 {
        self.min_shrinkage
    }

    /// Summarises support embeddings for this hypernetwork ([`TextSample::from_embeddings`] with
    /// its shrinkage).
    ///
    /// # Errors
    /// As [`TextSample::from_embeddings`].
    pub fn sample(
        &self,
        embeddings: &[f32],
        targets: &[usize],
        rows: &[usize],
        n_classes: usize,
    ) -> Result<TextSample> {
        TextSample::from_embeddings(
            embeddings,
            self.d_model,
            targets,
            rows,
            n_classes,
            self.min_shrinkage,
        )
    }

    /// Trunk: requirement embedding to task code `z` (paper §2.3.2).
    ///
    /// # Shapes
    /// `[1, d_embed]` -> `[1, d_hidden]`
    pub fn trunk(&self, requirement: Tensor<2>) -> Tensor<2> {
        let mut z = leaky_relu(requirement, SLOPE);
        for layer in &self.trunk {
            z = self.dropout.forward(leaky_relu(layer.forward(z), SLOPE));
        }
        z
    }

    /// Generates every tensor of `family` (all LoRA factors and the head) in one forward pass.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `family` has other layers, rank or width than this
    /// hypernetwork, or its class count differs from `input`'s.
    pub fn generate(
        &self,
        family: &TextLoraFamily,
        input: &TextTaskInput,
    ) -> Result<GeneratedParams> {
        let k = input.n_classes();
        let n_lora = family.spec().len() - 2;
        if family.n_classes() != k
            || n_lora != self.lora_heads.len()
            || family.d_model() != self.d_model
        {
            return Err(Error::InvalidInput {
                what: "text family".into(),
                reason: format!(
                    "family has {} LoRA tensors, width {}, {} classes; hypernetwork has {} heads, width {}; input {k} classes",
                    n_lora,
                    family.d_model(),
                    family.n_classes(),
                    self.lora_heads.len(),
                    self.d_model
                ),
            });
        }
        let z = self.trunk(input.requirement.clone()); // [1, D]
        let dz = z.dims()[1];
        let mut tensors: Vec<Tensor<1>> = Vec::with_capacity(family.spec().len());
        for (head, entry) in self.lora_heads.iter().zip(family.spec().entries()) {
            let n = entry.numel();
            let out = head.forward(z.clone()); // [1, n]
            if out.dims()[1] != n {
                return Err(Error::InvalidInput {
                    what: entry.name.clone(),
                    reason: format!("head emits {} values, the family needs {n}", out.dims()[1]),
                });
            }
            tensors.push(out.reshape([n]));
        }

        // Class tokens: one column of the head per class, from its name and prototype.
        let lab = self.label_proj.forward(input.labels.clone()); // [k, d_class]
        let pro = self.proto_proj.forward(input.prototypes.clone()); // [k, d_class]
        let h = leaky_relu(
            self.class_1
                .forward(Tensor::cat(vec![lab, pro, z.expand([k, dz])], 1)),
            SLOPE,
        ); // [k, D]
        let delta = self.class_w.forward(h.clone()); // [k, d_model]
        let bias = self.class_b.forward(h).reshape([k]); // [k]
        let mix = self.mix.val();
        let tau = mix.clone().slice(0..1).exp().unsqueeze::<2>(); // [1, 1]
        let m_label = mix.clone().slice(1..2).unsqueeze::<2>();
        let m_proto = mix.clone().slice(2..3).unsqueeze::<2>();
        let s_lda = mix.slice(3..4).exp(); // [1]
        let cols = (input.labels.clone() * m_label + input.prototypes.clone() * m_proto + delta)
            * tau
            + input.lda_dirs.clone() * s_lda.clone().unsqueeze::<2>(); // [k, d]
        let bias = bias + input.lda_offsets.clone() * s_lda; // [k]
        let d = self.d_model;
        tensors.push(cols.transpose().reshape([d * k])); // classifier.weight [d, k]
        tensors.push(bias);
        Ok(GeneratedParams::from_flat(family.spec().clone(), tensors)?)
    }

    /// Saves the weights (SafeTensors, atomically) and the config (`config.json`) in `dir`.
    ///
    /// # Errors
    /// I/O and store errors naming the file.
    pub fn save(&self, config: &TextHyperNetConfig, dir: &Path) -> Result<()> {
        config.save(&dir.join("config.json"))?;
        save_weights(self, &dir.join("hypernet.safetensors"))
    }

    /// Loads a hypernetwork saved by [`TextHyperNet::save`].
    ///
    /// # Errors
    /// [`Error::Io`] / [`Error::Json`] / [`Error::Store`] naming the file.
    pub fn load(dir: &Path, device: &Device) -> Result<(Self, TextHyperNetConfig)> {
        let config = TextHyperNetConfig::load(&dir.join("config.json"))?;
        let model = load_weights(config.init(device)?, &dir.join("hypernet.safetensors"))?;
        Ok((model, config))
    }
}

/// Normalised class means of the rows `rows` of `embeddings` (`[n, d]`, row-major): `[k, d]`
/// row-major; a class without rows gets zeros.
pub fn prototypes(
    embeddings: &[f32],
    d: usize,
    targets: &[usize],
    rows: &[usize],
    n_classes: usize,
) -> Vec<f32> {
    let mut out = vec![0f32; n_classes * d];
    for &r in rows {
        let c = targets[r];
        if c >= n_classes {
            continue;
        }
        for j in 0..d {
            out[c * d + j] += embeddings[r * d + j];
        }
    }
    for c in 0..n_classes {
        let row = &mut out[c * d..(c + 1) * d];
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 1e-12 {
            row.iter_mut().for_each(|v| *v /= norm);
        }
    }
    out
}

/// Up to `per_class` rows of each class, chosen at random (seeded) among `rows` (all of a
/// class's rows when it has fewer).
pub fn support_rows(
    targets: &[usize],
    rows: &[usize],
    n_classes: usize,
    per_class: usize,
    seed: u64,
) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for &r in rows {
        if targets[r] < n_classes {
            by_class[targets[r]].push(r);
        }
    }
    let mut out = Vec::new();
    for mut class_rows in by_class {
        class_rows.shuffle(&mut rng);
        out.extend(class_rows.into_iter().take(per_class));
    }
    out
}

/// One meta-training task: cached frozen-prefix features of its training texts plus the
/// embeddings the hypernetwork reads.
#[derive(Debug, Clone)]
pub struct TextMetaTask {
    /// Task name.
    pub name: String,
    /// Embeddings of the task's requirement pool, one `Vec` of `d_embed` per sentence.
    pub requirements: Vec<Vec<f32>>,
    /// Label-name embeddings `[k · d_embed]`, row-major.
    pub labels: Vec<f32>,
    /// Number of classes.
    pub n_classes: usize,
    /// Prefix features of the training texts (plain device).
    pub features: PrefixFeatures,
    /// Frozen-encoder sentence embeddings of the training texts `[n · d]`, row-major.
    pub base_embeddings: Vec<f32>,
    /// Class of each training text.
    pub targets: Vec<usize>,
}

/// Meta-training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextMetaConfig {
    /// Optimiser steps (one task and one batch each).
    pub steps: usize,
    /// Texts per step.
    pub batch_size: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Gradient-norm clip.
    pub grad_clip: f32,
    /// Support texts per class the generator reads (drawn from the rows not in the batch).
    pub support_per_class: usize,
    /// Validation every this many steps (and before the first), keeping the best hypernetwork;
    /// 0 keeps the last one and never validates.
    pub eval_every: usize,
    /// Seed of task, requirement, batch and support sampling.
    pub seed: u64,
}

impl Default for TextMetaConfig {
    fn default() -> Self {
        Self {
            steps: 300,
            batch_size: 16,
            lr: 1e-3,
            grad_clip: 1.0,
            support_per_class: 64,
            eval_every: 50,
            seed: 42,
        }
    }
}

/// What meta-training did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TextMetaReport {
    /// Mean training loss per block of 25 steps.
    pub loss_curve: Vec<f64>,
    /// Wall time in seconds.
    pub elapsed_s: f64,
    /// Steps run.
    pub steps: usize,
    /// Tasks trained on.
    pub tasks: Vec<String>,
    /// Where the checkpoint was written, if anywhere.
    pub checkpoint: Option<PathBuf>,
    /// `(step, validation score)` at every validation (step 0 = the untrained generator).
    pub valid_curve: Vec<(usize, f64)>,
    /// Step of the returned hypernetwork (the best validation score; `steps` without validation).
    pub best_step: usize,
}

/// Meta-trains a [`TextHyperNet`] end-to-end on `tasks` (paper Algorithm 1 offers a first-order
/// rule; here the task loss is backpropagated straight through the generated tensors, which the
/// design notes allow and which is the cheaper one with a single step per batch).
///
/// Each step samples a task (shuffled rounds), one requirement of its pool (paper: robustness to
/// wording), a batch of training texts and a disjoint support set that the generator reads
/// ([`TextSample`]), generates the adapters and head, runs the adapted tail of `backbone` on the
/// cached prefix features and takes an Adam step on the hypernetwork. `backbone` must live on
/// `device.clone().autodiff()` (load it there and call `no_grad`); the task features live on the
/// plain device.
///
/// With `meta.eval_every > 0`, `evaluate` scores the hypernetwork (inference mode, plain device;
/// higher is better, e.g. mean validation accuracy over the tasks) before the first step and
/// every `eval_every` steps, and the best one is returned: meta-training never returns a
/// generator worse on validation than the untrained one. `progress` gets `(step, mean loss)`
/// every 25 steps.
///
/// # Errors
/// [`Error::InvalidConfig`] for an empty task list, zero steps/batch; generation and `evaluate`
/// errors.
pub fn meta_train_text(
    config: &TextHyperNetConfig,
    meta: &TextMetaConfig,
    tasks: &[TextMetaTask],
    backbone: &BertModel,
    device: &Device,
    mut progress: impl FnMut(usize, f64),
    mut evaluate: impl FnMut(&TextHyperNet) -> Result<f64>,
) -> Result<(TextHyperNet, TextMetaReport)> {
    if tasks.is_empty() || meta.steps == 0 || meta.batch_size == 0 {
        return Err(Error::InvalidConfig {
            field: "steps",
            reason: "need at least one task, one step and a positive batch size".into(),
        });
    }
    let ad = device.clone().autodiff();
    ad.seed(meta.seed);
    let mut model = config.init(&ad)?.train();
    let mut optim = AdamConfig::new()
        .with_grad_clipping(Some(GradientClippingConfig::Norm(meta.grad_clip)))
        .init();
    let families: Vec<TextLoraFamily> = tasks
        .iter()
        .map(|t| TextLoraFamily::for_model(backbone, config.lora.clone(), t.n_classes))
        .collect::<std::result::Result<_, _>>()?;
    let d = config.d_model;
    let mut rng = StdRng::seed_from_u64(meta.seed);
    let mut order: Vec<usize> = Vec::new();
    let mut report = TextMetaReport {
        tasks: tasks.iter().map(|t| t.name.clone()).collect(),
        ..TextMetaReport::default()
    };
    let mut best: Option<(f64, TextHyperNet)> = None;
    let mut validate = |step: usize, model: &TextHyperNet, report: &mut TextMetaReport| {
        let score = evaluate(model)?;
        report.valid_curve.push((step, score));
        if best.as_ref().is_none_or(|(b, _)| score > *b) {
            best = Some((score, model.clone()));
            report.best_step = step;
        }
        Ok::<(), Error>(())
    };
    if meta.eval_every > 0 {
        validate(0, &model.clone().valid(), &mut report)?;
    }
    let t0 = Instant::now();
    let mut block = (0.0, 0usize);
    for step in 0..meta.steps {
        if order.is_empty() {
            order = (0..tasks.len()).collect();
            order.shuffle(&mut rng);
        }
        // `order` was refilled just above.
        let ti = order.pop().unwrap_or(0);
        let task = &tasks[ti];
        let n = task.targets.len();
        let mut all: Vec<usize> = (0..n).collect();
        all.shuffle(&mut rng);
        let b = meta.batch_size.min(n.saturating_sub(task.n_classes)).max(1);
        let (batch, rest) = all.split_at(b);
        let support = support_rows(
            &task.targets,
            rest,
            task.n_classes,
            meta.support_per_class,
            rng.random(),
        );
        let sample = TextSample::from_embeddings(
            &task.base_embeddings,
            d,
            &task.targets,
            &support,
            task.n_classes,
            config.min_shrinkage,
        )?;
        let req = &task.requirements[rng.random_range(0..task.requirements.len())];
        let input = TextTaskInput::from_host(req, &task.labels, &sample, &ad)?;
        let params = model.generate(&families[ti], &input)?;
        let feats = task.features.select(batch).autodiff();
        let logits = families[ti].forward(backbone, &params, &feats)?;
        let yb: Vec<usize> = batch.iter().map(|&r| task.targets[r]).collect();
        let loss = cross_entropy(logits, &yb);
        let value = loss.clone().into_scalar::<f32>() as f64;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(meta.lr, model, grads);
        block.0 += value;
        block.1 += 1;
        if block.1 == 25 || step + 1 == meta.steps {
            let mean = block.0 / block.1 as f64;
            report.loss_curve.push(mean);
            progress(step + 1, mean);
            block = (0.0, 0);
        }
        if meta.eval_every > 0 && ((step + 1) % meta.eval_every == 0 || step + 1 == meta.steps) {
            validate(step + 1, &model.clone().valid(), &mut report)?;
        }
    }
    report.elapsed_s = t0.elapsed().as_secs_f64();
    report.steps = meta.steps;
    Ok(match best {
        Some((_, model)) => (model, report),
        None => {
            report.best_step = meta.steps;
            (model.valid(), report)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prototypes_are_unit_class_means() {
        let emb = [1.0, 0.0, 3.0, 0.0, 0.0, 2.0];
        let p = prototypes(&emb, 2, &[0, 0, 1], &[0, 1, 2], 3);
        assert_eq!(p, vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn support_is_capped_per_class() {
        let targets = [0, 0, 0, 1, 1, 2];
        let s = support_rows(&targets, &[0, 1, 2, 3, 4, 5], 3, 2, 1);
        assert_eq!(s.len(), 5);
    }

    #[test]
    fn bad_config_is_an_error() {
        let c = TextHyperNetConfig {
            d_model: 10,
            ..TextHyperNetConfig::default()
        };
        assert!(c.validate().is_err());
    }
}
