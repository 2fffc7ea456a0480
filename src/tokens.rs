//! Local token counting, used only where a provider reports no usage.
//!
//! Counts from here are estimates unless the provider is OpenAI and the encoding
//! matches the model; every place that shows one marks it as such.

use tiktoken_rs::CoreBPE;

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
