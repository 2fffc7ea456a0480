//! The scoreboard overlay: one row per (variant, target) over every finished run of this
//! workbench session, sortable by any column, with the votes cast on its sends.
//!
//! Every stream that ends in a pane is logged as one run of its target (a turn, a
//! retry, a replayed answer), with the numbers `prism run` would print for it. The rows
//! come from [`scoreboard::scoreboard`], the same function the headless summary and
//! the experiment grid feed, so every face shows the same numbers. The log starts over
//! when the panes show something else (a new conversation, a session opened, a replay,
//! a re-run), as their targets and indices change with them.

use crossterm::event::{KeyCode, KeyEvent};

use super::app::App;
use super::msg::Effect;
use super::workspace::Overlay;
use crate::keys::Action;
use crate::session::votes::Choice;
use crate::workflows::experiment::results::RunResult;
use crate::workflows::experiment::scoreboard::{self, Column, ScoreRow, Scored};

/// The columns the overlay sorts by, in the order `←`/`→` walk them.
pub const COLUMNS: [Column; 10] = [
    Column::Variant,
    Column::Target,
    Column::N,
    Column::Failures,
    Column::TtftMean,
    Column::TtftP95,
    Column::TokensPerS,
    Column::OutputTokens,
    Column::Cost,
    Column::Votes,
];

/// What this session ran and how its votes went, for the scoreboard.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoreLog {
    /// Every finished run, in the order they ended.
    runs: Vec<Scored>,
    /// Votes cast; `None` until the first.
    votes: Option<Vec<(Option<String>, String)>>,
}

/// The open scoreboard: how its rows are sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Board {
    /// The column sorted by, best first; `None` keeps variant then target order.
    pub sort: Option<Column>,
    /// Worst first instead (names: Z to A). Rows without a value stay last.
    pub reversed: bool,
}

impl Board {
    /// Sort by the next (`step` 1) or previous (`step` -1) column, after "unsorted".
    pub fn step(&mut self, step: isize) {
        let at = self
            .sort
            .and_then(|c| COLUMNS.iter().position(|k| *k == c))
            .map_or(0, |i| i + 1) as isize;
        let next = (at + step).rem_euclid(COLUMNS.len() as isize + 1) as usize;
        self.sort = next.checked_sub(1).map(|i| COLUMNS[i]);
    }
}

/// The rows of `scored`, with `winners` (the (variant, target) each vote picked) counted
/// when there were votes, sorted as `board` says.
pub fn rows(
    scored: Vec<Scored>,
    winners: Option<&[(Option<String>, String)]>,
    board: &Board,
) -> Vec<ScoreRow> {
    let mut rows = scoreboard::scoreboard(scored);
    if let Some(w) = winners {
        scoreboard::count_votes(&mut rows, w.iter().cloned());
    }
    if let Some(column) = board.sort {
        scoreboard::sort(&mut rows, column);
        if board.reversed {
            // Reverse the rows with a value; the unknown ones stay at the end.
            let known = match column {
                Column::Variant | Column::Target => rows.len(),
                _ => rows.iter().filter(|r| column.value(r).is_some()).count(),
            };
            rows[..known].reverse();
        }
    }
    rows
}

impl App {
    /// What the scoreboard shows: the experiment on screen (one row per variant and
    /// target), else every finished run of this workbench session, one per stream that
    /// ended in a pane (each turn of a target is one run of its row).
    pub fn scored(&self) -> Vec<Scored> {
        if self.grid.is_some() {
            return self.experiment_scored();
        }
        self.score_log.runs.clone()
    }

    /// The scoreboard's rows as `board` sorts them.
    pub fn scoreboard_rows(&self, board: &Board) -> Vec<ScoreRow> {
        rows(self.scored(), self.score_log.votes.as_deref(), board)
    }

