//! The one executor of the effects the model asks for, deciding in one match what each
//! means: runs are spawned and their events forwarded as messages tagged with the pane
//! they belong to; session effects go to the [`Saver`]; a replay or re-run opened from
//! the browser is loaded and prepared on a task that answers with [`Msg::Borrowed`]; the
//! editor and the clipboard belong to the [`Console`].
//!
//! Nothing here waits: slow work runs on tasks that answer with messages, so the loop
//! keeps drawing. Only [`Executor::finish`], on quit, waits: for the cancelled streams
//! (at most [`DRAIN_ON_QUIT`]), a re-run's new session, and the sessions being saved.
//!
//! The executor sees every envelope, so it is what saves them: each one is recorded
//! before it is forwarded, including failures made up before anything was sent
//! (pre-flight), so the saved session shows exactly what the panes showed.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::autosave::{Recorder, Saver};
use super::event_loop::Screen;
use super::recording::{self, Launch, Opening, Recording};
use crate::engine::{Cancels, RunId};
use crate::pricing::PriceTable;
use crate::tui::model::msg::{Borrowed, Effect, Job, Msg};
use crate::workflows::experiment::runner::CellStops;
use crate::workflows::send::{self, JobId, Pending, Report, SessionTarget};

/// How long quitting waits for cancelled streams to report their end before the session
/// is closed.
pub const DRAIN_ON_QUIT: Duration = Duration::from_secs(2);

/// What the loop does after an effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Go on.
    Continue,
    /// The user quit: stop, then [`Executor::finish`].
    Quit,
}

/// The effects that need the terminal itself: the external editor and the clipboard.
/// Every [`Screen`] is one.
pub trait Console {
    /// Edit `text` in the external editor; the new text or a one-line reason it failed.
    fn edit(&mut self, text: &str) -> Result<String, String>;
    /// Put `text` on the clipboard.
    fn copy(&mut self, text: &str) -> io::Result<()>;
}

impl<S: Screen> Console for S {
    fn edit(&mut self, text: &str) -> Result<String, String> {
        Screen::edit(self, text)
    }

    fn copy(&mut self, text: &str) -> io::Result<()> {
        Screen::copy(self, text)
    }
}

/// No terminal, for driving the executor without one: there is no editor to open, and
/// nothing is copied.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTerminal;

impl Console for NoTerminal {
    fn edit(&mut self, _text: &str) -> Result<String, String> {
        Err("no terminal to open an editor in".into())
    }

    fn copy(&mut self, _text: &str) -> io::Result<()> {
        Ok(())
    }
}

/// Live runs, their cancellation tokens, the session being saved, and the recording a
/// browser opened into the panes.
#[derive(Default)]
pub struct Executor {
    runs: HashMap<RunId, (Vec<usize>, Cancels)>,
    /// Streaming runs; quitting waits (bounded) for them to record how they ended.
    tasks: Vec<JoinHandle<()>>,
    /// Whether the last send that had to wait for its session has begun; later sends
    /// begin after it, so the session records them in order.
    waiting: Option<watch::Receiver<bool>>,
    /// For pre-flight checks with the providers' own counts.
    prices: PriceTable,
    saver: Saver,
    /// The replay or re-run opened from the browser that has the panes.
    borrowed: Option<Recording>,
    /// Loading or preparing the next one.
    opening: Option<JoinHandle<()>>,
    /// Re-runs being ended: their last events saved, their sessions closed.
    ending: Vec<JoinHandle<()>>,
    /// Experiments and re-runs of their cells, by launch: cancelling one stops it.
    experiments: HashMap<RunId, (tokio_util::sync::CancellationToken, CellStops)>,
    /// The session of the experiment on screen, for re-runs of its cells.
    experiment_session: super::experiment::ExperimentSession,
}

impl Executor {
    /// An executor that checks provider-counted prompts against `prices` and saves nothing.
    pub fn new(prices: PriceTable) -> Self {
        Self::with_sessions(prices, None)
    }

