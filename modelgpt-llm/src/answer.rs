//! Turning a model's raw answer into one checked requirement sentence.
//!
//! Small instruction-tuned models rarely obey "ONE sentence" exactly: they add a preface ("Sure!
//! Here is the requirement:"), wrap the sentence in quotes or markdown, or keep talking. [`reduce`]
//! keeps the first real sentence; [`Expectations::check`] then verifies what the paper asks of a
//! requirement (§2.2): it names a task type and, when known, the number of classes.

use crate::error::{Error, Result};

/// Words that name a task type; a requirement must contain one (case-insensitive, as a prefix of
/// a word, so "classifier", "classify" and "categorise" all count).
const TASK_WORDS: &[&str] = &[
    "classif",
    "categori",
    "recogni",
    "detect",
    "predict",
    "regress",
    "identif",
    "distinguish",
    "sort ",
    "discriminat",
];

const NUMBER_WORDS: &[&str] = &[
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
];

/// Prefixes models put before the sentence, removed case-insensitively.
const PREFIXES: &[&str] = &[
    "requirement:",
    "requirements:",
    "the requirement is:",
    "answer:",
    "sentence:",
    "output:",
    "response:",
    "task:",
    "final answer:",
];

/// Reduces a raw answer to its first sentence: drops code fences, markdown markers, quotes,
/// prefaces ending with `:` and prefixes such as `Requirement:`, then cuts after the first `.`,
/// `!` or `?` that ends a sentence. The result ends with a full stop (one is added if missing).
/// Returns an empty string when nothing is left.
///
/// ```
/// use modelgpt_llm::reduce;
/// let raw = "Sure! Here is the requirement:\n\n**Requirement:** \"This is a 2-class text classification task.\"\n\nIt is useful.";
/// assert_eq!(reduce(raw), "This is a 2-class text classification task.");
/// assert_eq!(reduce("A 3-class task, e.g. iris. More text."), "A 3-class task, e.g. iris.");
/// ```
pub fn reduce(raw: &str) -> String {
    // (cleaned line, whether it only introduces what follows)
    let lines: Vec<(String, bool)> = raw
        .lines()
        .filter(|l| !l.trim().starts_with("```"))
        .map(|l| {
            let cleaned = clean_line(l);
            let intro = l.trim_start().starts_with('#')
                || cleaned.ends_with(':')
                || cleaned.split_whitespace().count() < 3;
            (cleaned, intro)
        })
        .filter(|(l, _)| !l.is_empty())
        .collect();
    // Skip prefaces such as "Sure, here is the requirement:" and headings, unless nothing follows.
    let chosen = lines
        .iter()
        .enumerate()
        .find(|(i, (_, intro))| !(*intro && *i + 1 < lines.len()))
        .map(|(_, (l, _))| l.clone())
        .unwrap_or_default();
    let sentence = first_sentence(&strip_prefixes(&chosen));
    let sentence = trim_quotes(&sentence);
    if sentence.is_empty() {
        return String::new();
    }
    let mut s = sentence.to_string();
    if !s.ends_with(['.', '!', '?']) {
        s.push('.');
    }
    s
}

/// Removes markdown decoration from one line.
fn clean_line(line: &str) -> String {
    let mut l = line.trim();
    // Headings, quotes, bullets, numbering.
    loop {
        let before = l;
        l = l
            .trim_start_matches('#')
            .trim_start_matches('>')
            .trim_start();
        for bullet in ["- ", "* ", "+ ", "• "] {
            if let Some(rest) = l.strip_prefix(bullet) {
                l = rest.trim_start();
            }
        }
        if before == l {
            break;
        }
    }
    let l = l.replace("**", "").replace("__", "").replace('`', "");
    strip_prefixes(l.trim())
}

fn strip_prefixes(s: &str) -> String {
    let mut s = trim_quotes(s.trim()).to_string();
    loop {
        let lower = s.to_lowercase();
        let Some(p) = PREFIXES.iter().find(|p| lower.starts_with(*p)) else {
            return s;
        };
        let Some(rest) = s.get(p.len()..) else {
            return s;
        };
        s = trim_quotes(rest.trim()).to_string();
    }
}

