//! The tool calls of a pane's answer, each in a block of its own: `⚙ name`, then the
//! arguments in a code block. While a call streams its arguments grow raw, appended as
//! they arrive; once it is complete (the next call started, or the stream finished) they
//! are pretty-printed JSON, or, when they are not JSON, stay raw under a note saying so.
//!
//! All blocks live in one markdown [`Doc`], so they wrap, scroll and lay out
//! incrementally like the answer, and only the visible rows are ever materialised. The
//! document is appended to while the last call streams and rebuilt only when what it
//! shows changes shape (a call completes, a new one starts).

use std::ops::Range;
use std::time::Instant;

use ratatui::text::Line;

use crate::engine::metrics::ToolCall;
use crate::tui::render::{Doc, DocStyles};

/// What the document shows of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shown {
    name: Option<String>,
    id: Option<String>,
    /// Bytes of the arguments in the document.
    arguments: usize,
    /// Laid out as complete (pretty or with its note) rather than raw and open.
    complete: bool,
    /// Backticks of the open call's fence.
    fence: usize,
}

/// The tool-call section of a pane body.
pub struct ToolCallBlocks {
    doc: Doc,
    shown: Vec<Shown>,
}

impl Default for ToolCallBlocks {
    fn default() -> Self {
        Self {
            doc: Doc::new(true),
            shown: Vec::new(),
        }
    }
}

impl ToolCallBlocks {
    /// Bring the document up to date with `calls`. `ended`: the stream finished, so every
    /// call is complete; before that, all but the last are (the next one started).
    pub fn sync(&mut self, calls: &[ToolCall], ended: bool) {
        let complete = |i: usize| ended || i + 1 < calls.len();
        let wanted: Vec<Shown> = calls
            .iter()
            .enumerate()
            .map(|(i, c)| Shown {
                name: c.name.clone(),
                id: c.id.clone(),
                arguments: c.arguments.len(),
                complete: complete(i),
                fence: fence_len(&c.arguments),
            })
            .collect();
        if wanted == self.shown {
            return;
        }
        // The common case while streaming: only the open last call's arguments grew, in
        // a fence still long enough for them.
        if let (Some((last, before)), Some(old)) = (wanted.split_last(), self.shown.last())
            && before == &self.shown[..self.shown.len() - 1]
            && !last.complete
            && !old.complete
            && (&last.name, &last.id) == (&old.name, &old.id)
            && last.arguments > old.arguments
            && last.fence <= old.fence
            && let Some(added) = calls.last().and_then(|c| c.arguments.get(old.arguments..))
        {
            self.doc.push_str(added);
            if let Some(s) = self.shown.last_mut() {
                s.arguments = last.arguments;
            }
            return;
        }
        self.doc.clear();
        let mut text = String::new();
        for (call, shown) in calls.iter().zip(&wanted) {
            block(&mut text, call, shown.complete, shown.fence);
        }
        self.doc.push_str(&text);
        self.shown = wanted;
    }

    /// Lay out what changed for `width`, until `deadline`; whether everything is.
    pub fn prepare_until(&mut self, width: u16, styles: &DocStyles, deadline: Option<Instant>) -> bool {
        self.doc.prepare_until(width, styles, deadline)
    }

    /// Rows at the last prepared width.
    pub fn line_count(&self) -> usize {
        self.doc.line_count()
    }

    /// The rows in `range`.
    pub fn lines(&self, range: Range<usize>) -> &[Line<'static>] {
        self.doc.lines(range)
    }

    /// The markdown the blocks are rendered from.
    pub fn text(&self) -> &str {
        self.doc.text()
    }
}

