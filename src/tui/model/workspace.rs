//! What the panes show, and what is drawn over them: exactly one of each.

use super::borrowed::Home;
use super::browser::Browser;
use super::compare::{Compare, DiffView};
use super::replay::Replay;
use super::scoreboard::Board;

/// What the panes show.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Workspace {
    /// The workbench's own targets; sends go out.
    #[default]
    Live,
    /// A saved session played back; sends are off.
    Replay {
        /// The replay.
        replay: Replay,
        /// The workbench's own targets while a replay opened from the browser borrows
        /// the panes; `ctrl-n` goes back to them.
        home: Option<Home>,
    },
    /// A re-run beside its recording; the live side is a real send.
    Compare {
        /// The comparison.
        compare: Compare,
        /// The workbench's own targets while a re-run opened from the browser borrows
        /// the panes.
        home: Option<Home>,
    },
}

impl Workspace {
    /// The replay on screen.
    pub fn replay(&self) -> Option<&Replay> {
        match self {
            Self::Replay { replay, .. } => Some(replay),
            _ => None,
        }
    }

    /// The comparison on screen.
    pub fn compare(&self) -> Option<&Compare> {
        match self {
            Self::Compare { compare, .. } => Some(compare),
            _ => None,
        }
    }

    /// Whether the panes show a recording (a replay or a comparison): the editors are
    /// read-only and sends are off.
    pub fn is_recording(&self) -> bool {
        !matches!(self, Self::Live)
    }

    /// The workbench's own targets, while a session opened from the browser borrows the
    /// panes.
    pub fn home(&self) -> Option<&Home> {
        match self {
            Self::Live => None,
            Self::Replay { home, .. } | Self::Compare { home, .. } => home.as_ref(),
        }
    }

    /// Take the home out (the panes are given back, or handed to another recording).
    pub(super) fn take_home(&mut self) -> Option<Home> {
        match self {
            Self::Live => None,
            Self::Replay { home, .. } | Self::Compare { home, .. } => home.take(),
        }
    }
}

/// What is drawn over the panes and takes the keys.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Overlay {
    /// Nothing: keys go to the editors and panes.
    #[default]
    None,
    /// The key bindings; any key closes it.
    Help,
    /// The detail view of this pane; any key closes it.
    Details(usize),
    /// The sessions browser.
    Browser(Browser),
    /// The word diff of one pair of a comparison, or of two panes picked with `D`.
    Diff(DiffView),
    /// The scoreboard of this session's runs.
    Scoreboard(Board),
}

impl Overlay {
    /// Close the overlays that belong to the panes on screen (details, a diff, the
    /// scoreboard), when the panes change; the help and the browser stay.
    pub(super) fn close_pane_views(&mut self) {
        if matches!(self, Self::Details(_) | Self::Diff(_) | Self::Scoreboard(_)) {
            *self = Self::None;
        }
    }

    /// Close the browser if it is open.
    pub(super) fn close_browser(&mut self) {
        if matches!(self, Self::Browser(_)) {
            *self = Self::None;
        }
    }
}
