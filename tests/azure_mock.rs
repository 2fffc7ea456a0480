//! The mock's Azure OpenAI: its URL shapes and the service's own bodies when one is wrong
//! (no `api-version`: 404; a version that is not one: 400; no key: 401), the prompt-filter
//! chunk before the role chunk and verdicts on every choice, the model behind the
//! deployment, the content filter's 400 for a refused prompt, and the first content
//! frame the mock logs being the first text, not the prompt-filter chunk.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::net::{Ipv4Addr, SocketAddr};

use prism::mock_server::MockServer;
use serde_json::{Value, json};

const SCRIPT: &str = "ttft=0,itl=0,tokens=4,served=gpt-4o-2024-11-20";

async fn post(url: &str, headers: &[(&str, &str)], body: Value) -> (u16, String) {
    // The crate's own client (it installs the TLS provider).
    let client = prism::provider::client::TimedClient::new(std::time::Duration::from_secs(2))
        .unwrap()
        .http;
    let mut req = client.post(url).json(&body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

fn chat(stream: bool) -> Value {
    json!({"messages": [{"role": "user", "content": "Say hi"}], "stream": stream,
        "stream_options": {"include_usage": true}})
}

#[tokio::test]
async fn wrong_urls_and_missing_keys_get_the_services_own_bodies() {
    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let base = format!("http://{}", server.addr());
    let key = [("api-key", "k-azure-mock")];
    let classic = format!("{base}/openai/deployments/chat-prod/chat/completions");
    assert_eq!(
        post(&classic, &key, chat(false)).await,
        (
            404,
            r#"{"error":{"code":"404","message": "Resource not found"}}"#.into()
        )
    );
    assert_eq!(
        post(&format!("{classic}?api-version=2024-10"), &key, chat(false)).await,
        (
            400,
            r#"{"error":{"code":"BadRequest","message":"API version not supported"}}"#.into()
        )
    );
    let (status, body) = post(&format!("{classic}?api-version=2024-10-21"), &[], chat(false)).await;
    assert_eq!(status, 401);
    assert!(
        body.starts_with(
            r#"{"error":{"code":"401","message":"Access denied due to invalid subscription key"#
        ),
        "{body}"
    );
    assert_eq!(
        post(&format!("{base}/openai/v2/chat/completions"), &key, chat(false))
            .await
            .0,
        404
    );
    // The v1 API takes the key, or a bearer token, and the deployment as `model`.
    let mut v1 = chat(false);
    v1["model"] = json!(format!("chat-prod+{SCRIPT}"));
    for auth in [("api-key", "k-azure-mock"), ("authorization", "Bearer entra-tok")] {
        let (status, body) = post(&format!("{base}/openai/v1/chat/completions"), &[auth], v1.clone()).await;
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["model"], "gpt-4o-2024-11-20");
        assert_eq!(v["prompt_filter_results"][0]["prompt_index"], 0);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_stream_opens_with_the_prompt_filter_chunk_and_judges_every_choice() {
    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let url = format!(
        "http://{}/openai/deployments/chat-prod/chat/completions?api-version=2025-04-01-preview",
        server.addr()
    );
    let (status, body) = post(&url, &[("api-key", "k"), ("x-mock-script", SCRIPT)], chat(true)).await;
    assert_eq!(status, 200);
    let events: Vec<&str> = body
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .collect();
    assert_eq!(
        events[0],
        r#"{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]}"#
    );
    assert!(events[1].starts_with(r#"{"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":"#), "{}", events[1]);
    assert!(events[1].contains(r#""model":"gpt-4o-2024-11-20","object":"chat.completion.chunk""#));
    assert!(!body.contains("service_tier"));
    let content: Vec<Value> = events[2..6]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    for c in &content {
        assert_eq!(
            c["choices"][0]["content_filter_results"]["violence"]["severity"],
            "safe"
        );
    }
    assert_eq!(events.last(), Some(&"[DONE]"));
    // The mock's own log agrees: its first content frame is the first text.
    let record = &server.log().records()[0];
    assert_eq!(record.content_events, 4);
    assert!(record.first_content_at.is_some() && record.completed);

    let filtered = post(
        &url,
        &[
            ("api-key", "k"),
            ("x-mock-script", "ttft=0,itl=0,tokens=3,filter=1"),
        ],
        chat(true),
    )
    .await
    .1;
    let finish = filtered
        .split("\n\n")
        .find(|e| e.contains("\"finish_reason\":\"content_filter\""))
        .unwrap();
    assert!(
        finish.contains(r#""violence":{"filtered":true,"severity":"medium"}"#),
        "{finish}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_refused_prompt_is_the_content_filters_400() {
    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let url = format!("http://{}/openai/v1/responses", server.addr());
    let (status, body) = post(
        &url,
        &[
            ("authorization", "Bearer t"),
            ("x-mock-script", "prompt_filter=self_harm+jailbreak"),
        ],
        json!({"model": "reasoner", "input": "Say hi"}),
    )
    .await;
    assert_eq!(status, 400);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (&v["error"]["code"], &v["error"]["param"]),
        (&json!("content_filter"), &json!("prompt"))
    );
    let result = &v["error"]["innererror"]["content_filter_result"];
    assert_eq!(
        result["self_harm"],
        json!({"filtered": true, "severity": "medium"})
    );
    assert_eq!(result["jailbreak"], json!({"filtered": true, "detected": true}));
    assert_eq!(result["hate"], json!({"filtered": false, "severity": "safe"}));
    assert!(result.get("profanity").is_none());
    server.shutdown().await;
}
