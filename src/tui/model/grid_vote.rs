//! Votes in the experiment grid.
//!
//! A vote compares the targets' answers within one row: one case, one variant, one
//! repeat. The columns are the targets, shuffled once per experiment when it is sent
//! blind and labelled A, B, C… by screen position, the same on every row and page, so a
//! label means the same target all along. The verdict is the single-send one: the best
//! answer by label, a tie, or all bad; it is recorded in the experiment's session with
//! every candidate's session target, run id and variant (the run says the case).
//!
//! Names stay hidden until every (case, variant) row has a vote, or until blind mode is
//! left: a column's name revealed after one row would unblind every other row.
//!
//! With two variants or more, `alt-b` switches the vote unit to the variants of a column:
//! for one target, case and repeat, every variant's answer side by side, the best by
//! row. Blind, the rows are drawn in an order shuffled once per experiment and called
//! `variant A`, `variant B`… by screen position; variant names stay hidden (on the
//! grid, in notices and in the editor's title) until every (case, target) column has a
//! vote, or blind mode is left. Whichever unit is done first, rows or columns, shows
//! every name: the other unit's votes after that are not blind. Such a vote's candidates carry different variants, so
//! `prism stats` counts it per variant.

use std::collections::BTreeMap;

use super::app::{App, Focus};
use super::grid::Grid;
use super::msg::Effect;
use crate::session::votes::{Candidate, Choice, VoteRecord};
use crate::workflows::blind;

/// The votes on an experiment grid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GridBallot {
    /// Verdicts cast, by (case page, variant row, repeat position).
    pub cast: BTreeMap<(usize, usize, usize), Choice>,
    /// The names are shown: every row had a vote, or blind mode was left (or the
    /// experiment was not blind).
    pub revealed: bool,
    /// The votes began blind (the grid asks for them on its page line).
    pub blind: bool,
    /// Vote keys compare the variants of a column rather than the targets of a row.
    pub by_variant: bool,
    /// Variant verdicts cast, by (case page, target, repeat position).
    pub variant_cast: BTreeMap<(usize, usize, usize), Choice>,
    /// Variant rows in screen order while variant names are hidden: shuffled once per
    /// blind experiment.
    pub variant_order: Vec<usize>,
    /// Variant names are hidden: blind variant votes began and not every column has one.
    pub variants_hidden: bool,
}

impl Grid {
    /// Start blind voting: a fresh column order from `seed`, names hidden.
    pub fn go_blind(&mut self, seed: u64) {
        self.col_order = blind::shuffled(self.cols(), seed);
        let rows = self.rows();
        let ballot = self.ballot.get_or_insert_with(GridBallot::default);
        ballot.revealed = false;
        ballot.blind = true;
        // Its own draw from the seed: the row order says nothing about the columns'.
        ballot.variant_order = blind::shuffled(rows, seed.rotate_left(32) ^ 0x9e37_79b9);
    }

    /// Votes compare variants from the send on, their names hidden (a blind experiment
    /// sent with `alt-b` on), when there are two variants or more.
    pub fn vote_variants_blind(&mut self) {
        if self.rows() < 2 {
            return;
        }
        if let Some(b) = self.ballot.as_mut() {
            b.by_variant = true;
            b.variants_hidden = true;
        }
    }

    /// Variant rows in screen order: shuffled while variant names are hidden.
    pub fn row_order(&self) -> Vec<usize> {
        match &self.ballot {
            Some(b) if b.variants_hidden && b.variant_order.len() == self.rows() => b.variant_order.clone(),
            _ => (0..self.rows()).collect(),
        }
    }

    /// The screen row of variant row `variant`.
    pub fn screen_row(&self, variant: usize) -> usize {
        self.row_order()
            .iter()
            .position(|v| *v == variant)
            .unwrap_or(variant)
    }

    /// Whether the vote keys compare variants (of a column) now.
    pub fn votes_variants(&self) -> bool {
        self.ballot.as_ref().is_some_and(|b| b.by_variant) && self.rows() >= 2
    }

