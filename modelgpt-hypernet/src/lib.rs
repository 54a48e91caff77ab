#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
//! # modelgpt-hypernet
//!
//! The Model Customizer of ModelGPT (Tang et al. 2024, §2.3): a hypernetwork that turns a
//! requirement embedding — and, in our general mode, what a user's labelled sample shows — into
//! every weight of a target model in one forward pass; the meta-trainer that teaches it over many
//! real tasks; and the [`ModelGpt`] facade.
//!
//! ```text
//! requirement ─► RequirementEncoder ─► r ─┐
//! user sample ─► TaskSample (feature / class statistics, class means) ─┤
//!                                                                      ▼
//!                      HyperNet (general | paper) ─► MLP tensors ─► TailoredModel
//! ```
//!
//! Two modes share one API ([`HyperNet`]):
//! - **general** (default, ours): per-feature tokens (name embedding + statistics) produce the
//!   input-layer rows, per-class tokens (label embedding + statistics + a fixed class code)
//!   produce the class-head columns, both tied through the sample's class-conditional means.
//!   Any feature count and class count works, including tasks never seen in training. See
//!   [`general`].
//! - **paper**: the paper's design, per-task heads for task-dependent shapes; unseen shapes give
//!   [`Error::UnseenTask`]. See [`paper`].
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
mod embed_cache;
mod error;
mod facade;
pub mod general;
mod hypernet;
pub mod meta;
pub mod paper;
mod sample;
mod spectral;
mod tasks;
pub mod text;
mod text_facade;

pub use atomic::write_atomic;
pub use embed_cache::EmbeddingCache;
pub use error::{Error, Result};
pub use facade::{GenerationTiming, ModelGpt, ModelGptBuilder, TailoredModel};
pub use general::{GeneralHyperNet, GeneralHyperNetConfig, MlpTensors, TaskContext};
pub use hypernet::{HyperMode, HyperNet, HyperNetConfig, to_params};
pub use meta::{EpochReport, MetaRule, MetaTrainConfig, MetaTrainReport, MetaTrainer};
pub use paper::{PaperHyperNet, PaperHyperNetConfig, PaperTask};
pub use sample::{LDA_SHRINKAGE_FLOOR, N_CLASS_STATS, N_FEATURE_STATS, TaskSample};
pub use spectral::{SpectralLinear, SpectralLinearConfig};
pub use tasks::{PreparedTask, SplitData, TaskView, build_context, feature_text};
pub use text::{
    TEXT_HYPERNET_VERSION, TextHyperNet, TextHyperNetConfig, TextMetaConfig, TextMetaReport,
    TextMetaTask, TextSample, TextTaskInput, meta_train_text,
};
pub use text_facade::{
    MEMO_CAPACITY, TailoredTextModel, TextGenerationTiming, TextModelGpt, label_text,
};

/// The types most programs need.
pub mod prelude {
    #[doc(no_inline)]
    pub use crate::{
        HyperMode, HyperNet, HyperNetConfig, MetaRule, MetaTrainConfig, MetaTrainer, ModelGpt,
        TailoredModel, TailoredTextModel, TextModelGpt,
    };
}
