//! Logical lines and their wrapping into terminal rows.
//!
//! A [`Logical`] line is width-independent: styled body spans plus the prefixes that
//! lists and quotes put in front of its first and later rows. Parsing and highlighting
//! produce logical lines once; a width change only runs [`wrap`] again.
//!
//! Wrapping is greedy, so a row's extent depends only on text from its own start. That
//! is what lets a streamed line grow without re-wrapping it: [`wrap_from`] resumes at
//! the start of the last row (see [`Resume`]) and redoes only that row and what follows.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::cells::{self, Runs};

/// How a logical line's body is fitted to the width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fit {
    /// Break at spaces (and around wide characters); over-long words are split.
    Words,
    /// Break anywhere, keep every space: code and tables.
    Chars,
    /// One row repeating the body across the available width: rules.
    Fill,
}

/// One width-independent line of output.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Logical {
    /// Printed before the first row (a bullet, quote bars, indentation).
    pub lead: Vec<Span<'static>>,
    /// Printed before every later row (usually blanks as wide as `lead`).
    pub cont: Vec<Span<'static>>,
    pub body: Vec<Span<'static>>,
    pub fit: Fit,
    /// Style of the whole row (a code block's background).
    pub style: Style,
}

impl Logical {
    pub(crate) fn new(body: Vec<Span<'static>>, fit: Fit) -> Self {
        Self {
            lead: Vec::new(),
            cont: Vec::new(),
            body,
            fit,
            style: Style::new(),
        }
    }

    pub(crate) fn blank() -> Self {
        Self::new(Vec::new(), Fit::Words)
    }
}

/// Where the last row of a wrapped logical line starts, so an append to the line can
/// re-wrap from there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resume {
    /// Index of that row in the output.
    pub row: usize,
    span: usize,
    byte: usize,
    first: bool,
}

/// Wraps `line` to `width` columns, appending rows to `out`.
pub(crate) fn wrap(line: &Logical, width: u16, out: &mut Vec<Line<'static>>) -> Resume {
    let from = Resume {
        row: out.len(),
        span: 0,
        byte: 0,
        first: true,
    };
    wrap_from(line, width, from, out)
}

/// Re-wraps `line` from `from`, which an earlier wrap of a prefix of this line returned.
/// Rows from `from.row` on are replaced.
pub(crate) fn wrap_from(line: &Logical, width: u16, from: Resume, out: &mut Vec<Line<'static>>) -> Resume {
    out.truncate(from.row);
    let mut rows = Rows::new(line, usize::from(width.max(1)), from, out);
    if line.fit == Fit::Fill {
        rows.fill();
    } else {
        rows.run(from.span, from.byte);
    }
    rows.finish()
}

/// A run of clusters from one body span: `start..end` bytes, `width` columns.
#[derive(Clone, Copy)]
struct Seg {
    span: usize,
    start: usize,
    end: usize,
    width: usize,
    /// Printable ASCII only: bytes are columns.
    ascii: bool,
}

impl Seg {
    fn split_at(self, columns: usize) -> (Seg, Seg) {
        let mid = self.start + columns;
        let head = Seg {
            end: mid,
            width: columns,
            ..self
        };
        let tail = Seg {
            start: mid,
            width: self.width - columns,
            ..self
        };
        (head, tail)
    }
}

/// Appends `seg` to `run`, merging it into the last piece when contiguous.
fn extend(run: &mut Vec<Seg>, seg: Seg) {
    match run.last_mut() {
        Some(last) if last.span == seg.span && last.end == seg.start => {
            last.end = seg.end;
            last.width += seg.width;
            last.ascii &= seg.ascii;
        }
        _ => run.push(seg),
    }
}

fn run_width(run: &[Seg]) -> usize {
    run.iter().map(|s| s.width).sum()
}

struct Rows<'a> {
    line: &'a Logical,
    width: usize,
    out: &'a mut Vec<Line<'static>>,
    spans: Vec<Span<'static>>,
    /// The body span the last pushed piece came from, to extend it instead of adding.
    last: Option<(usize, usize)>,
    used: usize,
    avail: usize,
    first: bool,
    start: (usize, usize),
    /// Spaces seen since the last word, placed only if a word follows on this row.
    spaces: Vec<Seg>,
    word: Vec<Seg>,
}

