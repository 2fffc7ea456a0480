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
    /// The tool calls an assistant turn made (the first round of a tool round); each
    /// provider's builder renders them in its own shape.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<CalledTool>,
    /// The results a user turn carries back for those calls, in call order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_results: Vec<ToolResult>,
}

/// A tool call the model made, as it sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalledTool {
    /// The provider's call id; empty when it sent none (Gemini may not).
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments exactly as sent (a JSON text; empty for a call without arguments).
    pub arguments: String,
}

/// The result sent back for one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolResult {
    /// The call it answers (empty when the provider gave the call no id).
    pub call_id: String,
    /// The tool's name (Gemini matches results by name).
    pub name: String,
    /// The result: a string is sent as written, anything else as JSON.
    pub content: serde_json::Value,
}

impl ToolResult {
    /// The result as text, for the APIs that take a string.
    pub fn text(&self) -> String {
        match &self.content {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

impl Message {
    /// A user turn.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_results: Vec::new(),
        }
    }

    /// An assistant turn.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_results: Vec::new(),
        }
    }

    /// An assistant turn that called tools (after any text it wrote).
    pub fn tool_calls(text: impl Into<String>, calls: Vec<CalledTool>) -> Self {
        Self {
            tool_calls: calls,
            ..Self::assistant(text)
        }
    }

    /// A user turn that carries tool results back.
    pub fn tool_results(results: Vec<ToolResult>) -> Self {
        Self {
            tool_results: results,
            ..Self::user("")
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
