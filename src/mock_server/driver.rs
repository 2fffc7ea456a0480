//! Paces a rendered response body, injects stream faults and records what was sent.
//!
//! The body is a stream that hyper polls; each frame is produced only when its time has
//! come, and the send instant is taken immediately before the frame is handed back to hyper,
//! which writes it straight away (sockets run with TCP_NODELAY). That keeps `SendLog`
//! timestamps within microseconds of the socket write, which is what TTFT checks compare.

use super::LogSlot;
use super::script::Fault;
use super::wire::Frame;
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, StreamBody};
use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

pub type Body = UnsyncBoxBody<Bytes, io::Error>;

/// Timing and fault settings for one body.
pub struct Pacing {
    pub received_at: Instant,
    pub ttft: Duration,
    pub itl: Duration,
    pub stall: Duration,
    pub fault: Option<Fault>,
    /// Output tokens to emit before a mid-stream fault fires.
    pub fault_after: usize,
    pub keepalive: Option<Bytes>,
}

/// Provider-specific bytes the driver may inject.
#[derive(Default)]
pub struct Injections {
    pub malformed: Bytes,
    pub error_event: Bytes,
}

/// Cancelled when the client's side of the connection reaches EOF or errors.
pub type Gone = CancellationToken;

pub fn body(frames: Vec<Frame>, pacing: Pacing, inject: Injections, slot: LogSlot, gone: Gone) -> Body {
    let driver = Driver {
        frames: frames.into(),
        pacing,
        inject,
        slot,
        gone,
        emitted: 0,
        first_content: None,
        last_content: None,
        content_frames: 0,
        fault_fired: false,
        stalled_first: false,
        keepalive_due: false,
        finished: false,
    };
    let stream = futures_util::stream::unfold(
        driver,
        |mut d| async move { d.next().await.map(|item| (item, d)) },
    );
    StreamBody::new(stream.map(|r| r.map(hyper::body::Frame::data))).boxed_unsync()
}

struct Driver {
    frames: VecDeque<Frame>,
    pacing: Pacing,
    inject: Injections,
    slot: LogSlot,
    gone: Gone,
    emitted: usize,
    /// When the first content frame went out: the start of the ITL schedule.
    first_content: Option<Instant>,
    last_content: Option<Instant>,
    /// Content frames sent so far, for the fixed pacing schedule.
    content_frames: u32,
    fault_fired: bool,
    stalled_first: bool,
    keepalive_due: bool,
    /// Set once the body ended on purpose, so `Drop` can tell a vanished client apart.
    finished: bool,
}

/// The client went away while the driver was waiting.
struct Disconnected;

impl Driver {
    async fn next(&mut self) -> Option<io::Result<Bytes>> {
        if self.finished {
            return None;
        }
        // A vanished client ends the body; `Drop` records the disconnect.
        self.step().await.unwrap_or_default()
    }

    async fn step(&mut self) -> Result<Option<io::Result<Bytes>>, Disconnected> {
        if self.keepalive_due {
            self.keepalive_due = false;
            if let Some(k) = &self.pacing.keepalive {
                return Ok(Some(Ok(k.clone())));
            }
        }
        if self.pacing.fault == Some(Fault::StallFirst) && !self.stalled_first {
            self.stalled_first = true;
            self.sleep_until(Instant::now() + self.pacing.stall).await?;
        }
        let Some(frame) = self.frames.pop_front() else {
            self.finished = true;
            let natural = self.pacing.fault != Some(Fault::NoTerminator);
            self.slot.update(|r| r.completed = natural);
            return Ok(None);
        };
        if frame.content {
            if let Some(item) = self.mid_stream_fault().await? {
                if item.is_ok() && !self.finished {
                    // `malformed` continues with the frame it displaced.
                    self.frames.push_front(frame);
                }
                return Ok(Some(item));
            }
            // Deadlines are on a fixed schedule from the first token, not "last send + itl":
            // timers round each sleep up, and chaining them would make the stream slower
            // than scripted. The schedule starts when the first token actually went out:
            // a first token held up past its time (the tokenizer tables loading on a first
            // request, a starved machine) must not turn the rest of the answer into one
            // burst.
            let deadline = match (self.first_content, self.last_content) {
                (Some(first), Some(last)) => (first + self.pacing.itl * self.content_frames).max(last),
                _ => self.pacing.received_at + self.pacing.ttft,
            };
            self.content_frames += 1;
            self.sleep_until(deadline).await?;
            let now = Instant::now();
            self.first_content.get_or_insert(now);
            self.last_content = Some(now);
            self.emitted += frame.tokens;
            self.slot.update(|r| {
                r.first_content_at.get_or_insert(now);
                r.last_content_at = Some(now);
                r.content_events += 1;
            });
        }
        self.keepalive_due = self.pacing.keepalive.is_some() && !self.frames.is_empty();
        Ok(Some(Ok(frame.bytes)))
    }

    async fn mid_stream_fault(&mut self) -> Result<Option<io::Result<Bytes>>, Disconnected> {
        let Some(fault) = self.pacing.fault else {
            return Ok(None);
        };
        let mid = matches!(
            fault,
            Fault::StallMid | Fault::DropMid | Fault::Malformed | Fault::ErrorEvent
        );
        if !mid || self.fault_fired || self.emitted < self.pacing.fault_after {
            return Ok(None);
        }
        self.fault_fired = true;
        Ok(match fault {
            Fault::StallMid => {
                self.sleep_until(Instant::now() + self.pacing.stall).await?;
                None
            }
            Fault::DropMid => {
                // An error from the body makes hyper abort the connection without the
                // chunked terminator, which clients see as a truncated body. Yield first:
                // hyper flushes what it has when the body is pending, so the head and the
                // earlier frames are on the wire before the cut, as with a real drop.
                tokio::task::yield_now().await;
                self.finished = true;
                Some(Err(io::Error::other("mock fault: drop_mid")))
            }
            Fault::Malformed => Some(Ok(self.inject.malformed.clone())),
            Fault::ErrorEvent => {
                self.finished = true;
                Some(Ok(self.inject.error_event.clone()))
            }
            _ => None,
        })
    }

    async fn sleep_until(&self, deadline: Instant) -> Result<(), Disconnected> {
        // A timer that is already due still waits for the wheel's next 1 ms tick; at
        // `itl=0` that would cap a stream at ~1,000 events/s.
        if deadline <= Instant::now() {
            return if self.gone.is_cancelled() {
                Err(Disconnected)
            } else {
                Ok(())
            };
        }
        tokio::select! {
            _ = tokio::time::sleep_until(deadline.into()) => Ok(()),
            _ = self.gone.cancelled() => Err(Disconnected),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.finished {
            self.slot.update(|r| r.client_disconnected = true);
        }
    }
}
