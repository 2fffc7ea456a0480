//! Sending a plan: every run through the one send-and-record path
//! ([`crate::workflows::send`]), in the plan's order, within the concurrency limits.
//!
//! One dispatcher walks the runs in order and waits for each run's permits before
//! starting it, so runs start exactly in the planned order (a run waiting for a busy
//! target holds back the ones after it: the order is the promise). Warmups all finish
//! before the first counted run starts, so no counted run shares the endpoint with one.
//! Every report reaches the caller's sink tagged with its run and cell.
//!
//! A plain run (one prompt, one run per target) whose targets all fit within the limits
//! is sent as one send to every target, released together and recorded exactly as a
//! send always was.
//!
//! One cell can be stopped on its own ([`CellStops`]): its runs in flight are cancelled
//! (their partial answers are kept, as any cancel keeps them) and its runs not yet
//! started are never sent, while the other cells go on.

use std::sync::{Mutex, PoisonError};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::limits::{Gates, Limits};
use super::plan::Plan;
use crate::engine::{Cancels, RunId};
use crate::pricing::PriceTable;
use crate::provider::event::{ErrorKind, ProviderError};
use crate::session::SessionWriter;
use crate::target::Target;
use crate::workflows::send::{Job, JobId, Report, Send, SessionTarget};

/// Which run a report concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag {
    /// Index into [`Plan::runs`].
    pub run: usize,
    /// Index into [`Plan::cells`].
    pub cell: usize,
}

/// Everything a send of a plan needs besides the plan.
#[derive(Debug)]
pub struct Execution<'a> {
    /// The plan.
    pub plan: &'a Plan,
    /// Runs in flight at once.
    pub limits: &'a Limits,
    /// Per cell, why pre-flight refused it (its runs are recorded as failed, not sent).
    pub blocked: &'a [Option<String>],
    /// Where every run and event is recorded, when saving.
    pub session: Option<&'a SessionWriter>,
    /// Prices for the recorded result rows.
    pub prices: &'a PriceTable,
    /// Cancels what streams and starts nothing more.
    pub stop: CancellationToken,
}

/// A stop per cell of a plan, each a child of the experiment's stop (stopping the
/// experiment stops every cell). Empty for a launch that is one cell already.
#[derive(Debug, Clone, Default)]
pub struct CellStops(std::sync::Arc<Vec<CancellationToken>>);

impl CellStops {
    /// One stop per cell of `cells`, under `stop`.
    pub fn new(stop: &CancellationToken, cells: usize) -> Self {
        Self(std::sync::Arc::new(
            (0..cells).map(|_| stop.child_token()).collect(),
        ))
    }

    /// Stop cell `cell`: cancel its runs in flight and send none of its others. Whether
    /// there was such a cell.
    pub fn cancel(&self, cell: usize) -> bool {
        self.0.get(cell).map(CancellationToken::cancel).is_some()
    }

    /// Whether this holds a stop per cell (a re-run of one cell holds none).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn of(&self, cell: usize) -> CancellationToken {
        self.0.get(cell).cloned().unwrap_or_default()
    }
}

/// Send every run of the plan; `sink` gets every report, tagged. Returns when every
/// started run has ended; after `stop`, runs not yet started are never sent.
pub async fn execute(x: Execution<'_>, sink: impl FnMut(Tag, Report)) {
    let cells = CellStops::new(&x.stop, x.plan.cells.len());
    execute_with(x, cells, sink).await;
}