    /// Whether variant names are hidden now.
    pub fn variants_hidden(&self) -> bool {
        self.ballot.as_ref().is_some_and(|b| b.variants_hidden)
    }

    /// The cells of target `target` on case page `page`, in screen row order.
    pub fn column_cells(&self, page: usize, target: usize) -> Vec<usize> {
        self.row_order()
            .into_iter()
            .map(|v| (page * self.rows() + v) * self.cols() + target)
            .collect()
    }

    /// The repeat position every cell of `cells` shows, when they all show one and the
    /// same, each ended.
    fn shared_ready_repeat(&self, cells: &[usize]) -> Option<usize> {
        let mut at = None;
        for &c in cells {
            let run = self.showing(c)?;
            let slot = &self.runs[run];
            if !(slot.ended && slot.started) || self.panes[c].status.is_active() {
                return None;
            }
            let k = self.counted_runs(c).iter().position(|r| *r == run)?;
            if at.is_some_and(|a| a != k) {
                return None;
            }
            at = Some(k);
        }
        at
    }

    /// Whether column `(page, target)` has a variant vote on some repeat.
    fn column_voted(&self, page: usize, target: usize) -> bool {
        self.ballot
            .as_ref()
            .is_some_and(|b| b.variant_cast.keys().any(|(p, t, _)| (*p, *t) == (page, target)))
    }

    /// (voted columns, all columns): columns are (case, target) pairs.
    pub fn variant_progress(&self) -> (usize, usize) {
        let all = self.pages() * self.cols();
        let voted = (0..self.pages())
            .flat_map(|p| (0..self.cols()).map(move |t| (p, t)))
            .filter(|(p, t)| self.column_voted(*p, *t))
            .count();
        (voted, all)
    }

    /// The column a variant vote votes on: the focused cell's, else the page's first
    /// column (in screen order) without a vote (else its first).
    fn vote_column(&self, focus: Focus) -> (usize, usize) {
        if let Focus::Pane(i) = focus
            && i < self.panes.len()
        {
            let (page, _, _) = self.place(i);
            return (page, self.plan.cells[i].target);
        }
        let target = self
            .col_order
            .iter()
            .copied()
            .find(|t| !self.column_voted(self.page, *t))
            .or_else(|| self.col_order.first().copied())
            .unwrap_or(0);
        (self.page, target)
    }

    /// The next column with no variant vote after `(page, target)`, in screen order,
    /// this page first.
    fn next_unvoted_column(&self, page: usize, target: usize) -> Option<(usize, usize)> {
        let cols = self.cols();
        let n = self.pages() * cols;
        let col = self.col_order.iter().position(|t| *t == target).unwrap_or(target);
        let at = page * cols + col;
        (1..n)
            .map(|k| (at + k) % n)
            .map(|i| {
                (
                    i / cols,
                    self.col_order.get(i % cols).copied().unwrap_or(i % cols),
                )
            })
            .find(|(p, t)| !self.column_voted(*p, *t))
    }

    /// The repeat position `row` of `page` shows (that of its first cell on screen).
    fn row_repeat(&self, page: usize, row: usize) -> Option<usize> {
        let cells = self.row_cells(page, row);
        let first = *cells.first()?;
        let run = self.showing(first)?;
        self.counted_runs(first).iter().position(|r| *r == run)
    }

    /// Whether every cell of the row shows an answer that has ended, one repeat for all.
    fn row_ready(&self, page: usize, row: usize) -> bool {
        let cells = self.row_cells(page, row);
        let Some(at) = self.row_repeat(page, row) else {
            return false;
        };
        cells.iter().all(|&c| {
            let run = self.showing(c);
            run.is_some_and(|r| self.runs[r].ended && self.runs[r].started)
                && self.counted_runs(c).iter().position(|r| Some(*r) == run) == Some(at)
                && !self.panes[c].status.is_active()
        })
    }

    /// Whether `(page, row)` has a vote on some repeat.
    fn row_voted(&self, page: usize, row: usize) -> bool {
        self.ballot
            .as_ref()
            .is_some_and(|b| b.cast.keys().any(|(p, r, _)| (*p, *r) == (page, row)))
    }

