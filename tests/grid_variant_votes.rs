//! Variant votes on the experiment grid against the mock server: `alt-b` before a blind
//! send makes the votes compare the variants of a column (one target, case and repeat);
//! every frame at two sizes is searched for a variant or target name until every column
//! has its vote, and the votes reach `prism stats --json` as per-variant wins.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use common::bench::{Bench, alt, app, assert_hidden, mock, render, two_variants, type_cases};
use crossterm::event::{KeyCode, KeyModifiers};
use prism::keys::Action;
use prism::session::votes::Choice;
use prism::target::{ProviderKind, Target};
use prism::tui::model::app::Focus;

/// Words that would give a variant or a target away.
fn giveaways(targets: &[Target]) -> Vec<String> {
    let mut words = vec!["concise".to_string(), "detailed".to_string()];
    for t in targets {
        words.push(t.name.to_lowercase());
        words.push(t.model.split('+').next().unwrap().to_lowercase());
    }
    words
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blind_variant_votes_name_no_variant_until_every_column_is_voted_and_stats_counts_them() {
    let server = mock().await;
    let root = tempfile::tempdir().unwrap();
    let target = |name: &str, provider, model: &str| common::mock_target(&server, name, provider, model, 64);
    let targets = vec![
        target(
            "tgt-mini",
            ProviderKind::OpenAi,
            "gpt-4o-mini-2024-07-18+ttft=1,itl=1,tokens=10,seed=3",
        ),
        target(
            "tgt-sonnet",
            ProviderKind::Anthropic,
            "claude-sonnet-4-20250514+ttft=1,itl=1,tokens=10,seed=7",
        ),
    ];
    let words = giveaways(&targets);
    // Seed 5 shuffles the two variant rows (checked below), so row order says nothing.
    let mut b = Bench::new(app(targets.clone()).with_blind_seed(5), root.path());
    b.key(KeyCode::Char('b'), KeyModifiers::CONTROL);
    two_variants(
        &mut b,
        "Weather in {{city}}?",
        "Describe the weather in {{city}} at length.",
    );
    type_cases(&mut b, "id,city\nosl,Oslo\nber,Berlin");
    alt(&mut b, 'b'); // the next experiment votes on variants
    assert!(
        b.app.notice().unwrap().contains("compare variants"),
        "{:?}",
        b.app.notice()
    );
    b.act(Action::Send);
    let g = b
        .app
        .grid()
        .expect("a blind send of variants runs as an experiment");
    assert_eq!((g.rows(), g.cols(), g.pages()), (2, 2, 2));
    assert!(g.votes_variants() && g.variants_hidden());
    assert_eq!(g.row_order(), [1, 0], "the variant rows are shuffled");
    assert_hidden(&mut b.app, &words, "at the send");

    while b.in_flight() {
        b.next().await;
        assert_hidden(&mut b.app, &words, "during the experiment");
    }
    let screen = render(&mut b.app, 200, 60).join("\n");
    assert!(screen.contains("variant A · A"), "{screen}");
    assert!(screen.contains("vote this column's variants"), "{screen}");

    // One vote per (case, target) column; the focus moves on by itself.
    b.key(KeyCode::Tab, KeyModifiers::NONE);
    let votes = ['1', '2', '=', '1'];
    let mut winners = Vec::new();
    let mut columns = Vec::new();
    for (k, key) in votes.iter().enumerate() {
        assert!(b.app.grid_vote_open(), "vote {k} open");
        let Focus::Pane(cell) = b.app.focus() else {
            panic!("a cell has the focus")
        };
        let g = b.app.grid().unwrap();
        let (page, _, _) = g.place(cell);
        let target = g.plan.cells[cell].target;
        columns.push((page, target));
        let cells = g.column_cells(page, target);
        if let Some(d) = key.to_digit(10).filter(|d| *d > 0) {
            let name = g.names(cells[d as usize - 1]).1.unwrap();
            winners.push(name);
        }
        b.char(*key);
        let notice = b.app.notice().unwrap().to_string();
        if k < votes.len() - 1 {
            assert!(notice.contains(&format!("{}/4 columns voted", k + 1)), "{notice}");
            assert_hidden(&mut b.app, &words, &format!("after vote {k}"));
        } else {
            assert!(notice.contains("every column voted: names shown"), "{notice}");
        }
    }
    columns.sort_unstable();
    columns.dedup();
    assert_eq!(columns.len(), 4, "every column once");
    assert!(!b.app.names_hidden());
    let screen = render(&mut b.app, 200, 60).join("\n");
    assert!(
        screen.contains("concise") && screen.contains("detailed"),
        "{screen}"
    );

    // The session has four votes, each one target's answers to both variants.
    let id = b.app.session_id().unwrap().to_string();
    b.runner.finish().await;
    let dir = prism::session::store::resolve(root.path(), &id).unwrap();
    let session = prism::session::load(&dir).unwrap();
    assert_eq!(session.votes.len(), 4);
    for vote in &session.votes {
        assert!(vote.blind);
        assert_eq!(vote.candidates.len(), 2);
        assert_eq!(vote.candidates[0].target, vote.candidates[1].target);
        assert_ne!(vote.candidates[0].variant, vote.candidates[1].variant);
        let cells: Vec<_> = vote.candidates.iter().map(|c| &session.cells[&c.run]).collect();
        assert!(
            cells[0].case == cells[1].case && cells[0].repeat == cells[1].repeat,
            "{cells:?}"
        );
    }
    assert_eq!(
        session.votes.iter().map(|v| v.choice).collect::<Vec<_>>(),
        [Choice::Best(0), Choice::Best(1), Choice::Tie, Choice::Best(0)]
    );

    let ran = common::run::prism_in(
        root.path(),
        &["--sessions-dir", root.path().to_str().unwrap(), "stats", "--json"],
        &[],
    )
    .await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let v: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(v["votes"], 4, "{v}");
    let record = |name: &str| {
        v["variants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["variant"] == name)
            .map(|r| (r["wins"].as_u64().unwrap(), r["votes"].as_u64().unwrap()))
            .unwrap_or_else(|| panic!("{name} in {v}"))
    };
    let wins = |name: &str| winners.iter().filter(|w| *w == name).count() as u64;
    assert_eq!(record("concise"), (wins("concise"), 4), "{v}");
    assert_eq!(record("detailed"), (wins("detailed"), 4), "{v}");
    assert_eq!(wins("concise") + wins("detailed"), 3);
    // A vote among one target's answers is no vote on the targets.
    assert!(v["targets"].as_array().is_none_or(|t| t.is_empty()), "{v}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alt_b_on_the_grid_switches_the_vote_unit_and_says_when_names_were_already_seen() {
    let server = mock().await;
    let root = tempfile::tempdir().unwrap();
    let target =
        |name: &str, model: &str| common::mock_target(&server, name, ProviderKind::OpenAi, model, 64);
    let targets = vec![
        target("tgt-a", "gpt-4o-mini+ttft=1,itl=1,tokens=6,seed=1"),
        target("tgt-b", "gpt-4o+ttft=1,itl=1,tokens=6,seed=2"),
    ];
    let mut b = Bench::new(app(targets).with_blind_seed(5), root.path());
    b.key(KeyCode::Char('b'), KeyModifiers::CONTROL);
    two_variants(&mut b, "Hi", "Hello there");
    b.act(Action::Send);
    while b.in_flight() {
        b.next().await;
    }
    let g = b.app.grid().unwrap();
    assert!(
        !g.votes_variants() && !g.variants_hidden(),
        "rows vote targets by default"
    );
    let screen = render(&mut b.app, 200, 60).join("\n");
    assert!(screen.contains("alt-b votes variants"), "{screen}");

    b.key(KeyCode::Tab, KeyModifiers::NONE);
    alt(&mut b, 'b');
    let notice = b.app.notice().unwrap().to_string();
    assert!(notice.contains("variant names were on screen"), "{notice}");
    let g = b.app.grid().unwrap();
    assert!(g.votes_variants() && g.variants_hidden());
    assert!(b.app.grid_vote_open());
    b.char('2');
    let notice = b.app.notice().unwrap().to_string();
    assert!(
        notice.contains("voted variant B") && notice.contains("1/2 columns voted"),
        "{notice}"
    );

    // Back to targets: the row keys are the targets' again.
    alt(&mut b, 'b');
    assert!(!b.app.grid().unwrap().votes_variants());
    assert!(b.app.notice().unwrap().contains("compare the targets"));
    server.shutdown().await;
}