fn trim_quotes(s: &str) -> &str {
    let quotes: &[char] = &['"', '\'', '“', '”', '‘', '’', '«', '»'];
    s.trim().trim_matches(quotes).trim()
}

/// Text up to and including the first sentence end: `.`, `!` or `?` followed by whitespace and an
/// upper-case letter or a quote, or by the end of the text. Abbreviations such as "e.g." and
/// decimals such as "0.5" do not end a sentence.
fn first_sentence(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !matches!(c, '.' | '!' | '?') {
            continue;
        }
        let rest = &chars[i + 1..];
        let next_non_space = rest.iter().position(|c| !c.is_whitespace());
        let ends = match next_non_space {
            None => true,
            Some(0) => false, // "0.5", "e.g.x"
            Some(j) => {
                let n = rest[j];
                let word_before: String = chars[..i]
                    .iter()
                    .rev()
                    .take_while(|c| !c.is_whitespace())
                    .collect::<String>()
                    .chars()
                    .rev()
                    .collect::<String>()
                    .to_lowercase();
                let abbreviation = matches!(
                    word_before.as_str(),
                    "e.g" | "i.e" | "etc" | "vs" | "cf" | "approx" | "dr" | "mr" | "mrs" | "no"
                );
                !abbreviation
                    && (n.is_uppercase() || n.is_ascii_digit() || matches!(n, '"' | '“' | '('))
            }
        };
        if ends {
            return chars[..=i].iter().collect::<String>().trim().to_string();
        }
    }
    s.trim().to_string()
}

/// What a requirement must state.
///
/// ```
/// use modelgpt_llm::Expectations;
/// let e = Expectations::new().with_n_classes(3);
/// assert!(e.check("This is a 3-class tabular classification task.").is_ok());
/// assert!(e.check("Classify iris flowers into three species.").is_ok());
/// assert!(e.check("This is a classification task.").is_err()); // no class count
/// assert!(e.check("Three iris species.").is_err()); // no task type
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    /// The number of classes the sentence must mention (in digits or words), when known.
    pub n_classes: Option<usize>,
    /// Longest acceptable sentence, in characters. Default (0) means 600.
    pub max_chars: usize,
}

impl Expectations {
    /// No class count, default length limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Expectations for a task with `n` classes (none when `n` is 0).
    pub fn with_n_classes(mut self, n: usize) -> Self {
        self.n_classes = (n > 0).then_some(n);
        self
    }

    /// Checks a reduced sentence. Returns the violated rule in words, for errors and repair turns.
    ///
    /// # Errors
    /// A description of the first rule the sentence breaks.
    pub fn check(&self, sentence: &str) -> core::result::Result<(), String> {
        let s = sentence.trim();
        if s.is_empty() {
            return Err("the answer is empty".into());
        }
        let max = if self.max_chars == 0 {
            600
        } else {
            self.max_chars
        };
        if s.chars().count() > max {
            return Err(format!("the sentence is longer than {max} characters"));
        }
        let lower = s.to_lowercase();
        if !TASK_WORDS.iter().any(|w| lower.contains(w)) {
            return Err("it does not name the task type (e.g. classification)".into());
        }
        if let Some(n) = self.n_classes
            && !mentions_number(&lower, n)
        {
            return Err(format!("it does not state the number of classes ({n})"));
        }
        Ok(())
    }

    /// [`reduce`] then [`check`](Self::check); the error is an [`Error::InvalidAnswer`].
    ///
    /// # Errors
    /// [`Error::InvalidAnswer`] naming the violated rule.
    pub fn accept(&self, raw: &str) -> Result<String> {
        let sentence = reduce(raw);
        self.check(&sentence).map_err(|reason| {
            Error::invalid_answer(reason, if sentence.is_empty() { raw } else { &sentence })
        })?;
        Ok(sentence)
    }
}

