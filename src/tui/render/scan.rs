//! Splitting streamed text into units that, once complete, never change.
//!
//! Markdown is split into blocks at blank lines outside fenced code, and fenced code into
//! single lines. A unit is reported only once it is final, so it is parsed (or
//! highlighted) exactly once; whatever follows the last final unit is the open tail,
//! which the caller re-renders on each update. Every decision depends only on the text
//! up to the point it is made, so feeding text in pieces yields the same units as
//! feeding it whole — the property the incremental renderer rests on.
//!
//! Two size limits keep the open tail, and so the per-update cost, bounded on
//! pathological input: a block ends at the first line end after [`BLOCK_LIMIT`] bytes,
//! and a line longer than [`LINE_LIMIT`] bytes is cut after its last space before that
//! point and continues as a new block.
//!
//! Fences are recognised at any indentation (CommonMark allows three spaces), because
//! models indent fences inside list items; an indented code block containing a fence
//! line is misread, which costs only its layout.

use std::ops::Range;

use super::highlight::{self, CodeHighlighter};
use super::styles::DocStyles;

pub(crate) const BLOCK_LIMIT: usize = 16 * 1024;
pub(crate) const LINE_LIMIT: usize = 8 * 1024;

/// One final unit of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// A markdown block to parse. `glued`: it continues a line cut at [`LINE_LIMIT`].
    Block {
        range: Range<usize>,
        glued: bool,
    },
    /// A fence opened; its language as written.
    FenceOpen {
        lang: Range<usize>,
        indent: usize,
    },
    /// A completed code line, without indentation up to the fence's, `\r` or `\n`.
    CodeLine(Range<usize>),
    FenceClose,
    /// A completed line of plain (non-markdown) text, without `\r\n`.
    TextLine(Range<usize>),
}

/// What follows the last final unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tail {
    None,
    /// An unfinished markdown block.
    Block {
        range: Range<usize>,
        glued: bool,
    },
    /// The unfinished last line of an open fence (already de-indented).
    Code(Range<usize>),
    /// The unfinished last line of plain text.
    Text(Range<usize>),
}

/// An open code fence.
pub(crate) struct Fence {
    marker: u8,
    len: usize,
    pub indent: usize,
    pub highlighter: CodeHighlighter,
}

enum Mode {
    Plain,
    Outside { block: Option<usize>, glued: bool },
    Fence(Box<Fence>),
}

pub(crate) struct Scanner {
    /// Start of the first line not yet consumed.
    pos: usize,
    mode: Mode,
}

struct Line {
    end: usize,
    next: usize,
    complete: bool,
}

fn line_at(text: &str, pos: usize) -> Line {
    match text[pos..].find('\n') {
        Some(i) => Line {
            end: pos + i,
            next: pos + i + 1,
            complete: true,
        },
        None => Line {
            end: text.len(),
            next: text.len(),
            complete: false,
        },
    }
}

fn leading(line: &str) -> (usize, usize) {
    let bytes = line.bytes().take_while(|b| *b == b' ' || *b == b'\t').count();
    let cols = line[..bytes]
        .bytes()
        .map(|b| if b == b'\t' { 4 } else { 1 })
        .sum();
    (bytes, cols)
}

fn strip_cr(line: &str) -> &str {
    line.strip_suffix('\r').unwrap_or(line)
}

/// `(marker, run length, indent columns, info range relative to the line)`.
fn fence_open(line: &str) -> Option<(u8, usize, usize, Range<usize>)> {
    let line = strip_cr(line);
    let (lead, indent) = leading(line);
    let rest = &line[lead..];
    let marker = *rest.as_bytes().first().filter(|b| **b == b'`' || **b == b'~')?;
    let len = rest.bytes().take_while(|b| *b == marker).count();
    let info = &rest[len..];
    if len < 3 || (marker == b'`' && info.contains('`')) {
        return None;
    }
    let start = lead + len + (info.len() - info.trim_start().len());
    Some((marker, len, indent, start..start + info.trim().len()))
}

