//! Folding one target's events into its answer and its numbers. Pure: no clock reads,
//! no I/O, so every metric is tested with hand-made timestamps.
//!
//! Definitions (also in the README):
//! - request sent: after connection setup on a fresh connection (DNS, TCP, TLS are
//!   reported separately as `connect`), or at dispatch on a reused one;
//! - TTFB: request sent → response headers;
//! - TTFT: request sent → first event carrying content of any kind (text, reasoning
//!   or a tool call); a role-only first chunk does not count;
//! - TTFT (text): request sent → first visible text, when reasoning came first;
//! - ITL: gaps between consecutive content events; events that arrived in the same
//!   network read have a gap of 0 (that is what the client saw);
//! - tokens/s: output tokens ÷ (last content event − first content event);
//! - ITL per token: (last content event − first content event) ÷ (output tokens − 1),
//!   the mean gap between tokens whatever the chunking;
//! - longest gap: the longest silence between content events;
//! - burst share: the share of content bytes (text, reasoning, tool arguments) that
//!   arrived within 1 ms of the previous content event: near 0 for a stream that
//!   trickles, near 1 for one a gateway buffered and released in bursts;
//! - total: request sent → end of the response (or failure / cancellation).
//!
//! A tool round (canned results sent back after the first answer's tool calls) folds into
//! the same run: TTFT, TTFB and the request id stay the first round's, usage is the sum
//! with each round's part kept, the wait for the follow-up's first content is neither an
//! ITL gap nor part of the tokens/s span, and total runs to the end of the last round.
//! A follow-up sent after the first round had ended (results typed by hand) reopens the
//! run: the wait from that end to the follow-up's dispatch is the user's, not the
//! model's, and is left out of total as well.

use std::time::{Duration, Instant};

use super::itl_stats::ItlStats;
use crate::provider::azure::ContentFilter;
use crate::provider::event::{Finish, FinishReason, ProviderError, StreamEvent, Usage};
use crate::provider::server::ServerReport;

/// How a target's stream ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Still running.
    Running,
    /// Completed after the provider's terminal marker.
    Done,
    /// Failed; partial text is kept.
    Failed(ProviderError),
    /// Cancelled by the user; partial text is kept.
    Cancelled,
}

/// One assembled tool call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolCall {
    /// Provider call id.
    pub id: Option<String>,
    /// Function name.
    pub name: Option<String>,
    /// Arguments, concatenated exactly as sent.
    pub arguments: String,
}

/// Latency distribution summary in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
}

/// Everything known about one target's run so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetRun {
    pub dispatched_at: Option<Instant>,
    pub sent_at: Option<Instant>,
    pub connect: Option<Duration>,
    pub headers_at: Option<Instant>,
    pub http_status: Option<u16>,
    pub request_id: Option<String>,
    pub rate_limits: Vec<(String, String)>,
    pub first_content_at: Option<Instant>,
    pub first_text_at: Option<Instant>,
    pub last_content_at: Option<Instant>,
    pub ended_at: Option<Instant>,
    /// Gaps between content events, summarised as they arrive (count, mean, extremes,
    /// percentiles) in a fixed amount of memory whatever the stream's length.
    pub gaps: ItlStats,
    /// Content events received.
    pub content_events: usize,
    /// Bytes of content (text, reasoning, tool-call arguments) received.
    pub content_bytes: usize,
    /// Of those, the bytes of events that arrived within [`BURST_GAP`] of the content
    /// event before them.
    pub burst_bytes: usize,
    /// Attempts made after the first.
    pub retries: u32,
    /// The latest retry notice: (attempt, of, wait, reason).
    pub retry_note: Option<(u32, u32, Duration, String)>,
    /// The visible answer; a refusal message is never part of it.
    pub text: String,
    pub reasoning: String,
    /// The refusal message the provider sent apart from the answer; `None` when it sent
    /// none (an Anthropic refusal is marked by its finish reason alone).
    pub refusal: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    /// Usage as reported by the provider (fields it never sent stay `None`).
    pub usage: Usage,
    pub finish: Option<Finish>,
    /// Protocol notes (a missing end marker after a complete answer...), in order.
    pub notes: Vec<String>,
    pub outcome: Option<Outcome>,
    /// What the server reported about its own work, beside the numbers above; `None`
    /// when it said nothing.
    pub server: Option<ServerReport>,
    /// Tool rounds: each finished round's usage, the results each follow-up sent.
    pub tool_rounds: ToolRounds,
}

