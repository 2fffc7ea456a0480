//! The Messages event that carries one piece of an answer:
//! `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}`
//! (and its `thinking_delta`, `input_json_delta` and `signature_delta` siblings).
//!
//! Accepted: a `content_block_delta` whose delta holds only the fields of those four
//! kinds. Anything else (another event type, a citation, an unknown field) is left to
//! the `Value` path.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::{Obj, Text, non_empty};

/// What a hot `content_block_delta` says.
#[derive(Debug, PartialEq, Eq)]
pub enum BlockDelta<'a> {
    /// Answer text for the block.
    Text(Cow<'a, str>),
    /// Thinking text for the block.
    Thinking(Cow<'a, str>),
    /// A piece of a tool call's input for the block at `index`.
    ToolInput {
        /// The content block's index.
        index: u64,
        /// The piece of JSON.
        partial_json: Cow<'a, str>,
    },
    /// Nothing to show: a signature, an empty piece, a delta of another kind.
    Nothing,
}

/// `data` as a hot `content_block_delta`, or `None` for the `Value` path to read.
pub fn block_delta(data: &str) -> Option<BlockDelta<'_>> {
    if let Some((thinking, text)) = exact_delta(data) {
        return Some(match (thinking, text.is_empty()) {
            (_, true) => BlockDelta::Nothing,
            (false, false) => BlockDelta::Text(Cow::Borrowed(text)),
            (true, false) => BlockDelta::Thinking(Cow::Borrowed(text)),
        });
    }
    let wire: WireEvent<'_> = super::object(data)?;
    if wire.kind != "content_block_delta" {
        return None;
    }
    let Some(Obj(d)) = wire.delta else {
        return Some(BlockDelta::Nothing);
    };
    Some(match d.kind.as_ref().map(|k| k.0.as_ref()) {
        Some("text_delta") => non_empty(d.text).map_or(BlockDelta::Nothing, BlockDelta::Text),
        Some("thinking_delta") => non_empty(d.thinking).map_or(BlockDelta::Nothing, BlockDelta::Thinking),
        Some("input_json_delta") => non_empty(d.partial_json).map_or(BlockDelta::Nothing, |p| {
            BlockDelta::ToolInput {
                // As the `Value` path reads it: a missing index is block 0.
                index: wire.index.unwrap_or(0),
                partial_json: p,
            }
        }),
        _ => BlockDelta::Nothing,
    })
}

/// The bytes the Messages API sends around a piece of answer text, in its order and
/// without whitespace: `{"type":"content_block_delta","index":N,"delta":{"type":
/// "text_delta","text":"…"}}`.
const TEXT_HEAD: &str = r#"{"type":"content_block_delta","index":"#;
const TEXT_DELTA: &str = r#","delta":{"type":"text_delta","text":""#;
const TEXT_TAIL: &str = r#""}}"#;
/// The same for a piece of thinking: `…"delta":{"type":"thinking_delta","thinking":"…"}}`.
const THINKING_DELTA: &str = r#","delta":{"type":"thinking_delta","thinking":""#;

/// The text of a text piece sent exactly as the API writes it, when that text holds
/// nothing a JSON string would escape; `None` for anything else (other spacing, another
/// field order, an escape), which the typed struct reads instead.
///
/// Nearly every event of an answer has this one shape, and reading it by its bytes costs
/// a small fraction of a JSON parse. It is exact, not a guess: between the fixed head
/// and tail there is only a JSON integer and a string without quotes, backslashes or
/// control characters, so the payload is valid JSON meaning exactly this text, as the
/// typed and `Value` paths would decode it (tests/hot_path.rs compares all three).
pub(crate) fn exact_text_delta(data: &str) -> Option<&str> {
    match exact_delta(data)? {
        (false, text) => Some(text),
        (true, _) => None,
    }
}

