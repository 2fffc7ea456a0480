//! Behaviour of [`Doc`] as a whole: incremental output equals a fresh render, layout of
//! markdown constructs, and update cost measured in work units rather than time.

use proptest::prelude::*;
use ratatui::style::Color;
use ratatui::text::Line;

use super::{Doc, DocStyles};

fn fresh(markdown: bool, text: &str, width: u16, styles: &DocStyles) -> Vec<Line<'static>> {
    let mut d = Doc::new(markdown);
    d.push_str(text);
    d.prepare(width, styles);
    all(&d)
}

fn all(d: &Doc) -> Vec<Line<'static>> {
    d.lines(0..d.line_count()).to_vec()
}

fn texts(d: &Doc) -> Vec<String> {
    all(d)
        .iter()
        .map(|l| l.to_string().trim_end().to_string())
        .collect()
}

fn render(text: &str, width: u16) -> Vec<String> {
    let mut d = Doc::new(true);
    d.push_str(text);
    d.prepare(width, &DocStyles::plain());
    texts(&d)
}

const PIECES: &[&str] = &[
    "word ",
    "longerword ",
    "x",
    "\n",
    "\n",
    "\n\n",
    "# ",
    "## ",
    "- ",
    "* ",
    "1. ",
    "> ",
    "   ",
    "    ",
    "```rust\n",
    "```\n",
    "```",
    "~~~\n",
    "`code`",
    "**",
    "*",
    "~~",
    "漢字",
    "é",
    "👍🏻",
    "|a|b|\n|-|-|\n|c|d|\n",
    "\t",
    "\r\n",
    "\x1b[2J",
    "[l](http://u)",
    "---\n",
    "fn x() {}\n",
    "  - ",
    "a_very_long_identifier_that_wraps",
    "<br>",
    "\u{301}",
];

fn doc_text() -> impl Strategy<Value = String> {
    prop::collection::vec(0..PIECES.len(), 0..60)
        .prop_map(|ix| ix.into_iter().map(|i| PIECES[i]).collect::<String>())
}

