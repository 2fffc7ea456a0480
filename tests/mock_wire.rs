//! Wire-level checks of the mock provider server over real loopback HTTP.
//!
//! These read raw bytes, not SDK objects, so they pin the framing, headers, event order and
//! fault behaviour that Prism's adapters (and the Python SDK conformance run) rely on. No
//! assertion depends on wall-clock timing beyond ordering of recorded instants.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use prism::mock_server::MockServer;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::time::Duration;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const FAST: &str = "ttft=0,itl=0";

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// SSE events split on the blank line for the given line ending.
    fn events(&self, eol: &str) -> Vec<&str> {
        let sep = format!("{eol}{eol}");
        self.body.split(sep.as_str()).filter(|e| !e.is_empty()).collect()
    }

    /// The `data:` payloads of an LF-framed stream.
    fn data(&self) -> Vec<&str> {
        self.events("\n").iter().filter_map(|e| data_line(e)).collect()
    }
}

fn data_line(event: &str) -> Option<&str> {
    event
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .map(|d| d.trim_end_matches('\r'))
}

/// reqwest is built without a default TLS provider; plain HTTP still needs one installed.
fn client() -> reqwest::Client {
    // Err only means another test installed it first.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn start() -> Result<MockServer, std::io::Error> {
    MockServer::start("127.0.0.1:0".parse().map_err(std::io::Error::other)?).await
}

