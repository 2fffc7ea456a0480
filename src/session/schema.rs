//! The on-disk vocabulary of a session, version 1.
//!
//! A session is a directory holding `events.jsonl` (append-only, one [`Record`] per line,
//! the source of truth) and `meta.json` (a small summary replaced atomically, so the
//! browser can list sessions without reading every log). Times inside a run are
//! nanoseconds since that run's send, so a replay reproduces every gap exactly and
//! metrics recomputed from the file equal the ones recorded.
//!
//! Keys never appear here: a target's settings name the environment variables its key
//! comes from, never the value; of its configured headers only the values written in
//! the config are stored, a secret one by the variable it is read from.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::provider::event::{
    ErrorKind, Finish, FinishReason, Piece, ProviderError, ResponseStart, StreamEvent, TextRun,
    ToolCallDelta, Usage,
};
use crate::provider::server::ServerReport;
use crate::report::ResultRow;
mod settings;

pub use settings::{CacheSetting, HeaderSetting, KeyRef, TargetSettings, ThinkingSetting};

/// The schema version this build writes and the newest it reads.
pub const VERSION: u32 = 1;

/// One line of `events.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// Always the first line.
    Header {
        /// Schema version ([`VERSION`]).
        version: u32,
        /// Session id (the directory name).
        id: String,
        /// Wall-clock creation time, RFC 3339 UTC.
        created: String,
        /// Version of Prism that wrote it.
        prism: String,
        /// The price data its costs were computed with (absent in sessions written before
        /// it was recorded, and when there was none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prices: Option<crate::pricing::PriceData>,
    },
    /// The targets of the session, in pane order; appended again if they change.
    Targets {
        /// Resolved settings.
        targets: Vec<TargetSettings>,
    },
    /// An experiment's design (`prism run` with variants, cases, repeats or warmups);
    /// written once, before its first send.
    Experiment(ExperimentRecord),
    /// One send: a turn of the conversation, or a retry of one pane in a turn.
    Send(SendRecord),
    /// One stream event of one target of a run.
    Event(EventRecord),
    /// A target's final numbers, as the workbench showed them when its stream ended.
    Result {
        /// The run.
        run: u64,
        /// Index into the session's targets.
        target: usize,
        /// The same object `prism run --format json` prints for a target (boxed: it is
        /// many times the size of the other records).
        row: Box<ResultRow>,
    },
    /// A judgement of the answers on screen: which was best.
    Vote(super::votes::VoteRecord),
}

/// One send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendRecord {
    /// Run id, unique within the session.
    pub run: u64,
    /// Conversation turn, from 1. A retry of one pane repeats its turn's number.
    pub turn: u32,
    /// Wall-clock time of the send, RFC 3339 UTC.
    pub wall: String,
    /// The system prompt in force (an edit shows as a change from the previous turn).
    #[serde(default)]
    pub system: Option<String>,
    /// The user's prompt for this turn.
    pub prompt: String,
    /// The targets sent to, as indices into the session's targets, each with the
    /// earlier turns its history included (its own answers to them).
    pub targets: Vec<SentTarget>,
    /// The experiment cell this send is one run of; absent for every other send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell: Option<RunCell>,
}

/// Which run of which experiment cell a send is. Indices point into the session's
/// [`ExperimentRecord`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCell {
    /// Index into the experiment's variants; `None` when it has none.
    pub variant: Option<usize>,
    /// Index into the experiment's cases; `None` when it has none.
    pub case: Option<usize>,
    /// Index into the experiment's targets (by config name; the send's own target is
    /// the session target that carries the variant's parameter overrides).
    pub target: usize,
    /// Which run of the cell, from 0 (of the warmups, for a warmup run).
    pub repeat: u32,
    /// A warmup run: sent, recorded, and left out of every statistic.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub warmup: bool,
}

