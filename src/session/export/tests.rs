//! Exports: Markdown, JSON and CSV from recorded sessions.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use super::csv_out::{CsvRow, decimal};
use super::*;
use crate::provider::event::ErrorKind;
use crate::session::reader::{Recorded, Session, Turn};
use crate::session::schema::{EventBody, KeyRef, Meta};

fn settings(name: &str, provider: &str) -> TargetSettings {
    TargetSettings {
        name: name.into(),
        provider: provider.into(),
        model: "gpt-4o-mini-2024-07-18".into(),
        base_url: "http://127.0.0.1:9/v1".into(),
        key: KeyRef::Env(vec!["OPENAI_API_KEY".into()]),
        temperature: None,
        top_p: Some(0.5),
        max_tokens: None,
        stop: vec!["END".into()],
        seed: Some(7),
        stream: true,
        extra: Map::new(),
        api: None,
        reasoning_effort: None,
        reasoning_summary: None,
        thinking: None,
        system: None,
        headers: Vec::new(),
        region: None,
        profile: None,
        price_as: None,
        azure_auth: None,
        cache: None,
        schema: None,
        schema_mode: None,
        tools: None,
    }
}

fn cut_off(text: &str) -> Recorded {
    Recorded {
        run: 1,
        history: vec![],
        events: vec![
            (1_000, EventBody::Dispatched),
            (
                30_000_000,
                EventBody::Started {
                    http_status: 200,
                    request_id: Some("req_x".into()),
                    rate_limits: vec![],
                    sent_ns: 2_000_000,
                    connect_ns: None,
                },
            ),
            (
                102_000_000,
                EventBody::Text {
                    text: text.into(),
                    pieces: None,
                    first: None,
                },
            ),
            (
                152_000_000,
                EventBody::Text {
                    text: " more".into(),
                    pieces: None,
                    first: None,
                },
            ),
        ],
        row: None,
        interrupted: true,
    }
}

/// One turn: `a` cut off inside a code block, `b` with a provider this build does not
/// know and no events at all.
fn session() -> Session {
    let mut answers = BTreeMap::new();
    answers.insert(0, cut_off("```rust\nfn main() {"));
    answers.insert(
        1,
        Recorded {
            run: 1,
            history: vec![],
            events: vec![],
            row: None,
            interrupted: true,
        },
    );
    Session {
        dir: PathBuf::from("/nowhere/20250304-050607-abcd"),
        meta: Meta {
            version: VERSION,
            id: "20250304-050607-abcd".into(),
            name: None,
            created: "2025-03-04T05:06:07.890Z".into(),
            updated: "2025-03-04T05:06:07.890Z".into(),
            first_prompt: "Say \"hi\", twice".into(),
            targets: vec!["a".into(), "b".into()],
            turns: 1,
            cost_usd: 0.0,
            cost_incomplete: false,
            tags: Vec::new(),
        },
        targets: vec![settings("a", "openai"), settings("b", "teleporter")],
        turns: vec![Turn {
            number: 1,
            system: None,
            prompt: "Say \"hi\", twice\nthen stop".into(),
            wall: "2025-03-04T05:06:07.890Z".into(),
            answers,
        }],
        last_run: 1,
        cut_short: false,
        votes: Vec::new(),
        experiment: None,
        cells: BTreeMap::new(),
    }
}

#[test]
fn an_interrupted_stream_gets_the_numbers_its_events_tell_and_the_interrupted_error() {
    let s = session();
    let prices = PriceTable::builtin().unwrap();
    let row = result_row(&s, &s.turns[0], 0, &prices).unwrap();
    assert_eq!(row.error.unwrap().kind, ErrorKind::Interrupted);
    assert_eq!(row.ttft_ms, Some(100.0));
    assert_eq!(row.ttfb_ms, Some(28.0));
    assert_eq!(row.total_ms, None);
    assert_eq!(row.request_id.as_deref(), Some("req_x"));
    assert_eq!(row.text, "```rust\nfn main() { more");
    // A provider this build does not know cannot be recomputed.
    assert_eq!(result_row(&s, &s.turns[0], 1, &prices), None);
    assert_eq!(result_row(&s, &s.turns[0], 5, &prices), None);
}

