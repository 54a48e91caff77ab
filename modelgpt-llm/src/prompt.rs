//! Prompt templates of the Requirement Generator (paper §2.2).
//!
//! A prompt is one-shot: a system message with the rules, one worked example (a user turn showing a
//! small data set and the assistant's one-sentence answer), then the user's data in the same layout:
//!
//! ```text
//! Background: census data from 1994          (the description, when given)
//! Modality: tabular
//! Task: adult
//! Classes (2): <=50K, >50K
//! Features (14): age, workclass, ...
//! Rows: 32561 (<=50K: 24720, >50K: 7841)
//! Examples:
//! [input] {"age": 39, "workclass": "State-gov", ...} [label] <=50K      (tabular)
//! [title] Great film [review] I loved it [label] positive               (text)
//! Write ONE sentence ... Any other output is forbidden.
//! ```
//!
//! Images show a background sentence and the labels, the records' descriptive fields (size,
//! intensity) in the text layout, and the attached pictures for vision models. The *parallel*
//! variant shows several batches of rows and asks for a first line with the number of batches,
//! then one sentence per batch; see [`parse_parallel`](crate::parse_parallel).
//!
//! ## Token budget
//!
//! Prompts are kept within [`PromptConfig::token_budget`] approximate tokens, counted as
//! `ceil(chars / 4)` over every message (plus 4 per message for the chat framing), the usual rule
//! of thumb for English text with BPE tokenisers. Attached images are not counted. When a prompt
//! is too long, example rows are dropped first (keeping one per class as long as possible, since
//! rows are ordered round-robin over the classes), then the worked example; if even that does not
//! fit, [`Error::PromptBudget`] is returned.

use std::collections::BTreeMap;

use modelgpt_core::{DataProfile, ImageAttachment, Message, Modality, Prompt, Role, SampleRecord};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::error::{Error, Result};

/// The rule every prompt ends with (paper §2.2: "any other output is forbidden").
pub(crate) const SINGLE_INSTRUCTION: &str = "Write ONE sentence that describes this task for a model generator: state the task \
type (e.g. classification), the number of classes and what is specific to this data. Any other output is forbidden.";

const SYSTEM: &str = "You are an expert machine-learning engineer. You turn a description of a labelled data set \
into a requirement: ONE sentence that states the task type, the number of classes and what is specific to the \
data. Any other output is forbidden.";

/// Approximate token count of `text`: `ceil(chars / 4)`.
///
/// ```
/// assert_eq!(modelgpt_llm::estimate_tokens("abcdefgh"), 2);
/// assert_eq!(modelgpt_llm::estimate_tokens("abcdefghi"), 3);
/// ```
pub fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}

/// Approximate token count of a whole prompt: [`estimate_tokens`] of each message plus 4 per
/// message for the chat framing. Images are not counted.
pub fn prompt_tokens(prompt: &Prompt) -> usize {
    prompt
        .messages
        .iter()
        .map(|m| estimate_tokens(&m.content) + 4)
        .sum()
}

/// How requirement prompts are built: rows shown, token budget, seed, attachments.
///
/// Prompts are one-shot (paper §2.2): a system message with the rules, one worked example (a
/// user turn with a small data set of the same modality and the assistant's one-sentence answer),
/// then the user's data: `Background:` (the description), `Modality:`, `Task:`, `Classes (k):`,
/// `Features (n):`, class counts, example rows (tabular `[input] {json} [label] y`, text and
/// images `[field] value ... [label] y`, ordered round-robin over the classes so every class
/// shows), and the instruction "Write ONE sentence ... Any other output is forbidden."
///
/// **Token budget.** Tokens are approximated as `ceil(chars / 4)` per message plus 4 per
/// message ([`prompt_tokens`]); images are not counted. Over budget, rows are dropped first, then
/// the worked example; if nothing fits, [`Error::PromptBudget`].
///
/// ```
/// use modelgpt_core::{DataProfile, Modality, TaskSpec};
/// use modelgpt_llm::PromptConfig;
///
/// let task = TaskSpec::new("iris", Modality::Tabular).with_features(["petal length"]).with_labels(["a", "b"]);
/// let prompt = PromptConfig::new().with_token_budget(800).build(&DataProfile::new(task, 10, vec![5, 5]))?;
/// assert!(prompt.text().contains("Classes (2): a, b"));
/// assert!(modelgpt_llm::prompt_tokens(&prompt) <= 800);
/// # Ok::<(), modelgpt_llm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PromptConfig {
    /// Most example rows shown (per batch in the parallel variant). Default 8.
    pub max_rows: usize,
    /// Budget in approximate tokens (`ceil(chars / 4)` per message + 4). Default 1500.
    pub token_budget: usize,
    /// Longest value of a field shown, in characters; longer values are cut with `...`. Default 200.
    pub max_value_chars: usize,
    /// Longest description shown, in characters. Default 600.
    pub max_description_chars: usize,
    /// Seed of the row sampling. Default 0.
    pub seed: u64,
    /// Whether to include the worked example (paper: one-shot). Default true.
    pub one_shot: bool,
    /// Images to attach to the user's turn, for vision-capable models. Default none.
    pub images: Vec<ImageAttachment>,
}