/// An experiment's design: everything needed to read its sends as cells and runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentRecord {
    /// The run's own system prompt (a template when there are cases).
    #[serde(default)]
    pub system: Option<String>,
    /// The run's own prompt (a template when there are cases).
    #[serde(default)]
    pub prompt: Option<String>,
    /// The variants, in order; empty when the run has none.
    #[serde(default)]
    pub variants: Vec<VariantRecord>,
    /// The cases, in table order; empty when the run has none.
    #[serde(default)]
    pub cases: Vec<CaseRecord>,
    /// The experiment's targets by name, in config order.
    pub targets: Vec<String>,
    /// Counted runs per cell.
    pub repeat: u32,
    /// Uncounted runs per target, sent first.
    #[serde(default)]
    pub warmup: u32,
    /// `interleaved`, `random` or `sequential`.
    pub order: String,
    /// The seed of a random order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// One variant of an experiment, as it was run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantRecord {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// The JSON Schema the variant's answers had to follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<crate::target::OutputSchema>,
    /// The tool definitions the variant offered instead of the target's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<crate::target::ToolDef>>,
    /// The `tool_choice` the variant sent instead of the target's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<crate::target::ToolChoice>,
    /// The canned results the variant sent instead of the target's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_results: Option<crate::target::ToolResults>,
}

/// One case of an experiment: its id, if it has one, and its values in column order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub vars: Map<String, Value>,
}

/// One target of a send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentTarget {
    /// Index into the session's targets.
    pub target: usize,
    /// Earlier turns whose prompt and this target's answer preceded the prompt.
    #[serde(default)]
    pub history: Vec<u32>,
}

/// One stream event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// The run it belongs to.
    pub run: u64,
    /// Index into the session's targets.
    pub target: usize,
    /// Arrival time, nanoseconds since the run's send.
    pub t_ns: u64,
    /// The event.
    #[serde(flatten)]
    pub event: EventBody,
}

/// [`StreamEvent`] with its instants made relative to the run's send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventBody {
    Dispatched,
    Started {
        http_status: u16,
        #[serde(default)]
        request_id: Option<String>,
        #[serde(default)]
        rate_limits: Vec<(String, String)>,
        sent_ns: u64,
        #[serde(default)]
        connect_ns: Option<u64>,
    },
    ResponseId {
        id: String,
    },
    Text {
        text: String,
        /// For text several pieces of one read brought ([`StreamEvent::TextRun`]): how
        /// many, and the first one's length in bytes. Absent for a single piece.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pieces: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first: Option<u32>,
    },
    Reasoning {
        text: String,
        /// As for `Text`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pieces: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first: Option<u32>,
    },
    Refusal {
        text: String,
    },
    ToolCall {
        index: usize,
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        name: Option<String>,
        arguments: String,
    },
    Usage {
        usage: Usage,
    },
    Finish {
        reason: FinishReason,
        #[serde(default)]
        raw: Option<String>,
    },
    Done,
    Failed {
        kind: ErrorKind,
        #[serde(default)]
        http_status: Option<u16>,
        message: String,
        #[serde(default)]
        retryable: bool,
        #[serde(default)]
        raw_body: Option<String>,
        #[serde(default)]
        retry_after_ms: Option<u64>,
    },
    Cancelled,
    Retrying {
        attempt: u32,
        of: u32,
        wait_ms: u64,
        reason: String,
    },
    Note {
        text: String,
    },
    /// A follow-up round with tool results went out: canned ones, in the same stream, or
    /// typed in the workbench after the first round had ended, in which case it follows
    /// that round's end and only an end after it ends the stream (times still count from
    /// the run's send, so the gap is the user's pause).
    ToolRound {
        round: crate::provider::event::ToolRound,
    },
    Server {
        server: ServerReport,
    },
}

/// A `text` or `reasoning` record as its event: one piece (`one`), or the run of pieces
/// one read brought (`run`).
fn pieces_event(
    text: &str,
    pieces: Option<u32>,
    first: Option<u32>,
    one: fn(Piece) -> StreamEvent,
    run: fn(TextRun) -> StreamEvent,
) -> StreamEvent {
    match pieces {
        Some(pieces) if pieces > 1 => run(TextRun {
            text: text.to_string(),
            pieces,
            first: first.unwrap_or(0),
        }),
        _ => one(text.into()),
    }
}

