//! The workbench model and its pure `update`: messages in, state changes and effects out.
//! No I/O happens here, so every interaction is tested without a terminal or a network.

use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyEventKind};
use ratatui::layout::Rect;
use ratatui_textarea::TextArea;

use super::conversation::Conversation;
use super::msg::{Effect, Msg};
use super::pane::{PaneState, PaneStatus};
use super::workspace::{Overlay, Workspace};
use crate::engine::RunId;
use crate::pricing::{Picodollars, PriceTable};
use crate::provider::event::StreamEvent;
use crate::target::{ProviderKind, Target};
use crate::tui::input::keymap::Keymap;
use crate::tui::theme::Theme;

/// How long a notice stays in the status bar once drawn.
pub const NOTICE_TTL: Duration = Duration::from_secs(8);

/// What has keyboard focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The prompt editor.
    Prompt,
    /// The system prompt editor (when shown).
    System,
    /// A pane.
    Pane(usize),
}

/// The whole workbench state. The loop is its only owner; code outside the crate reads it
/// through accessors and changes it through [`App::update`] and [`App::act`].
pub struct App {
    /// Targets in config order; pane `i` shows target `i`.
    pub(crate) targets: Vec<Target>,
    /// Whether target `i` takes part in the next send.
    pub(crate) enabled: Vec<bool>,
    /// One pane per target.
    pub(crate) panes: Vec<PaneState>,
    /// The prompt.
    pub(crate) prompt: TextArea<'static>,
    /// The system prompt.
    pub(crate) system: TextArea<'static>,
    /// Whether the system prompt field is shown.
    pub(crate) show_system: bool,
    /// Keyboard focus.
    pub(crate) focus: Focus,
    /// The zoomed pane, if any.
    pub(crate) zoomed: Option<usize>,
    /// What the panes show: the workbench's own targets, a replay or a comparison.
    pub(crate) workspace: Workspace,
    /// What is drawn over the panes and takes the keys.
    pub(crate) overlay: Overlay,
    /// Bindings.
    pub(crate) keymap: Keymap,
    /// Colours.
    pub(crate) theme: Theme,
    /// The time zone saved sessions' times are shown in, found when one is first shown
    /// (see [`App::zone`]).
    pub(crate) zone: crate::session::local_time::LazyZone,
    /// The newest run id handed out; each pane drops events of runs other than its own.
    pub(crate) run: RunId,
    /// Every pane's own conversation, and what each was last sent (for retrying it).
    pub(crate) conversation: Conversation,
    /// A session is being saved for this conversation (the next send adds to it).
    pub(crate) session_open: bool,
    /// The id of the session being saved, once the disk confirmed it.
    pub(crate) session_id: Option<String>,
    /// The targets the workbench started with: a session whose target has the same
    /// settings gets this one back, with its retries, timeouts and counter.
    pub(crate) config_targets: Vec<Target>,
    /// Where the running demo serves each provider kind: a session the demo saved is
    /// sent there again, whatever port it had then.
    pub(crate) demo_urls: Vec<(ProviderKind, String)>,
    /// Status bar text: where the targets come from, warnings, the last notice.
    pub(crate) status: String,
    /// A transient notice (copy done, nothing to send...); it goes [`NOTICE_TTL`] after
    /// it was first drawn.
    pub(crate) notice: Option<String>,
    /// The notice on screen and since when (see [`App::age_notice`]).
    pub(crate) notice_shown: Option<(String, Instant)>,
    /// A shorter form of the status text for every frame after the first, as long as the
    /// status is still the text it shortens: (long, brief).
    pub(crate) status_brief: Option<(String, String)>,
    /// Frames drawn so far: a long status text shows in full in the first only.
    pub(crate) frames: u64,
    /// Something visible changed since the last frame.
    pub(crate) dirty: bool,
    /// Pane rectangles at the last frame, for mouse hit-testing.
    pub(crate) pane_areas: Vec<Option<Rect>>,
    /// The page of panes on screen and how many pages there are, when the terminal is
    /// too low for all of them (focus moving onto a pane brings its page).
    pub(crate) pane_page: (usize, usize),
    /// The details view's first line shown, and how many lines it shows (set each frame).
    pub(crate) details_scroll: (usize, usize),
    /// How long one layout pass may spend on newly arrived text; `None` lays out all of
    /// it, so a single frame (a test, a snapshot) shows everything. The event loop sets
    /// a budget.
    pub(crate) layout_budget: Option<Duration>,
    /// The last layout pass ran out of budget with text still waiting.
    pub(crate) layout_pending: bool,
    /// The pane the next layout pass starts with, so that every pane gets its turn.
    pub(crate) layout_next: usize,
    /// The time frames are drawn for: the loop's clock, or the one [`Msg::Tick`] set.
    pub(crate) now: Instant,
    /// Prices and context windows.
    pub(crate) prices: PriceTable,
    /// What live sends have cost in this budget window (since start or the last new
    /// conversation), and whether any part was estimated. Recordings played back cost
    /// nothing and never count; `budget_usd` is checked against this.
    pub(crate) spent: (Picodollars, bool),
    /// The one-time notice about models without a price was shown.
    pub(crate) warned_unpriced: bool,
    /// Refuse sends whose worst case would take [`Self::spent`] past this (USD).
    pub(crate) budget_usd: Option<f64>,
    /// Ask before a send whose worst case is above this (USD).
    pub(crate) confirm_above_usd: Option<f64>,
    /// The request whose expensive send was announced; sending it again confirms.
    pub(crate) awaiting_confirm: Option<String>,
    /// Pre-flight of the prompt as typed, per target (brought up to date before frames).
    pub(crate) preflight: super::prompt_check::PromptCheck,
    /// Prompts sent, for `Up` in an empty editor.
    pub(crate) recall: super::recall::Recall,
    /// Blind mode and the vote on the last send.
    pub(crate) blind: super::blind::Blind,
    /// Where blind mode's shuffles come from (seeded by tests for a fixed order).
    pub(crate) rng: fastrand::Rng,
    /// Every finished run and vote of this session, for the scoreboard.
    pub(crate) score_log: super::scoreboard::ScoreLog,
    /// The pane marked as side A of a diff of two panes.
    pub(crate) diff_mark: Option<usize>,
    /// The prompt variants, the case table and the experiment settings.
    pub(crate) variants: super::variants::Variants,
    /// The JSON Schema typed in the workbench for the next sends (alt-j).
    pub(crate) inline_schema: super::inline_schema::InlineSchema,
    /// Tool results typed in the workbench for a follow-up round (alt-t).
    pub(crate) typed_results: super::typed_results::TypedResults,
    /// The experiment grid, once an experiment was sent.
    pub(crate) grid: Option<super::grid::Grid>,
    /// Runs in flight at once in an experiment.
    pub(crate) limits: crate::workflows::experiment::limits::Limits,
}

