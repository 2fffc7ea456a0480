//! Blind mode and votes: the panes shown as A, B, C… in a shuffled order with every name
//! hidden, and the vote on the answers of a send that reveals them.
//!
//! The order on screen follows the labels (A is drawn first), so a pane's position does
//! not give its target away either. A vote is possible once every pane of the send has
//! ended; it is recorded in the session with its candidates in the order shown.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{App, Focus};
use super::msg::Effect;
use super::workspace::Workspace;
use crate::session::votes::{Candidate, Choice, VoteRecord};
use crate::workflows::blind;

/// Blind mode's state and the vote the panes wait for.
#[derive(Debug, Clone, Default)]
pub struct Blind {
    /// Blind mode is on: names are hidden until the vote.
    pub on: bool,
    /// The order on screen: `order[k]` is the pane labelled `blind::label(k)`. Empty
    /// means config order.
    pub order: Vec<usize>,
    /// The vote on the last send, if it had two answers or more.
    pub ballot: Option<Ballot>,
    /// Experiment grids vote on the variants of a column (`alt-b`), not the targets of a
    /// row: the next blind experiment hides its variant names from the start.
    pub vote_variants: bool,
}

/// The answers of one send, waiting for a vote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ballot {
    /// The panes of the send, in the order shown.
    pub panes: Vec<usize>,
    /// The verdict, once cast; the names are shown again from then on.
    pub cast: Option<Choice>,
}

impl Blind {
    /// Whether names are hidden now: blind mode is on and the send on screen was not
    /// voted on yet.
    pub fn hidden(&self) -> bool {
        self.on && self.ballot.as_ref().is_none_or(|b| b.cast.is_none())
    }

    /// The screen position of pane `i`.
    pub fn position(&self, i: usize) -> usize {
        self.order.iter().position(|p| *p == i).unwrap_or(i)
    }

    /// Pane `i`'s label: its letter by screen position.
    pub fn label(&self, i: usize) -> String {
        blind::label(self.position(i))
    }
}

impl App {
    /// Whether provider, model and target names are hidden on screen now.
    pub fn names_hidden(&self) -> bool {
        if !matches!(self.workspace, Workspace::Live) {
            return false;
        }
        match self.grid() {
            // The experiment grid on screen has votes of its own (see `grid_vote`).
            Some(g) => self.blind.on && g.ballot.as_ref().is_none_or(|b| !b.revealed || b.variants_hidden),
            None => self.blind.hidden(),
        }
    }

    /// Panes in the order they are drawn.
    pub fn screen_order(&self) -> Vec<usize> {
        let n = self.panes.len();
        if self.blind.order.len() == n && matches!(self.workspace, Workspace::Live) {
            self.blind.order.clone()
        } else {
            (0..n).collect()
        }
    }

    /// What pane `i` is called in notices: its label while names are hidden.
    pub(super) fn pane_name(&self, i: usize) -> String {
        if self.names_hidden() {
            self.blind.label(i)
        } else {
            self.targets[i].name.clone()
        }
    }

    /// `text` with every target name, model id and provider name replaced (by the pane's
    /// label, or `…` for a provider), for text shown while names are hidden.
    pub fn mask(&self, text: &str) -> String {
        if !self.names_hidden() {
            return text.to_string();
        }
        let mut words: Vec<(String, String)> = Vec::new();
        let mut hide = |t: &crate::target::Target, label: String| {
            words.push((t.model.clone(), label.clone()));
            if let Some(last) = t.model.rsplit('/').next() {
                words.push((last.to_string(), label.clone()));
            }
            words.push((t.name.clone(), label));
            words.push((t.provider.to_string(), "…".into()));
        };
        match self.grid() {
            // A grid's columns have labels of their own; targets off the grid are no one.
            Some(g) => {
                // The grid's own first: for the same word, the first one pushed wins.
                for cell in &g.plan.cells {
                    let col = g
                        .col_order
                        .iter()
                        .position(|c| *c == cell.target)
                        .unwrap_or(cell.target);
                    hide(&g.plan.session_targets[cell.session_target], blind::label(col));
                }
                for t in &self.targets {
                    hide(t, "…".into());
                }
            }
            None => {
                for (i, t) in self.targets.iter().enumerate() {
                    hide(t, self.blind.label(i));
                }
            }
        }
        // Longer first, so a model id is replaced whole before a name inside it.
        words.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
        let mut out = text.to_string();
        for (word, by) in words.iter().filter(|(w, _)| !w.is_empty()) {
            out = replace_ignoring_case(&out, word, by);
        }
        out
    }