/// Whether `lower` (a lower-cased sentence) states the number `n` as digits ("3-class", "3 classes")
/// or as a word ("three"; "binary" and "two" for 2).
fn mentions_number(lower: &str, n: usize) -> bool {
    let digits = n.to_string();
    let mut found_digits = false;
    let bytes = lower.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            // A digit run that is a whole number, not part of "28x28" sizes is still fine to accept.
            let decimal_before = start > 0 && bytes[start - 1] == b'.';
            if !decimal_before && lower.get(start..i) == Some(digits.as_str()) {
                found_digits = true;
                break;
            }
        } else {
            i += 1;
        }
    }
    if found_digits {
        return true;
    }
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if n == 2
        && words
            .iter()
            .any(|w| matches!(*w, "binary" | "two" | "twofold"))
    {
        return true;
    }
    NUMBER_WORDS
        .get(n)
        .is_some_and(|word| words.iter().any(|w| w == word))
}

/// Parses the answer of the parallel prompt: a first line with the number of batches, then one
/// sentence per batch. Numbering ("1.", "Batch 2:", "- ") is stripped and each line is
/// [`reduce`]d and [`check`](Expectations::check)ed.
///
/// ```
/// use modelgpt_llm::{parse_parallel, Expectations};
/// let answer = "2\n1. A 3-class tabular classification of iris species.\nBatch 2: Classify irises into three species.";
/// let lines = parse_parallel(answer, 2, &Expectations::new().with_n_classes(3))?;
/// assert_eq!(lines[1], "Classify irises into three species.");
/// # Ok::<(), modelgpt_llm::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidAnswer`] when the count line is missing or wrong, the number of sentences
/// differs from `expected`, or a sentence fails the checks.
pub fn parse_parallel(
    answer: &str,
    expected: usize,
    expectations: &Expectations,
) -> Result<Vec<String>> {
    let lines: Vec<&str> = answer
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("```"))
        .collect();
    let Some((first, rest)) = lines.split_first() else {
        return Err(Error::invalid_answer("the answer is empty", answer));
    };
    let count_text: String = clean_line(first)
        .chars()
        .filter(|c| c.is_ascii_digit() || c.is_whitespace())
        .collect();
    let count = count_text
        .split_whitespace()
        .next()
        .and_then(|t| t.parse::<usize>().ok());
    let Some(count) = count.filter(|_| {
        clean_line(first)
            .chars()
            .filter(|c| c.is_alphabetic())
            .count()
            <= 12
    }) else {
        return Err(Error::invalid_answer(
            "the first line must be the number of batches",
            answer,
        ));
    };
    if count != expected {
        return Err(Error::invalid_answer(
            format!("the first line says {count} batches but {expected} were asked for"),
            answer,
        ));
    }
    if rest.len() != expected {
        return Err(Error::invalid_answer(
            format!(
                "expected {expected} sentences after the count line, found {}",
                rest.len()
            ),
            answer,
        ));
    }
    rest.iter()
        .enumerate()
        .map(|(i, line)| {
            let line = strip_numbering(&clean_line(line));
            expectations.accept(&line).map_err(|e| match e {
                Error::InvalidAnswer { reason, answer } => Error::InvalidAnswer {
                    reason: format!("batch {}: {reason}", i + 1),
                    answer,
                },
                other => other,
            })
        })
        .collect()
}

