//! Deterministic generated text, cut into plausible tokens.
//!
//! Clients render and count what the mock sends, so the text should look like a model's
//! answer (markdown with a code fence, word pieces with leading spaces) and be reproducible:
//! the same prompt and seed always yield the same tokens.

use super::script::Corpus;

/// splitmix64: tiny, fast and good enough to pick words; keeps the mock free of `rand`.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// FNV-1a, used to derive the default seed from the prompt text.
pub fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

const ANSWERS: &[&str] = &[
    "## Streaming responses\n\nA streamed answer arrives as a sequence of small events. Three kinds matter:\n\n\
     - the first event carries the role\n- each later event carries a few tokens\n\
     - a final marker closes the stream\n\n```rust\nasync fn read(mut body: Body) -> usize {\n    \
     let mut n = 0;\n    while let Some(chunk) = body.next().await {\n        n += chunk.len();\n    \
     }\n    n\n}\n```\n\nMeasure the time to the first token separately from the rate that follows.\n",
    "### Choosing a buffer size\n\nLarger buffers reduce system calls. They also delay \
     the first byte, so:\n\n1. start with the default\n2. measure under realistic load\n\
     3. change one setting at a time\n\n```rust\nlet reader = BufReader::with_capacity(8 * 1024, \
     file);\nfor line in reader.lines() {\n    println!(\"{}\", line?);\n}\n```\n\n\
     Keep the numbers you measured next to the change that produced them.\n",
    "## Handling errors\n\nRetry only what is safe to repeat. That means:\n\n- rate limits, after the \
     advertised delay\n- overloaded servers, with backoff\n- never a request that already \
     streamed tokens\n\n```rust\nmatch status {\n    429 | 529 => Retry::After(delay),\n    \
     500..=599 => Retry::Backoff,\n    _ => Retry::Never,\n}\n```\n\nLog the request id so \
     the provider can trace a failure.\n",
];

const LOREM: &[&str] = &[
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
    "incididunt",
    "ut",
    "labore",
    "et",
    "dolore",
    "magna",
    "aliqua",
    "enim",
    "ad",
    "minim",
    "veniam",
    "quis",
    "nostrud",
    "exercitation",
    "ullamco",
    "laboris",
];

const THOUGHTS: &str = "Let me think about what the user is asking. They want a short answer \
     with an example, so I should explain the idea first, then show code, and keep it concise. \
     I will check the edge cases before answering. ";

/// Cuts text into token-like pieces: a word with its leading space (long words split after
/// six characters), punctuation marks (runs of one mark up to three), and each newline on
/// its own.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut word_len = 0;
    let flush = |current: &mut String, out: &mut Vec<String>| {
        if !current.is_empty() {
            out.push(std::mem::take(current));
        }
    };
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' {
            let after_mark = current.ends_with(|p: char| !(p.is_alphanumeric() || p == '_' || p == ' '));
            if word_len == 6 || after_mark {
                flush(&mut current, &mut out);
                word_len = 0;
            }
            current.push(c);
            word_len += 1;
        } else if c == ' ' {
            // A run of spaces stays together (code indentation) until a word takes it.
            if word_len > 0 || current.ends_with(|ch: char| ch != ' ') {
                flush(&mut current, &mut out);
            }
            current.push(c);
            word_len = 0;
        } else if c != '\n' && current.chars().all(|p| p == c) && current.len() < 3 {
            // Runs of one mark ("##", "```") are single tokens in real vocabularies.
            current.push(c);
            word_len = 0;
        } else {
            flush(&mut current, &mut out);
            if c == '\n' {
                out.push(c.to_string());
            } else {
                current.push(c);
            }
            word_len = 0;
        }
    }
    flush(&mut current, &mut out);
    out
}

