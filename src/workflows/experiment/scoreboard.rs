//! The scoreboard: one row per (variant, target), over every case and counted run,
//! answering "which prompt, on which model, at what latency and cost".
//!
//! `n` counts the successful runs (the samples every mean is over), `failures` the runs
//! that failed and `cancelled` those the user stopped (neither is a sample, and a stop is
//! no fault of the target's), so `n + failures + cancelled` runs were counted. `refusals` counts the successful runs
//! whose model declined (finish reason `refusal`): the call worked, so they stay in `n`,
//! and this column says how many of them are not answers. Built from a live run's cell results or
//! from a saved session, so every face shows the same numbers.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::Serialize;

use super::results::{CellResult, RunResult};
use super::tool_choice::{self, RowCalls, ToolChoice};
use crate::pricing::PriceTable;
use crate::session::Session;
use crate::session::export::result_row;
use crate::session::votes::Choice;
use crate::stats::{self, Dist};

/// One line of the scoreboard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreRow {
    /// The variant's name; `null` without variants.
    pub variant: Option<String>,
    /// The target's name.
    pub target: String,
    /// Successful runs.
    pub n: usize,
    /// Runs that failed.
    pub failures: usize,
    /// Runs the user cancelled (counted apart from failures); left out of the JSON when
    /// none were.
    #[serde(skip_serializing_if = "is_zero")]
    pub cancelled: usize,
    /// Successful runs the model refused (finish reason `refusal`), counted in `n` too.
    pub refusals: usize,
    pub ttft_ms_mean: Option<f64>,
    pub ttft_ms_p95: Option<f64>,
    pub tokens_per_s_mean: Option<f64>,
    pub output_tokens_mean: Option<f64>,
    /// Mean cost of one successful call with a known price.
    pub cost_usd_mean: Option<f64>,
    /// How each counted run finished (`stop`, `length`, `error`...), by reason.
    pub finish_reasons: BTreeMap<String, usize>,
    /// Votes this row's answers won, when votes were counted (see [`count_votes`]);
    /// left out of the JSON when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub votes: Option<usize>,
    /// Mean of what prompt caching saved per successful call whose saving is known
    /// (negative when cache writes cost more); left out when no run reported one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_saved_usd_mean: Option<f64>,
    /// Of the counted runs (`n + failures`), those whose answer followed the schema the
    /// send carried; left out of the JSON when no run had a schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid: Option<usize>,
    /// Mean prompt-cache reads (input tokens) per successful call that reported them;
    /// left out when none did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_read_tokens_mean: Option<f64>,
    /// Mean prompt-cache writes, likewise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_write_tokens_mean: Option<f64>,
    /// Which tools the row called and whether that matches its variant's other targets
    /// (see [`super::tool_choice`]); left out when no run called a tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<ToolChoice>,
}

impl ScoreRow {
    /// `valid / counted`, as the tables show it, when runs had a schema.
    pub fn valid_cell(&self) -> Option<String> {
        self.valid
            .map(|v| format!("{v}/{}", self.n + self.failures + self.cancelled))
    }

    /// Cache reads and writes (mean tokens) and the mean saving, as the tables show
    /// them (`r 1200 w 0 +$0.000310`); `None` when no run reported cache tokens or a
    /// saving.
    pub fn cache_cell(&self) -> Option<String> {
        if self.cache_read_tokens_mean.is_none()
            && self.cache_write_tokens_mean.is_none()
            && self.cache_saved_usd_mean.is_none()
        {
            return None;
        }
        let tokens = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0}"));
        let saved = self.cache_saved_usd_mean.map_or("-".into(), |s| {
            format!("{}${:.6}", if s < 0.0 { "-" } else { "+" }, s.abs())
        });
        Some(format!(
            "r {} w {} {saved}",
            tokens(self.cache_read_tokens_mean),
            tokens(self.cache_write_tokens_mean)
        ))
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One counted run, with where it belongs.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// Variant index and name (`None` without variants); orders the rows.
    pub variant: Option<(usize, String)>,
    /// Target index and name; orders the rows.
    pub target: (usize, String),
    /// The run.
    pub run: RunResult,
}

/// The rows for `runs`, in variant then target order.
pub fn scoreboard(runs: impl IntoIterator<Item = Scored>) -> Vec<ScoreRow> {
    type Key = (Option<usize>, usize);
    let mut groups: BTreeMap<Key, (Option<String>, String, Vec<RunResult>)> = BTreeMap::new();
    for s in runs {
        let key = (s.variant.as_ref().map(|v| v.0), s.target.0);
        groups
            .entry(key)
            .or_insert_with(|| (s.variant.map(|v| v.1), s.target.1, Vec::new()))
            .2
            .push(s.run);
    }
    let mut rows: Vec<ScoreRow> = groups
        .iter()
        .map(|(_, (variant, target, runs))| row(variant.clone(), target.clone(), runs))
        .collect();
    let calls: Vec<RowCalls<'_>> = groups
        .iter()
        .map(|((variant, _), (_, target, runs))| RowCalls {
            variant: *variant,
            target: target.clone(),
            runs: runs
                .iter()
                .filter(|r| r.succeeded())
                .map(|r| r.tool_calls.as_slice())
                .collect(),
        })
        .collect();
    for (row, choice) in rows.iter_mut().zip(tool_choice::compare(&calls)) {
        row.tools = choice;
    }
    rows
}

