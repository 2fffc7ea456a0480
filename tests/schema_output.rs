//! Structured output end to end: one JSON Schema, the exact field each provider gets it
//! in (golden request bodies), the mock's schema-shaped answers over real HTTP, and each
//! answer checked: valid, a violation with its JSON pointer, truncated JSON, and what
//! `prism run --schema` prints.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use prism::config::parse;
use prism::engine::metrics::TargetRun;
use prism::engine::{RunOptions, fan_out};
use prism::mock_server::MockServer;
use prism::pricing::PriceTable;
use prism::provider::build_request;
use prism::provider::credentials::Credentials;
use prism::provider::request::{ChatRequest, OutputSchema};
use prism::target::{Api, ProviderKind, SchemaMode, Target};
use serde_json::{Value, json};

const PRISM: &str = env!("CARGO_BIN_EXE_prism");

fn order_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "items": {"type": "array", "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
                "required": ["name", "price"],
                "additionalProperties": false
            }}
        },
        "required": ["id", "items"],
        "additionalProperties": false
    })
}

fn order() -> OutputSchema {
    OutputSchema {
        name: "order".into(),
        schema: order_schema(),
        strict: true,
    }
}

/// A config with one target per mapping, each reading `order.json` from `dir`.
fn configured(dir: &Path) -> Vec<Target> {
    std::fs::write(dir.join("order.json"), order_schema().to_string()).unwrap();
    let text = r#"
schema = "order.json"

[[target]]
name = "openai"
provider = "openai"
model = "gpt-4o-mini-2024-07-18"

[[target]]
name = "compat-object"
provider = "openai-compatible"
model = "llama3.1:8b"
base_url = "http://127.0.0.1:1/v1"
schema_mode = "json_object"

[[target]]
name = "openai-tool"
provider = "openai"
model = "gpt-4o-mini-2024-07-18"
schema_mode = "tool"

[[target]]
name = "responses"
provider = "openai"
api = "responses"
model = "gpt-4.1-mini-2025-04-14"

[[target]]
name = "claude-native"
provider = "anthropic"
model = "claude-sonnet-4-5-20250929"
max_tokens = 100

[[target]]
name = "claude-tool"
provider = "anthropic"
model = "claude-3-5-haiku-20241022"
max_tokens = 100

[[target]]
name = "gemini"
provider = "gemini"
model = "gemini-2.5-flash"

[[target]]
name = "bedrock"
provider = "bedrock"
model = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
region = "us-west-2"

[[target]]
name = "azure"
provider = "azure"
base_url = "https://res.openai.azure.com"
deployment = "prod-mini"
api_version = "2024-10-21"
"#;
    parse(text, &dir.join("prism.toml")).unwrap().targets
}

fn sent(target: &Target) -> (reqwest::Request, Value) {
    let client = prism::provider::client::TimedClient::new(Duration::from_secs(2))
        .unwrap()
        .http;
    let req = build_request(
        &client,
        target,
        &ChatRequest::single(None, "Two items."),
        &Credentials::None,
    )
    .unwrap();
    let body = serde_json::from_slice(req.body().unwrap().as_bytes().unwrap()).unwrap();
    (req, body)
}