fn ns_since(base: Instant, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(base).as_nanos()).unwrap_or(u64::MAX)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl EventBody {
    /// The record of `event`, with its instants relative to `base`.
    pub fn of(event: &StreamEvent, base: Instant) -> Self {
        match event {
            StreamEvent::Dispatched => Self::Dispatched,
            StreamEvent::Started(s) => Self::Started {
                http_status: s.http_status,
                request_id: s.request_id.clone(),
                rate_limits: s.rate_limits.clone(),
                sent_ns: ns_since(base, s.sent_at),
                connect_ns: s.connect.map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
            },
            StreamEvent::ResponseId(id) => Self::ResponseId { id: id.clone() },
            StreamEvent::TextDelta(t) => Self::Text {
                text: t.to_string(),
                pieces: None,
                first: None,
            },
            StreamEvent::TextRun(r) => Self::Text {
                text: r.text.clone(),
                pieces: Some(r.pieces),
                first: Some(r.first),
            },
            StreamEvent::ReasoningDelta(t) => Self::Reasoning {
                text: t.to_string(),
                pieces: None,
                first: None,
            },
            StreamEvent::ReasoningRun(r) => Self::Reasoning {
                text: r.text.clone(),
                pieces: Some(r.pieces),
                first: Some(r.first),
            },
            StreamEvent::RefusalDelta(t) => Self::Refusal { text: t.to_string() },
            StreamEvent::ToolCallDelta(d) => Self::ToolCall {
                index: d.index,
                id: d.id.clone(),
                name: d.name.clone(),
                arguments: d.arguments.clone(),
            },
            StreamEvent::Usage(u) => Self::Usage { usage: **u },
            StreamEvent::Finish(f) => Self::Finish {
                reason: f.reason,
                raw: f.raw.clone(),
            },
            StreamEvent::Note(text) => Self::Note { text: text.clone() },
            StreamEvent::ToolRound(round) => Self::ToolRound { round: round.clone() },
            StreamEvent::Server(r) => Self::Server {
                server: (**r).clone(),
            },
            StreamEvent::Done => Self::Done,
            StreamEvent::Failed(e) => Self::Failed {
                kind: e.kind,
                http_status: e.http_status,
                message: e.message.clone(),
                retryable: e.retryable,
                raw_body: e.raw_body.clone(),
                retry_after_ms: e.retry_after.map(millis),
            },
            StreamEvent::Cancelled => Self::Cancelled,
            StreamEvent::Retrying {
                attempt,
                of,
                wait,
                reason,
            } => Self::Retrying {
                attempt: *attempt,
                of: *of,
                wait_ms: millis(*wait),
                reason: reason.clone(),
            },
        }
    }

    /// The event again, its instants placed relative to `base`.
    pub fn to_event(&self, base: Instant) -> StreamEvent {
        let at = |ns: u64| base + Duration::from_nanos(ns);
        match self {
            Self::Dispatched => StreamEvent::Dispatched,
            Self::Started {
                http_status,
                request_id,
                rate_limits,
                sent_ns,
                connect_ns,
            } => StreamEvent::Started(Box::new(ResponseStart {
                http_status: *http_status,
                request_id: request_id.clone(),
                rate_limits: rate_limits.clone(),
                sent_at: at(*sent_ns),
                connect: connect_ns.map(Duration::from_nanos),
            })),
            Self::ResponseId { id } => StreamEvent::ResponseId(id.clone()),
            Self::Text { text, pieces, first } => pieces_event(
                text,
                *pieces,
                *first,
                StreamEvent::TextDelta,
                StreamEvent::TextRun,
            ),
            Self::Reasoning { text, pieces, first } => pieces_event(
                text,
                *pieces,
                *first,
                StreamEvent::ReasoningDelta,
                StreamEvent::ReasoningRun,
            ),
            Self::Refusal { text } => StreamEvent::RefusalDelta(text.as_str().into()),
            Self::ToolCall {
                index,
                id,
                name,
                arguments,
            } => StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
                index: *index,
                id: id.clone(),
                name: name.clone(),
                arguments: arguments.clone(),
            })),
            Self::Usage { usage } => StreamEvent::Usage(Box::new(*usage)),
            Self::Finish { reason, raw } => StreamEvent::Finish(Finish {
                reason: *reason,
                raw: raw.clone(),
            }),
            Self::Note { text } => StreamEvent::Note(text.clone()),
            Self::ToolRound { round } => StreamEvent::ToolRound(round.clone()),
            Self::Server { server } => StreamEvent::Server(Box::new(server.clone())),
            Self::Done => StreamEvent::Done,
            Self::Failed {
                kind,
                http_status,
                message,
                retryable,
                raw_body,
                retry_after_ms,
            } => StreamEvent::Failed(Box::new(ProviderError {
                kind: *kind,
                http_status: *http_status,
                message: message.clone(),
                retryable: *retryable,
                raw_body: raw_body.clone(),
                retry_after: retry_after_ms.map(Duration::from_millis),
            })),
            Self::Cancelled => StreamEvent::Cancelled,
            Self::Retrying {
                attempt,
                of,
                wait_ms,
                reason,
            } => StreamEvent::Retrying {
                attempt: *attempt,
                of: *of,
                wait: Duration::from_millis(*wait_ms),
                reason: reason.clone(),
            },
        }
    }

    /// Whether this ends its target's stream.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Done | Self::Failed { .. } | Self::Cancelled)
    }
}