impl App {
    /// A workbench for `targets`, with the built-in prices and no budget; the `with_`
    /// methods change those.
    pub fn new(targets: Vec<Target>, keymap: Keymap, theme: Theme, status: String) -> Self {
        let n = targets.len();
        let mut prompt = TextArea::default();
        prompt.set_placeholder_text(keymap.first_prompt_hint());
        let mut system = TextArea::default();
        system.set_placeholder_text("System prompt (optional)");
        Self {
            config_targets: targets.clone(),
            targets,
            enabled: vec![true; n],
            panes: (0..n).map(|_| PaneState::default()).collect(),
            prompt,
            system,
            show_system: false,
            focus: Focus::Prompt,
            zoomed: None,
            workspace: Workspace::Live,
            overlay: Overlay::None,
            keymap,
            theme,
            zone: Default::default(),
            run: RunId(0),
            conversation: Conversation::new(n),
            session_open: false,
            session_id: None,
            demo_urls: Vec::new(),
            status,
            notice: None,
            notice_shown: None,
            status_brief: None,
            frames: 0,
            dirty: true,
            pane_areas: Vec::new(),
            pane_page: (0, 1),
            details_scroll: (0, 0),
            layout_budget: None,
            layout_pending: false,
            layout_next: 0,
            now: Instant::now(),
            prices: PriceTable::builtin().unwrap_or_default(),
            spent: (0, false),
            warned_unpriced: false,
            budget_usd: None,
            confirm_above_usd: None,
            awaiting_confirm: None,
            preflight: Default::default(),
            recall: Default::default(),
            blind: Default::default(),
            rng: fastrand::Rng::new(),
            score_log: Default::default(),
            diff_mark: None,
            variants: Default::default(),
            inline_schema: Default::default(),
            typed_results: Default::default(),
            grid: None,
            limits: Default::default(),
        }
    }

