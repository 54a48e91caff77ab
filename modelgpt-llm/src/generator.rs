//! The Requirement Generator: prompt, language model, checks, one repair turn, cache.

use modelgpt_core::{DataProfile, LanguageModel, Prompt, Requirement};
use serde::Serialize;

use crate::answer::{Expectations, parse_parallel};
use crate::budget::{ModelBudget, read_budget};
use crate::cache::{AnswerCache, CacheKey};
use crate::client::OpenAiClient;
use crate::error::{Error, Result};
use crate::prompt::{PromptConfig, repair_prompt};
use crate::template::TemplateWriter;

/// Where a requirement came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The offline [`TemplateWriter`].
    Template,
    /// A language model.
    Llm,
}

/// A generated requirement and how it was obtained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Generated {
    /// The sentence.
    pub requirement: Requirement,
    /// Template writer or language model.
    pub source: Source,
    /// Whether the answer came from the cache (no request was made).
    pub cached: bool,
    /// A model-size budget the user's description states ("under 5,000 parameters", "a tiny
    /// model for a microcontroller"; [`read_budget`]), else one the requirement states.
    pub budget: Option<ModelBudget>,
}

fn budget_of(profile: &DataProfile, requirement: &Requirement) -> Option<ModelBudget> {
    profile
        .description
        .as_deref()
        .and_then(read_budget)
        .or_else(|| read_budget(requirement.as_str()))
}

struct Model {
    lm: Box<dyn LanguageModel>,
    identity: String,
}

impl core::fmt::Debug for Model {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Model")
            .field("lm", &self.lm)
            .field("identity", &self.identity)
            .finish()
    }
}

/// Turns a [`DataProfile`] into a requirement sentence (paper §2.2).
///
/// Without a language model it uses the offline [`TemplateWriter`]. With one, it builds the
/// prompt ([`PromptConfig`]), asks the model, [`reduce`](crate::reduce)s and checks the answer
/// against [`Expectations`] (task type; the class count), re-asks once with the violation
/// explained when the check fails, and caches accepted answers when a cache is set.
///
/// ```
/// use modelgpt_core::{DataProfile, Modality, TaskSpec};
/// use modelgpt_llm::{RequirementGenerator, Source};
///
/// let task = TaskSpec::new("spam", Modality::Text).with_features(["body"]).with_labels(["ham", "spam"]);
/// let out = RequirementGenerator::new().generate(&DataProfile::new(task, 100, vec![60, 40]))?;
/// assert_eq!(out.source, Source::Template);
/// assert!(!out.cached);
/// # Ok::<(), modelgpt_llm::Error>(())
/// ```
#[derive(Debug)]
pub struct RequirementGenerator {
    model: Option<Model>,
    writer: TemplateWriter,
    prompt: PromptConfig,
    cache: Option<AnswerCache>,
    repair: bool,
    seed: u64,
}

impl Default for RequirementGenerator {
    fn default() -> Self {
        Self::new()
    }
}

impl RequirementGenerator {
    /// The offline generator: template writer, default prompt settings, repair on, no cache.
    pub fn new() -> Self {
        Self {
            model: None,
            writer: TemplateWriter::new(),
            prompt: PromptConfig::new(),
            cache: None,
            repair: true,
            seed: 0,
        }
    }

    /// Uses an OpenAI-compatible endpoint; its cache identity covers endpoint, model and
    /// sampling parameters.
    pub fn with_openai(self, client: OpenAiClient) -> Self {
        let identity = client.cache_identity();
        self.with_language_model_as(client, identity)
    }

    /// Uses any language model; its [`name`](LanguageModel::name) is its cache identity.
    pub fn with_language_model(self, lm: impl LanguageModel + 'static) -> Self {
        let identity = lm.name();
        self.with_language_model_as(lm, identity)
    }

    /// Uses any language model under an explicit cache identity (include everything that changes
    /// its answers: endpoint, model, parameters).
    pub fn with_language_model_as(
        mut self,
        lm: impl LanguageModel + 'static,
        identity: impl Into<String>,
    ) -> Self {
        self.model = Some(Model {
            lm: Box::new(lm),
            identity: identity.into(),
        });
        self
    }

