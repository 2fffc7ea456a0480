//! The body of one response, read chunk by chunk: each chunk with the arrival of the
//! socket read that carried it, under the idle limit, cancellable.

use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use hyper::body::Body;
use tokio::time::Sleep;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use crate::provider::errors::{self, ErrorContext};
use crate::provider::event::{ErrorKind, ProviderError, StreamEvent};
use crate::provider::transport;
use crate::provider::wire::{Arrivals, WireBody};

/// Bytes of body that cost one unit of the runtime's cooperative budget (beyond the
/// first unit every chunk costs).
const BUDGET_BYTES: usize = 8 * 1024;

/// What ended one wait of [`BodyReader::next_before`].
enum Wait<T> {
    Read(Option<T>),
    Cancelled,
    Timer,
}

/// Why reading the body stopped early.
pub(super) enum BodyEnd {
    Cancelled,
    Idle(Duration, u64),
    Transport(String, u64),
    /// The body could not be decompressed.
    Decode(String, u64),
}

impl BodyEnd {
    pub(super) fn into_event(self, cx: ErrorContext<'_>) -> StreamEvent {
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
                StreamEvent::Failed(Box::new(e))
            }
            Self::Decode(msg, bytes) => StreamEvent::Failed(Box::new(ProviderError::new(
                ErrorKind::Malformed,
                errors::one_line(&format!(
                    "the compressed body from {} could not be decoded after {bytes} bytes ({msg}); a proxy may have mangled it",
                    cx.base_url
                )),
            ))),
            Self::Transport(msg, bytes) => StreamEvent::Failed(Box::new(ProviderError::new(
                ErrorKind::Truncated,
                errors::one_line(&format!(
                    "the connection to {} dropped after {bytes} bytes ({msg}); the answer may be incomplete",
                    cx.base_url
                )),
            ))),
        }
    }
}

/// The body of one response, read chunk by chunk under the idle limit.
///
/// One timer serves the whole stream, and a chunk does not touch it: arming a timer per
/// chunk cost more than decoding the chunk on a fast stream. Each wait only notes its
/// deadline; the timer keeps the earliest it was given and, when it fires before the
/// deadline of the wait in progress, is moved to it ([`Sleep::reset`]) and waits again.
/// The cancellation wait is likewise made once.
pub(super) struct BodyReader<'a> {
    body: WireBody,
    /// Which socket read brought each chunk; `None` only if the connection gave no
    /// stamps, when a chunk's arrival is when this task received it.
    arrivals: Option<Arrivals>,
    cancel: &'a CancellationToken,
    cancelled: Pin<Box<WaitForCancellationFuture<'a>>>,
    idle: Duration,
    /// The stream's one idle timer, and the deadline it is set to.
    timer: Pin<Box<Sleep>>,
    deadline: tokio::time::Instant,
    /// When the last chunk was received (or the reader made): idle time counts from here.
    last: tokio::time::Instant,
    pub(super) bytes: u64,
}

impl<'a> BodyReader<'a> {
    pub(super) fn new(
        body: WireBody,
        arrivals: Option<Arrivals>,
        cancel: &'a CancellationToken,
        idle: Duration,
    ) -> Self {
        let deadline = tokio::time::Instant::now() + idle;
        Self {
            body,
            arrivals,
            cancel,
            cancelled: Box::pin(cancel.cancelled()),
            idle,
            timer: Box::pin(tokio::time::sleep_until(deadline)),
            deadline,
            last: deadline - idle,
            bytes: 0,
        }
    }

    /// Next chunk and the arrival of the socket read that carried it, giving up when the
    /// body has been silent for `wait` since the last chunk; `Ok(None)` at a clean end of
    /// body.
    pub(super) async fn next(&mut self, wait: Duration) -> Result<Option<(bytes::Bytes, Instant)>, BodyEnd> {
        // From the last chunk's receipt, already read off the clock, rather than reading
        // it again per chunk: the server has been silent at least since then.
        self.next_before(self.last + wait).await
    }

    /// [`Self::next`], giving up at `deadline`.
    pub(super) async fn next_before(
        &mut self,
        deadline: tokio::time::Instant,
    ) -> Result<Option<(bytes::Bytes, Instant)>, BodyEnd> {
        let wait = deadline.saturating_duration_since(self.last);
        // A later deadline (every chunk brings one) is not given to the timer now: the
        // timer fires at the earlier one and is moved then, once per idle period, not
        // once per chunk. An earlier one must be set at once.
        if deadline < self.deadline {
            self.timer.as_mut().reset(deadline);
            self.deadline = deadline;
        }
        loop {
            // Checked first, so a cancel stops a stream whose data never runs dry.
            if self.cancel.is_cancelled() {
                return Err(BodyEnd::Cancelled);
            }
            // Data already there is taken without polling the waits: they register
            // wakers only when there is nothing to read, and not even then when the
            // task's driver will poll this again before it sleeps (the connection it
            // polls next most often brings the next chunk at once).
            let step = std::future::poll_fn(|cx| {
                if let Poll::Ready(r) = Pin::new(&mut self.body).poll_frame(cx) {
                    return Poll::Ready(Wait::Read(r));
                }
                if crate::provider::wire::inline::polled_again() {
                    return Poll::Pending;
                }
                if self.cancelled.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Wait::Cancelled);
                }
                if self.timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Wait::Timer);
                }
                Poll::Pending
            })
            .await;
            let read = match step {
                Wait::Read(r) => Some(r),
                Wait::Cancelled => return Err(BodyEnd::Cancelled),
                Wait::Timer if deadline > self.deadline => {
                    self.timer.as_mut().reset(deadline);
                    self.deadline = deadline;
                    continue;
                }
                Wait::Timer => None,
            };
            let received = Instant::now();
            self.last = tokio::time::Instant::from_std(received);
            let frame = match read {
                None => return Err(BodyEnd::Idle(wait, self.bytes)),
                Some(None) => return Ok(None),
                Some(Some(Err(e))) if transport::is_decompression_failure(e.as_ref()) => {
                    return Err(BodyEnd::Decode(transport::error_chain(e.as_ref()), self.bytes));
                }
                Some(Some(Err(e))) => {
                    return Err(BodyEnd::Transport(transport::error_chain(e.as_ref()), self.bytes));
                }
                Some(Some(Ok(frame))) => frame,
            };
            // Trailers carry nothing Prism reads; empty chunks carry no arrival.
            let Ok(data) = frame.into_data() else { continue };
            if data.is_empty() {
                continue;
            }
            self.bytes += data.len() as u64;
            // A server that is always ahead leaves this task nothing to wait for: spend
            // the task's budget so it yields now and then, letting the other streams on
            // this thread run and the consumer take the events decoded so far. A unit per
            // started 8 KiB, so a task handed chunks of hundreds of KiB (a fast server's
            // reads) does not decode whole answers ahead of the consumer, holding them
            // all in flight.
            for _ in 0..=data.len() / BUDGET_BYTES {
                tokio::task::coop::consume_budget().await;
            }
            let at = self
                .arrivals
                .as_mut()
                .map_or(received, |arrivals| arrivals.arrival(received));
            return Ok(Some((data, at)));
        }
    }

    pub(super) async fn read_all(&mut self) -> Result<Vec<u8>, BodyEnd> {
        let mut body = Vec::new();
        while let Some((chunk, _)) = self.next(self.idle).await? {
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}
