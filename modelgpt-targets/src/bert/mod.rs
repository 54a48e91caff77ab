//! BERT encoder (Hugging Face layout), its weight loader, the LoRA hook and the requirement
//! encoder built on it.

mod config;
mod encoder;
mod loader;
mod lora;
mod model;

pub use config::{BertConfig, HiddenAct};
pub use encoder::{
    BertRequirementEncoder, DEFAULT_BATCH_SIZE, DEFAULT_MAX_LENGTH, l2_normalize, mean_pool,
};
pub use loader::{
    HF_KEY_TABLE, check_bert_weights, hf_key_remapper, hf_tensor_shapes, load_bert,
    read_safetensors_header,
};
pub use lora::{AttentionLora, LoraDelta};
pub use model::{BertAttention, BertEmbeddings, BertInput, BertLayer, BertModel};
