//! The workbench model and its pure `update`: messages in, state changes and effects out.
//! No I/O happens here, so every interaction is tested without a terminal or a network.

use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyEvent, KeyEventKind, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};
use ratatui_textarea::TextArea;

use super::browser::Browser;
use super::conversation::Conversation;
use super::msg::{Effect, Msg};
use super::pane::{PaneState, PaneStatus};
use super::workspace::{Overlay, Workspace};
use crate::engine::RunId;
use crate::keys::{Action, Mode};
use crate::pricing::{Picodollars, PriceTable};
use crate::provider::event::StreamEvent;
use crate::target::{ProviderKind, Target};
use crate::tui::input::keymap::{Keymap, chord_of};
use crate::tui::theme::Theme;

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
    /// A transient notice (copy done, nothing to send...).
    pub(crate) notice: Option<String>,
    /// Something visible changed since the last frame.
    pub(crate) dirty: bool,
    /// Pane rectangles at the last frame, for mouse hit-testing.
    pub(crate) pane_areas: Vec<Option<Rect>>,
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
        prompt.set_placeholder_text("Type a prompt; Ctrl+S or Alt+Enter sends it to every enabled target");
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
            run: RunId(0),
            conversation: Conversation::new(n),
            session_open: false,
            session_id: None,
            demo_urls: Vec::new(),
            status,
            notice: None,
            dirty: true,
            pane_areas: Vec::new(),
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
            grid: None,
            limits: Default::default(),
        }
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

    /// Whether any pane is in flight (the loop ticks only then).
    pub fn animating(&self) -> bool {
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

    fn mode(&self) -> Mode {
        if matches!(self.overlay, Overlay::Browser(_)) {
            return Mode::Sessions;
        }
        match self.focus {
            Focus::Prompt | Focus::System => Mode::Editor,
            Focus::Pane(_) => Mode::Panes,
        }
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
                let editor = if self.variants.cases_editor.is_some() {
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
                self.dirty = true;
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
        self.panes[i].apply(at, event);
        self.dirty = true;
        if event.is_terminal() {
            if self.is_live(i)
                && let Some((cost, estimated)) = self.pane_cost(i)
            {
                self.spent.0 += cost;
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
    fn new_budget_window(&mut self) {
        self.spent = (0, false);
        self.awaiting_confirm = None;
    }

    fn editor_mut(&mut self) -> Option<&mut TextArea<'static>> {
        match self.focus {
            Focus::Prompt => Some(&mut self.prompt),
            Focus::System => Some(&mut self.system),
            Focus::Pane(_) => None,
        }
    }

    fn key(&mut self, key: KeyEvent) -> Vec<Effect> {
        self.dirty = true;
        self.notice = None;
        let action = chord_of(&key).and_then(|c| self.keymap.lookup(self.mode(), &c));
        match self.overlay {
            Overlay::Browser(_) => return self.browser_key(key, action),
            Overlay::Help | Overlay::Details(_) => {
                // Any key closes an overlay; Quit still quits.
                self.overlay = Overlay::None;
                return if action == Some(Action::Quit) {
                    vec![Effect::Quit]
                } else {
                    Vec::new()
                };
            }
            Overlay::Scoreboard(_) => return self.scoreboard_key(&key, action).unwrap_or_default(),
            Overlay::Diff(_) | Overlay::None => {}
        }
        if self.naming_key(&key, action) || self.cases_key(key, action) {
            return Vec::new();
        }
        if let Some(effects) = self.session_key(&key, action) {
            return effects;
        }
        if let Some(effects) = self.vote_key(&key) {
            return effects;
        }
        match action {
            Some(a) => self.act(a),
            None if self.recall_key(&key) => Vec::new(),
            None => {
                if let Some(editor) = self.editor_mut() {
                    editor.input(key);
                }
                Vec::new()
            }
        }
    }

    /// Perform a bound action.
    pub fn act(&mut self, action: Action) -> Vec<Effect> {
        self.dirty = true;
        let focused = match self.focus {
            // A cell of a grid no longer on screen is no pane.
            Focus::Pane(i) if i < self.panes.len() => Some(i),
            _ => None,
        };
        if let Some(effects) = self.grid_act(action) {
            return effects;
        }
        match action {
            Action::Send | Action::RetryPane if self.sends_off().is_some() => self.notice = self.sends_off(),
            Action::Diff => return self.open_diff(focused),
            Action::Send => return self.send(),
            Action::Quit => return vec![Effect::Quit],
            Action::FocusNext => self.cycle(1),
            Action::FocusPrev => self.cycle(-1),
            Action::FocusEditor => {
                self.focus = Focus::Prompt;
                self.zoomed = None;
            }
            Action::Help => self.overlay = Overlay::Help,
            Action::OpenEditor => return vec![Effect::OpenEditor(self.prompt.lines().join("\n"))],
            Action::ToggleSystem => {
                self.show_system = !self.show_system;
                self.focus = if self.show_system {
                    Focus::System
                } else {
                    Focus::Prompt
                };
            }
            Action::CancelAll => return self.cancel_active(),
            Action::CancelFocused => {
                return match focused {
                    Some(i) if self.panes[i].status.is_active() => self.panes[i]
                        .run
                        .map(|run| Effect::Cancel { run, pane: Some(i) })
                        .into_iter()
                        .collect(),
                    // From the editor, "cancel" means the whole send.
                    None => self.cancel_active(),
                    _ => Vec::new(),
                };
            }
            Action::Blind => self.toggle_blind(),
            Action::Scoreboard => self.toggle_scoreboard(),
            // The details name the model and carry its ids: not while names are hidden.
            Action::Details if focused.is_some() && self.names_hidden() => {
                self.notice = Some("details name the model: vote first (or ctrl-b leaves blind mode)".into());
            }
            Action::Details => match focused {
                Some(i) => self.overlay = Overlay::Details(i),
                None if matches!(self.overlay, Overlay::Details(_)) => self.overlay = Overlay::None,
                None => {}
            },
            Action::NewConversation => {
                // A new conversation is also a new budget window (see `spent`).
                self.new_budget_window();
                return self.new_conversation();
            }
            Action::Sessions => {
                self.overlay = Overlay::Browser(Browser::default());
                return vec![Effect::ListSessions];
            }
            // The browser's own actions mean nothing outside it.
            Action::OpenSession
            | Action::RenameSession
            | Action::DeleteSession
            | Action::ReplaySession
            | Action::RerunSession => {}
            Action::RetryPane => {
                if let Some(i) = focused {
                    return self.retry_pane(i);
                }
            }
            Action::Copy => {
                if let Some(i) = focused {
                    let text = self.panes[i].answer.text().to_string();
                    self.notice = Some(format!(
                        "copied {} characters from {}",
                        text.chars().count(),
                        self.pane_name(i)
                    ));
                    return vec![Effect::Copy(text)];
                }
            }
            Action::ToggleTarget => {
                if let Some(i) = focused {
                    self.enabled[i] = !self.enabled[i];
                }
            }
            Action::Zoom => self.zoomed = if self.zoomed.is_some() { None } else { focused },
            Action::ToggleReasoning => {
                if let Some(i) = focused {
                    self.panes[i].reasoning_open = !self.panes[i].reasoning_open;
                }
            }
            Action::ToggleHistory => {
                if let Some(i) = focused {
                    let p = &mut self.panes[i];
                    if p.history.earlier() == 0 && !p.history.is_open() {
                        self.notice = Some(format!(
                            "{}: no earlier turns in its conversation",
                            self.pane_name(i)
                        ));
                    } else {
                        p.toggle_history();
                    }
                }
            }
            Action::AddVariant => self.add_variant(),
            Action::NextVariant => self.switch_variant(1),
            Action::PrevVariant => self.switch_variant(-1),
            Action::RenameVariant => self.rename_variant(),
            Action::DeleteVariant => self.delete_variant(),
            Action::Cases => self.toggle_cases(),
            Action::Repeat => self.cycle_repeat(),
            Action::Order => self.cycle_order(),
            Action::NextCase | Action::PrevCase => {}
            Action::ScrollUp
            | Action::ScrollDown
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => {
                if let Some(i) = focused {
                    let p = &mut self.panes[i];
                    let page = p.viewport.max(2) as isize - 1;
                    let delta = match action {
                        Action::ScrollUp => -1,
                        Action::ScrollDown => 1,
                        Action::PageUp => -page,
                        Action::PageDown => page,
                        Action::Top => isize::MIN / 2,
                        _ => isize::MAX / 2,
                    };
                    p.scroll_by(delta);
                }
            }
        }
        Vec::new()
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
    /// conversation, the targets and the prices, once the tokenizer is ready (never waits
    /// for it). Only text not counted before is counted (see
    /// [`super::prompt_check::PromptCheck`]).
    pub fn refresh_preflight(&mut self) {
        if !crate::tokens::ready() {
            return;
        }
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

    fn cycle(&mut self, step: isize) {
        let mut stops = vec![Focus::Prompt];
        if self.show_system {
            stops.push(Focus::System);
        }
        let visible: Vec<usize> = match self.zoomed {
            Some(z) => vec![z],
            None => self.screen_order(),
        };
        stops.extend(visible.into_iter().map(Focus::Pane));
        let at = stops.iter().position(|f| *f == self.focus).unwrap_or(0) as isize;
        let next = (at + step).rem_euclid(stops.len() as isize) as usize;
        self.focus = stops[next];
    }

    fn mouse(&mut self, m: MouseEvent) {
        let at = Position::new(m.column, m.row);
        if self.grid_mouse(m.kind, at) {
            self.dirty = true;
            return;
        }
        let hit = self
            .pane_areas
            .iter()
            .position(|r| r.is_some_and(|r| r.contains(at)));
        match (m.kind, hit) {
            (MouseEventKind::ScrollUp, Some(i)) => self.panes[i].scroll_by(-3),
            (MouseEventKind::ScrollDown, Some(i)) => self.panes[i].scroll_by(3),
            (MouseEventKind::Down(_), Some(i)) => self.focus = Focus::Pane(i),
            _ => return,
        }
        self.dirty = true;
    }
}