impl Default for PromptConfig {
    fn default() -> Self {
        Self {
            max_rows: 8,
            token_budget: 1500,
            max_value_chars: 200,
            max_description_chars: 600,
            seed: 0,
            one_shot: true,
            images: Vec::new(),
        }
    }
}

impl PromptConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`max_rows`](Self::max_rows).
    pub fn with_max_rows(mut self, n: usize) -> Self {
        self.max_rows = n;
        self
    }

    /// Sets [`token_budget`](Self::token_budget).
    pub fn with_token_budget(mut self, tokens: usize) -> Self {
        self.token_budget = tokens;
        self
    }

    /// Sets [`max_value_chars`](Self::max_value_chars).
    pub fn with_max_value_chars(mut self, n: usize) -> Self {
        self.max_value_chars = n;
        self
    }

    /// Sets [`seed`](Self::seed).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets [`one_shot`](Self::one_shot).
    pub fn with_one_shot(mut self, on: bool) -> Self {
        self.one_shot = on;
        self
    }

    /// Sets [`images`](Self::images).
    pub fn with_images(mut self, images: Vec<ImageAttachment>) -> Self {
        self.images = images;
        self
    }

    /// Builds the one-sentence prompt for `profile`.
    ///
    /// # Errors
    /// [`Error::PromptBudget`] when even the smallest prompt exceeds the budget.
    pub fn build(&self, profile: &DataProfile) -> Result<Prompt> {
        let rows = sample_rows(
            &profile.records,
            profile.n_classes(),
            &profile.task.labels,
            self.max_rows,
            self.seed,
        );
        self.fit(
            |k, example| {
                let mut body = self.summary(profile);
                body.push_str(&self.examples_block(profile, &rows[..k.min(rows.len())]));
                body.push_str(SINGLE_INSTRUCTION);
                self.assemble(profile.task.modality, example, body, false)
            },
            rows.len(),
        )
    }

    /// Builds the paper's parallel prompt: `n_batches` batches of rows from `profile`, answered by a
    /// first line with the number of batches and then one sentence per batch.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `n_batches` is 0; [`Error::PromptBudget`] as for
    /// [`build`](Self::build).
    pub fn build_parallel(&self, profile: &DataProfile, n_batches: usize) -> Result<Prompt> {
        if n_batches == 0 {
            return Err(Error::InvalidConfig {
                field: "n_batches",
                reason: "at least one batch is needed".into(),
            });
        }
        let batches: Vec<Vec<&SampleRecord>> = (0..n_batches)
            .map(|b| {
                let seed = self
                    .seed
                    .wrapping_add(0x9E37_79B9_7F4A_7C15u64.wrapping_mul(b as u64 + 1));
                sample_rows(
                    &profile.records,
                    profile.n_classes(),
                    &profile.task.labels,
                    self.max_rows,
                    seed,
                )
            })
            .collect();
        let most = batches.iter().map(Vec::len).max().unwrap_or(0);
        self.fit(
            |k, example| {
                let mut body = self.summary(profile);
                body.push_str(&format!("Batches: {n_batches}\n"));
                for (i, batch) in batches.iter().enumerate() {
                    body.push_str(&format!("Batch {}:\n", i + 1));
                    body.push_str(&self.rows_block(profile, &batch[..k.min(batch.len())]));
                }
                body.push_str(&parallel_instruction(n_batches));
                self.assemble(profile.task.modality, example, body, true)
            },
            most,
        )
    }

    /// Tries `render(k, with_example)` from the largest prompt down to the smallest and returns the
    /// first that fits the budget.
    fn fit(&self, render: impl Fn(usize, bool) -> Prompt, n_rows: usize) -> Result<Prompt> {
        let example_options: &[bool] = if self.one_shot {
            &[true, false]
        } else {
            &[false]
        };
        let mut smallest = usize::MAX;
        for &example in example_options {
            // With the example, keep at least one row before giving the example up.
            let lowest = if example && n_rows > 0 { 1 } else { 0 };
            for k in (lowest..=n_rows).rev() {
                let prompt = render(k, example);
                let tokens = prompt_tokens(&prompt);
                if tokens <= self.token_budget {
                    return Ok(prompt);
                }
                smallest = smallest.min(tokens);
            }
        }
        Err(Error::PromptBudget {
            budget: self.token_budget,
            needed: smallest,
        })
    }

    fn assemble(&self, modality: Modality, example: bool, body: String, parallel: bool) -> Prompt {
        let mut prompt = Prompt::new().system(SYSTEM);
        if example {
            let (user, answer) = worked_example(modality, parallel);
            prompt = prompt.user(user).assistant(answer);
        }
        let mut message = Message::new(Role::User, body);
        message.images = self.images.clone();
        prompt.push(message);
        prompt
    }

    /// Background, modality, task, classes, features and sizes.
    fn summary(&self, profile: &DataProfile) -> String {
        let task = &profile.task;
        let mut s = String::new();
        if let Some(d) = profile
            .description
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            s.push_str(&format!(
                "Background: {}\n",
                one_line(&cut(d, self.max_description_chars))
            ));
        } else if task.modality == Modality::Image {
            // Image profiles describe each picture in an `image` field ("28x28 grayscale").
            let kind = profile
                .records
                .first()
                .and_then(|r| r.fields.iter().find(|(k, _)| k == "image"))
                .map(|(_, v)| format!("{} ", one_line(&cut(v, 40))))
                .unwrap_or_default();
            s.push_str(&format!(
                "Background: a folder of labelled {kind}pictures, one sub-folder per class.\n"
            ));
        }
        s.push_str(&format!("Modality: {}\n", task.modality));
        if !task.name.trim().is_empty() {
            s.push_str(&format!("Task: {}\n", one_line(&task.name)));
        }
        s.push_str(&format!(
            "Classes ({}): {}\n",
            task.n_classes(),
            list(&task.labels, 30)
        ));
        if task.modality != Modality::Image && !task.features.is_empty() {
            s.push_str(&format!(
                "Features ({}): {}\n",
                task.n_features(),
                list(&task.features, 20)
            ));
        }
        if profile.n_rows > 0 {
            let counts: Vec<String> = task
                .labels
                .iter()
                .zip(&profile.class_counts)
                .take(30)
                .map(|(l, c)| format!("{}: {c}", one_line(l)))
                .collect();
            let noun = if task.modality == Modality::Image {
                "Images"
            } else {
                "Rows"
            };
            if counts.is_empty() {
                s.push_str(&format!("{noun}: {}\n", profile.n_rows));
            } else {
                s.push_str(&format!(
                    "{noun}: {} ({})\n",
                    profile.n_rows,
                    counts.join(", ")
                ));
            }
        }
        s
    }

    fn examples_block(&self, profile: &DataProfile, rows: &[&SampleRecord]) -> String {
        let mut s = String::new();
        if profile.task.modality == Modality::Image && !self.images.is_empty() {
            s.push_str(&format!(
                "The {} attached images are examples from the data set.\n",
                self.images.len()
            ));
        }
        if !rows.is_empty() {
            s.push_str("Examples:\n");
            s.push_str(&self.rows_block(profile, rows));
        }
        s
    }

    fn rows_block(&self, profile: &DataProfile, rows: &[&SampleRecord]) -> String {
        let mut s = String::new();
        for r in rows {
            match profile.task.modality {
                Modality::Tabular => s.push_str(&format!(
                    "[input] {} [label] {}\n",
                    row_json(&r.fields, self.max_value_chars),
                    one_line(&r.label)
                )),
                Modality::Text | Modality::Image => {
                    for (field, value) in &r.fields {
                        s.push_str(&format!(
                            "[{}] {} ",
                            one_line(field),
                            one_line(&cut(value, self.max_value_chars))
                        ));
                    }
                    s.push_str(&format!("[label] {}\n", one_line(&r.label)));
                }
            }
        }
        s
    }
}

