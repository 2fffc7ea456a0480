//! Tool files: the definitions (`--tools`, `tools = "file"`) and the canned results
//! (`--tool-results`, `tool_results = "file"`), read from JSON or TOML and checked, and a
//! `tool_choice` checked against the tools it may name.
//!
//! A leaf like `schema`: files in, plain [`Toolset`] data out. Every error is one line
//! that names the file (with `line:col` where the text gives one away).

mod load;
mod results;

pub use load::{definitions_from_file, definitions_from_text};
pub use results::{results_from_file, results_from_text};

use crate::target::{ToolChoice, Toolset};

/// Check `choice` (the config or command-line spelling) against `set`'s tools: a name
/// that is not `auto`, `required` or `none` must be one of them.
pub fn choice(set: &Toolset, choice: &str, origin: &str) -> Result<ToolChoice, String> {
    let parsed = ToolChoice::parse(choice);
    if let ToolChoice::Named(name) = &parsed
        && set.get(name).is_none()
    {
        let names: Vec<&str> = set.tools.iter().map(|t| t.name.as_str()).collect();
        return Err(format!(
            "{origin}: `tool_choice = \"{name}\"` names no tool: use auto, required, none or one of {}",
            names.join(", ")
        ));
    }
    Ok(parsed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::target::ToolDef;

    #[test]
    fn a_tool_choice_must_name_a_defined_tool() {
        let set = Toolset {
            tools: vec![ToolDef {
                name: "get_weather".into(),
                description: String::new(),
                parameters: serde_json::json!({"type": "object"}),
            }],
            ..Toolset::default()
        };
        assert_eq!(
            choice(&set, "get_weather", "x").unwrap(),
            ToolChoice::Named("get_weather".into())
        );
        assert_eq!(choice(&set, "required", "x").unwrap(), ToolChoice::Required);
        let e = choice(&set, "get_wether", "prism.toml:3:15").unwrap_err();
        assert_eq!(
            e,
            "prism.toml:3:15: `tool_choice = \"get_wether\"` names no tool: use auto, required, none or one of get_weather"
        );
    }
}
