//! Refusals as their own outcome: the refusal message is kept apart from the answer text
//! and the finish reason is `refusal`, for OpenAI Chat (streamed and not), the Responses
//! API (streamed and not) and Anthropic, over real loopback HTTP against the mock, exact
//! provider bytes from a raw server, and `prism run`'s JSON row.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::raw::{RawServer, SSE, head, write_then_close};
use prism::engine::metrics::{Outcome, TargetRun};
use prism::engine::{RunOptions, fan_out};
use prism::mock_server::MockServer;
use prism::provider::event::FinishReason;
use prism::provider::request::ChatRequest;
use prism::target::{Api, KeySource, ProviderKind, Target};
use serde_json::Value;

const REFUSAL: &str = "I'm sorry, but I can't help with that.";

async fn run(targets: &[Target]) -> Vec<TargetRun> {
    let mut handle = fan_out(
        targets,
        &ChatRequest::single(None, "Do the forbidden thing."),
        RunOptions::default(),
    )
    .await;
    let mut runs = vec![TargetRun::default(); targets.len()];
    while let Some(env) = tokio::time::timeout(Duration::from_secs(30), handle.events.recv())
        .await
        .expect("run stalled")
    {
        runs[env.target].apply(env.at, &env.event);
    }
    handle.join().await;
    runs
}

fn finish(r: &TargetRun) -> Option<(FinishReason, Option<&str>)> {
    r.finish_reason()
}

#[tokio::test]
async fn the_mock_refuses_apart_from_the_text_on_every_api_streamed_or_not() {
    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let mut targets = Vec::new();
    for stream in [true, false] {
        let mut chat = common::mock_target(
            &server,
            "chat",
            ProviderKind::OpenAi,
            "gpt-4o-2024-08-06+ttft=5,itl=1,refuse",
            256,
        );
        chat.params.stream = stream;
        let mut responses = chat.clone();
        responses.name = "responses".into();
        responses.params.api = Api::Responses;
        let mut claude = common::mock_target(
            &server,
            "claude",
            ProviderKind::Anthropic,
            "claude-sonnet-4-20250514+ttft=5,itl=1,refuse",
            256,
        );
        claude.params.stream = stream;
        targets.extend([chat, responses, claude]);
    }
    let runs = run(&targets).await;
    for (t, r) in targets.iter().zip(&runs) {
        let what = format!("{} stream={}", t.name, t.params.stream);
        assert_eq!(r.outcome, Some(Outcome::Done), "{what}");
        match t.provider {
            ProviderKind::Anthropic => {
                // Claude's refusal is a stop reason: what it streamed stays the text.
                assert_eq!(r.text, REFUSAL, "{what}");
                assert_eq!(r.refusal, None, "{what}");
                assert_eq!(
                    finish(r),
                    Some((FinishReason::Refusal, Some("refusal"))),
                    "{what}"
                );
            }
            _ => {
                assert_eq!(r.text, "", "{what}: the refusal is not answer text");
                assert_eq!(r.refusal.as_deref(), Some(REFUSAL), "{what}");
                let raw = if t.params.api == Api::Responses {
                    "completed"
                } else {
                    "stop"
                };
                assert_eq!(finish(r), Some((FinishReason::Refusal, Some(raw))), "{what}");
            }
        }
        // The refusal's tokens are output the provider counted.
        assert!(r.usage.output.is_some_and(|n| n > 0), "{what}");
    }
}

#[tokio::test]
async fn a_plain_answer_is_never_a_refusal() {
    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let mut responses = common::mock_target(
        &server,
        "r",
        ProviderKind::OpenAi,
        "gpt-4o+ttft=5,itl=1,tokens=5",
        256,
    );
    responses.params.api = Api::Responses;
    let targets = vec![
        common::mock_target(
            &server,
            "c",
            ProviderKind::OpenAi,
            "gpt-4o+ttft=5,itl=1,tokens=5",
            256,
        ),
        responses,
    ];
    for r in run(&targets).await {
        assert!(!r.text.is_empty());
        assert_eq!(r.refusal, None);
        assert_ne!(finish(&r).map(|f| f.0), Some(FinishReason::Refusal));
    }
}

