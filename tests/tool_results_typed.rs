//! Tool results typed in the workbench: two mock targets answer with a tool call and have
//! no canned results; alt-t opens an editor with one entry per tool called, a broken
//! object is refused with its line:col and kept, a fixed one runs the follow-up round for
//! both panes. The mock's log shows each provider got the typed result in its own shape,
//! the panes reach final answers and the session records both rounds, results not canned.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use prism::keys::Action;
use prism::mock_server::MockServer;
use prism::target::{ProviderKind, Target};
use prism::tui::effects::event_loop::Screen;
use prism::tui::effects::executor::{Executor, NoTerminal};
use prism::tui::input::keymap::Keymap;
use prism::tui::model::app::App;
use prism::tui::model::msg::{Effect, Msg};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

const TOOLS: &str = r#"
[[tool]]
name = "get_weather"
description = "Current weather for a city"
[tool.parameters]
type = "object"
required = ["city"]
properties.city = { type = "string" }
"#;

fn target(server: &MockServer, name: &str, kind: ProviderKind, model: &str) -> Target {
    let mut t = common::mock_target(server, name, kind, &format!("{model}+ttft=0,itl=0"), 200);
    t.params.tools = Some(prism::tools::definitions_from_text(TOOLS, "tools.toml", true).unwrap());
    t
}

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

    fn update(&mut self, msg: Msg) {
        let effects = self.app.update(msg);
        self.apply(effects);
    }

    fn key(&mut self, code: KeyCode, modifiers: KeyModifiers) {
        self.update(Msg::Term(Event::Key(KeyEvent::new(code, modifiers))));
    }

    /// Feed the workbench until every pane has settled.
    async fn settle(&mut self) {
        while self.app.animating() || self.app.session_id().is_none() {
            let msg = tokio::time::timeout(Duration::from_secs(20), self.rx.recv())
                .await
                .expect("nothing arrived")
                .unwrap();
            self.update(msg);
        }
    }

    /// Empty the open results editor, then paste `text` into it.
    fn retype(&mut self, text: &str) {
        let draft = self.app.tool_results_draft().expect("the editor is open");
        for _ in 0..draft.chars().count() {
            self.key(KeyCode::Backspace, KeyModifiers::NONE);
        }
        assert_eq!(self.app.tool_results_draft().as_deref(), Some(""));
        self.update(Msg::Term(Event::Paste(text.into())));
    }
}

/// The whole screen as text, row by row.
fn screen(app: &mut App) -> String {
    let mut term = Terminal::new(TestBackend::new(140, 30)).unwrap();
    term.frame(app).unwrap();
    let buf = term.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                + "\n"
        })
        .collect()
}

/// The last request the mock logged on a path starting with `prefix`, as JSON.
fn last_request(server: &MockServer, prefix: &str) -> Value {
    let records = server.log().records();
    let last = records
        .iter()
        .filter(|r| r.path.starts_with(prefix))
        .max_by_key(|r| r.received_at)
        .unwrap_or_else(|| panic!("no request on {prefix}"));
    serde_json::from_str(&last.body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_results_run_the_follow_up_round_for_every_pane_that_called_a_tool() {
    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let targets = vec![
        target(&server, "gpt", ProviderKind::OpenAi, "gpt-4o-mini-2024-07-18"),
        target(
            &server,
            "claude",
            ProviderKind::Anthropic,
            "claude-3-5-haiku-20241022",
        ),
    ];
    let mut bench = Bench::new(targets, root.path());
    bench
        .app
        .update(Msg::EditorClosed(Ok("Weather in Paris?".into())));
    let effects = bench.app.act(Action::Send);
    bench.apply(effects);
    bench.settle().await;
    for i in 0..2 {
        let calls = &bench.app.pane(i).metrics.tool_calls;
        assert_eq!(calls.len(), 1, "pane {i} ended in a tool call");
    }
    assert_eq!(server.log().records().len(), 2);

    // alt-t: one entry per tool called, nothing sent yet.
    bench.key(KeyCode::Char('t'), KeyModifiers::ALT);
    let draft = bench.app.tool_results_draft().expect("alt-t opens the editor");
    assert_eq!(
        serde_json::from_str::<Value>(&draft).unwrap(),
        json!({"get_weather": ""})
    );
    let shown = screen(&mut bench.app);
    assert!(shown.contains("esc runs the follow-up round"), "{shown}");

    // A broken object is refused where it breaks, and kept.
    bench.retype("{\n  \"get_weather\": \n}");
    bench.key(KeyCode::Esc, KeyModifiers::NONE);
    let notice = bench.app.notice().unwrap_or_default().to_string();
    assert!(notice.contains("3:1") && !notice.contains('\n'), "{notice}");
    let shown = screen(&mut bench.app);
    assert!(
        shown.contains("tool results: 3:1"),
        "the editor's title says where: {shown}"
    );
    assert_eq!(
        bench.app.tool_results_draft().as_deref(),
        Some("{\n  \"get_weather\": \n}"),
        "nothing typed is lost"
    );
    assert_eq!(server.log().records().len(), 2, "nothing sent");

    bench.retype(r#"{"get_weather": {"temp_c": 21}}"#);
    bench.key(KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(bench.app.tool_results_draft(), None, "the editor closed");
    bench.settle().await;

    for i in 0..2 {
        let pane = bench.app.pane(i);
        let text = pane.answer.text().to_string();
        assert!(
            text.contains("The tool returned") && text.contains("21"),
            "pane {i} reached a final answer quoting the result: {text}"
        );
        assert_eq!(pane.metrics.tool_rounds.count(), 2, "pane {i}");
        let sent = &pane.metrics.tool_rounds.sent[0].results[0];
        assert_eq!((sent.name.as_str(), sent.canned), ("get_weather", false));
    }
    let chat = last_request(&server, "/v1/chat/completions");
    let msgs = chat["messages"].as_array().unwrap();
    let tool = msgs.last().unwrap();
    assert_eq!(tool["role"], "tool");
    assert_eq!(tool["content"], "{\"temp_c\":21}");
    assert_eq!(tool["tool_call_id"], msgs[msgs.len() - 2]["tool_calls"][0]["id"]);
    let anthropic = last_request(&server, "/v1/messages");
    let msgs = anthropic["messages"].as_array().unwrap();
    let result = &msgs.last().unwrap()["content"][0];
    assert_eq!(result["type"], "tool_result");
    assert_eq!(result["tool_use_id"], msgs[msgs.len() - 2]["content"][0]["id"]);
    assert!(result["content"].to_string().contains("21"), "{result}");

    // The session keeps both rounds and the results as typed (not canned).
    let id = bench.app.session_id().map(str::to_string).unwrap();
    bench.runner.finish().await;
    let dir = prism::session::store::resolve(root.path(), &id).unwrap();
    let session = prism::session::load(&dir).unwrap();
    let turn = session.turns.last().unwrap();
    for i in 0..2 {
        let row = turn.answers[&i].row.as_ref().expect("final numbers recorded");
        assert_eq!(row.rounds, Some(2), "target {i}");
        assert_eq!(row.round_usage.as_ref().map(Vec::len), Some(2), "target {i}");
        let sent = row.tool_results.as_ref().unwrap();
        assert_eq!(
            (sent[0].content.clone(), sent[0].canned),
            (json!({"temp_c": 21}), false)
        );
    }
    server.shutdown().await;
}
