//! The offline requirement writer: seeded sentences from a data profile, no network.

use modelgpt_core::{DataProfile, LanguageModel, Modality, Prompt, Requirement, Role};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use crate::prompt::one_line;

/// What the writer knows about a task; built from a [`DataProfile`] or read back from a prompt.
#[derive(Debug, Clone, Default)]
struct Facts {
    modality: Option<Modality>,
    name: String,
    n_classes: usize,
    labels: Vec<String>,
    n_features: usize,
    features: Vec<String>,
    description: Option<String>,
}

impl Facts {
    fn from_profile(p: &DataProfile) -> Self {
        Facts {
            modality: Some(p.task.modality),
            name: tidy(&p.task.name),
            n_classes: p.n_classes(),
            labels: p
                .task
                .labels
                .iter()
                .map(|l| tidy(l))
                .filter(|l| !l.is_empty())
                .collect(),
            n_features: p.task.n_features(),
            features: p
                .task
                .features
                .iter()
                .map(|f| tidy(f))
                .filter(|f| !f.is_empty())
                .collect(),
            description: p
                .description
                .as_deref()
                .map(one_line)
                .filter(|d| !d.is_empty()),
        }
    }

    /// Reads the summary lines our prompts contain (`Modality:`, `Classes (k): ...`, ...).
    fn from_prompt_text(text: &str) -> Self {
        let mut f = Facts::default();
        for line in text.lines() {
            let line = line.trim();
            if let Some(v) = line.strip_prefix("Modality:") {
                f.modality = match v.trim() {
                    "tabular" => Some(Modality::Tabular),
                    "text" => Some(Modality::Text),
                    "image" => Some(Modality::Image),
                    _ => None,
                };
            } else if let Some(v) = line.strip_prefix("Task:") {
                f.name = tidy(v);
            } else if let Some(v) = line.strip_prefix("Background:") {
                f.description = Some(v.trim().to_string()).filter(|d| !d.is_empty());
            } else if let Some((n, items)) = counted_list(line, "Classes") {
                f.n_classes = n;
                f.labels = items;
            } else if let Some((n, items)) = counted_list(line, "Features") {
                f.n_features = n;
                f.features = items;
            }
        }
        f
    }
}

/// One line without sentence-ending punctuation, so names never split a generated sentence.
fn tidy(s: &str) -> String {
    one_line(s)
        .replace(". ", " ")
        .replace("! ", " ")
        .replace("? ", " ")
        .trim_end_matches(['.', '!', '?'])
        .trim()
        .to_string()
}

/// Parses `Name (n): a, b, ... and 3 more`.
fn counted_list(line: &str, name: &str) -> Option<(usize, Vec<String>)> {
    let rest = line.strip_prefix(name)?.trim_start().strip_prefix('(')?;
    let (n, items) = rest.split_once("):")?;
    let n = n.trim().parse().ok()?;
    let items = items
        .split(", ")
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "..." && !s.starts_with("... and "))
        .map(tidy)
        .collect();
    Some((n, items))
}

/// Writes requirement sentences from a data profile with templates: deterministic for a seed,
/// varied in wording across seeds, and always valid for [`Expectations`](crate::Expectations)
/// (they name the task type and the class count). The default language model everywhere, since it
/// needs no network; [`pool`](Self::pool) fills the per-task sentence pools used in
/// meta-training (paper §2.2: five sentences per task).
///
/// As a [`LanguageModel`] it reads the summary lines of prompts built by
/// [`PromptConfig`](crate::PromptConfig) (and answers parallel prompts in their format).
///
/// ```
/// use modelgpt_core::{DataProfile, Modality, TaskSpec};
/// use modelgpt_llm::TemplateWriter;
///
/// let task = TaskSpec::new("wine", Modality::Tabular)
///     .with_features(["alcohol", "malic acid", "ash"])
///     .with_labels(["class 1", "class 2", "class 3"]);
/// let profile = DataProfile::new(task, 178, vec![59, 71, 48]);
/// let r = TemplateWriter::new().write(&profile, 7);
/// assert_eq!(r, TemplateWriter::new().write(&profile, 7));
/// assert!(r.as_str().contains("3") || r.as_str().contains("three"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateWriter {
    seed: u64,
}

