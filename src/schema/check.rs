//! An answer against its schema: `valid`, or the first few violations, each a JSON
//! pointer into the answer and the reason.
//!
//! Rules, in order: an answer cut off by the token limit (`finish_reason = length`) is
//! "truncated JSON", never valid, whatever it parses to; an answer wrapped in a markdown
//! code fence is invalid (a structured-output API returns bare JSON, and a consumer
//! parsing it would fail), though what is inside the fence is still checked so the
//! reasons say everything wrong; text that is not JSON is invalid with the parser's
//! reason; otherwise the schema decides.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Violations reported at most per answer.
pub const MAX_ERRORS: usize = 3;

/// One reason an answer is not valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaError {
    /// JSON pointer into the answer (`/items/0/price`); empty for the whole answer.
    pub path: String,
    /// What is wrong there.
    pub reason: String,
}

/// The outcome of checking one answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verdict {
    /// At most [`MAX_ERRORS`] reasons; empty when valid.
    pub errors: Vec<SchemaError>,
}

impl Verdict {
    /// No violation.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    /// One line for a pane: `✓ valid JSON` or `✗ schema: /items/0/price: expected number`.
    pub fn badge(&self) -> String {
        match self.errors.first() {
            None => "✓ valid JSON".into(),
            Some(e) if e.path.is_empty() => format!("✗ schema: {}", e.reason),
            Some(e) => format!("✗ schema: {}: {}", e.path, e.reason),
        }
    }

    /// A run that ended `status` (`error`, `cancelled`) before a whole answer.
    pub fn unanswered(status: &str) -> Self {
        Self::default().with("", format!("no answer: the run ended as {status}"))
    }

    fn with(mut self, path: &str, reason: impl Into<String>) -> Self {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(SchemaError {
                path: path.to_string(),
                reason: reason.into(),
            });
        }
        self
    }
}

/// Check `answer` against `schema` (already known to be a valid schema). `truncated`:
/// the answer stopped at the token limit.
pub fn check(schema: &Value, answer: &str, truncated: bool) -> Verdict {
    let mut verdict = Verdict::default();
    if truncated {
        return verdict.with(
            "",
            "truncated JSON: the answer hit the token limit (finish_reason = length)",
        );
    }
    let mut body = answer.trim();
    if let Some(inner) = unfence(body) {
        verdict = verdict.with("", "wrapped in a markdown fence: the answer must be bare JSON");
        body = inner;
    }
    if body.is_empty() {
        return verdict.with("", "no answer: the text is empty");
    }
    let value: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => return verdict.with("", format!("not JSON: {e}")),
    };
    let validator = match jsonschema::validator_for(schema) {
        Ok(v) => v,
        Err(e) => return verdict.with("", format!("the schema cannot be used: {e}")),
    };
    for e in validator.iter_errors(&value).take(MAX_ERRORS) {
        verdict = verdict.with(&e.instance_path().to_string(), e.to_string());
    }
    verdict
}

/// The inside of a single fenced block that is the whole answer (```` ```json ```` or bare
/// ```` ``` ````), if it is one.
fn unfence(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("```")?;
    let (info, rest) = rest.split_once('\n')?;
    if !(info.trim().is_empty() || info.trim().eq_ignore_ascii_case("json")) {
        return None;
    }
    rest.trim_end().strip_suffix("```")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
                    "required": ["name", "price"]
                }}
            },
            "required": ["items"]
        })
    }

    #[test]
    fn an_answer_that_follows_the_schema_is_valid() {
        let v = check(&schema(), r#"{"items":[{"name":"tea","price":2.5}]}"#, false);
        assert!(v.is_valid(), "{v:?}");
        assert_eq!(v.badge(), "✓ valid JSON");
    }

    #[test]
    fn violations_name_their_json_pointer_and_reason() {
        let v = check(&schema(), r#"{"items":[{"name":"tea","price":"2.5"}]}"#, false);
        assert_eq!(v.errors.len(), 1, "{v:?}");
        assert_eq!(v.errors[0].path, "/items/0/price");
        assert!(v.errors[0].reason.contains("number"), "{v:?}");
        assert!(
            v.badge().starts_with("✗ schema: /items/0/price: "),
            "{}",
            v.badge()
        );
    }

    #[test]
    fn at_most_three_violations_are_kept() {
        let many = r#"{"items":[{"price":"a"},{"price":"b"},{"price":"c"},{"price":"d"}]}"#;
        assert_eq!(check(&schema(), many, false).errors.len(), MAX_ERRORS);
    }

    #[test]
    fn a_truncated_answer_is_never_valid() {
        let v = check(&schema(), r#"{"items":[]}"#, true);
        assert!(!v.is_valid());
        assert!(v.errors[0].reason.starts_with("truncated JSON"), "{v:?}");
    }

    #[test]
    fn text_that_is_not_json_is_invalid_with_the_parsers_reason() {
        let v = check(&schema(), r#"{"items":[{"name":"te"#, false);
        assert!(v.errors[0].reason.starts_with("not JSON: EOF"), "{v:?}");
        assert_eq!(
            check(&schema(), "  ", false).errors[0].reason,
            "no answer: the text is empty"
        );
    }

    #[test]
    fn a_fenced_answer_is_invalid_and_its_inside_still_checked() {
        let ok_inside = "```json\n{\"items\":[]}\n```";
        let v = check(&schema(), ok_inside, false);
        assert_eq!(v.errors.len(), 1, "{v:?}");
        assert_eq!(
            v.errors[0].reason,
            "wrapped in a markdown fence: the answer must be bare JSON"
        );
        let bad_inside = "```\n{\"items\":3}\n```";
        let v = check(&schema(), bad_inside, false);
        assert_eq!(v.errors.len(), 2, "{v:?}");
        assert_eq!(v.errors[1].path, "/items");
        // A fence in the middle of prose is not unwrapped: it is simply not JSON.
        let prose = "Here:\n```json\n{}\n```";
        assert!(
            check(&schema(), prose, false).errors[0]
                .reason
                .starts_with("not JSON")
        );
    }
}
