//! Tool results typed in the workbench: three mock targets (OpenAI chat, Anthropic,
//! Gemini) answer with a tool call and have no canned results; alt-t opens an editor with
//! one entry per tool called, a broken object is refused with its line:col and kept, a
//! fixed one continues every pane's turn with its follow-up round alone. The mock's log
//! shows two requests per target (the first round is not sent again), the follow-up
//! answering the very calls the first response streamed, in each provider's shape; the
//! panes reach final answers and the session reads back one turn with two rounds,
//! results not canned. The next turn's history is the prompt and the whole answer text.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::net::{Ipv4Addr, SocketAddr};

use common::bench::{Bench, render};
use crossterm::event::{Event, KeyCode, KeyModifiers};
use prism::keys::Action;
use prism::mock_server::MockServer;
use prism::target::{ProviderKind, Target};
use prism::tui::input::keymap::Keymap;
use prism::tui::model::app::App;
use prism::tui::model::msg::Msg;
use serde_json::{Value, json};

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

/// Feed the workbench until every pane has settled.
async fn settle(bench: &mut Bench) {
    while bench.app.animating() || bench.app.session_id().is_none() {
        bench.next().await;
    }
}

/// Empty the open results editor, then paste `text` into it.
fn retype(bench: &mut Bench, text: &str) {
    let draft = bench.app.tool_results_draft().expect("the editor is open");
    for _ in 0..draft.chars().count() {
        bench.key(KeyCode::Backspace, KeyModifiers::NONE);
    }
    assert_eq!(bench.app.tool_results_draft().as_deref(), Some(""));
    let effects = bench.app.update(Msg::Term(Event::Paste(text.into())));
    bench.apply(effects);
}

/// The whole screen as text, row by row.
fn screen(app: &mut App) -> String {
    render(app, 140, 30).into_iter().map(|row| row + "\n").collect()
}

/// Every request the mock logged on a path starting with `prefix`, oldest first, as JSON.
fn requests(server: &MockServer, prefix: &str) -> Vec<Value> {
    let mut records: Vec<_> = (server.log().records().into_iter())
        .filter(|r| r.path.starts_with(prefix))
        .collect();
    records.sort_by_key(|r| r.received_at);
    records
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect()
}

