//! `prism rerun`: send a saved conversation's last turn again, exactly as each target got
//! it (its own earlier answers in the history), and compare the recorded answers with
//! today's: in the workbench side by side, or printed for scripts.
//!
//! The new run is saved as a new session: the earlier turns copied as recorded, then the
//! new answers to the last turn, so the new session replays, re-runs and exports like any
//! other.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;
use serde_json::Value;

use crate::cli::{RerunArgs, UsageError};
use crate::commands::replay::{default_config, open, prices};
use crate::config::{Config, KeySource, Target};
use crate::demo::Demo;
use crate::engine::metrics::TargetRun;
use crate::engine::{Cancels, Envelope, RunId, RunOptions, fan_out_each};
use crate::headless::Format;
use crate::pricing::PriceTable;
use crate::provider::ProviderKind;
use crate::provider::request::ChatRequest;
use crate::session::compare::{Chunk, Deltas, Side, deltas, similarity, word_diff};
use crate::session::schema::KeyRef;
use crate::session::{Outgoing, Recorded, Session, SessionWriter, store};
use crate::tui::app::App;
use crate::tui::msg::Msg;
use crate::tui::run::{drive, look};
use crate::tui::runner::Runner;

/// One target to send again.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Index into the session's targets.
    pub index: usize,
    /// The target as recorded.
    pub recorded_target: Target,
    /// Where it goes now: the recorded settings, with the key, base URL, retries and
    /// timeouts of the `--config` target of the same name, and a demo target moved to
    /// a freshly started demo server.
    pub target: Target,
    /// Exactly the request it got in the recorded turn.
    pub request: ChatRequest,
    /// The recorded stream.
    pub recorded: Recorded,
    /// The recorded result row (rebuilt from the events when the stream was cut off).
    pub recorded_row: Value,
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
pub async fn run(args: RerunArgs, sessions_dir: Option<&Path>) -> Result<u8, UsageError> {
    let cfg = match &args.config {
        Some(path) => Some(crate::config::load(path).map_err(|e| UsageError(e.to_string()))?),
        None => default_config(),
    };
    // Keys, base URLs and limits come from a config only when one is named.
    let overrides = args.config.as_ref().and(cfg.as_ref());
    let session = open(&args.id, sessions_dir, cfg.as_ref())?;
    let prices = prices(cfg.as_ref());
    let demo = if uses_demo(&session, &args.targets, overrides) {
        Some(
            Demo::start()
                .await
                .map_err(|e| UsageError(format!("cannot start the demo mock server: {e}")))?,
        )
    } else {
        None
    };
    let entries = {
        let (session, wanted, overrides, prices) = (
            session.clone(),
            args.targets.clone(),
            overrides.cloned(),
            prices.clone(),
        );
        let bases = demo.as_ref().map(Demo::targets);
        // Rebuilding a cut-off row may load tokenizer tables: off the async workers.
        tokio::task::spawn_blocking(move || {
            plan(&session, &wanted, overrides.as_ref(), bases.as_deref(), &prices)
        })
        .await
        .map_err(|e| UsageError(format!("cannot prepare the re-run: {e}")))?
        .map_err(UsageError)?
    };
    let writer = if args.no_save {
        None
    } else {
        let root = store::sessions_dir(sessions_dir, cfg.as_ref().and_then(|c| c.sessions_dir.as_deref()));
        let targets: Vec<Target> = entries.iter().map(|e| e.target.clone()).collect();
        Some(
            SessionWriter::create(&root, &targets, prices.clone()).map_err(|e| {
                UsageError(format!(
                    "{}: cannot save the new run ({e}); pass --no-save to run without saving",
                    root.display()
                ))
            })?,
        )
    };
    let headless = args
        .format
        .or_else(|| (!std::io::stdout().is_terminal()).then_some(Format::Jsonl));
    let result = match headless {
        Some(format) => print_comparison(&session, &entries, writer.as_ref(), &prices, format).await,
        None => {
            interactive(
                session,
                entries,
                writer.clone(),
                cfg.as_ref(),
                args.theme.as_deref(),
                prices,
            )
            .await
        }
    };
    if let Some(w) = writer {
        w.close();
        match w.error() {
            Some(e) => eprintln!("warning: the new run was not saved completely: {e}"),
            None => eprintln!("saved session {}", w.id()),
        }
    }
    if let Some(d) = demo {
        d.stop().await;
    }
    result
}

/// Whether any chosen target still goes to the demo mock server.
fn uses_demo(session: &Session, wanted: &[String], overrides: Option<&Config>) -> bool {
    session
        .targets
        .iter()
        .filter(|t| wanted.is_empty() || wanted.contains(&t.name))
        .any(
            |t| match overrides.and_then(|c| c.targets.iter().find(|c| c.name == t.name)) {
                Some(c) => c.key == KeySource::Demo,
                None => t.key == KeyRef::Demo,
            },
        )
}

