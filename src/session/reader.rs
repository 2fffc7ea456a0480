//! Loading a session: validate, then assemble turns. Reading never modifies anything.
//!
//! A log whose last line is cut short (the process was killed mid-write) loads with that
//! line dropped; a target whose stream has no terminal event is marked interrupted. Any
//! other damage is an error naming the file, line and column.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;

use super::schema::{EventBody, Meta, Record, SendRecord, TargetSettings, VERSION};
use super::writer::{EVENTS_FILE, META_FILE, first_line};
use crate::engine::metrics::TargetRun;
use crate::provider::request::{ChatRequest, Message};

/// Why a session cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionError {
    /// The file at fault (or the directory, when a file is missing).
    pub path: PathBuf,
    /// 1-based line and column, when the problem has a position.
    pub at: Option<(usize, usize)>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some((line, col)) => write!(f, "{}:{line}:{col}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for SessionError {}

impl SessionError {
    fn new(path: &Path, at: Option<(usize, usize)>, message: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            at,
            message: message.into(),
        }
    }
}

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
    pub row: Option<Value>,
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
            if let EventBody::Text { text } = e {
                s.push_str(text);
            }
        }
        s
    }

    /// Whether the stream ended after the provider's end marker.
    pub fn completed(&self) -> bool {
        self.events.iter().any(|(_, e)| matches!(e, EventBody::Done))
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
        }
    }
}

/// Load the session in `dir`.
pub fn load(dir: &Path) -> Result<Session, SessionError> {
    let events_path = dir.join(EVENTS_FILE);
    let text = std::fs::read(&events_path).map_err(|e| {
        let what = if e.kind() == std::io::ErrorKind::NotFound {
            "no such session file (is this a Prism session directory?)".to_string()
        } else {
            format!("cannot read: {e}")
        };
        SessionError::new(&events_path, None, what)
    })?;
    let text = String::from_utf8(text).map_err(|e| {
        let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = upto.iter().filter(|b| **b == b'\n').count() + 1;
        SessionError::new(
            &events_path,
            Some((line, 1)),
            "not UTF-8 text: the file is corrupt",
        )
    })?;
    let mut log = parse_log(&events_path, &text)?;
    let meta_path = dir.join(META_FILE);
    log.meta = match std::fs::read_to_string(&meta_path) {
        Ok(s) => Some(parse_meta(&meta_path, &s)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(SessionError::new(&meta_path, None, format!("cannot read: {e}"))),
    };
    Ok(log.into_session(dir))
}

/// Parse `meta.json`, checking its version first.
pub fn parse_meta(path: &Path, text: &str) -> Result<Meta, SessionError> {
    let value: Value = serde_json::from_str(text).map_err(|e| json_error(path, 0, &e))?;
    check_version(path, (1, 1), value.get("version"))?;
    serde_json::from_value(value).map_err(|e| SessionError::new(path, None, format!("corrupt: {e}")))
}

fn check_version(path: &Path, at: (usize, usize), v: Option<&Value>) -> Result<(), SessionError> {
    match v.and_then(Value::as_u64) {
        Some(v) if v >= 1 && v <= u64::from(VERSION) => Ok(()),
        Some(v) => Err(SessionError::new(
            path,
            Some(at),
            format!(
                "written by a newer Prism (session schema version {v}; this build reads up to {VERSION}): upgrade Prism to open it"
            ),
        )),
        None => Err(SessionError::new(
            path,
            Some(at),
            "no schema `version`: not a Prism session file, or a corrupt one",
        )),
    }
}

fn json_error(path: &Path, line_offset: usize, e: &serde_json::Error) -> SessionError {
    let msg = e.to_string();
    // serde_json appends " at line L column C"; the position is reported separately.
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    SessionError::new(
        path,
        Some((line_offset + e.line(), e.column().max(1))),
        format!("corrupt record: {msg}"),
    )
}

#[derive(Default)]
struct Log {
    id: String,
    created: String,
    targets: Vec<TargetSettings>,
    sends: Vec<SendRecord>,
    events: BTreeMap<(u64, usize), Vec<(u64, EventBody)>>,
    rows: BTreeMap<(u64, usize), Value>,
    cut_short: bool,
    meta: Option<Meta>,
}

fn parse_log(path: &Path, text: &str) -> Result<Log, SessionError> {
    let mut log = Log::default();
    let ends_clean = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        if i == 0 {
            let value: Value = serde_json::from_str(line).map_err(|e| json_error(path, i, &e))?;
            check_version(path, (1, 1), value.get("version"))?;
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
            Record::Header { id, created, .. } if i == 0 => {
                log.id = id;
                log.created = created;
            }
            Record::Header { .. } => {
                return Err(SessionError::new(
                    path,
                    Some((n, 1)),
                    "a second header: the file is corrupt",
                ));
            }
            _ if i == 0 => {
                return Err(SessionError::new(
                    path,
                    Some((1, 1)),
                    "the first record is not a header: not a Prism session file",
                ));
            }
            Record::Targets { targets } => log.targets = targets,
            Record::Send(s) => {
                if let Some(bad) = s.targets.iter().find(|t| t.target >= log.targets.len()) {
                    return Err(SessionError::new(
                        path,
                        Some((n, 1)),
                        format!(
                            "send names target {} but the session has {}",
                            bad.target,
                            log.targets.len()
                        ),
                    ));
                }
                log.sends.push(s);
            }
            Record::Event(e) => {
                if !log.sends.iter().any(|s| s.run == e.run) {
                    return Err(SessionError::new(
                        path,
                        Some((n, 1)),
                        format!("event of run {} before its send: the file is corrupt", e.run),
                    ));
                }
                log.events
                    .entry((e.run, e.target))
                    .or_default()
                    .push((e.t_ns, e.event));
            }
            Record::Result { run, target, row } => {
                log.rows.insert((run, target), row);
            }
        }
    }
    if lines.is_empty() {
        return Err(SessionError::new(path, None, "empty file: not a Prism session"));
    }
    Ok(log)
}

impl Log {
    fn into_session(mut self, dir: &Path) -> Session {
        let mut turns: BTreeMap<u32, Turn> = BTreeMap::new();
        let mut last_run = 0;
        for send in &self.sends {
            last_run = last_run.max(send.run);
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
                let interrupted = !events.iter().any(|(_, e)| e.is_terminal());
                turn.answers.insert(
                    sent.target,
                    Recorded {
                        run: send.run,
                        history: sent.history.clone(),
                        events,
                        row: self.rows.remove(&key),
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
            cost_usd: turns
                .iter()
                .flat_map(|t| t.answers.values())
                .filter_map(|r| r.row.as_ref()?.get("cost_usd")?.as_f64())
                .sum(),
            cost_incomplete: false,
        });
        Session {
            dir: dir.to_path_buf(),
            meta,
            targets: self.targets,
            turns,
            last_run,
            cut_short: self.cut_short,
        }
    }
}
