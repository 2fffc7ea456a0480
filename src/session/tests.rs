//! Writer and reader together: what is written is what is read back.

use std::time::{Duration, Instant};

use super::*;
use crate::pricing::PriceTable;
use crate::provider::event::{Finish, FinishReason, ResponseStart, StreamEvent, Usage};
use crate::provider::request::ChatRequest;
use crate::target::{KeySource, Params, ProviderKind, Target};

fn target(name: &str) -> Target {
    Target {
        name: name.into(),
        provider: ProviderKind::OpenAi,
        model: "gpt-4o-mini-2024-07-18".into(),
        base_url: "http://127.0.0.1:9/v1".into(),
        key: KeySource::Env(vec!["OPENAI_API_KEY".into()]),
        params: Params {
            stream: true,
            ..Params::default()
        },
    }
}

fn stream(w: &SessionWriter, run: u64, target: usize, base: Instant, words: &[&str], end: bool) {
    let at = |ms: u64| base + Duration::from_micros(ms * 1000 + 7);
    w.event(run, target, at(1), &StreamEvent::Dispatched);
    w.event(
        run,
        target,
        at(20),
        &StreamEvent::Started(ResponseStart {
            http_status: 200,
            request_id: Some(format!("req_{run}_{target}")),
            rate_limits: vec![],
            sent_at: at(5),
            connect: Some(Duration::from_millis(4)),
        }),
    );
    for (i, word) in words.iter().enumerate() {
        w.event(
            run,
            target,
            at(100 + 13 * i as u64),
            &StreamEvent::TextDelta((*word).into()),
        );
    }
    if end {
        w.event(
            run,
            target,
            at(400),
            &StreamEvent::Usage(Usage {
                input: Some(12),
                output: Some(words.len() as u64),
                ..Usage::default()
            }),
        );
        w.event(
            run,
            target,
            at(401),
            &StreamEvent::Finish(Finish {
                reason: FinishReason::Stop,
                raw: Some("stop".into()),
            }),
        );
        w.event(run, target, at(402), &StreamEvent::Done);
    }
}

#[test]
fn a_written_session_loads_with_its_text_history_and_recorded_numbers() {
    let root = tempfile::tempdir().unwrap();
    let targets = [target("a"), target("b")];
    let prices = PriceTable::builtin().unwrap();
    let w = SessionWriter::create(root.path(), &targets, prices.clone()).unwrap();
    let base = Instant::now();
    let req = ChatRequest::single(None, "hello");
    let out = |t| Outgoing {
        target: t,
        history: vec![],
        request: req.clone(),
    };
    w.send(1, 1, None, "hello", base, &[out(0), out(1)]);
    stream(&w, 1, 0, base, &["Hi", " from", " a"], true);
    stream(&w, 1, 1, base, &["Hey", " b"], true);
    let base2 = Instant::now();
    w.send(
        2,
        2,
        Some("be brief".into()),
        "again",
        base2,
        &[Outgoing {
            target: 1,
            history: vec![1],
            request: req.clone(),
        }],
    );
    stream(&w, 2, 1, base2, &["Half"], false);
    w.close();

    let s = load(w.dir()).unwrap();
    assert_eq!(s.meta.turns, 2);
    assert_eq!(s.meta.first_prompt, "hello");
    assert!(s.meta.cost_usd > 0.0);
    assert_eq!(s.turns.len(), 2);
    assert_eq!(s.turns[0].answers[&0].text(), "Hi from a");
    assert_eq!(s.turns[0].answers[&1].text(), "Hey b");
    assert!(!s.turns[0].answers[&0].interrupted);
    let partial = &s.turns[1].answers[&1];
    assert!(partial.interrupted && partial.row.is_none());
    assert_eq!(partial.text(), "Half");
    // Target b's second request carries its own first answer, not a's.
    let r = s.request_for(&s.turns[1], 1);
    assert_eq!(r.system.as_deref(), Some("be brief"));
    let texts: Vec<_> = r.messages.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(texts, ["hello", "Hey b", "again"]);
    // Metrics recomputed from the file equal the recorded ones, to the microsecond.
    for (i, t) in targets.iter().enumerate() {
        let rec = &s.turns[0].answers[&i];
        let run = rec.fold(Instant::now());
        let row = crate::report::row(t, &s.request_for(&s.turns[0], i), &run, &prices);
        assert_eq!(Some(serde_json::to_value(&row).unwrap()), rec.row);
    }
}

#[test]
fn a_future_version_or_a_corrupt_line_is_refused_with_its_position_and_left_alone() {
    let root = tempfile::tempdir().unwrap();
    let w = SessionWriter::create(root.path(), &[target("a")], PriceTable::default()).unwrap();
    w.close();
    let path = w.dir().join(writer::EVENTS_FILE);
    let good = std::fs::read_to_string(&path).unwrap();

    let future = good.replacen("\"version\":1", "\"version\":7", 1);
    std::fs::write(&path, &future).unwrap();
    let e = load(w.dir()).unwrap_err().to_string();
    assert!(
        e.contains("events.jsonl:1:1:") && e.contains("version 7") && e.contains("upgrade"),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), future);

    let corrupt = format!("{good}{{\"type\":\"send\",\"run\":oops}}\n{{\"type\":\"done\"}}\n");
    std::fs::write(&path, &corrupt).unwrap();
    let e = load(w.dir()).unwrap_err().to_string();
    assert!(e.contains("events.jsonl:3:"), "{e}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), corrupt);

    // A last line cut short by a crash is dropped, not an error.
    std::fs::write(&path, format!("{good}{{\"type\":\"send\",\"ru")).unwrap();
    let s = load(w.dir()).unwrap();
    assert!(s.cut_short);
}
