//! Reading a tools file: a list of `{name, description, parameters}`.
//!
//! JSON: an array of tools, or `{"tools": [...]}`. TOML: `[[tool]]` tables (a
//! `[tool.parameters]` table or an inline one holds the schema). `parameters` may be left
//! out for a tool that takes none (`{"type": "object", "properties": {}}` is sent).

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::target::{ToolDef, Toolset};

/// Read `path` (`.toml` as TOML, anything else as JSON) as tool definitions.
pub fn definitions_from_file(path: &Path) -> Result<Toolset, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the tools file: {e}", path.display()))?;
    let toml = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    definitions_from_text(&text, &path.display().to_string(), toml)
}

/// Parse and check tool definitions `text` (from `origin`, for messages).
pub fn definitions_from_text(text: &str, origin: &str, toml: bool) -> Result<Toolset, String> {
    let doc = parse(text, origin, toml)?;
    let key = if toml { "tool" } else { "tools" };
    let list = match doc {
        Value::Array(list) => list,
        Value::Object(mut top) => match top.remove(key) {
            Some(Value::Array(list)) => list,
            _ if toml => return Err(format!("{origin}:1:1: no [[tool]] tables: add one per tool")),
            _ => {
                return Err(format!(
                    "{origin}:1:1: expected a list of tools, or {{\"tools\": [...]}}"
                ));
            }
        },
        _ => return Err(format!("{origin}:1:1: expected a list of tools")),
    };
    if list.is_empty() {
        return Err(format!("{origin}:1:1: the file defines no tools"));
    }
    let mut tools: Vec<ToolDef> = Vec::with_capacity(list.len());
    for (i, item) in list.into_iter().enumerate() {
        let tool = one(item, i, text, origin)?;
        if tools.iter().any(|t| t.name == tool.name) {
            let (line, col) = nth_position(text, &format!("\"{}\"", tool.name), 2);
            return Err(format!(
                "{origin}:{line}:{col}: tool `{}` is defined twice: names must be unique",
                tool.name
            ));
        }
        tools.push(tool);
    }
    Ok(Toolset {
        tools,
        ..Toolset::default()
    })
}

/// JSON or TOML text as one JSON value.
pub(super) fn parse(text: &str, origin: &str, toml: bool) -> Result<Value, String> {
    if toml {
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map_or((1, 1), |s| line_col(text, s.start));
            format!("{origin}:{line}:{col}: not valid TOML: {}", e.message().trim())
        })?;
        serde_json::to_value(table).map_err(|e| format!("{origin}:1:1: cannot read the TOML: {e}"))
    } else {
        serde_json::from_str(text).map_err(|e| {
            let msg = e.to_string();
            let msg = msg.rfind(" at line ").map_or(msg.as_str(), |i| &msg[..i]);
            format!("{origin}:{}:{}: not JSON: {msg}", e.line(), e.column())
        })
    }
}

/// Check the `i`th tool.
fn one(item: Value, i: usize, text: &str, origin: &str) -> Result<ToolDef, String> {
    let n = i + 1;
    let Value::Object(mut fields) = item else {
        return Err(format!("{origin}: tool {n} is not a table/object"));
    };
    if let Some(key) = fields
        .keys()
        .find(|k| !["name", "description", "parameters"].contains(&k.as_str()))
    {
        let (line, col) = nth_position(text, key, 1);
        return Err(format!(
            "{origin}:{line}:{col}: tool {n}: unknown key `{key}`: a tool has name, description and parameters"
        ));
    }
    let name = match fields.remove("name") {
        Some(Value::String(s)) => s,
        _ => return Err(format!("{origin}: tool {n} has no `name` string")),
    };
    let at = |needle: &str| {
        let (line, col) = nth_position(text, needle, 1);
        format!("{origin}:{line}:{col}")
    };
    if !valid_name(&name) {
        return Err(format!(
            "{}: tool name `{name}`: use 1 to 64 letters, digits, `_` or `-` (what every provider accepts)",
            at(&name)
        ));
    }
    let description = match fields.remove("description") {
        None => String::new(),
        Some(Value::String(s)) => s,
        Some(_) => {
            return Err(format!(
                "{}: tool `{name}`: `description` must be a string",
                at(&name)
            ));
        }
    };
    let parameters = match fields.remove("parameters") {
        None => json!({"type": "object", "properties": {}}),
        Some(Value::Object(p)) => check_parameters(p, &name).map_err(|e| format!("{}: {e}", at(&name)))?,
        Some(_) => {
            return Err(format!(
                "{}: tool `{name}`: `parameters` must be a JSON Schema object",
                at(&name)
            ));
        }
    };
    Ok(ToolDef {
        name,
        description,
        parameters,
    })
}

