//! Tools end to end: one tools file, the exact fields each provider gets it in for every
//! `tool_choice` (golden request bodies), tool calls assembled from real streams
//! (parallel calls, arguments split across many deltas, calls without arguments), the
//! follow-up round with canned results in each provider's own shape, and what
//! `prism run --tools --tool-results` prints.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use prism::config::parse;
use prism::engine::metrics::TargetRun;
use prism::engine::{RunOptions, fan_out};
use prism::mock_server::MockServer;
use prism::pricing::PriceTable;
use prism::provider::build_request;
use prism::provider::credentials::Credentials;
use prism::provider::request::{CalledTool, ChatRequest, Message, ToolResult};
use prism::target::{Api, ProviderKind, Target, ToolChoice, Toolset};
use serde_json::{Value, json};

const TOOLS: &str = r#"
[[tool]]
name = "get_weather"
description = "Current weather for a city"
[tool.parameters]
type = "object"
required = ["city"]
properties.city = { type = "string" }

[[tool]]
name = "now"
"#;

fn weather_schema() -> Value {
    json!({"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}})
}

fn empty_schema() -> Value {
    json!({"type": "object", "properties": {}})
}

/// One target per wire mapping, all sending `tools.toml` with `choice`.
fn configured(dir: &Path, choice: &str) -> Vec<Target> {
    std::fs::write(dir.join("tools.toml"), TOOLS).unwrap();
    let text = format!(
        r#"
tools = "tools.toml"
tool_choice = "{choice}"

[[target]]
name = "openai"
provider = "openai"
model = "gpt-4o-mini-2024-07-18"

[[target]]
name = "compatible"
provider = "openai-compatible"
model = "llama3.1:8b"
base_url = "http://127.0.0.1:1/v1"

[[target]]
name = "azure"
provider = "azure"
base_url = "https://res.openai.azure.com"
deployment = "prod-mini"
api_version = "2024-10-21"

[[target]]
name = "responses"
provider = "openai"
api = "responses"
model = "gpt-4.1-mini-2025-04-14"

[[target]]
name = "anthropic"
provider = "anthropic"
model = "claude-3-5-haiku-20241022"
max_tokens = 100

[[target]]
name = "gemini"
provider = "gemini"
model = "gemini-2.5-flash"

[[target]]
name = "bedrock"
provider = "bedrock"
model = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
region = "us-west-2"
"#
    );
    parse(&text, &dir.join("prism.toml")).unwrap().targets
}

fn body_for(target: &Target, request: &ChatRequest) -> Value {
    let client = prism::provider::client::TimedClient::new(Duration::from_secs(2))
        .unwrap()
        .http;
    let req = build_request(&client, target, request, &Credentials::None).unwrap();
    serde_json::from_slice(req.body().unwrap().as_bytes().unwrap()).unwrap()
}

fn sent(targets: &[Target], name: &str) -> Value {
    let t = targets.iter().find(|t| t.name == name).unwrap();
    body_for(t, &ChatRequest::single(None, "Weather in Paris?"))
}

#[test]
fn golden_tool_definitions_per_provider() {
    let dir = tempfile::tempdir().unwrap();
    let targets = configured(dir.path(), "auto");
    let (w, e) = (weather_schema(), empty_schema());
    let chat_tools = json!([
        {"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city", "parameters": w}},
        {"type": "function", "function": {"name": "now", "parameters": e}}
    ]);
    assert_eq!(
        sent(&targets, "openai"),
        json!({
            "model": "gpt-4o-mini-2024-07-18",
            "messages": [{"role": "user", "content": "Weather in Paris?"}],
            "stream": true,
            "stream_options": {"include_usage": true},
            "tools": chat_tools,
            "tool_choice": "auto",
        })
    );
    for name in ["compatible", "azure"] {
        let b = sent(&targets, name);
        assert_eq!(
            (&b["tools"], &b["tool_choice"]),
            (&chat_tools, &json!("auto")),
            "{name}"
        );
    }
    let b = sent(&targets, "responses");
    assert_eq!(
        b["tools"],
        json!([
            {"type": "function", "name": "get_weather", "description": "Current weather for a city", "parameters": w, "strict": false},
            {"type": "function", "name": "now", "parameters": e, "strict": false}
        ])
    );
    assert_eq!(b["tool_choice"], "auto");
    assert_eq!(
        sent(&targets, "anthropic"),
        json!({
            "model": "claude-3-5-haiku-20241022",
            "max_tokens": 100,
            "messages": [{"role": "user", "content": "Weather in Paris?"}],
            "stream": true,
            "tools": [
                {"name": "get_weather", "description": "Current weather for a city", "input_schema": w},
                {"name": "now", "input_schema": e}
            ],
            "tool_choice": {"type": "auto"},
        })
    );
    let b = sent(&targets, "gemini");
    assert_eq!(
        b["tools"],
        json!([{"functionDeclarations": [
            {"name": "get_weather", "description": "Current weather for a city", "parametersJsonSchema": w},
            {"name": "now", "parametersJsonSchema": e}
        ]}])
    );
    assert_eq!(
        b["toolConfig"],
        json!({"functionCallingConfig": {"mode": "AUTO"}})
    );
    assert_eq!(
        sent(&targets, "bedrock")["toolConfig"],
        json!({
            "tools": [
                {"toolSpec": {"name": "get_weather", "description": "Current weather for a city", "inputSchema": {"json": w}}},
                {"toolSpec": {"name": "now", "inputSchema": {"json": e}}}
            ],
            "toolChoice": {"auto": {}}
        })
    );
}

#[test]
fn golden_tool_choice_per_provider() {
    let dir = tempfile::tempdir().unwrap();
    // (choice, chat, responses, anthropic, gemini functionCallingConfig, bedrock toolChoice)
    let cases = [
        (
            "required",
            json!("required"),
            json!("required"),
            json!({"type": "any"}),
            json!({"mode": "ANY"}),
            Some(json!({"any": {}})),
        ),
        (
            "none",
            json!("none"),
            json!("none"),
            json!({"type": "none"}),
            json!({"mode": "NONE"}),
            None,
        ),
        (
            "get_weather",
            json!({"type": "function", "function": {"name": "get_weather"}}),
            json!({"type": "function", "name": "get_weather"}),
            json!({"type": "tool", "name": "get_weather"}),
            json!({"mode": "ANY", "allowedFunctionNames": ["get_weather"]}),
            Some(json!({"tool": {"name": "get_weather"}})),
        ),
    ];
    for (choice, chat, responses, anthropic, gemini, bedrock) in cases {
        let targets = configured(dir.path(), choice);
        for name in ["openai", "compatible", "azure"] {
            assert_eq!(sent(&targets, name)["tool_choice"], chat, "{name} {choice}");
        }
        assert_eq!(sent(&targets, "responses")["tool_choice"], responses, "{choice}");
        assert_eq!(sent(&targets, "anthropic")["tool_choice"], anthropic, "{choice}");
        assert_eq!(
            sent(&targets, "gemini")["toolConfig"]["functionCallingConfig"],
            gemini,
            "{choice}"
        );
        let b = sent(&targets, "bedrock");
        match bedrock {
            Some(c) => assert_eq!(b["toolConfig"]["toolChoice"], c, "{choice}"),
            // Converse has no "none": the tools are left out altogether.
            None => assert!(b.get("toolConfig").is_none(), "{b}"),
        }
    }
}

#[test]
fn a_tool_choice_naming_no_tool_is_a_load_error_where_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tools.toml"), TOOLS).unwrap();
    let cfg = dir.path().join("prism.toml");
    let text = "tools = \"tools.toml\"\ntool_choice = \"get_wether\"\n\n[[target]]\nname = \"a\"\nprovider = \"openai\"\nmodel = \"gpt-4o\"\n";
    let e = parse(text, &cfg).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}:2:15: ", cfg.display()))
            && e.contains("`tool_choice = \"get_wether\"` names no tool"),
        "{e}"
    );
    assert!(e.contains("get_weather, now"), "{e}");
    let text =
        "[[target]]\nname = \"a\"\nprovider = \"openai\"\nmodel = \"gpt-4o\"\ntools = \"missing.json\"\n";
    let e = parse(text, &cfg).unwrap_err().to_string();
    assert!(
        e.contains("`tools`: ") && e.contains("cannot read the tools file"),
        "{e}"
    );
}

