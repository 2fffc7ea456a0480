//! Executes the run and session effects: spawns fan-outs, records and forwards their
//! events as messages tagged with the pane they belong to, cancels them, and hands the
//! session effects to the [`Saver`].
//!
//! The runner sees every envelope, so it is what saves them: each one is recorded
//! before it is forwarded, including failures made up before anything was sent
//! (pre-flight), so the saved session shows exactly what the panes showed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::autosave::Saver;
use super::msg::{Effect, Job, Msg};
use crate::engine::{Cancels, Envelope, RunId, RunOptions, fan_out_each};
use crate::preflight::{self, Counter};
use crate::pricing::PriceTable;
use crate::provider::count::{Counted, count_all, counter_failed};
use crate::provider::event::{ErrorKind, ProviderError, StreamEvent};
use crate::session::Outgoing;

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
        // Event times are measured from here, so nothing of the run can precede it.
        let base = Instant::now();
        let recorder = self.saver.recorder();
        if let Some(r) = &recorder {
            let outgoing: Vec<Outgoing> = jobs
                .iter()
                .map(|j| Outgoing {
                    target: j.pane,
                    history: j.history.clone(),
                    request: j.request.clone(),
                })
                .collect();
            r.writer().send(run.0, turn, system, prompt, base, &outgoing);
            for j in &jobs {
                if let Some(e) = &j.blocked {
                    // The pane already shows this failure; it only needs saving.
                    r.writer()
                        .event(run.0, j.pane, base, &StreamEvent::Failed(e.clone()));
                }
            }
        }
        let jobs: Vec<Job> = jobs.into_iter().filter(|j| j.blocked.is_none()).collect();
        if jobs.is_empty() {
            return;
        }
        let panes: Vec<usize> = jobs.iter().map(|j| j.pane).collect();
        let cancels = Cancels::new(jobs.len());
        self.runs.insert(run, (panes.clone(), cancels.clone()));
        self.tasks.retain(|t| !t.is_finished());
        let tx = tx.clone();
        let prices = self.prices.clone();
        self.tasks.push(tokio::spawn(async move {
            let forward = |pane: usize, env: Envelope| {
                if let Some(r) = &recorder {
                    r.event(run.0, pane, env.at, &env.event, &tx);
                }
                tx.send(Msg::Stream { pane, env }).is_ok()
            };
            // Targets that opted in are counted by their provider first, all at once; one
            // that cannot fit is not sent, one whose counter fails is sent on the local
            // count. The others wait, so all still start together.
            let asked: Vec<_> = jobs.iter().map(|j| (&j.target, &j.request)).collect();
            let tokens: Vec<_> = (0..jobs.len()).map(|i| cancels.token(i)).collect();
            let counts = count_all(&asked, &tokens).await;
            let mut keep = Vec::new();
            for (i, (j, counted)) in jobs.iter().zip(counts).enumerate() {
                let refused = match counted {
                    Counted::Exact(n) => preflight::check_counted(&j.target, &prices, n, Counter::Provider)
                        .too_long
                        .map(|why| StreamEvent::Failed(ProviderError::new(ErrorKind::ContextLength, why))),
                    Counted::Cancelled => Some(StreamEvent::Cancelled),
                    Counted::Failed(e) => {
                        let _ = tx.send(Msg::Notice(counter_failed(&j.target.name, &e)));
                        None
                    }
                    Counted::NotCounted => None,
                };
                match refused {
                    Some(event) => {
                        let env = Envelope {
                            run,
                            target: i,
                            at: Instant::now(),
                            event,
                        };
                        forward(j.pane, env);
                    }
                    None => keep.push(i),
                }
            }
            let sent: Vec<_> = keep
                .iter()
                .map(|&i| (jobs[i].target.clone(), jobs[i].request.clone()))
                .collect();
            let panes: Vec<usize> = keep.iter().map(|&i| jobs[i].pane).collect();
            let mut handle = fan_out_each(&sent, RunOptions { run }, cancels.subset(&keep)).await;
            while let Some(env) = handle.events.recv().await {
                if !forward(panes[env.target], env) {
                    // The UI is gone: stop every request rather than stream into nothing.
                    handle.cancel_all();
                }
            }
            handle.join().await;
        }));
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
