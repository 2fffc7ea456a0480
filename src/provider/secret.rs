//! API keys: read from the environment only, never printed, logged or saved.
//!
//! A key can still come back to us from outside: a server that echoes it in a 401 body,
//! a gateway that repeats it in a header, a model that is handed it in a prompt. So every
//! key Prism reads is also remembered here, and [`mask`] replaces the key, or any run of
//! [`MIN_RUN`] or more of its characters, with `[redacted]` wherever text leaves the
//! process (messages, saved events, exports, logs). Matching is by value, so a key of
//! any shape is caught, not only the `sk-…` / `AIza…` shapes.

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{PoisonError, RwLock};

use aho_corasick::AhoCorasick;

use super::event::StreamEvent;

/// The replacement for masked text.
pub const REDACTED: &str = "[redacted]";

/// The shortest run of a key's characters that is masked on its own. Shorter runs are too
/// common in ordinary text to mean anything (and would mask half of every answer).
pub const MIN_RUN: usize = 8;

/// An API key. `Debug` and `Display` print a placeholder, so a key can't leak through
/// a log line or an error message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wrap a key value, and remember it so [`mask`] hides it from everything written.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        remember(&value);
        Self(value)
    }

    /// The key itself, for the one place that puts it into a request header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A header value marked sensitive, so HTTP-level debug output hides it too.
    pub fn header_value(
        &self,
        prefix: &str,
    ) -> Result<reqwest::header::HeaderValue, reqwest::header::InvalidHeaderValue> {
        let mut v = reqwest::header::HeaderValue::from_str(&format!("{prefix}{}", self.0))?;
        v.set_sensitive(true);
        Ok(v)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Every key read so far and the searcher built from them.
#[derive(Default)]
struct Known {
    keys: Vec<String>,
    /// Every `MIN_RUN`-character window of every key (and keys shorter than that whole).
    searcher: Option<AhoCorasick>,
}

static KNOWN: RwLock<Known> = RwLock::new(Known {
    keys: Vec::new(),
    searcher: None,
});

/// Lets [`mask`] skip the lock entirely in the common case of a run with no keys.
static ANY_KNOWN: AtomicBool = AtomicBool::new(false);

/// Remember `key` so that [`mask`] hides it. Values shorter than [`MIN_RUN`] bytes are
/// not remembered: no provider issues keys that short, they are the placeholders local
/// servers accept (`EMPTY`, `ollama`, `x`), and masking them would blank those words, or
/// single letters, in every answer and field name.
pub fn remember(key: &str) {
    let key = key.trim();
    if key.len() < MIN_RUN {
        return;
    }
    let mut known = KNOWN.write().unwrap_or_else(PoisonError::into_inner);
    if known.keys.iter().any(|k| k == key) {
        return;
    }
    known.keys.push(key.to_string());
    let mut windows: Vec<&[u8]> = Vec::new();
    for k in &known.keys {
        windows.extend(k.as_bytes().windows(MIN_RUN));
    }
    windows.sort_unstable();
    windows.dedup();
    // Building can only fail for pattern sets far beyond a few keys' windows; without a
    // searcher, `mask` falls back to hiding whole keys only.
    known.searcher = AhoCorasick::new(windows).ok();
    ANY_KNOWN.store(true, Ordering::Release);
}

/// `text` with every remembered key, and every run of [`MIN_RUN`]+ of a key's characters,
/// replaced by `[redacted]`. Borrowed (no copy) when nothing matched.
pub fn mask(text: &str) -> Cow<'_, str> {
    // Nothing shorter than a run can hold one; a streamed token usually is, so most
    // events skip the search.
    if !ANY_KNOWN.load(Ordering::Acquire) || text.len() < MIN_RUN {
        return Cow::Borrowed(text);
    }
    let known = KNOWN.read().unwrap_or_else(PoisonError::into_inner);
    let mut spans: Vec<(usize, usize)> = Vec::new();
    match &known.searcher {
        // Nearly every text holds nothing of a key: one prefiltered yes/no search settles
        // it, cheaper than setting up the overlapping search that finds every window.
        Some(ac) if !ac.is_match(text) => return Cow::Borrowed(text),
        Some(ac) => {
            for m in ac.find_overlapping_iter(text) {
                match spans.last_mut() {
                    // Overlapping or touching windows are one run of the key.
                    Some(last) if m.start() <= last.1 => last.1 = last.1.max(m.end()),
                    _ => spans.push((m.start(), m.end())),
                }
            }
        }
        None => {
            for k in &known.keys {
                spans.extend(text.match_indices(k.as_str()).map(|(i, s)| (i, i + s.len())));
            }
            spans.sort_unstable();
        }
    }
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in spans {
        // A key with non-ASCII characters could match mid-character; widen to whole ones.
        let start = floor_char_boundary(text, start.max(at));
        let end = ceil_char_boundary(text, end);
        if start < at || end <= start {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(REDACTED);
        at = end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// [`mask`] in place, for the string fields of records about to be written (a `String`,
/// or a streamed text piece).
pub fn mask_in_place<T: std::ops::Deref<Target = str> + From<String>>(text: &mut T) {
    if let Cow::Owned(masked) = mask(text) {
        *text = masked.into();
    }
}

/// Mask every text field of `event` that a server or model could have filled with a key:
/// answer text, tool arguments, ids, header values, error messages and raw bodies.
pub fn mask_event(event: &mut StreamEvent) {
    if !ANY_KNOWN.load(Ordering::Acquire) {
        return;
    }
    match event {
        StreamEvent::Started(start) => {
            for v in start.request_id.iter_mut() {
                mask_in_place(v);
            }
            for (_, v) in &mut start.rate_limits {
                mask_in_place(v);
            }
        }
        StreamEvent::ResponseId(s) | StreamEvent::Note(s) => mask_in_place(s),
        StreamEvent::TextDelta(s) | StreamEvent::ReasoningDelta(s) | StreamEvent::RefusalDelta(s) => {
            mask_in_place(s);
        }
        // A key split between two pieces of one read is whole here, and masked.
        StreamEvent::TextRun(r) | StreamEvent::ReasoningRun(r) => mask_in_place(&mut r.text),
        StreamEvent::ToolRound(r) => {
            for sent in &mut r.results {
                if let serde_json::Value::String(s) = &mut sent.content {
                    mask_in_place(s);
                }
            }
        }
        StreamEvent::ToolCallDelta(d) => {
            for v in d.id.iter_mut().chain(d.name.iter_mut()) {
                mask_in_place(v);
            }
            mask_in_place(&mut d.arguments);
        }
        StreamEvent::Finish(f) => {
            for v in f.raw.iter_mut() {
                mask_in_place(v);
            }
        }
        StreamEvent::Failed(e) => {
            mask_in_place(&mut e.message);
            for v in e.raw_body.iter_mut() {
                mask_in_place(v);
            }
        }
        StreamEvent::Retrying { reason, .. } => mask_in_place(reason),
        StreamEvent::Server(r) => {
            for v in r.generation_id.iter_mut() {
                mask_in_place(v);
            }
        }
        StreamEvent::Dispatched | StreamEvent::Usage(_) | StreamEvent::Done | StreamEvent::Cancelled => {}
    }
}

/// How a value that should have been a variable name but looks like a key is shown: its
/// first four characters and its length, never more.
pub fn preview(value: &str) -> String {
    let head: String = value.chars().take(4).collect();
    format!("`{head}…`, {} characters", value.chars().count())
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let k = ApiKey::new("sk-canary-123");
        assert!(!format!("{k:?}").contains("canary"));
        assert!(k.header_value("Bearer ").is_ok_and(|v| v.is_sensitive()));
    }

    #[test]
    fn a_key_of_any_shape_is_masked_whole_and_in_runs() {
        // Not `sk-`/`AIza`-shaped: only masking by value can catch it.
        let key = "Zq7.vendor~Key:93x4Pw81Lm";
        let _k = ApiKey::new(key);
        assert_eq!(mask(&format!("bad key {key}!")), "bad key [redacted]!");
        // A server that echoes only part of it (a middle run of 8+ characters).
        assert_eq!(mask("got ~Key:93x4P here"), "got [redacted] here");
        // Seven characters of it are ordinary text.
        assert_eq!(mask("vendor~ is fine"), "vendor~ is fine");
        // Two separate runs are two redactions, text between them kept.
        let two = format!("{} and {}", &key[..9], &key[12..]);
        assert_eq!(mask(&two), "[redacted] and [redacted]");
        assert!(matches!(mask("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_placeholder_key_shorter_than_a_run_is_ordinary_text() {
        let _k = ApiKey::new("EMPTY");
        let _x = ApiKey::new("x");
        assert_eq!(mask("EMPTY text, max_tokens"), "EMPTY text, max_tokens");
        // Eight bytes is a run, so an eight-character key is masked whole.
        let _eight = ApiKey::new("k8-Abc12");
        assert_eq!(mask("is k8-Abc12."), "is [redacted].");
    }

    #[test]
    fn non_ascii_keys_never_split_a_character() {
        let _k = ApiKey::new("ключ-секрет-42");
        let masked = mask("x ключ-секрет-42 y");
        assert_eq!(masked, "x [redacted] y");
    }

    #[test]
    fn events_are_masked_in_every_text_field() {
        let key = "evt.Secret/Value#2024";
        let _k = ApiKey::new(key);
        let mut e = StreamEvent::Failed(Box::new(super::super::event::ProviderError {
            raw_body: Some(format!("{{\"error\":\"bad key {key}\"}}")),
            ..super::super::event::ProviderError::new(
                super::super::event::ErrorKind::Auth,
                format!("HTTP 401: key {key} rejected"),
            )
        }));
        mask_event(&mut e);
        let StreamEvent::Failed(e) = e else { unreachable!() };
        assert_eq!(e.message, "HTTP 401: key [redacted] rejected");
        assert_eq!(e.raw_body.as_deref(), Some("{\"error\":\"bad key [redacted]\"}"));
        let mut t = StreamEvent::TextDelta(format!("echo {key}").into());
        mask_event(&mut t);
        assert_eq!(t, StreamEvent::TextDelta("echo [redacted]".into()));
        // Split between two pieces of one read, the key is whole in their run.
        let (head, tail) = key.split_at(key.len() / 2);
        let mut run = StreamEvent::TextRun(super::super::event::TextRun::of(&format!("echo {head}"), tail));
        mask_event(&mut run);
        let StreamEvent::TextRun(run) = run else {
            unreachable!()
        };
        assert_eq!(run.text, "echo [redacted]");
    }

    #[test]
    fn preview_shows_four_characters_and_the_length() {
        assert_eq!(preview("sk-abcdefgh"), "`sk-a…`, 11 characters");
    }
}
