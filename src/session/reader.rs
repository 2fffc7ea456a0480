//! Loading a session: validate, then assemble turns. Reading never modifies anything.
//!
//! A log whose last line is cut short (the process was killed mid-write) loads with that
//! line dropped; a target whose stream has no terminal event is marked interrupted. Any
//! other damage is an error naming the file, line and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;

pub use super::error::SessionError;
use super::schema::{
    EventBody, ExperimentRecord, Meta, Record, RunCell, SendRecord, TargetSettings, VERSION,
};
use super::writer::{EVENTS_FILE, META_FILE, first_line};
use crate::engine::metrics::TargetRun;
use crate::provider::request::{ChatRequest, Message};
use crate::report::ResultRow;

/// One target's recorded stream in one turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// The run that produced it (the latest one for this turn and target).
    pub run: u64,
    /// Earlier turns in its history.
    pub history: Vec<u32>,
    /// Events with their arrival time in nanoseconds since the send.
    pub events: Vec<(u64, EventBody)>,
    /// The numbers recorded when the stream ended.
    pub row: Option<ResultRow>,
    /// The stream has no terminal event: the process stopped while it ran.
    pub interrupted: bool,
}

impl Recorded {
    /// Fold the recorded events into metrics, placing the send at `base`.
    pub fn fold(&self, base: Instant) -> TargetRun {
        let mut run = TargetRun::default();
        for (t, e) in &self.events {
            run.apply(base + std::time::Duration::from_nanos(*t), &e.to_event(base));
        }
        run
    }

    /// The visible answer text.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for (_, e) in &self.events {
            if let EventBody::Text { text, .. } = e {
                s.push_str(text);
            }
        }
        s
    }

    /// Whether the stream ended after the provider's end marker: its last end, since a
    /// follow-up round sent after the first had ended (results typed by hand) goes on in
    /// the same record.
    pub fn completed(&self) -> bool {
        self.last_round().any(|(_, e)| matches!(e, EventBody::Done))
    }

    /// The events from the last `ToolRound` on (all of them when there is none): a stream
    /// ends in here.
    fn last_round(&self) -> impl Iterator<Item = &(u64, EventBody)> {
        ended_in_last_round(&self.events)
    }
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// Turn number, from 1.
    pub number: u32,
    /// The system prompt in force.
    pub system: Option<String>,
    /// The user's prompt.
    pub prompt: String,
    /// When it was sent.
    pub wall: String,
    /// Each target's stream, by session target index.
    pub answers: BTreeMap<usize, Recorded>,
}

/// A loaded session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Its directory.
    pub dir: PathBuf,
    /// Its summary (from `meta.json`, or rebuilt from the log when that is missing).
    pub meta: Meta,
    /// The targets, in pane order.
    pub targets: Vec<TargetSettings>,
    /// The conversation, oldest first.
    pub turns: Vec<Turn>,
    /// The highest run id used.
    pub last_run: u64,
    /// The log's last line was cut short by a crash and was skipped.
    pub cut_short: bool,
    /// Judgements of the answers, in the order they were made.
    pub votes: Vec<super::votes::VoteRecord>,
    /// The experiment's design, when the session is one.
    pub experiment: Option<ExperimentRecord>,
    /// The experiment cell of each run that is one, by run id.
    pub cells: BTreeMap<u64, RunCell>,
}

impl Session {
    /// Whether any stream was interrupted.
    pub fn interrupted(&self) -> bool {
        self.turns
            .iter()
            .flat_map(|t| t.answers.values())
            .any(|r| r.interrupted)
    }

    /// The request target `target` got in `turn`: the system prompt, its own earlier
    /// exchanges listed in the send, then the turn's prompt.
    pub fn request_for(&self, turn: &Turn, target: usize) -> ChatRequest {
        let history = turn
            .answers
            .get(&target)
            .map(|r| r.history.clone())
            .unwrap_or_default();
        self.request_with_history(turn, target, &history)
    }

