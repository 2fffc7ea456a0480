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
pub(crate) mod tests {
    use super::*;
    use crate::provider::event::FinishReason;
    use crate::report::Status;

    fn run(status: Status, ttft: f64, tps: f64, cost: Option<f64>) -> RunResult {
        RunResult {
            status,
            ttft_ms: Some(ttft),
            total_ms: Some(ttft * 2.0),
            tokens_per_s: Some(tps),
            output_tokens: Some(10),
            cost_usd: cost,
            finish_reason: Some(if status == Status::Ok {
                FinishReason::Stop
            } else {
                FinishReason::Error
            }),
            cache_saved_usd: None,
            schema_valid: None,
            cache_read_tokens: None,
            cache_write_tokens: None,
            tool_calls: Vec::new(),
        }
    }

    fn scored(variant: usize, target: usize, r: RunResult) -> Scored {
        Scored {
            variant: Some((variant, ["a", "b"][variant].to_string())),
            target: (target, ["x", "y"][target].to_string()),
            run: r,
        }
    }

    #[test]
    fn rows_aggregate_over_successful_runs_and_count_failures_apart() {
        let rows = scoreboard([
            scored(1, 0, run(Status::Ok, 100.0, 50.0, Some(0.002))),
            scored(0, 1, run(Status::Ok, 300.0, 10.0, None)),
            scored(0, 0, run(Status::Ok, 100.0, 40.0, Some(0.001))),
            scored(0, 0, run(Status::Ok, 300.0, 20.0, Some(0.003))),
            scored(0, 0, run(Status::Error, 5.0, 999.0, Some(1.0))),
        ]);
        let names: Vec<_> = rows
            .iter()
            .map(|r| format!("{}/{}", r.variant.as_deref().unwrap(), r.target))
            .collect();
        assert_eq!(names, ["a/x", "a/y", "b/x"], "variant, then target order");
        let ax = &rows[0];
        assert_eq!((ax.n, ax.failures, ax.refusals), (2, 1, 0));
        // The failed run's 5 ms is not a latency sample.
        assert_eq!(ax.ttft_ms_mean, Some(200.0));
        // Nearest rank: ceil(0.95 * 2) = rank 2 of [100, 300].
        assert_eq!(ax.ttft_ms_p95, Some(300.0));
        assert_eq!(ax.tokens_per_s_mean, Some(30.0));
        assert_eq!(ax.cost_usd_mean, Some(0.002));
        assert_eq!(ax.output_tokens_mean, Some(10.0));
        assert_eq!(
            ax.finish_reasons,
            BTreeMap::from([("error".to_string(), 1), ("stop".to_string(), 2)])
        );
        assert_eq!(rows[1].cost_usd_mean, None, "no known price, no mean");
    }

    #[test]
    fn refused_runs_count_as_refusals_among_the_successful_ones() {
        let refused = RunResult {
            finish_reason: Some(FinishReason::Refusal),
            ..run(Status::Ok, 100.0, 50.0, None)
        };
        let rows = scoreboard([
            scored(0, 0, refused.clone()),
            scored(0, 0, run(Status::Ok, 100.0, 50.0, None)),
            scored(0, 0, run(Status::Error, 5.0, 1.0, None)),
            scored(0, 1, run(Status::Ok, 100.0, 50.0, None)),
        ]);
        assert_eq!((rows[0].n, rows[0].failures, rows[0].refusals), (2, 1, 1));
        assert_eq!(rows[0].finish_reasons.get("refusal"), Some(&1));
        assert_eq!(rows[1].refusals, 0);
        assert_eq!(best(&rows, Column::Refusals), [1], "fewest refusals is best");
        assert_eq!("refusals".parse::<Column>(), Ok(Column::Refusals));
    }

    #[test]
    fn best_values_are_the_lowest_latency_and_cost_and_the_highest_speed() {
        let rows = scoreboard([
            scored(0, 0, run(Status::Ok, 100.0, 50.0, Some(0.002))),
            scored(0, 1, run(Status::Ok, 300.0, 10.0, Some(0.001))),
            scored(1, 0, run(Status::Ok, 100.0, 20.0, None)),
        ]);
        assert_eq!(best(&rows, Column::TtftMean), [0, 2], "ties are all best");
        assert_eq!(best(&rows, Column::TokensPerS), [0]);
        assert_eq!(best(&rows, Column::Cost), [1]);
        assert!(best(&rows, Column::OutputTokens).is_empty());
        assert!(
            best(&rows[..1], Column::TtftMean).is_empty(),
            "one row is best at nothing"
        );
        assert!(
            best(&rows, Column::Failures).is_empty(),
            "all 0: nothing stands out"
        );
        let mut sorted = rows.clone();
        sort(&mut sorted, Column::TokensPerS);
        let tps: Vec<_> = sorted.iter().map(|r| r.tokens_per_s_mean.unwrap()).collect();
        assert_eq!(tps, [50.0, 20.0, 10.0]);
        sort(&mut sorted, Column::Cost);
        let cost: Vec<_> = sorted.iter().map(|r| r.cost_usd_mean).collect();
        assert_eq!(cost, [Some(0.001), Some(0.002), None], "unknown last");
        assert_eq!("p95".parse::<Column>(), Ok(Column::TtftP95));
        assert!(
            "speed"
                .parse::<Column>()
                .unwrap_err()
                .contains("tokens_per_s_mean")
        );
    }