/// Splits `text` at the given fractions, snapped to character boundaries.
fn chunks(text: &str, cuts: &[f64]) -> Vec<String> {
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|f| {
            let mut p = (f * text.len() as f64) as usize;
            while !text.is_char_boundary(p) {
                p -= 1;
            }
            p
        })
        .collect();
    points.sort_unstable();
    let mut out = Vec::new();
    let mut last = 0;
    for p in points.into_iter().chain([text.len()]) {
        out.push(text[last..p].to_string());
        last = p;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn streaming_equals_rendering_whole(
        text in doc_text(),
        cuts in prop::collection::vec(0.0..1.0f64, 0..12),
        width in 1u16..60,
        markdown in any::<bool>(),
    ) {
        let styles = DocStyles { color: true, ..DocStyles::plain() };
        let mut d = Doc::new(markdown);
        let mut sent = String::new();
        for chunk in chunks(&text, &cuts) {
            d.push_str(&chunk);
            sent.push_str(&chunk);
            d.prepare(width, &styles);
            prop_assert_eq!(all(&d), fresh(markdown, &sent, width, &styles));
        }
        prop_assert_eq!(d.text(), text.as_str());
        for row in all(&d) {
            prop_assert!(row.width() <= usize::from(width), "{:?} wider than {}", row, width);
        }
    }

    #[test]
    fn width_change_equals_fresh_render(text in doc_text(), a in 1u16..60, b in 1u16..60) {
        let styles = DocStyles::plain();
        let mut d = Doc::new(true);
        d.push_str(&text);
        d.prepare(a, &styles);
        let work = d.work_counter();
        d.prepare(b, &styles);
        prop_assert_eq!(d.work_counter(), work, "a width change must not re-parse");
        prop_assert_eq!(all(&d), fresh(true, &text, b, &styles));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Layout under a budget: each frame lays out only a few batches (none at all when
    /// out of time on entry), text keeps arriving in between, and once the frames catch
    /// up the rows are those of a fresh render.
    #[test]
    fn laying_out_a_little_per_frame_ends_equal_to_rendering_whole(
        text in doc_text(),
        cuts in prop::collection::vec(0.0..1.0f64, 0..12),
        batches in prop::collection::vec(0usize..3, 1..8),
        width in 1u16..60,
        markdown in any::<bool>(),
    ) {
        let styles = DocStyles { color: true, ..DocStyles::plain() };
        let mut d = Doc::new(markdown);
        for (frame, chunk) in chunks(&text, &cuts).into_iter().enumerate() {
            d.push_str(&chunk);
            let before = all(&d);
            let n = batches[frame % batches.len()];
            let done = d.prepare_batches(width, &styles, n);
            prop_assert_eq!(done, !d.is_dirty());
            if n == 0 && !chunk.is_empty() {
                prop_assert!(!done);
                prop_assert_eq!(all(&d), before, "out of time on entry changes nothing");
            }
            for row in all(&d) {
                prop_assert!(row.width() <= usize::from(width), "{:?} wider than {}", row, width);
            }
        }
        let mut frames = 0;
        while !d.prepare_batches(width, &styles, 1) {
            frames += 1;
            prop_assert!(frames <= text.len() + 1, "one batch per frame must make progress");
        }
        prop_assert_eq!(all(&d), fresh(markdown, &text, width, &styles));
    }
}

#[test]
fn a_budget_splits_a_long_answer_into_many_frames() {
    let styles = DocStyles {
        color: true,
        ..DocStyles::plain()
    };
    let text = big_document()[..64 * 1024].to_string();
    let mut d = Doc::new(true);
    d.push_str(&text);
    let mut frames = 1;
    let mut rows = 0;
    while !d.prepare_batches(60, &styles, 4) {
        // Each frame shows more: what is laid out so far, never less.
        assert!(d.line_count() > rows, "frame {frames} made no progress");
        rows = d.line_count();
        frames += 1;
    }
    assert!(frames > 10, "{frames} frames");
    assert_eq!(all(&d), fresh(true, &text, 60, &styles));
    // A width change while behind is applied at once, and layout carries on at the new
    // width.
    let mut d = Doc::new(true);
    d.push_str(&text);
    d.prepare_batches(60, &styles, 4);
    assert!(!d.prepare_batches(30, &styles, 0));
    assert!(all(&d).iter().all(|r| r.width() <= 30));
    while !d.prepare_batches(30, &styles, 4) {}
    assert_eq!(all(&d), fresh(true, &text, 30, &styles));
}

#[test]
fn new_styles_wait_for_time_like_new_text() {
    let plain = DocStyles::plain();
    let color = DocStyles {
        color: true,
        ..DocStyles::plain()
    };
    let text = "# Title\n\n```rust\nfn main() {}\n```\n\nmore words\n";
    let mut d = Doc::new(true);
    d.push_str(text);
    d.prepare(40, &plain);
    let before = all(&d);
    assert!(!d.prepare_batches(40, &color, 0));
    assert_eq!(all(&d), before);
    while !d.prepare_batches(40, &color, 1) {}
    assert_eq!(all(&d), fresh(true, text, 40, &color));
    assert!(
        d.prepare_batches(40, &color, 0),
        "nothing left to do needs no time"
    );
}

/// Pieces big enough to cross the scanner's and highlighter's size limits.
fn big_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "word ".repeat(1000),
        "x".repeat(5000),
        "é".repeat(3000),
        "```rust\n".to_string(),
        "```\n".to_string(),
        "\n".to_string(),
        "\n\n".to_string(),
        "- item\n".repeat(400),
        "let a = 1; ".repeat(500),
    ]);
    prop::collection::vec(pieces, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn streaming_equals_rendering_whole_past_the_size_limits(
        text in big_text(),
        cuts in prop::collection::vec(0.0..1.0f64, 0..8),
        markdown in any::<bool>(),
    ) {
        let styles = DocStyles { color: true, ..DocStyles::plain() };
        let mut d = Doc::new(markdown);
        for chunk in chunks(&text, &cuts) {
            d.push_str(&chunk);
            d.prepare(37, &styles);
        }
        prop_assert_eq!(all(&d), fresh(markdown, &text, 37, &styles));
    }
}

#[test]
fn headings_keep_their_level_visible() {
    assert_eq!(
        render("# One\n## Two\ntext", 40),
        ["# One", "", "## Two", "", "text"]
    );
}