    /// The request for `turn` with `history` as the earlier turns included.
    pub fn request_with_history(&self, turn: &Turn, target: usize, history: &[u32]) -> ChatRequest {
        let mut messages = Vec::new();
        for n in history {
            let Some(earlier) = self.turns.iter().find(|t| t.number == *n) else {
                continue;
            };
            messages.push(Message::user(earlier.prompt.clone()));
            let answer = earlier
                .answers
                .get(&target)
                .map(Recorded::text)
                .unwrap_or_default();
            messages.push(Message::assistant(answer));
        }
        messages.push(Message::user(turn.prompt.clone()));
        ChatRequest {
            system: turn.system.clone(),
            messages,
            schema: None,
        }
    }
}

/// Load the session in `dir`.
pub fn load(dir: &Path) -> Result<Session, SessionError> {
    let events_path = dir.join(EVENTS_FILE);
    let text = read_text(&events_path)?
        .ok_or_else(|| SessionError::unreadable(&events_path, std::io::ErrorKind::NotFound.into()))?;
    let mut log = parse_log(&events_path, &text)?;
    let meta_path = dir.join(META_FILE);
    log.meta = match read_text(&meta_path)? {
        Some(s) => Some(parse_meta(&meta_path, &s)?),
        None => None,
    };
    Ok(log.into_session(dir))
}

/// The text of a session file, or `None` when it does not exist. A file that cannot be
/// read says why; one that is not UTF-8 says on which line.
pub fn read_text(path: &Path) -> Result<Option<String>, SessionError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(SessionError::unreadable(path, e)),
    };
    String::from_utf8(bytes).map(Some).map_err(|e| {
        let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = upto.iter().filter(|b| **b == b'\n').count() + 1;
        SessionError::corrupt(path, (line, 1), "not UTF-8 text: the file is corrupt")
    })
}

/// Parse `meta.json`, checking its version first.
pub fn parse_meta(path: &Path, text: &str) -> Result<Meta, SessionError> {
    let value: Value = serde_json::from_str(text).map_err(|e| json_error(path, 0, &e))?;
    check_version(path, (1, 1), value.get("version"))?;
    // From the text again, not the value: serde_json knows positions only there.
    serde_json::from_str(text).map_err(|e| json_error(path, 0, &e))
}

fn check_version(path: &Path, at: (usize, usize), v: Option<&Value>) -> Result<(), SessionError> {
    match v.and_then(Value::as_u64) {
        Some(v) if v >= 1 && v <= u64::from(VERSION) => Ok(()),
        Some(found) => Err(SessionError::FutureVersion {
            file: path.to_path_buf(),
            line: at.0,
            col: at.1,
            found,
            supported: VERSION,
        }),
        None => Err(SessionError::corrupt(
            path,
            at,
            "no schema `version`: not a Prism session file, or a corrupt one",
        )),
    }
}

fn json_error(path: &Path, line_offset: usize, e: &serde_json::Error) -> SessionError {
    let msg = e.to_string();
    // serde_json appends " at line L column C"; the position is reported separately.
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    // Errors raised while reading a buffered value (a tagged record's missing field) carry
    // no position (line 0): the record's own line is the best there is.
    let at = match e.line() {
        0 => (line_offset + 1, 1),
        line => (line_offset + line, e.column().max(1)),
    };
    SessionError::corrupt(path, at, format!("corrupt record: {msg}"))
}

/// The events from the last `ToolRound` on, all of them when there is none. A follow-up
/// sent after its first round had ended (results typed by hand) is recorded after that
/// round's end: only an end after it ends the stream.
fn ended_in_last_round(events: &[(u64, EventBody)]) -> impl Iterator<Item = &(u64, EventBody)> {
    let from = (events.iter())
        .rposition(|(_, e)| matches!(e, EventBody::ToolRound { .. }))
        .unwrap_or(0);
    events[from..].iter()
}

