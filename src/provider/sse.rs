//! Bytes from the socket → SSE events, each stamped with the arrival time of its first byte.
//!
//! Decoding follows the WHATWG event-stream rules (CR, LF and CRLF line ends, comments,
//! multi-line `data`, a leading BOM once, unknown fields ignored) and never reconnects:
//! reconnecting would re-send a billed POST, so `id` and `retry` are read and dropped.
//!
//! The decoder is ours rather than a crate's for two reasons, both measured:
//! - Each event must carry *when* it arrived: the time of the read that carried its
//!   first byte. Several events in one read share that read's time; an event split
//!   across reads gets the time of the read where it began; a keep-alive comment
//!   between events stamps nothing. The parsers on crates.io hide the state that says
//!   where an event began.
//! - It sits on the hot path of every token. The crates copy every event into owned
//!   `String`s (250-330 ns an event for `sse-parse`); here an event that lies whole in
//!   one read is handed out as slices of that read, and only an event split across
//!   reads (or spread over several `data` lines) is copied. `sse-parse`, a
//!   straightforward reading of the spec, stays as the oracle the tests compare against
//!   on random streams cut at random points.
//!
//! At end of stream the spec discards an event that never got its closing blank line.
//! When every line of that event did arrive (only the blank line is missing), what the
//! server sent is all there, so [`SseDecoder::finish`] hands it back for the caller
//! to judge instead of dropping it.

use std::ops::Range;
use std::time::Instant;

/// One decoded SSE event, owned: what [`SseDecoder::finish`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedSse {
    /// Arrival of the read that carried the event's first byte.
    pub at: Instant,
    /// Event type (`message` when the stream gave none).
    pub event: String,
    /// Data lines joined with `\n`.
    pub data: String,
}

/// One decoded SSE event, borrowed from the read that completed it (or from the
/// decoder, when it was copied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseEvent<'a> {
    /// Arrival of the read that carried the event's first byte.
    pub at: Instant,
    /// Event type (`message` when the stream gave none).
    pub event: &'a str,
    /// Data lines joined with `\n`.
    pub data: &'a str,
}

/// Where a field's value lives: in the read being decoded, or copied into the decoder.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum Value {
    #[default]
    Unset,
    /// A range of the current read; copied out before that read is let go.
    InRead(Range<usize>),
    /// In the decoder's own buffer for this field.
    Copied,
}

/// Incremental decoder: feed reads as they arrive, take the events each one completes.
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// The start of a line whose end has not arrived yet.
    line: Vec<u8>,
    /// When the read carrying `line`'s first byte arrived.
    line_at: Option<Instant>,
    /// The previous read ended on CR: a LF opening this one ends nothing.
    after_cr: bool,
    /// A line has been completed: a BOM is dropped only from the first.
    past_first_line: bool,
    /// The current event's type and data, and their buffers once copied.
    event: Value,
    event_buf: Vec<u8>,
    data: Value,
    data_buf: Vec<u8>,
    /// `data` lines seen in the current event (an empty `data` line still counts).
    data_lines: usize,
    /// When the current event's first field line began arriving.
    event_since: Option<Instant>,
    /// An event was just handed out of the buffers: clear them before the next line.
    handed_out: bool,
    /// Lossy copies, for the rare event that is not valid UTF-8.
    lossy_event: String,
    lossy_data: String,
    /// The caller stopped taking events in the middle of a read: the stream is over.
    abandoned: bool,
    /// The type of the latest event read in one pass ([`whole_event`]): the next event
    /// of a stream nearly always has the same one.
    last_type: Vec<u8>,
}

