//! Blind comparison: answers shown under letters in a shuffled order, and a check for
//! answers that give their own maker away.
//!
//! Hiding the names is not enough when a model says "As Claude, …": such an answer is
//! flagged as possibly self-identifying, as public arenas do, and the flag is saved with
//! the vote so tallies can leave those votes out.

use crate::target::ProviderKind;

/// Who made a model, as far as its answers could give away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Maker {
    OpenAi,
    Anthropic,
    Google,
    Meta,
    Mistral,
    Alibaba,
    DeepSeek,
    XAi,
    Cohere,
    Microsoft,
}

impl Maker {
    /// Words an answer would use to name this maker or its models. Common words that
    /// appear in ordinary answers ("google it", "meta-analysis") are left out on purpose.
    fn names(self) -> &'static [&'static str] {
        match self {
            Self::OpenAi => &[
                "openai", "chatgpt", "gpt-3", "gpt-4", "gpt-4o", "gpt-5", "gpt4", "gpt5",
            ],
            Self::Anthropic => &["anthropic", "claude"],
            Self::Google => &["gemini", "gemma", "deepmind", "google ai", "bard"],
            Self::Meta => &["llama", "meta ai"],
            Self::Mistral => &["mistral", "mixtral", "codestral"],
            Self::Alibaba => &["qwen", "alibaba", "tongyi"],
            Self::DeepSeek => &["deepseek"],
            Self::XAi => &["grok", "xai"],
            Self::Cohere => &["cohere", "command r", "command-r"],
            Self::Microsoft => &["phi-3", "phi-4"],
        }
    }

    /// The maker of `model` served through `provider`: the API's own vendor for first-party
    /// APIs, else read from the model id (an OpenAI-compatible server can serve anyone's).
    pub fn of(provider: ProviderKind, model: &str) -> Option<Self> {
        match provider {
            ProviderKind::OpenAi => return Some(Self::OpenAi),
            ProviderKind::Anthropic => return Some(Self::Anthropic),
            ProviderKind::Gemini => return Some(Self::Google),
            // A compatible server, or an Azure deployment (named by its owner), can serve
            // anyone's model: read it from the name. Bedrock serves many makers; the model
            // id names which (`anthropic.claude-…`).
            ProviderKind::OpenAiCompatible | ProviderKind::Azure | ProviderKind::Bedrock => {}
        }
        let id = model.to_lowercase();
        const BY_ID: &[(&str, Maker)] = &[
            ("gpt", Maker::OpenAi),
            ("o1", Maker::OpenAi),
            ("o3", Maker::OpenAi),
            ("o4", Maker::OpenAi),
            ("claude", Maker::Anthropic),
            ("gemini", Maker::Google),
            ("gemma", Maker::Google),
            ("llama", Maker::Meta),
            ("mistral", Maker::Mistral),
            ("mixtral", Maker::Mistral),
            ("codestral", Maker::Mistral),
            ("qwen", Maker::Alibaba),
            ("qwq", Maker::Alibaba),
            ("deepseek", Maker::DeepSeek),
            ("grok", Maker::XAi),
            ("command", Maker::Cohere),
            ("phi-", Maker::Microsoft),
        ];
        // The last path segment is the model itself ("meta-llama/Llama-3.1-8B").
        let last = id.rsplit('/').next().unwrap_or(&id);
        BY_ID
            .iter()
            .find(|(word, _)| last.contains(word))
            .or_else(|| BY_ID.iter().find(|(word, _)| id.contains(word)))
            .map(|&(_, maker)| maker)
    }
}

/// Whether `answer` names the model that wrote it (`model` via `provider`) or its maker.
pub fn self_identifies(answer: &str, provider: ProviderKind, model: &str) -> bool {
    let text = answer.to_lowercase();
    let model = model.to_lowercase();
    let model = model.rsplit('/').next().unwrap_or(&model);
    if model.len() >= 4 && contains_word(&text, model) {
        return true;
    }
    Maker::of(provider, model)
        .is_some_and(|maker| maker.names().iter().any(|name| contains_word(&text, name)))
}