#[test]
fn csv_quotes_what_needs_it_and_leaves_unknown_cells_empty() {
    let s = session();
    let mut bytes = Vec::new();
    write_csv(&s, &PriceTable::builtin().unwrap(), &TimeZone::UTC, &mut bytes).unwrap();
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    assert_eq!(r.headers().unwrap().len(), CSV_COLUMNS.len());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let col = |row: &csv::StringRecord, name: &str| {
        row[CSV_COLUMNS.iter().position(|c| *c == name).unwrap()].to_string()
    };
    assert_eq!(col(&rows[0], "prompt"), "Say \"hi\", twice\nthen stop");
    assert_eq!(col(&rows[0], "ttft_ms"), "100");
    assert_eq!(col(&rows[0], "total_ms"), "");
    assert_eq!(col(&rows[0], "interrupted"), "true");
    // The unknown provider's row still says which target it is.
    assert_eq!(col(&rows[1], "target"), "b");
    assert_eq!(col(&rows[1], "provider"), "teleporter");
    assert_eq!(col(&rows[1], "status"), "");
    assert_eq!(col(&rows[1], "answer"), "");
}

#[test]
fn small_costs_are_written_without_an_exponent() {
    #[derive(Serialize)]
    struct Cells {
        #[serde(serialize_with = "decimal")]
        cost_usd: Option<f64>,
        retries: Option<u32>,
        #[serde(serialize_with = "decimal")]
        tokens_per_s: Option<f64>,
        #[serde(serialize_with = "decimal")]
        total_ms: Option<f64>,
        #[serde(serialize_with = "decimal")]
        missing: Option<f64>,
    }
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.serialize(Cells {
        cost_usd: Some(6.525e-6),
        retries: Some(0),
        tokens_per_s: Some(12.5),
        total_ms: Some(20.0),
        missing: None,
    })
    .unwrap();
    let line = String::from_utf8(w.into_inner().unwrap()).unwrap();
    assert_eq!(line, "0.000006525,0,12.5,20,\n");
}

#[test]
fn the_csv_row_fields_are_the_csv_columns_in_order() {
    // The header is written from CSV_COLUMNS; the cells come from CsvRow's fields.
    let s = session();
    let mut w = csv::Writer::from_writer(Vec::new());
    let turn = &s.turns[0];
    let cell = CellLabel {
        variant: Some("terse".into()),
        case: Some("c1".into()),
        run: 2,
        warmup: false,
    };
    w.serialize(CsvRow::of(
        &s,
        turn,
        0,
        &turn.answers[&0],
        None,
        Some(&cell),
        &TimeZone::UTC,
    ))
    .unwrap();
    let bytes = w.into_inner().unwrap();
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    assert_eq!(r.headers().unwrap(), CSV_COLUMNS.as_slice());
}

#[test]
fn markdown_closes_a_code_block_an_answer_was_cut_off_in() {
    let mut md = Vec::new();
    write_markdown(&session(), &PriceTable::builtin().unwrap(), &mut md).unwrap();
    let md = String::from_utf8(md).unwrap();
    assert_eq!(md.matches("```").count() % 2, 0, "{md}");
    assert!(md.starts_with("# Say \"hi\", twice\n"), "{md}");
    assert!(
        md.contains("top_p 0.5, stop [\"END\"], seed 7, streaming"),
        "{md}"
    );
    assert!(md.contains("| a | interrupted | 100.0 | 28.0 | – |"), "{md}");
    assert!(
        md.contains("| b | interrupted | – | – | – | – | – | – | – | – | – |"),
        "{md}"
    );
    assert!(md.contains("> Say \"hi\", twice\n> then stop\n"), "{md}");
}

