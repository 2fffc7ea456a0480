//! Tool calls and tool results: when a request offers tools (in any provider's shape) and
//! carries no results yet, the mock calls one, with arguments generated from its
//! parameters schema and streamed in pieces in the provider's own framing; when the
//! request carries results, it answers in text that quotes them, so a follow-up round
//! reaches a final answer.
//!
//! The tool called is the one `tool_choice` names, else the first; a choice of `none`
//! leaves the answer as text. `tools=N` makes N parallel calls: to N different tools
//! when that many are offered (and none is named), else to the same tools again with
//! other arguments.

use serde_json::Value;

use super::plan::{Event, Finish, Kind, Plan, ToolCall, group_call};
use super::schema_answer::{example, pieces};

/// What a request asks of the tools it offers.
#[derive(Debug, Clone, PartialEq)]
pub enum Turn {
    /// Call these tools (name and parameters schema), the first first: the one the
    /// choice names alone, else every tool offered.
    Call { tools: Vec<(String, Value)> },
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
    let named: Vec<(String, Value)> = tools
        .iter()
        .filter(|(n, _)| Some(n.as_str()) == chosen.as_deref())
        .take(1)
        .cloned()
        .collect();
    let tools = if named.is_empty() { tools } else { named };
    Some(Turn::Call { tools })
}

/// `plan` turned into what `turn` asks: `calls` streamed tool calls, or the plan's text
/// after a sentence that quotes the results.
pub fn shape_for(mut plan: Plan, turn: &Turn, calls: usize, cap: Option<usize>, per_event: usize) -> Plan {
    match turn {
        Turn::Call { tools } => call(plan, tools, calls, cap, per_event),
        Turn::Answer { results } => {
            if matches!(plan.finish, Finish::Filter | Finish::Blocked) || !plan.tools.is_empty() {
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
                    call: 0,
                },
            );
            plan.usage.output_visible += tokens;
            plan
        }
    }
}

/// `plan`'s visible answer replaced by `calls` tool calls cycling through `tools`, their
/// arguments generated from each schema (another variant each time round) and streamed in
/// pieces; cut at `cap` pieces (then the length finish, and no later calls). A filtered
/// or blocked plan is left as it is.
fn call(
    mut plan: Plan,
    tools: &[(String, Value)],
    calls: usize,
    cap: Option<usize>,
    per_event: usize,
) -> Plan {
    if matches!(plan.finish, Finish::Filter | Finish::Blocked) || tools.is_empty() {
        return plan;
    }
    let mut left = cap.map_or(usize::MAX, |c| c.saturating_sub(plan.usage.reasoning));
    let mut truncated = false;
    plan.events.retain(|e| e.kind == Kind::Reasoning);
    plan.tools.clear();
    plan.usage.output_visible = 0;
    for i in 0..calls.max(1) {
        if left == 0 && i > 0 {
            truncated = true;
            break;
        }
        let (name, schema) = &tools[i % tools.len()];
        let mut pieces = pieces(&example(schema, i / tools.len()).to_string());
        truncated |= pieces.len() > left;
        pieces.truncate(left);
        left -= pieces.len();
        plan.usage.output_visible += pieces.len();
        plan.events.extend(group_call(i, &pieces, per_event));
        plan.tools.push(ToolCall { name: name.clone() });
    }
    plan.finish = if truncated { Finish::Length } else { Finish::Tool };
    plan
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
        // Google parses request JSON as protobuf does, so snake_case field names are as
        // good as camelCase (google-genai sends `parameters_json_schema`).
        let decls = tool
            .get("functionDeclarations")
            .or_else(|| tool.get("function_declarations"));
        if let Some(decls) = decls.and_then(Value::as_array) {
            out.extend(decls.iter().filter_map(|d| {
                let schema = ["parametersJsonSchema", "parameters_json_schema", "parameters"]
                    .iter()
                    .find_map(|k| d.get(*k));
                named(d.get("name"), schema)
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
            } else if let Some(r) = o.get("functionResponse").or_else(|| o.get("function_response")) {
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
        let first = |body: &Value| match asked(body) {
            Some(Turn::Call { tools }) => tools.iter().map(|t| t.0.clone()).collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        assert_eq!(first(&chat), ["b"], "a named tool is the only one called");
        let gemini = json!({"tools": [{"functionDeclarations": [{"name": "g"}, {"name": "h"}]}]});
        assert_eq!(first(&gemini), ["g", "h"]);
        let snake = json!({"tools": [{"function_declarations": [{"name": "s",
            "parameters_json_schema": {"type": "object", "properties": {"c": {"type": "string"}}}}]}]});
        assert!(
            matches!(asked(&snake), Some(Turn::Call { tools }) if tools[0].1["properties"]["c"]["type"] == "string"),
            "protobuf's snake_case names are read too"
        );
        let bedrock =
            json!({"toolConfig": {"tools": [{"toolSpec": {"name": "t", "inputSchema": {"json": {}}}}]}});
        assert_eq!(first(&bedrock), ["t"]);
        let none = json!({"tools": [{"name": "a", "input_schema": {}}], "tool_choice": {"type": "none"}});
        assert_eq!(asked(&none), None);
    }

    fn plan() -> Plan {
        Plan {
            events: Vec::new(),
            tools: Vec::new(),
            finish: Finish::Stop,
            usage: Default::default(),
            omit_usage: false,
            fault: None,
            fault_after: 0,
        }
    }

    #[test]
    fn parallel_calls_go_to_different_tools_else_differ_in_arguments() {
        let city = json!({"type": "object", "properties": {"city": {"type": "string"}}});
        let one = Turn::Call {
            tools: vec![("w".into(), city.clone())],
        };
        let p = shape_for(plan(), &one, 2, None, 1);
        assert_eq!(p.finish, Finish::Tool);
        let names: Vec<&str> = p.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["w", "w"]);
        assert_eq!(
            (p.args(0), p.args(1)),
            (r#"{"city":"mock"}"#.into(), r#"{"city":"mock2"}"#.into())
        );
        let two = Turn::Call {
            tools: vec![("w".into(), city), ("now".into(), json!({}))],
        };
        let p = shape_for(plan(), &two, 2, None, 1);
        let names: Vec<&str> = p.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["w", "now"]);
        assert_eq!(p.args(1), "{}");
        let cut = shape_for(plan(), &two, 2, Some(3), 1);
        assert_eq!(
            (cut.finish, cut.tools.len()),
            (Finish::Length, 1),
            "a cap stops the calls"
        );
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
