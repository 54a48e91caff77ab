//! The small helper library of the ModelGPT-rs examples: device choice, the MiniLM encoder and
//! the cache folder (shared with the experiments, where they are defined), and the Requirement
//! Generator the `tailor` examples share.

pub use modelgpt_experiments::{cache_dir, device, load_encoder};

use modelgpt_llm::{AnswerCache, OpenAiClient, RequirementGenerator};

/// The Requirement Generator of the `tailor` examples: the offline template writer, or the
/// OpenAI-compatible `endpoint` serving `model` (answers cached) when both are given.
///
/// # Errors
/// An invalid endpoint, or a cache that cannot be opened.
pub fn requirement_generator(
    endpoint: Option<&str>,
    model: Option<&str>,
) -> anyhow::Result<RequirementGenerator> {
    let generator = RequirementGenerator::new();
    Ok(match (endpoint, model) {
        (Some(endpoint), Some(model)) => {
            let client = OpenAiClient::builder(endpoint).model(model).build()?;
            generator
                .with_openai(client)
                .with_cache(AnswerCache::open_default()?)
        }
        _ => generator,
    })
}
