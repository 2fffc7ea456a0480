//! `prism run` reaching the endpoints users have: a base URL from `OPENAI_BASE_URL`,
//! headers from the config (one a secret from the environment) seen by the mock server,
//! the secret never printed or saved and masked when a server echoes it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Command, Stdio};

use common::raw::{self, RawServer};
use prism::mock_server::MockServer;
use serde_json::{Value, json};

const PRISM: &str = env!("CARGO_BIN_EXE_prism");
const SECRET: &str = "gw-Secret-7731-zz.Qa";

const CONFIG: &str = r#"
[[target]]
name = "mini"
provider = "openai"
model = "gpt-4o-mini-2024-07-18+tokens=5,ttft=0,itl=0"
api_key_env = "PRISM_E2E_KEY"
headers = { "X-Gateway-Token" = { env = "PRISM_E2E_GW" }, "OpenAI-Organization" = "org-bench" }
"#;

/// `prism run` on `config` with `envs`, off the async workers; (exit code, stdout, stderr).
async fn prism_run(dir: &Path, config: &str, envs: Vec<(&'static str, String)>) -> (i32, String, String) {
    let cfg = dir.join("prism.toml");
    std::fs::write(&cfg, config).unwrap();
    let sessions = dir.join("sessions");
    tokio::task::spawn_blocking(move || {
        let out = Command::new(PRISM)
            .args([
                "run",
                "--config",
                cfg.to_str().unwrap(),
                "--format",
                "jsonl",
                "--prompt",
                "Say hi",
            ])
            .env("PRISM_SESSIONS_DIR", &sessions)
            .env_remove("OPENAI_BASE_URL")
            .envs(envs)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

/// Every byte of every file under `dir`, as text.
fn everything_saved(dir: &Path) -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all.push_str(&everything_saved(&path));
        } else {
            all.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_base_url_variable_and_configured_headers_reach_the_mock() {
    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let base = format!("http://{}/v1", server.addr());
    let (code, stdout, stderr) = prism_run(
        dir.path(),
        CONFIG,
        vec![
            ("OPENAI_BASE_URL", base.clone()),
            ("PRISM_E2E_KEY", "sk-e2e-not-a-key".into()),
            ("PRISM_E2E_GW", SECRET.into()),
        ],
    )
    .await;
    assert_eq!(code, 0, "stderr: {stderr}");
    let row: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(row["status"], "ok", "{row}");
    assert_eq!(
        row["endpoint"],
        json!({"base_url": base, "env": "OPENAI_BASE_URL"})
    );
    assert!(
        stderr.contains(&format!(
            "target `mini`: `base_url` comes from $OPENAI_BASE_URL: {base}"
        )),
        "{stderr}"
    );
    let seen = server.log().records();
    assert_eq!(seen.len(), 1);
    let header = |name: &str| {
        seen[0]
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("x-gateway-token"), Some(SECRET));
    assert_eq!(header("openai-organization"), Some("org-bench"));
    assert_eq!(header("authorization"), Some("Bearer sk-e2e-not-a-key"));
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));
    let saved = everything_saved(&dir.path().join("sessions"));
    assert!(saved.contains("Say hi"), "the run was saved");
    assert!(!saved.contains(SECRET), "the header secret is never saved");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_echoing_the_header_secret_is_masked_everywhere() {
    let echo = RawServer::start(|sock, seen| async move {
        let token = seen.header("x-gateway-token").unwrap_or_default().to_string();
        let body = format!(
            r#"{{"error":{{"message":"gateway token {token} is revoked","type":"invalid_request_error","code":"revoked"}}}}"#
        );
        let mut bytes = raw::head("401 Unauthorized", &[raw::JSON, &format!("content-length: {}", body.len())]);
        bytes.extend_from_slice(body.as_bytes());
        raw::write_then_close(sock, &bytes).await;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = prism_run(
        dir.path(),
        &CONFIG.replace(
            "api_key_env",
            &format!("base_url = \"{}/v1\"\napi_key_env", echo.url()),
        ),
        vec![
            ("PRISM_E2E_KEY", "sk-e2e-not-a-key".into()),
            ("PRISM_E2E_GW", SECRET.into()),
        ],
    )
    .await;
    assert_eq!(code, 1, "the target failed: {stderr}");
    let row: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    let message = row["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("gateway token [redacted] is revoked"),
        "{message}"
    );
    assert_eq!(echo.count(SECRET), 1, "it was sent, once");
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));
    assert!(!everything_saved(&dir.path().join("sessions")).contains(SECRET));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_variable_that_is_not_set_fails_the_target_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = prism_run(
        dir.path(),
        &CONFIG.replace("api_key_env", "base_url = \"http://127.0.0.1:9/v1\"\napi_key_env"),
        vec![("PRISM_E2E_KEY", "sk-e2e-not-a-key".into())],
    )
    .await;
    assert_eq!(code, 1, "{stderr}");
    let row: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(row["error"]["kind"], "missing_key");
    assert_eq!(
        row["error"]["message"],
        "no value for header `X-Gateway-Token`: set $PRISM_E2E_GW"
    );
    assert!(
        row.get("endpoint").is_none(),
        "a configured base_url is not reported: {row}"
    );
}
