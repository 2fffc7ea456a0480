//! One cell of the experiment grid on its own, against the mock server: cancelled while
//! the other cells go on (and counted apart from failures), its details, its zoom, and
//! its row stepped through the repeats.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::collections::BTreeMap;

use common::bench::{Bench, alt, app, mock, render};
use crossterm::event::{KeyCode, KeyModifiers};
use prism::keys::Action;
use prism::target::ProviderKind;
use prism::tui::model::app::Focus;
use prism::tui::model::msg::Msg;
use prism::tui::model::pane::PaneStatus;
use prism::tui::model::workspace::Overlay;
use prism::workflows::experiment::limits::Limits;

/// Focus `cell` with tab from the editor.
fn focus(b: &mut Bench, cell: usize) {
    for _ in 0..8 {
        if b.app.focus() == Focus::Pane(cell) {
            return;
        }
        b.key(KeyCode::Tab, KeyModifiers::NONE);
    }
    panic!("tab never reached cell {cell}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_one_cell_stops_its_runs_keeps_its_text_and_the_other_cell_finishes() {
    let server = mock().await;
    let root = tempfile::tempdir().unwrap();
    let targets = vec![
        // Slow enough to be mid-answer when cancelled (a hang guard, not a timing).
        common::mock_target(
            &server,
            "slow",
            ProviderKind::OpenAi,
            "gpt-4o-mini+ttft=1,itl=40,tokens=400,seed=1",
            512,
        ),
        common::mock_target(
            &server,
            "fast",
            ProviderKind::Anthropic,
            "claude-sonnet-4-20250514+ttft=1,itl=1,tokens=8,seed=2",
            64,
        ),
    ];
    let limits = Limits {
        per_endpoint: 4,
        per_target: BTreeMap::from([("slow".into(), 1), ("fast".into(), 1)]),
    };
    let mut b = Bench::new(app(targets).with_limits(limits), root.path());
    b.app
        .update(Msg::EditorClosed(Ok("Tell me a long story.".into())));
    alt(&mut b, 'p');
    alt(&mut b, 'p'); // repeat ×3
    b.act(Action::Send);
    let g = b.app.grid().expect("repeats run as an experiment");
    assert_eq!(g.plan.runs.len(), 6);
    let slow = g.cell_at(0, 0);
    let fast = g.cell_at(0, 1);
    assert_eq!(g.plan.design.targets[g.plan.cells[slow].target].name, "slow");

    // Wait for the slow cell's first run to be mid-answer.
    while !b.app.grid().is_some_and(|g| {
        g.panes[slow].status == PaneStatus::Streaming && !g.panes[slow].answer.text().is_empty()
    }) {
        b.next().await;
    }
    focus(&mut b, slow);
    b.char('x');
    let notice = b.app.notice().unwrap().to_string();
    assert!(
        notice.contains("1 streaming stopped, 2 queued not sent") && notice.contains("the other cells go on"),
        "{notice}"
    );
    while b.in_flight() {
        b.next().await;
    }

    let g = b.app.grid().unwrap();
    assert_eq!(g.panes[slow].status, PaneStatus::Cancelled);
    assert!(
        !g.panes[slow].answer.text().is_empty(),
        "the partial answer stays"
    );
    assert!(g.cancelled[slow] && !g.cancelled[fast]);
    let fast_runs = g.results(fast);
    assert_eq!(fast_runs.len(), 3);
    assert!(fast_runs.iter().all(|r| r.succeeded()), "{fast_runs:?}");
    let sent_slow = server
        .log()
        .records()
        .iter()
        .filter(|r| r.provider == "openai")
        .count();
    assert_eq!(sent_slow, 1, "the slow cell's queued runs were never sent");

    // The scoreboard counts the cancelled run apart: not a failure, not a sample.
    let rows = b.app.scoreboard_rows(&Default::default());
    let row = |name: &str| rows.iter().find(|r| r.target == name).unwrap().clone();
    let s = row("slow");
    assert_eq!((s.n, s.failures, s.cancelled), (0, 0, 1), "{s:?}");
    assert_eq!(s.ttft_ms_mean, None);
    let f = row("fast");
    assert_eq!((f.n, f.failures, f.cancelled), (3, 0, 0), "{f:?}");
    let screen = render(&mut b.app, 120, 40).join("\n");
    assert!(screen.contains("n=1/3 cancelled"), "{screen}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cell_opens_its_details_zooms_and_its_row_steps_through_the_repeats() {
    let server = mock().await;
    let root = tempfile::tempdir().unwrap();
    let targets = vec![
        common::mock_target(&server, "gpt", ProviderKind::OpenAi, "gpt-4o-mini+tokens=6", 32),
        common::mock_target(
            &server,
            "claude",
            ProviderKind::Anthropic,
            "claude-sonnet-4-20250514+tokens=6",
            32,
        ),
    ];
    let mut b = Bench::new(app(targets), root.path());
    b.app.update(Msg::EditorClosed(Ok("Hi".into())));
    alt(&mut b, 'p');
    alt(&mut b, 'p'); // repeat ×3
    b.act(Action::Send);
    while b.in_flight() {
        b.next().await;
    }
    let g = b.app.grid().unwrap();
    let (left, right) = (g.cell_at(0, 0), g.cell_at(0, 1));
    focus(&mut b, left);

    // Details of the cell's run, naming its target and the repeat shown.
    b.char('d');
    assert_eq!(b.app.overlay(), &Overlay::Details(left));
    let screen = render(&mut b.app, 120, 40).join("\n");
    assert!(screen.contains("gpt · run 3/3 · details"), "{screen}");
    assert!(
        screen.contains("gpt-4o-mini"),
        "the details name the model:\n{screen}"
    );
    b.char('q'); // any key closes
    assert_eq!(b.app.overlay(), &Overlay::None);

    // `,` steps the whole row back one repeat: both cells show their run 2.
    b.char(',');
    let g = b.app.grid().unwrap();
    for cell in [left, right] {
        let second = g.counted_runs(cell)[1];
        assert_eq!(g.showing(cell), Some(second), "cell {cell}");
        assert_eq!(g.panes[cell].status, PaneStatus::Done);
        assert!(!g.panes[cell].answer.text().is_empty());
        assert_eq!(g.repeat_label(cell).as_deref(), Some("run 2/3"));
    }
    b.char('d');
    let screen = render(&mut b.app, 120, 40).join("\n");
    assert!(screen.contains("gpt · run 2/3 · details"), "{screen}");
    b.char('q');

    // Zoom: the cell has the whole grid area; `.` twice wraps round to run 1.
    b.char('z');
    let _ = render(&mut b.app, 120, 40);
    let g = b.app.grid().unwrap();
    assert_eq!(g.zoomed, Some(left));
    assert!(g.areas[right].is_none(), "only the zoomed cell is drawn");
    assert!(g.areas[left].unwrap().width >= 118);
    b.char('.');
    b.char('.');
    let g = b.app.grid().unwrap();
    assert_eq!(g.showing(left), Some(g.counted_runs(left)[0]));
    let screen = render(&mut b.app, 120, 40).join("\n");
    assert!(screen.contains("gpt · run 1/3"), "{screen}");
    server.shutdown().await;
}
