//! One HTTP attempt for one target: send, read, decode, and end with one terminal event.
//!
//! The request goes out through the target's [`super::wire::WireClient`], whose IO
//! stamps the socket as hyper's connection reads and writes it (that connection is
//! polled by this task: [`super::wire::inline`]). TTFT runs from the request's last byte
//! written to the read that brought the first content byte: `sent_at` is the last write
//! before the response head, the head's arrival (TTFB) is the read that brought it, and
//! each chunk's arrival is the socket read that carried it
//! (matched as [`super::wire::stamps`] explains), not the moment the reader, after
//! hyper's body channel, received it. Connection set-up stays outside, reported as `connect`.
//! Reads are never retried and the request is never re-sent: after a byte of content, a
//! retry would duplicate billed output.
//!
//! A stream whose answer is already whole (finish reason and usage in hand) is not
//! made to wait out the idle timeout for a missing end marker: after a short grace it
//! ends as done, with a [`StreamEvent::Note`] saying what the server left out.

mod body;
mod joiner;

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::bedrock::frames::{FrameDecoder, TimedMessage};
use super::client::TimedClient;
use super::errors::{self, ErrorContext};
use super::event::{ErrorKind, ProviderError, ResponseStart, StreamEvent};
use super::sse::{EventTemplate, SseDecoder};
use super::wire::{Arrivals, SocketStamps};
use super::{Decoder, transport};
use crate::target::{Framing, ProviderSpec, Timeouts};
use body::{BodyEnd, BodyReader};
use joiner::Joiner;

/// Everything an attempt needs besides the request itself.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The target's instrumented client.
    pub client: &'a TimedClient,
    /// The target's row of the provider table: its protocol, framing and end marker.
    pub spec: &'static ProviderSpec,
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
const REQUEST_ID_HEADERS: [&str; 6] = [
    "x-request-id",
    "request-id",
    "x-goog-request-id",
    "apim-request-id",
    "x-amzn-requestid",
    "x-mock-request-id",
];

/// Run one attempt. Always ends by emitting exactly one terminal event.
///
/// The connection the request goes out on is polled by this task, not a task of its own
/// ([`super::wire::inline`]): each chunk of the answer reaches the reader without a trip
/// through the scheduler.
pub async fn run(a: Attempt<'_>, request: reqwest::Request, cancel: &CancellationToken, emit: &mut Emit<'_>) {
    super::wire::inline::driving(attempt(a, request, cancel, emit)).await;
}

async fn attempt(a: Attempt<'_>, request: reqwest::Request, cancel: &CancellationToken, emit: &mut Emit<'_>) {
    let dispatched = Instant::now();
    emit(dispatched, StreamEvent::Dispatched);
    let url = request.url().clone();
    let sent = tokio::select! {
        biased;
        () = cancel.cancelled() => return emit(Instant::now(), StreamEvent::Cancelled),
        r = tokio::time::timeout(a.timeouts.headers, a.client.wire.send(request)) => r,
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
            return emit(Instant::now(), StreamEvent::Failed(Box::new(e)));
        }
        Ok(Err(e)) => {
            return emit(
                Instant::now(),
                StreamEvent::Failed(Box::new(transport::send_error(&e, a.cx))),
            );
        }
        Ok(Ok(r)) => r,
    };
    let received = Instant::now();
    let connect = a.client.connect_since(dispatched);
    let stamps = response.extensions().get::<SocketStamps>().cloned();
    // The request's last byte on the socket; without stamps (never expected), the
    // moment the connection was ready, which counts the request's own write in TTFT.
    let wrote = stamps.as_ref().and_then(SocketStamps::last_write);
    let sent_at = wrote
        .filter(|w| *w >= dispatched)
        .unwrap_or_else(|| connect.map_or(dispatched, |c| c.end));
    let unstamped = stamps.is_none();
    let arrivals = stamps.map(|s| Arrivals::after_request(s, sent_at));
    // The head's own read, so TTFB is socket to socket and no chunk precedes it.
    let headers_at = arrivals.as_ref().and_then(Arrivals::head).unwrap_or(received);
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    emit(
        headers_at,
        StreamEvent::Started(Box::new(ResponseStart {
            http_status: status,
            request_id: REQUEST_ID_HEADERS
                .iter()
                .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()).map(str::to_string)),
            rate_limits: headers
                .iter()
                .filter(|(n, _)| is_rate_limit_header(n.as_str()))
                .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
                .collect(),
            sent_at,
            connect: connect.map(|c| c.end - c.start),
        })),
    );
    if unstamped {
        emit(
            headers_at,
            StreamEvent::Note(
                "timing: the connection gave no socket stamps, so TTFT runs from the connection being ready to this task receiving each chunk"
                    .into(),
            ),
        );
    }
    // OpenRouter names the generation in a header; it is the key to its own records.
    if let Some(id) = errors::header(&headers, "x-generation-id") {
        emit(
            headers_at,
            StreamEvent::Server(Box::new(super::server::ServerReport::generation_id(&id))),
        );
    }
    // Timings in headers (`openai-processing-ms`, `server-timing`...): the server's claim.
    if let Some(report) = super::server::from_headers(&headers) {
        emit(headers_at, StreamEvent::Server(Box::new(report)));
    }
    let mut reader = BodyReader::new(response.into_body(), arrivals, cancel, a.timeouts.idle);
    let content_type = errors::header(&headers, "content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();

    if (300..400).contains(&status) {
        // Never followed (the client's policy): a redirect would carry the key elsewhere.
        let e = transport::redirect_error(status, &headers, &url, a.cx);
        return emit(Instant::now(), StreamEvent::Failed(Box::new(e)));
    }
    if !(200..300).contains(&status) {
        let body = match reader.read_all().await {
            Ok(b) => b,
            Err(end) => return emit(Instant::now(), end.into_event(a.cx)),
        };
        let err = errors::from_http(status, &headers, &String::from_utf8_lossy(&body), a.cx);
        return emit(Instant::now(), StreamEvent::Failed(Box::new(err)));
    }

    if let Some(e) = transport::undecodable_encoding(&headers) {
        return emit(Instant::now(), StreamEvent::Failed(Box::new(e)));
    }
    let mut decoder = Decoder::for_spec(a.spec);
    // The table says how a stream of this kind is framed; a whole answer is always JSON,
    // and a server that ignored `stream` answers with JSON too.
    let expected = if a.streaming {
        a.spec.framing
    } else {
        Framing::Json
    };
    let framing = match (expected, Framing::of_content_type(&content_type)) {
        (expected, Some(answered)) if answered == expected || answered == Framing::Json => Some(answered),
        _ => None,
    };
    if framing == Some(Framing::Sse) {
        return read_stream(reader, decoder, a, emit).await;
    }
    if framing == Some(Framing::EventStream) {
        return read_event_stream(reader, decoder, a, emit).await;
    }
    if framing != Some(Framing::Json) {
        let expected = expected.described();
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
        return emit(Instant::now(), StreamEvent::Failed(Box::new(e)));
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
            Err(e) => StreamEvent::Failed(Box::new(e)),
        },
    );
}

