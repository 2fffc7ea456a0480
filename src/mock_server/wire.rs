//! Byte-level helpers shared by the provider renderers: SSE framing, the three JSON
//! layouts the providers use, and the time formats their headers carry.
//!
//! Clients are tested against these bytes, so layout matters as much as content: OpenAI
//! streams compact JSON, Gemini streams `"key": value` with bare commas, and both pretty
//! print non-streamed bodies with different indents.

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter, Serializer};
use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

/// One piece of a response body, with what the driver needs to pace and record it.
#[derive(Clone, Debug)]
pub struct Frame {
    pub bytes: Bytes,
    /// Carries text, reasoning or tool content, so it waits for ttft/itl and is logged.
    pub content: bool,
    /// Output tokens this frame carries (for fault points).
    pub tokens: usize,
}

impl Frame {
    pub fn control(bytes: impl Into<Bytes>) -> Frame {
        Frame {
            bytes: bytes.into(),
            content: false,
            tokens: 0,
        }
    }

    pub fn content(bytes: impl Into<Bytes>, tokens: usize) -> Frame {
        Frame {
            bytes: bytes.into(),
            content: true,
            tokens,
        }
    }
}

/// `event: NAME` (optional) and one `data:` line, terminated by a blank line.
pub fn sse(eol: &str, event: Option<&str>, data: &str) -> Bytes {
    let mut s = String::with_capacity(data.len() + 32);
    if let Some(name) = event {
        s.push_str("event: ");
        s.push_str(name);
        s.push_str(eol);
    }
    s.push_str("data: ");
    s.push_str(data);
    s.push_str(eol);
    s.push_str(eol);
    Bytes::from(s)
}

/// A comment line used as a keepalive, as a blank-line-terminated block.
pub fn keepalive(eol: &str) -> Bytes {
    Bytes::from(format!(": keepalive{eol}{eol}"))
}

/// Compact JSON (`{"a":1,"b":2}`), as OpenAI and Anthropic stream it.
pub fn compact(v: &Value) -> String {
    v.to_string()
}

/// Gemini's streamed layout: a space after each colon, none after commas.
pub fn google_stream(v: &Value) -> String {
    write_with(v, ColonSpace(CompactFormatter))
}

/// Pretty-printed with the given indent (OpenAI bodies: 2; OpenAI errors: 4; Google: 2).
pub fn pretty(v: &Value, indent: usize) -> String {
    let spaces = " ".repeat(indent);
    write_with(v, PrettyFormatter::with_indent(spaces.as_bytes()))
}

fn write_with<F: Formatter>(v: &Value, formatter: F) -> String {
    let mut out = Vec::new();
    let mut ser = Serializer::with_formatter(&mut out, formatter);
    // Serializing a Value into a Vec cannot fail and always yields UTF-8.
    if v.serialize(&mut ser).is_err() {
        return v.to_string();
    }
    String::from_utf8(out).unwrap_or_else(|_| v.to_string())
}

struct ColonSpace(CompactFormatter);

impl Formatter for ColonSpace {
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
}

/// Go's `time.Duration.String()` for a millisecond count (`12ms`, `1.5s`, `6m0s`).
/// humantime's formatter writes `6m` and `1h 2m 3s 500ms` instead, so Go's own form is
/// kept here.
pub fn go_duration(ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (h, rem) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rem) = (rem / 60_000, rem % 60_000);
    let secs = if rem % 1000 == 0 {
        format!("{}s", rem / 1000)
    } else {
        let s = format!("{}.{:03}", rem / 1000, rem % 1000);
        format!("{}s", s.trim_end_matches('0'))
    };
    match (h, m) {
        (0, 0) => secs,
        (0, m) => format!("{m}m{secs}"),
        (h, m) => format!("{h}h{m}m{secs}"),
    }
}

/// RFC 3339 UTC with second precision, as Anthropic's `*-reset` headers use.
pub fn rfc3339(t: SystemTime) -> String {
    // humantime refuses times before the epoch; a mock clock never reads one, but the
    // header stays well-formed if it did.
    humantime::format_rfc3339_seconds(t.max(UNIX_EPOCH)).to_string()
}

/// Seconds since the Unix epoch, for `created` fields.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_layouts() {
        let v = json!({"b": [1, {"c": true}], "a": "x"});
        assert_eq!(compact(&v), r#"{"b":[1,{"c":true}],"a":"x"}"#);
        assert_eq!(google_stream(&v), r#"{"b": [1,{"c": true}],"a": "x"}"#);
        assert_eq!(pretty(&json!({"a": 1}), 4), "{\n    \"a\": 1\n}");
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration(12), "12ms");
        assert_eq!(go_duration(1000), "1s");
        assert_eq!(go_duration(1500), "1.5s");
        assert_eq!(go_duration(360_000), "6m0s");
        assert_eq!(go_duration(3_723_000), "1h2m3s");
    }

    #[test]
    fn the_client_reads_back_every_go_duration_the_mock_writes() {
        for ms in [6, 20, 999, 1000, 1500, 59_999, 360_000, 3_723_500, 90_061_001] {
            let text = go_duration(ms);
            assert_eq!(
                crate::provider::retry::go_duration(&text),
                Some(std::time::Duration::from_millis(ms)),
                "{text}"
            );
        }
    }

    #[test]
    fn rfc3339_formats_utc() {
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20Z");
        // Sub-second parts are dropped, as the headers have them.
        let t = UNIX_EPOCH + std::time::Duration::from_millis(951_782_399_999);
        assert_eq!(rfc3339(t), "2000-02-28T23:59:59Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH - std::time::Duration::from_secs(1)),
            "1970-01-01T00:00:00Z"
        );
    }
}