impl<'a> Rows<'a> {
    fn new(line: &'a Logical, width: usize, from: Resume, out: &'a mut Vec<Line<'static>>) -> Self {
        let mut rows = Self {
            line,
            width,
            out,
            spans: Vec::new(),
            last: None,
            used: 0,
            avail: width,
            first: from.first,
            start: (from.span, from.byte),
            spaces: Vec::new(),
            word: Vec::new(),
        };
        rows.open_row();
        rows
    }

    fn open_row(&mut self) {
        let prefix = if self.first {
            &self.line.lead
        } else {
            &self.line.cont
        };
        let pw: usize = prefix.iter().map(|s| cells::width(&s.content)).sum();
        // A prefix that leaves no room (deep nesting in a narrow pane) is dropped rather
        // than letting content vanish.
        if pw < self.width {
            self.spans.extend(prefix.iter().cloned());
            self.avail = self.width - pw;
        } else {
            self.avail = self.width;
        }
        self.used = 0;
        self.last = None;
    }

    fn new_row(&mut self, at: Seg) {
        let spans = std::mem::take(&mut self.spans);
        self.out.push(Line::from(spans).style(self.line.style));
        self.first = false;
        self.start = (at.span, at.start);
        self.spaces.clear();
        self.open_row();
    }

    fn run(&mut self, span: usize, byte: usize) {
        let line = self.line;
        let runs = if line.fit == Fit::Chars {
            Runs::All
        } else {
            Runs::Words
        };
        for (i, s) in line.body.iter().enumerate().skip(span) {
            let offset = if i == span { byte } else { 0 };
            let text = s.content.get(offset..).unwrap_or("");
            for c in cells::pieces(text, runs) {
                let seg = Seg {
                    span: i,
                    start: c.start + offset,
                    end: c.end + offset,
                    width: c.width,
                    ascii: c.ascii,
                };
                self.cluster(seg, c.space);
            }
        }
        self.place_word();
    }

    fn cluster(&mut self, seg: Seg, space: bool) {
        if self.line.fit == Fit::Chars {
            self.place_hard(seg);
        } else if space {
            self.place_word();
            if self.used > 0 || self.first {
                extend(&mut self.spaces, seg);
            }
        } else if seg.width >= 2 && !seg.ascii {
            // Wide characters (CJK) are break opportunities on both sides.
            self.place_word();
            self.word.push(seg);
            self.place_word();
        } else {
            extend(&mut self.word, seg);
        }
    }

    fn place_word(&mut self) {
        if self.word.is_empty() {
            return;
        }
        let word = std::mem::take(&mut self.word);
        let ww = run_width(&word);
        let sw = run_width(&self.spaces);
        if self.used + sw + ww <= self.avail {
            self.flush_spaces(usize::MAX);
            word.iter().for_each(|&seg| self.push(seg));
        } else if self.used > 0 {
            self.new_row(word[0]);
            if ww <= self.avail {
                word.iter().for_each(|&seg| self.push(seg));
            } else {
                self.split(&word);
            }
        } else {
            // Leading indentation on the first row: keep what fits, then split the word.
            self.flush_spaces(self.avail.saturating_sub(1));
            self.split(&word);
        }
        // Hand the allocation back for the next word.
        self.word = word;
        self.word.clear();
    }

    /// Places up to `max` columns of the pending spaces; drops the rest.
    fn flush_spaces(&mut self, max: usize) {
        let mut spaces = std::mem::take(&mut self.spaces);
        let mut room = max;
        for seg in &spaces {
            // Spaces are one byte and one column each.
            let take = seg.width.min(room);
            if take > 0 {
                self.push(Seg {
                    end: seg.start + take,
                    width: take,
                    ..*seg
                });
            }
            room -= take;
        }
        spaces.clear();
        self.spaces = spaces;
    }

    /// Places a word that does not fit a row, piece by piece.
    fn split(&mut self, word: &[Seg]) {
        let line = self.line;
        for seg in word {
            let text = &line.body[seg.span].content[seg.start..seg.end];
            for c in cells::pieces(text, Runs::Words) {
                self.place_hard(Seg {
                    span: seg.span,
                    start: seg.start + c.start,
                    end: seg.start + c.end,
                    width: c.width,
                    ascii: c.ascii,
                });
            }
        }
    }

    /// Places `seg`, starting a new row if it does not fit; an ASCII run is split to
    /// fill rows exactly as placing it byte by byte would.
    fn place_hard(&mut self, mut seg: Seg) {
        loop {
            let room = self.avail.saturating_sub(self.used);
            if seg.width <= room {
                self.push(seg);
                return;
            }
            if seg.ascii && room > 0 {
                let (head, tail) = seg.split_at(room);
                self.push(head);
                seg = tail;
            }
            if self.used > 0 {
                self.new_row(seg);
            } else {
                // A single wide cluster wider than an empty row.
                self.push(seg);
                return;
            }
        }
    }