impl SseDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed one network read that arrived at `at`; the returned [`Events`] hands out the
    /// events it completes, in order. Dropping it before it returns `None` abandons the
    /// stream: the decoder yields nothing more.
    pub fn feed<'a>(&'a mut self, bytes: &'a [u8], at: Instant) -> Events<'a> {
        Events {
            decoder: self,
            read: bytes,
            text: valid_prefix(bytes),
            pos: 0,
            at,
        }
    }

    /// [`feed`](Self::feed), collecting owned copies of the events into `out`: for
    /// callers off the hot path (tests, replays of recorded bodies).
    pub fn feed_into(&mut self, bytes: &[u8], at: Instant, out: &mut Vec<TimedSse>) {
        let mut events = self.feed(bytes, at);
        while let Some(e) = events.next() {
            out.push(TimedSse {
                at: e.at,
                event: e.event.to_string(),
                data: e.data.to_string(),
            });
        }
    }

    /// Whether bytes of an unfinished event are buffered (an EOF now would cut it).
    /// A keep-alive comment, finished or not, is not an event.
    pub fn has_partial_event(&self) -> bool {
        (self.event_since.is_some() && !self.handed_out) || self.line.first().is_some_and(|&b| b != b':')
    }

    /// End of stream. An event whose every line arrived but whose closing blank line
    /// did not is returned (stamped with the arrival of its first byte); an event cut
    /// inside a line is discarded, as the spec requires.
    pub fn finish(&mut self) -> Option<TimedSse> {
        if self.abandoned || !self.line.is_empty() || self.data_lines == 0 {
            return None;
        }
        let at = self.event_since?;
        if self.handed_out {
            return None;
        }
        // Between reads nothing points into a read: both values are copied or unset.
        let event = match self.event {
            Value::Copied if !self.event_buf.is_empty() => {
                String::from_utf8_lossy(&self.event_buf).into_owned()
            }
            _ => "message".to_string(),
        };
        let data = String::from_utf8_lossy(&self.data_buf).into_owned();
        self.reset_event();
        Some(TimedSse { at, event, data })
    }

    /// Between events: no line, field or line end of an unfinished event is pending, and
    /// the stream's first line (which may start with a BOM) is behind.
    fn at_boundary(&self) -> bool {
        !self.after_cr
            && self.past_first_line
            && self.line.is_empty()
            && self.data_lines == 0
            && self.event_since.is_none()
            && self.event == Value::Unset
    }

    fn reset_event(&mut self) {
        self.event = Value::Unset;
        self.data = Value::Unset;
        self.event_buf.clear();
        self.data_buf.clear();
        self.data_lines = 0;
        self.event_since = None;
        self.handed_out = false;
    }

    /// Copy every value still pointing into `read` into the decoder's buffers.
    fn keep_values(&mut self, read: &[u8]) {
        if let Value::InRead(r) = &self.event {
            self.event_buf.clear();
            self.event_buf.extend_from_slice(&read[r.clone()]);
            self.event = Value::Copied;
        }
        if let Value::InRead(r) = &self.data {
            self.data_buf.clear();
            self.data_buf.extend_from_slice(&read[r.clone()]);
            self.data = Value::Copied;
        }
    }
}

/// The events one read completes; see [`SseDecoder::feed`].
#[derive(Debug)]
pub struct Events<'a> {
    decoder: &'a mut SseDecoder,
    read: &'a [u8],
    /// The read's longest valid UTF-8 prefix, checked once for all its events.
    text: &'a str,
    pos: usize,
    at: Instant,
}

/// A complete line: a range of the read, or the decoder's carried `line` buffer.
enum Line {
    InRead(Range<usize>),
    Carried,
}

impl Events<'_> {
    /// The next event this read completes, or `None` when the read is used up.
    #[allow(clippy::should_implement_trait)] // a lending iterator: events borrow `self`
    pub fn next(&mut self) -> Option<SseEvent<'_>> {
        let d = &mut *self.decoder;
        if d.abandoned {
            return None;
        }
        if d.handed_out {
            d.reset_event();
        }
        let read = self.read;
        if d.at_boundary()
            && let Some(whole) = whole_event(&read[self.pos..], self.pos, self.text, &mut d.last_type)
        {
            self.pos = whole.end;
            return Some(SseEvent {
                at: self.at,
                event: whole.event,
                data: whole.data,
            });
        }
        while self.pos < read.len() {
            if d.after_cr {
                d.after_cr = false;
                if read[self.pos] == b'\n' {
                    self.pos += 1;
                    continue;
                }
            }
            let rest = &read[self.pos..];
            // A blank line (every event ends with one) needs no search.
            let blank = rest[0] == b'\n' || rest[0] == b'\r';
            let found = if blank {
                Some(0)
            } else {
                memchr::memchr2(b'\n', b'\r', rest)
            };
            let Some(len) = found else {
                // The line goes on in a later read.
                if d.line.is_empty() {
                    d.line_at = Some(self.at);
                }
                d.line.extend_from_slice(rest);
                self.pos = read.len();
                break;
            };
            let start = self.pos;
            let end = start + len;
            d.after_cr = read[end] == b'\r';
            self.pos = end + 1;
            let (line, began) = if d.line.is_empty() {
                (Line::InRead(start..end), self.at)
            } else {
                d.line.extend_from_slice(&read[start..end]);
                (Line::Carried, d.line_at.take().unwrap_or(self.at))
            };
            if on_line(d, read, line, began) {
                d.handed_out = true;
                let at = d.event_since.unwrap_or(self.at);
                return Some(hand_out(d, read, self.text, at));
            }
        }
        d.keep_values(read);
        None
    }
}

