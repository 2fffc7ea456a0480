//! A borrowed session: a replay or re-run opened from the sessions browser. It borrows
//! the panes, and `ctrl-n` gives them back to the workbench's own targets. The executor
//! loads and prepares it and answers with [`Borrowed`]; showing it is pure.

use super::app::App;
use super::conversation::Conversation;
use super::msg::{Borrowed, Effect};
use super::pane::PaneState;
use super::replay::session_targets;
use super::workspace::Workspace;
use crate::session::replay::Speed;
use crate::target::Target;

/// What the workbench showed before the borrowed session.
#[derive(Debug, Clone, PartialEq)]
pub struct Home {
    targets: Vec<Target>,
    enabled: Vec<bool>,
    status: String,
}

impl App {
    /// The workbench's own targets for a recording about to borrow the panes: those a
    /// borrowed session on screen keeps, else the ones shown now.
    fn home_for_borrowing(&mut self) -> Home {
        self.workspace.take_home().unwrap_or_else(|| Home {
            targets: self.targets.clone(),
            enabled: self.enabled.clone(),
            status: self.status.clone(),
        })
    }

    /// Back to the workbench's own targets after a borrowed session, with empty panes and
    /// a new conversation. False when no session was borrowed.
    pub fn go_home(&mut self) -> bool {
        let Some(home) = self.workspace.take_home() else {
            return false;
        };
        self.return_home(home);
        true
    }

    fn return_home(&mut self, home: Home) {
        let n = home.targets.len();
        self.targets = home.targets;
        self.enabled = home.enabled;
        self.status = home.status;
        self.panes = (0..n).map(|_| PaneState::default()).collect();
        self.pane_areas.clear();
        self.conversation = Conversation::new(n);
        self.workspace = Workspace::Live;
        self.zoomed = None;
        self.overlay.close_pane_views();
        self.prompt = ratatui_textarea::TextArea::default();
        self.focus = super::app::Focus::Prompt;
        self.dirty = true;
    }

    /// Show what the executor made of a replay or re-run opened from the browser: the
    /// recording takes the panes (the workbench's own targets are kept for `ctrl-n`), and
    /// the effects start its player or its live sends.
    pub(super) fn on_borrowed(&mut self, answer: Borrowed) -> Vec<Effect> {
        self.dirty = true;
        let (effects, notice) = match answer {
            Borrowed::Left(report) => (Vec::new(), report),
            Borrowed::Failed(why) => {
                // The panes are what the user wants to see now.
                self.overlay.close_browser();
                (Vec::new(), why)
            }
            Borrowed::Replay { session, ended } => {
                self.overlay.close_browser();
                let home = self.home_for_borrowing();
                let speed = Speed::Times(1.0);
                match session_targets(&session) {
                    Ok(targets) => {
                        let (mut effects, first) = self.show_replay(&session, targets, speed, Some(home));
                        let notice = ended.unwrap_or_else(|| {
                            format!("replaying {}: ctrl-n goes back to your targets", session.meta.id)
                        });
                        effects.push(Effect::PlayReplay {
                            session,
                            speed,
                            first,
                        });
                        (effects, notice)
                    }
                    Err(why) => {
                        self.return_home(home);
                        (Vec::new(), why)
                    }
                }
            }
            Borrowed::Rerun { rerun, ended } => {
                self.overlay.close_browser();
                let home = self.home_for_borrowing();
                let (mut effects, run, panes) =
                    self.show_compare(&rerun.0.session, &rerun.0.entries, Some(home));
                let notice = ended.unwrap_or_else(|| {
                    format!(
                        "re-running {} beside its recording: D diffs a pane, ctrl-n goes back to your targets",
                        rerun.0.session.meta.id
                    )
                });
                effects.push(Effect::LaunchRerun { rerun, run, panes });
                (effects, notice)
            }
        };
        self.notice = Some(notice);
        effects
    }
}
