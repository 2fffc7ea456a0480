//! A saved session written out: Markdown for people, JSON with everything, CSV with one
//! row per turn and target (for an experiment, per run, with its variant, case, run
//! number and warmup flag).
//!
//! Every format works from the loaded [`Session`] only, so nothing is read from the
//! environment: keys never reach an export, only the variable names already in the
//! target settings.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::Instant;

use serde::{Serialize, Serializer};

use super::local_time::{self, TimeZone};
use super::reader::{Recorded, Session, Turn};
use super::replay::interrupted_error;
use super::schema::{EventBody, ExperimentRecord, Meta, RunCell, TargetSettings, VERSION};
use crate::pricing::PriceTable;
use crate::provider::event::FinishReason;
use crate::report::{ErrorRow, ResultRow, Status, UsageSource};

/// How a run of an experiment is named: its variant's name, its case's id (else 1-based
/// row number), which run of the cell it is (from 1) and whether it was a warmup. `None`
/// for a send that is not part of an experiment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellLabel {
    pub variant: Option<String>,
    pub case: Option<String>,
    pub run: u32,
    pub warmup: bool,
}

/// The label of the run that produced `recorded`, if it is a run of an experiment.
pub fn cell_label(session: &Session, recorded: &Recorded) -> Option<CellLabel> {
    let cell = session.cells.get(&recorded.run)?;
    let e = session.experiment.as_ref()?;
    Some(CellLabel {
        variant: cell
            .variant
            .and_then(|v| e.variants.get(v))
            .map(|v| v.name.clone()),
        case: cell.case.map(|i| {
            e.cases
                .get(i)
                .and_then(|c| c.id.clone())
                .unwrap_or_else(|| (i + 1).to_string())
        }),
        run: cell.repeat + 1,
        warmup: cell.warmup,
    })
}

impl CellLabel {
    /// `variant a, case c1, run 2` (`warmup 1` for a warmup).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(v) = &self.variant {
            parts.push(format!("variant {v}"));
        }
        if let Some(c) = &self.case {
            parts.push(format!("case {c}"));
        }
        parts.push(if self.warmup {
            format!("warmup {}", self.run)
        } else {
            format!("run {}", self.run)
        });
        parts.join(", ")
    }
}

/// The result row of `target` (session index) in `turn`: the one recorded when its
/// stream ended, or, for a stream cut off by a crash, what its events still tell, with
/// the error `interrupted`. `None` when the target has no answer in that turn, or when
/// an interrupted target's provider is unknown to this build.
///
/// `prices` only matter for interrupted streams: recorded rows keep the cost computed
/// when they were written.
pub fn result_row(session: &Session, turn: &Turn, target: usize, prices: &PriceTable) -> Option<ResultRow> {
    let recorded = turn.answers.get(&target)?;
    if let Some(row) = &recorded.row {
        return Some(row.clone());
    }
    let settings = session.targets.get(target)?.to_target()?;
    let run = recorded.fold(Instant::now());
    let request = session.request_for(turn, target);
    let mut row = crate::report::row(&settings, &request, &run, prices);
    if recorded.interrupted {
        let e = interrupted_error();
        row.error = Some(ErrorRow {
            kind: e.kind,
            message: e.message,
        });
    }
    Some(row)
}

fn estimated(row: Option<&ResultRow>) -> bool {
    row.is_some_and(|r| r.usage.source == UsageSource::Estimate)
}

/// The title of a session: its name, else its first prompt line, else its id.
pub fn title(session: &Session) -> String {
    let m = &session.meta;
    m.name
        .clone()
        .filter(|n| !n.is_empty())
        .or_else(|| (!m.first_prompt.is_empty()).then(|| m.first_prompt.clone()))
        .unwrap_or_else(|| m.id.clone())
}

/// The parameters of a target that were set, as `temperature 0.2, max_tokens 512`.
pub fn params_summary(t: &TargetSettings) -> String {
    let mut parts = Vec::new();
    if let Some(v) = t.temperature {
        parts.push(format!("temperature {v}"));
    }
    if let Some(v) = t.top_p {
        parts.push(format!("top_p {v}"));
    }
    if let Some(v) = t.max_tokens {
        parts.push(format!("max_tokens {v}"));
    }
    if !t.stop.is_empty() {
        parts.push(format!(
            "stop {}",
            serde_json::to_string(&t.stop).unwrap_or_default()
        ));
    }
    if let Some(v) = t.seed {
        parts.push(format!("seed {v}"));
    }
    parts.push(if t.stream { "streaming" } else { "not streaming" }.to_string());
    for (k, v) in &t.extra {
        parts.push(format!("{k} {v}"));
    }
    if let Some(set) = &t.tools {
        parts.push(tools_summary(set));
    }
    parts.join(", ")
}

