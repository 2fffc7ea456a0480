//! Schema-shaped answers: when a request asks for JSON following a schema, in any of the
//! forms the providers take, the mock answers with JSON that satisfies it, streamed in
//! pieces (as text, or as the forced tool's input). `badjson` makes it break the schema
//! once, so tests and the demo show a violation too.
//!
//! The generator is deliberately small: objects get their required properties (all of
//! them when none are required), strings a word, numbers and integers `1`, booleans
//! `true`, arrays one item (`minItems` honoured up to 2), `enum` and `const` their first
//! value, `anyOf`/`oneOf` their first branch, and local `$ref`s are followed.

use serde_json::{Map, Value, json};

use super::plan::{Event, Finish, Kind, Plan, ToolCall};

/// What the request asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Asked {
    /// The schema (`{}` for JSON without one: `json_object`).
    pub schema: Value,
    /// The forced tool whose input carries the answer, when it was asked that way.
    pub tool: Option<String>,
}

/// The schema a request body carries, in whichever provider's form it came.
pub fn asked(body: &Value) -> Option<Asked> {
    let text = |schema: &Value| {
        Some(Asked {
            schema: schema.clone(),
            tool: None,
        })
    };
    // Chat Completions.
    if let Some(format) = body.get("response_format") {
        return match format.get("type").and_then(Value::as_str) {
            Some("json_schema") => text(&format["json_schema"]["schema"]),
            Some("json_object") => text(&json!({})),
            _ => None,
        };
    }
    // Responses.
    if let Some(format) = body.pointer("/text/format") {
        return match format.get("type").and_then(Value::as_str) {
            Some("json_schema") => text(&format["schema"]),
            Some("json_object") => text(&json!({})),
            _ => None,
        };
    }
    // Anthropic native.
    if let Some(schema) = body.pointer("/output_format/schema") {
        return text(schema);
    }
    // Gemini.
    if let Some(config) = body.get("generationConfig") {
        if let Some(schema) = config.get("responseJsonSchema") {
            return text(schema);
        }
        if let Some(schema) = config.get("responseSchema") {
            return text(&lower_types(schema));
        }
        if config.get("responseMimeType").and_then(Value::as_str) == Some("application/json") {
            return text(&json!({}));
        }
    }
    forced_tool(body)
}