impl TemplateWriter {
    /// A writer whose [`LanguageModel::complete`] uses seed 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the seed [`LanguageModel::complete`] uses.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// One requirement sentence for `profile`; the same seed gives the same sentence.
    pub fn write(&self, profile: &DataProfile, seed: u64) -> Requirement {
        Requirement::new(compose(&Facts::from_profile(profile), seed))
    }

    /// `n` requirement sentences for `profile`, distinct whenever the templates allow it.
    pub fn pool(&self, profile: &DataProfile, n: usize, seed: u64) -> Vec<Requirement> {
        pool_of(&Facts::from_profile(profile), n, seed)
            .into_iter()
            .map(Requirement::new)
            .collect()
    }
}

fn pool_of(facts: &Facts, n: usize, seed: u64) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(n);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut tries = 0;
    while out.len() < n && tries < n * 16 + 16 {
        let s = compose(facts, rng.random());
        if !out.contains(&s) {
            out.push(s);
        }
        tries += 1;
    }
    // Few templates apply (e.g. nothing but a class count): repeat rather than return fewer.
    let mut i = 0;
    while out.len() < n && !out.is_empty() {
        out.push(out[i].clone());
        i += 1;
    }
    out
}

impl LanguageModel for TemplateWriter {
    /// Answers from the last user message that carries a task summary; for a parallel prompt
    /// (`Batches: n`) answers with the count line and `n` sentences.
    fn complete(&self, prompt: &Prompt) -> modelgpt_core::Result<String> {
        let text = prompt
            .messages
            .iter()
            .rev()
            .filter(|m| m.role == Role::User)
            .map(|m| m.content.as_str())
            .find(|c| c.contains("Modality:"))
            .or_else(|| {
                prompt
                    .messages
                    .iter()
                    .rev()
                    .find(|m| m.role == Role::User)
                    .map(|m| m.content.as_str())
            })
            .unwrap_or("");
        let facts = Facts::from_prompt_text(text);
        let batches = text.lines().find_map(|l| {
            l.trim()
                .strip_prefix("Batches:")
                .and_then(|n| n.trim().parse::<usize>().ok())
        });
        Ok(match batches {
            Some(n) if n > 0 => {
                let lines = pool_of(&facts, n, self.seed);
                format!("{n}\n{}", lines.join("\n"))
            }
            _ => compose(&facts, self.seed),
        })
    }

    fn name(&self) -> String {
        "template".into()
    }
}

const NUMBER_WORDS: &[&str] = &[
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve",
];

/// Builds one sentence. Every template names the task type ("classification"/"classify"/
/// "classifier") and states the class count when it is known.
fn compose(f: &Facts, seed: u64) -> String {
    let mut rng = StdRng::seed_from_u64(seed);
    let modality = f.modality.map(|m| m.as_str()).unwrap_or("data");
    let (item, items) = match f.modality {
        Some(Modality::Tabular) => *pick(
            &mut rng,
            &[
                ("row", "rows"),
                ("record", "records"),
                ("sample", "samples"),
            ],
        ),
        Some(Modality::Text) => *pick(
            &mut rng,
            &[
                ("text", "texts"),
                ("document", "documents"),
                ("passage", "passages"),
            ],
        ),
        Some(Modality::Image) => *pick(&mut rng, &[("image", "images"), ("picture", "pictures")]),
        None => ("example", "examples"),
    };
    let k = f.n_classes;
    // Class count in digits or words, "k-class" or "k-way".
    let k_word = if k > 0 && k < NUMBER_WORDS.len() && rng.random_bool(0.4) {
        NUMBER_WORDS[k].to_string()
    } else {
        k.to_string()
    };
    let k_adj = if k == 2 && rng.random_bool(0.3) {
        "binary (2-class)".to_string()
    } else {
        format!("{k}-{}", pick(&mut rng, &["class", "way", "category"]))
    };
    let labels = label_phrase(f, &mut rng);
    let inputs = input_phrase(f, &mut rng);
    let hint = f.description.as_deref().map(hint_phrase);
    let subject = if f.name.is_empty() || f.name.contains(['/', '\\']) {
        None
    } else {
        Some(f.name.as_str())
    };

    let mut options: Vec<String> = Vec::new();
    if k > 0 {
        options.push(format!(
            "This is a {k_adj} {modality} classification task to sort {items} into {labels}"
        ));
        options.push(format!(
            "Classify each {item} into one of {k_word} classes ({labels})"
        ));
        options.push(format!(
            "Build a {modality} classifier that assigns {items} to {k_word} categories: {labels}"
        ));
        options.push(format!(
            "A {k_adj} classification problem on {modality} data, predicting {labels}"
        ));
        options.push(format!(
            "Train a model for {modality} classification with {k_word} classes, namely {labels}"
        ));
        if let Some(name) = subject {
            options.push(format!("Predict the {name} class of each {item}, a {k_adj} {modality} classification task over {labels}"));
        }
    } else {
        options.push(format!(
            "This is a {modality} classification task on {items}"
        ));
        options.push(format!("Classify {modality} {items} into their categories"));
    }
    let mut sentence = pick(&mut rng, &options).clone();
    if let Some(inputs) = inputs {
        sentence.push_str(&format!(" {inputs}"));
    }
    if let Some(hint) = hint.filter(|h| !h.is_empty()) {
        let with_hint = match rng.random_range(0..3) {
            0 => format!(" ({hint})"),
            1 => format!("; background: {hint}"),
            _ => format!(", for {hint}"),
        };
        sentence.push_str(&with_hint);
    }
    sentence.push('.');
    sentence
}