    /// (voted rows, all rows): rows are (case, variant) pairs.
    pub fn vote_progress(&self) -> (usize, usize) {
        let all = self.pages() * self.rows();
        let voted = (0..self.pages())
            .flat_map(|p| (0..self.rows()).map(move |r| (p, r)))
            .filter(|(p, r)| self.row_voted(*p, *r))
            .count();
        (voted, all)
    }

    /// The row a vote key votes on: the focused cell's, else the page's first row not
    /// voted yet (else its first).
    fn vote_row(&self, focus: Focus) -> (usize, usize) {
        if let Focus::Pane(i) = focus
            && i < self.panes.len()
        {
            let (page, row, _) = self.place(i);
            return (page, row);
        }
        let row = (0..self.rows())
            .find(|r| !self.row_voted(self.page, *r))
            .unwrap_or(0);
        (self.page, row)
    }

    /// The next row with no vote after `(page, row)`, this page first.
    fn next_unvoted(&self, page: usize, row: usize) -> Option<(usize, usize)> {
        let n = self.pages() * self.rows();
        let at = page * self.rows() + row;
        (1..n)
            .map(|k| (at + k) % n)
            .map(|i| (i / self.rows(), i % self.rows()))
            .find(|(p, r)| !self.row_voted(*p, *r))
    }
}

impl App {
    /// Whether a vote on the grid's current row (or column, voting variants) can be cast
    /// now.
    pub fn grid_vote_open(&self) -> bool {
        self.grid().is_some_and(|g| {
            if g.votes_variants() {
                let (page, target) = g.vote_column(self.focus);
                return g
                    .shared_ready_repeat(&g.column_cells(page, target))
                    .is_some_and(|at| {
                        g.ballot
                            .as_ref()
                            .is_some_and(|b| !b.variant_cast.contains_key(&(page, target, at)))
                    });
            }
            let (page, row) = g.vote_row(self.focus);
            g.ballot.is_some()
                && g.cols() >= 2
                && g.row_ready(page, row)
                && g.row_repeat(page, row).is_some_and(|at| {
                    g.ballot
                        .as_ref()
                        .is_some_and(|b| !b.cast.contains_key(&(page, row, at)))
                })
        })
    }

    /// A vote key on the grid (see [`App::vote_key`]): `1`..`9` the best by column,
    /// `=` a tie, `0` all bad.
    pub(super) fn grid_vote(&mut self, c: char) -> Option<Vec<Effect>> {
        let g = self.grid()?;
        g.ballot.as_ref()?;
        if g.votes_variants() {
            return self.variant_vote(c);
        }
        let (page, row) = g.vote_row(self.focus);
        if !self.grid_vote_open() {
            let said = if g.row_ready(page, row) {
                "this row has its vote for this run: , and . show the other runs"
            } else {
                "vote once every answer of the row has ended"
            };
            // Only a vote key gets here; typing digits elsewhere is left alone.
            if matches!(c, '0'..='9' | '=') {
                self.notice = Some(said.into());
                return Some(Vec::new());
            }
            return None;
        }
        let cells = g.row_cells(page, row);
        let choice = match vote_choice(c, cells.len()) {
            Ok(choice) => choice,
            Err(Some(said)) => {
                self.notice = Some(format!("no answer {said}"));
                return Some(Vec::new());
            }
            Err(None) => return None,
        };
        Some(self.cast_grid(page, row, &cells, choice))
    }