/// Exactly `count` text tokens from `corpus`.
pub fn text_tokens(corpus: Corpus, seed: u64, echo: &str, count: usize) -> Vec<String> {
    let mut rng = SplitMix64::new(seed);
    let mut pool: Vec<String> = Vec::new();
    let mut answer = rng.below(ANSWERS.len());
    let echo_tokens = tokenize(echo);
    while pool.len() < count {
        let before = pool.len();
        match corpus {
            Corpus::Markdown => {
                if before > 0 {
                    pool.push("\n".into());
                }
                pool.extend(tokenize(ANSWERS[answer % ANSWERS.len()]));
                answer += 1;
            }
            Corpus::Lorem => {
                let word = LOREM[rng.below(LOREM.len())];
                pool.push(if before == 0 {
                    word.to_string()
                } else {
                    format!(" {word}")
                });
            }
            Corpus::Echo => {
                if echo_tokens.is_empty() {
                    pool.push(" echo".into());
                } else {
                    if before > 0 {
                        pool.push(" ".into());
                    }
                    pool.extend(echo_tokens.iter().cloned());
                }
            }
        }
    }
    pool.truncate(count);
    pool
}

/// The scripted answer the `tokens=N` directive asks for, and whether it is complete.
///
/// Markdown answers end at the last sentence end or paragraph end at or
/// before `count` tokens (outside code fences), so an answer the directive shapes reads
/// as finished and can honestly finish `stop`; when the first `count` tokens hold no such
/// end, all `count` are sent and the answer is incomplete (the caller finishes `length`).
/// Lorem and echo text have no sentences: they are exactly `count` tokens, complete.
pub fn scripted_answer(corpus: Corpus, seed: u64, echo: &str, count: usize) -> (Vec<String>, bool) {
    if corpus != Corpus::Markdown || count == 0 {
        return (text_tokens(corpus, seed, echo, count), true);
    }
    // One token past the limit shows whether a `.` ends a sentence or starts `.5`.
    let mut tokens = text_tokens(corpus, seed, echo, count + 1);
    let end = last_complete_end(&tokens, count);
    tokens.truncate(end.unwrap_or(count));
    (tokens, end.is_some())
}

/// The largest `n <= limit` such that `tokens[..n]` ends at a sentence end (with its line
/// end, when one follows) or at a paragraph end (a list's or a code block's end
/// included), outside any code fence. A list item alone ends nothing (the list may go
/// on), nor does a heading or a line ending in `:`, which introduce what follows.
fn last_complete_end(tokens: &[String], limit: usize) -> Option<usize> {
    let mut best = None;
    let mut in_fence = false;
    let mut line = String::new();
    for (i, token) in tokens.iter().enumerate().take(limit) {
        let next = tokens.get(i + 1).map(String::as_str);
        if token == "\n" {
            let text = line.trim();
            if text.starts_with("```") {
                in_fence = !in_fence;
            }
            let block_ends = next.is_none_or(|n| n == "\n");
            let introduces = text.starts_with('#') || text.ends_with(':');
            let closes_fence = text.starts_with("```") && !in_fence;
            if !in_fence && !text.is_empty() && !introduces && (block_ends || closes_fence) {
                best = Some(i + 1);
            }
            line.clear();
            continue;
        }
        line.push_str(token);
        let text = line.trim();
        let sentence = !in_fence
            && text.ends_with(['.', '!', '?'])
            && ordered_marker(text) != Some(text.len())
            && next.is_none_or(|n| n.starts_with([' ', '\n']));
        if sentence {
            // Keep the line end that follows, as a finished answer has one.
            best = Some(if next == Some("\n") && i + 2 <= limit {
                i + 2
            } else {
                i + 1
            });
        }
    }
    best
}

/// The length of an ordered-list marker (`12.`) at the start of `line`.
fn ordered_marker(line: &str) -> Option<usize> {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0 && line[digits..].starts_with('.')).then_some(digits + 1)
}

/// The refusal message `refuse=1` answers with, as the tokens it streams in.
pub fn refusal_tokens() -> Vec<String> {
    tokenize("I'm sorry, but I can't help with that.")
}

/// Exactly `count` reasoning tokens.
pub fn reasoning_tokens(count: usize) -> Vec<String> {
    let base = tokenize(THOUGHTS);
    base.iter().cycle().take(count).cloned().collect()
}