impl Drop for Events<'_> {
    fn drop(&mut self) {
        if self.pos < self.read.len() {
            // Stopped mid-read: the rest of it is never decoded, so nothing after it
            // can be either.
            self.decoder.abandoned = true;
        }
    }
}

/// An event that [`whole_event`] cut out of a read: its type and data, and where the read
/// goes on after it.
struct WholeEvent<'a> {
    event: &'a str,
    data: &'a str,
    end: usize,
}

/// The event at the start of `rest` (which begins at `offset` in a read whose valid UTF-8
/// prefix is `text`), when it is written as servers write nearly every event: an optional
/// `event: NAME` line, one `data: VALUE` line and a blank line, each ended by LF alone.
/// `None` for anything else (a comment, a CR, several `data` lines, an event not whole
/// in this read, bytes outside the valid prefix), which the line-by-line path reads.
///
/// This is the spec's reading of those bytes, not an approximation: a line that starts
/// with `event: ` or `data: ` names that field and its value is the rest of the line less
/// the one space; the blank line dispatches. Two line searches replace the general path's
/// per-line bookkeeping, most of the framing's cost per event.
///
/// `last_type` is the type the previous such event had. A type line that repeats it is
/// matched by comparison instead of a search: a search through a short line goes byte by
/// byte, and costs as much as the rest of the event.
fn whole_event<'a>(
    rest: &[u8],
    offset: usize,
    text: &'a str,
    last_type: &mut Vec<u8>,
) -> Option<WholeEvent<'a>> {
    let mut at = 0;
    let mut event = None;
    if rest.starts_with(b"event: ") {
        let known = 7 + last_type.len();
        // The remembered type holds no line end (a search found its line's end after it).
        let end =
            if !last_type.is_empty() && rest.get(known) == Some(&b'\n') && rest[7..known] == last_type[..] {
                known
            } else {
                let end = lf_line_end(rest, 7)?;
                last_type.clear();
                last_type.extend_from_slice(&rest[7..end]);
                end
            };
        event = Some(7..end);
        at = end + 1;
    }
    let data_start = at + 6;
    if !rest.get(at..)?.starts_with(b"data: ") {
        return None;
    }
    let data_end = lf_line_end(rest, data_start)?;
    if rest.get(data_end + 1) != Some(&b'\n') {
        return None;
    }
    let slice = |r: Range<usize>| text.get(offset + r.start..offset + r.end);
    let event = match event {
        // An empty type is the default one, as it is on the general path.
        Some(r) if r.start < r.end => slice(r)?,
        _ => "message",
    };
    Some(WholeEvent {
        event,
        data: slice(data_start..data_end)?,
        end: offset + data_end + 2,
    })
}

/// Where the line starting at `from` ends, when it ends in `bytes` with a LF and holds no
/// CR.
fn lf_line_end(bytes: &[u8], from: usize) -> Option<usize> {
    let found = from + memchr::memchr2(b'\n', b'\r', bytes.get(from..)?)?;
    (bytes[found] == b'\n').then_some(found)
}

/// Apply one complete line; true when it was the blank line that dispatches an event.
fn on_line(d: &mut SseDecoder, read: &[u8], line: Line, began: Instant) -> bool {
    match line {
        Line::InRead(range) => on_field_line(d, read, range, false, began),
        Line::Carried => {
            let carried = std::mem::take(&mut d.line);
            let dispatched = on_field_line(d, &carried, 0..carried.len(), true, began);
            d.line = carried;
            d.line.clear();
            dispatched
        }
    }
}

