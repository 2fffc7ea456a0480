//! The mock server is up before its tokenizer tables load: `MockServer::start` binds and
//! returns without them (so the demo draws while they load), and the first request that
//! counts usage waits for them, so the counts it reports are still exact.
//!
//! One test on purpose: whether the tables are loaded is process-wide, and this binary
//! must start with them not loaded.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::net::{Ipv4Addr, SocketAddr};

use prism::mock_server::MockServer;
use prism::tokens::{self, Encoding};

#[tokio::test]
async fn the_mock_accepts_before_its_tables_load_and_still_counts_exactly() {
    assert!(!tokens::ready(), "nothing may load the tables before the test");
    let server = MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    assert!(
        !tokens::ready(),
        "MockServer::start must return without loading the tokenizer tables"
    );

    // A plain request straight away: its usage is counted with tables it had to wait for.
    let prompt = "How do streaming responses work? Answer in two sentences.";
    let body = serde_json::json!({
        "model": "gpt-4o-mini-2024-07-18+ttft=0,itl=0,tokens=12,text=lorem",
        "stream": false,
        "messages": [{"role": "user", "content": prompt}],
    });
    // Prism's own client (it installs the TLS provider reqwest is built without).
    let client = prism::provider::client::TimedClient::new(std::time::Duration::from_secs(5))
        .unwrap()
        .http;
    let resp = client
        .post(format!("{}/chat/completions", server.openai_base()))
        .bearer_auth("sk-test")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert!(tokens::ready(), "the request that counted loaded the tables");
    let text = v["choices"][0]["message"]["content"].as_str().unwrap();
    assert_eq!(
        v["usage"]["prompt_tokens"].as_u64().unwrap() as usize,
        tokens::chat_prompt_tokens(Encoding::O200k, [("user", prompt)]),
        "prompt tokens as OpenAI counts the chat format"
    );
    assert_eq!(
        v["usage"]["completion_tokens"].as_u64().unwrap() as usize,
        tokens::count(Encoding::O200k, text),
        "completion tokens as counted from the text sent"
    );
    // Asking for the tables once they are in returns at once.
    server.tables_loaded().await;
    server.shutdown().await;
}
