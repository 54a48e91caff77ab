//! The hypernetwork in either mode, behind one type.

use std::path::Path;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use modelgpt_core::{GeneratedParams, Modality, TargetFamily};
use modelgpt_targets::{MlpActivation, MlpArchitecture, MlpFamily, MlpSpec};
use serde::{Deserialize, Serialize};

use super::general::{GeneralHyperNet, GeneralHyperNetConfig, MlpTensors, TaskContext};
use super::kernel::{KernelHyperNet, KernelHyperNetConfig};
use super::meta::MetaTrainReport;
use super::paper::{PaperHyperNet, PaperHyperNetConfig, PaperTask};
use crate::checkpoint::{Manifest, load_checkpoint, save_checkpoint};
use crate::error::Result;

/// Which hypernetwork design to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HyperMode {
    /// Ours: one set of heads for any feature and class count (the default).
    General,
    /// The paper's: per-task heads for task-dependent shapes; training tasks only.
    Paper,
    /// Ours, non-linear: random-feature hidden units and a closed-form discriminant head in
    /// their space, with meta-learned feature scales, shrinkage, temperature and class offsets
    /// ([`super::kernel::KernelHyperNet`]).
    Kernel,
}

impl HyperMode {
    /// Lower-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            HyperMode::General => "general",
            HyperMode::Paper => "paper",
            HyperMode::Kernel => "kernel",
        }
    }
}

/// Default [`HyperNetConfig::max_target_width`]: kernel mode writes at most 1,024 hidden units.
pub const DEFAULT_MAX_TARGET_WIDTH: usize = 1024;

fn default_max_target_width() -> usize {
    DEFAULT_MAX_TARGET_WIDTH
}

/// Configuration of a [`HyperNet`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HyperNetConfig {
    /// Mode.
    pub mode: HyperMode,
    /// Requirement-embedding width (384 for MiniLM).
    pub d_embed: usize,
    /// Trunk width (general default 64; the paper uses 25 for tabular tasks).
    pub d_hidden: usize,
    /// Width of the generated hidden layers (kernel mode: for samples of up to
    /// `8 · target_width` rows).
    pub target_width: usize,
    /// Kernel mode: the widest hidden layer a large sample gets; the width grows with the
    /// sample's rows from `target_width` up to this (one unit pair per 16 rows,
    /// [`KernelHyperNetConfig::directions_for`]). Ignored by the other modes. Configurations
    /// saved before this field existed read [`DEFAULT_MAX_TARGET_WIDTH`].
    #[serde(default = "default_max_target_width")]
    pub max_target_width: usize,
    /// Number of generated hidden layers.
    pub target_depth: usize,
    /// Trunk dropout.
    pub dropout: f64,
    /// Paper mode: the tasks that get their own heads.
    pub tasks: Vec<PaperTask>,
}

impl HyperNetConfig {
    /// General-mode defaults for embeddings of width `d_embed`.
    pub fn general(d_embed: usize) -> Self {
        Self {
            mode: HyperMode::General,
            d_embed,
            d_hidden: 64,
            target_width: 64,
            max_target_width: DEFAULT_MAX_TARGET_WIDTH,
            target_depth: 2,
            dropout: 0.1,
            tasks: Vec::new(),
        }
    }

    /// Paper-mode defaults (trunk width 25) for the given training tasks.
    pub fn paper(d_embed: usize, tasks: Vec<PaperTask>) -> Self {
        Self {
            mode: HyperMode::Paper,
            d_hidden: 25,
            tasks,
            ..Self::general(d_embed)
        }
    }

    /// Kernel-mode defaults: `n_directions` = 128, so the generated MLP is
    /// `[d] → ReLU[256] → [K]` for samples of up to 2,048 rows, widening with the rows up to
    /// `[d] → ReLU[1024] → [K]` from 8,192 rows on.
    pub fn kernel(d_embed: usize) -> Self {
        Self {
            mode: HyperMode::Kernel,
            target_width: 256,
            target_depth: 1,
            ..Self::general(d_embed)
        }
    }

    /// The MLP shape generated for a task with `d_input` features and `n_classes` classes.
    pub fn mlp_spec(&self, d_input: usize, n_classes: usize) -> MlpSpec {
        let activation = match self.mode {
            HyperMode::Kernel => MlpActivation::Relu,
            HyperMode::General | HyperMode::Paper => MlpActivation::LeakyRelu,
        };
        MlpSpec::new(d_input, n_classes)
            .with_hidden(vec![self.target_width; self.target_depth])
            .with_activation(activation)
    }