/// The follow-up rounds of a run that called tools with canned results.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolRounds {
    /// Each finished round's own usage, oldest first; the current round's is in
    /// [`ToolRounds::current`]. Empty while the run is in its first round.
    pub finished: Vec<Usage>,
    /// The current round's own usage (`TargetRun::usage` holds the sum).
    pub current: Usage,
    /// What each follow-up sent back.
    pub sent: Vec<crate::provider::event::ToolRound>,
    /// Tool calls made before the current round (its call indices start here).
    call_base: usize,
    /// The current round has not produced content yet (its first gap is the round trip).
    awaiting_content: bool,
    /// Time spent between rounds (last content → next round's first content).
    pub paused: Duration,
    /// Time between a round's end and a follow-up dispatched only later (results typed by
    /// hand): left out of total.
    pub idle: Duration,
}

impl ToolRounds {
    /// Rounds so far: 1, or 2 after a follow-up.
    pub fn count(&self) -> u32 {
        u32::try_from(self.finished.len() + 1).unwrap_or(u32::MAX)
    }

    /// Every round's own usage, the current one last.
    pub fn parts(&self) -> Vec<Usage> {
        let mut all = self.finished.clone();
        all.push(self.current);
        all
    }
}

/// Content closer than this to the content before it arrived in the same burst.
pub const BURST_GAP: Duration = Duration::from_millis(1);

/// Bytes of content an event carries; for a run, its first piece's (the rest are counted
/// apart: [`TargetRun::pieces_at_once`]).
fn content_len(event: &StreamEvent) -> usize {
    match event {
        StreamEvent::TextDelta(t) | StreamEvent::ReasoningDelta(t) | StreamEvent::RefusalDelta(t) => t.len(),
        StreamEvent::TextRun(r) | StreamEvent::ReasoningRun(r) => {
            usize::try_from(r.first).map_or(r.text.len(), |f| f.min(r.text.len()))
        }
        StreamEvent::ToolCallDelta(d) => d.arguments.len(),
        _ => 0,
    }
}

impl TargetRun {
    /// Fold one event that arrived at `at`.
    pub fn apply(&mut self, at: Instant, event: &StreamEvent) {
        let later_round = !self.tool_rounds.finished.is_empty();
        if event.is_content() {
            self.content(at, content_len(event));
        }
        if let StreamEvent::TextRun(r) | StreamEvent::ReasoningRun(r) = event {
            let rest = r.text.len() - content_len(event);
            self.pieces_at_once(r.pieces.saturating_sub(1), rest);
        }
        match event {
            // A follow-up round keeps the first round's send, headers and request id.
            StreamEvent::Dispatched | StreamEvent::Started(_) if later_round => {}
            StreamEvent::Dispatched => {
                self.dispatched_at = Some(at);
                self.outcome = Some(Outcome::Running);
            }
            StreamEvent::Started(s) => {
                self.sent_at = Some(s.sent_at);
                self.connect = s.connect;
                self.headers_at = Some(at);
                self.http_status = Some(s.http_status);
                self.request_id.clone_from(&s.request_id);
                self.rate_limits.clone_from(&s.rate_limits);
            }
            StreamEvent::ResponseId(id) => {
                self.request_id.get_or_insert_with(|| id.clone());
            }
            StreamEvent::TextDelta(t) => self.answer(at, t),
            StreamEvent::TextRun(r) => self.answer(at, &r.text),
            StreamEvent::ReasoningDelta(t) => self.reasoning.push_str(t),
            StreamEvent::ReasoningRun(r) => self.reasoning.push_str(&r.text),
            StreamEvent::RefusalDelta(t) => self.refusal.get_or_insert_with(String::new).push_str(t),
            StreamEvent::ToolCallDelta(d) => self.tool_call(d),
            StreamEvent::Usage(u) => self.usage(u, later_round),
            StreamEvent::ToolRound(r) => self.tool_round(at, r),
            StreamEvent::Finish(f) => self.finish = Some(f.clone()),
            StreamEvent::Server(r) => self.server.get_or_insert_with(ServerReport::default).merge(r),
            StreamEvent::Note(n) => self.notes.push(n.clone()),
            StreamEvent::Done => self.end(at, Outcome::Done),
            StreamEvent::Failed(e) => self.end(at, Outcome::Failed((**e).clone())),
            StreamEvent::Cancelled => self.end(at, Outcome::Cancelled),
            StreamEvent::Retrying {
                attempt,
                of,
                wait,
                reason,
            } => {
                self.retries += 1;
                self.retry_note = Some((*attempt, *of, *wait, reason.clone()));
            }
        }
    }

