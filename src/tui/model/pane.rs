//! One pane: a (target, prompt variant) pair's live state, its rendered text, and its
//! scroll position.
//!
//! The pane body is a virtual list of lines: the history (earlier turns, one summary line
//! when collapsed, and this turn's prompt), the reasoning section (one summary line when
//! collapsed), the answer, then tool calls (see [`super::tool_calls`]) and the error. Only the visible slice is ever
//! materialised for a frame, so scrolling is independent of the answer's length.

use std::time::Instant;

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::pane_history::{Looks, PaneHistory};
use super::tool_calls::ToolCallBlocks;
use crate::engine::RunId;
use crate::engine::metrics::{Outcome, TargetRun};
use crate::provider::event::{FinishReason, StreamEvent};
use crate::provider::request::ChatRequest;
use crate::tokens::LiveCounter;
use crate::tui::render::{Doc, DocStyles};

/// Where a pane's request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaneStatus {
    /// Nothing sent yet.
    Idle,
    /// Sent requested; waiting for the release of all targets.
    Queued,
    /// Dispatched; connecting and waiting for response headers.
    Connecting,
    /// Headers received; no content yet.
    Waiting,
    /// An attempt failed before any content; waiting to try again.
    Retrying,
    /// Content is arriving.
    Streaming,
    /// Finished after the provider's end marker.
    Done,
    /// Failed; partial text kept.
    Error,
    /// Cancelled by the user; partial text kept.
    Cancelled,
}

impl PaneStatus {
    /// Label shown in the pane header.
    pub fn label(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Queued => "queued",
            Self::Connecting => "connecting",
            Self::Waiting => "waiting for first token",
            Self::Retrying => "retrying",
            Self::Streaming => "streaming",
            Self::Done => "done",
            Self::Error => "error",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether the request is still in flight.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            Self::Queued | Self::Connecting | Self::Waiting | Self::Streaming
        )
    }
}

/// How the body's own lines look; the answer brings its own styles.
#[derive(Debug, Clone, Default)]
pub struct BodyLooks {
    /// The history: the prompt line and the earlier turns.
    pub history: Looks,
    /// Reasoning text and its summary line.
    pub reasoning: Style,
    /// Tool calls and the error.
    pub error: Style,
}

/// A pane's state.
pub struct PaneState {
    /// The run this pane's current content belongs to.
    pub run: Option<RunId>,
    /// Request state.
    pub status: PaneStatus,
    /// Everything measured so far.
    pub metrics: TargetRun,
    /// The answer, rendered as markdown.
    pub answer: Doc,
    /// The reasoning, rendered as plain text.
    pub reasoning: Doc,
    /// Whether reasoning is expanded.
    pub reasoning_open: bool,
    /// What the target was asked this turn and the earlier turns it was shown.
    pub history: PaneHistory,
    /// Exact o200k counts of what arrived, updated per delta (answer, reasoning, tool
    /// arguments): the live estimate until the provider's usage arrives.
    pub counters: [LiveCounter; 3],
    /// Index of the top visible body line.
    pub scroll: usize,
    /// Keep the newest text in view.
    pub follow: bool,
    /// Body height at the last layout, for paging and follow-tail.
    pub viewport: usize,
    /// When Send was pressed, for the elapsed clock.
    pub queued_at: Option<Instant>,
    /// The tool calls, each its own block; brought up to date once per frame.
    tools: ToolCallBlocks,
    tools_dirty: bool,
    /// The refusal, notes and the error, wrapped like the answer; rebuilt when they change.
    tail: Doc,
    tail_dirty: bool,
}

impl Default for PaneState {
    fn default() -> Self {
        Self {
            run: None,
            status: PaneStatus::Idle,
            metrics: TargetRun::default(),
            answer: Doc::new(true),
            reasoning: Doc::new(false),
            reasoning_open: false,
            history: PaneHistory::default(),
            counters: Default::default(),
            scroll: 0,
            follow: true,
            viewport: 0,
            queued_at: None,
            tools: ToolCallBlocks::default(),
            tools_dirty: false,
            tail: Doc::new(false),
            tail_dirty: false,
        }
    }
}

impl PaneState {
    /// Clear for a new run of `request`.
    pub fn start(&mut self, run: RunId, now: Instant, request: &ChatRequest) {
        let mut history = std::mem::take(&mut self.history);
        history.show(request);
        *self = Self {
            run: Some(run),
            status: PaneStatus::Queued,
            queued_at: Some(now),
            reasoning_open: self.reasoning_open,
            history,
            ..Self::default()
        };
    }

