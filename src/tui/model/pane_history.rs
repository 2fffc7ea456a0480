//! A pane's history, the part of a pane above its answer: what its target was asked this
//! turn, and the earlier exchanges the request carried.
//!
//! Everything here comes from the request the target was actually sent, so a pane never
//! shows a turn its target did not see. The earlier exchanges are collapsed to one line by
//! default; their documents are built the first time they are shown, are static from
//! then on, and only re-wrap when the width changes. The streamed answer is a separate
//! document, so nothing here is redone while it grows.

use std::ops::Range;

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

use crate::provider::request::{ChatRequest, Role};
use crate::tui::render::{Doc, DocStyles};

/// What starts the line of each prompt.
const YOU: &str = "you: ";

/// How the lines drawn here look (the earlier answers bring their own markdown styles).
#[derive(Debug, Clone, Default)]
pub struct Looks {
    /// The `you:` label.
    pub label: Style,
    /// The prompt's text.
    pub prompt: Style,
    /// The earlier turns' summary line.
    pub summary: Style,
    /// The key that shows and hides the earlier turns, for the summary line.
    pub key: Option<String>,
}

/// A pane's prompt and earlier turns.
#[derive(Default)]
pub struct PaneHistory {
    prompt: String,
    /// Earlier (prompt, answer) pairs, oldest first.
    earlier: Vec<(String, String)>,
    open: bool,
    /// Prompt and answer documents, alternating; only as many as were ever shown.
    docs: Vec<Doc>,
    /// First row of each document at the prepared width, then the total.
    starts: Vec<usize>,
    /// Width and styles `starts` is valid for.
    prepared: Option<(u16, DocStyles)>,
    /// Body width at the last prepare, for cutting the prompt line.
    width: Option<u16>,
}

impl PaneHistory {
    /// Show what `request` asked: its last user message is this turn's prompt, the
    /// user/assistant pairs before it the earlier turns. Documents of the turns that
    /// stayed the same are kept.
    pub fn show(&mut self, request: &ChatRequest) {
        let (earlier, prompt) = split(request);
        let same = self
            .earlier
            .iter()
            .zip(&earlier)
            .take_while(|(a, b)| a == b)
            .count();
        self.docs.truncate(2 * same);
        self.earlier = earlier;
        self.prompt = prompt;
        self.starts.clear();
        self.prepared = None;
    }

    /// This turn's prompt; empty before anything was sent.
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// How many earlier turns the request carried.
    pub fn earlier(&self) -> usize {
        self.earlier.len()
    }

    /// Whether the earlier turns are shown in full.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Show or hide the earlier turns.
    pub fn set_open(&mut self, open: bool) {
        self.open = open;
    }

    /// Build and wrap the earlier turns for `width`, if they are shown and not up to date.
    pub fn prepare(&mut self, width: u16, styles: &DocStyles) {
        self.width = Some(width);
        if !self.open || self.earlier.is_empty() {
            return;
        }
        let built = self.docs.len() == 2 * self.earlier.len();
        if built
            && self
                .prepared
                .as_ref()
                .is_some_and(|(w, s)| *w == width && s == styles)
        {
            return;
        }
        for (prompt, answer) in self.earlier.iter().skip(self.docs.len() / 2) {
            let mut p = Doc::new(false);
            p.push_str(YOU);
            p.push_str(prompt.trim_end());
            let mut a = Doc::new(true);
            a.push_str(answer);
            self.docs.extend([p, a]);
        }
        self.starts.clear();
        let mut row = 0;
        for (k, doc) in self.docs.iter_mut().enumerate() {
            doc.prepare(width, styles);
            self.starts.push(row);
            // A blank row after each answer sets the turns apart.
            row += doc.line_count() + k % 2;
        }
        self.starts.push(row);
        self.prepared = Some((width, styles.clone()));
    }

