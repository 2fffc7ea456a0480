//! `prism run`: send a plan (one prompt to every target, or a whole experiment), wait for
//! every run, print results for people or scripts.
//!
//! JSON output is a stable contract (see README): one object per (case, variant, target)
//! cell, in that order, targets in config order. Each object is the row `prism run` has
//! always printed, describing the cell's last counted run, followed by `variant`, `case`,
//! `vars`, `runs` and the `*_dist` distributions. `--summary` prints the scoreboard's
//! objects instead, one per (variant, target).

pub mod fit;
pub mod progress;

use std::io::{self, Write};

use tokio_util::sync::CancellationToken;

use crate::engine::metrics::TargetRun;
use crate::headless::fit::{Col, Fitted, fit, wrap};
use crate::pricing::PriceTable;
use crate::provider::event::FinishReason;
use crate::report::{ResultRow, UsageSource};
use crate::session::SessionWriter;
use crate::stats::Dist;
use crate::workflows::experiment::Plan;
use crate::workflows::experiment::limits::Limits;
use crate::workflows::experiment::results::CaseKey;
use crate::workflows::experiment::results::{CellResult, cell_results};
use crate::workflows::experiment::runner::{Execution, execute};
use crate::workflows::experiment::scoreboard::{self, Column, ScoreRow};
use crate::workflows::send::Report;

/// Output format of `prism run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Answers, then one metrics row per target (default on a terminal).
    Table,
    /// One JSON array of result objects.
    Json,
    /// One JSON object per line, per target (default when piped).
    Jsonl,
}

/// What a run collected, and whether Ctrl-C cut it short.
#[derive(Debug)]
pub struct Collected {
    /// One result per cell, in the plan's order; partial where Ctrl-C cancelled a stream.
    pub cells: Vec<CellResult>,
    /// Ctrl-C (SIGINT) arrived while runs were still streaming or waiting.
    pub interrupted: bool,
}

/// Send every run of `plan` and wait for all of them, recording into `session` as they
/// happen (so a killed run still leaves everything up to the last flush on disk).
/// Ctrl-C cancels what streams and sends nothing more; what arrived is still returned.
/// Cells `blocked` by pre-flight are recorded as failed, never sent.
pub async fn collect(
    plan: &Plan,
    limits: &Limits,
    blocked: &[Option<String>],
    session: Option<&SessionWriter>,
    prices: &PriceTable,
) -> Collected {
    let stop = CancellationToken::new();
    let mut folds: Vec<Option<TargetRun>> = vec![None; plan.runs.len()];
    let mut live = progress::Live::stderr(progress_of(plan));
    if let Some(l) = &mut live {
        let _ = l.draw();
    }
    let x = Execution {
        plan,
        limits,
        blocked,
        session,
        prices,
        stop: stop.clone(),
    };
    // The sink borrows `folds` until every run has ended.
    let interrupted = {
        let sending = execute(x, |tag, report| {
            if let Report::Blocked { at, event, .. } | Report::Event { at, event, .. } = report
                && let Some(fold) = folds.get_mut(tag.run)
            {
                let fold = fold.get_or_insert_with(TargetRun::default);
                fold.apply(at, &event);
                if let Some(l) = &mut live {
                    l.observe(tag.run, fold);
                }
            }
        });
        tokio::pin!(sending);
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        let mut listening = true;
        let mut interrupted = false;
        loop {
            tokio::select! {
                () = &mut sending => break,
                r = &mut ctrl_c, if listening => {
                    if r.is_ok() {
                        stop.cancel();
                        interrupted = true;
                    }
                    listening = false;
                }
            }
        }
        interrupted
    };
    if let Some(l) = &mut live {
        let _ = l.clear();
    }
    // Local token estimates load a tokenizer table; do that off the async workers.
    let (plan, prices) = (plan.clone(), prices.clone());
    let cells = tokio::task::spawn_blocking(move || cell_results(&plan, &folds, &prices))
        .await
        .unwrap_or_default();
    Collected { cells, interrupted }
}

/// Every run of `plan`, waiting: one line per target.
fn progress_of(plan: &Plan) -> progress::Progress {
    progress::Progress::new(plan.runs.iter().map(|r| run_target(plan, r)))
}

