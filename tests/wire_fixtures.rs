//! Every provider's documented wire format, replayed through the real framing and
//! decoders, whole and in 1-byte reads (see tests/fixtures/wire/INDEX.md for sources).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::path::Path;
use std::time::Instant;

use prism::engine::metrics::{Outcome, TargetRun};
use prism::provider::Decoder;
use prism::provider::errors::{ErrorContext, from_http};
use prism::provider::event::{ErrorKind, FinishReason, StreamEvent, Usage};
use prism::provider::sse::SseDecoder;
use prism::target::ProviderKind;

fn fixture(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wire")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Replay a stream fixture in reads of `chunk` bytes; fold it like the engine does.
fn replay(kind: ProviderKind, rel: &str, chunk: usize, t: Instant) -> TargetRun {
    replay_bytes(kind, &fixture(rel), chunk, t)
}

fn replay_bytes(kind: ProviderKind, bytes: &[u8], chunk: usize, t: Instant) -> TargetRun {
    let cuts: Vec<usize> = (1..)
        .map(|i| i * chunk.max(1))
        .take_while(|c| *c < bytes.len())
        .collect();
    replay_split(kind, bytes, &cuts, t)
}

/// Feed `bytes` as reads split at the sorted offsets `cuts`, then end of body.
fn replay_split(kind: ProviderKind, bytes: &[u8], cuts: &[usize], t: Instant) -> TargetRun {
    let mut sse = SseDecoder::new();
    let mut dec = Decoder::new(kind);
    let mut run = TargetRun::default();
    let mut frames = Vec::new();
    let mut out = Vec::new();
    let mut prev = 0;
    for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
        let piece = &bytes[prev..cut.max(prev)];
        prev = cut.max(prev);
        sse.feed_into(piece, t, &mut frames);
        for f in frames.drain(..) {
            if run.is_finished() {
                continue;
            }
            let r = dec.on_sse(&f.event, &f.data, &mut out);
            for ev in out.drain(..) {
                run.apply(t, &ev);
            }
            if let Err(e) = r {
                run.apply(t, &StreamEvent::Failed(Box::new(e)));
            } else if dec.saw_end_marker() {
                run.apply(t, &StreamEvent::Done);
            }
        }
    }
    sse.finish();
    if !run.is_finished() {
        let end = if dec.is_complete() {
            StreamEvent::Done
        } else {
            StreamEvent::Failed(Box::new(prism::provider::event::ProviderError::new(
                ErrorKind::Truncated,
                "eof",
            )))
        };
        run.apply(t, &end);
    }
    run
}

/// Whole-body and 1-byte replays must agree exactly.
fn replay_checked(kind: ProviderKind, rel: &str) -> TargetRun {
    let t = Instant::now();
    let whole = replay(kind, rel, usize::MAX, t);
    for size in [1, 7, 64] {
        assert_eq!(replay(kind, rel, size, t), whole, "{rel} in {size}-byte reads");
    }
    whole
}

fn finish(run: &TargetRun) -> Option<(FinishReason, Option<&str>)> {
    run.finish_reason()
}