const CHAT: &str = "/v1/chat/completions";
const MESSAGES: &str = "/v1/messages";
const GEMINI: &str = "/v1beta/models/";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_results_continue_each_turn_with_its_follow_up_round_alone() {
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
        target(&server, "gemini", ProviderKind::Gemini, "gemini-2.5-flash"),
    ];
    let app = App::new(
        targets,
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        String::new(),
    );
    let mut bench = Bench::new(app, root.path());
    bench
        .app
        .update(Msg::EditorClosed(Ok("Weather in Paris?".into())));
    let effects = bench.app.act(Action::Send);
    bench.apply(effects);
    settle(&mut bench).await;
    let (mut first, mut queued) = (Vec::new(), Vec::new());
    for i in 0..3 {
        let pane = bench.app.pane(i);
        let calls = pane.metrics.tool_calls.clone();
        assert_eq!(calls.len(), 1, "pane {i} ended in a tool call");
        first.push((calls[0].clone(), pane.metrics.usage, pane.metrics.ttft()));
        queued.push(pane.queued_at.unwrap());
    }
    assert_eq!(server.log().records().len(), 3);

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
    retype(&mut bench, "{\n  \"get_weather\": \n}");
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
    assert_eq!(server.log().records().len(), 3, "nothing sent");

    retype(&mut bench, r#"{"get_weather": {"temp_c": 21}}"#);
    bench.key(KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(bench.app.tool_results_draft(), None, "the editor closed");
    let notice = bench.app.notice().unwrap_or_default().to_string();
    assert!(notice.contains("not sent again"), "{notice}");
    settle(&mut bench).await;

    // Two requests per target: the first round was not sent again.
    for prefix in [CHAT, MESSAGES, GEMINI] {
        assert_eq!(requests(&server, prefix).len(), 2, "{prefix}");
    }
    assert_eq!(server.log().records().len(), 6);
    for (i, (call, usage, ttft)) in first.iter().enumerate() {
        let pane = bench.app.pane(i);
        let text = pane.answer.text().to_string();
        assert!(
            text.contains("The tool returned") && text.contains("21"),
            "pane {i} reached a final answer quoting the result: {text}"
        );
        let m = &pane.metrics;
        assert_eq!(m.tool_rounds.count(), 2, "pane {i}");
        assert_eq!(m.tool_calls, vec![call.clone()], "pane {i}: the calls shown stay");
        let sent = &m.tool_rounds.sent[0].results[0];
        assert_eq!((sent.name.as_str(), sent.canned), ("get_weather", false));
        assert_eq!(sent.call_id, call.id.clone().unwrap_or_default(), "pane {i}");
        // Both rounds' usage, each kept; TTFT stays the first round's.
        assert_eq!(m.tool_rounds.parts()[0], *usage, "pane {i}");
        assert_eq!(
            m.usage.output,
            Some(usage.output.unwrap() + m.tool_rounds.current.output.unwrap())
        );
        assert_eq!(m.ttft(), *ttft, "pane {i}");
        assert!(m.tool_rounds.idle > std::time::Duration::ZERO, "pane {i}");
        // The elapsed clock leaves out the pause too.
        assert_eq!(pane.queued_at, Some(queued[i] + m.tool_rounds.idle), "pane {i}");
        assert!(!pane.status.is_active());
    }
    // One run per pane, both rounds in it, each round costed once.
    assert_eq!(bench.app.scored().len(), 3);
    let priced: u128 = (0..3).filter_map(|i| bench.app.pane_cost(i)).map(|c| c.0).sum();
    assert!(priced > 0);
    assert_eq!(bench.app.spent().0, priced);
    // Each follow-up answers the very call the first response streamed.
    let id = |i: usize| first[i].0.id.clone().unwrap();
    let chat = &requests(&server, CHAT)[1];
    let msgs = chat["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3, "prompt, calls, result: {chat}");
    let tool = &msgs[2];
    assert_eq!(tool["role"], "tool");
    assert_eq!(tool["content"], "{\"temp_c\":21}");
    assert_eq!(tool["tool_call_id"], id(0));
    assert_eq!(msgs[1]["tool_calls"][0]["id"], id(0));
    assert_eq!(
        msgs[1]["tool_calls"][0]["function"]["arguments"],
        first[0].0.arguments
    );
    let anthropic = &requests(&server, MESSAGES)[1];
    let msgs = anthropic["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3, "{anthropic}");
    let result = &msgs[2]["content"][0];
    assert_eq!(result["type"], "tool_result");
    assert_eq!(result["tool_use_id"], id(1));
    let used = msgs[1]["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "tool_use")
        .unwrap();
    assert_eq!(used["id"], id(1));
    assert!(result["content"].to_string().contains("21"), "{result}");
    let gemini = &requests(&server, GEMINI)[1];
    let contents = gemini["contents"].as_array().unwrap();
    assert_eq!(contents.len(), 3, "{gemini}");
    let call = &contents[1]["parts"][0]["functionCall"];
    assert_eq!(call["name"], "get_weather");
    assert_eq!(
        call["args"],
        serde_json::from_str::<Value>(&first[2].0.arguments).unwrap()
    );
    let response = &contents[2]["parts"][0]["functionResponse"];
    assert_eq!(response["name"], "get_weather");
    assert!(response["response"].to_string().contains("21"), "{response}");

    // The next turn carries what a canned run's would: the prompt and the whole answer.
    let answers: Vec<String> = (0..3)
        .map(|i| bench.app.pane(i).answer.text().to_string())
        .collect();
    bench.app.update(Msg::EditorClosed(Ok("And tomorrow?".into())));
    let effects = bench.app.act(Action::Send);
    bench.apply(effects);
    settle(&mut bench).await;
    let next = &requests(&server, CHAT)[2];
    let msgs = next["messages"].as_array().unwrap();
    let said: Vec<(&str, &str)> = msgs
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap(),
                m["content"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        said,
        [
            ("user", "Weather in Paris?"),
            ("assistant", answers[0].as_str()),
            ("user", "And tomorrow?")
        ]
    );

    // The session holds one turn with two rounds per target, the results as typed.
    let id = bench.app.session_id().map(str::to_string).unwrap();
    bench.runner.finish().await;
    let dir = prism::session::store::resolve(root.path(), &id).unwrap();
    let session = prism::session::load(&dir).unwrap();
    assert_eq!(session.turns.len(), 2);
    let turn = &session.turns[0];
    for (i, text) in answers.iter().enumerate() {
        let answer = &turn.answers[&i];
        assert!(answer.completed() && !answer.interrupted, "target {i}");
        assert_eq!(&answer.text(), text, "target {i}");
        let row = answer.row.as_ref().expect("final numbers recorded");
        assert_eq!(row.rounds, Some(2), "target {i}");
        assert_eq!(row.round_usage.as_ref().map(Vec::len), Some(2), "target {i}");
        let sent = row.tool_results.as_ref().unwrap();
        assert_eq!(
            (sent[0].content.clone(), sent[0].canned),
            (json!({"temp_c": 21}), false)
        );
        // Folded from the file, the numbers are those recorded: the pause is no latency.
        let run = answer.fold(std::time::Instant::now());
        assert_eq!(run.tool_rounds.count(), 2, "target {i}");
        assert!(run.tool_rounds.idle > std::time::Duration::ZERO, "target {i}");
        let total = run.total().unwrap().as_secs_f64() * 1e3;
        assert!(
            (total - row.total_ms.unwrap()).abs() < 0.01,
            "target {i}: {total} vs {:?}",
            row.total_ms
        );
    }
    server.shutdown().await;
}

/// The engine's entry point alone, over loopback to the mock: only the follow-up goes
/// out, answering the recorded call by its id, and the events open with the round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_continuation_sends_only_the_follow_up_and_opens_with_its_round() {
    use prism::engine::{Cancels, Continuation, RunOptions, continue_each};
    use prism::provider::event::StreamEvent;
    use prism::provider::request::{CalledTool, ChatRequest};
    use prism::target::ToolResults;

    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let recorded = Continuation {
        target: target(&server, "t", ProviderKind::OpenAi, "gpt-4o-mini-2024-07-18"),
        request: ChatRequest::single(None, "Weather in Paris?"),
        text: "Let me check.".into(),
        calls: vec![CalledTool {
            id: "call_seen".into(),
            name: "get_weather".into(),
            arguments: "{\"city\":\"Paris\"}".into(),
        }],
        results: ToolResults {
            results: [("get_weather".to_string(), json!({"temp_c": 21}))].into(),
            typed: true,
        },
    };
    let mut handle = continue_each(&[recorded], RunOptions::default(), Cancels::new(1)).await;
    let mut events = Vec::new();
    while let Some(env) = handle.events.recv().await {
        events.push(env.event);
    }
    let StreamEvent::ToolRound(round) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(round.round, 2);
    assert_eq!(round.results[0].call_id, "call_seen");
    assert!(!round.results[0].canned);
    assert_eq!(events.last(), Some(&StreamEvent::Done));
    let text: String = events.iter().filter_map(StreamEvent::answer_text).collect();
    assert!(text.contains("The tool returned"), "{text}");
    let sent = requests(&server, CHAT);
    assert_eq!(
        server.log().records().len(),
        1,
        "the first round is not sent again"
    );
    let messages = sent[0]["messages"].as_array().unwrap();
    assert_eq!(messages[1]["content"], "Let me check.");
    assert_eq!(messages[1]["tool_calls"][0]["id"], "call_seen");
    assert_eq!(
        messages[1]["tool_calls"][0]["function"]["arguments"],
        "{\"city\":\"Paris\"}"
    );
    assert_eq!(messages[2]["tool_call_id"], "call_seen");
    server.shutdown().await;
}
