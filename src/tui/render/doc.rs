//! [`Doc`]: a streamed document kept as wrapped, styled rows, updated incrementally.
//!
//! Three layers, each cached: the raw text; width-independent logical lines (parsed and
//! highlighted once, when the scanner reports their source final); and the wrapped rows
//! of the current width, one contiguous vector plus the first row of every logical line.
//! An update drops only the rows of the open tail, so its cost follows the text appended
//! and the size of the open tail, never the document. A width change re-wraps logical
//! lines without parsing; a styles change starts over.
//!
//! The unfinished last line of plain text, and of an over-long code line, is extended in
//! place rather than re-rendered: its rows are re-wrapped from the start of its last row,
//! which keeps a megabyte-long line linear.
//!
//! Layout can stop at a deadline between final units ([`Doc::prepare_until`]); the rows
//! then end at the last unit laid out, and the next call carries on from there.

use std::ops::Range;
use std::time::Instant;

use ratatui::text::{Line, Span};

use super::cells::push_sanitized;
use super::code;
use super::highlight::MAX_LINE;
use super::markdown;
use super::scan::{Scanner, Step, Tail};
use super::styles::DocStyles;
use super::wrap::{self, Fit, Logical, Resume};

/// Bytes of text laid out between two looks at the clock under a deadline. A unit of
/// highlighted code costs on the order of a microsecond per byte, so this keeps the
/// overshoot past a deadline to a fraction of a millisecond while reading the clock
/// rarely enough to cost nothing measurable.
const WORK_PER_CLOCK_READ: u64 = 64;

/// One incrementally rendered document: a pane's answer (markdown) or its reasoning
/// (plain text).
pub struct Doc {
    markdown: bool,
    text: String,
    dirty: bool,
    work: u64,
    view: Option<View>,
}

/// Everything derived from the text for one set of styles.
struct View {
    styles: DocStyles,
    width: u16,
    logical: Vec<Logical>,
    /// First row of each logical line.
    starts: Vec<usize>,
    rows: Vec<Line<'static>>,
    /// Where the last logical line's last row starts.
    resume: Option<Resume>,
    /// Logical lines whose source is final; the rest belong to the open tail.
    finals: usize,
    /// The last logical line is an unfinished line being extended in place: it starts
    /// at this byte of the text and has consumed the text up to `.1`.
    open: Option<(usize, usize)>,
    scanner: Scanner,
    after_list: bool,
}

impl Doc {
    /// `markdown == false`: plain text, still word-wrapped.
    pub fn new(markdown: bool) -> Self {
        Self {
            markdown,
            text: String::new(),
            dirty: false,
            work: 0,
            view: None,
        }
    }

