//! One HTTP attempt for one target: send, read, decode, and end with one terminal event.
//!
//! Timestamps are taken here, in the task that owns the socket, right after each read
//! returns and before any JSON is parsed. Reads are never retried and the request is
//! never re-sent: after a byte of content, a retry would duplicate billed output.
//!
//! A stream whose answer is already whole (finish reason and usage in hand) is not
//! made to wait out the idle timeout for a missing end marker: after a short grace it
//! ends as done, with a [`StreamEvent::Note`] saying what the server left out.

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

    if (300..400).contains(&status) {
        // Never followed (the client's policy): a redirect would carry the key elsewhere.
        let e = redirect_error(status, &headers, reader.response.url(), a.cx);
        return emit(Instant::now(), StreamEvent::Failed(e));
    }
    if !(200..300).contains(&status) {
        let body = match reader.read_all().await {
            Ok(b) => b,
            Err(end) => return emit(Instant::now(), end.into_event(a.cx)),
        };
        let err = errors::from_http(status, &headers, &String::from_utf8_lossy(&body), a.cx);
        return emit(Instant::now(), StreamEvent::Failed(err));
    }

    if let Some(e) = undecodable_encoding(&headers) {
        return emit(Instant::now(), StreamEvent::Failed(e));
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

/// How long a stream whose answer is whole may stay open waiting for its end marker.
const END_MARKER_GRACE: Duration = Duration::from_secs(2);

async fn read_stream(mut reader: BodyReader<'_>, mut decoder: Decoder, a: Attempt<'_>, emit: &mut Emit<'_>) {
    let mut sse = SseDecoder::new();
    let mut frames: Vec<TimedSse> = Vec::new();
    let mut out = Vec::new();
    // The read that completed the latest event: the end of the answer if the server
    // then goes quiet. Keep-alive comments do not move it.
    let mut last_event_at = Instant::now();
    loop {
        let wait = if awaits_only_end_marker(&decoder) {
            let deadline = last_event_at + a.timeouts.idle.min(END_MARKER_GRACE);
            deadline.saturating_duration_since(Instant::now())
        } else {
            a.timeouts.idle
        };
        let (chunk, at) = match reader.next(wait).await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(BodyEnd::Idle(d, _)) if decoder.is_complete() => {
                // The provider said all it had to say; what is missing is the goodbye.
                let note = stalled_note(&decoder, a.kind, a.timeouts.idle, d);
                emit(last_event_at, StreamEvent::Note(note));
                return emit(last_event_at, StreamEvent::Done);
            }
            Err(BodyEnd::Transport(msg, _) | BodyEnd::Decode(msg, _)) if decoder.is_complete() => {
                let note = format!(
                    "the connection dropped ({msg}) after the answer was complete, before {}",
                    end_marker(a.kind)
                );
                emit(Instant::now(), StreamEvent::Note(errors::one_line(&note)));
                return emit(Instant::now(), StreamEvent::Done);
            }
            Err(end) => return emit(Instant::now(), end.into_event(a.cx)),
        };
        sse.feed(&chunk, at, &mut frames);
        if !frames.is_empty() {
            last_event_at = at;
        }
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
    if let Some(frame) = sse.finish() {
        // Every line of the last event arrived, only its closing blank line did not.
        // Keep it if it decodes; a cut payload stays cut.
        let before = decoder.is_complete();
        if decoder.on_sse(&frame.event, &frame.data, &mut out).is_ok() {
            for ev in out.drain(..) {
                emit(frame.at, ev);
            }
            if decoder.is_complete() && !before {
                // Name it by its type, or by its data when it has none (`[DONE]`).
                let name = if frame.event == "message" {
                    frame.data.chars().take(40).collect()
                } else {
                    frame.event
                };
                let note = format!("the last event (`{name}`) ended without its closing blank line");
                emit(end_at, StreamEvent::Note(errors::one_line(&note)));
            }
        }
        out.clear();
    }
    if decoder.is_complete() {
        if !decoder.saw_end_marker()
            && let Some(marker) = closing_marker(a.kind)
        {
            let note = format!("the stream closed without {marker} after a complete answer");
            emit(end_at, StreamEvent::Note(note));
        }
        return emit(end_at, StreamEvent::Done);
    }
    if let Some(e) = no_answer_in_stream(&decoder) {
        return emit(end_at, StreamEvent::Failed(e));
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

/// Everything the provider promises before its end marker has arrived: the finish
/// reason and (requested on every stream) usage. Only then is a short grace enough.
fn awaits_only_end_marker(decoder: &Decoder) -> bool {
    match decoder {
        Decoder::OpenAi(d) => d.saw_finish && d.saw_usage && !d.saw_done,
        Decoder::Gemini(d) => d.saw_finish && d.saw_usage,
        // `message_stop` follows `message_delta` at once; a stall there stays an error.
        Decoder::Anthropic(_) => false,
    }
}

/// What ends a complete stream of `kind`, for notes.
fn end_marker(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::OpenAi | ProviderKind::OpenAiCompatible => "`data: [DONE]`",
        ProviderKind::Anthropic => "`message_stop`",
        ProviderKind::Gemini => "the end of the body",
    }
}

/// The marker a clean close still lacks: Gemini's end of body is its marker.
fn closing_marker(kind: ProviderKind) -> Option<&'static str> {
    match kind {
        ProviderKind::Gemini => None,
        k => Some(end_marker(k)),
    }
}

fn stalled_note(decoder: &Decoder, kind: ProviderKind, idle: Duration, waited: Duration) -> String {
    if awaits_only_end_marker(decoder) {
        let missing = match closing_marker(kind) {
            Some(marker) => format!("sent no {marker} and held the connection open"),
            None => "held the connection open after the final chunk".to_string(),
        };
        format!(
            "the answer was complete but the server {missing}; stopped waiting after {:.1} s",
            idle.min(END_MARKER_GRACE).as_secs_f64()
        )
    } else {
        let missing = match closing_marker(kind) {
            Some(marker) => format!("no {marker}"),
            None => "no end of the body".to_string(),
        };
        format!(
            "after the finish reason the server sent no usage and {missing} for {:.1} s (idle_timeout); the answer is complete, its usage unreported",
            waited.as_secs_f64()
        )
    }
}

/// A Gemini stream that ended without one candidate or prompt feedback in any event.
fn no_answer_in_stream(decoder: &Decoder) -> Option<ProviderError> {
    match decoder {
        Decoder::Gemini(d) => d.no_answer_error(),
        Decoder::OpenAi(_) | Decoder::Anthropic(_) => None,
    }
}

/// Why reading the body stopped early.
enum BodyEnd {
    Cancelled,
    Idle(Duration, u64),
    Transport(String, u64),
    /// The body could not be decompressed.
    Decode(String, u64),
}

impl BodyEnd {
    fn into_event(self, cx: ErrorContext<'_>) -> StreamEvent {
        match self {
            Self::Cancelled => StreamEvent::Cancelled,
            Self::Idle(d, bytes) => {
                let mut e = ProviderError::new(
                    ErrorKind::IdleTimeout,
                    format!(
                        "no data for {:.1} s after {bytes} bytes; the stream stalled (idle_timeout)",
                        d.as_secs_f64()
                    ),
                );
                e.retryable = bytes == 0;
                StreamEvent::Failed(e)
            }
            Self::Decode(msg, bytes) => StreamEvent::Failed(ProviderError::new(
                ErrorKind::Malformed,
                errors::one_line(&format!(
                    "the compressed body from {} could not be decoded after {bytes} bytes ({msg}); a proxy may have mangled it",
                    cx.base_url
                )),
            )),
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
    /// Next read and its arrival time, waiting at most `wait`; `Ok(None)` at a clean
    /// end of body.
    async fn next(&mut self, wait: Duration) -> Result<Option<(bytes::Bytes, Instant)>, BodyEnd> {
        let read = tokio::select! {
            biased;
            () = self.cancel.cancelled() => return Err(BodyEnd::Cancelled),
            r = tokio::time::timeout(wait, self.response.chunk()) => r,
        };
        let at = Instant::now();
        match read {
            Err(_) => Err(BodyEnd::Idle(wait, self.bytes)),
            Ok(Err(e)) if is_decompression_error(&e) => Err(BodyEnd::Decode(error_chain(&e), self.bytes)),
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
        while let Some((chunk, _)) = self.next(self.idle).await? {
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn transport_error(e: &reqwest::Error, cx: ErrorContext<'_>) -> ProviderError {
    let chain = error_chain(e);
    let host = host_of(cx.base_url);
    // Retry what may heal (refused, reset, timed out); a name that does not resolve or
    // a TLS handshake the server cannot pass fails the same way every time.
    let (kind, retryable, what) = match setup_failure(e) {
        Some(SetupFailure::NameNotFound) => (
            ErrorKind::Connect,
            false,
            format!("cannot resolve host {host}; check base_url {}", cx.base_url),
        ),
        Some(SetupFailure::Tls(detail)) => (ErrorKind::Connect, false, tls_advice(&detail, &host, cx)),
        // reqwest marks a connect timeout as both a connect and a timeout error.
        None if e.is_timeout() => (
            ErrorKind::ConnectTimeout,
            true,
            format!("timed out connecting to {} (connect_timeout)", cx.base_url),
        ),
        None if e.is_connect() => (
            ErrorKind::Connect,
            true,
            format!("cannot connect to {}", cx.base_url),
        ),
        None => (
            ErrorKind::Connect,
            true,
            format!("request to {} failed before a response", cx.base_url),
        ),
    };
    let mut err = ProviderError::new(kind, errors::one_line(&format!("{what}: {chain}")));
    err.retryable = retryable;
    err
}

/// A connection set-up failure that no retry can heal.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SetupFailure {
    /// The resolver answered that the name does not exist.
    NameNotFound,
    /// rustls refused the handshake: the certificate, or a server not speaking TLS.
    Tls(TlsProblem),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TlsProblem {
    /// The server's certificate was rejected (unknown issuer, expired, wrong name...).
    Certificate,
    /// The peer's bytes were not TLS at all (often plain HTTP on an https:// URL).
    NotTls,
    /// Any other handshake refusal (no shared version or cipher, an alert...).
    Other,
}

/// Walk the source chain for a resolver or rustls error.
fn setup_failure(e: &(dyn std::error::Error + 'static)) -> Option<SetupFailure> {
    let mut found = None;
    any_in_chain(e, &mut |err| {
        found = classify_one(err);
        found.is_some()
    });
    found
}

/// Whether `test` holds for `e` or any error under it. `io::Error` hides its inner error
/// from `source()` (it returns the inner error's source), so look inside it too.
fn any_in_chain(
    e: &(dyn std::error::Error + 'static),
    test: &mut dyn FnMut(&(dyn std::error::Error + 'static)) -> bool,
) -> bool {
    let mut next = Some(e);
    while let Some(err) = next {
        if test(err) {
            return true;
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            && any_in_chain(inner, test)
        {
            return true;
        }
        next = err.source();
    }
    false
}

/// A body error from decompression itself. reqwest marks every body error of a
/// decompressing client as a decode error, so one carrying hyper's own (the
/// connection failed) is a transport error.
fn is_decompression_error(e: &reqwest::Error) -> bool {
    e.is_decode() && !any_in_chain(e, &mut |err| err.is::<hyper::Error>())
}

fn classify_one(err: &(dyn std::error::Error + 'static)) -> Option<SetupFailure> {
    if let Some(tls) = err.downcast_ref::<rustls::Error>() {
        let problem = match tls {
            rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
                TlsProblem::Certificate
            }
            rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateHandshakeMessage { .. } => {
                TlsProblem::NotTls
            }
            _ => TlsProblem::Other,
        };
        return Some(SetupFailure::Tls(problem));
    }
    // hyper-util's connector says "dns error" around the resolver's io::Error, whose
    // text is getaddrinfo's. Only a definite "no such name" is final: a temporary
    // resolver failure ("try again") may pass.
    if err.to_string() == "dns error" {
        let detail = error_chain(err).to_ascii_lowercase();
        let temporary = ["temporary", "try again", "timed out"]
            .iter()
            .any(|w| detail.contains(w));
        return (!temporary).then_some(SetupFailure::NameNotFound);
    }
    None
}

fn tls_advice(problem: &TlsProblem, host: &str, cx: ErrorContext<'_>) -> String {
    match problem {
        TlsProblem::Certificate => format!(
            "the TLS certificate of {host} was rejected; check base_url {} (a proxy that intercepts TLS needs its CA installed in the system store)",
            cx.base_url
        ),
        TlsProblem::NotTls => format!(
            "{host} did not answer in TLS; if it serves plain HTTP, use http:// in base_url {}",
            cx.base_url
        ),
        TlsProblem::Other => format!(
            "the TLS handshake with {host} failed; check base_url {}",
            cx.base_url
        ),
    }
}

/// `host[:port]` of a URL, or the URL itself when it does not parse.
fn host_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => authority(&u),
        Err(_) => url.to_string(),
    }
}

fn authority(u: &reqwest::Url) -> String {
    let host = u.host_str().unwrap_or_default();
    match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// A 3xx answer, which Prism never follows (a redirect would carry the API key to
/// wherever it points), told as where it pointed and what to change.
fn redirect_error(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    asked: &reqwest::Url,
    cx: ErrorContext<'_>,
) -> ProviderError {
    let location = errors::header(headers, "location");
    let target = location.as_deref().and_then(|l| asked.join(l).ok());
    let what = match (&target, &location) {
        (Some(to), _) if to.origin() == asked.origin() => format!(
            "the server redirected to {} on the same host; if that is the right endpoint, fix the path in base_url {}",
            to.path(),
            cx.base_url
        ),
        (Some(to), _) => {
            let shown = if to.scheme() == asked.scheme() {
                authority(to)
            } else {
                format!("{}://{}", to.scheme(), authority(to))
            };
            format!("the server redirected to {shown}; if that is the right endpoint, set base_url to it")
        }
        (None, Some(raw)) => format!(
            "the server redirected to an unusable location `{raw}`; check base_url {}",
            cx.base_url
        ),
        (None, None) => format!(
            "the server answered with a redirect but no location; check base_url {}",
            cx.base_url
        ),
    };
    ProviderError {
        http_status: Some(status),
        ..ProviderError::new(
            ErrorKind::Http,
            errors::one_line(&format!(
                "HTTP {status}: {what} (redirects are not followed, so the key stays with base_url)"
            )),
        )
    }
}

/// The client decodes gzip; any other `Content-Encoding` left on a response would feed
/// compressed bytes to the parser, so it fails here, named.
fn undecodable_encoding(headers: &reqwest::header::HeaderMap) -> Option<ProviderError> {
    let encoding = errors::header(headers, "content-encoding")?;
    let encoding = encoding.trim().to_ascii_lowercase();
    if encoding.is_empty() || encoding == "identity" {
        return None;
    }
    Some(ProviderError::new(
        ErrorKind::Malformed,
        errors::one_line(&format!(
            "the body is compressed as `{encoding}`, which Prism cannot decode (it asks for gzip only); a proxy may be compressing responses"
        )),
    ))
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

#[cfg(test)]
mod tests {
    use std::fmt;

    use super::*;

    /// Stands in for hyper-util's private connect error: "dns error" over the resolver's.
    #[derive(Debug)]
    struct DnsError(std::io::Error);

    impl fmt::Display for DnsError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("dns error")
        }
    }

    impl std::error::Error for DnsError {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    fn gai(text: &str) -> DnsError {
        DnsError(std::io::Error::other(format!(
            "failed to lookup address information: {text}"
        )))
    }

    #[test]
    fn only_a_definite_unknown_name_is_final() {
        assert_eq!(
            setup_failure(&gai("Name or service not known")),
            Some(SetupFailure::NameNotFound)
        );
        assert_eq!(setup_failure(&gai("Temporary failure in name resolution")), None);
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(setup_failure(&refused), None);
    }

    #[test]
    fn rustls_errors_inside_io_errors_are_found() {
        // tokio-rustls hands rustls errors up wrapped in io::Error, whose source() skips them.
        let wrap = |e: rustls::Error| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
        let cert = wrap(rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer,
        ));
        assert_eq!(
            setup_failure(&cert),
            Some(SetupFailure::Tls(TlsProblem::Certificate))
        );
        let alert = wrap(rustls::Error::AlertReceived(
            rustls::AlertDescription::HandshakeFailure,
        ));
        assert_eq!(setup_failure(&alert), Some(SetupFailure::Tls(TlsProblem::Other)));
    }
}