    /// Rows of the earlier turns when shown, as of the last prepare.
    fn open_rows(&self) -> usize {
        if self.open {
            self.starts.last().copied().unwrap_or(0)
        } else {
            0
        }
    }

    /// Rows above the reasoning: the summary line and the earlier turns (when any), and
    /// the prompt line (once something was sent).
    pub fn line_count(&self) -> usize {
        let summary = usize::from(!self.earlier.is_empty());
        summary + self.open_rows() + usize::from(!self.prompt.is_empty())
    }

    /// Rows in `range` (clamped to [`Self::line_count`]).
    pub fn lines(&self, range: Range<usize>, looks: &Looks) -> Vec<Line<'static>> {
        let summary = usize::from(!self.earlier.is_empty());
        let open = self.open_rows();
        let end = range.end.min(self.line_count());
        let mut out = Vec::with_capacity(end.saturating_sub(range.start));
        for row in range.start..end {
            if row < summary {
                out.push(self.summary(looks));
            } else if row < summary + open {
                out.push(self.earlier_row(row - summary, looks));
            } else {
                out.push(self.prompt_line(looks));
            }
        }
        out
    }

    fn summary(&self, looks: &Looks) -> Line<'static> {
        let n = self.earlier.len();
        let (arrow, verb) = if self.open {
            ("▾", "hides")
        } else {
            ("▸", "shows")
        };
        let turns = if n == 1 { "turn" } else { "turns" };
        let hint = looks
            .key
            .as_ref()
            .map_or(String::new(), |k| format!(" ({k} {verb} them)"));
        Line::from(Span::styled(
            format!("{arrow} {n} earlier {turns}{hint}"),
            looks.summary,
        ))
    }

    /// Row `row` of the expanded earlier turns.
    fn earlier_row(&self, row: usize, looks: &Looks) -> Line<'static> {
        let k = self.starts.partition_point(|s| *s <= row).saturating_sub(1);
        let Some(doc) = self.docs.get(k) else {
            return Line::default();
        };
        let at = row - self.starts[k];
        let Some(line) = doc.lines(at..at + 1).first() else {
            // The blank row after an answer.
            return Line::default();
        };
        if k % 2 == 1 {
            return line.clone();
        }
        let mut spans: Vec<Span<'static>> = line
            .spans
            .iter()
            .map(|s| Span::styled(s.content.clone(), s.style.patch(looks.prompt)))
            .collect();
        if at == 0
            && let Some(first) = spans.first_mut()
            && let Some(rest) = first.content.strip_prefix(YOU)
        {
            let rest = Span::styled(rest.to_string(), first.style);
            *first = Span::styled(YOU, first.style.patch(looks.label));
            spans.insert(1, rest);
        }
        Line::from(spans)
    }

    /// `you: ` and the prompt's first line, cut to the width with `…` when it is longer
    /// or has more lines.
    fn prompt_line(&self, looks: &Looks) -> Line<'static> {
        let mut lines = self.prompt.lines();
        let first: Vec<(char, usize)> = lines
            .next()
            .unwrap_or_default()
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .map(|c| (c, c.width().unwrap_or(0)))
            .collect();
        let more = lines.any(|l| !l.trim().is_empty());
        let room = self
            .width
            .map_or(usize::MAX, |w| usize::from(w).saturating_sub(YOU.len()));
        let text: String = if !more && first.iter().map(|(_, w)| w).sum::<usize>() <= room {
            first.iter().map(|(c, _)| c).collect()
        } else {
            let mut used = 0;
            let mut text: String = first
                .iter()
                .take_while(|(_, w)| {
                    used += w;
                    // One column stays free for the ellipsis.
                    used < room
                })
                .map(|(c, _)| c)
                .collect();
            text.push('…');
            text
        };
        Line::from(vec![
            Span::styled(YOU, looks.label),
            Span::styled(text, looks.prompt),
        ])
    }
}

