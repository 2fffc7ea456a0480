//! Votes tallied across sessions: win rates per target and per prompt variant, with a
//! confidence interval, and who beat whom.
//!
//! A target is known across sessions by its name, provider and model together (two
//! sessions may give one name to different models). A candidate "appears" in every vote
//! it was on screen for; its win rate is wins over appearances, with the 95 % Wilson
//! score interval, which stays inside 0..1 and is honest for the handful of votes people
//! actually cast. Ties and "all bad" are appearances without a win, counted apart.
//! A variant's record counts only the votes that showed two variants or more.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::session::Session;
use crate::session::votes::{Choice, VoteRecord};

/// z for a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// What a target is, across sessions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct TargetKey {
    /// The target's name in its config.
    pub name: String,
    /// Provider kind, as configured.
    pub provider: String,
    /// Model id.
    pub model: String,
}

/// The votes one target (or variant) was part of.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Record {
    /// Votes it was a candidate in.
    pub votes: u32,
    /// Votes it won.
    pub wins: u32,
    /// Votes that ended in a tie.
    pub ties: u32,
    /// Votes that found every answer bad.
    pub all_bad: u32,
}

impl Record {
    /// Wins over votes; `None` before the first vote.
    pub fn win_rate(&self) -> Option<f64> {
        (self.votes > 0).then(|| f64::from(self.wins) / f64::from(self.votes))
    }

    /// The 95 % Wilson score interval of the win rate.
    pub fn interval(&self) -> Option<(f64, f64)> {
        wilson(self.wins, self.votes)
    }
}

/// The 95 % Wilson score interval for `successes` out of `trials`; `None` for no trials.
pub fn wilson(successes: u32, trials: u32) -> Option<(f64, f64)> {
    if trials == 0 {
        return None;
    }
    let n = f64::from(trials);
    let p = f64::from(successes.min(trials)) / n;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Every vote of the sessions read, tallied.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tally {
    /// Votes read.
    pub votes: u32,
    /// Of those, votes cast with the names hidden.
    pub blind: u32,
    /// Votes in which some answer named its own model or vendor.
    pub self_identified: u32,
    /// Sessions that held at least one vote.
    pub sessions: u32,
    /// Per target.
    pub targets: BTreeMap<TargetKey, Record>,
    /// Per prompt variant (votes whose candidates answered a variant).
    pub variants: BTreeMap<String, Record>,
    /// `(winner, loser)` → votes in which the first was picked over the second, both
    /// on screen.
    pub beats: BTreeMap<(TargetKey, TargetKey), u32>,
}

/// Which votes count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only votes cast blind.
    pub blind_only: bool,
    /// Leave out votes in which an answer named its own model or vendor.
    pub skip_self_identified: bool,
}

impl Tally {
    /// Add every vote of `session` that `filter` lets through.
    pub fn add(&mut self, session: &Session, filter: Filter) {
        let mut counted = false;
        for vote in &session.votes {
            if (filter.blind_only && !vote.blind)
                || (filter.skip_self_identified && !vote.self_identified.is_empty())
            {
                continue;
            }
            self.add_vote(session, vote);
            counted = true;
        }
        self.sessions += u32::from(counted);
    }

    fn add_vote(&mut self, session: &Session, vote: &VoteRecord) {
        self.votes += 1;
        self.blind += u32::from(vote.blind);
        self.self_identified += u32::from(!vote.self_identified.is_empty());
        let keys: Vec<Option<TargetKey>> = vote
            .candidates
            .iter()
            .map(|c| {
                session.targets.get(c.target).map(|t| TargetKey {
                    name: t.name.clone(),
                    provider: t.provider.clone(),
                    model: t.model.clone(),
                })
            })
            .collect();
        let winner = match vote.choice {
            Choice::Best(i) => Some(i),
            Choice::Tie | Choice::AllBad => None,
        };
        // A target shown twice in one vote (two variants of it) appears once per target
        // record, so its rate stays a share of votes; each variant is its own candidate.
        let mut seen_targets: Vec<&TargetKey> = Vec::new();
        // The same the other way round: a vote among one target's answers to different
        // variants (a column of the experiment grid) says nothing about the targets.
        let mut targets: Vec<&TargetKey> = keys.iter().flatten().collect();
        targets.sort_unstable();
        targets.dedup();
        for key in keys.iter().flatten().filter(|_| targets.len() >= 2) {
            if seen_targets.contains(&key) {
                continue;
            }
            seen_targets.push(key);
            let won = winner.is_some_and(|w| keys.get(w).is_some_and(|k| k.as_ref() == Some(key)));
            count(self.targets.entry(key.clone()).or_default(), vote.choice, won);
        }
        let mut seen_variants: Vec<&str> = Vec::new();
        // A vote among one variant's answers (a row of the experiment grid compares the
        // targets) says nothing about the variants: it would be a win for its variant
        // every time. Only votes that put two variants side by side count for them.
        let mut variants: Vec<&str> = vote
            .candidates
            .iter()
            .filter_map(|c| c.variant.as_deref())
            .collect();
        variants.sort_unstable();
        variants.dedup();
        for c in vote.candidates.iter().filter(|_| variants.len() >= 2) {
            let Some(v) = c.variant.as_deref() else { continue };
            if seen_variants.contains(&v) {
                continue;
            }
            seen_variants.push(v);
            let won =
                winner.is_some_and(|w| vote.candidates.get(w).and_then(|c| c.variant.as_deref()) == Some(v));
            count(self.variants.entry(v.to_string()).or_default(), vote.choice, won);
        }
        if let Some(Some(w)) = winner.and_then(|w| keys.get(w)) {
            let mut losers: Vec<&TargetKey> = keys.iter().flatten().filter(|k| *k != w).collect();
            losers.sort();
            losers.dedup();
            for loser in losers {
                *self.beats.entry((w.clone(), loser.clone())).or_default() += 1;
            }
        }
    }

    /// Times `a` was picked over `b` and `b` over `a`.
    pub fn head_to_head(&self, a: &TargetKey, b: &TargetKey) -> (u32, u32) {
        let get =
            |x: &TargetKey, y: &TargetKey| self.beats.get(&(x.clone(), y.clone())).copied().unwrap_or(0);
        (get(a, b), get(b, a))
    }
}

fn count(record: &mut Record, choice: Choice, won: bool) {
    record.votes += 1;
    record.wins += u32::from(won);
    match choice {
        Choice::Tie => record.ties += 1,
        Choice::AllBad => record.all_bad += 1,
        Choice::Best(_) => {}
    }
}

#[cfg(test)]
mod tests;