/// The fixed tool arguments, cut into several fragments the way providers stream them.
pub fn tool_arguments() -> (String, Vec<String>) {
    let fragments = [
        "{\"", "city", "\":\"", "Paris", "\",\"", "unit", "\":\"", "celsius", "\"}",
    ];
    (
        fragments.concat(),
        fragments.iter().map(|s| s.to_string()).collect(),
    )
}

/// One mebibyte of text for the `big_line` fault.
pub fn big_text() -> String {
    let word = "bigline ";
    let mut s = word.repeat((1 << 20) / word.len());
    s.truncate(1 << 20);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenize_round_trips_and_splits_words() {
        let text = "## Hello streaming\n\n```rust\n    let x = 1;\n```";
        let tokens = tokenize(text);
        assert_eq!(tokens.concat(), text);
        assert!(tokens.contains(&" stream".to_string()));
        assert!(tokens.contains(&"ing".to_string()));
        assert!(tokens.contains(&"\n".to_string()));
        assert!(tokens.contains(&"```".to_string()) && tokens.contains(&"##".to_string()));
    }

    #[test]
    fn text_is_deterministic_and_exact() {
        for corpus in [Corpus::Lorem, Corpus::Markdown, Corpus::Echo] {
            let a = text_tokens(corpus, 7, "say this", 300);
            assert_eq!(a.len(), 300);
            assert_eq!(a, text_tokens(corpus, 7, "say this", 300));
        }
        assert!(
            text_tokens(Corpus::Markdown, 1, "", 400)
                .concat()
                .contains("```rust")
        );
    }

    fn strings(pieces: &[&str]) -> Vec<String> {
        pieces.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_complete_end_is_a_sentence_a_list_item_or_a_paragraph_outside_code() {
        let t = strings(&[
            "##", " Title", "\n", "\n", "Intro", ":", "\n", "\n", "1", ".", " first", "\n", "-", " item",
            "\n", "\n", "```", "rust", "\n", "a", ".", " b", "\n", "```", "\n", "\n", "End", ".", "\n",
        ]);
        // Neither the heading, the `:` intro nor the list number `1.` end anything.
        assert_eq!(last_complete_end(&t, 10), None);
        assert_eq!(last_complete_end(&t, 12), None, "the list goes on");
        assert_eq!(last_complete_end(&t, 15), Some(15), "after the list");
        // `a.` inside the fence is code, not a sentence.
        assert_eq!(last_complete_end(&t, 23), Some(15));
        assert_eq!(last_complete_end(&t, 25), Some(25), "after the closing fence");
        assert_eq!(
            last_complete_end(&t, 28),
            Some(28),
            "the sentence, its line end not yet sent"
        );
        assert_eq!(
            last_complete_end(&t, 29),
            Some(29),
            "the sentence with its line end"
        );
    }

    #[test]
    fn a_sentence_needs_a_space_after_its_mark() {
        let t = strings(&["Pi", " is", " 3", ".", "14", "."]);
        assert_eq!(last_complete_end(&t, 4), None);
        assert_eq!(last_complete_end(&t, 6), Some(6));
    }

    #[test]
    fn scripted_markdown_ends_complete_or_says_it_is_cut() {
        for seed in 0..6 {
            for count in [40, 120, 160, 300] {
                let (tokens, complete) = scripted_answer(Corpus::Markdown, seed, "", count);
                assert!(tokens.len() <= count);
                assert!(complete, "seed {seed}, {count} tokens");
                let text = tokens.concat();
                assert_eq!(text.matches("```").count() % 2, 0, "never inside a fence: {text}");
                assert!(!text.trim_end().ends_with(':'), "{text}");
            }
        }
        let (tokens, complete) = scripted_answer(Corpus::Markdown, 1, "", 4);
        assert_eq!((tokens.len(), complete), (4, false), "no end within 4 tokens");
        let (tokens, complete) = scripted_answer(Corpus::Lorem, 1, "", 7);
        assert_eq!(
            (tokens.len(), complete),
            (7, true),
            "lorem has no sentences to end"
        );
    }

    #[test]
    fn big_text_is_one_mebibyte() {
        assert_eq!(big_text().len(), 1 << 20);
    }
}
