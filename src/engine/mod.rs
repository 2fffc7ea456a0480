//! Fan-out: one task per target, all released together, events tagged and timestamped.
//!
//! Every request is built (key read, body serialized) before any is sent, and the
//! tasks wait on one barrier, so no target gets a head start. Each task owns its socket
//! and stamps events as bytes arrive; consumers only ever see [`Envelope`]s. The events a
//! task decodes between two waits (all those of one socket read) travel as one message
//! ([`batch`]), so a consumer wakes once per read, not once per token.

mod attempts;
pub mod batch;
pub mod envelope;
pub mod itl_stats;
pub mod metrics;
mod tool_round;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use tokio::sync::{Barrier, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use envelope::{Envelope, RunId};
pub use tool_round::{Continuation, continue_each};

use batch::{BatchReceiver, BatchSender};

use crate::provider::client::TimedClient;
use crate::provider::event::{ErrorKind, ProviderError, StreamEvent};
use crate::provider::request::ChatRequest;
use crate::target::Target;

/// Options for one fan-out.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Tag stamped on every envelope, so a consumer can drop events of an old run.
    pub run: RunId,
}

/// Cancellation for one fan-out: one token per target under one for the whole run.
/// Cloneable, and made before the run starts, so a cancel can never arrive too early.
#[derive(Debug, Clone)]
pub struct Cancels {
    all: CancellationToken,
    each: Vec<CancellationToken>,
}

impl Cancels {
    /// Tokens for `n` targets.
    pub fn new(n: usize) -> Self {
        let all = CancellationToken::new();
        let each = (0..n).map(|_| all.child_token()).collect();
        Self { all, each }
    }

    /// Cancel one target; its connection closes at once and its text so far stays.
    pub fn cancel(&self, target: usize) {
        if let Some(t) = self.each.get(target) {
            t.cancel();
        }
    }

    /// Cancel every target.
    pub fn cancel_all(&self) {
        self.all.cancel();
    }

    /// Target `i`'s token, for work done on its behalf before the fan-out (token counts).
    pub fn token(&self, i: usize) -> CancellationToken {
        self.each
            .get(i)
            .cloned()
            .unwrap_or_else(|| self.all.child_token())
    }

    /// The tokens of the targets at `indices`, still under the same run-wide token.
    pub fn subset(&self, indices: &[usize]) -> Cancels {
        Cancels {
            all: self.all.clone(),
            each: indices
                .iter()
                .filter_map(|&i| self.each.get(i).cloned())
                .collect(),
        }
    }
}

/// Every event of every target of a run, in arrival order per target: one by one
/// ([`BatchReceiver::recv`]) or as the batches they came in ([`BatchReceiver::recv_batch`]).
pub type Events = BatchReceiver<Envelope>;

/// A running fan-out: its events, and the means to cancel it.
#[derive(Debug)]
pub struct RunHandle {
    /// Every event of every target, in arrival order per target.
    pub events: Events,
    cancels: Cancels,
    tasks: Vec<JoinHandle<()>>,
}

impl RunHandle {
    /// Cancel one target; its connection closes at once and its text so far stays.
    pub fn cancel(&self, target: usize) {
        self.cancels.cancel(target);
    }

    /// Cancel every target.
    pub fn cancel_all(&self) {
        self.cancels.cancel_all();
    }

    /// Wait until every target task has finished (after its terminal event).
    pub async fn join(self) {
        for t in self.tasks {
            // A panicking task already lost its target; the others are unaffected.
            let _ = t.await;
        }
    }

    /// Number of targets in this run.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the run has no targets.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

/// Send `request` to every target concurrently. Must be called inside a tokio runtime.
pub async fn fan_out(targets: &[Target], request: &ChatRequest, opts: RunOptions) -> RunHandle {
    fan_out_with(targets, request, opts, Cancels::new(targets.len())).await
}

/// [`fan_out`] with cancellation tokens made by the caller (`cancels` must cover every target).
pub async fn fan_out_with(
    targets: &[Target],
    request: &ChatRequest,
    opts: RunOptions,
    cancels: Cancels,
) -> RunHandle {
    let jobs: Vec<(Target, ChatRequest)> = targets.iter().map(|t| (t.clone(), request.clone())).collect();
    fan_out_each(&jobs, opts, cancels).await
}

/// Send each target its own request (in a multi-turn conversation every target's history
/// holds its own earlier answers), all released together.
pub async fn fan_out_each(jobs: &[(Target, ChatRequest)], opts: RunOptions, cancels: Cancels) -> RunHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let barrier = Arc::new(Barrier::new(jobs.len() + 1));
    let mut tasks = Vec::with_capacity(jobs.len());
    for (index, (target, request)) in jobs.iter().enumerate() {
        let cancel = cancels
            .each
            .get(index)
            .cloned()
            .unwrap_or_else(|| cancels.all.child_token());
        let prepared = prepare(target, request).await;
        let events = TargetEvents::new(tx.clone(), opts.run, index);
        let target = target.clone();
        let request = request.clone();
        let sink = events.clone();
        // A schema asked for as a forced tool call: that call's input is the answer.
        let forced = crate::provider::schema::forced_tool(&target, &request).is_some();
        let work = async move {
            let mut emit = |at: Instant, event: StreamEvent| {
                let event = if forced {
                    crate::provider::schema::as_answer(event)
                } else {
                    Some(event)
                };
                if let Some(event) = event {
                    sink.send(at, event);
                }
            };
            // Canned tool results: a run that ends in tool calls gets one follow-up round
            // (not for a schema's forced tool, whose call is the answer).
            let canned = target.params.tools.as_ref().and_then(|t| t.results.as_ref());
            match (prepared, canned) {
                (Err(e), _) => emit(Instant::now(), StreamEvent::Failed(Box::new(e))),
                (Ok((client, req, credentials)), Some(results)) if !forced => {
                    let with = (results, &credentials);
                    tool_round::run(&client, &target, &request, req, with, &cancel, &mut emit).await;
                }
                (Ok((client, req, _)), _) => attempts::run(&client, &target, req, &cancel, &mut emit).await,
            }
        };
        tasks.push(spawn_target(events, barrier.clone(), name_of(jobs, index), work));
    }
    barrier.wait().await;
    RunHandle {
        events: BatchReceiver::new(rx),
        cancels,
        tasks,
    }
}

