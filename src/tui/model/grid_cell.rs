//! One cell of the experiment grid on its own: cancel it while the others go on, step
//! through its row's repeats (run 1..N), and what it is called on screen.
//!
//! A cancelled cell keeps what it streamed: its runs in flight end `cancelled` with their
//! partial text, and its runs not yet started are never sent. The scoreboard counts the
//! cancelled runs apart from failures, and neither is a latency sample.
//!
//! Stepping repeats moves the whole variant row of the page to the same repeat, so the
//! answers side by side (and a vote on them) are always one (case, variant, repeat).

use super::app::App;
use super::grid::Grid;
use super::msg::Effect;
use crate::engine::RunId;
use crate::provider::event::StreamEvent;

impl Grid {
    /// The plan run `cell` shows for its picked repeat, when one was picked.
    pub fn shown_run(&self, cell: usize) -> Option<usize> {
        let k = self.shown.get(cell).copied().flatten()?;
        self.counted_runs(cell).get(k).copied()
    }

    /// The plan run whose answer `cell` shows now, if any run of it started.
    pub fn showing(&self, cell: usize) -> Option<usize> {
        let run = self.panes.get(cell)?.run?;
        usize::try_from(run.0).ok().filter(|r| *r < self.runs.len())
    }

    /// `run 2/5` for `cell` (the repeat it shows), when the cell has more than one run.
    pub fn repeat_label(&self, cell: usize) -> Option<String> {
        let runs = self.counted_runs(cell);
        if runs.len() < 2 {
            return None;
        }
        let at = self
            .showing(cell)
            .and_then(|r| runs.iter().position(|x| *x == r))?;
        Some(format!("run {}/{}", at + 1, runs.len()))
    }

    /// Show plan run `run` (of `cell`) in the cell's pane again, from its saved events.
    fn show_run(&mut self, cell: usize, run: usize, now: std::time::Instant) {
        let request = &self.plan.cells[cell].request;
        let slot = &self.runs[run];
        let pane = &mut self.panes[cell];
        let started = slot.events.first().map_or(now, |(at, _)| *at);
        pane.start(RunId(run as u64), started, request);
        for (at, event) in &slot.events {
            pane.apply(*at, event);
        }
        if slot.ended && slot.events.is_empty() {
            // Never sent (cancelled before it started): it is not waiting for anything.
            pane.apply(now, &StreamEvent::Cancelled);
        }
    }

    /// Every row cell of `cell`'s row shows repeat position `at` (of its counted runs).
    fn show_repeat(&mut self, cell: usize, at: usize, now: std::time::Instant) {
        let (page, row, _) = self.place(cell);
        for c in self.row_cells(page, row) {
            let Some(&run) = self.counted_runs(c).get(at) else {
                continue;
            };
            self.shown[c] = Some(at);
            if self.showing(c) != Some(run) {
                self.show_run(c, run, now);
            }
        }
    }
}

impl App {
    /// The target (its blind label while names are hidden) and variant names of `cell`.
    pub fn cell_names(&self, cell: usize) -> (String, Option<String>) {
        let Some(g) = &self.grid else {
            return (String::new(), None);
        };
        let (target, mut variant) = g.names(cell);
        if g.variants_hidden() {
            let (_, row, _) = g.place(cell);
            variant = Some(format!(
                "variant {}",
                crate::workflows::blind::label(g.screen_row(row))
            ));
        }
        if self.names_hidden() {
            let (_, _, col) = g.place(cell);
            (crate::workflows::blind::label(col), variant)
        } else {
            (target, variant)
        }
    }

    /// `variant · target` (or the label) of `cell`, for notices.
    pub(super) fn cell_title(&self, cell: usize) -> String {
        match self.cell_names(cell) {
            (target, Some(v)) => format!("{v} · {target}"),
            (target, None) => target,
        }
    }

    /// Cancel `cell`'s runs in flight and drop its queued ones; the other cells go on.
    pub(super) fn cancel_cell(&mut self, cell: usize) -> Vec<Effect> {
        let now = self.now;
        let Some(g) = self.grid.as_mut() else {
            return Vec::new();
        };
        let mut launches = Vec::new();
        let (mut streaming, mut queued) = (0, 0);
        for (i, slot) in g.runs.iter_mut().enumerate() {
            if g.plan.runs[i].cell != cell || slot.ended {
                continue;
            }
            if !launches.contains(&slot.launch) {
                launches.push(slot.launch);
            }
            if slot.started {
                streaming += 1;
            } else {
                // The runner will not send it now; nothing more comes for it.
                slot.ended = true;
                queued += 1;
            }
        }
        if launches.is_empty() {
            self.notice = Some("nothing of this cell is running: R sends it again".into());
            return Vec::new();
        }
        g.cancelled[cell] = true;
        let pane = &mut g.panes[cell];
        if pane.run == Some(RunId(u64::MAX))
            || pane
                .run
                .is_some_and(|r| g.runs.get(r.0 as usize).is_some_and(|s| !s.started))
        {
            pane.apply(now, &StreamEvent::Cancelled);
        }
        self.dirty = true;
        self.notice = Some(format!(
            "cancelled {}: {streaming} streaming stopped, {queued} queued not sent; the other cells go on",
            self.cell_title(cell)
        ));
        launches
            .into_iter()
            .map(|run| Effect::Cancel {
                run,
                pane: Some(cell),
            })
            .collect()
    }

    /// Cancel the whole experiment: every cell with something left to run says so.
    pub(super) fn cancel_experiment(&mut self) -> Vec<Effect> {
        let effects = self.cancel_grid();
        if let Some(g) = self.grid.as_mut() {
            for (i, slot) in g.runs.iter().enumerate() {
                if !slot.ended {
                    g.cancelled[g.plan.runs[i].cell] = true;
                }
            }
            if !effects.is_empty() {
                self.notice = Some("cancelled the experiment: queued runs are not sent".into());
            }
        }
        effects
    }

    /// Step the focused cell's row to the next (`step` 1) or previous (-1) repeat.
    pub(super) fn step_repeat(&mut self, cell: usize, step: isize) {
        let now = self.now;
        let Some(g) = self.grid.as_mut() else {
            return;
        };
        let runs = g.counted_runs(cell);
        if runs.len() < 2 {
            self.notice = Some("this experiment runs each cell once (alt-p sets repeats)".into());
            return;
        }
        let at = g
            .showing(cell)
            .and_then(|r| runs.iter().position(|x| *x == r))
            .unwrap_or(runs.len() - 1) as isize;
        let next = (at + step).rem_euclid(runs.len() as isize) as usize;
        g.show_repeat(cell, next, now);
        self.dirty = true;
    }
}
