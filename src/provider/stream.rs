//! One HTTP attempt for one target: send, read, decode, and end with one terminal event.
//!
//! Timestamps are taken here, in the task that owns the socket, right after each read
//! returns and before any JSON is parsed. Reads are never retried and the request is
//! never re-sent: after a byte of content, a retry would duplicate billed output.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::client::TimedClient;
use super::errors::{self, ErrorContext};
use super::event::{ErrorKind, ProviderError, ResponseStart, StreamEvent};
use super::sse::{SseDecoder, TimedSse};
use super::{Decoder, ProviderKind};

/// Time limits for one attempt. A long answer is not an error, so the overall limit is
/// off unless configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To open a TCP (+TLS) connection.
    pub connect: Duration,
    /// From dispatch to response headers.
    pub headers: Duration,
    /// Longest silence between two reads of the body.
    pub idle: Duration,
    /// Whole attempt, if set.
    pub total: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            headers: Duration::from_secs(120),
            idle: Duration::from_secs(120),
            total: None,
        }
    }
}

/// Everything an attempt needs besides the request itself.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The target's instrumented client.
    pub client: &'a TimedClient,
    /// Wire protocol.
    pub kind: ProviderKind,
    /// Whether the request asked for a stream.
    pub streaming: bool,
    /// For error messages.
    pub cx: ErrorContext<'a>,
    /// Limits.
    pub timeouts: Timeouts,
}

/// Receives each event with its arrival time.
pub type Emit<'a> = dyn FnMut(Instant, StreamEvent) + Send + 'a;

/// Headers whose values we keep: rate limits and server-directed waits.
fn is_rate_limit_header(name: &str) -> bool {
    name.starts_with("x-ratelimit-")
        || name.starts_with("anthropic-ratelimit-")
        || name.starts_with("ratelimit")
        || name == "retry-after"
        || name == "retry-after-ms"
        || name == "x-should-retry"
}

/// Request id headers, most specific first; the mock's own header comes last.
const REQUEST_ID_HEADERS: [&str; 5] = [
    "x-request-id",
    "request-id",
    "x-goog-request-id",
    "apim-request-id",
    "x-mock-request-id",
];

/// Run one attempt. Always ends by emitting exactly one terminal event.
pub async fn run(a: Attempt<'_>, request: reqwest::Request, cancel: &CancellationToken, emit: &mut Emit<'_>) {
    let dispatched = Instant::now();
    emit(dispatched, StreamEvent::Dispatched);
    let sent = tokio::select! {
        biased;
        () = cancel.cancelled() => return emit(Instant::now(), StreamEvent::Cancelled),
        r = tokio::time::timeout(a.timeouts.headers, a.client.http.execute(request)) => r,
    };
    let response = match sent {
        Err(_) => {
            let msg = format!(
                "no response headers within {} s from {}; the server may be overloaded",
                a.timeouts.headers.as_secs(),
                a.cx.base_url
            );
            let mut e = ProviderError::new(ErrorKind::ResponseTimeout, msg);
            e.retryable = true;
            return emit(Instant::now(), StreamEvent::Failed(e));
        }
        Ok(Err(e)) => {
            return emit(Instant::now(), StreamEvent::Failed(transport_error(&e, a.cx)));
        }
        Ok(Ok(r)) => r,
    };
    let headers_at = Instant::now();
    let connect = a.client.connect_since(dispatched);
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    emit(
        headers_at,
        StreamEvent::Started(ResponseStart {
            http_status: status,
            request_id: REQUEST_ID_HEADERS
                .iter()
                .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()).map(str::to_string)),
            rate_limits: headers
                .iter()
                .filter(|(n, _)| is_rate_limit_header(n.as_str()))
                .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
                .collect(),
            sent_at: connect.map_or(dispatched, |c| c.end),
            connect: connect.map(|c| c.end - c.start),
        }),
    );
    let mut reader = BodyReader {
        response,
        cancel,
        idle: a.timeouts.idle,
        bytes: 0,
    };
    let content_type = errors::header(&headers, "content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();

    if !(200..300).contains(&status) {
        let body = match reader.read_all().await {
            Ok(b) => b,
            Err(end) => return emit(Instant::now(), end.into_event(a.cx)),
        };
        let err = errors::from_http(status, &headers, &String::from_utf8_lossy(&body), a.cx);
        return emit(Instant::now(), StreamEvent::Failed(err));
    }

    let mut decoder = Decoder::new(a.kind);
    let is_sse = content_type.starts_with("text/event-stream");
    let is_json = content_type.starts_with("application/json");
    if a.streaming && is_sse {
        return read_stream(reader, decoder, a, emit).await;
    }
    if !is_json {
        let expected = if a.streaming { "an event stream" } else { "JSON" };
        let shown = if content_type.is_empty() {
            "no content type".to_string()
        } else {
            content_type
        };
        let e = ProviderError::new(
            ErrorKind::Malformed,
            format!(
                "HTTP {status} but the body is {shown}, not {expected}: a proxy or gateway may have answered instead of {}",
                a.cx.base_url
            ),
        );
        return emit(Instant::now(), StreamEvent::Failed(e));
    }
    // A whole JSON body: the non-streaming API, or a server that ignored `stream`.
    let body = match reader.read_all().await {
        Ok(b) => b,
        Err(end) => return emit(Instant::now(), end.into_event(a.cx)),
    };
    let at = Instant::now();
    let mut out = Vec::new();
    let result = decoder.on_body(&String::from_utf8_lossy(&body), &mut out);
    for ev in out {
        emit(at, ev);
    }
    emit(
        at,
        match result {
            Ok(()) => StreamEvent::Done,
            Err(e) => StreamEvent::Failed(e),
        },
    );
}

