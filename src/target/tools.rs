//! Tools as a target knows them: the definitions stated once, how the model is asked to
//! use them, and the canned results a follow-up round sends back. Plain data; the
//! `tools` module loads and checks it, the provider layer's `tools` module maps it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One function the model may call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolDef {
    /// Letters, digits, `_` and `-`, at most 64: the rule every provider shares.
    pub name: String,
    /// What the tool does, for the model; empty when the file gave none (then not sent).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// A JSON Schema object for the arguments, checked when it was loaded.
    pub parameters: Value,
}

/// How the model is asked to use the tools (`tool_choice`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// The model must call some tool.
    Required,
    /// The model must not call a tool (Bedrock cannot say so: its tools are left out).
    None,
    /// The model must call this tool.
    Named(String),
}

impl ToolChoice {
    /// Read the config spelling: `auto`, `required`, `none`, or a tool's name.
    pub fn parse(s: &str) -> Self {
        match s {
            "auto" => Self::Auto,
            "required" => Self::Required,
            "none" => Self::None,
            name => Self::Named(name.to_string()),
        }
    }

    /// The config spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Auto => "auto",
            Self::Required => "required",
            Self::None => "none",
            Self::Named(name) => name,
        }
    }
}

/// Canned tool results: what a follow-up round sends back for each call. A call's own
/// id is looked up first, then its tool's name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ToolResults {
    /// Result by tool name or call id: a string is sent as written, anything else as JSON.
    pub results: BTreeMap<String, Value>,
    /// Typed in the workbench for one follow-up, not configured: recorded as not canned.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub typed: bool,
}

impl ToolResults {
    /// The result for call `id` of tool `name`, if the file has one.
    pub fn for_call(&self, id: &str, name: &str) -> Option<&Value> {
        (!id.is_empty())
            .then(|| self.results.get(id))
            .flatten()
            .or_else(|| self.results.get(name))
    }
}

/// Everything a target sends about tools.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Toolset {
    /// The definitions, in file order.
    pub tools: Vec<ToolDef>,
    /// `None`: the provider's default (auto), and no `tool_choice` field is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<ToolChoice>,
    /// Canned results; when present, a run that ends in tool calls sends one follow-up
    /// round with them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<ToolResults>,
}

impl Toolset {
    /// The definition named `name`.
    pub fn get(&self, name: &str) -> Option<&ToolDef> {
        self.tools.iter().find(|t| t.name == name)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_call_id_result_wins_over_its_tools_name() {
        let r = ToolResults {
            results: [
                ("get_weather".to_string(), json!("sunny")),
                ("call_2".to_string(), json!({"temp": 3})),
            ]
            .into(),
            typed: false,
        };
        assert_eq!(r.for_call("call_1", "get_weather"), Some(&json!("sunny")));
        assert_eq!(r.for_call("call_2", "get_weather"), Some(&json!({"temp": 3})));
        assert_eq!(r.for_call("", "other"), None);
    }

    #[test]
    fn tool_choice_reads_its_config_spelling() {
        for s in ["auto", "required", "none", "get_weather"] {
            assert_eq!(ToolChoice::parse(s).as_str(), s);
        }
        assert_eq!(ToolChoice::parse("x"), ToolChoice::Named("x".into()));
    }
}
