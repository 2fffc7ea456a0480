//! Saved sessions as people and scripts use them: the real binary listing, showing,
//! renaming, deleting and exporting sessions written by the real writer, and every
//! export parsed back and checked against what was recorded.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use prism::pricing::PriceTable;
use prism::provider::event::{Finish, FinishReason, ResponseStart, StreamEvent, Usage};
use prism::provider::request::{ChatRequest, Message};
use prism::session::export::CSV_COLUMNS;
use prism::session::{Outgoing, SessionWriter, load};
use prism::target::{KeySource, Params, ProviderKind, Target};
use serde_json::Value;

const PRISM: &str = env!("CARGO_BIN_EXE_prism");

/// An answer that needs CSV quoting and is Markdown as well.
const TRICKY: &str = "Sure, here is \"the\" list:\n\n- one, two\n- \"three\"\n\nDone.";
const OPENAI_KEY: &str = "sk-test-SECRET123-openai-not-a-real-key";
const ANTHROPIC_KEY: &str = "sk-ant-test-SECRET456-not-a-real-key";

fn target(name: &str, provider: ProviderKind, model: &str, var: &str) -> Target {
    Target {
        name: name.into(),
        provider,
        model: model.into(),
        base_url: "http://127.0.0.1:9/v1".into(),
        key: KeySource::Env(vec![var.into()]),
        params: Params {
            temperature: Some(0.2),
            max_tokens: Some(256),
            stream: true,
            ..Params::default()
        },
    }
}

/// Stream `words` for one target; `usage` adds the provider's counts, `end` the
/// finish and end marker (without it the stream looks cut off by a crash).
fn stream(w: &SessionWriter, run: u64, t: usize, base: Instant, words: &[&str], usage: bool, end: bool) {
    let at = |us: u64| base + Duration::from_micros(us);
    w.event(run, t, at(900), &StreamEvent::Dispatched);
    w.event(
        run,
        t,
        at(41_000 + 1000 * t as u64),
        &StreamEvent::Started(Box::new(ResponseStart {
            http_status: 200,
            request_id: Some(format!("req_{run}_{t}")),
            rate_limits: vec![],
            sent_at: at(1_500),
            connect: Some(Duration::from_millis(3)),
        })),
    );
    for (i, word) in words.iter().enumerate() {
        w.event(
            run,
            t,
            at(120_000 + 17_321 * i as u64 + 250 * t as u64),
            &StreamEvent::TextDelta((*word).into()),
        );
    }
    if !end {
        return;
    }
    if usage {
        w.event(
            run,
            t,
            at(400_000),
            &StreamEvent::Usage(Box::new(Usage {
                input: Some(21),
                output: Some(words.len() as u64 + 4),
                cached_input: Some(3),
                ..Usage::default()
            })),
        );
    }
    w.event(
        run,
        t,
        at(401_000),
        &StreamEvent::Finish(Finish {
            reason: FinishReason::Stop,
            raw: Some("stop".into()),
        }),
    );
    w.event(run, t, at(402_500), &StreamEvent::Done);
}

/// Two targets, two turns: a's first answer needs quoting, b reports no usage in turn
/// 1 and is cut off in turn 2. Returns the session directory.
fn write_session(root: &Path) -> PathBuf {
    let targets = [
        target(
            "gpt",
            ProviderKind::OpenAi,
            "gpt-4o-mini-2024-07-18",
            "OPENAI_API_KEY",
        ),
        target(
            "claude",
            ProviderKind::Anthropic,
            "claude-haiku-4-5-20251001",
            "ANTHROPIC_API_KEY",
        ),
    ];
    let w = SessionWriter::create(root, &targets, PriceTable::builtin().unwrap()).unwrap();
    let first = "Name three things, please";
    let req1 = ChatRequest::single(Some("be brief".into()), first);
    let out = |t, history: Vec<u32>, request: &ChatRequest| Outgoing {
        target: t,
        history,
        request: request.clone(),
    };
    let base = Instant::now();
    w.send(
        1,
        1,
        Some("be brief".into()),
        first,
        base,
        &[out(0, vec![], &req1), out(1, vec![], &req1)],
    );
    let tricky: Vec<&str> = TRICKY.split_inclusive(' ').collect();
    stream(&w, 1, 0, base, &tricky, true, true);
    stream(&w, 1, 1, base, &["One", " two", " three."], false, true);

    let second = "And again,\nin \"two\" lines";
    let req2 = |answer: &str| ChatRequest {
        system: Some("be brief".into()),
        messages: vec![
            Message::user(first),
            Message::assistant(answer),
            Message::user(second),
        ],
        schema: None,
    };
    let base2 = Instant::now();
    w.send(
        2,
        2,
        Some("be brief".into()),
        second,
        base2,
        &[
            out(0, vec![1], &req2(TRICKY)),
            out(1, vec![1], &req2("One two three.")),
        ],
    );
    stream(&w, 2, 0, base2, &["Again", ": fine."], true, true);
    stream(&w, 2, 1, base2, &["Half", " an"], false, false);
    w.close();
    w.dir().to_path_buf()
}

