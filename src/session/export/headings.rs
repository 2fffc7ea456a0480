//! An answer's own headings, demoted to sit under the export's `### target` heading.
//!
//! Answers are Markdown, often with `#` and `##` headings of their own. Pasted as they
//! are under `### target`, they would outrank it and break the document's outline (a
//! table of contents would list them beside the turns). Each is pushed down three
//! levels (`#` becomes `####`, `##` becomes `#####`, deeper ones `######`), which keeps
//! their order among themselves as far as Markdown's six levels allow. Headings are found
//! by a Markdown parser, so a `#` line inside a code block is left alone.

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag};

/// How far an answer's headings are pushed down: below `###`.
const DEMOTE_BY: usize = 3;

/// `text` with every heading demoted by [`DEMOTE_BY`] levels (at most to `######`), and
/// underlined (setext) headings rewritten as `#` headings.
pub fn demote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut copied = 0;
    for (event, range) in Parser::new(text).into_offset_iter() {
        let Event::Start(Tag::Heading { level, .. }) = event else {
            continue;
        };
        let (Some(source), true) = (text.get(range.clone()), range.start >= copied) else {
            continue;
        };
        let level = (heading_depth(level) + DEMOTE_BY).min(6);
        out.push_str(text.get(copied..range.start).unwrap_or_default());
        out.push_str(&"#".repeat(level));
        out.push(' ');
        out.push_str(&heading_text(source));
        // A setext heading's range ends after its underline: keep the line break.
        if source.ends_with('\n') {
            out.push('\n');
        }
        copied = range.end;
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

fn heading_depth(level: HeadingLevel) -> usize {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// The words of a heading's source: an ATX heading without its `#` marks, a setext
/// heading without its underline.
fn heading_text(source: &str) -> String {
    let trimmed = source.trim();
    if let Some(rest) = trimmed.strip_prefix('#') {
        let rest = rest.trim_start_matches('#').trim();
        // A closing sequence is `#`s after a space (or the whole content).
        let closed = rest.trim_end_matches('#');
        let content = if closed.is_empty() || closed.ends_with([' ', '\t']) {
            closed.trim_end()
        } else {
            rest
        };
        return content.to_string();
    }
    // Setext: every line but the underline, joined as one heading line (a blockquote's
    // `>` marks on continuation lines dropped).
    let mut lines: Vec<&str> = trimmed.lines().collect();
    lines.pop();
    lines
        .iter()
        .map(|l| l.trim().trim_start_matches('>').trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_go_below_the_target_heading() {
        let answer = "# Plan\n\nIntro.\n\n## Step one ##\n\nText.\n\n#### Deep\n";
        assert_eq!(
            demote(answer),
            "#### Plan\n\nIntro.\n\n##### Step one\n\nText.\n\n###### Deep\n"
        );
    }

    #[test]
    fn code_blocks_and_plain_hashes_are_left_alone() {
        let answer = "```bash\n# a comment\n```\n\n    # indented code\n\n#hashtag\n";
        assert_eq!(demote(answer), answer);
    }

    #[test]
    fn underlined_headings_become_hash_headings() {
        assert_eq!(demote("Title\n=====\n\nBody\n"), "#### Title\n\nBody\n");
        assert_eq!(demote("Sub\n---\n"), "##### Sub\n");
    }

    #[test]
    fn quoted_headings_keep_their_quote() {
        assert_eq!(demote("> # Quoted\n"), "> #### Quoted\n");
    }
}
