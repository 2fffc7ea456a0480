//! The Chat Completions chunk that carries one piece of an answer:
//! `{"id":…,"choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}],…}`.
//!
//! Accepted: exactly one choice, of index 0, whose delta holds only a role, text,
//! reasoning (`reasoning_content` or `reasoning`) or an empty refusal, with or without a
//! finish reason, and no usage. Everything the `Value` path reads besides (errors,
//! usage, tool calls, refusals, content filter verdicts, server timings) is a field this
//! struct does not know, so such chunks fall back to it.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::{Obj, Text, non_empty};

/// What a hot chunk says, in the order the decoder turns it into events.
#[derive(Debug, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// Reasoning text (empty pieces already dropped).
    pub reasoning: Option<Cow<'a, str>>,
    /// Answer text (empty pieces already dropped).
    pub content: Option<Cow<'a, str>>,
    /// The choice's finish reason, as sent.
    pub finish_reason: Option<Cow<'a, str>>,
}

/// `data` as a hot chunk, or `None` for the `Value` path to read.
pub fn chunk(data: &str) -> Option<Chunk<'_>> {
    let wire: WireChunk<'_> = super::object(data)?;
    if wire.usage.is_some() {
        return None;
    }
    let [Obj(choice)] = wire.choices;
    if choice.index.is_some_and(|i| i != 0) {
        return None;
    }
    let delta = choice.delta.map(|d| d.0).unwrap_or_default();
    if delta.tool_calls.is_some() || non_empty(delta.refusal).is_some() {
        return None;
    }
    // The first that holds text, as the `Value` path picks.
    let reasoning = non_empty(delta.reasoning_content).or_else(|| non_empty(delta.reasoning));
    Some(Chunk {
        reasoning,
        content: non_empty(delta.content),
        finish_reason: choice.finish_reason.map(|t| t.0),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireChunk<'a> {
    #[serde(borrow)]
    choices: [Obj<WireChoice<'a>>; 1],
    usage: Option<IgnoredAny>,
    // Read by the `Value` path only to report an Azure deployment's model, and this path
    // is not taken for those.
    #[serde(rename = "model")]
    _model: Option<IgnoredAny>,
    #[serde(rename = "id")]
    _id: Option<IgnoredAny>,
    #[serde(rename = "object")]
    _object: Option<IgnoredAny>,
    #[serde(rename = "created")]
    _created: Option<IgnoredAny>,
    #[serde(rename = "system_fingerprint")]
    _system_fingerprint: Option<IgnoredAny>,
    #[serde(rename = "service_tier")]
    _service_tier: Option<IgnoredAny>,
    #[serde(rename = "obfuscation")]
    _obfuscation: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireChoice<'a> {
    index: Option<u64>,
    #[serde(borrow)]
    delta: Option<Obj<WireDelta<'a>>>,
    #[serde(borrow)]
    finish_reason: Option<Text<'a>>,
    #[serde(rename = "logprobs")]
    _logprobs: Option<IgnoredAny>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireDelta<'a> {
    #[serde(borrow)]
    content: Option<Text<'a>>,
    #[serde(borrow)]
    reasoning_content: Option<Text<'a>>,
    #[serde(borrow)]
    reasoning: Option<Text<'a>>,
    #[serde(borrow)]
    refusal: Option<Text<'a>>,
    tool_calls: Option<IgnoredAny>,
    #[serde(rename = "role")]
    _role: Option<IgnoredAny>,
    // The legacy function call: the `Value` path ignores it too.
    #[serde(rename = "function_call")]
    _function_call: Option<IgnoredAny>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_content_chunk_borrows_its_text() {
        let c = chunk(r#"{"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}"#).unwrap();
        assert!(matches!(c.content, Some(Cow::Borrowed("Hello"))));
        assert_eq!((c.reasoning, c.finish_reason), (None, None));
        let escaped = chunk(r#"{"choices":[{"delta":{"content":"a\nb"}}]}"#).unwrap();
        assert_eq!(escaped.content.as_deref(), Some("a\nb"));
    }

    #[test]
    fn anything_else_is_left_to_the_value_path() {
        for data in [
            r#"{"choices":[],"usage":{"prompt_tokens":1}}"#,
            r#"{"choices":[{"index":0,"delta":{}}],"usage":{"prompt_tokens":1}}"#,
            r#"{"choices":[{"index":1,"delta":{"content":"x"}}]}"#,
            r#"{"choices":[{"delta":{"content":"x"}},{"delta":{"content":"y"}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0}]}}]}"#,
            r#"{"choices":[{"delta":{"refusal":"no"}}]}"#,
            r#"{"choices":[{"delta":{"content":7}}]}"#,
            r#"{"choices":[{"delta":{"content":"x","content":"y"}}]}"#,
            r#"{"choices":[{"delta":["x"]}]}"#,
            r#"{"choices":[{"delta":{"content":"x"},"content_filter_results":{}}]}"#,
            r#"{"error":{"message":"boom"}}"#,
            r#"{"choices":[{"delta":{"content":"x"}}],"x_groq":{"id":"q"}}"#,
        ] {
            assert_eq!(chunk(data), None, "{data}");
        }
    }
}
