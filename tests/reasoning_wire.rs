//! Reasoning settings, family rules, configured system prompts, headers and base URLs
//! with a query, from a config file to the bytes a server receives: request bodies built
//! by the adapters, then the same targets sent over loopback to the mock server, which
//! records what arrived. Server-reported timings are read from fixture streams in the
//! shapes llama.cpp, Groq and OpenRouter send.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use common::raw::{self, RawServer};
use prism::config::{Config, parse_with_env};
use prism::engine::metrics::{Outcome, TargetRun};
use prism::engine::{RunOptions, fan_out};
use prism::mock_server::MockServer;
use prism::pricing::PriceTable;
use prism::provider::client::TimedClient;
use prism::provider::credentials::Credentials;
use prism::provider::request::ChatRequest;
use prism::target::{KeySource, Target};
use serde_json::{Value, json};

fn config(text: &str) -> Config {
    parse_with_env(text, Path::new("prism.toml"), &|_| None).unwrap()
}

/// The JSON body and URL `target` would send for `request`.
fn built(target: &Target, request: &ChatRequest) -> (String, Value, reqwest::header::HeaderMap) {
    let client = TimedClient::new(Duration::from_secs(1)).unwrap();
    let req = prism::provider::build_request(&client.http, target, request, &Credentials::None).unwrap();
    let body = serde_json::from_slice(req.body().unwrap().as_bytes().unwrap()).unwrap();
    (req.url().to_string(), body, req.headers().clone())
}

const FILE: &str = r#"
[defaults]
temperature = 0.2
max_tokens = 8000
system = "Be brief."

[[target]]
name = "o3"
provider = "openai"
model = "o3-2025-04-16"
reasoning_effort = "high"
base_url = "http://127.0.0.1:1/v1?api-version=2024-10-21"

[[target]]
name = "claude"
provider = "anthropic"
model = "claude-sonnet-4-5-20250929"
thinking_budget = 2048
headers = { "anthropic-beta" = "context-1m-2025-08-07" }

[[target]]
name = "opus"
provider = "anthropic"
model = "claude-opus-4-6"
thinking = "adaptive"
system = "Think, then answer."

[[target]]
name = "flash"
provider = "gemini"
model = "gemini-2.5-flash"
thinking_budget = -1
unset = ["system"]
extra = { generationConfig = { thinkingConfig = { includeThoughts = true } } }

[[target]]
name = "pro3"
provider = "gemini"
model = "gemini-3-pro-preview"
thinking_level = "low"
"#;

