//! Structured output as a target knows it: the schema the answer must follow and how
//! the target's API is asked for it.

use serde::{Deserialize, Serialize};

/// A JSON Schema for the answer, stated once and sent in each provider's own form
/// (the provider layer's `schema` module maps it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputSchema {
    /// The schema's name where the wire asks for one (OpenAI's `json_schema.name`, the
    /// forced tool's name): letters, digits, `_` and `-`.
    pub name: String,
    /// The schema itself, checked to be a valid JSON Schema when it was loaded.
    pub schema: serde_json::Value,
    /// Ask the provider to enforce it exactly (OpenAI `strict`), where it can.
    pub strict: bool,
}

/// How a target asks for schema-shaped output (`schema_mode`); `None` in
/// [`Params`](super::Params) takes the kind's own best mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemaMode {
    /// The API's JSON Schema option (OpenAI `response_format`, Responses `text.format`,
    /// Gemini `responseJsonSchema`, Anthropic `output_format`).
    JsonSchema,
    /// JSON without a schema (`{"type": "json_object"}`, Gemini's MIME type alone), for
    /// servers that take nothing more; the answer is still validated.
    JsonObject,
    /// One tool whose input schema is the schema, and the model made to call it; its
    /// input is the answer.
    Tool,
    /// Gemini's `responseSchema`: the schema translated to the OpenAPI subset it takes,
    /// what cannot be said there dropped and reported at load.
    ResponseSchema,
}

impl SchemaMode {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::JsonSchema => "json_schema",
            Self::JsonObject => "json_object",
            Self::Tool => "tool",
            Self::ResponseSchema => "response_schema",
        }
    }
}

impl std::str::FromStr for SchemaMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::JsonSchema,
            Self::JsonObject,
            Self::Tool,
            Self::ResponseSchema,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
        .ok_or_else(|| {
            format!("unknown schema mode `{s}`: use json_schema, json_object, tool or response_schema")
        })
    }
}

impl SchemaMode {
    /// The modes `protocol` can be asked in, its default first.
    pub fn offered_by(protocol: super::Protocol) -> &'static [SchemaMode] {
        use super::Protocol as P;
        match protocol {
            P::ChatCompletions | P::Responses => &[Self::JsonSchema, Self::JsonObject, Self::Tool],
            P::GenerateContent => &[Self::JsonSchema, Self::JsonObject, Self::ResponseSchema],
            // Anthropic's default depends on the model (`provider::schema`); both are offered.
            P::Messages => &[Self::JsonSchema, Self::Tool],
            P::Converse => &[Self::Tool],
        }
    }
}
