//! Structured output on the wire: the one [`OutputSchema`] a send carries, put into each
//! provider's own request field, and a forced tool's input turned back into the answer.
//!
//! | protocol | `json_schema` (default unless noted) | `json_object` | `tool` |
//! |---|---|---|---|
//! | Chat Completions | `response_format: {type: "json_schema", json_schema: {name, strict, schema}}` | `response_format: {type: "json_object"}` | `tools` + `tool_choice: {type: "function", function: {name}}` |
//! | Responses | `text: {format: {type: "json_schema", name, schema, strict}}` | `text: {format: {type: "json_object"}}` | `tools` + `tool_choice: {type: "function", name}` |
//! | Gemini | `generationConfig.responseMimeType = "application/json"` + `responseJsonSchema`; `response_schema`: + `responseSchema`, the schema translated to its OpenAPI subset ([`response_schema`]) | the MIME type alone | — |
//! | Anthropic | `output_format: {type: "json_schema", schema}` + beta header (default on the models that have it) | — | `tools: [{name, input_schema}]` + `tool_choice: {type: "tool", name}` (default elsewhere) |
//! | Bedrock | — | — | `toolConfig: {tools: [{toolSpec}], toolChoice: {tool: {name}}}` (default) |
//!
//! Each mapping is called with one line from its protocol's request builder, before the
//! target's `extra` is merged (so `extra` can still override any of it).

use serde_json::{Map, Value, json};

use super::event::{Finish, FinishReason, StreamEvent};
use super::request::{ChatRequest, OutputSchema};
use crate::target::{Protocol, SchemaMode, Target};

pub mod response_schema;

/// The beta that turns on Anthropic's native structured outputs.
pub const ANTHROPIC_BETA: &str = "structured-outputs-2025-11-13";

/// Claude models with native structured outputs (`output_format`); others get the
/// forced tool.
const ANTHROPIC_NATIVE: [&str; 4] = ["sonnet-4-5", "opus-4-1", "opus-4-5", "haiku-4-5"];

/// The schema this send goes out with: the request's own, else the target's configured one.
pub fn effective<'a>(target: &'a Target, request: &'a ChatRequest) -> Option<&'a OutputSchema> {
    request.schema.as_ref().or(target.params.schema.as_ref())
}

/// How `target` asks for a schema: its `schema_mode` when its protocol offers it, else
/// the protocol's default (Anthropic's depends on whether the model has native support).
pub fn mode(target: &Target) -> SchemaMode {
    let protocol = target.spec().protocol;
    let offered = SchemaMode::offered_by(protocol);
    match target.params.schema_mode {
        Some(m) if offered.contains(&m) => m,
        _ if protocol == Protocol::Messages && !anthropic_native(&target.model) => SchemaMode::Tool,
        _ => offered.first().copied().unwrap_or(SchemaMode::Tool),
    }
}

/// Whether a Claude model id names one with native structured outputs.
pub fn anthropic_native(model: &str) -> bool {
    ANTHROPIC_NATIVE.iter().any(|m| model.contains(m))
}

/// The forced tool's name when this send asks for its schema as a tool call: that call's
/// input is the answer.
pub fn forced_tool<'a>(target: &'a Target, request: &'a ChatRequest) -> Option<&'a str> {
    let schema = effective(target, request)?;
    (mode(target) == SchemaMode::Tool).then_some(schema.name.as_str())
}

/// Chat Completions (OpenAI, Azure and compatible servers).
pub fn chat_completions(body: &mut Map<String, Value>, target: &Target, request: &ChatRequest) {
    let Some(s) = effective(target, request) else {
        return;
    };
    match mode(target) {
        // Gemini's own mode is never chosen here (`mode` offers only this API's).
        SchemaMode::JsonSchema | SchemaMode::ResponseSchema => {
            let format = json!({"name": s.name, "strict": s.strict, "schema": s.schema});
            body.insert(
                "response_format".into(),
                json!({"type": "json_schema", "json_schema": format}),
            );
        }
        SchemaMode::JsonObject => {
            body.insert("response_format".into(), json!({"type": "json_object"}));
        }
        SchemaMode::Tool => {
            let function = json!({"name": s.name, "parameters": s.schema, "strict": s.strict});
            body.insert(
                "tools".into(),
                json!([{"type": "function", "function": function}]),
            );
            body.insert(
                "tool_choice".into(),
                json!({"type": "function", "function": {"name": s.name}}),
            );
        }
    }
}

/// The OpenAI Responses API.
pub fn responses(body: &mut Map<String, Value>, target: &Target, request: &ChatRequest) {
    let Some(s) = effective(target, request) else {
        return;
    };
    match mode(target) {
        SchemaMode::JsonSchema | SchemaMode::ResponseSchema => {
            let format =
                json!({"type": "json_schema", "name": s.name, "schema": s.schema, "strict": s.strict});
            body.insert("text".into(), json!({ "format": format }));
        }
        SchemaMode::JsonObject => {
            body.insert("text".into(), json!({"format": {"type": "json_object"}}));
        }
        SchemaMode::Tool => {
            let tool =
                json!({"type": "function", "name": s.name, "parameters": s.schema, "strict": s.strict});
            body.insert("tools".into(), json!([tool]));
            body.insert("tool_choice".into(), json!({"type": "function", "name": s.name}));
        }
    }
}

