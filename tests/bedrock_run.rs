//! `prism run` with Bedrock targets beside an OpenAI one, against a real `prism mock`
//! process that verifies every SigV4 signature: keys from the environment, a profile
//! from a temporary `~/.aws`, a `credential_process` script, a Bedrock API key, a wrong
//! secret (Bedrock's 403), a throttling exception before any content (retried, and the
//! retry signed again) and a model error after some (the partial answer kept).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::process::{Command, Stdio};

use common::MockProcess;
use prism::mock_server::{BEDROCK_TEST_ACCESS_KEY_ID as KEY_ID, BEDROCK_TEST_SECRET_ACCESS_KEY as SECRET};
use serde_json::Value;

const PRISM: &str = env!("CARGO_BIN_EXE_prism");
const MODEL: &str = "us.anthropic.claude-3-5-haiku-20241022-v1:0";
const SESSION_TOKEN: &str = "FwoGZXIvYXdzEprismSessionTokenFromTheProcess0123456789";
const API_KEY: &str = "ABSKQmVkcm9ja0FQSUtleS1wcmlzbS10ZXN0";

fn config(addr: &str) -> String {
    let bedrock = |name: &str, directives: &str, more: &str| {
        format!(
            "[[target]]\nname = \"{name}\"\nprovider = \"bedrock\"\nmodel = \"{MODEL}+ttft=0,itl=0,tokens=8,text=lorem{directives}\"\nbase_url = \"http://{addr}\"\nregion = \"us-west-2\"\nallow_insecure_http = true\n{more}\n"
        )
    };
    [
        format!(
            "[defaults]\nmax_tokens = 64\nmax_retries = 2\nmax_retry_wait = 5\n\n[[target]]\nname = \"mini\"\nprovider = \"openai\"\nmodel = \"gpt-4o-mini-2024-07-18+ttft=0,itl=0,tokens=5,text=lorem\"\nbase_url = \"http://{addr}/v1\"\napi_key_env = \"PRISM_E2E_OPENAI\"\nallow_insecure_http = true\n"
        ),
        bedrock("env-keys", "", ""),
        bedrock("profile", "", "profile = \"work\""),
        bedrock("process", ",reasoning=4", "profile = \"process\""),
        bedrock("api-key", "", "api_key_env = \"PRISM_E2E_BEDROCK_KEY\""),
        bedrock("wrong", "", "profile = \"wrong\""),
        bedrock(
            "throttled",
            ",fault=error_event,after=0,exception=throttlingException,fail_first=1",
            "",
        ),
        bedrock("cut", ",fault=error_event,after=4", ""),
    ]
    .join("\n")
}

fn aws_home(dir: &std::path::Path) -> std::path::PathBuf {
    let home = dir.join("home");
    let aws = home.join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    let script = dir.join("creds.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho '{{\"Version\": 1, \"AccessKeyId\": \"{KEY_ID}\", \"SecretAccessKey\": \"{SECRET}\", \"SessionToken\": \"{SESSION_TOKEN}\"}}'\n"
        ),
    )
    .unwrap();
    std::fs::write(
        aws.join("credentials"),
        format!(
            "[work]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n\n[wrong]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = not-the-secret-at-all\n"
        ),
    )
    .unwrap();
    std::fs::write(
        aws.join("config"),
        format!(
            "[profile process]\ncredential_process = sh {}\n",
            script.display()
        ),
    )
    .unwrap();
    home
}

#[test]
fn bedrock_targets_beside_openai_with_every_kind_of_credential() {
    let mock = MockProcess::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prism.toml");
    std::fs::write(&cfg, config(&mock.addr)).unwrap();
    let home = aws_home(dir.path());
    let out = Command::new(PRISM)
        .args([
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--format",
            "jsonl",
            "--no-save",
            "--prompt",
            "Say hi",
        ])
        .env("HOME", &home)
        .env("PRISM_E2E_OPENAI", "sk-test-not-a-key")
        .env("PRISM_E2E_BEDROCK_KEY", API_KEY)
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_BEARER_TOKEN_BEDROCK")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_CONFIG_FILE")
        .env_remove("AWS_SHARED_CREDENTIALS_FILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_BEDROCK_RUNTIME")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "two targets fail; stderr: {stderr}");
    let rows: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let row = |name: &str| rows.iter().find(|r| r["target"] == name).unwrap();

    assert_eq!(row("mini")["status"], "ok");
    for name in ["env-keys", "profile", "process", "api-key", "throttled"] {
        let r = row(name);
        assert_eq!(r["status"], "ok", "{name}: {r}");
        assert_eq!(r["provider"], "bedrock");
        assert_eq!(r["finish_reason"], "stop", "{name}");
        assert_eq!(r["finish_reason_raw"], "end_turn", "{name}");
        let reasoning = if name == "process" { 4 } else { 0 };
        assert_eq!(r["usage"]["output_tokens"], 8 + reasoning, "{name}: {r}");
        assert!(r["text"].as_str().unwrap().len() > 4, "{name}");
        assert!(
            r["ttft_ms"].as_f64().is_some(),
            "{name}: TTFT from the first text delta"
        );
        assert_eq!(r["server"]["source"], "bedrock metrics", "{name}: {r}");
        assert!(r["server"]["total_ms"].as_f64().is_some(), "{name}");
        assert!(
            r["request_id"].as_str().unwrap().starts_with("req_mock_"),
            "{name}"
        );
    }
    assert_eq!(
        row("throttled")["retries"],
        1,
        "the throttled first attempt was retried"
    );

    let wrong = row("wrong");
    assert_eq!(wrong["status"], "error");
    assert_eq!(wrong["error"]["kind"], "auth");
    let message = wrong["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "HTTP 403: InvalidSignatureException: The request signature we calculated does not match"
        ),
        "{message}"
    );
    assert!(message.contains("check the AWS credentials"), "{message}");

    let cut = row("cut");
    assert_eq!(cut["status"], "error");
    assert_eq!(cut["retries"], 0, "never retried after content");
    assert_eq!(cut["error"]["kind"], "stream");
    assert!(
        cut["error"]["message"]
            .as_str()
            .unwrap()
            .contains("modelStreamErrorException"),
        "{cut}"
    );
    assert!(
        !cut["text"].as_str().unwrap().is_empty(),
        "the partial answer is kept"
    );

    // No secret is ever written: not the secret key, the session token or the API key.
    for secret in [SECRET, SESSION_TOKEN, API_KEY] {
        assert!(!stdout.contains(secret) && !stderr.contains(secret));
    }
}
