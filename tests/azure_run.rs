//! `prism run` with Azure OpenAI targets beside an OpenAI one, against the mock: the exact
//! URL (path and query) and auth header each sends (api-key, a token from the
//! environment, a token from a fake `az` on PATH, fetched once for every target), the
//! deployment priced by `price_as` or by the model the response names, the content
//! filter's verdicts in the row, a refused prompt reported by its categories, and no key
//! or token ever printed or saved.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use prism::mock_server::{MockServer, SendRecord};
use serde_json::Value;

const PRISM: &str = env!("CARGO_BIN_EXE_prism");
const AZURE_KEY: &str = "azkey-E2E-7731-Qx";
const AD_TOKEN: &str = "entra-env-token-55Zq";
const FAST: &str = "tokens=5,text=lorem,ttft=0,itl=0";

/// `prism run` on `config` with `envs` (Azure's own variables cleared first); (exit
/// code, rows, stderr).
async fn prism_run(dir: &Path, config: &str, envs: Vec<(&'static str, String)>) -> (i32, Vec<Value>, String) {
    let cfg = dir.join("prism.toml");
    std::fs::write(&cfg, config).unwrap();
    let sessions = dir.join("sessions");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(PRISM)
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
            .env_remove("AZURE_OPENAI_ENDPOINT")
            .env_remove("OPENAI_API_VERSION")
            .env_remove("AZURE_OPENAI_API_KEY")
            .env_remove("AZURE_OPENAI_AD_TOKEN")
            .envs(envs)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let rows = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (
        out.status.code().unwrap_or(-1),
        rows,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn row<'a>(rows: &'a [Value], target: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["target"] == target)
        .unwrap_or_else(|| panic!("no row for {target}: {rows:?}"))
}

/// The request the mock received whose body names `model`.
fn request<'a>(seen: &'a [SendRecord], model: &str) -> &'a SendRecord {
    seen.iter()
        .find(|r| r.model == model)
        .unwrap_or_else(|| panic!("no request for {model}"))
}

fn header<'a>(r: &'a SendRecord, name: &str) -> Option<&'a str> {
    r.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
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

