//! The three extension points of ModelGPT: language model, requirement encoder, target family.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::error::Result;
use crate::params::{GeneratedParams, ParamSpec};
use crate::prompt::Prompt;

/// Turns a prompt built from task data and/or a description into one requirement sentence
/// (paper §2.2, the Requirement Generator).
pub trait LanguageModel: Send + Sync + core::fmt::Debug {
    /// Answers the prompt. Implementations return the raw answer; callers reduce and validate it.
    ///
    /// # Errors
    /// Whatever the implementation cannot recover from (network, protocol, empty answer).
    fn complete(&self, prompt: &Prompt) -> Result<String>;

    /// A short name for logs and caches (e.g. `template`, `openai:gpt-4o-mini`).
    fn name(&self) -> String {
        "language-model".into()
    }
}

/// Encodes requirement sentences into `[batch, embed_dim]` vectors (paper §2.3.1).
pub trait RequirementEncoder: Send + Sync + core::fmt::Debug {
    /// Width of the embeddings.
    fn embed_dim(&self) -> usize;

    /// Encodes a batch of sentences.
    ///
    /// # Shapes
    /// output: `[texts.len(), embed_dim]`
    ///
    /// # Errors
    /// Tokenisation failures.
    fn encode(&self, texts: &[&str], device: &Device) -> Result<Tensor<2>>;
}

/// A family of target models whose parameters a hypernetwork generates (paper §2.3.2).
pub trait TargetFamily: Send + Sync + core::fmt::Debug {
    /// Input batch type (`Tensor<2>` for MLPs, `Tensor<4>` for CNNs, token batch for BERT).
    type Input;
    /// Output (logits).
    type Output;
    /// Materialised model for export and finetuning.
    type Model: Module;
    /// What [`materialize`](TargetFamily::materialize) can fail with (the implementing crate's
    /// error type; errors nest along the dependency direction, never into this crate's).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Names, shapes and order of the generated tensors.
    fn spec(&self) -> &ParamSpec;

    /// Differentiable forward pass with generated tensors.
    fn forward_with(&self, params: &GeneratedParams, input: Self::Input) -> Self::Output;

    /// Writes generated tensors into a real module.
    ///
    /// # Errors
    /// Shape or name mismatches between `params` and the family.
    fn materialize(
        &self,
        params: GeneratedParams,
        device: &Device,
    ) -> core::result::Result<Self::Model, Self::Error>;
}
