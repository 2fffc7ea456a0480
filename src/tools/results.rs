//! Reading a canned tool results file: a map from tool name (or a call id) to the result.
//!
//! JSON `{"get_weather": {"temp_c": 21}, "call_abc": "closed"}` or TOML
//! `get_weather = "sunny"` / `[get_weather] temp_c = 21`. A string is sent as written;
//! any other value is sent as JSON.

use std::path::Path;

use serde_json::Value;

use super::load::parse;
use crate::target::ToolResults;

/// Read `path` (`.toml` as TOML, anything else as JSON) as canned tool results.
pub fn results_from_file(path: &Path) -> Result<ToolResults, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the tool results file: {e}", path.display()))?;
    let toml = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    results_from_text(&text, &path.display().to_string(), toml)
}

/// Parse canned results `text` (from `origin`, for messages).
pub fn results_from_text(text: &str, origin: &str, toml: bool) -> Result<ToolResults, String> {
    match parse(text, origin, toml)? {
        Value::Object(map) if !map.is_empty() => Ok(ToolResults {
            results: map.into_iter().collect(),
            typed: false,
        }),
        Value::Object(_) => Err(format!("{origin}:1:1: the file holds no results")),
        _ => Err(format!(
            "{origin}:1:1: expected a map from tool name (or call id) to its result"
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn results_read_from_json_and_toml_alike() {
        let j = results_from_text(
            r#"{"get_weather": {"temp_c": 21}, "now": "noon"}"#,
            "r.json",
            false,
        )
        .unwrap();
        let t = results_from_text("now = \"noon\"\n[get_weather]\ntemp_c = 21\n", "r.toml", true).unwrap();
        assert_eq!(j, t);
        assert_eq!(j.for_call("x", "get_weather"), Some(&json!({"temp_c": 21})));
        assert!(
            results_from_text("[1]", "r.json", false)
                .unwrap_err()
                .contains("expected a map")
        );
    }
}