    /// Show or hide the earlier turns. Opening shows them from the first; closing keeps
    /// the same text in view.
    pub fn toggle_history(&mut self) {
        let before = self.history.line_count();
        let open = !self.history.is_open();
        self.history.set_open(open);
        if open {
            self.scroll = 0;
            self.follow = false;
        } else {
            let gone = before.saturating_sub(self.history.line_count());
            self.scroll = self.scroll.saturating_sub(gone);
        }
    }

    /// Fold one event of this pane's run.
    pub fn apply(&mut self, at: Instant, event: &StreamEvent) {
        self.metrics.apply(at, event);
        match event {
            StreamEvent::Dispatched => self.status = PaneStatus::Connecting,
            StreamEvent::Started(_) => self.status = PaneStatus::Waiting,
            StreamEvent::TextDelta(t) => {
                self.answer.push_str(t);
                self.counters[0].push(t);
            }
            StreamEvent::TextRun(r) => {
                self.answer.push_str(&r.text);
                self.counters[0].push(&r.text);
            }
            StreamEvent::ReasoningDelta(t) => {
                self.reasoning.push_str(t);
                self.counters[1].push(t);
            }
            StreamEvent::ReasoningRun(r) => {
                self.reasoning.push_str(&r.text);
                self.counters[1].push(&r.text);
            }
            StreamEvent::RefusalDelta(t) => {
                // Counted with the answer (providers bill it as output), shown apart.
                self.counters[0].push(t);
                self.tail_dirty = true;
            }
            StreamEvent::Finish(f) => {
                self.tail_dirty |= f.reason == FinishReason::Refusal;
                // Every argument has arrived: the calls are complete.
                self.tools_dirty = true;
            }
            StreamEvent::ToolCallDelta(d) => {
                self.counters[2].push(&d.arguments);
                self.tools_dirty = true;
            }
            StreamEvent::Done => {
                self.status = PaneStatus::Done;
                self.tools_dirty = true;
            }
            StreamEvent::Failed(_) => {
                self.status = PaneStatus::Error;
                self.tail_dirty = true;
                self.tools_dirty = true;
            }
            StreamEvent::Cancelled => {
                self.status = PaneStatus::Cancelled;
                self.tools_dirty = true;
            }
            StreamEvent::Retrying { .. } => self.status = PaneStatus::Retrying,
            StreamEvent::Note(_) | StreamEvent::ToolRound(_) => self.tail_dirty = true,
            StreamEvent::Usage(_) | StreamEvent::ResponseId(_) | StreamEvent::Server(_) => {}
        }
        if event.is_content() && self.status == PaneStatus::Waiting {
            self.status = PaneStatus::Streaming;
        }
    }

    /// The local o200k count of everything produced, once the tables are loaded.
    pub fn local_estimate(&self) -> Option<u64> {
        let counts: Option<Vec<usize>> = self.counters.iter().map(LiveCounter::count).collect();
        counts
            .map(|c| c.iter().sum::<usize>() as u64)
            .filter(|_| self.metrics.content_events > 0)
    }

    /// Output tokens to show: the provider's count when known (exact), else the live
    /// estimate (marked `~` by the view).
    pub fn output_tokens(&self) -> (Option<u64>, bool) {
        match self.metrics.usage.output {
            Some(n) => (Some(n), false),
            None => (self.local_estimate(), true),
        }
    }

    /// Re-render what changed for the body `width`.
    pub fn prepare(&mut self, width: u16, styles: &DocStyles) {
        self.prepare_until(width, styles, None);
    }

    /// [`Self::prepare`], but new answer and reasoning text waits for a later call once
    /// `deadline` has passed. Whether everything is laid out.
    pub fn prepare_until(&mut self, width: u16, styles: &DocStyles, deadline: Option<Instant>) -> bool {
        // Earlier turns are static and built once per width: not worth a deadline.
        self.history.prepare(width, styles);
        let mut done = self.answer.prepare_until(width, styles, deadline);
        if self.reasoning_open {
            done &= self.reasoning.prepare_until(width, styles, deadline);
        }
        if self.tools_dirty {
            // Synced at most once per frame, not per delta.
            let ended = self.metrics.finish.is_some()
                || !matches!(self.metrics.outcome, None | Some(Outcome::Running));
            self.tools.sync(&self.metrics.tool_calls, ended);
            self.tools_dirty = false;
        }
        done &= self.tools.prepare_until(width, styles, deadline);
        if self.tail_dirty {
            // Rebuilt at most once per frame, not per delta.
            self.tail.clear();
            self.tail.push_str(&self.tail_text());
            self.tail_dirty = false;
        }
        self.tail.prepare(width, styles);
        done
    }

