//! Sessions end to end: real targets streaming from the mock server are recorded, saved,
//! loaded, then replayed through the workbench's update (text and metrics identical to
//! the recording) and sent again headlessly (identical seeded answers compare as equal).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use prism::engine::{Cancels, RunId, RunOptions, fan_out_each};
use prism::mock_server::MockServer;
use prism::pricing::PriceTable;
use prism::provider::event::{ResponseStart, StreamEvent};
use prism::provider::request::{ChatRequest, Message};
use prism::session::replay::Speed;
use prism::session::{Outgoing, Session, SessionWriter, load};
use prism::target::{KeySource, Params, ProviderKind, Target};
use prism::tui::input::keymap::Keymap;
use prism::tui::model::app::App;
use prism::tui::model::pane::PaneStatus;
use prism::tui::model::replay::turn_messages;
use serde_json::Value;

fn targets(server: &MockServer) -> Vec<Target> {
    let t = |name: &str, provider, model: &str, base_url: String| Target {
        name: name.into(),
        provider,
        model: model.into(),
        base_url,
        key: KeySource::Demo,
        params: Params {
            max_tokens: Some(256),
            stream: true,
            ..Params::default()
        },
    };
    vec![
        t(
            "gpt",
            ProviderKind::OpenAi,
            "gpt-4o-mini-2024-07-18+ttft=15,tps=900,tokens=30,seed=1",
            server.openai_base(),
        ),
        t(
            "claude",
            ProviderKind::Anthropic,
            "claude-sonnet-4-20250514+ttft=25,tps=700,tokens=24,chunk=2,seed=2",
            server.anthropic_base(),
        ),
        t(
            "gemini",
            ProviderKind::Gemini,
            "gemini-2.5-flash+ttft=10,tps=1200,tokens=36,reasoning=8,seed=3",
            server.gemini_base(),
        ),
    ]
}

/// Send `prompts` as a conversation to `targets` (each with its own earlier answers),
/// recording everything into a new session under `root`; returns its directory.
async fn record(root: &Path, targets: &[Target], prompts: &[&str]) -> PathBuf {
    let prices = PriceTable::builtin().unwrap();
    let w = SessionWriter::create(root, targets, prices).unwrap();
    let mut answers: Vec<Vec<String>> = vec![Vec::new(); targets.len()];
    for (i, prompt) in prompts.iter().enumerate() {
        let turn = i as u32 + 1;
        let requests: Vec<ChatRequest> = (0..targets.len())
            .map(|t| {
                let mut messages = Vec::new();
                for (p, a) in prompts.iter().zip(&answers[t]) {
                    messages.push(Message::user(*p));
                    messages.push(Message::assistant(a.clone()));
                }
                messages.push(Message::user(*prompt));
                ChatRequest {
                    system: Some("Be brief.".into()),
                    messages,
                    schema: None,
                }
            })
            .collect();
        let out: Vec<Outgoing> = requests
            .iter()
            .enumerate()
            .map(|(t, r)| Outgoing {
                target: t,
                history: (1..turn).collect(),
                request: r.clone(),
            })
            .collect();
        let jobs: Vec<(Target, ChatRequest)> = targets.iter().cloned().zip(requests).collect();
        let base = Instant::now();
        let run = u64::from(turn);
        w.send(run, turn, Some("Be brief.".into()), prompt, base, &out);
        let mut handle = fan_out_each(&jobs, RunOptions { run: RunId(run) }, Cancels::new(jobs.len())).await;
        let mut texts = vec![String::new(); targets.len()];
        while let Some(env) = tokio::time::timeout(Duration::from_secs(30), handle.events.recv())
            .await
            .expect("run stalled")
        {
            if let Some(t) = env.event.answer_text() {
                texts[env.target].push_str(t);
            }
            w.event(run, env.target, env.at, &env.event);
        }
        handle.join().await;
        for (a, t) in answers.iter_mut().zip(texts) {
            a.push(t);
        }
    }
    w.close();
    assert!(w.error().is_none(), "{:?}", w.error());
    w.dir().to_path_buf()
}

async fn mock() -> MockServer {
    MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap()
}

fn app() -> App {
    App::new(
        Vec::new(),
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        String::new(),
    )
}

