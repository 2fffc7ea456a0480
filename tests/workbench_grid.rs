//! Experiments in the workbench end to end: variants typed in the editor, a case table
//! typed as CSV, a plan sent against the mock server into the grid, saved in a session
//! like `prism run`'s, and one cell sent again on its own.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use prism::keys::Action;
use prism::mock_server::MockServer;
use prism::target::{ProviderKind, Target};
use prism::tui::effects::executor::{Executor, NoTerminal};
use prism::tui::input::keymap::Keymap;
use prism::tui::model::app::{App, Focus};
use prism::tui::model::msg::{Effect, Msg};
use prism::tui::model::pane::PaneStatus;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

struct Bench {
    app: App,
    runner: Executor,
    tx: UnboundedSender<Msg>,
    rx: UnboundedReceiver<Msg>,
}

impl Bench {
    fn new(targets: Vec<Target>, root: &Path) -> Self {
        let app = App::new(
            targets,
            Keymap::default(),
            prism::tui::theme::load("dark").unwrap(),
            String::new(),
        );
        let runner = Executor::with_sessions(app.prices().clone(), Some(root.to_path_buf()));
        let (tx, rx) = unbounded_channel();
        Self { app, runner, tx, rx }
    }

    fn apply(&mut self, effects: Vec<Effect>) {
        for e in effects {
            self.runner.apply(e, &self.tx, &mut NoTerminal);
        }
    }

    fn act(&mut self, action: Action) {
        let effects = self.app.act(action);
        self.apply(effects);
    }

    fn key(&mut self, code: KeyCode, modifiers: KeyModifiers) {
        let effects = self
            .app
            .update(Msg::Term(Event::Key(KeyEvent::new(code, modifiers))));
        self.apply(effects);
    }

    /// Feed the workbench until the grid has nothing in flight and the session is known.
    async fn settle(&mut self) {
        while self.app.grid().is_some_and(|g| g.in_flight()) || self.app.session_id().is_none() {
            let msg = tokio::time::timeout(Duration::from_secs(20), self.rx.recv())
                .await
                .expect("nothing arrived")
                .unwrap();
            let effects = self.app.update(msg);
            self.apply(effects);
        }
    }
}

fn alt(c: char) -> (KeyCode, KeyModifiers) {
    (KeyCode::Char(c), KeyModifiers::ALT)
}

/// Type the case table in its editor and close it.
fn type_cases(app: &mut App, csv: &str) {
    let (code, m) = alt('c');
    app.update(Msg::Term(Event::Key(KeyEvent::new(code, m))));
    app.update(Msg::Term(Event::Paste(csv.into())));
    app.update(Msg::Term(Event::Key(KeyEvent::new(
        KeyCode::Esc,
        KeyModifiers::NONE,
    ))));
}

/// Two variants (`A` and `B`) with their own prompts.
fn two_variants(app: &mut App, a: &str, b: &str) {
    app.update(Msg::EditorClosed(Ok(a.into())));
    let (code, m) = alt('v');
    app.update(Msg::Term(Event::Key(KeyEvent::new(code, m))));
    // The name prompt opens with `B`; enter keeps it.
    app.update(Msg::Term(Event::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    ))));
    app.update(Msg::EditorClosed(Ok(b.into())));
}

async fn mock() -> MockServer {
    MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap()
}

