//! Prices from the bytes a server sends to the row Prism prints and the session it
//! records: Anthropic 1-hour cache writes priced at their own rate, a Gemini prompt past
//! the long-context threshold priced at its tier, a `price_as` entry beside OpenRouter's
//! own cost, and the price data named in the session header. Real HTTP over loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::time::Duration;

use common::raw::{self, RawServer};
use prism::engine::metrics::TargetRun;
use prism::engine::{RunOptions, fan_out};
use prism::pricing::PriceTable;
use prism::provider::request::ChatRequest;
use prism::session::SessionWriter;
use prism::target::{KeySource, Params, ProviderKind, Target};
use serde_json::Value;

fn target(kind: ProviderKind, model: &str, url: &str, price_as: Option<&str>) -> Target {
    Target {
        name: model.into(),
        provider: kind,
        model: model.into(),
        base_url: url.into(),
        key: KeySource::Demo,
        params: Params {
            max_tokens: Some(100),
            stream: true,
            price_as: price_as.map(str::to_string),
            ..Params::default()
        },
    }
}

async fn rows(targets: &[Target]) -> Vec<Value> {
    let request = ChatRequest::single(None, "Say hi");
    let mut handle = fan_out(targets, &request, RunOptions::default()).await;
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
        .map(|(t, r)| serde_json::to_value(prism::report::row(t, &request, r, &prices)).unwrap())
        .collect()
}

/// Serve `events` (`(event, data)` pairs) as one SSE answer to every request.
async fn sse_server(events: &'static [(&'static str, &'static str)]) -> RawServer {
    RawServer::start(move |sock, _| async move {
        let mut bytes = raw::head("200 OK", &[raw::SSE]);
        for (event, data) in events {
            if !event.is_empty() {
                bytes.extend_from_slice(format!("event: {event}\n").as_bytes());
            }
            bytes.extend_from_slice(format!("data: {data}\n\n").as_bytes());
        }
        raw::write_then_close(sock, &bytes).await;
    })
    .await
}

/// USD per million tokens × tokens, in USD.
fn usd(parts: &[(u64, f64)]) -> f64 {
    parts.iter().map(|(n, per_m)| *n as f64 * per_m).sum::<f64>() / 1e6
}

#[tokio::test]
async fn one_hour_cache_writes_and_long_prompts_are_priced_at_their_own_rates() {
    let claude = sse_server(&[
        (
            "message_start",
            r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-haiku-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":100,"cache_creation_input_tokens":3000,"cache_read_input_tokens":2000,"cache_creation":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":2000},"output_tokens":1}}}"#,
        ),
        (
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
        ),
        ("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
        (
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":100,"cache_creation_input_tokens":3000,"cache_read_input_tokens":2000,"cache_creation":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":2000},"output_tokens":20}}"#,
        ),
        ("message_stop", r#"{"type":"message_stop"}"#),
    ])
    .await;
    let gemini = sse_server(&[(
        "",
        r#"{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":250000,"candidatesTokenCount":10,"totalTokenCount":250010},"modelVersion":"gemini-2.5-pro"}"#,
    )])
    .await;
    let rows = rows(&[
        target(ProviderKind::Anthropic, "claude-haiku-4-5", &claude.url(), None),
        target(ProviderKind::Gemini, "gemini-2.5-pro", &gemini.url(), None),
    ])
    .await;
    let (c, g) = (&rows[0], &rows[1]);
    assert_eq!(c["status"], "ok", "{c}");
    assert_eq!(
        (
            c["usage"]["input_tokens"].as_u64(),
            c["usage"]["cache_write_tokens"].as_u64(),
            c["usage"]["cache_write_1h_tokens"].as_u64()
        ),
        (Some(5100), Some(3000), Some(2000))
    );
    // $1 in, $0.10 cache read, $1.25 5-minute write, $2 1-hour write, $5 out (per million).
    let expect = usd(&[(100, 1.0), (2000, 0.10), (1000, 1.25), (2000, 2.0), (20, 5.0)]);
    assert!(
        (c["cost_usd"].as_f64().unwrap() - expect).abs() < 1e-12,
        "{} vs {expect}",
        c["cost_usd"]
    );
    assert_eq!(c["price"]["entry"], "claude-haiku-4-5");
    assert_eq!(c["price"]["tier"], "base");
    // Over 200K input tokens, Gemini 2.5 Pro bills the whole request at $2.50 in, $15 out.
    assert_eq!(g["status"], "ok", "{g}");
    let expect = usd(&[(250_000, 2.5), (10, 15.0)]);
    assert!(
        (g["cost_usd"].as_f64().unwrap() - expect).abs() < 1e-12,
        "{} vs {expect}",
        g["cost_usd"]
    );
    assert_eq!(g["price"]["entry"], "gemini/gemini-2.5-pro");
    assert_eq!(g["price"]["tier"], "above 200000");
}

#[tokio::test]
async fn a_named_entry_prices_a_gateway_and_its_own_cost_shows_the_difference() {
    // An OpenRouter-shaped answer: its own cost in the final usage.
    let gateway = sse_server(&[
        (
            "",
            r#"{"id":"gen-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}"#,
        ),
        (
            "",
            r#"{"id":"gen-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":100,"total_tokens":1100,"cost":0.0005}}"#,
        ),
        ("", "[DONE]"),
    ])
    .await;
    let plain = target(
        ProviderKind::OpenAiCompatible,
        "claude-haiku-4.5",
        &format!("{}/v1", gateway.url()),
        None,
    );
    let named = Target {
        params: Params {
            price_as: Some("claude-haiku-4-5".into()),
            ..plain.params.clone()
        },
        ..plain.clone()
    };
    let rows = rows(&[plain, named]).await;
    assert!(
        rows[0]["cost_usd"].is_null(),
        "the gateway's own name is in no price data"
    );
    assert!(rows[0].get("price").is_none());
    assert_eq!(rows[0]["server"]["cost_usd"], 0.0005, "its own cost still shows");
    let r = &rows[1];
    // 1000 × $1 + 100 × $5 per million = $0.0015; the gateway said $0.0005.
    assert_eq!(r["cost_usd"], 0.0015);
    assert_eq!(r["price"]["entry"], "claude-haiku-4-5");
    assert_eq!(r["price"]["cost_diff_usd"], -0.001, "{}", r["price"]);
    assert_eq!(r["server"]["cost_usd"], 0.0005);
}

#[test]
fn a_session_names_the_price_data_it_was_priced_with() {
    let dir = tempfile::tempdir().unwrap();
    let prices = PriceTable::builtin().unwrap();
    let w = SessionWriter::create(dir.path(), &[], prices).unwrap();
    let path = w.dir().join("events.jsonl");
    w.close();
    let first = std::fs::read_to_string(path).unwrap();
    let header: Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert_eq!(header["type"], "header");
    assert_eq!(
        header["prices"],
        serde_json::json!({"builtin": "LiteLLM 1.110.2 (2026-11-30)"})
    );
    // A writer without prices records none.
    let w = SessionWriter::create(dir.path(), &[], PriceTable::default()).unwrap();
    let path = w.dir().join("events.jsonl");
    w.close();
    let first = std::fs::read_to_string(path).unwrap();
    let header: Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert!(header.get("prices").is_none(), "{header}");
}
