//! A Responses API target end to end: `prism run` against a real `prism mock` process,
//! side by side with a Chat Completions target given the same script, and the engine
//! against raw loopback servers for what only the stream reader decides.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::MockProcess;
use common::raw::{RawServer, SSE, head, write_then_close};
use prism::engine::metrics::{Outcome, TargetRun};
use prism::engine::{RunOptions, fan_out};
use prism::provider::event::ErrorKind;
use prism::provider::request::ChatRequest;
use prism::target::{Api, KeySource, Params, ProviderKind, Target, Timeouts};
use serde_json::Value;

const SCRIPT: &str = "ttft=15,itl=1,tokens=30,reasoning=8";

fn config(addr: &str) -> String {
    format!(
        r#"
[defaults]
max_tokens = 200
base_url = "http://{addr}/v1"
api_key_env = "PRISM_E2E_OPENAI"

[[target]]
name = "chat"
provider = "openai"
model = "gpt-4.1-2025-04-14+{SCRIPT}"

[[target]]
name = "responses"
provider = "openai"
api = "responses"
model = "gpt-4.1-2025-04-14+{SCRIPT}"

[[target]]
name = "capped"
provider = "openai"
api = "responses"
model = "gpt-4.1-2025-04-14+ttft=5,itl=1,tokens=40"
max_tokens = 16

[[target]]
name = "tools"
provider = "openai-compatible"
api = "responses"
model = "qwen3-8b+ttft=5,itl=1,tool=lookup"
"#
    )
}

#[test]
fn prism_run_puts_a_responses_target_beside_its_chat_twin() {
    let mock = MockProcess::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prism.toml");
    std::fs::write(&cfg, config(&mock.addr)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_prism"))
        .args(["run", "--config", cfg.to_str().unwrap(), "--format", "jsonl"])
        .args(["--prompt", "Compare the two APIs.", "--no-save"])
        .env("PRISM_E2E_OPENAI", "sk-test-not-a-key")
        .env("PRISM_SESSIONS_DIR", dir.path().join("sessions"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let rows: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (chat, resp, capped, tools) = (&rows[0], &rows[1], &rows[2], &rows[3]);
    for r in &rows {
        assert_eq!(r["status"], "ok", "{r}");
        assert!(r["provider"].as_str().unwrap().starts_with("openai"), "{r}");
        assert!(
            r["request_id"]
                .as_str()
                .is_some_and(|id| id.starts_with("req_mock_"))
        );
    }

    // Same script, same prompt: the same answer and the same bill, whichever API.
    assert_eq!(resp["text"], chat["text"]);
    assert!(resp["text"].as_str().unwrap().len() > 30);
    for field in [
        "input_tokens",
        "output_tokens",
        "cached_input_tokens",
        "reasoning_tokens",
    ] {
        assert_eq!(resp["usage"][field], chat["usage"][field], "{field}");
    }
    assert_eq!(
        resp["usage"]["output_tokens"],
        prism::tokens::count_o200k(resp["text"].as_str().unwrap()) as u64
            + resp["usage"]["reasoning_tokens"].as_u64().unwrap(),
        "visible + reasoning, each counted once with o200k"
    );
    assert_eq!(resp["usage"]["reasoning_tokens"], 8);
    assert_eq!(resp["usage"]["source"], "provider");
    assert!(resp["cost_usd"].as_f64().is_some_and(|c| c > 0.0));
    assert_eq!(resp["cost_usd"], chat["cost_usd"], "priced like chat");
    assert_eq!(
        (resp["finish_reason"].as_str(), resp["finish_reason_raw"].as_str()),
        (Some("stop"), Some("completed"))
    );
    assert_eq!(chat["finish_reason_raw"], "stop");
    assert!(resp["ttft_ms"].as_f64().is_some_and(|t| t > 0.0));

    assert_eq!(
        (
            capped["finish_reason"].as_str(),
            capped["finish_reason_raw"].as_str()
        ),
        (Some("length"), Some("max_output_tokens"))
    );
    // The text sent before the cap, counted with o200k.
    assert_eq!(
        capped["usage"]["output_tokens"],
        prism::tokens::count_o200k(capped["text"].as_str().unwrap())
    );

    assert_eq!(
        (
            tools["finish_reason"].as_str(),
            tools["finish_reason_raw"].as_str()
        ),
        (Some("tool_calls"), Some("completed"))
    );
    let call = &tools["tool_calls"][0];
    assert_eq!(call["name"], "lookup");
    assert!(call["id"].as_str().unwrap().starts_with("call_"));
    let args: Value = serde_json::from_str(call["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args["city"], "Paris");
}

fn raw_target(base_url: String) -> Target {
    Target {
        name: "raw".into(),
        provider: ProviderKind::OpenAiCompatible,
        model: "m".into(),
        base_url,
        key: KeySource::None,
        params: Params {
            stream: true,
            api: Api::Responses,
            timeouts: Timeouts {
                connect: Duration::from_secs(2),
                headers: Duration::from_secs(5),
                idle: Duration::from_millis(400),
                total: None,
            },
            ..Params::default()
        },
    }
}

/// One target against `body` written raw after a 200 SSE head, then closed.
async fn run_raw(body: &'static str) -> TargetRun {
    let server = RawServer::start(move |sock, _| async move {
        let mut bytes = head("200 OK", &[SSE]);
        bytes.extend_from_slice(body.as_bytes());
        write_then_close(sock, &bytes).await;
    })
    .await;
    let targets = [raw_target(format!("{}/v1", server.url()))];
    let mut handle = fan_out(&targets, &ChatRequest::single(None, "hi"), RunOptions::default()).await;
    let mut run = TargetRun::default();
    while let Some(env) = tokio::time::timeout(Duration::from_secs(10), handle.events.recv())
        .await
        .expect("run stalled")
    {
        run.apply(env.at, &env.event);
    }
    handle.join().await;
    assert_eq!(server.requests()[0].path(), "/v1/responses");
    run
}

const DELTA: &str = "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"content_index\":0,\"delta\":\"Hi\",\"item_id\":\"msg_1\",\"logprobs\":[],\"output_index\":0,\"sequence_number\":0}\n\n";

#[tokio::test]
async fn without_a_terminal_event_the_answer_is_truncated_not_done() {
    let run = run_raw(DELTA).await;
    assert_eq!(run.text, "Hi", "what arrived is kept");
    let Some(Outcome::Failed(e)) = &run.outcome else {
        panic!("{:?}", run.outcome)
    };
    assert_eq!(e.kind, ErrorKind::Truncated);
    assert!(
        e.message
            .contains("without `response.completed` (or `response.incomplete`)"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn a_sequence_gap_reaches_the_run_as_a_note_before_done() {
    const GAPPED: &str = concat!(
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"content_index\":0,\"delta\":\"Hi\",\"item_id\":\"msg_1\",\"logprobs\":[],\"output_index\":0,\"sequence_number\":0}\n\n",
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"content_index\":0,\"delta\":\"!\",\"item_id\":\"msg_1\",\"logprobs\":[],\"output_index\":0,\"sequence_number\":3}\n\n",
        "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"status\":\"completed\",\"output\":[],\"usage\":{\"input_tokens\":5,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":2,\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":7}},\"sequence_number\":4}\n\n",
    );
    let run = run_raw(GAPPED).await;
    assert_eq!(run.outcome, Some(Outcome::Done));
    assert_eq!((run.text.as_str(), run.usage.output), ("Hi!", Some(2)));
    assert_eq!(
        run.notes,
        [
            "the stream's sequence_number jumped from 0 to 3: 2 event(s) never arrived, so the answer may be missing pieces"
        ]
    );
}
