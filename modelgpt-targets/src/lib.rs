#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
//! # modelgpt-targets
//!
//! The target model families of ModelGPT-rs (Tang et al., 2024): the models whose parameters the
//! hypernetwork generates, their loaders and exporters.
//!
//! - [`bert`]: a BERT encoder in the Hugging Face layout ([`BertModel`], [`BertConfig`]), its
//!   SafeTensors loader ([`load_bert`]), a LoRA hook on query/value ([`AttentionLora`]) and
//!   [`BertRequirementEncoder`], the sentence encoder of paper §2.3.1 (all-MiniLM-L6-v2:
//!   mean pooling + L2 norm), which implements [`modelgpt_core::RequirementEncoder`].
//! - [`Error`] / [`Result`].
//!
//! ```text
//! tokenizer.json ─► token ids ─► BertModel ─► [batch, seq, d_model] ─► mean pool ─► L2 norm ─► r
//! model.safetensors ─(HF_KEY_TABLE + PyTorchToBurnAdapter)─┘
//! ```
//!
//! ## Example
//!
//! A tiny random BERT (the real one loads with [`BertRequirementEncoder::from_dir`]):
//!
//! ```
//! use burn::tensor::{Device, Int, Tensor};
//! use modelgpt_targets::prelude::*;
//!
//! let device = Device::default();
//! let config = BertConfig::new()
//!     .with_vocab_size(50)
//!     .with_hidden_size(16)
//!     .with_num_hidden_layers(2)
//!     .with_num_attention_heads(4)
//!     .with_intermediate_size(32)
//!     .with_max_position_embeddings(8);
//! let model = config.init(&device);
//!
//! let ids = Tensor::<2, Int>::from_ints([[1, 5, 7, 2], [1, 9, 2, 0]], &device);
//! let keep = Tensor::<2, Int>::from_ints([[1, 1, 1, 1], [1, 1, 1, 0]], &device);
//! let input = BertInput::new(ids).attention_mask(keep);
//! let pooled = l2_normalize(mean_pool(model.forward(input.clone()), input.keep_mask()));
//! assert_eq!(pooled.dims(), [2, 16]);
//!
//! // Unit rows after L2 normalisation.
//! let norms: Vec<f32> = pooled.square().sum_dim(1).sqrt().into_data().iter::<f32>().collect();
//! assert!(norms.iter().all(|n| (n - 1.0).abs() < 1e-5));
//! ```
//!
//! ## Feature flags
//!
//! - `flex` (default): burn's pure-Rust CPU backend.
//! - `wgpu`: Vulkan / Metal / DX12 through burn-wgpu.
//! - `cuda`: CUDA through burn-cuda.
//! - `tch`: LibTorch (deprecated by burn 0.22; opt-in).
//!
//! Library code never picks a backend: it takes a [`Device`](burn::tensor::Device). Set
//! `BURN_DEVICE=flex|wgpu|cuda` to choose at run time where `Device::default()` is used.

pub mod bert;
pub mod cnn;
mod error;
pub mod metrics;
pub mod mlp;
pub mod peft;
mod persist;
pub mod space;
pub mod text;
pub mod train;

pub use bert::{
    AttentionLora, BertConfig, BertInput, BertModel, BertRequirementEncoder, LoraDelta,
    l2_normalize, load_bert, mean_pool,
};
pub use cnn::{Cnn, CnnFamily, CnnHead, CnnPool, CnnSpec};
pub use error::{Error, Result};
pub use metrics::{accuracy, argmax, argmax_rows, cross_entropy};
pub use mlp::{Mlp, MlpActivation, MlpFamily, MlpSpec};
pub use peft::{PeftAdapterConfig, save_merged, save_peft_adapter};
pub use space::{MlpArchitecture, MlpSpace};
pub use text::{
    PrefixFeatures, TextLoraBatch, TextLoraConfig, TextLoraFamily, TextLoraModule, encode_prefix,
};
pub use train::{
    EpochStats, LabeledRows, TrainConfig, TrainOutcome, logistic_regression, majority_accuracy,
    predict, time_to_reach, train_classifier, train_cnn,
};

/// The types most programs need.
pub mod prelude {
    #[doc(no_inline)]
    pub use crate::{
        AttentionLora, BertConfig, BertInput, BertModel, BertRequirementEncoder, Error, LoraDelta,
        Result, l2_normalize, load_bert, mean_pool,
    };
    #[doc(no_inline)]
    pub use crate::{
        EpochStats, LabeledRows, Mlp, MlpActivation, MlpFamily, MlpSpec, TrainConfig, TrainOutcome,
        train_classifier,
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
        has_autotraits::<BertConfig>();
        has_autotraits::<BertModel>();
        has_autotraits::<BertInput>();
        has_autotraits::<LoraDelta>();
        has_autotraits::<BertRequirementEncoder>();
        has_autotraits::<MlpSpec>();
        has_autotraits::<MlpFamily>();
        has_autotraits::<Mlp>();
        has_autotraits::<TrainConfig>();
        has_autotraits::<TrainOutcome>();
        has_autotraits::<LabeledRows<'static>>();
    }
}