/// A request whose history holds a round of two calls (one without arguments) and their
/// results: the follow-up every provider is sent.
fn follow_up() -> ChatRequest {
    let mut r = ChatRequest::single(None, "Weather in Paris?");
    r.messages.push(Message::tool_calls(
        "",
        vec![
            CalledTool {
                id: "call_1".into(),
                name: "get_weather".into(),
                arguments: "{\"city\":\"Paris\"}".into(),
            },
            CalledTool {
                id: "call_2".into(),
                name: "now".into(),
                arguments: String::new(),
            },
        ],
    ));
    r.messages.push(Message::tool_results(vec![
        ToolResult {
            call_id: "call_1".into(),
            name: "get_weather".into(),
            content: json!({"temp_c": 21}),
        },
        ToolResult {
            call_id: "call_2".into(),
            name: "now".into(),
            content: json!("noon"),
        },
    ]));
    r
}

#[test]
fn golden_follow_up_turns_per_provider() {
    let dir = tempfile::tempdir().unwrap();
    let targets = configured(dir.path(), "auto");
    let by = |name: &str| body_for(targets.iter().find(|t| t.name == name).unwrap(), &follow_up());
    let user = json!({"role": "user", "content": "Weather in Paris?"});
    for name in ["openai", "compatible", "azure"] {
        assert_eq!(
            by(name)["messages"],
            json!([
                user,
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "call_2", "type": "function", "function": {"name": "now", "arguments": ""}}
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\":21}"},
                {"role": "tool", "tool_call_id": "call_2", "content": "noon"}
            ]),
            "{name}"
        );
    }
    assert_eq!(
        by("responses")["input"],
        json!([
            user,
            {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
            {"type": "function_call", "call_id": "call_2", "name": "now", "arguments": ""},
            {"type": "function_call_output", "call_id": "call_1", "output": "{\"temp_c\":21}"},
            {"type": "function_call_output", "call_id": "call_2", "output": "noon"}
        ])
    );
    assert_eq!(
        by("anthropic")["messages"],
        json!([
            user,
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "call_2", "name": "now", "input": {}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "{\"temp_c\":21}"},
                {"type": "tool_result", "tool_use_id": "call_2", "content": "noon"}
            ]}
        ])
    );
    assert_eq!(
        by("gemini")["contents"],
        json!([
            {"role": "user", "parts": [{"text": "Weather in Paris?"}]},
            {"role": "model", "parts": [
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}},
                {"functionCall": {"name": "now", "args": {}, "id": "call_2"}}
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"temp_c": 21}, "id": "call_1"}},
                {"functionResponse": {"name": "now", "response": {"result": "noon"}, "id": "call_2"}}
            ]}
        ])
    );
    assert_eq!(
        by("bedrock")["messages"],
        json!([
            {"role": "user", "content": [{"text": "Weather in Paris?"}]},
            {"role": "assistant", "content": [
                {"toolUse": {"toolUseId": "call_1", "name": "get_weather", "input": {"city": "Paris"}}},
                {"toolUse": {"toolUseId": "call_2", "name": "now", "input": {}}}
            ]},
            {"role": "user", "content": [
                {"toolResult": {"toolUseId": "call_1", "content": [{"json": {"temp_c": 21}}]}},
                {"toolResult": {"toolUseId": "call_2", "content": [{"text": "noon"}]}}
            ]}
        ])
    );
}

