//! A borrowed session: a replay or re-run opened from the sessions browser. It borrows
//! the panes, and `ctrl-n` gives them back to the workbench's own targets.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::app::App;
use super::conversation::Conversation;
use super::msg::Msg;
use super::pane::PaneState;
use crate::session::replay::Speed;
use crate::target::Target;
use crate::tui::effects::executor::Runner;
use crate::workflows::rerun::{Prepared, Running};

/// What the workbench showed before the borrowed session.
#[derive(Debug, Clone)]
pub struct Home {
    targets: Vec<Target>,
    enabled: Vec<bool>,
    status: String,
}

/// What keeps a borrowed session going: its replay player or its re-run.
pub enum Borrowed {
    /// The player task of a replay.
    Replay(JoinHandle<()>),
    /// A re-run's live requests and its new session.
    Rerun(Running),
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
}

/// End `borrowed`: stop a replay's player; cancel a re-run, wait for its last events to be
/// saved and close its session. A one-line report for the status bar.
pub async fn end(borrowed: &mut Option<Borrowed>) -> Option<String> {
    match borrowed.take()? {
        Borrowed::Replay(player) => {
            player.abort();
            None
        }
        Borrowed::Rerun(running) => match running.finish().await {
            Ok(Some(id)) => Some(format!("re-run saved as session {id}")),
            Ok(None) => None,
            Err(e) => Some(e),
        },
    }
}

/// End the borrowed session before, close the browser and load the session in `dir`,
/// with what the ended borrowed session had to report. On failure the reason is the notice.
async fn open(
    app: &mut App,
    dir: &Path,
    borrowed: &mut Option<Borrowed>,
) -> Option<(crate::session::Session, Option<String>)> {
    let report = end(borrowed).await;
    // The panes are what the user wants to see now.
    app.browser = None;
    match load(dir).await {
        Ok(s) => Some((s, report)),
        Err(why) => {
            app.notice = Some(why);
            None
        }
    }
}

async fn load(dir: &Path) -> Result<crate::session::Session, String> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || crate::session::load(&dir).map_err(|e| e.to_string()))
        .await
        .map_err(|e| format!("cannot read the session: {e}"))?
}

/// Play the session in `dir` into the panes at its recorded speed.
pub async fn replay(
    app: &mut App,
    runner: &mut Runner,
    tx: &UnboundedSender<Msg>,
    dir: PathBuf,
    borrowed: &mut Option<Borrowed>,
) {
    let Some((session, report)) = open(app, &dir, borrowed).await else {
        return;
    };
    app.remember_home();
    let speed = Speed::Times(1.0);
    match app.begin_replay(&session, speed) {
        Ok((effects, first)) => {
            for e in effects {
                runner.apply(e, tx);
            }
            let id = session.meta.id.clone();
            *borrowed = Some(Borrowed::Replay(super::replay::spawn(
                Arc::new(session),
                speed,
                first,
                tx.clone(),
            )));
            app.notice =
                Some(report.unwrap_or_else(|| format!("replaying {id}: ctrl-n goes back to your targets")));
        }
        Err(why) => {
            app.go_home();
            app.notice = Some(why);
        }
    }
    app.dirty = true;
}

/// Send the session in `dir` again beside its recording; the new run is saved as a
/// session of its own when saving is on.
pub async fn rerun(
    app: &mut App,
    runner: &mut Runner,
    tx: &UnboundedSender<Msg>,
    dir: PathBuf,
    borrowed: &mut Option<Borrowed>,
) {
    let Some((session, report)) = open(app, &dir, borrowed).await else {
        return;
    };
    let (root, prices) = (runner.sessions_root(), runner.prices().clone());
    let prepared = match Prepared::new(session, &[], None, root.as_deref(), &prices).await {
        Ok(p) => p,
        Err(why) => {
            app.notice = Some(why);
            return;
        }
    };
    app.remember_home();
    app.now = std::time::Instant::now();
    let (effects, launch) = super::compare::show(&prepared, app, runner);
    for e in effects {
        runner.apply(e, tx);
    }
    let id = prepared.session.meta.id.clone();
    *borrowed = Some(Borrowed::Rerun(super::compare::launch(
        prepared,
        launch,
        tx.clone(),
    )));
    app.notice = Some(report.unwrap_or_else(|| {
        format!("re-running {id} beside its recording: D diffs a pane, ctrl-n goes back to your targets")
    }));
    app.dirty = true;
}