    /// Turn blind mode on (a fresh shuffle, names hidden) or off (names shown; a vote
    /// still pending is no longer blind).
    pub(super) fn toggle_blind(&mut self) {
        if !matches!(self.workspace, Workspace::Live) {
            self.notice = Some("blind mode is for live sends: ctrl-n goes back to them".into());
            return;
        }
        self.blind.on = !self.blind.on;
        if self.grid().is_some() {
            self.toggle_grid_blind();
            return;
        }
        if self.blind.on {
            self.shuffle();
            // A vote pending from before is kept, now under the new labels.
            let order = self.blind.order.clone();
            if let Some(b) = &mut self.blind.ballot
                && b.cast.is_none()
            {
                b.panes.sort_by_key(|p| order.iter().position(|o| o == p));
            }
            self.overlay.close_pane_views();
            self.zoomed = None;
            self.notice = Some("blind mode: names hidden until you vote on the answers".into());
        } else {
            self.blind.order.clear();
            if let Some(b) = &mut self.blind.ballot {
                b.panes.sort_unstable();
            }
            self.notice = Some("blind mode off: names shown".into());
        }
    }

    /// Blind mode switched with the experiment grid on screen: on, a fresh column order
    /// and names hidden (votes go on, blind from now on); off, the names are shown.
    fn toggle_grid_blind(&mut self) {
        let seed = self.rng.u64(..);
        let on = self.blind.on;
        if let Some(g) = self.grid.as_mut() {
            if on {
                g.go_blind(seed);
            } else if let Some(b) = g.ballot.as_mut() {
                b.revealed = true;
                b.variants_hidden = false;
            }
        }
        self.overlay.close_pane_views();
        self.notice = Some(if on {
            "blind mode: the grid's columns are shuffled and named A, B, C… until every row has a vote".into()
        } else {
            "blind mode off: names shown".into()
        });
    }

    /// A fresh screen order.
    fn shuffle(&mut self) {
        let seed = self.rng.u64(..);
        self.blind.order = blind::shuffled(self.panes.len(), seed);
    }

    /// A send to `panes` began: a fresh order in blind mode, and a vote to come when it
    /// has two answers or more.
    pub(super) fn begin_ballot(&mut self, panes: &[usize]) {
        if self.blind.on {
            self.shuffle();
        }
        let mut shown = panes.to_vec();
        shown.sort_by_key(|p| self.blind.position(*p));
        self.blind.ballot = (shown.len() >= 2).then_some(Ballot {
            panes: shown,
            cast: None,
        });
    }

    /// Forget the vote on screen (the panes show something else now).
    pub(super) fn drop_ballot(&mut self) {
        self.blind.ballot = None;
    }

    /// The panes were replaced (a session opened, a replay, back home): no vote on them,
    /// and in blind mode a fresh order for as many panes as there are now.
    pub(super) fn panes_replaced(&mut self) {
        self.drop_ballot();
        self.reset_board();
        if self.blind.on {
            self.shuffle();
        } else {
            self.blind.order.clear();
        }
    }