#[test]
fn markdown_times_are_local_with_their_offset() {
    let mut s = session();
    s.turns[0].wall = "2025-03-04T23:30:00.000Z".into();
    let paris = TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
    let mut md = Vec::new();
    write_markdown_in(&s, &PriceTable::builtin().unwrap(), &paris, &mut md).unwrap();
    let md = String::from_utf8(md).unwrap();
    assert!(md.contains("- Session: `"), "{md}");
    assert!(md.contains("- Created: 2025-03-04 06:06 +01:00\n"), "{md}");
    assert!(md.contains("\n## Turn 1 · 2025-03-05 00:30 +01:00\n"), "{md}");
}

#[test]
fn json_events_carry_their_time_first_then_the_event() {
    let mut bytes = Vec::new();
    write_json(&session(), &mut bytes).unwrap();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    let e = &v["turns"][0]["answers"][0]["events"][2];
    let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["t_ns", "event", "text"]);
    assert_eq!(e["t_ns"], 102_000_000);
    assert_eq!(v["turns"][0]["answers"][0]["row"], Value::Null);
    assert_eq!(v["targets"][0]["key"], json!({"env": ["OPENAI_API_KEY"]}));
}

#[test]
fn times_and_totals_read_the_way_people_write_them() {
    assert_eq!(meta_cost(0.0, false), "-");
    assert_eq!(meta_cost(0.0, true), "-");
    assert_eq!(meta_cost(0.0012, false), "$0.001200");
    assert_eq!(meta_cost(0.0012, true), "≥ $0.001200");
}

/// `session()` with `a`'s answer finished: two tool calls (one with arguments that are
/// not JSON), an invalid schema verdict and prompt-cache counts.
fn tools_schema_cache() -> Session {
    let mut s = session();
    let row: ResultRow = serde_json::from_value(json!({
        "target": "a", "provider": "openai", "model": "gpt-4o-mini-2024-07-18",
        "status": "ok", "text": "", "finish_reason": "tool_calls",
        "usage": {"input_tokens": 2000, "output_tokens": 20, "cached_input_tokens": 1536,
                  "cache_write_tokens": 0, "source": "provider"},
        "itl_ms": {}, "retries": 0,
        "tool_calls": [
            {"id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\",\"note\":\"```\"}"},
            {"id": "call_2", "name": "get_time", "arguments": "{\"tz\":"}
        ],
        "schema_valid": false,
        "schema_errors": [{"path": "/price", "reason": "\"2\" is not of type \"number\""}],
        "cache": {"read_tokens": 1536, "write_tokens": 0, "saved_usd": 0.00011520}
    }))
    .unwrap();
    let a = s.turns[0].answers.get_mut(&0).unwrap();
    a.row = Some(row);
    a.interrupted = false;
    s
}

#[test]
fn markdown_shows_tool_calls_schema_verdict_and_cache_per_answer() {
    let mut md = Vec::new();
    write_markdown(&tools_schema_cache(), &PriceTable::builtin().unwrap(), &mut md).unwrap();
    let md = String::from_utf8(md).unwrap();
    assert!(
        md.contains("*Tool call* `get_weather`:\n\n````json\n{\n  \"city\": \"Paris\",\n  \"note\": \"```\"\n}\n````\n"),
        "pretty, in a fence the arguments cannot close:\n{md}"
    );
    assert!(
        md.contains("*Tool call* `get_time`:\n\n```\n{\"tz\":\n```\n\n*The arguments are not valid JSON: shown as sent.*"),
        "{md}"
    );
    assert!(
        md.contains("*Schema: invalid.*\n- `/price`: \"2\" is not of type \"number\""),
        "{md}"
    );
    assert!(
        md.contains("*Cache:* read 1536 tokens, wrote 0; saved $0.000115 against no caching."),
        "{md}"
    );
    assert!(
        md.contains("| finish | schema | cache read | cache write | cache saved $ |"),
        "{md}"
    );
    assert!(
        md.contains("| tool_calls | invalid | 1536 | 0 | 0.000115 |"),
        "{md}"
    );
    assert!(md.contains("| – | – | – | – | – |\n"), "b has none of them: {md}");
}