    fn cast_grid(&mut self, page: usize, row: usize, cells: &[usize], choice: Choice) -> Vec<Effect> {
        let blind = self.names_hidden();
        let Some(g) = self.grid.as_mut() else {
            return Vec::new();
        };
        let (candidates, self_identified) = g.candidates(cells);
        let at = g.row_repeat(page, row).unwrap_or(0);
        let Some(ballot) = g.ballot.as_mut() else {
            return Vec::new();
        };
        ballot.cast.insert((page, row, at), choice);
        let (voted, all) = g.vote_progress();
        let was_hidden = blind;
        if voted == all
            && let Some(b) = g.ballot.as_mut()
        {
            // Every name at once: the vote unit in use is done.
            b.revealed = true;
            b.variants_hidden = false;
        }
        let case = g.page_label();
        // On to the next row without a vote, so the votes go one key each.
        let next = g.next_unvoted(page, row);
        if let Some((p, r)) = next
            && matches!(self.focus, Focus::Pane(_))
        {
            g.page = p;
            g.zoomed = None;
            let first = g.row_cells(p, r)[0];
            self.focus = Focus::Pane(first);
        }
        let said = match choice {
            Choice::Best(k) => format!("voted {}", blind::label(k)),
            Choice::Tie => "voted a tie".into(),
            Choice::AllBad => "voted all bad".into(),
        };
        let what = case.map(|c| format!(" on {c}")).unwrap_or_default();
        let tail = if was_hidden && voted == all {
            " · every row voted: names shown".to_string()
        } else if was_hidden {
            format!(" · {voted}/{all} rows voted, names shown after the last (ctrl-b shows them now)")
        } else if let Choice::Best(k) = choice {
            let (target, _) = self.cell_names(cells[k]);
            format!(" ({target})")
        } else {
            String::new()
        };
        self.notice = Some(format!("{said}{what}{tail}"));
        self.dirty = true;
        vec![Effect::Vote(VoteRecord {
            // The executor stamps the time: the model reads no clock.
            wall: String::new(),
            candidates,
            choice,
            blind,
            self_identified,
        })]
    }

    /// `alt-b`: switch the vote unit between the targets of a row and the variants of a
    /// column. Blind, the first switch to variants hides their names.
    pub(super) fn toggle_vote_unit(&mut self) {
        let blind_on = self.blind.on;
        let Some(g) = self
            .grid
            .as_mut()
            .filter(|_| matches!(self.workspace, super::workspace::Workspace::Live))
        else {
            // Off the grid it picks the vote unit of the next experiment.
            self.blind.vote_variants = !self.blind.vote_variants;
            self.notice = Some(if self.blind.vote_variants {
                "the next experiment's votes compare variants (blind: their names hidden from the send on)"
                    .into()
            } else {
                "the next experiment's votes compare targets".into()
            });
            return;
        };
        if g.rows() < 2 {
            self.notice =
                Some("variant votes need an experiment with two variants or more (alt-v adds one)".into());
            return;
        }
        if g.ballot.is_none() {
            g.ballot = Some(GridBallot {
                revealed: true,
                ..Default::default()
            });
        }
        let cols = g.cols();
        let rows = g.rows();
        let Some(b) = g.ballot.as_mut() else {
            return;
        };
        b.by_variant = !b.by_variant;
        // Names already on screen stay known; hidden from here on all the same, so the
        // rows' letters say nothing, and the notice says how to vote blind from the start.
        let late = b.by_variant && blind_on && b.blind && b.variant_cast.is_empty() && !b.variants_hidden;
        if late {
            b.variants_hidden = true;
        }
        let by_variant = b.by_variant;
        self.blind.vote_variants = by_variant;
        self.notice = Some(if by_variant {
            let warn = if late {
                " · the variant names were on screen: alt-b before sending keeps them hidden from the start"
            } else {
                ""
            };
            format!(
                "votes compare the variants of a column: 1-{} best, = tie, 0 all bad (alt-b: targets again){warn}",
                rows.min(9)
            )
        } else {
            format!(
                "votes compare the targets of a row: 1-{} best, = tie, 0 all bad (alt-b: variants)",
                cols.min(9)
            )
        });
        self.dirty = true;
    }

    /// A vote key while votes compare variants: `1`..`9` the best by screen row.
    fn variant_vote(&mut self, c: char) -> Option<Vec<Effect>> {
        let g = self.grid()?;
        let (page, target) = g.vote_column(self.focus);
        if !self.grid_vote_open() {
            let cells = g.column_cells(page, target);
            let said = if g.shared_ready_repeat(&cells).is_some() {
                "this column has its variant vote for this run: , and . show the other runs"
            } else {
                "vote once every variant's answer in the column has ended, all on the same run"
            };
            if matches!(c, '0'..='9' | '=') {
                self.notice = Some(said.into());
                return Some(Vec::new());
            }
            return None;
        }
        let cells = g.column_cells(page, target);
        let choice = match vote_choice(c, cells.len()) {
            Ok(choice) => choice,
            Err(Some(said)) => {
                self.notice = Some(format!("no variant {said}"));
                return Some(Vec::new());
            }
            Err(None) => return None,
        };
        Some(self.cast_variant(page, target, &cells, choice))
    }