/// `tools get_weather and lookup (tool_choice required, canned results)`: what a reader
/// needs to tell two tool setups apart, without the schemas.
fn tools_summary(set: &crate::target::Toolset) -> String {
    let names: Vec<&str> = set.tools.iter().map(|t| t.name.as_str()).collect();
    let mut notes = Vec::new();
    if let Some(choice) = &set.choice {
        notes.push(format!("tool_choice {}", choice.as_str()));
    }
    if set.results.is_some() {
        notes.push("canned results".to_string());
    }
    let mut out = format!("tools {}", names.join(" and "));
    if !notes.is_empty() {
        out.push_str(&format!(" ({})", notes.join(", ")));
    }
    out
}

/// The status to show: `interrupted` for a stream cut off by a crash, else the row's.
fn status(recorded: &Recorded, row: Option<&ResultRow>) -> String {
    if recorded.interrupted {
        "interrupted".into()
    } else {
        row.map_or("–", |r| r.status.as_str()).to_string()
    }
}

/// Markdown into `out`: title, date, targets, then each turn's prompt, every answer as
/// written, and a metrics table. Times are in the system's time zone.
pub fn write_markdown(session: &Session, prices: &PriceTable, out: impl Write) -> io::Result<()> {
    write_markdown_in(session, prices, &local_time::system_zone(), out)
}

