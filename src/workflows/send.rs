//! Send and record: the one path every face takes to send a prompt to several targets.
//!
//! In one place it records the send, turns pre-flight refusals into recorded failures,
//! asks the providers that count tokens for their count (a prompt too long for its model
//! is not sent), releases the remaining jobs together, records every event, and hands
//! each one to the caller's sink tagged with the job it belongs to. Callers never see
//! the fan-out's own indices, so a job can never be mistaken for another.

use std::time::Instant;

use crate::engine::{Cancels, RunId, RunOptions, fan_out_each};
use crate::preflight::{self, Counter};
use crate::pricing::PriceTable;
use crate::provider::count::{Counted, count_all, counter_failed};
use crate::provider::event::{ErrorKind, ProviderError, StreamEvent};
use crate::provider::request::ChatRequest;
use crate::session::{Outgoing, SessionWriter};
use crate::target::Target;

/// Who a job is to the caller: a pane in the workbench, a result row in `prism run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub usize);

/// Index of a target in a saved session's target list (what the session file records).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionTarget(pub usize);

/// One target of a send.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The caller's name for this job; every report about it carries it.
    pub id: JobId,
    /// Where its send and events are recorded in the session.
    pub session: SessionTarget,
    /// The target.
    pub target: Target,
    /// Its own request: the system prompt, its own earlier exchanges, the prompt.
    pub request: ChatRequest,
    /// The earlier turns `request` includes.
    pub history: Vec<u32>,
    /// Pre-flight refused it: not sent, but the send and this failure are recorded.
    pub blocked: Option<ProviderError>,
}

/// Everything one send needs.
#[derive(Debug)]
pub struct Send {
    /// Tag of this send; the session records it too.
    pub run: RunId,
    /// Conversation turn the send belongs to.
    pub turn: u32,
    /// The system prompt, as recorded.
    pub system: Option<String>,
    /// The prompt, as recorded.
    pub prompt: String,
    /// The targets, in the caller's order.
    pub jobs: Vec<Job>,
    /// Where the send and every event are recorded, when saving.
    pub session: Option<SessionWriter>,
    /// Prices and context windows a provider's count is checked against.
    pub prices: PriceTable,
    /// One token per job, by its position in `jobs`; made by the caller so it can cancel
    /// before, during or after counting.
    pub cancels: Cancels,
    /// Ask the providers of opted-in targets for their token count before sending. Off
    /// when the caller has already counted (so nobody is asked twice).
    pub provider_counts: bool,
}

/// What the sink is handed, always tagged with the job it concerns.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// Pre-flight refused the job: it was never sent; this failure is recorded.
    Blocked {
        /// The job.
        job: JobId,
        /// When the refusal was recorded.
        at: Instant,
        /// The failure (a `Failed` event).
        event: StreamEvent,
    },
    /// One event of a job: from its stream, or the refusal its provider's count led to.
    Event {
        /// The job.
        job: JobId,
        /// Arrival time.
        at: Instant,
        /// The event.
        event: StreamEvent,
    },
    /// The job's token counter failed; it is sent on the local count.
    CounterFailed {
        /// The job.
        job: JobId,
        /// A one-line note for people.
        note: String,
    },
}

/// A send whose record is written and whose pre-flight refusals are reported; what is
/// left is counting and streaming ([`Pending::finish`]).
#[derive(Debug)]
pub struct Pending {
    run: RunId,
    jobs: Vec<(usize, Job)>,
    session: Option<SessionWriter>,
    prices: PriceTable,
    cancels: Cancels,
    provider_counts: bool,
}

impl Send {
    /// Record the send and its pre-flight refusals now, synchronously, so a session
    /// closed right after the send still holds it; refusals go to `sink` as
    /// [`Report::Blocked`].
    pub fn begin(self, sink: &mut impl FnMut(Report) -> bool) -> Pending {
        // Event times are measured from here, so nothing of the run can precede it.
        let base = Instant::now();
        if let Some(w) = &self.session {
            let outgoing: Vec<Outgoing> = self
                .jobs
                .iter()
                .map(|j| Outgoing {
                    target: j.session.0,
                    history: j.history.clone(),
                    request: j.request.clone(),
                })
                .collect();
            w.send(self.run.0, self.turn, self.system, &self.prompt, base, &outgoing);
        }
        let mut left = Vec::new();
        for (position, job) in self.jobs.into_iter().enumerate() {
            match &job.blocked {
                Some(e) => {
                    let (at, event) = (Instant::now(), StreamEvent::Failed(Box::new(e.clone())));
                    if let Some(w) = &self.session {
                        w.event(self.run.0, job.session.0, at, &event);
                    }
                    sink(Report::Blocked {
                        job: job.id,
                        at,
                        event,
                    });
                }
                None => left.push((position, job)),
            }
        }
        Pending {
            run: self.run,
            jobs: left,
            session: self.session,
            prices: self.prices,
            cancels: self.cancels,
            provider_counts: self.provider_counts,
        }
    }