async fn run(targets: &[Target], request: &ChatRequest) -> Vec<prism::report::ResultRow> {
    let mut handle = fan_out(targets, request, RunOptions::default()).await;
    let mut runs = vec![TargetRun::default(); targets.len()];
    while let Some(env) = tokio::time::timeout(Duration::from_secs(30), handle.events.recv())
        .await
        .expect("run stalled")
    {
        runs[env.target].apply(env.at, &env.event);
    }
    handle.join().await;
    let prices = PriceTable::builtin().unwrap();
    targets
        .iter()
        .zip(&runs)
        .map(|(t, r)| prism::report::row(t, request, r, &prices))
        .collect()
}

fn tools(results: Option<Value>) -> Toolset {
    let mut set = prism::tools::definitions_from_text(TOOLS, "tools.toml", true).unwrap();
    set.choice = Some(ToolChoice::Named("get_weather".into()));
    set.results = results.map(|r| prism::target::ToolResults {
        results: serde_json::from_value(r).unwrap(),
        typed: false,
    });
    set
}

/// One target of each wire mapping on the mock, with `set`.
fn on_mock(server: &MockServer, set: &Toolset) -> Vec<Target> {
    on_mock_with(server, set, "")
}

/// One target of each wire mapping on the mock, with `set` and `directives` added to the
/// model names.
fn on_mock_with(server: &MockServer, set: &Toolset, directives: &str) -> Vec<Target> {
    let t = |name: &str, kind: ProviderKind, model: &str| {
        let model = format!("{model}+ttft=0,itl=0{directives}");
        let mut t = common::mock_target(server, name, kind, &model, 400);
        t.params.tools = Some(set.clone());
        t
    };
    let mut responses = t("responses", ProviderKind::OpenAi, "gpt-4.1-mini-2025-04-14");
    responses.params.api = Api::Responses;
    vec![
        t("openai", ProviderKind::OpenAi, "gpt-4o-mini-2024-07-18"),
        responses,
        t("anthropic", ProviderKind::Anthropic, "claude-3-5-haiku-20241022"),
        t("gemini", ProviderKind::Gemini, "gemini-2.5-flash"),
        t(
            "bedrock",
            ProviderKind::Bedrock,
            "us.anthropic.claude-3-5-haiku-20241022-v1:0",
        ),
        t("azure", ProviderKind::Azure, "prod-mini"),
    ]
}