async fn mock() -> MockServer {
    MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_classic_and_v1_targets_run_beside_an_openai_one() {
    let server = mock().await;
    let addr = server.addr();
    let config = format!(
        r#"
[[target]]
name = "gpt"
provider = "openai"
base_url = "http://{addr}/v1"
model = "gpt-4o-mini-2024-07-18+{FAST}"
api_key_env = "PRISM_E2E_OPENAI_KEY"

[[target]]
name = "az-classic"
provider = "azure"
base_url = "http://{addr}"
deployment = "chat-prod"
api_version = "2024-10-21"
headers = {{ "x-mock-script" = "{FAST},served=gpt-4o-mini-2024-07-18" }}

[[target]]
name = "az-v1"
provider = "azure"
base_url = "http://{addr}/openai/v1"
deployment = "fast-lane"
azure_auth = "token-env"
price_as = "gpt-4o-2024-08-06"
headers = {{ "x-mock-script" = "{FAST}" }}
"#
    );
    let dir = tempfile::tempdir().unwrap();
    let (code, rows, stderr) = prism_run(
        dir.path(),
        &config,
        vec![
            ("PRISM_E2E_OPENAI_KEY", "sk-e2e-openai-key".into()),
            ("AZURE_OPENAI_API_KEY", AZURE_KEY.into()),
            ("AZURE_OPENAI_AD_TOKEN", AD_TOKEN.into()),
        ],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(rows.len(), 3);
    for r in &rows {
        assert_eq!(r["status"], "ok", "{r}");
    }

    let seen = server.log().records();
    let classic = request(&seen, "chat-prod");
    assert_eq!(classic.path, "/openai/deployments/chat-prod/chat/completions");
    assert_eq!(classic.query.as_deref(), Some("api-version=2024-10-21"));
    assert_eq!(header(classic, "api-key"), Some(AZURE_KEY));
    assert_eq!(header(classic, "authorization"), None);
    let v1 = request(&seen, "fast-lane");
    assert_eq!(v1.path, "/openai/v1/chat/completions");
    assert_eq!(v1.query, None);
    assert_eq!(header(v1, "authorization"), Some(&*format!("Bearer {AD_TOKEN}")));
    assert_eq!(header(v1, "api-key"), None);
    let body: Value = serde_json::from_str(&v1.body).unwrap();
    assert_eq!(body["model"], "fast-lane", "v1 sends the deployment as the model");
    assert_eq!(body["stream_options"]["include_usage"], true);

    let classic_row = row(&rows, "az-classic");
    assert_eq!(
        (&classic_row["provider"], &classic_row["model"]),
        (&Value::from("azure"), &Value::from("chat-prod"))
    );
    // Priced as the model the response names; the row shows the verdicts beside it.
    assert!(classic_row["cost_usd"].as_f64().unwrap() > 0.0, "{classic_row}");
    assert_eq!(classic_row["server"]["model"], "gpt-4o-mini-2024-07-18");
    let filter = &classic_row["server"]["content_filter"];
    assert_eq!(filter["prompt"].as_array().unwrap().len(), 5, "{filter}");
    assert_eq!(filter["completion"][0]["severity"], "safe", "{filter}");
    assert_eq!(classic_row["usage"]["source"], "provider");
    assert!(classic_row["ttft_ms"].is_number());
    assert_eq!(classic_row["finish_reason"], "stop");

    let v1_row = row(&rows, "az-v1");
    let gpt_row = row(&rows, "gpt");
    assert!(
        v1_row["cost_usd"].as_f64().unwrap() > 0.0,
        "priced as price_as: {v1_row}"
    );
    // An OpenAI row has no verdicts and names no served model (its server object holds
    // only the mock's `openai-processing-ms` header).
    assert_eq!(
        (&gpt_row["server"]["content_filter"], &gpt_row["server"]["model"]),
        (&Value::Null, &Value::Null),
        "an OpenAI row is unchanged: {gpt_row}"
    );
    assert_eq!(
        gpt_row["server"]["header_timings"][0]["header"], "openai-processing-ms",
        "{gpt_row}"
    );
    assert!(
        stderr.contains("deployment `chat-prod` is not a model Prism has prices for"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("target `az-v1`: deployment"),
        "price_as prices it: {stderr}"
    );

    let saved = everything_saved(&dir.path().join("sessions"));
    assert!(saved.contains("Say hi"), "the run was saved");
    for secret in [AZURE_KEY, AD_TOKEN] {
        assert!(!saved.contains(secret), "{secret} was saved");
        assert!(!stderr.contains(secret) && !rows.iter().any(|r| r.to_string().contains(secret)));
    }
    server.shutdown().await;
}

/// A fake `az` on PATH answering with `body`; its runs are counted in `dir/runs`.
fn az_on_path(dir: &Path, body: &str) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let az = bin.join("az");
    std::fs::write(
        &az,
        format!(
            "#!/bin/sh\necho run >> '{}'\n{body}\n",
            dir.join("runs").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default())
}

const CLI_TOKEN: &str = "entra-cli-token-QQ91z";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_from_the_azure_cli_a_refused_prompt_and_an_unpriced_deployment() {
    let server = mock().await;
    let addr = server.addr();
    let dir = tempfile::tempdir().unwrap();
    let path = az_on_path(
        dir.path(),
        &format!(
            "printf '{{\"accessToken\":\"{CLI_TOKEN}\",\"expires_on\":%s,\"tokenType\":\"Bearer\"}}' $(( $(date +%s) + 3600 ))"
        ),
    );
    let config = format!(
        r#"
[defaults]
provider = "azure"
base_url = "http://{addr}/openai/v1"
headers = {{ "x-mock-script" = "{FAST}" }}

[[target]]
name = "cli-a"
deployment = "gpt-4o-mini"
azure_auth = "cli"

[[target]]
name = "cli-b"
deployment = "gpt-4o"
azure_auth = "cli"

[[target]]
name = "blocked"
base_url = "http://{addr}"
api_version = "2025-04-01-preview"
deployment = "guarded"
headers = {{ "x-mock-script" = "{FAST},prompt_filter=violence+hate" }}

[[target]]
name = "house"
deployment = "house-model"
headers = {{ "x-mock-script" = "{FAST},served=house-llm-1" }}
"#
    );
    let (code, rows, stderr) = prism_run(
        dir.path(),
        &config,
        vec![("PATH", path), ("AZURE_OPENAI_API_KEY", AZURE_KEY.into())],
    )
    .await;
    assert_eq!(code, 1, "one target failed: {stderr}");
    let seen = server.log().records();
    for (target, deployment) in [("cli-a", "gpt-4o-mini"), ("cli-b", "gpt-4o")] {
        assert_eq!(row(&rows, target)["status"], "ok", "{rows:?}");
        let r = request(&seen, deployment);
        assert_eq!(header(r, "authorization"), Some(&*format!("Bearer {CLI_TOKEN}")));
        assert_eq!(header(r, "api-key"), None);
    }
    let runs = std::fs::read_to_string(dir.path().join("runs")).unwrap();
    assert_eq!(runs.lines().count(), 1, "one token for every target of the run");

    let blocked = row(&rows, "blocked");
    assert_eq!(blocked["status"], "error");
    assert_eq!(blocked["error"]["kind"], "invalid_request");
    assert_eq!(
        blocked["error"]["message"],
        "HTTP 400: prompt blocked by the content filter: hate, violence — change the prompt (the deployment's content filter policy decides what it blocks)"
    );
    assert_eq!(
        request(&seen, "guarded").path,
        "/openai/deployments/guarded/chat/completions"
    );

    let house = row(&rows, "house");
    assert_eq!(house["status"], "ok");
    assert_eq!(house["cost_usd"], Value::Null);
    assert_eq!(
        house["notes"],
        serde_json::json!([
            "no cost: neither deployment `house-model` nor the model the response names, `house-llm-1`, has a known price; set `price_as` to the model behind the deployment"
        ])
    );
    assert!(
        stderr.contains("target `house`: deployment `house-model` is not a model Prism has prices for"),
        "{stderr}"
    );

    assert!(!stderr.contains(CLI_TOKEN));
    assert!(!rows.iter().any(|r| r.to_string().contains(CLI_TOKEN)));
    assert!(!everything_saved(&dir.path().join("sessions")).contains(CLI_TOKEN));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_azure_cli_fails_its_target_alone_with_what_to_do() {
    let server = mock().await;
    let addr = server.addr();
    let dir = tempfile::tempdir().unwrap();
    let path = az_on_path(
        dir.path(),
        "echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1",
    );
    let config = format!(
        r#"
[[target]]
name = "gpt"
provider = "openai"
base_url = "http://{addr}/v1"
model = "gpt-4o-mini-2024-07-18+{FAST}"
api_key_env = "PRISM_E2E_OPENAI_KEY"

[[target]]
name = "entra"
provider = "azure"
base_url = "http://{addr}"
deployment = "chat-prod"
api_version = "v1"
azure_auth = "cli"
"#
    );
    let (code, rows, stderr) = prism_run(
        dir.path(),
        &config,
        vec![
            ("PATH", path),
            ("PRISM_E2E_OPENAI_KEY", "sk-e2e-openai-key".into()),
        ],
    )
    .await;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(row(&rows, "gpt")["status"], "ok");
    let entra = row(&rows, "entra");
    assert_eq!(entra["error"]["kind"], "missing_key");
    assert_eq!(
        entra["error"]["message"],
        "the Azure CLI gave no token (`az account get-access-token` exited with status 1: Please run 'az login' to setup account.); run `az login`"
    );
    assert_eq!(
        entra.get("notes"),
        None,
        "nothing was used, so nothing lacks a cost"
    );
    assert_eq!(
        server.log().records().len(),
        1,
        "nothing was sent without a token"
    );
    server.shutdown().await;
}
