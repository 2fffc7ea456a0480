//! Everything that arrives at the UI loop, and the I/O the loop is asked to do.

use std::path::PathBuf;
use std::sync::Arc;

use crossterm::event::Event;

use crate::engine::{Envelope, RunId};
use crate::provider::event::{ProviderError, StreamEvent};
use crate::provider::request::ChatRequest;
use crate::session::Session;
use crate::session::replay::Speed;
use crate::session::schema::Meta;
use crate::session::store::Listed;
use crate::target::Target;
use crate::workflows::rerun::Prepared;

/// An input to [`super::app::App::update`].
#[derive(Debug)]
pub enum Msg {
    /// A terminal event (key, mouse, paste, resize).
    Term(Event),
    /// A stream event for pane `pane`.
    Stream {
        /// Pane index.
        pane: usize,
        /// The event.
        env: Envelope,
    },
    /// Time passed: the clock frames are drawn for now reads this (the loop sends it
    /// while something animates, so elapsed times move).
    Tick(std::time::Instant),
    /// The external editor closed: the new prompt, or why it failed.
    EditorClosed(Result<String, String>),
    /// A termination signal arrived.
    Signal(&'static str),
    /// Autosave: the id of the session being written, or why saving stopped.
    Saving(Result<String, String>),
    /// The sessions directory was read for the browser.
    SessionList(Result<Vec<Listed>, String>),
    /// A session chosen in the browser was loaded.
    SessionLoaded(Result<Box<Session>, String>),
    /// A one-line report of a finished background job (rename, delete...).
    Notice(String),
    /// The replay player moved on (a turn starts, or every turn has played).
    Replay(super::replay::Cue),
    /// The executor's answer about a replay or re-run opened from the browser.
    Borrowed(Borrowed),
    /// One event of an experiment's run, for the grid.
    Cell {
        /// The launch it belongs to (the experiment, or a re-run of one cell).
        launch: RunId,
        /// Index into the plan's runs.
        run: usize,
        /// Arrival time.
        at: std::time::Instant,
        /// The event.
        event: StreamEvent,
    },
    /// An experiment's launch has ended: its runs never started will not be sent.
    CellsEnded(RunId),
}

/// What became of a replay or re-run opened from the sessions browser.
#[derive(Debug)]
pub enum Borrowed {
    /// The session to replay is loaded.
    Replay {
        /// The session.
        session: Arc<Session>,
        /// The report of the borrowed session it replaces (a re-run's new session).
        ended: Option<String>,
    },
    /// The re-run is prepared: targets resolved, its new session created.
    Rerun {
        /// What to send.
        rerun: PreparedRerun,
        /// The report of the borrowed session it replaces.
        ended: Option<String>,
    },
    /// It could not be opened: why, in one line.
    Failed(String),
    /// The re-run left with `ctrl-n` has ended: where its new run was saved, or why not.
    Left(String),
}

/// A prepared re-run on its way from the executor through the app and back. It holds
/// live resources (a demo server, the new session's writer), so two are equal only when
/// they are the same one.
pub struct PreparedRerun(pub Box<Prepared>);

impl PartialEq for PreparedRerun {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(&*self.0, &*other.0)
    }
}

impl std::fmt::Debug for PreparedRerun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedRerun")
            .field("session", &self.0.session.meta.id)
            .field("entries", &self.0.entries.len())
            .finish_non_exhaustive()
    }
}

impl Msg {
    /// A stream event for `pane`, tagged with the run the pane accepts.
    pub fn stream(run: RunId, pane: usize, at: std::time::Instant, event: StreamEvent) -> Self {
        Msg::Stream {
            pane,
            env: Envelope {
                run,
                target: pane,
                at,
                event,
            },
        }
    }
}

/// One target of a send.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Pane index, which is also the target's index in the session.
    pub pane: usize,
    /// The target.
    pub target: Target,
    /// Its own request: the system prompt, its own earlier exchanges, the prompt.
    pub request: ChatRequest,
    /// The earlier turns `request` includes.
    pub history: Vec<u32>,
    /// Pre-flight refused it: not sent, but the send and this failure are recorded.
    pub blocked: Option<ProviderError>,
}

/// One pane's follow-up round.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUp {
    /// Pane index, which is also the target's index in the session.
    pub pane: usize,
    /// The run its first round was sent (and recorded) in.
    pub first: RunId,
    /// The recorded first round and the results to send back.
    pub continuation: crate::engine::Continuation,
}