#[test]
fn golden_request_bodies_per_provider() {
    let dir = tempfile::tempdir().unwrap();
    let targets = configured(dir.path());
    let s = order_schema();
    let by = |name: &str| targets.iter().find(|t| t.name == name).unwrap();

    let (_, b) = sent(by("openai"));
    assert_eq!(
        b,
        json!({
            "model": "gpt-4o-mini-2024-07-18",
            "messages": [{"role": "user", "content": "Two items."}],
            "stream": true,
            "stream_options": {"include_usage": true},
            "response_format": {"type": "json_schema", "json_schema": {"name": "order", "strict": true, "schema": s}},
        })
    );
    let (_, b) = sent(by("azure"));
    assert_eq!(
        b["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "order", "strict": true, "schema": s}})
    );
    let (_, b) = sent(by("compat-object"));
    assert_eq!(b["response_format"], json!({"type": "json_object"}));
    let (_, b) = sent(by("openai-tool"));
    assert_eq!(
        (&b["tools"], &b["tool_choice"]),
        (
            &json!([{"type": "function", "function": {"name": "order", "parameters": s, "strict": true}}]),
            &json!({"type": "function", "function": {"name": "order"}})
        )
    );
    assert!(b.get("response_format").is_none());

    let (_, b) = sent(by("responses"));
    assert_eq!(
        b["text"],
        json!({"format": {"type": "json_schema", "name": "order", "schema": s, "strict": true}})
    );

    let (req, b) = sent(by("claude-native"));
    assert_eq!(b["output_format"], json!({"type": "json_schema", "schema": s}));
    assert!(b.get("tools").is_none());
    assert_eq!(req.headers()["anthropic-beta"], "structured-outputs-2025-11-13");

    let (req, b) = sent(by("claude-tool"));
    assert_eq!(
        b,
        json!({
            "model": "claude-3-5-haiku-20241022",
            "max_tokens": 100,
            "messages": [{"role": "user", "content": "Two items."}],
            "stream": true,
            "tools": [{
                "name": "order",
                "description": "Give the answer as this tool's input: a JSON value that follows its input schema.",
                "input_schema": s
            }],
            "tool_choice": {"type": "tool", "name": "order"},
        })
    );
    assert!(req.headers().get("anthropic-beta").is_none());

    let (_, b) = sent(by("gemini"));
    assert_eq!(
        b["generationConfig"],
        json!({"responseMimeType": "application/json", "responseJsonSchema": s})
    );

    let (_, b) = sent(by("bedrock"));
    assert_eq!(
        b["toolConfig"],
        json!({
            "tools": [{"toolSpec": {
                "name": "order",
                "description": "Give the answer as this tool's input: a JSON value that follows its input schema.",
                "inputSchema": {"json": s}
            }}],
            "toolChoice": {"tool": {"name": "order"}}
        })
    );
}

#[test]
fn gemini_response_schema_goes_translated_and_the_load_says_what_it_dropped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("order.json"), order_schema().to_string()).unwrap();
    let text = "schema = \"order.json\"\n\n[[target]]\nname = \"gemini-subset\"\nprovider = \"gemini\"\n\
                model = \"gemini-2.5-flash\"\nschema_mode = \"response_schema\"\n";
    let cfg = parse(text, &dir.path().join("prism.toml")).unwrap();
    assert_eq!(
        cfg.warnings,
        [
            "target `gemini-subset`: schema `order` as Gemini `responseSchema` drops what that subset \
          cannot say: /properties/items/items/additionalProperties, /additionalProperties; use \
          `schema_mode = \"json_schema\"` to send the whole schema"
        ]
    );
    let (_, b) = sent(&cfg.targets[0]);
    assert_eq!(
        b,
        json!({
            "contents": [{"role": "user", "parts": [{"text": "Two items."}]}],
            "generationConfig": {
                "responseMimeType": "application/json",
                "responseSchema": {
                    "type": "OBJECT",
                    "properties": {
                        "id": {"type": "INTEGER"},
                        "items": {"type": "ARRAY", "items": {
                            "type": "OBJECT",
                            "properties": {"name": {"type": "STRING"}, "price": {"type": "NUMBER"}},
                            "propertyOrdering": ["name", "price"],
                            "required": ["name", "price"]
                        }}
                    },
                    "propertyOrdering": ["id", "items"],
                    "required": ["id", "items"]
                }
            }
        })
    );
}

