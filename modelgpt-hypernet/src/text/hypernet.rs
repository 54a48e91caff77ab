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

use std::path::Path;

use burn::module::{Module, Param};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::activation::leaky_relu;
use burn::tensor::{Device, Tensor, TensorData};
use modelgpt_core::{GeneratedParams, Modality};
use modelgpt_targets::{TextLoraConfig, TextLoraFamily};
use serde::{Deserialize, Serialize};

use super::sample::TextSample;
use crate::checkpoint::{Manifest, load_checkpoint, save_checkpoint};
use crate::error::{Error, Result};
use crate::trunk::{SLOPE, Trunk, TrunkConfig};

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
    crate::lda::LDA_SHRINKAGE_FLOOR
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
            trunk: TrunkConfig::new(self.d_embed, d)
                .with_dropout(self.dropout)
                .init(device),
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
    trunk: Trunk,
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
        self.trunk.forward(requirement)
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

    /// Saves the hypernetwork and its configuration in `dir` in the checkpoint layout
    /// ([`crate::checkpoint`]), with the meta-training `report` if there is one.
    ///
    /// # Errors
    /// I/O and store errors naming the file.
    pub fn save(
        &self,
        config: &TextHyperNetConfig,
        dir: &Path,
        report: Option<&super::meta::TextMetaReport>,
    ) -> Result<()> {
        let mut manifest = Manifest::new(Modality::Text, config.clone());
        if let Some(r) = report {
            manifest = manifest.with_report(r)?;
        }
        save_checkpoint(dir, &manifest, self)
    }

    /// Loads a hypernetwork saved by [`TextHyperNet::save`].
    ///
    /// # Errors
    /// [`Error::Io`] / [`Error::Json`] / [`Error::Store`] naming the file,
    /// [`Error::CheckpointMismatch`] for a checkpoint of another layout or modality, and
    /// [`Error::InvalidConfig`] for weights of another text-hypernetwork version.
    pub fn load(dir: &Path, device: &Device) -> Result<(Self, TextHyperNetConfig)> {
        let (model, manifest) =
            load_checkpoint(dir, Modality::Text, |c: &TextHyperNetConfig| c.init(device))?;
        Ok((model, manifest.config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_config_is_an_error() {
        let c = TextHyperNetConfig {
            d_model: 10,
            ..TextHyperNetConfig::default()
        };
        assert!(c.validate().is_err());
    }
}
