//! The OpenAI Responses API's documented wire format (tests/fixtures/wire/responses, see its
//! INDEX.md), replayed through the real SSE framing and decoder, whole and in small reads,
//! and folded the way the engine folds a stream.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::path::Path;
use std::time::{Duration, Instant};

use prism::engine::metrics::{Outcome, TargetRun};
use prism::provider::Decoder;
use prism::provider::errors::{ErrorContext, from_http};
use prism::provider::event::{ErrorKind, FinishReason, ProviderError, StreamEvent, Usage};
use prism::provider::sse::SseDecoder;
use prism::target::Protocol;
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wire/responses")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Feed `reads` (each stamped with its own instant) through framing and decoder, ending
/// the way `provider::stream` does: done at the terminal event, truncated without one.
fn replay_reads(reads: &[(&[u8], Instant)]) -> TargetRun {
    let mut sse = SseDecoder::new();
    let mut dec = Decoder::for_protocol(Protocol::Responses);
    let mut run = TargetRun::default();
    let (mut frames, mut out) = (Vec::new(), Vec::new());
    for (bytes, at) in reads {
        sse.feed_into(bytes, *at, &mut frames);
        for f in frames.drain(..) {
            if run.is_finished() {
                continue;
            }
            let r = dec.on_sse(&f.event, &f.data, &mut out);
            for ev in out.drain(..) {
                run.apply(f.at, &ev);
            }
            if let Err(e) = r {
                run.apply(f.at, &StreamEvent::Failed(Box::new(e)));
            } else if dec.saw_end_marker() {
                run.apply(f.at, &StreamEvent::Done);
            }
        }
    }
    sse.finish();
    if !run.is_finished() {
        let end = if dec.is_complete() {
            StreamEvent::Done
        } else {
            StreamEvent::Failed(Box::new(ProviderError::new(ErrorKind::Truncated, "eof")))
        };
        // The end of the body: stamped with the last read, so replays compare equal.
        let at = reads.last().map_or_else(Instant::now, |r| r.1);
        run.apply(at, &end);
    }
    run
}

/// The whole fixture, then in reads of 1, 7 and 64 bytes: all must agree.
fn replay(name: &str) -> TargetRun {
    let bytes = fixture(name);
    let t = Instant::now();
    let whole = replay_reads(&[(&bytes, t)]);
    for size in [1, 7, 64] {
        let reads: Vec<_> = bytes.chunks(size).map(|c| (c, t)).collect();
        assert_eq!(replay_reads(&reads), whole, "{name} in {size}-byte reads");
    }
    whole
}

fn finish(run: &TargetRun) -> Option<(FinishReason, Option<&str>)> {
    run.finish_reason()
}

fn failure(run: &TargetRun) -> &ProviderError {
    match &run.outcome {
        Some(Outcome::Failed(e)) => e,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn text_stream_with_usage_and_the_response_id() {
    let r = replay("stream_text.sse");
    assert_eq!(r.outcome, Some(Outcome::Done));
    assert_eq!(r.text, "Hello from Prism!");
    assert_eq!(finish(&r), Some((FinishReason::Stop, Some("completed"))));
    assert_eq!(
        r.usage,
        Usage {
            input: Some(17),
            output: Some(4),
            cached_input: Some(0),
            cache_write: Some(0),
            cache_write_1h: None,
            reasoning: Some(0),
        }
    );
    assert_eq!(
        r.request_id.as_deref(),
        Some("resp_68b1f0a2c3d4e5f60718293a4b5c6d7e8f9012345678abcd"),
        "with no request-id header, the response id stands in"
    );
    assert!(r.notes.is_empty(), "{:?}", r.notes);
}

#[test]
fn reasoning_summary_parts_are_paragraphs_and_reasoning_tokens_are_not_added_twice() {
    let r = replay("stream_reasoning_summary.sse");
    assert_eq!(
        r.reasoning,
        "**Reading the request**\n\nThe user wants a greeting.\n\n**Answering**\n\nKeep it short."
    );
    assert_eq!(r.text, "Hi there.");
    assert_eq!(
        r.usage,
        Usage {
            input: Some(1040),
            output: Some(150),
            cached_input: Some(1024),
            cache_write: Some(0),
            cache_write_1h: None,
            reasoning: Some(128),
        },
        "output_tokens already holds the reasoning tokens"
    );
    assert_eq!(finish(&r), Some((FinishReason::Stop, Some("completed"))));
}

#[test]
fn parallel_function_calls_keep_their_ids_names_and_split_arguments() {
    let r = replay("stream_parallel_function_calls.sse");
    assert_eq!(r.outcome, Some(Outcome::Done));
    let calls: Vec<_> = r
        .tool_calls
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
            (
                "call_Pq8Rj2Xw4Zy6Tb1Nc3Vd5Fh",
                "get_weather",
                r#"{"city":"Paris"}"#
            ),
            (
                "call_Lm4Kn6Jo8Ip0Hq2Gr4Fs6Et8",
                "get_weather",
                r#"{"city":"Tokyo"}"#
            ),
        ],
        "the call id (not the item id) pairs a result with its call"
    );
    assert_eq!(finish(&r), Some((FinishReason::ToolCalls, Some("completed"))));
    assert_eq!((r.usage.input, r.usage.output), (Some(61), Some(36)));
}