#[derive(Default)]
struct Log {
    id: String,
    created: String,
    targets: Vec<TargetSettings>,
    sends: Vec<SendRecord>,
    events: BTreeMap<(u64, usize), Vec<(u64, EventBody)>>,
    rows: BTreeMap<(u64, usize), ResultRow>,
    votes: Vec<super::votes::VoteRecord>,
    cut_short: bool,
    meta: Option<Meta>,
    experiment: Option<ExperimentRecord>,
}

fn parse_log(path: &Path, text: &str) -> Result<Log, SessionError> {
    let mut log = Log::default();
    let ends_clean = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut header_seen = false;
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let first = !header_seen;
        if first {
            let value: Value = serde_json::from_str(line).map_err(|e| json_error(path, i, &e))?;
            check_version(path, (n, 1), value.get("version"))?;
        }
        let record: Record = match serde_json::from_str(line) {
            Ok(r) => r,
            // The last write was cut by a crash: everything before it is intact.
            Err(_) if n == lines.len() && !ends_clean && n > 1 => {
                log.cut_short = true;
                break;
            }
            Err(e) => return Err(json_error(path, i, &e)),
        };
        match record {
            Record::Header { id, created, .. } if first => {
                log.id = id;
                log.created = created;
                header_seen = true;
            }
            Record::Header { .. } => {
                return Err(SessionError::corrupt(
                    path,
                    (n, 1),
                    "a second header: the file is corrupt",
                ));
            }
            _ if first => {
                return Err(SessionError::corrupt(
                    path,
                    (n, 1),
                    "the first record is not a header: not a Prism session file",
                ));
            }
            Record::Targets { targets } => log.targets = targets,
            Record::Experiment(e) => {
                if log.experiment.is_some() || !log.sends.is_empty() {
                    return Err(SessionError::corrupt(
                        path,
                        (n, 1),
                        "an experiment record after the experiment began: the file is corrupt",
                    ));
                }
                log.experiment = Some(e);
            }
            Record::Send(s) => {
                let corrupt = |what: String| SessionError::corrupt(path, (n, 1), what);
                if let Some(cell) = &s.cell
                    && let Some(why) = cell_problem(log.experiment.as_ref(), cell)
                {
                    return Err(corrupt(format!(
                        "send of run {} {why}: the file is corrupt",
                        s.run
                    )));
                }
                if let Some(bad) = s.targets.iter().find(|t| t.target >= log.targets.len()) {
                    return Err(corrupt(format!(
                        "send names target {} but the session has {}: the file is corrupt",
                        bad.target,
                        log.targets.len()
                    )));
                }
                if let Some(dup) = s
                    .targets
                    .iter()
                    .enumerate()
                    .find(|(i, t)| s.targets[..*i].iter().any(|u| u.target == t.target))
                {
                    return Err(corrupt(format!(
                        "send of run {} lists target {} twice: the file is corrupt",
                        s.run, dup.1.target
                    )));
                }
                if log.sends.iter().any(|earlier| earlier.run == s.run) {
                    // The second would leave the first's answers blank.
                    return Err(corrupt(format!(
                        "a second send of run {}: the file is corrupt",
                        s.run
                    )));
                }
                log.sends.push(s);
            }
            Record::Event(e) => {
                log.check_sent(path, n, "event", e.run, e.target)?;
                log.events
                    .entry((e.run, e.target))
                    .or_default()
                    .push((e.t_ns, e.event));
            }
            Record::Result { run, target, row } => {
                log.check_sent(path, n, "result", run, target)?;
                log.rows.insert((run, target), *row);
            }
            Record::Vote(vote) => {
                if let Some(why) = vote.problem(log.targets.len()) {
                    return Err(SessionError::corrupt(
                        path,
                        (n, 1),
                        format!("{why}: the file is corrupt"),
                    ));
                }
                log.votes.push(vote);
            }
        }
    }
    if !header_seen {
        return Err(SessionError::corrupt(
            path,
            (1, 1),
            "empty file: not a Prism session",
        ));
    }
    Ok(log)
}