    fn cast_variant(&mut self, page: usize, target: usize, cells: &[usize], choice: Choice) -> Vec<Effect> {
        let blind = self.names_hidden();
        let Some(g) = self.grid.as_mut() else {
            return Vec::new();
        };
        let (candidates, self_identified) = g.candidates(cells);
        let at = g.shared_ready_repeat(cells).unwrap_or(0);
        let Some(ballot) = g.ballot.as_mut() else {
            return Vec::new();
        };
        ballot.variant_cast.insert((page, target, at), choice);
        let was_hidden = ballot.variants_hidden;
        let (voted, all) = g.variant_progress();
        if voted == all
            && let Some(b) = g.ballot.as_mut()
        {
            b.variants_hidden = false;
            b.revealed = true;
        }
        let case = g.page_label();
        let next = g.next_unvoted_column(page, target);
        if let Some((p, t)) = next
            && matches!(self.focus, Focus::Pane(_))
        {
            g.page = p;
            g.zoomed = None;
            if let Some(&first) = g.column_cells(p, t).first() {
                self.focus = Focus::Pane(first);
            }
        }
        let said = match choice {
            Choice::Best(k) => format!("voted variant {}", blind::label(k)),
            Choice::Tie => "voted a tie of the variants".into(),
            Choice::AllBad => "voted every variant bad".into(),
        };
        let what = case.map(|c| format!(" on {c}")).unwrap_or_default();
        let tail = if was_hidden && voted == all {
            " · every column voted: names shown".to_string()
        } else if was_hidden {
            format!(" · {voted}/{all} columns voted, names shown after the last (ctrl-b shows them now)")
        } else {
            match choice {
                Choice::Best(k) => candidates[k]
                    .variant
                    .as_ref()
                    .map(|v| format!(" ({v})"))
                    .unwrap_or_default(),
                _ => String::new(),
            }
        };
        self.notice = Some(format!("{said}{what}{tail}"));
        self.dirty = true;
        vec![Effect::Vote(VoteRecord {
            wall: String::new(),
            candidates,
            choice,
            blind,
            self_identified,
        })]
    }
}

/// The choice a vote key makes among `count` answers: `Err(Some(reason))` for a digit with
/// no answer behind it (what follows "no answer"/"no variant" in the notice), `Err(None)`
/// for a key that is not a vote.
fn vote_choice(c: char, count: usize) -> Result<Choice, Option<String>> {
    match c {
        '=' => Ok(Choice::Tie),
        '0' => Ok(Choice::AllBad),
        '1'..='9' => {
            let k = c as usize - '1' as usize;
            if k >= count {
                Err(Some(format!("{c} to vote for: 1 to {} pick one", count.min(9))))
            } else {
                Ok(Choice::Best(k))
            }
        }
        _ => Err(None),
    }
}

impl Grid {
    /// The candidates of a vote on `cells` (each the run it shows), and which of them name
    /// their own model or maker.
    fn candidates(&self, cells: &[usize]) -> (Vec<Candidate>, Vec<usize>) {
        let plan = &self.plan;
        let mut candidates = Vec::new();
        let mut self_identified = Vec::new();
        for (k, &c) in cells.iter().enumerate() {
            let cell = &plan.cells[c];
            let run = self.showing(c).map_or(0, |r| self.runs[r].run_id);
            candidates.push(Candidate {
                target: cell.session_target,
                run,
                variant: plan.variant(cell).map(|v| v.name.clone()),
            });
            let t = &plan.session_targets[cell.session_target];
            if blind::self_identifies(self.panes[c].answer.text(), t.provider, &t.model) {
                self_identified.push(k);
            }
        }
        (candidates, self_identified)
    }
}
