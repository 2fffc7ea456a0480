//! Prompt-cache markers: where a target's [`CachePlan`] puts them in a finished request
//! body, for the providers that cache only what is marked.
//!
//! Each request builder calls its provider's function once, after `extra` is merged, so
//! the markers land on what is actually sent (tools given through `extra` included). The
//! marked text is never changed: a system string becomes a single text block holding the
//! same string. A block that already carries a marker (through `extra`) is left alone.
//!
//! OpenAI, Gemini, Azure and DeepSeek cache long prompts by themselves; there is nothing
//! to mark and Prism only reads the cached counts they report.

use serde_json::{Map, Value, json};

use crate::target::{CachePlan, CacheTtl, MessagePrefix};

/// Anthropic Messages: `cache_control: {"type": "ephemeral"}` (with `"ttl": "1h"` for an
/// hour) on the system prompt's last block, the last tool, and the last content block of
/// the last message the plan covers. Three markers at most, within Anthropic's four.
pub fn mark_anthropic(body: &mut Map<String, Value>, plan: Option<&CachePlan>) {
    let Some(plan) = plan else { return };
    let mut control = json!({"type": "ephemeral"});
    if plan.ttl == CacheTtl::OneHour {
        control["ttl"] = plan.ttl.as_str().into();
    }
    if plan.system
        && let Some(system) = body.get_mut("system")
    {
        mark_content(system, &control);
    }
    if plan.tools
        && let Some(last) = body
            .get_mut("tools")
            .and_then(Value::as_array_mut)
            .and_then(|t| t.last_mut())
    {
        put_control(last, &control);
    }
    if let Some(m) = covered_message(body, plan.messages) {
        mark_content(m, &control);
    }
}

/// Bedrock Converse: a `{"cachePoint": {"type": "default"}}` block (with `"ttl": "1h"`
/// for an hour) after the system blocks, after the tools, and at the end of the last
/// message the plan covers.
pub fn mark_bedrock(body: &mut Map<String, Value>, plan: Option<&CachePlan>) {
    let Some(plan) = plan else { return };
    let mut point = json!({"type": "default"});
    if plan.ttl == CacheTtl::OneHour {
        point["ttl"] = plan.ttl.as_str().into();
    }
    let block = json!({ "cachePoint": point });
    if plan.system
        && let Some(system) = body.get_mut("system").and_then(Value::as_array_mut)
    {
        push_point(system, &block);
    }
    if plan.tools
        && let Some(tools) = body
            .get_mut("toolConfig")
            .and_then(|c| c.get_mut("tools"))
            .and_then(Value::as_array_mut)
    {
        push_point(tools, &block);
    }
    if let Some(content) = covered_message(body, plan.messages)
        .and_then(|m| m.as_object_mut())
        .and_then(|m| m.get_mut("content"))
        .and_then(Value::as_array_mut)
    {
        push_point(content, &block);
    }
}

/// The content of the last message the message marker covers (Anthropic), or the whole
/// message (Bedrock reads its `content`): the first N, or all of them.
fn covered_message(body: &mut Map<String, Value>, prefix: Option<MessagePrefix>) -> Option<&mut Value> {
    let messages = body.get_mut("messages")?.as_array_mut()?;
    let n = match prefix? {
        MessagePrefix::All => messages.len(),
        MessagePrefix::First(n) => messages.len().min(usize::try_from(n).unwrap_or(usize::MAX)),
    };
    let m = messages.get_mut(n.checked_sub(1)?)?;
    // Anthropic marks inside `content`; Bedrock appends to the message's `content` itself.
    if m.get("content").is_some_and(|c| c.is_string() || c.is_array()) && m.get("role").is_some() {
        return Some(m);
    }
    None
}

/// Put `control` on the last block of a system prompt or message: a plain string becomes
/// one text block with the same text; a message object is marked in its `content`.
fn mark_content(v: &mut Value, control: &Value) {
    if let Some(content) = v.as_object_mut().and_then(|m| m.get_mut("content")) {
        return mark_content(content, control);
    }
    match v {
        Value::String(text) if !text.is_empty() => {
            let text = std::mem::take(text);
            *v = json!([{"type": "text", "text": text, "cache_control": control}]);
        }
        Value::Array(blocks) => {
            if let Some(last) = blocks.last_mut() {
                put_control(last, control);
            }
        }
        _ => {}
    }
}

fn put_control(block: &mut Value, control: &Value) {
    if let Some(b) = block.as_object_mut()
        && !b.contains_key("cache_control")
    {
        b.insert("cache_control".into(), control.clone());
    }
}

fn push_point(blocks: &mut Vec<Value>, point: &Value) {
    let already = blocks.last().is_some_and(|b| b.get("cachePoint").is_some());
    if !blocks.is_empty() && !already {
        blocks.push(point.clone());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn plan(scope: &str) -> CachePlan {
        CachePlan::parse_scope(scope).unwrap().unwrap()
    }

    #[test]
    fn anthropic_first_n_messages_marks_the_nth_and_keeps_existing_markers() {
        let mut body = json!({
            "system": [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
            "messages": [
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": "b"},
                {"role": "user", "content": "c"}
            ]
        });
        let mut p = plan("system+messages");
        p.messages = Some(MessagePrefix::First(2));
        mark_anthropic(body.as_object_mut().unwrap(), Some(&p));
        assert_eq!(
            body,
            json!({
                "system": [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
                "messages": [
                    {"role": "user", "content": "a"},
                    {"role": "assistant", "content": [{"type": "text", "text": "b", "cache_control": {"type": "ephemeral"}}]},
                    {"role": "user", "content": "c"}
                ]
            })
        );
    }

    #[test]
    fn bedrock_tools_and_messages_get_points_once() {
        let mut body = json!({
            "toolConfig": {"tools": [{"toolSpec": {"name": "t"}}]},
            "messages": [{"role": "user", "content": [{"text": "hi"}]}]
        });
        let p = plan("system+tools+messages");
        mark_bedrock(body.as_object_mut().unwrap(), Some(&p));
        mark_bedrock(body.as_object_mut().unwrap(), Some(&p));
        assert_eq!(
            body,
            json!({
                "toolConfig": {"tools": [{"toolSpec": {"name": "t"}}, {"cachePoint": {"type": "default"}}]},
                "messages": [{"role": "user", "content": [{"text": "hi"}, {"cachePoint": {"type": "default"}}]}]
            })
        );
    }
}