    fn push(&mut self, seg: Seg) {
        let span = &self.line.body[seg.span];
        if seg.width > self.avail {
            // Only a single wide cluster at a width of one column gets here: show that
            // something is there.
            self.spans.push(Span::styled("\u{FFFD}", span.style));
            self.last = None;
            self.used += 1;
            return;
        }
        let text = &span.content[seg.start..seg.end];
        match (self.last, self.spans.last_mut()) {
            (Some((i, end)), Some(prev)) if i == seg.span && end == seg.start => {
                prev.content.to_mut().push_str(text);
            }
            _ => self.spans.push(Span::styled(text.to_string(), span.style)),
        }
        self.last = Some((seg.span, seg.end));
        self.used += seg.width;
    }

    fn fill(&mut self) {
        let unit = self.line.body.first();
        let unit_text = unit.map(|s| s.content.as_ref()).unwrap_or("");
        let unit_width = cells::width(unit_text);
        if let (Some(unit), true) = (unit, unit_width > 0) {
            let n = self.avail / unit_width;
            self.spans.push(Span::styled(unit_text.repeat(n), unit.style));
        }
    }

    fn finish(mut self) -> Resume {
        let resume = Resume {
            row: self.out.len(),
            span: self.start.0,
            byte: self.start.1,
            first: self.first,
        };
        let spans = std::mem::take(&mut self.spans);
        self.out.push(Line::from(spans).style(self.line.style));
        resume
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(rows: &[Line<'static>]) -> Vec<String> {
        rows.iter().map(|l| l.to_string()).collect()
    }

    fn words(s: &str) -> Logical {
        Logical::new(vec![Span::raw(s.to_string())], Fit::Words)
    }

    #[test]
    fn breaks_at_spaces_and_splits_long_words() {
        let mut out = Vec::new();
        wrap(&words("the quick brown fox abcdefghijkl"), 10, &mut out);
        assert_eq!(texts(&out), ["the quick", "brown fox", "abcdefghij", "kl"]);
    }

    #[test]
    fn continuation_rows_get_the_hanging_indent() {
        let mut l = words("alpha beta gamma");
        l.lead = vec![Span::raw("• ")];
        l.cont = vec![Span::raw("  ")];
        let mut out = Vec::new();
        wrap(&l, 8, &mut out);
        assert_eq!(texts(&out), ["• alpha", "  beta", "  gamma"]);
    }

    #[test]
    fn code_keeps_spaces_and_hard_wraps() {
        let l = Logical::new(vec![Span::raw("    let x =  1;")], Fit::Chars);
        let mut out = Vec::new();
        wrap(&l, 6, &mut out);
        assert_eq!(texts(&out), ["    le", "t x = ", " 1;"]);
    }

    #[test]
    fn wide_characters_never_overflow() {
        let mut out = Vec::new();
        wrap(&words("漢字かな交じり文 emoji 👍🏻👍 ok"), 5, &mut out);
        for row in &out {
            assert!(row.width() <= 5, "{row:?}");
        }
        assert_eq!(
            texts(&out).concat().replace(' ', ""),
            "漢字かな交じり文emoji👍🏻👍ok"
        );
        let mut narrow = Vec::new();
        wrap(&words("漢字"), 1, &mut narrow);
        assert!(narrow.iter().all(|r| r.width() <= 1));
    }

    #[test]
    fn resuming_equals_wrapping_whole() {
        let full = "one two three fourfivesixseveneight nine  ten eleven";
        for cut in 0..=full.len() {
            let mut out = Vec::new();
            let r = wrap(&words(&full[..cut]), 7, &mut out);
            wrap_from(&words(full), 7, r, &mut out);
            let mut fresh = Vec::new();
            wrap(&words(full), 7, &mut fresh);
            assert_eq!(out, fresh, "cut at {cut}");
        }
    }

    #[test]
    fn fill_spans_the_available_width() {
        let mut l = Logical::new(vec![Span::raw("─")], Fit::Fill);
        l.lead = vec![Span::raw("│ ")];
        let mut out = Vec::new();
        wrap(&l, 10, &mut out);
        assert_eq!(texts(&out), ["│ ────────"]);
    }
}