/// [`execute`], with `cells` to stop single cells by (made under `x.stop`).
pub async fn execute_with(x: Execution<'_>, cells: CellStops, sink: impl FnMut(Tag, Report)) {
    let plan = x.plan;
    let cells = if cells.is_empty() {
        CellStops::new(&x.stop, plan.cells.len())
    } else {
        cells
    };
    if let Some(w) = x.session
        && let Some(record) = plan.record()
    {
        w.experiment(record);
    }
    let gates = Gates::new(&plan.design.targets, x.limits);
    let design_target = |run: usize| -> &Target {
        let cell = &plan.cells[plan.runs[run].cell];
        &plan.design.targets[cell.target]
    };
    let all: Vec<usize> = (0..plan.runs.len()).collect();
    let together: Vec<&Target> = all.iter().map(|&i| design_target(i)).collect();
    let batches: Vec<Vec<usize>> = if plan.is_plain() && gates.fit_together(&together) {
        vec![all]
    } else {
        all.into_iter().map(|i| vec![i]).collect()
    };
    // Every send runs on this task, not a task of its own: the batch of events a stream
    // task delivers (one socket read's) goes from the send straight to `sink`, one
    // hand-off between threads per read instead of two.
    // Only this task locks it (the future must be `Send`, so a `RefCell` will not do).
    let sink = Mutex::new(sink);
    let deliver = |reports: Vec<Report>| {
        let mut sink = sink.lock().unwrap_or_else(PoisonError::into_inner);
        for report in reports {
            let run = job_of(&report).0;
            if let Some(r) = plan.runs.get(run) {
                sink(Tag { run, cell: r.cell }, report);
            }
        }
        true
    };
    let deliver = &deliver;
    let stop = x.stop.clone();
    let mut sending = FuturesUnordered::new();
    let mut warming = true;
    'runs: for batch in batches {
        if stop.is_cancelled() {
            break;
        }
        let warmup = plan.runs[batch[0]].warmup;
        if warming && !warmup {
            // Counted runs start on an endpoint no warmup is still using.
            while sending.next().await.is_some() {}
            warming = false;
        }
        // A stopped cell's runs are not sent; a batch goes while any of its cells is on.
        let stops: Vec<CancellationToken> = batch.iter().map(|&i| cells.of(plan.runs[i].cell)).collect();
        let all_stopped = || async {
            for s in &stops {
                s.cancelled().await;
            }
        };
        if stops.iter().all(CancellationToken::is_cancelled) {
            continue;
        }
        let targets: Vec<&Target> = batch.iter().map(|&i| design_target(i)).collect();
        let admitted = gates.admit(&targets);
        tokio::pin!(admitted);
        // The sends already going keep going while this one waits for its permits.
        let held = loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => break 'runs,
                () = all_stopped() => continue 'runs,
                held = &mut admitted => break held,
                Some(()) = sending.next(), if !sending.is_empty() => {}
            }
        };
        let cancels = Cancels::new(batch.len());
        let send = send_of(&x, &batch, cancels.clone());
        sending.push(async move {
            let _held = held;
            // Each job stops with its cell (and so with the experiment).
            let mut watchers = JoinSet::new();
            for (k, s) in stops.into_iter().enumerate() {
                let cancels = cancels.clone();
                watchers.spawn(async move {
                    s.cancelled().await;
                    cancels.cancel(k);
                });
            }
            // Each batch of reports (one socket read's events) reaches the sink at once.
            send.run_batched(deliver).await;
            watchers.abort_all();
        });
    }
    while sending.next().await.is_some() {}
}

fn job_of(report: &Report) -> JobId {
    match report {
        Report::Blocked { job, .. } | Report::Event { job, .. } | Report::CounterFailed { job, .. } => *job,
    }
}

/// The send of `batch` (indices into the plan's runs, all of one turn): each run a job
/// whose id is its run index, recorded under the first run's id and cell.
fn send_of(x: &Execution<'_>, batch: &[usize], cancels: Cancels) -> Send {
    let plan = x.plan;
    let first = plan.runs[batch[0]];
    let request = plan.cells[first.cell].request.clone();
    let jobs = batch
        .iter()
        .map(|&i| {
            let run = plan.runs[i];
            let cell = &plan.cells[run.cell];
            Job {
                id: JobId(i),
                session: SessionTarget(cell.session_target),
                target: plan.session_targets[cell.session_target].clone(),
                request: cell.request.clone(),
                history: Vec::new(),
                blocked: x
                    .blocked
                    .get(run.cell)
                    .cloned()
                    .flatten()
                    .map(|why| ProviderError::new(ErrorKind::ContextLength, why)),
            }
        })
        .collect();
    let session = x.session.map(|w| match plan.run_cell(&first) {
        Some(cell) => w.for_cell(cell),
        None => w.clone(),
    });
    Send {
        run: RunId(first.run_id),
        turn: first.turn,
        system: request.system.clone(),
        prompt: request
            .messages
            .last()
            .map_or(String::new(), |m| m.content.clone()),
        jobs,
        session,
        prices: x.prices.clone(),
        cancels,
        // The face asks the providers for their counts once per cell, before budgeting.
        provider_counts: false,
    }
}