fn row(variant: Option<String>, target: String, runs: &[RunResult]) -> ScoreRow {
    let ok: Vec<&RunResult> = runs.iter().filter(|r| r.succeeded()).collect();
    let ttft = Dist::of(ok.iter().filter_map(|r| r.ttft_ms));
    let mut finish_reasons = BTreeMap::new();
    for r in runs {
        let reason = r.finish_reason.map_or("unknown", |f| f.as_str());
        *finish_reasons.entry(reason.to_string()).or_insert(0) += 1;
    }
    let round = |v: Option<f64>, places| v.map(|v| stats::round(v, places));
    ScoreRow {
        variant,
        target,
        n: ok.len(),
        failures: runs
            .iter()
            .filter(|r| !r.succeeded() && r.status != crate::report::Status::Cancelled)
            .count(),
        cancelled: runs
            .iter()
            .filter(|r| r.status == crate::report::Status::Cancelled)
            .count(),
        refusals: ok
            .iter()
            .filter(|r| r.finish_reason == Some(crate::provider::event::FinishReason::Refusal))
            .count(),
        ttft_ms_mean: round(ttft.mean, 3),
        ttft_ms_p95: ttft.p95,
        tokens_per_s_mean: round(stats::mean(ok.iter().filter_map(|r| r.tokens_per_s)), 2),
        output_tokens_mean: round(
            stats::mean(ok.iter().filter_map(|r| r.output_tokens.map(|n| n as f64))),
            3,
        ),
        cost_usd_mean: round(stats::mean(ok.iter().filter_map(|r| r.cost_usd)), 12),
        finish_reasons,
        votes: None,
        cache_saved_usd_mean: round(stats::mean(ok.iter().filter_map(|r| r.cache_saved_usd)), 12),
        valid: runs
            .iter()
            .any(|r| r.schema_valid.is_some())
            .then(|| runs.iter().filter(|r| r.schema_valid == Some(true)).count()),
        cache_read_tokens_mean: round(
            stats::mean(ok.iter().filter_map(|r| r.cache_read_tokens.map(|n| n as f64))),
            1,
        ),
        cache_write_tokens_mean: round(
            stats::mean(ok.iter().filter_map(|r| r.cache_write_tokens.map(|n| n as f64))),
            1,
        ),
        tools: None,
    }
}

/// Count votes into `rows`: each of `winners` is the (variant, target) a vote picked as
/// best, by name. Every row gets a count, 0 when it won none; a tie or an "all bad"
/// is no winner and is not passed here.
pub fn count_votes(rows: &mut [ScoreRow], winners: impl IntoIterator<Item = (Option<String>, String)>) {
    for r in rows.iter_mut() {
        r.votes = Some(0);
    }
    for (variant, target) in winners {
        if let Some(r) = rows
            .iter_mut()
            .find(|r| r.target == target && r.variant == variant)
        {
            r.votes = r.votes.map(|n| n + 1);
        }
    }
}

/// The (variant, target) each vote of `session` picked as best, named as the rows of
/// [`of_session`] are: by the experiment cell of the winning run when it is one.
pub fn session_winners(session: &Session) -> Vec<(Option<String>, String)> {
    session
        .votes
        .iter()
        .filter_map(|v| match v.choice {
            Choice::Best(k) => v.candidates.get(k),
            Choice::Tie | Choice::AllBad => None,
        })
        .filter_map(|c| {
            if let (Some(e), Some(cell)) = (&session.experiment, session.cells.get(&c.run))
                && let Some(target) = e.targets.get(cell.target)
            {
                let variant = cell.variant.map(|v| {
                    e.variants
                        .get(v)
                        .map_or_else(|| format!("#{v}"), |r| r.name.clone())
                });
                return Some((variant, target.clone()));
            }
            let name = session.targets.get(c.target)?.name.clone();
            Some((c.variant.clone(), name))
        })
        .collect()
}

/// The scoreboard of a live run's cells.
pub fn of_cells(cells: &[CellResult]) -> Vec<ScoreRow> {
    scoreboard(cells.iter().flat_map(|c| {
        c.runs.iter().map(|run| Scored {
            variant: c.variant_index.zip(c.variant.clone()),
            target: (c.target_index, c.row.target.clone()),
            run: run.clone(),
        })
    }))
}

