//! What a session cost, from its rows: the recorded ones, and those a crash left
//! unwritten recomputed from their events (as `sessions show` prints them).
//!
//! `meta.json` keeps a running total, rewritten after each finished request. A crash
//! leaves streams with events but no row, so that total misses them; the log then has
//! lines written after the summary, which [`summary_is_behind`] notices without reading
//! either file.

use std::path::Path;

use super::export::result_row;
use super::reader::Session;
use super::schema::Meta;
use super::writer::{EVENTS_FILE, META_FILE};
use crate::pricing::{Picodollars, PriceTable, usd, usd_to_pd};

/// A session's cost from its rows, exactly, and whether some request had no known price
/// (the sum is then a lower bound). `prices` price only streams cut off by a crash;
/// recorded rows keep the cost computed when they were written.
pub fn of_rows(session: &Session, prices: &PriceTable) -> (f64, bool) {
    let mut total: Picodollars = 0;
    let mut incomplete = false;
    for turn in &session.turns {
        for &target in turn.answers.keys() {
            match result_row(session, turn, target, prices) {
                Some(row) => match row.cost_usd {
                    Some(c) => total += usd_to_pd(c).unwrap_or(0),
                    // Tokens were used but their price is unknown, as the writer counts it.
                    None => incomplete |= row.usage.output_tokens.is_some(),
                },
                // A cut-off stream of a provider this build does not know: not priced.
                None => incomplete = true,
            }
        }
    }
    (usd(total), incomplete)
}

/// The session's summary brought up to date with its log: its turns, last send and
/// cost ([`of_rows`]) as the log has them; its name and tags as the summary has them.
pub fn caught_up(session: &Session, prices: &PriceTable) -> Meta {
    let mut meta = session.meta.clone();
    let (cost, incomplete) = of_rows(session, prices);
    meta.cost_usd = cost;
    meta.cost_incomplete = incomplete;
    if let Some(last) = session.turns.last() {
        meta.turns = meta.turns.max(last.number);
        if last.wall > meta.updated {
            meta.updated.clone_from(&last.wall);
        }
    }
    if meta.first_prompt.is_empty()
        && let Some(first) = session.turns.first()
    {
        meta.first_prompt = super::writer::first_line(&first.prompt);
    }
    meta
}

/// Whether the session in `dir` has log lines written after its summary: a crash (or a
/// session still being written) left `meta.json` behind the log. The writer rewrites
/// the summary after the last line it writes, so a session closed normally is never
/// behind. Times that cannot be read say no, and so does a log that is not a plain file
/// (a pipe would block the listing): the summary is then taken as it is.
pub fn summary_is_behind(dir: &Path) -> bool {
    let modified = |f: &str| {
        std::fs::metadata(dir.join(f))
            .ok()
            .filter(std::fs::Metadata::is_file)
            .and_then(|m| m.modified().ok())
    };
    match (modified(EVENTS_FILE), modified(META_FILE)) {
        (Some(log), Some(meta)) => log > meta,
        _ => false,
    }
}