/// `meta.json`: what the browser lists. Rebuilt from the log when missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Schema version ([`VERSION`]).
    pub version: u32,
    /// Session id.
    pub id: String,
    /// A name the user gave it.
    #[serde(default)]
    pub name: Option<String>,
    /// Creation time, RFC 3339 UTC.
    pub created: String,
    /// Time of the last send, RFC 3339 UTC.
    pub updated: String,
    /// The first line of the first prompt.
    pub first_prompt: String,
    /// Target names, in pane order.
    pub targets: Vec<String>,
    /// Conversation turns.
    pub turns: u32,
    /// Sum of the cost of every request with a known price, USD: summed exactly and
    /// written as its decimal (`0.01629325`). Older builds summed floats
    /// (`0.016293250000000002`); those still load.
    pub cost_usd: f64,
    /// Whether some requests had no known price (so the sum is a lower bound).
    pub cost_incomplete: bool,
    /// Tags given with `prism run --tag`, found by `sessions list --filter`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_survives_the_round_trip_to_the_nanosecond() {
        let base = Instant::now();
        let at = |ns| base + Duration::from_nanos(ns);
        let events = vec![
            StreamEvent::Dispatched,
            StreamEvent::Started(Box::new(ResponseStart {
                http_status: 200,
                request_id: Some("req_1".into()),
                rate_limits: vec![("x-ratelimit-remaining-requests".into(), "99".into())],
                sent_at: at(1_234_567),
                connect: Some(Duration::from_nanos(1_000_001)),
            })),
            StreamEvent::ResponseId("resp".into()),
            StreamEvent::TextDelta("héllo\n".into()),
            StreamEvent::TextRun(TextRun {
                text: "one read".into(),
                pieces: 3,
                first: 3,
            }),
            StreamEvent::ReasoningDelta("hmm".into()),
            StreamEvent::ReasoningRun(TextRun {
                text: "thought through".into(),
                pieces: 4,
                first: 7,
            }),
            StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
                index: 1,
                id: Some("c".into()),
                name: Some("f".into()),
                arguments: "{\"a\":".into(),
            })),
            StreamEvent::Usage(Box::new(Usage {
                input: Some(3),
                output: None,
                cached_input: Some(1),
                cache_write: None,
                cache_write_1h: None,
                reasoning: Some(0),
            })),
            StreamEvent::Usage(Box::new(Usage {
                cache_write: Some(5),
                cache_write_1h: Some(2),
                ..Usage::default()
            })),
            StreamEvent::Finish(Finish {
                reason: FinishReason::Length,
                raw: Some("max_tokens".into()),
            }),
            StreamEvent::Retrying {
                attempt: 2,
                of: 3,
                wait: Duration::from_millis(1500),
                reason: "HTTP 429 rate_limited".into(),
            },
            StreamEvent::Note("no `data: [DONE]`".into()),
            StreamEvent::Failed(Box::new(ProviderError {
                kind: ErrorKind::RateLimited,
                http_status: Some(429),
                message: "slow down".into(),
                retryable: true,
                raw_body: Some("{}".into()),
                retry_after: Some(Duration::from_secs(2)),
            })),
            StreamEvent::Done,
            StreamEvent::Cancelled,
        ];
        for e in events {
            let rec = Record::Event(EventRecord {
                run: 1,
                target: 0,
                t_ns: 5,
                event: EventBody::of(&e, base),
            });
            let line = serde_json::to_string(&rec).unwrap();
            let back: Record = serde_json::from_str(&line).unwrap();
            assert_eq!(back, rec, "{line}");
            let Record::Event(r) = back else { unreachable!() };
            assert_eq!(r.event.to_event(base), e, "{line}");
        }
    }
}