/// One line held in `src[range]`; `copied` when `src` is the carried line, which is
/// reused, so values must be copied out of it at once.
fn on_field_line(d: &mut SseDecoder, src: &[u8], range: Range<usize>, copied: bool, began: Instant) -> bool {
    let mut start = range.start;
    if !std::mem::replace(&mut d.past_first_line, true) && src[range.clone()].starts_with(b"\xEF\xBB\xBF") {
        start += 3;
    }
    let bytes = &src[start..range.end];
    let Some(&first) = bytes.first() else {
        return dispatch(d);
    };
    if first == b':' {
        return false;
    }
    // The two fields every stream sends are known by their first bytes; any other line
    // is split at its first colon.
    let colon = if bytes.starts_with(b"data:") {
        Some(4)
    } else if bytes.starts_with(b"event:") {
        Some(5)
    } else {
        memchr::memchr(b':', bytes)
    };
    let (name, value) = match colon {
        Some(colon) => {
            let after = colon + 1;
            let skip_space = usize::from(bytes.get(after) == Some(&b' '));
            (&bytes[..colon], start + after + skip_space..range.end)
        }
        None => (bytes, range.end..range.end),
    };
    d.event_since.get_or_insert(began);
    match name {
        b"event" if copied => {
            d.event_buf.clear();
            d.event_buf.extend_from_slice(&src[value]);
            d.event = Value::Copied;
        }
        b"event" => d.event = Value::InRead(value),
        b"data" => {
            d.data_lines += 1;
            if d.data_lines == 1 && !copied {
                d.data = Value::InRead(value);
            } else {
                if let Value::InRead(r) = &d.data {
                    // An earlier line of this event is in this same read.
                    d.data_buf.clear();
                    d.data_buf.extend_from_slice(&src[r.clone()]);
                }
                if d.data_lines > 1 {
                    d.data_buf.push(b'\n');
                }
                d.data_buf.extend_from_slice(&src[value]);
                d.data = Value::Copied;
            }
        }
        // `id` and `retry` serve reconnection, which never happens; the spec ignores
        // unknown fields.
        _ => {}
    }
    false
}

/// A blank line: true when it completes an event with data; otherwise the event so far
/// (a type with no data) is dropped, as the spec says.
fn dispatch(d: &mut SseDecoder) -> bool {
    if d.data_lines > 0 {
        return true;
    }
    d.reset_event();
    false
}

fn hand_out<'d>(d: &'d mut SseDecoder, read: &'d [u8], text: &'d str, at: Instant) -> SseEvent<'d> {
    let SseDecoder {
        event,
        event_buf,
        data,
        data_buf,
        lossy_event,
        lossy_data,
        ..
    } = d;
    let event = value_text(event, read, text, event_buf, lossy_event);
    SseEvent {
        at,
        // An empty type, given or not, is the default one.
        event: if event.is_empty() { "message" } else { event },
        data: value_text(data, read, text, data_buf, lossy_data),
    }
}

/// A field's value as text. A value in the read's valid prefix is a slice of it: every
/// range starts and ends at an ASCII delimiter (a line end, a colon, a space), so it
/// lies on character boundaries. Anything else is checked on its own.
fn value_text<'a>(
    value: &Value,
    read: &'a [u8],
    text: &'a str,
    buf: &'a [u8],
    spare: &'a mut String,
) -> &'a str {
    match value {
        Value::Unset => "",
        Value::InRead(r) => match text.get(r.clone()) {
            Some(s) => s,
            None => utf8_or_lossy(&read[r.clone()], spare),
        },
        Value::Copied => utf8_or_lossy(buf, spare),
    }
}

/// The longest prefix of `bytes` that is valid UTF-8: all of a read but for a character
/// cut at its end (or whatever follows an invalid byte). One check per read costs far
/// less than one per field of each of its events.
fn valid_prefix(bytes: &[u8]) -> &str {
    match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
    }
}

/// The bytes as text; invalid UTF-8 is replaced (as the spec decodes the stream) in
/// `spare`, which the rare event that needs it borrows.
fn utf8_or_lossy<'a>(bytes: &'a [u8], spare: &'a mut String) -> &'a str {
    match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(_) => {
            *spare = String::from_utf8_lossy(bytes).into_owned();
            spare
        }
    }
}

mod template;
pub use template::{EventTemplate, Like};

#[cfg(test)]
mod tests;
