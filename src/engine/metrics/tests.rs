//! The fold of one target's events into its numbers, with hand-made timestamps.

use super::*;
use crate::provider::event::{ResponseStart, TextRun, ToolCallDelta};
use proptest::prelude::*;

/// Pieces as (milliseconds since the last read, reasoning or answer, text): a 0 means the
/// same read.
fn pieces_strategy() -> impl Strategy<Value = Vec<(u64, bool, String)>> {
    proptest::collection::vec(
        (
            prop_oneof![Just(0u64), 0u64..3, 1u64..400],
            any::<bool>(),
            "[a-zé ]{0,6}",
        ),
        1..60,
    )
}

fn one_piece(reasoning: bool, text: &str) -> StreamEvent {
    if reasoning {
        StreamEvent::ReasoningDelta(text.into())
    } else {
        StreamEvent::TextDelta(text.into())
    }
}

proptest! {
    #[test]
    fn pieces_of_one_read_joined_give_the_numbers_they_give_one_by_one(pieces in pieces_strategy()) {
        let t = Instant::now();
        let mut one_by_one = TargetRun::default();
        let mut joined = TargetRun::default();
        for r in [&mut one_by_one, &mut joined] {
            r.apply(t, &StreamEvent::Dispatched);
            r.apply(ms(t, 1), &started(t, 1));
        }
        // Stamp each piece; group consecutive pieces of one read and one kind as the
        // stream joins them (an empty piece is never joined).
        let mut now = 10;
        let mut groups: Vec<(u64, bool, Vec<String>)> = Vec::new();
        for (after, reasoning, text) in pieces {
            now += after;
            one_by_one.apply(ms(t, now), &one_piece(reasoning, &text));
            match groups.last_mut() {
                Some((at, kind, g))
                    if *at == now && *kind == reasoning && !text.is_empty() && !g.last().is_some_and(String::is_empty) =>
                {
                    g.push(text);
                }
                _ => groups.push((now, reasoning, vec![text])),
            }
        }
        for (at, reasoning, g) in groups {
            let event = match g.as_slice() {
                [one] => one_piece(reasoning, one),
                [first, second, rest @ ..] => {
                    let mut run = TextRun::of(first, second);
                    for piece in rest {
                        run.push(piece);
                    }
                    if reasoning {
                        StreamEvent::ReasoningRun(run)
                    } else {
                        StreamEvent::TextRun(run)
                    }
                }
                [] => unreachable!(),
            };
            joined.apply(ms(t, at), &event);
        }
        for r in [&mut one_by_one, &mut joined] {
            r.apply(ms(t, now + 5), &StreamEvent::Done);
        }
        prop_assert_eq!(joined, one_by_one);
    }
}

fn ms(base: Instant, n: u64) -> Instant {
    base + Duration::from_millis(n)
}

fn started(base: Instant, sent: u64) -> StreamEvent {
    StreamEvent::Started(Box::new(ResponseStart {
        http_status: 200,
        request_id: Some("req_1".into()),
        rate_limits: vec![],
        sent_at: ms(base, sent),
        connect: Some(Duration::from_millis(sent)),
    }))
}

#[test]
fn ttft_counts_from_request_sent_and_ignores_empty_deltas() {
    let t = Instant::now();
    let mut r = TargetRun::default();
    r.apply(t, &StreamEvent::Dispatched);
    r.apply(ms(t, 30), &started(t, 10));
    r.apply(ms(t, 40), &StreamEvent::TextDelta(Default::default()));
    r.apply(ms(t, 210), &StreamEvent::TextDelta("Hi".into()));
    r.apply(ms(t, 230), &StreamEvent::TextDelta(" there".into()));
    r.apply(ms(t, 230), &StreamEvent::TextDelta("!".into()));
    r.apply(ms(t, 290), &StreamEvent::TextDelta(" ok".into()));
    r.apply(ms(t, 300), &StreamEvent::Done);
    assert_eq!(r.ttft(), Some(Duration::from_millis(200)));
    assert_eq!(r.ttfb(), Some(Duration::from_millis(20)));
    assert_eq!(r.total(), Some(Duration::from_millis(290)));
    let itl = r.itl().unwrap();
    assert_eq!((itl.p50, itl.p95), (20.0, 60.0));
    assert!((itl.mean - 80.0 / 3.0).abs() < 1e-9);
    // 4 output tokens over 80 ms
    assert_eq!(r.tokens_per_s(Some(4)), Some(50.0));
    assert_eq!(r.text, "Hi there! ok");
}

