//! The `streamGenerateContent` chunk that carries one piece of an answer:
//! `{"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}],
//! "usageMetadata":{…},"modelVersion":…,"responseId":…}`.
//!
//! Accepted: exactly one candidate whose parts hold only text (answer or thought), with
//! or without a finish reason, and usage whose counts are all whole numbers. Function
//! calls, blocked prompts, errors, grounding and anything with a field this struct does
//! not know are left to the `Value` path.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::{Obj, Text, non_empty};

/// What a hot chunk says, in the order the decoder turns it into events.
#[derive(Debug, PartialEq)]
pub struct Chunk<'a> {
    /// `responseId`, when it is a string.
    pub response_id: Option<Cow<'a, str>>,
    /// Each part's text (empty pieces already dropped), and whether it is a thought.
    pub parts: Vec<(Cow<'a, str>, bool)>,
    /// The candidate's finish reason, as sent.
    pub finish_reason: Option<Cow<'a, str>>,
    /// `usageMetadata`, when it is an object.
    pub usage: Option<UsageCounts>,
}

/// The counts of `usageMetadata` the decoder reads.
#[derive(Debug, Default, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UsageCounts {
    /// `promptTokenCount`.
    pub prompt_token_count: Option<u64>,
    /// `candidatesTokenCount`.
    pub candidates_token_count: Option<u64>,
    /// `thoughtsTokenCount`.
    pub thoughts_token_count: Option<u64>,
    /// `cachedContentTokenCount`.
    pub cached_content_token_count: Option<u64>,
    /// `toolUsePromptTokenCount`.
    pub tool_use_prompt_token_count: Option<u64>,
    // Known and not read.
    #[serde(rename = "totalTokenCount")]
    pub(crate) _total: Option<IgnoredAny>,
    #[serde(rename = "promptTokensDetails")]
    pub(crate) _prompt_details: Option<IgnoredAny>,
    #[serde(rename = "candidatesTokensDetails")]
    pub(crate) _candidates_details: Option<IgnoredAny>,
    #[serde(rename = "cacheTokensDetails")]
    pub(crate) _cache_details: Option<IgnoredAny>,
    #[serde(rename = "toolUsePromptTokensDetails")]
    pub(crate) _tool_use_details: Option<IgnoredAny>,
    #[serde(rename = "thoughtsTokensDetails")]
    pub(crate) _thoughts_details: Option<IgnoredAny>,
    #[serde(rename = "trafficType")]
    pub(crate) _traffic_type: Option<IgnoredAny>,
}

/// `data` as a hot chunk, or `None` for the `Value` path to read.
pub fn chunk(data: &str) -> Option<Chunk<'_>> {
    let wire: WireChunk<'_> = super::object(data)?;
    let [Obj(candidate)] = wire.candidates;
    let parts = candidate
        .content
        .and_then(|c| c.0.parts)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|Obj(p)| Some((non_empty(p.text)?, p.thought.unwrap_or(false))))
        .collect();
    Some(Chunk {
        response_id: wire.response_id.map(|t| t.0),
        parts,
        finish_reason: candidate.finish_reason.map(|t| t.0),
        usage: wire.usage_metadata.map(|u| u.0),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WireChunk<'a> {
    #[serde(borrow)]
    candidates: [Obj<WireCandidate<'a>>; 1],
    usage_metadata: Option<Obj<UsageCounts>>,
    #[serde(borrow)]
    response_id: Option<Text<'a>>,
    #[serde(rename = "modelVersion")]
    _model_version: Option<IgnoredAny>,
    #[serde(rename = "createTime")]
    _create_time: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WireCandidate<'a> {
    #[serde(borrow)]
    content: Option<Obj<WireContent<'a>>>,
    #[serde(borrow)]
    finish_reason: Option<Text<'a>>,
    #[serde(rename = "index")]
    _index: Option<IgnoredAny>,
    #[serde(rename = "safetyRatings")]
    _safety_ratings: Option<IgnoredAny>,
    #[serde(rename = "citationMetadata")]
    _citation_metadata: Option<IgnoredAny>,
    #[serde(rename = "finishMessage")]
    _finish_message: Option<IgnoredAny>,
    #[serde(rename = "avgLogprobs")]
    _avg_logprobs: Option<IgnoredAny>,
    #[serde(rename = "tokenCount")]
    _token_count: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireContent<'a> {
    #[serde(borrow)]
    parts: Option<Vec<Obj<WirePart<'a>>>>,
    #[serde(rename = "role")]
    _role: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WirePart<'a> {
    #[serde(borrow)]
    text: Option<Text<'a>>,
    thought: Option<bool>,
    #[serde(rename = "thoughtSignature")]
    _thought_signature: Option<IgnoredAny>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_chunk_borrows_its_text() {
        let c = chunk(r#"{"candidates": [{"content": {"parts": [{"text": "1\n2"},{"text":"hm","thought":true},{"text":""}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 8,"candidatesTokenCount": 3,"totalTokenCount": 11,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 8}]},"modelVersion": "gemini-2.5-flash","responseId": "r1"}"#).unwrap();
        assert_eq!(
            c.parts,
            vec![(Cow::Borrowed("1\n2"), false), (Cow::Borrowed("hm"), true)]
        );
        assert!(matches!(c.response_id, Some(Cow::Borrowed("r1"))));
        let u = c.usage.unwrap();
        assert_eq!(
            (
                u.prompt_token_count,
                u.candidates_token_count,
                u.thoughts_token_count
            ),
            (Some(8), Some(3), None)
        );
        let done =
            chunk(r#"{"candidates":[{"content":{"parts":[{"text":"5"}]},"finishReason":"STOP"}]}"#).unwrap();
        assert_eq!(done.finish_reason.as_deref(), Some("STOP"));
        assert_eq!(done.usage, None);
    }

    #[test]
    fn anything_else_is_left_to_the_value_path() {
        for data in [
            r#"{"candidates":[]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"a"}]}},{"content":{"parts":[{"text":"b"}]}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{}}}]}}]}"#,
            r#"{"promptFeedback":{"blockReason":"SAFETY"}}"#,
            r#"{"error":{"code":429}}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"a","thought":"yes"}]}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"a"}]},"groundingMetadata":{}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usageMetadata":{"promptTokenCount":1.5}}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usageMetadata":[1]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"a","text":"b"}]}}]}"#,
        ] {
            assert_eq!(chunk(data), None, "{data}");
        }
    }
}