    /// One content event of `len` bytes at `at`: its gap to the content before it.
    fn content(&mut self, at: Instant, len: usize) {
        self.content_bytes += len;
        match self.last_content_at {
            // A follow-up's first content: the wait for it is the round trip, not a gap.
            Some(prev) if self.tool_rounds.awaiting_content => {
                self.tool_rounds.awaiting_content = false;
                self.tool_rounds.paused += at.saturating_duration_since(prev);
            }
            Some(prev) => {
                // Events of one read share its arrival: no clock arithmetic for those.
                let gap = if at == prev {
                    Duration::ZERO
                } else {
                    at.saturating_duration_since(prev)
                };
                if gap < BURST_GAP {
                    self.burst_bytes += len;
                }
                self.gaps.push(gap);
            }
            None => self.first_content_at = Some(at),
        }
        self.last_content_at = Some(at);
        self.content_events += 1;
    }

    /// `n` more content events of `bytes` in all, in the same read as the one just
    /// counted: each 0 after the one before it, as if they had come one by one.
    fn pieces_at_once(&mut self, n: u32, bytes: usize) {
        if n == 0 {
            return;
        }
        self.content_bytes += bytes;
        self.burst_bytes += bytes;
        self.gaps.push_zeros(u64::from(n));
        self.content_events += n as usize;
    }

    fn answer(&mut self, at: Instant, text: &str) {
        if self.first_text_at.is_none() && !text.is_empty() {
            self.first_text_at = Some(at);
        }
        self.text.push_str(text);
    }

    fn tool_call(&mut self, d: &crate::provider::event::ToolCallDelta) {
        let index = self.tool_rounds.call_base + d.index;
        if self.tool_calls.len() <= index {
            self.tool_calls.resize_with(index + 1, ToolCall::default);
        }
        let call = &mut self.tool_calls[index];
        if d.id.is_some() {
            call.id.clone_from(&d.id);
        }
        if d.name.is_some() {
            call.name.clone_from(&d.name);
        }
        call.arguments.push_str(&d.arguments);
    }

    fn usage(&mut self, u: &Usage, later_round: bool) {
        self.tool_rounds.current.merge(u);
        let before = self
            .tool_rounds
            .finished
            .iter()
            .fold(Usage::default(), |sum, u| sum.plus(u));
        self.usage = if later_round {
            before.plus(&self.tool_rounds.current)
        } else {
            self.tool_rounds.current
        };
    }

    fn tool_round(&mut self, at: Instant, r: &crate::provider::event::ToolRound) {
        // The first round had ended: the run goes on from here.
        if let (true, Some(end)) = (self.is_finished(), self.ended_at) {
            self.tool_rounds.idle += at.saturating_duration_since(end);
            self.outcome = Some(Outcome::Running);
        }
        let rounds = &mut self.tool_rounds;
        rounds.finished.push(std::mem::take(&mut rounds.current));
        rounds.sent.push(r.clone());
        rounds.call_base = self.tool_calls.len();
        rounds.awaiting_content = self.last_content_at.is_some();
    }

    fn end(&mut self, at: Instant, outcome: Outcome) {
        self.ended_at = Some(at);
        self.outcome = Some(outcome);
        // A finished run is kept as long as its session is open, and a string grown by
        // doubling can hold as much again unused: up to 6-7 bytes a token of a long answer.
        self.text.shrink_to_fit();
        self.reasoning.shrink_to_fit();
    }

