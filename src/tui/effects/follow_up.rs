//! The follow-up round of results typed in the workbench: only the follow-up request goes
//! out ([`crate::engine::continue_each`]); its events are recorded into the session run
//! the first round was recorded in (that run's streams resume), then forwarded to the
//! panes, so a session reads one turn with two rounds, as for canned results.

use tokio::sync::mpsc::UnboundedSender;

use super::autosave::SessionSlot;
use crate::engine::{Cancels, Continuation, RunId, RunOptions, continue_each};
use crate::tui::model::msg::{FollowUp, Msg};

/// Send the follow-ups of `jobs`, tagged `run` for the panes, recording them (when
/// `session` is given) into the runs their first rounds were recorded in. Returns when
/// every follow-up has ended, or at once when nobody listens any more.
pub async fn run(
    run: RunId,
    jobs: Vec<FollowUp>,
    cancels: Cancels,
    session: Option<SessionSlot>,
    tx: UnboundedSender<Msg>,
) {
    let recorder = match session {
        Some(s) => s.recorder().await,
        None => None,
    };
    if let Some(r) = &recorder {
        for job in &jobs {
            r.writer().resume(job.first.0, &[job.pane]);
        }
    }
    let continuations: Vec<Continuation> = jobs.iter().map(|j| j.continuation.clone()).collect();
    let mut handle = continue_each(&continuations, RunOptions { run }, cancels).await;
    while let Some(batch) = handle.events.recv_batch().await {
        for env in batch {
            let Some(job) = jobs.get(env.target) else {
                continue;
            };
            if let Some(r) = &recorder {
                r.writer().event(job.first.0, job.pane, env.at, &env.event);
                r.check_written(&env.event, &tx);
            }
            if tx.send(Msg::stream(run, job.pane, env.at, env.event)).is_err() {
                handle.cancel_all();
            }
        }
    }
    handle.join().await;
}
