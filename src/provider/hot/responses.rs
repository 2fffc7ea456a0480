//! The Responses API event that carries one piece of an answer:
//! `{"type":"response.output_text.delta","content_index":0,"delta":"Hel","item_id":…,
//! "logprobs":[],"obfuscation":…,"output_index":0,"sequence_number":4}`, and its
//! reasoning siblings `response.reasoning_summary_text.delta` (`summary_index`) and
//! `response.reasoning_text.delta`.
//!
//! Accepted: one of those three types, named by a `type` string, whose fields are all
//! among the ones they carry. Refusal deltas, tool calls, lifecycle and terminal events,
//! errors and anything with a field this struct does not know are left to the `Value`
//! path.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::{Text, non_empty};

/// Which kind of text a hot delta carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaKind {
    /// `response.output_text.delta`: answer text, indexed by `content_index`.
    OutputText,
    /// `response.reasoning_summary_text.delta`: a reasoning summary, by `summary_index`.
    Summary,
    /// `response.reasoning_text.delta`: raw reasoning, by `content_index`.
    Reasoning,
}

/// What a hot delta event says.
#[derive(Debug, PartialEq, Eq)]
pub struct Delta<'a> {
    /// The event's type.
    pub kind: DeltaKind,
    /// `sequence_number`, when it is there.
    pub sequence_number: Option<u64>,
    /// `output_index`, when it is there.
    pub output_index: Option<u64>,
    /// `item_id`, when it is a string.
    pub item_id: Option<Cow<'a, str>>,
    /// The part's index within its item: `summary_index` for summaries, else
    /// `content_index`.
    pub part_index: Option<u64>,
    /// The text (empty pieces already dropped).
    pub text: Option<Cow<'a, str>>,
}

/// `data` as a hot delta event, or `None` for the `Value` path to read.
pub fn delta(data: &str) -> Option<Delta<'_>> {
    let wire: WireDelta<'_> = super::object(data)?;
    let kind = match wire.kind.0.as_ref() {
        "response.output_text.delta" => DeltaKind::OutputText,
        "response.reasoning_summary_text.delta" => DeltaKind::Summary,
        "response.reasoning_text.delta" => DeltaKind::Reasoning,
        _ => return None,
    };
    let part_index = match kind {
        DeltaKind::Summary => wire.summary_index,
        DeltaKind::OutputText | DeltaKind::Reasoning => wire.content_index,
    };
    Some(Delta {
        kind,
        sequence_number: wire.sequence_number,
        output_index: wire.output_index,
        item_id: wire.item_id.map(|t| t.0),
        part_index,
        text: non_empty(wire.delta),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireDelta<'a> {
    #[serde(borrow, rename = "type")]
    kind: Text<'a>,
    sequence_number: Option<u64>,
    output_index: Option<u64>,
    #[serde(borrow)]
    item_id: Option<Text<'a>>,
    content_index: Option<u64>,
    summary_index: Option<u64>,
    #[serde(borrow)]
    delta: Option<Text<'a>>,
    #[serde(rename = "logprobs")]
    _logprobs: Option<IgnoredAny>,
    #[serde(rename = "obfuscation")]
    _obfuscation: Option<IgnoredAny>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_delta_borrows_its_text() {
        let d = delta(r#"{"type":"response.output_text.delta","content_index":0,"delta":"Hello","item_id":"msg_1","logprobs":[],"obfuscation":"kQ","output_index":0,"sequence_number":4}"#).unwrap();
        assert!(matches!(d.text, Some(Cow::Borrowed("Hello"))));
        assert_eq!(
            (d.kind, d.sequence_number, d.output_index, d.part_index),
            (DeltaKind::OutputText, Some(4), Some(0), Some(0))
        );
        assert_eq!(d.item_id.as_deref(), Some("msg_1"));
        let s = delta(r#"{"type":"response.reasoning_summary_text.delta","delta":"a\nb","content_index":3,"summary_index":1}"#).unwrap();
        assert_eq!((s.kind, s.part_index), (DeltaKind::Summary, Some(1)));
        assert_eq!(s.text.as_deref(), Some("a\nb"));
    }

    #[test]
    fn anything_else_is_left_to_the_value_path() {
        for data in [
            r#"{"type":"response.refusal.delta","delta":"no"}"#,
            r#"{"type":"response.function_call_arguments.delta","delta":"{"}"#,
            r#"{"type":"response.completed","response":{}}"#,
            r#"{"delta":"x"}"#,
            r#"{"type":7,"delta":"x"}"#,
            r#"{"type":"response.output_text.delta","delta":7}"#,
            r#"{"type":"response.output_text.delta","delta":"x","delta":"y"}"#,
            r#"{"type":"response.output_text.delta","delta":"x","output_index":-1}"#,
            r#"{"type":"response.output_text.delta","delta":"x","annotations":[]}"#,
            r#"["response.output_text.delta"]"#,
        ] {
            assert_eq!(delta(data), None, "{data}");
        }
    }
}