    fn reasoning_lines(&self) -> usize {
        match (self.reasoning.text().is_empty(), self.reasoning_open) {
            (true, _) => 0,
            (false, false) => 1,
            (false, true) => 1 + self.reasoning.line_count(),
        }
    }

    fn tail_text(&self) -> String {
        let mut out = String::new();
        if let Some(line) = self.refusal_line() {
            out.push_str(&line);
            out.push('\n');
        }
        for note in &self.metrics.notes {
            out.push_str(&format!("ⓘ {note}\n"));
        }
        if let Some(Outcome::Failed(e)) = &self.metrics.outcome {
            out.push_str(&format!("✗ {}: {}\n", e.kind.as_str(), e.message));
        }
        out
    }

    /// The refusal, set apart from the answer: the provider's refusal message, or (an
    /// Anthropic refusal, which has none) the finish reason's word for it.
    pub fn refusal_line(&self) -> Option<String> {
        let refused = self
            .metrics
            .finish
            .as_ref()
            .is_some_and(|f| f.reason == FinishReason::Refusal);
        match self.metrics.refusal.as_deref() {
            Some(text) => Some(format!("⊘ refused: {text}")),
            None if refused => {
                Some("⊘ refused: the model declined to continue (finish reason `refusal`)".into())
            }
            None => None,
        }
    }

    /// The first body line after the answer (tool calls, notes, the error), which
    /// carries text from the provider rather than the answer.
    pub fn tail_start(&self) -> usize {
        self.history.line_count() + self.reasoning_lines() + self.answer.line_count()
    }

    /// Total body lines at the last prepared width.
    pub fn body_len(&self) -> usize {
        self.tail_start() + self.tools.line_count() + self.tail.line_count()
    }

    /// The visible body lines for a viewport of `height` at the current scroll.
    pub fn visible(&self, height: usize, looks: &BodyLooks) -> Vec<Line<'static>> {
        self.rows(self.scroll..self.scroll + height, looks)
    }

    /// The body lines in `wanted` (counted from the top of the body), whatever the scroll.
    pub fn rows(&self, wanted: std::ops::Range<usize>, looks: &BodyLooks) -> Vec<Line<'static>> {
        let mut out = Vec::with_capacity(wanted.len());
        // Each section's rows in body coordinates; only the overlap with `wanted` is built.
        let mut from = 0;
        let mut section = |len: usize| {
            let range = from..from + len;
            from += len;
            let lo = range.start.max(wanted.start);
            let hi = range.end.min(wanted.end);
            (lo < hi).then(|| lo - range.start..hi - range.start)
        };
        if let Some(r) = section(self.history.line_count()) {
            out.extend(self.history.lines(r, &looks.history));
        }
        if let Some(r) = section(self.reasoning_lines()) {
            for index in r {
                if index == 0 {
                    let arrow = if self.reasoning_open { "▾" } else { "▸" };
                    let chars = self.reasoning.text().chars().count();
                    out.push(Line::from(Span::styled(
                        format!("{arrow} reasoning · {chars} chars"),
                        looks.reasoning,
                    )));
                } else {
                    let l = self.reasoning.lines(index - 1..index);
                    out.extend(l.iter().map(|l| l.clone().patch_style(looks.reasoning)));
                }
            }
        }
        if let Some(r) = section(self.answer.line_count()) {
            out.extend(self.answer.lines(r).iter().cloned());
        }
        if let Some(r) = section(self.tools.line_count()) {
            out.extend(self.tools.lines(r).iter().cloned());
        }
        if let Some(r) = section(self.tail.line_count()) {
            out.extend(
                self.tail
                    .lines(r)
                    .iter()
                    .map(|l| l.clone().patch_style(looks.error)),
            );
        }
        out
    }

    /// Scroll by `delta` lines; scrolling up stops following, reaching the bottom resumes.
    pub fn scroll_by(&mut self, delta: isize) {
        let max = self.body_len().saturating_sub(self.viewport);
        let target = (self.scroll as isize + delta).clamp(0, max as isize) as usize;
        self.scroll = target;
        self.follow = target >= max;
    }

    /// Keep the view pinned to the bottom while following; clamp otherwise.
    pub fn settle(&mut self, viewport: usize) {
        self.viewport = viewport;
        let max = self.body_len().saturating_sub(viewport);
        if self.follow || self.scroll > max {
            self.scroll = max;
        }
    }
}
