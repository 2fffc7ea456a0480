//! The mock's Responses API driven by Prism's own adapter over loopback: the script knobs
//! that apply to it (content, reasoning, tools, caps, filters, usage, framing, faults,
//! retries) in one fan-out, each checked against the plain answer or the mock's log.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use prism::engine::metrics::{Outcome, TargetRun};
use prism::engine::{RunOptions, fan_out};
use prism::mock_server::MockServer;
use prism::provider::event::{ErrorKind, FinishReason};
use prism::provider::request::ChatRequest;
use prism::target::{Api, ProviderKind, Target, Timeouts};

fn responses(server: &MockServer, name: &str, directives: &str) -> Target {
    let mut t = common::mock_target(
        server,
        name,
        ProviderKind::OpenAi,
        &format!("o4-mini-2025-04-16+ttft=0,itl=0,{directives}"),
        256,
    );
    t.params.api = Api::Responses;
    t.params.timeouts = Timeouts {
        idle: Duration::from_millis(500),
        ..Timeouts::default()
    };
    t
}

fn outcome_kind(r: &TargetRun) -> Option<ErrorKind> {
    match &r.outcome {
        Some(Outcome::Failed(e)) => Some(e.kind),
        _ => None,
    }
}

#[tokio::test]
async fn the_script_knobs_that_apply_work_over_the_responses_api() {
    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let s = &server;
    let mut summarised = responses(s, "summary", "tokens=12,reasoning=5");
    summarised.params.reasoning_summary = Some("auto".into());
    let mut whole = responses(s, "whole", "tokens=12,reasoning=5");
    whole.params.stream = false;
    let targets = vec![
        responses(s, "plain", "tokens=12,reasoning=5"),
        summarised,
        whole,
        responses(s, "framed", "tokens=12,reasoning=5,chunk=3,keepalive=1,crlf=1"),
        responses(s, "tool", "tool=get_weather"),
        responses(s, "capped", "tokens=300"),
        responses(s, "filtered", "tokens=6,filter=1,cached=3"),
        responses(s, "no-usage", "tokens=6,usage=none"),
        responses(s, "error", "tokens=12,fault=error_event,after=4"),
        responses(s, "cut", "tokens=12,fault=no_terminator"),
        responses(s, "dropped", "tokens=12,fault=drop_mid"),
        responses(s, "broken", "tokens=12,fault=malformed"),
        responses(s, "retried", "tokens=4,fault=429,retry_after=0,fail_first=1"),
    ];
    let request = ChatRequest::single(Some("Be brief.".into()), "Explain streaming.");
    let mut handle = fan_out(&targets, &request, RunOptions::default()).await;
    let mut runs = vec![TargetRun::default(); targets.len()];
    while let Some(env) = tokio::time::timeout(Duration::from_secs(20), handle.events.recv())
        .await
        .expect("run stalled")
    {
        runs[env.target].apply(env.at, &env.event);
    }
    handle.join().await;
    let by = |name: &str| &runs[targets.iter().position(|t| t.name == name).unwrap()];

    let plain = by("plain");
    assert_eq!(plain.outcome, Some(Outcome::Done));
    // The visible text counted with o200k, plus the hidden reasoning's count.
    let counted = prism::tokens::count_o200k(&plain.text) as u64 + plain.usage.reasoning.unwrap();
    assert_eq!(plain.usage.output, Some(counted));
    assert!(plain.usage.reasoning.is_some_and(|n| n > 0));
    assert_eq!(plain.reasoning, "", "no summary unless the request asks for one");
    assert_eq!(plain.content_events, 12);
    let summary = by("summary");
    assert_eq!(summary.text, plain.text);
    assert!(!summary.reasoning.is_empty());
    assert_eq!(
        summary.content_events, 17,
        "5 summary deltas, then 12 text deltas"
    );
    let whole = by("whole");
    assert_eq!(
        (whole.outcome.as_ref(), whole.text.as_str()),
        (Some(&Outcome::Done), plain.text.as_str())
    );
    assert_eq!(
        whole.usage, plain.usage,
        "the non-streamed object has the same usage"
    );
    let framed = by("framed");
    assert_eq!(
        (framed.text.as_str(), framed.content_events),
        (plain.text.as_str(), 4)
    );
    assert!(framed.notes.is_empty(), "{:?}", framed.notes);

    let tool = by("tool");
    assert_eq!(
        tool.finish.as_ref().map(|f| f.reason),
        Some(FinishReason::ToolCalls)
    );
    assert_eq!(tool.tool_calls[0].name.as_deref(), Some("get_weather"));
    assert_eq!(
        tool.tool_calls[0].arguments,
        r#"{"city":"Paris","unit":"celsius"}"#
    );
    let capped = by("capped");
    assert_eq!(
        capped.finish.as_ref().map(|f| (f.reason, f.raw.as_deref())),
        Some((FinishReason::Length, Some("max_output_tokens")))
    );
    // What was sent before the cap, counted with o200k.
    assert_eq!(
        capped.usage.output,
        Some(prism::tokens::count_o200k(&capped.text) as u64)
    );
    let filtered = by("filtered");
    assert_eq!(
        filtered.finish.as_ref().map(|f| (f.reason, f.raw.as_deref())),
        Some((FinishReason::ContentFilter, Some("content_filter")))
    );
    assert_eq!(filtered.usage.cached_input, Some(3));
    let no_usage = by("no-usage");
    assert_eq!(
        (no_usage.outcome.as_ref(), no_usage.usage.output),
        (Some(&Outcome::Done), None)
    );

    let error = by("error");
    assert_eq!(outcome_kind(error), Some(ErrorKind::Overloaded));
    assert!(!error.text.is_empty() && plain.text.starts_with(&error.text));
    assert_eq!(error.retries, 0, "never re-sent after content");
    assert!(
        error.notes.is_empty(),
        "the error kept the numbering: {:?}",
        error.notes
    );
    assert_eq!(outcome_kind(by("cut")), Some(ErrorKind::Truncated));
    assert_eq!(outcome_kind(by("dropped")), Some(ErrorKind::Truncated));
    assert_eq!(outcome_kind(by("broken")), Some(ErrorKind::Malformed));
    let retried = by("retried");
    assert_eq!(
        (retried.outcome.as_ref(), retried.retries),
        (Some(&Outcome::Done), 1)
    );

    let logged = server.log().records();
    assert!(
        logged
            .iter()
            .all(|r| r.provider == "openai-responses" && r.path == "/v1/responses")
    );
    server.shutdown().await;
}
