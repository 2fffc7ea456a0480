#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use super::*;
use crate::pricing::PriceTable;
use crate::session::votes::Candidate;
use crate::session::{SessionWriter, load};
use crate::target::{KeySource, Params, ProviderKind, Target};

fn target(name: &str, provider: ProviderKind, model: &str) -> Target {
    Target {
        name: name.into(),
        provider,
        model: model.into(),
        base_url: "http://127.0.0.1:9/v1".into(),
        key: KeySource::None,
        params: Params {
            stream: true,
            ..Params::default()
        },
    }
}

fn shown(targets: &[usize], variants: &[Option<&str>]) -> Vec<Candidate> {
    targets
        .iter()
        .zip(variants)
        .map(|(&target, v)| Candidate {
            target,
            run: 1,
            variant: v.map(str::to_string),
        })
        .collect()
}

fn vote(candidates: Vec<Candidate>, choice: Choice, blind: bool) -> VoteRecord {
    VoteRecord {
        wall: "2026-11-30T00:00:00Z".into(),
        candidates,
        choice,
        blind,
        self_identified: Vec::new(),
    }
}

/// A session on disk holding `votes` for `targets`, read back as users' sessions are.
fn session(root: &Path, targets: &[Target], votes: Vec<VoteRecord>) -> Session {
    let writer = SessionWriter::create(root, targets, PriceTable::default()).unwrap();
    for v in votes {
        writer.vote(v);
    }
    writer.close();
    load(writer.dir()).unwrap()
}

fn key(t: &Target) -> TargetKey {
    TargetKey {
        name: t.name.clone(),
        provider: t.provider.to_string(),
        model: t.model.clone(),
    }
}

#[test]
fn wilson_matches_hand_computed_intervals() {
    let close = |(lo, hi): (f64, f64), (a, b): (f64, f64)| {
        assert!(
            (lo - a).abs() < 5e-5 && (hi - b).abs() < 5e-5,
            "{lo} {hi} vs {a} {b}"
        );
    };
    // 8 of 10: p = 0.8, centre 0.716741, half-width 0.226576.
    close(wilson(8, 10).unwrap(), (0.490165, 0.943317));
    // 0 of 5: the lower bound is 0, the upper z²/n / (1 + z²/n) · 2 / 2 = 0.434482.
    close(wilson(0, 5).unwrap(), (0.0, 0.434482));
    close(wilson(5, 5).unwrap(), (0.565518, 1.0));
    assert_eq!(wilson(0, 0), None);
}

#[test]
fn votes_tally_across_sessions_by_name_provider_and_model() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let gpt = target("gpt", ProviderKind::OpenAi, "gpt-4o-mini");
    let claude = target("claude", ProviderKind::Anthropic, "claude-haiku-4-5");
    let gemini = target("gemini", ProviderKind::Gemini, "gemini-2.5-flash");
    // Same name, another model: a different target.
    let gpt5 = target("gpt", ProviderKind::OpenAi, "gpt-5-mini");
    let first = session(
        a.path(),
        &[gpt.clone(), claude.clone(), gemini.clone()],
        vec![
            vote(shown(&[1, 0, 2], &[None; 3]), Choice::Best(0), true),
            vote(shown(&[0, 2, 1], &[None; 3]), Choice::Best(2), true),
            vote(shown(&[2, 1, 0], &[None; 3]), Choice::Tie, false),
        ],
    );
    let second = session(
        b.path(),
        &[claude.clone(), gpt5.clone()],
        vec![vote(shown(&[1, 0], &[None; 2]), Choice::AllBad, true)],
    );
    let mut tally = Tally::default();
    tally.add(&first, Filter::default());
    tally.add(&second, Filter::default());
    assert_eq!((tally.votes, tally.blind, tally.sessions), (4, 3, 2));
    let claude_record = &tally.targets[&key(&claude)];
    assert_eq!(
        claude_record,
        &Record {
            votes: 4,
            wins: 2,
            ties: 1,
            all_bad: 1
        }
    );
    assert_eq!(claude_record.win_rate(), Some(0.5));
    assert_eq!(tally.targets[&key(&gpt)].wins, 0);
    assert_eq!(tally.targets[&key(&gpt)].votes, 3);
    assert_eq!(tally.targets[&key(&gpt5)].votes, 1);
    assert_eq!(tally.targets[&key(&gemini)].votes, 3);
    // Both of claude's wins were over gpt and gemini, who were on screen.
    assert_eq!(tally.head_to_head(&key(&claude), &key(&gpt)), (2, 0));
    assert_eq!(tally.head_to_head(&key(&gemini), &key(&claude)), (0, 2));
    assert_eq!(tally.head_to_head(&key(&claude), &key(&gpt5)), (0, 0));

    let mut blind = Tally::default();
    let only_blind = Filter {
        blind_only: true,
        ..Filter::default()
    };
    blind.add(&first, only_blind);
    blind.add(&second, only_blind);
    assert_eq!(blind.votes, 3);
    assert_eq!(blind.targets[&key(&claude)].ties, 0);
}

