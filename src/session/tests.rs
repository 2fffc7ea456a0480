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
        &StreamEvent::Started(Box::new(ResponseStart {
            http_status: 200,
            request_id: Some(format!("req_{run}_{target}")),
            rate_limits: vec![],
            sent_at: at(5),
            connect: Some(Duration::from_millis(4)),
        })),
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
            &StreamEvent::Usage(Box::new(Usage {
                input: Some(12),
                output: Some(words.len() as u64),
                ..Usage::default()
            })),
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
        assert_eq!(rec.row.as_ref(), Some(&row));
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

#[test]
fn code_can_tell_a_missing_session_from_an_ambiguous_id_from_a_newer_file() {
    let root = tempfile::tempdir().unwrap();
    for id in ["20250101-000000-aaaa", "20250101-000000-aaab"] {
        std::fs::create_dir(root.path().join(id)).unwrap();
        std::fs::write(root.path().join(id).join(writer::EVENTS_FILE), "").unwrap();
    }
    let e = store::resolve(root.path(), "20250101").unwrap_err();
    assert!(
        matches!(&e, SessionError::Ambiguous { wanted, candidates } if wanted == "20250101" && candidates.len() == 2),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "`20250101` matches 2 sessions (20250101-000000-aaab, 20250101-000000-aaaa): give more of the id"
    );
    let e = store::resolve(root.path(), "nope").unwrap_err();
    assert!(
        matches!(&e, SessionError::NotFound { wanted, .. } if wanted == "nope"),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "no session `nope` in {} (`prism sessions list` shows them; --sessions-dir or $PRISM_SESSIONS_DIR picks another directory)",
            root.path().display()
        )
    );
    let dir = root.path().join("20250101-000000-aaaa");
    std::fs::write(
        dir.join(writer::EVENTS_FILE),
        "{\"type\":\"header\",\"version\":9,\"id\":\"x\",\"created\":\"c\",\"prism\":\"0\"}\n",
    )
    .unwrap();
    let e = load(&dir).unwrap_err();
    assert!(
        matches!(
            e,
            SessionError::FutureVersion {
                found: 9,
                supported: VERSION,
                line: 1,
                col: 1,
                ..
            }
        ),
        "{e:?}"
    );
    let e = store::delete(root.path()).unwrap_err();
    assert!(matches!(e, SessionError::NotASession { .. }), "{e:?}");
}

