//! Experiments from the workbench: the plan sent by the same runner `prism run` uses,
//! into a session of its own, every report answered as a [`Msg::Cell`]; and a re-run
//! of one cell's runs into that session, each through the one send path.

use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::engine::{Cancels, RunId};
use crate::pricing::PriceTable;
use crate::provider::event::{ErrorKind, ProviderError};
use crate::session::SessionWriter;
use crate::tui::model::msg::Msg;
use crate::workflows::experiment::Plan;
use crate::workflows::experiment::limits::Limits;
use crate::workflows::experiment::runner::{CellStops, Execution, execute_with};
use crate::workflows::send::{Job, JobId, Report, Send, SessionTarget};

use super::autosave::SessionSlot;

/// The session the experiment on screen is saved in, once it exists; re-runs of its
/// cells are saved there too.
pub type ExperimentSession = Arc<Mutex<Option<(RunId, SessionWriter)>>>;

/// Where a report goes: the app, as one event of run `run` of `launch`.
fn forward(tx: &UnboundedSender<Msg>, launch: RunId, run: usize, report: Report) -> bool {
    let (at, event) = match report {
        Report::Blocked { at, event, .. } | Report::Event { at, event, .. } => (at, event),
        Report::CounterFailed { note, .. } => return tx.send(Msg::Notice(note)).is_ok(),
    };
    tx.send(Msg::Cell {
        launch,
        run,
        at,
        event,
    })
    .is_ok()
}

/// What an experiment's task needs.
pub struct Launch {
    /// Its launch id.
    pub launch: RunId,
    /// The plan.
    pub plan: Arc<Plan>,
    /// Runs in flight at once.
    pub limits: Limits,
    /// Per cell, why pre-flight refused it.
    pub blocked: Vec<Option<String>>,
    /// Prices for the recorded rows.
    pub prices: PriceTable,
    /// Stops it.
    pub stop: CancellationToken,
    /// Stops one cell of it (under `stop`).
    pub cells: CellStops,
}

/// Run the whole plan once its session exists (`slot`; none when not saving).
pub async fn run(x: Launch, slot: Option<SessionSlot>, saved: ExperimentSession, tx: UnboundedSender<Msg>) {
    let writer = match slot {
        Some(s) => s.recorder().await.map(|r| r.writer().clone()),
        None => None,
    };
    if let (Some(w), Ok(mut saved)) = (&writer, saved.lock()) {
        *saved = Some((x.launch, w.clone()));
    }
    let execution = Execution {
        plan: &x.plan,
        limits: &x.limits,
        blocked: &x.blocked,
        session: writer.as_ref(),
        prices: &x.prices,
        stop: x.stop.clone(),
    };
    execute_with(execution, x.cells.clone(), |tag, report| {
        forward(&tx, x.launch, tag.run, report);
    })
    .await;
    tx.send(Msg::CellsEnded(x.launch)).ok();
}

/// What a re-run of one cell needs.
pub struct CellRerun {
    /// Its launch id.
    pub launch: RunId,
    /// The experiment's plan.
    pub plan: Arc<Plan>,
    /// The runs to send again, one after the other.
    pub runs: Vec<usize>,
    /// Session run id of the first.
    pub first_run_id: u64,
    /// Pre-flight's refusal of the cell.
    pub blocked: Option<String>,
    /// Prices for the recorded rows.
    pub prices: PriceTable,
    /// Stops it.
    pub stop: CancellationToken,
}

/// Send `x.runs` again, each as a send of its own recorded under its cell with a new
/// run id, one at a time (so the cell's target is never asked for more than one).
pub async fn rerun(x: CellRerun, session: Option<SessionWriter>, tx: UnboundedSender<Msg>) {
    for (k, &i) in x.runs.iter().enumerate() {
        if x.stop.is_cancelled() {
            break;
        }
        let Some(run) = x.plan.runs.get(i).copied() else {
            continue;
        };
        let cell = &x.plan.cells[run.cell];
        let cancels = Cancels::new(1);
        let send = Send {
            run: RunId(x.first_run_id + k as u64),
            turn: run.turn,
            system: cell.request.system.clone(),
            prompt: cell
                .request
                .messages
                .last()
                .map_or(String::new(), |m| m.content.clone()),
            jobs: vec![Job {
                id: JobId(i),
                session: SessionTarget(cell.session_target),
                target: x.plan.session_targets[cell.session_target].clone(),
                request: cell.request.clone(),
                history: Vec::new(),
                blocked: x
                    .blocked
                    .clone()
                    .map(|why| ProviderError::new(ErrorKind::ContextLength, why)),
            }],
            session: session
                .as_ref()
                .map(|w| x.plan.run_cell(&run).map_or_else(|| w.clone(), |c| w.for_cell(c))),
            prices: x.prices.clone(),
            cancels: cancels.clone(),
            provider_counts: false,
        };
        let sending = send.run(|report| forward(&tx, x.launch, i, report));
        tokio::pin!(sending);
        tokio::select! {
            () = &mut sending => {}
            () = x.stop.cancelled() => {
                cancels.cancel_all();
                sending.await;
            }
        }
    }
    tx.send(Msg::CellsEnded(x.launch)).ok();
}