    /// [`Send::begin`] then [`Pending::finish`]: returns when every job has ended.
    pub async fn run(self, mut sink: impl FnMut(Report) -> bool) {
        self.begin(&mut sink).finish(sink).await;
    }

    /// [`Send::run`], handing reports to `sink` in the batches they arrive in (all the
    /// events of one socket read, say) rather than one by one: for a consumer on another
    /// task, one message per batch instead of one per token.
    pub async fn run_batched(self, mut sink: impl FnMut(Vec<Report>) -> bool) {
        let pending = self.begin(&mut |report| sink(vec![report]));
        pending.finish_batched(sink).await;
    }
}

impl Pending {
    /// Whether every job was refused before sending (nothing left to do).
    pub fn is_done(&self) -> bool {
        self.jobs.is_empty()
    }

    /// Count, send and stream: every event is recorded, then handed to `sink`. A sink
    /// that returns `false` has nobody listening any more: every request is cancelled
    /// rather than streamed into nothing. Returns when every job has ended.
    pub async fn finish(self, mut sink: impl FnMut(Report) -> bool) {
        self.finish_batched(|reports| {
            // Every report is handed over, even after one that found nobody listening.
            let mut listening = true;
            for report in reports {
                listening &= sink(report);
            }
            listening
        })
        .await;
    }

    /// [`Pending::finish`], handing reports to `sink` in the batches they arrive in.
    pub async fn finish_batched(self, mut sink: impl FnMut(Vec<Report>) -> bool) {
        let Pending {
            run,
            jobs,
            session,
            prices,
            cancels,
            provider_counts,
        } = self;
        if jobs.is_empty() {
            return;
        }
        let session = session.as_ref();
        let counts = if provider_counts {
            // Targets that opted in are counted by their provider first, all at once; the
            // others wait, so all still start together.
            let asked: Vec<_> = jobs.iter().map(|(_, j)| (&j.target, &j.request)).collect();
            let tokens: Vec<_> = jobs.iter().map(|(p, _)| cancels.token(*p)).collect();
            count_all(&asked, &tokens).await
        } else {
            vec![Counted::NotCounted; jobs.len()]
        };
        let mut keep: Vec<(usize, Job)> = Vec::new();
        for ((position, job), counted) in jobs.into_iter().zip(counts) {
            let refused = match counted {
                Counted::Exact(n) => preflight::check_counted(&job.target, &prices, n, Counter::Provider)
                    .too_long
                    .map(|why| {
                        StreamEvent::Failed(Box::new(ProviderError::new(ErrorKind::ContextLength, why)))
                    }),
                Counted::Cancelled => Some(StreamEvent::Cancelled),
                Counted::Failed(e) => {
                    // A note, not an event: the session does not record it.
                    sink(vec![Report::CounterFailed {
                        job: job.id,
                        note: counter_failed(&job.target.name, &e),
                    }]);
                    None
                }
                Counted::NotCounted => None,
            };
            match refused {
                Some(event) => {
                    sink(vec![record(session, run, &job, Instant::now(), event)]);
                }
                None => keep.push((position, job)),
            }
        }
        if keep.is_empty() {
            return;
        }
        let sent: Vec<(Target, ChatRequest)> = keep
            .iter()
            .map(|(_, j)| (j.target.clone(), j.request.clone()))
            .collect();
        let positions: Vec<usize> = keep.iter().map(|(p, _)| *p).collect();
        let mut handle = fan_out_each(&sent, RunOptions { run }, cancels.subset(&positions)).await;
        while let Some(batch) = handle.events.recv_batch().await {
            let reports: Vec<Report> = batch
                .into_iter()
                // The fan-out's index stays in here: outside, only the job's own id exists.
                .filter_map(|env| {
                    let (_, job) = keep.get(env.target)?;
                    Some(record(session, run, job, env.at, env.event))
                })
                .collect();
            if !reports.is_empty() && !sink(reports) {
                handle.cancel_all();
            }
        }
        handle.join().await;
    }
}

/// Record one event of `job` and make it the report for the sink.
fn record(session: Option<&SessionWriter>, run: RunId, job: &Job, at: Instant, event: StreamEvent) -> Report {
    if let Some(w) = session {
        w.event(run.0, job.session.0, at, &event);
    }
    Report::Event {
        job: job.id,
        at,
        event,
    }
}
