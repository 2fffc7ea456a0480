//! The pane's prompt-cache note: tokens written to the cache, and what the cache saved
//! (or cost, when writes outweigh reads) against the same input sent uncached.

use ratatui::text::Span;

use crate::pricing::{ModelPrice, cache_saving, signed_usd};
use crate::provider::event::Usage;
use crate::tui::theme::{Role, Theme};

/// ` · cache write 2,048 · saved $0.002100`, or nothing when the answer touched no cache.
/// Cache reads are already on the line (`cached N`); the money needs a known price.
pub fn spans(usage: &Usage, price: Option<&ModelPrice>, t: &Theme) -> Vec<Span<'static>> {
    let read = usage.cached_input.unwrap_or(0);
    let written = usage.cache_write.unwrap_or(0);
    if read == 0 && written == 0 {
        return Vec::new();
    }
    let muted = t.style(Role::Muted);
    let metric = t.style(Role::Metric);
    let mut out = Vec::new();
    if written > 0 {
        out.push(Span::styled(" · cache write ", muted));
        out.push(Span::styled(thousands(written), metric));
    }
    if let Some(pd) = price.and_then(|p| cache_saving(p, usage)) {
        let (word, usd) = if pd < 0 {
            ("cache cost", -signed_usd(pd))
        } else {
            ("saved", signed_usd(pd))
        };
        out.push(Span::styled(format!(" · {word} "), muted));
        out.push(Span::styled(format!("${usd:.6}"), metric));
    }
    out
}

/// `1,024`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn text(spans: &[Span<'_>]) -> String {
        spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn writes_and_savings_read_in_dollars() {
        let t = crate::tui::theme::load("dark").unwrap();
        let price = ModelPrice {
            input: 3_000_000,
            cached_input: Some(300_000),
            cache_write: Some(3_750_000),
            ..ModelPrice::default()
        };
        let usage = |read, write| Usage {
            input: Some(3000),
            output: Some(5),
            cached_input: Some(read),
            cache_write: Some(write),
            ..Usage::default()
        };
        assert_eq!(text(&spans(&usage(0, 0), Some(&price), &t)), "");
        assert_eq!(
            text(&spans(&usage(0, 2048), Some(&price), &t)),
            " · cache write 2,048 · cache cost $0.001536"
        );
        assert_eq!(
            text(&spans(&usage(2048, 0), Some(&price), &t)),
            " · saved $0.005530"
        );
        assert_eq!(text(&spans(&usage(2048, 0), None, &t)), "");
    }
}
