//! Bytes from the socket → AWS event-stream messages (`application/vnd.amazon.eventstream`),
//! each stamped with the arrival time of the read that completed it.
//!
//! A message is a 12-byte prelude (total length, headers length, CRC32 of those eight
//! bytes), the headers, the payload and a CRC32 of everything before it. Parsing and the
//! message CRC are `aws-smithy-eventstream`'s; the prelude is checked here first, as soon
//! as its 12 bytes are in, because the crate only looks at it once the whole message has
//! arrived, and a corrupt length would otherwise make the reader wait for gigabytes.

use std::time::Instant;

use aws_smithy_eventstream::frame::read_message_from;
use aws_smithy_types::event_stream::Message;
use bytes::{Buf, BytesMut};

/// Prelude: total length, headers length, prelude CRC.
const PRELUDE: usize = 12;
/// Prelude plus the trailing message CRC: the smallest possible message.
const OVERHEAD: u32 = 16;
/// The largest message accepted: the format's 16 MiB payload plus 128 KiB of headers.
pub const MAX_MESSAGE: u32 = 16 * 1024 * 1024 + 128 * 1024 + OVERHEAD;

/// One message and when the read that completed it arrived.
#[derive(Debug, Clone)]
pub struct TimedMessage {
    /// Arrival of the read that carried the message's last byte.
    pub at: Instant,
    /// The message.
    pub message: Message,
}

/// Incremental decoder: feed reads as they arrive, collect complete messages.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: BytesMut,
    /// The total length of the message at the front of `buf`, once its prelude checked out.
    expected: Option<usize>,
    /// Messages decoded so far, for error messages.
    decoded: u64,
    /// Bytes consumed by decoded messages.
    offset: u64,
}

impl FrameDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed one read that arrived at `at`; complete messages are appended to `out`. An
    /// error (bad CRC, impossible length, bad header) ends the stream: nothing after a
    /// corrupt message can be framed.
    pub fn feed(&mut self, bytes: &[u8], at: Instant, out: &mut Vec<TimedMessage>) -> Result<(), String> {
        self.buf.extend_from_slice(bytes);
        loop {
            let total = match self.expected {
                Some(t) => t,
                None if self.buf.len() < PRELUDE => return Ok(()),
                None => {
                    let t = self.check_prelude()?;
                    self.expected = Some(t);
                    t
                }
            };
            if self.buf.len() < total {
                return Ok(());
            }
            let frame = self.buf.split_to(total).freeze();
            self.expected = None;
            let message = read_message_from(frame.clone()).map_err(|e| {
                format!(
                    "event-stream message {} (at byte {}) is corrupt: {e}",
                    self.decoded + 1,
                    self.offset
                )
            })?;
            self.decoded += 1;
            self.offset += total as u64;
            out.push(TimedMessage { at, message });
        }
    }

    /// Whether bytes of an unfinished message are buffered (an EOF now would cut it).
    pub fn has_partial(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Messages decoded so far.
    pub fn decoded(&self) -> u64 {
        self.decoded
    }

    /// Validate the prelude at the front of the buffer; its total length when sound.
    fn check_prelude(&self) -> Result<usize, String> {
        let mut p = &self.buf[..PRELUDE];
        let total = p.get_u32();
        let headers = p.get_u32();
        let crc = p.get_u32();
        let at = format!(
            "event-stream message {} (at byte {})",
            self.decoded + 1,
            self.offset
        );
        let computed = crc32fast::hash(&self.buf[..8]);
        if computed != crc {
            return Err(format!(
                "{at} has a bad prelude checksum (0x{crc:08x}, computed 0x{computed:08x}): the stream is corrupt"
            ));
        }
        if !(OVERHEAD..=MAX_MESSAGE).contains(&total) || headers > total - OVERHEAD {
            return Err(format!(
                "{at} claims an impossible length ({total} bytes, {headers} of headers; at most {MAX_MESSAGE})"
            ));
        }
        Ok(total as usize)
    }
}

/// A string header of `message` (`:event-type`, `:message-type`...).
pub fn header<'m>(message: &'m Message, name: &str) -> Option<&'m str> {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| h.value().as_string().ok())
        .map(|s| s.as_str())
}

