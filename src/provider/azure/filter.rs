//! Azure's content filter, as it shows on the wire.
//!
//! A stream starts with a chunk that has no choices, only `prompt_filter_results` (older
//! API versions: `prompt_annotations`): the verdicts on the prompt, before any token.
//! Chunks then carry `content_filter_results` on their choice, and with the asynchronous
//! filter some chunks are nothing but that (no `delta`), sent after the text they judge.
//! A category is `{filtered, severity}` (hate, sexual, violence, self_harm) or
//! `{filtered, detected}` (jailbreak, protected material, profanity...); an `error` in
//! their place means the filter could not run. A prompt the filter refuses never starts a
//! stream: it is HTTP 400 with `code: content_filter` and the verdicts under
//! `innererror.content_filter_result`.
//!
//! Verdicts are kept beside the answer, not in it: they are not content, so the first of
//! them never counts as the first token.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The content filter's verdicts for one answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContentFilter {
    /// On the prompt, by category, as the service sent them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prompt: Vec<FilterVerdict>,
    /// On the answer: for each category, the most severe verdict over every chunk.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub completion: Vec<FilterVerdict>,
    /// Why the filter could not judge part of the exchange, when it said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One category's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterVerdict {
    /// `hate`, `sexual`, `violence`, `self_harm`, `jailbreak`, `protected_material_text`...
    pub category: String,
    /// Whether the filter withheld the content for it.
    pub filtered: bool,
    /// `safe`, `low`, `medium` or `high`, for the graded categories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Whether it was found, for the detected-or-not categories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected: Option<bool>,
}

impl FilterVerdict {
    /// The worse of two verdicts on the same category.
    fn worst(&mut self, other: &FilterVerdict) {
        self.filtered |= other.filtered;
        self.detected = match (self.detected, other.detected) {
            (Some(a), Some(b)) => Some(a || b),
            (a, b) => a.or(b),
        };
        if rank(other.severity.as_deref()) > rank(self.severity.as_deref()) {
            self.severity.clone_from(&other.severity);
        }
    }
}

/// Severity order; an unknown word ranks above `safe` so it is never hidden by it.
fn rank(severity: Option<&str>) -> u8 {
    match severity {
        None => 0,
        Some("safe") => 1,
        Some("very_low") => 2,
        Some("low") => 3,
        Some("medium") => 5,
        Some("high") => 6,
        Some(_) => 4,
    }
}

impl ContentFilter {
    /// Fold a newer report in: prompt verdicts are replaced (they are sent whole, once),
    /// answer verdicts keep the worst per category, a newer error replaces an older one.
    pub fn merge(&mut self, newer: &ContentFilter) {
        if !newer.prompt.is_empty() {
            self.prompt.clone_from(&newer.prompt);
        }
        for v in &newer.completion {
            match self.completion.iter_mut().find(|c| c.category == v.category) {
                Some(have) => have.worst(v),
                None => self.completion.push(v.clone()),
            }
        }
        if newer.error.is_some() {
            self.error.clone_from(&newer.error);
        }
    }

    /// The categories the filter withheld content for, prompt first, each once.
    pub fn filtered(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for v in self.prompt.iter().chain(&self.completion) {
            if v.filtered && !out.contains(&v.category.as_str()) {
                out.push(&v.category);
            }
        }
        out
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        *self == ContentFilter::default()
    }
}

/// The verdicts in one Chat Completions chunk or body, or `None` when it has none (every
/// non-Azure server, and Azure chunks with an empty `content_filter_results`).
pub fn from_chat(v: &Value) -> Option<ContentFilter> {
    let mut out = ContentFilter::default();
    let prompts = v
        .get("prompt_filter_results")
        .or_else(|| v.get("prompt_annotations"))
        .and_then(Value::as_array);
    for p in prompts.into_iter().flatten() {
        if let Some(results) = p.get("content_filter_results") {
            verdicts(results, &mut out.prompt, &mut out.error);
        }
    }
    let choice = v.get("choices").and_then(Value::as_array).and_then(|cs| {
        cs.iter()
            .find(|c| c.get("index").and_then(Value::as_u64).unwrap_or(0) == 0)
    });
    if let Some(results) = choice.and_then(|c| c.get("content_filter_results")) {
        verdicts(results, &mut out.completion, &mut out.error);
    }
    (!out.is_empty()).then_some(out)
}

