//! Provider adapters: normalized requests out, normalized events in.
//!
//! Each provider kind is a module that knows two things: how to build its HTTP
//! request (`build`) and how to turn its wire events into [`StreamEvent`]s (a decoder).
//! Everything they share (the HTTP client, timeouts, SSE framing, arrival times,
//! error classification) lives in `client`, `stream` and `errors`, so a new kind
//! (Azure, Bedrock) is a new module plus one arm in each `match` below.

pub mod anthropic;
pub mod body;
pub mod client;
pub mod count;
pub mod errors;
pub mod event;
pub mod gemini;
pub mod openai;
pub mod request;
pub mod retry;
pub mod secret;
pub mod sse;
pub mod stream;
mod transport;

use std::fmt;
use std::str::FromStr;

use event::{ProviderError, StreamEvent};
use request::ChatRequest;
use secret::ApiKey;

use crate::config::Target;

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

/// Build the HTTP request for `target`.
pub fn build_request(
    client: &reqwest::Client,
    target: &Target,
    request: &ChatRequest,
    key: Option<&ApiKey>,
) -> Result<reqwest::Request, ProviderError> {
    match target.provider {
        ProviderKind::OpenAi | ProviderKind::OpenAiCompatible => openai::build(client, target, request, key),
        ProviderKind::Anthropic => anthropic::build(client, target, request, key),
        ProviderKind::Gemini => gemini::build(client, target, request, key),
    }
}

/// Turns one provider's wire events into normalized events.
#[derive(Debug)]
pub enum Decoder {
    /// OpenAI and OpenAI-compatible Chat Completions.
    OpenAi(openai::Decoder),
    /// Anthropic Messages.
    Anthropic(anthropic::Decoder),
    /// Gemini generateContent.
    Gemini(gemini::Decoder),
}

impl Decoder {
    /// A fresh decoder for `kind`.
    pub fn new(kind: ProviderKind) -> Self {
        match kind {
            ProviderKind::OpenAi | ProviderKind::OpenAiCompatible => Self::OpenAi(openai::Decoder::default()),
            ProviderKind::Anthropic => Self::Anthropic(anthropic::Decoder::default()),
            ProviderKind::Gemini => Self::Gemini(gemini::Decoder::default()),
        }
    }

    /// Decode one SSE event. An `Err` ends the stream (malformed data or an in-band error).
    pub fn on_sse(
        &mut self,
        event: &str,
        data: &str,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), ProviderError> {
        match self {
            Self::OpenAi(d) => d.on_sse(data, out),
            Self::Anthropic(d) => d.on_sse(event, data, out),
            Self::Gemini(d) => d.on_sse(data, out),
        }
    }

    /// Decode a complete non-streaming response body.
    pub fn on_body(&mut self, body: &str, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
        match self {
            Self::OpenAi(d) => d.on_body(body, out),
            Self::Anthropic(d) => d.on_body(body, out),
            Self::Gemini(d) => d.on_body(body, out),
        }
    }

    /// The provider's end-of-stream marker was seen; nothing more is expected.
    pub fn saw_end_marker(&self) -> bool {
        match self {
            Self::OpenAi(d) => d.saw_done,
            Self::Anthropic(d) => d.saw_stop,
            Self::Gemini(_) => false,
        }
    }

    /// At end of body: did the stream reach its provider's terminal marker?
    pub fn is_complete(&self) -> bool {
        match self {
            Self::OpenAi(d) => d.saw_done || d.saw_finish,
            Self::Anthropic(d) => d.saw_stop,
            Self::Gemini(d) => d.saw_finish,
        }
    }
}