    #[test]
    fn votes_count_per_row_and_sort_most_first() {
        let mut rows = scoreboard([
            scored(0, 0, run(Status::Ok, 100.0, 50.0, None)),
            scored(0, 1, run(Status::Ok, 300.0, 10.0, None)),
            scored(1, 1, run(Status::Ok, 300.0, 10.0, None)),
        ]);
        assert!(rows.iter().all(|r| r.votes.is_none()), "not counted yet");
        assert!(
            !serde_json::to_string(&rows[0]).unwrap().contains("votes"),
            "uncounted votes stay out of the JSON"
        );
        let pick = |v: &str, t: &str| (Some(v.to_string()), t.to_string());
        count_votes(
            &mut rows,
            [pick("a", "y"), pick("a", "y"), pick("b", "y"), pick("z", "x")],
        );
        let votes: Vec<_> = rows.iter().map(|r| r.votes).collect();
        assert_eq!(
            votes,
            [Some(0), Some(2), Some(1)],
            "a/x, a/y, b/y; z/x names no row"
        );
        assert_eq!(best(&rows, Column::Votes), [1]);
        sort(&mut rows, Column::Votes);
        assert_eq!(rows[0].votes, Some(2));
        assert_eq!("votes".parse::<Column>(), Ok(Column::Votes));
    }

    #[test]
    fn valid_answers_are_counted_only_where_a_schema_was_sent() {
        let with = |valid: Option<bool>, status| RunResult {
            schema_valid: valid,
            ..run(status, 100.0, 50.0, None)
        };
        let rows = scoreboard([
            scored(0, 0, with(Some(true), Status::Ok)),
            scored(0, 0, with(Some(false), Status::Ok)),
            scored(0, 0, with(Some(false), Status::Error)),
            scored(0, 1, with(None, Status::Ok)),
        ]);
        assert_eq!(rows[0].valid, Some(1));
        assert_eq!(rows[0].valid_cell().as_deref(), Some("1/3"));
        assert_eq!(rows[1].valid, None);
        assert!(!serde_json::to_string(&rows[1]).unwrap().contains("valid"));
    }

    /// Rows of one variant where two targets called a tool with different arguments
    /// and one read the prompt cache; the headless table's tests print them too.
    pub(crate) fn tool_and_cache_rows() -> Vec<ScoreRow> {
        use crate::report::ToolCallRow;
        let calling = |args: &str, read: Option<u64>| RunResult {
            tool_calls: vec![ToolCallRow {
                id: Some("call_1".into()),
                name: Some("get_weather".into()),
                arguments: args.into(),
            }],
            cache_read_tokens: read,
            cache_write_tokens: Some(0),
            cache_saved_usd: read.map(|_| 0.0005),
            ..run(Status::Ok, 100.0, 50.0, None)
        };
        let failed = RunResult {
            tool_calls: vec![ToolCallRow {
                id: None,
                name: Some("other".into()),
                arguments: "{}".into(),
            }],
            ..run(Status::Error, 5.0, 1.0, None)
        };
        scoreboard([
            scored(0, 0, calling(r#"{"city":"Paris"}"#, Some(1000))),
            scored(0, 0, calling(r#"{"city":"Paris"}"#, Some(2000))),
            scored(0, 0, failed),
            scored(0, 1, calling(r#"{ "city" : "Lyon" }"#, None)),
        ])
    }

    #[test]
    fn tool_choices_and_cache_means_reach_the_rows() {
        let rows = tool_and_cache_rows();
        let x = rows[0].tools.as_ref().unwrap();
        assert_eq!(x.cell(), "get_weather 2/2 ref", "the failed run is no choice");
        let y = rows[1].tools.as_ref().unwrap();
        assert_eq!(y.cell(), "get_weather 1/1 different");
        assert_eq!(
            y.diff.as_deref(),
            Some(r#"get_weather {"city": [-"Paris"}-]{+"Lyon"}+}"#)
        );
        assert_eq!(rows[0].cache_read_tokens_mean, Some(1500.0));
        assert_eq!(rows[0].cache_cell().as_deref(), Some("r 1500 w 0 +$0.000500"));
        assert_eq!(rows[1].cache_cell().as_deref(), Some("r - w 0 -"));
        let json = serde_json::to_value(&rows[1]).unwrap();
        assert_eq!(json["tools"]["verdict"], "different");
        assert_eq!(json["tools"]["reference"], "x");
        assert_eq!(json["tools"]["arguments"][0]["city"], "Lyon");
        let plain = scoreboard([scored(0, 0, run(Status::Ok, 1.0, 1.0, None))]);
        let json = serde_json::to_string(&plain[0]).unwrap();
        assert!(!json.contains("tools") && !json.contains("cache"), "{json}");
    }
}
