//! Chat prompts sent to a [`LanguageModel`](crate::LanguageModel).

use serde::{Deserialize, Serialize};

/// Who speaks a [`Message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions that frame the conversation.
    System,
    /// The user's turn.
    User,
    /// An earlier answer of the model (used by one-shot examples and repair turns).
    Assistant,
}

/// An image attached to a message, for vision-capable models.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageAttachment {
    /// MIME type, e.g. `image/png`.
    pub mime: String,
    /// Raw encoded bytes (PNG, JPEG, ...).
    pub bytes: Vec<u8>,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The speaker.
    pub role: Role,
    /// The text.
    pub content: String,
    /// Images shown with the text (vision models only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageAttachment>,
}

impl Message {
    /// A message with text only.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            images: Vec::new(),
        }
    }
}

/// A chat prompt: an ordered list of messages.
///
/// ```
/// use modelgpt_core::{Prompt, Role};
/// let p = Prompt::new().system("Answer in one sentence.").user("Describe the task.");
/// assert_eq!(p.messages.len(), 2);
/// assert_eq!(p.messages[1].role, Role::User);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    /// The messages in order.
    pub messages: Vec<Message>,
}

impl Prompt {
    /// An empty prompt.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a system message.
    pub fn system(mut self, text: impl Into<String>) -> Self {
        self.messages.push(Message::new(Role::System, text));
        self
    }

    /// Appends a user message.
    pub fn user(mut self, text: impl Into<String>) -> Self {
        self.messages.push(Message::new(Role::User, text));
        self
    }

    /// Appends an assistant message.
    pub fn assistant(mut self, text: impl Into<String>) -> Self {
        self.messages.push(Message::new(Role::Assistant, text));
        self
    }

    /// Appends a message.
    pub fn push(&mut self, message: Message) {
        self.messages.push(message);
    }

    /// All message texts joined with blank lines (for offline writers and token budgets).
    pub fn text(&self) -> String {
        self.messages
            .iter()
            .map(|m| m.content.as_str())
            .collect::<Vec<_>>()
            .join("\n\n")
    }
}
