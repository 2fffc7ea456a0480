//! `prism sessions`: list, show, rename and delete saved sessions.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;

use clap::Subcommand;
use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
use serde_json::Value;

use super::AppError;
use crate::pricing::PriceTable;
use crate::provider::event::FinishReason;
use crate::report::{ResultRow, UsageSource};
use crate::session::export::{cell_label, meta_cost, params_summary, result_row, title};
use crate::session::local_time::{self, readable};
use crate::session::store::{self, Listed};
use crate::session::total;
use crate::session::{Session, load};

/// `prism sessions ...`.
#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// Saved sessions, newest first: id, date, targets, turns, cost, first prompt.
    List {
        /// Only sessions whose id, name, prompt, targets or tags contain this text.
        #[arg(long, value_name = "TEXT")]
        filter: Option<String>,
        /// Print JSON (one object per session) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One session's conversation and every target's numbers.
    Show {
        /// Session id, unique id prefix, name, or path to a session directory.
        id: String,
    },
    /// Give a session a name (an empty name clears it).
    Rename {
        /// Session id, unique id prefix, name, or path.
        id: String,
        /// The new name.
        name: String,
    },
    /// Delete a session.
    Delete {
        /// Session id, unique id prefix, name, or path.
        id: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

/// Run the command against the sessions directory chosen by `sessions_dir` and the
/// environment.
pub fn run(cmd: SessionsCommand, sessions_dir: Option<&Path>) -> Result<u8, AppError> {
    let root = super::sessions_root(sessions_dir);
    let stdout = io::stdout();
    let mut out = stdout.lock();
    run_in(cmd, &root, &mut out)
}

/// Run the command against the sessions under `root`, printing to `out`.
pub fn run_in(cmd: SessionsCommand, root: &Path, out: &mut dyn Write) -> Result<u8, AppError> {
    let done = match cmd {
        SessionsCommand::List { filter, json } => list(root, filter.as_deref(), json, out),
        SessionsCommand::Show { id } => open(root, &id).map_err(Failure::from).and_then(|s| {
            // Answers are shown joined; a key streamed in pieces is only whole here.
            super::remember_session_keys(&s);
            let mut masked = crate::masking::MaskLines::new(&mut *out);
            show(&s, &mut masked)?;
            Ok(masked.flush()?)
        }),
        SessionsCommand::Rename { id, name } => rename(root, &id, &name, out),
        SessionsCommand::Delete { id, yes } => delete(root, &id, yes, out),
    };
    match done {
        Ok(()) => Ok(0),
        Err(Failure::App(e)) => Err(e),
        // A closed pipe (`| head`) is the reader's choice, not our failure.
        Err(Failure::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(0),
        Err(Failure::Io(e)) => Err(AppError::io("cannot write the output", e)),
    }
}

/// Find and load one session; a damaged one is an error naming file, line and column.
pub fn open(root: &Path, wanted: &str) -> Result<Session, AppError> {
    let dir = store::resolve(root, wanted)?;
    load(&dir).map_err(AppError::SessionLeftAsIs)
}

fn dir_id(dir: &Path) -> String {
    dir.file_name()
        .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned())
}

fn rename(root: &Path, wanted: &str, name: &str, out: &mut dyn Write) -> Result<(), Failure> {
    let dir = store::resolve(root, wanted)?;
    store::rename(&dir, name)?;
    let id = dir_id(&dir);
    if name.trim().is_empty() {
        writeln!(out, "cleared the name of {id}")?;
    } else {
        writeln!(out, "renamed {id} to \"{}\"", name.trim())?;
    }
    Ok(out.flush()?)
}

fn list(root: &Path, filter: Option<&str>, json: bool, out: &mut dyn Write) -> Result<(), Failure> {
    let all = store::list(root).map_err(|e| {
        usage(format!(
            "{}: cannot list sessions: {e}; --sessions-dir or ${} picks another directory",
            root.display(),
            store::ENV
        ))
    })?;
    let needle = filter.map(str::to_lowercase).filter(|f| !f.is_empty());
    let shown: Vec<&Listed> = all
        .iter()
        .filter(|l| needle.as_deref().is_none_or(|n| haystack(l).contains(n)))
        .collect();
    if json {
        for l in shown {
            let mut obj = match &l.meta {
                Ok(m) => match serde_json::to_value(m) {
                    Ok(Value::Object(o)) => o,
                    _ => serde_json::Map::new(),
                },
                Err(e) => {
                    let mut o = serde_json::Map::new();
                    o.insert("id".into(), l.id().into());
                    o.insert("error".into(), e.to_string().into());
                    o
                }
            };
            obj.insert("dir".into(), l.dir.display().to_string().into());
            serde_json::to_writer(&mut *out, &Value::Object(obj)).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        return Ok(out.flush()?);
    }
    if all.is_empty() {
        writeln!(
            out,
            "No sessions yet in {}. Every send from the workbench (`prism`, or `prism --demo` with no keys) is saved there; --sessions-dir or ${} picks another directory.",
            root.display(),
            store::ENV
        )?;
        return Ok(out.flush()?);
    }
    if shown.is_empty() {
        writeln!(
            out,
            "No session in {} matches `{}` ({} sessions in all).",
            root.display(),
            filter.unwrap_or_default(),
            all.len()
        )?;
        return Ok(out.flush()?);
    }
    let zone = local_time::system_zone();
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(ContentArrangement::Disabled);
    table.set_header([
        "id",
        "created",
        "name or first prompt",
        "targets",
        "turns",
        "cost",
    ]);
    for l in shown {
        match &l.meta {
            Ok(m) => {
                let label = m
                    .name
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| m.first_prompt.clone());
                table.add_row([
                    l.id(),
                    readable(&m.created, &zone),
                    shorten(&label, 60),
                    m.targets.join(", "),
                    m.turns.to_string(),
                    meta_cost(m.cost_usd, m.cost_incomplete),
                ]);
            }
            Err(e) => {
                table.add_row([
                    l.id(),
                    "-".into(),
                    format!("unreadable: {e}"),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ]);
            }
        }
    }
    for i in [4, 5] {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    writeln!(out, "{table}")?;
    Ok(out.flush()?)
}

/// Whether `l` matches `filter` as `sessions list --filter` does (case-insensitive
/// substring; an empty filter matches everything).
pub(crate) fn matches(l: &Listed, filter: &str) -> bool {
    filter.is_empty() || haystack(l).contains(&filter.to_lowercase())
}

/// What `--filter` searches: id, name, first prompt, target names and tags, lower-cased.
fn haystack(l: &Listed) -> String {
    let mut s = l.id();
    if let Ok(m) = &l.meta {
        for part in [m.name.as_deref().unwrap_or(""), &m.first_prompt] {
            s.push('\n');
            s.push_str(part);
        }
        for t in m.targets.iter().chain(&m.tags) {
            s.push('\n');
            s.push_str(t);
        }
    }
    s.to_lowercase()
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

fn indented(out: &mut dyn Write, text: &str) -> io::Result<()> {
    for line in text.trim_end().lines() {
        if line.is_empty() {
            writeln!(out)?;
        } else {
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}

fn show(session: &Session, out: &mut dyn Write) -> io::Result<()> {
    // Rows of interrupted streams are recomputed from their events; only then does a
    // price matter, and the built-in table is the one every build has.
    let prices = PriceTable::builtin().unwrap_or_default();
    let zone = local_time::system_zone();
    // The summary as the log has it: the total of the rows shown below, streams a
    // crash cut off included (as `sessions list` shows it).
    let caught_up = total::caught_up(session, &prices);
    let m = &caught_up;
    writeln!(out, "{}", title(session))?;
    writeln!(
        out,
        "{} · created {} · {} turn{} · cost {}",
        m.id,
        readable(&m.created, &zone),
        m.turns,
        if m.turns == 1 { "" } else { "s" },
        meta_cost(m.cost_usd, m.cost_incomplete)
    )?;
    writeln!(out, "{}", session.dir.display())?;
    if session.cut_short {
        writeln!(
            out,
            "note: the log's last line was cut short by a crash and was skipped"
        )?;
    }
    writeln!(out, "\ntargets:")?;
    for t in &session.targets {
        writeln!(
            out,
            "  {} · {} {} · {} · {}",
            t.name,
            t.provider,
            t.model,
            t.base_url,
            params_summary(t)
        )?;
    }
    show_experiment(session, &prices, out)?;
    let mut system: Option<&str> = None;
    for turn in &session.turns {
        writeln!(
            out,
            "\n━━ turn {} · {} ━━",
            turn.number,
            readable(&turn.wall, &zone)
        )?;
        let now = turn.system.as_deref().filter(|s| !s.is_empty());
        if now != system {
            match now {
                Some(s) => {
                    writeln!(out, "system:")?;
                    indented(out, s)?;
                }
                None => writeln!(out, "system: (cleared)")?,
            }
            system = now;
        }
        writeln!(out, "prompt:")?;
        indented(out, &turn.prompt)?;
        for (&i, recorded) in &turn.answers {
            let row = result_row(session, turn, i, &prices);
            let cell = cell_label(session, recorded)
                .map(|c| format!(" · {}", c.describe()))
                .unwrap_or_default();
            match session.targets.get(i) {
                Some(t) => writeln!(out, "\n── {} · {} {}{cell} ──", t.name, t.provider, t.model)?,
                None => writeln!(out, "\n── target {i}{cell} ──")?,
            }
            let text = recorded.text();
            if !text.trim().is_empty() {
                writeln!(out, "{}", text.trim_end())?;
            }
            if let Some(e) = row.as_ref().and_then(|r| r.error.as_ref())
                && !recorded.interrupted
            {
                writeln!(out, "[{}] {}", e.kind.as_str(), e.message)?;
            }
            writeln!(out, "{}", metrics_line(recorded.interrupted, row.as_ref()))?;
        }
    }
    out.flush()
}

/// An experiment's design and scoreboard, before its runs.
fn show_experiment(session: &Session, prices: &PriceTable, out: &mut dyn Write) -> io::Result<()> {
    let (Some(e), Some(board)) = (
        session.experiment.as_ref(),
        crate::workflows::experiment::scoreboard::of_session(session, prices),
    ) else {
        return Ok(());
    };
    let seed = e.seed.map(|s| format!(" (seed {s})")).unwrap_or_default();
    writeln!(
        out,
        "\nexperiment: {} case{}, {} variant{}, {} target{}; repeat {}, warmup {}, order {}{seed}",
        e.cases.len(),
        if e.cases.len() == 1 { "" } else { "s" },
        e.variants.len(),
        if e.variants.len() == 1 { "" } else { "s" },
        e.targets.len(),
        if e.targets.len() == 1 { "" } else { "s" },
        e.repeat,
        e.warmup,
        e.order
    )?;
    for v in &e.variants {
        let mut set = Vec::new();
        for (key, value) in [
            ("temperature", v.temperature.map(|x| x.to_string())),
            ("top_p", v.top_p.map(|x| x.to_string())),
            ("max_tokens", v.max_tokens.map(|x| x.to_string())),
            ("seed", v.seed.map(|x| x.to_string())),
        ] {
            if let Some(value) = value {
                set.push(format!("{key} {value}"));
            }
        }
        if v.system.is_some() {
            set.push("own system prompt".into());
        }
        if v.prompt.is_some() {
            set.push("own prompt".into());
        }
        writeln!(
            out,
            "  variant {}: {}",
            v.name,
            if set.is_empty() {
                "-".into()
            } else {
                set.join(", ")
            }
        )?;
    }
    writeln!(out, "\nscoreboard:")?;
    crate::headless::print_scoreboard(&board, crate::headless::fit::stdout_width(), out)
}

/// `ok · TTFT 95.0 ms · 12.3 tok/s · in 12 / out ~3 · $0.000001 · finish stop · req_1`.
fn metrics_line(interrupted: bool, row: Option<&ResultRow>) -> String {
    let est = if row.is_some_and(|r| r.usage.source == UsageSource::Estimate) {
        "~"
    } else {
        ""
    };
    let count = |field: fn(&ResultRow) -> Option<u64>| {
        row.and_then(field)
            .map_or_else(|| "–".to_string(), |n| format!("{est}{n}"))
    };
    let status = if interrupted {
        "interrupted"
    } else {
        row.map_or("–", |r| r.status.as_str())
    };
    [
        status.to_string(),
        format!(
            "TTFT {}",
            row.and_then(|r| r.ttft_ms)
                .map_or_else(|| "–".to_string(), |v| format!("{v:.1} ms"))
        ),
        row.and_then(|r| r.tokens_per_s)
            .map_or_else(|| "– tok/s".to_string(), |v| format!("{v:.1} tok/s")),
        format!(
            "in {} / out {}",
            count(|r| r.usage.input_tokens),
            count(|r| r.usage.output_tokens)
        ),
        row.and_then(|r| r.cost_usd)
            .map_or_else(|| "cost –".to_string(), |c| format!("{est}${c:.6}")),
        format!(
            "finish {}",
            row.and_then(|r| r.finish_reason)
                .map_or("–", FinishReason::as_str)
        ),
        row.and_then(|r| r.request_id.clone())
            .unwrap_or_else(|| "request id –".to_string()),
    ]
    .join(" · ")
}

fn delete(root: &Path, wanted: &str, yes: bool, out: &mut dyn Write) -> Result<(), Failure> {
    let dir = store::resolve(root, wanted)?;
    let id = dir_id(&dir);
    if !yes {
        let label = match store::summary(&dir) {
            Ok(m) => {
                let name = m.name.map(|n| format!(" \"{n}\"")).unwrap_or_default();
                format!(
                    "{id}{name} ({} turn{})",
                    m.turns,
                    if m.turns == 1 { "" } else { "s" }
                )
            }
            Err(_) => format!("{id} (unreadable)"),
        };
        let stdin = io::stdin();
        if !stdin.is_terminal() {
            return Err(usage(format!(
                "not deleting {id}: standard input is not a terminal to confirm on; pass --yes to delete without asking"
            )));
        }
        eprint!("delete {label}? [y/N] ");
        io::stderr().flush()?;
        let mut answer = String::new();
        stdin.lock().read_line(&mut answer)?;
        if !matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
            writeln!(out, "kept {id}")?;
            return Ok(out.flush()?);
        }
    }
    store::delete(&dir)?;
    writeln!(out, "deleted {id}")?;
    Ok(out.flush()?)
}

/// Why a subcommand stopped: a failure to report, or the output could not be written
/// (which a closed pipe excuses).
enum Failure {
    App(AppError),
    Io(io::Error),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Self::App(e)
    }
}

impl From<crate::session::SessionError> for Failure {
    fn from(e: crate::session::SessionError) -> Self {
        Self::App(e.into())
    }
}

fn usage(msg: String) -> Failure {
    Failure::App(AppError::Usage(msg))
}
