//! `prism rerun` of an experiment session: the recorded design (variants, cases,
//! repeats, warmups, order and seed) sent again through the runner into a new session
//! that records the experiment too, then every cell's recorded runs against today's.
//!
//! Always headless: a matrix of cells and repeats does not fit the panes. JSON output is
//! one object per cell (case, variant, target order) with `old` and `new` sides;
//! `--summary` prints the new run's scoreboard instead (after the table in a table).

use std::io::{IsTerminal, Write};
use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::{AppError, RerunArgs};
use crate::config::Config;
use crate::demo::Demo;
use crate::headless::fit::{self, Col};
use crate::headless::{self, Format, json, print_scoreboard};
use crate::pricing::PriceTable;
use crate::session::{Session, SessionWriter};
use crate::stats::Dist;
use crate::workflows::experiment::limits::{DEFAULT_PER_ENDPOINT, Limits};
use crate::workflows::experiment::scoreboard;
use crate::workflows::experiment::{Order, Plan, checks};
use crate::workflows::rerun::experiment::{
    CellComparison, CellSide, chosen, compare_cells, design, record, recorded_cells, uses_demo,
};

/// What the command resolved before sending.
pub struct Setup<'a> {
    /// The config named with `--config`: keys, base URLs and limits come from it.
    pub overrides: Option<&'a Config>,
    /// The config in use (named or found), for the budget.
    pub cfg: Option<&'a Config>,
    /// Prices for new rows and rebuilt recorded ones.
    pub prices: PriceTable,
    /// Where the new session goes, unless not saving.
    pub save_to: Option<&'a Path>,
}

/// Run the experiment of `session` again and compare; returns the exit status as
/// `prism run` does (1 when a run failed, 130 after Ctrl-C).
pub async fn run(args: &RerunArgs, session: Session, setup: Setup<'_>) -> Result<u8, AppError> {
    let id = session.meta.id.clone();
    let record = record(&session).map_err(AppError::Usage)?;
    let names = chosen(record, &args.targets, &id).map_err(AppError::Usage)?;
    let demo = if uses_demo(&session, record, &names, setup.overrides) {
        Some(
            Demo::start_with(crate::demo::Lineup::All)
                .await
                .map_err(|e| AppError::io("cannot start the demo mock server", e))?,
        )
    } else {
        None
    };
    let bases = demo.as_ref().map(Demo::targets);
    let result = match design(&session, &names, setup.overrides, bases.as_deref()) {
        Ok(mut design) => {
            if let Some(repeat) = args.repeat {
                design.repeat = repeat;
            }
            if let Some(seed) = args.seed {
                if design.order == Order::Random {
                    design.seed = Some(seed);
                } else {
                    eprintln!(
                        "warning: --seed only orders --order random runs; this experiment's order is {}, so it is not used",
                        design.order
                    );
                }
            }
            match Plan::build(design) {
                Ok(plan) => send_and_compare(args, &session, &plan, &setup).await,
                Err(e) => Err(AppError::Usage(e)),
            }
        }
        Err(e) => Err(AppError::Usage(e)),
    };
    if let Some(d) = demo {
        d.stop().await;
    }
    result
}

async fn send_and_compare(
    args: &RerunArgs,
    session: &Session,
    plan: &Plan,
    setup: &Setup<'_>,
) -> Result<u8, AppError> {
    for w in &plan.warnings {
        eprintln!("warning: {w}");
    }
    if let (Order::Random, Some(seed)) = (plan.design.order, plan.design.seed) {
        eprintln!("order: random, seed {seed}");
    }
    let prices = &setup.prices;
    let counting = CancellationToken::new();
    let found = {
        let checking = checks(plan, prices, &counting);
        tokio::pin!(checking);
        tokio::select! {
            found = &mut checking => found,
            _ = tokio::signal::ctrl_c() => {
                counting.cancel();
                checking.await;
                None
            }
        }
    };
    let Some(found) = found else {
        eprintln!("interrupted while the providers counted the prompt's tokens; nothing was sent");
        return Ok(headless::INTERRUPTED);
    };
    for note in &found.notes {
        eprintln!("warning: {note}");
    }
    if let Some(budget) = setup.cfg.and_then(|c| c.budget_usd)
        && let Some(why) = crate::preflight::over_budget(&found.run_worst_cases(plan), 0, budget)
    {
        return Err(AppError::Usage(format!(
            "{why} (the worst case covers all {} runs, warmups included)",
            plan.runs.len()
        )));
    }
    let writer = match setup.save_to {
        None => None,
        Some(root) => {
            let made = SessionWriter::create(root, &plan.session_targets, prices.clone()).map_err(|e| {
                AppError::Usage(format!(
                    "{}: cannot save the new run ({e}); pass --no-save to run without saving",
                    root.display()
                ))
            })?;
            // First, so a script (or a person after Ctrl-C) knows where the run went.
            eprintln!("session: {} ({})", made.id(), made.dir().display());
            Some(made)
        }
    };
    let limits = Limits {
        per_endpoint: args.max_concurrency.unwrap_or(DEFAULT_PER_ENDPOINT),
        per_target: setup
            .overrides
            .map(|c| c.max_concurrency.clone())
            .unwrap_or_default(),
    };
    let collected = headless::collect(plan, &limits, &found.blocked, writer.as_ref(), prices).await;
    if collected.interrupted {
        eprintln!("prism: interrupted by Ctrl-C: printing what arrived (exit status 130)");
    }
    if let Some(w) = &writer {
        w.close();
        match w.error() {
            Some(e) => eprintln!("warning: session {} was not saved completely: {e}", w.id()),
            None => eprintln!("saved session {}", w.id()),
        }
    }
    // Rebuilding a cut-off recorded row loads tokenizer tables: off the async workers.
    let compared = {
        let (session, plan, cells, prices) = (
            session.clone(),
            plan.clone(),
            collected.cells.clone(),
            prices.clone(),
        );
        tokio::task::spawn_blocking(move || compare_cells(&plan, &cells, &recorded_cells(&session, &prices)))
            .await
            .map_err(|e| AppError::Usage(format!("cannot compare the runs: {e}")))?
    };
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Jsonl
    });
    let board = args.summary.then(|| scoreboard::of_cells(&collected.cells));
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = print(&compared, board.as_deref(), format, &mut stdout) {
        // A closed pipe (`| head`) is the reader's choice, not our failure.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(AppError::io("cannot write results", e));
        }
    }
    Ok(headless::exit_code(&collected))
}

