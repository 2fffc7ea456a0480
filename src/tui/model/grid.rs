//! The experiment grid: a send with several variants, a case table or repeats runs as an
//! experiment, planned exactly as `prism run` plans one, and shows as a grid of cells
//! (rows variants, columns targets, one page per case).
//!
//! Each cell has its own pane, showing the latest run of the cell that started (every
//! cell shows `queued` until one of its runs gets past the concurrency limits), and
//! keeps every counted run's result for its sparkline and the scoreboard. A re-run of
//! one cell sends only that cell's runs again; their results replace the cell's.
//!
//! The workbench's own panes stay underneath: a plain send or a new conversation puts
//! them back on screen.

use std::sync::Arc;
use std::time::Instant;

use super::app::{App, Focus};
use super::conversation::Conversation;
use super::msg::{Effect, SharedPlan};
use super::pane::PaneState;
use crate::engine::RunId;
use crate::engine::metrics::TargetRun;
use crate::keys::Action;
use crate::pricing::Picodollars;
use crate::provider::event::StreamEvent;
use crate::report::row;
use crate::workflows::experiment::results::RunResult;
use crate::workflows::experiment::scoreboard::Scored;
use crate::workflows::experiment::{Checks, Design, Plan};

/// One run of the plan, as the grid follows it.
#[derive(Debug, Clone, Default)]
pub struct RunSlot {
    /// The launch (the experiment, or a re-run of its cell) it belongs to now.
    pub launch: RunId,
    /// Its events folded.
    pub fold: TargetRun,
    /// An event of it arrived (it got past the limits).
    pub started: bool,
    /// Its stream ended.
    pub ended: bool,
    /// Its numbers, once ended (counted runs only).
    pub result: Option<RunResult>,
    /// Its run id in the session (a re-run's runs get new ones).
    pub run_id: u64,
    /// Its events as they came, so that the cell can show this run again (stepping
    /// through repeats).
    pub events: Vec<(Instant, StreamEvent)>,
}

/// The experiment on screen.
pub struct Grid {
    /// The plan it runs.
    pub plan: Arc<Plan>,
    /// Per plan run.
    pub runs: Vec<RunSlot>,
    /// Per plan cell.
    pub panes: Vec<PaneState>,
    /// The case page shown (index into the cases; 0 without cases).
    pub page: usize,
    /// The first variant row and target column on screen, when the grid does not fit.
    pub first_row: usize,
    /// See `first_row`.
    pub first_col: usize,
    /// The zoomed cell.
    pub zoomed: Option<usize>,
    /// Session run ids after the plan's, for re-runs of a cell.
    pub next_run_id: u64,
    /// Launches that may still be streaming.
    pub launches: Vec<RunId>,
    /// Pre-flight's refusal of each cell.
    pub blocked: Vec<Option<String>>,
    /// Each cell's rectangle at the last frame (`None`: off screen).
    pub areas: Vec<Option<ratatui::layout::Rect>>,
    /// Cells the user cancelled (their runs not yet started were never sent).
    pub cancelled: Vec<bool>,
    /// Per cell, the repeat it shows (a position in [`Grid::counted_runs`]) when one
    /// was picked; `None` shows the latest run to start.
    pub shown: Vec<Option<usize>>,
    /// Target columns in screen order: `col_order[k]` is the target drawn `k`-th (and,
    /// blind, labelled `blind::label(k)`). Shuffled for a blind experiment.
    pub col_order: Vec<usize>,
    /// Blind voting on the grid's rows, when the experiment was sent blind.
    pub ballot: Option<super::grid_vote::GridBallot>,
}

impl Grid {
    fn new(plan: Plan, launch: RunId, now: Instant, blocked: Vec<Option<String>>) -> Self {
        let panes = plan
            .cells
            .iter()
            .map(|c| {
                let mut p = PaneState::default();
                p.start(RunId(u64::MAX), now, &c.request);
                p
            })
            .collect();
        let runs = plan
            .runs
            .iter()
            .map(|r| RunSlot {
                launch,
                run_id: r.run_id,
                ..RunSlot::default()
            })
            .collect();
        let cells = plan.cells.len();
        let cols = plan.design.targets.len();
        Self {
            cancelled: vec![false; cells],
            shown: vec![None; cells],
            col_order: (0..cols).collect(),
            ballot: None,
            next_run_id: plan.runs.len() as u64 + 1,
            plan: Arc::new(plan),
            runs,
            panes,
            page: 0,
            first_row: 0,
            first_col: 0,
            zoomed: None,
            launches: vec![launch],
            blocked,
            areas: Vec::new(),
        }
    }