    /// Show `brief` instead of the status text after the first frame (the demo's status
    /// explains itself once, then leaves room for the session's numbers).
    #[must_use]
    pub fn with_brief_status(mut self, brief: String) -> Self {
        self.status_brief = Some((self.status.clone(), brief));
        self
    }

    /// Shuffle blind mode's orders from `seed`, so that the same seed shows the same
    /// order (tests, snapshots).
    #[must_use]
    pub fn with_blind_seed(mut self, seed: u64) -> Self {
        self.rng = fastrand::Rng::with_seed(seed);
        self
    }

    /// Start with blind mode on (`--blind`).
    #[must_use]
    pub fn with_blind(mut self, on: bool) -> Self {
        if on != self.blind.on {
            self.toggle_blind();
            self.notice = None;
        }
        self
    }

    /// Show saved sessions' times in `zone` instead of the system's.
    #[must_use]
    pub fn with_time_zone(mut self, zone: crate::session::local_time::TimeZone) -> Self {
        self.zone = crate::session::local_time::LazyZone::fixed(zone);
        self
    }

    /// The time zone saved sessions' times are shown in: the one given to
    /// [`App::with_time_zone`], else the system's, read the first time a time is shown
    /// rather than before the first frame.
    pub fn zone(&self) -> &crate::session::local_time::TimeZone {
        self.zone.get()
    }

    /// Cost sends and check prompts against `prices` (the config's) instead of the
    /// built-in table.
    #[must_use]
    pub fn with_prices(mut self, prices: PriceTable) -> Self {
        self.prices = prices;
        self
    }

    /// Refuse sends whose worst case would take what was spent since the last new
    /// conversation past `usd` (`budget_usd`).
    #[must_use]
    pub fn with_budget(mut self, usd: Option<f64>) -> Self {
        self.budget_usd = usd;
        self
    }

    /// Ask before a send whose worst case is above `usd` (`confirm_above_usd`).
    #[must_use]
    pub fn with_confirm_above(mut self, usd: Option<f64>) -> Self {
        self.confirm_above_usd = usd;
        self
    }

    /// Where the running demo serves each provider kind, for sessions the demo saved.
    #[must_use]
    pub fn with_demo_urls(mut self, urls: Vec<(ProviderKind, String)>) -> Self {
        self.demo_urls = urls;
        self
    }

    /// How long one layout pass may spend on newly arrived text; `None` lays out all of
    /// it in the next frame. The event loop sets a budget so typing stays live.
    pub fn set_layout_budget(&mut self, budget: Option<Duration>) {
        self.layout_budget = budget;
    }

    /// Whether any pane is in flight.
    pub fn animating(&self) -> bool {
        self.busy()
    }

    /// Whether the loop should tick: a pane is in flight, or a notice waits to go.
    pub fn wants_tick(&self) -> bool {
        self.busy() || self.notice.is_some()
    }