    /// The shape of the MLP that `tensors` (a generator's output, input layer first) describe,
    /// with this mode's activation. Kernel mode may write a wider hidden layer than
    /// [`HyperNetConfig::mlp_spec`]'s when the sample has many rows
    /// ([`KernelHyperNetConfig::directions_for`]), so materialisation reads the widths from the
    /// tensors rather than from the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) for no tensors or layers whose
    /// widths do not chain.
    pub fn spec_for(&self, tensors: &MlpTensors) -> Result<MlpSpec> {
        let bad = |reason: String| crate::Error::InvalidInput {
            what: "generated tensors".into(),
            reason,
        };
        let first = tensors.first().ok_or_else(|| bad("no layers".into()))?;
        let mut dims = vec![first.0.dims()[0]];
        for (i, (w, b)) in tensors.iter().enumerate() {
            let [d_in, d_out] = w.dims();
            if d_in != dims[i] || b.dims() != [d_out] {
                return Err(bad(format!(
                    "layer {i} has weight {:?} and bias {:?} after a layer of width {}",
                    w.dims(),
                    b.dims(),
                    dims[i]
                )));
            }
            dims.push(d_out);
        }
        let hidden = dims[1..dims.len() - 1].to_vec();
        let mut spec = self.mlp_spec(dims[0], dims[dims.len() - 1]);
        spec.hidden = hidden;
        Ok(spec)
    }

    /// The [`MlpFamily`] of [`HyperNetConfig::spec_for`] and the generated tensors packed as its
    /// parameters, in one step.
    ///
    /// # Errors
    /// As [`HyperNetConfig::spec_for`], and target errors for an invalid shape.
    pub fn family_and_params(&self, tensors: MlpTensors) -> Result<(MlpFamily, GeneratedParams)> {
        let family = MlpFamily::new(self.spec_for(&tensors)?)?;
        let params = to_params(&family, tensors)?;
        Ok((family, params))
    }

    /// Most units of a generated hidden layer ([`HyperNetConfig::target_width`]) a checkpoint
    /// may ask for: kernel mode's width is not fixed by the weights, and every generation
    /// computes a `[width, width]` discriminant in the units' space.
    pub const MAX_TARGET_WIDTH: usize = 4096;

    /// Most generated hidden layers ([`HyperNetConfig::target_depth`]).
    pub const MAX_TARGET_DEPTH: usize = 64;

    /// Checks the values a configuration read from a file must have before the hypernetwork is
    /// built from it.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) for a zero width, a dropout outside
    /// `[0, 1)`, or a target width or depth above [`Self::MAX_TARGET_WIDTH`] /
    /// [`Self::MAX_TARGET_DEPTH`].
    pub fn validate(&self) -> Result<()> {
        let bad = |field, reason: String| Err(crate::Error::InvalidConfig { field, reason });
        if self.d_embed == 0 || self.d_hidden == 0 {
            return bad("d_embed/d_hidden", "widths must be positive".into());
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(
                "dropout",
                format!("must be in [0, 1), got {}", self.dropout),
            );
        }
        let within = |field, value: usize, min: usize, max: usize| {
            if (min..=max).contains(&value) {
                return Ok(());
            }
            let range = if min == 0 {
                format!("must be at most {max}")
            } else {
                format!("must be in {min}..={max}")
            };
            bad(field, format!("{range}, got {value}"))
        };
        within("target_width", self.target_width, 1, Self::MAX_TARGET_WIDTH)?;
        within(
            "max_target_width",
            self.max_target_width,
            0,
            Self::MAX_TARGET_WIDTH,
        )?;
        within("target_depth", self.target_depth, 0, Self::MAX_TARGET_DEPTH)?;
        Ok(())
    }

    /// The kernel-mode configuration this configuration builds (kernel mode's widths are
    /// `target_width` and `max_target_width` units, `2p` for `p` directions).
    pub fn kernel_config(&self) -> KernelHyperNetConfig {
        KernelHyperNetConfig::new(self.d_embed)
            .with_d_hidden(self.d_hidden)
            .with_n_directions((self.target_width / 2).max(1))
            .with_max_directions((self.max_target_width / 2).max(1))
            .with_dropout(self.dropout)
    }

    /// The MLP shape this configuration generates from a sample of `n_rows` rows: kernel mode
    /// widens its hidden layer with the rows ([`KernelHyperNetConfig::directions_for`]); the
    /// other modes always write [`HyperNetConfig::mlp_spec`].
    pub fn mlp_spec_for_rows(&self, d_input: usize, n_classes: usize, n_rows: usize) -> MlpSpec {
        let mut spec = self.mlp_spec(d_input, n_classes);
        if self.mode == HyperMode::Kernel {
            let width = 2 * self.kernel_config().directions_for(n_rows);
            spec.hidden = vec![width; self.target_depth];
        }
        spec
    }

    /// Initialises the hypernetwork.
    pub fn init(&self, device: &burn::tensor::Device) -> HyperNet {
        match self.mode {
            HyperMode::General => HyperNet::General(
                GeneralHyperNetConfig::new(self.d_embed)
                    .with_d_hidden(self.d_hidden)
                    .with_target_width(self.target_width)
                    .with_target_depth(self.target_depth)
                    .with_dropout(self.dropout)
                    .init(device),
            ),
            HyperMode::Paper => HyperNet::Paper(
                PaperHyperNetConfig::new(self.d_embed, self.tasks.clone())
                    .with_d_hidden(self.d_hidden)
                    .with_target_width(self.target_width)
                    .with_target_depth(self.target_depth)
                    .with_dropout(self.dropout)
                    .init(device),
            ),
            HyperMode::Kernel => HyperNet::Kernel(self.kernel_config().init(device)),
        }
    }
}