    /// The server's own timings, cost and generation id, when it reported any (shown
    /// beside Prism's measured TTFT, tokens/s and cost).
    pub fn server_report(&self) -> Option<&ServerReport> {
        self.server.as_ref()
    }

    /// Azure's content filter verdicts on the prompt and the answer, when the server sent
    /// any (kept in the server report, for the details view).
    pub fn content_filter(&self) -> Option<&ContentFilter> {
        self.server.as_ref()?.content_filter.as_deref()
    }

    /// Whether a terminal event has arrived.
    pub fn is_finished(&self) -> bool {
        matches!(
            self.outcome,
            Some(Outcome::Done | Outcome::Failed(_) | Outcome::Cancelled)
        )
    }

    /// The finish reason to report: the provider's, unless the stream failed or was
    /// cancelled first.
    pub fn finish_reason(&self) -> Option<(FinishReason, Option<&str>)> {
        match &self.outcome {
            Some(Outcome::Cancelled) => Some((FinishReason::Cancelled, None)),
            Some(Outcome::Failed(_)) => Some((
                FinishReason::Error,
                self.finish.as_ref().and_then(|f| f.raw.as_deref()),
            )),
            _ => self.finish.as_ref().map(|f| (f.reason, f.raw.as_deref())),
        }
    }

    fn since_sent(&self, at: Option<Instant>) -> Option<Duration> {
        Some(at?.saturating_duration_since(self.sent_at?))
    }

    /// Request sent → first content of any kind.
    pub fn ttft(&self) -> Option<Duration> {
        self.since_sent(self.first_content_at)
    }

    /// Request sent → first visible text.
    pub fn ttft_text(&self) -> Option<Duration> {
        self.since_sent(self.first_text_at)
    }

    /// Request sent → response headers.
    pub fn ttfb(&self) -> Option<Duration> {
        self.since_sent(self.headers_at)
    }

    /// Request sent → end of response, less any wait for a follow-up's dispatch after
    /// its round had ended.
    pub fn total(&self) -> Option<Duration> {
        Some(
            self.since_sent(self.ended_at)?
                .saturating_sub(self.tool_rounds.idle),
        )
    }

    /// Mean, median and 95th percentile of the gaps between content events: the mean
    /// exact, the percentiles exact up to [`super::itl_stats::EXACT_UP_TO`] gaps and
    /// within 1% beyond.
    pub fn itl(&self) -> Option<Spread> {
        Some(Spread {
            mean: self.gaps.mean_ms()?,
            p50: self.gaps.percentile_ms(0.50)?,
            p95: self.gaps.percentile_ms(0.95)?,
        })
    }

    /// Output tokens ÷ the span from first to last content event; `None` when the span is
    /// empty (one event, or a non-streamed body) or the count is unknown.
    pub fn tokens_per_s(&self, output_tokens: Option<u64>) -> Option<f64> {
        let span = self.content_span()?;
        let n = output_tokens?;
        (span > Duration::ZERO).then(|| n as f64 / span.as_secs_f64())
    }
}

impl TargetRun {
    /// First to last content event, less the waits between tool rounds.
    fn content_span(&self) -> Option<Duration> {
        let span = self
            .last_content_at?
            .saturating_duration_since(self.first_content_at?);
        Some(span.saturating_sub(self.tool_rounds.paused))
    }

    /// The longest silence between two content events.
    pub fn longest_gap(&self) -> Option<Duration> {
        self.gaps.max()
    }

    /// The share of content bytes that arrived within [`BURST_GAP`] of the content before
    /// them; `None` before a second content event.
    pub fn burst_share(&self) -> Option<f64> {
        (self.content_events >= 2 && self.content_bytes > 0)
            .then(|| self.burst_bytes as f64 / self.content_bytes as f64)
    }

    /// The mean time between output tokens, whatever the chunking: the span from first to
    /// last content event over the gaps between `output_tokens` tokens.
    pub fn itl_per_token(&self, output_tokens: Option<u64>) -> Option<Duration> {
        let span = self.content_span()?;
        let gaps = output_tokens?.checked_sub(1).filter(|&g| g > 0)?;
        (span > Duration::ZERO).then(|| span.div_f64(gaps as f64))
    }
}

#[cfg(test)]
mod tests;
