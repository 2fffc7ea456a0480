//! A judgement recorded in a session: which of the answers on screen was best.
//!
//! A vote names its candidates by what they are in the session (a target index, the
//! variant's name, the run), in the order they were shown, so it can be read back and
//! tallied without the screen it was made on. Whether the names were hidden when it was
//! made is recorded too: a blind vote is the one people trust.

use serde::{Deserialize, Serialize};

/// One vote, as a line of `events.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoteRecord {
    /// Wall-clock time of the vote, RFC 3339 UTC.
    pub wall: String,
    /// The answers voted on, in the order shown (label A is the first).
    pub candidates: Vec<Candidate>,
    /// The verdict.
    pub choice: Choice,
    /// Provider and model names were hidden until the vote.
    pub blind: bool,
    /// Candidates (by position in `candidates`) whose answer named its own model or
    /// vendor, so the vote may not have been blind in fact.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub self_identified: Vec<usize>,
}

/// One answer that was on screen when the vote was cast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// Index into the session's targets.
    pub target: usize,
    /// The run whose answer it was.
    pub run: u64,
    /// The prompt variant it answered, by name, when the send was an experiment's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// The verdict of a vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    /// This candidate (a position in the vote's `candidates`) was best.
    Best(usize),
    /// No candidate was better than the others.
    Tie,
    /// Every answer was bad.
    AllBad,
}

impl VoteRecord {
    /// Why this vote cannot be read against a session with `targets` targets, if it
    /// cannot: each candidate must name a target, and a best choice a candidate.
    pub fn problem(&self, targets: usize) -> Option<String> {
        if let Some(c) = self.candidates.iter().find(|c| c.target >= targets) {
            return Some(format!(
                "a vote names target {} but the session has {targets}",
                c.target
            ));
        }
        if let Choice::Best(i) = self.choice
            && i >= self.candidates.len()
        {
            return Some(format!(
                "a vote picks answer {} of {}",
                i + 1,
                self.candidates.len()
            ));
        }
        if let Some(i) = self.self_identified.iter().find(|&&i| i >= self.candidates.len()) {
            return Some(format!(
                "a vote flags answer {} of {}",
                i + 1,
                self.candidates.len()
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(choice: Choice) -> VoteRecord {
        VoteRecord {
            wall: "2026-11-30T00:00:00Z".into(),
            candidates: vec![
                Candidate {
                    target: 1,
                    run: 3,
                    variant: Some("terse".into()),
                },
                Candidate {
                    target: 0,
                    run: 3,
                    variant: None,
                },
            ],
            choice,
            blind: true,
            self_identified: vec![],
        }
    }

    #[test]
    fn choices_read_as_written() {
        #[allow(clippy::unwrap_used)]
        let json = |c| serde_json::to_string(&vote(c)).unwrap();
        assert!(json(Choice::Best(1)).contains(r#""choice":{"best":1}"#));
        assert!(json(Choice::Tie).contains(r#""choice":"tie""#));
        assert!(json(Choice::AllBad).contains(r#""choice":"all_bad""#));
        for c in [Choice::Best(0), Choice::Tie, Choice::AllBad] {
            #[allow(clippy::unwrap_used)]
            let back: VoteRecord = serde_json::from_str(&json(c)).unwrap();
            assert_eq!(back, vote(c));
        }
    }

    #[test]
    fn a_vote_that_names_what_is_not_there_is_a_problem() {
        assert_eq!(vote(Choice::Best(1)).problem(2), None);
        assert!(
            vote(Choice::Best(1))
                .problem(1)
                .is_some_and(|p| p.contains("target 1"))
        );
        assert!(
            vote(Choice::Best(2))
                .problem(2)
                .is_some_and(|p| p.contains("answer 3 of 2"))
        );
        let mut flagged = vote(Choice::Tie);
        flagged.self_identified = vec![5];
        assert!(flagged.problem(2).is_some());
    }
}
