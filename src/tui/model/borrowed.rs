//! A borrowed session: a replay or re-run opened from the sessions browser. It borrows
//! the panes, and `ctrl-n` gives them back to the workbench's own targets. The executor
//! loads and prepares it and answers with [`Borrowed`]; showing it is pure.

use super::app::App;
use super::conversation::Conversation;
use super::msg::{Borrowed, Effect};
use super::pane::PaneState;
use crate::session::replay::Speed;
use crate::target::Target;

/// What the workbench showed before the borrowed session.
#[derive(Debug, Clone)]
pub struct Home {
    targets: Vec<Target>,
    enabled: Vec<bool>,
    status: String,
}

impl App {
    fn remember_home(&mut self) {
        if self.home.is_none() {
            self.home = Some(Home {
                targets: self.targets.clone(),
                enabled: self.enabled.clone(),
                status: self.status.clone(),
            });
        }
    }

    /// Back to the workbench's own targets after a borrowed session, with empty panes and
    /// a new conversation. False when no session was borrowed.
    pub fn go_home(&mut self) -> bool {
        let Some(home) = self.home.take() else {
            return false;
        };
        let n = home.targets.len();
        self.targets = home.targets;
        self.enabled = home.enabled;
        self.status = home.status;
        self.panes = (0..n).map(|_| PaneState::default()).collect();
        self.pane_areas.clear();
        self.conversation = Conversation::new(n);
        self.replay = None;
        self.compare = None;
        self.zoomed = None;
        self.details = None;
        self.prompt = ratatui_textarea::TextArea::default();
        self.focus = super::app::Focus::Prompt;
        self.dirty = true;
        true
    }

    /// Show what the executor made of a replay or re-run opened from the browser: the
    /// recording takes the panes (the workbench's own targets are remembered for
    /// `ctrl-n`), and the effects start its player or its live sends.
    pub(super) fn borrowed(&mut self, answer: Borrowed) -> Vec<Effect> {
        self.dirty = true;
        let (effects, notice) = match answer {
            Borrowed::Left(report) => (Vec::new(), report),
            Borrowed::Failed(why) => {
                // The panes are what the user wants to see now.
                self.browser = None;
                (Vec::new(), why)
            }
            Borrowed::Replay { session, ended } => {
                self.browser = None;
                self.remember_home();
                let speed = Speed::Times(1.0);
                match self.begin_replay(&session, speed) {
                    Ok((mut effects, first)) => {
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
                        self.go_home();
                        (Vec::new(), why)
                    }
                }
            }
            Borrowed::Rerun { rerun, ended } => {
                self.browser = None;
                self.remember_home();
                let (mut effects, run, panes) = self.begin_compare(&rerun.0.session, &rerun.0.entries);
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
