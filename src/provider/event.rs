//! The normalized stream vocabulary: every provider's wire format becomes these events.
//!
//! Each target's stream ends with exactly one terminal event: [`StreamEvent::Done`],
//! [`StreamEvent::Failed`] or [`StreamEvent::Cancelled`]. Everything before it is
//! additive, so a consumer can fold events in arrival order without looking back.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// A piece of streamed text, as a delta carries it. Up to 24 bytes (nearly every token
/// of every provider) it is held inline: no allocation where the stream task makes it,
/// and no free, across threads, where the consumer drops it after appending it to the
/// answer. Those two cost more than decoding the event did (BENCHMARKS.md).
pub type Piece = compact_str::CompactString;

/// One normalized event from a provider stream.
///
/// The variants with large payloads are boxed: text deltas, nearly every event of a
/// stream, are moved several times on their way to the screen, and each move copies the
/// whole enum (216 bytes with the payloads inline, 56 boxed).
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The request was handed to the HTTP client (before any connection work).
    Dispatched,
    /// Response status and headers arrived.
    Started(Box<ResponseStart>),
    /// An id for the response found in the body, used when no request-id header came
    /// (Gemini's `responseId`).
    ResponseId(String),
    /// Visible answer text.
    TextDelta(Piece),
    /// Several pieces of visible answer text that one network read brought, joined: what
    /// as many `TextDelta`s, all stamped with that read, would say. The numbers are the
    /// same either way (each piece is still a content event, the ones after the first 0
    /// after it); the events between a socket and the screen are fewer.
    TextRun(TextRun),
    /// The model's refusal message, sent apart from the answer (OpenAI Chat `refusal`,
    /// Responses `response.refusal.delta` and `refusal` content parts). Never mixed into
    /// the answer text.
    RefusalDelta(Piece),
    /// Reasoning or thinking text (OpenAI-compatible `reasoning_content`, Anthropic
    /// `thinking_delta`, Gemini `thought` parts).
    ReasoningDelta(Piece),
    /// Several pieces of reasoning text that one network read brought, joined, as
    /// [`StreamEvent::TextRun`] joins answer text.
    ReasoningRun(TextRun),
    /// A fragment of a tool call; fragments with the same `index` belong together.
    ToolCallDelta(Box<ToolCallDelta>),
    /// Token usage as the provider reports it. Fields that are `Some` replace earlier
    /// values: providers send cumulative snapshots, never increments.
    Usage(Box<Usage>),
    /// The provider said why generation stopped.
    Finish(Finish),
    /// The server's own account of its work (timings, cost, generation id), kept beside
    /// Prism's measurements. Newer fields replace older ones.
    Server(Box<super::server::ServerReport>),
    /// A protocol deviation that did not cost any of the answer (a stream that never
    /// sent its end marker after a complete answer, say): shown to the user, never a
    /// failure. Arrives before the terminal event.
    Note(String),
    /// The first round ended in tool calls and canned results exist: a follow-up request
    /// carrying them goes out, and the events after this one are its answer (round 2).
    /// Not terminal: the round's own `Done` is withheld.
    ToolRound(ToolRound),
    /// Terminal: the stream ended after its provider's terminal marker.
    Done,
    /// Terminal: the request or stream failed; text received so far stays valid.
    Failed(Box<ProviderError>),
    /// Terminal: the user cancelled; the connection was closed.
    Cancelled,
    /// An attempt failed before any content; another follows after `wait`.
    Retrying {
        /// The attempt about to be made (2 for the first retry).
        attempt: u32,
        /// Attempts allowed in all.
        of: u32,
        /// Wait before it.
        wait: Duration,
        /// Why (`HTTP 429 rate_limited`).
        reason: String,
    },
}

impl StreamEvent {
    /// Whether this event ends its target's stream.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Done | Self::Failed(_) | Self::Cancelled)
    }

    /// The answer text this event carries, as one piece or as a read's run of them.
    pub fn answer_text(&self) -> Option<&str> {
        match self {
            Self::TextDelta(t) => Some(t),
            Self::TextRun(r) => Some(&r.text),
            _ => None,
        }
    }

    /// Whether this event carries generated content (the events TTFT and ITL count).
    pub fn is_content(&self) -> bool {
        match self {
            Self::TextDelta(t) | Self::ReasoningDelta(t) | Self::RefusalDelta(t) => !t.is_empty(),
            Self::TextRun(r) | Self::ReasoningRun(r) => !r.text.is_empty(),
            Self::ToolCallDelta(d) => d.id.is_some() || d.name.is_some() || !d.arguments.is_empty(),
            _ => false,
        }
    }
}

/// Text pieces of one read, joined ([`StreamEvent::TextRun`], [`StreamEvent::ReasoningRun`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextRun {
    /// The pieces' text, in order.
    pub text: String,
    /// How many pieces (content events) it holds: at least 2.
    pub pieces: u32,
    /// The first piece's length in bytes: the only one whose gap to the content before
    /// it can be more than 0.
    pub first: u32,
}