async fn mock() -> MockServer {
    MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_streams_a_tool_call_that_assembles_whole() {
    let server = mock().await;
    let targets = on_mock(&server, &tools(None));
    let rows = run(&targets, &ChatRequest::single(None, "Weather in Paris?")).await;
    for r in &rows {
        assert_eq!(r.status.as_str(), "ok", "{}: {:?}", r.target, r.error);
        let calls = r
            .tool_calls
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no call", r.target));
        assert_eq!(calls.len(), 1, "{}", r.target);
        assert_eq!(calls[0].name.as_deref(), Some("get_weather"), "{}", r.target);
        assert!(
            calls[0].id.as_deref().is_some_and(|id| !id.is_empty()) || r.target == "gemini",
            "{}",
            r.target
        );
        // Generated from the parameters schema, and sent as JSON text.
        let args: Value = serde_json::from_str(&calls[0].arguments).unwrap();
        assert!(args["city"].is_string(), "{}: {}", r.target, calls[0].arguments);
        assert_eq!(
            r.finish_reason.map(|f| f.as_str()),
            Some("tool_calls"),
            "{}",
            r.target
        );
        assert_eq!(r.rounds, None, "no canned results: one round ({})", r.target);
    }
    assert_eq!(server.log().records().len(), targets.len());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canned_results_run_one_follow_up_round_in_each_providers_shape() {
    let server = mock().await;
    let targets = on_mock(&server, &tools(Some(json!({"get_weather": {"temp_c": 21}}))));
    let rows = run(&targets, &ChatRequest::single(None, "Weather in Paris?")).await;
    for r in &rows {
        assert_eq!(r.status.as_str(), "ok", "{}: {:?}", r.target, r.error);
        assert_eq!(r.rounds, Some(2), "{}", r.target);
        let calls = r.tool_calls.as_ref().unwrap();
        assert_eq!(calls[0].name.as_deref(), Some("get_weather"), "{}", r.target);
        assert!(
            r.text.contains("The tool returned") && r.text.contains("21"),
            "{}: {}",
            r.target,
            r.text
        );
        assert_eq!(r.finish_reason.map(|f| f.as_str()), Some("stop"), "{}", r.target);
        let parts = r.round_usage.as_ref().unwrap();
        assert_eq!(parts.len(), 2, "{}", r.target);
        let out = |i: usize| {
            parts[i]
                .output
                .unwrap_or_else(|| panic!("{}: round {i} {parts:?}", r.target))
        };
        let sum = out(0) + out(1);
        assert_eq!(
            r.usage.output_tokens,
            Some(sum),
            "{}: usage is the rounds' sum",
            r.target
        );
        let sent = r.tool_results.as_ref().unwrap();
        assert_eq!(
            (sent[0].name.as_str(), sent[0].canned),
            ("get_weather", true),
            "{}",
            r.target
        );
        assert!(r.ttft_ms.is_some(), "{}", r.target);
    }
    let records = server.log().records();
    assert_eq!(records.len(), 2 * targets.len(), "two requests per target");
    let second = |path_part: &str| -> Value {
        let r: Vec<_> = records.iter().filter(|r| r.path.contains(path_part)).collect();
        let paths: Vec<_> = records.iter().map(|r| r.path.clone()).collect();
        let last = r
            .iter()
            .max_by_key(|r| r.received_at)
            .unwrap_or_else(|| panic!("{path_part}: {paths:?}"));
        serde_json::from_str(&last.body).unwrap()
    };
    let chat = second("/chat/completions");
    let msgs = chat["messages"].as_array().unwrap();
    assert_eq!(msgs[1]["tool_calls"][0]["function"]["name"], "get_weather");
    assert_eq!(msgs[2]["role"], "tool");
    assert_eq!(msgs[2]["tool_call_id"], msgs[1]["tool_calls"][0]["id"]);
    assert_eq!(msgs[2]["content"], "{\"temp_c\":21}");
    let responses = second("/responses");
    let items = responses["input"].as_array().unwrap();
    assert_eq!(items[1]["type"], "function_call");
    assert_eq!(items[2]["type"], "function_call_output");
    assert_eq!(items[2]["call_id"], items[1]["call_id"]);
    let anthropic = second("/v1/messages");
    let msgs = anthropic["messages"].as_array().unwrap();
    assert_eq!(msgs[1]["content"][0]["type"], "tool_use");
    assert_eq!(msgs[2]["content"][0]["type"], "tool_result");
    assert_eq!(msgs[2]["content"][0]["tool_use_id"], msgs[1]["content"][0]["id"]);
    let gemini = second("GenerateContent");
    let contents = gemini["contents"].as_array().unwrap();
    assert_eq!(contents[1]["role"], "model");
    assert_eq!(contents[1]["parts"][0]["functionCall"]["name"], "get_weather");
    assert_eq!(
        contents[2]["parts"][0]["functionResponse"],
        json!({"name": "get_weather", "response": {"temp_c": 21}})
    );
    let bedrock = second("/converse");
    let msgs = bedrock["messages"].as_array().unwrap();
    assert_eq!(msgs[1]["content"][0]["toolUse"]["name"], "get_weather");
    assert_eq!(
        msgs[2]["content"][0]["toolResult"]["toolUseId"],
        msgs[1]["content"][0]["toolUse"]["toolUseId"]
    );
    server.shutdown().await;
}

/// The last request the mock logged on a path starting with `path_part`, as JSON.
fn last_request(server: &MockServer, path_part: &str) -> Value {
    let records = server.log().records();
    let last = records
        .iter()
        .filter(|r| r.path.starts_with(path_part))
        .max_by_key(|r| r.received_at)
        .unwrap_or_else(|| {
            let paths: Vec<_> = records.iter().map(|r| r.path.as_str()).collect();
            panic!("no request on {path_part}: {paths:?}")
        });
    serde_json::from_str(&last.body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_parallel_calls_assemble_and_both_results_go_back_in_each_providers_shape() {
    let server = mock().await;
    let mut set = tools(Some(json!({"get_weather": {"temp_c": 21}, "now": "12:00"})));
    set.choice = None;
    let targets = on_mock_with(&server, &set, ",tools=2");
    let rows = run(
        &targets,
        &ChatRequest::single(None, "Weather in Paris, and the time?"),
    )
    .await;
    for r in &rows {
        assert_eq!(r.status.as_str(), "ok", "{}: {:?}", r.target, r.error);
        let calls = r.tool_calls.as_ref().unwrap();
        let names: Vec<_> = calls.iter().map(|c| c.name.as_deref().unwrap_or("")).collect();
        assert_eq!(names, ["get_weather", "now"], "{}", r.target);
        // Streamed in pieces, reassembled whole: the weather call's arguments span
        // several deltas, the clock's are an empty object.
        let weather: Value = serde_json::from_str(&calls[0].arguments).unwrap();
        assert_eq!(weather, json!({"city": "mock"}), "{}", r.target);
        let clock: Value = serde_json::from_str(&calls[1].arguments).unwrap();
        assert_eq!(clock, json!({}), "{}", r.target);
        if r.target != "gemini" {
            assert_ne!(calls[0].id, calls[1].id, "{}: each call has its own id", r.target);
        }
        assert_eq!(r.rounds, Some(2), "{}", r.target);
        let sent: Vec<_> = r
            .tool_results
            .as_ref()
            .unwrap()
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(sent, ["get_weather", "now"], "{}", r.target);
        assert!(
            r.text.contains("{\"temp_c\":21}") && r.text.contains("12:00"),
            "{}: the answer quotes both results: {}",
            r.target,
            r.text
        );
    }
    // Chat Completions (and Azure): one assistant message with both calls, then one tool
    // message per call.
    for path in ["/v1/chat/completions", "/openai/v1/chat/completions"] {
        let body = last_request(&server, path);
        let msgs = body["messages"].as_array().unwrap();
        let calls = msgs[1]["tool_calls"].as_array().unwrap();
        assert_eq!(calls.len(), 2, "{path}");
        assert_eq!(
            (msgs[2]["role"].as_str(), msgs[3]["role"].as_str()),
            (Some("tool"), Some("tool"))
        );
        assert_eq!(msgs[2]["tool_call_id"], calls[0]["id"], "{path}");
        assert_eq!(msgs[3]["tool_call_id"], calls[1]["id"], "{path}");
        assert_eq!(msgs[3]["content"], "12:00", "{path}");
    }
    // Responses: two function_call items, then two outputs.
    let body = last_request(&server, "/v1/responses");
    let items = body["input"].as_array().unwrap();
    let kinds: Vec<_> = items
        .iter()
        .map(|i| i["type"].as_str().unwrap_or("message"))
        .collect();
    assert_eq!(
        kinds,
        [
            "message",
            "function_call",
            "function_call",
            "function_call_output",
            "function_call_output"
        ]
    );
    assert_eq!(items[3]["call_id"], items[1]["call_id"]);
    assert_eq!(items[4]["call_id"], items[2]["call_id"]);
    assert_ne!(items[1]["call_id"], items[2]["call_id"]);
    // Anthropic: two tool_use blocks, then two tool_result blocks in one user message.
    let body = last_request(&server, "/v1/messages");
    let msgs = body["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3);
    let uses: Vec<_> = msgs[1]["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "tool_use")
        .collect();
    let results = msgs[2]["content"].as_array().unwrap();
    assert_eq!((uses.len(), results.len()), (2, 2));
    assert_eq!(results[0]["tool_use_id"], uses[0]["id"]);
    assert_eq!(results[1]["tool_use_id"], uses[1]["id"]);
    assert_eq!(results[1]["type"], "tool_result");
    // Gemini: two functionCall parts, then two functionResponse parts.
    let body = last_request(&server, "/v1beta/models/");
    let contents = body["contents"].as_array().unwrap();
    assert_eq!(contents[1]["parts"][1]["functionCall"]["name"], "now");
    assert_eq!(
        contents[2]["parts"],
        json!([
            {"functionResponse": {"name": "get_weather", "response": {"temp_c": 21}}},
            {"functionResponse": {"name": "now", "response": {"result": "12:00"}}}
        ])
    );
    // Bedrock: two toolUse blocks, then two toolResult blocks in one user message.
    let body = last_request(&server, "/model/");
    let msgs = body["messages"].as_array().unwrap();
    let uses = msgs[1]["content"].as_array().unwrap();
    let results = msgs[2]["content"].as_array().unwrap();
    assert_eq!((uses.len(), results.len()), (2, 2));
    assert_eq!(
        results[0]["toolResult"]["toolUseId"],
        uses[0]["toolUse"]["toolUseId"]
    );
    assert_eq!(
        results[1]["toolResult"]["toolUseId"],
        uses[1]["toolUse"]["toolUseId"]
    );
    assert_ne!(uses[0]["toolUse"]["toolUseId"], uses[1]["toolUse"]["toolUseId"]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_without_a_canned_result_gets_an_error_result_and_a_note() {
    let server = mock().await;
    let targets: Vec<Target> = on_mock(&server, &tools(Some(json!({"now": "noon"}))))
        .into_iter()
        .take(1)
        .collect();
    let rows = run(&targets, &ChatRequest::single(None, "Weather in Paris?")).await;
    let r = &rows[0];
    assert_eq!(r.rounds, Some(2));
    let sent = r.tool_results.as_ref().unwrap();
    assert_eq!(
        sent[0].content,
        json!({"error": "no canned result for get_weather"})
    );
    assert!(!sent[0].canned);
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("no canned result for `get_weather`")),
        "{:?}",
        r.notes
    );
    server.shutdown().await;
}

/// A target of `kind` on a raw loopback server, without tools of its own.
fn on_raw(server: &common::raw::RawServer, kind: ProviderKind, model: &str) -> Target {
    let mut t = prism::target::Target {
        name: kind.as_str().into(),
        provider: kind,
        model: model.into(),
        base_url: server.url(),
        key: prism::target::KeySource::Demo,
        params: prism::target::Params {
            max_tokens: Some(100),
            stream: true,
            ..prism::target::Params::default()
        },
    };
    if kind == ProviderKind::OpenAi {
        t.base_url = format!("{}/v1", server.url());
    }
    t
}

fn sse(lines: &[String]) -> Vec<u8> {
    let mut out = common::raw::head("200 OK", &[common::raw::SSE]);
    for l in lines {
        out.extend_from_slice(l.as_bytes());
        out.extend_from_slice(b"\n\n");
    }
    out
}

/// Two parallel calls: `get_weather` with its arguments split across four deltas, and
/// `now` with none, after a sentence of text (Anthropic) or none (Chat Completions).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_split_and_empty_calls_assemble_exactly_as_sent() {
    let pieces = ["{\"ci", "ty\":", "\"Pa", "ris\"}"];
    let chunk = |delta: Value, finish: Value| {
        format!(
            "data: {}",
            json!({"id": "c1", "object": "chat.completion.chunk", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        )
    };
    let mut chat = vec![chunk(
        json!({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}),
        Value::Null,
    )];
    chat.extend(pieces.iter().map(|p| {
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}),
            Value::Null,
        )
    }));
    chat.push(chunk(
        json!({"tool_calls": [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "now", "arguments": ""}}]}),
        Value::Null,
    ));
    chat.push(chunk(json!({}), json!("tool_calls")));
    chat.push("data: [DONE]".into());
    let ev = |name: &str, data: Value| format!("event: {name}\ndata: {data}");
    let mut claude = vec![
        ev(
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [], "stop_reason": null, "usage": {"input_tokens": 5, "output_tokens": 1}}}),
        ),
        ev(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        ev(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Checking."}}),
        ),
        ev(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        ev(
            "content_block_start",
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {}}}),
        ),
    ];
    claude.extend(pieces.iter().map(|p| {
        ev("content_block_delta", json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": p}}))
    }));
    claude.extend([
        ev("content_block_stop", json!({"type": "content_block_stop", "index": 1})),
        ev("content_block_start", json!({"type": "content_block_start", "index": 2, "content_block": {"type": "tool_use", "id": "toolu_b", "name": "now", "input": {}}})),
        ev("content_block_delta", json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": ""}})),
        ev("content_block_stop", json!({"type": "content_block_stop", "index": 2})),
        ev("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 20}})),
        ev("message_stop", json!({"type": "message_stop"})),
    ]);
    let (chat, claude) = (sse(&chat), sse(&claude));
    let server = common::raw::RawServer::start(move |sock, seen| {
        let bytes = if seen.path().contains("/v1/messages") {
            claude.clone()
        } else {
            chat.clone()
        };
        async move { common::raw::write_then_close(sock, &bytes).await }
    })
    .await;
    let targets = [
        on_raw(&server, ProviderKind::OpenAi, "gpt-4o-mini"),
        on_raw(&server, ProviderKind::Anthropic, "claude-3-5-haiku-20241022"),
    ];
    let rows = run(&targets, &ChatRequest::single(None, "Weather in Paris?")).await;
    for (r, ids) in rows.iter().zip([["call_a", "call_b"], ["toolu_a", "toolu_b"]]) {
        assert_eq!(r.status.as_str(), "ok", "{}: {:?}", r.target, r.error);
        let calls: Vec<_> = r
            .tool_calls
            .as_ref()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c.id.as_deref().unwrap(),
                    c.name.as_deref().unwrap(),
                    c.arguments.as_str(),
                )
            })
            .collect();
        assert_eq!(
            calls,
            [
                (ids[0], "get_weather", "{\"city\":\"Paris\"}"),
                (ids[1], "now", "")
            ],
            "{}",
            r.target
        );
        assert_eq!(
            r.finish_reason.map(|f| f.as_str()),
            Some("tool_calls"),
            "{}",
            r.target
        );
    }
    assert_eq!(rows[1].text, "Checking.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prism_run_tools_and_tool_results_print_both_rounds() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tools.toml"), TOOLS).unwrap();
    std::fs::write(
        dir.path().join("results.json"),
        r#"{"get_weather": {"temp_c": 21}}"#,
    )
    .unwrap();
    let ran = common::run::prism_in(
        dir.path(),
        &[
            "run",
            "--demo",
            "--format",
            "jsonl",
            "--prompt",
            "Weather in Paris?",
            "--tools",
            "tools.toml",
            "--tool-choice",
            "get_weather",
            "--tool-results",
            "results.json",
        ],
        &[],
    )
    .await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let rows: Vec<Value> = ran
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!rows.is_empty());
    for row in &rows {
        assert_eq!(row["rounds"], 2, "{row}");
        assert_eq!(row["tool_calls"][0]["name"], "get_weather", "{row}");
        assert!(
            row["tool_calls"][0]["arguments"]
                .as_str()
                .unwrap()
                .contains("city"),
            "{row}"
        );
        assert_eq!(row["tool_results"][0]["content"], json!({"temp_c": 21}), "{row}");
        assert!(row["text"].as_str().unwrap().contains("21"), "{row}");
        assert_eq!(row["round_usage"].as_array().unwrap().len(), 2, "{row}");
    }
    let bad = common::run::prism_in(
        dir.path(),
        &[
            "run",
            "--demo",
            "--prompt",
            "x",
            "--tools",
            "tools.toml",
            "--tool-choice",
            "nope",
        ],
        &[],
    )
    .await;
    assert_ne!(bad.code, 0);
    assert!(
        bad.stderr
            .contains("--tool-choice: `tool_choice = \"nope\"` names no tool"),
        "{}",
        bad.stderr
    );
}