/// One target's way to the consumer: every event masked, tagged and buffered until the
/// target's task next waits ([`batch::flushing`]); remembers whether the terminal event
/// went out.
#[derive(Debug, Clone)]
struct TargetEvents {
    out: BatchSender<Envelope>,
    run: RunId,
    target: usize,
    ended: Arc<AtomicBool>,
}

impl TargetEvents {
    fn new(tx: mpsc::UnboundedSender<Vec<Envelope>>, run: RunId, target: usize) -> Self {
        Self {
            out: BatchSender::new(tx),
            run,
            target,
            ended: Arc::new(AtomicBool::new(false)),
        }
    }

    fn send(&self, at: Instant, mut event: StreamEvent) {
        // Only the terminal event writes the flag: a locked read-modify-write on every
        // token cost ~2% of a streamed token's CPU.
        if event.is_terminal() {
            self.ended.store(true, Ordering::Relaxed);
        }
        // A server or model can echo a key back; nothing downstream sees it.
        crate::provider::secret::mask_event(&mut event);
        // A closed receiver means nobody is listening any more; nothing to do.
        let _ = self.out.push(Envelope {
            run: self.run,
            target: self.target,
            at,
            event,
        });
    }

    /// Send what is buffered as one message.
    fn flush(&self) {
        self.out.flush();
    }
}

/// Spawn one target's `work`, released by `barrier`. A panic inside it ends that target
/// with an `internal` error (unless it had already ended); the others never notice.
fn spawn_target(
    events: TargetEvents,
    barrier: Arc<Barrier>,
    name: String,
    work: impl Future<Output = ()> + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        barrier.wait().await;
        let work = batch::flushing(work, || events.flush());
        if let Err(panicked) = crate::contain::contained(work).await
            && !events.ended.load(Ordering::Relaxed)
        {
            events.send(
                Instant::now(),
                StreamEvent::Failed(Box::new(ProviderError::internal(&name, &panicked.0))),
            );
        }
        // What the panicking poll produced before it panicked, and the failure.
        events.flush();
    })
}

fn name_of(jobs: &[(Target, ChatRequest)], index: usize) -> String {
    jobs.get(index).map(|(t, _)| t.name.clone()).unwrap_or_default()
}

/// Everything that can fail before sending: the key (or a token from the Azure CLI), the
/// client, the request body.
async fn prepare(
    target: &Target,
    request: &ChatRequest,
) -> Result<
    (
        TimedClient,
        reqwest::Request,
        crate::provider::credentials::Credentials,
    ),
    ProviderError,
> {
    if target.base_url.starts_with("https:") {
        // Its first handshake needs the system's trusted roots: load them meanwhile.
        crate::provider::wire::verifier::warm();
    }
    let credentials = crate::provider::credentials::Credentials::obtain(target).await?;
    let client = TimedClient::new(target.params.timeouts.connect)
        .map_err(|e| ProviderError::new(ErrorKind::Config, format!("cannot create an HTTP client: {e}")))?;
    let req = crate::provider::build_request(&client.http, target, request, &credentials)?;
    Ok((client, req, credentials))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_target_fails_alone_and_keeps_what_it_sent() {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut rx = BatchReceiver::new(rx);
        let barrier = Arc::new(Barrier::new(3));
        let (a, b) = (
            TargetEvents::new(tx.clone(), RunId(4), 0),
            TargetEvents::new(tx, RunId(4), 1),
        );
        let sink = a.clone();
        let doomed = spawn_target(a, barrier.clone(), "doomed".into(), async move {
            sink.send(Instant::now(), StreamEvent::TextDelta("partial".into()));
            tokio::task::yield_now().await;
            let parsed: Option<u32> = "not a number".parse().ok();
            #[allow(clippy::expect_used)]
            let _ = parsed.expect("a value the server never sent");
        });
        let sink = b.clone();
        let healthy = spawn_target(b, barrier.clone(), "healthy".into(), async move {
            for _ in 0..3 {
                tokio::task::yield_now().await;
                sink.send(Instant::now(), StreamEvent::TextDelta("ok".into()));
            }
            sink.send(Instant::now(), StreamEvent::Done);
        });
        barrier.wait().await;
        assert!(
            doomed.await.is_ok(),
            "the panic never reaches the task's join handle"
        );
        assert!(healthy.await.is_ok());
        let mut seen: [Vec<StreamEvent>; 2] = Default::default();
        while let Some(env) = rx.try_recv() {
            assert_eq!(env.run, RunId(4));
            seen[env.target].push(env.event);
        }
        assert_eq!(seen[0][0], StreamEvent::TextDelta("partial".into()));
        let StreamEvent::Failed(e) = &seen[0][1] else {
            panic!("{:?}", seen[0])
        };
        assert_eq!(e.kind, ErrorKind::Internal);
        assert!(
            e.message.contains("`doomed`") && e.message.contains("a value the server never sent"),
            "{}",
            e.message
        );
        assert_eq!(seen[0].len(), 2);
        assert_eq!(seen[1].len(), 4);
        assert_eq!(seen[1][3], StreamEvent::Done);
    }
}