    /// An executor that also saves every send under `sessions` (when given).
    pub fn with_sessions(prices: PriceTable, sessions: Option<PathBuf>) -> Self {
        Self {
            saver: Saver::new(sessions, prices.clone()),
            prices,
            ..Self::default()
        }
    }

    /// Carry out `effect`; answers come back through `tx`. Only quitting says stop.
    pub fn apply(&mut self, effect: Effect, tx: &UnboundedSender<Msg>, console: &mut dyn Console) -> Next {
        match effect {
            Effect::StartRun {
                run,
                turn,
                system,
                prompt,
                jobs,
            } => self.start(run, turn, system, prompt, jobs, tx),
            Effect::ContinueRun { run, jobs } => {
                let panes: Vec<usize> = jobs.iter().map(|j| j.pane).collect();
                // Only a run this executor sent was recorded by it and can go on in the
                // session; one shown from a saved session still gets its answer.
                let unsaved = jobs.iter().any(|j| !self.runs.contains_key(&j.first));
                let cancels = Cancels::new(jobs.len());
                self.runs.insert(run, (panes, cancels.clone()));
                self.tasks.retain(|t| !t.is_finished());
                let session = self.saver.current().filter(|_| !unsaved);
                if unsaved && self.saver.root().is_some() {
                    tx.send(Msg::Notice(
                        "tool results: the turn was opened from a saved session, so its follow-up is not saved; send the prompt again to save both rounds".into(),
                    ))
                    .ok();
                }
                let task = super::follow_up::run(run, jobs, cancels, session, tx.clone());
                self.tasks.push(tokio::spawn(task));
            }
            Effect::Cancel { run, pane } if self.experiments.contains_key(&run) => {
                // `pane` is a cell of the grid: that cell stops, the others go on.
                if let Some((stop, cells)) = self.experiments.get(&run)
                    && !pane.is_some_and(|cell| cells.cancel(cell))
                {
                    stop.cancel();
                }
            }
            Effect::Cancel { run, pane } => {
                if let Some((panes, cancels)) = self.runs.get(&run) {
                    match pane.and_then(|p| panes.iter().position(|x| *x == p)) {
                        Some(i) => cancels.cancel(i),
                        None if pane.is_none() => cancels.cancel_all(),
                        None => {}
                    }
                }
            }
            Effect::OpenEditor(text) => {
                tx.send(Msg::EditorClosed(console.edit(&text))).ok();
            }
            Effect::Copy(text) => {
                if let Err(e) = console.copy(&text) {
                    tx.send(Msg::Notice(format!("copy failed: {e}"))).ok();
                }
            }
            Effect::NewSession { targets } => self.saver.start(&targets, tx),
            Effect::ContinueSession { dir, meta, targets } => self.saver.resume(&dir, *meta, targets, tx),
            Effect::CloseSession => self.saver.detach(),
            Effect::ListSessions => self.saver.list(tx),
            Effect::LoadSession(dir) => self.saver.load(dir, tx),
            Effect::RenameSession { dir, name } => self.saver.rename(&dir, &name, tx),
            Effect::DeleteSession(dir) => self.saver.delete(&dir, tx),
            Effect::ReplaySession(dir) => self.open(dir, Opening::Replay, tx),
            Effect::RerunSession(dir) => self.open(dir, Opening::Rerun, tx),
            Effect::PlayReplay {
                session,
                speed,
                first,
            } => {
                let player = recording::play(session, speed, first, tx.clone());
                self.borrow(Recording::Replay(player), tx);
            }
            Effect::LaunchRerun { rerun, run, panes } => {
                let cancels = Cancels::new(panes.len());
                self.track(run, panes.clone(), cancels.clone());
                let running = recording::launch(*rerun.0, Launch { run, panes, cancels }, tx.clone());
                self.borrow(Recording::Rerun(running), tx);
            }
            Effect::LeaveBorrowed => self.leave(tx),
            Effect::Vote(vote) => {
                self.tasks.retain(|t| !t.is_finished());
                self.tasks.extend(self.saver.vote(vote, tx));
            }
            Effect::Quit => return Next::Quit,
            Effect::RunExperiment {
                launch,
                plan,
                limits,
                blocked,
            } => {
                // An experiment is saved in a session of its own, with the plan's targets.
                self.saver.start(&plan.0.session_targets, tx);
                let stop = self.track_experiment(launch);
                let cells = CellStops::new(&stop, plan.0.cells.len());
                self.experiments.insert(launch, (stop.clone(), cells.clone()));
                let x = super::experiment::Launch {
                    launch,
                    plan: plan.0,
                    limits,
                    blocked,
                    prices: self.prices.clone(),
                    stop,
                    cells,
                };
                let task = super::experiment::run(
                    x,
                    self.saver.current(),
                    self.experiment_session.clone(),
                    tx.clone(),
                );
                self.tasks.push(tokio::spawn(task));
            }
            Effect::RerunCell {
                launch,
                plan,
                runs,
                first_run_id,
                blocked,
            } => {
                let stop = self.track_experiment(launch);
                let session = self
                    .experiment_session
                    .lock()
                    .ok()
                    .and_then(|s| s.as_ref().map(|(_, w)| w.clone()));
                let x = super::experiment::CellRerun {
                    launch,
                    plan: plan.0,
                    runs,
                    first_run_id,
                    blocked,
                    prices: self.prices.clone(),
                    stop,
                };
                self.tasks
                    .push(tokio::spawn(super::experiment::rerun(x, session, tx.clone())));
            }
        }
        Next::Continue
    }