/// I/O that `update` asks the loop to perform.
#[derive(Debug, PartialEq)]
pub enum Effect {
    /// Send each job's request to its target, all released together.
    StartRun {
        /// Tag for every event of this run.
        run: RunId,
        /// Conversation turn (a retry repeats its turn's number).
        turn: u32,
        /// The system prompt in force.
        system: Option<String>,
        /// The user's prompt of this turn.
        prompt: String,
        /// One per target.
        jobs: Vec<Job>,
    },
    /// Send only the follow-up round of first rounds that ended in tool calls, with the
    /// results typed in the workbench; recorded into the runs the first rounds were.
    ContinueRun {
        /// Tag for every event of the follow-ups.
        run: RunId,
        /// One per pane.
        jobs: Vec<FollowUp>,
    },
    /// Cancel one pane of a run, or all of it.
    Cancel {
        /// The run.
        run: RunId,
        /// A pane, or every pane when `None`.
        pane: Option<usize>,
    },
    /// Open the prompt in the external editor.
    OpenEditor(String),
    /// Put text on the clipboard through OSC 52.
    Copy(String),
    /// Start saving a new session for these targets (pane order); sent before the
    /// first run of a conversation.
    NewSession {
        /// Every pane's target, enabled or not.
        targets: Vec<Target>,
    },
    /// Continue saving into an existing session.
    ContinueSession {
        /// Its directory.
        dir: PathBuf,
        /// Its summary as loaded.
        meta: Box<Meta>,
        /// Its targets, in its order (the panes').
        targets: Vec<Target>,
    },
    /// Stop saving the current session (the conversation ended).
    CloseSession,
    /// Read the sessions directory for the browser.
    ListSessions,
    /// Load the session in this directory.
    LoadSession(PathBuf),
    /// Name a session (an empty name clears it).
    RenameSession {
        /// Its directory.
        dir: PathBuf,
        /// The new name.
        name: String,
    },
    /// Delete a session.
    DeleteSession(PathBuf),
    /// Play a saved session back with its recorded timing.
    ReplaySession(PathBuf),
    /// Send a saved session's prompts again.
    RerunSession(PathBuf),
    /// Play a loaded session into the panes (the player answers with [`Msg::Replay`]
    /// cues and stream messages).
    PlayReplay {
        /// The session.
        session: Arc<Session>,
        /// Playback speed.
        speed: Speed,
        /// Run id of its first turn; turn `i` plays as run `first + i`.
        first: RunId,
    },
    /// Send a prepared re-run into the live panes of the comparison on screen.
    LaunchRerun {
        /// What to send.
        rerun: PreparedRerun,
        /// Run id the live panes accept.
        run: RunId,
        /// `panes[i]` streams the re-run's entry `i`.
        panes: Vec<usize>,
    },
    /// Record a vote on the answers on screen in the current session (the executor
    /// stamps its time).
    Vote(crate::session::votes::VoteRecord),
    /// Leave the app.
    Quit,
    /// Leave a replay or re-run opened from the browser (stop its player, save its run).
    LeaveBorrowed,
    /// Run an experiment in a session of its own, its events answered as [`Msg::Cell`].
    RunExperiment {
        /// Its launch id (cancelling it stops the experiment).
        launch: RunId,
        /// The plan.
        plan: SharedPlan,
        /// Runs in flight at once.
        limits: crate::workflows::experiment::limits::Limits,
        /// Per cell, why pre-flight refused it.
        blocked: Vec<Option<String>>,
    },
    /// Send some runs of an experiment's cell again, into the experiment's session.
    RerunCell {
        /// Its launch id.
        launch: RunId,
        /// The experiment's plan.
        plan: SharedPlan,
        /// The runs (indices into the plan's runs), sent one after the other.
        runs: Vec<usize>,
        /// Session run id of the first one; the others follow.
        first_run_id: u64,
        /// Pre-flight's refusal of the cell.
        blocked: Option<String>,
    },
}

/// An experiment's plan shared between the model and the executor; two are equal only
/// when they are the same one.
#[derive(Debug, Clone)]
pub struct SharedPlan(pub Arc<crate::workflows::experiment::Plan>);

impl PartialEq for SharedPlan {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
