//! `prism run`: send once, wait for every target, print results for people or scripts.
//!
//! The printers consume the same [`Envelope`] stream the workbench does. JSON output is
//! a stable contract (see README): one object per target, in config order.

use std::io::{self, Write};

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};

use crate::engine::metrics::TargetRun;
use crate::engine::{Cancels, RunOptions};
use crate::pricing::PriceTable;
use crate::provider::event::{ErrorKind, FinishReason, ProviderError};
use crate::provider::request::ChatRequest;
use crate::report::{ResultRow, Status, UsageSource, row};
use crate::session::SessionWriter;
use crate::target::Target;
use crate::workflows::send::{Job, JobId, Report, Send, SessionTarget};

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

/// Send `request` to `targets`, wait for all of them, and return their results.
/// Ctrl-C cancels every target; their partial answers are still returned. Targets with a
/// `blocked` reason (pre-flight) are not sent; they fail with that reason.
pub async fn collect(
    targets: &[Target],
    request: &ChatRequest,
    opts: RunOptions,
    prices: &PriceTable,
    blocked: &[Option<String>],
) -> Vec<ResultRow> {
    collect_saved(targets, request, opts, prices, blocked, None)
        .await
        .rows
}

/// What a run collected, and whether Ctrl-C cut it short.
#[derive(Debug)]
pub struct Collected {
    /// One result per target, in order; partial where Ctrl-C cancelled a stream.
    pub rows: Vec<ResultRow>,
    /// Ctrl-C (SIGINT) arrived while targets were still streaming.
    pub interrupted: bool,
}

/// [`collect`], recording the send and every event into `session` (as turn 1) as they
/// happen, so a killed run still leaves everything up to the last flush on disk.
pub async fn collect_saved(
    targets: &[Target],
    request: &ChatRequest,
    opts: RunOptions,
    prices: &PriceTable,
    blocked: &[Option<String>],
    session: Option<&SessionWriter>,
) -> Collected {
    let cancels = Cancels::new(targets.len());
    let jobs: Vec<Job> = targets
        .iter()
        .enumerate()
        .map(|(i, target)| Job {
            id: JobId(i),
            session: SessionTarget(i),
            target: target.clone(),
            request: request.clone(),
            history: Vec::new(),
            blocked: blocked
                .get(i)
                .cloned()
                .flatten()
                .map(|why| ProviderError::new(ErrorKind::ContextLength, why)),
        })
        .collect();
    let plan = Send {
        run: opts.run,
        turn: 1,
        system: request.system.clone(),
        prompt: request
            .messages
            .last()
            .map_or("", |m| m.content.as_str())
            .to_string(),
        jobs,
        session: session.cloned(),
        prices: prices.clone(),
        cancels: cancels.clone(),
        // `prism run` asks the providers for their counts itself, before the budget check.
        provider_counts: false,
    };
    let mut runs = vec![TargetRun::default(); targets.len()];
    // The sink borrows `runs` until every job has ended.
    let by_ctrl_c = {
        let sending = plan.run(|report| {
            if let Report::Blocked { job, at, event } | Report::Event { job, at, event } = report
                && let Some(run) = runs.get_mut(job.0)
            {
                run.apply(at, &event);
            }
            true
        });
        tokio::pin!(sending);
        let interrupted = tokio::signal::ctrl_c();
        tokio::pin!(interrupted);
        let mut listening = true;
        let mut by_ctrl_c = false;
        loop {
            tokio::select! {
                () = &mut sending => break,
                r = &mut interrupted, if listening => {
                    if r.is_ok() {
                        cancels.cancel_all();
                        by_ctrl_c = true;
                    }
                    listening = false;
                }
            }
        }
        by_ctrl_c
    };
    // Local token estimates load a tokenizer table; do that off the async workers.
    let (targets, request, prices) = (targets.to_vec(), request.clone(), prices.clone());
    let rows = tokio::task::spawn_blocking(move || {
        targets
            .iter()
            .zip(&runs)
            .map(|(t, r)| row(t, &request, r, &prices))
            .collect()
    })
    .await
    .unwrap_or_default();
    Collected {
        rows,
        interrupted: by_ctrl_c,
    }
}

/// Print `rows` in `format`.
pub fn print(rows: &[ResultRow], format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Jsonl => {
            for r in rows {
                crate::masking::to_writer(&mut *out, r)?;
                writeln!(out)?;
            }
        }
        Format::Json => {
            crate::masking::to_writer_pretty(&mut *out, rows)?;
            writeln!(out)?;
        }
        Format::Table => print_table(rows, out)?,
    }
    out.flush()
}

fn print_table(rows: &[ResultRow], out: &mut dyn Write) -> io::Result<()> {
    for r in rows {
        writeln!(out, "── {} · {} {} ──", r.target, r.provider, r.model)?;
        if !r.text.is_empty() {
            writeln!(out, "{}", r.text.trim_end())?;
        }
        for c in r.tool_calls.iter().flatten() {
            writeln!(
                out,
                "[tool call] {}({})",
                c.name.as_deref().unwrap_or("?"),
                c.arguments
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
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(ContentArrangement::Disabled);
    table.set_header([
        "target",
        "status",
        "TTFT ms",
        "TTFB ms",
        "total ms",
        "ITL p50/p95 ms",
        "tok/s",
        "in",
        "out",
        "cost $",
        "finish",
        "http",
        "request id",
    ]);
    for r in rows {
        let est = if r.usage.source == UsageSource::Estimate {
            "~"
        } else {
            ""
        };
        let count = |n: Option<u64>| n.map_or("-".into(), |n| format!("{est}{n}"));
        let itl = match (r.itl_ms.p50, r.itl_ms.p95) {
            (Some(a), Some(b)) => format!("{a:.1}/{b:.1}"),
            _ => "-".into(),
        };
        table.add_row([
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
            r.finish_reason.map_or("-", FinishReason::as_str).to_string(),
            r.http_status.map_or("-".into(), |s| s.to_string()),
            r.request_id.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    for i in 2..10 {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    writeln!(out, "{table}")?;
    if rows.iter().any(|r| r.usage.source == UsageSource::Estimate) {
        writeln!(
            out,
            "~ local o200k estimate: the provider reported no usage for this target"
        )?;
    }
    Ok(())
}

fn num(v: Option<f64>, places: usize) -> String {
    v.map_or("-".into(), |v| format!("{v:.places$}"))
}

/// Exit status of a run Ctrl-C interrupted: 128 + SIGINT, as a shell reports a process the
/// signal killed, so a script can tell "stopped by the user" from "a target failed".
pub const INTERRUPTED: u8 = 130;

/// Exit status of a run: 0 when every target succeeded, 1 otherwise, [`INTERRUPTED`] when
/// Ctrl-C cut it short (whatever had arrived is still printed).
pub fn exit_code(collected: &Collected) -> u8 {
    if collected.interrupted {
        return INTERRUPTED;
    }
    u8::from(collected.rows.iter().any(|r| r.status != Status::Ok))
}
