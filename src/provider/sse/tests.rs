//! The SSE decoder against the spec's corners and, on random streams cut anywhere, against
//! `sse-parse` as the oracle.

use std::time::Duration;

use proptest::prelude::*;

use super::*;

fn decode_chunks(chunks: &[&[u8]]) -> Vec<(String, String)> {
    let mut d = SseDecoder::new();
    let mut out = Vec::new();
    let t = Instant::now();
    for c in chunks {
        d.feed_into(c, t, &mut out);
    }
    out.into_iter().map(|e| (e.event, e.data)).collect()
}

fn ev(name: &str, data: &str) -> (String, String) {
    (name.to_string(), data.to_string())
}

#[test]
fn handles_cr_lf_and_crlf_line_ends_mixed() {
    let got = decode_chunks(&[b"data: a\r\n\r\ndata: b\n\ndata: c\r\rdata: d\r\n\n"]);
    assert_eq!(
        got,
        vec![
            ev("message", "a"),
            ev("message", "b"),
            ev("message", "c"),
            ev("message", "d")
        ]
    );
}

#[test]
fn crlf_split_across_reads_is_one_line_end() {
    let got = decode_chunks(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
    assert_eq!(got, vec![ev("message", "a\nb")]);
}

#[test]
fn ignores_comments_and_joins_multi_line_data() {
    let got = decode_chunks(&[b": OPENROUTER PROCESSING\n\nevent: delta\ndata: one\ndata:two\ndata\n\n"]);
    assert_eq!(got, vec![ev("delta", "one\ntwo\n")]);
}

#[test]
fn keeps_line_separators_inside_json() {
    let body = "data: {\"t\":\"a\u{2028}b\u{2029}c\u{85}d\"}\n\n";
    let got = decode_chunks(&[body.as_bytes()]);
    assert_eq!(got, vec![ev("message", "{\"t\":\"a\u{2028}b\u{2029}c\u{85}d\"}")]);
}

#[test]
fn multibyte_character_split_across_reads() {
    let body = "data: h\u{e9}llo \u{1f600}\n\n".as_bytes();
    let split = body.iter().position(|&b| b == 0xf0).unwrap_or(0) + 2;
    let got = decode_chunks(&[&body[..split], &body[split..]]);
    assert_eq!(got, vec![ev("message", "h\u{e9}llo \u{1f600}")]);
}

#[test]
fn unterminated_event_at_eof_is_not_dispatched() {
    let mut d = SseDecoder::new();
    let mut out = Vec::new();
    d.feed_into(b"data: done\n\ndata: cut", Instant::now(), &mut out);
    assert!(d.has_partial_event());
    d.finish();
    assert_eq!(out.len(), 1);
}

#[test]
fn an_event_missing_only_its_blank_line_is_returned_at_eof() {
    let t0 = Instant::now();
    let t1 = t0 + Duration::from_millis(3);
    for tail in [&b"\n"[..], b"\r", b"\r\n"] {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        d.feed_into(
            b"event: message_delta\ndata: {}\n\nevent: message_stop\n",
            t0,
            &mut out,
        );
        d.feed_into(b"data: {\"type\":\"message_stop\"}", t1, &mut out);
        d.feed_into(tail, t1, &mut out);
        assert_eq!(out.len(), 1);
        let last = d.finish().expect("flushed");
        assert_eq!(
            (last.event.as_str(), last.data.as_str(), last.at),
            ("message_stop", "{\"type\":\"message_stop\"}", t0),
            "tail {tail:?}: stamped with the read of its first byte"
        );
    }
}

#[test]
fn an_event_cut_inside_a_line_is_not_returned_at_eof() {
    let mut d = SseDecoder::new();
    let mut out = Vec::new();
    d.feed_into(b"data: {\"type\":\"message_st", Instant::now(), &mut out);
    assert_eq!(d.finish(), None);
    let mut d = SseDecoder::new();
    d.feed_into(b"data: a\n\n: comment\n", Instant::now(), &mut out);
    assert_eq!(d.finish(), None, "nothing pending after a comment");
}

#[test]
fn event_time_is_the_read_of_its_first_byte() {
    let t0 = Instant::now();
    let (t1, t2) = (t0 + Duration::from_millis(5), t0 + Duration::from_millis(9));
    let mut d = SseDecoder::new();
    let mut out = Vec::new();
    d.feed_into(b"data: a\n\ndata: b", t0, &mut out);
    d.feed_into(b"\n\ndata: c\n\n: ping\n", t1, &mut out);
    assert!(!d.has_partial_event(), "a comment leaves no partial event");
    d.feed_into(b"data: d\n\n", t2, &mut out);
    let times: Vec<_> = out.iter().map(|e| (e.data.as_str(), e.at)).collect();
    assert_eq!(times, vec![("a", t0), ("b", t0), ("c", t1), ("d", t2)]);
}

#[test]
fn one_huge_line_in_small_reads_is_linear() {
    // 8 MiB in 1,460-byte reads: a quadratic buffer would rescan ~23 TB.
    let line = format!("data: {}\n\n", "x".repeat(8 << 20));
    let mut d = SseDecoder::new();
    let mut out = Vec::new();
    let t = Instant::now();
    for c in line.as_bytes().chunks(1460) {
        d.feed_into(c, t, &mut out);
    }
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].data.len(), 8 << 20);
}

