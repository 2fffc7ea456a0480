//! Bedrock streams over real loopback HTTP: a server that writes its event-stream bytes
//! one at a time, a corrupt message CRC, a stream cut before `metadata`, and the mock's
//! faults (a corrupt frame after content, no `metadata`, an exception before content).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use common::raw::RawServer;
use prism::engine::metrics::{Outcome, TargetRun};
use prism::engine::{RunOptions, fan_out};
use prism::mock_server::MockServer;
use prism::provider::event::ErrorKind;
use prism::provider::request::ChatRequest;
use prism::target::{Aws, KeySource, Params, ProviderKind, RetryPolicy, Target, Timeouts};
use tokio::io::AsyncWriteExt;

fn event(kind: &str, payload: &str) -> Vec<u8> {
    let m = Message::new(payload.as_bytes().to_vec())
        .add_header(Header::new(
            ":event-type",
            HeaderValue::String(kind.to_string().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ))
        .add_header(Header::new(":message-type", HeaderValue::String("event".into())));
    let mut out = Vec::new();
    write_message_to(&m, &mut out).unwrap();
    out
}

fn answer(with_metadata: bool) -> Vec<u8> {
    let mut s = event("messageStart", r#"{"role":"assistant","p":"abc"}"#);
    s.extend(event(
        "contentBlockDelta",
        r#"{"contentBlockIndex":0,"delta":{"text":"Hello"}}"#,
    ));
    s.extend(event(
        "contentBlockDelta",
        r#"{"contentBlockIndex":0,"delta":{"text":" world"}}"#,
    ));
    s.extend(event("contentBlockStop", r#"{"contentBlockIndex":0}"#));
    s.extend(event("messageStop", r#"{"stopReason":"max_tokens"}"#));
    if with_metadata {
        s.extend(event(
            "metadata",
            r#"{"usage":{"inputTokens":5,"outputTokens":2,"totalTokens":7},"metrics":{"latencyMs":77}}"#,
        ));
    }
    s
}

fn target(name: &str, base_url: String, model: &str) -> Target {
    Target {
        name: name.into(),
        provider: ProviderKind::Bedrock,
        model: model.into(),
        base_url,
        key: KeySource::Demo,
        params: Params {
            stream: true,
            max_tokens: Some(64),
            aws: Some(Aws {
                region: "us-east-1".into(),
                profile: None,
            }),
            retry: RetryPolicy {
                max_retries: 2,
                base: Duration::from_millis(10),
                ..RetryPolicy::default()
            },
            timeouts: Timeouts {
                idle: Duration::from_millis(500),
                ..Timeouts::default()
            },
            ..Params::default()
        },
    }
}

async fn run(targets: &[Target]) -> Vec<TargetRun> {
    let mut handle = fan_out(targets, &ChatRequest::single(None, "hi"), RunOptions::default()).await;
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

/// A server that answers with `body` as an event stream, `step` bytes per write.
async fn serve(body: Vec<u8>, step: usize) -> RawServer {
    RawServer::start(move |mut sock, _| {
        let body = body.clone();
        async move {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.amazon.eventstream\r\nx-amzn-requestid: rid-1\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            sock.write_all(head.as_bytes()).await.unwrap();
            for chunk in body.chunks(step) {
                if sock.write_all(chunk).await.is_err() {
                    return;
                }
                let _ = sock.flush().await;
                tokio::task::yield_now().await;
            }
        }
    })
    .await
}

#[tokio::test]
async fn byte_by_byte_reads_give_the_whole_answer() {
    let server = serve(answer(true), 1).await;
    let runs = run(&[target("b", server.url(), "m")]).await;
    let r = &runs[0];
    assert_eq!(r.outcome, Some(Outcome::Done), "{r:?}");
    assert_eq!(r.text, "Hello world");
    assert_eq!(r.request_id.as_deref(), Some("rid-1"));
    assert_eq!(r.usage.input, Some(5));
    let f = r.finish.clone().unwrap();
    assert_eq!(f.raw.as_deref(), Some("max_tokens"));
    assert_eq!(r.server.as_ref().unwrap().total_ms, Some(77.0));
    assert_eq!(
        server.requests()[0].path(),
        "/model/m/converse-stream",
        "the Converse stream path"
    );
}

#[tokio::test]
async fn a_bad_message_crc_fails_and_keeps_what_came_before() {
    let mut body = answer(true);
    let first_two = event("messageStart", r#"{"role":"assistant","p":"abc"}"#).len()
        + event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"text":"Hello"}}"#,
        )
        .len();
    let third_end = first_two
        + event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"text":" world"}}"#,
        )
        .len();
    body[third_end - 1] ^= 0xff;
    let server = serve(body, 7).await;
    let runs = run(&[target("b", server.url(), "m")]).await;
    let r = &runs[0];
    let Some(Outcome::Failed(e)) = &r.outcome else {
        panic!("{r:?}")
    };
    assert_eq!(e.kind, ErrorKind::Malformed);
    assert!(e.message.contains("event-stream message 3"), "{}", e.message);
    assert_eq!(r.text, "Hello", "the sound message before it is kept");
}

#[tokio::test]
async fn a_stream_without_metadata_is_truncated_not_done() {
    let server = serve(answer(false), 64).await;
    let runs = run(&[target("b", server.url(), "m")]).await;
    let r = &runs[0];
    let Some(Outcome::Failed(e)) = &r.outcome else {
        panic!("{r:?}")
    };
    assert_eq!(e.kind, ErrorKind::Truncated);
    assert!(
        e.message.contains("without `messageStop` and `metadata`"),
        "{}",
        e.message
    );
    assert_eq!(r.text, "Hello world");
}

#[tokio::test]
async fn the_mocks_faults_end_as_the_right_failures() {
    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let base = server.base_url(ProviderKind::Bedrock);
    let model = |d: &str| format!("anthropic.claude-3-haiku-20240307-v1:0+ttft=0,itl=0,tokens=10,{d}");
    let targets = [
        target("crc", base.clone(), &model("fault=malformed,after=3")),
        target("cut", base.clone(), &model("fault=no_terminator")),
        target(
            "before",
            base.clone(),
            &model("fault=error_event,after=0,exception=serviceUnavailableException,fail_first=1"),
        ),
        target(
            "invalid",
            base.clone(),
            &model("fault=error_event,after=0,exception=validationException"),
        ),
        target("tool", base.clone(), &model("tool=get_weather")),
    ];
    let runs = run(&targets).await;
    let failed = |i: usize| match &runs[i].outcome {
        Some(Outcome::Failed(e)) => e.clone(),
        other => panic!("{}: {other:?}", targets[i].name),
    };
    assert_eq!(failed(0).kind, ErrorKind::Malformed);
    assert!(!runs[0].text.is_empty());
    assert_eq!(failed(1).kind, ErrorKind::Truncated);
    assert_eq!(runs[2].outcome, Some(Outcome::Done), "{:?}", runs[2]);
    assert_eq!(runs[2].retries, 1);
    let e = failed(3);
    assert_eq!((e.kind, runs[3].retries), (ErrorKind::InvalidRequest, 0), "{e:?}");
    assert_eq!(runs[4].outcome, Some(Outcome::Done));
    assert_eq!(runs[4].finish.clone().unwrap().raw.as_deref(), Some("tool_use"));
    assert_eq!(runs[4].tool_calls.len(), 1, "{:?}", runs[4].tool_calls);
    server.shutdown().await;
}