/// [`write_markdown`] with times in `zone`.
pub fn write_markdown_in(
    session: &Session,
    prices: &PriceTable,
    zone: &TimeZone,
    mut out: impl Write,
) -> io::Result<()> {
    let m = &session.meta;
    writeln!(out, "# {}\n", one_line(&title(session)))?;
    writeln!(out, "- Session: `{}`", m.id)?;
    writeln!(out, "- Created: {}", local_time::readable(&m.created, zone))?;
    writeln!(out, "- Turns: {}", m.turns)?;
    let (cost, incomplete) = super::total::of_rows(session, prices);
    writeln!(out, "- Cost: {}", meta_cost(cost, incomplete))?;
    if session.cut_short {
        out.write_all(b"- The log's last line was cut short by a crash and was skipped.\n")?;
    }
    out.write_all(
        b"\n## Targets\n\n| target | provider | model | base URL | parameters |\n|---|---|---|---|---|\n",
    )?;
    for t in &session.targets {
        writeln!(
            out,
            "| {} | {} | `{}` | {} | {} |",
            table_cell(&t.name),
            table_cell(&t.provider),
            table_cell(&t.model),
            table_cell(&t.base_url),
            table_cell(&params_summary(t)),
        )?;
    }
    let mut system: Option<&str> = None;
    for turn in &session.turns {
        writeln!(
            out,
            "\n## Turn {} · {}\n",
            turn.number,
            local_time::readable(&turn.wall, zone)
        )?;
        let now = turn.system.as_deref().filter(|s| !s.is_empty());
        if now != system {
            match now {
                Some(s) => {
                    out.write_all(b"**System:**\n\n")?;
                    out.write_all(quote(s).as_bytes())?;
                }
                None => out.write_all(b"*System prompt cleared.*\n")?,
            }
            out.write_all(b"\n")?;
            system = now;
        }
        out.write_all(b"**Prompt:**\n\n")?;
        out.write_all(quote(&turn.prompt).as_bytes())?;
        let mut metrics = Vec::new();
        for (&i, recorded) in &turn.answers {
            let name = session.targets.get(i).map_or("?", |t| t.name.as_str());
            let row = result_row(session, turn, i, prices);
            let row = row.as_ref();
            let cell = cell_label(session, recorded)
                .map(|c| format!(" — {}", c.describe()))
                .unwrap_or_default();
            match session.targets.get(i) {
                Some(t) => {
                    writeln!(
                        out,
                        "\n### {} ({} · {}){cell}\n",
                        one_line(name),
                        t.provider,
                        t.model
                    )?;
                }
                None => {
                    writeln!(out, "\n### {}{cell}\n", one_line(name))?;
                }
            }
            let text = recorded.text();
            if text.trim().is_empty() {
                out.write_all(b"*(no text)*\n")?;
            } else {
                out.write_all(close_fences(&headings::demote(&text)).as_bytes())?;
            }
            if let Some(row) = row {
                write_refusal(&mut out, row)?;
            }
            for call in row.and_then(|r| r.tool_calls.as_ref()).into_iter().flatten() {
                write_tool_call(&mut out, call)?;
            }
            if let Some(row) = row {
                write_schema(&mut out, row)?;
                write_cache(&mut out, row)?;
            }
            for (_, event) in &recorded.events {
                if let EventBody::Note { text } = event {
                    writeln!(out, "\n*Note: {}*", one_line(text))?;
                }
            }
            if recorded.interrupted {
                out.write_all(
                    b"\n*Interrupted: Prism stopped while this answer was streaming; the text above is what was saved.*\n",
                )?;
            } else if let Some(e) = row.and_then(|r| r.error.as_ref()) {
                writeln!(out, "\n*Error ({}): {}*", e.kind.as_str(), one_line(&e.message))?;
            } else if row.is_some_and(|r| r.status == Status::Cancelled) {
                out.write_all(b"\n*Cancelled.*\n")?;
            }
            metrics.push((metrics_cells(name, recorded, row), row.cloned()));
        }
        if !metrics.is_empty() {
            // Schema and cache columns only in a turn where some answer has them.
            let schema = metrics
                .iter()
                .any(|(_, r)| r.as_ref().is_some_and(|r| r.schema_valid.is_some()));
            let cache = metrics
                .iter()
                .any(|(_, r)| r.as_ref().is_some_and(|r| r.cache.is_some()));
            out.write_all(b"\n#### Metrics\n\n")?;
            out.write_all(b"| target | status | TTFT ms | TTFB ms | total ms | ITL p50/p95 ms | tok/s | in | out | cost $ | finish |")?;
            let mut rule = String::from("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|");
            if schema {
                out.write_all(b" schema |")?;
                rule.push_str("---|");
            }
            if cache {
                out.write_all(b" cache read | cache write | cache saved $ |")?;
                rule.push_str("--:|--:|--:|");
            }
            writeln!(out, "\n{rule}")?;
            for (mut cells, row) in metrics {
                let row = row.as_ref();
                if schema {
                    cells.push(match row.and_then(|r| r.schema_valid) {
                        Some(true) => "valid".into(),
                        Some(false) => "invalid".into(),
                        None => "–".into(),
                    });
                }
                if cache {
                    let c = row.and_then(|r| r.cache);
                    let count = |n: Option<u64>| n.map_or_else(|| "–".to_string(), |n| n.to_string());
                    cells.push(count(c.and_then(|c| c.read_tokens)));
                    cells.push(count(c.and_then(|c| c.write_tokens)));
                    cells.push(
                        c.and_then(|c| c.saved_usd)
                            .map_or_else(|| "–".to_string(), |v| format!("{v:.6}")),
                    );
                }
                writeln!(out, "| {} |", cells.join(" | "))?;
            }
        }
    }
    let estimates = session.turns.iter().any(|t| {
        t.answers
            .keys()
            .any(|&i| estimated(result_row(session, t, i, prices).as_ref()))
    });
    if estimates {
        out.write_all(b"\n~ local o200k estimate: the provider reported no usage for this target.\n")?;
    }
    Ok(())
}

/// A tool call: its name, then its arguments in a code block, pretty-printed when they
/// are JSON and as sent (with a note) when not. The fence is longer than any run of
/// backticks in them, so nothing they hold ends it.
fn write_tool_call(out: &mut dyn Write, call: &crate::report::ToolCallRow) -> io::Result<()> {
    let name = one_line(call.name.as_deref().unwrap_or("?")).replace('`', "'");
    let parsed = serde_json::from_str::<serde_json::Value>(&call.arguments).ok();
    let (lang, body) = match &parsed {
        Some(v) => (
            "json",
            serde_json::to_string_pretty(v).unwrap_or_else(|_| call.arguments.clone()),
        ),
        None => ("", call.arguments.clone()),
    };
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    writeln!(
        out,
        "\n*Tool call* `{name}`:\n\n{fence}{lang}\n{}\n{fence}",
        body.trim_end()
    )?;
    if parsed.is_none() && !call.arguments.trim().is_empty() {
        out.write_all(b"\n*The arguments are not valid JSON: shown as sent.*\n")?;
    }
    Ok(())
}

