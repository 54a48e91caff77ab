//! The small helper library of the ModelGPT-rs examples: device choice, the MiniLM encoder and
//! the cache folder (shared with the experiments, where they are defined).

pub use modelgpt_experiments::{cache_dir, device, load_encoder};
