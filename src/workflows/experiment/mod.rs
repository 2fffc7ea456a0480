//! A/B experiments: is prompt B better than prompt A, on which model, at what latency and
//! cost?
//!
//! A [`plan::Design`] (targets, [`crate::config::Variant`]s, a [`cases::CaseTable`] of
//! template values, repeats, warmups, order) becomes a [`plan::Plan`]: every (case,
//! variant, target) cell with its expanded request and every run in sending order, all
//! checked before anything is sent. [`checks`] prices and counts every cell for the
//! budget; [`runner::execute`] sends each run through the one send path within the
//! [`limits`]; [`results`] turns what came back into per-cell results with
//! distributions, and [`scoreboard`] into one row per (variant, target).
//!
//! No face is named here: a face drives the plan and presents the tagged reports, the
//! cells and the scoreboard its own way.

pub mod cases;
pub mod limits;
pub mod plan;
pub mod results;
pub mod runner;
pub mod scoreboard;
pub mod template;
pub mod tool_choice;

use tokio_util::sync::CancellationToken;

use crate::pricing::{Picodollars, PriceTable};
use crate::provider::count::{Counted, count_all, counter_failed};

pub use plan::{Design, Order, Plan};

/// What pre-flight found for every cell.
#[derive(Debug, Clone, Default)]
pub struct Checks {
    /// Per cell, why it must not be sent (too long for the model's context window).
    pub blocked: Vec<Option<String>>,
    /// Per cell, the worst-case cost of one run (unknown price: `None`).
    pub worst_case: Vec<Option<Picodollars>>,
    /// Token counters that failed (the cell is checked on the local count instead).
    pub notes: Vec<String>,
}

impl Checks {
    /// The worst case of every run of `plan` (warmups too: they are billed like any
    /// other), for the budget check; runs of blocked cells are never sent and cost
    /// nothing.
    pub fn run_worst_cases(&self, plan: &Plan) -> Vec<Option<Picodollars>> {
        plan.runs
            .iter()
            .filter(|r| self.blocked.get(r.cell).is_none_or(Option::is_none))
            .map(|r| self.worst_case.get(r.cell).copied().flatten())
            .collect()
    }
}

/// Pre-flight every cell: the local token count, then the providers' own counts for the
/// targets that ask for them (once per cell, all at once). `None` when `stop` cut the
/// counting short: nothing may be sent then.
pub async fn checks(plan: &Plan, prices: &PriceTable, stop: &CancellationToken) -> Option<Checks> {
    let asked: Vec<_> = plan
        .cells
        .iter()
        .map(|c| (plan.session_targets[c.session_target].clone(), c.request.clone()))
        .collect();
    // Local counts load tokenizer tables: off the async workers.
    let local = {
        let (asked, prices) = (asked.clone(), prices.clone());
        tokio::task::spawn_blocking(move || {
            asked
                .iter()
                .map(|(t, r)| crate::preflight::check(t, r, &prices))
                .collect::<Vec<_>>()
        })
        .await
        .ok()?
    };
    let mut checks = local;
    let refs: Vec<_> = asked.iter().map(|(t, r)| (t, r)).collect();
    let tokens = vec![stop.clone(); refs.len()];
    let counts = count_all(&refs, &tokens).await;
    let mut notes = Vec::new();
    for (i, counted) in counts.into_iter().enumerate() {
        let target = &asked[i].0;
        match counted {
            Counted::Exact(n) => {
                checks[i] =
                    crate::preflight::check_counted(target, prices, n, crate::preflight::Counter::Provider);
            }
            Counted::Failed(e) => {
                let note = counter_failed(&target.name, &e);
                if !notes.contains(&note) {
                    notes.push(note);
                }
            }
            Counted::Cancelled => return None,
            Counted::NotCounted => {}
        }
    }
    Some(Checks {
        blocked: checks.iter().map(|c| c.too_long.clone()).collect(),
        worst_case: checks.iter().map(|c| c.worst_case).collect(),
        notes,
    })
}
