//! Exact token counts of streamed text, updated per delta at a cost proportional to the
//! delta, not to the text so far.
//!
//! The o200k tokenizer first splits text into pieces with a regular expression and never
//! merges tokens across pieces, so a count is the sum of per-piece counts. Appending text
//! can only change the pieces near the end, and the pattern has no lookbehind, so pieces
//! after a boundary depend only on the text after it. A piece is final once at least four
//! characters follow it (the longest lookahead is a `'re`-style contraction) and a
//! non-whitespace character follows the whitespace run after it (the `\s+(?!\S)` and
//! `\s*[\r\n]+` alternatives look to the end of a whitespace run). Final pieces are counted
//! once; only the unfinished tail is re-counted on each delta.

use std::sync::LazyLock;

use fancy_regex::Regex;

use super::{count_o200k, ready};

/// The o200k pre-tokenization pattern, compiled once.
static SPLIT: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(tiktoken_rs::O200K_BASE_PAT_STR).ok());

/// A running o200k count of text that only grows.
#[derive(Debug, Default, Clone)]
pub struct LiveCounter {
    text: String,
    /// Byte offset up to which every piece is final.
    frozen: usize,
    frozen_tokens: usize,
    tail_tokens: usize,
    /// Text arrived before the tables loaded; counted on the first push after.
    behind: bool,
}

impl LiveCounter {
    /// An empty counter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append a delta. Never blocks on the tokenizer tables: while they load, text is only
    /// stored and counted on the first push after they are ready.
    pub fn push(&mut self, delta: &str) {
        self.text.push_str(delta);
        if !ready() {
            self.behind = true;
            return;
        }
        self.behind = false;
        self.recount_tail();
    }

    /// Tokens in all text pushed so far, or `None` while the tables are still loading.
    pub fn count(&self) -> Option<usize> {
        (!self.behind && (ready() || self.text.is_empty())).then_some(self.frozen_tokens + self.tail_tokens)
    }

    /// The text counted.
    pub fn text(&self) -> &str {
        &self.text
    }

    fn recount_tail(&mut self) {
        let Some(split) = SPLIT.as_ref() else {
            // The pattern ships with the tokenizer and compiles; counting whole is the safe fallback.
            self.frozen_tokens = 0;
            self.tail_tokens = count_o200k(&self.text);
            return;
        };
        let tail = &self.text[self.frozen..];
        let mut newly_frozen = 0;
        let mut frozen_to = 0;
        for m in split.find_iter(tail) {
            let Ok(m) = m else { break };
            if !is_final(&tail[m.end()..]) {
                break;
            }
            newly_frozen += count_o200k(m.as_str());
            frozen_to = m.end();
        }
        self.frozen += frozen_to;
        self.frozen_tokens += newly_frozen;
        self.tail_tokens = count_o200k(&self.text[self.frozen..]);
    }
}

/// Whether a piece followed by `after` can no longer change whatever is appended.
fn is_final(after: &str) -> bool {
    after.chars().nth(3).is_some() && !after.trim_start().is_empty()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::tokens::{count_o200k, warm_up};

    fn check(chunks: &[String]) {
        warm_up();
        let mut live = LiveCounter::new();
        let mut whole = String::new();
        for c in chunks {
            live.push(c);
            whole.push_str(c);
            assert_eq!(live.count(), Some(count_o200k(&whole)), "after {:?}", whole);
        }
    }

    #[test]
    fn known_tricky_appends() {
        let cases: &[&[&str]] = &[
            &["don", "'", "t stop"],
            &["a  ", "  ", "b"],
            &["\n", "  ", "\n", "x"],
            &["12", "34", "5 6"],
            &["hello", "!!", "//", "\r", "\n", "world"],
            &["e\u{301}", "\u{301}", "t\u{e9}"],
            &["👩", "\u{200d}", "💻 ok"],
            &["日本", "語の", "テキスト"],
            &["    fn main() {", "\n        let x", " = 1;\n    }\n"],
        ];
        for c in cases {
            check(&c.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn cost_is_proportional_to_the_tail() {
        warm_up();
        let mut live = LiveCounter::new();
        for _ in 0..2000 {
            live.push("The quick brown fox jumps over the lazy dog. ");
        }
        // Everything but the last few pieces is frozen: the tail is tiny.
        assert!(
            live.text.len() - live.frozen < 64,
            "tail {} bytes",
            live.text.len() - live.frozen
        );
    }

    const FRAGMENTS: &[&str] = &[
        " ",
        "  ",
        "\n",
        "\n\n",
        "\r\n",
        "\t",
        "word",
        " word",
        "Word",
        "WORD",
        "'s",
        "'re",
        "'",
        "don",
        "t",
        "123",
        "4567",
        ".",
        "!",
        "//",
        "/",
        "-",
        "é",
        "e\u{301}",
        "\u{301}",
        "日本",
        "語",
        "🙂",
        "👩\u{200d}💻",
        "\u{200d}",
        "()",
        "{",
        "}",
        ";",
        "fn",
        "_",
        "ß",
        "İ",
        "x",
        "  \n",
        " \n ",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn every_count_equals_a_full_recount(parts in proptest::collection::vec(0..FRAGMENTS.len(), 1..60), cuts in proptest::collection::vec(any::<usize>(), 0..20)) {
            let text: String = parts.iter().map(|&i| FRAGMENTS[i]).collect();
            // Split at random character boundaries (inside grapheme clusters too).
            let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).skip(1).collect();
            let mut at: Vec<usize> = cuts.iter().filter(|_| !bounds.is_empty()).map(|c| bounds[c % bounds.len()]).collect();
            at.sort_unstable();
            at.dedup();
            let mut chunks = Vec::new();
            let mut prev = 0;
            for a in at.into_iter().chain(std::iter::once(text.len())) {
                chunks.push(text[prev..a].to_string());
                prev = a;
            }
            check(&chunks);
        }
    }
}