/// Removes "1.", "1)", "(1)", "Batch 1:" and similar at the start of a line.
fn strip_numbering(line: &str) -> String {
    let mut l = line.trim();
    let lower = l.to_lowercase();
    if lower.starts_with("batch") {
        l = l.get(5..).unwrap_or(l).trim_start();
    }
    let l2 = l.trim_start_matches('(');
    let digits = l2.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 {
        let after = &l2[digits..];
        if let Some(rest) = after.strip_prefix(['.', ')', ':']) {
            return rest
                .trim_start_matches([' ', '-', ':', ')'])
                .trim()
                .to_string();
        }
        if lower.starts_with("batch") {
            return after.trim_start_matches([' ', '-', ':']).trim().to_string();
        }
    }
    line.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduces_common_shapes() {
        assert_eq!(reduce("  plain sentence  "), "plain sentence.");
        assert_eq!(
            reduce("```\nRequirement: A 2-class task.\n```"),
            "A 2-class task."
        );
        assert_eq!(
            reduce("# Requirement\nA 2-class task. Next one."),
            "A 2-class task."
        );
        assert_eq!(
            reduce("> “A binary classification task.”"),
            "A binary classification task."
        );
        assert_eq!(
            reduce("Predict values with 0.5 precision. Then stop."),
            "Predict values with 0.5 precision."
        );
        assert_eq!(
            reduce("Answer: requirement: 'Classify texts.'"),
            "Classify texts."
        );
        assert_eq!(reduce(""), "");
        assert_eq!(reduce("\n\n```\n```"), "");
    }

    #[test]
    fn multi_paragraph_keeps_first_real_sentence() {
        let raw = "Here is the requirement you asked for:\n\nThis is a 2-class text classification task to detect spam e-mails. It uses the subject and body.\n\nLet me know if you need more!";
        assert_eq!(
            reduce(raw),
            "This is a 2-class text classification task to detect spam e-mails."
        );
    }

    #[test]
    fn number_mentions() {
        assert!(mentions_number("a 10-class image task", 10));
        assert!(!mentions_number("a 100-class image task", 10));
        assert!(!mentions_number("values like 0.3", 3));
        assert!(mentions_number("a binary task", 2));
        assert!(mentions_number("one of seven kinds", 7));
        assert!(!mentions_number("one of seventy kinds", 7));
        assert!(mentions_number("a 25 way task", 25));
    }

    #[test]
    fn accept_reports_reason() {
        let e = Expectations::new().with_n_classes(4);
        match e.accept("This is a 3-class classification task.") {
            Err(Error::InvalidAnswer { reason, .. }) => assert!(reason.contains("(4)"), "{reason}"),
            other => panic!("{other:?}"),
        }
        assert!(e.accept("").is_err());
    }

    #[test]
    fn parallel_checks_counts() {
        let e = Expectations::new().with_n_classes(2);
        let ok = "Batches: 2\n- A binary text classification of reviews.\n2) Classify reviews into two classes.";
        assert_eq!(parse_parallel(ok, 2, &e).unwrap().len(), 2);
        assert!(
            parse_parallel(
                "3\nA binary classification.\nA binary classification.",
                2,
                &e
            )
            .is_err()
        );
        assert!(parse_parallel("2\nA binary classification.", 2, &e).is_err());
        assert!(
            parse_parallel("A binary classification.\nA binary classification.", 2, &e).is_err()
        );
        match parse_parallel("2\nA binary classification.\nNothing here.", 2, &e) {
            Err(Error::InvalidAnswer { reason, .. }) => {
                assert!(reason.starts_with("batch 2"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        assert!(parse_parallel("", 2, &e).is_err());
    }

    #[test]
    fn arbitrary_text_never_panics() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let alphabet: Vec<char> = "aZ 09.!?:-*#>`\"'\n\t()[]{}éİK€😀“”—,;".chars().collect();
        let mut rng = StdRng::seed_from_u64(11);
        let e = Expectations::new().with_n_classes(3);
        for _ in 0..2000 {
            let len = rng.random_range(0..60);
            let s: String = (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            let r = reduce(&s);
            let _ = e.check(&r);
            let _ = e.accept(&s);
            let _ = parse_parallel(&s, 2, &e);
            let _ = strip_numbering(&s);
        }
    }

    #[test]
    fn numbering_is_stripped() {
        assert_eq!(strip_numbering("1. Foo"), "Foo");
        assert_eq!(strip_numbering("(2) Foo"), "Foo");
        assert_eq!(strip_numbering("Batch 3: Foo"), "Foo");
        assert_eq!(strip_numbering("3-class foo"), "3-class foo");
    }
}
