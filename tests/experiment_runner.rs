//! Experiments sent for real over loopback to the in-process mock server, which reports
//! what it saw: how many requests it answered at once, and the order they arrived in.
//! No timing is asserted: slow mock answers only make overlaps certain to happen.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};

use prism::config::{ParamOverrides, Variant};
use prism::engine::metrics::TargetRun;
use prism::mock_server::MockServer;
use prism::pricing::PriceTable;
use prism::report::Status;
use prism::session::SessionWriter;
use prism::target::{ProviderKind, Target};
use prism::workflows::experiment::cases::parse_csv;
use prism::workflows::experiment::limits::Limits;
use prism::workflows::experiment::results::cell_results;
use prism::workflows::experiment::runner::{Execution, execute};
use prism::workflows::experiment::scoreboard;
use prism::workflows::experiment::{Design, Order, Plan};
use prism::workflows::send::Report;
use tokio_util::sync::CancellationToken;

async fn mock() -> MockServer {
    MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap()
}

/// OpenAI targets on `server`, told apart by their model string (`seed=<i>`).
fn targets(server: &MockServer, n: usize, directives: &str) -> Vec<Target> {
    (0..n)
        .map(|i| {
            common::mock_target(
                server,
                &format!("t{i}"),
                ProviderKind::OpenAi,
                &format!("gpt-4o-mini-2024-07-18+{directives},seed={i}"),
                64,
            )
        })
        .collect()
}

fn limits(per_endpoint: u32) -> Limits {
    Limits {
        per_endpoint,
        per_target: BTreeMap::new(),
    }
}

/// Send `plan`; every run's events folded, `None` for a run never sent.
async fn run(plan: &Plan, limits: &Limits, session: Option<&SessionWriter>) -> Vec<Option<TargetRun>> {
    let mut folds: Vec<Option<TargetRun>> = vec![None; plan.runs.len()];
    let blocked = vec![None; plan.cells.len()];
    let prices = PriceTable::builtin().unwrap();
    let x = Execution {
        plan,
        limits,
        blocked: &blocked,
        session,
        prices: &prices,
        stop: CancellationToken::new(),
    };
    execute(x, |tag, report| {
        if let Report::Event { at, event, .. } | Report::Blocked { at, event, .. } = report {
            assert_eq!(
                plan.runs[tag.run].cell, tag.cell,
                "the tag names the run's own cell"
            );
            folds[tag.run]
                .get_or_insert_with(TargetRun::default)
                .apply(at, &event);
        }
    })
    .await;
    folds
}

/// What the mock saw, in arrival order: (model string, prompt).
fn arrivals(server: &MockServer) -> Vec<(String, String)> {
    server
        .log()
        .records()
        .into_iter()
        .map(|r| (r.model, r.prompt))
        .collect()
}

/// What the plan sends, in order: (model string, prompt).
fn planned(plan: &Plan) -> Vec<(String, String)> {
    plan.runs
        .iter()
        .map(|r| {
            let cell = &plan.cells[r.cell];
            (
                plan.session_targets[cell.session_target].model.clone(),
                cell.request.messages[0].content.clone(),
            )
        })
        .collect()
}

