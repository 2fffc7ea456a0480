#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use super::*;
use crate::pricing::PriceTable;
use crate::session::SessionWriter;
use crate::session::votes::{Candidate, Choice, VoteRecord};
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

fn vote(targets: &[usize], variant: Option<&str>, choice: Choice) -> VoteRecord {
    VoteRecord {
        wall: "2026-11-30T00:00:00Z".into(),
        candidates: targets
            .iter()
            .map(|&target| Candidate {
                target,
                run: 1,
                variant: variant.map(str::to_string),
            })
            .collect(),
        choice,
        blind: true,
        self_identified: Vec::new(),
    }
}

/// A vote whose candidates answered with different variants: `(target, variant)` each.
fn vote_across(candidates: &[(usize, &str)], choice: Choice) -> VoteRecord {
    let mut v = vote(&[], None, choice);
    v.candidates = candidates
        .iter()
        .map(|&(target, variant)| Candidate {
            target,
            run: 1,
            variant: Some(variant.to_string()),
        })
        .collect();
    v
}

fn save(root: &Path, targets: &[Target], votes: Vec<VoteRecord>) -> String {
    let w = SessionWriter::create(root, targets, PriceTable::default()).unwrap();
    for v in votes {
        w.vote(v);
    }
    w.close();
    w.id().to_string()
}

fn stats(args: &StatsArgs, root: &Path) -> (String, String) {
    let (mut out, mut warn) = (Vec::new(), Vec::new());
    run_in(args, root, &mut out, &mut warn).unwrap();
    (String::from_utf8(out).unwrap(), String::from_utf8(warn).unwrap())
}

#[test]
fn tables_rank_targets_by_win_rate_with_intervals_and_pairwise_wins() {
    let root = tempfile::tempdir().unwrap();
    let gpt = target("gpt", ProviderKind::OpenAi, "gpt-4o-mini");
    let claude = target("claude", ProviderKind::Anthropic, "claude-haiku-4-5");
    save(
        root.path(),
        &[gpt.clone(), claude.clone()],
        vec![
            vote(&[0, 1], None, Choice::Best(1)),
            vote(&[1, 0], None, Choice::Best(0)),
            vote(&[0, 1], None, Choice::Tie),
        ],
    );
    save(
        root.path(),
        &[claude, gpt],
        vec![vote(&[0, 1], None, Choice::Best(1))],
    );
    let (out, warn) = stats(&StatsArgs::default(), root.path());
    assert_eq!(warn, "");
    assert!(out.starts_with("4 votes in 2 sessions (4 blind;"), "{out}");
    // claude: 2 wins of 4 → 50.0 %, Wilson 15.0–85.0 %; gpt: 1 of 4.
    let claude_line = out.lines().find(|l| l.contains("claude-haiku-4-5")).unwrap();
    assert!(claude_line.contains("50.0 %"), "{claude_line}");
    assert!(claude_line.contains("15.0 %–85.0 %"), "{claude_line}");
    let gpt_line = out.lines().find(|l| l.contains("gpt-4o-mini")).unwrap();
    assert!(gpt_line.contains("25.0 %"), "{gpt_line}");
    assert!(
        out.find("claude-haiku").unwrap() < out.find("gpt-4o-mini").unwrap(),
        "best first:\n{out}"
    );
    // Row claude beat column gpt twice; gpt beat claude once.
    let pairs = out.split("both on screen:").nth(1).unwrap();
    let row = |name: &str| -> Vec<String> {
        let line = pairs.lines().find(|l| l.trim_start().starts_with(name)).unwrap();
        line.split_whitespace().map(str::to_string).collect()
    };
    assert_eq!(row("claude"), ["claude", "·", "2"]);
    assert_eq!(row("gpt"), ["gpt", "1", "·"]);
}

#[test]
fn json_holds_every_number_and_variants_by_name() {
    let root = tempfile::tempdir().unwrap();
    let gpt = target("gpt", ProviderKind::OpenAi, "gpt-4o-mini");
    let claude = target("claude", ProviderKind::Anthropic, "claude-haiku-4-5");
    let id = save(
        root.path(),
        &[gpt, claude],
        vec![
            vote_across(&[(0, "terse"), (1, "loud")], Choice::Best(0)),
            vote_across(&[(0, "terse"), (1, "loud")], Choice::AllBad),
        ],
    );
    let args = StatsArgs {
        sessions: vec![id],
        json: true,
        ..StatsArgs::default()
    };
    let (out, _) = stats(&args, root.path());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["votes"], 2);
    assert_eq!(v["targets"][0]["name"], "gpt");
    assert_eq!(v["targets"][0]["model"], "gpt-4o-mini");
    assert_eq!(v["targets"][0]["wins"], 1);
    assert_eq!(v["targets"][0]["all_bad"], 1);
    assert_eq!(v["targets"][0]["win_rate"], 0.5);
    assert!(v["targets"][0]["ci95_low"].as_f64().unwrap() > 0.09);
    let terse = v["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["variant"] == "terse")
        .unwrap();
    assert_eq!(terse["votes"], 2);
    assert_eq!(terse["wins"], 1);
    assert_eq!(v["pairwise"][0]["winner"]["name"], "gpt");
    assert_eq!(v["pairwise"][0]["loser"]["name"], "claude");
    assert_eq!(v["pairwise"][0]["wins"], 1);
}

#[test]
fn a_damaged_session_is_skipped_with_a_line_and_no_votes_says_where_they_come_from() {
    let root = tempfile::tempdir().unwrap();
    let gpt = target("gpt", ProviderKind::OpenAi, "gpt-4o-mini");
    let id = save(root.path(), &[gpt], Vec::new());
    let broken = root.path().join(&id).join("events.jsonl");
    std::fs::write(&broken, "{\"type\":\"header\"\n").unwrap();
    let (out, warn) = stats(&StatsArgs::default(), root.path());
    assert!(warn.starts_with(&format!("prism: skipped {id}: ")), "{warn}");
    assert!(out.starts_with("No votes in the 0 sessions read from"), "{out}");
}