/// A target of `provider` pointed at a raw server.
fn raw_target(url: &str, provider: ProviderKind, model: &str, stream: bool) -> Target {
    let mut t = Target {
        name: "raw".into(),
        provider,
        model: model.into(),
        base_url: url.into(),
        key: KeySource::Demo,
        params: Default::default(),
    };
    t.params.stream = stream;
    t
}

async fn one_raw(body: Vec<u8>, provider: ProviderKind, stream: bool) -> TargetRun {
    let server = RawServer::start(move |sock, _seen| {
        let body = body.clone();
        async move { write_then_close(sock, &body).await }
    })
    .await;
    let t = raw_target(&server.url(), provider, "gpt-4o-2024-08-06", stream);
    run(&[t]).await.remove(0)
}

#[tokio::test]
async fn openai_chat_bytes_keep_the_refusal_out_of_the_text() {
    // A non-streamed refusal as OpenAI writes it: content null, the message in `refusal`.
    let body = r#"{"id":"chatcmpl-r","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't assist with that request.","annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}}"#;
    let mut bytes = head(
        "200 OK",
        &[
            "content-type: application/json",
            &format!("content-length: {}", body.len()),
        ],
    );
    bytes.extend_from_slice(body.as_bytes());
    let r = one_raw(bytes, ProviderKind::OpenAi, false).await;
    assert_eq!(r.text, "");
    assert_eq!(r.refusal.as_deref(), Some("I can't assist with that request."));
    assert_eq!(finish(&r), Some((FinishReason::Refusal, Some("stop"))));

    let mut bytes = head("200 OK", &[SSE]);
    bytes.extend_from_slice(&std::fs::read(fixture("openai/stream_refusal.sse")).unwrap());
    let r = one_raw(bytes, ProviderKind::OpenAi, true).await;
    assert_eq!(r.text, "");
    assert_eq!(r.refusal.as_deref(), Some("I'm sorry, I can't help with that."));
    assert_eq!(finish(&r), Some((FinishReason::Refusal, Some("stop"))));
    assert_eq!(r.usage.output, Some(9));
}

#[tokio::test]
async fn an_anthropic_refusal_stop_keeps_the_streamed_text_and_finishes_refusal() {
    let events = [
        (
            "message_start",
            r#"{"type":"message_start","message":{"id":"msg_r","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":14,"output_tokens":1}}}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Here is how to"}}"#,
        ),
        ("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"refusal","stop_sequence":null},"usage":{"output_tokens":4}}"#,
        ),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ];
    let mut bytes = head("200 OK", &[SSE]);
    for (name, data) in events {
        bytes.extend_from_slice(format!("event: {name}\ndata: {data}\n\n").as_bytes());
    }
    let r = one_raw(bytes, ProviderKind::Anthropic, true).await;
    assert_eq!(r.outcome, Some(Outcome::Done));
    assert_eq!(r.text, "Here is how to");
    assert_eq!(r.refusal, None, "Anthropic sends no refusal message of its own");
    assert_eq!(finish(&r), Some((FinishReason::Refusal, Some("refusal"))));
}

#[tokio::test]
async fn responses_refusal_events_and_parts_are_a_refusal() {
    let mut bytes = head("200 OK", &[SSE]);
    bytes.extend_from_slice(&std::fs::read(fixture("responses/stream_refusal.sse")).unwrap());
    let server = RawServer::start(move |sock, _seen| {
        let bytes = bytes.clone();
        async move { write_then_close(sock, &bytes).await }
    })
    .await;
    let mut t = raw_target(&server.url(), ProviderKind::OpenAi, "gpt-4o-2024-08-06", true);
    t.params.api = Api::Responses;
    let r = run(&[t]).await.remove(0);
    assert_eq!(r.text, "");
    assert_eq!(r.refusal.as_deref(), Some("I'm sorry, I can't help with that."));
    assert_eq!(finish(&r), Some((FinishReason::Refusal, Some("completed"))));
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wire")
        .join(name)
}

