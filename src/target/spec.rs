//! The provider table: every fact about a provider kind, declared once, in one row.
//!
//! Code that behaves differently per kind (building a request body, decoding a stream)
//! dispatches on [`Protocol`] in `provider`; everything else (names, key variables, the
//! auth header, the framing of a stream, its end marker, defaults and limits) is read
//! from the kind's [`ProviderSpec`] here, so adding a kind is one row plus its protocol.

use super::ProviderKind;

/// Everything Prism knows about one provider kind that is a fact rather than code.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProviderSpec {
    /// The kind this row describes.
    pub kind: ProviderKind,
    /// The name used in config files and output.
    pub name: &'static str,
    /// The provider's name in prose ("Anthropic has no `seed` parameter").
    pub display_name: &'static str,
    /// Environment variables tried for the key when the config names none, in order.
    pub key_envs: &'static [&'static str],
    /// The public endpoint used when the config gives no `base_url`.
    pub default_base_url: Option<&'static str>,
    /// The environment variable the provider's official SDK reads for its base URL,
    /// honoured (before the default) when the config gives no `base_url`.
    pub base_url_env: Option<&'static str>,
    /// The path a server of this kind is conventionally mounted under (OpenAI's `/v1`),
    /// which the base URL includes and request paths do not.
    pub base_path: &'static str,
    /// The wire protocol: how requests are built and answers decoded.
    pub protocol: Protocol,
    /// How the key travels.
    pub auth: AuthStyle,
    /// How a streamed answer is framed on the wire.
    pub framing: Framing,
    /// What ends a complete stream.
    pub end_marker: EndMarker,
    /// What a stream must reach to count as whole, for the message when it does not.
    pub complete_when: &'static str,
    /// The request field that caps output tokens.
    pub max_tokens_field: &'static str,
    /// Sent when the config sets no `max_tokens`, for APIs that require one.
    pub default_max_tokens: Option<u32>,
    /// The highest `temperature` the API accepts.
    pub max_temperature: f64,
    /// Whether the API takes a sampling `seed`.
    pub accepts_seed: bool,
    /// Whether the API takes `stop` sequences.
    pub accepts_stop: bool,
    /// The provider's own token counter, if it has one.
    pub counter: TokenCounter,
}

/// A wire protocol. Several kinds may share one (OpenAI and OpenAI-compatible servers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// OpenAI Chat Completions: `POST {base}/chat/completions`.
    ChatCompletions,
    /// Anthropic Messages: `POST {base}/v1/messages`.
    Messages,
    /// Gemini: `POST {base}/v1beta/models/{model}:streamGenerateContent`.
    GenerateContent,
    /// The OpenAI Responses API: `POST {base}/responses`.
    Responses,
    /// AWS Bedrock Converse: `POST {base}/model/{modelId}/converse-stream` (or `/converse`).
    Converse,
}

/// How a key is attached to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthStyle {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// The key is the whole value of this header (`x-api-key`, `x-goog-api-key`).
    Header(&'static str),
    /// The request is signed once its body is final (AWS SigV4), unless a bearer key
    /// stands in for the signature (Bedrock API keys).
    Signed,
}

impl AuthStyle {
    /// The header that carries the credential, lowercase.
    pub fn header_name(self) -> &'static str {
        match self {
            Self::Bearer | Self::Signed => "authorization",
            Self::Header(name) => name,
        }
    }

    /// What precedes the key in the header value. A signing kind's key is a bearer
    /// token that stands in for the signature (a Bedrock API key).
    pub fn value_prefix(self) -> &'static str {
        match self {
            Self::Bearer | Self::Signed => "Bearer ",
            Self::Header(_) => "",
        }
    }
}

/// How a streamed answer is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framing {
    /// Server-sent events (`text/event-stream`).
    Sse,
    /// One JSON document (`application/json`): every non-streaming answer.
    Json,
    /// AWS binary event stream (`application/vnd.amazon.eventstream`): Bedrock.
    EventStream,
}

impl Framing {
    /// Every framing, for matching a response's content type.
    pub const ALL: [Framing; 3] = [Self::Sse, Self::Json, Self::EventStream];

