//! The greedy row filler behind [`super::wrap`]: places words (or, for code, runs of
//! characters) on rows, breaking where the next piece no longer fits.

use ratatui::text::{Line, Span};

use super::super::cells::{self, Runs};
use super::{Fit, Logical, Resume};

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

pub(super) struct Rows<'a> {
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
    pub(super) fn new(
        line: &'a Logical,
        width: usize,
        from: Resume,
        out: &'a mut Vec<Line<'static>>,
    ) -> Self {
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

    pub(super) fn run(&mut self, span: usize, byte: usize) {
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

    pub(super) fn fill(&mut self) {
        // The last span repeats to the edge; any before it (a label) are written once,
        // cut where the row ends.
        let Some((unit, head)) = self.line.body.split_last() else {
            return;
        };
        for span in head {
            let mut kept = String::new();
            for c in span.content.chars() {
                let w = cells::width(c.encode_utf8(&mut [0; 4]));
                if self.used + w > self.avail {
                    break;
                }
                kept.push(c);
                self.used += w;
            }
            self.spans.push(Span::styled(kept, span.style));
        }
        let unit_width = cells::width(&unit.content);
        if let Some(n) = self.avail.saturating_sub(self.used).checked_div(unit_width) {
            self.spans.push(Span::styled(unit.content.repeat(n), unit.style));
        }
    }

    pub(super) fn finish(mut self) -> Resume {
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