/// Why `cell` cannot be read against `experiment`, if it cannot.
fn cell_problem(experiment: Option<&ExperimentRecord>, cell: &RunCell) -> Option<String> {
    let Some(e) = experiment else {
        return Some("is a run of an experiment cell, but no experiment record precedes it".into());
    };
    let out_of = |what: &str, index: Option<usize>, len: usize| {
        index
            .filter(|i| *i >= len)
            .map(|i| format!("names {what} {i} but the experiment has {len}"))
    };
    out_of("variant", cell.variant, e.variants.len())
        .or_else(|| out_of("case", cell.case, e.cases.len()))
        .or_else(|| out_of("target", Some(cell.target), e.targets.len()))
}

impl Log {
    /// A record of `run` and `target` on line `n` must follow a send of that run to that
    /// target; anything else would be silently dropped from the loaded session.
    fn check_sent(
        &self,
        path: &Path,
        n: usize,
        what: &str,
        run: u64,
        target: usize,
    ) -> Result<(), SessionError> {
        let corrupt = |why: String| Err(SessionError::corrupt(path, (n, 1), why));
        let Some(send) = self.sends.iter().find(|s| s.run == run) else {
            return corrupt(format!(
                "{what} of run {run} before its send: the file is corrupt"
            ));
        };
        if target >= self.targets.len() {
            return corrupt(format!(
                "{what} names target {target} but the session has {}: the file is corrupt",
                self.targets.len()
            ));
        }
        if !send.targets.iter().any(|t| t.target == target) {
            return corrupt(format!(
                "{what} of run {run} for target {target}, which that send did not go to: the file is corrupt"
            ));
        }
        Ok(())
    }

    fn into_session(mut self, dir: &Path) -> Session {
        let mut turns: BTreeMap<u32, Turn> = BTreeMap::new();
        let mut last_run = 0;
        let mut cells = BTreeMap::new();
        for send in &self.sends {
            last_run = last_run.max(send.run);
            if let Some(cell) = send.cell {
                cells.insert(send.run, cell);
            }
            let turn = turns.entry(send.turn).or_insert_with(|| Turn {
                number: send.turn,
                system: send.system.clone(),
                prompt: send.prompt.clone(),
                wall: send.wall.clone(),
                answers: BTreeMap::new(),
            });
            for sent in &send.targets {
                let key = (send.run, sent.target);
                let events = self.events.remove(&key).unwrap_or_default();
                let interrupted = !ended_in_last_round(&events).any(|(_, e)| e.is_terminal());
                // A row written when the first round ended is stale once a follow-up was
                // cut off: the events say more (both rounds, as far as they went).
                let row = self.rows.remove(&key).filter(|_| !interrupted);
                turn.answers.insert(
                    sent.target,
                    Recorded {
                        run: send.run,
                        history: sent.history.clone(),
                        events,
                        row,
                        interrupted,
                    },
                );
            }
        }
        let turns: Vec<Turn> = turns.into_values().collect();
        let meta = self.meta.take().unwrap_or_else(|| Meta {
            version: VERSION,
            id: self.id.clone(),
            name: None,
            created: self.created.clone(),
            updated: turns.last().map_or(self.created.clone(), |t| t.wall.clone()),
            first_prompt: turns.first().map(|t| first_line(&t.prompt)).unwrap_or_default(),
            targets: self.targets.iter().map(|t| t.name.clone()).collect(),
            turns: turns.last().map_or(0, |t| t.number),
            cost_usd: crate::pricing::usd(
                turns
                    .iter()
                    .flat_map(|t| t.answers.values())
                    .filter_map(|r| r.row.as_ref()?.cost_usd)
                    .filter_map(crate::pricing::usd_to_pd)
                    .sum(),
            ),
            cost_incomplete: false,
            tags: Vec::new(),
        });
        Session {
            dir: dir.to_path_buf(),
            meta,
            targets: self.targets,
            turns,
            last_run,
            cut_short: self.cut_short,
            votes: self.votes,
            experiment: self.experiment,
            cells,
        }
    }
}

#[cfg(test)]
mod tests;
