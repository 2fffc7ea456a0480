//! Header lines that fit their width by dropping whole fields, least important first.
//!
//! A pane header, a grid cell header, a strip line, the status bar and the footer are
//! each a row of [`Field`]s: a number with its label, a finish reason, a key hint. Each
//! has a priority; [`fit`] drops the least important fields whole until the rest fit,
//! keeping the order of those left. A number is never cut mid-digit: the only field that
//! may be shortened is one marked [`Field::cuttable`] (plain text such as a status
//! word or a notice), and it is cut visibly, with `…`.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// How important a field is: lower is more important, so kept longer.
pub type Priority = u8;

/// The field that stays while anything stays (the state of a pane).
pub const ALWAYS: Priority = 0;

/// One field of a header line: spans that stay or go together.
#[derive(Debug, Clone)]
pub struct Field {
    /// Lower is more important.
    pub priority: Priority,
    /// What goes before the field when another field precedes it (` · ` or ` `).
    pub lead: Span<'static>,
    /// The field itself.
    pub spans: Vec<Span<'static>>,
    /// Text that may be shortened with `…` (never a number).
    pub cuttable: bool,
    /// A measured number someone reads the header for: when one of these is dropped,
    /// the workbench shows it elsewhere (see [`super::strip`]).
    pub number: bool,
}

impl Field {
    /// A number (or a finish reason) with its label: dropped whole, never cut.
    pub fn number(priority: Priority, lead: Span<'static>, spans: Vec<Span<'static>>) -> Self {
        Self {
            priority,
            lead,
            spans,
            cuttable: false,
            number: true,
        }
    }

    /// Something that is not a measured number (a hint, a count of zero retries): it may
    /// go without being shown elsewhere.
    pub fn extra(priority: Priority, lead: Span<'static>, spans: Vec<Span<'static>>) -> Self {
        Self {
            number: false,
            ..Self::number(priority, lead, spans)
        }
    }

    /// Text that may be cut with `…` when it is the last field and the room ends in it.
    pub fn text(priority: Priority, lead: Span<'static>, spans: Vec<Span<'static>>) -> Self {
        Self {
            cuttable: true,
            number: false,
            ..Self::number(priority, lead, spans)
        }
    }

    /// Columns of the field without its lead.
    pub fn width(&self) -> usize {
        self.spans.iter().map(Span::width).sum()
    }
}

/// What [`fit`] kept: the line, and whether a number had to go.
#[derive(Debug, Clone, Default)]
pub struct Fitted {
    /// The fields kept, joined by their leads.
    pub line: Line<'static>,
    /// A field marked [`Field::number`] was dropped.
    pub dropped_number: bool,
}

/// Columns `fields` take when `kept` are shown: each kept field after the first brings
/// its lead.
fn width_of(fields: &[Field], kept: &[bool]) -> usize {
    let mut first = true;
    let mut w = 0;
    for (f, k) in fields.iter().zip(kept) {
        if !k {
            continue;
        }
        if !first {
            w += f.lead.width();
        }
        first = false;
        w += f.width();
    }
    w
}

/// Keep the most important `fields` that fit in `width` columns, in their order.
///
/// Fields are dropped whole, least important first (the rightmost of equals first).
/// When what is left is still too wide, or when the least important field to go is
/// cuttable text, that text is cut with `…` instead, as long as at least a few
/// characters of it stay readable.
pub fn fit(fields: &[Field], width: u16, mark: Style) -> Fitted {
    if width == 0 {
        return Fitted {
            line: Line::default(),
            dropped_number: fields.iter().any(|f| f.number),
        };
    }
    let width = usize::from(width);
    let mut kept = vec![true; fields.len()];
    let mut dropped_number = false;
    let mut cut: Option<(usize, usize)> = None;
    while width_of(fields, &kept) > width {
        let over = width_of(fields, &kept) - width;
        let victim = (0..fields.len())
            .filter(|i| kept[*i])
            .max_by_key(|i| (fields[*i].priority, *i));
        let Some(v) = victim else { break };
        let f = &fields[v];
        let alone = kept.iter().filter(|k| **k).count() == 1;
        // Text keeps a useful part of itself rather than vanishing.
        if f.cuttable && (alone || f.width() >= over + 1 + MIN_CUT) {
            cut = Some((v, f.width().saturating_sub(over + 1)));
            break;
        }
        if alone {
            // A lone number that does not fit is not shown at all.
            kept[v] = false;
            dropped_number |= f.number;
            break;
        }
        kept[v] = false;
        dropped_number |= f.number;
    }
    let mut spans = Vec::new();
    let mut first = true;
    for (i, f) in fields.iter().enumerate() {
        if !kept[i] {
            continue;
        }
        if !first {
            spans.push(f.lead.clone());
        }
        first = false;
        match cut {
            Some((c, room)) if c == i => {
                spans.extend(cut_spans(&f.spans, room));
                spans.push(Span::styled("…", mark));
            }
            _ => spans.extend(f.spans.iter().cloned()),
        }
    }
    Fitted {
        line: Line::from(spans),
        dropped_number,
    }
}