#[test]
fn interleaved_argument_deltas_go_to_the_call_their_output_index_names() {
    let events = [
        r#"{"type":"response.output_item.added","item":{"id":"fc_a","type":"function_call","status":"in_progress","arguments":"","call_id":"call_a","name":"f"},"output_index":0,"sequence_number":0}"#,
        r#"{"type":"response.output_item.added","item":{"id":"fc_b","type":"function_call","status":"in_progress","arguments":"","call_id":"call_b","name":"g"},"output_index":1,"sequence_number":1}"#,
        r#"{"type":"response.function_call_arguments.delta","delta":"{\"b\":","item_id":"fc_b","output_index":1,"sequence_number":2}"#,
        r#"{"type":"response.function_call_arguments.delta","delta":"{\"a\":1}","item_id":"fc_a","output_index":0,"sequence_number":3}"#,
        r#"{"type":"response.function_call_arguments.delta","delta":"2}","item_id":"fc_b","sequence_number":4}"#,
        r#"{"type":"response.function_call_arguments.done","arguments":"{\"b\":2}","item_id":"fc_b","output_index":1,"sequence_number":5}"#,
    ];
    let mut bytes = Vec::new();
    for e in events {
        bytes.extend_from_slice(format!("data: {e}\n\n").as_bytes());
    }
    let r = replay_reads(&[(&bytes, Instant::now())]);
    let args: Vec<_> = r.tool_calls.iter().map(|c| c.arguments.as_str()).collect();
    assert_eq!(
        args,
        [r#"{"a":1}"#, r#"{"b":2}"#],
        "by output_index, else item_id; `.done` repeats nothing"
    );
}

#[test]
fn raw_reasoning_text_and_hosted_tool_events_from_other_servers() {
    let events = [
        r#"{"type":"response.created","response":{"id":"resp_x","object":"response","status":"in_progress","output":[]},"sequence_number":0}"#,
        r#"{"type":"response.reasoning_text.delta","content_index":0,"delta":"Think.","item_id":"rs_1","output_index":0,"sequence_number":1}"#,
        r#"{"type":"response.reasoning_text.done","content_index":0,"item_id":"rs_1","output_index":0,"sequence_number":2,"text":"Think."}"#,
        r#"{"type":"response.web_search_call.searching","item_id":"ws_1","output_index":1,"sequence_number":3}"#,
        r#"{"type":"response.some_future_event","sequence_number":4}"#,
        r#"{"type":"response.output_text.delta","content_index":0,"delta":"Done.","item_id":"msg_1","output_index":2,"sequence_number":5}"#,
        r#"{"type":"response.completed","response":{"id":"resp_x","object":"response","status":"completed","output":[],"usage":null},"sequence_number":6}"#,
    ];
    let mut bytes = Vec::new();
    for e in events {
        let kind = serde_json::from_str::<serde_json::Value>(e).unwrap()["type"]
            .as_str()
            .unwrap()
            .to_string();
        bytes.extend_from_slice(format!("event: {kind}\ndata: {e}\n\n").as_bytes());
    }
    let r = replay_reads(&[(&bytes, Instant::now())]);
    assert_eq!(r.outcome, Some(Outcome::Done));
    assert_eq!((r.reasoning.as_str(), r.text.as_str()), ("Think.", "Done."));
    assert!(r.notes.is_empty(), "{:?}", r.notes);
    assert_eq!(r.usage, Usage::default(), "`usage: null` reports nothing");
}

#[test]
fn a_refusal_is_kept_apart_from_the_text_and_finishes_as_a_refusal() {
    let r = replay("stream_refusal.sse");
    assert_eq!(r.text, "", "the refusal is not answer text");
    assert_eq!(r.refusal.as_deref(), Some("I'm sorry, I can't help with that."));
    assert_eq!(finish(&r), Some((FinishReason::Refusal, Some("completed"))));
    assert_eq!((r.usage.input, r.usage.output), (Some(40), Some(9)));
}

#[test]
fn incomplete_at_max_output_tokens_is_a_length_finish_and_done() {
    let r = replay("stream_incomplete_max_tokens.sse");
    assert_eq!(r.outcome, Some(Outcome::Done));
    assert_eq!(r.text, "Streaming sends tokens as they are made");
    assert_eq!(
        finish(&r),
        Some((FinishReason::Length, Some("max_output_tokens")))
    );
    assert_eq!(r.usage.output, Some(16));
}

#[test]
fn response_failed_keeps_the_partial_text_and_names_code_and_message() {
    let r = replay("stream_failed.sse");
    assert_eq!(r.text, "The answer is");
    let e = failure(&r);
    assert_eq!(e.kind, ErrorKind::Stream);
    assert_eq!(
        e.message,
        "error inside the stream: server_error: The model produced invalid content. Consider modifying your prompt if you are seeing this error persistently."
    );
    assert!(e.raw_body.as_deref().unwrap().contains("response.failed"));
    assert_eq!(finish(&r).map(|f| f.0), Some(FinishReason::Error));
}

#[test]
fn an_error_event_after_200_fails_retryably_and_keeps_the_text() {
    let r = replay("stream_error_event.sse");
    assert_eq!(r.text, "Partial answer");
    let e = failure(&r);
    assert_eq!((e.kind, e.retryable), (ErrorKind::Overloaded, true));
    assert_eq!(
        e.message,
        "error inside the stream: server_is_overloaded: Our servers are currently overloaded. Please try again later."
    );
}

#[test]
fn a_stream_without_a_terminal_event_is_truncated() {
    let r = replay("stream_no_terminal.sse");
    assert_eq!(r.text, "Cut off");
    assert_eq!(failure(&r).kind, ErrorKind::Truncated);
}

#[test]
fn a_sequence_gap_is_a_note_and_the_stream_still_completes() {
    let r = replay("stream_sequence_gap.sse");
    assert_eq!(r.outcome, Some(Outcome::Done));
    assert_eq!(
        r.text, "One three",
        "what arrived, not what the done event claims"
    );
    assert_eq!(
        r.notes,
        [
            "the stream's sequence_number jumped from 4 to 6: 1 event(s) never arrived, so the answer may be missing pieces"
        ]
    );
    for clean in [
        "stream_text.sse",
        "stream_reasoning_summary.sse",
        "stream_parallel_function_calls.sse",
        "stream_refusal.sse",
        "stream_incomplete_max_tokens.sse",
    ] {
        assert!(replay(clean).notes.is_empty(), "{clean}: numbered without gaps");
    }
}

/// Each event in a read of its own, the reads a millisecond apart.
fn one_read_per_event(name: &str) -> (Vec<(Vec<u8>, Instant)>, Vec<String>) {
    let text = String::from_utf8(fixture(name)).unwrap();
    let t0 = Instant::now();
    let mut reads = Vec::new();
    let mut types = Vec::new();
    for (i, event) in text.split_inclusive("\n\n").enumerate() {
        reads.push((event.as_bytes().to_vec(), t0 + Duration::from_millis(i as u64)));
        types.push(
            event
                .lines()
                .next()
                .unwrap()
                .trim_start_matches("event: ")
                .to_string(),
        );
    }
    (reads, types)
}

#[test]
fn ttft_is_the_first_delta_not_response_created() {
    let (reads, types) = one_read_per_event("stream_text.sse");
    let borrowed: Vec<_> = reads.iter().map(|(b, t)| (b.as_slice(), *t)).collect();
    let r = replay_reads(&borrowed);
    let first_delta = types
        .iter()
        .position(|t| t == "response.output_text.delta")
        .unwrap();
    assert_eq!(types[0], "response.created");
    assert_eq!(r.first_content_at, Some(reads[first_delta].1));
    assert_eq!(r.first_text_at, Some(reads[first_delta].1));

    let (reads, types) = one_read_per_event("stream_reasoning_summary.sse");
    let borrowed: Vec<_> = reads.iter().map(|(b, t)| (b.as_slice(), *t)).collect();
    let r = replay_reads(&borrowed);
    let first = |kind: &str| reads[types.iter().position(|t| t == kind).unwrap()].1;
    assert_eq!(
        r.first_content_at,
        Some(first("response.reasoning_summary_text.delta")),
        "reasoning first: time to first reasoning"
    );
    assert_eq!(r.first_text_at, Some(first("response.output_text.delta")));
}

#[test]
fn a_non_streaming_body_gives_the_same_row() {
    let body = String::from_utf8(fixture("nonstream_basic.json")).unwrap();
    let mut d = Decoder::for_protocol(Protocol::Responses);
    let mut out = Vec::new();
    d.on_body(&body, &mut out).unwrap();
    assert!(d.is_complete());
    let mut run = TargetRun::default();
    for ev in &out {
        run.apply(Instant::now(), ev);
    }
    assert_eq!(run.reasoning, "**Planning**\n\nLook up the weather.");
    assert_eq!(run.text, "Checking the weather.");
    assert_eq!(run.tool_calls.len(), 1);
    assert_eq!(
        (
            run.tool_calls[0].id.as_deref(),
            run.tool_calls[0].arguments.as_str()
        ),
        (Some("call_Pq8Rj2Xw4Zy6Tb1Nc3Vd5Fh"), r#"{"city":"Paris"}"#)
    );
    assert_eq!(
        (run.usage.input, run.usage.output, run.usage.reasoning),
        (Some(88), Some(70), Some(48))
    );
    assert_eq!(
        run.finish.as_ref().map(|f| (f.reason, f.raw.as_deref())),
        Some((FinishReason::ToolCalls, Some("completed")))
    );
}

#[test]
fn http_error_bodies_use_the_openai_mapping() {
    let body = String::from_utf8(fixture("error_context_length.json")).unwrap();
    let cx = ErrorContext {
        model: "gpt-4.1",
        base_url: "http://h/v1",
        key_env: Some("OPENAI_API_KEY"),
    };
    let e = from_http(400, &reqwest::header::HeaderMap::new(), &body, cx);
    assert_eq!((e.kind, e.retryable), (ErrorKind::ContextLength, false));
    assert!(e.message.contains("too long for gpt-4.1"), "{}", e.message);
    // The same body inside a 200 (a gateway that answered in band) still fails.
    let mut d = Decoder::for_protocol(Protocol::Responses);
    assert!(d.on_body(&body, &mut Vec::new()).is_err());
}

fn all_fixtures() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wire/responses");
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// Mangled real streams never panic and never yield more text than they carried.
    #[test]
    fn mangled_fixtures_never_panic_or_invent_text(pick in 0usize..64, at in any::<usize>(), cut in 0usize..200, byte in any::<u8>()) {
        let fixtures = all_fixtures();
        let mut bytes = fixtures[pick % fixtures.len()].clone();
        let at = at % bytes.len();
        let end = (at + cut).min(bytes.len());
        if byte % 2 == 0 {
            bytes.drain(at..end);
        } else {
            let copy = bytes[at..end].to_vec();
            bytes.splice(at..at, copy);
        }
        let r = replay_reads(&[(&bytes, Instant::now())]);
        prop_assert!(r.text.len() + r.reasoning.len() <= bytes.len());
        let mut d = Decoder::for_protocol(Protocol::Responses);
        let _ = d.on_body(&String::from_utf8_lossy(&bytes), &mut Vec::new());
    }
}