    /// Appends a streamed delta. O(len(s)); rendering waits for [`Self::prepare`].
    pub fn push_str(&mut self, s: &str) {
        if !s.is_empty() {
            self.text.push_str(s);
            self.dirty = true;
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.view = None;
        self.dirty = false;
    }

    /// Brings the wrapped rows up to date for `width` columns and `styles`.
    pub fn prepare(&mut self, width: u16, styles: &DocStyles) {
        self.prepare_until(width, styles, None);
    }

    /// Like [`Self::prepare`], but new text is laid out only until `deadline`; the rest
    /// waits for a later call. Returns whether everything is laid out. A width change
    /// is applied whatever the deadline (rows of the old width would not fit), and a
    /// call that starts past the deadline changes nothing else.
    pub fn prepare_until(&mut self, width: u16, styles: &DocStyles, deadline: Option<Instant>) -> bool {
        self.lay_out(width, styles, &mut || {
            deadline.is_some_and(|d| Instant::now() >= d)
        })
    }

    /// [`Self::prepare_until`] with the clock replaced by `out_of_time`, asked on entry
    /// and after every batch of about [`WORK_PER_CLOCK_READ`] bytes of work.
    fn lay_out(&mut self, width: u16, styles: &DocStyles, out_of_time: &mut dyn FnMut() -> bool) -> bool {
        let view = match &mut self.view {
            Some(v) if v.styles == *styles => {
                if v.width != width {
                    v.rewrap(width);
                }
                if !self.dirty {
                    return true;
                }
                // Asked before the open tail's rows are dropped, so that a pane out of
                // time keeps showing them.
                if out_of_time() {
                    return false;
                }
                v
            }
            slot => {
                // New styles redo everything; until there is time, the old rows stay.
                if !self.text.is_empty() && out_of_time() {
                    self.dirty = true;
                    return false;
                }
                slot.insert(View::new(self.markdown, width, styles.clone()))
            }
        };
        let done = view.update(&self.text, &mut self.work, out_of_time);
        self.dirty = !done;
        done
    }

    /// Lays out at most `batches` batches of new text, as calls under a budget would.
    #[cfg(test)]
    pub(crate) fn prepare_batches(&mut self, width: u16, styles: &DocStyles, batches: usize) -> bool {
        let mut left = batches;
        self.lay_out(width, styles, &mut || {
            let out = left == 0;
            left = left.saturating_sub(1);
            out
        })
    }

    /// Wrapped rows as of the last [`Self::prepare`].
    pub fn line_count(&self) -> usize {
        self.view.as_ref().map_or(0, |v| v.rows.len())
    }

    /// Rows in `range`, clamped to [`Self::line_count`].
    pub fn lines(&self, range: Range<usize>) -> &[Line<'static>] {
        let rows = self.view.as_ref().map_or(&[][..], |v| &v.rows[..]);
        let end = range.end.min(rows.len());
        &rows[range.start.min(end)..end]
    }

    /// Text pushed since the last [`Self::prepare`], or not yet laid out.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Bytes parsed, highlighted or appended to open lines so far: a deterministic
    /// measure of update cost for tests and benchmarks.
    #[doc(hidden)]
    pub fn work_counter(&self) -> u64 {
        self.work
    }
}

impl View {
    fn new(markdown: bool, width: u16, styles: DocStyles) -> Self {
        Self {
            styles,
            width,
            logical: Vec::new(),
            starts: Vec::new(),
            rows: Vec::new(),
            resume: None,
            finals: 0,
            open: None,
            scanner: Scanner::new(markdown),
            after_list: false,
        }
    }

    fn rewrap(&mut self, width: u16) {
        self.width = width;
        self.rows.clear();
        self.starts.clear();
        self.resume = None;
        for line in &self.logical {
            self.starts.push(self.rows.len());
            self.resume = Some(wrap::wrap(line, width, &mut self.rows));
        }
    }

    fn push_line(&mut self, line: Logical) {
        self.starts.push(self.rows.len());
        self.resume = Some(wrap::wrap(&line, self.width, &mut self.rows));
        self.logical.push(line);
    }

    /// Drops logical lines from index `n` on.
    fn truncate(&mut self, n: usize) {
        if n >= self.logical.len() {
            return;
        }
        self.rows.truncate(self.starts[n]);
        self.starts.truncate(n);
        self.logical.truncate(n);
        self.open = None;
        self.resume = None;
    }

    /// Adds a block's lines, separated from what precedes by a blank line.
    fn push_block(&mut self, lines: Vec<Logical>, glued: bool) {
        if !lines.is_empty() && !self.logical.is_empty() && !glued {
            self.push_line(Logical::blank());
        }
        lines.into_iter().for_each(|l| self.push_line(l));
    }