/// Whether the answer follows the schema the send carried, and why not.
fn write_schema(out: &mut dyn Write, row: &ResultRow) -> io::Result<()> {
    match row.schema_valid {
        Some(true) => out.write_all(b"\n*Schema: valid.*\n"),
        Some(false) => {
            out.write_all(b"\n*Schema: invalid.*\n")?;
            for e in row.schema_errors.iter().flatten() {
                let path = if e.path.is_empty() {
                    "(the answer)"
                } else {
                    &e.path
                };
                writeln!(out, "- `{}`: {}", path.replace('`', "'"), one_line(&e.reason))?;
            }
            Ok(())
        }
        None => Ok(()),
    }
}

/// Prompt-cache reads and writes and what they saved (or cost) against no caching.
fn write_cache(out: &mut dyn Write, row: &ResultRow) -> io::Result<()> {
    let Some(c) = row.cache else {
        return Ok(());
    };
    let count = |n: Option<u64>| n.map_or_else(|| "unknown".to_string(), |n| n.to_string());
    let effect = match c.saved_usd {
        Some(v) if v < 0.0 => format!("cost ${:.6} more than no caching", -v),
        Some(v) => format!("saved ${v:.6} against no caching"),
        None => "saving unknown (no price or no counts)".into(),
    };
    writeln!(
        out,
        "\n*Cache:* read {} tokens, wrote {}; {effect}.",
        count(c.read_tokens),
        count(c.write_tokens)
    )
}

/// A refusal, set apart from the answer: its message when the provider sent one, else
/// (Anthropic) the finish reason alone.
fn write_refusal(out: &mut dyn Write, row: &ResultRow) -> io::Result<()> {
    match row.refusal.as_deref() {
        Some(text) => writeln!(out, "\n*Refused:* {}", one_line(text)),
        None if row.finish_reason == Some(FinishReason::Refusal) => {
            out.write_all(b"\n*Refused: the model declined to continue (finish reason `refusal`).*\n")
        }
        None => Ok(()),
    }
}

fn metrics_cells(name: &str, recorded: &Recorded, row: Option<&ResultRow>) -> Vec<String> {
    let est = if estimated(row) { "~" } else { "" };
    let num = |field: fn(&ResultRow) -> Option<f64>| {
        row.and_then(field)
            .map_or_else(|| "–".to_string(), |v| format!("{v:.1}"))
    };
    let count = |field: fn(&ResultRow) -> Option<u64>| {
        row.and_then(field)
            .map_or_else(|| "–".to_string(), |n| format!("{est}{n}"))
    };
    let itl = match row.map(|r| (r.itl_ms.p50, r.itl_ms.p95)) {
        Some((Some(a), Some(b))) => format!("{a:.1}/{b:.1}"),
        _ => "–".into(),
    };
    vec![
        table_cell(name),
        status(recorded, row),
        num(|r| r.ttft_ms),
        num(|r| r.ttfb_ms),
        num(|r| r.total_ms),
        itl,
        num(|r| r.tokens_per_s),
        count(|r| r.usage.input_tokens),
        count(|r| r.usage.output_tokens),
        row.and_then(|r| r.cost_usd)
            .map_or_else(|| "–".to_string(), |c| format!("{est}{c:.6}")),
        row.and_then(|r| r.finish_reason)
            .map_or("–", FinishReason::as_str)
            .to_string(),
    ]
}

/// The session's total cost as shown: `$0.001234`, `≥ $0.001234` when some requests had
/// no known price, `-` when nothing was priced.
pub fn meta_cost(cost: f64, incomplete: bool) -> String {
    match (cost > 0.0, incomplete) {
        (true, true) => format!("≥ ${cost:.6}"),
        (true, false) => format!("${cost:.6}"),
        (false, _) => "-".into(),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn table_cell(s: &str) -> String {
    one_line(s).replace('|', "\\|")
}

fn quote(text: &str) -> String {
    let mut out = String::new();
    for line in text.trim_end().lines() {
        if line.is_empty() {
            out.push_str(">\n");
        } else {
            let _ = writeln!(out, "> {line}");
        }
    }
    if out.is_empty() {
        out.push_str(">\n");
    }
    out
}

/// `text` ending in a newline, with a code fence left open (an answer cut off mid-block)
/// closed, so the rest of the document is not swallowed into it.
fn close_fences(text: &str) -> String {
    let mut out = text.trim_end().to_string();
    let open = text
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            l.starts_with("```") || l.starts_with("~~~")
        })
        .count();
    if open % 2 == 1 {
        out.push_str("\n```");
    }
    out.push('\n');
    out
}

mod csv_out;
mod headings;
mod json_out;

pub use csv_out::{CSV_COLUMNS, write_csv, write_csv_of};
pub use json_out::write_json;

#[cfg(test)]
mod tests;
