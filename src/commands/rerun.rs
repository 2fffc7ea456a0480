//! `prism rerun`: send a saved conversation's last turn again, exactly as each target got
//! it (its own earlier answers in the history), and compare the recorded answers with
//! today's: in the workbench side by side, or printed for scripts.
//!
//! The new run is saved as a new session: the earlier turns copied as recorded, then the
//! new answers to the last turn, so the new session replays, re-runs and exports like any
//! other.
//!
//! An experiment session is run again as the experiment it recorded (see [`experiment`]).

mod experiment;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::headless::fit::{self, Col};
use clap::Args;
use serde::Serialize;

use super::AppError;
use crate::commands::replay::{default_config, open, prices};
use crate::config::Config;
use crate::engine::Cancels;
use crate::engine::metrics::TargetRun;
use crate::headless::Format;
use crate::pricing::PriceTable;
use crate::report::{ResultRow, Status};
use crate::session::compare::{Chunk, Deltas, Side, deltas, similarity, word_diff};
use crate::session::{Session, SessionWriter, store};
use crate::tui::effects::executor::Executor;
use crate::tui::effects::recording::{launch, show};
use crate::tui::model::app::App;
use crate::tui::workbench::{drive, look};
use crate::workflows::rerun::{Entry, Prepared, Running, resend};
use crate::workflows::send::{JobId, Report};

/// Options of `prism rerun`.
#[derive(Debug, Args)]
pub struct RerunArgs {
    /// Session id, unique id prefix, name, or path to a session directory.
    pub id: String,
    /// Only these targets (repeatable); default every target of the session.
    #[arg(long = "target", value_name = "NAME")]
    pub targets: Vec<String>,
    /// Take keys, base URLs and limits from this config's targets of the same name.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the comparison instead of opening the workbench (default when piped).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Do not save the new run as a session.
    #[arg(long)]
    pub no_save: bool,
    /// Theme name or path.
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// An experiment session: counted runs per cell this time (default: as recorded).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub repeat: Option<u32>,
    /// An experiment session sent in random order: shuffle with this seed instead of the
    /// recorded one.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// An experiment session: runs in flight at once per provider endpoint (default 4).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub max_concurrency: Option<u32>,
    /// An experiment session: print the new run's scoreboard (in JSON formats instead of
    /// the cells).
    #[arg(long)]
    pub summary: bool,
}

/// One target's recorded and new answers compared; the JSON object `--format json` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub target: String,
    pub recorded: Side,
    pub new: Side,
    pub deltas: Deltas,
    pub similarity: f32,
    pub diff: Vec<Chunk>,
}

/// Run the command.
pub async fn run(args: RerunArgs, sessions_dir: Option<&Path>) -> Result<u8, AppError> {
    let cfg = match &args.config {
        Some(path) => Some(crate::config::load(path)?),
        None => default_config(),
    };
    // Keys, base URLs and limits come from a config only when one is named.
    let overrides = args.config.as_ref().and(cfg.as_ref());
    let session = open(&args.id, sessions_dir, cfg.as_ref())?;
    let prices = prices(cfg.as_ref());
    let save_to = (!args.no_save)
        .then(|| store::sessions_dir(sessions_dir, cfg.as_ref().and_then(|c| c.sessions_dir.as_deref())));
    if session.experiment.is_some() {
        let setup = experiment::Setup {
            overrides,
            cfg: cfg.as_ref(),
            prices,
            save_to: save_to.as_deref(),
        };
        return experiment::run(&args, session, setup).await;
    }
    if let Some(flag) = experiment_only(&args) {
        return Err(AppError::Usage(format!(
            "{flag} re-runs an experiment, and session {} is a conversation: drop {flag}",
            session.meta.id
        )));
    }
    let prepared = Prepared::new(session, &args.targets, overrides, save_to.as_deref(), &prices)
        .await
        .map_err(AppError::Usage)?;
    let headless = args
        .format
        .or_else(|| (!std::io::stdout().is_terminal()).then_some(Format::Jsonl));
    let (result, running) = match headless {
        Some(format) => {
            let found = collect(
                &prepared.session,
                &prepared.entries,
                prepared.writer.as_ref(),
                &prices,
            )
            .await;
            (print_comparison(&found, format), prepared.stop())
        }
        None => interactive(prepared, cfg.as_ref(), args.theme.as_deref(), prices).await,
    };
    match running.finish().await {
        Ok(Some(id)) => eprintln!("saved session {id}"),
        Ok(None) => {}
        Err(e) => eprintln!("warning: {e}"),
    }
    result
}

