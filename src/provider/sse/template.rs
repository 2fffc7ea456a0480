//! Text pieces taken by a template of the piece before: the bytes around a piece of
//! answer text, learned from one the provider's decoder read, and the run of events
//! made of exactly those bytes with other text.

use std::ops::Range;

use super::Events;

impl<'a> Events<'a> {
    /// The run of events at this point of the read that are `template`'s with other text,
    /// as their texts. The run ends at the first other event, a cut one, or the end of
    /// the read; the line path reads on from there. Such events are taken by a compare
    /// and a scan of each text, without the line-by-line path or the payload's reader.
    pub fn like<'e>(&'e mut self, template: &'e mut EventTemplate) -> Like<'e, 'a> {
        let text_at = self.like_start(template);
        Like {
            events: self,
            template,
            text_at,
        }
    }

    /// Where the text of an event like `template` starting here begins, if one does.
    fn like_start(&mut self, template: &EventTemplate) -> Option<usize> {
        if template.head.is_empty() {
            return None;
        }
        let d = &mut *self.decoder;
        if d.abandoned {
            return None;
        }
        if d.handed_out {
            d.reset_event();
        }
        if !d.at_boundary() {
            return None;
        }
        let rest = self.read.get(self.pos..)?;
        rest.starts_with(&template.head)
            .then_some(self.pos + template.head.len())
    }
}

/// The texts of a run of events like a template; see [`Events::like`].
pub struct Like<'e, 'a> {
    events: &'e mut Events<'a>,
    template: &'e mut EventTemplate,
    /// Where the next event's text begins: its head has been matched, and the read's
    /// position is still at the start of that event.
    text_at: Option<usize>,
}

impl<'a> Iterator for Like<'_, 'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let start = self.text_at.take()?;
        let body = self.events.read.get(start..)?;
        let len = plain_len(body)?;
        let end = start + len;
        // Bytes past the read's valid UTF-8 are never handed out as text.
        let text = self.events.text.get(start..end)?;
        let t = &*self.template;
        let after = &body[len..];
        // One compare for the tail of this event and the head of the next.
        if after.starts_with(&t.between) {
            self.text_at = Some(end + t.between.len());
        } else if !after.starts_with(&t.tail) {
            return None;
        }
        self.events.pos = end + t.tail.len();
        self.template.fruitless = 0;
        Some(text)
    }
}

/// How many bytes at the start of `bytes` a JSON string holds as they are: up to the first
/// quote, backslash or control character; `None` when there is none. Eight bytes are
/// looked at a time: a text piece is a few bytes, and byte-by-byte tests cost more than
/// the rest of the event.
fn plain_len(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // A byte's high bit in the result is set where the byte is below `n`, at least for
    // the lowest such byte; a borrow can only mark bytes above it, which are not read.
    let below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w & HIGHS;
    let mut i = 0;
    while let Some(word) = bytes.get(i..i + 8) {
        let w = u64::from_le_bytes(word.try_into().ok()?);
        let stops =
            below(w ^ (ONES * u64::from(b'"')), 1) | below(w ^ (ONES * u64::from(b'\\')), 1) | below(w, 0x20);
        if stops != 0 {
            return Some(i + stops.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    let tail = bytes.get(i..)?;
    tail.iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|p| i + p)
}

/// The bytes of one event around a piece of text, as a stream writes every piece of an
/// answer: the same type, the same JSON before and after the text's string, only the
/// text changing.
///
/// It is learned from an event the provider's decoder read as a plain piece of text (its
/// payload in a form that decoder reads by its bytes). A later event made of exactly
/// these bytes with, between them, a string holding no quote, backslash or control
/// character is the same event with other text: its lines and their ends are the
/// learned ones (so the spec reads it as the same type and payload shape), and the
/// payload is the learned one with only that string changed, which the decoder would
/// read as exactly those bytes of text. A miss costs nothing: the event is read as
/// before.
#[derive(Debug, Default)]
pub struct EventTemplate {
    /// The event line (none for the default type), `data: ` and the payload up to and
    /// including the text's opening quote.
    head: Vec<u8>,
    /// From the text's closing quote to the end of the payload, its LF and the blank line.
    tail: Vec<u8>,
    /// `tail` then `head`: what lies between the texts of two such events in a row.
    between: Vec<u8>,
    /// Templates learned in a row that no event matched: a server that writes its events
    /// in another shape (CRLF, no space after the colon) never matches, and learning
    /// stops after a few, so its stream costs what it did before.
    fruitless: u8,
}

/// Fruitless templates after which a stream learns no more.
const FRUITLESS_LEARNS: u8 = 8;

impl EventTemplate {
    /// Learn the event of type `event` and payload `data`, whose text `text` is a slice
    /// of `data` and the whole body of a JSON string in it, as it is written with an LF
    /// after each line and one space after each colon. Anything else learns nothing.
    pub fn learn(&mut self, event: &str, data: &str, text: &str) {
        if self.fruitless >= FRUITLESS_LEARNS {
            return;
        }
        let Some(Range { start, end }) = crate::provider::hot::string_body(data, text) else {
            return;
        };
        let bytes = data.as_bytes();
        // A line end in the type or payload would make these bytes other lines.
        if event.contains(['\n', '\r']) || data.contains(['\n', '\r']) {
            return;
        }
        self.head.clear();
        if event != "message" {
            self.head.extend_from_slice(b"event: ");
            self.head.extend_from_slice(event.as_bytes());
            self.head.push(b'\n');
        }
        self.head.extend_from_slice(b"data: ");
        self.head.extend_from_slice(&bytes[..start]);
        self.tail.clear();
        self.tail.extend_from_slice(&bytes[end..]);
        self.tail.extend_from_slice(b"\n\n");
        self.between.clear();
        self.between.extend_from_slice(&self.tail);
        self.between.extend_from_slice(&self.head);
        self.fruitless += 1;
    }
}

#[cfg(test)]
mod tests;
