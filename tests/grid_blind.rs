//! The experiment grid end to end against the mock server: a blind experiment drawn frame
//! by frame at two sizes and searched for anything that names a target until every row
//! has its vote, the votes read back from the session and tallied by `prism stats`; one
//! cell cancelled while the others go on; a cell's details and its repeats.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use common::bench::{Bench, alt, app, assert_hidden, mock, render, two_variants, type_cases};
use crossterm::event::{KeyCode, KeyModifiers};
use prism::keys::Action;
use prism::session::votes::Choice;
use prism::target::{ProviderKind, Target};
use prism::tui::model::app::Focus;
use prism::tui::model::workspace::Overlay;

/// Words that would give a target away: its name, provider, model id, the model without
/// the mock's settings, and any price.
fn giveaways(targets: &[Target]) -> Vec<String> {
    let mut words = Vec::new();
    for t in targets {
        words.push(t.name.to_lowercase());
        words.push(t.provider.to_string().to_lowercase());
        words.push(t.model.to_lowercase());
        words.push(t.model.split('+').next().unwrap().to_lowercase());
    }
    words.push("$0.".into());
    words
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blind_experiment_names_nobody_in_any_frame_until_every_row_is_voted_and_stats_tallies_it() {
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
        // Its error names its model ("models/gemini-2.5-flash is not found"): masked.
        target("tgt-broken", ProviderKind::Gemini, "gemini-2.5-flash+fault=404"),
    ];
    let words = giveaways(&targets);
    let mut b = Bench::new(app(targets.clone()).with_blind_seed(5), root.path());
    b.key(KeyCode::Char('b'), KeyModifiers::CONTROL);
    two_variants(
        &mut b,
        "Weather in {{city}}?",
        "Describe the weather in {{city}} at length.",
    );
    type_cases(&mut b, "id,city\nosl,Oslo\nber,Berlin");
    alt(&mut b, 'p'); // repeat ×2
    b.act(Action::Send);
    let g = b
        .app
        .grid()
        .expect("a blind send of variants runs as an experiment");
    assert_eq!((g.rows(), g.cols(), g.pages()), (2, 3, 2));
    assert_eq!(g.plan.runs.len(), 24);
    let order = g.col_order.clone();
    assert_ne!(order, [0, 1, 2], "the columns are shuffled (seed 5)");
    assert!(b.app.names_hidden());

    let mut frames = 0;
    while b.in_flight() {
        b.next().await;
        assert_hidden(&mut b.app, &words, "during the experiment");
        frames += 1;
    }
    assert!(frames > 24, "the experiment streamed: {frames} messages");

    // The columns are drawn in label order: A leftmost, the same target on every row.
    let screen = render(&mut b.app, 200, 60);
    let g = b.app.grid().unwrap();
    for (col, label) in ["A", "B", "C"].iter().enumerate() {
        let cell = g.cell_at(0, col);
        assert_eq!(g.plan.cells[cell].target, order[col]);
        let area = g.areas[cell].unwrap();
        let title: String = screen[usize::from(area.y)]
            .chars()
            .skip(usize::from(area.x))
            .take(usize::from(area.width))
            .collect();
        assert!(title.contains(&format!("concise · {label} · run ")), "{title}");
    }

    // What else could name a target: details, the scoreboard, a copy, a zoom, repeats.
    b.key(KeyCode::Tab, KeyModifiers::NONE);
    assert_eq!(b.app.focus(), Focus::Pane(b.app.grid().unwrap().cell_at(0, 0)));
    for c in ['d', 's', 'y', 'z', 'z', ',', '.'] {
        b.char(c);
        assert_hidden(&mut b.app, &words, &format!("after `{c}`"));
    }
    assert_eq!(
        b.app.overlay(),
        &Overlay::None,
        "details and scoreboard wait for the votes"
    );

    // One vote per (case, variant) row; the focus moves on to the next row by itself.
    let votes = [
        ('2', Choice::Best(1)),
        ('=', Choice::Tie),
        ('0', Choice::AllBad),
        ('1', Choice::Best(0)),
    ];
    let mut voted_rows = Vec::new();
    for (k, (key, _)) in votes.iter().enumerate() {
        assert!(b.app.names_hidden(), "vote {k}: still blind");
        assert!(b.app.grid_vote_open(), "vote {k} open");
        let Focus::Pane(cell) = b.app.focus() else {
            panic!("a cell has the focus")
        };
        let g = b.app.grid().unwrap();
        voted_rows.push((g.plan.cells[cell].case, g.plan.cells[cell].variant));
        b.char(*key);
        let notice = b.app.notice().unwrap().to_string();
        if k < votes.len() - 1 {
            assert!(notice.contains(&format!("{}/4 rows voted", k + 1)), "{notice}");
            assert_hidden(&mut b.app, &words, &format!("after vote {k}"));
        } else {
            assert!(notice.contains("names shown"), "{notice}");
        }
    }
    voted_rows.sort_unstable();
    voted_rows.dedup();
    assert_eq!(voted_rows.len(), 4, "every row once: {voted_rows:?}");
    assert!(!b.app.names_hidden());
    let screen = render(&mut b.app, 200, 60).join("\n");
    for t in &targets {
        assert!(screen.contains(&t.name), "{} revealed:\n{screen}", t.name);
    }

    // The session has the four votes, each naming its row's session targets in screen
    // order, its variant, and runs of one case and repeat.
    let id = b.app.session_id().unwrap().to_string();
    b.runner.finish().await;
    let dir = prism::session::store::resolve(root.path(), &id).unwrap();
    let session = prism::session::load(&dir).unwrap();
    assert_eq!(session.votes.len(), 4);
    for (vote, (_, want)) in session.votes.iter().zip(votes) {
        assert_eq!(vote.choice, want);
        assert!(vote.blind);
        assert_eq!(vote.candidates.len(), 3);
        let shown: Vec<&str> = vote
            .candidates
            .iter()
            .map(|c| session.targets[c.target].name.as_str())
            .collect();
        let expected: Vec<&str> = order.iter().map(|&t| targets[t].name.as_str()).collect();
        assert_eq!(shown, expected, "candidates in column order");
        let cells: Vec<_> = vote.candidates.iter().map(|c| &session.cells[&c.run]).collect();
        assert!(
            cells.iter().all(|c| c.case == cells[0].case
                && c.variant == cells[0].variant
                && c.repeat == cells[0].repeat),
            "{cells:?}"
        );
        let variant = vote.candidates[0].variant.clone().unwrap();
        assert!(
            vote.candidates
                .iter()
                .all(|c| c.variant.as_deref() == Some(variant.as_str()))
        );
    }

    // `prism stats` reads them: per target, and the winners' rows.
    let ran = common::run::prism_in(
        root.path(),
        &["--sessions-dir", root.path().to_str().unwrap(), "stats", "--json"],
        &[],
    )
    .await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let v: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(v["votes"], 4, "{v}");
    assert_eq!(v["blind"], 4, "{v}");
    let wins = |name: &str| {
        v["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .map(|t| (t["wins"].as_u64().unwrap(), t["votes"].as_u64().unwrap()))
            .unwrap()
    };
    assert_eq!(wins(&targets[order[1]].name), (1, 4), "B won the first row");
    assert_eq!(wins(&targets[order[0]].name), (1, 4), "A won the last row");
    assert_eq!(wins(&targets[order[2]].name), (0, 4));
    server.shutdown().await;
}
