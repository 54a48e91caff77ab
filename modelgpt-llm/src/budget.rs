//! Model-size budgets stated in words: "under 5,000 parameters", "at most 20k params", "a tiny
//! model for a microcontroller". The Requirement Generator reads them from the user's
//! description (and from the requirement it writes) so that the Model Customizer can honour
//! them ([`Generated::budget`](crate::Generated::budget)).
//!
//! ```
//! use modelgpt_llm::{TINY_MODEL_PARAMS, read_budget};
//!
//! assert_eq!(read_budget("keep it under 5,000 parameters").unwrap().max_params, 5_000);
//! assert_eq!(read_budget("at most 20k params, please").unwrap().max_params, 20_000);
//! assert_eq!(read_budget("a 1.5M-parameter budget").unwrap().max_params, 1_500_000);
//! assert_eq!(
//!     read_budget("a tiny model for a microcontroller").unwrap().max_params,
//!     TINY_MODEL_PARAMS
//! );
//! assert!(read_budget("predict churn from 300 parameters of usage").is_none());
//! assert!(read_budget("classify iris flowers").is_none());
//! ```

use serde::{Deserialize, Serialize};

/// The budget a "tiny" model gets ("tiny", "microcontroller", "MCU", "embedded device"): 5,000
/// parameters, about 20 KB of 32-bit weights.
pub const TINY_MODEL_PARAMS: usize = 5_000;

/// A parameter budget read from text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelBudget {
    /// Most parameters the generated model may have.
    pub max_params: usize,
    /// The words it was read from.
    pub phrase: String,
}

/// Words before a number that make it an upper bound.
const LIMITS: &[&str] = &[
    "under", "below", "most", "fewer", "less", "within", "max", "maximum", "than", "upto", "≤",
    "<", "<=",
];
/// Words after the parameter word that make the number an upper bound.
const AFTER: &[&str] = &["budget", "limit", "max", "maximum", "or"];
/// Words that ask for a tiny model.
const TINY: &[&str] = &[
    "tiny",
    "microcontroller",
    "microcontrollers",
    "mcu",
    "embedded",
];

fn number(token: &str) -> Option<f64> {
    let t = token.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '.');
    let (digits, scale) = match t.chars().last()? {
        'k' | 'K' => (&t[..t.len() - 1], 1e3),
        'm' | 'M' => (&t[..t.len() - 1], 1e6),
        _ => (t, 1.0),
    };
    let v: f64 = digits.replace(',', "").parse().ok()?;
    (v.is_finite() && v > 0.0).then_some(v * scale)
}

/// Reads a parameter budget from `text`, if it states one ("under 5,000 parameters", "a tiny
/// model for a microcontroller").
/// A number counts only when it bounds parameters ("under N parameters", "N params max", "an
/// N-parameter budget"); the tiny-model words give [`TINY_MODEL_PARAMS`]. Several budgets: the
/// smallest.
pub fn read_budget(text: &str) -> Option<ModelBudget> {
    let lower = text.to_lowercase().replace("up to", "upto");
    // Split "5k-parameter" into "5k parameter".
    let spaced: String = lower
        .chars()
        .map(|c| {
            if c == '-' || c == '(' || c == ')' {
                ' '
            } else {
                c
            }
        })
        .collect();
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let is_param = |t: &str| {
        let w = t.trim_matches(|c: char| !c.is_alphanumeric());
        w.starts_with("param") || w == "weights"
    };
    let mut best: Option<ModelBudget> = None;
    let mut offer = |max_params: usize, phrase: String| {
        if best.as_ref().is_none_or(|b| max_params < b.max_params) {
            best = Some(ModelBudget { max_params, phrase });
        }
    };
    for (i, tok) in tokens.iter().enumerate() {
        if !is_param(tok) || i == 0 {
            continue;
        }
        // The number is right before the parameter word, or one word before it
        // ("5,000 trainable parameters").
        let (j, value) = match (
            number(tokens[i - 1]),
            i.checked_sub(2).map(|j| number(tokens[j])),
        ) {
            (Some(v), _) => (i - 1, v),
            (None, Some(Some(v))) => (i - 2, v),
            _ => continue,
        };
        let word = |t: &str| {
            t.trim_matches(|c: char| !c.is_alphanumeric() && !"<≤=".contains(c))
                .to_string()
        };
        let before = tokens[j.saturating_sub(3)..j]
            .iter()
            .any(|t| LIMITS.contains(&word(t).as_str()));
        let after = tokens[i + 1..(i + 3).min(tokens.len())]
            .iter()
            .any(|t| AFTER.contains(&word(t).as_str()));
        if before || after {
            let lo = j.saturating_sub(3);
            let hi = (i + 3).min(tokens.len());
            offer(value.round() as usize, tokens[lo..hi].join(" "));
        }
    }
    for tok in &tokens {
        let w = tok.trim_matches(|c: char| !c.is_alphanumeric());
        if TINY.contains(&w) {
            offer(TINY_MODEL_PARAMS, w.to_string());
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_read_and_other_numbers_ignored() {
        let cases: &[(&str, Option<usize>)] = &[
            ("Under 5,000 parameters.", Some(5_000)),
            ("no more than 800 weights", Some(800)),
            ("fewer than 12k trainable parameters", Some(12_000)),
            ("use up to 2000 params", Some(2_000)),
            ("10000 parameters max", Some(10_000)),
            ("a 50k parameter limit", Some(50_000)),
            (
                "runs on an embedded board, under 3000 parameters",
                Some(3_000),
            ),
            ("for an MCU", Some(TINY_MODEL_PARAMS)),
            ("the data has 40 parameters per sensor", None),
            ("predict churn", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(read_budget(text).map(|b| b.max_params), *want, "{text}");
        }
    }
}
