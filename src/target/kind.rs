//! Which wire protocol a target speaks, with the defaults a config falls back on.
//!
//! How each kind builds requests and decodes streams lives in `provider`.

use std::fmt;
use std::str::FromStr;

/// Which wire protocol a target speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// OpenAI Chat Completions at api.openai.com.
    OpenAi,
    /// Any server speaking the OpenAI Chat Completions format (vLLM, Ollama, Groq...).
    OpenAiCompatible,
    /// Anthropic Messages.
    Anthropic,
    /// Google Gemini API (generativelanguage.googleapis.com).
    Gemini,
}

impl ProviderKind {
    /// Every kind, in the order shown in help text.
    pub const ALL: [ProviderKind; 4] = [
        Self::OpenAi,
        Self::OpenAiCompatible,
        Self::Anthropic,
        Self::Gemini,
    ];

    /// The name used in config files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::OpenAiCompatible => "openai-compatible",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
        }
    }

    /// Environment variables tried for the key when the config names none, in order.
    /// OpenAI-compatible servers are often local and keyless, so they have no default.
    pub fn default_key_envs(self) -> &'static [&'static str] {
        match self {
            Self::OpenAi => &["OPENAI_API_KEY"],
            Self::OpenAiCompatible => &[],
            Self::Anthropic => &["ANTHROPIC_API_KEY"],
            Self::Gemini => &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        }
    }

    /// The public endpoint used when the config gives no `base_url`.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            Self::OpenAi => Some("https://api.openai.com/v1"),
            Self::OpenAiCompatible => None,
            Self::Anthropic => Some("https://api.anthropic.com"),
            Self::Gemini => Some("https://generativelanguage.googleapis.com"),
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProviderKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            let names: Vec<_> = Self::ALL.iter().map(|k| k.as_str()).collect();
            format!("unknown provider `{s}`, expected one of: {}", names.join(", "))
        })
    }
}
