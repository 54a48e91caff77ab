//! The text wing: a hypernetwork that writes LoRA adapters and the classification head of a
//! frozen BERT-family encoder ([`modelgpt_targets::TextLoraFamily`]) from a requirement and the
//! user's labelled texts, its meta-trainer and the [`TextModelGpt`] facade.
//!
//! - [`hypernet`]: [`TextHyperNet`] and its configuration, [`TextTaskInput`].
//! - [`sample`]: [`TextSample`], what the generator reads from the support texts.
//! - [`meta`]: [`meta_train_text`].
//! - [`facade`]: [`TextModelGpt`] and [`TailoredTextModel`].

pub mod facade;
pub mod hypernet;
pub mod meta;
pub mod sample;

pub use crate::encode::MEMO_CAPACITY;
pub use facade::{TailoredTextModel, TextModelGpt, label_text};
pub use hypernet::{TEXT_HYPERNET_VERSION, TextHyperNet, TextHyperNetConfig, TextTaskInput};
pub use meta::{TextMetaConfig, TextMetaReport, TextMetaTask, meta_train_text};
pub use sample::{TextSample, prototypes};