/// How long a stream whose answer is whole may stay open waiting for its end marker.
const END_MARKER_GRACE: Duration = Duration::from_secs(2);

async fn read_stream(mut reader: BodyReader<'_>, mut decoder: Decoder, a: Attempt<'_>, emit: &mut Emit<'_>) {
    let mut emit = Joiner::new(emit);
    let mut sse = SseDecoder::new();
    let mut template = EventTemplate::default();
    let mut out = Vec::new();
    // The read that completed the latest event: the end of the answer if the server
    // then goes quiet. Keep-alive comments do not move it.
    let mut last_event_at = Instant::now();
    loop {
        // Text held for joining goes out before the task can sleep, never later; while
        // its driver will poll it again, chunks of the same socket read join it first.
        let flush = || {
            if !super::wire::inline::polled_again() {
                emit.flush();
            }
        };
        let read = if decoder.awaits_only_end_marker() {
            let deadline = last_event_at + a.timeouts.idle.min(END_MARKER_GRACE);
            before_waiting(reader.next_before(deadline.into()), flush).await
        } else {
            before_waiting(reader.next(a.timeouts.idle), flush).await
        };
        let (chunk, at) = match read {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(BodyEnd::Idle(d, _)) if decoder.is_complete() => {
                // The provider said all it had to say; what is missing is the goodbye.
                let note = stalled_note(&decoder, a.spec, a.timeouts.idle, d);
                emit.send(last_event_at, StreamEvent::Note(note));
                return emit.send(last_event_at, StreamEvent::Done);
            }
            Err(BodyEnd::Transport(msg, _) | BodyEnd::Decode(msg, _)) if decoder.is_complete() => {
                let note = format!(
                    "the connection dropped ({msg}) after the answer was complete, before {}",
                    a.spec.end_marker.described()
                );
                emit.send(Instant::now(), StreamEvent::Note(errors::one_line(&note)));
                return emit.send(Instant::now(), StreamEvent::Done);
            }
            Err(end) => return emit.send(Instant::now(), end.into_event(a.cx)),
        };
        let mut frames = sse.feed(&chunk, at);
        loop {
            // Nearly every event of an answer: a piece of text in the bytes of the
            // piece before it.
            if emit.texts(at, frames.like(&mut template)) > 0 {
                last_event_at = at;
            }
            let Some(frame) = frames.next() else { break };
            last_event_at = at;
            // A piece of text and nothing else, whose bytes the next ones may repeat.
            if let Some(text) = decoder.plain_text(frame.event, frame.data) {
                template.learn(frame.event, frame.data, text);
                emit.text(frame.at, text);
                continue;
            }
            let result = decoder.on_sse(frame.event, frame.data, &mut out);
            for ev in out.drain(..) {
                emit.send(frame.at, ev);
            }
            if let Err(e) = result {
                return emit.send(frame.at, StreamEvent::Failed(Box::new(e)));
            }
            if decoder.saw_end_marker() {
                return emit.send(frame.at, StreamEvent::Done);
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
                emit.send(frame.at, ev);
            }
            if decoder.is_complete() && !before {
                // Name it by its type, or by its data when it has none (`[DONE]`).
                let name = if frame.event == "message" {
                    frame.data.chars().take(40).collect()
                } else {
                    frame.event
                };
                let note = format!("the last event (`{name}`) ended without its closing blank line");
                emit.send(end_at, StreamEvent::Note(errors::one_line(&note)));
            }
        }
        out.clear();
    }
    if decoder.is_complete() {
        if !decoder.saw_end_marker()
            && let Some(marker) = a.spec.end_marker.on_the_wire()
        {
            let note = format!("the stream closed without {marker} after a complete answer");
            emit.send(end_at, StreamEvent::Note(note));
        }
        return emit.send(end_at, StreamEvent::Done);
    }
    if let Some(e) = decoder.no_answer_in_stream() {
        return emit.send(end_at, StreamEvent::Failed(Box::new(e)));
    }
    let marker = a.spec.complete_when;
    let e = ProviderError::new(
        ErrorKind::Truncated,
        format!(
            "the stream ended after {} bytes without {marker}; the answer may be incomplete",
            reader.bytes
        ),
    );
    emit.send(end_at, StreamEvent::Failed(Box::new(e)));
}