async fn post(url: String, headers: &[(&str, &str)], body: Value) -> Result<Reply, reqwest::Error> {
    let mut req = client().post(url).json(&body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await?;
    let (status, headers) = (resp.status(), resp.headers().clone());
    Ok(Reply {
        status,
        headers,
        body: resp.text().await?,
    })
}

fn openai_body(model: &str, stream: bool, usage: bool) -> Value {
    json!({"model": model, "stream": stream, "stream_options": {"include_usage": usage},
        "messages": [{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": "Explain streaming."}]})
}

async fn openai(s: &MockServer, model: &str, stream: bool, usage: bool) -> Result<Reply, reqwest::Error> {
    let url = format!("{}/chat/completions", s.openai_base());
    post(
        url,
        &[("authorization", "Bearer sk-test")],
        openai_body(model, stream, usage),
    )
    .await
}

async fn anthropic(s: &MockServer, model: &str, max: u64) -> Result<Reply, reqwest::Error> {
    let body = json!({"model": model, "max_tokens": max, "stream": true,
        "messages": [{"role": "user", "content": "Explain streaming."}]});
    let headers = [("x-api-key", "k"), ("anthropic-version", "2023-06-01")];
    post(format!("{}/v1/messages", s.anthropic_base()), &headers, body).await
}

async fn gemini(s: &MockServer, model: &str, method: &str) -> Result<Reply, reqwest::Error> {
    let url = format!("{}/v1beta/models/{model}:{method}?alt=sse", s.gemini_base());
    let body = json!({"contents": [{"role": "user", "parts": [{"text": "Explain streaming."}]}],
        "systemInstruction": {"parts": [{"text": "Be brief."}]}});
    post(url, &[("x-goog-api-key", "k")], body).await
}

#[tokio::test]
async fn openai_stream_with_usage() -> TestResult {
    let s = start().await?;
    let r = openai(
        &s,
        &format!("gpt-4o-mini+{FAST},tokens=12,text=lorem,reasoning=3,cached=2"),
        true,
        true,
    )
    .await?;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), "text/event-stream; charset=utf-8");
    let id = r.header("x-request-id").to_string();
    assert!(id.starts_with("req_mock_"));
    assert_eq!(r.header("x-mock-request-id"), id);
    for h in [
        "limit-requests",
        "limit-tokens",
        "remaining-requests",
        "remaining-tokens",
    ] {
        assert!(
            r.header(&format!("x-ratelimit-{h}")).parse::<u64>().is_ok(),
            "{h}"
        );
    }
    assert!(r.header("x-ratelimit-reset-requests").ends_with('s'));
    let data = r.data();
    assert_eq!(data.last(), Some(&"[DONE]"));
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d))
        .collect::<Result<_, _>>()?;
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": "", "refusal": null})
    );
    assert_eq!(chunks[0]["model"], "gpt-4o-mini");
    let (usage_chunk, rest) = chunks.split_last().ok_or("no chunks")?;
    assert_eq!(usage_chunk["choices"], json!([]));
    assert!(rest.iter().all(|c| c.get("usage") == Some(&Value::Null)));
    let finish = &rest[rest.len() - 1]["choices"][0];
    assert_eq!(
        (finish["delta"].clone(), finish["finish_reason"].clone()),
        (json!({}), json!("stop"))
    );
    let text: String = rest
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    let reasoning = rest
        .iter()
        .filter(|c| c["choices"][0]["delta"]["reasoning_content"].is_string())
        .count();
    let thoughts: String = rest
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["reasoning_content"].as_str())
        .collect();
    // The usage is the o200k count of exactly what was streamed.
    let (counted_text, counted_thoughts) = (
        prism::tokens::count_o200k(&text) as u64,
        prism::tokens::count_o200k(&thoughts) as u64,
    );
    let u = &usage_chunk["usage"];
    assert_eq!(u["completion_tokens"], counted_text + counted_thoughts);
    assert_eq!(
        u["completion_tokens_details"]["reasoning_tokens"],
        counted_thoughts
    );
    assert_eq!(u["prompt_tokens_details"]["cached_tokens"], 2);
    assert_eq!(
        u["total_tokens"],
        u["prompt_tokens"].as_u64().unwrap_or(0) + counted_text + counted_thoughts
    );
    assert_eq!(reasoning, 3);
    assert!(!text.is_empty());
    let rec = s.log().find(&id).ok_or("no record")?;
    assert_eq!(
        (rec.provider, rec.content_events, rec.completed),
        ("openai", 15, true)
    );
    assert!(rec.first_content_at.ok_or("no first")? >= rec.received_at);
    assert!(rec.model.contains("+ttft=0"));
    s.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn openai_without_usage_cap_and_tool() -> TestResult {
    let s = start().await?;
    let r = openai(&s, &format!("m+{FAST},tokens=5"), true, false).await?;
    assert!(!r.body.contains("\"usage\""));
    let mut body = openai_body(&format!("m+{FAST},tokens=40"), false, false);
    body["max_tokens"] = json!(7);
    let url = format!("{}/chat/completions", s.openai_base());
    let r = post(url.clone(), &[("authorization", "Bearer k")], body).await?;
    assert!(r.body.starts_with("{\n  \"id\": \"chatcmpl-"));
    let v: Value = serde_json::from_str(&r.body)?;
    assert_eq!(
        (
            v["choices"][0]["finish_reason"].clone(),
            v["usage"]["completion_tokens"].clone()
        ),
        (
            json!("length"),
            // The capped text, counted with o200k as OpenAI would.
            json!(prism::tokens::count_o200k(
                v["choices"][0]["message"]["content"].as_str().unwrap_or_default()
            ))
        )
    );
    let r = openai(&s, &format!("m+{FAST},tool=get_weather"), true, false).await?;
    let calls: Vec<Value> = r
        .data()
        .iter()
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0).cloned())
        .collect();
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert!(calls.len() > 3, "arguments arrive in several fragments");
    let args: String = calls
        .iter()
        .filter_map(|c| c["function"]["arguments"].as_str())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&args)?,
        json!({"city": "Paris", "unit": "celsius"})
    );
    assert!(r.body.contains("\"finish_reason\":\"tool_calls\""));
    s.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn openai_errors() -> TestResult {
    let s = start().await?;
    let url = format!("{}/chat/completions", s.openai_base());
    let r = post(url.clone(), &[], openai_body("m", true, false)).await?;
    assert_eq!(r.status, 401);
    assert!(
        r.body
            .starts_with("{\n    \"error\": {\n        \"message\": \"You didn't provide an API key.")
    );
    let r = openai(&s, "m+fault=429,retry_after=3", true, false).await?;
    assert_eq!((r.status.as_u16(), r.header("retry-after")), (429, "3"));
    let v: Value = serde_json::from_str(&r.body)?;
    assert_eq!(v["error"]["code"], "rate_limit_exceeded");
    let r = openai(&s, "m+fault=400ctx", true, false).await?;
    let v: Value = serde_json::from_str(&r.body)?;
    assert_eq!(
        (r.status.as_u16(), v["error"]["code"].clone()),
        (400, json!("context_length_exceeded"))
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("This model's maximum context length is")
    );
    let r = openai(&s, "m+warp=9", true, false).await?;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("`warp`"));
    let r = post(format!("{}/nope", s.openai_base()), &[], json!({})).await?;
    assert_eq!(r.status, 404);
    assert!(r.body.contains("Invalid URL (POST /v1/nope)"));
    let r = openai(&s, "m+fault=html200", true, false).await?;
    assert_eq!((r.status.as_u16(), r.header("content-type")), (200, "text/html"));
    s.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn anthropic_event_sequence() -> TestResult {
    let s = start().await?;
    let r = anthropic(
        &s,
        &format!("claude-x+{FAST},tokens=4,text=lorem,reasoning=2,cached=3,cache_write=1"),
        100,
    )
    .await?;
    assert_eq!(r.header("content-type"), "text/event-stream; charset=utf-8");
    assert!(r.header("request-id").starts_with("req_mock_"));
    assert!(r.header("anthropic-ratelimit-tokens-reset").ends_with('Z'));
    let names: Vec<&str> = r
        .events("\n")
        .iter()
        .filter_map(|e| e.strip_prefix("event: ")?.lines().next())
        .collect();
    let mut expected = vec!["message_start", "content_block_start", "ping"];
    expected.extend(["content_block_delta"; 3]); // two thinking deltas + signature
    expected.extend(["content_block_stop", "content_block_start"]);
    expected.extend(["content_block_delta"; 4]);
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(names, expected);
    let data: Vec<Value> = r
        .data()
        .iter()
        .map(|d| serde_json::from_str(d))
        .collect::<Result<_, _>>()?;
    let usage = &data[0]["message"]["usage"];
    assert_eq!(
        (
            usage["cache_read_input_tokens"].clone(),
            usage["cache_creation_input_tokens"].clone()
        ),
        (json!(3), json!(1))
    );
    assert_eq!(data[data.len() - 2]["usage"]["output_tokens"], 6);
    assert_eq!(data[data.len() - 2]["delta"]["stop_reason"], "end_turn");
    let r = anthropic(&s, &format!("c+{FAST},tokens=40"), 5).await?;
    assert!(r.body.contains("\"stop_reason\":\"max_tokens\"") && r.body.contains("\"output_tokens\":5}"));
    s.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn anthropic_errors() -> TestResult {
    let s = start().await?;
    let url = format!("{}/v1/messages", s.anthropic_base());
    let body = json!({"model": "c", "max_tokens": 5, "messages": []});
    let r = post(url.clone(), &[("x-api-key", "k")], body.clone()).await?;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("anthropic-version: header is required"));
    let r = post(url.clone(), &[("anthropic-version", "2023-06-01")], body).await?;
    assert_eq!(r.status, 401);
    assert!(
        r.body
            .starts_with("{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\"")
    );
    let r = anthropic(&s, "c+fault=529", 10).await?;
    assert_eq!(r.status.as_u16(), 529);
    assert!(r.body.contains("overloaded_error"));
    let r = anthropic(&s, "c+fault=400ctx", 10).await?;
    assert!(r.body.contains("prompt is too long: "));
    let r = anthropic(&s, &format!("c+{FAST},tokens=6,fault=error_event,after=2"), 100).await?;
    let last = r.events("\n").last().copied().unwrap_or("");
    assert!(last.starts_with("event: error\ndata: ") && last.contains("overloaded_error"));
    let rec = s.log().find(r.header("request-id")).ok_or("no record")?;
    assert_eq!(
        (rec.completed, rec.content_events, rec.client_disconnected),
        (false, 2, false)
    );
    s.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn gemini_stream_crlf_and_usage() -> TestResult {
    let s = start().await?;
    let r = gemini(
        &s,
        &format!("gemini-2.5-flash%2B{FAST}%2Ctokens%3D5%2Ctext%3Dlorem%2Creasoning%3D2"),
        "streamGenerateContent",
    )
    .await?;
    assert_eq!(
        (r.status.as_u16(), r.header("content-type")),
        (200, "text/event-stream")
    );
    assert!(r.body.ends_with("\r\n\r\n"));
    assert_eq!(
        r.body.matches('\n').count(),
        r.body.matches("\r\n").count(),
        "only CRLF line ends"
    );
    let events = r.events("\r\n");
    assert_eq!(events.len(), 7);
    assert!(events[0].starts_with("data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": "));
    let chunks: Vec<Value> = events
        .iter()
        .filter_map(|e| data_line(e))
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(chunks[0]["candidates"][0]["content"]["parts"][0]["thought"], true);
    let last = &chunks[6];
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert!(
        chunks[..6]
            .iter()
            .all(|c| c["candidates"][0].get("finishReason").is_none())
    );
    let u = &last["usageMetadata"];
    assert_eq!(
        (u["candidatesTokenCount"].clone(), u["thoughtsTokenCount"].clone()),
        (json!(5), json!(2))
    );
    assert_eq!(
        u["totalTokenCount"],
        u["promptTokenCount"].as_u64().unwrap_or(0) + 7
    );
    assert_eq!(last["modelVersion"], "gemini-2.5-flash");
    let r = gemini(&s, "g", "countTokens").await?;
    let v: Value = serde_json::from_str(&r.body)?;
    assert_eq!(v["totalTokens"], v["promptTokensDetails"][0]["tokenCount"]);
    let r = gemini(&s, &format!("g%2B{FAST}%2Cblock%3D1"), "streamGenerateContent").await?;
    assert!(
        r.body
            .contains("\"promptFeedback\": {\"blockReason\": \"SAFETY\"")
            && !r.body.contains("candidates")
    );
    let r = gemini(
        &s,
        &format!("g%2B{FAST}%2Ctool%3Dlookup%2Clf%3D1"),
        "streamGenerateContent",
    )
    .await?;
    assert!(!r.body.contains('\r'));
    assert!(r.body.contains(
        "{\"functionCall\": {\"name\": \"lookup\",\"args\": {\"city\": \"Paris\",\"unit\": \"celsius\"}}}"
    ));
    let url = format!("{}/v1beta/models/g:generateContent", s.gemini_base());
    let r = post(url, &[], json!({"contents": []})).await?;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("\"status\": \"PERMISSION_DENIED\""));
    let r = gemini(&s, "g%2Bfault%3D429%2Cretry_after%3D7", "generateContent").await?;
    assert_eq!(r.status, 429);
    assert!(r.body.contains("\"retryDelay\": \"7s\""));
    s.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn stream_faults() -> TestResult {
    let s = start().await?;
    // drop_mid: the chunked body is cut off, which the client sees as a body error.
    let url = format!("{}/chat/completions", s.openai_base());
    let resp = client()
        .post(url)
        .header("authorization", "Bearer k")
        .json(&openai_body(
            &format!("m+{FAST},tokens=8,fault=drop_mid"),
            true,
            false,
        ))
        .send()
        .await?;
    let id = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(resp.bytes().await.is_err());
    let rec = s.log().find(&id).ok_or("no record")?;
    assert_eq!((rec.completed, rec.content_events), (false, 4));

    let r = openai(&s, &format!("m+{FAST},tokens=4,fault=no_terminator"), true, false).await?;
    // Cut after the content: a finish_reason alone would already mark the answer complete.
    assert!(!r.body.contains("[DONE]") && !r.body.contains("\"finish_reason\":\"stop\""));
    assert!(
        !s.log()
            .find(r.header("x-request-id"))
            .ok_or("no record")?
            .completed
    );

    let r = openai(
        &s,
        &format!("m+{FAST},tokens=4,fault=malformed,after=2"),
        true,
        false,
    )
    .await?;
    let bad = r
        .data()
        .iter()
        .filter(|d| **d != "[DONE]" && serde_json::from_str::<Value>(d).is_err())
        .count();
    assert_eq!(bad, 1);
    assert!(r.body.ends_with("data: [DONE]\n\n"));

    let r = openai(&s, &format!("m+{FAST},tokens=3,keepalive=1"), true, false).await?;
    assert!(r.body.contains(": keepalive\n\n"));

    let r = openai(&s, &format!("m+{FAST},tokens=6,chunk=3"), true, true).await?;
    let contents = r
        .data()
        .iter()
        .filter(|d| d.contains("\"content\":\"") && !d.contains("\"role\""))
        .count();
    assert_eq!(contents, 2);

    let r = openai(&s, &format!("m+{FAST},tokens=4,fault=big_line"), true, false).await?;
    assert!(r.data().iter().any(|d| d.len() > 1 << 20));
    s.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn pacing_lower_bounds_and_alternate_auth() -> TestResult {
    let s = start().await?;
    // Sleeps never end early, so these bounds hold however loaded the machine is.
    let r = openai(&s, "m+ttft=150,itl=20,tokens=4", true, false).await?;
    let rec = s.log().find(r.header("x-request-id")).ok_or("no record")?;
    let first = rec.first_content_at.ok_or("no first")?;
    let last = rec.last_content_at.ok_or("no last")?;
    assert!(first - rec.received_at >= Duration::from_millis(150));
    // Content is paced on a fixed schedule from the first scheduled token.
    assert!(last - rec.received_at >= Duration::from_millis(150 + 3 * 20));
    let r = anthropic_bearer(&s).await?;
    assert_eq!(r.status, 200, "bearer key accepted like x-api-key");
    let url = format!("{}/v1/models/g:countTokens?key=k", s.gemini_base());
    let r = post(url, &[], json!({"contents": [{"parts": [{"text": "hi"}]}]})).await?;
    assert_eq!(r.status, 200, "v1 path and ?key= accepted");
    s.shutdown().await;
    Ok(())
}

async fn anthropic_bearer(s: &MockServer) -> Result<Reply, reqwest::Error> {
    let body = json!({"model": format!("c+{FAST},tokens=2"), "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}]});
    let headers = [("authorization", "Bearer k"), ("anthropic-version", "2023-06-01")];
    post(format!("{}/v1/messages", s.anthropic_base()), &headers, body).await
}

#[tokio::test]
async fn stall_notices_disconnect_and_shutdown_ends_streams() -> TestResult {
    let s = start().await?;
    let url = format!("{}/chat/completions", s.openai_base());
    let first = client();
    let resp = first
        .post(url.clone())
        .header("authorization", "Bearer k")
        .json(&openai_body("m+fault=stall_first", true, false))
        .send()
        .await?;
    assert_eq!(resp.status(), 200, "headers arrive before the stall");
    let id = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    drop(resp);
    drop(first);
    let mut disconnected = false;
    for _ in 0..200 {
        if s.log().find(&id).is_some_and(|r| r.client_disconnected) {
            disconnected = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(disconnected, "stalled stream noticed the client leaving");

    let resp = client()
        .post(url.clone())
        .header("authorization", "Bearer k")
        .json(&openai_body("m+fault=stall_mid,itl=0,ttft=0", true, false))
        .send()
        .await?;
    let addr = s.addr();
    let reader = tokio::spawn(resp.bytes());
    tokio::time::sleep(Duration::from_millis(50)).await;
    tokio::time::timeout(Duration::from_secs(10), s.shutdown()).await?;
    let body = tokio::time::timeout(Duration::from_secs(10), reader).await??;
    assert!(body.is_err(), "in-flight stream aborted by shutdown");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener closed"
    );
    Ok(())
}
