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

/// The bytes around the text of a plain content chunk this stream already sent, learned
/// from one the typed path read in full.
///
/// A server writes every text chunk of an answer the same way: the same id, creation
/// time, model, fingerprint and field order, with only the text changing. So once one
/// such chunk has been read, a later chunk that has exactly its bytes before and after
/// the text, and between them a string with no quote, backslash or control character,
/// is that chunk with other text: the JSON around the string cannot have changed, and
/// the string means exactly its bytes. It is read without a parse. A chunk that differs
/// anywhere else (a finish reason, usage, per-chunk padding such as `obfuscation`, a
/// new id) misses, and goes to the typed struct as before.
#[derive(Debug, Default)]
pub struct Template {
    /// Everything up to and including the opening quote of the text.
    head: String,
    /// Everything from the closing quote of the text on.
    tail: String,
}

impl Template {
    /// The text of `data` when it is the learned chunk with other text (possibly empty,
    /// which the typed path reads as no text).
    pub fn text<'a>(&self, data: &'a str) -> Option<&'a str> {
        if self.head.is_empty() || !super::typed_path_on() {
            return None;
        }
        let text = data
            .strip_prefix(self.head.as_str())?
            .strip_suffix(self.tail.as_str())?;
        let plain = !text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20);
        plain.then_some(text)
    }

    /// Learn from `data`, which the typed path read as `chunk`: only a chunk of answer
    /// text alone, whose text was borrowed from `data` (so it held no escapes).
    pub fn learn(&mut self, data: &str, chunk: &Chunk<'_>) {
        let (None, None, Some(Cow::Borrowed(text))) =
            (&chunk.reasoning, &chunk.finish_reason, &chunk.content)
        else {
            return;
        };
        let Some(std::ops::Range { start, end }) = super::string_body(data, text) else {
            return;
        };
        self.head.clear();
        self.head.push_str(&data[..start]);
        self.tail.clear();
        self.tail.push_str(&data[end..]);
    }
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

    const PLAIN: &str = r#"{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{"content":"Hel"},"logprobs":null,"finish_reason":null}],"usage":null}"#;

    fn learned() -> Template {
        let mut t = Template::default();
        t.learn(PLAIN, &chunk(PLAIN).unwrap());
        t
    }

    #[test]
    fn a_learned_chunk_with_other_text_is_read_by_its_bytes() {
        let t = learned();
        let next = PLAIN.replace("\"Hel\"", "\"lo, w\u{e9}rld\"");
        assert_eq!(t.text(&next), Some("lo, w\u{e9}rld"));
        assert_eq!(t.text(&PLAIN.replace("\"Hel\"", "\"\"")), Some(""), "empty text");
        assert_eq!(
            chunk(&next).and_then(|c| c.content).as_deref(),
            t.text(&next),
            "what the typed path reads"
        );
    }

    #[test]
    fn any_other_difference_misses_the_template() {
        let t = learned();
        for other in [
            PLAIN.replace("\"Hel\"", "\"a\\\"b\""),
            PLAIN.replace("\"Hel\"", "\"a\\nb\""),
            PLAIN.replace("\"Hel\"", "\"a\"},\"x\":{\"y\":\"b\""),
            PLAIN.replace("\"Hel\"", "\"a\u{1}b\""),
            PLAIN.replace("\"finish_reason\":null", "\"finish_reason\":\"stop\""),
            PLAIN.replace("\"usage\":null", "\"usage\":{\"prompt_tokens\":1}"),
            PLAIN.replace("\"c1\"", "\"c2\""),
            PLAIN.replace("\"usage\":null}", "\"usage\":null,\"obfuscation\":\"xyz\"}"),
        ] {
            assert_eq!(t.text(&other), None, "{other}");
        }
    }

    #[test]
    fn only_a_plain_text_chunk_is_learned() {
        for data in [
            PLAIN.replace("\"Hel\"", "\"a\\nb\""),
            PLAIN.replace("\"finish_reason\":null", "\"finish_reason\":\"stop\""),
            PLAIN.replace(
                "\"content\":\"Hel\"",
                "\"reasoning_content\":\"Hm\",\"content\":\"Hel\"",
            ),
        ] {
            let mut t = Template::default();
            t.learn(&data, &chunk(&data).unwrap());
            assert_eq!(t.text(PLAIN), None, "learned from {data}");
        }
        let t = learned();
        assert!(crate::provider::hot::value_path_only(|| t.text(PLAIN).is_none()));
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