    /// The media type a response in this framing carries.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Sse => "text/event-stream",
            Self::Json => "application/json",
            Self::EventStream => "application/vnd.amazon.eventstream",
        }
    }

    /// The framing of a response with this `Content-Type` (parameters ignored).
    pub fn of_content_type(content_type: &str) -> Option<Framing> {
        let lower = content_type.to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|f| lower.starts_with(f.content_type()))
    }

    /// The framing in words, for messages.
    pub fn described(self) -> &'static str {
        match self {
            Self::Sse => "an event stream",
            Self::Json => "JSON",
            Self::EventStream => "a binary event stream",
        }
    }
}

/// What a provider sends to say a stream is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndMarker {
    /// An SSE event whose data is exactly this (`[DONE]`).
    Data(&'static str),
    /// An SSE event of this type (`message_stop`).
    Event(&'static str),
    /// Nothing: the end of the body is the end of the stream.
    EndOfBody,
}

impl EndMarker {
    /// The marker in words, for notes.
    pub fn described(self) -> String {
        match self {
            Self::Data(data) => format!("`data: {data}`"),
            Self::Event(name) => format!("`{name}`"),
            Self::EndOfBody => "the end of the body".to_string(),
        }
    }

    /// The marker a cleanly closed stream can still lack; `None` when the close itself
    /// is the marker.
    pub fn on_the_wire(self) -> Option<String> {
        match self {
            Self::EndOfBody => None,
            marker => Some(marker.described()),
        }
    }
}

/// Which token counter a provider offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenCounter {
    /// None: the local count is all there is (OpenAI's is already exact).
    None,
    /// `POST {base}/v1/messages/count_tokens` with the message fields.
    Anthropic,
    /// `POST {base}/v1beta/models/{model}:countTokens` around the whole request.
    Gemini,
}

/// OpenAI Chat Completions at api.openai.com.
pub const OPENAI: ProviderSpec = ProviderSpec {
    kind: ProviderKind::OpenAi,
    name: "openai",
    display_name: "OpenAI",
    key_envs: &["OPENAI_API_KEY"],
    default_base_url: Some("https://api.openai.com/v1"),
    // The openai SDKs (Python, Node) read it.
    base_url_env: Some("OPENAI_BASE_URL"),
    base_path: "/v1",
    protocol: Protocol::ChatCompletions,
    auth: AuthStyle::Bearer,
    framing: Framing::Sse,
    end_marker: EndMarker::Data("[DONE]"),
    complete_when: "`[DONE]` or a finish_reason",
    // OpenAI deprecated `max_tokens` (o-series reject it).
    max_tokens_field: "max_completion_tokens",
    default_max_tokens: None,
    max_temperature: 2.0,
    accepts_seed: true,
    accepts_stop: true,
    counter: TokenCounter::None,
};

/// Any server speaking Chat Completions (vLLM, Ollama, Groq...). Often local and
/// keyless, so no default key variable and no default URL.
pub const OPENAI_COMPATIBLE: ProviderSpec = ProviderSpec {
    kind: ProviderKind::OpenAiCompatible,
    name: "openai-compatible",
    display_name: "OpenAI-compatible server",
    key_envs: &[],
    default_base_url: None,
    // A compatible server has no official SDK and no default: its URL is always configured.
    base_url_env: None,
    // Compatible servers mostly know only `max_tokens`.
    max_tokens_field: "max_tokens",
    ..OPENAI
};

/// Anthropic Messages.
pub const ANTHROPIC: ProviderSpec = ProviderSpec {
    kind: ProviderKind::Anthropic,
    name: "anthropic",
    display_name: "Anthropic",
    key_envs: &["ANTHROPIC_API_KEY"],
    default_base_url: Some("https://api.anthropic.com"),
    // The anthropic SDKs read it.
    base_url_env: Some("ANTHROPIC_BASE_URL"),
    base_path: "",
    protocol: Protocol::Messages,
    auth: AuthStyle::Header("x-api-key"),
    framing: Framing::Sse,
    end_marker: EndMarker::Event("message_stop"),
    complete_when: "`message_stop`",
    max_tokens_field: "max_tokens",
    // The API requires `max_tokens`.
    default_max_tokens: Some(4096),
    max_temperature: 1.0,
    accepts_seed: false,
    accepts_stop: true,
    counter: TokenCounter::Anthropic,
};