/// The progress lines of a run not yet sent, on a terminal's stderr while the pre-flight
/// checks count the prompt (a provider's counter or the tokenizer tables can take a
/// while), so the first thing a run shows is what it is about to send, not a pause.
/// Cleared when dropped, before anything else is printed; [`collect`] draws them again
/// once sending starts.
#[derive(Debug)]
pub struct Announced(Option<progress::Live<io::Stderr>>);

/// Draw `plan`'s progress lines, every run waiting (only on a terminal; see
/// [`progress::Live::stderr`]).
pub fn announce(plan: &Plan) -> Announced {
    let mut live = progress::Live::stderr(progress_of(plan));
    if let Some(l) = &mut live {
        // Progress is a courtesy: a terminal that does not take it changes nothing.
        let _ = l.draw();
    }
    Announced(live)
}

impl Drop for Announced {
    fn drop(&mut self) {
        if let Some(l) = &mut self.0 {
            let _ = l.clear();
        }
    }
}

/// The name of the target `run` goes to.
fn run_target(plan: &Plan, run: &crate::workflows::experiment::plan::Run) -> String {
    plan.cells
        .get(run.cell)
        .and_then(|c| plan.design.targets.get(c.target))
        .map(|t| t.name.clone())
        .unwrap_or_default()
}

/// How to print what was collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Printing {
    /// The format.
    pub format: Format,
    /// Print the scoreboard (instead of the cells in JSON formats, after them in a table).
    pub summary: bool,
    /// Sort the scoreboard by this column, best first.
    pub sort: Option<Column>,
    /// Fit tables to this many columns (`None`: every column, as wide as it takes).
    pub width: Option<u16>,
}

/// Print `cells` of `plan` as `how` says.
pub fn print(plan: &Plan, cells: &[CellResult], how: Printing, out: &mut dyn Write) -> io::Result<()> {
    let board = how.summary.then(|| {
        let mut rows = scoreboard::of_cells(cells);
        if let Some(column) = how.sort {
            scoreboard::sort(&mut rows, column);
        }
        rows
    });
    match (how.format, &board) {
        (Format::Jsonl, Some(rows)) => jsonl(rows, out)?,
        (Format::Jsonl, None) => jsonl(cells, out)?,
        (Format::Json, Some(rows)) => json(rows, out)?,
        (Format::Json, None) => json(cells, out)?,
        (Format::Table, _) => {
            print_answers(plan, cells, out)?;
            if plan.is_plain() {
                let rows: Vec<ResultRow> = cells.iter().map(|c| c.row.clone()).collect();
                print_table(&rows, how.width, out)?;
            } else {
                print_cells_table(plan, cells, how.width, out)?;
            }
            if let Some(rows) = &board {
                writeln!(out)?;
                print_scoreboard(rows, how.width, out)?;
            }
        }
    }
    out.flush()
}

fn jsonl<T: serde::Serialize>(items: &[T], out: &mut dyn Write) -> io::Result<()> {
    for item in items {
        crate::masking::to_writer(&mut *out, item)?;
        writeln!(out)?;
    }
    Ok(())
}

/// `items` as one pretty JSON array (secrets masked), then a newline.
pub(crate) fn json<T: serde::Serialize>(items: &[T], out: &mut dyn Write) -> io::Result<()> {
    crate::masking::to_writer_pretty(&mut *out, items)?;
    writeln!(out)
}

/// `target · variant · case` as a cell is named in headings.
pub(crate) fn cell_title(target: &str, variant: Option<&str>, case: Option<&CaseKey>) -> String {
    let mut name = target.to_string();
    if let Some(v) = variant {
        name.push_str(" · ");
        name.push_str(v);
    }
    if let Some(case) = case {
        name.push_str(&format!(" · case {case}"));
    }
    name
}

fn cell_name(c: &CellResult) -> String {
    cell_title(&c.row.target, c.variant.as_deref(), c.case.as_ref())
}

