//! `prism run` experiments as scripts use them: the real binary against the mock server
//! running in this test process, so the test can read what the mock saw (every request,
//! in order, and how many at once). The JSON contract is checked field by field.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use prism::mock_server::MockServer;
use serde_json::Value;

mod common;

use common::run::Ran;

/// A cell's fields, in order: the result row, then the cell's own.
/// Every cell here streamed, so each carries `arrival` (see the README).
const FIELDS: [&str; 29] = [
    "target",
    "provider",
    "model",
    "status",
    "text",
    "finish_reason",
    "finish_reason_raw",
    "usage",
    "ttft_ms",
    "ttfb_ms",
    "total_ms",
    "itl_ms",
    "tokens_per_s",
    "cost_usd",
    "http_status",
    "request_id",
    "retries",
    "tool_calls",
    "error",
    "arrival",
    "variant",
    "case",
    "vars",
    "runs",
    "ttft_ms_dist",
    "total_ms_dist",
    "tokens_per_s_dist",
    "output_tokens_dist",
    "cost_usd_dist",
];

const RUN_FIELDS: [&str; 7] = [
    "status",
    "ttft_ms",
    "total_ms",
    "tokens_per_s",
    "output_tokens",
    "cost_usd",
    "finish_reason",
];

const DIST_FIELDS: [&str; 6] = ["n", "min", "p50", "p95", "max", "mean"];

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
/// `terse` has its own system prompt, `loud` its own prompt and temperature.
fn config(server: &MockServer, directives: &str) -> String {
    let base = server.openai_base();
    format!(
        r#"
[defaults]
max_tokens = 200
api_key_env = "PRISM_EXP_KEY"

[[target]]
name = "mini"
provider = "openai"
model = "gpt-4o-mini-2024-07-18+{directives},seed=1"
base_url = "{base}"

[[target]]
name = "other"
provider = "openai-compatible"
model = "local-model+{directives},seed=2"
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

/// An object's keys, in order. A row's `price` (which rate `cost_usd` came from) is there
/// exactly when a cost is, right after `error`; it is checked here and left out.
fn keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    // `server` is there when the server said something of itself (the OpenAI mock's
    // `openai-processing-ms` header): optional, left out.
    keys.retain(|k| *k != "server");
    if let Some(at) = keys.iter().position(|k| *k == "price") {
        assert_eq!((keys[at - 1], v["cost_usd"].is_number()), ("error", true), "{v}");
        keys.remove(at);
    } else if keys.contains(&"error") {
        assert!(v["cost_usd"].is_null(), "a cost without its price: {v}");
    }
    keys
}

fn lines(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// Nearest-rank percentile of `samples`, computed the slow, obvious way.
fn nearest_rank(samples: &[f64], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank - 1]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cell_contract_field_by_field() {
    let server = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "prism.toml",
        &config(&server, "ttft=5,itl=1,tokens=6,text=lorem"),
    );
    let cases = write(
        dir.path(),
        "cases.csv",
        "id,name,city\nosl,Ada,\"Oslo, Norway\"\nber,Bob,Berlin\n",
    );
    let ran = prism(
        dir.path(),
        &[
            "run",
            "--config",
            &cfg,
            "--cases",
            &cases,
            "--repeat",
            "3",
            "--prompt",
            "Hello {{name}} in {{ city }}",
            "--format",
            "jsonl",
        ],
    )
    .await;
    assert_eq!(ran.code, 0, "stderr: {}", ran.stderr);
    let cells = lines(&ran.stdout);
    // case, then variant, then target in config order.
    let order: Vec<(String, String, String)> = cells
        .iter()
        .map(|c| {
            (
                c["case"].as_str().unwrap().to_string(),
                c["variant"].as_str().unwrap().to_string(),
                c["target"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect: Vec<(String, String, String)> = ["osl", "ber"]
        .iter()
        .flat_map(|case| {
            ["terse", "loud"].iter().flat_map(move |v| {
                ["mini", "other"]
                    .iter()
                    .map(move |t| (case.to_string(), v.to_string(), t.to_string()))
            })
        })
        .collect();
    assert_eq!(order, expect);
    for c in &cells {
        assert_eq!(keys(c), FIELDS, "exactly the contract's fields, in order");
        assert_eq!(c["status"], "ok");
        let runs = c["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 3, "--repeat 3");
        for r in runs {
            assert_eq!(keys(r), RUN_FIELDS);
            assert_eq!(r["status"], "ok");
            // All runs of a cell answer alike; the mock counts them with o200k.
            let counted = prism::tokens::count_o200k(c["text"].as_str().unwrap());
            assert_eq!(r["output_tokens"], counted);
            assert_eq!(r["finish_reason"], "stop");
        }
        // The row is the last run.
        assert_eq!(c["ttft_ms"], runs[2]["ttft_ms"]);
        assert_eq!(c["total_ms"], runs[2]["total_ms"]);
        for field in [
            "ttft_ms_dist",
            "total_ms_dist",
            "tokens_per_s_dist",
            "output_tokens_dist",
            "cost_usd_dist",
        ] {
            assert_eq!(keys(&c[field]), DIST_FIELDS, "{field}");
        }
        // The distribution is the runs' own numbers, by nearest rank.
        let ttft: Vec<f64> = runs.iter().map(|r| r["ttft_ms"].as_f64().unwrap()).collect();
        let d = &c["ttft_ms_dist"];
        assert_eq!(d["n"], 3);
        assert_eq!(d["min"].as_f64(), Some(nearest_rank(&ttft, 0.0)));
        assert_eq!(d["p50"].as_f64(), Some(nearest_rank(&ttft, 50.0)));
        assert_eq!(d["p95"].as_f64(), Some(nearest_rank(&ttft, 95.0)));
        assert_eq!(d["max"].as_f64(), ttft.iter().copied().reduce(f64::max));
        let mean = ttft.iter().sum::<f64>() / 3.0;
        assert!(
            (d["mean"].as_f64().unwrap() - mean).abs() < 0.001,
            "{d} vs {mean}"
        );
        let counted = prism::tokens::count_o200k(c["text"].as_str().unwrap()) as f64;
        assert_eq!(c["output_tokens_dist"]["p50"], counted);
    }
    let osl = &cells[0];
    assert_eq!(
        osl["vars"],
        serde_json::json!({"id": "osl", "name": "Ada", "city": "Oslo, Norway"})
    );
    // Priced target: every run has a cost; the unpriced one has none, never 0.
    assert_eq!(osl["cost_usd_dist"]["n"], 3);
    assert_eq!(cells[1]["cost_usd_dist"]["n"], 0);
    assert!(cells[1]["cost_usd_dist"]["mean"].is_null());

    // What the mock received: the templates filled per variant, 2 targets × 3 runs each.
    let records = server.log().records();
    assert_eq!(records.len(), 2 * 2 * 2 * 3);
    let mut prompts: Vec<&str> = records.iter().map(|r| r.prompt.as_str()).collect();
    prompts.sort_unstable();
    prompts.dedup();
    assert_eq!(
        prompts,
        [
            "Hello Ada in Oslo, Norway",
            "Hello Bob in Berlin",
            "SHOUT AT Ada FROM Oslo, Norway",
            "SHOUT AT Bob FROM Berlin"
        ],
        "terse takes the run's prompt, loud has its own"
    );
    for p in prompts {
        assert_eq!(records.iter().filter(|r| r.prompt == p).count(), 6);
    }
    assert!(!ran.stdout.contains("sk-exp-test-not-a-key") && !ran.stderr.contains("sk-exp-test-not-a-key"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_variable_exits_2_before_anything_is_sent() {
    let server = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "prism.toml",
        &config(&server, "ttft=1,itl=1,tokens=2"),
    );
    // `loud` uses {{city}}, which the second case lacks.
    let cases = write(
        dir.path(),
        "cases.jsonl",
        "{\"id\": \"a\", \"name\": \"Ada\", \"city\": \"Oslo\"}\n{\"id\": \"b\", \"name\": \"Bob\"}\n",
    );
    let ran = prism(
        dir.path(),
        &[
            "run",
            "--config",
            &cfg,
            "--cases",
            &cases,
            "--prompt",
            "Hi {{name}}",
        ],
    )
    .await;
    assert_eq!(ran.code, 2, "stderr: {}", ran.stderr);
    assert_eq!(
        ran.stderr.trim(),
        "prism: no value for `{{city}}` in case \"b\" (the prompt of variant `loud`): add a `city` column to the case table, or remove the variable"
    );
    assert!(server.log().records().is_empty(), "nothing reached the mock");
    assert!(ran.stdout.is_empty());
    assert!(!dir.path().join("sessions").exists(), "no session was started");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonl_cases_without_ids_are_numbered_and_values_are_text() {
    let server = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "prism.toml",
        &config(&server, "ttft=1,itl=1,tokens=2"),
    );
    let cases = write(
        dir.path(),
        "cases.jsonl",
        "{\"name\": \"Ada\", \"city\": 7, \"flag\": true}\n\n{\"name\": \"Bob\", \"city\": \"Rome\"}\n",
    );
    let ran = prism(
        dir.path(),
        &[
            "run",
            "--config",
            &cfg,
            "--cases",
            &cases,
            "--variant",
            "loud",
            "--target",
            "mini",
            "--max-concurrency",
            "1",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(ran.code, 0, "stderr: {}", ran.stderr);
    let cells: Value = serde_json::from_str(&ran.stdout).unwrap();
    let cells = cells.as_array().unwrap();
    assert_eq!(cells.len(), 2);
    assert_eq!(cells[0]["case"], 1, "1-based row number without an id");
    assert_eq!(cells[1]["case"], 2);
    assert_eq!(
        cells[0]["vars"],
        serde_json::json!({"name": "Ada", "city": "7", "flag": "true"})
    );
    let prompts: Vec<String> = server.log().records().into_iter().map(|r| r.prompt).collect();
    assert_eq!(prompts, ["SHOUT AT Ada FROM 7", "SHOUT AT Bob FROM Rome"]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_concurrency_limits_what_one_endpoint_sees_at_once() {
    let server = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let base = server.openai_base();
    let mut cfg = String::from("[defaults]\nmax_tokens = 50\napi_key_env = \"PRISM_EXP_KEY\"\n");
    for i in 0..3 {
        cfg.push_str(&format!(
            "[[target]]\nname = \"t{i}\"\nprovider = \"openai\"\nmodel = \"gpt-4o-mini-2024-07-18+ttft=150,itl=1,tokens=3,seed={i}\"\nbase_url = \"{base}\"\n"
        ));
    }
    let cfg = write(dir.path(), "prism.toml", &cfg);
    let ran = prism(
        dir.path(),
        &[
            "run",
            "--config",
            &cfg,
            "--prompt",
            "hi",
            "--repeat",
            "4",
            "--max-concurrency",
            "2",
            "--format",
            "jsonl",
            "--no-save",
        ],
    )
    .await;
    assert_eq!(ran.code, 0, "stderr: {}", ran.stderr);
    assert_eq!(server.log().records().len(), 12);
    assert_eq!(server.log().max_in_flight(), 2, "at most 2, and 2 were used");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warmups_are_sent_but_not_counted_and_the_summary_scores_each_variant_and_target() {
    let server = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "prism.toml",
        &config(&server, "ttft=1,itl=1,tokens=30"),
    );
    let cases = write(dir.path(), "c.csv", "name,city\nAda,Oslo\n");
    let args = [
        "run",
        "--config",
        &cfg,
        "--cases",
        &cases,
        "--prompt",
        "Hi {{name}}",
        "--repeat",
        "2",
        "--warmup",
        "1",
    ];
    let ran = prism(dir.path(), &[&args[..], &["--format", "jsonl"]].concat()).await;
    assert_eq!(ran.code, 0, "stderr: {}", ran.stderr);
    // 2 warmups (one per target), then 1 case × 2 variants × 2 targets × 2 runs.
    assert_eq!(server.log().records().len(), 2 + 8);
    // Each (variant, target)'s one case answers alike; the mock counts it with o200k.
    let mut counted = std::collections::HashMap::new();
    for c in lines(&ran.stdout) {
        assert_eq!(c["runs"].as_array().unwrap().len(), 2, "warmups are not runs");
        assert_eq!(c["ttft_ms_dist"]["n"], 2);
        let n = prism::tokens::count_o200k(c["text"].as_str().unwrap()) as f64;
        counted.insert((c["variant"].to_string(), c["target"].to_string()), n);
    }

    let ran = prism(
        dir.path(),
        &[&args[..], &["--format", "jsonl", "--summary", "--sort", "tps"]].concat(),
    )
    .await;
    assert_eq!(ran.code, 0, "stderr: {}", ran.stderr);
    let rows = lines(&ran.stdout);
    assert_eq!(rows.len(), 4, "one per (variant, target), instead of the cells");
    for r in &rows {
        assert_eq!(keys(r), SUMMARY_FIELDS);
        assert_eq!((r["n"].as_u64(), r["failures"].as_u64()), (Some(2), Some(0)));
        assert_eq!(r["refusals"], 0);
        assert_eq!(r["finish_reasons"], serde_json::json!({"stop": 2}));
        let key = (r["variant"].to_string(), r["target"].to_string());
        assert_eq!(r["output_tokens_mean"], counted[&key]);
    }
    let tps: Vec<f64> = rows
        .iter()
        .map(|r| r["tokens_per_s_mean"].as_f64().unwrap())
        .collect();
    assert!(tps.windows(2).all(|w| w[0] >= w[1]), "best first: {tps:?}");

    let ran = prism(
        dir.path(),
        &[&args[..], &["--format", "table", "--summary"]].concat(),
    )
    .await;
    assert_eq!(ran.code, 0, "stderr: {}", ran.stderr);
    let out = &ran.stdout;
    assert!(out.contains("── mini · terse · case 1 · openai"), "{out}");
    assert!(out.contains("TTFT p50/p95 ms"), "{out}");
    assert!(out.contains("TTFT mean ms") && out.contains('*'), "{out}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_random_order_prints_its_seed_and_the_seed_repeats_it() {
    let server = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "prism.toml",
        &config(&server, "ttft=1,itl=1,tokens=2"),
    );
    let cases = write(dir.path(), "c.csv", "name,city\nA,1\nB,2\nC,3\n");
    // One target, so one endpoint, one request at a time: arrival order is sending order.
    let args = [
        "run",
        "--config",
        &cfg,
        "--cases",
        &cases,
        "--prompt",
        "hi {{name}}",
        "--target",
        "mini",
        "--repeat",
        "2",
        "--order",
        "random",
        "--max-concurrency",
        "1",
        "--format",
        "jsonl",
        "--no-save",
    ];
    let first = prism(dir.path(), &args).await;
    assert_eq!(first.code, 0, "stderr: {}", first.stderr);
    let seed = first
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("order: random, seed "))
        .and_then(|l| l.split_whitespace().next())
        .expect("the drawn seed is printed")
        .to_string();
    let order = |server: &MockServer| -> Vec<(String, String)> {
        server
            .log()
            .records()
            .into_iter()
            .map(|r| (r.model, r.prompt))
            .collect()
    };
    let seen = order(&server);
    // 3 cases × 2 variants × 2 runs, 6 different requests twice each.
    assert_eq!(seen.len(), 12);
    let second = prism(dir.path(), &[&args[..], &["--seed", &seed]].concat()).await;
    assert_eq!(second.code, 0, "stderr: {}", second.stderr);
    assert_eq!(order(&server)[12..], seen[..], "the same seed, the same order");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_experiment_session_shows_its_scoreboard_and_exports_its_cells() {
    let server = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "prism.toml",
        &config(&server, "ttft=1,itl=1,tokens=3"),
    );
    let cases = write(dir.path(), "c.csv", "id,name,city\nosl,Ada,Oslo\n");
    let ran = prism(
        dir.path(),
        &[
            "run",
            "--config",
            &cfg,
            "--cases",
            &cases,
            "--prompt",
            "Hi {{name}}",
            "--repeat",
            "2",
            "--warmup",
            "1",
            "--format",
            "jsonl",
        ],
    )
    .await;
    assert_eq!(ran.code, 0, "stderr: {}", ran.stderr);
    let id = ran
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("session: "))
        .and_then(|l| l.split_whitespace().next())
        .expect("session id on stderr")
        .to_string();

    let shown = prism(dir.path(), &["sessions", "show", &id]).await;
    assert_eq!(shown.code, 0, "stderr: {}", shown.stderr);
    let out = &shown.stdout;
    assert!(
        out.contains("experiment: 1 case, 2 variants, 2 targets; repeat 2, warmup 1, order interleaved"),
        "{out}"
    );
    assert!(out.contains("variant loud: temperature 0.9, own prompt"), "{out}");
    assert!(
        out.contains("scoreboard:") && out.contains("TTFT mean ms"),
        "{out}"
    );
    assert!(
        out.contains("mini@loud"),
        "the target the loud variant sent to: {out}"
    );
    assert!(out.contains("variant terse, case osl, run 2"), "{out}");
    assert!(out.contains("variant terse, case osl, warmup 1"), "{out}");

    let csv = prism(dir.path(), &["export", &id, "--format", "csv"]).await;
    assert_eq!(csv.code, 0, "stderr: {}", csv.stderr);
    let mut reader = csv::Reader::from_reader(csv.stdout.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header[..26], prism::session::export::CSV_COLUMNS[..26]);
    assert_eq!(
        header[26..],
        [
            "variant",
            "case",
            "run",
            "warmup",
            "schema_valid",
            "schema_errors",
            "cache_write_tokens",
            "cache_saved_usd",
            "tool_calls",
            "tool_arguments",
            "timestamp",
            "system",
            "temperature",
            "top_p",
            "max_tokens",
            "seed",
            "parameters",
            "reasoning_tokens"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2 + 8, "every run, warmups too");
    let warm: Vec<&str> = rows.iter().map(|r| &r[29]).collect();
    assert_eq!(warm.iter().filter(|w| **w == "true").count(), 2);
    assert!(rows.iter().all(|r| &r[27] == "osl"));
    assert!(rows.iter().any(|r| &r[26] == "loud" && &r[28] == "2"));

    let json = prism(dir.path(), &["export", &id, "--format", "json"]).await;
    assert_eq!(json.code, 0, "stderr: {}", json.stderr);
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["experiment"]["repeat"], 2);
    assert_eq!(doc["experiment"]["variants"][1]["temperature"], 0.9);
    assert_eq!(doc["experiment"]["cases"][0]["vars"]["city"], "Oslo");
    let first = &doc["turns"][0]["answers"][0];
    assert_eq!(
        first["cell"],
        serde_json::json!({"variant": 0, "case": 0, "target": 0, "repeat": 0, "warmup": true})
    );
    let md = prism(dir.path(), &["export", &id, "--format", "md"]).await;
    assert_eq!(md.code, 0, "stderr: {}", md.stderr);
    assert!(
        md.stdout.contains("— variant loud, case osl, run 2"),
        "{}",
        md.stdout
    );

    // A replay of every run is possible turn by turn: each turn holds every target once.
    let session = prism::session::load(&dir.path().join("sessions").join(&id)).unwrap();
    assert_eq!(session.turns.len(), 1 + 2 * 2);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_budget_covers_every_run_of_the_matrix() {
    let server = mock().await;
    let dir = tempfile::tempdir().unwrap();
    // `mini`'s worst case is about $0.00012 a run (200 tokens out at $0.60 per million);
    // `other` has no price.
    let cfg = format!("budget_usd = 0.001\n{}", config(&server, "ttft=1,itl=1,tokens=2"));
    let cfg = write(dir.path(), "prism.toml", &cfg);
    let run = |repeat: &'static str| {
        let cfg = cfg.clone();
        let dir = dir.path().to_path_buf();
        async move {
            prism(
                &dir,
                &[
                    "run",
                    "--config",
                    &cfg,
                    "--variant",
                    "terse",
                    "--prompt",
                    "hi",
                    "--repeat",
                    repeat,
                    "--format",
                    "jsonl",
                    "--no-save",
                ],
            )
            .await
        }
    };
    let ran = run("10").await;
    assert_eq!(ran.code, 2, "stderr: {}", ran.stderr);
    assert!(
        ran.stderr.contains("over budget_usd $0.001") && ran.stderr.contains("all 20 runs"),
        "{}",
        ran.stderr
    );
    assert!(server.log().records().is_empty(), "nothing was sent");
    let ran = run("2").await;
    assert_eq!(ran.code, 0, "stderr: {}", ran.stderr);
    assert_eq!(server.log().records().len(), 4);

    let ran = prism(
        dir.path(),
        &["run", "--config", &cfg, "--variant", "nope", "--prompt", "hi"],
    )
    .await;
    assert_eq!(ran.code, 2);
    assert_eq!(
        ran.stderr.trim(),
        "prism: no variant named `nope`; known: terse, loud"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_run_has_one_run_per_cell_and_no_experiment_fields_set() {
    let server = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "prism.toml",
        &config(&server, "ttft=1,itl=1,tokens=3"),
    );
    // No variants: the config's are all picked unless --variant names some, so use a
    // config without them.
    let plain: String = std::fs::read_to_string(&cfg)
        .unwrap()
        .split("[[variant]]")
        .next()
        .unwrap()
        .to_string();
    let cfg = write(dir.path(), "plain.toml", &plain);
    let ran = prism(
        dir.path(),
        &["run", "--config", &cfg, "--prompt", "hi", "--format", "jsonl"],
    )
    .await;
    assert_eq!(ran.code, 0, "stderr: {}", ran.stderr);
    for c in lines(&ran.stdout) {
        assert_eq!(keys(&c), FIELDS);
        assert!(c["variant"].is_null() && c["case"].is_null());
        assert_eq!(c["vars"], serde_json::json!({}));
        assert_eq!(c["runs"].as_array().unwrap().len(), 1);
        assert_eq!(c["ttft_ms_dist"]["n"], 1);
        assert_eq!(c["ttft_ms_dist"]["p95"], c["ttft_ms"]);
    }
    server.shutdown().await;
}
