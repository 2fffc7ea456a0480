//! What code outside the crate (tests, benchmarks, tools) can read of the workbench.
//! Each accessor says what it reads; changes go through [`App::update`] and [`App::act`],
//! like a user's.

use std::time::Instant;

use ratatui::layout::Rect;
use ratatui_textarea::TextArea;

use super::app::{App, Focus};
use super::compare::Compare;
use super::conversation::Conversation;
use super::pane::PaneState;
use super::replay::Replay;
use super::workspace::{Overlay, Workspace};
use crate::engine::RunId;
use crate::pricing::{Picodollars, PriceTable};
use crate::target::Target;
use crate::tui::theme::Theme;

impl App {
    /// The targets in pane order: pane `i` shows target `i`.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// Every pane, in order.
    pub fn panes(&self) -> &[PaneState] {
        &self.panes
    }

    /// Pane `i`. Panics when there is no such pane.
    pub fn pane(&self, i: usize) -> &PaneState {
        &self.panes[i]
    }

    /// Where pane `i` was drawn at the last frame, if it was.
    pub fn pane_area(&self, i: usize) -> Option<Rect> {
        self.pane_areas.get(i).copied().flatten()
    }

    /// The prompt editor.
    pub fn prompt(&self) -> &TextArea<'static> {
        &self.prompt
    }

    /// What has keyboard focus.
    pub fn focus(&self) -> Focus {
        self.focus
    }

    /// The zoomed pane, if any.
    pub fn zoomed(&self) -> Option<usize> {
        self.zoomed
    }

    /// What the panes show.
    pub fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    /// The replay the panes show, if they show one.
    pub fn replay(&self) -> Option<&Replay> {
        self.workspace.replay()
    }

    /// The comparison the panes show, if they show one.
    pub fn compare(&self) -> Option<&Compare> {
        self.workspace.compare()
    }

    /// Whether a session opened from the browser borrows the panes (`ctrl-n` gives them
    /// back to the workbench's own targets).
    pub fn is_borrowed(&self) -> bool {
        self.workspace.home().is_some()
    }

    /// What is drawn over the panes.
    pub fn overlay(&self) -> &Overlay {
        &self.overlay
    }

    /// The colours frames are drawn with.
    pub fn theme(&self) -> &Theme {
        &self.theme
    }

    /// The newest run id handed out.
    pub fn run(&self) -> RunId {
        self.run
    }

    /// Every pane's conversation.
    pub fn conversation(&self) -> &Conversation {
        &self.conversation
    }

    /// The id of the session being saved, once the disk confirmed it.
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// The status bar's own text (where the targets come from, what a recording is).
    pub fn status(&self) -> &str {
        &self.status
    }

    /// The transient notice the status bar shows, if any.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// Whether the last layout pass ran out of budget with text still to lay out.
    pub fn layout_pending(&self) -> bool {
        self.layout_pending
    }

    /// The time frames are drawn for.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The prices sends are costed and checked with.
    pub fn prices(&self) -> &PriceTable {
        &self.prices
    }

    /// What live sends cost since the budget window opened, and whether any of it was
    /// estimated.
    pub fn spent(&self) -> (Picodollars, bool) {
        self.spent
    }
}