fn targets(server: &MockServer) -> Vec<Target> {
    vec![
        common::mock_target(server, "gpt", ProviderKind::OpenAi, "gpt-4o-mini", 32),
        common::mock_target(
            server,
            "claude",
            ProviderKind::Anthropic,
            "claude-sonnet-4-20250514",
            32,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_by_two_by_two_experiment_fills_every_cell_is_saved_and_one_cell_reruns_alone() {
    let server = mock().await;
    let root = tempfile::tempdir().unwrap();
    let mut b = Bench::new(targets(&server), root.path());
    two_variants(
        &mut b.app,
        "Weather in {{city}}?",
        "One word: weather in {{city}}",
    );
    type_cases(&mut b.app, "id,city\nosl,Oslo\nber,Berlin");
    // Repeat ×2.
    let (code, m) = alt('p');
    b.key(code, m);
    b.act(Action::Send);
    let grid = b.app.grid().expect("the send runs as an experiment");
    assert_eq!((grid.rows(), grid.cols(), grid.pages()), (2, 2, 2));
    assert_eq!(
        grid.plan.runs.len(),
        16,
        "2 cases × 2 variants × 2 targets × 2 repeats"
    );
    b.settle().await;

    let g = b.app.grid().unwrap();
    for cell in 0..g.plan.cells.len() {
        let results = g.results(cell);
        assert_eq!(results.len(), 2, "cell {cell}");
        assert!(results.iter().all(|r| r.succeeded()), "cell {cell}: {results:?}");
        assert_eq!(g.panes[cell].status, PaneStatus::Done, "cell {cell}");
    }
    assert_eq!(b.app.experiment_scored().len(), 16);
    // The scoreboard shows the experiment: one row per (variant, target).
    assert_eq!(b.app.scored(), b.app.experiment_scored());
    let rows = b.app.scoreboard_rows(&Default::default());
    assert_eq!(rows.len(), 4, "{rows:?}");
    let records = server.log().records();
    assert_eq!(records.len(), 16);
    for city in ["Oslo", "Berlin"] {
        for text in ["Weather in", "One word: weather in"] {
            let want = format!("{text} {city}");
            let n = records.iter().filter(|r| r.prompt.starts_with(&want)).count();
            assert_eq!(
                n,
                4,
                "{want}: {:?}",
                records.iter().map(|r| &r.prompt).collect::<Vec<_>>()
            );
        }
    }

    // The session holds the experiment, every run with its cell.
    let id = b.app.session_id().unwrap().to_string();
    let dir = root.path().join(&id);
    let saved = prism::session::load(&dir).unwrap();
    let experiment = saved.experiment.as_ref().expect("an experiment record");
    assert_eq!(experiment.variants.len(), 2);
    assert_eq!(experiment.cases.len(), 2);
    assert_eq!(experiment.repeat, 2);
    assert_eq!(saved.cells.len(), 16);

    // Page to the second case and re-run its `B · claude` cell only.
    b.app.update(Msg::Term(Event::Key(KeyEvent::new(
        KeyCode::Tab,
        KeyModifiers::NONE,
    ))));
    assert_eq!(b.app.focus(), Focus::Pane(0));
    b.act(Action::NextCase);
    let target_cell = b.app.grid().unwrap().cell_at(1, 1);
    for _ in 0..3 {
        b.act(Action::FocusNext);
    }
    assert_eq!(b.app.focus(), Focus::Pane(target_cell));
    b.act(Action::RetryPane);
    assert_eq!(
        b.app.grid().unwrap().panes[target_cell].status,
        PaneStatus::Queued,
        "the cell waits for its runs again"
    );
    b.settle().await;
    let records = server.log().records();
    assert_eq!(records.len(), 18, "only the cell's two runs were sent again");
    for r in &records[16..] {
        assert_eq!(r.prompt, "One word: weather in Berlin");
        assert_eq!(r.provider, "anthropic");
    }
    let g = b.app.grid().unwrap();
    assert_eq!(
        g.results(target_cell).len(),
        2,
        "the new results replace the cell's"
    );
    assert_eq!(b.app.experiment_scored().len(), 16);
    b.runner.finish().await;
    let saved = prism::session::load(&dir).unwrap();
    assert_eq!(
        saved.cells.len(),
        18,
        "the re-run's runs are saved under their cell"
    );
    let cell = &g.plan.cells[target_cell];
    let rerun = saved
        .cells
        .iter()
        .filter(|(run, _)| **run > 16)
        .map(|(_, c)| c)
        .collect::<Vec<_>>();
    assert!(
        rerun
            .iter()
            .all(|c| c.case == cell.case && c.variant == cell.variant && c.target == cell.target),
        "{rerun:?}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_variable_without_a_value_is_named_and_nothing_is_sent() {
    let server = mock().await;
    let root = tempfile::tempdir().unwrap();
    let mut b = Bench::new(targets(&server), root.path());
    two_variants(&mut b.app, "Weather in {{city}}?", "Weather in {{country}}?");
    type_cases(&mut b.app, "id,city\nosl,Oslo");
    let effects = b.app.act(Action::Send);
    assert!(effects.is_empty(), "{effects:?}");
    let notice = b.app.notice().unwrap().to_string();
    assert!(
        notice.contains("no value for `{{country}}` in case \"osl\"") && notice.contains("nothing was sent"),
        "{notice}"
    );
    assert!(b.app.grid().is_none());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(server.log().records().is_empty(), "the mock saw a request");
    server.shutdown().await;
}

#[test]
fn variants_keep_their_own_text_when_switching() {
    let mut app = App::new(
        vec![],
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        String::new(),
    );
    two_variants(&mut app, "first prompt", "second prompt");
    assert_eq!(app.prompt().lines().join("\n"), "second prompt");
    app.update(Msg::Term(Event::Key(KeyEvent::new(
        KeyCode::Char(','),
        KeyModifiers::ALT,
    ))));
    assert_eq!(app.prompt().lines().join("\n"), "first prompt");
    let v = app.editor_variants();
    assert_eq!(v.title().as_deref(), Some("variant 1/2: A"));
    app.update(Msg::Term(Event::Key(KeyEvent::new(
        KeyCode::Char('.'),
        KeyModifiers::ALT,
    ))));
    assert_eq!(app.prompt().lines().join("\n"), "second prompt");
    // Rename B, then delete it: A's text is back in the editor.
    app.update(Msg::Term(Event::Key(KeyEvent::new(
        KeyCode::Char('m'),
        KeyModifiers::ALT,
    ))));
    for _ in 0..1 {
        app.update(Msg::Term(Event::Key(KeyEvent::new(
            KeyCode::Backspace,
            KeyModifiers::NONE,
        ))));
    }
    for c in "terse".chars() {
        app.update(Msg::Term(Event::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        ))));
    }
    app.update(Msg::Term(Event::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    ))));
    assert_eq!(
        app.editor_variants().title().as_deref(),
        Some("variant 2/2: terse")
    );
    assert_eq!(
        app.prompt().lines().join("\n"),
        "second prompt",
        "naming never types into the prompt"
    );
    app.update(Msg::Term(Event::Key(KeyEvent::new(
        KeyCode::Char('w'),
        KeyModifiers::ALT,
    ))));
    assert_eq!(app.prompt().lines().join("\n"), "first prompt");
    assert_eq!(app.editor_variants().all.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_an_experiment_ends_every_cell_and_sends_nothing_more() {
    let server = mock().await;
    let root = tempfile::tempdir().unwrap();
    let mut b = Bench::new(targets(&server), root.path());
    b.app = std::mem::replace(
        &mut b.app,
        App::new(
            vec![],
            Keymap::default(),
            prism::tui::theme::load("dark").unwrap(),
            String::new(),
        ),
    )
    .with_limits(prism::workflows::experiment::limits::Limits {
        per_endpoint: 1,
        ..Default::default()
    });
    two_variants(
        &mut b.app,
        "Weather in {{city}}?",
        "One word: weather in {{city}}",
    );
    type_cases(&mut b.app, "id,city\nosl,Oslo\nber,Berlin");
    b.act(Action::Send);
    b.act(Action::CancelAll);
    b.settle().await;
    let g = b.app.grid().unwrap();
    assert!(
        g.panes.iter().all(|p| !p.status.is_active()),
        "every cell stopped waiting"
    );
    assert!(
        g.panes.iter().any(|p| p.status == PaneStatus::Cancelled),
        "cells never sent show as cancelled"
    );
    assert!(!b.app.animating());
    b.runner.finish().await;
    let sent = server.log().records().len();
    assert!(sent < 8, "runs after the cancel were never sent: {sent}");
    server.shutdown().await;
}

#[test]
fn a_case_table_that_does_not_parse_says_where_and_what_to_fix() {
    let mut app = App::new(
        vec![],
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        String::new(),
    );
    type_cases(&mut app, "id,city\nosl,\"Oslo, Norway\",x");
    let notice = app.notice().unwrap();
    assert!(
        notice.starts_with("case table: 2:20: this row has 3 fields but the header has 2"),
        "{notice}"
    );
    assert!(app.editor_variants().cases.is_none());
    // The editor opens again with the text as typed: drop the stray field.
    let press = |app: &mut App, code: KeyCode, m: KeyModifiers| {
        app.update(Msg::Term(Event::Key(KeyEvent::new(code, m))));
    };
    press(&mut app, KeyCode::Char('c'), KeyModifiers::ALT);
    press(&mut app, KeyCode::Down, KeyModifiers::NONE);
    press(&mut app, KeyCode::End, KeyModifiers::NONE);
    press(&mut app, KeyCode::Backspace, KeyModifiers::NONE);
    press(&mut app, KeyCode::Backspace, KeyModifiers::NONE);
    press(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(app.editor_variants().cases_text, "id,city\nosl,\"Oslo, Norway\"");
    let table = app.editor_variants().cases.as_ref().unwrap();
    assert_eq!(table.cases[0].get("city"), Some("Oslo, Norway"));
    assert_eq!(
        app.editor_variants().settings().as_deref(),
        Some("repeat ×1 · interleaved · 1 case")
    );
}

#[test]
fn each_variant_sends_its_own_system_prompt_and_none_when_it_has_none() {
    let offline = prism::target::Target {
        name: "gpt".into(),
        provider: ProviderKind::OpenAi,
        model: "gpt-4o-mini".into(),
        base_url: "http://127.0.0.1:1/v1".into(),
        key: prism::target::KeySource::Demo,
        params: prism::target::Params::default(),
    };
    let mut app = App::new(
        vec![offline],
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        String::new(),
    );
    let press = |app: &mut App, code: KeyCode, m: KeyModifiers| {
        app.update(Msg::Term(Event::Key(KeyEvent::new(code, m))));
    };
    // Variant A: a system prompt typed in its editor.
    press(&mut app, KeyCode::Char('t'), KeyModifiers::CONTROL);
    assert_eq!(app.focus(), Focus::System);
    app.update(Msg::Term(Event::Paste("Be terse.".into())));
    app.update(Msg::EditorClosed(Ok("Hello".into())));
    // Variant B copies it, then clears its own.
    press(&mut app, KeyCode::Char('v'), KeyModifiers::ALT);
    press(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    press(&mut app, KeyCode::Char('t'), KeyModifiers::CONTROL);
    press(&mut app, KeyCode::Char('t'), KeyModifiers::CONTROL);
    assert_eq!(app.focus(), Focus::System);
    for _ in 0.."Be terse.".len() {
        press(&mut app, KeyCode::Backspace, KeyModifiers::NONE);
    }
    // Sent from A, whose system prompt is in the editor: B still has none.
    press(&mut app, KeyCode::Char(','), KeyModifiers::ALT);
    assert_eq!(app.editor_variants().current, 0);
    let effects = app.act(Action::Send);
    let Some(Effect::RunExperiment { plan, .. }) = effects.last() else {
        panic!("{effects:?}");
    };
    let systems: Vec<Option<&str>> = plan.0.cells.iter().map(|c| c.request.system.as_deref()).collect();
    assert_eq!(systems, [Some("Be terse."), None]);
}