    /// A stop token for the experiment launch `launch`, which cancel effects reach.
    fn track_experiment(&mut self, launch: RunId) -> tokio_util::sync::CancellationToken {
        self.tasks.retain(|t| !t.is_finished());
        let stop = tokio_util::sync::CancellationToken::new();
        self.experiments
            .insert(launch, (stop.clone(), CellStops::default()));
        stop
    }

    fn start(
        &mut self,
        run: RunId,
        turn: u32,
        system: Option<String>,
        prompt: String,
        jobs: Vec<Job>,
        tx: &UnboundedSender<Msg>,
    ) {
        let panes: Vec<usize> = jobs.iter().map(|j| j.pane).collect();
        let cancels = Cancels::new(jobs.len());
        self.runs.insert(run, (panes, cancels.clone()));
        let plan = send::Send {
            run,
            turn,
            system,
            prompt,
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
            session: None,
            prices: self.prices.clone(),
            cancels,
            provider_counts: true,
        };
        self.tasks.retain(|t| !t.is_finished());
        let session = self.saver.current();
        let earlier = self.waiting.take().filter(|begun| !*begun.borrow());
        let ready = match (&session, &earlier) {
            (None, None) => Some(None),
            (Some(s), None) => s.ready(),
            (_, Some(_)) => None,
        };
        if let Some(recorder) = ready {
            // Recorded now, before any later effect (a closed session) can intervene.
            let (pending, sink) = begin(plan, recorder, tx);
            if !pending.is_done() {
                self.tasks.push(tokio::spawn(pending.finish(sink)));
            }
            return;
        }
        // Its session is still being created: the send begins once it exists (or is known
        // not to), after the sends made before it.
        let (begun, waiter) = watch::channel(false);
        self.waiting = Some(waiter);
        let tx = tx.clone();
        self.tasks.push(tokio::spawn(async move {
            if let Some(mut earlier) = earlier {
                let _ = earlier.wait_for(|b| *b).await;
            }
            let recorder = match session {
                Some(s) => s.recorder().await,
                None => None,
            };
            let (pending, sink) = begin(plan, recorder, &tx);
            begun.send_replace(true);
            pending.finish(sink).await;
        }));
    }

