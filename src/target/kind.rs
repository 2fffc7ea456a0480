//! Which provider a target talks to. Its facts live in its row of the provider table
//! ([`ProviderSpec`]); how each protocol builds requests and decodes streams lives in
//! `provider`.

use std::fmt;
use std::str::FromStr;

use super::spec::{self, ProviderSpec};

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
    /// AWS Bedrock's Converse API, signed with SigV4 or sent with a Bedrock API key.
    Bedrock,
    /// Azure OpenAI: a deployment in the user's own Azure resource, over Chat Completions
    /// or the Responses API.
    Azure,
}

impl ProviderKind {
    /// Every kind, in the order shown in help text.
    pub const ALL: [ProviderKind; 6] = [
        Self::OpenAi,
        Self::OpenAiCompatible,
        Self::Anthropic,
        Self::Gemini,
        Self::Bedrock,
        Self::Azure,
    ];

    /// This kind's row in the provider table: every fact about it.
    pub fn spec(self) -> &'static ProviderSpec {
        match self {
            Self::OpenAi => &spec::OPENAI,
            Self::OpenAiCompatible => &spec::OPENAI_COMPATIBLE,
            Self::Anthropic => &spec::ANTHROPIC,
            Self::Gemini => &spec::GEMINI,
            Self::Bedrock => &spec::BEDROCK,
            Self::Azure => &spec::AZURE,
        }
    }

    /// The name used in config files and output.
    pub fn as_str(self) -> &'static str {
        self.spec().name
    }

    /// Environment variables tried for the key when the config names none, in order.
    /// OpenAI-compatible servers are often local and keyless, so they have no default.
    pub fn default_key_envs(self) -> &'static [&'static str] {
        self.spec().key_envs
    }

    /// The public endpoint used when the config gives no `base_url`.
    pub fn default_base_url(self) -> Option<&'static str> {
        self.spec().default_base_url
    }

    /// The row for this kind speaking `api`; `None` when the kind does not offer it.
    pub fn spec_for(self, api: Api) -> Option<&'static ProviderSpec> {
        match (self, api) {
            (kind, Api::Chat) => Some(kind.spec()),
            (Self::OpenAi, Api::Responses) => Some(&spec::OPENAI_RESPONSES),
            (Self::OpenAiCompatible, Api::Responses) => Some(&spec::OPENAI_COMPATIBLE_RESPONSES),
            (Self::Azure, Api::Responses) => Some(&spec::AZURE_RESPONSES),
            (Self::Anthropic | Self::Gemini | Self::Bedrock, Api::Responses) => None,
        }
    }

    /// Whether a target's `model` is the user's own name for a deployment (Azure) rather
    /// than a model id: the model behind it is known only from `price_as` or the model the
    /// response names.
    pub fn model_is_deployment(self) -> bool {
        matches!(self, Self::Azure)
    }

    /// The APIs this kind offers, its own first.
    pub fn apis(self) -> impl Iterator<Item = Api> {
        Api::ALL.into_iter().filter(move |a| self.spec_for(*a).is_some())
    }
}

/// Which of its provider's APIs a target speaks (`api` in the config). Every kind has
/// its own (`chat`); OpenAI, OpenAI-compatible servers and Azure also offer the Responses
/// API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Api {
    /// The kind's own API: Chat Completions, Messages, generateContent.
    #[default]
    Chat,
    /// The OpenAI Responses API (`POST {base}/responses`).
    Responses,
}

impl Api {
    /// Every API, in the order shown in help text.
    pub const ALL: [Api; 2] = [Self::Chat, Self::Responses];

    /// The name used in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Responses => "responses",
        }
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Api {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("unknown api `{s}`, expected `chat` or `responses`"))
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