    /// Variant rows (1 without variants).
    pub fn rows(&self) -> usize {
        self.plan.design.variants.len().max(1)
    }

    /// Target columns.
    pub fn cols(&self) -> usize {
        self.plan.design.targets.len()
    }

    /// Case pages (1 without cases).
    pub fn pages(&self) -> usize {
        self.plan
            .design
            .cases
            .as_ref()
            .map_or(1, |c| c.cases.len().max(1))
    }

    /// The cell at (row, screen column) of the page shown.
    pub fn cell_at(&self, row: usize, col: usize) -> usize {
        let target = self.col_order.get(col).copied().unwrap_or(col);
        let variant = self.row_order().get(row).copied().unwrap_or(row);
        (self.page * self.rows() + variant) * self.cols() + target
    }

    /// The case page, variant (its row in plan order; see [`Grid::screen_row`]) and
    /// screen column of `cell`.
    pub fn place(&self, cell: usize) -> (usize, usize, usize) {
        let per_page = self.rows() * self.cols();
        let at = cell % per_page;
        let target = at % self.cols();
        let col = self.col_order.iter().position(|t| *t == target).unwrap_or(target);
        (cell / per_page, at / self.cols(), col)
    }

    /// The cells of variant row `row` of case page `page`, in screen order.
    pub fn row_cells(&self, page: usize, row: usize) -> Vec<usize> {
        let first = (page * self.rows() + row) * self.cols();
        self.col_order.iter().map(|t| first + t).collect()
    }

    /// The cells of the page shown, row by row.
    pub fn page_cells(&self) -> Vec<usize> {
        (0..self.rows())
            .flat_map(|r| (0..self.cols()).map(move |c| (r, c)))
            .map(|(r, c)| self.cell_at(r, c))
            .collect()
    }

    /// `case 2/5: osl`, when there are cases.
    pub fn page_label(&self) -> Option<String> {
        let cases = self.plan.design.cases.as_ref()?;
        let case = cases.cases.get(self.page)?;
        let name = case.id.clone().unwrap_or_else(|| (self.page + 1).to_string());
        Some(format!("case {}/{}: {name}", self.page + 1, cases.cases.len()))
    }

    /// Counted runs of `cell`, in repeat order (indices into the plan's runs).
    pub fn counted_runs(&self, cell: usize) -> Vec<usize> {
        let mut runs: Vec<(u32, usize)> = self
            .plan
            .runs
            .iter()
            .enumerate()
            .filter(|(_, r)| r.cell == cell && !r.warmup)
            .map(|(i, r)| (r.repeat, i))
            .collect();
        runs.sort_unstable();
        runs.into_iter().map(|(_, i)| i).collect()
    }

    /// The finished counted runs of `cell`, in repeat order.
    pub fn results(&self, cell: usize) -> Vec<&RunResult> {
        self.counted_runs(cell)
            .into_iter()
            .filter_map(|i| self.runs[i].result.as_ref())
            .collect()
    }

    /// Whether any run is still to end.
    pub fn in_flight(&self) -> bool {
        self.runs.iter().any(|r| !r.ended)
    }

    /// The target name and variant name (if any) of `cell`.
    pub fn names(&self, cell: usize) -> (String, Option<String>) {
        let c = &self.plan.cells[cell];
        (
            self.plan.design.targets[c.target].name.clone(),
            self.plan.variant(c).map(|v| v.name.clone()),
        )
    }
}

impl App {
    /// The experiment grid, when it is what the panes show.
    pub fn grid(&self) -> Option<&Grid> {
        self.grid
            .as_ref()
            .filter(|_| matches!(self.workspace, super::workspace::Workspace::Live))
    }

    /// Every finished counted run of the experiment on screen, for the scoreboard.
    pub fn experiment_scored(&self) -> Vec<Scored> {
        let Some(g) = &self.grid else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (ci, cell) in g.plan.cells.iter().enumerate() {
            let variant = cell
                .variant
                .and_then(|v| Some((v, g.plan.design.variants.get(v)?.name.clone())));
            let target = (cell.target, g.plan.design.targets[cell.target].name.clone());
            for run in g.results(ci) {
                out.push(Scored {
                    variant: variant.clone(),
                    target: target.clone(),
                    run: run.clone(),
                });
            }
        }
        out
    }