#[test]
fn a_configured_anthropic_beta_header_keeps_its_value_and_gains_the_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = configured(dir.path())
        .into_iter()
        .find(|t| t.name == "claude-native")
        .unwrap();
    t.params.headers = vec![prism::target::Header {
        name: "anthropic-beta".into(),
        value: prism::target::HeaderSource::Literal("context-1m-2025-08-07".into()),
    }];
    let (req, _) = sent(&t);
    assert_eq!(
        req.headers()["anthropic-beta"],
        "context-1m-2025-08-07,structured-outputs-2025-11-13"
    );
}

#[test]
fn bad_schemas_and_modes_are_refused_at_load_where_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prism.toml");
    std::fs::write(
        dir.path().join("broken.json"),
        "{\n  \"type\": \"object\",\n  \"properties\": {\n    \"n\": {\"type\": 5}\n  }\n}",
    )
    .unwrap();
    std::fs::write(dir.path().join("ok.json"), "{\"type\": \"object\"}").unwrap();
    let target = "[[target]]\nname = \"g\"\nprovider = \"gemini\"\nmodel = \"gemini-2.5-flash\"\n";
    let e = parse(&format!("{target}schema = \"broken.json\"\n"), &cfg)
        .unwrap_err()
        .to_string();
    let broken = dir.path().join("broken.json");
    assert!(
        e.starts_with(&format!(
            "{}:5:10: `schema`: {}:4:",
            cfg.display(),
            broken.display()
        )),
        "{e}"
    );
    assert!(e.contains("not a valid JSON Schema at /properties/n/type"), "{e}");
    let e = parse(
        &format!("{target}schema = \"ok.json\"\nschema_mode = \"tool\"\n"),
        &cfg,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.ends_with(
            ":6:15: `schema_mode = \"tool\"`: Gemini does not offer it; use json_schema or json_object or response_schema"
        ),
        "{e}"
    );
    let e = parse(&format!("{target}schema = \"missing.json\"\n"), &cfg)
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.json: cannot read the schema"), "{e}");
}

#[test]
fn a_variant_a_target_and_the_top_level_each_name_a_schema_the_nearest_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("order.json"), order_schema().to_string()).unwrap();
    std::fs::write(dir.path().join("note.schema.json"), "{\"type\": \"string\"}").unwrap();
    let text = "schema = \"order.json\"\n\n[[target]]\nname = \"a\"\nprovider = \"openai\"\nmodel = \"gpt-4o\"\n\n\
                [[target]]\nname = \"b\"\nprovider = \"openai\"\nmodel = \"gpt-4o\"\nschema = \"note.schema.json\"\n\n\
                [[variant]]\nname = \"noted\"\nschema = \"note.schema.json\"\n";
    let cfg = parse(text, &dir.path().join("prism.toml")).unwrap();
    let names: Vec<_> = cfg
        .targets
        .iter()
        .map(|t| t.params.schema.as_ref().unwrap().name.as_str())
        .collect();
    assert_eq!(names, ["order", "note"]);
    let variant = cfg.variants[0].params.schema.as_ref().unwrap();
    assert_eq!(
        (variant.name.as_str(), &variant.schema),
        ("note", &json!({"type": "string"}))
    );
    let mut t = cfg.targets[0].clone();
    cfg.variants[0].params.apply(&mut t.params);
    assert_eq!(
        t.params.schema.as_ref().unwrap().name,
        "note",
        "a variant's schema is its targets'"
    );
}

async fn run(targets: &[Target], request: &ChatRequest) -> Vec<prism::report::ResultRow> {
    let mut handle = fan_out(targets, request, RunOptions::default()).await;
    let mut runs = vec![TargetRun::default(); targets.len()];
    while let Some(env) = tokio::time::timeout(Duration::from_secs(30), handle.events.recv())
        .await
        .expect("run stalled")
    {
        runs[env.target].apply(env.at, &env.event);
    }
    handle.join().await;
    let prices = PriceTable::builtin().unwrap();
    targets
        .iter()
        .zip(&runs)
        .map(|(t, r)| prism::report::row(t, request, r, &prices))
        .collect()
}