/// Each cell's answer (its last run's), tool calls, notes and error.
fn print_answers(plan: &Plan, cells: &[CellResult], out: &mut dyn Write) -> io::Result<()> {
    for c in cells {
        let r = &c.row;
        let name = if plan.is_plain() {
            r.target.clone()
        } else {
            cell_name(c)
        };
        let model = crate::mock_server::display_model(&r.model);
        writeln!(out, "── {name} · {} {model} ──", r.provider)?;
        if !r.text.is_empty() {
            writeln!(out, "{}", r.text.trim_end())?;
        }
        if let Some(refusal) = &r.refusal {
            writeln!(out, "[refused] {refusal}")?;
        }
        for call in r.tool_calls.iter().flatten() {
            writeln!(
                out,
                "[tool call] {}({})",
                call.name.as_deref().unwrap_or("?"),
                call.arguments
            )?;
        }
        for note in &r.notes {
            writeln!(out, "[note] {note}")?;
        }
        if let Some(e) = &r.error {
            writeln!(out, "[{}] {}", e.kind.as_str(), e.message)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// The columns of one run's numbers, in the plain table and the experiment table alike,
/// each with its priority (higher ones are dropped first on a narrow terminal).
const METRIC_COLUMNS: [Col<'static>; 14] = [
    Col::text("target", 0),
    Col::text("status", 0),
    Col::num("TTFT ms", 1),
    Col::num("TTFB ms", 6),
    Col::num("total ms", 3),
    Col::num("ITL p50/p95 ms", 5),
    Col::num("tok/s", 1),
    Col::num("in", 4),
    Col::num("out", 2),
    Col::num("cost $", 2),
    Col::num("retries", 4),
    Col::text("finish", 3),
    Col::num("http", 6),
    Col::text("request id", 7),
];

/// The columns that can carry the `~` of a local token estimate.
const ESTIMATED: [&str; 3] = ["in", "out", "cost $"];

/// The metrics table of a plain run: one row per target.
fn print_table(rows: &[ResultRow], width: Option<u16>, out: &mut dyn Write) -> io::Result<()> {
    let cells: Vec<Vec<String>> = rows.iter().map(last_run_cells).collect();
    let fitted = fit(&METRIC_COLUMNS, &cells, width);
    writeln!(out, "{}", fitted.table)?;
    estimate_footnote(rows.iter(), &fitted, width, out)?;
    hidden_note(&fitted, width, out)
}

fn hidden_note(fitted: &Fitted, width: Option<u16>, out: &mut dyn Write) -> io::Result<()> {
    if let Some(note) = fitted.hidden_note(width) {
        writeln!(out, "{note}")?;
    }
    Ok(())
}

/// A row's numbers from `status` to `request id`, as the plain table shows them.
fn last_run_cells(r: &ResultRow) -> Vec<String> {
    let est = estimate_mark(r);
    let count = |n: Option<u64>| n.map_or("-".into(), |n| format!("{est}{n}"));
    let itl = match (r.itl_ms.p50, r.itl_ms.p95) {
        (Some(a), Some(b)) => format!("{a:.1}/{b:.1}"),
        _ => "-".into(),
    };
    vec![
        r.target.clone(),
        r.status.as_str().to_string(),
        match r.ttft_text_ms {
            Some(text) => format!("{} (text {text:.1})", num(r.ttft_ms, 1)),
            None => num(r.ttft_ms, 1),
        },
        num(r.ttfb_ms, 1),
        num(r.total_ms, 1),
        itl,
        num(r.tokens_per_s, 1),
        count(r.usage.input_tokens),
        count(r.usage.output_tokens),
        r.cost_usd.map_or("-".into(), |c| format!("{est}{c:.6}")),
        r.retries.to_string(),
        r.finish_reason.map_or("-", FinishReason::as_str).to_string(),
        r.http_status.map_or("-".into(), |s| s.to_string()),
        r.request_id.clone().unwrap_or_else(|| "-".into()),
    ]
}

fn estimate_mark(r: &ResultRow) -> &'static str {
    if r.usage.source == UsageSource::Estimate {
        "~"
    } else {
        ""
    }
}

/// The `~` footnote, only when some row is an estimate and a column that shows the
/// mark is still on screen.
fn estimate_footnote<'a>(
    rows: impl Iterator<Item = &'a ResultRow>,
    fitted: &Fitted,
    width: Option<u16>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let shown = ESTIMATED.iter().any(|h| fitted.shows(h));
    if shown && rows.into_iter().any(|r| r.usage.source == UsageSource::Estimate) {
        writeln!(
            out,
            "{}",
            wrap(
                "~ local o200k estimate: the provider reported no usage for this target",
                width
            )
        )?;
    }
    Ok(())
}

/// The metrics table of an experiment: one row per cell, with its case and variant, and
/// over repeats the p50/p95 of its successful runs.
fn print_cells_table(
    plan: &Plan,
    cells: &[CellResult],
    width: Option<u16>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let cases = plan.design.cases.is_some();
    let variants = !plan.design.variants.is_empty();
    let repeated = plan.design.repeat > 1;
    let mut header: Vec<Col<'static>> = Vec::new();
    if cases {
        header.push(Col::text("case", 0));
    }
    if variants {
        header.push(Col::text("variant", 0));
    }
    if repeated {
        header.extend([
            Col::text("target", 0),
            Col::num("ok", 0),
            Col::num("TTFT p50/p95 ms", 1),
            Col::num("total p50/p95 ms", 3),
            Col::num("tok/s p50", 1),
            Col::num("out p50", 4),
            Col::num("cost $ mean", 2),
            Col::text("finish (last)", 5),
        ]);
    } else {
        header.extend(METRIC_COLUMNS);
    }
    let mut rows = Vec::new();
    for c in cells {
        let mut row: Vec<String> = Vec::new();
        if cases {
            row.push(c.case.as_ref().map_or("-".into(), ToString::to_string));
        }
        if variants {
            row.push(c.variant.clone().unwrap_or_else(|| "-".into()));
        }
        if repeated {
            let d = &c.dists;
            let ok = c.runs.iter().filter(|r| r.succeeded()).count();
            row.extend([
                c.row.target.clone(),
                format!("{ok}/{}", c.planned),
                p50_p95(&d.ttft_ms_dist),
                p50_p95(&d.total_ms_dist),
                num(d.tokens_per_s_dist.p50, 1),
                num(d.output_tokens_dist.p50, 0),
                d.cost_usd_dist.mean.map_or("-".into(), |c| format!("{c:.6}")),
                c.row.finish_reason.map_or("-", FinishReason::as_str).to_string(),
            ]);
        } else {
            row.extend(last_run_cells(&c.row));
        }
        rows.push(row);
    }
    let fitted = fit(&header, &rows, width);
    writeln!(out, "{}", fitted.table)?;
    if repeated {
        writeln!(
            out,
            "{}",
            wrap(
                "p50/p95: nearest-rank percentiles over each cell's successful runs",
                width
            )
        )?;
    } else {
        estimate_footnote(cells.iter().map(|c| &c.row), &fitted, width, out)?;
    }
    hidden_note(&fitted, width, out)
}

fn p50_p95(d: &Dist) -> String {
    match (d.p50, d.p95) {
        (Some(a), Some(b)) => format!("{a:.1}/{b:.1}"),
        _ => "-".into(),
    }
}

/// The scoreboard as a table fitted to `width`, the best value of each column marked `*`.
pub fn print_scoreboard(rows: &[ScoreRow], width: Option<u16>, out: &mut dyn Write) -> io::Result<()> {
    let variants = rows.iter().any(|r| r.variant.is_some());
    let mut header = Vec::new();
    if variants {
        header.push(Col::text("variant", 0));
    }
    header.extend([
        Col::text("target", 0),
        Col::num("n", 1),
        Col::num("failures", 1),
        Col::num("refused", 3),
        Col::num("TTFT mean ms", 1),
        Col::num("TTFT p95 ms", 2),
        Col::num("tok/s mean", 1),
        Col::num("out mean", 4),
        Col::num("cost $/call", 2),
        Col::text("finish", 5),
    ]);
    // Votes are a column only where they were counted (a session with votes).
    let votes = rows.iter().any(|r| r.votes.is_some());
    if votes {
        header.push(Col::num("votes", 1));
    }
    let valid = rows.iter().any(|r| r.valid.is_some());
    if valid {
        header.push(Col::num("valid", 2));
    }
    // Cache and tools likewise: only where some run reported cache tokens or called a tool.
    let cache = rows.iter().any(|r| r.cache_cell().is_some());
    if cache {
        header.push(Col::text("cache r/w tok, saved $", 3));
    }
    let tools = rows.iter().any(|r| r.tools.is_some());
    if tools {
        header.push(Col::text("tools", 2));
    }
    let marked = |column: Column, i: usize, text: String| {
        if scoreboard::best(rows, column).contains(&i) {
            format!("*{text}")
        } else {
            text
        }
    };
    let mut lines = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let mut cells = Vec::new();
        if variants {
            cells.push(r.variant.clone().unwrap_or_else(|| "-".into()));
        }
        let finish: Vec<String> = r
            .finish_reasons
            .iter()
            .map(|(reason, n)| format!("{reason} {n}"))
            .collect();
        cells.extend([
            r.target.clone(),
            r.n.to_string(),
            marked(
                Column::Failures,
                i,
                match r.cancelled {
                    0 => r.failures.to_string(),
                    c => format!("{} (+{c} cancelled)", r.failures),
                },
            ),
            marked(Column::Refusals, i, r.refusals.to_string()),
            marked(Column::TtftMean, i, num(r.ttft_ms_mean, 1)),
            marked(Column::TtftP95, i, num(r.ttft_ms_p95, 1)),
            marked(Column::TokensPerS, i, num(r.tokens_per_s_mean, 1)),
            num(r.output_tokens_mean, 1),
            marked(
                Column::Cost,
                i,
                r.cost_usd_mean.map_or("-".into(), |c| format!("{c:.6}")),
            ),
            finish.join(", "),
        ]);
        if votes {
            cells.push(marked(Column::Votes, i, r.votes.unwrap_or(0).to_string()));
        }
        if valid {
            cells.push(r.valid_cell().unwrap_or_default());
        }
        if cache {
            cells.push(r.cache_cell().unwrap_or_else(|| "-".into()));
        }
        if tools {
            cells.push(r.tools.as_ref().map_or_else(|| "-".into(), |t| t.cell()));
        }
        lines.push(cells);
    }
    let fitted = fit(&header, &lines, width);
    writeln!(out, "{}", fitted.table)?;
    writeln!(
        out,
        "{}",
        wrap(
            "n: successful runs (means are over them; refused ones included); * best in its column (fewest failures, lowest latency and cost, highest tok/s)",
            width
        )
    )?;
    hidden_note(&fitted, width, out)?;
    if tools {
        tool_diffs(rows, width, out)?;
    }
    Ok(())
}