    /// Note when the notice was first drawn, and drop it once it has been on screen for
    /// [`NOTICE_TTL`]. Whether it went.
    pub fn age_notice(&mut self) -> bool {
        let Some(notice) = &self.notice else {
            self.notice_shown = None;
            return false;
        };
        match &self.notice_shown {
            Some((shown, since)) if shown == notice => {
                if self.now.saturating_duration_since(*since) < NOTICE_TTL {
                    return false;
                }
                self.notice = None;
                self.notice_shown = None;
                true
            }
            _ => {
                self.notice_shown = Some((notice.clone(), self.now));
                false
            }
        }
    }

    /// The status text as the status bar shows it: after the first frame, the brief form
    /// when there is one (see [`App::with_brief_status`]).
    pub fn status_text(&self) -> &str {
        match &self.status_brief {
            Some((long, brief)) if self.frames > 1 && *long == self.status => brief,
            _ => &self.status,
        }
    }

    /// Whether a pane or an experiment cell is in flight.
    fn busy(&self) -> bool {
        self.panes.iter().any(|p| p.status.is_active())
            || self
                .grid
                .as_ref()
                .is_some_and(|g| g.panes.iter().any(|p| p.status.is_active()))
    }

    /// Limit the runs an experiment has in flight at once (the config's
    /// `max_concurrency`).
    #[must_use]
    pub fn with_limits(mut self, limits: crate::workflows::experiment::limits::Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Apply one message.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Term(Event::Key(key)) if key.kind != KeyEventKind::Release => self.key(key),
            Msg::Term(Event::Mouse(m)) => {
                self.mouse(m);
                Vec::new()
            }
            Msg::Term(Event::Paste(text)) => {
                let editor = if self.typed_results.editor.is_some() {
                    self.typed_results.editor.as_mut()
                } else if self.inline_schema.editor.is_some() {
                    self.inline_schema.editor.as_mut()
                } else if self.variants.cases_editor.is_some() {
                    self.variants.cases_editor.as_mut()
                } else {
                    self.editor_mut()
                };
                if let Some(editor) = editor {
                    editor.insert_str(text.replace("\r\n", "\n").replace('\r', "\n"));
                }
                self.dirty = true;
                Vec::new()
            }
            Msg::Term(Event::Resize(..)) => {
                self.dirty = true;
                Vec::new()
            }
            Msg::Term(_) => Vec::new(),
            Msg::Stream { pane, env } => {
                if self.panes.get(pane).is_some_and(|p| p.run == Some(env.run)) {
                    self.apply_event(pane, env.at, &env.event);
                }
                Vec::new()
            }
            Msg::Tick(at) => {
                self.now = at;
                // A tick kept only for a notice's time-out redraws when it goes.
                let expired = self.age_notice();
                if self.busy() || expired {
                    self.dirty = true;
                }
                Vec::new()
            }
            Msg::EditorClosed(Ok(text)) => {
                self.prompt = TextArea::from(text.lines().map(str::to_string).collect::<Vec<_>>());
                self.focus = Focus::Prompt;
                self.dirty = true;
                Vec::new()
            }
            Msg::EditorClosed(Err(why)) => {
                self.notice = Some(why);
                self.dirty = true;
                Vec::new()
            }
            Msg::Signal(_) => vec![Effect::Quit],
            Msg::Replay(cue) => self.replay_cue(cue),
            Msg::Borrowed(answer) => self.on_borrowed(answer),
            Msg::Cell {
                launch,
                run,
                at,
                event,
            } => {
                self.on_cell(launch, run, at, &event);
                Vec::new()
            }
            Msg::CellsEnded(launch) => {
                self.cells_ended(launch);
                Vec::new()
            }
            msg => self.session_msg(msg),
        }
    }

    /// Fold one event of pane `i`'s current run; when its stream ends, count what a live
    /// one cost and file its answer in its conversation.
    pub(super) fn apply_event(&mut self, i: usize, at: Instant, event: &StreamEvent) {
        if matches!(event, StreamEvent::ToolRound(_)) && self.panes[i].metrics.is_finished() {
            self.reopen(i, at);
        }
        self.panes[i].apply(at, event);
        self.dirty = true;
        if event.is_terminal() {
            // A follow-up's end prices both rounds: the first was counted when it ended.
            let counted = self.typed_results.counted.remove(&i).unwrap_or(0);
            if self.is_live(i)
                && let Some((cost, estimated)) = self.pane_cost(i)
            {
                self.spent.0 = (self.spent.0 + cost).saturating_sub(counted);
                self.spent.1 |= estimated;
            }
            let p = &self.panes[i];
            self.conversation
                .settle(i, p.status == PaneStatus::Done, p.answer.text());
            self.settle_compare();
            self.log_run(i);
        }
    }

    /// Whether pane `i` shows a request sent now, whose cost is money spent: not a replay's
    /// pane, nor the recorded side of a comparison (its live side is a real send).
    pub fn is_live(&self, i: usize) -> bool {
        match &self.workspace {
            Workspace::Live => true,
            Workspace::Replay { .. } => false,
            Workspace::Compare { compare, .. } => compare.pairs.iter().any(|p| p.live_pane == i),
        }
    }

    /// Start a new budget window: nothing is spent in it yet.
    pub(super) fn new_budget_window(&mut self) {
        self.spent = (0, false);
        self.awaiting_confirm = None;
    }

    /// Bring up to date what frames show that is worked out from the model rather than
    /// held in it: the pre-flight of the prompt as typed and an open word diff. Each
    /// redoes only what its inputs changed; called once before each frame, so the keys
    /// and events taken in since the last one are worked in together.
    pub fn refresh_derived(&mut self) {
        self.refresh_preflight();
        self.refresh_diff();
    }

    /// Bring the pre-flight of the prompt as typed up to date with the editors, the
    /// conversation, the targets and the prices; never waits for the tokenizer tables
    /// (upper bounds stand in until they load). Only text not counted before is counted
    /// (see [`super::prompt_check::PromptCheck`]).
    pub fn refresh_preflight(&mut self) {
        self.preflight.refresh(
            &self.targets,
            &self.conversation,
            self.prompt.lines(),
            self.system.lines(),
            &self.prices,
        );
    }

    /// Cost of pane `i` so far: provider counts where known, the live local count for
    /// output otherwise (then `estimated`). `None` without a price or an input count.
    pub fn pane_cost(&self, i: usize) -> Option<(Picodollars, bool)> {
        let t = &self.targets[i];
        let p = &self.panes[i];
        let price = self.prices.for_target(t)?;
        let (output, estimated) = p.output_tokens();
        let usage = crate::provider::event::Usage {
            output,
            ..p.metrics.usage
        };
        price.cost(&usage).map(|c| (c, estimated))
    }

    /// Cancel every run that still has a pane in flight.
    pub(super) fn cancel_active(&self) -> Vec<Effect> {
        let mut runs: Vec<RunId> = self
            .panes
            .iter()
            .filter(|p| p.status.is_active())
            .filter_map(|p| p.run)
            .collect();
        runs.sort_unstable();
        runs.dedup();
        runs.into_iter()
            .map(|run| Effect::Cancel { run, pane: None })
            .collect()
    }
}

#[cfg(test)]
mod zone_tests {
    use super::*;

    #[test]
    fn a_new_workbench_finds_the_time_zone_only_when_a_time_is_shown() {
        let app = App::new(Vec::new(), Keymap::default(), Theme::default(), String::new());
        assert!(
            app.zone.known().is_none(),
            "App::new must not read the tz database"
        );
        assert_eq!(app.zone(), &crate::session::local_time::system_zone());
        assert!(app.zone.known().is_some());
        let utc = crate::session::local_time::TimeZone::UTC;
        let fixed = App::new(Vec::new(), Keymap::default(), Theme::default(), String::new())
            .with_time_zone(utc.clone());
        assert_eq!(fixed.zone(), &utc);
    }
}