/// The targets to send again and what each gets: the session's last turn, for every
/// target that answered it (or the `wanted` ones). `demo` lists a running demo's targets,
/// whose base URLs replace the dead ones of demo targets.
pub fn plan(
    session: &Session,
    wanted: &[String],
    overrides: Option<&Config>,
    demo: Option<&[Target]>,
    prices: &PriceTable,
) -> Result<Vec<Entry>, String> {
    let id = &session.meta.id;
    let turn = session
        .turns
        .last()
        .ok_or_else(|| format!("session {id} has no sends: nothing to send again"))?;
    if let Some(missing) = wanted
        .iter()
        .find(|w| !session.targets.iter().any(|t| &t.name == *w))
    {
        let names: Vec<&str> = session.targets.iter().map(|t| t.name.as_str()).collect();
        return Err(format!(
            "no target named `{missing}` in session {id}; it has: {}",
            names.join(", ")
        ));
    }
    let mut out = Vec::new();
    for (index, settings) in session.targets.iter().enumerate() {
        if !wanted.is_empty() && !wanted.contains(&settings.name) {
            continue;
        }
        let Some(recorded) = turn.answers.get(&index) else {
            if wanted.is_empty() {
                continue;
            }
            return Err(format!(
                "target `{}` did not answer turn {} of session {id}: pick another with --target",
                settings.name, turn.number
            ));
        };
        let recorded_target = settings.to_target().ok_or_else(|| {
            format!(
                "target `{}` uses provider `{}`, unknown to this Prism: upgrade Prism to send it again",
                settings.name, settings.provider
            )
        })?;
        let mut target = recorded_target.clone();
        if let Some(c) = overrides.and_then(|c| c.targets.iter().find(|c| c.name == settings.name)) {
            // The sampling parameters stay as recorded: the point is the same request.
            target.key = c.key.clone();
            target.base_url.clone_from(&c.base_url);
            target.params.count_tokens = c.params.count_tokens;
            target.params.retry = c.params.retry;
            target.params.timeouts = c.params.timeouts;
        }
        if target.key == KeySource::Demo {
            target.base_url = demo.and_then(|d| demo_base(d, target.provider)).ok_or_else(|| {
                format!(
                    "target `{}` needs the demo server, which did not start",
                    settings.name
                )
            })?;
        }
        let request = session.request_for(turn, index);
        let recorded_row = recorded.row.clone().unwrap_or_else(|| {
            let row = crate::report::row(&recorded_target, &request, &recorded.fold(Instant::now()), prices);
            serde_json::to_value(row).unwrap_or_default()
        });
        out.push(Entry {
            index,
            recorded_target,
            target,
            request,
            recorded: recorded.clone(),
            recorded_row,
        });
    }
    if out.is_empty() {
        return Err(format!(
            "no target answered turn {} of session {id}: nothing to send again",
            turn.number
        ));
    }
    Ok(out)
}

/// The demo server's base URL for `kind` (compatible servers speak OpenAI's protocol).
fn demo_base(demo: &[Target], kind: ProviderKind) -> Option<String> {
    let kind = match kind {
        ProviderKind::OpenAiCompatible => ProviderKind::OpenAi,
        k => k,
    };
    demo.iter()
        .find(|t| t.provider == kind)
        .map(|t| t.base_url.clone())
}

/// Send every entry's request again, all released together, tagging events with `run`.
/// Each event goes to `sink`, which says whether anyone still listens (when nobody
/// does, the requests are cancelled), and to `writer` when saving: the earlier turns
/// are copied first, so the new session holds the whole conversation.
pub async fn send_again(
    session: &Session,
    entries: &[Entry],
    run: RunId,
    cancels: Cancels,
    writer: Option<&SessionWriter>,
    mut sink: impl FnMut(Envelope) -> bool,
) {
    let copied = writer.map_or(0, |w| copy_earlier_turns(session, entries, w));
    let saved_run = copied + 1;
    let jobs: Vec<(Target, ChatRequest)> = entries
        .iter()
        .map(|e| (e.target.clone(), e.request.clone()))
        .collect();
    let base = Instant::now();
    if let (Some(w), Some(turn)) = (writer, session.turns.last()) {
        let out: Vec<Outgoing> = entries
            .iter()
            .enumerate()
            .map(|(k, e)| Outgoing {
                target: k,
                history: e.recorded.history.clone(),
                request: e.request.clone(),
            })
            .collect();
        w.send(
            saved_run,
            turn.number,
            turn.system.clone(),
            &turn.prompt,
            base,
            &out,
        );
    }
    let mut handle = fan_out_each(&jobs, RunOptions { run }, cancels).await;
    let mut listening = true;
    while let Some(env) = handle.events.recv().await {
        if let Some(w) = writer {
            w.event(saved_run, env.target, env.at, &env.event);
        }
        if listening && !sink(env) {
            listening = false;
            handle.cancel_all();
        }
    }
    handle.join().await;
}