/// `work`, calling `wait` each time its poll finds nothing ready, not after a poll that
/// made progress: text held for joining stays while chunks keep coming.
async fn before_waiting<F: std::future::Future>(work: F, mut wait: impl FnMut()) -> F::Output {
    let mut work = std::pin::pin!(work);
    std::future::poll_fn(|cx| {
        let polled = work.as_mut().poll(cx);
        if polled.is_pending() {
            wait();
        }
        polled
    })
    .await
}

/// A binary event stream (Bedrock): messages as they complete, each decoded at once.
async fn read_event_stream(
    mut reader: BodyReader<'_>,
    mut decoder: Decoder,
    a: Attempt<'_>,
    emit: &mut Emit<'_>,
) {
    let mut frames = FrameDecoder::new();
    let mut messages: Vec<TimedMessage> = Vec::new();
    let mut out = Vec::new();
    loop {
        let (chunk, at) = match reader.next(a.timeouts.idle).await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(end) => return emit(Instant::now(), end.into_event(a.cx)),
        };
        let framed = frames.feed(&chunk, at, &mut messages);
        for m in messages.drain(..) {
            let result = decoder.on_event_message(&m.message, &mut out);
            for ev in out.drain(..) {
                emit(m.at, ev);
            }
            if let Err(e) = result {
                return emit(m.at, StreamEvent::Failed(Box::new(e)));
            }
            if decoder.saw_end_marker() {
                return emit(m.at, StreamEvent::Done);
            }
        }
        if let Err(why) = framed {
            let e = ProviderError::new(ErrorKind::Malformed, errors::one_line(&why));
            return emit(at, StreamEvent::Failed(Box::new(e)));
        }
    }
    let end_at = Instant::now();
    let cut = if frames.has_partial() {
        " inside a message"
    } else {
        ""
    };
    let e = ProviderError::new(
        ErrorKind::Truncated,
        format!(
            "the stream ended{cut} after {} bytes ({} messages) without {}; the answer may be incomplete",
            reader.bytes,
            frames.decoded(),
            a.spec.complete_when
        ),
    );
    emit(end_at, StreamEvent::Failed(Box::new(e)));
}

fn stalled_note(decoder: &Decoder, spec: &ProviderSpec, idle: Duration, waited: Duration) -> String {
    let closing_marker = spec.end_marker.on_the_wire();
    if decoder.awaits_only_end_marker() {
        let missing = match &closing_marker {
            Some(marker) => format!("sent no {marker} and held the connection open"),
            None => "held the connection open after the final chunk".to_string(),
        };
        format!(
            "the answer was complete but the server {missing}; stopped waiting after {:.1} s",
            idle.min(END_MARKER_GRACE).as_secs_f64()
        )
    } else {
        let missing = match closing_marker {
            Some(marker) => format!("no {marker}"),
            None => "no end of the body".to_string(),
        };
        format!(
            "after the finish reason the server sent no usage and {missing} for {:.1} s (idle_timeout); the answer is complete, its usage unreported",
            waited.as_secs_f64()
        )
    }
}