    /// Send the editors' variants over the enabled targets as an experiment.
    pub(super) fn send_experiment(&mut self) -> Vec<Effect> {
        let targets: Vec<_> = (0..self.targets.len())
            .filter(|i| self.enabled[*i])
            .map(|i| self.targets[i].clone())
            .collect();
        let targets = self.inline_schema.onto(targets);
        if targets.is_empty() {
            self.notice = Some("every target is switched off (space on a pane toggles it)".into());
            return Vec::new();
        }
        let variants = self.design_variants();
        if let Some(v) = variants.iter().find(|v| v.prompt.is_none()) {
            self.notice = Some(format!(
                "variant {} has an empty prompt: type one (alt-. and alt-, switch variants)",
                v.name
            ));
            return Vec::new();
        }
        let text = |lines: &[String]| {
            let t = lines.join("\n");
            (!t.trim().is_empty()).then_some(t)
        };
        // With variants each brings its own text: a variant without a system prompt has
        // none, rather than the one that happens to be in the editor.
        let (system, prompt) = if variants.is_empty() {
            (text(self.system.lines()), text(self.prompt.lines()))
        } else {
            (None, None)
        };
        if variants.is_empty() && prompt.is_none() {
            self.notice = Some("nothing to send: the prompt is empty".into());
            return Vec::new();
        }
        let design = Design {
            targets,
            variants,
            cases: self.variants.cases.clone(),
            system,
            prompt,
            repeat: self.variants.repeat,
            warmup: 0,
            order: self.variants.order,
            seed: None,
        };
        let plan = match Plan::build(design) {
            Ok(plan) => plan,
            Err(why) => {
                self.notice = Some(format!("{why}; nothing was sent"));
                return Vec::new();
            }
        };
        let checks = self.check_cells(&plan);
        let key = format!(
            "experiment\u{0}{:?}",
            plan.cells.iter().map(|c| &c.request).collect::<Vec<_>>()
        );
        if !self.cost_allows(&checks.run_worst_cases(&plan), key) {
            return Vec::new();
        }
        let mut effects = self.cancel_active();
        effects.extend(self.cancel_grid());
        if self.session_open {
            effects.push(Effect::CloseSession);
        }
        // The experiment has a session of its own; the next plain send starts another.
        self.session_open = false;
        self.session_id = None;
        self.conversation = Conversation::new(self.targets.len());
        self.notice = plan.warnings.first().cloned();
        self.run = RunId(self.run.0 + 1);
        let launch = self.run;
        let blocked = checks.blocked.clone();
        let mut grid = Grid::new(plan, launch, self.now, blocked.clone());
        for (ci, why) in blocked.iter().enumerate() {
            if why.is_some() {
                grid.panes[ci].status = super::pane::PaneStatus::Queued;
            }
        }
        if self.blind.on {
            grid.go_blind(self.rng.u64(..));
            if self.blind.vote_variants {
                grid.vote_variants_blind();
            }
            self.overlay.close_pane_views();
        } else if grid.cols() >= 2 {
            // Votes are open without blind mode too; they are recorded as not blind.
            grid.ballot = Some(super::grid_vote::GridBallot {
                revealed: true,
                by_variant: self.blind.vote_variants && grid.rows() >= 2,
                ..Default::default()
            });
        }
        let plan = Arc::clone(&grid.plan);
        self.grid = Some(grid);
        // The editors keep every variant's text (unlike a plain send, which empties the
        // prompt): an experiment is tweaked and sent again.
        effects.push(Effect::RunExperiment {
            launch,
            plan: SharedPlan(plan),
            limits: self.limits.clone(),
            blocked,
        });
        effects
    }

    /// Pre-flight of every cell: too long for its model, and its worst-case cost. Not
    /// checked until the tokenizer tables are loaded.
    fn check_cells(&self, plan: &Plan) -> Checks {
        let n = plan.cells.len();
        if !crate::tokens::ready() {
            return Checks {
                blocked: vec![None; n],
                worst_case: vec![None; n],
                notes: Vec::new(),
            };
        }
        let checks: Vec<_> = plan
            .cells
            .iter()
            .map(|c| {
                crate::preflight::check(&plan.session_targets[c.session_target], &c.request, &self.prices)
            })
            .collect();
        Checks {
            blocked: checks.iter().map(|c| c.too_long.clone()).collect(),
            worst_case: checks.iter().map(|c| c.worst_case).collect(),
            notes: Vec::new(),
        }
    }