#[test]
fn every_csv_column_of_a_fully_recorded_answer_is_filled_from_its_row() {
    // Written, read back and exported: a row field that stops reaching its column (renamed,
    // skipped, read from the wrong place) leaves a cell blank and fails here.
    let root = tempfile::tempdir().unwrap();
    let prices = PriceTable::builtin().unwrap();
    let w = SessionWriter::create(root.path(), &[target("a")], prices.clone()).unwrap();
    let base = Instant::now();
    let at = |ms: u64| base + Duration::from_micros(ms * 1000 + 7);
    let request = ChatRequest::single(None, "hello");
    w.send(
        1,
        1,
        None,
        "hello",
        base,
        &[Outgoing {
            target: 0,
            history: vec![],
            request,
        }],
    );
    let events = [
        (1, StreamEvent::Dispatched),
        (
            2,
            StreamEvent::Retrying {
                attempt: 1,
                of: 2,
                wait: Duration::from_millis(1),
                reason: "HTTP 429 rate_limited".into(),
            },
        ),
        (
            20,
            StreamEvent::Started(Box::new(ResponseStart {
                http_status: 200,
                request_id: Some("req_full".into()),
                rate_limits: vec![],
                sent_at: at(5),
                connect: Some(Duration::from_millis(4)),
            })),
        ),
        (100, StreamEvent::TextDelta("Hi".into())),
        (113, StreamEvent::TextDelta(" there".into())),
        (131, StreamEvent::TextDelta(" again".into())),
        (
            400,
            StreamEvent::Usage(Box::new(Usage {
                input: Some(1200),
                output: Some(3),
                cached_input: Some(1024),
                cache_write: Some(0),
                cache_write_1h: None,
                reasoning: Some(0),
            })),
        ),
        (
            401,
            StreamEvent::Finish(Finish {
                reason: FinishReason::Stop,
                raw: Some("stop".into()),
            }),
        ),
        (402, StreamEvent::Done),
    ];
    for (ms, e) in &events {
        w.event(1, 0, at(*ms), e);
    }
    w.close();

    let s = load(w.dir()).unwrap();
    let mut bytes = Vec::new();
    export::write_csv(&s, &prices, &super::local_time::TimeZone::UTC, &mut bytes).unwrap();
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    assert_eq!(r.headers().unwrap(), export::CSV_COLUMNS.as_slice());
    let lines: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(lines.len(), 1);
    // A plain send without a schema or tool calls has no experiment run, no schema
    // verdict and no calls; a refusal has a cell only when the model refused.
    let blank = [
        "refusal",
        "variant",
        "case",
        "run",
        "warmup",
        "schema_valid",
        "schema_errors",
        "tool_calls",
        "tool_arguments",
    ];
    // The time, settings and usage columns from `timestamp` on are checked elsewhere.
    let settings = export::CSV_COLUMNS
        .iter()
        .position(|c| *c == "timestamp")
        .unwrap();
    for (column, cell) in export::CSV_COLUMNS[..settings].iter().zip(&lines[0]) {
        if blank.contains(column) {
            assert!(cell.is_empty(), "column {column} is set: {:?}", lines[0]);
        } else {
            assert!(!cell.is_empty(), "column {column} is blank: {:?}", lines[0]);
        }
    }
    let row = s.turns[0].answers[&0].row.clone().unwrap();
    let cell = |name: &str| {
        let i = export::CSV_COLUMNS.iter().position(|c| *c == name).unwrap();
        lines[0][i].to_string()
    };
    assert_eq!(cell("cached_input_tokens"), "1024");
    assert_eq!(cell("retries"), "1");
    assert_eq!(cell("request_id"), "req_full");
    assert_eq!(cell("ttft_ms"), row.ttft_ms.unwrap().to_string());
    assert_eq!(cell("itl_p95_ms"), row.itl_ms.p95.unwrap().to_string());
    assert_eq!(cell("cost_usd"), row.cost_usd.unwrap().to_string());
    assert_eq!(cell("usage_source"), "provider");
    assert_eq!(cell("answer"), "Hi there again");
}

#[test]
fn the_example_session_reads_back_and_writes_out_byte_for_byte() {
    // Sessions recorded by earlier builds (this one among them) load as typed records and
    // serialize to exactly the line they were read from: nothing is lost, added or moved.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions/example-mock/events.jsonl");
    let text = std::fs::read_to_string(path).unwrap();
    let mut results = 0;
    for (i, line) in text.lines().enumerate() {
        let record: schema::Record = serde_json::from_str(line).unwrap();
        results += usize::from(matches!(record, schema::Record::Result { .. }));
        assert_eq!(serde_json::to_string(&record).unwrap(), line, "line {}", i + 1);
    }
    assert!(results > 0, "the example has result rows");
    assert!(
        load(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("sessions/example-mock")
                .as_path()
        )
        .is_ok()
    );
}