proptest! {
    #[test]
    fn any_chunking_gives_the_same_events(cuts in proptest::collection::vec(0usize..400, 0..40)) {
        let stream = "event: message_start\r\ndata: {\"a\":\"\u{e9}\u{2028}\"}\r\n\r\n: keep\n\ndata: x\rdata: y\r\r\
                      data: {\"delta\":\"\u{1f600} ok\"}\n\ndata: [DONE]\n\n";
        let bytes = stream.as_bytes();
        let whole = decode_chunks(&[bytes]);
        let chunks = cut(bytes, cuts);
        prop_assert_eq!(decode_chunks(&chunks), whole);
    }
}

#[test]
fn spec_corners_decode_as_the_spec_says() {
    /// What the case shows, the reads, the events.
    type Case = (&'static str, &'static [&'static [u8]], Vec<(String, String)>);
    let cases: [Case; 3] = [
        (
            // The second BOM is not at the start of the stream: it makes an unknown field.
            "a leading BOM is dropped once, even split across reads",
            &[b"\xEF\xBB", b"\xBFdata: a\n\n\xEF\xBB\xBFdata: b\n\n"],
            vec![ev("message", "a")],
        ),
        (
            "a type without data is dropped and does not leak into the next event",
            &[b"event: ping\n\ndata: x\n\nid: 7\nretry: 10\n\n"],
            vec![ev("message", "x")],
        ),
        (
            "invalid UTF-8 is replaced, not dropped",
            &[b"event: e\xFF\ndata: a\xC3(b\n\n"],
            vec![ev("e\u{fffd}", "a\u{fffd}(b")],
        ),
    ];
    for (what, chunks, want) in cases {
        assert_eq!(decode_chunks(chunks), want, "{what}");
    }
}

#[test]
fn an_event_handed_out_from_a_read_survives_until_the_next_is_asked_for() {
    let mut d = SseDecoder::new();
    let t = Instant::now();
    let mut events = d.feed(b"event: a\ndata: 1\n\nevent: b\ndata: 2\ndata: 3\n\n", t);
    let first = events.next().map(|e| (e.event.to_string(), e.data.to_string()));
    let second = events.next().map(|e| (e.event.to_string(), e.data.to_string()));
    assert_eq!(first, Some(("a".into(), "1".into())));
    assert_eq!(second, Some(("b".into(), "2\n3".into())));
    assert!(events.next().is_none());
}

#[test]
fn a_read_left_half_taken_ends_the_stream() {
    let mut d = SseDecoder::new();
    let t = Instant::now();
    {
        let mut events = d.feed(b"data: 1\n\ndata: 2\n\n", t);
        assert!(events.next().is_some());
    }
    let mut out = Vec::new();
    d.feed_into(b"data: 3\n\n", t, &mut out);
    assert!(
        out.is_empty(),
        "nothing is decoded after a read that was abandoned"
    );
    assert_eq!(d.finish(), None);
}

/// `sse-parse`, a plain reading of the spec, as the oracle: the same events, in the
/// same order, for every stream and every way of cutting it into reads.
pub(super) fn oracle(bytes: &[u8]) -> Vec<(String, String)> {
    let mut p = sse_parse::SseParser::new();
    p.feed(bytes);
    let mut out = Vec::new();
    while let Some(e) = p.next_event() {
        out.push((e.event, e.data));
    }
    out
}

pub(super) fn cut(bytes: &[u8], cuts: Vec<usize>) -> Vec<&[u8]> {
    let mut points: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    let mut chunks = Vec::new();
    let mut prev = 0;
    for p in points {
        chunks.push(&bytes[prev..p]);
        prev = p;
    }
    chunks.push(&bytes[prev..]);
    chunks
}

/// Lines built from the pieces SSE streams are made of, joined by any line end.
fn stream_strategy() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(&b"data: {\"a\":\"\xC3\xA9\xE2\x80\xA8\"}"[..]),
        Just(&b"data:x"[..]),
        Just(&b"data"[..]),
        Just(&b"data: "[..]),
        Just(&b"event: content_block_delta"[..]),
        Just(&b"event:"[..]),
        Just(&b"event"[..]),
        Just(&b": keep-alive"[..]),
        Just(&b":"[..]),
        Just(&b"id: 3"[..]),
        Just(&b"retry: 100"[..]),
        Just(&b"unknown: z"[..]),
        Just(&b"dat: near miss"[..]),
        Just(&b"data: \xF0\x9F\x98\x80 \xFF bad"[..]),
        Just(&b""[..]),
    ];
    let end = prop_oneof![Just(&b"\n"[..]), Just(&b"\r"[..]), Just(&b"\r\n"[..])];
    (any::<bool>(), proptest::collection::vec((piece, end), 0..24)).prop_map(|(bom, lines)| {
        let mut out = Vec::new();
        if bom {
            out.extend_from_slice(b"\xEF\xBB\xBF");
        }
        for (piece, end) in lines {
            out.extend_from_slice(piece);
            out.extend_from_slice(end);
        }
        out
    })
}