    /// Lays out `text` from where the last update stopped; `false` if it ran out of
    /// time first. A stop leaves only final lines: the open tail is drawn once caught up.
    fn update(&mut self, text: &str, work: &mut u64, out_of_time: &mut dyn FnMut() -> bool) -> bool {
        // The open line, if any, is the one logical line the tail keeps.
        let keep = self.finals + usize::from(self.open.is_some());
        self.truncate(keep);
        let mut next_look = *work + WORK_PER_CLOCK_READ;
        while let Some(step) = self.scanner.next_step(text, &self.styles) {
            self.step(text, step, work);
            if *work >= next_look {
                if out_of_time() {
                    return false;
                }
                next_look = *work + WORK_PER_CLOCK_READ;
            }
        }
        match self.scanner.tail(text) {
            Tail::None => self.truncate(self.finals),
            Tail::Block { range, glued } => {
                self.truncate(self.finals);
                *work += range.len() as u64;
                let rendered = markdown::render(&text[range], self.after_list, &self.styles);
                self.push_block(rendered.lines, glued);
            }
            Tail::Code(range) if range.len() <= MAX_LINE => {
                self.truncate(self.finals);
                *work += range.len() as u64;
                let line = match self.scanner.fence_mut() {
                    Some(fence) => {
                        let spans = fence.highlighter.peek(&text[range]);
                        code::line(spans, code::indent(fence.indent), &self.styles)
                    }
                    None => Logical::blank(),
                };
                self.push_line(line);
            }
            Tail::Code(range) | Tail::Text(range) => self.extend_open(text, range, work),
        }
        true
    }

    fn step(&mut self, text: &str, step: Step, work: &mut u64) {
        match step {
            Step::Block { range, glued } => {
                self.truncate(self.finals);
                *work += range.len() as u64;
                let rendered = markdown::render(&text[range], self.after_list, &self.styles);
                self.after_list = rendered.ends_in_list;
                self.push_block(rendered.lines, glued);
            }
            Step::FenceOpen { lang, indent } => {
                self.truncate(self.finals);
                if !self.logical.is_empty() {
                    self.push_line(Logical::blank());
                }
                if !lang.is_empty() {
                    self.push_line(code::label(&text[lang], code::indent(indent), &self.styles));
                }
                if indent == 0 {
                    self.after_list = false;
                }
            }
            Step::CodeLine(range) if range.len() <= MAX_LINE => {
                self.truncate(self.finals);
                *work += range.len() as u64;
                let line = match self.scanner.fence_mut() {
                    Some(fence) => {
                        let spans = fence.highlighter.line(&text[range]);
                        code::line(spans, code::indent(fence.indent), &self.styles)
                    }
                    None => Logical::blank(),
                };
                self.push_line(line);
            }
            Step::CodeLine(range) | Step::TextLine(range) => self.extend_open(text, range, work),
            Step::FenceClose => self.truncate(self.finals),
        }
        // Every step but an unfinished tail line leaves all lines final.
        self.open = None;
        self.finals = self.logical.len();
    }

    /// Extends (or starts) the open line with `text[range]`, re-wrapping only its last row.
    fn extend_open(&mut self, text: &str, range: Range<usize>, work: &mut u64) {
        let from = match self.open {
            Some((start, seen)) if start == range.start && seen <= range.end => seen,
            _ => {
                self.truncate(self.finals);
                let line = if self.scanner.fence_mut().is_some() {
                    let indent = self.scanner.fence_mut().map_or(0, |f| f.indent);
                    let body = vec![Span::styled(String::new(), self.styles.code_block)];
                    code::line(body, code::indent(indent), &self.styles)
                } else {
                    Logical::new(vec![Span::styled(String::new(), self.styles.text)], Fit::Words)
                };
                self.push_line(line);
                range.start
            }
        };
        *work += (range.end - from) as u64;
        let (Some(line), Some(resume)) = (self.logical.last_mut(), self.resume) else {
            return;
        };
        if let Some(span) = line.body.last_mut() {
            push_sanitized(span.content.to_mut(), &text[from..range.end]);
        }
        self.resume = Some(wrap::wrap_from(line, self.width, resume, &mut self.rows));
        self.open = Some((range.start, range.end));
    }
}
