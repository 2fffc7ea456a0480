//! `prism run` and prices, as scripts see it: the real binary against a real `prism mock`
//! process. A model name that looks like a typo is warned about on stderr with the closest
//! known name, `price_as` prices a target whose own name is in no price data, a `price_as`
//! typo stops the run with one line, and the session names the price data it used.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::process::{Command, Stdio};

use common::MockProcess;
use serde_json::Value;

const PRISM: &str = env!("CARGO_BIN_EXE_prism");

fn prism(args: &[&str], sessions: &std::path::Path) -> (i32, String, String) {
    let out = Command::new(PRISM)
        .args(args)
        .env("PRISM_SESSIONS_DIR", sessions)
        .env("PRISM_PRICES_TEST_KEY", "sk-test-not-a-key")
        .stdin(Stdio::null())
        .output()
        .expect("run prism");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn config(addr: &str, price_as: &str) -> String {
    format!(
        r#"
[[target]]
name = "typo"
provider = "openai"
model = "gpt-4o-mini-2024-07-81+ttft=5,itl=1,tokens=5"
base_url = "http://{addr}/v1"
api_key_env = "PRISM_PRICES_TEST_KEY"

[[target]]
name = "named"
provider = "openai-compatible"
model = "house-mini+ttft=5,itl=1,tokens=5"
base_url = "http://{addr}/v1"
api_key_env = "PRISM_PRICES_TEST_KEY"
price_as = "{price_as}"
"#
    )
}

#[test]
fn typos_warn_price_as_prices_and_the_session_names_its_data() {
    let mock = MockProcess::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prism.toml");
    let sessions = dir.path().join("sessions");
    std::fs::write(&cfg, config(&mock.addr, "gpt-4o-mini-2024-07-18")).unwrap();
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
        &sessions,
    );
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning:")).collect();
    assert_eq!(warnings.len(), 1, "one warning, for the typo: {stderr}");
    assert!(
        warnings[0].contains(
            "target `typo`: no price or context window is known for `gpt-4o-mini-2024-07-81` (openai)"
        ) && warnings[0].ends_with("did you mean `gpt-4o-mini-2024-07-18`?"),
        "{stderr}"
    );
    let rows: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(
        rows[0]["cost_usd"].is_null() && rows[0].get("price").is_none(),
        "{}",
        rows[0]
    );
    let named = &rows[1];
    let (i, o) = (
        named["usage"]["input_tokens"].as_u64().unwrap(),
        named["usage"]["output_tokens"].as_u64().unwrap(),
    );
    // The mock counts an OpenAI model's output with its tokenizer.
    assert_eq!(
        o,
        prism::tokens::count_o200k(named["text"].as_str().unwrap()) as u64
    );
    // gpt-4o-mini's $0.15 in, $0.60 out per million.
    let expect = (i * 150_000 + o * 600_000) as f64 / 1e12;
    assert!(
        (named["cost_usd"].as_f64().unwrap() - expect).abs() < 1e-15,
        "{named}"
    );
    assert_eq!(named["price"]["entry"], "gpt-4o-mini-2024-07-18");
    assert_eq!(named["price"]["source"], "LiteLLM 1.110.2 (2026-11-30)");
    // The session's first line says which data priced it.
    let session = std::fs::read_dir(&sessions)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let log = std::fs::read_to_string(session.join("events.jsonl")).unwrap();
    let header: Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(header["prices"]["builtin"], "LiteLLM 1.110.2 (2026-11-30)");
    assert!(
        log.contains(r#""price_as":"gpt-4o-mini-2024-07-18""#),
        "the target's settings keep it"
    );
}

#[test]
fn a_price_as_typo_stops_the_run_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prism.toml");
    std::fs::write(&cfg, config("127.0.0.1:9", "gpt-4o-mini-2024-07-81")).unwrap();
    let (code, stdout, stderr) = prism(
        &["run", "--config", cfg.to_str().unwrap(), "--prompt", "hi"],
        &dir.path().join("sessions"),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("prism.toml:15:12: target `named`: `price_as` = \"gpt-4o-mini-2024-07-81\" is not in the price data: did you mean `gpt-4o-mini-2024-07-18`?"),
        "{stderr}"
    );
}