#[test]
fn every_setting_a_target_sends_is_recorded_and_comes_back_without_its_secrets() {
    use crate::target::{Api, Header, HeaderSource, Thinking};
    let dir = tempfile::tempdir().unwrap();
    let mut t = target("r");
    t.params.api = Api::Responses;
    t.params.reasoning_effort = Some("low".into());
    t.params.reasoning_summary = Some("auto".into());
    t.params.thinking = Some(Thinking::Level("high".into()));
    t.params.system = Some("Answer in French.".into());
    t.params.headers = vec![
        Header {
            name: "OpenAI-Organization".into(),
            value: HeaderSource::Literal("org-123".into()),
        },
        Header {
            name: "X-Gateway-Token".into(),
            value: HeaderSource::Env("GATEWAY_TOKEN".into()),
        },
    ];
    let w = SessionWriter::create(dir.path(), std::slice::from_ref(&t), PriceTable::default()).unwrap();
    w.close();
    let log = std::fs::read_to_string(w.dir().join("events.jsonl")).unwrap();
    assert!(log.contains(r#""api":"responses""#), "{log}");
    assert!(
        log.contains(r#"{"name":"X-Gateway-Token","env":"GATEWAY_TOKEN"}"#),
        "{log}"
    );
    let back = load(w.dir()).unwrap().targets[0].to_target().unwrap();
    assert_eq!(back.params.api, Api::Responses);
    assert_eq!(back.params.reasoning_effort, t.params.reasoning_effort);
    assert_eq!(back.params.reasoning_summary, t.params.reasoning_summary);
    assert_eq!(back.params.thinking, t.params.thinking);
    assert_eq!(back.params.system, t.params.system);
    assert_eq!(back.params.headers, t.params.headers);

    let mut bedrock = target("b");
    bedrock.provider = crate::target::ProviderKind::Bedrock;
    bedrock.params.aws = Some(crate::target::Aws {
        region: "eu-west-1".into(),
        profile: Some("work".into()),
    });
    let settings = schema::TargetSettings::of(&bedrock);
    assert_eq!(settings.to_target().unwrap().params.aws, bedrock.params.aws);

    // Azure: the deployment and api-version live in `model` and `base_url`; the Entra ID
    // token's source is recorded by name (the token itself never is), with `price_as`.
    for entra in [
        crate::target::EntraToken::Env,
        crate::target::EntraToken::AzureCli,
    ] {
        let mut azure = target("az");
        azure.provider = ProviderKind::Azure;
        azure.model = "chat-prod".into();
        azure.base_url =
            "https://res.openai.azure.com/openai/deployments/chat-prod?api-version=2024-10-21".into();
        azure.key = KeySource::Env(vec!["AZURE_OPENAI_AD_TOKEN".into()]);
        azure.params.entra = Some(entra);
        azure.params.price_as = Some("azure/gpt-4o-2024-08-06".into());
        let settings = schema::TargetSettings::of(&azure);
        let json = serde_json::to_value(&settings).unwrap();
        assert_eq!(json["azure_auth"], entra.as_str(), "{json}");
        let back = settings.to_target().unwrap();
        assert_eq!(back.params.entra, Some(entra));
        assert_eq!(back.params.price_as, azure.params.price_as);
        assert_eq!(
            (&back.model, &back.base_url, &back.key),
            (&azure.model, &azure.base_url, &azure.key)
        );
    }
    // A value this build does not know is not quietly read as the key.
    let mut unknown = serde_json::to_value(schema::TargetSettings::of(&target("u"))).unwrap();
    unknown["azure_auth"] = "managed-identity".into();
    let unknown: schema::TargetSettings = serde_json::from_value(unknown).unwrap();
    assert!(unknown.to_target().is_none());

    // A plain target's settings are written exactly as before these fields existed.
    let plain = schema::TargetSettings::of(&target("p"));
    let json = serde_json::to_value(&plain).unwrap();
    for absent in [
        "api",
        "reasoning_effort",
        "reasoning_summary",
        "thinking",
        "system",
        "headers",
        "price_as",
        "azure_auth",
    ] {
        assert!(json.get(absent).is_none(), "{absent} in {json}");
    }
}

/// Prices at which target 0's two-word answer costs $0.1 and target 1's four-word
/// answer $0.2: as floats, 0.1 + 0.2 is 0.30000000000000004.
fn nickel_per_output_token() -> PriceTable {
    let mut prices = PriceTable::default();
    prices.insert(
        "gpt-4o-mini-2024-07-18",
        crate::pricing::ModelPrice {
            input: 0,
            output: 50_000_000_000,
            ..Default::default()
        },
    );
    prices
}

fn meta_text(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join(writer::META_FILE)).unwrap()
}

#[test]
fn the_session_cost_is_summed_exactly_and_written_as_its_decimal() {
    let root = tempfile::tempdir().unwrap();
    let targets = [target("a"), target("b")];
    let prices = nickel_per_output_token();
    let w = SessionWriter::create(root.path(), &targets, prices.clone()).unwrap();
    let base = Instant::now();
    let req = ChatRequest::single(None, "hello");
    let out = |t| Outgoing {
        target: t,
        history: vec![],
        request: req.clone(),
    };
    w.send(1, 1, None, "hello", base, &[out(0), out(1)]);
    stream(&w, 1, 0, base, &["Hi", " a"], true);
    stream(&w, 1, 1, base, &["Hey", " b", " and", " more"], true);
    w.close();
    let s = load(w.dir()).unwrap();
    let rows: Vec<f64> = s.turns[0]
        .answers
        .values()
        .map(|r| r.row.as_ref().unwrap().cost_usd.unwrap())
        .collect();
    assert_eq!(rows, [0.1, 0.2]);
    assert_ne!(rows[0] + rows[1], 0.3, "the float sum is off");
    let text = meta_text(w.dir());
    assert!(text.contains("\"cost_usd\": 0.3,"), "{text}");
    assert_eq!(s.meta.cost_usd, 0.3);

    // A session an older build summed as floats goes on exactly from the amount it meant.
    let mut meta = s.meta.clone();
    meta.cost_usd = 0.016293250000000002;
    writer::write_meta(w.dir(), &meta).unwrap();
    let old = load(w.dir()).unwrap();
    assert_eq!(old.meta.cost_usd, 0.016293250000000002, "still loads");
    let w = SessionWriter::append(w.dir(), old.meta, targets.to_vec(), prices).unwrap();
    let base = Instant::now();
    w.send(2, 2, None, "again", base, &[out(0)]);
    stream(&w, 2, 0, base, &["Hi", " a"], true);
    w.close();
    let text = meta_text(w.dir());
    assert!(text.contains("\"cost_usd\": 0.11629325,"), "{text}");
}

/// Target `target`'s first round in `run`: one tool call, two output tokens, ended at
/// 402 ms.
fn called_a_tool(w: &SessionWriter, run: u64, target: usize, at: impl Fn(u64) -> Instant) {
    w.event(run, target, at(1), &StreamEvent::Dispatched);
    w.event(
        run,
        target,
        at(20),
        &StreamEvent::Started(Box::new(ResponseStart {
            http_status: 200,
            request_id: Some("req_1".into()),
            rate_limits: vec![],
            sent_at: at(5),
            connect: None,
        })),
    );
    let call = crate::provider::event::ToolCallDelta {
        index: 0,
        id: Some("call_1".into()),
        name: Some("get_weather".into()),
        arguments: "{\"city\":\"Paris\"}".into(),
    };
    w.event(run, target, at(100), &StreamEvent::ToolCallDelta(Box::new(call)));
    let usage = Usage {
        input: Some(12),
        output: Some(2),
        ..Usage::default()
    };
    w.event(run, target, at(400), &StreamEvent::Usage(Box::new(usage)));
    let finish = Finish {
        reason: FinishReason::ToolCalls,
        raw: Some("tool_calls".into()),
    };
    w.event(run, target, at(401), &StreamEvent::Finish(finish));
    w.event(run, target, at(402), &StreamEvent::Done);
}

/// Its follow-up, sent at 5 s (after a pause for typing): four output tokens, ended at
/// 5.4 s unless `cut` (the process stopped mid-answer).
fn answered_after_a_pause(
    w: &SessionWriter,
    run: u64,
    target: usize,
    at: impl Fn(u64) -> Instant,
    cut: bool,
) {
    let round = crate::provider::event::ToolRound {
        round: 2,
        results: vec![crate::provider::event::SentResult {
            call_id: "call_1".into(),
            name: "get_weather".into(),
            content: serde_json::json!({"temp_c": 21}),
            canned: false,
        }],
    };
    w.event(run, target, at(5000), &StreamEvent::ToolRound(round));
    w.event(run, target, at(5001), &StreamEvent::Dispatched);
    w.event(run, target, at(5100), &StreamEvent::TextDelta("It is 21".into()));
    if cut {
        return;
    }
    w.event(run, target, at(5200), &StreamEvent::TextDelta(" degrees.".into()));
    let usage = Usage {
        input: Some(30),
        output: Some(4),
        ..Usage::default()
    };
    w.event(run, target, at(5300), &StreamEvent::Usage(Box::new(usage)));
    w.event(run, target, at(5400), &StreamEvent::Done);
}

#[test]
fn a_follow_up_resumed_after_its_round_ended_reads_as_one_turn_with_two_rounds_costed_once() {
    let root = tempfile::tempdir().unwrap();
    let targets = [target("a")];
    let w = SessionWriter::create(root.path(), &targets, nickel_per_output_token()).unwrap();
    let base = Instant::now();
    let at = |ms: u64| base + Duration::from_millis(ms);
    let req = ChatRequest::single(None, "Weather in Paris?");
    let out = Outgoing {
        target: 0,
        history: vec![],
        request: req,
    };
    w.send(1, 1, None, "Weather in Paris?", base, &[out]);
    called_a_tool(&w, 1, 0, at);
    w.resume(1, &[0]);
    answered_after_a_pause(&w, 1, 0, at, false);
    w.close();
    let s = load(w.dir()).unwrap();
    assert_eq!(s.turns.len(), 1);
    let answer = &s.turns[0].answers[&0];
    assert!(answer.completed() && !answer.interrupted);
    assert_eq!(answer.text(), "It is 21 degrees.");
    let row = answer.row.as_ref().unwrap();
    assert_eq!(row.rounds, Some(2));
    assert_eq!(row.usage.output_tokens, Some(6));
    assert!(!row.tool_results.as_ref().unwrap()[0].canned);
    // Sent at 5 ms, ended at 5.4 s, the 4.6 s from the first end to the follow-up's
    // dispatch left out.
    assert_eq!(row.total_ms, Some(797.0));
    // Six tokens over 100 ms of content: the wait between the rounds is no one's rate.
    assert_eq!(row.tokens_per_s.map(f64::round), Some(60.0));
    // Six output tokens at a nickel, counted once: the first round's row is replaced.
    assert_eq!(row.cost_usd, Some(0.3));
    assert_eq!(s.meta.cost_usd, 0.3, "{}", meta_text(w.dir()));
    assert!(!s.interrupted());
}

#[test]
fn a_follow_up_cut_short_keeps_both_rounds_so_far_and_reads_as_interrupted() {
    let root = tempfile::tempdir().unwrap();
    let w = SessionWriter::create(root.path(), &[target("a")], PriceTable::default()).unwrap();
    let base = Instant::now();
    let at = |ms: u64| base + Duration::from_millis(ms);
    let out = Outgoing {
        target: 0,
        history: vec![],
        request: ChatRequest::single(None, "Weather in Paris?"),
    };
    w.send(1, 1, None, "Weather in Paris?", base, &[out]);
    called_a_tool(&w, 1, 0, at);
    w.resume(1, &[0]);
    answered_after_a_pause(&w, 1, 0, at, true);
    w.close();
    let s = load(w.dir()).unwrap();
    let answer = &s.turns[0].answers[&0];
    assert!(answer.interrupted && !answer.completed());
    assert!(
        answer.row.is_none(),
        "the first round's row no longer says it all"
    );
    assert_eq!(answer.text(), "It is 21");
    let run = answer.fold(Instant::now());
    assert_eq!(run.tool_calls.len(), 1);
    assert_eq!(run.tool_rounds.count(), 2);
    let row = export::result_row(&s, &s.turns[0], 0, &PriceTable::default()).unwrap();
    assert_eq!(row.rounds, Some(2));
    assert!(row.error.is_some(), "marked interrupted");
}
