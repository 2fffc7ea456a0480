//! What an experiment measured: one result per cell, with every counted run and the
//! distribution of each number over the successful ones.
//!
//! A cell's result is the row `prism run` has always printed, describing the cell's last
//! counted run (the highest repeat that ran), followed by the cell's identity (`variant`,
//! `case`, `vars`), its runs, and `*_dist` distributions (see [`crate::stats`]). Failed
//! and cancelled runs are listed in `runs` but are never samples: a fast error is not a
//! fast answer. Warmup runs appear nowhere here.

use std::time::Instant;

use serde::Serialize;
use serde_json::{Map, Value};

use super::plan::Plan;
use crate::engine::metrics::TargetRun;
use crate::pricing::PriceTable;
use crate::provider::event::{FinishReason, StreamEvent};
use crate::report::{ResultRow, Status, row};
use crate::stats::Dist;

/// One counted run, as listed in a cell's `runs`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunResult {
    pub status: Status,
    pub ttft_ms: Option<f64>,
    pub total_ms: Option<f64>,
    pub tokens_per_s: Option<f64>,
    pub output_tokens: Option<u64>,
    pub cost_usd: Option<f64>,
    pub finish_reason: Option<FinishReason>,
    /// What prompt caching saved on this call (`cache.saved_usd`), when known; left
    /// out when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_saved_usd: Option<f64>,
    /// Whether the answer followed the schema the send carried; `None` (and left out of
    /// the JSON) without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_valid: Option<bool>,
    /// Input tokens read from the prompt cache, when reported; the scoreboard's mean.
    /// Not in the JSON: the cell's row has them.
    #[serde(skip)]
    pub cache_read_tokens: Option<u64>,
    /// Input tokens written to the prompt cache, when reported (as above).
    #[serde(skip)]
    pub cache_write_tokens: Option<u64>,
    /// The tool calls the answer made, for the scoreboard's tool comparison. Not in the
    /// JSON: the cell's row has them.
    #[serde(skip)]
    pub tool_calls: Vec<crate::report::ToolCallRow>,
}

impl RunResult {
    /// The run's numbers from its result row.
    pub fn of(row: &ResultRow) -> Self {
        Self {
            status: row.status,
            ttft_ms: row.ttft_ms,
            total_ms: row.total_ms,
            tokens_per_s: row.tokens_per_s,
            output_tokens: row.usage.output_tokens,
            cost_usd: row.cost_usd,
            finish_reason: row.finish_reason,
            cache_saved_usd: row.cache.and_then(|c| c.saved_usd),
            schema_valid: row.schema_valid,
            cache_read_tokens: row.cache.and_then(|c| c.read_tokens),
            cache_write_tokens: row.cache.and_then(|c| c.write_tokens),
            tool_calls: row.tool_calls.clone().unwrap_or_default(),
        }
    }

    /// Whether it is a sample of the distributions.
    pub fn succeeded(&self) -> bool {
        self.status == Status::Ok
    }
}

/// A case as output names it: its id, else its 1-based row number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum CaseKey {
    /// The `id` column or field.
    Id(String),
    /// 1-based row number, for a table without ids.
    Index(usize),
}

impl std::fmt::Display for CaseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Id(id) => f.write_str(id),
            Self::Index(i) => write!(f, "{i}"),
        }
    }
}

/// The distributions of a set of runs, over the successful ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Dists {
    pub ttft_ms_dist: Dist,
    pub total_ms_dist: Dist,
    pub tokens_per_s_dist: Dist,
    pub output_tokens_dist: Dist,
    pub cost_usd_dist: Dist,
}