/// The instruction of the parallel variant.
fn parallel_instruction(n: usize) -> String {
    format!(
        "For EACH batch write ONE sentence that describes the task for a model generator: state the task type \
(e.g. classification), the number of classes and what is specific to the data. Answer with exactly {} lines: \
the first line is the number of batches ({n}), then one sentence per batch in order. Any other output is forbidden.",
        n + 1
    )
}

/// A repair turn: the original prompt, the model's answer, and a request to fix `violation`.
pub fn repair_prompt(original: &Prompt, answer: &str, violation: &str) -> Prompt {
    let mut p = original.clone();
    p.push(Message::new(
        Role::Assistant,
        crate::error::excerpt(answer, 1000),
    ));
    p.push(Message::new(
        Role::User,
        format!(
            "Your answer breaks the rules: {violation}. Reply again with ONE sentence that states the task type \
(e.g. classification), the number of classes and what is specific to this data. Any other output is forbidden."
        ),
    ));
    p
}

/// Up to `max` records, ordered round-robin over the classes (so every class shows whenever
/// `max >= n_classes` and the records contain it), shuffled within each class by `seed`.
fn sample_rows<'a>(
    records: &'a [SampleRecord],
    n_classes: usize,
    labels: &[String],
    max: usize,
    seed: u64,
) -> Vec<&'a SampleRecord> {
    let mut rng = StdRng::seed_from_u64(seed);
    // Group by label, in label order first, then any label not in the task spec.
    let mut groups: BTreeMap<usize, Vec<&SampleRecord>> = BTreeMap::new();
    let mut extra: Vec<&str> = Vec::new();
    for r in records {
        let idx = match labels.iter().position(|l| *l == r.label) {
            Some(i) => i,
            None => {
                let j = extra.iter().position(|l| *l == r.label).unwrap_or_else(|| {
                    extra.push(&r.label);
                    extra.len() - 1
                });
                n_classes + j
            }
        };
        groups.entry(idx).or_default().push(r);
    }
    let mut groups: Vec<Vec<&SampleRecord>> = groups.into_values().collect();
    for g in &mut groups {
        g.shuffle(&mut rng);
    }
    // Classes take turns; the order of the classes in each round is shuffled too.
    let mut out = Vec::with_capacity(max.min(records.len()));
    let mut round = 0;
    while out.len() < max {
        let mut order: Vec<usize> = (0..groups.len())
            .filter(|&g| round < groups[g].len())
            .collect();
        if order.is_empty() {
            break;
        }
        order.shuffle(&mut rng);
        for g in order {
            if out.len() == max {
                break;
            }
            out.push(groups[g][round]);
        }
        round += 1;
    }
    out
}