impl TextRun {
    /// A run of `first` and `second`.
    pub fn of(first: &str, second: &str) -> Self {
        // Room for the pieces that usually follow in the same read.
        let mut text = String::with_capacity((first.len() + second.len()) * 4);
        text.push_str(first);
        text.push_str(second);
        Self {
            text,
            pieces: 2,
            first: u32::try_from(first.len()).unwrap_or(u32::MAX),
        }
    }

    /// Add the next piece.
    pub fn push(&mut self, piece: &str) {
        self.text.push_str(piece);
        self.pieces = self.pieces.saturating_add(1);
    }
}

/// What the response head told us.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseStart {
    /// HTTP status code.
    pub http_status: u16,
    /// The provider's request id (`x-request-id`, `request-id`, `x-goog-request-id`...).
    pub request_id: Option<String>,
    /// Rate-limit headers, names lower-cased, in the order received.
    pub rate_limits: Vec<(String, String)>,
    /// When the request went onto the wire: after connection setup on a fresh
    /// connection, or the dispatch time on a reused one.
    pub sent_at: Instant,
    /// Time spent opening a new connection (DNS, TCP, TLS) for this request, if any.
    pub connect: Option<Duration>,
}

/// One fragment of a streamed tool call.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToolCallDelta {
    /// Position of the call in the response.
    pub index: usize,
    /// Call id, usually on the first fragment only.
    pub id: Option<String>,
    /// Function name, usually on the first fragment only.
    pub name: Option<String>,
    /// A piece of the JSON arguments string, exactly as the provider sent it.
    pub arguments: String,
}

/// What a follow-up round sends back.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ToolRound {
    /// The round about to start (2).
    pub round: u32,
    /// One result per call of the round before, in call order.
    pub results: Vec<SentResult>,
}

/// One result a follow-up round sends.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SentResult {
    /// The call it answers (empty when the provider gave none).
    pub call_id: String,
    /// The tool's name.
    pub name: String,
    /// What was sent: the canned result, or an error object when there was none.
    pub content: serde_json::Value,
    /// Whether the result was canned (false: typed in the workbench, or the stand-in error
    /// was sent).
    pub canned: bool,
}

/// Token usage in one vocabulary for every provider.
///
/// `input` counts every input token billed, cached reads and cache writes included;
/// `output` includes reasoning tokens. The parts stay visible in their own fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// All input tokens billed.
    pub input: Option<u64>,
    /// All output tokens, reasoning included.
    pub output: Option<u64>,
    /// Input tokens read from the provider's prompt cache (part of `input`).
    pub cached_input: Option<u64>,
    /// Input tokens written to the provider's prompt cache (part of `input`).
    pub cache_write: Option<u64>,
    /// Of `cache_write`, the tokens written for an hour rather than five minutes
    /// (Anthropic `cache_creation.ephemeral_1h_input_tokens`), which cost more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_1h: Option<u64>,
    /// Reasoning/thinking tokens (part of `output`).
    pub reasoning: Option<u64>,
}

impl Usage {
    /// Overlay a newer snapshot: every field it reports replaces ours.
    pub fn merge(&mut self, newer: &Usage) {
        fn take(slot: &mut Option<u64>, v: Option<u64>) {
            if v.is_some() {
                *slot = v;
            }
        }
        take(&mut self.input, newer.input);
        take(&mut self.output, newer.output);
        take(&mut self.cached_input, newer.cached_input);
        take(&mut self.cache_write, newer.cache_write);
        take(&mut self.cache_write_1h, newer.cache_write_1h);
        take(&mut self.reasoning, newer.reasoning);
    }

    /// The sum of two rounds' usage: a field known in either is known.
    pub fn plus(&self, other: &Usage) -> Usage {
        fn add(a: Option<u64>, b: Option<u64>) -> Option<u64> {
            match (a, b) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
            }
        }
        Usage {
            input: add(self.input, other.input),
            output: add(self.output, other.output),
            cached_input: add(self.cached_input, other.cached_input),
            cache_write: add(self.cache_write, other.cache_write),
            cache_write_1h: add(self.cache_write_1h, other.cache_write_1h),
            reasoning: add(self.reasoning, other.reasoning),
        }
    }

    /// Whether any field is known.
    pub fn is_empty(&self) -> bool {
        *self == Usage::default()
    }
}

/// Why generation stopped, normalized across providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// Natural end or a stop sequence.
    Stop,
    /// The output limit (`max_tokens`) was reached.
    Length,
    /// The model asked for tool calls.
    ToolCalls,
    /// A safety system withheld or cut the answer.
    ContentFilter,
    /// The model declined to answer (an OpenAI `refusal`, Anthropic `stop_reason:
    /// "refusal"`). The refusal message, when sent apart, is kept out of the answer.
    Refusal,
    /// The stream failed.
    Error,
    /// The user cancelled.
    Cancelled,
}