fn variant(name: &str, prompt: &str) -> Variant {
    Variant {
        name: name.into(),
        prompt: Some(prompt.into()),
        origin: "test".into(),
        ..Variant::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_limit_holds_and_is_reached() {
    let server = mock().await;
    // Slow first tokens keep each request in flight long enough to overlap.
    let plan = Plan::build(Design {
        targets: targets(&server, 3, "ttft=150,itl=1,tokens=3"),
        prompt: Some("Say hi".into()),
        repeat: 4,
        ..Design::default()
    })
    .unwrap();
    let folds = run(&plan, &limits(2), None).await;
    assert_eq!(server.log().records().len(), 12, "3 targets × 4 runs");
    assert!(
        folds
            .iter()
            .all(|f| f.as_ref().is_some_and(TargetRun::is_finished))
    );
    assert_eq!(
        server.log().max_in_flight(),
        2,
        "never more than the limit, and the limit is used"
    );
    assert_eq!(server.log().max_in_flight_on("/v1/chat/completions"), 2);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_targets_own_limit_holds_under_a_wider_endpoint_limit() {
    let server = mock().await;
    let plan = Plan::build(Design {
        targets: targets(&server, 1, "ttft=100,itl=1,tokens=3"),
        prompt: Some("Say hi".into()),
        repeat: 3,
        ..Design::default()
    })
    .unwrap();
    let limits = Limits {
        per_endpoint: 4,
        per_target: BTreeMap::from([("t0".to_string(), 1)]),
    };
    run(&plan, &limits, None).await;
    assert_eq!(server.log().records().len(), 3);
    assert_eq!(server.log().max_in_flight(), 1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interleaved_runs_arrive_round_robin_across_cells() {
    let server = mock().await;
    let plan = Plan::build(Design {
        targets: targets(&server, 2, "ttft=1,itl=1,tokens=2"),
        variants: vec![variant("a", "prompt A"), variant("b", "prompt B")],
        repeat: 2,
        ..Design::default()
    })
    .unwrap();
    // One at a time, so arrival order is sending order.
    run(&plan, &limits(1), None).await;
    let seen = arrivals(&server);
    assert_eq!(seen, planned(&plan));
    let m = |i: usize| format!("gpt-4o-mini-2024-07-18+ttft=1,itl=1,tokens=2,seed={i}");
    let round = [
        (m(0), "prompt A".to_string()),
        (m(1), "prompt A".to_string()),
        (m(0), "prompt B".to_string()),
        (m(1), "prompt B".to_string()),
    ];
    assert_eq!(seen[..4], round, "run 1 of every cell first");
    assert_eq!(seen[4..], round, "then run 2 of every cell");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_random_order_arrives_as_planned_and_again_with_the_same_seed() {
    let design = |server: &MockServer| Design {
        targets: targets(server, 2, "ttft=1,itl=1,tokens=2"),
        variants: vec![variant("a", "prompt A"), variant("b", "prompt B")],
        repeat: 2,
        order: Order::Random,
        seed: Some(7),
        ..Design::default()
    };
    let mut seen = Vec::new();
    for _ in 0..2 {
        let server = mock().await;
        let plan = Plan::build(design(&server)).unwrap();
        run(&plan, &limits(1), None).await;
        let got = arrivals(&server);
        assert_eq!(got, planned(&plan));
        seen.push(got);
        server.shutdown().await;
    }
    // Targets' model strings are the same on both servers, so the runs compare.
    assert_eq!(seen[0], seen[1], "seed 7 twice, one order");
    let server = mock().await;
    let interleaved = Plan::build(Design {
        order: Order::Interleaved,
        ..design(&server)
    })
    .unwrap();
    assert_ne!(seen[0], planned(&interleaved), "seed 7 does reorder");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warmups_are_sent_first_and_left_out_of_the_results() {
    let server = mock().await;
    let plan = Plan::build(Design {
        targets: targets(&server, 2, "ttft=1,itl=1,tokens=4"),
        prompt: Some("Say hi".into()),
        repeat: 2,
        warmup: 1,
        ..Design::default()
    })
    .unwrap();
    let folds = run(&plan, &limits(4), None).await;
    assert_eq!(server.log().records().len(), 6, "2 warmups + 2 cells × 2 runs");
    let cells = cell_results(&plan, &folds, &PriceTable::builtin().unwrap());
    for c in &cells {
        assert_eq!(c.runs.len(), 2, "warmups are not runs of the cell");
        assert_eq!(c.dists.ttft_ms_dist.n, 2);
        // The mock counts an OpenAI model's usage with o200k; runs of a cell answer alike.
        let counted = prism::tokens::count_o200k(&c.row.text) as f64;
        assert_eq!(c.dists.output_tokens_dist.min, Some(counted));
        assert!(c.all_ok());
    }
    let board = scoreboard::of_cells(&cells);
    assert_eq!(board.len(), 2);
    assert!(board.iter().all(|r| r.n == 2 && r.failures == 0));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_runs_are_listed_but_are_never_samples() {
    let server = mock().await;
    let mut ts = targets(&server, 1, "ttft=1,itl=1,tokens=3");
    // The first request with this model string fails with a 400, which is not retried.
    ts[0].model = "gpt-4o-mini-2024-07-18+ttft=1,itl=1,tokens=3,fault=400ctx,fail_first=1".into();
    let plan = Plan::build(Design {
        targets: ts,
        prompt: Some("Say hi".into()),
        repeat: 3,
        ..Design::default()
    })
    .unwrap();
    let folds = run(&plan, &limits(1), None).await;
    let cells = cell_results(&plan, &folds, &PriceTable::builtin().unwrap());
    let statuses: Vec<Status> = cells[0].runs.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Status::Error, Status::Ok, Status::Ok]);
    assert_eq!(cells[0].dists.ttft_ms_dist.n, 2);
    assert_eq!(cells[0].row.status, Status::Ok, "the row is the last run");
    assert!(!cells[0].all_ok());
    let board = scoreboard::of_cells(&cells);
    assert_eq!((board[0].n, board[0].failures), (2, 1));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_experiment_session_reads_back_with_its_design_and_cells() {
    let server = mock().await;
    let mut hot = variant("hot", "Tell {{who}} hi");
    hot.params = ParamOverrides {
        temperature: Some(0.9),
        ..ParamOverrides::default()
    };
    let plan = Plan::build(Design {
        targets: targets(&server, 2, "ttft=1,itl=1,tokens=3"),
        variants: vec![variant("plain", "Say hi to {{who}}"), hot],
        cases: Some(parse_csv("id,who\nc1,Ada\nc2,Bob\n", "cases.csv").unwrap()),
        repeat: 2,
        warmup: 1,
        ..Design::default()
    })
    .unwrap();
    let root = tempfile::tempdir().unwrap();
    let prices = PriceTable::builtin().unwrap();
    let writer = SessionWriter::create(root.path(), &plan.session_targets, prices.clone()).unwrap();
    let folds = run(&plan, &limits(2), Some(&writer)).await;
    writer.close();
    assert_eq!(writer.error(), None);
    let session = prism::session::load(writer.dir()).unwrap();
    assert_eq!(session.experiment, plan.record());
    let names: Vec<_> = session.targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["t0", "t0@hot", "t1", "t1@hot"]);
    assert_eq!(
        session.targets[1].temperature,
        Some(0.9),
        "what was sent is recorded"
    );
    // Every run is its own send, with its cell.
    assert_eq!(session.cells.len(), plan.runs.len());
    for r in &plan.runs {
        assert_eq!(session.cells.get(&r.run_id), plan.run_cell(r).as_ref());
    }
    // Turns: 1 warmup, then (case, variant, repeat) = 2 × 2 × 2, each with both targets.
    assert_eq!(session.turns.len(), 9);
    assert!(session.turns.iter().all(|t| t.answers.len() == 2));
    let last = session.turns.last().unwrap();
    assert_eq!(
        last.prompt, "Tell Bob hi",
        "the expanded prompt is what is recorded"
    );
    // The saved scoreboard is the live one.
    let cells = cell_results(&plan, &folds, &prices);
    assert_eq!(
        scoreboard::of_session(&session, &prices).unwrap(),
        scoreboard::of_cells(&cells)
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_run_is_one_send_to_every_target_as_before() {
    let server = mock().await;
    let plan = Plan::build(Design {
        targets: targets(&server, 3, "ttft=1,itl=1,tokens=3"),
        prompt: Some("Say hi".into()),
        repeat: 1,
        ..Design::default()
    })
    .unwrap();
    let root = tempfile::tempdir().unwrap();
    let writer = SessionWriter::create(root.path(), &plan.session_targets, PriceTable::default()).unwrap();
    run(&plan, &limits(4), Some(&writer)).await;
    writer.close();
    let text = std::fs::read_to_string(writer.dir().join("events.jsonl")).unwrap();
    let sends: Vec<&str> = text.lines().filter(|l| l.contains("\"type\":\"send\"")).collect();
    assert_eq!(sends.len(), 1, "{text}");
    assert!(
        sends[0].contains(
            r#""targets":[{"target":0,"history":[]},{"target":1,"history":[]},{"target":2,"history":[]}]}"#
        ),
        "{}",
        sends[0]
    );
    assert!(!text.contains("experiment") && !text.contains("\"cell\""));
    server.shutdown().await;
}
