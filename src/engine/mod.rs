//! Fan-out: one task per target, all released together, events tagged and timestamped.
//!
//! Every request is built (key read, body serialized) before any is sent, and the
//! tasks wait on one barrier, so no target gets a head start. Each task owns its socket
//! and stamps events as bytes arrive; consumers only ever see [`Envelope`]s.

mod attempts;
pub mod envelope;
pub mod metrics;

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{Barrier, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use envelope::{Envelope, RunId};

use crate::config::Target;
use crate::provider::client::TimedClient;
use crate::provider::event::{ErrorKind, ProviderError, StreamEvent};
use crate::provider::request::ChatRequest;

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

/// A running fan-out: its events, and the means to cancel it.
#[derive(Debug)]
pub struct RunHandle {
    /// Every event of every target, in arrival order per target.
    pub events: mpsc::UnboundedReceiver<Envelope>,
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
        let prepared = prepare(target, request);
        let (tx, barrier, target) = (tx.clone(), barrier.clone(), target.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut emit = |at: Instant, event: StreamEvent| {
                // A closed receiver means nobody is listening any more; nothing to do.
                let _ = tx.send(Envelope {
                    run: opts.run,
                    target: index,
                    at,
                    event,
                });
            };
            match prepared {
                Err(e) => emit(Instant::now(), StreamEvent::Failed(e)),
                Ok((client, req)) => attempts::run(&client, &target, req, &cancel, &mut emit).await,
            }
        }));
    }
    barrier.wait().await;
    RunHandle {
        events: rx,
        cancels,
        tasks,
    }
}

/// Everything that can fail before sending: the key, the client, the request body.
fn prepare(target: &Target, request: &ChatRequest) -> Result<(TimedClient, reqwest::Request), ProviderError> {
    let key = target.key.resolve()?;
    let client = TimedClient::new(target.params.timeouts.connect)
        .map_err(|e| ProviderError::new(ErrorKind::Config, format!("cannot create an HTTP client: {e}")))?;
    let req = crate::provider::build_request(&client.http, target, request, key.as_ref())?;
    Ok((client, req))
}