/// The first flag given that only an experiment session takes.
fn experiment_only(args: &RerunArgs) -> Option<&'static str> {
    [
        (args.repeat.is_some(), "--repeat"),
        (args.seed.is_some(), "--seed"),
        (args.max_concurrency.is_some(), "--max-concurrency"),
        (args.summary, "--summary"),
    ]
    .into_iter()
    .find_map(|(given, flag)| given.then_some(flag))
}

/// Compare one entry's recording with its new result row.
pub fn compare(entry: &Entry, new_row: &ResultRow) -> Comparison {
    let recorded = Side::of_row(&entry.recorded_row);
    let new = Side::of_row(new_row);
    Comparison {
        target: entry.recorded_target.name.clone(),
        deltas: deltas(&recorded, &new),
        similarity: similarity(&recorded.text, &new.text),
        diff: word_diff(&recorded.text, &new.text),
        recorded,
        new,
    }
}

/// Send again and wait for every target (Ctrl-C cancels them; their partial answers are
/// still compared); then compare.
pub async fn collect(
    session: &Session,
    entries: &[Entry],
    writer: Option<&SessionWriter>,
    prices: &PriceTable,
) -> Vec<Comparison> {
    let mut runs = vec![TargetRun::default(); entries.len()];
    let cancels = Cancels::new(entries.len());
    let watcher = {
        let cancels = cancels.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancels.cancel_all();
            }
        })
    };
    let ids: Vec<JobId> = (0..entries.len()).map(JobId).collect();
    let names = entries.iter().map(|e| e.recorded_target.name.clone());
    let mut live = crate::headless::progress::Live::stderr(crate::headless::progress::Progress::new(names));
    if let Some(l) = &mut live {
        let _ = l.draw();
    }
    resend(session, entries, &ids, writer, prices, cancels)
        .run(|report| {
            if let Report::Event { job, at, event } | Report::Blocked { job, at, event } = report
                && let Some(r) = runs.get_mut(job.0)
            {
                r.apply(at, &event);
                if let Some(l) = &mut live {
                    l.observe(job.0, r);
                }
            }
            true
        })
        .await;
    watcher.abort();
    if let Some(l) = &mut live {
        let _ = l.clear();
    }
    // Local token estimates load a tokenizer table; do that off the async workers.
    let (entries, prices) = (entries.to_vec(), prices.clone());
    tokio::task::spawn_blocking(move || {
        entries
            .iter()
            .zip(&runs)
            .map(|(e, r)| {
                let row = crate::report::row(&e.target, &e.request, r, &prices);
                compare(e, &row)
            })
            .collect()
    })
    .await
    .unwrap_or_default()
}

fn print_comparison(found: &[Comparison], format: Format) -> Result<u8, AppError> {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = print(found, format, &mut stdout) {
        // A closed pipe (`| head`) is the reader's choice, not our failure.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(AppError::io("cannot write results", e));
        }
    }
    Ok(u8::from(found.iter().any(|c| c.new.status != Some(Status::Ok))))
}

/// Print comparisons in `format`.
pub fn print(found: &[Comparison], format: Format, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        Format::Jsonl => {
            for c in found {
                serde_json::to_writer(&mut *out, c)?;
                writeln!(out)?;
            }
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, found)?;
            writeln!(out)?;
        }
        Format::Table => print_table(found, out)?,
    }
    out.flush()
}

