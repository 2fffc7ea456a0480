//! Executes the run effects: spawns fan-outs, forwards their events as messages tagged
//! with the pane they belong to, and cancels them.

use std::collections::HashMap;

use tokio::sync::mpsc::UnboundedSender;

use super::msg::{Effect, Msg};
use std::time::Instant;

use crate::engine::{Cancels, Envelope, RunId, RunOptions, fan_out_with};
use crate::preflight::{self, Counter};
use crate::pricing::PriceTable;
use crate::provider::count::count_for_target;
use crate::provider::event::{ErrorKind, ProviderError, StreamEvent};

/// Live runs and their cancellation tokens.
#[derive(Debug, Default)]
pub struct Runner {
    runs: HashMap<RunId, (Vec<usize>, Cancels)>,
    /// For pre-flight checks with the providers' own counts.
    prices: PriceTable,
}

impl Runner {
    /// A runner that checks provider-counted prompts against `prices`.
    pub fn new(prices: PriceTable) -> Self {
        Self {
            runs: HashMap::new(),
            prices,
        }
    }

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
                let prices = self.prices.clone();
                tokio::spawn(async move {
                    // Targets that opted in are counted by their provider first; one that
                    // cannot fit is not sent. The others wait, so all still start together.
                    let mut keep = Vec::new();
                    for (i, t) in targets.iter().enumerate() {
                        if t.params.count_tokens
                            && let Ok(Some(n)) = count_for_target(t, &request).await
                            && let Some(why) =
                                preflight::check_counted(t, &prices, n, Counter::Provider).too_long
                        {
                            let e = ProviderError::new(ErrorKind::ContextLength, why);
                            let env = Envelope {
                                run,
                                target: i,
                                at: Instant::now(),
                                event: StreamEvent::Failed(e),
                            };
                            tx.send(Msg::Stream { pane: panes[i], env }).ok();
                            continue;
                        }
                        keep.push(i);
                    }
                    let kept: Vec<_> = keep.iter().map(|&i| targets[i].clone()).collect();
                    let panes: Vec<usize> = keep.iter().map(|&i| panes[i]).collect();
                    let mut handle = fan_out_with(&kept, &request, opts, cancels.subset(&keep)).await;
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

    /// Let cancel effects reach a run started elsewhere (a re-run's own fan-out):
    /// `panes[i]` shows target `i` of `cancels`.
    pub fn track(&mut self, run: RunId, panes: Vec<usize>, cancels: Cancels) {
        self.runs.insert(run, (panes, cancels));
    }

    /// Cancel everything (on quit): connections close, providers stop generating.
    pub fn cancel_everything(&mut self) {
        for (_, c) in self.runs.values() {
            c.cancel_all();
        }
    }
}
