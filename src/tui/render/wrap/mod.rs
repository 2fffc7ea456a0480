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

mod rows;

use rows::Rows;

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
