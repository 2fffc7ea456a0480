//! Reading a schema file: JSON, a JSON Schema, and a name the providers accept.

use std::path::Path;

use crate::target::OutputSchema;

/// Read `path` as the schema every answer must follow. Errors are one line naming the
/// file (and `line:col` for JSON that does not parse).
pub fn from_file(path: &Path) -> Result<OutputSchema, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the schema: {e}", path.display()))?;
    from_text(&text, &path.display().to_string(), &name_from_path(path))
}

/// Parse and check schema `text` (from `origin`, for messages) named `name`.
pub fn from_text(text: &str, origin: &str, name: &str) -> Result<OutputSchema, String> {
    let schema: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "{origin}:{}:{}: the schema is not JSON: {}",
            e.line(),
            e.column(),
            strip_position(&e.to_string())
        )
    })?;
    if !(schema.is_object() || schema.is_boolean()) {
        return Err(format!(
            "{origin}:1:1: a JSON Schema is an object (or true/false), not {}",
            kind(&schema)
        ));
    }
    if let Err(e) = jsonschema::meta::validate(&schema) {
        let at = e.instance_path().to_string();
        let (line, col) = position_of(text, &at);
        let at = if at.is_empty() { "its root".to_string() } else { at };
        return Err(format!(
            "{origin}:{line}:{col}: not a valid JSON Schema at {at}: {e}"
        ));
    }
    if let Err(e) = jsonschema::validator_for(&schema) {
        return Err(format!("{origin}:1:1: the schema cannot be used: {e}"));
    }
    Ok(OutputSchema {
        name: name.to_string(),
        schema,
        strict: true,
    })
}

/// The schema's name from its file name: `invoice.schema.json` is `invoice`, with every
/// character a tool name may not hold replaced by `_` (at most 64 characters).
pub fn name_from_path(path: &Path) -> String {
    let stem = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split('.').next())
        .unwrap_or("");
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() { "answer".into() } else { name }
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// serde_json ends its messages with ` at line L column C`; the position is given first.
fn strip_position(msg: &str) -> &str {
    msg.rfind(" at line ").map_or(msg, |i| &msg[..i])
}

/// Where the value at JSON pointer `at` starts in `text`, found by walking its keys in
/// order: good enough to put the cursor on the offending key of a hand-written file.
/// Falls back to 1:1.
fn position_of(text: &str, at: &str) -> (usize, usize) {
    let mut offset = 0;
    for segment in at.split('/').skip(1) {
        let key = segment.replace("~1", "/").replace("~0", "~");
        if key.parse::<usize>().is_ok() {
            continue;
        }
        let quoted = format!("\"{key}\"");
        match text[offset..].find(&quoted) {
            Some(i) => offset += i,
            None => return (1, 1),
        }
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_loads_with_its_name_and_strict_on() {
        let s = from_text(
            r#"{"type":"object","properties":{"a":{"type":"string"}}}"#,
            "x.json",
            "x",
        )
        .unwrap();
        assert_eq!((s.name.as_str(), s.strict), ("x", true));
        assert_eq!(s.schema["properties"]["a"]["type"], "string");
    }

    #[test]
    fn json_that_does_not_parse_names_file_line_and_column() {
        let e = from_text("{\n  \"type\": \"object\",\n  oops\n}", "s.json", "s").unwrap_err();
        assert!(e.starts_with("s.json:3:3: the schema is not JSON: "), "{e}");
    }

    #[test]
    fn a_value_that_is_not_a_schema_says_where() {
        let text =
            "{\n  \"type\": \"object\",\n  \"properties\": {\n    \"n\": {\"type\": \"integr\"}\n  }\n}";
        let e = from_text(text, "s.json", "s").unwrap_err();
        assert!(e.starts_with("s.json:4:"), "{e}");
        assert!(e.contains("not a valid JSON Schema at /properties/n/type"), "{e}");
        let e = from_text("[1]", "s.json", "s").unwrap_err();
        assert_eq!(
            e,
            "s.json:1:1: a JSON Schema is an object (or true/false), not an array"
        );
    }

    #[test]
    fn names_keep_only_what_a_tool_name_may_hold() {
        assert_eq!(name_from_path(Path::new("dir/invoice.schema.json")), "invoice");
        assert_eq!(name_from_path(Path::new("my order!.json")), "my_order_");
        assert_eq!(name_from_path(Path::new(".json")), "answer");
    }
}