impl Fence {
    fn closes(&self, line: &str) -> bool {
        let rest = line.trim_start_matches([' ', '\t']);
        let run = rest.bytes().take_while(|b| *b == self.marker).count();
        run >= self.len && rest[run..].trim().is_empty()
    }

    /// Byte offset where content starts once up to `indent` columns are removed.
    fn content_start(&self, line: &str) -> usize {
        let mut cols = 0;
        line.bytes()
            .take_while(|b| {
                let step = match b {
                    b' ' => 1,
                    b'\t' => 4,
                    _ => return false,
                };
                cols += step;
                cols <= self.indent
            })
            .count()
    }
}

impl Scanner {
    pub(crate) fn new(markdown: bool) -> Self {
        let mode = if markdown {
            Mode::Outside {
                block: None,
                glued: false,
            }
        } else {
            Mode::Plain
        };
        Self { pos: 0, mode }
    }

    /// The open fence, if the scanner is inside one.
    pub(crate) fn fence_mut(&mut self) -> Option<&mut Fence> {
        match &mut self.mode {
            Mode::Fence(f) => Some(f),
            _ => None,
        }
    }

    /// The next final unit in `text` (which only ever grows between calls).
    pub(crate) fn next_step(&mut self, text: &str, styles: &DocStyles) -> Option<Step> {
        loop {
            let pos = self.pos;
            let line = line_at(text, pos);
            match &mut self.mode {
                Mode::Plain => {
                    if !line.complete {
                        return None;
                    }
                    self.pos = line.next;
                    let end = pos + strip_cr(&text[pos..line.end]).len();
                    return Some(Step::TextLine(pos..end));
                }
                Mode::Fence(fence) => {
                    if !line.complete {
                        return None;
                    }
                    self.pos = line.next;
                    let raw = strip_cr(&text[pos..line.end]);
                    if fence.closes(raw) {
                        self.mode = Mode::Outside {
                            block: None,
                            glued: false,
                        };
                        return Some(Step::FenceClose);
                    }
                    let start = pos + fence.content_start(raw);
                    return Some(Step::CodeLine(start..pos + raw.len()));
                }
                Mode::Outside { block, glued } => {
                    let start = block.unwrap_or(pos);
                    let was_glued = *glued;
                    if line.end > pos + LINE_LIMIT {
                        let cut = cut_point(text, pos, pos + LINE_LIMIT);
                        self.pos = cut;
                        self.mode = Mode::Outside {
                            block: None,
                            glued: true,
                        };
                        let range = start..cut;
                        return Some(Step::Block {
                            range,
                            glued: was_glued,
                        });
                    }
                    if !line.complete {
                        return None;
                    }
                    let raw = &text[pos..line.end];
                    if raw.trim().is_empty() {
                        self.pos = line.next;
                        *glued = false;
                        if let Some(start) = block.take() {
                            return Some(Step::Block {
                                range: start..pos,
                                glued: was_glued,
                            });
                        }
                        continue;
                    }
                    if let Some((marker, len, indent, info)) = fence_open(raw) {
                        if let Some(start) = block.take() {
                            *glued = false;
                            return Some(Step::Block {
                                range: start..pos,
                                glued: was_glued,
                            });
                        }
                        let lang = highlight::language(&raw[info]);
                        let lang_start = pos + (lang.as_ptr() as usize - raw.as_ptr() as usize);
                        self.pos = line.next;
                        self.mode = Mode::Fence(Box::new(Fence {
                            marker,
                            len,
                            indent,
                            highlighter: CodeHighlighter::new(lang, styles),
                        }));
                        let lang = lang_start..lang_start + lang.len();
                        return Some(Step::FenceOpen { lang, indent });
                    }
                    let start = *block.get_or_insert(pos);
                    self.pos = line.next;
                    if self.pos - start >= BLOCK_LIMIT {
                        self.mode = Mode::Outside {
                            block: None,
                            glued: false,
                        };
                        return Some(Step::Block {
                            range: start..self.pos,
                            glued: was_glued,
                        });
                    }
                }
            }
        }
    }

