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
}

impl Grid {
    /// Start blind voting: a fresh column order from `seed`, names hidden.
    pub fn go_blind(&mut self, seed: u64) {
        self.col_order = blind::shuffled(self.cols(), seed);
        let ballot = self.ballot.get_or_insert_with(GridBallot::default);
        ballot.revealed = false;
        ballot.blind = true;
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
    /// Whether a vote on the grid's current row can be cast now.
    pub fn grid_vote_open(&self) -> bool {
        self.grid().is_some_and(|g| {
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
        let choice = match c {
            '=' => Choice::Tie,
            '0' => Choice::AllBad,
            '1'..='9' => {
                let k = c as usize - '1' as usize;
                if k >= cells.len() {
                    self.notice = Some(format!(
                        "no answer {c} to vote for: 1 to {} pick one",
                        cells.len().min(9)
                    ));
                    return Some(Vec::new());
                }
                Choice::Best(k)
            }
            _ => return None,
        };
        Some(self.cast_grid(page, row, &cells, choice))
    }

    fn cast_grid(&mut self, page: usize, row: usize, cells: &[usize], choice: Choice) -> Vec<Effect> {
        let blind = self.names_hidden();
        let Some(g) = self.grid.as_mut() else {
            return Vec::new();
        };
        let plan = std::sync::Arc::clone(&g.plan);
        let mut candidates = Vec::new();
        let mut self_identified = Vec::new();
        for (k, &c) in cells.iter().enumerate() {
            let cell = &plan.cells[c];
            let run = g.showing(c).map_or(0, |r| g.runs[r].run_id);
            candidates.push(Candidate {
                target: cell.session_target,
                run,
                variant: plan.variant(cell).map(|v| v.name.clone()),
            });
            let t = &plan.session_targets[cell.session_target];
            if blind::self_identifies(g.panes[c].answer.text(), t.provider, &t.model) {
                self_identified.push(k);
            }
        }
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
            b.revealed = true;
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
}
