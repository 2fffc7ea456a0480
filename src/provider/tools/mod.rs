//! Tools on the wire: the one [`Toolset`] a target carries, put into each provider's own
//! request fields, and (in [`messages`]) the tool calls and results of a follow-up round
//! rendered in each provider's conversation shape.
//!
//! | protocol | tools | `auto` | `required` | `none` | a named tool |
//! |---|---|---|---|---|---|
//! | Chat Completions | `tools: [{type: "function", function: {name, description, parameters}}]` | `"auto"` | `"required"` | `"none"` | `{type: "function", function: {name}}` |
//! | Responses | `tools: [{type: "function", name, description, parameters, strict: false}]` | `"auto"` | `"required"` | `"none"` | `{type: "function", name}` |
//! | Anthropic | `tools: [{name, description, input_schema}]` | `{type: "auto"}` | `{type: "any"}` | `{type: "none"}` | `{type: "tool", name}` |
//! | Gemini | `tools: [{functionDeclarations: [{name, description, parametersJsonSchema}]}]` | `toolConfig.functionCallingConfig.mode: "AUTO"` | `"ANY"` | `"NONE"` | `"ANY"` + `allowedFunctionNames: [name]` |
//! | Bedrock | `toolConfig.tools: [{toolSpec: {name, description, inputSchema: {json}}}]` | `toolChoice: {auto: {}}` | `{any: {}}` | tools left out (Converse has no "none") | `{tool: {name}}` |
//!
//! No `tool_choice` is sent when none is configured: every provider's default is auto.
//! A schema asked for as a forced tool (`provider::schema`) keeps its `tool_choice`: the
//! user's tools are added beside it, and the answer still comes from the schema's tool.
//! Each mapping is called with one line from its protocol's request builder, after the
//! schema's and before the target's `extra` is merged.

pub mod messages;

use serde_json::{Map, Value, json};

use crate::target::{ToolChoice, ToolDef, Toolset};

/// Chat Completions (OpenAI, Azure and compatible servers).
pub fn chat_completions(body: &mut Map<String, Value>, set: Option<&Toolset>) {
    let Some(set) = set else { return };
    let tools = set.tools.iter().map(|t| {
        let mut function = Map::new();
        function.insert("name".into(), t.name.clone().into());
        describe(&mut function, t);
        function.insert("parameters".into(), t.parameters.clone());
        json!({"type": "function", "function": function})
    });
    let choice = set.choice.as_ref().map(|c| match c {
        ToolChoice::Named(name) => json!({"type": "function", "function": {"name": name}}),
        other => other.as_str().into(),
    });
    put_tools(body, tools.collect(), ("tool_choice", choice));
}

/// The OpenAI Responses API. `strict` is sent as `false`: the Responses API treats a
/// function without it as strict, which refuses most hand-written schemas.
pub fn responses(body: &mut Map<String, Value>, set: Option<&Toolset>) {
    let Some(set) = set else { return };
    let tools = set.tools.iter().map(|t| {
        let mut tool = Map::new();
        tool.insert("type".into(), "function".into());
        tool.insert("name".into(), t.name.clone().into());
        describe(&mut tool, t);
        tool.insert("parameters".into(), t.parameters.clone());
        tool.insert("strict".into(), false.into());
        Value::Object(tool)
    });
    let choice = set.choice.as_ref().map(|c| match c {
        ToolChoice::Named(name) => json!({"type": "function", "name": name}),
        other => other.as_str().into(),
    });
    put_tools(body, tools.collect(), ("tool_choice", choice));
}

/// Anthropic Messages.
pub fn anthropic(body: &mut Map<String, Value>, set: Option<&Toolset>) {
    let Some(set) = set else { return };
    let tools = set.tools.iter().map(|t| {
        let mut tool = Map::new();
        tool.insert("name".into(), t.name.clone().into());
        describe(&mut tool, t);
        tool.insert("input_schema".into(), t.parameters.clone());
        Value::Object(tool)
    });
    let choice = set.choice.as_ref().map(|c| match c {
        ToolChoice::Auto => json!({"type": "auto"}),
        ToolChoice::Required => json!({"type": "any"}),
        ToolChoice::None => json!({"type": "none"}),
        ToolChoice::Named(name) => json!({"type": "tool", "name": name}),
    });
    put_tools(body, tools.collect(), ("tool_choice", choice));
}

/// Gemini `generateContent`. The schema goes as `parametersJsonSchema` (full JSON Schema,
/// as written) rather than `parameters` (an OpenAPI subset that would need translating).
pub fn gemini(body: &mut Map<String, Value>, set: Option<&Toolset>) {
    let Some(set) = set else { return };
    let declarations: Vec<Value> = set
        .tools
        .iter()
        .map(|t| {
            let mut d = Map::new();
            d.insert("name".into(), t.name.clone().into());
            describe(&mut d, t);
            d.insert("parametersJsonSchema".into(), t.parameters.clone());
            Value::Object(d)
        })
        .collect();
    let entry = body.entry("tools").or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = entry {
        list.push(json!({ "functionDeclarations": declarations }));
    }
    let config = match set.choice.as_ref() {
        None => return,
        Some(ToolChoice::Auto) => json!({"mode": "AUTO"}),
        Some(ToolChoice::Required) => json!({"mode": "ANY"}),
        Some(ToolChoice::None) => json!({"mode": "NONE"}),
        Some(ToolChoice::Named(name)) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
    };
    body.insert("toolConfig".into(), json!({ "functionCallingConfig": config }));
}

/// Bedrock Converse. Converse has no "none": with `tool_choice = "none"` the tools are
/// left out of the request (the config warns at load).
pub fn bedrock(body: &mut Map<String, Value>, set: Option<&Toolset>) {
    let Some(set) = set else { return };
    if set.choice == Some(ToolChoice::None) {
        return;
    }
    let tools: Vec<Value> = set
        .tools
        .iter()
        .map(|t| {
            let mut spec = Map::new();
            spec.insert("name".into(), t.name.clone().into());
            describe(&mut spec, t);
            spec.insert("inputSchema".into(), json!({ "json": t.parameters }));
            json!({ "toolSpec": spec })
        })
        .collect();
    let choice = set.choice.as_ref().map(|c| match c {
        ToolChoice::Required => json!({"any": {}}),
        ToolChoice::Named(name) => json!({"tool": {"name": name}}),
        ToolChoice::Auto | ToolChoice::None => json!({"auto": {}}),
    });
    let config = body
        .entry("toolConfig")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(config) = config {
        put_tools(config, tools, ("toolChoice", choice));
    }
}

/// `description` only when the file gave one.
fn describe(into: &mut Map<String, Value>, t: &ToolDef) {
    if !t.description.is_empty() {
        into.insert("description".into(), t.description.clone().into());
    }
}

/// Add `tools` after any already there (a schema's forced tool, whose choice then stays),
/// and `choice` under `choice_key` when nothing set one.
fn put_tools(body: &mut Map<String, Value>, tools: Vec<Value>, (choice_key, choice): (&str, Option<Value>)) {
    let forced = body.contains_key(choice_key);
    match body.get_mut("tools") {
        Some(Value::Array(list)) => list.extend(tools),
        _ => {
            body.insert("tools".into(), Value::Array(tools));
        }
    }
    if let (Some(choice), false) = (choice, forced) {
        body.insert(choice_key.into(), choice);
    }
}