/// Gemini's OpenAPI-subset schema (`"type": "OBJECT"`) read as JSON Schema: the types
/// in lower case, everything else as it is (the generator ignores what it does not know).
fn lower_types(schema: &Value) -> Value {
    match schema {
        Value::Object(obj) => Value::Object(
            obj.iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("type", Value::String(t)) => (k.clone(), Value::String(t.to_ascii_lowercase())),
                    _ => (k.clone(), lower_types(v)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(lower_types).collect()),
        other => other.clone(),
    }
}

/// A forced tool: Chat Completions, Responses, Anthropic or Bedrock's way of naming it.
fn forced_tool(body: &Value) -> Option<Asked> {
    let (name, tools) = if let Some(tool) = body.pointer("/toolConfig/toolChoice/tool/name") {
        (tool.as_str()?, body.pointer("/toolConfig/tools")?)
    } else {
        let choice = body.get("tool_choice")?;
        let name = choice
            .pointer("/function/name")
            .or_else(|| choice.get("name"))
            .and_then(Value::as_str)?;
        (name, body.get("tools")?)
    };
    let schema = tools.as_array()?.iter().find_map(|t| {
        let named = |v: Option<&Value>| v.and_then(Value::as_str) == Some(name);
        if named(t.pointer("/function/name")) {
            t.pointer("/function/parameters")
        } else if named(t.pointer("/toolSpec/name")) {
            t.pointer("/toolSpec/inputSchema/json")
        } else if named(t.get("name")) {
            t.get("input_schema").or_else(|| t.get("parameters"))
        } else {
            None
        }
    })?;
    Some(Asked {
        schema: schema.clone(),
        tool: Some(name.to_string()),
    })
}

/// `plan` with its visible answer replaced by JSON for `asked` (broken once when `bad`),
/// in pieces of a few characters, cut at `cap` pieces (then the length finish). A
/// filtered or blocked plan is left as it is.
pub fn shape(mut plan: Plan, asked: &Asked, bad: bool, cap: Option<usize>, per_event: usize) -> Plan {
    if matches!(plan.finish, Finish::Filter | Finish::Blocked) {
        return plan;
    }
    let mut value = example(&asked.schema, 0);
    if bad {
        violate(&mut value);
    }
    let json = value.to_string();
    let mut pieces = pieces(&json);
    let left = cap.map_or(usize::MAX, |c| c.saturating_sub(plan.usage.reasoning));
    let truncated = pieces.len() > left;
    pieces.truncate(left);
    let kind = if asked.tool.is_some() {
        Kind::ToolArgs
    } else {
        Kind::Text
    };
    plan.events.retain(|e| e.kind == Kind::Reasoning);
    plan.events.extend(pieces.chunks(per_event.max(1)).map(|c| Event {
        kind,
        text: c.concat(),
        tokens: c.len(),
        call: 0,
    }));
    plan.tools = asked
        .tool
        .clone()
        .map(|name| ToolCall { name })
        .into_iter()
        .collect();
    plan.usage.output_visible = pieces.len();
    plan.finish = match (truncated, !plan.tools.is_empty()) {
        (true, _) => Finish::Length,
        (false, true) => Finish::Tool,
        (false, false) => Finish::Stop,
    };
    plan
}

/// Split at character boundaries into pieces of up to 4 characters, the way a tokenizer
/// would break JSON, roughly.
pub fn pieces(json: &str) -> Vec<String> {
    let chars: Vec<char> = json.chars().collect();
    chars.chunks(4).map(|c| c.iter().collect()).collect()
}

/// A value that satisfies `schema` (within the generator's reach, see the module docs).
fn generate(schema: &Value, root: &Value, depth: usize, variant: usize) -> Value {
    if depth > 16 {
        return Value::Null;
    }
    let Some(s) = schema.as_object() else {
        return json!({});
    };
    if let Some(target) = s.get("$ref").and_then(Value::as_str) {
        let pointer = target.strip_prefix('#').unwrap_or(target);
        return root
            .pointer(pointer)
            .map_or(Value::Null, |t| generate(t, root, depth + 1, variant));
    }
    if let Some(v) = s.get("const") {
        return v.clone();
    }
    if let Some(v) = s.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
        return v.clone();
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = s.get(key).and_then(Value::as_array).and_then(|a| a.first()) {
            return generate(first, root, depth + 1, variant);
        }
    }
    let ty = match s.get("type") {
        Some(Value::String(t)) => t.as_str(),
        // `["string", "null"]`: the first type that is not null.
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if s.contains_key("properties") => "object",
        _ if s.contains_key("items") => "array",
        _ => "object",
    };
    match ty {
        "string" => Value::String(word(s, variant)),
        "integer" | "number" => number(s),
        "boolean" => Value::Bool(true),
        "null" => Value::Null,
        "array" => {
            let n = s.get("minItems").and_then(Value::as_u64).unwrap_or(1).clamp(1, 2);
            let item = s
                .get("items")
                .cloned()
                .unwrap_or_else(|| json!({"type": "string"}));
            Value::Array(
                (0..n)
                    .map(|_| generate(&item, root, depth + 1, variant))
                    .collect(),
            )
        }
        _ => {
            let props = s.get("properties").and_then(Value::as_object);
            let required: Vec<&str> = s
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut out = Map::new();
            for (name, sub) in props.into_iter().flatten() {
                if required.is_empty() || required.contains(&name.as_str()) {
                    out.insert(name.clone(), generate(sub, root, depth + 1, variant));
                }
            }
            Value::Object(out)
        }
    }
}

/// A value that satisfies `schema`; `variant` tells parallel calls to the same tool apart
/// (their free strings read `mock`, `mock2`, `mock3`...).
pub fn example(schema: &Value, variant: usize) -> Value {
    generate(schema, schema, 0, variant)
}

fn word(s: &Map<String, Value>, variant: usize) -> String {
    let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let mut w = match s.get("format").and_then(Value::as_str) {
        Some("date") => "2026-01-02".to_string(),
        Some("date-time") => "2026-01-02T03:04:05Z".to_string(),
        Some("email") => "mock@example.com".to_string(),
        _ if variant > 0 => format!("mock{}", variant + 1),
        _ => "mock".to_string(),
    };
    while w.chars().count() < min {
        w.push('x');
    }
    w
}

