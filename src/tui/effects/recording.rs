//! A recording in the panes: the replay player, a re-run's live sends, and opening one
//! from the sessions browser (loading the session, preparing the re-run) on a task that
//! answers with [`Msg::Borrowed`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use crate::engine::{Cancels, RunId};
use crate::pricing::PriceTable;
use crate::session::Session;
use crate::session::replay::Speed;
use crate::tui::model::app::App;
use crate::tui::model::msg::{Borrowed, Msg, PreparedRerun};
use crate::tui::model::replay::turn_messages;
use crate::workflows::rerun::{Prepared, Running};
use crate::workflows::send::{JobId, Report};

use super::executor::Executor;

/// Pause between the end of one turn and the start of the next, at 1x.
const TURN_PAUSE: Duration = Duration::from_millis(800);

/// What keeps a recording in the panes going: its replay player or its re-run.
pub enum Recording {
    /// The player task of a replay.
    Replay(JoinHandle<()>),
    /// A re-run's live requests and its new session.
    Rerun(Running),
}

/// What the browser asked to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// Play the session back.
    Replay,
    /// Send its last turn again beside the recording.
    Rerun,
}

/// Play every turn of `session` in order into `tx`, run ids from `first_run`. Ends early
/// when the app is gone.
///
/// The player sleeps until each event's recorded offset (divided by the speed) and hands
/// the app the event stamped with a synthetic send instant plus the *unscaled* offset
/// (see [`turn_messages`]), so the panes show the recorded numbers at any speed.
pub fn play(
    session: Arc<Session>,
    speed: Speed,
    first_run: RunId,
    tx: UnboundedSender<Msg>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        for index in 0..session.turns.len() {
            if index > 0 {
                tokio::time::sleep(pause(speed)).await;
            }
            let start = tokio::time::Instant::now();
            let run = RunId(first_run.0 + index as u64);
            for (due, msg) in turn_messages(&session, index, run, start.into_std(), speed) {
                tokio::time::sleep_until(start + due).await;
                if tx.send(msg).is_err() {
                    return;
                }
            }
        }
        let _ = tx.send(Msg::Replay(crate::tui::model::replay::Cue::Finished));
    })
}

fn pause(speed: Speed) -> Duration {
    match speed {
        Speed::Max => Duration::ZERO,
        Speed::Times(f) => TURN_PAUSE.div_f64(f),
    }
}

/// Where the live panes of a shown comparison wait: their run and, per entry, the pane.
#[derive(Debug, Clone)]
pub struct Launch {
    /// Run id the live panes accept.
    pub run: RunId,
    /// `panes[i]` streams `entries[i]`.
    pub panes: Vec<usize>,
    /// Cancellation of the live requests (also known to the executor).
    pub cancels: Cancels,
}

/// Show the comparison of `prepared` in `app` (recorded panes filled, live ones waiting)
/// and let the executor cancel the live requests.
pub fn show(prepared: &Prepared, app: &mut App, executor: &mut Executor) -> Launch {
    let (_, run, panes) = app.begin_compare(&prepared.session, &prepared.entries);
    let cancels = Cancels::new(prepared.entries.len());
    executor.track(run, panes.clone(), cancels.clone());
    Launch { run, panes, cancels }
}

/// Start sending `prepared`; the events reach the app through `tx` as stream messages
/// of the live panes.
pub fn launch(prepared: Prepared, launch: Launch, tx: UnboundedSender<Msg>) -> Running {
    let Launch { run, panes, cancels } = launch;
    let ids: Vec<JobId> = panes.into_iter().map(JobId).collect();
    prepared.spawn(&ids, cancels, move |report| match report {
        Report::Event { job, at, event } | Report::Blocked { job, at, event } => {
            tx.send(Msg::stream(run, job.0, at, event)).is_ok()
        }
        Report::CounterFailed { note, .. } => tx.send(Msg::Notice(note)).is_ok(),
    })
}

/// End a recording: stop a replay's player; cancel a re-run, wait for its last events to
/// be saved and close its session. A one-line report for the status bar.
pub async fn end(recording: Option<Recording>) -> Option<String> {
    match recording? {
        Recording::Replay(player) => {
            player.abort();
            None
        }
        Recording::Rerun(running) => match running.finish().await {
            Ok(Some(id)) => Some(format!("re-run saved as session {id}")),
            Ok(None) => None,
            Err(e) => Some(e),
        },
    }
}

/// Load the session in `dir` and, for a re-run, prepare it (targets resolved, a demo
/// server started when needed, the new session created under `root`). `ended` is the
/// report of the recording this one replaces; a failure's reason replaces it.
pub async fn open(
    dir: PathBuf,
    what: Opening,
    ended: Option<String>,
    root: Option<PathBuf>,
    prices: PriceTable,
) -> Borrowed {
    let session = match load(&dir).await {
        Ok(s) => s,
        Err(why) => return Borrowed::Failed(why),
    };
    match what {
        Opening::Replay => Borrowed::Replay {
            session: Arc::new(session),
            ended,
        },
        Opening::Rerun => match Prepared::new(session, &[], None, root.as_deref(), &prices).await {
            Ok(p) => Borrowed::Rerun {
                rerun: PreparedRerun(Box::new(p)),
                ended,
            },
            Err(why) => Borrowed::Failed(why),
        },
    }
}

async fn load(dir: &Path) -> Result<Session, String> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || crate::session::load(&dir).map_err(|e| e.to_string()))
        .await
        .map_err(|e| format!("cannot read the session: {e}"))?
}