/// Under the table, how each `different` tool choice differs from its reference.
fn tool_diffs(rows: &[ScoreRow], width: Option<u16>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{}",
        wrap(
            "tools: each row's most common calls over its successful runs, arguments compared as JSON; ref: the choice most targets of the variant made",
            width
        )
    )?;
    for r in rows {
        let Some(t) = &r.tools else { continue };
        if let (Some(diff), Some(reference)) = (&t.diff, &t.reference) {
            let name = match &r.variant {
                Some(v) => format!("{v}/{}", r.target),
                None => r.target.clone(),
            };
            writeln!(out, "  {name} vs {reference}: {diff}")?;
        }
    }
    Ok(())
}

fn num(v: Option<f64>, places: usize) -> String {
    v.map_or("-".into(), |v| format!("{v:.places$}"))
}

/// Exit status of a run Ctrl-C interrupted: 128 + SIGINT, as a shell reports a process the
/// signal killed, so a script can tell "stopped by the user" from "a target failed".
pub const INTERRUPTED: u8 = 130;

/// Exit status of a run: 0 when every counted run was sent and succeeded, 1 otherwise,
/// [`INTERRUPTED`] when Ctrl-C cut it short (whatever had arrived is still printed).
pub fn exit_code(collected: &Collected) -> u8 {
    if collected.interrupted {
        return INTERRUPTED;
    }
    u8::from(!collected.cells.iter().all(CellResult::all_ok))
}

#[cfg(test)]
mod tests;