#[test]
fn lists_hang_their_continuation_rows() {
    let rows = render(
        "- alpha beta gamma\n- second\n  - nested item\n\n3. three\n4. four",
        12,
    );
    assert_eq!(
        rows,
        [
            "• alpha beta",
            "  gamma",
            "• second",
            "  ◦ nested",
            "    item",
            "",
            "3. three",
            "4. four"
        ]
    );
}

#[test]
fn list_continuations_stay_under_their_item() {
    let rows = render("1. step\n\n   more about it\n\n2. next", 40);
    assert_eq!(rows, ["1. step", "", "   more about it", "", "2. next"]);
}

#[test]
fn quotes_carry_a_bar_on_every_row() {
    let rows = render("> quoted words here\n>\n> again", 10);
    assert_eq!(rows, ["│ quoted", "│ words", "│ here", "│", "│ again"]);
}

#[test]
fn tables_are_aligned() {
    let rows = render("| name | n |\n|:-----|--:|\n| a | 100 |\n| long name | 2 |\n", 40);
    assert_eq!(
        rows,
        [
            "name      │   n",
            "──────────┼────",
            "a         │ 100",
            "long name │   2"
        ]
    );
}

#[test]
fn links_show_their_target_when_it_differs() {
    assert_eq!(
        render("[docs](https://x.io) <https://y.io>", 80),
        ["docs (https://x.io) https://y.io"]
    );
}

#[test]
fn rules_span_the_width() {
    assert_eq!(render("a\n\n---\n\nb", 5), ["a", "", "─────", "", "b"]);
}

#[test]
fn fences_get_a_label_and_keep_code_intact() {
    let rows = render("```rust\nfn main() {\n\n    let x = 1;\n}\n```\nafter", 8);
    assert_eq!(
        rows,
        [
            "── rust",
            "fn main(",
            ") {",
            "",
            "    let",
            "x = 1;",
            "}",
            "",
            "after"
        ]
    );
}

#[test]
fn the_language_is_a_dim_rule_across_the_block_not_a_line_of_text() {
    let mut d = Doc::new(true);
    d.push_str("```python\nx = 1\n```\n");
    d.prepare(20, &DocStyles::plain());
    assert_eq!(texts(&d), ["── python ──────────", "x = 1"]);
    let label = &all(&d)[0];
    assert!(
        label
            .spans
            .iter()
            .all(|s| s.style.add_modifier.contains(ratatui::style::Modifier::DIM))
    );
    // Too narrow for the rule: the name still shows.
    assert_eq!(render("```python\nx\n```\n", 9)[0], "── python");
}

#[test]
fn a_fence_closed_at_the_very_end_without_a_line_end_is_a_fence() {
    let text = "Code:\n\n```rust\nlet x = 1;\n```";
    assert_eq!(render(text, 16), ["Code:", "", "── rust ────────", "let x = 1;"]);
    // Streamed in pieces that end on the fence, or on part of it, the same.
    let mut d = Doc::new(true);
    for piece in ["Code:\n\n```rust\nlet x = 1;\n``", "`"] {
        d.push_str(piece);
        d.prepare(16, &DocStyles::plain());
    }
    assert_eq!(texts(&d), render(text, 16));
    // More text after it: the fence closed, the text is a paragraph.
    d.push_str("\nDone.");
    d.prepare(16, &DocStyles::plain());
    assert_eq!(
        texts(&d),
        ["Code:", "", "── rust ────────", "let x = 1;", "", "Done."]
    );
    // Backticks that do not close the fence stay code.
    assert_eq!(render("```\nx\n```not", 16), ["x", "```not"]);
}

#[test]
fn code_is_coloured_only_when_colour_is_on() {
    let text = "```rust\nfn main() { let x = \"s\"; }\n```\n";
    let fgs = |color: bool| -> Vec<Option<Color>> {
        let mut d = Doc::new(true);
        d.push_str(text);
        d.prepare(
            80,
            &DocStyles {
                color,
                ..DocStyles::plain()
            },
        );
        all(&d)[1].spans.iter().map(|s| s.style.fg).collect()
    };
    let coloured = fgs(true);
    assert!(coloured.len() > 2 && coloured.iter().all(|c| matches!(c, Some(Color::Rgb(..)))));
    assert!(fgs(false).iter().all(Option::is_none));
}