#[test]
fn bursts_and_per_token_latency_describe_how_the_stream_arrived() {
    let t = Instant::now();
    let mut r = TargetRun::default();
    r.apply(t, &started(t, 0));
    assert_eq!((r.longest_gap(), r.burst_share()), (None, None));
    // 4 bytes, then a 2 s silence, then 12 bytes released at once (3 events within
    // 1 ms of each other), then 4 bytes 50 ms later.
    r.apply(ms(t, 100), &StreamEvent::TextDelta("abcd".into()));
    let burst = ms(t, 2100);
    r.apply(burst, &StreamEvent::TextDelta("efgh".into()));
    r.apply(
        burst + Duration::from_micros(300),
        &StreamEvent::TextDelta("ijkl".into()),
    );
    r.apply(
        burst + Duration::from_micros(900),
        &StreamEvent::ReasoningDelta("mnop".into()),
    );
    r.apply(ms(t, 2150), &StreamEvent::TextDelta("qrst".into()));
    assert_eq!(r.longest_gap(), Some(Duration::from_millis(2000)));
    // Of 20 bytes, "ijkl" and "mnop" came within 1 ms of the event before them.
    assert_eq!(r.burst_share(), Some(8.0 / 20.0));
    // 2050 ms from first to last content over 10 tokens: 9 gaps.
    assert_eq!(
        r.itl_per_token(Some(10)),
        Some(Duration::from_millis(2050).div_f64(9.0))
    );
    assert_eq!(r.itl_per_token(Some(1)), None);
    assert_eq!(r.itl_per_token(None), None);
}

#[test]
fn reasoning_first_gives_two_ttfts() {
    let t = Instant::now();
    let mut r = TargetRun::default();
    r.apply(t, &started(t, 0));
    r.apply(ms(t, 100), &StreamEvent::ReasoningDelta("hmm".into()));
    r.apply(ms(t, 900), &StreamEvent::TextDelta("A".into()));
    assert_eq!(r.ttft(), Some(Duration::from_millis(100)));
    assert_eq!(r.ttft_text(), Some(Duration::from_millis(900)));
}

#[test]
fn tool_calls_assemble_and_count_as_content() {
    let t = Instant::now();
    let mut r = TargetRun::default();
    r.apply(t, &started(t, 0));
    let d = |id: Option<&str>, args: &str| {
        StreamEvent::ToolCallDelta(Box::new(ToolCallDelta {
            index: 0,
            id: id.map(Into::into),
            name: id.map(|_| "f".into()),
            arguments: args.into(),
        }))
    };
    r.apply(ms(t, 50), &d(Some("call_1"), ""));
    r.apply(ms(t, 60), &d(None, "{\"a\":"));
    r.apply(ms(t, 70), &d(None, "1}"));
    assert_eq!(r.ttft(), Some(Duration::from_millis(50)));
    assert_eq!(
        r.tool_calls,
        vec![ToolCall {
            id: Some("call_1".into()),
            name: Some("f".into()),
            arguments: "{\"a\":1}".into()
        }]
    );
}

#[test]
fn unknown_numbers_stay_unknown() {
    let t = Instant::now();
    let mut r = TargetRun::default();
    r.apply(
        t,
        &StreamEvent::Failed(Box::new(ProviderError::new(
            crate::provider::event::ErrorKind::MissingKey,
            "no key",
        ))),
    );
    assert_eq!(
        (r.ttft(), r.total(), r.itl(), r.tokens_per_s(Some(3))),
        (None, None, None, None)
    );
    assert_eq!(r.finish_reason(), Some((FinishReason::Error, None)));
}

#[test]
fn server_reports_merge_beside_measured_numbers() {
    let t = Instant::now();
    let mut r = TargetRun::default();
    assert_eq!(r.server_report(), None, "nothing said, nothing kept");
    r.apply(
        t,
        &StreamEvent::Server(Box::new(ServerReport::generation_id("gen-42"))),
    );
    r.apply(
        t,
        &StreamEvent::Server(Box::new(ServerReport {
            source: "openrouter usage".into(),
            cost_usd: Some(0.002),
            ..ServerReport::default()
        })),
    );
    let s = r.server_report().unwrap();
    assert_eq!(
        (s.generation_id.as_deref(), s.cost_usd),
        (Some("gen-42"), Some(0.002))
    );
    assert_eq!(s.source, "x-generation-id, openrouter usage");
}

#[test]
fn a_finished_run_keeps_its_text_without_room_to_grow() {
    let t = Instant::now();
    let mut r = TargetRun::default();
    r.apply(t, &StreamEvent::Dispatched);
    for i in 0..1000 {
        r.apply(ms(t, i), &StreamEvent::TextDelta("word ".into()));
        r.apply(ms(t, i), &StreamEvent::ReasoningDelta("hm ".into()));
    }
    assert!(
        r.text.capacity() > r.text.len(),
        "grown by doubling while it streamed"
    );
    r.apply(ms(t, 1000), &StreamEvent::Done);
    assert_eq!(r.text.capacity(), r.text.len());
    assert_eq!(r.reasoning.capacity(), r.reasoning.len());
    assert_eq!(r.text.len(), 5000);
}
