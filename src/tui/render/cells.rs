//! How characters become terminal cells: making streamed text safe to print, and
//! measuring it in units that never split what a terminal draws as one glyph.
//!
//! Model output is untrusted: an ESC could rewrite the screen, a CR could overprint a
//! line, bidi overrides could reorder it. Everything the renderer emits passes through
//! [`sanitize`], which maps each character independently of its neighbours so that text
//! sanitized in streamed pieces equals text sanitized whole.

use std::borrow::Cow;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Spaces a tab becomes. Fixed rather than column-dependent so that a streamed piece
/// can be sanitized without knowing where its line started.
const TAB: &str = "    ";

fn needs_mapping(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Text that is safe to hand to the terminal: tabs become spaces, CR and bidi controls
/// vanish, other C0 controls and DEL become their visible Control Pictures, C1 controls
/// become U+FFFD. Newlines become spaces (callers split lines before this).
pub(crate) fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_mapping) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    push_sanitized(&mut out, s);
    Cow::Owned(out)
}

/// Appends the sanitized form of `s` to `out`.
pub(crate) fn push_sanitized(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\t' => out.push_str(TAB),
            '\n' => out.push(' '),
            '\r' => {}
            c if is_bidi_control(c) => {}
            '\u{7F}' => out.push('\u{2421}'),
            c if (c as u32) < 0x20 => {
                out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{FFFD}'));
            }
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// Display width of a string, as ratatui measures it.
pub(crate) fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// True when `d` joins the cluster before it: combining marks, variation selectors,
/// joiners, emoji skin-tone modifiers.
fn extends(prev: char, d: char) -> bool {
    prev == '\u{200D}' || d.width() == Some(0) || ('\u{1F3FB}'..='\u{1F3FF}').contains(&d)
}

/// One unit of wrapping: a base character with whatever attaches to it, or a run of
/// printable ASCII (see [`pieces`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cluster {
    /// Byte range in the string the iterator was made from.
    pub start: usize,
    pub end: usize,
    /// Display columns.
    pub width: usize,
    /// A single ASCII space: a break opportunity that is dropped at a soft break.
    pub space: bool,
    /// Printable ASCII, one column per byte: may be split at any byte.
    pub ascii: bool,
}

/// Which runs of printable ASCII [`pieces`] returns as one piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Runs {
    /// Runs without spaces (words), spaces one by one.
    Words,
    /// Runs including spaces.
    All,
}

/// Splits `s` into clusters, merging runs of printable ASCII as `runs` allows (one
/// piece per word instead of per byte is most of the speed of wrapping). Not full
/// grapheme segmentation, but every sequence whose measured width differs from the sum
/// of its characters stays in one piece, so summing piece widths never underestimates
/// what the terminal will draw.
pub(crate) fn pieces(s: &str, runs: Runs) -> impl Iterator<Item = Cluster> + '_ {
    let bytes = s.as_bytes();
    let in_run = move |b: u8| match runs {
        Runs::Words => (0x21..0x7F).contains(&b),
        Runs::All => (0x20..0x7F).contains(&b),
    };
    let mut at = 0;
    std::iter::from_fn(move || {
        let start = at;
        let b = *bytes.get(start)?;
        let next_ascii = |i: usize| bytes.get(i).is_none_or(|n| *n < 0x80);
        // Nothing ASCII extends a cluster, so ASCII followed by ASCII stands alone.
        if b < 0x80 && next_ascii(start + 1) {
            let mut end = start + 1;
            if in_run(b) {
                while end < bytes.len() && in_run(bytes[end]) && next_ascii(end + 1) {
                    end += 1;
                }
            }
            at = end;
            let printable = (0x20..0x7F).contains(&b);
            let width = if printable { end - start } else { 0 };
            let space = b == b' ' && end == start + 1;
            return Some(Cluster {
                start,
                end,
                width,
                space,
                ascii: printable,
            });
        }
        let mut chars = s[start..].chars();
        let c = chars.next()?;
        let mut end = start + c.len_utf8();
        let mut prev = c;
        for d in chars {
            if !extends(prev, d) {
                break;
            }
            end += d.len_utf8();
            prev = d;
        }
        at = end;
        let single = end == start + c.len_utf8();
        let width = if single {
            c.width().unwrap_or(0)
        } else {
            width(&s[start..end])
        };
        let space = single && c == ' ';
        Some(Cluster {
            start,
            end,
            width,
            space,
            ascii: false,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible_or_vanish() {
        assert_eq!(sanitize("a\x1b[31mb"), "a\u{241B}[31mb");
        assert_eq!(sanitize("x\r\ny"), "x y");
        assert_eq!(sanitize("\tz"), "    z");
        assert_eq!(sanitize("\u{9B}\u{7F}"), "\u{FFFD}\u{2421}");
        assert_eq!(sanitize("a\u{202E}b"), "ab");
        assert!(matches!(sanitize("plain é 漢"), Cow::Borrowed(_)));
    }

    #[test]
    fn sanitizing_pieces_equals_sanitizing_whole() {
        let s = "a\tb\r\nc\x1bd\u{202E}e";
        let mut pieces = String::new();
        for (i, c) in s.char_indices() {
            push_sanitized(&mut pieces, &s[i..i + c.len_utf8()]);
        }
        assert_eq!(pieces, sanitize(s));
    }

    #[test]
    fn clusters_keep_joined_sequences_together() {
        let s = "a\u{301}漢👍🏻👨\u{200D}👩 ";
        let cs: Vec<_> = pieces(s, Runs::Words).collect();
        let texts: Vec<&str> = cs.iter().map(|c| &s[c.start..c.end]).collect();
        assert_eq!(texts, ["a\u{301}", "漢", "👍🏻", "👨\u{200D}👩", " "]);
        assert_eq!(cs[1].width, 2);
        assert!(cs[4].space);
        let sum: usize = cs.iter().map(|c| c.width).sum();
        assert!(sum >= width(s));
    }

    #[test]
    fn runs_stop_before_anything_that_could_extend_them() {
        let s = "ab cd\u{301} ef";
        let texts = |runs| -> Vec<&str> { pieces(s, runs).map(|c| &s[c.start..c.end]).collect() };
        assert_eq!(texts(Runs::Words), ["ab", " ", "c", "d\u{301}", " ", "ef"]);
        assert_eq!(texts(Runs::All), ["ab c", "d\u{301}", " ef"]);
    }
}
