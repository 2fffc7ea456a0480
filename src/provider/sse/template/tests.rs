//! Templates against the line path: the same events, whatever the reads.

use std::time::Instant;

use proptest::prelude::*;

use super::*;
use crate::provider::sse::SseDecoder;
use crate::provider::sse::tests::{cut, oracle};

/// The stand-in for a provider's reader of plain text pieces: `{"t":"TEXT"}` with nothing
/// escaped in TEXT.
fn plain_piece(data: &str) -> Option<&str> {
    let text = data.strip_prefix(r#"{"t":""#)?.strip_suffix(r#""}"#)?;
    (!text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20)).then_some(text)
}

/// Decode as the stream reader does, taking events by a template learned from each plain
/// piece; a templated event is written back as the event it stands for.
fn decode_with_templates(chunks: &[&[u8]]) -> (Vec<(String, String)>, usize) {
    let mut d = SseDecoder::new();
    let mut template = EventTemplate::default();
    let (mut out, mut templated) = (Vec::new(), 0);
    let t = Instant::now();
    for c in chunks {
        let mut events = d.feed(c, t);
        loop {
            let kind = template_type(&template);
            for text in events.like(&mut template) {
                templated += 1;
                out.push((kind.clone(), format!(r#"{{"t":"{text}"}}"#)));
            }
            let Some(e) = events.next() else { break };
            if let Some(text) = plain_piece(e.data) {
                template.learn(e.event, e.data, text);
            }
            out.push((e.event.to_string(), e.data.to_string()));
        }
    }
    (out, templated)
}

/// The type of the events `template` stands for.
fn template_type(template: &EventTemplate) -> String {
    let head = String::from_utf8_lossy(&template.head);
    match head.strip_prefix("event: ") {
        Some(rest) => rest.split('\n').next().unwrap_or_default().to_string(),
        None => "message".to_string(),
    }
}

/// Text pieces in one shape, and the near misses a template must leave to the line path.
fn template_stream_strategy() -> impl Strategy<Value = Vec<u8>> {
    let event = prop_oneof![
        4 => Just(&b"event: d\ndata: {\"t\":\"a\"}\n\n"[..]),
        4 => Just(&b"event: d\ndata: {\"t\":\" bc \xC3\xA9\"}\n\n"[..]),
        1 => Just(&b"event: d\ndata: {\"t\":\"\"}\n\n"[..]),
        1 => Just(&b"data: {\"t\":\"no type\"}\n\n"[..]),
        1 => Just(&b"event: message\ndata: {\"t\":\"named default\"}\n\n"[..]),
        1 => Just(&b"event: e\ndata: {\"t\":\"other type\"}\n\n"[..]),
        1 => Just(&b"event: d\ndata: {\"t\":\"q\\\"uote\"}\n\n"[..]),
        1 => Just(&b"event: d\ndata: {\"t\":\"back\\\\nslash\"}\n\n"[..]),
        1 => Just(&b"event: d\ndata: {\"t\":\"tab\there\"}\n\n"[..]),
        1 => Just(&b"event: d\r\ndata: {\"t\":\"crlf\"}\r\n\r\n"[..]),
        1 => Just(&b"event: d\ndata: {\"t\":\"cr\"}\r\r"[..]),
        1 => Just(&b"event: d\ndata:{\"t\":\"tight\"}\n\n"[..]),
        1 => Just(&b"event: d\ndata: {\"t\":\"x\",\"u\":1}\n\n"[..]),
        1 => Just(&b"event: d\ndata: {\"t\":\"x\"}\ndata: {\"t\":\"y\"}\n\n"[..]),
        1 => Just(&b"event: d\ndata: {\"t\":\"no blank\"}\n"[..]),
        1 => Just(&b"event: d\ndata: {\"t\":\"\xFF bad\"}\n\n"[..]),
        1 => Just(&b": ping\n\n"[..]),
        1 => Just(&b"id: 1\n"[..]),
    ];
    proptest::collection::vec(event, 0..24).prop_map(|events| events.concat())
}

proptest! {
    /// Events taken by a template are the events the line path reads, cut anywhere.
    #[test]
    fn a_template_takes_only_what_the_spec_reads_the_same(
        bytes in template_stream_strategy(),
        cuts in proptest::collection::vec(0usize..2000, 0..12),
    ) {
        let want = oracle(&bytes);
        let (got, _) = decode_with_templates(&cut(&bytes, cuts));
        prop_assert_eq!(got, want);
    }
}

#[test]
fn pieces_in_the_bytes_of_the_one_before_are_taken_by_the_template() {
    let piece = |t: &str| format!("event: d\ndata: {{\"t\":\"{t}\"}}\n\n");
    let stream: String = ["He", "llo", " wörld", ""].map(piece).concat();
    let (got, templated) = decode_with_templates(&[stream.as_bytes()]);
    assert_eq!(got, oracle(stream.as_bytes()));
    assert_eq!(
        templated, 3,
        "all but the first, which the template is learned from"
    );
    // A piece cut by the end of a read is read by the line path, and the template takes
    // the pieces after it.
    let (cut_got, cut_templated) =
        decode_with_templates(&[&stream.as_bytes()[..40], &stream.as_bytes()[40..]]);
    assert_eq!(cut_got, got);
    assert_eq!(cut_templated, 2);
}

#[test]
fn a_server_whose_pieces_never_match_stops_teaching_templates() {
    let stream = "data:{\"t\":\"tight\"}\n\n".repeat(40);
    let mut d = SseDecoder::new();
    let mut template = EventTemplate::default();
    let mut events = d.feed(stream.as_bytes(), Instant::now());
    let mut learned = 0;
    loop {
        assert_eq!(
            events.like(&mut template).next(),
            None,
            "no event has the written shape"
        );
        let Some(e) = events.next() else { break };
        let text = plain_piece(e.data).expect("a plain piece");
        let before = template.head.clone();
        template.learn(e.event, e.data, text);
        learned += usize::from(template.head != before || learned == 0);
    }
    assert_eq!(template.fruitless, FRUITLESS_LEARNS);
    assert!(learned <= 1, "the same template is learned once");
}

#[test]
fn a_payload_spread_over_several_data_lines_teaches_no_template() {
    // Joined, the payload holds a line end outside the text: these bytes written on one
    // `data` line would be two lines, a different event.
    let stream = "data: {\"t\":\ndata: \"a\"}\n\n";
    let mut d = SseDecoder::new();
    let mut template = EventTemplate::default();
    let mut events = d.feed(stream.as_bytes(), Instant::now());
    let e = events.next().expect("one event");
    assert_eq!(e.data, "{\"t\":\n\"a\"}");
    let text = &e.data[e.data.len() - 3..e.data.len() - 2];
    assert_eq!(text, "a");
    template.learn(e.event, e.data, text);
    assert!(template.head.is_empty(), "nothing learned");
    // A text that is not a slice of the payload, or not a whole string, teaches nothing.
    template.learn("d", "{\"t\":\"ab\"}", "ab");
    assert!(template.head.is_empty());
    let data = "{\"t\":\"ab\"}";
    template.learn("d", data, &data[6..7]);
    assert!(template.head.is_empty(), "half a string");
    template.learn("d", data, &data[6..8]);
    assert_eq!(template.head, b"event: d\ndata: {\"t\":\"");
    assert_eq!(template.tail, b"\"}\n\n");
}

proptest! {
    /// Eight bytes at a time, the scan stops where a byte-by-byte one does.
    #[test]
    fn plain_len_stops_at_the_first_quote_backslash_or_control(
        bytes in proptest::collection::vec(
            prop_oneof![
                8 => 0x20u8..0x7F,
                2 => 0x80u8..=0xFF,
                1 => Just(b'"'),
                1 => Just(b'\\'),
                1 => 0u8..0x20,
                1 => Just(0x7F),
            ],
            0..40,
        ),
    ) {
        let want = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
        prop_assert_eq!(plain_len(&bytes), want);
    }
}