#[test]
fn csv_has_the_tool_calls_and_the_cache_write_and_saving() {
    let mut bytes = Vec::new();
    write_csv(
        &tools_schema_cache(),
        &PriceTable::builtin().unwrap(),
        &TimeZone::UTC,
        &mut bytes,
    )
    .unwrap();
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let col = |row: &csv::StringRecord, name: &str| {
        row[CSV_COLUMNS.iter().position(|c| *c == name).unwrap()].to_string()
    };
    assert_eq!(col(&rows[0], "tool_calls"), "get_weather; get_time");
    assert_eq!(
        col(&rows[0], "tool_arguments"),
        r#"[{"city":"Paris","note":"```"},"{\"tz\":"]"#
    );
    assert_eq!(col(&rows[0], "cache_write_tokens"), "0");
    assert_eq!(col(&rows[0], "cache_saved_usd"), "0.0001152");
    assert_eq!(col(&rows[0], "schema_valid"), "false");
    assert_eq!(col(&rows[1], "tool_calls"), "", "no calls, no cell");
}

#[test]
fn markdown_keeps_answer_headings_under_their_target() {
    let mut s = session();
    s.turns[0].answers.insert(
        0,
        cut_off("# Plan\n\n## Step one\n\n```sh\n# not a heading\n```\n"),
    );
    let mut md = Vec::new();
    write_markdown(&s, &PriceTable::builtin().unwrap(), &mut md).unwrap();
    let md = String::from_utf8(md).unwrap();
    let target = md.find("\n### a (openai").unwrap();
    let plan = md.find("\n#### Plan\n").unwrap();
    assert!(target < plan, "{md}");
    assert!(md.contains("\n##### Step one\n"), "{md}");
    assert!(md.contains("\n# not a heading\n"), "code stays as is: {md}");
    // The only level-1 and level-2 headings are the export's own (and the code line).
    let top: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("# ") || l.starts_with("## "))
        .collect();
    assert_eq!(top.len(), 4, "title, targets, turn 1, the code line: {top:?}");
}

#[test]
fn csv_carries_the_time_system_prompt_parameters_and_token_detail() {
    let mut s = session();
    s.turns[0].system = Some("Be terse.".into());
    s.turns[0].wall = "2025-03-04T05:06:08.000Z".into();
    let mut bytes = Vec::new();
    write_csv(&s, &PriceTable::builtin().unwrap(), &TimeZone::UTC, &mut bytes).unwrap();
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let col = |name: &str| rows[0][CSV_COLUMNS.iter().position(|c| *c == name).unwrap()].to_string();
    assert_eq!(col("timestamp"), "2025-03-04T05:06:08.000+00:00");
    // In a zone away from UTC: the local time with its offset, the same instant.
    let paris = TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
    let mut bytes = Vec::new();
    write_csv(&s, &PriceTable::builtin().unwrap(), &paris, &mut bytes).unwrap();
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    let row = r.records().next().unwrap().unwrap();
    let at = CSV_COLUMNS.iter().position(|c| *c == "timestamp").unwrap();
    assert_eq!(&row[at], "2025-03-04T06:06:08.000+01:00");
    assert_eq!(col("system"), "Be terse.");
    assert_eq!(col("top_p"), "0.5");
    assert_eq!(col("temperature"), "");
    assert_eq!(col("seed"), "7");
    assert_eq!(col("parameters"), "top_p 0.5, stop [\"END\"], seed 7, streaming");
    assert_eq!(col("reasoning_tokens"), "", "no row: unknown");
}

#[test]
fn several_sessions_share_one_csv_header() {
    let (a, mut b) = (session(), session());
    b.meta.id = "20250305-000000-beef".into();
    let mut bytes = Vec::new();
    write_csv_of(
        [Ok(&a), Ok(&b)],
        &PriceTable::builtin().unwrap(),
        &TimeZone::UTC,
        &mut bytes,
    )
    .unwrap();
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    let ids: Vec<String> = r.records().map(|r| r.unwrap()[0].to_string()).collect();
    assert_eq!(
        ids,
        [
            "20250304-050607-abcd",
            "20250304-050607-abcd",
            "20250305-000000-beef",
            "20250305-000000-beef"
        ]
    );
}