fn number(s: &Map<String, Value>) -> Value {
    let mut v = s
        .get("minimum")
        .and_then(Value::as_f64)
        .or_else(|| {
            s.get("exclusiveMinimum")
                .and_then(Value::as_f64)
                .map(|m| m.floor() + 1.0)
        })
        .unwrap_or(1.0)
        .ceil();
    if let Some(max) = s.get("maximum").and_then(Value::as_f64) {
        v = v.min(max.floor());
    }
    json!(v as i64)
}

/// Break the value once: its first scalar gets the wrong type (an empty object becomes
/// an array).
fn violate(v: &mut Value) {
    fn first_scalar(v: &mut Value) -> Option<&mut Value> {
        match v {
            Value::Object(m) => m.values_mut().find_map(first_scalar),
            Value::Array(a) => a.iter_mut().find_map(first_scalar),
            scalar => Some(scalar),
        }
    }
    match first_scalar(v) {
        Some(s @ Value::String(_)) => *s = json!(42),
        Some(s) => *s = json!("not the type the schema asks for"),
        None => *v = json!([]),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn order() -> Value {
        json!({
            "type": "object",
            "properties": {
                "id": {"type": "integer", "minimum": 3},
                "status": {"enum": ["open", "closed"]},
                "items": {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/item"}},
                "note": {"type": "string"}
            },
            "required": ["id", "status", "items"],
            "$defs": {"item": {"type": "object", "properties": {"name": {"type": "string"}, "price": {"type": "number"}}, "required": ["name", "price"]}}
        })
    }

    #[test]
    fn generated_values_follow_the_schema() {
        let v = generate(&order(), &order(), 0, 0);
        assert_eq!(
            v,
            json!({"id": 3, "status": "open", "items": [{"name": "mock", "price": 1}, {"name": "mock", "price": 1}]})
        );
        assert!(crate::schema::check(&order(), &v.to_string(), false).is_valid());
    }

    #[test]
    fn a_broken_value_breaks_the_schema_at_its_first_scalar() {
        let mut v = generate(&order(), &order(), 0, 0);
        violate(&mut v);
        let verdict = crate::schema::check(&order(), &v.to_string(), false);
        assert_eq!(verdict.errors[0].path, "/id", "{verdict:?}");
    }

    #[test]
    fn every_providers_form_is_recognized() {
        let s = json!({"type": "object"});
        let bodies = [
            (
                json!({"response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": s}}}),
                None,
            ),
            (
                json!({"text": {"format": {"type": "json_schema", "name": "a", "schema": s}}}),
                None,
            ),
            (
                json!({"output_format": {"type": "json_schema", "schema": s}}),
                None,
            ),
            (
                json!({"generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": s}}),
                None,
            ),
            (
                json!({"tools": [{"type": "function", "function": {"name": "a", "parameters": s}}], "tool_choice": {"type": "function", "function": {"name": "a"}}}),
                Some("a"),
            ),
            (
                json!({"tools": [{"type": "function", "name": "a", "parameters": s}], "tool_choice": {"type": "function", "name": "a"}}),
                Some("a"),
            ),
            (
                json!({"tools": [{"name": "a", "input_schema": s}], "tool_choice": {"type": "tool", "name": "a"}}),
                Some("a"),
            ),
            (
                json!({"toolConfig": {"tools": [{"toolSpec": {"name": "a", "inputSchema": {"json": s}}}], "toolChoice": {"tool": {"name": "a"}}}}),
                Some("a"),
            ),
        ];
        for (body, tool) in bodies {
            let a = asked(&body).unwrap_or_else(|| panic!("{body}"));
            assert_eq!((a.schema, a.tool.as_deref()), (s.clone(), tool), "{body}");
        }
        assert_eq!(
            asked(&json!({"response_format": {"type": "json_object"}}))
                .unwrap()
                .schema,
            json!({})
        );
        assert!(asked(&json!({"messages": []})).is_none());
    }
}