impl FinishReason {
    /// The stable lower-case name used in output and config.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length",
            Self::ToolCalls => "tool_calls",
            Self::ContentFilter => "content_filter",
            Self::Refusal => "refusal",
            Self::Error => "error",
            Self::Cancelled => "cancelled",
        }
    }
}

/// A finish reason plus the provider's own word for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finish {
    /// Normalized reason.
    pub reason: FinishReason,
    /// The provider's raw value (`end_turn`, `MAX_TOKENS`, ...).
    pub raw: Option<String>,
}

/// What kind of failure happened, so users and retry logic can act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The API key's environment variable is not set.
    MissingKey,
    /// The target cannot be sent as configured (bad URL, bad header value).
    Config,
    /// No connection could be made.
    Connect,
    /// HTTP 408: the server timed out waiting for the request.
    Timeout,
    /// No connection within `connect_timeout`.
    ConnectTimeout,
    /// No response headers within `response_timeout`.
    ResponseTimeout,
    /// The body went silent for `idle_timeout`.
    IdleTimeout,
    /// The whole attempt passed `total_timeout`.
    TotalTimeout,
    /// HTTP 429.
    RateLimited,
    /// HTTP 401/403.
    Auth,
    /// HTTP 400 for a prompt longer than the model's context window.
    ContextLength,
    /// Other HTTP 400/422.
    InvalidRequest,
    /// HTTP 404: unknown model or wrong base URL.
    NotFound,
    /// HTTP 529 or an `overloaded_error`.
    Overloaded,
    /// HTTP 5xx.
    Server,
    /// Any other non-success HTTP status.
    Http,
    /// The provider sent an error event inside a successful stream.
    Stream,
    /// The stream ended before its terminal marker.
    Truncated,
    /// The response was not in the expected format.
    Malformed,
    /// Prism stopped (crash, kill) while the stream ran; only seen in saved sessions.
    Interrupted,
    /// A bug in Prism stopped this target (a panic in its task); the others carry on.
    Internal,
}

impl ErrorKind {
    /// The stable snake_case name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingKey => "missing_key",
            Self::Config => "config",
            Self::Connect => "connect",
            Self::Timeout => "timeout",
            Self::ConnectTimeout => "connect_timeout",
            Self::ResponseTimeout => "response_timeout",
            Self::IdleTimeout => "idle_timeout",
            Self::TotalTimeout => "total_timeout",
            Self::RateLimited => "rate_limited",
            Self::Auth => "auth",
            Self::ContextLength => "context_length",
            Self::InvalidRequest => "invalid_request",
            Self::NotFound => "not_found",
            Self::Overloaded => "overloaded",
            Self::Server => "server",
            Self::Http => "http",
            Self::Stream => "stream",
            Self::Truncated => "truncated",
            Self::Malformed => "malformed",
            Self::Interrupted => "interrupted",
            Self::Internal => "internal",
        }
    }
}

/// A failure, described for a person: its `Display` is the one-line message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// HTTP status, when the failure came with one.
    pub http_status: Option<u16>,
    /// One line: what happened and, where we know, what to do.
    pub message: String,
    /// Whether sending the same request again may succeed.
    pub retryable: bool,
    /// The raw error body, kept for debugging (never shown as the message).
    pub raw_body: Option<String>,
    /// How long the server asked us to wait before trying again.
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    /// A bug in Prism (a caught panic, `panic`) stopped `target`.
    pub fn internal(target: &str, panic: &str) -> Self {
        Self::new(
            ErrorKind::Internal,
            format!(
                "Prism hit an internal error on target `{target}` and stopped it ({panic}); the other targets are unaffected. Please report this with the log"
            ),
        )
    }

    /// An error with no HTTP status and no body.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            http_status: None,
            message: message.into(),
            retryable: false,
            raw_body: None,
            retry_after: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_error_shows_as_its_message_and_is_an_error() {
        let e = ProviderError::new(ErrorKind::Config, "no key: set OPENAI_API_KEY");
        assert_eq!(e.to_string(), "no key: set OPENAI_API_KEY");
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert!(boxed.source().is_none());
    }

    #[test]
    fn an_event_stays_small_enough_to_move_cheaply() {
        // A text delta is a piece and a tag; the rare large payloads are boxed.
        assert!(std::mem::size_of::<StreamEvent>() <= 48);
    }

    #[test]
    fn a_token_sized_piece_needs_no_allocation() {
        // What streams carry per event: a token, a few tokens, a 24-byte run of CJK.
        for text in [
            "Hel",
            " lorem",
            "\u{4f60}\u{597d}\u{4e16}\u{754c}\u{4f60}\u{597d}\u{4e16}\u{754c}",
            &"x".repeat(24),
        ] {
            let piece = Piece::from(text);
            assert!(!piece.is_heap_allocated(), "{text:?}");
            assert_eq!(piece, text);
        }
        // Longer pieces (Gemini's sentence-sized chunks) are kept whole on the heap.
        let long = "y".repeat(25);
        assert_eq!(Piece::from(long.as_str()), long);
    }
}
