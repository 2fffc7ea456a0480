//! Local token counting: pre-flight, `prism count`, the live per-delta counts, and usage
//! estimates where a provider reports none. Counting uses `bpe-openai` (identical counts
//! to tiktoken, faster; checked by tests/tokenizer_crosscheck.rs); tiktoken-rs supplies
//! the pre-tokenization pattern the live counter splits with.
//!
//! Counts from here are estimates unless the provider is OpenAI and the encoding
//! matches the model; every place that shows one marks it as such.

mod live;

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

pub use live::LiveCounter;

/// Whether each encoding's tables are loaded.
static O200K_READY: AtomicBool = AtomicBool::new(false);
static CL100K_READY: AtomicBool = AtomicBool::new(false);
static CL100K_LOADING: Once = Once::new();

fn loaded_flag(encoding: Encoding) -> &'static AtomicBool {
    match encoding {
        Encoding::O200k => &O200K_READY,
        Encoding::Cl100k => &CL100K_READY,
    }
}

/// An upper bound on the o200k or cl100k token count of `text` that needs no tables: its
/// UTF-8 length in bytes. Both encodings are byte-level BPE: the text is cut into pieces
/// and each piece into tokens that partition its bytes, and no token is empty, so every
/// token covers at least one byte and there are never more tokens than bytes.
pub fn upper_bound(text: &str) -> usize {
    text.len()
}

/// Load `encoding`'s tables now (call from a blocking thread: tens of MB, tens of ms).
pub fn load(encoding: Encoding) {
    let _ = count(encoding, "warm up");
}

/// Load the o200k tables now (call from a blocking thread); afterwards the `_if_ready`
/// functions count instead of returning `None`.
pub fn warm_up() {
    load(Encoding::O200k);
}

/// Whether the o200k tables are loaded (so counting will not block).
pub fn ready() -> bool {
    ready_for(Encoding::O200k)
}

/// Whether `encoding`'s tables are loaded (so counting with it will not block).
pub fn ready_for(encoding: Encoding) -> bool {
    loaded_flag(encoding).load(Ordering::Acquire)
}

/// Start loading the cl100k tables on a background thread, once; returns at once. Only
/// GPT-4 and GPT-3.5 targets need them, so they load when such a target shows up.
pub fn load_cl100k_in_background() {
    CL100K_LOADING.call_once(|| {
        // A thread that cannot start only means the tables load on first exact count.
        let _ = std::thread::Builder::new()
            .name("cl100k-tables".into())
            .spawn(|| load(Encoding::Cl100k));
    });
}

/// Like [`count_o200k`], but `None` instead of blocking while the tables still load, so a
/// UI thread can ask without ever waiting.
pub fn count_o200k_if_ready(text: &str) -> Option<usize> {
    ready().then(|| count_o200k(text))
}

/// A tokenizer encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// GPT-4o, GPT-4.1, o-series, GPT-5.
    O200k,
    /// GPT-4 and GPT-3.5.
    Cl100k,
}

/// The encoding to count `model` with, and whether that count is exact. OpenAI models
/// use their own encoding; Claude, Gemini and open models have tokenizers of their own
/// that are not public in this form, so o200k stands in and the count is an estimate.
pub fn encoding_for(model: &str) -> (Encoding, bool) {
    let m = model
        .split('+')
        .next()
        .unwrap_or(model)
        .rsplit('/')
        .next()
        .unwrap_or(model);
    let o200k = [
        "gpt-4o",
        "chatgpt-4o",
        "gpt-4.1",
        "gpt-4.5",
        "gpt-5",
        "o1",
        "o3",
        "o4",
    ];
    if o200k.iter().any(|p| m.starts_with(p)) {
        (Encoding::O200k, true)
    } else if m.starts_with("gpt-4") || m.starts_with("gpt-3.5") {
        (Encoding::Cl100k, true)
    } else {
        (Encoding::O200k, false)
    }
}

