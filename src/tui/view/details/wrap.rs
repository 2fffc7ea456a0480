//! Wrapping a details value to its column: at spaces, never inside a number.

use unicode_width::UnicodeWidthChar;

/// `text` in lines of at most `width` columns. Breaks go at spaces; a word wider than
/// the column (a long URL) is split, but never between two digits, so no number is ever
/// cut in half (a digit run wider than the column is the one exception).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut line_w = 0;
    for word in words(text) {
        let word = word.as_str();
        let word_w = cols(word);
        let gap = usize::from(!line.is_empty());
        if line_w + gap + word_w <= width {
            if gap == 1 {
                line.push(' ');
            }
            line.push_str(word);
            line_w += gap + word_w;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut rest = word;
        while cols(rest) > width {
            let cut = split_point(rest, width);
            lines.push(rest[..cut].to_string());
            rest = &rest[cut..];
        }
        line.push_str(rest);
        line_w = cols(rest);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Units that stay on the line of the number before them.
const UNITS: [&str; 3] = ["ms", "s", "ms,"];

/// The words of `text`, a unit glued to the number before it (`468.0 ms`).
fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in text.split(' ') {
        let after_number = out
            .last()
            .is_some_and(|prev| prev.ends_with(|c: char| c.is_ascii_digit()));
        match out.last_mut() {
            Some(prev) if after_number && UNITS.contains(&w) => {
                prev.push(' ');
                prev.push_str(w);
            }
            _ => out.push(w.to_string()),
        }
    }
    out
}

fn cols(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// The byte index to split `word` at: as many characters as fit in `width`, moved back
/// to before a run of digits it would otherwise cut.
fn split_point(word: &str, width: usize) -> usize {
    let mut fit = 0;
    let mut used = 0;
    for (i, c) in word.char_indices() {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            break;
        }
        used += w;
        fit = i + c.len_utf8();
    }
    let fit = fit.max(word.chars().next().map_or(1, char::len_utf8));
    let bytes = word.as_bytes();
    let mut cut = fit;
    while cut > 0 && cut < bytes.len() && bytes[cut].is_ascii_digit() && bytes[cut - 1].is_ascii_digit() {
        cut -= 1;
    }
    if cut == 0 { fit } else { cut }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces_and_keeps_short_text_whole() {
        assert_eq!(wrap("a b c", 10), ["a b c"]);
        assert_eq!(
            wrap("input $0.15 · output $0.60", 14),
            ["input $0.15 ·", "output $0.60"]
        );
        assert_eq!(wrap("", 5), [""]);
    }

    #[test]
    fn long_words_split_but_never_inside_a_number() {
        let lines = wrap("https://example.com:443/v1/deployments/x", 22);
        assert_eq!(lines, ["https://example.com:", "443/v1/deployments/x"]);
        for line in wrap("timings 123456789 ms 2.3456 s", 8) {
            assert!(line.len() <= 9, "{line}");
        }
        assert_eq!(wrap("aaaa 123456789", 7), ["aaaa", "1234567", "89"]);
        assert_eq!(wrap("ITL per token 468.0 ms", 19), ["ITL per token", "468.0 ms"]);
    }
}