/// (kind, file, visible text, finish (normalized, raw), provider usage (input, output), ends Done)
type Case = (
    ProviderKind,
    &'static str,
    &'static str,
    Option<(FinishReason, &'static str)>,
    (Option<u64>, Option<u64>),
    bool,
);

const CASES: &[Case] = &[
    (
        ProviderKind::OpenAi,
        "openai/stream_basic.sse",
        "Hello from Prism!",
        Some((FinishReason::Stop, "stop")),
        (Some(17), Some(4)),
        true,
    ),
    (
        ProviderKind::OpenAi,
        "openai/stream_tool_calls.sse",
        "",
        Some((FinishReason::ToolCalls, "tool_calls")),
        (Some(61), Some(15)),
        true,
    ),
    (
        ProviderKind::OpenAi,
        "openai/stream_refusal.sse",
        // The refusal is kept apart (tests/refusal_wire.rs reads it); the text is empty.
        "",
        Some((FinishReason::Refusal, "stop")),
        (Some(40), Some(9)),
        true,
    ),
    (
        ProviderKind::OpenAi,
        "openai/stream_content_filter.sse",
        "Here is",
        Some((FinishReason::ContentFilter, "content_filter")),
        (Some(22), Some(2)),
        true,
    ),
    (
        ProviderKind::OpenAi,
        "openai/stream_error_midstream.sse",
        "The answer",
        None,
        (None, None),
        false,
    ),
    (
        ProviderKind::OpenAiCompatible,
        "compat/vllm_reasoning.sse",
        "9.8 is greater.",
        Some((FinishReason::Stop, "stop")),
        (Some(14), Some(18)),
        true,
    ),
    (
        ProviderKind::OpenAiCompatible,
        "compat/ollama_openai.sse",
        "Hello from Ollama.",
        Some((FinishReason::Stop, "stop")),
        (Some(26), Some(4)),
        true,
    ),
    (
        ProviderKind::OpenAiCompatible,
        "compat/openrouter_keepalive.sse",
        "Hello!",
        Some((FinishReason::Stop, "stop")),
        (Some(21), Some(2)),
        true,
    ),
    (
        ProviderKind::OpenAiCompatible,
        "compat/no_usage.sse",
        "No usage here.",
        Some((FinishReason::Stop, "stop")),
        (None, None),
        true,
    ),
    (
        ProviderKind::OpenAiCompatible,
        "compat/deepseek_reasoning.sse",
        "Hello!",
        Some((FinishReason::Stop, "stop")),
        (Some(6), Some(12)),
        true,
    ),
    // The prompt-filter chunk (no choices) and the filter verdicts carry no text.
    (
        ProviderKind::Azure,
        "azure/stream_basic.sse",
        "Hello from Azure!",
        Some((FinishReason::Stop, "stop")),
        (Some(12), Some(4)),
        true,
    ),
    // The asynchronous filter: verdicts in chunks without a delta, the last one the finish.
    (
        ProviderKind::Azure,
        "azure/stream_async_filter_blocked.sse",
        "Hey Jude, don't",
        Some((FinishReason::ContentFilter, "content_filter")),
        (None, None),
        true,
    ),
    (
        ProviderKind::Anthropic,
        "anthropic/stream_basic.sse",
        "Hello! How can I help you today?",
        Some((FinishReason::Stop, "end_turn")),
        (Some(12), Some(11)),
        true,
    ),
    (
        ProviderKind::Anthropic,
        "anthropic/stream_thinking.sse",
        "The GCD of 1071 and 462 is **21**.",
        Some((FinishReason::Stop, "end_turn")),
        (Some(48), Some(97)),
        true,
    ),
    (
        ProviderKind::Anthropic,
        "anthropic/stream_tool_use.sse",
        "I'll check the weather in Paris.",
        Some((FinishReason::ToolCalls, "tool_use")),
        (Some(472), Some(89)),
        true,
    ),
    // Input usage from message_start survives the failure; output was never reported.
    (
        ProviderKind::Anthropic,
        "anthropic/stream_error_midstream.sse",
        "Counting: 1, 2, 3,",
        None,
        (Some(15), None),
        false,
    ),
    (
        ProviderKind::Anthropic,
        "anthropic/stream_cache.sse",
        "Per the cached document, the answer is 42.",
        Some((FinishReason::Length, "max_tokens")),
        (Some(2035), Some(16)),
        true,
    ),
    (
        ProviderKind::Gemini,
        "gemini/stream_basic.sse",
        "1\n2\n3\n4\n5",
        Some((FinishReason::Stop, "STOP")),
        (Some(8), Some(8)),
        true,
    ),
    (
        ProviderKind::Gemini,
        "gemini/stream_thoughts.sse",
        "Hi there! How can I help you today?",
        Some((FinishReason::Stop, "STOP")),
        (Some(2), Some(81)),
        true,
    ),
    (
        ProviderKind::Gemini,
        "gemini/stream_function_call.sse",
        "",
        Some((FinishReason::ToolCalls, "STOP")),
        (Some(51), Some(70)),
        true,
    ),
    (
        ProviderKind::Gemini,
        "gemini/stream_max_tokens.sse",
        "We",
        Some((FinishReason::Length, "MAX_TOKENS")),
        (Some(29), Some(59)),
        true,
    ),
    (
        ProviderKind::Gemini,
        "gemini/stream_safety.sse",
        "Here is a",
        Some((FinishReason::ContentFilter, "SAFETY")),
        (Some(12), Some(3)),
        true,
    ),
    (
        ProviderKind::Gemini,
        "gemini/prompt_blocked.sse",
        "",
        Some((FinishReason::ContentFilter, "blockReason:PROHIBITED_CONTENT")),
        (Some(9), None),
        true,
    ),
];

#[test]
fn every_stream_fixture_decodes_the_same_in_any_chunking() {
    for &(kind, file, text, fin, (input, output), done) in CASES {
        let run = replay_checked(kind, file);
        assert_eq!(run.text, text, "{file}");
        assert_eq!((run.usage.input, run.usage.output), (input, output), "{file}");
        assert_eq!(
            matches!(run.outcome, Some(Outcome::Done)),
            done,
            "{file}: {:?}",
            run.outcome
        );
        if done {
            assert_eq!(finish(&run), fin.map(|(r, raw)| (r, Some(raw))), "{file}");
        } else {
            assert_eq!(finish(&run).map(|f| f.0), Some(FinishReason::Error), "{file}");
        }
    }
}

#[test]
fn reasoning_cache_and_tool_details() {
    let r = replay_checked(ProviderKind::Anthropic, "anthropic/stream_cache.sse");
    assert_eq!(
        r.usage,
        Usage {
            input: Some(2035),
            output: Some(16),
            cached_input: Some(1826),
            cache_write: Some(188),
            cache_write_1h: Some(0),
            reasoning: None
        }
    );
    let r = replay_checked(ProviderKind::Anthropic, "anthropic/stream_thinking.sse");
    assert!(r.reasoning.starts_with("I need the GCD"));
    let r = replay_checked(ProviderKind::Gemini, "gemini/stream_thoughts.sse");
    assert_eq!((r.usage.reasoning, r.usage.output), (Some(71), Some(81)));
    let r = replay_checked(ProviderKind::OpenAi, "openai/stream_tool_calls.sse");
    assert_eq!(r.tool_calls.len(), 1);
    assert_eq!(r.tool_calls[0].arguments, "{\"city\":\"Paris\"}");
    assert_eq!(r.tool_calls[0].name.as_deref(), Some("get_weather"));
    let r = replay_checked(ProviderKind::Anthropic, "anthropic/stream_tool_use.sse");
    assert_eq!(
        r.tool_calls[0].arguments,
        "{\"location\": \"Paris, FR\", \"unit\": \"celsius\"}"
    );
    let r = replay_checked(ProviderKind::OpenAiCompatible, "compat/deepseek_reasoning.sse");
    assert_eq!(
        (r.reasoning.as_str(), r.usage.reasoning),
        ("The user says hello.", Some(9))
    );
}

#[test]
fn non_streaming_bodies() {
    for (kind, file) in [
        (ProviderKind::OpenAi, "openai/nonstream_basic.json"),
        (ProviderKind::Anthropic, "anthropic/nonstream_basic.json"),
        (ProviderKind::Gemini, "gemini/nonstream_basic.json"),
        (ProviderKind::Azure, "azure/nonstream_basic.json"),
    ] {
        let body = String::from_utf8(fixture(file)).unwrap();
        let mut d = Decoder::new(kind);
        let mut out = Vec::new();
        d.on_body(&body, &mut out).unwrap();
        let mut run = TargetRun::default();
        for ev in &out {
            run.apply(Instant::now(), ev);
        }
        assert!(!run.text.is_empty(), "{file}");
        assert!(run.usage.input.is_some() && run.usage.output.is_some(), "{file}");
        assert!(run.finish.is_some() && d.is_complete(), "{file}");
    }
}

#[test]
fn error_bodies_become_one_human_line() {
    let cx = ErrorContext {
        model: "m",
        base_url: "http://x",
        key_env: Some("KEY_VAR"),
    };
    let none = reqwest::header::HeaderMap::new();
    for (file, status, kind, retryable, contains) in [
        (
            "openai/error_429.json",
            429,
            ErrorKind::RateLimited,
            true,
            "rate_limit_exceeded",
        ),
        (
            "openai/error_insufficient_quota.json",
            429,
            ErrorKind::RateLimited,
            false,
            "out of quota",
        ),
        (
            "openai/error_context_length.json",
            400,
            ErrorKind::ContextLength,
            false,
            "too long for m",
        ),
        ("openai/error_401.json", 401, ErrorKind::Auth, false, "$KEY_VAR"),
        (
            "anthropic/error_529.json",
            529,
            ErrorKind::Overloaded,
            true,
            "overloaded_error: Overloaded",
        ),
        (
            "anthropic/error_context_length.json",
            400,
            ErrorKind::ContextLength,
            false,
            "prompt is too long",
        ),
        (
            "anthropic/error_401.json",
            401,
            ErrorKind::Auth,
            false,
            "$KEY_VAR",
        ),
        (
            "gemini/error_429.json",
            429,
            ErrorKind::RateLimited,
            true,
            "RESOURCE_EXHAUSTED",
        ),
        (
            "gemini/error_400_api_key.json",
            400,
            ErrorKind::Auth,
            false,
            "$KEY_VAR",
        ),
        (
            "gemini/error_context_length.json",
            400,
            ErrorKind::ContextLength,
            false,
            "too long",
        ),
    ] {
        let body = String::from_utf8(fixture(file)).unwrap();
        let e = from_http(status, &none, &body, cx);
        assert_eq!((e.kind, e.retryable), (kind, retryable), "{file}: {}", e.message);
        assert!(e.message.contains(contains), "{file}: {}", e.message);
        assert!(
            !e.message.contains('{') && !e.message.contains('\n'),
            "{file}: raw JSON leaked: {}",
            e.message
        );
    }
}

/// Where the stream's terminal marker ends: cutting anywhere before it must never
/// be reported as a complete answer.
fn marker_end(kind: ProviderKind, bytes: &[u8]) -> Option<usize> {
    let text = String::from_utf8_lossy(bytes);
    let find_event_end = |needle: &str| {
        let at = text.find(needle)?;
        let rest = &text[at..];
        // The event is dispatched by the blank line's first terminator: `\n\n`, or `\r\n\r`
        // (a lone CR ends a line; the LF that may follow belongs to it).
        let end = rest
            .find("\n\n")
            .map(|e| e + 2)
            .or_else(|| rest.find("\r\n\r\n").map(|e| e + 3))?;
        Some(at + end)
    };
    match kind {
        // A finish_reason already completes a Chat Completions answer; [DONE] after it too.
        ProviderKind::OpenAi | ProviderKind::OpenAiCompatible | ProviderKind::Azure => [
            find_event_end("\"finish_reason\":\""),
            find_event_end("\"finish_reason\": \""),
            find_event_end("[DONE]"),
        ]
        .into_iter()
        .flatten()
        .min(),
        ProviderKind::Anthropic => find_event_end("message_stop"),
        ProviderKind::Gemini => find_event_end("finishReason").or_else(|| find_event_end("blockReason")),
        // Binary frames, not SSE: its cuts are pinned in tests/bedrock_stream.rs.
        ProviderKind::Bedrock => None,
    }
}

#[test]
fn a_cut_at_every_offset_before_the_end_marker_is_never_success() {
    let t = Instant::now();
    let mut cuts = 0;
    for &(kind, file, _, _, _, done) in CASES {
        if !done {
            continue;
        }
        let bytes = fixture(file);
        let end = marker_end(kind, &bytes).unwrap_or_else(|| panic!("{file}: no end marker"));
        for cut in 0..end {
            let run = replay_bytes(kind, &bytes[..cut], 7, t);
            assert!(
                !matches!(run.outcome, Some(Outcome::Done)),
                "{file} cut at byte {cut} of {} (marker ends at {end}) was reported complete",
                bytes.len()
            );
            cuts += 1;
        }
        let whole = replay_bytes(kind, &bytes, 7, t);
        assert!(matches!(whole.outcome, Some(Outcome::Done)), "{file} whole");
    }
    assert!(cuts > 10_000, "only {cuts} cuts checked");
}

#[test]
fn thousands_of_random_chunkings_give_identical_results() {
    let t = Instant::now();
    let mut rng: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for &(kind, file, ..) in CASES {
        let bytes = fixture(file);
        let whole = replay_bytes(kind, &bytes, usize::MAX, t);
        for _ in 0..200 {
            let mut cuts: Vec<usize> = (0..(next() % 24))
                .map(|_| (next() as usize) % (bytes.len() + 1))
                .collect();
            cuts.sort_unstable();
            let run = replay_split(kind, &bytes, &cuts, t);
            assert_eq!(run, whole, "{file} split at {cuts:?}");
        }
    }
}
