//! Diff any two panes: `D` on a pane marks it as side A, `D` on another pane shows the
//! word diff of A's answer against that one's, with their similarity, in the same
//! overlay a re-run's diff uses. While blind mode hides the names, the sides are called
//! by their labels.

use std::time::Instant;

use super::app::App;
use super::compare::{DIFF_INTERVAL, DiffView, ended};
use super::msg::Effect;
use super::workspace::Overlay;
use crate::session::compare::{similarity, word_diff};

impl App {
    /// `D` outside a re-run: mark pane `focused` as side A, unmark it, or diff the marked
    /// pane against it.
    pub(super) fn pick_diff(&mut self, focused: Option<usize>) -> Vec<Effect> {
        let Some(b) = focused else {
            self.notice =
                Some("focus a pane first (tab), then D; D on a second pane shows their diff".into());
            return Vec::new();
        };
        match self.diff_mark.filter(|a| *a < self.panes.len()) {
            Some(a) if a == b => {
                self.diff_mark = None;
                self.notice = Some(format!("{}: no longer marked for a diff", self.pane_name(a)));
            }
            Some(a) => {
                self.diff_mark = None;
                self.overlay = Overlay::Diff(self.picked_view(a, b, 0));
            }
            None => {
                self.diff_mark = Some(b);
                self.notice = Some(format!(
                    "{} marked: D on another pane shows the word diff",
                    self.pane_name(b)
                ));
            }
        }
        Vec::new()
    }

    /// The pane marked as side A of a diff, if any.
    pub fn diff_mark(&self) -> Option<usize> {
        self.diff_mark
    }

    /// What a diff calls pane `i`: its target's name, or its label while names are hidden.
    pub fn diff_title(&self, i: usize) -> String {
        if i < self.targets.len() {
            self.pane_name(i)
        } else {
            String::new()
        }
    }

    /// The texts of the two panes of a picked diff, A then B.
    fn picked_texts(&self, a: usize, b: usize) -> (&str, &str) {
        let text = |i: usize| self.panes.get(i).map_or("", |p| p.metrics.text.as_str());
        (text(a), text(b))
    }

    /// A diff of pane `a`'s answer (removed words) against pane `b`'s (added ones).
    fn picked_view(&self, a: usize, b: usize, scroll: u16) -> DiffView {
        let (x, y) = self.picked_texts(a, b);
        picked(a, b, x, y, scroll, self.now)
    }

    /// Redo an open diff of two picked panes whose texts changed since: at once when both
    /// streams have ended, otherwise once [`DIFF_INTERVAL`] has passed.
    pub(super) fn refresh_picked_diff(&mut self) {
        let Overlay::Diff(view) = &self.overlay else {
            return;
        };
        let Some((a, b)) = view.picked else {
            return;
        };
        let (x, y) = self.picked_texts(a, b);
        let settled = [a, b]
            .iter()
            .all(|&i| self.panes.get(i).is_none_or(|p| ended(p.status)));
        if x.len() + y.len() != view.of_len
            && (settled || self.now.saturating_duration_since(view.at) >= DIFF_INTERVAL)
        {
            self.overlay = Overlay::Diff(picked(a, b, x, y, view.scroll, self.now));
        }
    }
}

fn picked(a: usize, b: usize, x: &str, y: &str, scroll: u16, at: Instant) -> DiffView {
    DiffView {
        pair: 0,
        picked: Some((a, b)),
        chunks: word_diff(x, y),
        similarity: similarity(x, y),
        scroll,
        lines: u16::MAX,
        page: 1,
        of_len: x.len() + y.len(),
        at,
    }
}