fn print_table(found: &[Comparison], out: &mut dyn Write) -> std::io::Result<()> {
    for c in found {
        print_diff(&c.target, c.similarity, &c.diff, out)?;
    }
    let header = [
        Col::text("target", 0),
        Col::text("status", 0),
        Col::num("TTFT ms", 1),
        Col::num("tok/s", 2),
        Col::num("out", 3),
        Col::num("cost $", 2),
        Col::num("same", 1),
    ];
    let width = fit::stdout_width();
    let mut rows = Vec::new();
    for c in found {
        let (r, n, d) = (&c.recorded, &c.new, &c.deltas);
        let status = |s: &Option<Status>| s.map_or("-", Status::as_str);
        let out_tokens = |v: Option<u64>| v.map(|v| v as f64);
        rows.push(vec![
            c.target.clone(),
            format!("{} → {}", status(&r.status), status(&n.status)),
            change(r.ttft_ms, n.ttft_ms, d.ttft_ms, 1),
            change(r.tokens_per_s, n.tokens_per_s, d.tokens_per_s, 1),
            change(
                out_tokens(r.output_tokens),
                out_tokens(n.output_tokens),
                d.output_tokens.map(|v| v as f64),
                0,
            ),
            change(r.cost_usd, n.cost_usd, d.cost_usd, 6),
            format!("{:.0}%", f64::from(c.similarity) * 100.0),
        ]);
    }
    let fitted = fit::fit(&header, &rows, width);
    writeln!(out, "{}", fitted.table)?;
    writeln!(out, "changes are new − recorded; [-removed-] {{+added+}} words")?;
    if let Some(note) = fitted.hidden_note(width) {
        writeln!(out, "{note}")?;
    }
    Ok(())
}

/// `old → new (±delta)`, `-` for unknowns.
fn change(old: Option<f64>, new: Option<f64>, delta: Option<f64>, places: usize) -> String {
    let n = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.places$}"));
    match delta {
        Some(d) => format!("{} → {} ({d:+.places$})", n(old), n(new)),
        None => format!("{} → {}", n(old), n(new)),
    }
}

/// The diff in `git diff --word-diff` style, long unchanged runs shortened to their ends.
/// One answer pair's heading with its similarity, then its compact word diff.
fn print_diff(name: &str, similarity: f32, diff: &[Chunk], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "── {name} · {:.0}% same ──", f64::from(similarity) * 100.0)?;
    if diff.iter().all(|d| matches!(d, Chunk::Same(_))) {
        writeln!(out, "(identical answers)")?;
    } else {
        writeln!(out, "{}", compact_diff(diff).trim_end())?;
    }
    writeln!(out)
}

pub fn compact_diff(chunks: &[Chunk]) -> String {
    const KEEP: usize = 6;
    let mut s = String::new();
    for c in chunks {
        match c {
            Chunk::Same(t) => {
                let words: Vec<&str> = t.split_inclusive(char::is_whitespace).collect();
                if words.len() > 3 * KEEP {
                    s.push_str(&words[..KEEP].concat());
                    s.push_str("… ");
                    s.push_str(&words[words.len() - KEEP..].concat());
                } else {
                    s.push_str(t);
                }
            }
            Chunk::Removed(t) => s.push_str(&format!("[-{t}-]")),
            Chunk::Added(t) => s.push_str(&format!("{{+{t}+}}")),
        }
    }
    s
}

async fn interactive(
    prepared: Prepared,
    cfg: Option<&Config>,
    theme: Option<&str>,
    prices: PriceTable,
) -> (Result<u8, AppError>, Running) {
    let (theme, keymap) = match look(theme, cfg) {
        Ok(l) => l,
        Err(e) => return (Err(e.into()), prepared.stop()),
    };
    let mut app = App::new(Vec::new(), keymap, theme, String::new()).with_prices(prices.clone());
    let mut executor = Executor::new(prices);
    let live = show(&prepared, &mut app, &mut executor);
    let mut running = None;
    let result = drive(&mut app, executor, |tx| {
        running = Some(launch(prepared, live, tx.clone()));
        // Not handed to the loop, which would stop it: it must outlive the loop to save
        // the streams' last events.
        None
    })
    .await;
    let running = running.unwrap_or_else(Running::idle);
    (result.map_err(AppError::from), running)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_diff_keeps_changes_and_shortens_long_unchanged_runs() {
        let same: String = (1..=30).map(|i| format!("w{i} ")).collect();
        let chunks = vec![
            Chunk::Same(same),
            Chunk::Removed("old".into()),
            Chunk::Added("new".into()),
            Chunk::Same(" end".into()),
        ];
        let d = compact_diff(&chunks);
        assert!(d.starts_with("w1 w2 w3 w4 w5 w6 … w25 "), "{d}");
        assert!(d.ends_with("w30 [-old-]{+new+} end"), "{d}");
        assert_eq!(
            change(Some(200.0), Some(150.5), Some(-49.5), 1),
            "200.0 → 150.5 (-49.5)"
        );
        assert_eq!(change(None, Some(1.0), None, 0), "- → 1");
    }
}
