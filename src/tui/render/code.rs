//! How a code block looks: an optional language label (a dim rule naming it), then one hard-wrapped logical
//! line per source line, all in the `code_block` style. Shared by fences the streaming
//! scanner handles itself and code blocks found inside parsed markdown (quotes,
//! indented code), so both look the same.

use ratatui::text::Span;

use super::cells::sanitize;
use super::styles::DocStyles;
use super::wrap::{Fit, Logical};

/// The dim rule that opens a fenced block and names its language, `── rust ──────`
/// across the width: it reads as the block's frame, never as a line of the answer (a
/// bare `rust` line looked like text the model wrote).
pub(crate) fn label(lang: &str, prefix: Vec<Span<'static>>, styles: &DocStyles) -> Logical {
    let mut line = Logical::new(
        vec![
            Span::styled(format!("── {} ", sanitize(lang)), styles.rule),
            Span::styled("─", styles.rule),
        ],
        Fit::Fill,
    );
    line.cont = prefix.clone();
    line.lead = prefix;
    line
}

/// One source line of code; `prefix` carries list or quote context.
pub(crate) fn line(body: Vec<Span<'static>>, prefix: Vec<Span<'static>>, styles: &DocStyles) -> Logical {
    let mut line = Logical::new(body, Fit::Chars);
    line.cont = prefix.clone();
    line.lead = prefix;
    line.style = styles.code_block;
    line
}

/// Indentation of a fence nested in a list item, as a prefix.
pub(crate) fn indent(columns: usize) -> Vec<Span<'static>> {
    // Deep indentation would eat a narrow pane; past this it stops adding information.
    const MAX: usize = 12;
    if columns == 0 {
        Vec::new()
    } else {
        vec![blanks(columns.min(MAX))]
    }
}

/// `n` spaces, borrowed from a static string when short: prefixes are cloned onto every
/// wrapped row, and a borrowed span clones without allocating.
pub(crate) fn blanks(n: usize) -> Span<'static> {
    const SPACES: &str = "                                ";
    match SPACES.get(..n) {
        Some(s) => Span::raw(s),
        None => Span::raw(" ".repeat(n)),
    }
}