async fn read_stream(mut reader: BodyReader<'_>, mut decoder: Decoder, a: Attempt<'_>, emit: &mut Emit<'_>) {
    let mut sse = SseDecoder::new();
    let mut frames: Vec<TimedSse> = Vec::new();
    let mut out = Vec::new();
    loop {
        let (chunk, at) = match reader.next().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(end) if decoder.is_complete() && matches!(end, BodyEnd::Transport(..)) => {
                // The answer was whole; a reset after the terminal marker loses nothing.
                return emit(Instant::now(), StreamEvent::Done);
            }
            Err(end) => return emit(Instant::now(), end.into_event(a.cx)),
        };
        sse.feed(&chunk, at, &mut frames);
        for frame in frames.drain(..) {
            let result = decoder.on_sse(&frame.event, &frame.data, &mut out);
            for ev in out.drain(..) {
                emit(frame.at, ev);
            }
            if let Err(e) = result {
                return emit(frame.at, StreamEvent::Failed(e));
            }
            if decoder.saw_end_marker() {
                return emit(frame.at, StreamEvent::Done);
            }
        }
    }
    let end_at = Instant::now();
    sse.finish();
    if decoder.is_complete() {
        return emit(end_at, StreamEvent::Done);
    }
    let marker = match a.kind {
        ProviderKind::OpenAi | ProviderKind::OpenAiCompatible => "`[DONE]` or a finish_reason",
        ProviderKind::Anthropic => "`message_stop`",
        ProviderKind::Gemini => "a `finishReason`",
    };
    let e = ProviderError::new(
        ErrorKind::Truncated,
        format!(
            "the stream ended after {} bytes without {marker}; the answer may be incomplete",
            reader.bytes
        ),
    );
    emit(end_at, StreamEvent::Failed(e));
}

/// Why reading the body stopped early.
enum BodyEnd {
    Cancelled,
    Idle(Duration, u64),
    Transport(String, u64),
}

impl BodyEnd {
    fn into_event(self, cx: ErrorContext<'_>) -> StreamEvent {
        match self {
            Self::Cancelled => StreamEvent::Cancelled,
            Self::Idle(d, bytes) => {
                let mut e = ProviderError::new(
                    ErrorKind::IdleTimeout,
                    format!(
                        "no data for {} s after {bytes} bytes; the stream stalled (idle_timeout)",
                        d.as_secs()
                    ),
                );
                e.retryable = bytes == 0;
                StreamEvent::Failed(e)
            }
            Self::Transport(msg, bytes) => StreamEvent::Failed(ProviderError::new(
                ErrorKind::Truncated,
                errors::one_line(&format!(
                    "the connection to {} dropped after {bytes} bytes ({msg}); the answer may be incomplete",
                    cx.base_url
                )),
            )),
        }
    }
}

struct BodyReader<'a> {
    response: reqwest::Response,
    cancel: &'a CancellationToken,
    idle: Duration,
    bytes: u64,
}

impl BodyReader<'_> {
    /// Next read and its arrival time; `Ok(None)` at a clean end of body.
    async fn next(&mut self) -> Result<Option<(bytes::Bytes, Instant)>, BodyEnd> {
        let read = tokio::select! {
            biased;
            () = self.cancel.cancelled() => return Err(BodyEnd::Cancelled),
            r = tokio::time::timeout(self.idle, self.response.chunk()) => r,
        };
        let at = Instant::now();
        match read {
            Err(_) => Err(BodyEnd::Idle(self.idle, self.bytes)),
            Ok(Err(e)) => Err(BodyEnd::Transport(error_chain(&e), self.bytes)),
            Ok(Ok(None)) => Ok(None),
            Ok(Ok(Some(b))) => {
                self.bytes += b.len() as u64;
                Ok(Some((b, at)))
            }
        }
    }

    async fn read_all(&mut self) -> Result<Vec<u8>, BodyEnd> {
        let mut body = Vec::new();
        while let Some((chunk, _)) = self.next().await? {
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn transport_error(e: &reqwest::Error, cx: ErrorContext<'_>) -> ProviderError {
    let chain = error_chain(e);
    // reqwest marks a connect timeout as both a connect and a timeout error.
    let (kind, what) = if e.is_timeout() {
        (
            ErrorKind::ConnectTimeout,
            format!("timed out connecting to {} (connect_timeout)", cx.base_url),
        )
    } else if e.is_connect() {
        (ErrorKind::Connect, format!("cannot connect to {}", cx.base_url))
    } else {
        (
            ErrorKind::Connect,
            format!("request to {} failed before a response", cx.base_url),
        )
    };
    let mut err = ProviderError::new(kind, errors::one_line(&format!("{what}: {chain}")));
    err.retryable = true;
    err
}

/// The error and its sources on one line (reqwest's top-level message alone is vague).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
