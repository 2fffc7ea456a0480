//! Executes the run effects: spawns fan-outs, forwards their events as messages tagged
//! with the pane they belong to, and cancels them.

use std::collections::HashMap;

use tokio::sync::mpsc::UnboundedSender;

use super::msg::{Effect, Msg};
use crate::engine::{Cancels, RunId, RunOptions, fan_out_with};

/// Live runs and their cancellation tokens.
#[derive(Debug, Default)]
pub struct Runner {
    runs: HashMap<RunId, (Vec<usize>, Cancels)>,
}

impl Runner {
    /// Perform a run effect; others are ignored (the loop handles them).
    pub fn apply(&mut self, effect: Effect, tx: &UnboundedSender<Msg>) {
        match effect {
            Effect::StartRun {
                run,
                targets,
                request,
            } => {
                let panes: Vec<usize> = targets.iter().map(|(p, _)| *p).collect();
                let targets: Vec<_> = targets.into_iter().map(|(_, t)| t).collect();
                let cancels = Cancels::new(targets.len());
                self.runs.insert(run, (panes.clone(), cancels.clone()));
                let tx = tx.clone();
                let opts = RunOptions { run };
                tokio::spawn(async move {
                    let mut handle = fan_out_with(&targets, &request, opts, cancels).await;
                    while let Some(env) = handle.events.recv().await {
                        let pane = panes[env.target];
                        if tx.send(Msg::Stream { pane, env }).is_err() {
                            // The UI is gone: stop every request rather than stream into nothing.
                            handle.cancel_all();
                        }
                    }
                    handle.join().await;
                });
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
            _ => {}
        }
    }

    /// Cancel everything (on quit): connections close, providers stop generating.
    pub fn cancel_everything(&mut self) {
        for (_, c) in self.runs.values() {
            c.cancel_all();
        }
    }
}