/// The arguments schema: a valid JSON Schema describing an object (every provider takes
/// arguments as one JSON object).
fn check_parameters(p: Map<String, Value>, name: &str) -> Result<Value, String> {
    let schema = Value::Object(p);
    if let Err(e) = jsonschema::meta::validate(&schema) {
        let at = e.instance_path().to_string();
        let at = if at.is_empty() { "its root".to_string() } else { at };
        return Err(format!(
            "tool `{name}`: `parameters` is not a valid JSON Schema at {at}: {e}"
        ));
    }
    if let Err(e) = jsonschema::validator_for(&schema) {
        return Err(format!("tool `{name}`: `parameters` cannot be used: {e}"));
    }
    match schema.get("type") {
        Some(Value::String(t)) if t == "object" => Ok(schema),
        _ => Err(format!(
            "tool `{name}`: `parameters` must have \"type\": \"object\" (arguments are one JSON object)"
        )),
    }
}

/// The name rule OpenAI, Anthropic, Gemini and Bedrock all accept.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Where the `nth` occurrence (from 1) of `needle` starts, else the last one, else 1:1.
fn nth_position(text: &str, needle: &str, nth: usize) -> (usize, usize) {
    let found: Vec<usize> = text.match_indices(needle).map(|(i, _)| i).take(nth).collect();
    found.last().map_or((1, 1), |&i| line_col(text, i))
}

/// 1-based line and column of byte `offset`.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const TOML: &str = r#"
[[tool]]
name = "get_weather"
description = "Current weather for a city"
[tool.parameters]
type = "object"
required = ["city"]
properties.city = { type = "string" }

[[tool]]
name = "now"
"#;

    #[test]
    fn toml_and_json_files_give_the_same_tools() {
        let from_toml = definitions_from_text(TOML, "t.toml", true).unwrap();
        let json = r#"{"tools": [
            {"name": "get_weather", "description": "Current weather for a city",
             "parameters": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}}},
            {"name": "now"}
        ]}"#;
        let from_json = definitions_from_text(json, "t.json", false).unwrap();
        assert_eq!(from_toml.tools.len(), 2);
        assert_eq!(from_toml.tools[0].name, "get_weather");
        assert_eq!(
            from_toml.tools[1].parameters,
            json!({"type": "object", "properties": {}})
        );
        // Key order differs between the two; the values do not.
        assert_eq!(
            from_toml.tools[0].parameters["properties"],
            from_json.tools[0].parameters["properties"]
        );
        assert_eq!(from_toml.tools[1], from_json.tools[1]);
        let bare = definitions_from_text(r#"[{"name": "now"}]"#, "t.json", false).unwrap();
        assert_eq!(bare.tools[0].name, "now");
    }

    #[test]
    fn bad_files_are_one_line_errors_with_a_position() {
        let e = definitions_from_text("[{\"name\": 3", "t.json", false).unwrap_err();
        assert!(e.starts_with("t.json:1:"), "{e}");
        let e = definitions_from_text("[{\"name\": \"a b\"}]", "t.json", false).unwrap_err();
        assert!(e.starts_with("t.json:1:12: tool name `a b`"), "{e}");
        let e =
            definitions_from_text("[{\"name\": \"a\"},\n {\"name\": \"a\"}]", "t.json", false).unwrap_err();
        assert_eq!(e, "t.json:2:11: tool `a` is defined twice: names must be unique");
        let e = definitions_from_text(
            "[{\"name\": \"a\", \"parameters\": {\"type\": \"string\"}}]",
            "t.json",
            false,
        )
        .unwrap_err();
        assert!(e.contains("must have \"type\": \"object\""), "{e}");
        let e = definitions_from_text(
            "[{\"name\": \"a\", \"parameters\": {\"type\": \"object\", \"required\": 3}}]",
            "t.json",
            false,
        )
        .unwrap_err();
        assert!(e.contains("not a valid JSON Schema at /required"), "{e}");
        let e = definitions_from_text("[[tool]]\nname = \"a\"\nparams = 1\n", "t.toml", true).unwrap_err();
        assert!(e.starts_with("t.toml:3:1: tool 1: unknown key `params`"), "{e}");
        let e = definitions_from_text("[]", "t.json", false).unwrap_err();
        assert_eq!(e, "t.json:1:1: the file defines no tools");
    }
}
