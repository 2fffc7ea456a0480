//! Re-run and compare: each target's recorded answer beside the one streaming now.
//!
//! Per target two panes: "name · recorded", filled at once from the recording (its
//! events folded with their recorded gaps, so its header shows the recorded numbers),
//! and "name · now", fed by a live fan-out. The new side's numbers become final once its
//! stream ends; they are then read from the same result row `prism run` prints, so the
//! deltas shown here equal the headless ones. The diff overlay compares the two texts
//! word by word.

use std::time::{Duration, Instant};

use super::app::{App, Focus};
use super::borrowed::Home;
use super::msg::Effect;
use super::pane::{PaneState, PaneStatus};
use super::workspace::{Overlay, Workspace};
use crate::engine::RunId;
use crate::keys::{Action, Mode};
use crate::session::Session;
use crate::session::compare::{Chunk, Side, similarity, word_diff};
use crate::session::replay::interrupted;
use crate::workflows::rerun::Entry;

/// The comparison on screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Compare {
    /// The recorded session's id.
    pub id: String,
    /// The turn sent again.
    pub turn: u32,
    /// One per target, in pane order.
    pub pairs: Vec<Pair>,
}

/// One target's two panes and what is known about each side.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    /// Target name.
    pub name: String,
    /// Pane showing the recording.
    pub recorded_pane: usize,
    /// Pane streaming the new answer.
    pub live_pane: usize,
    /// The recorded numbers and text.
    pub recorded: Side,
    /// The new request, exactly as recorded (for the new result row).
    pub request: crate::provider::request::ChatRequest,
    /// The new numbers, once the live stream ended.
    pub new: Option<Side>,
    /// Word similarity of the two answers, once the live stream ended.
    pub similarity: Option<f32>,
}

/// The diff overlay of one pair of a comparison, or of two panes picked with `D` (see
/// [`super::workspace::Overlay::Diff`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DiffView {
    /// Index into [`Compare::pairs`] (unused when `picked`).
    pub pair: usize,
    /// The two panes diffed, A then B, when they were picked rather than a pair.
    pub picked: Option<(usize, usize)>,
    /// Recorded → new (A → B), word by word.
    pub chunks: Vec<Chunk>,
    /// Share of words the same.
    pub similarity: f32,
    /// First line shown.
    pub scroll: u16,
    /// Lines of the wrapped diff and of the view, at the last frame (for scroll limits).
    pub lines: u16,
    /// Height of the view at the last frame.
    pub page: u16,
    /// Length of the new text the diff was computed from (it is redone as text arrives);
    /// of both texts when `picked`.
    pub of_len: usize,
    /// When it was computed (while the new side streams it is redone at most every
    /// [`DIFF_INTERVAL`]).
    pub at: Instant,
}

/// How often an open diff follows a streaming answer. A word diff of two long answers
/// can take hundreds of milliseconds, far too long to redo for every frame; a few times
/// a second still reads as live.
pub const DIFF_INTERVAL: Duration = Duration::from_millis(250);

/// Whether a pane's stream has ended (retries still to come do not count).
pub fn ended(status: PaneStatus) -> bool {
    matches!(
        status,
        PaneStatus::Done | PaneStatus::Error | PaneStatus::Cancelled
    )
}

impl App {
    /// Show `entries` of `session` for comparison: a recorded pane filled from the
    /// recording and an empty live pane per target, sends off. Returns cancellations
    /// for anything still streaming and the run id the live panes wait for, with
    /// `panes[i]` the live pane of `entries[i]`.
    pub fn begin_compare(
        &mut self,
        session: &Session,
        entries: &[Entry],
    ) -> (Vec<Effect>, RunId, Vec<usize>) {
        let home = self.workspace.take_home();
        self.show_compare(session, entries, home)
    }

    /// [`Self::begin_compare`], with `home` the workbench's own targets when the
    /// comparison borrows the panes.
    pub(super) fn show_compare(
        &mut self,
        session: &Session,
        entries: &[Entry],
        home: Option<Home>,
    ) -> (Vec<Effect>, RunId, Vec<usize>) {
        let effects = self.cancel_active();
        let recorded_run = RunId(self.run.0 + 1);
        let live_run = RunId(self.run.0 + 2);
        self.run = live_run;
        self.targets.clear();
        self.panes.clear();
        let mut pairs = Vec::new();
        let mut live = Vec::new();
        let base = self.now;
        for e in entries {
            let mut rec_target = e.recorded_target.clone();
            rec_target.name = format!("{} · recorded", e.recorded_target.name);
            let mut now_target = e.target.clone();
            now_target.name = format!("{} · now", e.recorded_target.name);
            let mut rec = PaneState::default();
            rec.start(recorded_run, base, &e.request);
            for (t, event) in &e.recorded.events {
                rec.apply(base + Duration::from_nanos(*t), &event.to_event(base));
            }
            if e.recorded.interrupted {
                let t = e.recorded.events.last().map_or(0, |(t, _)| *t);
                rec.apply(base + Duration::from_nanos(t), &interrupted().to_event(base));
            }
            let mut now = PaneState::default();
            now.start(live_run, self.now, &e.request);
            pairs.push(Pair {
                name: e.recorded_target.name.clone(),
                recorded_pane: self.panes.len(),
                live_pane: self.panes.len() + 1,
                recorded: Side::of_row(&e.recorded_row),
                request: e.request.clone(),
                new: None,
                similarity: None,
            });
            live.push(self.panes.len() + 1);
            self.targets.extend([rec_target, now_target]);
            self.panes.extend([rec, now]);
        }
        let n = self.targets.len();
        self.enabled = vec![true; n];
        self.pane_areas.clear();
        self.zoomed = None;
        self.overlay.close_pane_views();
        self.reset_board();
        self.conversation = super::conversation::Conversation::new(n);
        self.session_open = false;
        let turn = session.turns.last();
        let number = turn.map_or(0, |t| t.number);
        self.show_sent(
            turn.map_or("", |t| t.prompt.as_str()),
            turn.and_then(|t| t.system.clone()),
        );
        self.focus = if n > 1 { Focus::Pane(1) } else { Focus::Prompt };
        let diff_key = self
            .keymap
            .hint(Mode::Panes, Action::Diff)
            .map_or(String::new(), |k| format!(" · {k}: word diff"));
        self.status = format!(
            "rerun {} · turn {number}/{} · recorded vs now{diff_key}",
            session.meta.id,
            session.turns.len()
        );
        self.workspace = Workspace::Compare {
            compare: Compare {
                id: session.meta.id.clone(),
                turn: number,
                pairs,
            },
            home,
        };
        self.dirty = true;
        (effects, live_run, live)
    }