fn pick<'a, T>(rng: &mut StdRng, options: &'a [T]) -> &'a T {
    // `options` is never empty at the call sites (fixed, non-empty lists).
    &options[rng.random_range(0..options.len())]
}

/// "setosa, versicolor or virginica" (shuffled order, at most five names shown).
fn label_phrase(f: &Facts, rng: &mut StdRng) -> String {
    if f.labels.is_empty() {
        return "its classes".into();
    }
    let mut labels: Vec<&str> = f.labels.iter().map(String::as_str).collect();
    if rng.random_bool(0.5) {
        labels.shuffle(rng);
    }
    let shown = labels.len().min(5);
    let hidden = f.n_classes.max(labels.len()) - shown;
    let quoted: Vec<String> = labels[..shown].iter().map(|l| quote_label(l)).collect();
    if hidden > 0 {
        format!("{} and {hidden} more", quoted.join(", "))
    } else if shown == 1 {
        quoted[0].clone()
    } else {
        let (last, first) = quoted
            .split_last()
            .map(|(l, f)| (l.clone(), f.join(", ")))
            .unwrap_or_default();
        format!("{first} and {last}")
    }
}

/// Labels that are bare numbers or very short are quoted so the sentence stays readable, and
/// digit labels never pass for the class count.
fn quote_label(l: &str) -> String {
    if l.chars().all(|c| c.is_ascii_digit()) {
        format!("'{l}'")
    } else {
        l.to_string()
    }
}

/// "from sepal length, sepal width and 2 more features" / "from the review text".
fn input_phrase(f: &Facts, rng: &mut StdRng) -> Option<String> {
    match f.modality {
        Some(Modality::Image) => Some(
            pick(
                rng,
                &[
                    "from their pixels",
                    "from the picture content",
                    "from the pixel values",
                ],
            )
            .to_string(),
        ),
        _ if f.features.is_empty() => None,
        Some(Modality::Text) => {
            let fields = join_and(&f.features, 3, f.n_features.max(f.features.len()));
            Some(format!(
                "from the {fields} {}",
                if f.n_features == 1 { "field" } else { "fields" }
            ))
        }
        _ => {
            let n = f.n_features.max(f.features.len());
            let verb = pick(rng, &["from", "based on", "using"]);
            if n > 6 && rng.random_bool(0.5) {
                Some(format!(
                    "{verb} {n} features such as {}",
                    join_and(&f.features, 3, 3)
                ))
            } else {
                Some(format!("{verb} {}", join_and(&f.features, 4, n)))
            }
        }
    }
}

/// `a, b and c` or `a, b, c and 5 more`.
fn join_and(items: &[String], max: usize, total: usize) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(String::as_str).collect();
    let hidden = total.saturating_sub(shown.len());
    match (shown.split_last(), hidden) {
        (None, _) => String::new(),
        (Some((last, [])), 0) => (*last).to_string(),
        (Some((last, rest)), 0) => format!("{} and {last}", rest.join(", ")),
        (Some(_), h) => format!("{} and {h} more", shown.join(", ")),
    }
}