/// Print the comparisons in `format`; with a scoreboard, JSON formats print it instead
/// and a table prints it after the cells.
pub fn print(
    compared: &[CellComparison],
    board: Option<&[scoreboard::ScoreRow]>,
    format: Format,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match (format, board) {
        (Format::Jsonl, Some(rows)) => jsonl(rows, out)?,
        (Format::Jsonl, None) => jsonl(compared, out)?,
        (Format::Json, Some(rows)) => json(rows, out)?,
        (Format::Json, None) => json(compared, out)?,
        (Format::Table, board) => {
            print_table(compared, out)?;
            if let Some(rows) = board {
                writeln!(out)?;
                print_scoreboard(rows, fit::stdout_width(), out)?;
            }
        }
    }
    out.flush()
}

fn jsonl<T: serde::Serialize>(items: &[T], out: &mut dyn Write) -> std::io::Result<()> {
    for item in items {
        crate::masking::to_writer(&mut *out, item)?;
        writeln!(out)?;
    }
    Ok(())
}

fn cell_name(c: &CellComparison) -> String {
    headless::cell_title(&c.target, c.variant.as_deref(), c.case.as_ref())
}

/// Each cell's last answers as a word diff, then one row of numbers per cell.
fn print_table(compared: &[CellComparison], out: &mut dyn Write) -> std::io::Result<()> {
    for c in compared {
        super::print_diff(&cell_name(c), c.similarity, &c.diff, out)?;
    }
    let cases = compared.iter().any(|c| c.case.is_some());
    let variants = compared.iter().any(|c| c.variant.is_some());
    let mut header: Vec<Col<'static>> = Vec::new();
    if cases {
        header.push(Col::text("case", 0));
    }
    if variants {
        header.push(Col::text("variant", 0));
    }
    header.extend([
        Col::text("target", 0),
        Col::num("ok", 1),
        Col::num("TTFT p50/p95 ms", 1),
        Col::num("total p50/p95 ms", 3),
        Col::num("tok/s p50", 2),
        Col::num("cost $/call", 2),
        Col::num("same", 1),
    ]);
    let width = fit::stdout_width();
    let mut rows = Vec::new();
    for c in compared {
        let mut row: Vec<String> = Vec::new();
        if cases {
            row.push(c.case.as_ref().map_or("-".into(), ToString::to_string));
        }
        if variants {
            row.push(c.variant.clone().unwrap_or_else(|| "-".into()));
        }
        let both = |f: &dyn Fn(&CellSide) -> String| format!("{} → {}", f(&c.old), f(&c.new));
        row.extend([
            c.target.clone(),
            both(&|s| format!("{}/{}", s.ok, s.runs)),
            both(&|s| p50_p95(&s.dists.ttft_ms_dist)),
            both(&|s| p50_p95(&s.dists.total_ms_dist)),
            both(&|s| num(s.dists.tokens_per_s_dist.p50, 1)),
            both(&|s| num(s.dists.cost_usd_dist.mean, 6)),
            format!("{:.0}%", f64::from(c.similarity) * 100.0),
        ]);
        rows.push(row);
    }
    let fitted = fit::fit(&header, &rows, width);
    writeln!(out, "{}", fitted.table)?;
    writeln!(
        out,
        "{}",
        fit::wrap(
            "recorded → new; p50/p95: nearest-rank percentiles over each cell's successful runs; same: word similarity of the last answers",
            width
        )
    )?;
    if let Some(note) = fitted.hidden_note(width) {
        writeln!(out, "{note}")?;
    }
    Ok(())
}

fn p50_p95(d: &Dist) -> String {
    match (d.p50, d.p95) {
        (Some(a), Some(b)) => format!("{a:.1}/{b:.1}"),
        _ => "-".into(),
    }
}

fn num(v: Option<f64>, places: usize) -> String {
    v.map_or("-".into(), |v| format!("{v:.places$}"))
}