#[test]
fn variants_are_tallied_by_name_and_a_target_shown_twice_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let gpt = target("gpt", ProviderKind::OpenAi, "gpt-4o-mini");
    let claude = target("claude", ProviderKind::Anthropic, "claude-haiku-4-5");
    let s = session(
        dir.path(),
        &[gpt.clone(), claude.clone()],
        vec![
            // Two variants on each of two targets; "terse" on gpt wins.
            vote(
                shown(
                    &[0, 0, 1, 1],
                    &[Some("terse"), Some("chatty"), Some("terse"), Some("chatty")],
                ),
                Choice::Best(0),
                true,
            ),
            vote(
                shown(&[1, 1], &[Some("terse"), Some("chatty")]),
                Choice::Best(1),
                true,
            ),
        ],
    );
    let mut tally = Tally::default();
    tally.add(&s, Filter::default());
    assert_eq!(
        tally.variants["terse"],
        Record {
            votes: 2,
            wins: 1,
            ..Record::default()
        }
    );
    assert_eq!(tally.variants["chatty"].wins, 1);
    assert_eq!(tally.targets[&key(&gpt)].votes, 1);
    // The second vote showed claude alone (two variants of it): no vote on targets.
    assert_eq!(tally.targets[&key(&claude)].votes, 1);
    assert_eq!(tally.targets[&key(&claude)].wins, 0);
    assert_eq!(tally.votes, 2);
    // A target does not beat itself when its other variant loses.
    assert_eq!(tally.head_to_head(&key(&claude), &key(&claude)), (0, 0));
    assert_eq!(tally.head_to_head(&key(&gpt), &key(&claude)), (1, 0));
}

#[test]
fn self_identified_votes_can_be_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let gpt = target("gpt", ProviderKind::OpenAi, "gpt-4o-mini");
    let claude = target("claude", ProviderKind::Anthropic, "claude-haiku-4-5");
    let mut leaked = vote(shown(&[0, 1], &[None; 2]), Choice::Best(1), true);
    leaked.self_identified = vec![1];
    let s = session(
        dir.path(),
        &[gpt, claude],
        vec![leaked, vote(shown(&[1, 0], &[None; 2]), Choice::Best(1), true)],
    );
    let mut all = Tally::default();
    all.add(&s, Filter::default());
    assert_eq!((all.votes, all.self_identified), (2, 1));
    let mut clean = Tally::default();
    clean.add(
        &s,
        Filter {
            skip_self_identified: true,
            ..Filter::default()
        },
    );
    assert_eq!((clean.votes, clean.self_identified), (1, 0));
}

#[test]
fn a_vote_among_one_variants_answers_is_no_vote_on_variants() {
    let dir = tempfile::tempdir().unwrap();
    let gpt = target("gpt", ProviderKind::OpenAi, "gpt-4o-mini");
    let claude = target("claude", ProviderKind::Anthropic, "claude-haiku-4-5");
    // A row of the experiment grid: both targets' answers to the variant "terse".
    let s = session(
        dir.path(),
        &[gpt.clone(), claude],
        vec![vote(
            shown(&[0, 1], &[Some("terse"), Some("terse")]),
            Choice::Best(0),
            true,
        )],
    );
    let mut tally = Tally::default();
    tally.add(&s, Filter::default());
    assert!(tally.variants.is_empty(), "{:?}", tally.variants);
    assert_eq!(tally.votes, 1);
    assert_eq!(tally.targets[&key(&gpt)].wins, 1);
}

#[test]
fn a_vote_among_one_targets_answers_is_no_vote_on_targets() {
    let dir = tempfile::tempdir().unwrap();
    let gpt = target("gpt", ProviderKind::OpenAi, "gpt-4o-mini");
    // A column of the experiment grid: gpt's answers to two variants.
    let s = session(
        dir.path(),
        std::slice::from_ref(&gpt),
        vec![vote(
            shown(&[0, 0], &[Some("terse"), Some("chatty")]),
            Choice::Best(1),
            true,
        )],
    );
    let mut tally = Tally::default();
    tally.add(&s, Filter::default());
    assert!(tally.targets.is_empty(), "{:?}", tally.targets);
    assert!(tally.beats.is_empty(), "{:?}", tally.beats);
    assert_eq!(tally.variants["chatty"].wins, 1);
    assert_eq!(tally.variants["terse"].votes, 1);
}