/// `needle` occurs in `haystack` not inside a longer word ("claude" is not in
/// "claudette"); a name ending in a digit may go on ("gpt-4" is in "gpt-4o").
fn contains_word(haystack: &str, needle: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric();
    haystack.match_indices(needle).any(|(at, _)| {
        let starts_a_word = !haystack[..at].chars().next_back().is_some_and(is_word);
        let after = &haystack[at + needle.len()..];
        let ends_a_word = needle.ends_with(|c: char| c.is_ascii_digit()) || !after.starts_with(is_word);
        starts_a_word && ends_a_word
    })
}

/// The order `n` answers are shown in blind: `order[k]` is the answer labelled
/// [`label`]`(k)`. The same seed gives the same order, so a session can say what it showed.
pub fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    fastrand::Rng::with_seed(seed).shuffle(&mut order);
    order
}

/// The label of the `k`-th answer shown: A … Z, then AA, AB, …
pub fn label(k: usize) -> String {
    let mut k = k;
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (k % 26) as u8);
        if k < 26 {
            break;
        }
        k = k / 26 - 1;
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_naming_its_own_maker_or_model_is_flagged() {
        let p = ProviderKind::Anthropic;
        assert!(self_identifies(
            "As Claude, I cannot browse.",
            p,
            "claude-haiku-4-5"
        ));
        assert!(self_identifies(
            "I was trained by Anthropic.",
            p,
            "claude-haiku-4-5"
        ));
        assert!(!self_identifies("Claudette is a name.", p, "claude-haiku-4-5"));
        // Another maker's name is not a self-identification.
        assert!(!self_identifies("ChatGPT says otherwise.", p, "claude-haiku-4-5"));
        assert!(self_identifies(
            "I am ChatGPT.",
            ProviderKind::OpenAi,
            "gpt-4o-mini"
        ));
        assert!(self_identifies(
            "Built on GPT-4o.",
            ProviderKind::OpenAi,
            "gpt-4o-mini"
        ));
        assert!(!self_identifies(
            "Just google it.",
            ProviderKind::Gemini,
            "gemini-2.5-flash"
        ));
        assert!(self_identifies(
            "I'm Gemini, made by Google.",
            ProviderKind::Gemini,
            "gemini-2.5-flash"
        ));
    }

    #[test]
    fn compatible_servers_are_judged_by_the_model_they_serve() {
        let p = ProviderKind::OpenAiCompatible;
        assert_eq!(
            Maker::of(p, "meta-llama/Llama-3.1-8B-Instruct"),
            Some(Maker::Meta)
        );
        assert_eq!(Maker::of(p, "qwen2.5:7b"), Some(Maker::Alibaba));
        assert_eq!(Maker::of(p, "deepseek-ai/DeepSeek-R1"), Some(Maker::DeepSeek));
        assert_eq!(Maker::of(p, "my-finetune"), None);
        assert!(self_identifies("I am Llama, by Meta AI.", p, "llama3.2"));
        assert!(!self_identifies("The answer is 4.", p, "llama3.2"));
        assert!(self_identifies("This is my-finetune speaking.", p, "my-finetune"));
    }

    #[test]
    fn blind_order_is_a_permutation_that_a_seed_reproduces() {
        let a = shuffled(8, 42);
        assert_eq!(a, shuffled(8, 42));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..8).collect::<Vec<_>>());
        // Some seed among a few moves something (one fixed order would not be blind).
        assert!((0..8).any(|s| shuffled(8, s) != (0..8).collect::<Vec<_>>()));
    }

    #[test]
    fn labels_run_a_to_z_then_double_letters() {
        let got: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702].map(label).to_vec();
        assert_eq!(got, ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]);
    }
}
