//! `prism rerun` of an experiment session: the real binary against the mock server
//! running in this test process, so the test reads every request the mock saw. The
//! experiment is sent again as recorded (the same requests, the same order for the same
//! seed) into a new session recording the same design, and the JSON comparing each cell
//! is checked field by field. The recorded experiment also replays turn by turn without
//! mixing cells.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use prism::engine::RunId;
use prism::mock_server::{MockServer, SendRecord};
use prism::session::replay::{Speed, experiment_notice};
use prism::session::{Session, load};
use prism::tui::input::keymap::Keymap;
use prism::tui::model::app::App;
use prism::tui::model::pane::PaneStatus;
use prism::tui::model::replay::turn_messages;
use serde_json::{Value, json};

mod common;

use common::run::Ran;

/// A cell's fields, in order.
const FIELDS: [&str; 8] = [
    "case",
    "variant",
    "target",
    "vars",
    "old",
    "new",
    "similarity",
    "diff",
];

/// The fields of each side, in order.
const SIDE_FIELDS: [&str; 10] = [
    "runs",
    "ok",
    "status",
    "text",
    "error",
    "ttft_ms_dist",
    "total_ms_dist",
    "tokens_per_s_dist",
    "output_tokens_dist",
    "cost_usd_dist",
];

const DISTS: [&str; 5] = [
    "ttft_ms_dist",
    "total_ms_dist",
    "tokens_per_s_dist",
    "output_tokens_dist",
    "cost_usd_dist",
];

const SUMMARY_FIELDS: [&str; 11] = [
    "variant",
    "target",
    "n",
    "failures",
    "refusals",
    "ttft_ms_mean",
    "ttft_ms_p95",
    "tokens_per_s_mean",
    "output_tokens_mean",
    "cost_usd_mean",
    "finish_reasons",
];

async fn mock() -> MockServer {
    MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap()
}

/// Two OpenAI targets on `server` (`mini` is priced, `other` is not), and two variants:
/// `terse` has its own system prompt, `loud` its own prompt and temperature (so it gets
/// `mini@loud` and `other@loud` targets of its own). Answers are seeded: the same
/// request gets the same answer.
fn config(server: &MockServer) -> String {
    let base = server.openai_base();
    format!(
        r#"
[defaults]
max_tokens = 200
api_key_env = "PRISM_EXP_KEY"

[[target]]
name = "mini"
provider = "openai"
model = "gpt-4o-mini-2024-07-18+ttft=2,itl=1,tokens=5,seed=1"
base_url = "{base}"

[[target]]
name = "other"
provider = "openai-compatible"
model = "local-model+ttft=2,itl=1,tokens=5,seed=2"
base_url = "{base}"

[[variant]]
name = "terse"
system = "Be terse with {{{{ name }}}}."

[[variant]]
name = "loud"
prompt = "SHOUT AT {{{{name}}}} FROM {{{{city}}}}"
temperature = 0.9
"#
    )
}

