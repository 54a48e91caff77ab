//! Requirements: the one-sentence task descriptions the hypernetwork is conditioned on.

use serde::{Deserialize, Serialize};

/// One requirement sentence (paper §2.2), e.g. "This is a 3-class tabular classification task to
/// recognise the iris species."
///
/// ```
/// use modelgpt_core::Requirement;
/// let r = Requirement::from("This is a 2-class tabular classification task.");
/// assert_eq!(r.as_str(), "This is a 2-class tabular classification task.");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Requirement(String);

impl Requirement {
    /// Wraps a sentence (surrounding whitespace is trimmed).
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into().trim().to_string())
    }

    /// The sentence.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the requirement and returns the sentence.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl From<&str> for Requirement {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl From<String> for Requirement {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl AsRef<str> for Requirement {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Display for Requirement {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}