/// The time zone the binary runs in: India's, +05:30 all year, so that local times
/// differ from UTC in hours and minutes (a POSIX rule: no tz database needed).
const TZ: &str = "IST-5:30";

fn prism(root: &Path, args: &[&str]) -> Output {
    Command::new(PRISM)
        .arg("--sessions-dir")
        .arg(root)
        .args(args)
        .env_remove("PRISM_SESSIONS_DIR")
        .env("TZ", TZ)
        .stdin(Stdio::null())
        .output()
        .expect("run prism")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn id_of(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

/// The recorded row of (turn index, target) as a JSON value.
fn recorded_row(dir: &Path, turn: usize, target: usize) -> Option<Value> {
    let row = load(dir).unwrap().turns[turn].answers[&target].row.clone();
    row.map(|r| serde_json::to_value(r).unwrap())
}

fn num_cell(cell: &str) -> Option<f64> {
    (!cell.is_empty()).then(|| cell.parse().unwrap())
}

#[test]
fn csv_export_has_one_row_per_turn_and_target_with_the_recorded_numbers() {
    let root = tempfile::tempdir().unwrap();
    let dir = write_session(root.path());
    let o = prism(root.path(), &["export", &id_of(&dir), "--format", "csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut reader = csv::Reader::from_reader(o.stdout.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header, CSV_COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2 * 2, "turns × targets");
    let col = |r: &csv::StringRecord, name: &str| {
        r.get(CSV_COLUMNS.iter().position(|c| *c == name).unwrap())
            .unwrap()
            .to_string()
    };
    let session = load(&dir).unwrap();
    let mut seen = 0;
    for r in &rows {
        assert_eq!(col(r, "session"), id_of(&dir));
        let turn: usize = col(r, "turn").parse().unwrap();
        let target = session
            .targets
            .iter()
            .position(|t| t.name == col(r, "target"))
            .unwrap();
        let t = &session.turns[turn - 1];
        let rec = &t.answers[&target];
        assert_eq!(col(r, "prompt"), t.prompt);
        assert_eq!(col(r, "answer"), rec.text());
        assert_eq!(col(r, "model"), session.targets[target].model);
        assert_eq!(col(r, "interrupted"), rec.interrupted.to_string());
        if rec.interrupted {
            // Computed from the events that arrived: timing up to the cut, no end.
            assert_eq!((turn, target), (2, 1));
            assert_eq!(col(r, "status"), "error");
            assert_eq!(col(r, "finish_reason"), "");
            assert_eq!(col(r, "total_ms"), "");
            assert!(num_cell(&col(r, "ttft_ms")).unwrap() > 100.0);
            assert_eq!(col(r, "request_id"), "req_2_1");
            assert_eq!(col(r, "answer"), "Half an");
            seen += 1;
            continue;
        }
        let row = serde_json::to_value(rec.row.as_ref().unwrap()).unwrap();
        for (c, path) in [
            ("ttft_ms", "/ttft_ms"),
            ("ttfb_ms", "/ttfb_ms"),
            ("total_ms", "/total_ms"),
            ("itl_mean_ms", "/itl_ms/mean"),
            ("itl_p50_ms", "/itl_ms/p50"),
            ("itl_p95_ms", "/itl_ms/p95"),
            ("tokens_per_s", "/tokens_per_s"),
            ("input_tokens", "/usage/input_tokens"),
            ("output_tokens", "/usage/output_tokens"),
            ("cached_input_tokens", "/usage/cached_input_tokens"),
            ("cost_usd", "/cost_usd"),
            ("retries", "/retries"),
            ("http_status", "/http_status"),
        ] {
            assert_eq!(
                num_cell(&col(r, c)),
                row.pointer(path).and_then(Value::as_f64),
                "{c} of turn {turn} target {target}"
            );
        }
        for (c, path) in [
            ("status", "/status"),
            ("finish_reason", "/finish_reason"),
            ("usage_source", "/usage/source"),
            ("request_id", "/request_id"),
            ("provider", "/provider"),
        ] {
            assert_eq!(
                col(r, c),
                row.pointer(path).and_then(Value::as_str).unwrap_or(""),
                "{c}"
            );
        }
        seen += 1;
    }
    assert_eq!(seen, 4);
    // The answer with commas, quotes and newlines survived quoting exactly.
    assert!(rows.iter().any(|r| col(r, "answer") == TRICKY));
    // Turn 1's target b had no provider usage; turn 2's second prompt spans lines.
    assert!(rows.iter().any(|r| col(r, "usage_source") == "estimate"));
    assert!(
        rows.iter()
            .any(|r| col(r, "prompt") == "And again,\nin \"two\" lines")
    );
}

#[test]
fn json_export_holds_settings_turns_events_and_the_recorded_rows() {
    let root = tempfile::tempdir().unwrap();
    let dir = write_session(root.path());
    let o = prism(root.path(), &["export", &id_of(&dir), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["meta"]["id"], id_of(&dir));
    assert_eq!(v["meta"]["turns"], 2);
    let targets = v["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    assert_eq!(targets[0]["key"]["env"][0], "OPENAI_API_KEY");
    assert_eq!(targets[1]["provider"], "anthropic");
    assert_eq!(targets[0]["temperature"], 0.2);
    let turns = v["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 2);
    assert_eq!(turns[0]["system"], "be brief");
    assert_eq!(turns[1]["prompt"], "And again,\nin \"two\" lines");
    for (ti, turn) in turns.iter().enumerate() {
        let answers = turn["answers"].as_array().unwrap();
        assert_eq!(answers.len(), 2);
        for a in answers {
            let target = usize::try_from(a["target"].as_u64().unwrap()).unwrap();
            let text: String = a["events"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["event"] == "text")
                .map(|e| e["text"].as_str().unwrap())
                .collect();
            let recorded = recorded_row(&dir, ti, target);
            assert_eq!(a["row"], recorded.clone().unwrap_or(Value::Null));
            if let Some(row) = recorded {
                assert_eq!(row["text"].as_str().unwrap(), text);
                assert_eq!(a["row"]["ttft_ms"], row["ttft_ms"]);
                assert_eq!(a["row"]["usage"]["output_tokens"], row["usage"]["output_tokens"]);
            }
            assert_eq!(a["interrupted"], (ti, target) == (1, 1));
            assert!(a["events"][0]["t_ns"].as_u64().unwrap() > 0);
            if ti == 1 {
                assert_eq!(a["history"][0], 1);
            }
        }
    }
    let first = &turns[0]["answers"][0];
    assert_eq!(first["row"]["text"], TRICKY);
}

#[test]
fn markdown_export_has_the_conversation_answers_as_written_and_a_metrics_table() {
    let root = tempfile::tempdir().unwrap();
    let dir = write_session(root.path());
    let out = root.path().join("out.md");
    let o = prism(
        root.path(),
        &[
            "export",
            &id_of(&dir),
            "--format",
            "md",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let md = std::fs::read_to_string(&out).unwrap();
    assert!(md.starts_with("# Name three things, please\n"), "{md}");
    for want in [
        "## Targets",
        "| gpt | openai | `gpt-4o-mini-2024-07-18` | http://127.0.0.1:9/v1 | temperature 0.2, max_tokens 256, streaming |",
        "## Turn 1",
        "**System:**\n\n> be brief",
        "> And again,\n> in \"two\" lines",
        "### gpt (openai · gpt-4o-mini-2024-07-18)",
        "### claude (anthropic · claude-haiku-4-5-20251001)",
        TRICKY,
        "*Interrupted:",
        "| target | status | TTFT ms | TTFB ms | total ms | ITL p50/p95 ms | tok/s | in | out | cost $ | finish |",
        "| claude | interrupted |",
    ] {
        assert!(md.contains(want), "missing {want:?} in\n{md}");
    }
    // The system prompt did not change in turn 2: it is shown once.
    assert_eq!(md.matches("**System:**").count(), 1);
    // b's turn 1 counts are local estimates.
    assert!(md.contains("| ~"), "{md}");
    assert!(md.contains(" – |"), "unknown numbers are dashes:\n{md}");
}

#[test]
fn list_show_rename_and_delete_through_the_binary() {
    let root = tempfile::tempdir().unwrap();
    let empty = prism(root.path(), &["sessions", "list"]);
    assert_eq!(empty.status.code(), Some(0));
    let msg = stdout(&empty);
    assert!(
        msg.contains("No sessions yet") && msg.contains(&root.path().display().to_string()),
        "{msg}"
    );

    let dir = write_session(root.path());
    let id = id_of(&dir);
    let o = prism(root.path(), &["sessions", "list"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let table = stdout(&o);
    assert!(
        table.contains(&id) && table.contains("Name three things, please"),
        "{table}"
    );
    assert!(table.contains("gpt, claude"), "{table}");
    // Created in local time with its offset; the id keeps the UTC time.
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    let created = meta["created"].as_str().unwrap();
    let local = prism::session::local_time::readable(
        created,
        &prism::session::local_time::TimeZone::posix(TZ).unwrap(),
    );
    assert!(local.ends_with(" +05:30"), "{local}");
    assert!(table.contains(&local), "{local} in\n{table}");
    assert_eq!(&id[..8], created[..10].replace('-', ""), "the id stays UTC");
    assert!(table.contains("$0.0"), "{table}");

    let o = prism(root.path(), &["sessions", "list", "--json"]);
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], id);
    assert_eq!(lines[0]["turns"], 2);
    assert_eq!(lines[0]["dir"], dir.display().to_string());
    assert_eq!(lines[0]["targets"][1], "claude");

    let o = prism(root.path(), &["sessions", "list", "--filter", "CLAUDE"]);
    assert!(stdout(&o).contains(&id));
    let o = prism(root.path(), &["sessions", "list", "--filter", "nothing-like-it"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("matches `nothing-like-it`"), "{}", stdout(&o));

    let o = prism(root.path(), &["sessions", "show", &id[..12]]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let shown = stdout(&o);
    assert!(shown.contains(&format!("created {local}")), "{shown}");
    for want in [
        "━━ turn 1",
        "system:\n  be brief",
        "prompt:\n  Name three things, please",
        "── gpt · openai gpt-4o-mini-2024-07-18 ──",
        TRICKY,
        "ok · TTFT ",
        "finish stop · req_1_0",
        "in ~",
        "Half an\ninterrupted · TTFT",
    ] {
        assert!(shown.contains(want), "missing {want:?} in\n{shown}");
    }

    let o = prism(root.path(), &["sessions", "rename", &id, "latency check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = prism(root.path(), &["sessions", "list"]);
    assert!(stdout(&o).contains("latency check"));
    let o = prism(root.path(), &["export", "latency check", "--format", "md"]);
    assert!(stdout(&o).starts_with("# latency check\n"));

    // No terminal to confirm on and no --yes: refused, nothing deleted.
    let o = prism(root.path(), &["sessions", "delete", &id]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("--yes") && err.lines().count() == 1, "{err}");
    assert!(dir.exists());

    let o = prism(root.path(), &["sessions", "delete", "latency check", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains(&format!("deleted {id}")));
    assert!(!dir.exists());

    let o = prism(root.path(), &["sessions", "show", &id]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no session"), "{}", stderr(&o));
}

#[test]
fn damaged_sessions_are_refused_with_their_position_left_alone_and_still_listed() {
    let root = tempfile::tempdir().unwrap();
    let good = write_session(root.path());
    let corrupt = write_session(root.path());
    let future = write_session(root.path());

    let events = corrupt.join("events.jsonl");
    let text = std::fs::read_to_string(&events).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(3, "{\"type\":\"send\",\"run\":oops}");
    let broken = format!("{}\n", lines.join("\n"));
    std::fs::write(&events, &broken).unwrap();

    let meta = future.join("meta.json");
    let m = std::fs::read_to_string(&meta).unwrap();
    let newer = m.replacen("\"version\": 1", "\"version\": 9", 1);
    assert_ne!(m, newer);
    std::fs::write(&meta, &newer).unwrap();

    for (dir, file, at) in [
        (&corrupt, "events.jsonl:4:", "corrupt"),
        (&future, "meta.json:1:1:", "version 9"),
    ] {
        for args in [
            vec!["sessions", "show"],
            vec!["export", "--format", "csv"],
            vec!["export", "--format", "json"],
        ] {
            let mut args: Vec<&str> = args.clone();
            let id = id_of(dir);
            args.push(&id);
            let o = prism(root.path(), &args);
            assert_eq!(o.status.code(), Some(2), "{args:?}");
            let err = stderr(&o);
            assert!(err.contains(file) && err.contains(at), "{args:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(o.stdout.is_empty());
        }
    }
    assert_eq!(std::fs::read_to_string(&events).unwrap(), broken);
    assert_eq!(std::fs::read_to_string(&meta).unwrap(), newer);

    let o = prism(root.path(), &["sessions", "list"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let table = stdout(&o);
    assert!(
        table.contains(&id_of(&good)) && table.contains(&id_of(&corrupt)),
        "{table}"
    );
    assert!(
        table.contains(&id_of(&future)) && table.contains("unreadable") && table.contains("meta.json:1:1"),
        "{table}"
    );
    let o = prism(root.path(), &["sessions", "list", "--json"]);
    let errors: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("error").is_some())
        .collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["id"], id_of(&future));
    assert_eq!(std::fs::read_to_string(&meta).unwrap(), newer);
}

#[test]
fn no_export_contains_a_key_from_the_environment() {
    let root = tempfile::tempdir().unwrap();
    let dir = write_session(root.path());
    let id = id_of(&dir);
    let mut written = Vec::new();
    for format in ["md", "json", "csv"] {
        let file = root.path().join(format!("export.{format}"));
        let o = Command::new(PRISM)
            .arg("--sessions-dir")
            .arg(root.path())
            .args(["export", &id, "--format", format, "-o"])
            .arg(&file)
            .env("OPENAI_API_KEY", OPENAI_KEY)
            .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        written.push(std::fs::read(&file).unwrap());
        let o = Command::new(PRISM)
            .arg("--sessions-dir")
            .arg(root.path())
            .args(["sessions", "show", &id])
            .env("OPENAI_API_KEY", OPENAI_KEY)
            .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
            .output()
            .unwrap();
        written.push(o.stdout);
    }
    for entry in std::fs::read_dir(&dir).unwrap() {
        written.push(std::fs::read(entry.unwrap().path()).unwrap());
    }
    for bytes in &written {
        let text = String::from_utf8_lossy(bytes);
        for key in [OPENAI_KEY, ANTHROPIC_KEY, "SECRET123", "SECRET456"] {
            assert!(!text.contains(key), "{key} leaked into an export");
        }
    }
    // The variable names are there: that is how a rerun finds the key again.
    assert!(String::from_utf8_lossy(&written[2]).contains("OPENAI_API_KEY"));
}

#[test]
fn export_to_a_bare_file_name_writes_it_in_the_working_directory() {
    let root = tempfile::tempdir().unwrap();
    let dir = write_session(root.path());
    let work = tempfile::tempdir().unwrap();
    let o = Command::new(PRISM)
        .current_dir(work.path())
        .arg("--sessions-dir")
        .arg(root.path())
        .args(["export", &id_of(&dir), "--format", "csv", "-o", "out.csv"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(work.path().join("out.csv")).unwrap();
    assert!(text.starts_with("session,turn,target,"));
    // Only the export itself: no temp file left behind.
    assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 1);
}

#[test]
fn sessions_whose_records_do_not_add_up_are_refused_at_their_line() {
    let root = tempfile::tempdir().unwrap();
    let twice = write_session(root.path());
    let stray = write_session(root.path());

    // The first send again at the end: loading it would blank the first turn's answers.
    let events = twice.join("events.jsonl");
    let text = std::fs::read_to_string(&events).unwrap();
    let send = text
        .lines()
        .find(|l| l.contains("\"type\":\"send\""))
        .unwrap()
        .to_string();
    std::fs::write(&events, format!("{text}{send}\n")).unwrap();
    let line = text.lines().count() + 1;

    let events = stray.join("events.jsonl");
    let text = std::fs::read_to_string(&events).unwrap();
    std::fs::write(
        &events,
        format!("{text}{{\"type\":\"event\",\"run\":1,\"target\":7,\"t_ns\":5,\"event\":\"done\"}}\n"),
    )
    .unwrap();
    let stray_line = text.lines().count() + 1;

    for (dir, expected) in [
        (&twice, format!("events.jsonl:{line}:1: a second send of run 1")),
        (
            &stray,
            format!("events.jsonl:{stray_line}:1: event names target 7 but the session has 2"),
        ),
    ] {
        let o = prism(root.path(), &["sessions", "show", &id_of(dir)]);
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(&o);
        assert!(err.contains(&expected), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn unreadable_sessions_are_listed_with_the_reason_and_show_says_why() {
    let root = tempfile::tempdir().unwrap();
    let good = write_session(root.path());
    // A directory where a file should be cannot be read, even by root.
    let meta_dir = write_session(root.path());
    std::fs::remove_file(meta_dir.join("meta.json")).unwrap();
    std::fs::create_dir(meta_dir.join("meta.json")).unwrap();
    let log_dir = write_session(root.path());
    std::fs::remove_file(log_dir.join("events.jsonl")).unwrap();
    std::fs::create_dir(log_dir.join("events.jsonl")).unwrap();
    // Not a session at all: not listed.
    std::fs::create_dir(root.path().join("notes")).unwrap();

    let o = prism(root.path(), &["sessions", "list"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let table = stdout(&o);
    let row = |dir: &Path| {
        table
            .lines()
            .find(|l| l.contains(&id_of(dir)))
            .unwrap_or_else(|| panic!("{} not listed:\n{table}", id_of(dir)))
            .to_string()
    };
    assert!(!row(&good).contains("unreadable"), "{table}");
    let r = row(&meta_dir);
    assert!(
        r.contains("unreadable") && r.contains("meta.json: is a directory"),
        "{r}"
    );
    // Its summary is intact, but a session whose log cannot be opened is not listed as fine.
    let r = row(&log_dir);
    assert!(
        r.contains("unreadable") && r.contains("events.jsonl: is a directory"),
        "{r}"
    );
    assert!(!table.contains("notes"), "{table}");

    for (dir, file) in [(&meta_dir, "meta.json"), (&log_dir, "events.jsonl")] {
        let o = prism(root.path(), &["sessions", "show", &id_of(dir)]);
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(&o);
        let path = dir.join(file);
        assert!(
            err.contains(&format!("{}: is a directory", path.display())),
            "{err}"
        );
        assert!(!err.contains("no session"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[cfg(unix)]
#[test]
fn a_session_without_read_permission_says_permission_denied() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let root = tempfile::tempdir().unwrap();
    let dir = write_session(root.path());
    if std::fs::metadata(&dir).unwrap().uid() == 0 {
        // Root reads through any mode; the reason's wording is pinned by the reader's unit
        // test of `SessionError::unreadable` instead.
        println!("SKIPPED: running as root, so a mode cannot deny a read");
        return;
    }
    let meta = dir.join("meta.json");
    std::fs::set_permissions(&meta, std::fs::Permissions::from_mode(0o000)).unwrap();
    let o = prism(root.path(), &["sessions", "show", &id_of(&dir)]);
    let listed = prism(root.path(), &["sessions", "list"]);
    std::fs::set_permissions(&meta, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("{}: permission denied", meta.display())),
        "{err}"
    );
    let table = stdout(&listed);
    assert!(
        table.contains("unreadable") && table.contains("permission denied"),
        "{table}"
    );
}

#[test]
fn votes_saved_with_a_session_are_tallied_by_prism_stats_and_leave_the_other_commands_as_they_were() {
    use prism::session::votes::{Candidate, Choice, VoteRecord};
    let root = tempfile::tempdir().unwrap();
    let dir = write_session(root.path());
    let before = prism(root.path(), &["export", &id_of(&dir), "--format", "json"]);
    let meta = load(&dir).unwrap().meta;
    let targets = ["gpt", "claude"].map(|n| {
        let (kind, model, var) = if n == "gpt" {
            (ProviderKind::OpenAi, "gpt-4o-mini-2024-07-18", "OPENAI_API_KEY")
        } else {
            (
                ProviderKind::Anthropic,
                "claude-haiku-4-5-20251001",
                "ANTHROPIC_API_KEY",
            )
        };
        target(n, kind, model, var)
    });
    let w = SessionWriter::append(&dir, meta, targets.to_vec(), PriceTable::builtin().unwrap()).unwrap();
    let shown = |first: usize| {
        [first, 1 - first]
            .map(|target| Candidate {
                target,
                run: 1,
                variant: None,
            })
            .to_vec()
    };
    for (first, choice) in [(1, Choice::Best(0)), (0, Choice::Best(1)), (0, Choice::Best(0))] {
        w.vote(VoteRecord {
            wall: "2026-11-30T01:02:03Z".into(),
            candidates: shown(first),
            choice,
            blind: true,
            self_identified: Vec::new(),
        });
    }
    w.close();

    let out = prism(root.path(), &["stats"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("3 votes in 1 session (3 blind;"), "{text}");
    let claude = text.lines().find(|l| l.contains("claude-haiku")).unwrap();
    assert!(claude.contains("66.7 %"), "{claude}");

    let json = prism(root.path(), &["stats", "--json", &id_of(&dir)]);
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["targets"][0]["name"], "claude");
    assert_eq!(v["targets"][0]["wins"], 2);
    assert_eq!(v["targets"][1]["wins"], 1);

    // The votes change nothing else a session shows (but the time it was last updated).
    let after = prism(root.path(), &["export", &id_of(&dir), "--format", "json"]);
    let [before, after]: [Value; 2] = [before, after].map(|o| serde_json::from_slice(&o.stdout).unwrap());
    assert_eq!(before["turns"], after["turns"]);
    assert_eq!(before["targets"], after["targets"]);
    assert!(
        prism(root.path(), &["sessions", "show", &id_of(&dir)])
            .status
            .success()
    );
}

/// The cost cell of the one session `sessions list` shows.
fn listed_cost(root: &Path, id: &str) -> String {
    let o = prism(root, &["sessions", "list"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let table = stdout(&o);
    let line = table
        .lines()
        .find(|l| l.contains(id))
        .unwrap_or_else(|| panic!("{table}"));
    line.split_whitespace().last().unwrap().to_string()
}

/// Rewrites the session summary in `dir` with `edit`, then dates it a minute after the
/// log (`newer`: written last, as on a normal close) or a minute before it (a crash left
/// the log ahead of it). The summary as written.
fn rewrite_summary(dir: &Path, newer: bool, edit: impl FnOnce(&mut Value)) -> Value {
    let meta_path = dir.join("meta.json");
    let mut meta: Value = serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    edit(&mut meta);
    std::fs::write(&meta_path, serde_json::to_string_pretty(&meta).unwrap()).unwrap();
    let log_time = std::fs::metadata(dir.join("events.jsonl"))
        .unwrap()
        .modified()
        .unwrap();
    let minute = Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(&meta_path)
        .unwrap()
        .set_modified(if newer {
            log_time + minute
        } else {
            log_time - minute
        })
        .unwrap();
    meta
}

#[test]
fn a_session_cut_short_by_a_crash_is_listed_with_the_turns_and_cost_show_gives() {
    let root = tempfile::tempdir().unwrap();
    let dir = write_session(root.path());
    let id = id_of(&dir);
    // What a crash leaves: the summary as written at the first send (no cost, one turn),
    // older than the log lines written after it (two turns of rows and a stream cut off).
    let meta_path = dir.join("meta.json");
    let meta = rewrite_summary(&dir, false, |meta| {
        meta["turns"] = 1.into();
        meta["cost_usd"] = 0.0.into();
    });

    let o = prism(root.path(), &["sessions", "show", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let shown = stdout(&o);
    let header = shown.lines().nth(1).unwrap();
    let cost = header.rsplit("cost ").next().unwrap().to_string();
    assert!(header.contains("· 2 turns ·"), "{header}");
    assert!(cost.starts_with("$0.0") && cost != "$0.000000", "{header}");
    // The stream the crash cut off is priced from its events, as show prints it.
    assert!(shown.contains("Half an\ninterrupted · TTFT"), "{shown}");

    assert_eq!(listed_cost(root.path(), &id), cost);
    let o = prism(root.path(), &["sessions", "list", "--json"]);
    let listed: Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(listed["turns"], 2);
    assert_eq!(format!("${:.6}", listed["cost_usd"].as_f64().unwrap()), cost);
    // Listing changes nothing on disk.
    assert_eq!(
        serde_json::from_str::<Value>(&std::fs::read_to_string(&meta_path).unwrap()).unwrap(),
        meta
    );
}

#[test]
fn a_session_closed_normally_is_listed_from_its_summary() {
    let root = tempfile::tempdir().unwrap();
    let dir = write_session(root.path());
    let id = id_of(&dir);
    // A summary written last is taken as it is, whatever it says.
    rewrite_summary(&dir, true, |meta| meta["cost_usd"] = 1.25.into());
    assert_eq!(listed_cost(root.path(), &id), "$1.250000");
}