/// `{"a": 1.5, "b": "x"}` in column order; numbers stay numbers.
fn row_json(fields: &[(String, String)], max_value_chars: usize) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|(k, v)| {
            let v = v.trim();
            let value = match v.parse::<f64>() {
                Ok(x) if x.is_finite() && !v.starts_with('+') && !v.ends_with('.') => v.to_string(),
                _ => json_string(&cut(v, max_value_chars)),
            };
            format!("{}: {value}", json_string(k))
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

fn json_string(s: &str) -> String {
    // Serialising a `&str` cannot fail.
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{}\"", s.replace('"', "'")))
}

/// `a, b, c` or `a, b, ... and 7 more`.
pub(crate) fn list(items: &[String], max: usize) -> String {
    let shown: Vec<String> = items.iter().take(max).map(|s| one_line(s)).collect();
    let mut s = shown.join(", ");
    if items.len() > max {
        s.push_str(&format!(", ... and {} more", items.len() - max));
    }
    s
}

/// Collapses whitespace (newlines included) to single spaces.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn cut(s: &str, max: usize) -> String {
    crate::error::excerpt(s, max)
}

/// One worked example per modality: the user turn and the expected answer.
fn worked_example(modality: Modality, parallel: bool) -> (String, String) {
    let (summary, rows, answers): (&str, [&str; 2], [&str; 2]) = match modality {
        Modality::Tabular => (
            "Modality: tabular\nTask: iris\nClasses (3): setosa, versicolor, virginica\n\
Features (4): sepal length, sepal width, petal length, petal width\nRows: 150 (setosa: 50, versicolor: 50, virginica: 50)\n",
            [
                "[input] {\"sepal length\": 5.1, \"sepal width\": 3.5, \"petal length\": 1.4, \"petal width\": 0.2} [label] setosa\n\
[input] {\"sepal length\": 6.4, \"sepal width\": 3.2, \"petal length\": 4.5, \"petal width\": 1.5} [label] versicolor\n\
[input] {\"sepal length\": 6.3, \"sepal width\": 3.3, \"petal length\": 6.0, \"petal width\": 2.5} [label] virginica\n",
                "[input] {\"sepal length\": 4.9, \"sepal width\": 3.0, \"petal length\": 1.4, \"petal width\": 0.2} [label] setosa\n\
[input] {\"sepal length\": 5.8, \"sepal width\": 2.7, \"petal length\": 5.1, \"petal width\": 1.9} [label] virginica\n",
            ],
            [
                "This is a 3-class tabular classification task to recognise the species of an iris flower (setosa, versicolor or virginica) from its sepal and petal measurements.",
                "Classify iris flowers into 3 species from four sepal and petal measurements in centimetres.",
            ],
        ),
        Modality::Text => (
            "Modality: text\nTask: movie reviews\nClasses (2): negative, positive\nFeatures (1): review\n\
Rows: 2000 (negative: 1000, positive: 1000)\n",
            [
                "[review] A tender, funny film with a cast at the top of its game. [label] positive\n\
[review] Two hours of my life I will never get back. [label] negative\n",
                "[review] The plot is thin but the music carries it. [label] positive\n\
[review] Dull, predictable and far too long. [label] negative\n",
            ],
            [
                "This is a 2-class text classification task to decide whether a short English movie review is positive or negative.",
                "Classify English film reviews into 2 sentiment classes, positive and negative.",
            ],
        ),
        Modality::Image => (
            "Background: scanned handwritten digits, 28x28 grey-scale pixels.\nModality: image\nTask: digits\n\
Classes (10): 0, 1, 2, 3, 4, 5, 6, 7, 8, 9\nImages: 10000\n",
            ["", ""],
            [
                "This is a 10-class image classification task to recognise handwritten digits from 0 to 9 in small grey-scale scans.",
                "Classify 28x28 grey-scale scans of handwritten digits into 10 classes, one per digit.",
            ],
        ),
    };
    if parallel {
        let mut user = format!("{summary}Batches: 2\n");
        for (i, rows) in rows.iter().enumerate() {
            user.push_str(&format!("Batch {}:\n{rows}", i + 1));
        }
        user.push_str(&parallel_instruction(2));
        (user, format!("2\n{}\n{}", answers[0], answers[1]))
    } else {
        let examples = if rows[0].is_empty() {
            String::new()
        } else {
            format!("Examples:\n{}", rows[0])
        };
        (
            format!("{summary}{examples}{SINGLE_INSTRUCTION}"),
            answers[0].to_string(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use modelgpt_core::TaskSpec;

    fn profile(n_per_class: usize) -> DataProfile {
        let task = TaskSpec::new("toy", Modality::Tabular)
            .with_features(["x", "colour"])
            .with_labels(["a", "b", "c"]);
        let mut p = DataProfile::new(task, 3 * n_per_class, vec![n_per_class; 3]);
        for i in 0..n_per_class {
            for l in ["a", "b", "c"] {
                p.records.push(SampleRecord {
                    fields: vec![
                        ("x".into(), format!("{i}.5")),
                        ("colour".into(), "red \"dark\"".into()),
                    ],
                    label: l.into(),
                });
            }
        }
        p.with_description("Synthetic\ndata for tests.")
    }

    #[test]
    fn every_class_shows_and_rows_are_json() {
        let p = PromptConfig::new()
            .with_max_rows(3)
            .build(&profile(10))
            .unwrap();
        let user = &p.messages.last().unwrap().content;
        for l in ["a", "b", "c"] {
            assert!(user.contains(&format!("[label] {l}\n")), "{user}");
        }
        assert!(user.contains(r#"[input] {"x": "#), "{user}");
        assert!(user.contains(r#""colour": "red \"dark\"""#), "{user}");
        assert!(user.contains("Background: Synthetic data for tests.\n"));
        assert!(user.ends_with("Any other output is forbidden."));
        assert_eq!(p.messages.len(), 4); // system, example user, example answer, user
        assert_eq!(p.messages[2].role, Role::Assistant);
    }

    #[test]
    fn sampling_is_seeded() {
        let a = PromptConfig::new()
            .with_seed(1)
            .build(&profile(10))
            .unwrap();
        let b = PromptConfig::new()
            .with_seed(1)
            .build(&profile(10))
            .unwrap();
        let c = PromptConfig::new()
            .with_seed(2)
            .build(&profile(10))
            .unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn budget_drops_rows_then_example_then_fails() {
        let big = PromptConfig::new()
            .with_max_rows(30)
            .with_token_budget(100_000)
            .build(&profile(10))
            .unwrap();
        let full = prompt_tokens(&big);
        let budget = full - 40;
        let p = PromptConfig::new()
            .with_max_rows(30)
            .with_token_budget(budget)
            .build(&profile(10))
            .unwrap();
        assert!(prompt_tokens(&p) <= budget);
        assert_eq!(p.messages.len(), 4);
        let tiny = PromptConfig::new()
            .with_token_budget(200)
            .build(&profile(10))
            .unwrap();
        assert_eq!(
            tiny.messages.len(),
            2,
            "the worked example goes before the summary"
        );
        match PromptConfig::new()
            .with_token_budget(10)
            .build(&profile(10))
        {
            Err(Error::PromptBudget { budget: 10, needed }) => assert!(needed > 10),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parallel_prompt_has_batches() {
        let p = PromptConfig::new()
            .with_max_rows(3)
            .build_parallel(&profile(10), 3)
            .unwrap();
        let user = &p.messages.last().unwrap().content;
        assert!(user.contains("Batches: 3\nBatch 1:\n"));
        assert!(user.contains("Batch 3:\n"));
        assert!(user.contains("exactly 4 lines"));
        assert!(PromptConfig::new().build_parallel(&profile(1), 0).is_err());
    }

    #[test]
    fn text_and_image_layouts() {
        let task = TaskSpec::new("news", Modality::Text)
            .with_features(["title", "body"])
            .with_labels(["x", "y"]);
        let mut p = DataProfile::new(task, 2, vec![1, 1]);
        p.records.push(SampleRecord {
            fields: vec![
                ("title".into(), "Hello".into()),
                ("body".into(), "line one\nline two".into()),
            ],
            label: "x".into(),
        });
        let prompt = PromptConfig::new().build(&p).unwrap();
        assert!(
            prompt
                .text()
                .contains("[title] Hello [body] line one line two [label] x\n")
        );

        let task = TaskSpec::new("pics", Modality::Image).with_labels(["cat", "dog"]);
        let img = ImageAttachment {
            mime: "image/png".into(),
            bytes: vec![1, 2, 3],
        };
        let prompt = PromptConfig::new()
            .with_images(vec![img])
            .build(&DataProfile::new(task, 4, vec![2, 2]))
            .unwrap();
        let last = prompt.messages.last().unwrap();
        assert_eq!(last.images.len(), 1);
        assert!(
            last.content
                .contains("Background: a folder of labelled pictures")
        );
        assert!(last.content.contains("Images: 4 (cat: 2, dog: 2)"));
    }

    #[test]
    fn long_lists_are_cut() {
        let items: Vec<String> = (0..25).map(|i| format!("f{i}")).collect();
        assert!(list(&items, 20).ends_with("f19, ... and 5 more"));
    }
}
