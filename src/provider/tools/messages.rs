//! The turns of a tool round in each provider's conversation shape: an assistant turn
//! that called tools, and the user turn that carries their results back.
//!
//! | protocol | the calls | the results |
//! |---|---|---|
//! | Chat Completions | assistant `tool_calls: [{id, type: "function", function: {name, arguments}}]` | one `{role: "tool", tool_call_id, content}` message per result |
//! | Responses | `{type: "function_call", call_id, name, arguments}` input items | `{type: "function_call_output", call_id, output}` items |
//! | Anthropic | assistant `tool_use` blocks `{id, name, input}` | user `tool_result` blocks `{tool_use_id, content}` |
//! | Gemini | `model` turn `functionCall` parts `{name, args, id?}` | `user` turn `functionResponse` parts `{name, response, id?}` |
//! | Bedrock | assistant `toolUse` blocks `{toolUseId, name, input}` | user `toolResult` blocks `{toolUseId, content: [{json}] or [{text}]}` |
//!
//! Each function returns `None` for a turn without tool calls or results: the builder
//! renders it as before. Arguments are sent back exactly as received where the API takes
//! a string; where it takes an object, they are parsed (a call without arguments is `{}`).

use serde_json::{Map, Value, json};

use crate::provider::request::{CalledTool, Message, ToolResult};

/// Chat Completions messages for `m` (one assistant message, or one `tool` message per
/// result).
pub fn chat(m: &Message) -> Option<Vec<Value>> {
    if !m.tool_calls.is_empty() {
        let calls: Vec<Value> = m
            .tool_calls
            .iter()
            .map(|c| {
                json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}})
            })
            .collect();
        // The content is null when the model wrote nothing beside its calls.
        let content = (!m.content.is_empty()).then(|| m.content.clone());
        return Some(vec![
            json!({"role": "assistant", "content": content, "tool_calls": calls}),
        ]);
    }
    results(m)?;
    Some(
        m.tool_results
            .iter()
            .map(|r| json!({"role": "tool", "tool_call_id": r.call_id, "content": r.text()}))
            .collect(),
    )
}

/// Responses API input items for `m`.
pub fn responses(m: &Message) -> Option<Vec<Value>> {
    if !m.tool_calls.is_empty() {
        let mut items = Vec::new();
        if !m.content.is_empty() {
            items.push(json!({"role": "assistant", "content": m.content}));
        }
        items.extend(m.tool_calls.iter().map(
            |c| json!({"type": "function_call", "call_id": c.id, "name": c.name, "arguments": c.arguments}),
        ));
        return Some(items);
    }
    results(m)?;
    Some(
        m.tool_results
            .iter()
            .map(|r| json!({"type": "function_call_output", "call_id": r.call_id, "output": r.text()}))
            .collect(),
    )
}

/// The Anthropic message for `m`.
pub fn anthropic(m: &Message) -> Option<Value> {
    if !m.tool_calls.is_empty() {
        let mut blocks = text_block(m, |t| json!({"type": "text", "text": t}));
        blocks.extend(
            m.tool_calls
                .iter()
                .map(|c| json!({"type": "tool_use", "id": c.id, "name": c.name, "input": input(c)})),
        );
        return Some(json!({"role": "assistant", "content": blocks}));
    }
    results(m)?;
    let blocks: Vec<Value> = m
        .tool_results
        .iter()
        .map(|r| json!({"type": "tool_result", "tool_use_id": r.call_id, "content": r.text()}))
        .collect();
    Some(json!({"role": "user", "content": blocks}))
}

/// The Gemini content for `m`. Results go in a `user` turn, as Google's function-calling
/// guide sends them; `id` goes only when the call came with one.
pub fn gemini(m: &Message) -> Option<Value> {
    if !m.tool_calls.is_empty() {
        let mut parts = text_block(m, |t| json!({ "text": t }));
        parts.extend(m.tool_calls.iter().map(|c| {
            let mut call = Map::new();
            call.insert("name".into(), c.name.clone().into());
            call.insert("args".into(), input(c));
            with_id(&mut call, &c.id);
            json!({ "functionCall": call })
        }));
        return Some(json!({"role": "model", "parts": parts}));
    }
    results(m)?;
    let parts: Vec<Value> = m
        .tool_results
        .iter()
        .map(|r| {
            let mut response = Map::new();
            response.insert("name".into(), r.name.clone().into());
            // `response` must be an object: anything else goes under `result`.
            let body = match &r.content {
                Value::Object(_) => r.content.clone(),
                other => json!({ "result": other }),
            };
            response.insert("response".into(), body);
            with_id(&mut response, &r.call_id);
            json!({ "functionResponse": response })
        })
        .collect();
    Some(json!({"role": "user", "parts": parts}))
}

/// The Bedrock Converse message for `m`.
pub fn bedrock(m: &Message) -> Option<Value> {
    if !m.tool_calls.is_empty() {
        let mut blocks = text_block(m, |t| json!({ "text": t }));
        blocks.extend(
            m.tool_calls
                .iter()
                .map(|c| json!({"toolUse": {"toolUseId": c.id, "name": c.name, "input": input(c)}})),
        );
        return Some(json!({"role": "assistant", "content": blocks}));
    }
    results(m)?;
    let blocks: Vec<Value> = m
        .tool_results
        .iter()
        .map(|r| {
            // A JSON object goes as a `json` block, anything else as text.
            let content = match &r.content {
                Value::Object(_) => json!([{ "json": r.content }]),
                _ => json!([{ "text": r.text() }]),
            };
            json!({"toolResult": {"toolUseId": r.call_id, "content": content}})
        })
        .collect();
    Some(json!({"role": "user", "content": blocks}))
}

/// `Some` when `m` carries results.
fn results(m: &Message) -> Option<&[ToolResult]> {
    (!m.tool_results.is_empty()).then_some(m.tool_results.as_slice())
}

/// The text the model wrote before its calls, as one block, if any.
fn text_block(m: &Message, block: impl Fn(&str) -> Value) -> Vec<Value> {
    if m.content.is_empty() {
        Vec::new()
    } else {
        vec![block(&m.content)]
    }
}

/// A call's arguments as the object the API wants: `{}` for a call without arguments
/// (or with arguments that are not a JSON object, which such an API could not take).
fn input(c: &CalledTool) -> Value {
    match serde_json::from_str::<Value>(&c.arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => Value::Object(Map::new()),
    }
}

fn with_id(into: &mut Map<String, Value>, id: &str) {
    if !id.is_empty() {
        into.insert("id".into(), id.into());
    }
}
