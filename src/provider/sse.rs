//! Bytes from the socket → SSE events, each stamped with the arrival time of its first byte.
//!
//! Decoding follows the WHATWG event-stream rules and is delegated to `sse-parse`, a
//! sans-IO parser that is linear in the bytes fed and never reconnects (reconnecting
//! would re-send a billed POST). What the crate cannot know is *when* an event arrived,
//! so this module keeps that: the time of the read that carried each event's first byte.
//! Several events in one read share that read's time; an event split across reads gets
//! the time of the read where it began.
//!
//! At end of stream the spec discards an event that never got its closing blank line.
//! When every line of that event did arrive (only the blank line is missing), what the
//! server sent is all there, so [`SseDecoder::finish`] hands it back for the caller
//! to judge instead of dropping it.

use std::time::Instant;

use sse_parse::SseParser;

/// One decoded SSE event and when its first byte arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedSse {
    /// Arrival of the read that carried the event's first byte.
    pub at: Instant,
    /// Event type (`message` when the stream gave none).
    pub event: String,
    /// Data lines joined with `\n`.
    pub data: String,
}

/// Incremental decoder: feed reads as they arrive, collect complete events.
#[derive(Debug, Default)]
pub struct SseDecoder {
    parser: SseParser,
    /// When the bytes of a not-yet-complete event started arriving.
    partial_since: Option<Instant>,
    /// The last byte fed, to tell a cut line from a missing blank line at EOF.
    last_byte: Option<u8>,
}

impl SseDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed one network read that arrived at `at`; complete events are appended to `out`.
    pub fn feed(&mut self, bytes: &[u8], at: Instant, out: &mut Vec<TimedSse>) {
        if bytes.is_empty() {
            return;
        }
        self.last_byte = bytes.last().copied();
        // Bytes already buffered before this read belong to the first event completed
        // now; every later event in this read began in this read.
        let mut first_at = self.partial_since.unwrap_or(at);
        self.parser.feed(bytes);
        while let Some(ev) = self.parser.next_event() {
            out.push(TimedSse {
                at: first_at,
                event: ev.event,
                data: ev.data,
            });
            first_at = at;
        }
        // The parser holds bytes only while an event (or a field line of one) is
        // incomplete; comments and blank lines leave nothing behind.
        self.partial_since = if self.parser.stats().buffered_bytes > 0 {
            Some(self.partial_since.unwrap_or(at))
        } else {
            None
        };
    }

    /// Whether bytes of an unfinished event are buffered (an EOF now would cut it).
    pub fn has_partial_event(&self) -> bool {
        self.partial_since.is_some()
    }

    /// End of stream. An event whose every line arrived but whose closing blank line
    /// did not is returned (stamped with the arrival of its first byte); an event cut
    /// inside a line is discarded, as the spec requires.
    pub fn finish(&mut self) -> Option<TimedSse> {
        let pending = self.partial_since.take();
        let flushed = match (pending, self.last_byte) {
            (Some(at), Some(b'\n' | b'\r')) => {
                // Two line ends: after a lone CR the first is the LF of a CRLF pair, so
                // the second is the blank line; after an LF the second is a no-op.
                self.parser.feed(b"\n\n");
                self.parser.next_event().map(|ev| TimedSse {
                    at,
                    event: ev.event,
                    data: ev.data,
                })
            }
            _ => None,
        };
        self.parser.finish();
        flushed
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;

    fn decode_chunks(chunks: &[&[u8]]) -> Vec<(String, String)> {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        let t = Instant::now();
        for c in chunks {
            d.feed(c, t, &mut out);
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
        d.feed(b"data: done\n\ndata: cut", Instant::now(), &mut out);
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
            d.feed(
                b"event: message_delta\ndata: {}\n\nevent: message_stop\n",
                t0,
                &mut out,
            );
            d.feed(b"data: {\"type\":\"message_stop\"}", t1, &mut out);
            d.feed(tail, t1, &mut out);
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
        d.feed(b"data: {\"type\":\"message_st", Instant::now(), &mut out);
        assert_eq!(d.finish(), None);
        let mut d = SseDecoder::new();
        d.feed(b"data: a\n\n: comment\n", Instant::now(), &mut out);
        assert_eq!(d.finish(), None, "nothing pending after a comment");
    }

    #[test]
    fn event_time_is_the_read_of_its_first_byte() {
        let t0 = Instant::now();
        let (t1, t2) = (t0 + Duration::from_millis(5), t0 + Duration::from_millis(9));
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        d.feed(b"data: a\n\ndata: b", t0, &mut out);
        d.feed(b"\n\ndata: c\n\n: ping\n", t1, &mut out);
        assert!(!d.has_partial_event(), "a comment leaves no partial event");
        d.feed(b"data: d\n\n", t2, &mut out);
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
            d.feed(c, t, &mut out);
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
            let mut points: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
            points.sort_unstable();
            let mut chunks = Vec::new();
            let mut prev = 0;
            for p in points {
                chunks.push(&bytes[prev..p]);
                prev = p;
            }
            chunks.push(&bytes[prev..]);
            prop_assert_eq!(decode_chunks(&chunks), whole);
        }
    }
}
