//! Azure OpenAI on the wire, from the fixtures in tests/fixtures/wire/azure: the
//! prompt-filter chunk is not the first token, filter verdicts are kept beside the answer,
//! the model behind the deployment is reported, and Azure's error bodies read as one line
//! that says what to do (a refused prompt names its categories).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::path::Path;
use std::time::{Duration, Instant};

use prism::engine::metrics::{Outcome, TargetRun};
use prism::provider::Decoder;
use prism::provider::azure::FilterVerdict;
use prism::provider::errors::{ErrorContext, from_http};
use prism::provider::event::{ErrorKind, FinishReason, ProviderError, ResponseStart, StreamEvent};
use prism::provider::sse::SseDecoder;
use prism::target::ProviderKind;

fn fixture(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wire/azure")
        .join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Decode a stream fixture with event `i` arriving at `sent + (i + 1) × 10 ms`, as the
/// engine folds it.
fn timed_replay(rel: &str) -> (TargetRun, Instant) {
    let sent = Instant::now();
    let mut run = TargetRun::default();
    run.apply(
        sent,
        &StreamEvent::Started(Box::new(ResponseStart {
            http_status: 200,
            request_id: None,
            rate_limits: Vec::new(),
            sent_at: sent,
            connect: None,
        })),
    );
    let mut sse = SseDecoder::new();
    let mut frames = Vec::new();
    sse.feed_into(fixture(rel).as_bytes(), sent, &mut frames);
    let mut decoder = Decoder::new(ProviderKind::Azure);
    let mut out = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let at = sent + Duration::from_millis(10 * (i as u64 + 1));
        decoder.on_sse(&f.event, &f.data, &mut out).unwrap();
        for ev in out.drain(..) {
            run.apply(at, &ev);
        }
        if decoder.saw_end_marker() {
            run.apply(at, &StreamEvent::Done);
        }
    }
    (run, sent)
}

#[test]
fn the_prompt_filter_chunk_is_not_the_first_token() {
    let (run, sent) = timed_replay("stream_basic.sse");
    // Event 1 is the prompt filter's, event 2 the role chunk; "Hello" is event 3.
    assert_eq!(run.ttft(), Some(Duration::from_millis(30)));
    assert_eq!(run.first_text_at, Some(sent + Duration::from_millis(30)));
    assert_eq!(run.content_events, 4);
    assert_eq!(run.text, "Hello from Azure!");
    assert!(matches!(run.outcome, Some(Outcome::Done)));
}

#[test]
fn filter_verdicts_and_the_model_behind_the_deployment_are_kept() {
    let (run, _) = timed_replay("stream_basic.sse");
    let server = run.server_report().unwrap();
    assert_eq!(server.model.as_deref(), Some("gpt-4o-2024-11-20"));
    assert_eq!(server.source, "azure content filter, response model");
    let filter = run.content_filter().unwrap();
    let categories: Vec<&str> = filter.prompt.iter().map(|v| v.category.as_str()).collect();
    assert_eq!(
        categories,
        ["hate", "jailbreak", "self_harm", "sexual", "violence"]
    );
    assert_eq!(
        filter.prompt[1],
        FilterVerdict {
            category: "jailbreak".into(),
            filtered: false,
            severity: None,
            detected: Some(false)
        }
    );
    assert_eq!(filter.completion.len(), 4);
    assert!(filter.filtered().is_empty());
}

#[test]
fn a_filtered_answer_ends_content_filter_and_names_what_it_was_filtered_for() {
    let (run, _) = timed_replay("stream_async_filter_blocked.sse");
    assert_eq!(
        run.finish_reason(),
        Some((FinishReason::ContentFilter, Some("content_filter")))
    );
    assert_eq!(run.text, "Hey Jude, don't");
    let filter = run.content_filter().unwrap();
    assert_eq!(filter.filtered(), ["protected_material_text"]);
    // Annotation chunks name no model (`"model":""`), and the content chunks' is the
    // deployment's model as the service names it.
    assert_eq!(
        run.server_report().unwrap().model.as_deref(),
        Some("gpt-35-turbo")
    );
}

#[test]
fn a_whole_body_carries_the_same_verdicts() {
    let mut d = Decoder::new(ProviderKind::Azure);
    let mut out = Vec::new();
    d.on_body(&fixture("nonstream_basic.json"), &mut out).unwrap();
    let mut run = TargetRun::default();
    for ev in &out {
        run.apply(Instant::now(), ev);
    }
    assert_eq!(run.text, "Hello from Azure!");
    assert_eq!(run.content_filter().unwrap().prompt.len(), 5);
    assert_eq!(
        run.server_report().unwrap().model.as_deref(),
        Some("gpt-4o-2024-11-20")
    );
}

#[test]
fn other_kinds_do_not_report_the_model_they_echo() {
    let mut d = Decoder::new(ProviderKind::OpenAi);
    let mut out = Vec::new();
    d.on_sse(
        "message",
        r#"{"id":"c","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":"Hi"}}]}"#,
        &mut out,
    )
    .unwrap();
    assert_eq!(out, vec![StreamEvent::TextDelta("Hi".into())]);
}

fn cx() -> ErrorContext<'static> {
    ErrorContext {
        model: "chat-prod",
        base_url: "https://r.openai.azure.com/openai/deployments/chat-prod?api-version=2024-10-21",
        key_env: Some("AZURE_OPENAI_API_KEY"),
    }
}

fn error_of(status: u16, file: &str) -> ProviderError {
    from_http(status, &reqwest::header::HeaderMap::new(), &fixture(file), cx())
}

#[test]
fn a_refused_prompt_names_the_categories_not_a_generic_error() {
    let e = error_of(400, "error_400_content_filter.json");
    assert_eq!(
        e.message,
        "HTTP 400: prompt blocked by the content filter: sexual, violence — change the prompt (the deployment's content filter policy decides what it blocks)"
    );
    assert_eq!((e.kind, e.retryable), (ErrorKind::InvalidRequest, false));
    assert!(e.raw_body.unwrap().contains("ResponsibleAIPolicyViolation"));
}

#[test]
fn azure_error_bodies_say_what_to_do() {
    let e = error_of(401, "error_401.json");
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(
        e.message
            .starts_with("HTTP 401: Access denied due to invalid subscription key"),
        "the status is not repeated as a code: {}",
        e.message
    );
    assert!(
        e.message.ends_with("check the key in $AZURE_OPENAI_API_KEY"),
        "{}",
        e.message
    );

    let e = error_of(401, "error_401_entra.json");
    assert!(
        e.message.ends_with("Cognitive Services OpenAI User role"),
        "{}",
        e.message
    );

    let e = error_of(404, "error_404_deployment.json");
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(
        e.message.ends_with(
            "check that deployment `chat-prod` exists in the resource at https://r.openai.azure.com/openai/deployments/chat-prod?api-version=2024-10-21"
        ),
        "{}",
        e.message
    );

    let e = error_of(404, "error_404_resource.json");
    assert!(
        e.message.starts_with("HTTP 404: Resource not found"),
        "{}",
        e.message
    );
    let e = error_of(400, "error_400_api_version.json");
    assert_eq!(e.message, "HTTP 400: BadRequest: API version not supported");
    for e in [
        error_of(401, "error_401.json"),
        error_of(404, "error_404_deployment.json"),
    ] {
        assert!(!e.message.contains('{'), "{}", e.message);
    }
}