#[cfg(test)]
mod tests {
    use aws_smithy_eventstream::frame::write_message_to;
    use aws_smithy_types::event_stream::{Header, HeaderValue};

    use super::*;

    fn event(kind: &str, payload: &str) -> Vec<u8> {
        let m = Message::new(payload.as_bytes().to_vec())
            .add_header(Header::new(
                ":event-type",
                HeaderValue::String(kind.to_string().into()),
            ))
            .add_header(Header::new(":message-type", HeaderValue::String("event".into())));
        let mut out = Vec::new();
        write_message_to(&m, &mut out).unwrap();
        out
    }

    fn stream() -> Vec<u8> {
        let mut s = event("messageStart", r#"{"role":"assistant"}"#);
        s.extend(event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"text":"Hé"}}"#,
        ));
        s.extend(event("messageStop", r#"{"stopReason":"end_turn"}"#));
        s
    }

    fn kinds(out: &[TimedMessage]) -> Vec<String> {
        out.iter()
            .map(|m| header(&m.message, ":event-type").unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn split_at_every_offset_gives_the_same_messages() {
        let bytes = stream();
        for cut in 0..=bytes.len() {
            for second in cut..=bytes.len() {
                let mut d = FrameDecoder::new();
                let mut out = Vec::new();
                let t = Instant::now();
                d.feed(&bytes[..cut], t, &mut out).unwrap();
                d.feed(&bytes[cut..second], t, &mut out).unwrap();
                d.feed(&bytes[second..], t, &mut out).unwrap();
                assert_eq!(
                    kinds(&out),
                    ["messageStart", "contentBlockDelta", "messageStop"],
                    "cuts at {cut}, {second}"
                );
                assert!(!d.has_partial());
            }
        }
    }

    #[test]
    fn a_message_is_stamped_with_the_read_that_completed_it() {
        let bytes = event("messageStart", "{}");
        let (t0, t1) = (
            Instant::now(),
            Instant::now() + std::time::Duration::from_millis(5),
        );
        let mut d = FrameDecoder::new();
        let mut out = Vec::new();
        d.feed(&bytes[..20], t0, &mut out).unwrap();
        assert!(out.is_empty() && d.has_partial());
        d.feed(&bytes[20..], t1, &mut out).unwrap();
        assert_eq!(out[0].at, t1);
    }

    #[test]
    fn bad_prelude_crc_fails_at_once() {
        let mut bytes = stream();
        bytes[8] ^= 0xff;
        let mut d = FrameDecoder::new();
        // Only the prelude: the error does not wait for the rest.
        let e = d.feed(&bytes[..12], Instant::now(), &mut Vec::new()).unwrap_err();
        assert!(e.contains("bad prelude checksum"), "{e}");
        assert!(e.starts_with("event-stream message 1 (at byte 0)"), "{e}");
    }

    #[test]
    fn bad_message_crc_fails() {
        let first = event("messageStart", r#"{"role":"assistant"}"#).len();
        let mut bytes = stream();
        let second = event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"text":"Hé"}}"#,
        )
        .len();
        // The last payload byte of the second message, just before its CRC.
        bytes[first + second - 5] ^= 0x01;
        let mut d = FrameDecoder::new();
        let mut out = Vec::new();
        let e = d.feed(&bytes, Instant::now(), &mut out).unwrap_err();
        assert_eq!(out.len(), 1, "the sound message before it is kept");
        assert!(e.contains(&format!("message 2 (at byte {first})")), "{e}");
        assert!(e.to_lowercase().contains("checksum"), "{e}");
    }

    #[test]
    fn impossible_lengths_fail_without_waiting_or_panicking() {
        for (total, headers) in [(u32::MAX, 0u32), (15, 0), (MAX_MESSAGE + 1, 0), (40, 30)] {
            let mut prelude = Vec::new();
            prelude.extend(total.to_be_bytes());
            prelude.extend(headers.to_be_bytes());
            prelude.extend(crc32fast::hash(&prelude).to_be_bytes());
            let e = FrameDecoder::new()
                .feed(&prelude, Instant::now(), &mut Vec::new())
                .unwrap_err();
            assert!(e.contains("impossible length"), "{total}/{headers}: {e}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            let len = (seed % 64) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            let _ = FrameDecoder::new().feed(&bytes, Instant::now(), &mut Vec::new());
        }
    }
}