/// Play every turn through `update` at full speed, checking each against its recording.
fn replay_and_check(session: &Session) {
    let prices = PriceTable::builtin().unwrap();
    let mut app = app();
    let (_, first) = app.begin_replay(session, Speed::Max).unwrap();
    assert_eq!(app.panes().len(), session.targets.len());
    for (index, turn) in session.turns.iter().enumerate() {
        let run = RunId(first.0 + index as u64);
        // A base unrelated to the recording's: only the offsets matter.
        let base = Instant::now() + Duration::from_secs(3600);
        for (due, msg) in turn_messages(session, index, run, base, Speed::Max) {
            assert_eq!(due, Duration::ZERO, "max speed never waits");
            app.update(msg);
        }
        assert_eq!(app.prompt().lines().join("\n"), turn.prompt);
        assert!(
            app.status()
                .contains(&format!("turn {}/{}", index + 1, session.turns.len()))
        );
        for (&t, recorded) in &turn.answers {
            let pane = &app.pane(t);
            assert_eq!(
                pane.answer.text(),
                recorded.text(),
                "turn {} target {t}",
                turn.number
            );
            assert_eq!(pane.status, PaneStatus::Done);
            assert_eq!(pane.history.prompt(), turn.prompt, "the pane says what was asked");
            assert_eq!(
                pane.history.earlier(),
                recorded.history.len(),
                "and how many earlier turns its target was sent"
            );
            let row = prism::report::row(
                &app.targets()[t],
                &session.request_for(turn, t),
                &pane.metrics,
                &prices,
            );
            // Compared as written: the table-only text TTFT is not part of a recorded row.
            let row = serde_json::to_value(&row).unwrap();
            assert_eq!(
                Some(row.clone()),
                recorded.row.as_ref().map(|r| serde_json::to_value(r).unwrap()),
                "turn {} target {t}",
                turn.number
            );
            assert!(row["ttft_ms"].as_f64().unwrap() > 0.0);
        }
    }
    assert!(app.sends_off().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_conversation_replays_with_identical_text_and_metrics() {
    let server = mock().await;
    let root = tempfile::tempdir().unwrap();
    let dir = record(
        root.path(),
        &targets(&server),
        &["Explain streaming.", "Shorter, please."],
    )
    .await;
    server.shutdown().await;
    let session = load(&dir).unwrap();
    assert_eq!(session.turns.len(), 2);
    assert!(session.turns.iter().all(|t| t.answers.len() == 3));
    replay_and_check(&session);
}

#[test]
fn an_interrupted_stream_ends_showing_interrupted() {
    let root = tempfile::tempdir().unwrap();
    let target = Target {
        name: "gpt".into(),
        provider: ProviderKind::OpenAi,
        model: "gpt-4o-mini-2024-07-18".into(),
        base_url: "http://127.0.0.1:9/v1".into(),
        key: KeySource::Env(vec!["OPENAI_API_KEY".into()]),
        params: Params::default(),
    };
    let w = SessionWriter::create(root.path(), &[target], PriceTable::default()).unwrap();
    let base = Instant::now();
    let out = Outgoing {
        target: 0,
        history: vec![],
        request: ChatRequest::single(None, "hi"),
    };
    w.send(1, 1, None, "hi", base, &[out]);
    let at = |ms| base + Duration::from_millis(ms);
    w.event(1, 0, at(1), &StreamEvent::Dispatched);
    w.event(
        1,
        0,
        at(20),
        &StreamEvent::Started(Box::new(ResponseStart {
            http_status: 200,
            request_id: None,
            rate_limits: vec![],
            sent_at: at(2),
            connect: None,
        })),
    );
    w.event(1, 0, at(50), &StreamEvent::TextDelta("Half an ans".into()));
    w.close();
    let session = load(w.dir()).unwrap();

    let mut app = app();
    let (_, first) = app.begin_replay(&session, Speed::Times(4.0)).unwrap();
    let msgs = turn_messages(&session, 0, first, Instant::now(), Speed::Times(4.0));
    let dues: Vec<Duration> = msgs.iter().map(|(d, _)| *d).collect();
    assert!(dues.windows(2).all(|w| w[0] <= w[1]), "in order: {dues:?}");
    assert_eq!(dues[3], Duration::from_micros(12_500), "50 ms at 4x");
    for (_, m) in msgs {
        app.update(m);
    }
    app.update(prism::tui::model::msg::Msg::Replay(
        prism::tui::model::replay::Cue::Finished,
    ));
    let pane = &app.pane(0);
    assert_eq!(pane.answer.text(), "Half an ans");
    assert_eq!(pane.status, PaneStatus::Error);
    let row = prism::report::row(
        &app.targets()[0],
        &ChatRequest::single(None, "hi"),
        &pane.metrics,
        &PriceTable::default(),
    );
    assert_eq!(row.error.unwrap().kind.as_str(), "interrupted");
    assert!(
        app.status().contains("4x") && app.status().contains("done"),
        "{}",
        app.status()
    );
}

fn rerun_json(root: &Path, id: &str, extra: &[&str]) -> (Vec<Value>, String) {
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_prism"))
        .args([
            "--sessions-dir",
            root.to_str().unwrap(),
            "rerun",
            id,
            "--format",
            "json",
        ])
        .args(extra)
        .current_dir(home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env_remove("PRISM_SESSIONS_DIR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let json: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    (json, stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerun_sends_the_recorded_requests_again_and_compares_headlessly() {
    let server = mock().await;
    let root = tempfile::tempdir().unwrap();
    let dir = record(
        root.path(),
        &targets(&server),
        &["Explain streaming.", "Shorter, please."],
    )
    .await;
    // The recording's demo server is gone: the re-run must use a fresh one.
    server.shutdown().await;
    let id = dir.file_name().unwrap().to_str().unwrap().to_string();
    let recorded = load(&dir).unwrap();

    let (json, stderr) = rerun_json(root.path(), &id, &[]);
    assert_eq!(json.len(), 3);
    for (c, name) in json.iter().zip(["gpt", "claude", "gemini"]) {
        assert_eq!(c["target"], name);
        assert_eq!(c["similarity"].as_f64(), Some(1.0), "{c:#}");
        assert_eq!(c["new"]["status"], "ok");
        assert_eq!(c["new"]["text"], c["recorded"]["text"]);
        assert_eq!(c["deltas"]["output_tokens"], 0);
        assert_eq!(c["deltas"]["cost_usd"].as_f64(), Some(0.0), "{c:#}");
        let ttft = |side: &str| c[side]["ttft_ms"].as_f64().unwrap();
        let delta = c["deltas"]["ttft_ms"].as_f64().unwrap();
        assert!((delta - (ttft("new") - ttft("recorded"))).abs() < 1e-6);
        let diff = c["diff"].as_array().unwrap();
        assert!(diff.iter().all(|d| d["op"] == "same"), "{diff:?}");
    }

    // The new run is a session of its own: the first turn copied, the last one new.
    let saved = stderr
        .lines()
        .find_map(|l| l.strip_prefix("saved session "))
        .expect("the new session's id on stderr")
        .to_string();
    assert_ne!(saved, id);
    let new = load(&root.path().join(&saved)).unwrap();
    assert_eq!(new.turns.len(), 2);
    for t in 0..3 {
        assert_eq!(new.turns[0].answers[&t].row, recorded.turns[0].answers[&t].row);
        assert_eq!(
            new.request_for(&new.turns[1], t),
            recorded.request_for(&recorded.turns[1], t)
        );
        assert_eq!(
            new.turns[1].answers[&t].text(),
            recorded.turns[1].answers[&t].text()
        );
    }

    // One target, not saved.
    let (json, stderr) = rerun_json(root.path(), &id, &["--target", "claude", "--no-save"]);
    assert_eq!(json.len(), 1);
    assert_eq!(json[0]["target"], "claude");
    assert!(!stderr.contains("saved session"), "{stderr}");
}

#[test]
fn rerun_names_an_unknown_target_and_what_exists() {
    let root = tempfile::tempdir().unwrap();
    let w = SessionWriter::create(
        root.path(),
        &[Target {
            name: "gpt".into(),
            provider: ProviderKind::OpenAi,
            model: "m".into(),
            base_url: "http://127.0.0.1:9/v1".into(),
            key: KeySource::Demo,
            params: Params::default(),
        }],
        PriceTable::default(),
    )
    .unwrap();
    w.send(
        1,
        1,
        None,
        "hi",
        Instant::now(),
        &[Outgoing {
            target: 0,
            history: vec![],
            request: ChatRequest::single(None, "hi"),
        }],
    );
    w.close();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_prism"))
        .args(["--sessions-dir", root.path().to_str().unwrap(), "rerun", w.id()])
        .args(["--target", "nope", "--format", "json"])
        .env("XDG_CONFIG_HOME", root.path())
        .current_dir(root.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no target named `nope`") && err.contains("it has: gpt") && err.lines().count() == 1,
        "{err}"
    );
}