    /// Let cancel effects reach a run started elsewhere (a re-run's own fan-out):
    /// `panes[i]` shows target `i` of `cancels`.
    pub fn track(&mut self, run: RunId, panes: Vec<usize>, cancels: Cancels) {
        self.runs.insert(run, (panes, cancels));
    }

    /// End the borrowed session on screen and open the one in `dir` on a task that
    /// answers with [`Msg::Borrowed`]; the ended one's report travels with the answer.
    fn open(&mut self, dir: PathBuf, what: Opening, tx: &UnboundedSender<Msg>) {
        let (report, ended) = oneshot::channel();
        self.end_borrowed(move |r| {
            let _ = report.send(r);
        });
        let (root, prices) = (self.saver.root().map(PathBuf::from), self.prices.clone());
        // One at a time, so the answers come in the order they were asked for.
        let earlier = self.opening.take();
        let tx = tx.clone();
        self.opening = Some(tokio::spawn(async move {
            if let Some(earlier) = earlier {
                let _ = earlier.await;
            }
            let ended = ended.await.ok().flatten();
            let answer = recording::open(dir, what, ended, root, prices).await;
            tx.send(Msg::Borrowed(answer)).ok();
        }));
    }

    /// `recording` takes the panes; one still there ends.
    fn borrow(&mut self, recording: Recording, tx: &UnboundedSender<Msg>) {
        self.leave(tx);
        self.borrowed = Some(recording);
    }

    /// End the borrowed session on screen; a re-run reports where it saved its new run.
    fn leave(&mut self, tx: &UnboundedSender<Msg>) {
        let tx = tx.clone();
        self.end_borrowed(move |report| {
            if let Some(report) = report {
                tx.send(Msg::Borrowed(Borrowed::Left(report))).ok();
            }
        });
    }

    /// End the borrowed session on screen: a replay's player stops at once; a re-run ends
    /// on a task (its last events saved, its session closed) that quitting waits for.
    /// Its one-line report goes to `report`.
    fn end_borrowed(&mut self, report: impl FnOnce(Option<String>) + std::marker::Send + 'static) {
        match self.borrowed.take() {
            Some(Recording::Rerun(running)) => {
                let recording = Some(Recording::Rerun(running));
                self.ending.push(tokio::spawn(
                    async move { report(recording::end(recording).await) },
                ));
            }
            other => {
                if let Some(Recording::Replay(player)) = other {
                    player.abort();
                }
                report(None);
            }
        }
    }

    /// Cancel everything (on quit): connections close, providers stop generating.
    pub fn cancel_everything(&mut self) {
        for (_, c) in self.runs.values() {
            c.cancel_all();
        }
        for (stop, _) in self.experiments.values() {
            stop.cancel();
        }
    }

    /// On quit: cancel everything, end the borrowed session (a re-run's last events are
    /// saved and its session closed), give the streams a moment ([`DRAIN_ON_QUIT`]) to
    /// record how they ended, then close the sessions so everything reaches the disk. A
    /// replay or re-run still being opened is dropped.
    pub async fn finish(&mut self) {
        self.cancel_everything();
        if let Some(opening) = self.opening.take() {
            opening.abort();
        }
        self.end_borrowed(|_| {});
        for ending in std::mem::take(&mut self.ending) {
            let _ = ending.await;
        }
        let tasks = std::mem::take(&mut self.tasks);
        let _ = tokio::time::timeout(DRAIN_ON_QUIT, futures_util::future::join_all(tasks)).await;
        self.saver.close().await;
    }
}