    /// Whether a vote can be cast now: every pane of the send has ended.
    pub fn vote_open(&self) -> bool {
        matches!(self.workspace, Workspace::Live)
            && self.blind.ballot.as_ref().is_some_and(|b| {
                b.cast.is_none()
                    && b.panes
                        .iter()
                        .all(|&i| self.panes.get(i).is_some_and(|p| !p.status.is_active()))
            })
    }

    /// The candidates of the open vote, in the order shown.
    pub fn vote_candidates(&self) -> Vec<usize> {
        self.blind
            .ballot
            .as_ref()
            .map(|b| b.panes.clone())
            .unwrap_or_default()
    }

    /// A vote key: `1`..`9` the best by label (A is 1), `=` a tie, `0` all bad; in the
    /// editor the same with Alt, so that typing digits stays typing. `None` when `key`
    /// is not one or no vote is open.
    pub(super) fn vote_key(&mut self, key: &KeyEvent) -> Option<Vec<Effect>> {
        let KeyCode::Char(c) = key.code else {
            return None;
        };
        let in_panes = matches!(self.focus, Focus::Pane(_));
        let wanted = if in_panes {
            KeyModifiers::NONE
        } else {
            KeyModifiers::ALT
        };
        if key.modifiers.difference(KeyModifiers::SHIFT) != wanted {
            return None;
        }
        if self.grid().is_some() {
            return self.grid_vote(c);
        }
        if !self.vote_open() {
            return None;
        }
        let choice = match c {
            '=' => Choice::Tie,
            '0' => Choice::AllBad,
            '1'..='9' => {
                let position = c as usize - '1' as usize;
                let pane = self.screen_order().get(position).copied();
                let candidates = self.vote_candidates();
                match pane.and_then(|p| candidates.iter().position(|c| *c == p)) {
                    Some(k) => Choice::Best(k),
                    None => {
                        self.notice = Some(format!(
                            "no answer {c} to vote for: 1 to {} pick one",
                            self.panes.len().min(9)
                        ));
                        return Some(Vec::new());
                    }
                }
            }
            _ => return None,
        };
        Some(self.cast(choice))
    }

    /// Record `choice` on the open vote and show the names.
    fn cast(&mut self, choice: Choice) -> Vec<Effect> {
        let blind = self.names_hidden();
        let panes = self.vote_candidates();
        let candidates = panes
            .iter()
            .map(|&i| Candidate {
                target: i,
                run: self.panes[i].run.map_or(0, |r| r.0),
                variant: None,
            })
            .collect();
        let self_identified = panes
            .iter()
            .enumerate()
            .filter(|(_, i)| {
                let t = &self.targets[**i];
                blind::self_identifies(self.panes[**i].answer.text(), t.provider, &t.model)
            })
            .map(|(k, _)| k)
            .collect();
        if let Some(b) = &mut self.blind.ballot {
            b.cast = Some(choice);
        }
        self.log_vote(choice, &panes);
        let said = match choice {
            Choice::Best(k) => {
                let i = panes[k];
                let t = &self.targets[i];
                format!("voted {}: {} ({})", self.blind.label(i), t.name, t.model)
            }
            Choice::Tie => "voted a tie".to_string(),
            Choice::AllBad => "voted all bad".to_string(),
        };
        let saved = if self.session_open { "" } else { " (not saved)" };
        self.notice = Some(format!("{said}{saved}"));
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

/// `text` with every occurrence of `word` (any case) replaced by `by`.
fn replace_ignoring_case(text: &str, word: &str, by: &str) -> String {
    let lower = text.to_lowercase();
    let needle = word.to_lowercase();
    // Lowercasing may change byte lengths outside ASCII; then match exactly.
    if lower.len() != text.len() || needle.len() != word.len() {
        return text.replace(word, by);
    }
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for (at, _) in lower.match_indices(&needle) {
        if at < from {
            continue;
        }
        out.push_str(&text[from..at]);
        out.push_str(by);
        from = at + needle.len();
    }
    out.push_str(&text[from..]);
    out
}