/// Each category of a `content_filter_results` object (or `innererror.content_filter_result`).
fn verdicts(results: &Value, into: &mut Vec<FilterVerdict>, error: &mut Option<String>) {
    let Some(map) = results.as_object() else { return };
    for (category, r) in map {
        if category == "error" {
            let said = r
                .get("message")
                .or_else(|| r.get("code"))
                .and_then(Value::as_str)
                .unwrap_or("the content filter could not run");
            *error = Some(super::super::errors::one_line(said));
            continue;
        }
        let filtered = r.get("filtered").and_then(Value::as_bool);
        let detected = r.get("detected").and_then(Value::as_bool);
        if filtered.is_none() && detected.is_none() {
            continue;
        }
        into.push(FilterVerdict {
            category: category.clone(),
            filtered: filtered.unwrap_or(false),
            severity: r.get("severity").and_then(Value::as_str).map(str::to_string),
            detected,
        });
    }
}

/// For the body of a prompt the filter refused (HTTP 400, `code: content_filter`), the
/// categories it was filtered for (possibly none named); `None` for any other body.
pub fn refused_prompt(body: &str) -> Option<Vec<String>> {
    let v: Value = serde_json::from_str(body.trim()).ok()?;
    let err = v.get("error")?;
    let inner = err.get("innererror");
    if code_of(Some(err)) != Some("content_filter") && code_of(inner) != Some("ResponsibleAIPolicyViolation")
    {
        return None;
    }
    let mut found = Vec::new();
    let mut error = None;
    if let Some(results) = inner.and_then(|i| i.get("content_filter_result")) {
        verdicts(results, &mut found, &mut error);
    }
    Some(
        found
            .into_iter()
            .filter(|v| v.filtered)
            .map(|v| v.category)
            .collect(),
    )
}

fn code_of(e: Option<&Value>) -> Option<&str> {
    e?.get("code")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn the_prompt_chunk_and_answer_chunks_fold_to_the_worst_verdicts() {
        let mut all = from_chat(&json(
            r#"{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false}}}]}"#,
        ))
        .unwrap();
        assert_eq!(all.prompt.len(), 2);
        for chunk in [
            r#"{"choices":[{"content_filter_results":{"violence":{"filtered":false,"severity":"low"}},"delta":{"content":"a"},"index":0}]}"#,
            r#"{"choices":[{"content_filter_results":{"violence":{"filtered":false,"severity":"safe"}},"finish_reason":null,"index":0}]}"#,
            r#"{"choices":[{"content_filter_results":{"protected_material_text":{"detected":true,"filtered":true}},"finish_reason":"content_filter","index":0}]}"#,
        ] {
            all.merge(&from_chat(&json(chunk)).unwrap());
        }
        assert_eq!(
            all.completion[0],
            FilterVerdict {
                category: "violence".into(),
                filtered: false,
                severity: Some("low".into()),
                detected: None
            }
        );
        assert_eq!(all.filtered(), ["protected_material_text"]);
        assert_eq!(
            from_chat(&json(
                r#"{"choices":[{"content_filter_results":{},"delta":{"content":"x"},"index":0}]}"#
            )),
            None
        );
    }

    #[test]
    fn an_error_in_place_of_verdicts_is_kept() {
        let f = from_chat(&json(
            r#"{"choices":[{"content_filter_results":{"error":{"code":"content_filter_error","message":"The contents are not filtered"}},"index":0}]}"#,
        ))
        .unwrap();
        assert_eq!(f.error.as_deref(), Some("The contents are not filtered"));
    }

    #[test]
    fn a_refused_prompt_names_its_categories() {
        let body = r#"{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":true,"detected":true},"violence":{"filtered":true,"severity":"medium"}}}}}"#;
        assert_eq!(
            refused_prompt(body),
            Some(vec!["jailbreak".into(), "violence".into()])
        );
        assert_eq!(
            refused_prompt(r#"{"error":{"code":"content_filter","message":"blocked"}}"#),
            Some(vec![])
        );
        assert_eq!(refused_prompt(r#"{"error":{"code":"invalid_request"}}"#), None);
    }
}
