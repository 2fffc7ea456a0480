//! The normalized request: what the user asked, independent of any provider.

use serde::Serialize;

pub use crate::target::OutputSchema;

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The user.
    User,
    /// The model, in an earlier turn.
    Assistant,
}

impl Role {
    /// The role's name in the OpenAI and Anthropic message formats.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// Speaker.
    pub role: Role,
    /// Plain text content.
    pub content: String,
}

impl Message {
    /// A user turn.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }

    /// An assistant turn.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// A prompt: optional system prompt plus ordered turns.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ChatRequest {
    /// System prompt, sent the way each provider expects it.
    pub system: Option<String>,
    /// Conversation turns, oldest first; the last one is normally the user's.
    pub messages: Vec<Message>,
    /// The JSON Schema the answer must follow, when the send carries one (a target's
    /// configured schema stands in for none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<OutputSchema>,
}

impl ChatRequest {
    /// A single-turn request.
    pub fn single(system: Option<String>, prompt: impl Into<String>) -> Self {
        Self {
            system,
            messages: vec![Message::user(prompt)],
            schema: None,
        }
    }
}