#[test]
fn each_setting_goes_out_in_its_own_wire_field() {
    let c = config(FILE);
    let ask = ChatRequest::single(None, "Why is the sky blue?");
    let [o3, claude, opus, flash, pro3] = &c.targets[..] else {
        panic!("five targets")
    };

    let (url, body, _) = built(o3, &ask);
    assert_eq!(
        url,
        "http://127.0.0.1:1/v1/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(body["reasoning_effort"], "high");
    assert_eq!(body["max_completion_tokens"], 8000);
    assert!(
        body.get("max_tokens").is_none(),
        "o-series refuse max_tokens: {body}"
    );
    assert!(body.get("temperature").is_none(), "o-series refuse 0.2: {body}");
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );

    let (url, body, headers) = built(claude, &ask);
    assert!(url.ends_with("/v1/messages"), "{url}");
    assert_eq!(
        body["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
    assert_eq!(body["max_tokens"], 8000);
    assert!(body.get("temperature").is_none(), "thinking refuses 0.2: {body}");
    assert_eq!(body["system"], "Be brief.");
    assert_eq!(headers["anthropic-beta"], "context-1m-2025-08-07");
    assert_eq!(headers["anthropic-version"], "2023-06-01");

    let (_, body, _) = built(opus, &ask);
    assert_eq!(body["thinking"], json!({"type": "adaptive"}));
    assert_eq!(body["system"], "Think, then answer.");
    // The user's system prompt (editor, --system) wins over the configured one.
    let (_, body, _) = built(opus, &ChatRequest::single(Some("Mine.".into()), "Hi"));
    assert_eq!(body["system"], "Mine.");

    let (url, body, _) = built(flash, &ask);
    assert!(url.ends_with(":streamGenerateContent?alt=sse"), "{url}");
    assert_eq!(
        body["generationConfig"]["thinkingConfig"],
        json!({"thinkingBudget": -1, "includeThoughts": true}),
        "extra merges into the generated thinkingConfig"
    );
    assert_eq!(
        body["generationConfig"]["temperature"], 0.2,
        "Gemini keeps temperature"
    );
    assert!(
        body.get("systemInstruction").is_none(),
        "unset = [\"system\"]: {body}"
    );

    let (_, body, _) = built(pro3, &ask);
    assert_eq!(
        body["generationConfig"]["thinkingConfig"],
        json!({"thinkingLevel": "low"})
    );
    assert_eq!(
        body["systemInstruction"],
        json!({"parts": [{"text": "Be brief."}]})
    );
}

async fn mock() -> MockServer {
    MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap()
}

async fn run(targets: &[Target], request: &ChatRequest) -> Vec<TargetRun> {
    let mut handle = fan_out(targets, request, RunOptions::default()).await;
    let mut runs = vec![TargetRun::default(); targets.len()];
    while let Some(env) = tokio::time::timeout(Duration::from_secs(30), handle.events.recv())
        .await
        .expect("run stalled")
    {
        runs[env.target].apply(env.at, &env.event);
    }
    handle.join().await;
    runs
}

#[tokio::test]
async fn the_mock_receives_the_fields_headers_and_query_as_configured() {
    let server = mock().await;
    let addr = server.addr();
    let c = config(&format!(
        r#"
[defaults]
headers = {{ "X-Team" = "bench", "User-Agent" = "bench-client/1" }}

[[target]]
name = "o3"
provider = "openai"
model = "o3-2025-04-16+tokens=5,ttft=0,itl=0"
base_url = "http://{addr}/v1?api-version=2024-10-21"
reasoning_effort = "low"
max_tokens = 300
temperature = 0.5

[[target]]
name = "claude"
provider = "anthropic"
model = "claude-sonnet-4-5-20250929+tokens=5,ttft=0,itl=0,reasoning=3"
base_url = "http://{addr}"
max_tokens = 4000
thinking_budget = 1024
headers = {{ "anthropic-beta" = "context-1m-2025-08-07" }}

[[target]]
name = "gem"
provider = "gemini"
model = "gemini-2.5-flash+tokens=5,ttft=0,itl=0"
base_url = "http://{addr}/?team=a"
thinking_budget = 0
system = "Answer in one word."
"#
    ));
    let targets: Vec<Target> = c
        .targets
        .into_iter()
        .map(|mut t| {
            t.key = KeySource::Demo;
            t
        })
        .collect();
    let runs = run(&targets, &ChatRequest::single(None, "Say hi")).await;
    for (t, r) in targets.iter().zip(&runs) {
        assert_eq!(r.outcome, Some(Outcome::Done), "{}: {:?}", t.name, r.outcome);
    }
    let records = server.log().records();
    let by = |provider: &str| records.iter().find(|r| r.provider == provider).unwrap();
    let header = |r: &prism::mock_server::SendRecord, name: &str| {
        r.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    };

    let openai = by("openai");
    assert_eq!(
        (openai.path.as_str(), openai.query.as_deref()),
        ("/v1/chat/completions", Some("api-version=2024-10-21")),
        "the path goes before the base URL's query"
    );
    let body: Value = serde_json::from_str(&openai.body).unwrap();
    assert_eq!(body["reasoning_effort"], "low");
    assert_eq!(body["max_completion_tokens"], 300);
    assert!(
        body.get("temperature").is_none() && body.get("max_tokens").is_none(),
        "{body}"
    );
    assert_eq!(header(openai, "x-team").as_deref(), Some("bench"));
    assert_eq!(header(openai, "user-agent").as_deref(), Some("bench-client/1"));

    let anthropic = by("anthropic");
    let body: Value = serde_json::from_str(&anthropic.body).unwrap();
    assert_eq!(
        body["thinking"],
        json!({"type": "enabled", "budget_tokens": 1024})
    );
    assert_eq!(
        header(anthropic, "anthropic-beta").as_deref(),
        Some("context-1m-2025-08-07")
    );
    assert_eq!(
        header(anthropic, "x-team").as_deref(),
        Some("bench"),
        "merged from [defaults]"
    );
    assert!(!runs[1].reasoning.is_empty(), "thinking streamed as reasoning");

    let gemini = by("gemini");
    assert_eq!(gemini.query.as_deref(), Some("team=a&alt=sse"));
    let body: Value = serde_json::from_str(&gemini.body).unwrap();
    assert_eq!(body["generationConfig"]["thinkingConfig"]["thinkingBudget"], 0);
    assert_eq!(
        body["systemInstruction"]["parts"][0]["text"],
        "Answer in one word."
    );
    server.shutdown().await;
}

/// A streaming OpenAI-compatible answer whose last chunk is `last`, with `headers`.
fn sse_answer(last: &str, headers: &[&str]) -> Vec<u8> {
    let mut all = vec![raw::SSE];
    all.extend_from_slice(headers);
    let mut bytes = raw::head("200 OK", &all);
    for chunk in [
        r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}"#,
        last,
    ] {
        bytes.extend_from_slice(format!("data: {chunk}\n\n").as_bytes());
    }
    bytes.extend_from_slice(b"data: [DONE]\n\n");
    bytes
}

fn compatible(name: &str, url: &str, model: &str) -> Target {
    let c = config(&format!(
        "[[target]]\nname = \"{name}\"\nprovider = \"openai-compatible\"\nmodel = \"{model}\"\nbase_url = \"{url}/v1\"\nidle_timeout = 2\n"
    ));
    c.targets.into_iter().next().unwrap()
}

#[tokio::test]
async fn server_timings_and_cost_sit_beside_prisms_own() {
    // llama-server: `timings` beside `usage` in the final chunk.
    let llama = RawServer::start(|sock, _| async move {
        raw::write_then_close(
            sock,
            &sse_answer(
                r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"completion_tokens":2,"prompt_tokens":9,"total_tokens":11},"timings":{"cache_n":0,"prompt_n":9,"prompt_ms":12.5,"prompt_per_token_ms":1.39,"prompt_per_second":720.0,"predicted_n":2,"predicted_ms":40.25,"predicted_per_token_ms":20.1,"predicted_per_second":49.7}}"#,
                &[],
            ),
        )
        .await;
    })
    .await;
    // Groq: times in seconds, and the token counts, under `x_groq.usage`.
    let groq = RawServer::start(|sock, _| async move {
        raw::write_then_close(
            sock,
            &sse_answer(
                r#"{"id":"c","object":"chat.completion.chunk","model":"llama-3.1-8b-instant","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_01","usage":{"queue_time":0.031,"prompt_tokens":9,"prompt_time":0.0021,"completion_tokens":2,"completion_time":0.004,"total_tokens":11,"total_time":0.0061}}}"#,
                &[],
            ),
        )
        .await;
    })
    .await;
    // OpenRouter: the cost in the final usage, the generation id in a header.
    let openrouter = RawServer::start(|sock, _| async move {
        raw::write_then_close(
            sock,
            &sse_answer(
                r#"{"id":"gen-77","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,"cost":0.000123,"cost_details":{"upstream_inference_cost":null}}}"#,
                &["x-generation-id: gen-77"],
            ),
        )
        .await;
    })
    .await;
    // A server that says nothing about itself.
    let plain = RawServer::start(|sock, _| async move {
        raw::write_then_close(
            sock,
            &sse_answer(
                r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"#,
                &[],
            ),
        )
        .await;
    })
    .await;
    let targets = [
        compatible("llama", &llama.url(), "qwen3-8b"),
        compatible("groq", &groq.url(), "llama-3.1-8b-instant"),
        compatible(
            "openrouter",
            &openrouter.url(),
            "meta-llama/llama-3.1-8b-instruct",
        ),
        compatible("plain", &plain.url(), "m"),
    ];
    let request = ChatRequest::single(None, "Say hello");
    let runs = run(&targets, &request).await;
    let prices = PriceTable::builtin().unwrap();
    let rows: Vec<Value> = targets
        .iter()
        .zip(&runs)
        .map(|(t, r)| serde_json::to_value(prism::report::row(t, &request, r, &prices)).unwrap())
        .collect();
    for r in &rows {
        assert_eq!(r["status"], "ok", "{r}");
        assert_eq!(r["text"], "Hello");
    }
    assert_eq!(
        rows[0]["server"],
        json!({"source": "llama.cpp timings", "queue_ms": null, "prompt_ms": 12.5, "generation_ms": 40.25, "total_ms": null, "prompt_tokens_per_s": 720.0, "tokens_per_s": 49.7, "cost_usd": null, "generation_id": null})
    );
    let g = &rows[1]["server"];
    assert_eq!(g["source"], "groq x_groq.usage");
    assert!((g["queue_ms"].as_f64().unwrap() - 31.0).abs() < 1e-9, "{g}");
    assert!((g["generation_ms"].as_f64().unwrap() - 4.0).abs() < 1e-9, "{g}");
    assert_eq!(
        (
            rows[1]["usage"]["output_tokens"].as_u64(),
            rows[1]["usage"]["source"].as_str()
        ),
        (Some(2), Some("provider")),
        "Groq's own counts, not an estimate"
    );
    // Prism's measured numbers are still there, beside the server's.
    assert!(rows[1]["ttft_ms"].is_number() && rows[1]["total_ms"].is_number());
    let o = &rows[2]["server"];
    assert_eq!(o["source"], "x-generation-id, openrouter usage");
    assert_eq!(
        (o["generation_id"].as_str(), o["cost_usd"].as_f64()),
        (Some("gen-77"), Some(0.000123))
    );
    assert!(
        rows[2]["cost_usd"].is_null(),
        "no Prism price for the model: the provider's cost stands alone"
    );
    assert!(
        rows[3].get("server").is_none(),
        "a server that said nothing has no server object: {}",
        rows[3]
    );
    assert_eq!(
        runs[2].server_report().and_then(|s| s.generation_id.as_deref()),
        Some("gen-77")
    );
}
