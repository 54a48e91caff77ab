//! Error type of `modelgpt-llm`.

use std::path::PathBuf;
use std::time::Duration;

/// Result alias used throughout `modelgpt-llm`.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Everything that can go wrong while building prompts, talking to a language model, checking its
/// answer or caching it.
///
/// No variant ever holds the API key: HTTP bodies are cut to an excerpt and scrubbed of the key
/// before they are stored here.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a status other than 2xx.
    #[error("HTTP {status}: {body_excerpt}")]
    Http {
        /// The HTTP status code.
        status: u16,
        /// The start of the response body (at most a few hundred characters, key scrubbed).
        body_excerpt: String,
        /// Seconds the server asked us to wait (`Retry-After`), when it said so.
        retry_after: Option<Duration>,
    },

    /// Connecting, or waiting for the response, took longer than the attempt's timeout: the
    /// configured one, or what was left of the total deadline when that was less.
    #[error("no answer within {after:?}")]
    Timeout {
        /// The timeout that expired.
        after: Duration,
    },

    /// The connection could not be made or broke down (refused, reset, DNS, TLS).
    #[error("transport error: {source}")]
    Transport {
        /// The HTTP client's error.
        #[source]
        source: ureq::Error,
    },

    /// The server's answer does not follow the chat-completions protocol (not JSON, missing fields).
    #[error("protocol error: {reason}")]
    Protocol {
        /// What is wrong with the answer.
        reason: String,
        /// The JSON parser's error, when the body was not valid JSON.
        #[source]
        source: Option<serde_json::Error>,
    },

    /// The server answered with an empty `choices` array.
    #[error("the server returned no choices")]
    EmptyChoices,

    /// The model's message was empty (or only whitespace).
    #[error("the model returned an empty answer")]
    EmptyAnswer,

    /// The answer is not an acceptable requirement (after the repair attempt, if any).
    #[error("invalid answer ({reason}): {answer:?}")]
    InvalidAnswer {
        /// Which rule the answer breaks.
        reason: String,
        /// The answer (reduced to at most a few hundred characters).
        answer: String,
    },

    /// Every attempt failed with a retryable error; `last` is the final one.
    #[error("gave up after {attempts} attempts: {last}")]
    RetriesExhausted {
        /// Number of requests made.
        attempts: u32,
        /// The error of the last attempt.
        #[source]
        last: Box<Error>,
    },

    /// The total deadline of the call passed (or the wait before the next retry would have ended
    /// past it) before an answer came; `last` is the error of the final attempt.
    #[error(
        "no answer within the deadline of {deadline:?} ({attempts} {}): {last}",
        attempts_word(.attempts)
    )]
    DeadlineExceeded {
        /// The configured total deadline.
        deadline: Duration,
        /// Number of requests made.
        attempts: u32,
        /// The error of the last attempt.
        #[source]
        last: Box<Error>,
    },

    /// The answer cache could not be read or written.
    #[error("answer cache {path}: {source}")]
    Cache {
        /// The cache file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A builder or configuration value is out of range.
    #[error("invalid configuration `{field}`: {reason}")]
    InvalidConfig {
        /// The field.
        field: &'static str,
        /// Why the value is rejected.
        reason: String,
    },

    /// The prompt cannot be made to fit the token budget, even with no example rows.
    #[error("prompt needs about {needed} tokens but the budget is {budget}")]
    PromptBudget {
        /// The configured budget (approximate tokens).
        budget: usize,
        /// The smallest prompt's size (approximate tokens).
        needed: usize,
    },

    /// An error reported by a [`LanguageModel`](modelgpt_core::LanguageModel) of another crate.
    #[error(transparent)]
    Core(modelgpt_core::Error),
}

impl Error {
    /// Whether a new attempt may succeed: timeouts, transport failures, 429 and 5xx.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Timeout { .. } | Error::Transport { .. } => true,
            Error::Http { status, .. } => *status == 429 || (500..=599).contains(status),
            _ => false,
        }
    }

    /// Shorthand for an [`Error::InvalidAnswer`]; the answer is cut to 300 characters.
    pub(crate) fn invalid_answer(reason: impl Into<String>, answer: &str) -> Self {
        Error::InvalidAnswer {
            reason: reason.into(),
            answer: excerpt(answer, 300),
        }
    }

    /// Shorthand for an [`Error::Protocol`] without a source.
    pub(crate) fn protocol(reason: impl Into<String>) -> Self {
        Error::Protocol {
            reason: reason.into(),
            source: None,
        }
    }
}

/// "attempt" or "attempts", for error messages.
fn attempts_word(n: &u32) -> &'static str {
    if *n == 1 { "attempt" } else { "attempts" }
}

/// The first `max_chars` characters of `text`, with `...` appended when cut.
pub(crate) fn excerpt(text: &str, max_chars: usize) -> String {
    let mut out: String = text.chars().take(max_chars).collect();
    if text.chars().nth(max_chars).is_some() {
        out.push_str("...");
    }
    out
}

impl Error {
    /// The error as a [`modelgpt_core::LanguageModel`] reports it: a core error stays itself,
    /// anything else travels boxed in [`modelgpt_core::Error::External`] (a trait object's
    /// boundary), from which [`From<modelgpt_core::Error>`](#impl-From<Error>-for-Error) unwraps
    /// it again.
    pub fn into_core(self) -> modelgpt_core::Error {
        match self {
            Error::Core(inner) => inner,
            other => modelgpt_core::Error::external("requirement generator", other),
        }
    }
}

impl From<modelgpt_core::Error> for Error {
    /// Unwraps errors of this crate that travelled through a [`modelgpt_core::LanguageModel`]
    /// (`OpenAiClient::complete` boxes them into `External`), so callers can match on them.
    fn from(e: modelgpt_core::Error) -> Self {
        match e {
            modelgpt_core::Error::External { context, source } => {
                match source.downcast::<Error>() {
                    Ok(ours) => *ours,
                    Err(source) => Error::Core(modelgpt_core::Error::External { context, source }),
                }
            }
            other => Error::Core(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_core_keeps_the_variant() {
        let core = Error::EmptyChoices.into_core();
        assert!(matches!(Error::from(core), Error::EmptyChoices));
    }

    #[test]
    fn retryable_classification() {
        let http = |status| Error::Http {
            status,
            body_excerpt: String::new(),
            retry_after: None,
        };
        assert!(http(429).is_retryable());
        assert!(http(503).is_retryable());
        assert!(!http(401).is_retryable());
        assert!(!http(404).is_retryable());
        assert!(
            Error::Timeout {
                after: Duration::from_secs(1)
            }
            .is_retryable()
        );
        assert!(!Error::EmptyChoices.is_retryable());
    }

    #[test]
    fn deadline_exceeded_reads_well_and_is_final() {
        let e = Error::DeadlineExceeded {
            deadline: Duration::from_secs(2),
            attempts: 1,
            last: Box::new(Error::Timeout {
                after: Duration::from_secs(2),
            }),
        };
        assert_eq!(
            e.to_string(),
            "no answer within the deadline of 2s (1 attempt): no answer within 2s"
        );
        assert!(!e.is_retryable());
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn excerpt_cuts_on_chars() {
        assert_eq!(excerpt("ééé", 2), "éé...");
        assert_eq!(excerpt("ab", 2), "ab");
    }
}