    /// Log the run that just ended in pane `i`, with the numbers of its result row.
    pub(super) fn log_run(&mut self, i: usize) {
        let (Some(target), Some(pane)) = (self.targets.get(i), self.panes.get(i)) else {
            return;
        };
        let request = self
            .conversation
            .sent
            .get(i)
            .and_then(Option::as_ref)
            .map(|s| s.request.clone())
            .unwrap_or_default();
        let row = crate::report::row(target, &request, &pane.metrics, &self.prices);
        self.score_log.runs.push(Scored {
            variant: None,
            target: (i, target.name.clone()),
            run: RunResult::of(&row),
        });
    }

    /// Take back the run last logged for pane `i`: it goes on (a follow-up round) and is
    /// logged again, whole, when it ends.
    pub(super) fn unlog_run(&mut self, i: usize) {
        if let Some(at) = self.score_log.runs.iter().rposition(|s| s.target.0 == i) {
            self.score_log.runs.remove(at);
        }
    }

    /// Count a vote cast on `panes` (in the order shown).
    pub(super) fn log_vote(&mut self, choice: Choice, panes: &[usize]) {
        let winner = match choice {
            Choice::Best(k) => panes.get(k).and_then(|&i| self.targets.get(i)),
            Choice::Tie | Choice::AllBad => None,
        };
        let votes = self.score_log.votes.get_or_insert_with(Vec::new);
        if let Some(t) = winner {
            votes.push((None, t.name.clone()));
        }
    }

    /// The panes show something else now: their runs, votes and diff mark go.
    pub(super) fn reset_board(&mut self) {
        self.score_log = ScoreLog::default();
        self.diff_mark = None;
    }

    /// Open the scoreboard, or close it. Not while names are hidden: its rows name every
    /// target.
    pub(super) fn toggle_scoreboard(&mut self) {
        if matches!(self.overlay, Overlay::Scoreboard(_)) {
            self.overlay = Overlay::None;
        } else if self.names_hidden() {
            self.notice =
                Some("the scoreboard names the targets: vote first (or ctrl-b leaves blind mode)".into());
        } else {
            self.overlay = Overlay::Scoreboard(Board::default());
        }
    }

    /// Keys while the scoreboard is open: `←`/`→` (`h`/`l`) pick the sort column (of
    /// those shown), `r` reverses it, quit quits, any other key closes it. `None` when it
    /// is not open.
    pub(super) fn scoreboard_key(&mut self, key: &KeyEvent, action: Option<Action>) -> Option<Vec<Effect>> {
        let step = match key.code {
            KeyCode::Left | KeyCode::Char('h') => -1,
            KeyCode::Right | KeyCode::Char('l') => 1,
            _ => 0,
        };
        // Variants and votes are columns only when there are some.
        let rows = if step != 0 {
            self.scoreboard_rows(&Board::default())
        } else {
            Vec::new()
        };
        let shown = |c: Option<Column>| match c {
            Some(Column::Variant) => rows.iter().any(|r| r.variant.is_some()),
            Some(Column::Votes) => rows.iter().any(|r| r.votes.is_some()),
            _ => true,
        };
        let Overlay::Scoreboard(board) = &mut self.overlay else {
            return None;
        };
        match key.code {
            _ if step != 0 => {
                for _ in 0..=COLUMNS.len() {
                    board.step(step);
                    if shown(board.sort) {
                        break;
                    }
                }
            }
            KeyCode::Char('r') => board.reversed = !board.reversed,
            _ if action == Some(Action::Quit) => return Some(vec![Effect::Quit]),
            _ => self.overlay = Overlay::None,
        }
        Some(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn stepping_walks_every_column_and_back_to_unsorted() {
        let mut b = Board::default();
        b.step(1);
        assert_eq!(b.sort, Some(Column::Variant));
        b.step(-1);
        assert_eq!(b.sort, None);
        b.step(-1);
        assert_eq!(b.sort, Some(Column::Votes), "wraps around");
        for _ in 0..COLUMNS.len() {
            b.step(1);
        }
        assert_eq!(b.sort, Some(Column::Cost));
    }
}
