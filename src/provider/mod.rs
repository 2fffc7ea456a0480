//! Provider adapters: normalized requests out, normalized events in.
//!
//! Each provider kind is a module that knows two things: how to build its HTTP
//! request (`build`) and how to turn its wire events into [`StreamEvent`]s (a decoder).
//! Everything they share (the HTTP client, timeouts, SSE framing, arrival times,
//! error classification) lives in `client`, `stream` and `errors`.
//!
//! Every fact about a kind (name, key variables, base URL, auth header, framing, end
//! marker, default max tokens, token counter) is its row in the provider table
//! ([`ProviderSpec`](crate::target::ProviderSpec)). Behaviour that differs is dispatched
//! here, and only here, on the row's [`Protocol`]. A target's row is its kind's, or the
//! row of another API the kind offers (`api = "responses"`: [`Target::spec`]). Adding a
//! kind that speaks an existing protocol (Azure) is a variant and a row (its Responses
//! row is `spec::responses` of it), plus what it adds (`azure`: Entra ID tokens, content
//! filter verdicts); adding a protocol, as the Responses API did, is also a module with
//! `build` and a decoder, and one arm in each `match` below.

pub mod anthropic;
pub mod azure;
pub mod bedrock;
pub mod body;
pub mod cache;
pub mod client;
pub mod count;
pub mod credentials;
pub mod errors;
pub mod event;
pub mod gemini;
pub mod headers;
pub mod hot;
pub mod openai;
pub mod request;
pub mod responses;
pub mod retry;
pub mod schema;
pub mod secret;
pub mod server;
pub mod sse;
pub mod stream;
pub mod tools;
mod transport;
pub mod wire;

use credentials::Credentials;
use event::{ProviderError, StreamEvent};
use request::ChatRequest;

use crate::target::{Protocol, ProviderKind, ProviderSpec, Target};

/// Build the HTTP request for `target`, credentials applied last (the body is final).
pub fn build_request(
    client: &reqwest::Client,
    target: &Target,
    request: &ChatRequest,
    credentials: &Credentials,
) -> Result<reqwest::Request, ProviderError> {
    let mut built = build_unsigned(client, target, request)?;
    credentials.apply(&mut built)?;
    Ok(built)
}

/// The request for `target` before any credential is attached, its configured headers on.
pub(crate) fn build_unsigned(
    client: &reqwest::Client,
    target: &Target,
    request: &ChatRequest,
) -> Result<reqwest::Request, ProviderError> {
    let mut built = match target.spec().protocol {
        Protocol::ChatCompletions => openai::build(client, target, request),
        Protocol::Messages => anthropic::build(client, target, request),
        Protocol::GenerateContent => gemini::build(client, target, request),
        Protocol::Responses => responses::build(client, target, request),
        Protocol::Converse => bedrock::build(client, target, request),
    }?;
    headers::apply(&mut built, &target.params.headers)?;
    schema::add_headers(&mut built, target, request);
    Ok(built)
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
    /// The OpenAI Responses API.
    Responses(responses::Decoder),
    /// AWS Bedrock Converse (binary event-stream messages, not SSE).
    Bedrock(bedrock::Decoder),
}

impl Decoder {
    /// A fresh decoder for `kind`'s own API.
    pub fn new(kind: ProviderKind) -> Self {
        Self::for_spec(kind.spec())
    }

    /// A fresh decoder for a target whose row is `spec`: its protocol's, told what the
    /// kind reports besides (an Azure deployment names the model that answered).
    pub fn for_spec(spec: &ProviderSpec) -> Self {
        let mut decoder = Self::for_protocol(spec.protocol);
        if let Self::OpenAi(d) = &mut decoder {
            d.reports_model = spec.kind.model_is_deployment();
        }
        decoder
    }

