#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
//! # modelgpt-core
//!
//! The shared vocabulary of ModelGPT-rs (Tang et al., *ModelGPT: Unleashing LLM's Capabilities
//! for Tailored Model Generation*, 2024):
//!
//! - [`Requirement`], [`Prompt`], [`TaskSpec`], [`DataProfile`]: what flows from the user's data to
//!   the hypernetwork;
//! - [`ParamSpec`] / [`GeneratedParams`]: names, shapes and values of generated tensors;
//! - the traits [`LanguageModel`], [`RequirementEncoder`] and [`TargetFamily`], implemented by
//!   `modelgpt-llm`, `modelgpt-targets` and `modelgpt-hypernet`;
//! - the facade traits [`ModelCustomizer`] / [`TailoredModel`] and [`GenerationTiming`], which
//!   every modality's hypernetwork facade implements;
//! - [`data`]: data sets, loaders for a user's own data (CSV, JSONL, PNG folders), the building
//!   blocks of format readers, the asset folder, seeded splits and tabular preprocessing;
//! - [`Limits`]: the documented resource limits of every loader of untrusted input;
//! - [`Error`] / [`Result`].
//!
//! ```text
//! user data ──► DataProfile ──► LanguageModel ──► Requirement ──► RequirementEncoder ──► r
//!                                                                   r ──► hypernet ──► GeneratedParams ──► TargetFamily
//! ```
//!
//! ## Example
//!
//! ```
//! use modelgpt_core::prelude::*;
//!
//! let task = TaskSpec::new("iris", Modality::Tabular)
//!     .with_features(["sepal length", "sepal width", "petal length", "petal width"])
//!     .with_labels(["setosa", "versicolor", "virginica"]);
//! let spec = ParamSpec::new()
//!     .with("layers.0.weight", [task.n_features(), 8], ParamRole::InputDependent)
//!     .with("head.weight", [8, task.n_classes()], ParamRole::ClassDependent);
//! assert_eq!(spec.numel(), 4 * 8 + 8 * 3);
//! ```
//!
//! ## Feature flags
//!
//! - `flex` (default): burn's pure-Rust CPU backend.
//! - `wgpu`: Vulkan / Metal / DX12 through burn-wgpu.
//! - `cuda`: CUDA through burn-cuda.
//! - `tch`: LibTorch (deprecated by burn 0.22; opt-in).
//!
//! Library code never picks a backend: it takes a [`burn::tensor::Device`]. Set
//! `BURN_DEVICE=flex|wgpu|cuda|tch` to choose at run time where `Device::default()` is used;
//! [`backend`] picks a device by name with an error instead of a panic.

mod atomic;
pub mod backend;
mod customizer;
pub mod data;
mod error;
pub mod limits;
mod params;
mod profile;
mod prompt;
mod requirement;
mod task;
mod traits;

pub use atomic::{replace_atomically, write_atomic};
pub use customizer::{GenerationTiming, ModelCustomizer, TailoredModel};
pub use error::{Error, Result};
pub use limits::Limits;
pub use params::{GeneratedParams, IntoFlat, ParamEntry, ParamRole, ParamSpec};
pub use profile::{DataProfile, SampleRecord};
pub use prompt::{ImageAttachment, Message, Prompt, Role};
pub use requirement::Requirement;
pub use task::{Modality, TaskSpec};
pub use traits::{LanguageModel, RequirementEncoder, TargetFamily};

/// Re-exports of burn's tensor types used in our public API.
pub use burn::tensor::{Device, Tensor};

/// The types most programs need.
pub mod prelude {
    #[doc(no_inline)]
    pub use crate::{
        DataProfile, Device, Error, GeneratedParams, GenerationTiming, LanguageModel, Modality,
        ModelCustomizer, ParamRole, ParamSpec, Prompt, Requirement, RequirementEncoder, Result,
        SampleRecord, TailoredModel, TargetFamily, TaskSpec, Tensor,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_autotraits<T: Send + Sync + Sized + Unpin>() {}

    #[test]
    fn public_types_are_send_sync() {
        has_autotraits::<Error>();
        has_autotraits::<Requirement>();
        has_autotraits::<TaskSpec>();
        has_autotraits::<ParamSpec>();
        has_autotraits::<GeneratedParams>();
        has_autotraits::<Prompt>();
        has_autotraits::<DataProfile>();
        has_autotraits::<GenerationTiming>();
    }
}
