//! `prism stats`: the votes of every saved session (or the ones named), tallied into win
//! rates per target and per prompt variant, with 95 % intervals, and who beat whom.

use std::io::{self, Write};
use std::path::Path;

use clap::Args;
use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
use serde::Serialize;

use super::AppError;
use crate::session::{load, store};
use crate::workflows::votes::{Filter, Record, Tally, TargetKey};

/// Options of `prism stats`.
#[derive(Debug, Args, Default)]
pub struct StatsArgs {
    /// Sessions to read (id, unique id prefix, name, or path); default every session.
    #[arg(value_name = "SESSION")]
    pub sessions: Vec<String>,
    /// Count only votes cast with the names hidden.
    #[arg(long)]
    pub blind_only: bool,
    /// Leave out votes in which an answer named its own model or vendor.
    #[arg(long)]
    pub skip_self_identified: bool,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Run the command against the sessions directory chosen by `sessions_dir`.
pub fn run(args: StatsArgs, sessions_dir: Option<&Path>) -> Result<u8, AppError> {
    let root = super::sessions_root(sessions_dir);
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut warn = io::stderr();
    match run_in(&args, &root, &mut out, &mut warn) {
        Err(AppError::Io { source, .. }) if source.kind() == io::ErrorKind::BrokenPipe => Ok(0),
        other => other.map(|()| 0),
    }
}

/// Tally the sessions under `root` (or those `args` names) and print to `out`; sessions
/// that cannot be read are skipped with a line on `warn`.
pub fn run_in(
    args: &StatsArgs,
    root: &Path,
    out: &mut dyn Write,
    warn: &mut dyn Write,
) -> Result<(), AppError> {
    let filter = Filter {
        blind_only: args.blind_only,
        skip_self_identified: args.skip_self_identified,
    };
    let mut tally = Tally::default();
    let mut read = 0;
    if args.sessions.is_empty() {
        let listed = store::list(root).map_err(|e| {
            AppError::Usage(format!(
                "{}: cannot list sessions: {e}; --sessions-dir or ${} picks another directory",
                root.display(),
                store::ENV
            ))
        })?;
        for l in listed {
            match load(&l.dir) {
                Ok(s) => {
                    tally.add(&s, filter);
                    read += 1;
                }
                // One damaged session should not hide the votes of all the others.
                Err(e) => {
                    let _ = writeln!(warn, "prism: skipped {}: {e}", l.id());
                }
            }
        }
    } else {
        for wanted in &args.sessions {
            tally.add(&super::sessions::open(root, wanted)?, filter);
            read += 1;
        }
    }
    let written = if args.json {
        print_json(&tally, out)
    } else {
        print_tables(&tally, read, root, out)
    };
    written.map_err(|e| AppError::io("cannot write the output", e))
}

#[derive(Serialize)]
struct JsonTally<'a> {
    votes: u32,
    blind: u32,
    self_identified: u32,
    sessions: u32,
    targets: Vec<JsonRecord<'a, &'a TargetKey>>,
    variants: Vec<JsonRecord<'a, Variant<'a>>>,
    pairwise: Vec<JsonBeat<'a>>,
}

#[derive(Serialize)]
struct JsonRecord<'a, K: Serialize> {
    #[serde(flatten)]
    key: K,
    #[serde(flatten)]
    record: &'a Record,
    win_rate: Option<f64>,
    ci95_low: Option<f64>,
    ci95_high: Option<f64>,
}

#[derive(Serialize)]
struct JsonBeat<'a> {
    winner: &'a TargetKey,
    loser: &'a TargetKey,
    wins: u32,
}

#[derive(Serialize)]
struct Variant<'a> {
    variant: &'a str,
}

fn json_record<'a, K: Serialize>(key: K, record: &'a Record) -> JsonRecord<'a, K> {
    let interval = record.interval();
    JsonRecord {
        key,
        record,
        win_rate: record.win_rate(),
        ci95_low: interval.map(|i| i.0),
        ci95_high: interval.map(|i| i.1),
    }
}