/// Anthropic Messages. The native option needs its beta header too ([`beta_header`]).
pub fn anthropic(body: &mut Map<String, Value>, target: &Target, request: &ChatRequest) {
    let Some(s) = effective(target, request) else {
        return;
    };
    if mode(target) == SchemaMode::JsonSchema {
        body.insert(
            "output_format".into(),
            json!({"type": "json_schema", "schema": s.schema}),
        );
    } else {
        body.insert(
            "tools".into(),
            json!([{"name": s.name, "description": tool_description(), "input_schema": s.schema}]),
        );
        body.insert("tool_choice".into(), json!({"type": "tool", "name": s.name}));
    }
}

/// Gemini `generateContent`: the JSON MIME type, and the schema as `responseJsonSchema`
/// (full JSON Schema), or translated to the OpenAPI subset `responseSchema` takes.
pub fn gemini(body: &mut Map<String, Value>, target: &Target, request: &ChatRequest) {
    let Some(s) = effective(target, request) else {
        return;
    };
    let config = body
        .entry("generationConfig")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(config) = config {
        config.insert("responseMimeType".into(), "application/json".into());
        match mode(target) {
            SchemaMode::JsonSchema => {
                config.insert("responseJsonSchema".into(), s.schema.clone());
            }
            SchemaMode::ResponseSchema => {
                let (translated, _) = response_schema::translate(&s.schema);
                config.insert("responseSchema".into(), translated);
            }
            SchemaMode::JsonObject | SchemaMode::Tool => {}
        }
    }
}

/// The load warning for a target whose schema goes out as Gemini's `responseSchema` and
/// loses keywords on the way: the JSON pointer of each, and how to send it whole.
pub fn translation_warning(target: &Target) -> Option<String> {
    let s = target.params.schema.as_ref()?;
    if mode(target) != SchemaMode::ResponseSchema {
        return None;
    }
    let (_, dropped) = response_schema::translate(&s.schema);
    if dropped.is_empty() {
        return None;
    }
    let pointers: Vec<String> = dropped
        .iter()
        .map(|p| {
            if p.is_empty() {
                "(the root)".into()
            } else {
                p.clone()
            }
        })
        .collect();
    Some(format!(
        "schema `{}` as Gemini `responseSchema` drops what that subset cannot say: {}; \
         use `schema_mode = \"json_schema\"` to send the whole schema",
        s.name,
        pointers.join(", ")
    ))
}

/// Bedrock Converse: one tool, and the model made to call it.
pub fn bedrock(body: &mut Map<String, Value>, target: &Target, request: &ChatRequest) {
    let Some(s) = effective(target, request) else {
        return;
    };
    let spec = json!({"name": s.name, "description": tool_description(), "inputSchema": {"json": s.schema}});
    body.insert(
        "toolConfig".into(),
        json!({"tools": [{"toolSpec": spec}], "toolChoice": {"tool": {"name": s.name}}}),
    );
}

fn tool_description() -> &'static str {
    "Give the answer as this tool's input: a JSON value that follows its input schema."
}

/// The header this send needs besides the provider's usual ones: Anthropic's beta for
/// native structured outputs, joined to any `anthropic-beta` the config already sends.
pub fn add_headers(built: &mut reqwest::Request, target: &Target, request: &ChatRequest) {
    let native = target.spec().protocol == Protocol::Messages && mode(target) == SchemaMode::JsonSchema;
    if !native || effective(target, request).is_none() {
        return;
    }
    let headers = built.headers_mut();
    let value = match headers.get("anthropic-beta").and_then(|v| v.to_str().ok()) {
        Some(v) if v.split(',').any(|b| b.trim() == ANTHROPIC_BETA) => return,
        Some(v) => format!("{v},{ANTHROPIC_BETA}"),
        None => ANTHROPIC_BETA.to_string(),
    };
    if let Ok(v) = reqwest::header::HeaderValue::from_str(&value) {
        headers.insert("anthropic-beta", v);
    }
}

/// A forced tool's call, seen as the answer it stands for: its input fragments become
/// answer text, its id-and-name fragment is dropped, and the `tool_use` finish reads as
/// a normal stop (the raw reason stays). Every other event passes unchanged.
pub fn as_answer(event: StreamEvent) -> Option<StreamEvent> {
    match event {
        StreamEvent::ToolCallDelta(d) if d.arguments.is_empty() => None,
        StreamEvent::ToolCallDelta(d) => Some(StreamEvent::TextDelta(d.arguments.into())),
        StreamEvent::Finish(Finish {
            reason: FinishReason::ToolCalls,
            raw,
        }) => Some(StreamEvent::Finish(Finish {
            reason: FinishReason::Stop,
            raw,
        })),
        other => Some(other),
    }
}

#[cfg(test)]
mod tests;
