#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
//! # modelgpt-hypernet
//!
//! The Model Customizer of ModelGPT (Tang et al. 2024, §2.3): hypernetworks that turn a
//! requirement embedding — and what a user's labelled sample shows — into every weight of a
//! target model in one forward pass; the meta-trainers that teach them over many tasks; the
//! facades that users call; and meta-trained checkpoints shipped inside the crate.
//!
//! One wing per modality around shared rooms:
//!
//! ```text
//! shared:   trunk (SN-Linear × 3)   lda (shrunk LDA)   encode (embedding cache)   checkpoint (layout)   shipped
//! tabular/  kernel | general | paper ─► HyperNet ─► MLP tensors   sample, tasks, meta ─► TabularModelGpt ─► TailoredTabularModel
//! text/     TextHyperNet ─► LoRA adapters + head for MiniLM  sample, meta        ─► TextModelGpt    ─► TailoredTextModel
//! ```
//!
//! Both facades implement [`ModelCustomizer`] (tailor a sample and a requirement) and their
//! results [`TailoredModel`] (predict, time, save), the traits of `modelgpt-core`.
//!
//! - **tabular** ([`tabular`]): the kernel mode (default, ours) writes a non-linear MLP
//!   `[d] → ReLU[256] → [K]` (up to `ReLU[1024]` for samples of 8,192 rows and more): hidden units are hinges through the sample's rows along the
//!   sample's discriminant directions, random directions and differences of rows of different
//!   classes, with meta-learned feature scales and block gains; the class head is the shrunk
//!   discriminant of the sample in the hidden units' space, solved in closed form (no gradient
//!   step on the user's data) with meta-learned shrinkage, temperature and offsets. Any feature
//!   and class count works, including tasks never seen in training
//!   ([`tabular::KernelHyperNet`]). The general mode (ours, linear) turns
//!   per-feature tokens into input-layer rows and per-class tokens into class-head columns, tied
//!   through the sample's shrunk linear discriminant; the paper mode keeps per-task heads and
//!   serves only its training tasks ([`Error::UnseenTask`]).
//! - **text** ([`text`]): LoRA adapters on the last layers of a frozen MiniLM plus a
//!   classification head written from the requirement, the label names and the support texts'
//!   prototypes and shrunk discriminant.
//! - **shipped** ([`shipped`]): `shipped::tabular(&device)` and `shipped::text(&device)` load the
//!   meta-trained generators, so nobody meta-trains on first use.
//!
//! ## Example
//!
//! ```
//! use burn::tensor::Device;
//! use modelgpt_hypernet::{HyperNetConfig, TaskSample, build_context};
//! use burn::tensor::Tensor;
//!
//! let device = Device::default();
//! // A 2-feature, 2-class sample (standardised features, row-major).
//! let x = [1.0, 0.5, 0.8, -0.2, -1.0, 0.1, -0.9, 0.3];
//! let y = [0, 0, 1, 1];
//! let sample = TaskSample::from_rows(&x, 2, &y, &[0, 1, 2, 3], 2).unwrap();
//! let config = HyperNetConfig::general(8);
//! let hyper = config.init(&device);
//! let ctx = build_context(Tensor::zeros([1, 8], &device), &[0.0; 16], &[0.0; 16], 8, &sample, &device);
//! let layers = hyper.generate_tensors("toy", &ctx).unwrap();
//! assert_eq!(layers[0].0.dims(), [2, 64]); // input layer: one row per feature
//! assert_eq!(layers.last().unwrap().0.dims(), [64, 2]); // head: one column per class
//! ```
//!
//! ## Feature flags
//! `flex` (default), `wgpu`, `cuda`, `tch`: forwarded to burn. Autodiff and optimisers are always
//! on (meta-training is this crate's job).

mod atomic;
pub mod checkpoint;
mod encode;
mod error;
mod head;
pub mod image;
pub mod lda;
mod linalg;
pub mod shipped;
mod spectral;
pub mod tabular;
pub mod text;
pub mod trunk;

pub use atomic::write_atomic;
pub use checkpoint::{CHECKPOINT_VERSION, Manifest};
pub use encode::EmbeddingCache;
pub use error::{Error, Result};
pub use lda::{LDA_SHRINKAGE_FLOOR, ShrunkLda};
pub use modelgpt_core::{GenerationTiming, ModelCustomizer, TailoredModel};
pub use spectral::{SpectralLinear, SpectralLinearConfig};
pub use trunk::{Trunk, TrunkConfig};

pub use tabular::{
    ArchConstraints, ArchSelector, ArchSelectorConfig, ArchitectureChoice, EpochReport, EpochTasks,
    GeneralHyperNet, GeneralHyperNetConfig, HyperMode, HyperNet, HyperNetConfig, KernelHyperNet,
    KernelHyperNetConfig, MAX_CLASSES, MAX_FEATURES, MAX_NAME_CHARS, MAX_SAMPLE_ROWS, MetaRule,
    MetaTrainConfig, MetaTrainReport, MetaTrainer, MlpTensors, N_CLASS_STATS, N_FEATURE_STATS,
    PaperHyperNet, PaperHyperNetConfig, PaperTask, PreparedTask, SplitData, TabularModelGpt,
    TabularModelGptBuilder, TailoredTabularModel, TaskContext, TaskMeta, TaskSample, TaskView,
    build_context, class_text, feature_text, generation_cost, select_architecture, to_params,
};
pub use text::{
    MEMO_CAPACITY, TEXT_HYPERNET_VERSION, TailoredTextModel, TextHyperNet, TextHyperNetConfig,
    TextMetaConfig, TextMetaReport, TextMetaTask, TextModelGpt, TextSample, TextTaskInput,
    label_text, meta_train_text,
};

/// The tabular facade under its old name.
#[deprecated(
    since = "0.1.0",
    note = "renamed to `TabularModelGpt` (the name says the modality)"
)]
pub type ModelGpt = TabularModelGpt;

/// The types most programs need.
pub mod prelude {
    #[doc(no_inline)]
    pub use crate::{
        HyperMode, HyperNet, HyperNetConfig, MetaRule, MetaTrainConfig, MetaTrainer,
        ModelCustomizer, TabularModelGpt, TailoredModel, TailoredTabularModel, TailoredTextModel,
        TextModelGpt,
    };
}

/// The device unit tests run on.
#[cfg(test)]
pub(crate) fn test_device() -> burn::tensor::Device {
    burn::tensor::Device::flex()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_autotraits<T: Send + Sync + Sized + Unpin>() {}

    #[test]
    fn public_types_are_send_sync() {
        has_autotraits::<Error>();
        has_autotraits::<HyperNet>();
        has_autotraits::<HyperNetConfig>();
        has_autotraits::<TabularModelGpt>();
        has_autotraits::<TailoredTabularModel>();
        has_autotraits::<TextHyperNet>();
        has_autotraits::<TextHyperNetConfig>();
        has_autotraits::<TextModelGpt>();
        has_autotraits::<TailoredTextModel<'static>>();
        has_autotraits::<TaskSample>();
        has_autotraits::<TextSample>();
        has_autotraits::<ShrunkLda>();
        has_autotraits::<EmbeddingCache>();
        has_autotraits::<Manifest<HyperNetConfig>>();
        has_autotraits::<MetaTrainer>();
        has_autotraits::<Trunk>();
    }
}