/// A hypernetwork of either mode.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum HyperNet {
    /// General mode.
    General(GeneralHyperNet),
    /// Paper mode.
    Paper(PaperHyperNet),
    /// Kernel mode.
    Kernel(KernelHyperNet),
}

impl HyperNet {
    /// Generates the MLP tensors of task `name` from its context, in one forward pass.
    ///
    /// # Errors
    /// Paper mode: [`Error::UnseenTask`](crate::Error::UnseenTask) for tasks without heads.
    pub fn generate_tensors(&self, name: &str, ctx: &TaskContext) -> Result<MlpTensors> {
        match self {
            HyperNet::General(h) => Ok(h.forward(ctx)),
            HyperNet::Paper(p) => p.forward(
                name,
                ctx.n_features(),
                ctx.n_classes(),
                ctx.requirement.clone(),
            ),
            HyperNet::Kernel(k) => k.forward(ctx),
        }
    }

    /// The member of the MLP family [`generate_tensors`](Self::generate_tensors) writes for a
    /// sample of `n_rows` rows (kernel mode widens it with the rows; the other modes always
    /// write their configured depth and width).
    pub fn default_architecture(&self, n_rows: usize) -> MlpArchitecture {
        match self {
            HyperNet::General(h) => MlpArchitecture::new(h.target_depth(), h.target_width()),
            HyperNet::Paper(p) => MlpArchitecture::new(p.target_depth(), p.target_width()),
            HyperNet::Kernel(k) => k.default_architecture(n_rows),
        }
    }

    /// Generates member `arch` of the MLP family for task `name`, in one forward pass. Kernel
    /// mode writes any member ([`KernelHyperNet::forward_arch`]); the general and paper modes
    /// only their [default](Self::default_architecture).
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) for a member the mode cannot write;
    /// as [`generate_tensors`](Self::generate_tensors).
    pub fn generate_tensors_arch(
        &self,
        name: &str,
        ctx: &TaskContext,
        arch: MlpArchitecture,
    ) -> Result<MlpTensors> {
        match self {
            HyperNet::Kernel(k) => k.forward_arch(ctx, Some(arch)),
            _ if arch == self.default_architecture(ctx.support_y.len()) => {
                self.generate_tensors(name, ctx)
            }
            _ => Err(crate::Error::InvalidInput {
                what: format!("architecture {arch}"),
                reason: format!(
                    "only kernel mode writes any member of the MLP family; this {} hypernetwork \
                     writes {}",
                    self.mode().as_str(),
                    self.default_architecture(ctx.support_y.len())
                ),
            }),
        }
    }

    /// The mode.
    pub fn mode(&self) -> HyperMode {
        match self {
            HyperNet::General(_) => HyperMode::General,
            HyperNet::Paper(_) => HyperMode::Paper,
            HyperNet::Kernel(_) => HyperMode::Kernel,
        }
    }
}

impl HyperNet {
    /// Saves the hypernetwork and its configuration in `dir` in the checkpoint layout
    /// ([`crate::checkpoint`]), with the meta-training `report` if there is one.
    ///
    /// # Errors
    /// I/O and store errors naming the file.
    pub fn save(
        &self,
        config: &HyperNetConfig,
        dir: &Path,
        report: Option<&MetaTrainReport>,
    ) -> Result<()> {
        let mut manifest = Manifest::new(Modality::Tabular, config.clone());
        if let Some(r) = report {
            manifest = manifest.with_report(r)?;
        }
        save_checkpoint(dir, &manifest, self)
    }

    /// Loads a hypernetwork saved by [`HyperNet::save`].
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) / [`Error::Json`](crate::Error::Json) /
    /// [`Error::Store`](crate::Error::Store) naming the file, and
    /// [`Error::CheckpointMismatch`](crate::Error::CheckpointMismatch) for a checkpoint of
    /// another layout version or modality, [`Error::InvalidConfig`](crate::Error::InvalidConfig)
    /// for a configuration [`HyperNetConfig::validate`] rejects.
    pub fn load(dir: &Path, device: &Device) -> Result<(Self, HyperNetConfig)> {
        let (model, manifest) = load_checkpoint(dir, Modality::Tabular, |c: &HyperNetConfig| {
            c.validate()?;
            Ok(c.init(device))
        })?;
        Ok((model, manifest.config))
    }
}

/// Packs generated layer tensors into [`GeneratedParams`] for `family`.
///
/// # Errors
/// Shape mismatches (a bug if it ever happens).
pub fn to_params(family: &MlpFamily, tensors: MlpTensors) -> Result<GeneratedParams> {
    let mut flat: Vec<Tensor<1>> = Vec::with_capacity(tensors.len() * 2);
    for (w, b) in tensors {
        let n = w.dims()[0] * w.dims()[1];
        flat.push(w.reshape([n]));
        flat.push(b);
    }
    Ok(GeneratedParams::from_flat(family.spec().clone(), flat)?)
}