/// A fence longer than any run of backticks in `arguments`, so nothing in them closes it.
fn fence_len(arguments: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for b in arguments.bytes() {
        run = if b == b'`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    (longest + 1).max(3)
}

/// `s` with markdown's punctuation escaped, so a name shows as it was sent.
fn escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Append one call's block to `out`. An open call's fence is left open: the arguments
/// appended later continue it.
fn block(out: &mut String, call: &ToolCall, complete: bool, fence: usize) {
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    let name = call.name.as_deref().map_or("(no name yet)".to_string(), escaped);
    out.push_str(&format!("⚙ **{name}**"));
    if let Some(id) = &call.id {
        out.push_str(&format!(" · {}", escaped(id)));
    }
    out.push('\n');
    let ticks = "`".repeat(fence);
    if !complete {
        out.push_str(&format!("{ticks}json\n{}", call.arguments));
        return;
    }
    if call.arguments.trim().is_empty() {
        out.push_str("\n*no arguments*\n");
        return;
    }
    match serde_json::from_str::<serde_json::Value>(&call.arguments) {
        Ok(v) => {
            let pretty = serde_json::to_string_pretty(&v).unwrap_or_else(|_| call.arguments.clone());
            // The closing fence ends its line, or it would read as code still streaming.
            out.push_str(&format!("{ticks}json\n{pretty}\n{ticks}\n"));
        }
        Err(e) => {
            out.push_str(&format!(
                "{ticks}\n{}\n{ticks}\n\nⓘ the arguments are not valid JSON ({e}): shown as sent\n",
                call.arguments
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn call(name: &str, arguments: &str) -> ToolCall {
        ToolCall {
            id: Some(format!("call_{name}")),
            name: Some(name.into()),
            arguments: arguments.into(),
        }
    }

    fn rows(b: &mut ToolCallBlocks, width: u16) -> Vec<String> {
        b.prepare_until(width, &DocStyles::plain(), None);
        b.lines(0..b.line_count())
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect::<String>())
            .map(|s| s.trim_end().to_string())
            .collect()
    }

    #[test]
    fn a_streaming_call_grows_raw_then_turns_pretty_when_the_stream_ends() {
        let mut b = ToolCallBlocks::default();
        b.sync(&[call("get_weather", r#"{"city":"Pa"#)], false);
        let open = rows(&mut b, 40);
        assert_eq!(open[0], "⚙ get_weather · call_get_weather", "{open:?}");
        assert!(open.iter().any(|l| l.contains(r#"{"city":"Pa"#)), "{open:?}");
        b.sync(&[call("get_weather", r#"{"city":"Paris","unit":"c"}"#)], false);
        let grown = rows(&mut b, 40);
        assert!(
            grown.iter().any(|l| l.contains(r#"{"city":"Paris","unit":"c"}"#)),
            "raw while streaming: {grown:?}"
        );
        b.sync(&[call("get_weather", r#"{"city":"Paris","unit":"c"}"#)], true);
        let done = rows(&mut b, 40);
        assert!(done.iter().any(|l| l.trim() == r#""city": "Paris","#), "{done:?}");
        assert!(done.iter().any(|l| l.trim() == r#""unit": "c""#), "{done:?}");
    }

    #[test]
    fn growing_arguments_are_appended_not_rebuilt() {
        let mut b = ToolCallBlocks::default();
        b.sync(&[call("f", r#"{"a":"#)], false);
        rows(&mut b, 40);
        let text = b.text().to_string();
        b.sync(&[call("f", r#"{"a":1"#)], false);
        assert_eq!(b.text(), format!("{text}1"), "only the new bytes are added");
    }

    #[test]
    fn the_next_call_starting_completes_the_one_before_and_keeps_them_apart() {
        let mut b = ToolCallBlocks::default();
        b.sync(
            &[
                call("get_weather", r#"{"city":"Paris"}"#),
                call("get_time", r#"{"tz":"#),
            ],
            false,
        );
        let r = rows(&mut b, 40);
        let first = r.iter().position(|l| l.starts_with("⚙ get_weather")).unwrap();
        let second = r.iter().position(|l| l.starts_with("⚙ get_time")).unwrap();
        assert!(first < second, "{r:?}");
        assert!(
            r[first..second].iter().any(|l| l.trim() == r#""city": "Paris""#),
            "the first call is pretty inside its own block: {r:?}"
        );
        assert!(
            r[second..].iter().any(|l| l.contains(r#"{"tz":"#)),
            "the second still raw: {r:?}"
        );
    }

    #[test]
    fn invalid_arguments_stay_raw_with_a_note() {
        let mut b = ToolCallBlocks::default();
        b.sync(&[call("f", r#"{"a": 1,"#)], true);
        let r = rows(&mut b, 60);
        assert!(r.iter().any(|l| l.contains(r#"{"a": 1,"#)), "{r:?}");
        assert!(
            r.iter().any(|l| l.contains("not valid JSON")),
            "a note says why it is raw: {r:?}"
        );
    }

    #[test]
    fn backticks_in_arguments_do_not_close_the_block_and_names_show_as_sent() {
        let mut b = ToolCallBlocks::default();
        let args = "{\"code\":\"```\\n`x`\"}";
        b.sync(&[call("run_*code*", args)], false);
        b.sync(&[call("run_*code*", &format!("{args} ````"))], true);
        let r = rows(&mut b, 80);
        assert_eq!(r[0], "⚙ run_*code* · call_run_*code*", "{r:?}");
        assert!(r.iter().any(|l| l.contains("````")), "{r:?}");
        assert!(r.iter().any(|l| l.contains("not valid JSON")), "{r:?}");
    }

    #[test]
    fn long_arguments_wrap_to_the_width() {
        let mut b = ToolCallBlocks::default();
        let long = format!(r#"{{"text":"{}"}}"#, "word ".repeat(40));
        b.sync(&[call("f", &long)], false);
        let r = rows(&mut b, 30);
        assert!(r.len() > 5, "{r:?}");
        assert!(
            r.iter()
                .all(|l| unicode_width::UnicodeWidthStr::width(l.as_str()) <= 30)
        );
    }
}

#[cfg(test)]
mod pane_tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Instant;

    use crate::provider::event::{Finish, FinishReason, StreamEvent, ToolCallDelta};
    use crate::tui::model::pane::{BodyLooks, PaneState};
    use crate::tui::render::DocStyles;

    fn delta(index: usize, name: Option<&str>, arguments: &str) -> StreamEvent {
        StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
            index,
            id: name.map(|n| format!("call_{n}")),
            name: name.map(str::to_string),
            arguments: arguments.into(),
        }))
    }

    fn body(p: &mut PaneState) -> Vec<String> {
        p.prepare(40, &DocStyles::plain());
        p.rows(0..p.body_len(), &BodyLooks::default())
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect::<String>())
            .collect()
    }

    #[test]
    fn parallel_calls_stream_into_the_pane_after_the_answer() {
        let mut p = PaneState::default();
        let now = Instant::now();
        p.apply(now, &StreamEvent::TextDelta("Checking both.".into()));
        p.apply(now, &delta(0, Some("get_weather"), ""));
        p.apply(now, &delta(0, None, r#"{"city":"#));
        let streaming = body(&mut p);
        assert_eq!(streaming[0].trim_end(), "Checking both.");
        assert!(streaming.iter().any(|l| l.starts_with("⚙ get_weather")));
        assert!(
            streaming.iter().any(|l| l.contains(r#"{"city":"#)),
            "{streaming:?}"
        );
        p.apply(now, &delta(0, None, r#""Paris"}"#));
        p.apply(now, &delta(1, Some("get_time"), r#"{"tz":"CET"}"#));
        p.apply(
            now,
            &StreamEvent::Finish(Finish {
                reason: FinishReason::ToolCalls,
                raw: Some("tool_calls".into()),
            }),
        );
        let done = body(&mut p);
        let weather = done.iter().position(|l| l.starts_with("⚙ get_weather")).unwrap();
        let time = done.iter().position(|l| l.starts_with("⚙ get_time")).unwrap();
        assert!(
            done[weather..time]
                .iter()
                .any(|l| l.trim_end() == r#"  "city": "Paris""#),
            "{done:?}"
        );
        assert!(
            done[time..].iter().any(|l| l.trim_end() == r#"  "tz": "CET""#),
            "{done:?}"
        );
        assert!(
            !done.iter().any(|l| l.contains("```")),
            "closing fences are never shown: {done:?}"
        );
        assert_eq!(
            p.tail_start(),
            1,
            "the calls are after the answer, masked with the tail"
        );
        // Only the visible slice is built, wherever it falls.
        let slice = p.rows(time..time + 1, &BodyLooks::default());
        assert_eq!(slice.len(), 1);
    }
}