/// The scoreboard of a saved experiment; `None` when the session is not one. Rows of
/// streams cut off by a crash are rebuilt from their events (priced with `prices`).
pub fn of_session(session: &Session, prices: &PriceTable) -> Option<Vec<ScoreRow>> {
    let experiment = session.experiment.as_ref()?;
    let mut scored = Vec::new();
    for turn in &session.turns {
        for (&target, recorded) in &turn.answers {
            let Some(cell) = session.cells.get(&recorded.run) else {
                continue;
            };
            if cell.warmup {
                continue;
            }
            let Some(row) = result_row(session, turn, target, prices) else {
                continue;
            };
            let name = experiment
                .targets
                .get(cell.target)
                .cloned()
                .unwrap_or_else(|| row.target.clone());
            scored.push(Scored {
                variant: cell.variant.map(|v| {
                    let name = experiment.variants.get(v).map(|r| r.name.clone());
                    (v, name.unwrap_or_else(|| format!("#{v}")))
                }),
                target: (cell.target, name),
                run: RunResult::of(&row),
            });
        }
    }
    let mut rows = scoreboard(scored);
    // Votes are counted only where some were cast, so a session without any reads as
    // it always did.
    if !session.votes.is_empty() {
        count_votes(&mut rows, session_winners(session));
    }
    Some(rows)
}

/// A scoreboard column, for sorting and marking the best value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Variant,
    Target,
    N,
    Failures,
    Refusals,
    TtftMean,
    TtftP95,
    TokensPerS,
    OutputTokens,
    Cost,
    /// Votes won (see [`ScoreRow::votes`]).
    Votes,
}

impl Column {
    /// The names `--sort` accepts: the JSON field names, and short ones.
    pub const NAMES: &[(&str, Column)] = &[
        ("variant", Column::Variant),
        ("target", Column::Target),
        ("n", Column::N),
        ("failures", Column::Failures),
        ("refusals", Column::Refusals),
        ("ttft_ms_mean", Column::TtftMean),
        ("ttft", Column::TtftMean),
        ("ttft_ms_p95", Column::TtftP95),
        ("p95", Column::TtftP95),
        ("tokens_per_s_mean", Column::TokensPerS),
        ("tps", Column::TokensPerS),
        ("output_tokens_mean", Column::OutputTokens),
        ("tokens", Column::OutputTokens),
        ("cost_usd_mean", Column::Cost),
        ("cost", Column::Cost),
        ("votes", Column::Votes),
    ];

    /// Which way is better, for a column where one is: `Some(true)` when higher is.
    pub fn higher_is_better(self) -> Option<bool> {
        match self {
            Self::N | Self::TokensPerS | Self::Votes => Some(true),
            Self::Failures | Self::Refusals | Self::TtftMean | Self::TtftP95 | Self::Cost => Some(false),
            // Names have no best, and a longer answer is not a better one.
            Self::Variant | Self::Target | Self::OutputTokens => None,
        }
    }

    /// The column's number in `r`, for one that has numbers.
    pub fn value(self, r: &ScoreRow) -> Option<f64> {
        match self {
            Self::N => Some(r.n as f64),
            Self::Failures => Some(r.failures as f64),
            Self::Refusals => Some(r.refusals as f64),
            Self::TtftMean => r.ttft_ms_mean,
            Self::TtftP95 => r.ttft_ms_p95,
            Self::TokensPerS => r.tokens_per_s_mean,
            Self::OutputTokens => r.output_tokens_mean,
            Self::Cost => r.cost_usd_mean,
            Self::Votes => r.votes.map(|n| n as f64),
            Self::Variant | Self::Target => None,
        }
    }
}

impl FromStr for Column {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::NAMES
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, c)| *c)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::NAMES.iter().map(|(n, _)| *n).collect();
                format!("unknown column `{s}`: use one of {}", names.join(", "))
            })
    }
}

/// Sort `rows` by `column`, best first (names alphabetically); unknown values go last
/// and ties keep their order.
pub fn sort(rows: &mut [ScoreRow], column: Column) {
    match column {
        Column::Variant => rows.sort_by(|a, b| a.variant.cmp(&b.variant)),
        Column::Target => rows.sort_by(|a, b| a.target.cmp(&b.target)),
        _ => {
            let higher = column.higher_is_better().unwrap_or(false);
            rows.sort_by(|a, b| match (column.value(a), column.value(b)) {
                (Some(x), Some(y)) if higher => y.total_cmp(&x),
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            });
        }
    }
}

/// The rows holding the best value of `column` (ties all count); none for a column with
/// no best, when fewer than two rows have a value (a lone row is best at nothing), or
/// when every row has the same value (nothing stands out).
pub fn best(rows: &[ScoreRow], column: Column) -> Vec<usize> {
    let Some(higher) = column.higher_is_better() else {
        return Vec::new();
    };
    let values: Vec<(usize, f64)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((i, column.value(r)?)))
        .collect();
    if values.len() < 2 {
        return Vec::new();
    }
    let pick = values.iter().map(|(_, v)| *v).fold(None, |best: Option<f64>, v| {
        Some(match best {
            Some(b) if higher => b.max(v),
            Some(b) => b.min(v),
            None => v,
        })
    });
    let best: Vec<usize> = values
        .iter()
        .filter(|(_, v)| Some(*v) == pick)
        .map(|(i, _)| *i)
        .collect();
    if best.len() == values.len() {
        return Vec::new();
    }
    best
}

#[cfg(test)]
pub(crate) mod tests;