    /// Settle what a finished live stream makes final: its result row and the
    /// similarity. Called when a stream ends.
    pub(super) fn settle_compare(&mut self) {
        let Workspace::Compare { compare, .. } = &mut self.workspace else {
            return;
        };
        for pair in &mut compare.pairs {
            let (Some(pane), Some(target)) =
                (self.panes.get(pair.live_pane), self.targets.get(pair.live_pane))
            else {
                continue;
            };
            if pair.new.is_some() || !ended(pane.status) {
                continue;
            }
            let row = crate::report::row(target, &pair.request, &pane.metrics, &self.prices);
            let side = Side::of_row(&row);
            pair.similarity = Some(similarity(&pair.recorded.text, &side.text));
            pair.new = Some(side);
            self.dirty = true;
        }
    }

    /// Redo an open diff whose new text changed since it was computed: at once when the
    /// live stream has ended, otherwise once [`DIFF_INTERVAL`] has passed.
    pub fn refresh_diff(&mut self) {
        self.refresh_picked_diff();
        let now = self.now;
        if let Overlay::Diff(view) = &mut self.overlay
            && view.picked.is_none()
            && let Some(compare) = self.workspace.compare()
            && let Some(pair) = compare.pairs.get(view.pair)
            && let Some(pane) = self.panes.get(pair.live_pane)
            && pane.metrics.text.len() != view.of_len
            && (ended(pane.status) || now.saturating_duration_since(view.at) >= DIFF_INTERVAL)
        {
            *view = diff_view(view.pair, pair, &pane.metrics.text, view.scroll, now);
        }
    }

    /// Open the diff overlay for the target of pane `focused`; outside a comparison, mark
    /// or diff two panes (see [`super::pick_diff`]).
    pub fn open_diff(&mut self, focused: Option<usize>) -> Vec<Effect> {
        let Some(compare) = self.workspace.compare() else {
            return self.pick_diff(focused);
        };
        let Some(i) = focused else {
            self.notice = Some("focus a pane first (tab), then D".into());
            return Vec::new();
        };
        let Some(k) = compare
            .pairs
            .iter()
            .position(|p| p.recorded_pane == i || p.live_pane == i)
        else {
            return Vec::new();
        };
        let pair = &compare.pairs[k];
        let text = self
            .panes
            .get(pair.live_pane)
            .map(|p| p.metrics.text.clone())
            .unwrap_or_default();
        self.overlay = Overlay::Diff(diff_view(k, pair, &text, 0, self.now));
        Vec::new()
    }

    /// Keys while the diff overlay is open: scrolling scrolls it, quit quits, any other
    /// key closes it. `None` when no overlay is open.
    pub fn diff_key(&mut self, action: Option<Action>) -> Option<Vec<Effect>> {
        let Overlay::Diff(view) = &mut self.overlay else {
            return None;
        };
        let max = view.lines.saturating_sub(view.page);
        let page = view.page.max(2) - 1;
        view.scroll = match action {
            Some(Action::Quit) => return Some(vec![Effect::Quit]),
            Some(Action::ScrollDown) => view.scroll.saturating_add(1),
            Some(Action::ScrollUp) => view.scroll.saturating_sub(1),
            Some(Action::PageDown) => view.scroll.saturating_add(page),
            Some(Action::PageUp) => view.scroll.saturating_sub(page),
            Some(Action::Top) => 0,
            Some(Action::Bottom) => max,
            _ => {
                self.overlay = Overlay::None;
                return Some(Vec::new());
            }
        }
        .min(max);
        Some(Vec::new())
    }
}

fn diff_view(pair_index: usize, pair: &Pair, new_text: &str, scroll: u16, at: Instant) -> DiffView {
    DiffView {
        pair: pair_index,
        picked: None,
        chunks: word_diff(&pair.recorded.text, new_text),
        similarity: similarity(&pair.recorded.text, new_text),
        scroll,
        lines: u16::MAX,
        page: 1,
        of_len: new_text.len(),
        at,
    }
}