/// Tokens in `text` with `encoding` (loading its tables first if they are not yet).
pub fn count(encoding: Encoding, text: &str) -> usize {
    let n = match encoding {
        Encoding::O200k => bpe_openai::o200k_base().count(text),
        Encoding::Cl100k => bpe_openai::cl100k_base().count(text),
    };
    // Whoever counted first loaded the tables: later askers need not wait.
    loaded_flag(encoding).store(true, Ordering::Release);
    n
}

/// Tokens a chat request's messages take, as OpenAI counts the chat format: 3 per
/// message of overhead plus its role and its text, and 3 more that prime the reply. The
/// pre-flight check counts a prompt this way; the mock reports OpenAI usage this way.
pub fn chat_prompt_tokens<'a>(
    encoding: Encoding,
    messages: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> usize {
    let body: usize = messages
        .into_iter()
        .map(|(role, text)| CHAT_MESSAGE_OVERHEAD + count(encoding, role) + count(encoding, text))
        .sum();
    body + CHAT_REPLY_PRIMING
}

/// Tokens of overhead each chat message adds besides its role and text.
pub const CHAT_MESSAGE_OVERHEAD: usize = 3;
/// Tokens that prime the reply, once per chat request.
pub const CHAT_REPLY_PRIMING: usize = 3;

/// Number of o200k_base tokens in `text`, special-token strings treated as text.
pub fn count_o200k(text: &str) -> usize {
    count(Encoding::O200k, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_by_model_family() {
        assert_eq!(encoding_for("gpt-4o-mini-2024-07-18"), (Encoding::O200k, true));
        assert_eq!(encoding_for("o3-2025-04-16"), (Encoding::O200k, true));
        assert_eq!(encoding_for("gpt-4-0613"), (Encoding::Cl100k, true));
        assert_eq!(encoding_for("gpt-3.5-turbo-0125"), (Encoding::Cl100k, true));
        assert_eq!(encoding_for("claude-sonnet-4-20250514"), (Encoding::O200k, false));
        assert_eq!(encoding_for("openai/gpt-4.1"), (Encoding::O200k, true));
        // Known values from tiktoken for both encodings.
        assert_eq!(count(Encoding::Cl100k, "hello world"), 2);
        assert_eq!(count(Encoding::O200k, "tiktoken is great!"), 6);
        assert_eq!(count(Encoding::Cl100k, "tiktoken is great!"), 6);
    }

    #[test]
    fn a_chat_prompt_counts_each_message_with_its_role_and_overhead() {
        let msgs = [("system", "Be brief."), ("user", "hello world")];
        let by_hand = 3 + 1 + count_o200k("Be brief.") + 3 + 1 + 2 + 3;
        assert_eq!(chat_prompt_tokens(Encoding::O200k, msgs), by_hand);
        assert_eq!(chat_prompt_tokens(Encoding::O200k, []), 3);
    }

    #[test]
    fn counts_known_strings() {
        assert_eq!(count_o200k(""), 0);
        assert_eq!(count_o200k("hello world"), 2);
    }

    #[test]
    fn the_byte_count_bounds_both_encodings_from_above() {
        // Single bytes, multi-byte scripts, emoji, whitespace runs and digits: the
        // cases where tokens are shortest.
        let texts = [
            "",
            "a",
            "hi",
            "  \n\n\t ",
            "0123456789",
            "héllo wörld",
            "日本語のテキスト",
            "👩‍👩‍👧‍👦🎉",
            "<|endoftext|>",
            "fn main() { println!(\"hi\"); }",
        ];
        for text in texts {
            for encoding in [Encoding::O200k, Encoding::Cl100k] {
                assert!(
                    count(encoding, text) <= upper_bound(text),
                    "{encoding:?} {text:?}"
                );
            }
        }
        assert_eq!(upper_bound("hi"), 2);
    }
}