/// Whole events as servers write them, and their near misses, back to back: the shapes
/// the one-pass path takes or must leave to the line-by-line path.
fn event_stream_strategy() -> impl Strategy<Value = Vec<u8>> {
    let event = prop_oneof![
        Just(&b"event: content_block_delta\ndata: {\"t\":\"a\"}\n\n"[..]),
        Just(&b"data: {\"c\":\"\xC3\xA9\"}\n\n"[..]),
        Just(&b"event: content_block_delta\rdata: {\"t\":\"cr\"}\n\n"[..]),
        Just(&b"event: content_block_deltas\ndata: longer\n\n"[..]),
        Just(&b"event: content_block\ndata: shorter\n\n"[..]),
        Just(&b"event: \ndata: empty type\n\n"[..]),
        Just(&b"event:  two spaces\ndata: x\n\n"[..]),
        Just(&b"data: \n\n"[..]),
        Just(&b"data:no space\n\n"[..]),
        Just(&b"event:tight\ndata: y\n\n"[..]),
        Just(&b"event: cr\r\ndata: z\n\n"[..]),
        Just(&b"event: a\ndata: z\r\n\r\n"[..]),
        Just(&b"data: one\ndata: two\n\n"[..]),
        Just(&b"event: only a type\n\n"[..]),
        Just(&b": ping\n\n"[..]),
        Just(&b"id: 7\ndata: after id\n\n"[..]),
        Just(&b"data: \xFF invalid\n\n"[..]),
        Just(&b"event: \xFF\ndata: invalid type\n\n"[..]),
        Just(&b"data: no blank line\n"[..]),
        Just(&b"\n"[..]),
    ];
    (any::<bool>(), proptest::collection::vec(event, 0..16)).prop_map(|(bom, events)| {
        let mut out = Vec::new();
        if bom {
            out.extend_from_slice(b"\xEF\xBB\xBF");
        }
        for e in events {
            out.extend_from_slice(e);
        }
        out
    })
}

proptest! {
    /// Random lines, and whole events with their near misses (the one-pass path's shapes).
    #[test]
    fn agrees_with_the_oracle_on_any_stream_cut_anywhere(
        bytes in prop_oneof![stream_strategy(), event_stream_strategy()],
        cuts in proptest::collection::vec(0usize..1000, 0..12),
    ) {
        let want = oracle(&bytes);
        prop_assert_eq!(decode_chunks(&cut(&bytes, cuts)), want);
    }
}

#[test]
fn an_event_written_as_servers_write_it_is_cut_out_in_one_pass() {
    let text = "x\nevent: delta\ndata: {\"a\":1}\n\nrest";
    let mut last = Vec::new();
    let whole = whole_event(&text.as_bytes()[2..], 2, text, &mut last).expect("the usual shape");
    assert_eq!((whole.event, whole.data), ("delta", "{\"a\":1}"));
    assert_eq!(&text[whole.end..], "rest");
    assert_eq!(last, b"delta", "the type is remembered");
    // The remembered type is matched whole: a longer or shorter type is read anew.
    for (again, kind) in [
        ("event: delta\ndata: 2\n\n", "delta"),
        ("event: deltas\ndata: 3\n\n", "deltas"),
        ("event: delt\ndata: 4\n\n", "delt"),
    ] {
        let whole = whole_event(again.as_bytes(), 0, again, &mut last).expect("the usual shape");
        assert_eq!(whole.event, kind);
        assert_eq!(last, kind.as_bytes());
    }
    let bare = whole_event(b"data: d\n\n", 0, "data: d\n\n", &mut last).expect("no type line");
    assert_eq!((bare.event, bare.data, bare.end), ("message", "d", 9));
    for other in [
        "data: d\n",
        "data: d\ndata: e\n\n",
        "data: d\r\n\r\n",
        "event: e\rdata: d\n\n",
        "data:d\n\n",
        ": comment\n\n",
        "id: 1\ndata: d\n\n",
        "event: e\n",
    ] {
        assert!(
            whole_event(other.as_bytes(), 0, other, &mut Vec::new()).is_none(),
            "{other:?}"
        );
    }
    // Bytes past the read's valid UTF-8 are never sliced as text.
    let cut_short = &"data: é\n\n"[..6];
    assert!(whole_event("data: é\n\n".as_bytes(), 0, cut_short, &mut Vec::new()).is_none());
    let mut last = b"e".to_vec();
    assert!(
        whole_event(b"event: e\rdata: d\n\n", 0, "event: e\rdata: d\n\n", &mut last).is_none(),
        "a CR after a known type ends its line"
    );
}