/// Run the binary with the experiment's key, off the async workers.
async fn prism(dir: &Path, args: &[&str]) -> Ran {
    common::run::prism_in(dir, args, &[("PRISM_EXP_KEY", "sk-exp-test-not-a-key")]).await
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn lines(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// The session directories.
fn sessions(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir.join("sessions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

/// The one session saved besides `recorded` (ids made in the same second do not sort
/// by time).
fn new_session(dir: &Path, recorded: &Path) -> Session {
    let others: Vec<PathBuf> = sessions(dir).into_iter().filter(|p| p != recorded).collect();
    let [new] = &others[..] else {
        panic!("one new session, not {others:?}")
    };
    load(new).unwrap()
}

/// What a request asked: model, system prompt, prompt, temperature.
type Asked = (String, Option<String>, String, Option<f64>);

fn asked(r: &SendRecord) -> Asked {
    let body: Value = serde_json::from_str(&r.body).unwrap();
    let system = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "system")
        .map(|m| m["content"].as_str().unwrap().to_string());
    (
        r.model.clone(),
        system,
        r.prompt.clone(),
        body["temperature"].as_f64(),
    )
}

/// The recorded experiment: 2 cases × 2 variants × 2 targets × 2 repeats, one warmup per
/// target, in random order with seed 5, one request at a time per endpoint. Returns the config's path, the session's directory and the printed cells.
async fn original(server: &MockServer, dir: &Path) -> (String, PathBuf, Vec<Value>) {
    let cfg = write(dir, "prism.toml", &config(server));
    let cases = write(
        dir,
        "cases.csv",
        "id,name,city\nosl,Ada,\"Oslo, Norway\"\nber,Bob,Berlin\n",
    );
    let ran = prism(
        dir,
        &[
            "run",
            "--config",
            &cfg,
            "--cases",
            &cases,
            "--prompt",
            "Hello {{name}} in {{ city }}",
            "--repeat",
            "2",
            "--warmup",
            "1",
            "--order",
            "random",
            "--seed",
            "5",
            "--max-concurrency",
            "1",
            "--format",
            "jsonl",
        ],
    )
    .await;
    assert_eq!(ran.code, 0, "stderr: {}", ran.stderr);
    assert_eq!(server.log().records().len(), 16 + 2);
    let [session] = &sessions(dir)[..] else {
        panic!("one session saved")
    };
    (cfg, session.clone(), lines(&ran.stdout))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_experiment_session_runs_again_as_the_same_experiment() {
    let server = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let (cfg, recorded_dir, first_cells) = original(&server, dir.path()).await;
    let id = recorded_dir.file_name().unwrap().to_str().unwrap().to_string();

    let ran = prism(
        dir.path(),
        &[
            "rerun",
            &id,
            "--config",
            &cfg,
            "--max-concurrency",
            "1",
            "--format",
            "jsonl",
        ],
    )
    .await;
    assert_eq!(ran.code, 0, "stderr: {}", ran.stderr);
    assert!(ran.stderr.contains("order: random, seed 5"), "{}", ran.stderr);

    // Exactly the requests of the experiment again, templates filled per variant and
    // case, the loud variant's temperature on its runs, in the same order.
    let records = server.log().records();
    assert_eq!(records.len(), 2 * (16 + 2));
    let before: Vec<_> = records[..18].iter().map(asked).collect();
    let after: Vec<_> = records[18..].iter().map(asked).collect();
    // Each target's own endpoint takes one request at a time: its arrivals are in
    // sending order (the two targets' runs overlap, so only each one's order is fixed).
    for model in ["gpt-4o-mini", "local-model"] {
        let of =
            |v: &[Asked]| -> Vec<Asked> { v.iter().filter(|a| a.0.starts_with(model)).cloned().collect() };
        assert_eq!(
            of(&after),
            of(&before),
            "{model}: the same requests, in the same order"
        );
        assert_eq!(of(&after).len(), 9);
    }
    let prompts: BTreeSet<&str> = after.iter().map(|a| a.2.as_str()).collect();
    assert_eq!(
        prompts,
        BTreeSet::from([
            "Hello Ada in Oslo, Norway",
            "Hello Bob in Berlin",
            "SHOUT AT Ada FROM Oslo, Norway",
            "SHOUT AT Bob FROM Berlin",
        ])
    );
    for a in &after {
        let loud = a.2.starts_with("SHOUT");
        assert_eq!(a.3, if loud { Some(0.9) } else { None }, "{a:?}");
        assert_eq!(a.1.is_some(), !loud, "terse has a system prompt: {a:?}");
    }

    // The new session records the same experiment, run for run.
    let (old, new) = (
        load(&recorded_dir).unwrap(),
        new_session(dir.path(), &recorded_dir),
    );
    assert!(new.experiment.is_some());
    assert_eq!(new.experiment, old.experiment, "the same design");
    assert_eq!(new.cells, old.cells, "every run id the same cell");
    let names = |s: &Session| s.targets.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&new), ["mini", "mini@loud", "other", "other@loud"]);
    assert_eq!(names(&new), names(&old));

    // One object per cell, case then variant then target, field by field.
    let cells = lines(&ran.stdout);
    assert_eq!(cells.len(), 8);
    for (c, first) in cells.iter().zip(&first_cells) {
        assert_eq!(keys(c), FIELDS);
        for field in ["case", "variant", "target", "vars"] {
            assert_eq!(c[field], first[field], "{field}");
        }
        for side in ["old", "new"] {
            let s = &c[side];
            assert_eq!(keys(s), SIDE_FIELDS, "{side}");
            assert_eq!((s["runs"].as_u64(), s["ok"].as_u64()), (Some(2), Some(2)));
            assert_eq!(s["status"], "ok");
            assert!(s["error"].is_null());
            assert_eq!(s["output_tokens_dist"]["n"], 2);
            assert!(s["output_tokens_dist"]["p50"].as_f64() > Some(0.0));
        }
        // The recorded side is what the original run printed for the cell.
        for d in DISTS {
            assert_eq!(c["old"][d], first[d], "{d}");
        }
        assert_eq!(c["old"]["text"], first["text"]);
        // The mock is deterministic: the same prompt gets the same answer and count.
        assert_eq!(c["new"]["output_tokens_dist"], c["old"]["output_tokens_dist"]);
        // Seeded answers: the same text, so identical.
        assert_eq!(c["new"]["text"], c["old"]["text"]);
        assert_eq!(c["similarity"], 1.0);
        assert_eq!(c["diff"], json!([{"op": "same", "text": c["old"]["text"]}]));
    }
    let order: Vec<(Value, Value, Value)> = cells
        .iter()
        .map(|c| (c["case"].clone(), c["variant"].clone(), c["target"].clone()))
        .collect();
    assert_eq!(order[0], (json!("osl"), json!("terse"), json!("mini")));
    assert_eq!(order[1], (json!("osl"), json!("terse"), json!("other")));
    assert_eq!(order[2], (json!("osl"), json!("loud"), json!("mini")));
    assert_eq!(order[7], (json!("ber"), json!("loud"), json!("other")));
    // Priced target: a cost per call on both sides; the unpriced one has none, never 0.
    assert_eq!(cells[0]["new"]["cost_usd_dist"]["n"], 2);
    assert!(cells[1]["new"]["cost_usd_dist"]["mean"].is_null());
    assert!(!ran.stdout.contains("sk-exp-test-not-a-key") && !ran.stderr.contains("sk-exp-test-not-a-key"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_repeat_and_summary_choose_what_runs_again() {
    let server = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let (cfg, recorded_dir, _) = original(&server, dir.path()).await;
    let id = recorded_dir.file_name().unwrap().to_str().unwrap().to_string();

    // --target keeps only its cells (and its warmup); --repeat and --seed override the
    // recorded ones.
    let ran = prism(
        dir.path(),
        &[
            "rerun", &id, "--config", &cfg, "--target", "mini", "--repeat", "3", "--seed", "6", "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(ran.code, 0, "stderr: {}", ran.stderr);
    assert!(ran.stderr.contains("order: random, seed 6"), "{}", ran.stderr);
    let cells: Vec<Value> = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(cells.len(), 4);
    for c in &cells {
        assert_eq!(c["target"], "mini");
        assert_eq!(c["old"]["runs"], 2, "as recorded");
        assert_eq!(c["new"]["runs"], 3, "--repeat 3");
    }
    let records = server.log().records();
    assert_eq!(records.len(), 18 + 1 + 2 * 2 * 3);
    assert!(records[18..].iter().all(|r| r.model.starts_with("gpt-4o-mini")));
    let new = new_session(dir.path(), &recorded_dir);
    let e = new.experiment.unwrap();
    assert_eq!(
        (e.targets, e.repeat, e.seed),
        (vec!["mini".to_string()], 3, Some(6)),
        "--seed overrides the recorded seed"
    );

    // --summary: the new run's scoreboard, one row per (variant, target).
    let ran = prism(
        dir.path(),
        &[
            "rerun",
            &id,
            "--config",
            &cfg,
            "--target",
            "other",
            "--summary",
            "--no-save",
            "--format",
            "jsonl",
        ],
    )
    .await;
    assert_eq!(ran.code, 0, "stderr: {}", ran.stderr);
    let rows = lines(&ran.stdout);
    assert_eq!(rows.len(), 2);
    for (r, variant) in rows.iter().zip(["terse", "loud"]) {
        assert_eq!(keys(r), SUMMARY_FIELDS);
        assert_eq!((&r["variant"], &r["target"]), (&json!(variant), &json!("other")));
        assert_eq!((r["n"].as_u64(), r["failures"].as_u64()), (Some(4), Some(0)));
    }
    assert_eq!(sessions(dir.path()).len(), 2, "--no-save saves nothing");

    // A table names each cell and both sides.
    let ran = prism(
        dir.path(),
        &[
            "rerun",
            &id,
            "--config",
            &cfg,
            "--target",
            "mini",
            "--no-save",
            "--format",
            "table",
        ],
    )
    .await;
    assert_eq!(ran.code, 0, "stderr: {}", ran.stderr);
    assert!(
        ran.stdout.contains("── mini · loud · case ber · 100% same ──"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("2/2 → 2/2"), "{}", ran.stdout);

    // A missing key fails each run as `prism run` does: nothing sent, exit status 1.
    let sent = server.log().records().len();
    let no_key = write(
        dir.path(),
        "no-key.toml",
        &config(&server).replace("PRISM_EXP_KEY", "PRISM_EXP_UNSET_KEY"),
    );
    let ran = prism(
        dir.path(),
        &[
            "rerun",
            &id,
            "--config",
            &no_key,
            "--target",
            "mini",
            "--repeat",
            "1",
            "--no-save",
            "--format",
            "jsonl",
        ],
    )
    .await;
    assert_eq!(ran.code, 1, "stderr: {}", ran.stderr);
    let cells = lines(&ran.stdout);
    assert_eq!(cells.len(), 4);
    for c in &cells {
        assert_eq!(
            (c["new"]["runs"].as_u64(), c["new"]["ok"].as_u64()),
            (Some(1), Some(0))
        );
        assert_eq!(c["new"]["status"], "error");
        assert_eq!(c["new"]["error"]["kind"], "missing_key");
        assert_eq!(
            c["new"]["error"]["message"],
            "no API key: set $PRISM_EXP_UNSET_KEY"
        );
        assert_eq!(c["new"]["ttft_ms_dist"]["n"], 0, "a failure is not a sample");
        assert_eq!(c["old"]["ok"], 2);
    }
    assert_eq!(server.log().records().len(), sent);

    // An unknown target is named with the ones there are; nothing is sent.
    let sent = server.log().records().len();
    let ran = prism(dir.path(), &["rerun", &id, "--config", &cfg, "--target", "nope"]).await;
    assert_eq!(ran.code, 2, "stderr: {}", ran.stderr);
    assert!(
        ran.stderr.contains("no target named `nope` in experiment")
            && ran.stderr.contains("it has: mini, other"),
        "{}",
        ran.stderr
    );
    assert_eq!(server.log().records().len(), sent);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn experiment_flags_on_a_conversation_are_refused() {
    let server = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&server);
    // The same targets, no variants: a plain run, saved as a conversation.
    let plain = cfg.split("[[variant]]").next().unwrap();
    let cfg = write(dir.path(), "plain.toml", plain);
    let ran = prism(
        dir.path(),
        &["run", "--config", &cfg, "--prompt", "hi", "--format", "jsonl"],
    )
    .await;
    assert_eq!(ran.code, 0, "stderr: {}", ran.stderr);
    let id = sessions(dir.path())[0]
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(load(&sessions(dir.path())[0]).unwrap().experiment.is_none());
    let sent = server.log().records().len();
    let ran = prism(
        dir.path(),
        &[
            "rerun", &id, "--config", &cfg, "--repeat", "2", "--format", "json",
        ],
    )
    .await;
    assert_eq!(ran.code, 2, "stderr: {}", ran.stderr);
    assert!(
        ran.stderr.contains("--repeat re-runs an experiment") && ran.stderr.contains("drop --repeat"),
        "{}",
        ran.stderr
    );
    assert_eq!(server.log().records().len(), sent, "nothing sent");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_experiment_replays_one_cell_run_per_pane_turn_by_turn() {
    let server = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let (_, recorded_dir, _) = original(&server, dir.path()).await;
    server.shutdown().await;
    let session = load(&recorded_dir).unwrap();
    let e = session.experiment.clone().unwrap();
    // One warmup turn, then one per (case, variant, repeat).
    assert_eq!(session.turns.len(), 1 + 2 * 2 * 2);
    assert_eq!(
        experiment_notice(&session).unwrap(),
        format!(
            "experiment: turn 1 is the warmup, then 8 turns, one per (case, variant, repeat); its cells: prism sessions show {}",
            session.meta.id
        ),
        "what the replay shows is said when it starts"
    );
    let mut app = App::new(
        Vec::new(),
        Keymap::default(),
        prism::tui::theme::load("dark").unwrap(),
        String::new(),
    );
    let (_, first) = app.begin_replay(&session, Speed::Max).unwrap();
    assert_eq!(app.panes().len(), 4, "mini, mini@loud, other, other@loud");
    let mut seen = BTreeSet::new();
    for (index, turn) in session.turns.iter().enumerate() {
        // Every answer of a turn is a run of the same case, variant and repeat, one per
        // experiment target: a turn never mixes cells.
        let cells: Vec<_> = turn.answers.values().map(|r| session.cells[&r.run]).collect();
        assert_eq!(cells.len(), 2, "turn {}", turn.number);
        let same = |c: &prism::session::schema::RunCell| (c.case, c.variant, c.repeat, c.warmup);
        assert!(cells.iter().all(|c| same(c) == same(&cells[0])), "{cells:?}");
        assert_ne!(cells[0].target, cells[1].target);
        assert!(seen.insert(same(&cells[0])), "each (case, variant, repeat) once");
        for (&pane, recorded) in &turn.answers {
            let c = session.cells[&recorded.run];
            let name = &session.targets[pane].name;
            let variant = c.variant.map(|v| e.variants[v].name.as_str());
            let expected = match variant {
                Some("loud") => format!("{}@loud", e.targets[c.target]),
                _ => e.targets[c.target].clone(),
            };
            assert_eq!(name, &expected, "the cell's run plays in its target's pane");
        }
        let run = RunId(first.0 + index as u64);
        let base = Instant::now() + Duration::from_secs(3600);
        for (_, msg) in turn_messages(&session, index, run, base, Speed::Max) {
            app.update(msg);
        }
        assert_eq!(app.prompt().lines().join("\n"), turn.prompt);
        for (&t, recorded) in &turn.answers {
            let pane = app.pane(t);
            assert_eq!(
                pane.answer.text(),
                recorded.text(),
                "turn {} pane {t}",
                turn.number
            );
            assert_eq!(pane.status, PaneStatus::Done);
        }
    }
    assert_eq!(seen.len(), 9);
    assert!(app.sends_off().is_some());
}