fn print_json(tally: &Tally, out: &mut dyn Write) -> io::Result<()> {
    let doc = JsonTally {
        votes: tally.votes,
        blind: tally.blind,
        self_identified: tally.self_identified,
        sessions: tally.sessions,
        targets: ranked(tally.targets.iter())
            .into_iter()
            .map(|(k, r)| json_record(k, r))
            .collect(),
        variants: ranked(tally.variants.iter())
            .into_iter()
            .map(|(k, r)| json_record(Variant { variant: k }, r))
            .collect(),
        pairwise: tally
            .beats
            .iter()
            .map(|((winner, loser), &wins)| JsonBeat { winner, loser, wins })
            .collect(),
    };
    serde_json::to_writer(&mut *out, &doc).map_err(io::Error::from)?;
    writeln!(out)?;
    out.flush()
}

/// Best first: by win rate, then by votes, then by name.
fn ranked<'a, K: Ord + 'a>(records: impl Iterator<Item = (&'a K, &'a Record)>) -> Vec<(&'a K, &'a Record)> {
    let mut v: Vec<_> = records.collect();
    v.sort_by(|a, b| {
        b.1.win_rate()
            .unwrap_or(0.0)
            .total_cmp(&a.1.win_rate().unwrap_or(0.0))
            .then(b.1.votes.cmp(&a.1.votes))
            .then(a.0.cmp(b.0))
    });
    v
}

fn percent(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    t
}

fn align_numbers(t: &mut Table, from: usize) {
    for i in from..t.column_count() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

fn record_cells(r: &Record) -> Vec<String> {
    vec![
        r.votes.to_string(),
        r.wins.to_string(),
        r.ties.to_string(),
        r.all_bad.to_string(),
        r.win_rate().map_or_else(|| "-".into(), percent),
        r.interval().map_or_else(
            || "-".into(),
            |(lo, hi)| format!("{}–{}", percent(lo), percent(hi)),
        ),
    ]
}

/// How a target is named in the tables: its name, with the model when two targets
/// tallied share a name.
fn label(key: &TargetKey, all: &Tally) -> String {
    let shared = all.targets.keys().filter(|k| k.name == key.name).count() > 1;
    if shared {
        format!("{} ({})", key.name, key.model)
    } else {
        key.name.clone()
    }
}

fn print_tables(tally: &Tally, read: u32, root: &Path, out: &mut dyn Write) -> io::Result<()> {
    if tally.votes == 0 {
        writeln!(
            out,
            "No votes in the {read} session{} read from {}. Votes are cast in the workbench after a send (blind mode hides the names until then).",
            if read == 1 { "" } else { "s" },
            root.display()
        )?;
        return out.flush();
    }
    writeln!(
        out,
        "{} vote{} in {} session{} ({} blind; {} with an answer that named its own model or vendor)",
        tally.votes,
        if tally.votes == 1 { "" } else { "s" },
        tally.sessions,
        if tally.sessions == 1 { "" } else { "s" },
        tally.blind,
        tally.self_identified,
    )?;
    let header = ["votes", "wins", "ties", "all bad", "win rate", "95 % interval"];
    let mut targets = table(&[&["target", "provider", "model"][..], &header[..]].concat());
    for (key, record) in ranked(tally.targets.iter()) {
        let mut row = vec![label(key, tally), key.provider.clone(), key.model.clone()];
        row.extend(record_cells(record));
        targets.add_row(row);
    }
    align_numbers(&mut targets, 3);
    writeln!(out, "\n{targets}")?;
    if !tally.variants.is_empty() {
        let mut variants = table(&[&["variant"][..], &header[..]].concat());
        for (name, record) in ranked(tally.variants.iter()) {
            let mut row = vec![name.clone()];
            row.extend(record_cells(record));
            variants.add_row(row);
        }
        align_numbers(&mut variants, 1);
        writeln!(out, "\n{variants}")?;
    }
    let order: Vec<&TargetKey> = ranked(tally.targets.iter()).into_iter().map(|(k, _)| k).collect();
    if order.len() > 1 {
        let names: Vec<String> = order.iter().map(|k| label(k, tally)).collect();
        let mut header = vec!["picked over →"];
        header.extend(names.iter().map(String::as_str));
        let mut pairs = table(&header);
        for (row, a) in order.iter().enumerate() {
            let mut cells = vec![names[row].clone()];
            for b in &order {
                cells.push(if a == b {
                    "·".into()
                } else {
                    tally.head_to_head(a, b).0.to_string()
                });
            }
            pairs.add_row(cells);
        }
        align_numbers(&mut pairs, 1);
        writeln!(
            out,
            "\nTimes the row's answer was picked over the column's, both on screen:\n{pairs}"
        )?;
    }
    out.flush()
}

#[cfg(test)]
mod tests;