#[test]
fn prism_run_rows_carry_the_refusal_apart_and_the_summary_counts_it() {
    let mock = common::MockProcess::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prism.toml");
    let addr = &mock.addr;
    std::fs::write(
        &cfg,
        format!(
            r#"
[defaults]
api_key_env = "PRISM_E2E_KEY"

[[target]]
name = "refuser"
provider = "openai"
base_url = "http://{addr}/v1"
model = "gpt-4o-2024-08-06+ttft=5,itl=1,refuse"

[[target]]
name = "answerer"
provider = "openai"
base_url = "http://{addr}/v1"
model = "gpt-4o-2024-08-06+ttft=5,itl=1,tokens=5"
"#
        ),
    )
    .unwrap();
    let prism = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_prism"))
            .args([
                "run",
                "--config",
                cfg.to_str().unwrap(),
                "--prompt",
                "Do it.",
                "--no-save",
            ])
            .args(extra)
            .env("PRISM_E2E_KEY", "sk-test-not-a-key")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = prism(&["--format", "jsonl"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows[0]["text"], "");
    assert_eq!(rows[0]["refusal"], REFUSAL);
    assert_eq!(rows[0]["finish_reason"], "refusal");
    assert_eq!(rows[0]["finish_reason_raw"], "stop");
    assert!(
        rows[1].get("refusal").is_none(),
        "no refusal, no field: {}",
        rows[1]
    );

    let out = prism(&["--format", "json", "--summary", "--repeat", "2"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let board: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let rows = board.as_array().cloned().unwrap();
    let of = |name: &str| rows.iter().find(|r| r["target"] == name).cloned().unwrap();
    assert_eq!(
        (of("refuser")["n"].as_u64(), of("refuser")["refusals"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(of("answerer")["refusals"], 0);
}

#[test]
fn a_saved_refusal_exports_apart_from_the_answer() {
    let mock = common::MockProcess::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prism.toml");
    let addr = &mock.addr;
    std::fs::write(
        &cfg,
        format!(
            "[[target]]\nname = \"refuser\"\nprovider = \"openai\"\nbase_url = \"http://{addr}/v1\"\napi_key_env = \"PRISM_E2E_KEY\"\nmodel = \"gpt-4o+ttft=5,itl=1,refuse\"\n"
        ),
    )
    .unwrap();
    let sessions = dir.path().join("sessions");
    let prism = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_prism"))
            .args(args)
            .env("PRISM_E2E_KEY", "sk-test-not-a-key")
            .env("PRISM_SESSIONS_DIR", &sessions)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let ran = prism(&[
        "run",
        "--config",
        cfg.to_str().unwrap(),
        "--prompt",
        "Do it.",
        "--format",
        "jsonl",
    ]);
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert_eq!(ran.status.code(), Some(0), "{stderr}");
    let id = stderr
        .lines()
        .find_map(|l| l.strip_prefix("session: "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no session line: {stderr}"))
        .to_string();

    let csv = prism(&["export", &id, "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv.stdout.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let cell = |name: &str| rows[0][header.iter().position(|h| h == name).unwrap()].to_string();
    assert_eq!(
        (cell("answer"), cell("refusal")),
        (String::new(), REFUSAL.to_string())
    );
    assert_eq!(cell("finish_reason"), "refusal");

    let md = String::from_utf8(prism(&["export", &id, "--format", "md"]).stdout).unwrap();
    assert!(md.contains(&format!("*Refused:* {REFUSAL}")), "{md}");
}