/// One target of each mapping on the mock, with `directives`.
fn on_mock(server: &MockServer, directives: &str) -> Vec<Target> {
    let t = |name: &str, kind: ProviderKind, model: &str| {
        let mut t = common::mock_target(
            server,
            name,
            kind,
            &format!("{model}+ttft=0,itl=0{directives}"),
            400,
        );
        t.params.schema = Some(order());
        t
    };
    let mut responses = t("responses", ProviderKind::OpenAi, "gpt-4.1-mini-2025-04-14");
    responses.params.api = Api::Responses;
    let mut object = t("compat-object", ProviderKind::OpenAiCompatible, "llama3.1:8b");
    object.params.schema_mode = Some(SchemaMode::JsonObject);
    let mut openai_tool = t("openai-tool", ProviderKind::OpenAi, "gpt-4o-mini-2024-07-18");
    openai_tool.params.schema_mode = Some(SchemaMode::Tool);
    let mut gemini_subset = t("gemini-subset", ProviderKind::Gemini, "gemini-2.5-flash");
    gemini_subset.params.schema_mode = Some(SchemaMode::ResponseSchema);
    vec![
        t("openai", ProviderKind::OpenAi, "gpt-4o-mini-2024-07-18"),
        openai_tool,
        object,
        responses,
        t(
            "claude-native",
            ProviderKind::Anthropic,
            "claude-sonnet-4-5-20250929",
        ),
        t(
            "claude-tool",
            ProviderKind::Anthropic,
            "claude-3-5-haiku-20241022",
        ),
        t("gemini", ProviderKind::Gemini, "gemini-2.5-flash"),
        t(
            "bedrock",
            ProviderKind::Bedrock,
            "us.anthropic.claude-3-5-haiku-20241022-v1:0",
        ),
        t("azure", ProviderKind::Azure, "prod-mini"),
        gemini_subset,
    ]
}