/// Record `plan` (in `recorder`'s session, when saving) and report its pre-flight
/// refusals; what is left streams through the returned sink, which records every event
/// and forwards it to the app tagged with its pane.
fn begin(
    mut plan: send::Send,
    recorder: Option<Recorder>,
    tx: &UnboundedSender<Msg>,
) -> (Pending, impl FnMut(Report) -> bool + std::marker::Send + 'static) {
    plan.session = recorder.as_ref().map(|r| r.writer().clone());
    let run = plan.run;
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
    let pending = plan.begin(&mut sink);
    (pending, sink)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::provider::event::{ErrorKind, ProviderError};
    use crate::provider::request::ChatRequest;
    use crate::session::SessionWriter;
    use crate::target::{KeySource, Params, ProviderKind, Target};
    use crate::tui::effects::autosave::SessionSlot;

    fn target() -> Target {
        Target {
            name: "t".into(),
            provider: ProviderKind::OpenAi,
            model: "gpt-4o-mini-2024-07-18".into(),
            base_url: "http://127.0.0.1:9/v1".into(),
            key: KeySource::Demo,
            params: Params::default(),
        }
    }

    /// A send refused by pre-flight: recorded, never sent.
    fn refused(run: u64, prompt: &str) -> Effect {
        Effect::StartRun {
            run: RunId(run),
            turn: u32::try_from(run).unwrap(),
            system: None,
            prompt: prompt.into(),
            jobs: vec![Job {
                pane: 0,
                target: target(),
                request: ChatRequest::single(None, prompt),
                history: vec![],
                blocked: Some(ProviderError::new(ErrorKind::ContextLength, "too long")),
            }],
        }
    }

    /// A follow-up for a turn this executor never sent (shown from a saved session) still
    /// goes out, opening with its round, and says it is not saved.
    #[tokio::test]
    async fn a_follow_up_of_a_turn_opened_from_disk_goes_out_and_says_it_is_not_saved() {
        use crate::engine::Continuation;
        use crate::provider::event::StreamEvent;
        use crate::tui::model::msg::FollowUp;

        let root = tempfile::tempdir().unwrap();
        let mut executor = Executor::with_sessions(PriceTable::default(), Some(root.path().into()));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let job = FollowUp {
            pane: 0,
            first: RunId(7),
            continuation: Continuation {
                target: target(),
                request: ChatRequest::single(None, "Weather?"),
                text: String::new(),
                calls: vec![],
                results: crate::target::ToolResults::default(),
            },
        };
        let effect = Effect::ContinueRun {
            run: RunId(8),
            jobs: vec![job],
        };
        executor.apply(effect, &tx, &mut NoTerminal);
        let Some(Msg::Notice(notice)) = rx.recv().await else {
            panic!("no notice")
        };
        assert!(notice.contains("not saved"), "{notice}");
        let Some(Msg::Stream { pane: 0, env }) = rx.recv().await else {
            panic!("no event")
        };
        assert_eq!(env.run, RunId(8));
        assert!(matches!(env.event, StreamEvent::ToolRound(_)), "{:?}", env.event);
        executor.finish().await;
    }

    /// Sends made while their session is still being created wait for it and are
    /// recorded in it, in the order they were made.
    #[tokio::test]
    async fn sends_made_before_their_session_exists_are_recorded_in_it_in_order() {
        let root = tempfile::tempdir().unwrap();
        let (fill, slot) = SessionSlot::pending();
        let mut executor = Executor {
            saver: Saver::recording_into(slot),
            ..Executor::default()
        };
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        for (run, prompt) in [(1, "first"), (2, "second")] {
            executor.apply(refused(run, prompt), &tx, &mut NoTerminal);
        }
        let writer = SessionWriter::create(root.path(), &[target()], PriceTable::default()).unwrap();
        fill.send_replace(Some(Some(Recorder::new(writer.clone()))));
        executor.finish().await;
        writer.close();
        let session = crate::session::load(writer.dir()).unwrap();
        let prompts: Vec<&str> = session.turns.iter().map(|t| t.prompt.as_str()).collect();
        assert_eq!(prompts, ["first", "second"]);
        assert!(session.turns.iter().all(|t| !t.answers[&0].completed()));
    }
}