/// Write the turns before the last one into the new session as they were recorded (for
/// the chosen targets, renumbered in their new order). Returns the last run id used.
fn copy_earlier_turns(session: &Session, entries: &[Entry], w: &SessionWriter) -> u64 {
    let Some((_, earlier)) = session.turns.split_last() else {
        return 0;
    };
    let mut run = 0;
    for turn in earlier {
        let sent: Vec<(usize, &Entry, &Recorded)> = entries
            .iter()
            .enumerate()
            .filter_map(|(k, e)| turn.answers.get(&e.index).map(|r| (k, e, r)))
            .collect();
        if sent.is_empty() {
            continue;
        }
        run += 1;
        let base = Instant::now();
        let out: Vec<Outgoing> = sent
            .iter()
            .map(|(k, e, r)| Outgoing {
                target: *k,
                history: r.history.clone(),
                request: session.request_for(turn, e.index),
            })
            .collect();
        w.send(run, turn.number, turn.system.clone(), &turn.prompt, base, &out);
        for (k, _, r) in &sent {
            for (t, body) in &r.events {
                w.event(run, *k, base + Duration::from_nanos(*t), &body.to_event(base));
            }
        }
    }
    run
}

/// Compare one entry's recording with its new result row.
pub fn compare(entry: &Entry, new_row: &Value) -> Comparison {
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
    send_again(session, entries, RunId(1), cancels, writer, |env| {
        if let Some(r) = runs.get_mut(env.target) {
            r.apply(env.at, &env.event);
        }
        true
    })
    .await;
    watcher.abort();
    // Local token estimates load a tokenizer table; do that off the async workers.
    let (entries, prices) = (entries.to_vec(), prices.clone());
    tokio::task::spawn_blocking(move || {
        entries
            .iter()
            .zip(&runs)
            .map(|(e, r)| {
                let row = crate::report::row(&e.target, &e.request, r, &prices);
                compare(e, &serde_json::to_value(row).unwrap_or_default())
            })
            .collect()
    })
    .await
    .unwrap_or_default()
}

async fn print_comparison(
    session: &Session,
    entries: &[Entry],
    writer: Option<&SessionWriter>,
    prices: &PriceTable,
    format: Format,
) -> Result<u8, UsageError> {
    let found = collect(session, entries, writer, prices).await;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = print(&found, format, &mut stdout) {
        // A closed pipe (`| head`) is the reader's choice, not our failure.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(UsageError(format!("cannot write results: {e}")));
        }
    }
    Ok(u8::from(
        found.iter().any(|c| c.new.status.as_deref() != Some("ok")),
    ))
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
        writeln!(
            out,
            "── {} · {:.0}% same ──",
            c.target,
            f64::from(c.similarity) * 100.0
        )?;
        if c.diff.iter().all(|d| matches!(d, Chunk::Same(_))) {
            writeln!(out, "(identical answers)")?;
        } else {
            writeln!(out, "{}", compact_diff(&c.diff).trim_end())?;
        }
        writeln!(out)?;
    }
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(ContentArrangement::Disabled);
    table.set_header(["target", "status", "TTFT ms", "tok/s", "out", "cost $", "same"]);
    for c in found {
        let (r, n, d) = (&c.recorded, &c.new, &c.deltas);
        let status = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
        let out_tokens = |v: Option<u64>| v.map(|v| v as f64);
        table.add_row([
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
    writeln!(out, "{table}")?;
    writeln!(out, "changes are new − recorded; [-removed-] {{+added+}} words")
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
    session: Session,
    entries: Vec<Entry>,
    writer: Option<SessionWriter>,
    cfg: Option<&Config>,
    theme: Option<&str>,
    prices: PriceTable,
) -> Result<u8, UsageError> {
    let (theme, keymap) = look(theme, cfg)?;
    let mut app = App::new(Vec::new(), keymap, theme, String::new());
    app.prices = prices.clone();
    app.now = Instant::now();
    let (_, run, live) = app.begin_compare(&session, &entries);
    let cancels = Cancels::new(entries.len());
    let mut runner = Runner::new(prices);
    runner.track(run, live.clone(), cancels.clone());
    let mut task = None;
    let stop = cancels.clone();
    let result = drive(&mut app, runner, |tx| {
        let tx = tx.clone();
        task = Some(tokio::spawn(async move {
            send_again(&session, &entries, run, cancels, writer.as_ref(), |env| {
                let pane = live.get(env.target).copied().unwrap_or(usize::MAX);
                tx.send(Msg::Stream { pane, env }).is_ok()
            })
            .await;
        }));
        // Not handed to the loop: it must outlive it to save the streams' last events.
        None
    })
    .await;
    stop.cancel_all();
    if let Some(task) = task {
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    }
    result.map(|()| 0)
}