    /// The open tail after [`Self::next_step`] returned `None`.
    pub(crate) fn tail(&self, text: &str) -> Tail {
        let pos = self.pos;
        if pos >= text.len() && !matches!(self.mode, Mode::Outside { block: Some(_), .. }) {
            return Tail::None;
        }
        match &self.mode {
            Mode::Plain => Tail::Text(pos..text.len()),
            // A closing fence with no line end yet (a stream often ends on one) closes
            // the block as drawn: it is never a line of code.
            Mode::Fence(fence) if fence.closes(strip_cr(&text[pos..])) => Tail::None,
            Mode::Fence(fence) => Tail::Code(pos + fence.content_start(&text[pos..])..text.len()),
            Mode::Outside { block, glued } => Tail::Block {
                range: block.unwrap_or(pos)..text.len(),
                glued: *glued,
            },
        }
    }
}

/// Where to cut an over-long line: after its last space before `limit`, else at the
/// character boundary at or before `limit`. Always after `line_start`.
fn cut_point(text: &str, line_start: usize, limit: usize) -> usize {
    let mut end = limit.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    match text[line_start..end].rfind([' ', '\t']) {
        Some(i) if line_start + i + 1 < end => line_start + i + 1,
        _ => end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(text: &str) -> (Vec<Step>, Tail) {
        let styles = DocStyles::plain();
        let mut s = Scanner::new(true);
        let mut out = Vec::new();
        while let Some(step) = s.next_step(text, &styles) {
            out.push(step);
        }
        (out, s.tail(text))
    }

    #[test]
    fn blocks_end_at_blank_lines_but_not_inside_fences() {
        let text = "# A\npara\n\n```rust\nfn a() {}\n\n}\n```\nafter";
        let (steps, tail) = steps(text);
        let block = |r: Range<usize>| Step::Block {
            range: r,
            glued: false,
        };
        assert_eq!(
            steps,
            [
                block(0..9),
                Step::FenceOpen {
                    lang: 13..17,
                    indent: 0
                },
                Step::CodeLine(18..27),
                Step::CodeLine(28..28),
                Step::CodeLine(29..30),
                Step::FenceClose,
            ]
        );
        assert_eq!(
            tail,
            Tail::Block {
                range: 35..40,
                glued: false
            }
        );
    }

    #[test]
    fn indented_fences_are_de_indented() {
        let text = "1. step\n   ```sh\n   ls -l\n    x\n   ```\n";
        let (steps, _) = steps(text);
        assert!(matches!(steps[1], Step::FenceOpen { indent: 3, .. }));
        let Step::CodeLine(r) = &steps[2] else {
            panic!("{steps:?}")
        };
        assert_eq!(&text[r.clone()], "ls -l");
        let Step::CodeLine(r) = &steps[3] else {
            panic!("{steps:?}")
        };
        assert_eq!(&text[r.clone()], " x");
    }

    #[test]
    fn long_lines_are_cut_at_spaces() {
        let text = "word ".repeat(LINE_LIMIT / 5 * 3);
        let (steps, _) = steps(&text);
        assert_eq!(steps.len(), 2, "{steps:?}");
        for step in &steps {
            let Step::Block { range, .. } = step else { panic!() };
            assert!(text[range.clone()].ends_with(' '));
            assert!(range.len() <= LINE_LIMIT);
        }
    }

    #[test]
    fn cut_respects_character_boundaries() {
        let text = "漢".repeat(LINE_LIMIT);
        let (steps, _) = steps(&text);
        assert!(!steps.is_empty());
    }
}