#[test]
fn unknown_languages_are_plain_code() {
    let mut d = Doc::new(true);
    d.push_str("```nosuchlang\nx = 1\n```\n");
    d.prepare(
        80,
        &DocStyles {
            color: true,
            ..DocStyles::plain()
        },
    );
    assert_eq!(
        texts(&d),
        [format!("── nosuchlang {}", "─".repeat(66)).as_str(), "x = 1"]
    );
    assert!(all(&d)[1].spans.iter().all(|s| s.style.fg.is_none()));
}

#[test]
fn plain_text_wraps_and_is_sanitized() {
    let mut d = Doc::new(false);
    d.push_str("# not a heading\x1b[31m and\tmore\r\n\nend");
    d.prepare(12, &DocStyles::plain());
    assert_eq!(texts(&d), ["# not a", "heading␛[31m", "and    more", "", "end"]);
}

#[test]
fn lines_clamps_its_range() {
    let mut d = Doc::new(true);
    d.push_str("a\n\nb");
    d.prepare(10, &DocStyles::plain());
    assert_eq!(d.line_count(), 3);
    assert_eq!(d.lines(2..99).len(), 1);
    assert!(d.lines(5..9).is_empty());
    assert!(!d.is_dirty());
    d.push_str("c");
    assert!(d.is_dirty());
    d.clear();
    assert_eq!((d.line_count(), d.text()), (0, ""));
}

/// About 1 MB of mixed markdown.
fn big_document() -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < 1 << 20 {
        s.push_str(&format!(
            "## Section {i}\n\nSome *prose* with `code` and words, item {i}.\n\n"
        ));
        s.push_str("- one\n- two\n\n```rust\nfn f(x: u32) -> u32 {\n    x + 1\n}\n```\n\n");
        i += 1;
    }
    s
}

#[test]
fn appending_costs_the_tail_not_the_document() {
    let styles = DocStyles {
        color: true,
        ..DocStyles::plain()
    };
    for tail_in_code in [false, true] {
        let mut d = Doc::new(true);
        d.push_str(&big_document());
        if tail_in_code {
            d.push_str("```rust\n");
        }
        d.prepare(60, &styles);
        let before = d.work_counter();
        let kb = "word ".repeat(205);
        for piece in kb.as_bytes().chunks(16) {
            d.push_str(std::str::from_utf8(piece).unwrap_or(""));
            d.prepare(60, &styles);
        }
        let spent = d.work_counter() - before;
        // Each of the 65 updates may redo the open tail (here at most ~1 KB).
        assert!(spent < 80 * 1024, "appending 1 KB cost {spent} work units");
        assert!(spent >= 1024);
    }
}

#[test]
fn huge_lines_stay_linear() {
    let line = "abcdefgh ".repeat(120_000);
    for (markdown, prefix) in [(true, ""), (true, "```\n"), (false, "")] {
        let mut d = Doc::new(markdown);
        d.push_str(prefix);
        for piece in line.as_bytes().chunks(4096) {
            d.push_str(std::str::from_utf8(piece).unwrap_or(""));
            d.prepare(50, &DocStyles::plain());
        }
        let ratio = d.work_counter() as f64 / line.len() as f64;
        assert!(
            ratio < 4.0,
            "markdown={markdown} prefix={prefix:?}: {ratio}x the text"
        );
        assert!(d.line_count() > 20_000);
    }
}

#[test]
fn hostile_input_does_not_panic() {
    let inputs = [
        "```\nunclosed\n\n\n",
        "> > > - - - ```\n\n* [ ] x\n***\n___",
        "\x00\x07\x08\x1b]0;title\x07\u{9b}\u{202e}",
        "| a |\n|---|\n| b | c | d |\n|",
        "[x](<>) ![](y) <div>\n\n</div> &amp; \\",
        "~~~~\n```\n~~~\n~~~~\n",
        "1.\n2.\n-\n\n  \t\t",
        "```   \r\n",
    ];
    for text in inputs {
        for width in [1, 2, 7, 80] {
            render(text, width);
            let mut d = Doc::new(false);
            d.push_str(text);
            d.prepare(width, &DocStyles::plain());
        }
    }
}