/// Runs `send` to its end, gathering nothing; fails the test if it hangs.
async fn finish(send: prism::workflows::send::Send) {
    tokio::time::timeout(Duration::from_secs(30), send.run(|_| true))
        .await
        .expect("the send ends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_run_with_tools_is_sent_again_with_the_same_tools_and_choice() {
    use prism::engine::{Cancels, RunId};
    use prism::session::SessionWriter;
    use prism::workflows::send::{Job, JobId, Send, SessionTarget};

    let server = mock().await;
    let set = tools(Some(json!({"get_weather": "sunny"})));
    let targets: Vec<Target> = on_mock(&server, &set)
        .into_iter()
        .filter(|t| ["openai", "anthropic"].contains(&t.name.as_str()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let old_dir = dir.path().join("old");
    let writer = SessionWriter::create_at(&old_dir, &targets, PriceTable::default()).unwrap();
    let jobs = targets
        .iter()
        .enumerate()
        .map(|(k, t)| Job {
            id: JobId(k),
            session: SessionTarget(k),
            target: t.clone(),
            request: ChatRequest::single(None, "Weather in Paris?"),
            history: Vec::new(),
            blocked: None,
        })
        .collect();
    let send = |jobs, writer: &SessionWriter| Send {
        run: RunId(1),
        turn: 1,
        system: None,
        prompt: "Weather in Paris?".into(),
        jobs,
        session: Some(writer.clone()),
        prices: PriceTable::default(),
        cancels: Cancels::new(targets.len()),
        provider_counts: false,
    };
    finish(send(jobs, &writer)).await;
    writer.close();
    assert!(writer.error().is_none());
    let first: Vec<Value> = server
        .log()
        .records()
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    // A call, then the follow-up round with the canned result, per target.
    assert_eq!(first.len(), 2 * targets.len());

    let old = prism::session::reader::load(&old_dir).unwrap();
    for t in &old.targets {
        assert_eq!(t.tools.as_ref(), Some(&set), "{}: recorded as sent", t.name);
    }
    let mut markdown = Vec::new();
    prism::session::export::write_markdown(&old, &PriceTable::default(), &mut markdown).unwrap();
    let markdown = String::from_utf8(markdown).unwrap();
    assert!(
        markdown.contains("tools get_weather and now (tool_choice get_weather, canned results)"),
        "{markdown}"
    );

    let entries =
        prism::workflows::rerun::plan(&old, &[], None, Some(&targets), &PriceTable::default()).unwrap();
    let new_targets: Vec<Target> = entries.iter().map(|e| e.target.clone()).collect();
    let writer =
        SessionWriter::create_at(&dir.path().join("new"), &new_targets, PriceTable::default()).unwrap();
    let ids: Vec<JobId> = (0..entries.len()).map(JobId).collect();
    finish(prism::workflows::rerun::resend(
        &old,
        &entries,
        &ids,
        Some(&writer),
        &PriceTable::default(),
        Cancels::new(entries.len()),
    ))
    .await;
    writer.close();
    assert!(writer.error().is_none());
    let again: Vec<Value> = server.log().records()[first.len()..]
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(
        again.len(),
        first.len(),
        "the re-run runs the follow-up round too"
    );
    for body in &first {
        // The same request from the re-run: same API, same round.
        let twin = again
            .iter()
            .find(|b| {
                b["model"] == body["model"]
                    && b["messages"].as_array().map(Vec::len) == body["messages"].as_array().map(Vec::len)
            })
            .unwrap_or_else(|| panic!("no re-run request like {body}"));
        assert!(body["tools"].is_array(), "{body}");
        assert_eq!(twin["tools"], body["tools"]);
        assert!(!body["tool_choice"].is_null(), "{body}");
        assert_eq!(twin["tool_choice"], body["tool_choice"]);
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variants_with_different_tool_choices_are_an_experiment() {
    let server = mock().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tools.toml"), TOOLS).unwrap();
    std::fs::write(dir.path().join("only-now.toml"), "[[tool]]\nname = \"now\"\n").unwrap();
    let base = server.openai_base();
    let config = format!(
        r#"
tools = "tools.toml"
tool_choice = "auto"

[[target]]
name = "mini"
provider = "openai"
model = "gpt-4o-mini-2024-07-18+ttft=0,itl=0"
base_url = "{base}"
api_key_env = "PRISM_TOOLS_VARIANT_KEY"

[[variant]]
name = "weather"
tool_choice = "get_weather"

[[variant]]
name = "clock"
tools = "only-now.toml"
tool_choice = "required"
"#
    );
    std::fs::write(dir.path().join("prism.toml"), &config).unwrap();
    let loaded = parse(&config, &dir.path().join("prism.toml")).unwrap();
    let [weather, clock] = &loaded.variants[..] else {
        panic!("two variants: {:?}", loaded.variants)
    };
    assert_eq!(
        weather.params.tool_choice,
        Some(ToolChoice::Named("get_weather".into()))
    );
    assert_eq!(weather.params.tools, None, "the target's tools stay");
    assert_eq!(clock.params.tool_choice, Some(ToolChoice::Required));
    assert_eq!(
        clock.params.tools.as_ref().map(|t| t[0].name.as_str()),
        Some("now")
    );

    let ran = common::run::prism_in(
        dir.path(),
        &[
            "run",
            "--config",
            "prism.toml",
            "--prompt",
            "Weather?",
            "--format",
            "jsonl",
        ],
        &[("PRISM_TOOLS_VARIANT_KEY", "sk-test-not-a-key")],
    )
    .await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let bodies: Vec<Value> = server
        .log()
        .records()
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(bodies.len(), 2, "one request per variant");
    let names = |b: &Value| -> Vec<String> {
        b["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["function"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    let weather = bodies
        .iter()
        .find(|b| b["tool_choice"]["function"]["name"] == "get_weather")
        .unwrap_or_else(|| panic!("no request named get_weather: {bodies:?}"));
    assert_eq!(names(weather), ["get_weather", "now"]);
    let clock = bodies
        .iter()
        .find(|b| b["tool_choice"] == "required")
        .unwrap_or_else(|| panic!("no request with tool_choice required: {bodies:?}"));
    assert_eq!(names(clock), ["now"]);
    let rows: Vec<Value> = ran
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let called: Vec<&str> = rows
        .iter()
        .map(|r| r["tool_calls"][0]["name"].as_str().unwrap())
        .collect();
    assert!(
        called.contains(&"get_weather") && called.contains(&"now"),
        "{rows:?}"
    );

    // A variant's named choice must name a tool every target it runs on offers.
    let bad = config
        .replace("tools = \"only-now.toml\"\n", "")
        .replace("required", "nope");
    let e = parse(&bad, &dir.path().join("prism.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("`tool_choice = \"nope\"` names no tool"), "{e}");
    server.shutdown().await;
}