impl Dists {
    /// Over the successful runs of `runs`; each distribution counts the runs that have
    /// its number (a run with no known price is not a cost sample).
    pub fn of<'a>(runs: impl IntoIterator<Item = &'a RunResult> + Clone) -> Self {
        let ok = || runs.clone().into_iter().filter(|r| r.succeeded());
        Self {
            ttft_ms_dist: Dist::of(ok().filter_map(|r| r.ttft_ms)).rounded(3),
            total_ms_dist: Dist::of(ok().filter_map(|r| r.total_ms)).rounded(3),
            tokens_per_s_dist: Dist::of(ok().filter_map(|r| r.tokens_per_s)).rounded(2),
            output_tokens_dist: Dist::of(ok().filter_map(|r| r.output_tokens.map(|n| n as f64))).rounded(3),
            // Picodollars: the precision prices are kept in.
            cost_usd_dist: Dist::of(ok().filter_map(|r| r.cost_usd)).rounded(12),
        }
    }
}

/// One cell's result: the JSON object `prism run` prints per cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellResult {
    /// The cell's last counted run, in the shape every `prism run` row has.
    #[serde(flatten)]
    pub row: ResultRow,
    /// The variant's name; `null` without variants.
    pub variant: Option<String>,
    /// The case's id, else its 1-based row number; `null` without cases.
    pub case: Option<CaseKey>,
    /// The case's values (every column, `id` too); empty without cases.
    pub vars: Map<String, Value>,
    /// Every counted run that was sent, in repeat order.
    pub runs: Vec<RunResult>,
    /// Distributions over the successful runs.
    #[serde(flatten)]
    pub dists: Dists,
    /// Index into the plan's cells.
    #[serde(skip)]
    pub cell: usize,
    /// Index into the design's variants.
    #[serde(skip)]
    pub variant_index: Option<usize>,
    /// Index into the design's targets.
    #[serde(skip)]
    pub target_index: usize,
    /// How many counted runs were planned (some may not have been sent after Ctrl-C).
    #[serde(skip)]
    pub planned: usize,
}

impl CellResult {
    /// Whether every planned run was sent and succeeded.
    pub fn all_ok(&self) -> bool {
        self.runs.len() == self.planned && self.runs.iter().all(RunResult::succeeded)
    }
}

/// Every cell's result, in the plan's cell order. `folds[i]` is run `i`'s events folded
/// (`None`: never sent). Loads tokenizer tables for local estimates: call it off the
/// async workers.
pub fn cell_results(plan: &Plan, folds: &[Option<TargetRun>], prices: &PriceTable) -> Vec<CellResult> {
    let mut out = Vec::with_capacity(plan.cells.len());
    for (ci, cell) in plan.cells.iter().enumerate() {
        let target = &plan.design.targets[cell.target];
        let mut counted: Vec<(u32, usize)> = plan
            .runs
            .iter()
            .enumerate()
            .filter(|(_, r)| r.cell == ci && !r.warmup)
            .map(|(i, r)| (r.repeat, i))
            .collect();
        counted.sort_unstable();
        let planned = counted.len();
        let mut rows: Vec<ResultRow> = counted
            .iter()
            .filter_map(|(_, i)| folds.get(*i)?.as_ref())
            .map(|fold| row(target, &cell.request, fold, prices))
            .collect();
        let runs: Vec<RunResult> = rows.iter().map(RunResult::of).collect();
        // The last run's row is the cell's: moved, not copied (its text can be megabytes).
        let last = rows.pop().unwrap_or_else(|| {
            // Never sent (Ctrl-C came first): a cancelled run with nothing measured.
            let mut never = TargetRun::default();
            never.apply(Instant::now(), &StreamEvent::Cancelled);
            row(target, &cell.request, &never, prices)
        });
        let case = plan.case(cell);
        out.push(CellResult {
            row: last,
            variant: plan.variant(cell).map(|v| v.name.clone()),
            case: match (cell.case, case) {
                (Some(i), Some(c)) => Some(match &c.id {
                    Some(id) => CaseKey::Id(id.clone()),
                    None => CaseKey::Index(i + 1),
                }),
                _ => None,
            },
            vars: case
                .map(|c| {
                    c.vars
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect()
                })
                .unwrap_or_default(),
            dists: Dists::of(&runs),
            runs,
            cell: ci,
            variant_index: cell.variant,
            target_index: cell.target,
            planned,
        });
    }
    out
}
