//! Executes the run and session effects: spawns fan-outs, records and forwards their
//! events as messages tagged with the pane they belong to, cancels them, and hands the
//! session effects to the [`Saver`].
//!
//! The runner sees every envelope, so it is what saves them: each one is recorded
//! before it is forwarded, including failures made up before anything was sent
//! (pre-flight), so the saved session shows exactly what the panes showed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::autosave::Saver;
use crate::engine::{Cancels, RunId};
use crate::pricing::PriceTable;
use crate::tui::model::msg::{Effect, Job, Msg};
use crate::workflows::send::{self, JobId, Report, Send, SessionTarget};

/// How long quitting waits for cancelled streams to report their end before the session
/// is closed.
const DRAIN_ON_QUIT: Duration = Duration::from_secs(2);

/// Live runs, their cancellation tokens, and the session being saved.
#[derive(Debug, Default)]
pub struct Runner {
    runs: HashMap<RunId, (Vec<usize>, Cancels)>,
    tasks: Vec<JoinHandle<()>>,
    /// For pre-flight checks with the providers' own counts.
    prices: PriceTable,
    saver: Saver,
}

impl Runner {
    /// A runner that checks provider-counted prompts against `prices` and saves nothing.
    pub fn new(prices: PriceTable) -> Self {
        Self::with_sessions(prices, None)
    }

    /// A runner that also saves every send under `sessions` (when given).
    pub fn with_sessions(prices: PriceTable, sessions: Option<PathBuf>) -> Self {
        Self {
            runs: HashMap::new(),
            tasks: Vec::new(),
            saver: Saver::new(sessions, prices.clone()),
            prices,
        }
    }

    /// Where sessions are saved, when saving is on.
    pub fn sessions_root(&self) -> Option<std::path::PathBuf> {
        self.saver.root().map(std::path::Path::to_path_buf)
    }

    /// The prices runs are checked and costed with.
    pub fn prices(&self) -> &PriceTable {
        &self.prices
    }

    /// Perform a run or session effect; others are ignored (the loop handles them).
    pub fn apply(&mut self, effect: Effect, tx: &UnboundedSender<Msg>) {
        match effect {
            Effect::StartRun {
                run,
                turn,
                system,
                prompt,
                jobs,
            } => self.start(run, turn, system, &prompt, jobs, tx),
            Effect::Cancel { run, pane } => {
                if let Some((panes, cancels)) = self.runs.get(&run) {
                    match pane.and_then(|p| panes.iter().position(|x| *x == p)) {
                        Some(i) => cancels.cancel(i),
                        None if pane.is_none() => cancels.cancel_all(),
                        None => {}
                    }
                }
            }
            Effect::NewSession { targets } => self.saver.start(&targets, tx),
            Effect::ContinueSession { dir, meta, targets } => self.saver.resume(&dir, *meta, targets, tx),
            Effect::CloseSession => self.saver.detach(),
            Effect::ListSessions => self.saver.list(tx),
            Effect::LoadSession(dir) => self.saver.load(dir, tx),
            Effect::RenameSession { dir, name } => self.saver.rename(&dir, &name, tx),
            Effect::DeleteSession(dir) => self.saver.delete(&dir, tx),
            _ => {}
        }
    }

    fn start(
        &mut self,
        run: RunId,
        turn: u32,
        system: Option<String>,
        prompt: &str,
        jobs: Vec<Job>,
        tx: &UnboundedSender<Msg>,
    ) {
        let recorder = self.saver.recorder();
        let panes: Vec<usize> = jobs.iter().map(|j| j.pane).collect();
        let cancels = Cancels::new(jobs.len());
        let plan = Send {
            run,
            turn,
            system,
            prompt: prompt.to_string(),
            jobs: jobs
                .into_iter()
                .map(|j| send::Job {
                    id: JobId(j.pane),
                    // The pane index is also the target's index in the session.
                    session: SessionTarget(j.pane),
                    target: j.target,
                    request: j.request,
                    history: j.history,
                    blocked: j.blocked,
                })
                .collect(),
            session: recorder.as_ref().map(|r| r.writer().clone()),
            prices: self.prices.clone(),
            cancels: cancels.clone(),
            provider_counts: true,
        };
        let tx = tx.clone();
        let mut sink = move |report: Report| match report {
            // The pane already shows this failure; it only needed saving.
            Report::Blocked { .. } => true,
            Report::CounterFailed { note, .. } => {
                let _ = tx.send(Msg::Notice(note));
                true
            }
            Report::Event { job, at, event } => {
                if let Some(r) = &recorder {
                    r.check_written(&event, &tx);
                }
                tx.send(Msg::stream(run, job.0, at, event)).is_ok()
            }
        };
        // Recorded now, before any later effect (a closed session) can intervene.
        let pending = plan.begin(&mut sink);
        if pending.is_done() {
            return;
        }
        self.runs.insert(run, (panes, cancels));
        self.tasks.retain(|t| !t.is_finished());
        self.tasks.push(tokio::spawn(pending.finish(sink)));
    }

    /// Let cancel effects reach a run started elsewhere (a re-run's own fan-out):
    /// `panes[i]` shows target `i` of `cancels`.
    pub fn track(&mut self, run: RunId, panes: Vec<usize>, cancels: Cancels) {
        self.runs.insert(run, (panes, cancels));
    }

    /// Cancel everything (on quit): connections close, providers stop generating.
    pub fn cancel_everything(&mut self) {
        for (_, c) in self.runs.values() {
            c.cancel_all();
        }
    }

    /// Cancel everything, give the streams a moment to record how they ended, then close
    /// the session so everything reaches the disk.
    pub async fn finish(&mut self) {
        self.cancel_everything();
        let tasks = std::mem::take(&mut self.tasks);
        let _ = tokio::time::timeout(DRAIN_ON_QUIT, futures_util::future::join_all(tasks)).await;
        self.saver.close();
    }

    /// Close the session being saved (everything queued is written first).
    pub fn close_session(&mut self) {
        self.saver.close();
    }
}