/// [`exact_text_delta`] for both kinds of piece: (whether it is thinking, its text).
fn exact_delta(data: &str) -> Option<(bool, &str)> {
    if !super::typed_path_on() {
        return None;
    }
    let rest = data.strip_prefix(TEXT_HEAD)?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    // A JSON integer: at least one digit, no leading zero; short enough for a u64.
    if digits == 0 || digits > 18 || (digits > 1 && rest.starts_with('0')) {
        return None;
    }
    let rest = &rest[digits..];
    let (thinking, text) = match rest.strip_prefix(TEXT_DELTA) {
        Some(text) => (false, text),
        None => (true, rest.strip_prefix(THINKING_DELTA)?),
    };
    let text = text.strip_suffix(TEXT_TAIL)?;
    let plain = !text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20);
    plain.then_some((thinking, text))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEvent<'a> {
    #[serde(borrow, rename = "type")]
    kind: Cow<'a, str>,
    index: Option<u64>,
    #[serde(borrow)]
    delta: Option<Obj<WireDelta<'a>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireDelta<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Text<'a>>,
    #[serde(borrow)]
    text: Option<Text<'a>>,
    #[serde(borrow)]
    thinking: Option<Text<'a>>,
    #[serde(borrow)]
    partial_json: Option<Text<'a>>,
    #[serde(rename = "signature")]
    _signature: Option<IgnoredAny>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_thinking_and_tool_input() {
        let text = block_delta(
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
        );
        assert!(matches!(text, Some(BlockDelta::Text(Cow::Borrowed("Hi")))));
        assert_eq!(
            block_delta(
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}"#
            ),
            Some(BlockDelta::Thinking("hm".into()))
        );
        assert_eq!(
            block_delta(
                r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a\""}}"#
            ),
            Some(BlockDelta::ToolInput {
                index: 2,
                partial_json: "{\"a\"".into()
            })
        );
        assert_eq!(
            block_delta(
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}}"#
            ),
            Some(BlockDelta::Nothing)
        );
    }

    #[test]
    fn a_text_piece_in_the_api_s_own_bytes_is_read_without_a_parse() {
        let exact =
            r#"{"type":"content_block_delta","index":12,"delta":{"type":"text_delta","text":" café ok"}}"#;
        assert_eq!(exact_text_delta(exact), Some(" café ok"));
        let thinking = r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"so: x"}}"#;
        assert_eq!(exact_delta(thinking), Some((true, "so: x")));
        assert_eq!(exact_text_delta(thinking), None, "thinking is not answer text");
        assert_eq!(
            block_delta(thinking),
            Some(BlockDelta::Thinking(Cow::Borrowed("so: x")))
        );
        // Each of these is left to the parsers, and they agree on what it means.
        for data in [
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\nb"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\"b"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a","x":"b"}}"#,
            r#"{"type":"content_block_delta","index":01,"delta":{"type":"text_delta","text":"a"}}"#,
            r#"{"type":"content_block_delta","index":,"delta":{"type":"text_delta","text":"a"}}"#,
            r#"{"type":"content_block_delta", "index":0,"delta":{"type":"text_delta","text":"a"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}} "#,
            "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\tb\"}}",
        ] {
            assert_eq!(exact_text_delta(data), None, "{data}");
        }
        // A quote inside would end the string early: never taken by its bytes.
        let tricky =
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a","text":"b"}}"#;
        assert_eq!(exact_text_delta(tricky), None);
        assert_eq!(
            block_delta(tricky),
            None,
            "a duplicate field goes to the Value path"
        );
    }

    #[test]
    fn anything_else_is_left_to_the_value_path() {
        for data in [
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{}}}"#,
            r#"{"type":"content_block_delta","index":-1,"delta":{"type":"text_delta","text":"x"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":1}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":["text_delta","x"]}"#,
            r#"{"index":0,"delta":{"type":"text_delta","text":"x"}}"#,
            r#"{"type":"content_block_delta","type":"content_block_delta","delta":{}}"#,
        ] {
            assert_eq!(block_delta(data), None, "{data}");
        }
    }
}
