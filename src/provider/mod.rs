//! Provider adapters: normalized requests out, normalized events in.
//!
//! Each provider kind is a module that knows two things: how to build its HTTP
//! request (`build`) and how to turn its wire events into [`StreamEvent`]s (a decoder).
//! Everything they share (the HTTP client, timeouts, SSE framing, arrival times,
//! error classification) lives in `client`, `stream` and `errors`.
//!
//! Adding a kind (Azure, Bedrock): a variant of [`ProviderKind`] in `target` with its
//! name, default key variables and base URL; a module here with `build` and a decoder,
//! and one arm in each `match` below (and in `count` if it has a token counter); the
//! compiler then points at every other exhaustive `match` (temperature range in
//! `config::limits`, mock server routes).

pub mod anthropic;
pub mod body;
pub mod client;
pub mod count;
pub mod credentials;
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

use event::{ProviderError, StreamEvent};
use request::ChatRequest;
use secret::ApiKey;

use crate::target::{ProviderKind, Target};

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
