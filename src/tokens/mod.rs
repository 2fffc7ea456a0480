//! Local token counting, used only where a provider reports no usage.
//!
//! Counts from here are estimates unless the provider is OpenAI and the encoding
//! matches the model; every place that shows one marks it as such.

mod live;

use std::sync::atomic::{AtomicBool, Ordering};

pub use live::LiveCounter;

use tiktoken_rs::CoreBPE;

static READY: AtomicBool = AtomicBool::new(false);

/// Load the tables now (call from a blocking thread); afterwards the `_if_ready`
/// functions count instead of returning `None`.
pub fn warm_up() {
    let _ = o200k();
    READY.store(true, Ordering::Release);
}

/// Whether the o200k tables are loaded (so counting will not block).
pub fn ready() -> bool {
    READY.load(Ordering::Acquire)
}

/// Like [`count_o200k`], but `None` instead of blocking while the tables still load, so a
/// UI thread can ask without ever waiting.
pub fn count_o200k_if_ready(text: &str) -> Option<usize> {
    READY.load(Ordering::Acquire).then(|| count_o200k(text))
}

/// The o200k_base encoding (GPT-4o, GPT-4.1, o-series, GPT-5 families).
///
/// Loading the tables takes a noticeable fraction of a second, so callers on a
/// latency-sensitive path should call this once from a blocking thread first.
pub fn o200k() -> &'static CoreBPE {
    tiktoken_rs::o200k_base_singleton()
}

/// Number of o200k_base tokens in `text`, special-token strings treated as text.
pub fn count_o200k(text: &str) -> usize {
    o200k().encode_ordinary(text).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_known_strings() {
        assert_eq!(count_o200k(""), 0);
        assert_eq!(count_o200k("hello world"), 2);
    }
}