    /// A fresh decoder for `protocol` (a target's is `target.spec().protocol`).
    pub fn for_protocol(protocol: Protocol) -> Self {
        match protocol {
            Protocol::ChatCompletions => Self::OpenAi(openai::Decoder::default()),
            Protocol::Messages => Self::Anthropic(anthropic::Decoder::default()),
            Protocol::GenerateContent => Self::Gemini(gemini::Decoder::default()),
            Protocol::Responses => Self::Responses(responses::Decoder::default()),
            Protocol::Converse => Self::Bedrock(bedrock::Decoder::default()),
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
            Self::Responses(d) => d.on_sse(event, data, out),
            Self::Bedrock(_) => Err(ProviderError::new(
                event::ErrorKind::Malformed,
                "Bedrock streams binary event-stream messages, not server-sent events",
            )),
        }
    }

    /// The answer text of an SSE event that is only a plain piece of text, read by its
    /// bytes (empty for an empty piece); `None` for every other event, which goes to
    /// [`Self::on_sse`]. For such an event `on_sse` changes no state and hands out just
    /// this text (it asks this first), so a caller may take the text and skip the event.
    pub fn plain_text<'a>(&self, event: &str, data: &'a str) -> Option<&'a str> {
        match self {
            Self::OpenAi(d) => d.plain_text(data),
            Self::Anthropic(_) => anthropic::Decoder::plain_text(event, data),
            _ => None,
        }
    }

    /// Decode one binary event-stream message (Bedrock). An `Err` ends the stream.
    pub fn on_event_message(
        &mut self,
        message: &aws_smithy_types::event_stream::Message,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), ProviderError> {
        match self {
            Self::Bedrock(d) => d.on_message(message, out),
            Self::OpenAi(_) | Self::Anthropic(_) | Self::Gemini(_) | Self::Responses(_) => {
                Err(ProviderError::new(
                    event::ErrorKind::Malformed,
                    "a binary event-stream message arrived for a provider that streams server-sent events",
                ))
            }
        }
    }

    /// Decode a complete non-streaming response body.
    pub fn on_body(&mut self, body: &str, out: &mut Vec<StreamEvent>) -> Result<(), ProviderError> {
        match self {
            Self::OpenAi(d) => d.on_body(body, out),
            Self::Anthropic(d) => d.on_body(body, out),
            Self::Gemini(d) => d.on_body(body, out),
            Self::Responses(d) => d.on_body(body, out),
            Self::Bedrock(d) => d.on_body(body, out),
        }
    }

    /// The provider's end-of-stream marker was seen; nothing more is expected.
    pub fn saw_end_marker(&self) -> bool {
        match self {
            Self::OpenAi(d) => d.saw_done,
            Self::Anthropic(d) => d.saw_stop,
            Self::Gemini(_) => false,
            Self::Responses(d) => d.saw_terminal,
            Self::Bedrock(d) => d.is_complete(),
        }
    }

    /// At end of body: did the stream reach its provider's terminal marker?
    pub fn is_complete(&self) -> bool {
        match self {
            Self::OpenAi(d) => d.saw_done || d.saw_finish,
            Self::Anthropic(d) => d.saw_stop,
            Self::Gemini(d) => d.saw_finish,
            Self::Responses(d) => d.saw_terminal,
            Self::Bedrock(d) => d.is_complete(),
        }
    }

    /// Everything the provider promises before its end marker has arrived: the finish
    /// reason and (requested on every stream) usage. Only then is a short grace enough.
    pub fn awaits_only_end_marker(&self) -> bool {
        match self {
            Self::OpenAi(d) => d.saw_finish && d.saw_usage && !d.saw_done,
            Self::Gemini(d) => d.saw_finish && d.saw_usage,
            // `message_stop` follows `message_delta` at once; a stall there stays an error.
            // The Responses API's terminal event carries the finish and usage itself.
            // Bedrock's `metadata` (usage) is its end marker; nothing is left to wait for.
            Self::Anthropic(_) | Self::Responses(_) | Self::Bedrock(_) => false,
        }
    }

    /// A stream that ended without a single answer in any event (Gemini: no candidate
    /// and no prompt feedback).
    pub fn no_answer_in_stream(&self) -> Option<ProviderError> {
        match self {
            Self::Gemini(d) => d.no_answer_error(),
            Self::OpenAi(_) | Self::Anthropic(_) | Self::Responses(_) | Self::Bedrock(_) => None,
        }
    }
}