/// A request's earlier (prompt, answer) pairs and its last prompt.
fn split(request: &ChatRequest) -> (Vec<(String, String)>, String) {
    let mut messages = request.messages.as_slice();
    let mut prompt = String::new();
    if let Some((last, before)) = messages.split_last()
        && last.role == Role::User
    {
        prompt.clone_from(&last.content);
        messages = before;
    }
    let earlier = messages
        .windows(2)
        .filter(|w| w[0].role == Role::User && w[1].role == Role::Assistant)
        .map(|w| (w[0].content.clone(), w[1].content.clone()))
        .collect();
    (earlier, prompt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::request::Message;

    fn request(messages: &[&str]) -> ChatRequest {
        let messages = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                if i % 2 == 0 {
                    Message::user(*m)
                } else {
                    Message::assistant(*m)
                }
            })
            .collect();
        ChatRequest {
            system: None,
            messages,
            schema: None,
        }
    }

    fn text(lines: &[Line<'static>]) -> Vec<String> {
        lines.iter().map(ToString::to_string).collect()
    }

    fn looks() -> Looks {
        Looks {
            key: Some("h".into()),
            ..Looks::default()
        }
    }

    #[test]
    fn collapsed_then_open() {
        let mut t = PaneHistory::default();
        t.show(&request(&["q1", "**A1**", "q2", "A2", "q3\nmore"]));
        t.prepare(40, &DocStyles::plain());
        assert_eq!(
            text(&t.lines(0..10, &looks())),
            ["▸ 2 earlier turns (h shows them)", "you: q3…"]
        );
        t.set_open(true);
        t.prepare(40, &DocStyles::plain());
        assert_eq!(
            text(&t.lines(0..20, &looks())),
            [
                "▾ 2 earlier turns (h hides them)",
                "you: q1",
                "A1",
                "",
                "you: q2",
                "A2",
                "",
                "you: q3…"
            ]
        );
        assert_eq!(t.line_count(), 8);
        assert_eq!(text(&t.lines(2..3, &looks())), ["A1"], "a slice");
    }

    #[test]
    fn one_turn_is_singular_and_a_first_turn_has_no_summary() {
        let mut t = PaneHistory::default();
        assert_eq!(t.line_count(), 0, "nothing sent");
        t.show(&request(&["q1"]));
        assert_eq!(text(&t.lines(0..5, &looks())), ["you: q1"]);
        t.show(&request(&["q1", "A1", "q2"]));
        assert_eq!(
            text(&t.lines(0..1, &Looks::default())),
            ["▸ 1 earlier turn"],
            "no key, no hint"
        );
    }

    #[test]
    fn a_long_prompt_is_cut_to_the_width() {
        let mut t = PaneHistory::default();
        t.show(&request(&["abcdefghijklmnopqrstuvwxyz"]));
        t.prepare(12, &DocStyles::plain());
        let line = text(&t.lines(0..1, &looks())).remove(0);
        assert_eq!(line, "you: abcdef…");
        t.prepare(40, &DocStyles::plain());
        let line = text(&t.lines(0..1, &looks())).remove(0);
        assert_eq!(line, "you: abcdefghijklmnopqrstuvwxyz");
    }

    #[test]
    fn a_new_turn_keeps_the_documents_of_the_turns_before() {
        let mut t = PaneHistory::default();
        t.set_open(true);
        t.show(&request(&["q1", "A1", "q2"]));
        t.prepare(40, &DocStyles::plain());
        let work = t.docs[1].work_counter();
        t.show(&request(&["q1", "A1", "q2", "A2", "q3"]));
        assert_eq!(t.docs.len(), 2, "turn 1 kept");
        t.prepare(40, &DocStyles::plain());
        assert_eq!(t.docs.len(), 4);
        assert_eq!(t.docs[1].work_counter(), work, "turn 1 not rendered again");
        t.show(&request(&["q1", "other", "q2"]));
        assert!(t.docs.is_empty(), "a different history starts over");
    }
}