/// Google Gemini API (generativelanguage.googleapis.com).
pub const GEMINI: ProviderSpec = ProviderSpec {
    kind: ProviderKind::Gemini,
    name: "gemini",
    display_name: "Gemini",
    key_envs: &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
    default_base_url: Some("https://generativelanguage.googleapis.com"),
    // google-genai reads it for the Gemini API (`_base_url.get_base_url`).
    base_url_env: Some("GOOGLE_GEMINI_BASE_URL"),
    base_path: "",
    protocol: Protocol::GenerateContent,
    // A header, never `?key=` in the URL: URLs end up in logs.
    auth: AuthStyle::Header("x-goog-api-key"),
    framing: Framing::Sse,
    end_marker: EndMarker::EndOfBody,
    complete_when: "a `finishReason`",
    max_tokens_field: "maxOutputTokens",
    default_max_tokens: None,
    max_temperature: 2.0,
    accepts_seed: true,
    accepts_stop: true,
    counter: TokenCounter::Gemini,
};

/// Azure OpenAI: Chat Completions on a deployment in the user's own resource. Each
/// resource has its own endpoint (no default); `config` turns it, the deployment and the
/// API version into the target's base URL (`/openai/deployments/{name}?api-version=…`,
/// or the v1 API's `/openai/v1`, which is the path a mock or gateway mounts it under).
/// Microsoft Entra ID targets send a bearer token instead of the key (`azure_auth`).
pub const AZURE: ProviderSpec = ProviderSpec {
    kind: ProviderKind::Azure,
    name: "azure",
    display_name: "Azure OpenAI",
    key_envs: &["AZURE_OPENAI_API_KEY"],
    default_base_url: None,
    // The openai SDKs' AzureOpenAI client reads it for the resource endpoint.
    base_url_env: Some("AZURE_OPENAI_ENDPOINT"),
    base_path: "/openai/v1",
    auth: AuthStyle::Header("api-key"),
    // The rest is OpenAI's, `max_completion_tokens` included: reasoning deployments
    // refuse `max_tokens` ("Use 'max_completion_tokens' instead").
    ..OPENAI
};

/// The Responses API row of a kind that offers it (`api = "responses"`): the same
/// account, key, auth and endpoint as `base`, another protocol.
pub const fn responses(base: ProviderSpec, display_name: &'static str) -> ProviderSpec {
    ProviderSpec {
        display_name,
        protocol: Protocol::Responses,
        framing: Framing::Sse,
        // `response.incomplete` and `response.failed` end a stream too; the decoder knows.
        end_marker: EndMarker::Event("response.completed"),
        complete_when: "`response.completed` (or `response.incomplete`)",
        max_tokens_field: "max_output_tokens",
        default_max_tokens: None,
        // Neither exists in the API; the config warns and they are not sent.
        accepts_seed: false,
        accepts_stop: false,
        counter: TokenCounter::None,
        ..base
    }
}

/// OpenAI's Responses API at api.openai.com.
pub const OPENAI_RESPONSES: ProviderSpec = responses(OPENAI, "the OpenAI Responses API");

/// A server speaking the Responses API (vLLM, Ollama, gateways).
pub const OPENAI_COMPATIBLE_RESPONSES: ProviderSpec = responses(OPENAI_COMPATIBLE, "a Responses API server");

/// The Responses API on an Azure OpenAI deployment.
pub const AZURE_RESPONSES: ProviderSpec = responses(AZURE, "the Azure OpenAI Responses API");

/// AWS Bedrock Converse / ConverseStream. The endpoint depends on the region, so the
/// config builds it (`config::bedrock`); the credentials come from the AWS chain.
pub const BEDROCK: ProviderSpec = ProviderSpec {
    kind: ProviderKind::Bedrock,
    name: "bedrock",
    display_name: "AWS Bedrock",
    // A Bedrock API key; without one the request is signed (SigV4) instead.
    key_envs: &["AWS_BEARER_TOKEN_BEDROCK"],
    // `https://bedrock-runtime.{region}.amazonaws.com`, built per region by the config.
    default_base_url: None,
    // The AWS SDKs' service-specific endpoint variable (`AWS_ENDPOINT_URL` is the fallback).
    base_url_env: Some("AWS_ENDPOINT_URL_BEDROCK_RUNTIME"),
    base_path: "",
    protocol: Protocol::Converse,
    auth: AuthStyle::Signed,
    framing: Framing::EventStream,
    // `metadata` (usage) follows `messageStop`; the decoder waits for both.
    end_marker: EndMarker::Event("metadata"),
    complete_when: "`messageStop` and `metadata`",
    max_tokens_field: "maxTokens",
    default_max_tokens: None,
    // Converse takes 0 to 1 for every model family.
    max_temperature: 1.0,
    accepts_seed: false,
    accepts_stop: true,
    counter: TokenCounter::None,
};
