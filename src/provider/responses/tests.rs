use super::*;

fn decode(events: &[(&str, &str)]) -> (Decoder, Vec<StreamEvent>, Option<ProviderError>) {
    let mut d = Decoder::default();
    let mut out = Vec::new();
    for (e, data) in events {
        if let Err(err) = d.on_sse(e, data, &mut out) {
            return (d, out, Some(err));
        }
    }
    (d, out, None)
}

#[test]
fn a_done_event_repeats_nothing_its_deltas_sent() {
    let (_, out, _) = decode(&[
        (
            "response.output_text.delta",
            r#"{"type":"response.output_text.delta","content_index":0,"delta":"Hi","item_id":"msg_1","output_index":0,"sequence_number":4}"#,
        ),
        (
            "response.output_text.done",
            r#"{"type":"response.output_text.done","content_index":0,"item_id":"msg_1","output_index":0,"sequence_number":5,"text":"Hi"}"#,
        ),
        (
            "response.output_text.done",
            r#"{"type":"response.output_text.done","content_index":1,"item_id":"msg_1","output_index":0,"sequence_number":6,"text":"late"}"#,
        ),
    ]);
    assert_eq!(
        out,
        vec![
            StreamEvent::TextDelta("Hi".into()),
            StreamEvent::TextDelta("late".into())
        ]
    );
}

#[test]
fn summary_parts_become_paragraphs_without_extra_events() {
    let (_, out, _) = decode(&[
        (
            "x",
            r#"{"type":"response.reasoning_summary_part.added","output_index":0,"summary_index":0}"#,
        ),
        (
            "x",
            r#"{"type":"response.reasoning_summary_text.delta","delta":"One.","output_index":0,"summary_index":0}"#,
        ),
        (
            "x",
            r#"{"type":"response.reasoning_summary_part.added","output_index":0,"summary_index":1}"#,
        ),
        (
            "x",
            r#"{"type":"response.reasoning_summary_text.delta","delta":"Two.","output_index":0,"summary_index":1}"#,
        ),
    ]);
    assert_eq!(
        out,
        vec![
            StreamEvent::ReasoningDelta("One.".into()),
            StreamEvent::ReasoningDelta("\n\nTwo.".into())
        ]
    );
}

#[test]
fn the_nested_error_event_seen_in_the_wild_fails_retryably() {
    let (_, _, err) = decode(&[(
        "error",
        r#"{"type":"error","error":{"type":"service_unavailable_error","code":"server_is_overloaded","message":"Our servers are currently overloaded. Please try again later.","param":null},"sequence_number":2}"#,
    )]);
    let err = err.unwrap();
    assert_eq!((err.kind, err.retryable), (ErrorKind::Overloaded, true));
    assert_eq!(
        err.message,
        "error inside the stream: server_is_overloaded: Our servers are currently overloaded. Please try again later."
    );
}

#[test]
fn a_stream_without_deltas_is_read_from_its_final_object_with_a_note() {
    let (d, out, _) = decode(&[(
        "response.completed",
        r#"{"type":"response.completed","response":{"id":"resp_1","object":"response","status":"completed","output":[{"id":"msg_1","type":"message","status":"completed","content":[{"type":"output_text","annotations":[],"text":"Whole."}],"role":"assistant"}],"usage":null}}"#,
    )]);
    assert!(d.saw_terminal);
    assert_eq!(out[0], StreamEvent::TextDelta("Whole.".into()));
    assert!(matches!(&out[1], StreamEvent::Note(n) if n.contains("no content deltas")));
}

#[test]
fn background_responses_are_refused_with_what_to_do() {
    let mut d = Decoder::default();
    let e = d
        .on_body(
            r#"{"id":"resp_1","object":"response","status":"queued","output":[]}"#,
            &mut Vec::new(),
        )
        .unwrap_err();
    assert!(e.message.contains("remove `background`"), "{}", e.message);
}