/// Fewest columns of a text worth showing once it is cut.
const MIN_CUT: usize = 6;

/// The first `room` columns of `spans`.
fn cut_spans(spans: &[Span<'static>], mut room: usize) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    for span in spans {
        if span.width() <= room {
            room -= span.width();
            out.push(span.clone());
            continue;
        }
        let mut text = String::new();
        for c in span.content.chars() {
            let w = c.width().unwrap_or(0);
            if w > room {
                break;
            }
            room -= w;
            text.push(c);
        }
        out.push(Span::styled(text, span.style));
        break;
    }
    out
}

/// `text` in at most `width` columns, shortened in the middle with `…` so that both ends
/// stay: model names differ at the end (`…-20250514`) as often as at the start.
pub fn elide_middle(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let room = width - 1;
    // The end distinguishes versions and dates; the start says the family.
    let head_room = room / 2;
    let tail_room = room - head_room;
    let mut head = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > head_room {
            break;
        }
        used += w;
        head.push(c);
    }
    let mut tail: Vec<char> = Vec::new();
    let mut used = 0;
    for c in text.chars().rev() {
        let w = c.width().unwrap_or(0);
        if used + w > tail_room {
            break;
        }
        used += w;
        tail.push(c);
    }
    tail.reverse();
    format!("{head}…{}", tail.into_iter().collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    fn sep() -> Span<'static> {
        Span::raw(" · ")
    }

    fn fields() -> Vec<Field> {
        vec![
            Field::text(ALWAYS, sep(), vec![Span::raw("● done")]),
            Field::number(1, sep(), vec![Span::raw("TTFT 420 ms")]),
            Field::number(2, sep(), vec![Span::raw("111 tok/s")]),
            Field::number(4, sep(), vec![Span::raw("1.5 s")]),
        ]
    }

    #[test]
    fn everything_fits_when_there_is_room() {
        let f = fit(&fields(), 80, Style::new());
        assert_eq!(text(&f.line), "● done · TTFT 420 ms · 111 tok/s · 1.5 s");
        assert!(!f.dropped_number);
    }

    #[test]
    fn the_least_important_field_goes_whole_and_order_stays() {
        for w in 0..45u16 {
            let f = fit(&fields(), w, Style::new());
            let shown = text(&f.line);
            assert!(shown.width() <= usize::from(w), "{w}: {shown}");
            // No number is ever shown in part.
            for whole in ["TTFT 420 ms", "111 tok/s", "1.5 s"] {
                let first = whole.split(' ').next().unwrap();
                if shown.contains(first) {
                    assert!(shown.contains(whole), "{w}: {shown}");
                }
            }
        }
        let f = fit(&fields(), 32, Style::new());
        assert_eq!(text(&f.line), "● done · TTFT 420 ms · 111 tok/s");
        assert!(f.dropped_number);
        let f = fit(&fields(), 24, Style::new());
        assert_eq!(text(&f.line), "● done · TTFT 420 ms");
    }

    #[test]
    fn text_is_cut_visibly_rather_than_dropped_when_it_is_all_there_is() {
        let f = fit(
            &[Field::text(
                ALWAYS,
                sep(),
                vec![Span::raw("● waiting for first token")],
            )],
            12,
            Style::new(),
        );
        assert_eq!(text(&f.line), "● waiting f…");
    }

    #[test]
    fn names_lose_their_middle_and_keep_both_ends() {
        assert_eq!(elide_middle("claude-sonnet-4-20250514", 16), "claude-…20250514");
        assert_eq!(elide_middle("gpt", 16), "gpt");
        assert_eq!(elide_middle("abcdef", 1), "…");
        assert_eq!(elide_middle("claude-sonnet-4-20250514", 16).width(), 16);
    }
}