async fn mock() -> MockServer {
    MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_answers_schema_shaped_json_and_it_is_valid() {
    let server = mock().await;
    let targets = on_mock(&server, "");
    let mut rows = run(&targets, &ChatRequest::single(None, "Two items.")).await;
    // `json_object` sends no schema, so the server cannot follow it: the mock answers `{}`,
    // JSON that the check still holds to the schema.
    let object = rows.remove(2);
    assert_eq!(
        (object.target.as_str(), object.text.as_str()),
        ("compat-object", "{}")
    );
    assert_eq!(object.schema_valid, Some(false));
    let reasons: Vec<_> = object
        .schema_errors
        .unwrap()
        .into_iter()
        .map(|e| (e.path, e.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            (String::new(), "\"id\" is a required property".to_string()),
            (String::new(), "\"items\" is a required property".to_string())
        ]
    );
    for r in &rows {
        assert_eq!(r.status.as_str(), "ok", "{}: {:?}", r.target, r.error);
        assert_eq!(
            r.schema_valid,
            Some(true),
            "{}: {:?} {}",
            r.target,
            r.schema_errors,
            r.text
        );
        assert_eq!(r.schema_errors.as_deref(), Some(&[][..]), "{}", r.target);
        // The forced tool's input is the answer: no tool call is left over.
        assert!(r.tool_calls.is_none(), "{}", r.target);
        let answer: Value = serde_json::from_str(&r.text).unwrap();
        assert_eq!(answer["id"], 1, "{}: {}", r.target, r.text);
        assert_eq!(r.finish_reason.map(|f| f.as_str()), Some("stop"), "{}", r.target);
    }
    let raw: Vec<_> = rows.iter().map(|r| r.finish_reason_raw.as_deref()).collect();
    assert_eq!(raw[4], Some("tool_use"), "Anthropic's own reason stays");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_violation_names_its_json_pointer() {
    let server = mock().await;
    let mut targets = on_mock(&server, ",badjson");
    targets.remove(2); // `json_object`: the mock knows no schema to break

    let rows = run(&targets, &ChatRequest::single(None, "Two items.")).await;
    for r in &rows {
        assert_eq!(r.schema_valid, Some(false), "{}: {}", r.target, r.text);
        let e = &r.schema_errors.as_ref().unwrap()[0];
        assert_eq!(e.path, "/id", "{}", r.target);
        assert!(e.reason.contains("integer"), "{}: {}", r.target, e.reason);
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_cut_by_the_token_limit_is_truncated_json() {
    let server = mock().await;
    let mut targets = on_mock(&server, "");
    targets.remove(2); // `json_object`: the mock's `{}` fits in any limit
    for t in &mut targets {
        t.params.max_tokens = Some(5);
    }
    let rows = run(&targets, &ChatRequest::single(None, "Two items.")).await;
    for r in &rows {
        assert_eq!(
            r.finish_reason.map(|f| f.as_str()),
            Some("length"),
            "{}",
            r.target
        );
        assert_eq!(r.schema_valid, Some(false), "{}", r.target);
        let e = &r.schema_errors.as_ref().unwrap()[0];
        assert!(
            e.reason.starts_with("truncated JSON"),
            "{}: {}",
            r.target,
            e.reason
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_schema_rows_carry_no_schema_fields() {
    let server = mock().await;
    let mut targets = on_mock(&server, ",tokens=5");
    targets.truncate(1);
    targets[0].params.schema = None;
    let rows = run(&targets, &ChatRequest::single(None, "hi")).await;
    let v = serde_json::to_value(&rows[0]).unwrap();
    assert!(
        v.get("schema_valid").is_none() && v.get("schema_errors").is_none(),
        "{v}"
    );
    server.shutdown().await;
}

#[test]
fn prism_run_with_schema_prints_the_verdict_per_target() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("order.json");
    std::fs::write(&file, order_schema().to_string()).unwrap();
    let out = Command::new(PRISM)
        .args([
            "run",
            "--demo",
            "--format",
            "jsonl",
            "--no-save",
            "--prompt",
            "Two items.",
        ])
        .arg("--schema")
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 4);
    for r in &rows {
        assert_eq!(
            (&r["schema_valid"], &r["schema_errors"]),
            (&json!(true), &json!([])),
            "{r}"
        );
    }
    // A saved run keeps each verdict; the CSV export has it in its last two columns.
    let sessions = dir.path().join("sessions");
    let out = Command::new(PRISM)
        .args(["run", "--demo", "--format", "jsonl", "--prompt", "Two items."])
        .arg("--schema")
        .arg(&file)
        .env("PRISM_SESSIONS_DIR", &sessions)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let id = std::fs::read_dir(&sessions)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    let out = Command::new(PRISM)
        .args(["export", id.to_str().unwrap(), "--format", "csv"])
        .env("PRISM_SESSIONS_DIR", &sessions)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let csv = String::from_utf8_lossy(&out.stdout);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (valid, errors) = (column("schema_valid"), column("schema_errors"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4, "{csv}");
    assert!(
        rows.iter().all(|r| &r[valid] == "true" && r[errors].is_empty()),
        "{csv}"
    );
    // The scoreboard counts the valid answers per target.
    let out = Command::new(PRISM)
        .args([
            "run",
            "--demo",
            "--format",
            "jsonl",
            "--no-save",
            "--summary",
            "--prompt",
            "Two items.",
        ])
        .arg("--schema")
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 4, "{stdout}");
    for r in &rows {
        assert_eq!((&r["n"], &r["valid"]), (&json!(1), &json!(1)), "{r}");
    }
    // A file that is not a schema stops the run before anything is sent.
    std::fs::write(&file, "{\"type\": \"objekt\"}").unwrap();
    let out = Command::new(PRISM)
        .args(["run", "--demo", "--format", "jsonl", "--no-save", "--prompt", "x"])
        .arg("--schema")
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a valid JSON Schema at /type"), "{stderr}");
    assert!(out.stdout.is_empty());
}