    /// Caches accepted language-model answers in `cache`.
    pub fn with_cache(mut self, cache: AnswerCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Prompt settings (rows, token budget, sampling seed, images).
    pub fn with_prompt_config(mut self, config: PromptConfig) -> Self {
        self.prompt = config;
        self
    }

    /// Whether to re-ask once when an answer fails the checks. Default true.
    pub fn with_repair(mut self, on: bool) -> Self {
        self.repair = on;
        self
    }

    /// Seed of the template writer. Default 0.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Whether a language model (rather than the template writer) answers.
    pub fn uses_language_model(&self) -> bool {
        self.model.is_some()
    }

    /// The prompt a language model would be sent for `profile`.
    ///
    /// # Errors
    /// [`Error::PromptBudget`] when it cannot fit the token budget.
    pub fn prompt(&self, profile: &DataProfile) -> Result<Prompt> {
        self.prompt.build(profile)
    }

    /// One requirement for `profile`.
    ///
    /// # Errors
    /// From the language model (see [`OpenAiClient::chat`]), [`Error::InvalidAnswer`] when the
    /// answer (and the repaired answer) fail the checks, [`Error::PromptBudget`].
    pub fn generate(&self, profile: &DataProfile) -> Result<Generated> {
        let Some(model) = &self.model else {
            let requirement = self.writer.write(profile, self.seed);
            return Ok(Generated {
                budget: budget_of(profile, &requirement),
                requirement,
                source: Source::Template,
                cached: false,
            });
        };
        let expect = Expectations::new().with_n_classes(profile.n_classes());
        let prompt = self.prompt.build(profile)?;
        let (sentences, cached) = self.ask(model, &prompt, "single", |raw| {
            expect.accept(raw).map(|s| vec![s])
        })?;
        let requirement = sentences
            .into_iter()
            .next()
            .map(Requirement::new)
            .ok_or_else(|| Error::invalid_answer("no sentence", ""))?;
        Ok(Generated {
            budget: budget_of(profile, &requirement),
            requirement,
            source: Source::Llm,
            cached,
        })
    }

    /// `n` requirements for `profile` (a per-task pool for meta-training). With a language model
    /// this is the paper's parallel prompt (one request, `n` batches); offline it is
    /// [`TemplateWriter::pool`].
    ///
    /// # Errors
    /// As [`generate`](Self::generate); [`Error::InvalidConfig`] when `n` is 0.
    pub fn generate_pool(
        &self,
        profile: &DataProfile,
        n: usize,
    ) -> Result<(Vec<Requirement>, Source, bool)> {
        let Some(model) = &self.model else {
            return Ok((
                self.writer.pool(profile, n, self.seed),
                Source::Template,
                false,
            ));
        };
        let expect = Expectations::new().with_n_classes(profile.n_classes());
        let prompt = self.prompt.build_parallel(profile, n)?;
        let (sentences, cached) = self.ask(model, &prompt, &format!("parallel:{n}"), |raw| {
            parse_parallel(raw, n, &expect)
        })?;
        Ok((
            sentences.into_iter().map(Requirement::new).collect(),
            Source::Llm,
            cached,
        ))
    }

    /// Asks (or reads the cache), checks with `accept`, repairs once. Returns the accepted
    /// sentences and whether they came from the cache. The accepted answer is cached under the
    /// original prompt, repaired or not, so a repeated request never calls the model again.
    fn ask(
        &self,
        model: &Model,
        prompt: &Prompt,
        kind: &str,
        accept: impl Fn(&str) -> Result<Vec<String>>,
    ) -> Result<(Vec<String>, bool)> {
        let key = CacheKey::new(&model.identity, prompt, kind);
        let cached = self.cache.as_ref().and_then(|c| c.get(&key));
        let from_cache = cached.is_some();
        let first = match cached {
            Some(hit) => hit,
            None => model.lm.complete(prompt)?,
        };
        let violation = match accept(&first) {
            Ok(s) => {
                if !from_cache {
                    self.store(&key, &first);
                }
                return Ok((s, from_cache));
            }
            Err(e) => e,
        };
        let Error::InvalidAnswer { reason, .. } = &violation else {
            return Err(violation);
        };
        if !self.repair {
            return Err(violation);
        }
        let second = model.lm.complete(&repair_prompt(prompt, &first, reason))?;
        let sentences = accept(&second)?;
        self.store(&key, &second);
        Ok((sentences, false))
    }

    /// Caches an accepted answer. A cache that cannot be written only loses the speed-up, so
    /// the error is dropped rather than failing a request that succeeded.
    fn store(&self, key: &CacheKey, answer: &str) {
        if let Some(cache) = &self.cache {
            let _ = cache.put(key, answer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use modelgpt_core::{Modality, TaskSpec};
    use std::sync::{Arc, Mutex};

    /// Answers from a fixed list and records prompts.
    #[derive(Debug, Clone)]
    struct Scripted {
        answers: Arc<Mutex<Vec<String>>>,
        prompts: Arc<Mutex<Vec<Prompt>>>,
    }

    impl Scripted {
        fn new(answers: &[&str]) -> Self {
            Self {
                answers: Arc::new(Mutex::new(
                    answers.iter().rev().map(|s| s.to_string()).collect(),
                )),
                prompts: Arc::new(Mutex::new(Vec::new())),
            }
        }
    }

    impl LanguageModel for Scripted {
        fn complete(&self, prompt: &Prompt) -> modelgpt_core::Result<String> {
            self.prompts
                .lock()
                .map_err(|_| Error::EmptyAnswer.into_core())?
                .push(prompt.clone());
            self.answers
                .lock()
                .map_err(|_| Error::EmptyAnswer.into_core())?
                .pop()
                .ok_or_else(|| Error::EmptyChoices.into_core())
        }
    }

    fn profile() -> DataProfile {
        DataProfile::new(
            TaskSpec::new("t", Modality::Tabular)
                .with_features(["a"])
                .with_labels(["x", "y", "z"]),
            9,
            vec![3; 3],
        )
    }

    #[test]
    fn repairs_once_then_succeeds() {
        let lm = Scripted::new(&["Hello!", "A 3-class tabular classification task."]);
        let g = RequirementGenerator::new().with_language_model(lm.clone());
        let out = g.generate(&profile()).unwrap();
        assert_eq!(
            out.requirement.as_str(),
            "A 3-class tabular classification task."
        );
        assert_eq!(out.source, Source::Llm);
        let prompts = lm.prompts.lock().unwrap();
        assert_eq!(prompts.len(), 2);
        assert!(
            prompts[1]
                .messages
                .last()
                .unwrap()
                .content
                .contains("does not name the task type")
        );
    }

    #[test]
    fn second_failure_is_invalid_answer() {
        let lm = Scripted::new(&["Hello!", "A classification task."]);
        match RequirementGenerator::new()
            .with_language_model(lm)
            .generate(&profile())
        {
            Err(Error::InvalidAnswer { reason, .. }) => {
                assert!(reason.contains("number of classes"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        let lm = Scripted::new(&["Hello!"]);
        assert!(matches!(
            RequirementGenerator::new()
                .with_language_model(lm)
                .with_repair(false)
                .generate(&profile()),
            Err(Error::InvalidAnswer { .. })
        ));
    }

    #[test]
    fn model_errors_pass_through_typed() {
        let lm = Scripted::new(&[]);
        assert!(matches!(
            RequirementGenerator::new()
                .with_language_model(lm)
                .generate(&profile()),
            Err(Error::EmptyChoices)
        ));
    }

    #[test]
    fn cache_hits_skip_the_model() {
        let dir = tempfile::tempdir().unwrap();
        let cache = AnswerCache::open(dir.path()).unwrap();
        let lm = Scripted::new(&["Nope.", "A three-class classification."]);
        let g = RequirementGenerator::new()
            .with_language_model_as(lm.clone(), "scripted")
            .with_cache(cache);
        let a = g.generate(&profile()).unwrap();
        assert!(!a.cached);
        let b = g.generate(&profile()).unwrap();
        assert!(
            b.cached,
            "the repaired answer is cached under the original prompt"
        );
        assert_eq!(a.requirement, b.requirement);
        assert_eq!(lm.prompts.lock().unwrap().len(), 2);
    }

    #[test]
    fn pools_offline_and_parallel() {
        let (pool, src, _) = RequirementGenerator::new()
            .generate_pool(&profile(), 5)
            .unwrap();
        assert_eq!((pool.len(), src), (5, Source::Template));
        let lm =
            Scripted::new(&["2\nA 3-class classification.\nClassify rows into three classes."]);
        let (pool, src, _) = RequirementGenerator::new()
            .with_language_model(lm)
            .generate_pool(&profile(), 2)
            .unwrap();
        assert_eq!((pool.len(), src), (2, Source::Llm));
        // The template writer through the LanguageModel path answers parallel prompts too.
        let (pool, _, _) = RequirementGenerator::new()
            .with_language_model(TemplateWriter::new())
            .generate_pool(&profile(), 4)
            .unwrap();
        assert_eq!(pool.len(), 4);
    }
}