/// The first clause of a description, at most 14 words; a leading article or generic noun is
/// lower-cased ("The census ..." -> "the census ..."), names keep their case ("Fisher's").
fn hint_phrase(description: &str) -> String {
    let first = description
        .split(['.', ';', '\n', '!', '?'])
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or("");
    let words: Vec<&str> = first.split_whitespace().take(14).collect();
    let mut s = words.join(" ");
    const GENERIC: &[&str] = &[
        "the",
        "a",
        "an",
        "this",
        "these",
        "those",
        "data",
        "records",
        "images",
        "pictures",
        "photos",
        "samples",
        "texts",
        "documents",
        "reviews",
        "scanned",
        "measurements",
        "patients",
        "customers",
    ];
    let first_word = words.first().copied().unwrap_or("").to_lowercase();
    if GENERIC.contains(&first_word.as_str())
        && let Some(c) = s.chars().next()
    {
        s = c.to_lowercase().chain(s.chars().skip(1)).collect();
    }
    s.trim_end_matches([',', ':']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Expectations, PromptConfig};
    use modelgpt_core::TaskSpec;

    fn profiles() -> Vec<DataProfile> {
        vec![
            DataProfile::new(
                TaskSpec::new("iris", Modality::Tabular)
                    .with_features(["sepal length", "sepal width", "petal length", "petal width"])
                    .with_labels(["setosa", "versicolor", "virginica"]),
                150,
                vec![50; 3],
            )
            .with_description("Fisher's iris measurements, in centimetres."),
            DataProfile::new(
                TaskSpec::new("spam", Modality::Text)
                    .with_features(["subject", "body"])
                    .with_labels(["ham", "spam"]),
                100,
                vec![50, 50],
            ),
            DataProfile::new(
                TaskSpec::new("digits", Modality::Image)
                    .with_labels((0..10).map(|d| d.to_string())),
                1000,
                vec![100; 10],
            )
            .with_description("MNIST handwritten digits"),
            DataProfile::new(
                TaskSpec::new("", Modality::Tabular)
                    .with_features((0..30).map(|i| format!("f{i}")))
                    .with_labels(["x", "y", "z", "w", "v", "u", "t"]),
                7,
                vec![1; 7],
            ),
        ]
    }

    #[test]
    fn every_sentence_is_valid_and_seeded() {
        let w = TemplateWriter::new();
        for p in profiles() {
            let e = Expectations::new().with_n_classes(p.n_classes());
            for seed in 0..200 {
                let r = w.write(&p, seed);
                assert_eq!(r, w.write(&p, seed));
                let reduced = crate::reduce(r.as_str());
                assert_eq!(
                    reduced,
                    r.as_str(),
                    "a template must be exactly one sentence"
                );
                e.check(r.as_str())
                    .unwrap_or_else(|why| panic!("{why}: {r}"));
            }
        }
    }

    #[test]
    fn pools_are_varied() {
        for p in profiles() {
            let pool = TemplateWriter::new().pool(&p, 5, 3);
            assert_eq!(pool.len(), 5);
            let mut distinct = pool.clone();
            distinct.dedup();
            distinct.sort_by(|a, b| a.as_str().cmp(b.as_str()));
            distinct.dedup();
            assert_eq!(distinct.len(), 5, "{pool:?}");
        }
    }

    #[test]
    fn answers_our_prompts_as_a_language_model() {
        let w = TemplateWriter::new().with_seed(4);
        for p in profiles() {
            let prompt = PromptConfig::new().build(&p).unwrap();
            let answer = w.complete(&prompt).unwrap();
            let e = Expectations::new().with_n_classes(p.n_classes());
            e.accept(&answer).unwrap();
            assert!(
                !answer.contains("iris") || p.task.name == "iris",
                "the worked example must not leak: {answer}"
            );
            let prompt = PromptConfig::new().build_parallel(&p, 3).unwrap();
            let answer = w.complete(&prompt).unwrap();
            assert_eq!(crate::parse_parallel(&answer, 3, &e).unwrap().len(), 3);
        }
    }

    #[test]
    fn hints_and_lists() {
        assert_eq!(
            hint_phrase("The census records from 1994. More."),
            "the census records from 1994"
        );
        assert_eq!(hint_phrase("MNIST digits"), "MNIST digits");
        assert_eq!(hint_phrase("Fisher's iris data"), "Fisher's iris data");
        let items: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(join_and(&items, 4, 3), "a, b and c");
        assert_eq!(join_and(&items, 2, 9), "a, b and 7 more");
        assert_eq!(
            counted_list("Classes (12): a, b, ... and 10 more", "Classes"),
            Some((12, vec!["a".into(), "b".into()]))
        );
    }
}
