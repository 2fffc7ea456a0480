//! `prism run` as scripts use it: the real binary, a real `prism mock` process, a config
//! file, and the JSON contract checked field by field.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::process::{Command, Stdio};

use serde_json::Value;

const PRISM: &str = env!("CARGO_BIN_EXE_prism");

/// The contract's fields, in order: a result row, then the cell's identity, runs and
/// distributions (a plain run is a cell per target with one run).
const FIELDS: [&str; 28] = [
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

/// The fields a cell adds to the row a session records.
const CELL_FIELDS: usize = 9;

use common::MockProcess;

fn config(addr: &str) -> String {
    format!(
        r#"
[defaults]
max_tokens = 200

[[target]]
name = "mini"
provider = "openai"
model = "gpt-4o-mini-2024-07-18+ttft=20,itl=1,tokens=30"
base_url = "http://{addr}/v1"
api_key_env = "PRISM_E2E_OPENAI"

[[target]]
name = "local"
provider = "openai-compatible"
model = "llama3.1:8b+ttft=10,itl=1,tokens=15,usage=none,auth=none"
base_url = "http://{addr}/v1"

[[target]]
name = "claude"
provider = "anthropic"
model = "claude-sonnet-4-20250514+ttft=25,itl=1,tokens=20,tool=lookup"
base_url = "http://{addr}"
api_key_env = "PRISM_E2E_ANTHROPIC"

[[target]]
name = "gem"
provider = "gemini"
model = "gemini-2.5-flash+ttft=15,itl=1,tokens=25,fault=drop_mid,after=10"
base_url = "http://{addr}"
api_key_env = "PRISM_E2E_GEMINI"
"#
    )
}

/// Runs save sessions; unless a test says where, they go to one throwaway directory.
fn scratch_sessions() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fn prism(args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(PRISM)
        .args(args)
        .env("PRISM_SESSIONS_DIR", scratch_sessions())
        .envs(envs.iter().copied())
        .env_remove("PRISM_E2E_GEMINI")
        .stdin(Stdio::null())
        .output()
        .expect("run prism");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn jsonl_contract_against_a_running_mock() {
    let mock = MockProcess::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prism.toml");
    std::fs::write(&cfg, config(&mock.addr)).unwrap();
    let sessions = dir.path().join("sessions");
    let keys = [
        ("PRISM_E2E_OPENAI", "sk-test-not-a-key"),
        ("PRISM_E2E_ANTHROPIC", "sk-ant-test-not-a-key"),
        ("PRISM_SESSIONS_DIR", sessions.to_str().unwrap()),
    ];
    let cfg_s = cfg.to_str().unwrap();
    let (code, stdout, stderr) = prism(
        &[
            "run", "--config", cfg_s, "--format", "jsonl", "--prompt", "Say hi",
        ],
        &keys,
    );
    assert_eq!(code, 1, "one target fails, so exit 1; stderr: {stderr}");
    let rows: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let names: Vec<_> = rows.iter().map(|r| r["target"].as_str().unwrap()).collect();
    assert_eq!(names, ["mini", "local", "claude", "gem"], "config order");
    for r in &rows {
        // `arrival` is there once a second piece of content arrived, and only then.
        let streamed = r["status"] == "ok";
        assert_eq!(r.get("arrival").is_some(), streamed, "{r}");
        if streamed {
            let a = &r["arrival"];
            assert!(a["longest_gap_ms"].as_f64().unwrap() > 0.0, "{r}");
            assert!((0.0..=1.0).contains(&a["burst_share"].as_f64().unwrap()), "{a}");
            assert!(a["itl_per_token_ms"].as_f64().unwrap() > 0.0, "{a}");
        }
        let mut keys: Vec<_> = r
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "arrival")
            .collect();
        // `server` holds what the server said of itself: here only the OpenAI mock's
        // `openai-processing-ms` header (on its Chat Completions routes), after `error`.
        if let Some(at) = keys.iter().position(|k| *k == "server") {
            assert_eq!(r["server"]["header_timings"][0]["name"], "processing", "{r}");
            assert_eq!(keys[at - 1], "error");
            keys.remove(at);
        }
        // `price` says which rate `cost_usd` came from: there exactly when a cost is, after `error`.
        let priced = keys.iter().position(|k| *k == "price");
        assert_eq!(priced.is_some(), r["cost_usd"].is_number(), "{r}");
        if let Some(at) = priced {
            assert_eq!(keys[at - 1], "error");
            keys.remove(at);
        }
        assert_eq!(keys, FIELDS, "exactly the contract's fields, in order");
        assert_eq!(r["retries"], 0);
        let usage: Vec<_> = r["usage"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            usage,
            [
                "input_tokens",
                "output_tokens",
                "cached_input_tokens",
                "cache_write_tokens",
                "reasoning_tokens",
                "source"
            ]
        );
    }
    let (mini, local, claude, gem) = (&rows[0], &rows[1], &rows[2], &rows[3]);
    assert_eq!(
        (mini["status"].as_str(), mini["finish_reason"].as_str()),
        (Some("ok"), Some("stop"))
    );
    assert_eq!(
        (
            mini["usage"]["output_tokens"].as_u64(),
            mini["usage"]["source"].as_str()
        ),
        (
            // The mock counts an OpenAI model's usage with its tokenizer.
            Some(prism::tokens::count_o200k(mini["text"].as_str().unwrap()) as u64),
            Some("provider")
        )
    );
    assert!(
        mini["ttft_ms"].as_f64().unwrap() > 0.0
            && mini["itl_ms"]["p95"].is_number()
            && mini["tokens_per_s"].is_number()
    );
    assert!(mini["request_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(mini["tool_calls"], Value::Null);
    assert_eq!(local["usage"]["source"], "estimate", "no usage from the server");
    assert!(local["usage"]["output_tokens"].as_u64().is_some_and(|n| n > 0));
    // Priced from the built-in table, exactly: $0.15 in / $0.60 out per million.
    let (i, o) = (
        mini["usage"]["input_tokens"].as_u64().unwrap(),
        mini["usage"]["output_tokens"].as_u64().unwrap(),
    );
    let expect = (i * 150_000 + o * 600_000) as f64 / 1e12;
    assert!(
        (mini["cost_usd"].as_f64().unwrap() - expect).abs() < 1e-15,
        "{} vs {expect}",
        mini["cost_usd"]
    );
    assert!(
        local["cost_usd"].is_null(),
        "a model with no known price has no cost, never 0"
    );
    assert_eq!(mini["price"]["entry"], "gpt-4o-mini-2024-07-18");
    assert_eq!(mini["price"]["tier"], "base");
    assert!(mini["price"]["source"].as_str().unwrap().starts_with("LiteLLM "));
    // Claude Sonnet 4 left LiteLLM's map; its last known price still applies.
    assert!(claude["price"]["retired"].is_string(), "{}", claude["price"]);
    assert!(claude["cost_usd"].as_f64().is_some_and(|c| c > 0.0));
    assert!(gem["cost_usd"].is_null(), "never sent: no usage, no cost");
    assert_eq!(claude["finish_reason"], "tool_calls");
    assert_eq!(claude["finish_reason_raw"], "tool_use");
    assert_eq!(claude["tool_calls"][0]["name"], "lookup");
    assert_eq!(gem["status"], "error");
    assert_eq!(gem["error"]["kind"], "missing_key");
    assert!(
        gem["error"]["message"]
            .as_str()
            .unwrap()
            .contains("$PRISM_E2E_GEMINI")
    );
    assert!(gem["ttft_ms"].is_null() && gem["http_status"].is_null());
    assert!(
        !stdout.contains("sk-test-not-a-key") && !stderr.contains("sk-test-not-a-key"),
        "keys never printed"
    );

    // The run was saved: its id is on stderr, and the recorded results are the printed ones.
    let id = stderr
        .lines()
        .find_map(|l| l.strip_prefix("session: "))
        .and_then(|l| l.split_whitespace().next())
        .expect("session id on stderr");
    let saved = prism::session::load(&sessions.join(id)).unwrap();
    assert_eq!(saved.turns.len(), 1);
    for (i, printed) in rows.iter().enumerate() {
        let mut printed = printed.clone();
        for field in &FIELDS[FIELDS.len() - CELL_FIELDS..] {
            printed.as_object_mut().unwrap().remove(*field);
        }
        let printed = &printed;
        assert_eq!(
            saved.turns[0].answers[&i]
                .row
                .as_ref()
                .map(|r| serde_json::to_value(r).unwrap())
                .as_ref(),
            Some(printed),
            "target {i}"
        );
    }
    for f in std::fs::read_dir(sessions.join(id)).unwrap() {
        let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
        assert!(!text.contains("sk-test-not-a-key") && !text.contains("sk-ant-test-not-a-key"));
    }
    let (_, _, quiet) = prism(
        &[
            "run",
            "--config",
            cfg_s,
            "--format",
            "jsonl",
            "--prompt",
            "Say hi",
            "--no-save",
        ],
        &keys,
    );
    assert!(!quiet.contains("session: "), "--no-save saves nothing: {quiet}");
    assert_eq!(std::fs::read_dir(&sessions).unwrap().count(), 1);

    // json is the same objects in one array.
    let (_, json, _) = prism(
        &[
            "run", "--config", cfg_s, "--format", "json", "--target", "mini", "--prompt", "Say hi",
        ],
        &keys,
    );
    let arr: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(arr.as_array().map(Vec::len), Some(1));
}

#[test]
fn demo_runs_three_provider_kinds_with_no_config_or_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(PRISM)
        .args(["run", "--demo", "--format", "jsonl", "--prompt", "hello"])
        .current_dir(dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .env("PRISM_SESSIONS_DIR", dir.path().join("sessions"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<_> = rows.iter().map(|r| r["provider"].as_str().unwrap()).collect();
    // The last is OpenAI again, over the Responses API.
    assert_eq!(kinds, ["openai", "anthropic", "gemini", "openai"]);
    assert!(
        rows.iter()
            .all(|r| r["status"] == "ok" && r["usage"]["source"] == "provider")
    );

    let table = Command::new(PRISM)
        .args(["run", "--demo", "--format", "table", "--no-save"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    for needle in [
        "TTFT ms",
        "gpt-4o-mini",
        "claude-sonnet",
        "gemini-flash",
        "o4-mini",
        "stop",
    ] {
        assert!(text.contains(needle), "table lacks {needle}:\n{text}");
    }
}

#[test]
fn bad_usage_and_bad_config_exit_2_with_a_located_message() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "[[target]]\nname = \"a\"\nprovider = \"openai\"\nmodel = \"gpt-4o-2024-08-06\"\nmax_token = 5\n",
    )
    .unwrap();
    let (code, _, stderr) = prism(&["run", "--config", cfg.to_str().unwrap(), "--prompt", "x"], &[]);
    assert_eq!(code, 2);
    assert!(
        stderr
            .contains("bad.toml:5:1: unknown key \"max_token\" in [[target]] — did you mean \"max_tokens\"?"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");

    let (code, _, stderr) = prism(
        &["run", "--config", "/nonexistent/prism.toml", "--prompt", "x"],
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = prism(&["run", "--demo", "--target", "nope", "--prompt", "x"], &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no target named `nope`"), "{stderr}");
    let (code, _, _) = prism(&["run", "--format", "yaml"], &[]);
    assert_eq!(code, 2);
}

#[test]
fn unpinned_models_warn_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("p.toml");
    std::fs::write(&cfg, "[[target]]\nname = \"a\"\nprovider = \"openai-compatible\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"llama3:latest\"\n").unwrap();
    let (code, stdout, stderr) = prism(
        &[
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--prompt",
            "x",
            "--format",
            "jsonl",
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("warning:") && stderr.contains("llama3:latest"),
        "{stderr}"
    );
    let row: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(row["error"]["kind"], "connect");
}

#[test]
fn count_prints_tokens_for_scripts() {
    use std::io::Write;
    let mut child = Command::new(PRISM)
        .args(["count", "--model", "gpt-4-0613"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"hello world").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");
    assert!(out.stderr.is_empty(), "cl100k is exact for GPT-4");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("p.txt");
    std::fs::write(&f, "tiktoken is great!").unwrap();
    let out = Command::new(PRISM)
        .args(["count", "--model", "gemini-2.5-flash"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "6");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("estimate"),
        "other tokenizers are estimated, and say so"
    );
}

#[test]
fn preflight_and_budget_in_prism_run() {
    let mock = MockProcess::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("p.toml");
    let base = format!(
        "[[target]]\nname = \"mini\"\nprovider = \"openai\"\nmodel = \"gpt-4o-mini-2024-07-18+ttft=1,itl=0,tokens=3\"\nbase_url = \"http://{0}/v1\"\napi_key_env = \"PRISM_E2E_OPENAI\"\nmax_tokens = 100\n\n[[target]]\nname = \"big\"\nprovider = \"openai\"\nmodel = \"gpt-4.1-2025-04-14+ttft=1,itl=0,tokens=3\"\nbase_url = \"http://{0}/v1\"\napi_key_env = \"PRISM_E2E_OPENAI\"\nmax_tokens = 100\n",
        mock.addr
    );
    std::fs::write(&cfg, &base).unwrap();
    let prompt = dir.path().join("long.txt");
    std::fs::write(&prompt, "word ".repeat(130_000)).unwrap();
    let keys = [("PRISM_E2E_OPENAI", "sk-test-not-a-key")];
    let (code, stdout, stderr) = prism(
        &[
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--prompt-file",
            prompt.to_str().unwrap(),
            "--format",
            "jsonl",
        ],
        &keys,
    );
    assert_eq!(code, 1);
    let said: Vec<&str> = stderr.lines().filter(|l| l.contains("not sent")).collect();
    assert_eq!(said.len(), 1, "one line, for the refused target only: {stderr}");
    assert!(
        said[0].starts_with("mini: not sent: the prompt is") && said[0].contains("context window"),
        "{stderr}"
    );
    let rows: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(
        rows[0]["error"]["kind"], "context_length",
        "128k window: not sent"
    );
    assert!(
        rows[0]["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("not sent: the prompt is")
    );
    assert!(rows[0]["http_status"].is_null());
    assert_eq!(rows[1]["status"], "ok", "gpt-4.1 has a 1M window");

    std::fs::write(&cfg, format!("budget_usd = 0.00001\n{base}")).unwrap();
    let (code, stdout, stderr) = prism(
        &[
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--prompt",
            "hi",
            "--format",
            "jsonl",
        ],
        &keys,
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("over budget_usd $0.00001;"), "{stderr}");
}

/// Waits for `done`, polling; only a hung process reaches the limit.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "gave up waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn ctrl_c_prints_what_arrived_and_exits_130() {
    use std::io::{Read, Write};
    // A server that sends the start of an answer and then goes silent, holding the stream.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (release, held) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut buf).unwrap();
            assert!(n > 0, "the client closed before sending its request");
            head.extend_from_slice(&buf[..n]);
        }
        sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n")
            .unwrap();
        sock.write_all(
            b"data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"partial answer\"},\"finish_reason\":null}]}\n\n",
        )
        .unwrap();
        sock.flush().unwrap();
        let _ = held.recv_timeout(std::time::Duration::from_secs(120));
    });

    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prism.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[target]]\nname = \"stalls\"\nprovider = \"openai-compatible\"\nmodel = \"m\"\nbase_url = \"http://{addr}/v1\"\nidle_timeout = 600\n"
        ),
    )
    .unwrap();
    let sessions = dir.path().join("sessions");
    let mut child = Command::new(PRISM)
        .args([
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--prompt",
            "hi",
            "--format",
            "jsonl",
        ])
        .env("PRISM_SESSIONS_DIR", &sessions)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The text has reached Prism once its session has it on disk.
    let arrived = || {
        std::fs::read_dir(&sessions)
            .into_iter()
            .flatten()
            .flatten()
            .any(|s| {
                std::fs::read_to_string(s.path().join("events.jsonl"))
                    .is_ok_and(|t| t.contains("partial answer"))
            })
    };
    wait_for("the first words to be saved", arrived);
    let status = Command::new("kill")
        .args(["-s", "INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    wait_for("prism to exit", || child.try_wait().unwrap().is_some());
    let out = child.wait_with_output().unwrap();
    release.send(()).unwrap();
    server.join().unwrap();

    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let row: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    assert_eq!(row["text"], "partial answer", "what arrived is printed");
    assert!(stderr.contains("interrupted by Ctrl-C"), "{stderr}");
}

#[test]
fn a_key_bound_for_plain_http_off_this_machine_is_warned_about_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("p.toml");
    // The key variable is unset, so nothing is sent anywhere: only the warning matters.
    let target = |name: &str, url: &str, more: &str| {
        format!(
            "[[target]]\nname = \"{name}\"\nprovider = \"openai-compatible\"\nmodel = \"m\"\nbase_url = \"{url}\"\napi_key_env = \"PRISM_TEST_UNSET_KEY\"\n{more}"
        )
    };
    std::fs::write(
        &cfg,
        format!(
            "{}{}{}",
            target("gateway", "http://192.0.2.10:8080/v1", ""),
            target(
                "trusted",
                "http://192.0.2.11:8080/v1",
                "allow_insecure_http = true\n"
            ),
            target("local", "http://127.0.0.1:9/v1", ""),
        ),
    )
    .unwrap();
    let (code, _, stderr) = prism(
        &[
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--prompt",
            "x",
            "--format",
            "jsonl",
            "--no-save",
        ],
        &[],
    );
    assert_eq!(code, 1, "{stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("unencrypted")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].starts_with("warning: ")
            && warnings[0].contains("target `gateway`: `base_url` is http:// to 192.0.2.10")
            && warnings[0].contains("allow_insecure_http = true"),
        "{stderr}"
    );
}

/// `--demo all`: every provider kind side by side, with no config, no key and none of the
/// user's AWS credentials read (wrong ones in the environment would fail the signature
/// the mock checks).
#[test]
fn demo_all_runs_every_provider_kind() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(PRISM)
        .args(["run", "--demo", "all", "--format", "json", "--prompt", "hello"])
        .current_dir(dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .env("HOME", dir.path())
        .env("PRISM_SESSIONS_DIR", dir.path().join("sessions"))
        .env("AWS_ACCESS_KEY_ID", "AKIDNOTTHEDEMO")
        .env("AWS_SECRET_ACCESS_KEY", "not-the-demo-secret")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(rows.len() >= 6, "{rows:?}");
    for r in &rows {
        assert_eq!(r["status"], "ok", "{r}");
        assert!(r["usage"]["output_tokens"].as_u64().unwrap() > 0, "{r}");
        assert!(r["ttft_ms"].as_f64().unwrap() > 0.0, "{r}");
        assert!(
            r["cost_usd"].as_f64().unwrap() > 0.0,
            "every demo target is priced: {r}"
        );
    }
    let kinds: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r["provider"].as_str().unwrap()).collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        [
            "anthropic",
            "azure",
            "bedrock",
            "gemini",
            "openai",
            "openai-compatible"
        ]
    );
}
