//! Tool calls and tool results: when a request offers tools (in any provider's shape) and
//! carries no results yet, the mock calls one, with arguments generated from its
//! parameters schema and streamed in pieces in the provider's own framing; when the
//! request carries results, it answers in text that quotes them, so a follow-up round
//! reaches a final answer.
//!
//! The tool called is the one `tool_choice` names, else the first; a choice of `none`
//! leaves the answer as text.

use serde_json::Value;

use super::plan::{Event, Finish, Kind, Plan};
use super::schema_answer::{Asked, shape};

/// What a request asks of the tools it offers.
#[derive(Debug, Clone, PartialEq)]
pub enum Turn {
    /// Call this tool (name and parameters schema).
    Call { name: String, schema: Value },
    /// Answer with these results in mind (their text, in order).
    Answer { results: Vec<String> },
}

/// What `body` asks, if it offers tools or carries results.
pub fn asked(body: &Value) -> Option<Turn> {
    let results = results_in(body);
    if !results.is_empty() {
        return Some(Turn::Answer { results });
    }
    let tools = offered(body);
    if tools.is_empty() || refuses(body) {
        return None;
    }
    let chosen = chosen(body);
    let (name, schema) = tools
        .iter()
        .find(|(n, _)| Some(n.as_str()) == chosen.as_deref())
        .or_else(|| tools.first())?
        .clone();
    Some(Turn::Call { name, schema })
}

/// `plan` turned into what `turn` asks: a streamed tool call, or the plan's text after a
/// sentence that quotes the results.
pub fn shape_for(mut plan: Plan, turn: &Turn, cap: Option<usize>, per_event: usize) -> Plan {
    match turn {
        Turn::Call { name, schema } => {
            let asked = Asked {
                schema: schema.clone(),
                tool: Some(name.clone()),
            };
            shape(plan, &asked, false, cap, per_event)
        }
        Turn::Answer { results } => {
            if matches!(plan.finish, Finish::Filter | Finish::Blocked) || plan.tool.is_some() {
                return plan;
            }
            let quote = format!("The tool returned {}. ", results.join(" and "));
            let at = plan
                .events
                .iter()
                .position(|e| e.kind != Kind::Reasoning)
                .unwrap_or(plan.events.len());
            let tokens = quote.split_whitespace().count();
            plan.events.insert(
                at,
                Event {
                    kind: Kind::Text,
                    text: quote,
                    tokens,
                },
            );
            plan.usage.output_visible += tokens;
            plan
        }
    }
}

/// Every tool offered, as (name, parameters schema), in whichever provider's shape.
fn offered(body: &Value) -> Vec<(String, Value)> {
    let empty = serde_json::json!({"type": "object", "properties": {}});
    let mut out = Vec::new();
    let lists = [body.get("tools"), body.pointer("/toolConfig/tools")];
    for tool in lists.into_iter().flatten().filter_map(Value::as_array).flatten() {
        let named = |name: Option<&Value>, schema: Option<&Value>| {
            name.and_then(Value::as_str)
                .map(|n| (n.to_string(), schema.cloned().unwrap_or_else(|| empty.clone())))
        };
        if let Some(decls) = tool.get("functionDeclarations").and_then(Value::as_array) {
            out.extend(decls.iter().filter_map(|d| {
                named(
                    d.get("name"),
                    d.get("parametersJsonSchema").or_else(|| d.get("parameters")),
                )
            }));
        } else if let Some(f) = tool.get("function") {
            out.extend(named(f.get("name"), f.get("parameters")));
        } else if let Some(spec) = tool.get("toolSpec") {
            out.extend(named(spec.get("name"), spec.pointer("/inputSchema/json")));
        } else {
            out.extend(named(
                tool.get("name"),
                tool.get("input_schema").or_else(|| tool.get("parameters")),
            ));
        }
    }
    out
}

/// The tool a request's choice names, in any provider's shape.
fn chosen(body: &Value) -> Option<String> {
    let named = [
        "/tool_choice/function/name",
        "/tool_choice/name",
        "/toolConfig/toolChoice/tool/name",
        "/toolConfig/functionCallingConfig/allowedFunctionNames/0",
    ];
    named
        .iter()
        .find_map(|p| body.pointer(p).and_then(Value::as_str))
        .map(str::to_string)
}

/// Whether the request's choice is "no tool call".
fn refuses(body: &Value) -> bool {
    let choice = body.get("tool_choice");
    choice.and_then(Value::as_str) == Some("none")
        || choice.and_then(|c| c.get("type")).and_then(Value::as_str) == Some("none")
        || body
            .pointer("/toolConfig/functionCallingConfig/mode")
            .and_then(Value::as_str)
            == Some("NONE")
}

/// The text of every tool result in the conversation, in any provider's shape.
fn results_in(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["messages", "input", "contents"] {
        if let Some(turns) = body.get(key) {
            collect(turns, &mut out);
        }
    }
    out
}

fn collect(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
        Value::Object(o) => {
            let ty = o.get("type").and_then(Value::as_str);
            let role = o.get("role").and_then(Value::as_str);
            let found = if role == Some("tool") {
                o.get("content")
            } else if ty == Some("function_call_output") {
                o.get("output")
            } else if ty == Some("tool_result") {
                o.get("content")
            } else if let Some(r) = o.get("functionResponse") {
                r.get("response")
            } else if let Some(r) = o.get("toolResult") {
                r.get("content")
            } else {
                None
            };
            match found {
                Some(Value::String(s)) => out.push(s.clone()),
                Some(other) => out.push(other.to_string()),
                None => o.values().for_each(|i| collect(i, out)),
            }
        }
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_named_tool_is_called_else_the_first() {
        let chat = json!({"tools": [
            {"type": "function", "function": {"name": "a", "parameters": {"type": "object"}}},
            {"type": "function", "function": {"name": "b", "parameters": {"type": "object"}}}
        ], "tool_choice": {"type": "function", "function": {"name": "b"}}});
        assert!(matches!(asked(&chat), Some(Turn::Call { name, .. }) if name == "b"));
        let gemini = json!({"tools": [{"functionDeclarations": [{"name": "g"}]}]});
        assert!(matches!(asked(&gemini), Some(Turn::Call { name, .. }) if name == "g"));
        let bedrock =
            json!({"toolConfig": {"tools": [{"toolSpec": {"name": "t", "inputSchema": {"json": {}}}}]}});
        assert!(matches!(asked(&bedrock), Some(Turn::Call { name, .. }) if name == "t"));
        let none = json!({"tools": [{"name": "a", "input_schema": {}}], "tool_choice": {"type": "none"}});
        assert_eq!(asked(&none), None);
    }

    #[test]
    fn results_in_any_shape_lead_to_an_answer() {
        let anthropic = json!({"messages": [{"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "x", "content": "sunny"}]}]});
        assert_eq!(
            asked(&anthropic),
            Some(Turn::Answer {
                results: vec!["sunny".into()]
            })
        );
        let gemini = json!({"contents": [{"role": "user", "parts": [
            {"functionResponse": {"name": "w", "response": {"t": 1}}}]}]});
        assert_eq!(
            asked(&gemini),
            Some(Turn::Answer {
                results: vec!["{\"t\":1}".into()]
            })
        );
    }
}
