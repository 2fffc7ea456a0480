//! Everything that arrives at the UI loop, and the I/O the loop is asked to do.

use crossterm::event::Event;

use crate::config::Target;
use crate::engine::{Envelope, RunId};
use crate::provider::request::ChatRequest;

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
    /// Time passed (only sent while something animates).
    Tick,
    /// The external editor closed: the new prompt, or why it failed.
    EditorClosed(Result<String, String>),
    /// A termination signal arrived.
    Signal(&'static str),
    /// The replay player moved on (a turn starts, or every turn has played).
    Replay(super::replay::Cue),
}

/// I/O that `update` asks the loop to perform.
#[derive(Debug, PartialEq)]
pub enum Effect {
    /// Fan the request out to these (pane, target) pairs.
    StartRun {
        /// Tag for every event of this run.
        run: RunId,
        /// Pane index and its target.
        targets: Vec<(usize, Target)>,
        /// What to send.
        request: ChatRequest,
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
    /// Leave the app.
    Quit,
}