    /// Cancel what the grid still streams.
    pub(super) fn cancel_grid(&self) -> Vec<Effect> {
        match &self.grid {
            Some(g) if g.in_flight() => g
                .launches
                .iter()
                .map(|&run| Effect::Cancel { run, pane: None })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// One event of run `run` of launch `launch`.
    pub(super) fn on_cell(&mut self, launch: RunId, run: usize, at: Instant, event: &StreamEvent) {
        let prices = self.prices.clone();
        let Some(g) = self.grid.as_mut() else {
            return;
        };
        let Some(slot) = g.runs.get_mut(run) else {
            return;
        };
        if slot.launch != launch || slot.ended {
            return;
        }
        let planned = g.plan.runs[run];
        let cell = &g.plan.cells[planned.cell];
        let pane = &mut g.panes[planned.cell];
        slot.events.push((at, event.clone()));
        if !slot.started {
            // The cell shows its latest repeat to start (by plan order: the first events
            // of concurrent repeats can arrive in any order), unless a repeat was picked.
            slot.started = true;
            let later = match pane.run {
                Some(RunId(shown)) if shown != u64::MAX => shown < run as u64,
                _ => true,
            };
            if later && g.shown[planned.cell].is_none() {
                pane.start(RunId(run as u64), at, &cell.request);
            }
        }
        slot.fold.apply(at, event);
        if pane.run == Some(RunId(run as u64)) {
            pane.apply(at, event);
        }
        self.dirty = true;
        if !event.is_terminal() {
            return;
        }
        slot.ended = true;
        let target = &g.plan.design.targets[cell.target];
        let result = row(target, &cell.request, &slot.fold, &prices);
        if let Some(usd) = result.cost_usd {
            // Money spent counts in the budget window like any live send.
            self.spent.0 += (usd * 1e12).round().max(0.0) as Picodollars;
        }
        if !planned.warmup {
            slot.result = Some(RunResult::of(&result));
        }
    }

    /// Take the grid off screen: the workbench's own panes are back, and a focused cell
    /// gives the focus back to the prompt.
    pub(super) fn drop_grid(&mut self) {
        if self.grid.take().is_some() && matches!(self.focus, Focus::Pane(_)) {
            self.focus = Focus::Prompt;
        }
    }

    /// Launch `launch` has ended: its runs that never started never will; their cells
    /// stop waiting.
    pub(super) fn cells_ended(&mut self, launch: RunId) {
        let now = self.now;
        let Some(g) = self.grid.as_mut() else {
            return;
        };
        for (i, slot) in g.runs.iter_mut().enumerate() {
            if slot.launch == launch && !slot.ended {
                slot.ended = true;
                let pane = &mut g.panes[g.plan.runs[i].cell];
                if pane.run == Some(RunId(u64::MAX)) {
                    pane.apply(now, &StreamEvent::Cancelled);
                }
            }
        }
        g.launches.retain(|l| *l != launch);
        self.dirty = true;
    }

    /// A click or wheel on a cell of the grid; whether it was one.
    pub(super) fn grid_mouse(
        &mut self,
        kind: crossterm::event::MouseEventKind,
        at: ratatui::layout::Position,
    ) -> bool {
        use crossterm::event::MouseEventKind;
        if self.grid().is_none() {
            return false;
        }
        let Some(g) = self.grid.as_mut() else {
            return false;
        };
        let Some(i) = g.areas.iter().position(|r| r.is_some_and(|r| r.contains(at))) else {
            return false;
        };
        match kind {
            MouseEventKind::ScrollUp => g.panes[i].scroll_by(-3),
            MouseEventKind::ScrollDown => g.panes[i].scroll_by(3),
            MouseEventKind::Down(_) => self.focus = Focus::Pane(i),
            _ => return false,
        }
        true
    }

    /// Send the runs of `cell` again; their results replace the cell's.
    fn rerun_cell(&mut self, cell: usize) -> Vec<Effect> {
        let Some(g) = self.grid.as_ref() else {
            return Vec::new();
        };
        let runs = g.counted_runs(cell);
        let plan = Arc::clone(&g.plan);
        let blocked = g.blocked.get(cell).cloned().flatten();
        if crate::tokens::ready() {
            let c = &plan.cells[cell];
            let check =
                crate::preflight::check(&plan.session_targets[c.session_target], &c.request, &self.prices);
            let worst = vec![check.worst_case.filter(|_| check.too_long.is_none()); runs.len()];
            if !self.cost_allows(&worst, format!("rerun cell {cell}")) {
                return Vec::new();
            }
        }
        self.run = RunId(self.run.0 + 1);
        let launch = self.run;
        let now = self.now;
        let Some(g) = self.grid.as_mut() else {
            return Vec::new();
        };
        let first_run_id = g.next_run_id;
        g.next_run_id += runs.len() as u64;
        for (k, &r) in runs.iter().enumerate() {
            g.runs[r] = RunSlot {
                launch,
                run_id: first_run_id + k as u64,
                ..RunSlot::default()
            };
        }
        g.panes[cell].start(RunId(u64::MAX), now, &plan.cells[cell].request);
        g.cancelled[cell] = false;
        g.shown[cell] = None;
        g.launches.push(launch);
        let (target, variant) = self.cell_names(cell);
        self.notice = Some(format!(
            "re-running {}{target}: {} run{}",
            variant.map(|v| format!("{v} on ")).unwrap_or_default(),
            runs.len(),
            if runs.len() == 1 { "" } else { "s" }
        ));
        vec![Effect::RerunCell {
            launch,
            plan: SharedPlan(plan),
            runs,
            first_run_id,
            blocked,
        }]
    }

    /// Bound actions while a cell of the grid has focus; `None` leaves the action to the
    /// workbench.
    pub(super) fn grid_act(&mut self, action: Action) -> Option<Vec<Effect>> {
        let g = self.grid()?;
        let focused = match self.focus {
            Focus::Pane(i) if i < g.panes.len() => Some(i),
            _ => None,
        };
        match action {
            Action::NextCase | Action::PrevCase => {
                let step = if action == Action::NextCase { 1 } else { -1 };
                let offset = focused.map(|i| i % (g.rows() * g.cols()));
                let pages = g.pages() as isize;
                let g = self.grid.as_mut()?;
                g.page = (g.page as isize + step).rem_euclid(pages) as usize;
                g.zoomed = None;
                if let Some(off) = offset {
                    self.focus = Focus::Pane(g.page * g.rows() * g.cols() + off);
                }
            }
            Action::FocusNext | Action::FocusPrev => {
                let mut stops = vec![Focus::Prompt];
                if self.show_system {
                    stops.push(Focus::System);
                }
                match g.zoomed {
                    Some(z) => stops.push(Focus::Pane(z)),
                    None => stops.extend(g.page_cells().into_iter().map(Focus::Pane)),
                }
                let step = if action == Action::FocusNext { 1 } else { -1 };
                let at = stops.iter().position(|f| *f == self.focus).unwrap_or(0) as isize;
                self.focus = stops[(at + step).rem_euclid(stops.len() as isize) as usize];
            }
            Action::FocusEditor => {
                self.focus = Focus::Prompt;
                self.grid.as_mut()?.zoomed = None;
            }
            Action::VoteVariants => self.toggle_vote_unit(),
            Action::CancelFocused if focused.is_some() => {
                return Some(focused.map(|i| self.cancel_cell(i)).unwrap_or_default());
            }
            Action::CancelAll | Action::CancelFocused => return Some(self.cancel_experiment()),
            _ => {
                let i = focused?;
                return self.cell_act(i, action);
            }
        }
        Some(Vec::new())
    }

    /// Actions on the focused cell.
    fn cell_act(&mut self, i: usize, action: Action) -> Option<Vec<Effect>> {
        let g = self.grid.as_mut()?;
        match action {
            Action::Zoom => g.zoomed = if g.zoomed.is_some() { None } else { Some(i) },
            Action::RetryPane => return Some(self.rerun_cell(i)),
            Action::Copy => {
                let text = g.panes[i].answer.text().to_string();
                self.notice = Some(format!("copied {} characters", text.chars().count()));
                return Some(vec![Effect::Copy(text)]);
            }
            Action::ToggleReasoning => g.panes[i].reasoning_open = !g.panes[i].reasoning_open,
            Action::ScrollUp
            | Action::ScrollDown
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => {
                let p = &mut g.panes[i];
                let page = p.viewport.max(2) as isize - 1;
                p.scroll_by(match action {
                    Action::ScrollUp => -1,
                    Action::ScrollDown => 1,
                    Action::PageUp => -page,
                    Action::PageDown => page,
                    Action::Top => isize::MIN / 2,
                    _ => isize::MAX / 2,
                });
            }
            Action::NextRepeat => self.step_repeat(i, 1),
            Action::PrevRepeat => self.step_repeat(i, -1),
            // The details name the model and carry its ids: not while names are hidden.
            Action::Details if self.names_hidden() => {
                self.notice = Some("details name the model: vote first (or ctrl-b leaves blind mode)".into());
            }
            Action::Details => self.overlay = super::workspace::Overlay::Details(i),
            Action::ToggleTarget | Action::ToggleHistory | Action::Diff => {
                self.notice = Some(
                    "a cell of the grid: z zooms, d details, R re-runs, x cancels, , . step runs, [ ] page cases"
                        .into(),
                );
            }
            _ => return None,
        }
        Some(Vec::new())
    }
}
